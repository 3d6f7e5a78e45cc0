// Package output renders validate results, one printer per format: text
// for people, json for scripts, sarif for code scanning, github for
// Actions annotations and checkstyle for CI dashboards.
package output

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/wslb/wslb/validate"
)

// Formats lists the --format values.
var Formats = []string{"text", "json", "sarif", "github", "checkstyle"}

// Options tune printers.
type Options struct {
	// Color enables ANSI colour in text output (set it only for a TTY).
	Color bool
	// ToolVersion is wslb's version, for SARIF.
	ToolVersion string
}

// Printer writes a result in one format.
type Printer interface {
	Print(w io.Writer, r validate.Result) error
}

// New returns the printer for a format name.
func New(format string, opts Options) (Printer, error) {
	switch format {
	case "text":
		return textPrinter{color: opts.Color}, nil
	case "json":
		return jsonPrinter{}, nil
	case "sarif":
		return sarifPrinter{version: opts.ToolVersion}, nil
	case "github":
		return githubPrinter{}, nil
	case "checkstyle":
		return checkstylePrinter{}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// slashPath writes paths with forward slashes, relative paths kept
// relative, so machine formats are portable.
func slashPath(p string) string { return filepath.ToSlash(p) }
