// Package validate lints HAProxy and NGINX configs for WebSocket and
// affinity mistakes. It parses each source, runs the rule catalog
// (package rules), applies --disable and inline suppressions and returns
// findings; it never prints.
package validate

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/wslb/wslb/internal/ctxrun"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/internal/words"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/validate/finding"
	"github.com/wslb/wslb/validate/rules"
)

// Finding and Severity are re-exported for callers that only import
// validate.
type (
	Finding  = finding.Finding
	Severity = finding.Severity
)

// Severities.
const (
	Info    = finding.Info
	Warning = finding.Warning
	Error   = finding.Error
)

// Kind is the proxy a config is for.
type Kind = proxybin.Kind

// Source is one config to lint. Bytes nil means read Name from disk.
// Kind empty means detect it from the name and content.
type Source struct {
	Name  string
	Kind  Kind
	Bytes []byte
	// IfContent marks a file found in a directory by its extension alone
	// (*.yaml): it is linted only when its content tells its kind.
	IfContent bool
}

// Options configure a lint run.
type Options struct {
	rules.Options
	// Disable lists rule IDs to skip.
	Disable []string
	// Exec runs the real binary's check (WSLB002) on every source.
	Exec bool
	// AllowCode lets Exec run configs with directives that run code
	// (WSLB150, WSLB250); without it Lint returns a *CodeError for them.
	AllowCode bool
	// Binaries overrides binary lookup for Exec (tests); nil uses
	// proxybin.Lookup.
	Binaries func(Kind) (proxybin.Binary, error)
	// ReadFile reads files that are not among the sources (NGINX
	// includes); nil reads the disk through a safefile.Reader.
	ReadFile func(path string) ([]byte, error)
	// Roots are the directories configs and includes may be read from
	// (--include-root and the paths given); empty means the directories
	// of the sources read from disk.
	Roots []string
	// Limits bound what is read; zero means safefile.DefaultLimits.
	Limits safefile.Limits
}

// reader is the safefile.Reader sources and includes are read through.
func (o Options) reader(sources []Source) *safefile.Reader {
	roots := o.Roots
	if len(roots) == 0 {
		for _, src := range sources {
			if src.Bytes == nil {
				roots = append(roots, filepath.Dir(src.Name))
			}
		}
	}
	return safefile.NewReader(roots, o.Limits)
}

// Result is what a lint run found.
type Result struct {
	Findings []Finding
	// Files are the files read, in order (includes too).
	Files []string
	// Notes tell the user about things the run did on their behalf, such
	// as host names stubbed for --exec.
	Notes []string
}

// Summary counts findings by severity.
type Summary struct {
	Files    int `json:"files"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
	Total    int `json:"total"`
}

// Summary counts the result's findings.
func (r Result) Summary() Summary {
	s := Summary{Files: len(r.Files), Total: len(r.Findings)}
	for _, f := range r.Findings {
		switch f.Severity {
		case Error:
			s.Errors++
		case Warning:
			s.Warnings++
		case Info:
			s.Infos++
		}
	}
	return s
}

// Max returns the highest severity found (0 when clean).
func (r Result) Max() Severity {
	var m Severity
	for _, f := range r.Findings {
		m = max(m, f.Severity)
	}
	return m
}

// Rules returns the metadata of every rule in the catalog.
func Rules() []finding.Rule {
	var out []finding.Rule
	for _, r := range rules.All() {
		out = append(out, r.Rule)
	}
	return out
}

// UnknownKindError says a source's proxy kind could not be detected.
type UnknownKindError struct{ Name string }

func (e *UnknownKindError) Error() string {
	var titles, flags []string
	for _, d := range proxy.Readable() {
		titles = append(titles, d.Title)
		flags = append(flags, "--proxy "+string(d.Name))
	}
	return fmt.Sprintf("%s: cannot tell whether this is an %s config; pass %s", e.Name, words.Or(titles), words.Or(flags))
}

// CodeError refuses to run a config whose directives run code.
type CodeError struct{ rules.Code }

func (e *CodeError) Error() string {
	return fmt.Sprintf("%s:%d: %s; wslb does not run configs that run code unless --allow-code is given", e.File, e.Line, e.Message)
}

// Lint parses and checks sources. Unreadable files are errors (wrapping
// fs.ErrNotExist for missing ones); broken syntax is a WSLB001 finding.
func Lint(ctx context.Context, sources []Source, opts Options) (Result, error) {
	disabled := map[string]bool{}
	for _, id := range opts.Disable {
		id = strings.ToUpper(strings.TrimSpace(id))
		if id == "" {
			continue
		}
		if rules.ByID(id) == nil {
			return Result{}, fmt.Errorf("--disable %s: no such rule", id)
		}
		disabled[id] = true
	}
	// Read and classify everything first so included files can be skipped.
	loaded := make([]Source, 0, len(sources))
	reader := opts.reader(sources)
	for _, src := range sources {
		if src.Bytes == nil {
			b, err := reader.Read(src.Name)
			if err != nil {
				return Result{}, fmt.Errorf("read config: %w", err)
			}
			src.Bytes = b
		}
		if src.IfContent {
			d, why, ok := proxy.Detect(src.Name, src.Bytes)
			if !ok || why != "content" || (src.Kind != "" && src.Kind != d.Name) {
				continue
			}
		}
		if src.Kind == "" {
			k, ok := Detect(src.Name, src.Bytes)
			if !ok {
				return Result{}, &UnknownKindError{Name: src.Name}
			}
			src.Kind = k
		}
		loaded = append(loaded, src)
	}
	memory := map[string][]byte{}
	for _, src := range loaded {
		memory[filepath.Clean(src.Name)] = src.Bytes
	}
	readFile := opts.ReadFile
	var check func(string) error
	if readFile == nil {
		readFile, check = reader.Read, reader.Check
	}
	opener := func(path string) ([]byte, error) {
		if b, ok := memory[filepath.Clean(path)]; ok {
			return b, nil
		}
		return readFile(path)
	}

	var res Result
	included := map[string]bool{}
	linters := map[Kind]*rules.Linter{}
	for _, src := range loaded {
		if linters[src.Kind] = rules.LinterFor(src.Kind); linters[src.Kind] == nil {
			return res, fmt.Errorf("%s: unknown kind %q (want %s)", src.Name, src.Kind, proxy.Choices())
		}
	}
	// Main configs first: files they include are linted through them,
	// with the context they inherit.
	rank := func(s Source) int {
		if main := linters[s.Kind].Main; main != nil && main(s.Bytes) {
			return 0
		}
		return 1
	}
	sort.SliceStable(loaded, func(i, j int) bool { return rank(loaded[i]) < rank(loaded[j]) })
	for _, src := range loaded {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if included[filepath.Clean(src.Name)] {
			continue
		}
		var linted *rules.Linted
		// Parsing and the rules run beside a watch on ctx, so a cancelled
		// run returns at once even inside a huge file. The parsers stop at
		// their next check of ctx; one that takes none is left to finish
		// in the background.
		err := ctxrun.Run(ctx, func() {
			linted = linters[src.Kind].Lint(ctx, rules.Input{
				File: src.Name, Text: src.Bytes, Open: opener, Check: check, Reader: reader,
				Opts: opts.Options, Disabled: disabled,
			})
		})
		if err != nil {
			return Result{}, err
		}
		found := linted.Findings
		for _, f := range linted.Files {
			res.Files = append(res.Files, f)
			if f != src.Name {
				included[filepath.Clean(f)] = true
			}
		}
		if opts.Exec && linted.Exec == nil {
			return res, fmt.Errorf("%s: validate --exec cannot check %s configs with the proxy's binary yet", src.Name, src.Kind)
		}
		if opts.Exec && !opts.AllowCode && len(linted.Code) > 0 {
			// Neither --disable nor an ignore comment lets it run.
			return res, &CodeError{Code: linted.Code[0]}
		}
		if opts.Exec && !disabled[rules.ExecCheckID] {
			// The binary would read (and may quote) files outside the
			// roots: those are refused and the check is not run.
			outside, note := linted.Exec.Refusals(reader)
			found = append(found, outside...)
			if note != "" {
				res.Notes = append(res.Notes, note)
			} else {
				ex, notes, err := execCheck(ctx, src, linted.Exec, opts)
				if err != nil {
					return res, err
				}
				found = append(found, ex...)
				res.Notes = append(res.Notes, notes...)
			}
		}
		sup := newSuppressions(linted.Comments, linted.Blocks)
		for _, f := range explained(found) {
			if disabled[f.Rule] || sup.covers(f) {
				continue
			}
			res.Findings = append(res.Findings, f)
		}
	}
	res.Findings = dedupe(res.Findings)
	finding.Sort(res.Findings)
	return res, nil
}

// explained drops a parse error (WSLB001) on a line another finding
// already explains (unrendered template text, a keyword of another
// version), and keeps one version finding per line.
func explained(fs []Finding) []Finding {
	type at struct {
		file string
		line int
	}
	isVersion := func(f Finding) bool {
		r := rules.ByID(f.Rule)
		return r != nil && r.Version
	}
	why := map[at]bool{}
	for _, f := range fs {
		if f.Rule == rules.TemplateID || isVersion(f) {
			why[at{f.File, f.Line}] = true
		}
	}
	version := map[at]bool{}
	out := fs[:0:0]
	for _, f := range fs {
		k := at{f.File, f.Line}
		if f.Rule == rules.ParseErrorID && why[k] {
			continue
		}
		if isVersion(f) {
			if version[k] {
				continue
			}
			version[k] = true
		}
		out = append(out, f)
	}
	return out
}

func dedupe(fs []Finding) []Finding {
	seen := map[Finding]bool{}
	out := fs[:0]
	for _, f := range fs {
		if seen[f] {
			continue
		}
		seen[f] = true
		out = append(out, f)
	}
	return out
}

// ErrNoConfigs is returned by Collect when a directory holds no config.
var ErrNoConfigs = errors.New("no HAProxy or NGINX config found")
