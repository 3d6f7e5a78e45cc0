package topology

import (
	"context"
	"fmt"
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

// LoadFile reads and loads the topology at path; see LoadFileContext.
func (l *Loader) LoadFile(path string) (*Topology, hcl.Diagnostics) {
	return l.LoadFileContext(context.Background(), path)
}

// LoadFileContext reads and loads the topology at path. A file that cannot
// be read, is not a regular file or is larger than MaxFileSize is reported
// as an error diagnostic without a source range. Cancelling ctx abandons
// the read and parse and reports an "Interrupted" error.
func (l *Loader) LoadFileContext(ctx context.Context, path string) (*Topology, hcl.Diagnostics) {
	if ctx.Err() != nil {
		return nil, interrupted(ctx)
	}
	type read struct {
		src []byte
		err error
	}
	done := make(chan read, 1)
	go func() {
		src, err := readFile(path)
		done <- read{src, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Cannot read topology file",
				Detail:   fmt.Sprintf("Reading %s failed: %s.", path, strings.TrimPrefix(r.err.Error(), "open "+path+": ")),
			}}
		}
		return l.LoadContext(ctx, path, r.src)
	case <-ctx.Done():
		return nil, interrupted(ctx)
	}
}

// Load parses src; see LoadContext.
func (l *Loader) Load(filename string, src []byte) (*Topology, hcl.Diagnostics) {
	return l.LoadContext(context.Background(), filename, src)
}

// LoadContext parses src as HCL native syntax and builds the topology, with
// every default applied and every user string checked against its grammar.
// It returns all problems found, sorted by position; the Topology is nil
// when any of them is an error. Warnings come with a non-nil Topology.
// Cancelling ctx abandons the parse and reports an "Interrupted" error.
func (l *Loader) LoadContext(ctx context.Context, filename string, src []byte) (*Topology, hcl.Diagnostics) {
	type result struct {
		file  *hcl.File
		topo  *Topology
		diags hcl.Diagnostics
	}
	if ctx.Err() != nil {
		return nil, interrupted(ctx)
	}
	// The parse runs apart so that ctx can interrupt it; it does not touch
	// the Loader, which is not safe for concurrent use.
	done := make(chan result, 1)
	go func() {
		file, topo, diags := load(filename, src)
		done <- result{file, topo, diags}
	}()
	select {
	case r := <-done:
		if r.file != nil {
			l.parser.AddFile(filename, r.file)
		}
		return r.topo, r.diags
	case <-ctx.Done():
		return nil, interrupted(ctx)
	}
}

func load(filename string, src []byte) (*hcl.File, *Topology, hcl.Diagnostics) {
	// The source is kept for snippets even when it does not parse.
	srcFile := &hcl.File{Bytes: src}
	if diags := checkNesting(filename, src); diags.HasErrors() {
		return srcFile, nil, diags
	}
	// Parse directly rather than through the parser's cache, which would
	// return a stale file for a filename seen before.
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if file == nil {
		file = srcFile
	}
	if diags.HasErrors() {
		return file, nil, sortDiagnostics(diags)
	}
	d := &decoder{filename: filename, src: src}
	topo := d.decode(file.Body)
	diags = sortDiagnostics(append(diags, d.diags...))
	if diags.HasErrors() {
		return file, nil, diags
	}
	return file, topo, diags
}

func interrupted(ctx context.Context) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Interrupted",
		Detail:   fmt.Sprintf("Loading the topology was stopped: %s.", context.Cause(ctx)),
	}}
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
