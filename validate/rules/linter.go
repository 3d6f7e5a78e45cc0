package rules

import (
	"context"
	"strings"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/validate/finding"
)

// Linter is what validate asks of one proxy kind: read a config of it
// (with what it includes), run the kind's rules, and say what --exec needs
// to run the proxy's own check. validate knows no proxy; each kind
// registers its Linter, and a kind without one is read by FileLinter.
type Linter struct {
	// Lint reads and checks one config.
	Lint func(ctx context.Context, in Input) *Linted
	// Main reports whether a config may include other configs given to
	// validate: such files are linted first, so that the files they
	// include are linted through them, with the context they inherit.
	Main func(text []byte) bool
}

// Input is one config to lint.
type Input struct {
	File string
	Text []byte
	// Open reads the files the config includes.
	Open func(path string) ([]byte, error)
	// Check vets an included file before it is read; nil accepts all.
	Check func(path string) error
	// Reader holds the roots and limits of the run: files the proxy's
	// binary would read must lie within its roots.
	Reader   *safefile.Reader
	Opts     Options
	Disabled map[string]bool
}

// Linted is what linting one config found.
type Linted struct {
	// Findings are the rules' and the parse's findings, before
	// suppressions.
	Findings []finding.Finding
	// Files are the files read, main first.
	Files []string
	// Comments are the comments that may hold wslb:ignore.
	Comments []Comment
	// Blocks are the config's blocks: a wslb:ignore comment on a block's
	// first line covers all of it.
	Blocks []Span
	// Code lists the directives that run code (refused by --exec
	// without --allow-code).
	Code []Code
	// Exec says how --exec runs the proxy's own check; nil when it cannot.
	Exec *Exec
}

// Comment is a comment of a config file.
type Comment struct {
	File string
	Line int
	Text string
	// Alone: the comment is the only thing on its line.
	Alone bool
}

// Span is a block's lines in one file.
type Span struct {
	File       string
	Start, End int
}

// Exec is how --exec checks a config with the proxy's binary: on a
// scratch copy of its files with the host names of server addresses
// stubbed.
type Exec struct {
	// Refusals returns the findings for files the binary would read
	// that reader refuses, and a note saying the check was not run (""
	// when it may run).
	Refusals func(reader *safefile.Reader) ([]finding.Finding, string)
	// Sources are the files to copy (main and includes) by name.
	Sources map[string][]byte
	// Hosts are the server addresses as written.
	Hosts []proxy.Address
	// Wrap, when set, is a main config that includes the copy of File
	// (named base), for a config the binary cannot check on its own.
	Wrap func(base string) []byte
	// Note says what the binary, at its version, reads differently from
	// what the config expects; "" when nothing.
	Note func(bin proxybin.Binary) string
}

var linters = proxy.NewPerKind[*Linter]("linter")

// RegisterLinter adds the Linter of a proxy kind, at init.
func RegisterLinter(kind proxy.Kind, l *Linter) { linters.Register(kind, l) }

// LinterFor is the Linter of kind: the registered one, else FileLinter for
// a readable proxy, else nil.
func LinterFor(kind proxy.Kind) *Linter {
	if l := linters.Get(kind); l != nil {
		return l
	}
	if _, ok := proxy.LookupReadable(string(kind)); ok {
		return FileLinter(kind)
	}
	return nil
}

// FileLinter lints configs of kind with the kind's File rules (after its
// Loader, if any): for a proxy registered with rules and no Linter of
// its own. "#" comments may suppress findings. --exec checks the file as
// written (no includes, no host names stubbed) when the descriptor says
// how its binary checks a config, and cannot check it otherwise.
func FileLinter(kind proxy.Kind) *Linter {
	d, _ := proxy.LookupReadable(string(kind))
	return &Linter{Lint: func(_ context.Context, in Input) *Linted {
		fs, blocks := CheckFile(string(kind), in.File, in.Text, in.Opts, in.Disabled)
		l := &Linted{Findings: fs, Files: []string{in.File}}
		for i, line := range strings.Split(string(in.Text), "\n") {
			if c := strings.IndexByte(line, '#'); c >= 0 {
				l.Comments = append(l.Comments, Comment{File: in.File, Line: i + 1, Text: line[c:], Alone: strings.TrimSpace(line[:c]) == ""})
			}
		}
		for _, b := range blocks {
			l.Blocks = append(l.Blocks, Span{File: in.File, Start: b.Start, End: b.End})
		}
		if d != nil && d.CheckArgs != nil {
			l.Exec = &Exec{
				Refusals: func(*safefile.Reader) ([]finding.Finding, string) { return nil, "" },
				Sources:  map[string][]byte{in.File: in.Text},
			}
		}
		return l
	}}
}

// TemplateFindings reports unrendered template text in a file, once per
// line (WSLB003).
func TemplateFindings(file string, text []byte) []finding.Finding {
	r := ByID(TemplateID)
	var out []finding.Finding
	for _, t := range TemplateText(text, HashComment) {
		out = append(out, newFinding(r, file, t.Line, t.Column, t.Message, ""))
	}
	return out
}
