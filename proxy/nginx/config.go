// Package nginx reads an NGINX configuration with nginx-go-crossplane into
// a tree with includes inlined and parents linked, so rules can ask for
// the effective value of a directive the way nginx inherits it
// (http → server → location).
package nginx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	crossplane "github.com/nginxinc/nginx-go-crossplane"

	"github.com/wslb/wslb/internal/safefile"
)

// Config is a parsed NGINX configuration: the main file and everything it
// includes.
type Config struct {
	File string
	// Payload is crossplane's result, one Config per file read.
	Payload *crossplane.Payload
	// Root holds the top-level directives with includes inlined.
	Root []*Node
	// Snippet is true for a file without events/http blocks (a conf.d or
	// sites-enabled file); its top level stands for the http context.
	Snippet  bool
	Problems []Problem
	// Comments are every comment directive, for suppression.
	Comments []Comment
	// Missing lists includes naming files absent here, read as empty
	// (ForRewrite only).
	Missing []string

	mode Mode

	sources   map[string][]byte
	aliases   map[string]string // include path crossplane names → file read
	lineStart map[string][]int  // byte offset of each line, per file
	// nextCol is where the search for the next directive on a line starts:
	// directives are built in source order, so a later one on the same
	// line sits after the earlier ones.
	nextCol   map[fileLine]int
	upstreams map[string]*Node
	limits    Limits
	// refused maps include patterns to why files they match were refused.
	refused map[string]string
	// openRefused: an include that exists was not read, or the
	// includes nest or expand beyond the limits.
	openRefused bool
}

// Node is one directive in the inlined tree.
type Node struct {
	Name     string
	Args     []string
	File     string
	Line     int
	Column   int
	Parent   *Node
	Children []*Node
	// EndLine is the last line of the block's contents in File (0 for
	// simple directives).
	EndLine int
	// byName indexes large blocks' children (see indexChildren).
	byName map[string][]*Node
}

// Problem is a parse error crossplane reported.
type Problem struct {
	File         string
	Line, Column int
	Message      string
}

// Comment is a '#' comment and where it sits.
type Comment struct {
	File string
	Line int
	Text string
}

// Opener reads a file by path; Parse uses it for the main file and every
// include, so in-memory configs work.
type Opener func(path string) ([]byte, error)

// DiskOpener reads from the file system.
func DiskOpener(path string) ([]byte, error) { return os.ReadFile(path) }

// maxDepth bounds include inlining and nesting walks.
const maxDepth = 64

// Parse reads the NGINX config at file (through open) for validate's
// rules with includes resolved as nginx does: relative paths from the main
// file's directory. It never fails: what it cannot read becomes a Problem.
func Parse(file string, open Opener) *Config {
	return Load(context.Background(), file, LoadOptions{Open: open})
}

// Limits bound what includes may pull in; zero fields take the defaults.
type Limits struct {
	// Check, when set, vets every file an include pattern matches before
	// it is read; a refused file is a Problem at the include line.
	Check func(path string) error
	// MaxFanOut bounds the files one include may match (default
	// safefile.DefaultLimits').
	MaxFanOut int
	// MaxDepth bounds include nesting (default safefile.DefaultLimits').
	MaxDepth int
	// MaxNodes bounds the directives of the inlined tree (default
	// DefaultMaxNodes),
	// which include bombs would otherwise grow exponentially.
	MaxNodes int
}

// ReaderLimits are the Limits of a safefile.Reader: includes are vetted by
// it and bounded by its limits.
func ReaderLimits(r *safefile.Reader) Limits {
	rl := r.Limits()
	return Limits{Check: r.Check, MaxFanOut: rl.MaxFanOut, MaxDepth: rl.MaxDepth}
}

func (l Limits) withDefaults() Limits {
	if l.MaxFanOut <= 0 {
		l.MaxFanOut = safefile.DefaultLimits.MaxFanOut
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = safefile.DefaultLimits.MaxDepth
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = DefaultMaxNodes
	}
	return l
}

// Mode is what a config is read for.
type Mode int

const (
	// ForRules reads every detail validate's rules judge: comments (for
	// suppressions), directives crossplane does not know as Problems,
	// OpenResty's Lua blocks as one directive each, and a conf.d snippet
	// as the http context it is included into (its relative includes are
	// also looked for under nginx's conf prefix).
	ForRules Mode = iota
	// ForRewrite reads what verify's rewrite renders back and runs:
	// directives crossplane does not know pass through as written (the
	// rewrite refuses what it must not run itself), comments and Lua are
	// not parsed, every directive must sit in its context, and an
	// include naming a file absent here reads as empty and is listed in
	// Config.Missing.
	ForRewrite
)

// LoadOptions say how Load reads a config.
type LoadOptions struct {
	Mode Mode
	// Open reads the main file and every include; nil reads the disk.
	Open Opener
	// Limits bound what includes pull in.
	Limits Limits
}

// Load reads the NGINX config at file with its includes, for validate's
// rules and verify's rewrite alike: crossplane parses it, includes are
// resolved as nginx does (relative paths from the main file's directory)
// and vetted by o.Limits, and the tree of Nodes is built with positions.
// It never fails: what it cannot read, files the opener or Limits.Check
// refuses, includes matching too many files, nesting too deep and include
// bombs become Problems at the line that leads there, and nothing of a
// refused file is read or quoted. It stops reading when ctx ends; what was
// not read then is missing from the Config, which the caller discards.
func Load(ctx context.Context, file string, o LoadOptions) *Config {
	open := o.Open
	if open == nil {
		open = DiskOpener
	}
	l := o.Limits.withDefaults()
	c := &Config{File: file, mode: o.Mode, sources: map[string][]byte{}, aliases: map[string]string{}, limits: l, refused: map[string]string{}}
	src, err := open(file)
	if err != nil {
		c.Problems = append(c.Problems, Problem{File: file, Line: 1, Message: fmt.Sprintf("read %s: %v", file, err)})
		return c
	}
	c.sources[file] = src
	c.Snippet = IsSnippet(src)
	payload, err := crossplane.Parse(file, c.options(ctx, open))
	if err != nil {
		p := Problem{File: file, Line: 1, Message: cleanMessage(err.Error())}
		if pe := new(crossplane.ParseError); errors.As(err, &pe) && pe.File != nil && pe.Line != nil {
			p = Problem{File: c.realName(*pe.File), Line: *pe.Line, Message: cleanMessage(pe.Error())}
		}
		c.Problems = append(c.Problems, p)
		return c
	}
	c.Payload = payload
	// Refused includes first: the rewrite reports the first Problem, and
	// a refusal explains what follows from it.
	c.refusedIncludes(payload)
	for _, e := range payload.Errors {
		line := 1
		if e.Line != nil {
			line = *e.Line
		}
		// "unexpected end of file" points one past the last line.
		if n := lineCount(c.sources[e.File]); n > 0 {
			line = min(line, n)
		}
		c.Problems = append(c.Problems, Problem{File: c.realName(e.File), Line: line, Message: cleanMessage(e.Error.Error())})
	}
	if p := CheckIncludes(payload, l.MaxDepth, l.MaxNodes); p != nil {
		p.File = c.realName(p.File)
		c.Problems = append(c.Problems, *p)
		// nginx would expand it all the same; the tree would be too
		// large to build.
		c.openRefused = true
		return c
	}
	if len(payload.Config) > 0 {
		c.Root = c.inline(payload, 0, nil, 0)
		if o.Mode == ForRules && !c.Snippet && len(payload.Config[0].Errors) == 0 && !hasTop(payload.Config[0].Parsed, "events") {
			c.Problems = append(c.Problems, Problem{File: file, Line: 1, Message: `no "events" section: nginx refuses to start without one; add events { worker_connections 16384; }`})
		}
	}
	return c
}

func (c *Config) options(ctx context.Context, open Opener) *crossplane.ParseOptions {
	opts := &crossplane.ParseOptions{
		Open: func(path string) (io.ReadCloser, error) {
			b, ok := c.sources[path]
			if !ok {
				var err error
				b, err = open(path)
				for _, alt := range c.prefixFallbacks(path) {
					if err == nil {
						break
					}
					if b, err = open(alt); err == nil {
						c.aliases[path] = alt
						c.sources[alt] = b
					}
				}
				if errors.Is(err, fs.ErrNotExist) && c.mode == ForRewrite && path != c.File {
					// Such as /etc/nginx/mime.types of another machine;
					// crossplane opens an include twice: listed once.
					if !slices.Contains(c.Missing, path) {
						c.Missing = append(c.Missing, path)
					}
					return io.NopCloser(bytes.NewReader(nil)), nil
				}
				if err != nil {
					if !errors.Is(err, fs.ErrNotExist) {
						c.openRefused = true
					}
					return nil, err
				}
				c.sources[path] = b
			}
			return io.NopCloser(ctxReader{ctx: ctx, r: bytes.NewReader(b)}), nil
		},
		Glob: func(pattern string) ([]string, error) {
			m, err := filepath.Glob(pattern)
			for _, alt := range c.prefixFallbacks(pattern) {
				if err != nil || len(m) > 0 {
					break
				}
				m, err = filepath.Glob(alt)
			}
			if err != nil {
				return nil, fmt.Errorf("include %s: %w", pattern, err)
			}
			// Glob's matches are opened after parsing, where a refusal
			// would lose the include's line: vet them here.
			kept, why := c.limits.VetMatches(m)
			if why != "" {
				c.refused[pattern] = why
			}
			return kept, nil
		},
	}
	if c.mode == ForRules {
		opts.ParseComments = true
		opts.ErrorOnUnknownDirectives = true
		// OpenResty's Lua directives and blocks are known, so that
		// WSLB150 can name them rather than a parse error.
		opts.DirectiveSources = []crossplane.MatchFunc{crossplane.DefaultDirectivesMatchFunc, crossplane.MatchLuaLatest}
		opts.LexOptions = crossplane.LexOptions{Lexers: []crossplane.RegisterLexer{(&crossplane.Lua{}).RegisterLexer()}}
		opts.SkipDirectiveContextCheck = c.Snippet
	}
	return opts
}

// Refused reports whether an include was refused (outside the roots, a
// FIFO or device, too many files or too deep): the binary would read
// what wslb did not.
func (c *Config) Refused() bool { return len(c.refused) > 0 || c.openRefused }

// refusedIncludes turns the include patterns Glob refused into Problems
// at their include lines.
func (c *Config) refusedIncludes(p *crossplane.Payload) {
	for _, prob := range RefusedIncludes(p, filepath.Dir(c.File), c.refused, c.prefixFallbacks) {
		prob.File = c.realName(prob.File)
		c.Problems = append(c.Problems, prob)
	}
}

// prefixFallbacks gives other places a snippet's relative include may
// live, when reading for the rules. nginx resolves relative includes from its conf prefix
// (/etc/nginx), so a sites-enabled file linted on its own that says
// "include snippets/ssl.conf;" means /etc/nginx/snippets/ssl.conf: try
// the two directories above the snippet's own.
func (c *Config) prefixFallbacks(path string) []string {
	dir := filepath.Dir(c.File)
	if !c.Snippet || c.mode != ForRules || !strings.HasPrefix(path, dir+string(filepath.Separator)) {
		return nil
	}
	rel := strings.TrimPrefix(path, dir+string(filepath.Separator))
	var out []string
	for i, d := 0, filepath.Dir(dir); i < 2 && d != dir; i, dir, d = i+1, d, filepath.Dir(d) {
		out = append(out, filepath.Join(d, rel))
	}
	return out
}

// ctxReader fails reads once ctx has ended, which stops crossplane's lexer
// at its next buffer refill (every few KB) even inside a huge file.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

func hasTop(ds crossplane.Directives, names ...string) bool {
	for _, d := range ds {
		for _, n := range names {
			if d.Directive == n {
				return true
			}
		}
	}
	return false
}

// inline builds nodes for payload.Config[idx], replacing include
// directives by the included files' directives.
func (c *Config) inline(p *crossplane.Payload, idx int, parent *Node, depth int) []*Node {
	if idx < 0 || idx >= len(p.Config) || depth > maxDepth {
		return nil
	}
	cfg := p.Config[idx]
	return c.build(p, c.realName(cfg.File), cfg.Parsed, parent, depth)
}

func (c *Config) build(p *crossplane.Payload, file string, ds crossplane.Directives, parent *Node, depth int) []*Node {
	var out []*Node
	for _, d := range ds {
		if d.IsComment() {
			c.Comments = append(c.Comments, Comment{File: file, Line: d.Line, Text: strings.TrimSpace(*d.Comment)})
			continue
		}
		if d.Directive == "include" && len(d.Includes) > 0 {
			for _, inc := range d.Includes {
				out = append(out, c.inline(p, inc, parent, depth+1)...)
			}
			continue
		}
		n := &Node{Name: d.Directive, Args: d.Args, File: file, Line: d.Line, Parent: parent}
		n.Column = c.column(file, d.Line, d.Directive)
		if d.IsBlock() {
			n.Children = c.build(p, file, d.Block, n, depth+1)
			n.indexChildren()
			n.EndLine = n.Line
			for _, ch := range n.Children {
				if ch.File == file {
					n.EndLine = max(n.EndLine, ch.Line, ch.EndLine)
				}
			}
			for _, x := range d.Block {
				if x.IsComment() {
					n.EndLine = max(n.EndLine, x.Line)
				}
			}
		}
		out = append(out, n)
	}
	return out
}

type fileLine struct {
	file string
	line int
}

// column finds the directive's name on its line (crossplane keeps lines
// only): the first whole word equal to name after the directives already
// placed on that line.
func (c *Config) column(file string, line int, name string) int {
	src := c.sources[file]
	if src == nil || line < 1 {
		return 0
	}
	if c.lineStart == nil {
		c.lineStart = map[string][]int{}
	}
	starts, ok := c.lineStart[file]
	if !ok {
		starts = []int{0}
		for i, b := range src {
			if b == '\n' {
				starts = append(starts, i+1)
			}
		}
		c.lineStart[file] = starts
	}
	if line > len(starts) {
		return 0
	}
	text := src[starts[line-1]:]
	if j := bytes.IndexByte(text, '\n'); j >= 0 {
		text = text[:j]
	}
	if c.nextCol == nil {
		c.nextCol = map[fileLine]int{}
	}
	key := fileLine{file, line}
	// A file included twice is built twice: start over when nothing is left.
	for _, from := range []int{c.nextCol[key], 0} {
		if i := wordIndex(text, name, from); i >= 0 {
			c.nextCol[key] = i + len(name)
			return i + 1
		}
	}
	return 0
}

// wordIndex returns the offset of the first occurrence of name in text at
// or after from that stands as a word of its own (not inside an argument
// like "/hash" or "ip_hash_pool"), or -1.
func wordIndex(text []byte, name string, from int) int {
	isWordByte := func(i int) bool {
		return i >= 0 && i < len(text) && strings.IndexByte(" \t\r;{}\"'", text[i]) < 0
	}
	for from <= len(text) {
		i := bytes.Index(text[from:], []byte(name))
		if i < 0 {
			return -1
		}
		i += from
		if !isWordByte(i-1) && !isWordByte(i+len(name)) {
			return i
		}
		from = i + 1
	}
	return -1
}

// lineCount counts lines; a final newline does not start a new one.
func lineCount(src []byte) int {
	n := bytes.Count(src, []byte("\n"))
	if len(src) > 0 && src[len(src)-1] != '\n' {
		n++
	}
	return n
}

// Source returns the bytes read for a file (main or included).
func (c *Config) Source(file string) []byte { return c.sources[file] }

// Files lists the files read, main first.
func (c *Config) Files() []string {
	if c.Payload == nil {
		return []string{c.File}
	}
	var out []string
	for _, x := range c.Payload.Config {
		out = append(out, c.realName(x.File))
	}
	return out
}

// realName maps an include path to the file actually read for it.
func (c *Config) realName(path string) string {
	if alt, ok := c.aliases[path]; ok {
		return alt
	}
	return path
}

// IsSnippet reports whether an NGINX file has no top-level http, events
// or stream block: a conf.d or sites-enabled file whose top level stands
// for the http context.
func IsSnippet(src []byte) bool {
	top := topLevelNames(src)
	return !top["http"] && !top["events"] && !top["stream"]
}

// topLevelNames lists the directive names at the top level of an nginx
// file with a light scan (quotes, comments, braces), so snippet detection
// does not need a second full parse and works on broken files too.
func topLevelNames(src []byte) map[string]bool {
	names := map[string]bool{}
	depth, atStart := 0, true
	for i := 0; i < len(src); i++ {
		switch ch := src[i]; ch {
		case ' ', '\t', '\r', '\n':
		case '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case '"', '\'':
			for i++; i < len(src) && src[i] != ch; i++ {
				if src[i] == '\\' {
					i++
				}
			}
			atStart = false
		case '{':
			depth++
			atStart = true
		case '}':
			depth = max(depth-1, 0)
			atStart = true
		case ';':
			atStart = true
		default:
			j := i
			for j < len(src) && strings.IndexByte(" \t\r\n;{}#\"'", src[j]) < 0 {
				j++
			}
			if atStart && depth == 0 {
				names[string(src[i:j])] = true
			}
			atStart = false
			i = j - 1
		}
	}
	return names
}

var inFileSuffix = regexp.MustCompile(` in [^ ]+:\d+$`)

// cleanMessage drops crossplane's trailing "in FILE:LINE", which findings
// carry separately.
func cleanMessage(msg string) string {
	return inFileSuffix.ReplaceAllString(msg, "")
}
