package topology

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Loader reads topology files. It remembers every file it parsed so that
// WriteDiagnostics can show source snippets. A Loader is not safe for
// concurrent use; create one per goroutine.
type Loader struct {
	parser *hclparse.Parser
}

// NewLoader returns a Loader with an empty file cache.
func NewLoader() *Loader {
	return &Loader{parser: hclparse.NewParser()}
}

// LoadFile reads and loads the topology at path. A file that cannot be read
// is reported as an error diagnostic.
func (l *Loader) LoadFile(path string) (*Topology, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read topology file",
			Detail:   fmt.Sprintf("Reading %s failed: %s.", path, err),
		}}
	}
	return l.Load(path, src)
}

// Load parses src as HCL native syntax and builds the topology, with every
// default applied and every user string checked against its grammar. It
// returns all problems found, sorted by position; the Topology is nil when
// any of them is an error. Warnings come with a non-nil Topology.
func (l *Loader) Load(filename string, src []byte) (*Topology, hcl.Diagnostics) {
	// Parse directly rather than through the parser's cache, which would
	// return a stale file for a filename seen before.
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if file != nil {
		l.parser.AddFile(filename, file)
	}
	if diags.HasErrors() {
		return nil, sortDiagnostics(diags)
	}
	d := &decoder{filename: filename, src: src}
	topo := d.decode(file.Body)
	diags = sortDiagnostics(append(diags, d.diags...))
	if diags.HasErrors() {
		return nil, diags
	}
	return topo, diags
}

// sortDiagnostics orders diagnostics by file and position so that users read
// them top to bottom; diagnostics without a subject come first.
func sortDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		default:
			return a.Start.Byte < b.Start.Byte
		}
	})
	return diags
}

// defaultName derives a topology name from the file name when `name` is not
// set, falling back to "topology" when the file name is not a valid name.
func defaultName(filename string) string {
	base := strings.TrimSuffix(filepath.Base(filename), filepath.Ext(filename))
	if CheckName(base) == nil {
		return base
	}
	return "topology"
}
