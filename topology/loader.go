package topology

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/wslb/wslb/internal/ctxrun"
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
	var (
		readErr error
		file    *hcl.File
		topo    *Topology
		diags   hcl.Diagnostics
	)
	// Reading and parsing run apart (ctxrun) so that ctx can interrupt
	// them; they do not touch the Loader, which is not safe for concurrent
	// use.
	if ctxrun.Run(ctx, func() {
		var src []byte
		if src, readErr = readFile(path); readErr == nil {
			file, topo, diags = load(path, src)
		}
	}) != nil {
		return nil, interrupted(ctx)
	}
	if readErr != nil {
		// The message names the path already; say only why.
		var pe *fs.PathError
		if errors.As(readErr, &pe) {
			readErr = pe.Err
		}
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read topology file",
			Detail:   fmt.Sprintf("Reading %s failed: %s.", path, readErr),
		}}
	}
	l.parser.AddFile(path, file)
	return topo, diags
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
	var (
		file  *hcl.File
		topo  *Topology
		diags hcl.Diagnostics
	)
	// The parse runs apart so that ctx can interrupt it (see
	// LoadFileContext).
	if ctxrun.Run(ctx, func() { file, topo, diags = load(filename, src) }) != nil {
		return nil, interrupted(ctx)
	}
	l.parser.AddFile(filename, file)
	return topo, diags
}

// load parses and decodes src. The file it returns is never nil: the
// source is kept for snippets even when it does not parse.
func load(filename string, src []byte) (*hcl.File, *Topology, hcl.Diagnostics) {
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
