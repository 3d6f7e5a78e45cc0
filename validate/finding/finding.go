// Package finding holds the one diagnostic type every wslb validate stage
// produces: a rule's verdict on a line of a proxy config.
package finding

import (
	"fmt"
	"sort"
	"strings"
)

// Severity orders findings; --fail-on compares against it.
type Severity int

// Severities, lowest first. The zero value is not a valid severity.
const (
	Info Severity = iota + 1
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText writes the severity as its name (JSON, XML).
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity reads "error", "warning" or "info".
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "error":
		return Error, nil
	case "warning":
		return Warning, nil
	case "info":
		return Info, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want error, warning or info)", s)
}

// Finding is one rule firing on one place of a config file. Line and
// Column are 1-based; Column is 0 when the position is a whole line.
type Finding struct {
	Rule     string   `json:"rule"`
	Slug     string   `json:"-"`
	Severity Severity `json:"severity"`
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix"`
}

// Rule describes a check: the stable ID and slug, default severity, one
// line title, why it matters and how to fix it. Docs pages expand on it.
type Rule struct {
	ID        string
	Slug      string
	Severity  Severity
	Title     string
	Rationale string
	Fix       string
}

// DocPath is the rule page's path inside the repository.
func (r Rule) DocPath() string { return "docs/rules/" + r.ID + ".md" }

// DocURL is the rule page on the project's web host.
func (r Rule) DocURL() string { return DocBaseURL + r.ID + ".md" }

// DocBaseURL prefixes rule pages in machine-readable output (SARIF helpUri).
const DocBaseURL = "https://github.com/wslb/wslb/blob/main/docs/rules/"

// Sort orders findings by file, line, column, then rule ID, so output is
// deterministic.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
}
