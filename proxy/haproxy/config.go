// Package haproxy reads an HAProxy configuration twice: with
// haproxytech/config-parser (the typed view, and the judge of which lines
// are known keywords) and with a line index of its own, because
// config-parser keeps no line numbers. validate's rules, the WebSocket
// route detector and verify's rewrite all read the index (Index, Start);
// every directive carries its file, line and column.
package haproxy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/agext/levenshtein"
	parser "github.com/haproxytech/config-parser/v5"
	"github.com/haproxytech/config-parser/v5/options"
	"github.com/haproxytech/config-parser/v5/types"
)

// Config is one parsed HAProxy file.
type Config struct {
	File     string
	Lines    []string // raw lines, Lines[0] is line 1
	Sections []*Section
	// Problems are syntax errors and unknown keywords, in line order.
	Problems []Problem
	// Comments are the '#' comments by line, for suppression.
	Comments []Comment
	// Conditionals are the .if/.elif/.else/.endif and
	// .diag/.notice/.warning/.alert lines, in order; Section is the
	// section they sit in (nil before the first).
	Conditionals []*Directive
	// Outside are the lines before the first section, which HAProxy
	// refuses (each is a Problem too).
	Outside []*Directive

	backends   map[string]*Section
	done       chan struct{} // closed when keyword checking has finished
	parsedOnce sync.Once
	parsed     parser.Parser
	parsedErr  error
	ctx        context.Context
}

// Section is a global, defaults, frontend, backend, listen or other
// section with the directives under it.
type Section struct {
	Type   string // "global", "defaults", "frontend", "backend", "listen", ...
	Name   string
	From   string // named defaults given with "from NAME"
	Line   int    // the section keyword's line
	Column int
	// Header is the section line's words, keyword first.
	Header  []string
	EndLine int // last line that belongs to the section
	// Defaults is the defaults section this one inherits from: the one
	// named by "from", else the last defaults section above it. Nil for
	// global and for a defaults section without "from" (which resets).
	Defaults   *Section
	Directives []*Directive
}

// Directive is one configuration line: a keyword and its arguments.
type Directive struct {
	Keyword string
	Args    []string
	Line    int
	Column  int
	// ArgColumns are the 1-based columns of Args.
	ArgColumns []int
	Raw        string
	Comment    string
	Section    *Section
	// check is the line config-parser judges: Raw with the keyword as
	// HAProxy reads it (config-parser does not unquote "server").
	check string
}

// Comment is a '#' comment; Alone is true when nothing else is on the line.
type Comment struct {
	Line  int
	Text  string
	Alone bool
}

// Problem is a line HAProxy would reject or a wslb parser cannot read.
type Problem struct {
	Line, Column int
	Message      string
	// Syntax is set when HAProxy cannot split the line into words (an
	// unterminated quote, a bad escape).
	Syntax bool
}

// sectionKeywords start a new section; the names are HAProxy's.
var sectionKeywords = map[string]bool{
	"global": true, "defaults": true, "frontend": true, "backend": true,
	"listen": true, "resolvers": true, "userlist": true, "peers": true,
	"mailers": true, "cache": true, "program": true, "http-errors": true,
	"ring": true, "log-forward": true, "fcgi-app": true, "crt-store": true,
	"traces": true, "acme": true,
}

// namedSections must carry a name.
var namedSections = map[string]bool{
	"frontend": true, "backend": true, "listen": true, "resolvers": true,
	"userlist": true, "peers": true, "mailers": true, "cache": true,
	"program": true, "http-errors": true, "ring": true, "log-forward": true,
	"fcgi-app": true,
}

// configParserMu guards config-parser, which keeps the current defaults
// section name in a package variable while it parses.
var configParserMu sync.Mutex

// Parse reads an HAProxy configuration. It never fails: what it cannot
// read becomes a Problem with a line number.
func Parse(file string, data []byte) *Config {
	c := Start(file, data)
	c.Wait()
	return c
}

// Start indexes the file and leaves config-parser running in the
// background, so rules can read the index meanwhile; call Wait before
// reading Problems or Parsed.
func Start(file string, data []byte) *Config {
	return StartContext(context.Background(), file, data)
}

// ctxCheckLines is how many lines the indexer reads between checks of its
// context.
const ctxCheckLines = 4096

// StartContext is Start that stops indexing when ctx ends, leaving the
// Config partial: the caller, who ended ctx, discards it.
func StartContext(ctx context.Context, file string, data []byte) *Config {
	c := indexed(ctx, file, data)
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		c.checkKeywords()
	}()
	return c
}

// Index reads the file's sections and directives, with their lines and
// inheritance, without config-parser's judgement of keywords: Problems
// hold only what the index itself finds. The WebSocket route detector
// and verify's rewrite need no more.
func Index(file string, data []byte) *Config {
	return indexed(context.Background(), file, data)
}

func indexed(ctx context.Context, file string, data []byte) *Config {
	c := &Config{File: file, ctx: ctx}
	text := string(data)
	text = strings.TrimSuffix(text, "\n")
	if text != "" {
		c.Lines = strings.Split(text, "\n")
	}
	c.index()
	c.indexBackends()
	c.resolveDefaults()
	c.checkDuplicates()
	return c
}

// Wait blocks until config-parser has finished and Problems are complete.
func (c *Config) Wait() {
	if c.done != nil {
		<-c.done
		c.done = nil
		sortProblems(c.Problems)
	}
}

// Parsed is config-parser's typed view of the whole file, for callers
// that want typed values (servers, binds); its data has no line numbers,
// join it to Sections by type and name. It is parsed on first use.
func (c *Config) Parsed() (parser.Parser, error) {
	c.Wait()
	c.parsedOnce.Do(func() {
		c.parsed, c.parsedErr = newParser(strings.Join(c.Lines, "\n") + "\n")
	})
	return c.parsed, c.parsedErr
}

// parserSections are the section types config-parser knows.
var parserSections = []string{"global", "defaults", "frontend", "backend", "listen", "resolvers", "userlist", "peers", "mailers", "cache", "program", "http-errors", "ring", "log-forward", "fcgi-app"}

// checkName names the synthetic sections keyword checking builds.
const checkName = "wslb_check"

// checkKeywords runs config-parser to find lines no keyword parser
// accepts. config-parser judges each line on its own (keyword and
// arguments, within the section type), so every distinct line is fed once
// in one synthetic section per type: a 10,000-line file with hundreds of
// similar backends costs one section parser per type, not one per backend.
func (c *Config) checkKeywords() {
	distinct := map[string][]string{}
	seen := map[string]map[string]bool{}
	for _, s := range c.Sections {
		if seen[s.Type] == nil {
			seen[s.Type] = map[string]bool{}
		}
		for _, d := range s.Directives {
			key := d.check
			if len(key) > maxCheckLine {
				continue // config-parser's scanner would stop reading the rest of the file
			}
			if !seen[s.Type][key] {
				seen[s.Type][key] = true
				distinct[s.Type] = append(distinct[s.Type], key)
			}
		}
	}
	rejected := map[string]map[string]bool{}
	reject := func(typ, line string) {
		if rejected[typ] == nil {
			rejected[typ] = map[string]bool{}
		}
		rejected[typ][line] = true
	}
	p, err := newParser(checkText(distinct))
	if errors.Is(err, errParserPanic) {
		// Rare: find the lines config-parser cannot survive one by one,
		// reject them, and judge the rest together again.
		for typ, lines := range distinct {
			var kept []string
			for _, line := range lines {
				if _, err := newParser(checkText(map[string][]string{typ: {line}})); errors.Is(err, errParserPanic) {
					reject(typ, line)
					continue
				}
				kept = append(kept, line)
			}
			distinct[typ] = kept
		}
		p, err = newParser(checkText(distinct))
	}
	if err != nil {
		c.Problems = append(c.Problems, Problem{Line: 1, Column: 1, Message: fmt.Sprintf("config-parser: %v", err)})
		return
	}
	for _, typ := range parserSections {
		name := checkName
		if typ == "global" {
			name = parser.GlobalSectionName
		}
		data, err := p.Get(parser.Section(typ), name, "")
		if err != nil {
			continue
		}
		values, _ := data.([]types.UnProcessed)
		for _, v := range values {
			reject(typ, v.Value)
		}
	}
	ignored := warnedOnly(rejected)
	for _, s := range c.Sections {
		for _, d := range s.Directives {
			if !rejected[s.Type][d.check] || ignored[s.Type][d.check] {
				continue
			}
			if knownUnparsed["*"][d.Keyword] || knownUnparsed[s.Type][d.Keyword] || acceptedWithUnits(s, d) {
				continue
			}
			msg := fmt.Sprintf("unknown or malformed keyword %q in %s section", d.Keyword, s.Type)
			if sectionKeywords[strings.ToLower(d.Keyword)] || closeToSection(d.Keyword) {
				msg = fmt.Sprintf("unknown keyword %q: not a section HAProxy knows (global, defaults, frontend, backend, listen, ...)", d.Keyword)
			}
			c.Problems = append(c.Problems, Problem{Line: d.Line, Column: d.Column, Message: msg})
		}
	}
}

// maxCheckLine is the longest line fed to config-parser: its line
// scanner gives up on longer ones and silently drops every line after.
const maxCheckLine = 60000

// warnedOnly returns, per section type, the lines rejected in a frontend
// or backend that HAProxy only warns about there and ignores: keywords
// for the other side of a proxy. A backend may carry any frontend keyword
// (bind, use_backend, option httplog: "ignored because backend has no
// frontend capability"), so its lines are judged again as a listen's; a
// frontend may carry backend settings a defaults section takes (timeout
// server, option redispatch) but not a server line, which HAProxy rejects.
func warnedOnly(rejected map[string]map[string]bool) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for typ, as := range map[string]string{"frontend": "defaults", "backend": "listen"} {
		var lines []string
		for line := range rejected[typ] {
			lines = append(lines, line)
		}
		if len(lines) == 0 {
			continue
		}
		sort.Strings(lines)
		p, err := newParser(checkText(map[string][]string{as: lines}))
		if err != nil {
			continue
		}
		still := map[string]bool{}
		if data, err := p.Get(parser.Section(as), checkName, ""); err == nil {
			values, _ := data.([]types.UnProcessed)
			for _, v := range values {
				still[v.Value] = true
			}
		}
		out[typ] = map[string]bool{}
		for _, line := range lines {
			if !still[line] {
				out[typ][line] = true
			}
		}
	}
	return out
}

// checkText writes distinct lines per section type as one synthetic
// config, one section per type.
func checkText(distinct map[string][]string) string {
	var text strings.Builder
	for _, typ := range parserSections {
		if len(distinct[typ]) == 0 {
			continue
		}
		if typ == "global" {
			text.WriteString("global\n")
		} else {
			text.WriteString(typ + " " + checkName + "\n")
		}
		for _, line := range distinct[typ] {
			text.WriteString("  " + line + "\n")
		}
	}
	return text.String()
}

// errParserPanic marks a config config-parser crashed on.
var errParserPanic = errors.New("config-parser crashed")

// newParser runs config-parser on text, one run at a time. config-parser
// panics on some malformed lines ("stick on" without a fetch); that comes
// back as an error wrapping errParserPanic.
func newParser(text string) (p parser.Parser, err error) {
	configParserMu.Lock()
	defer configParserMu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("%w: %v", errParserPanic, r)
		}
	}()
	return parser.New(options.String(text), options.UseListenSectionParsers)
}

func (c *Config) index() {
	var cur *Section
	for i, raw := range c.Lines {
		if i%ctxCheckLines == 0 && c.ctx.Err() != nil {
			c.Lines = c.Lines[:i]
			return
		}
		line := i + 1
		toks, comment, err := Tokenize(raw)
		if se := (*SyntaxError)(nil); errors.As(err, &se) {
			c.Problems = append(c.Problems, Problem{Line: line, Column: se.Col, Message: se.Msg, Syntax: true})
		}
		if comment != "" {
			c.Comments = append(c.Comments, Comment{Line: line, Text: comment, Alone: len(toks) == 0})
		}
		if len(toks) == 0 {
			continue
		}
		kw := toks[0].Text
		d := &Directive{Keyword: kw, Line: line, Column: toks[0].Col, Raw: raw, Comment: comment, Section: cur,
			check: strings.TrimSpace(QuoteWord(kw) + raw[toks[0].End:])}
		for _, t := range toks[1:] {
			d.Args = append(d.Args, t.Text)
			d.ArgColumns = append(d.ArgColumns, t.Col)
		}
		if Conditional(kw) {
			// Every branch is indexed: rules see the lines HAProxy may
			// read whichever way the condition goes.
			c.Conditionals = append(c.Conditionals, d)
			continue
		}
		if sectionKeywords[kw] {
			s := &Section{Type: kw, Line: line, Column: toks[0].Col, EndLine: line, Header: d.Words()}
			rest := toks[1:]
			if len(rest) > 0 && rest[0].Text != "from" {
				s.Name = rest[0].Text
				rest = rest[1:]
			}
			if len(rest) >= 2 && rest[0].Text == "from" {
				s.From = rest[1].Text
				rest = rest[2:]
			} else if len(rest) == 1 && rest[0].Text == "from" {
				c.Problems = append(c.Problems, Problem{Line: line, Column: rest[0].Col, Message: `"from" needs the name of a defaults section`})
				rest = nil
			}
			if namedSections[kw] && s.Name == "" {
				c.Problems = append(c.Problems, Problem{Line: line, Column: toks[0].Col, Message: fmt.Sprintf("%s section needs a name", kw)})
			}
			if len(rest) > 0 && kw != "program" {
				msg := fmt.Sprintf("unexpected %q after the %s section name", rest[0].Text, kw)
				if kw != "backend" && kw != "defaults" && strings.Contains(rest[0].Text, ":") {
					// HAProxy 1.x read a listening address here; old
					// guides still show it.
					msg += fmt.Sprintf(": HAProxy no longer takes a listening address on the section line, write it as 'bind %s' inside the section", rest[0].Text)
				}
				c.Problems = append(c.Problems, Problem{Line: line, Column: rest[0].Col, Message: msg})
			}
			c.Sections = append(c.Sections, s)
			cur = s
			continue
		}
		if cur == nil {
			c.Outside = append(c.Outside, d)
			c.Problems = append(c.Problems, Problem{Line: line, Column: toks[0].Col, Message: fmt.Sprintf("%q is outside any section; start one with global, defaults, frontend, backend or listen", kw)})
			continue
		}
		cur.Directives = append(cur.Directives, d)
		cur.EndLine = line
	}
}

func (c *Config) resolveDefaults() {
	var last *Section
	named := map[string]*Section{}
	for _, s := range c.Sections {
		if s.Type == "global" {
			continue
		}
		inheritable := s.Type == "defaults" || s.Type == "frontend" || s.Type == "backend" || s.Type == "listen"
		if !inheritable {
			continue
		}
		switch {
		case s.From != "":
			d, ok := named[s.From]
			if !ok {
				c.Problems = append(c.Problems, Problem{Line: s.Line, Column: s.Column, Message: fmt.Sprintf("defaults section %q named by \"from\" is not defined above", s.From)})
			}
			s.Defaults = d
		case s.Type != "defaults":
			s.Defaults = last
		}
		if s.Type == "defaults" {
			last = s
			if s.Name != "" {
				named[s.Name] = s
			}
		}
	}
}

// knownUnparsed are valid HAProxy keywords config-parser v5 has no parser
// for; lines starting with them are not reported as unknown.
var knownUnparsed = map[string]map[string]bool{
	"*": {"capture": true, "rate-limit": true},
}

// timeUnitArgs are cookie parameters HAProxy reads as times with units
// (maxidle 30m) while config-parser v5 wants bare integers.
var timeUnitArgs = map[string]bool{"maxidle": true, "maxlife": true}

// acceptedWithUnits re-checks a cookie line config-parser rejected with
// its time values converted to seconds; if that parses, only the units
// were the problem and HAProxy accepts the line.
func acceptedWithUnits(s *Section, d *Directive) bool {
	if d.Keyword != "cookie" {
		return false
	}
	words := append([]string{d.Keyword}, d.Args...)
	changed := false
	for i := 1; i+1 < len(words); i++ {
		if timeUnitArgs[words[i]] {
			v, err := ParseDuration(words[i+1])
			if err != nil {
				return false
			}
			if strings.TrimLeft(words[i+1], "0123456789") != "" {
				changed = true // it had a unit
			}
			words[i+1] = fmt.Sprint(int64(v / time.Second))
		}
	}
	if !changed {
		return false
	}
	p, err := newParser(checkText(map[string][]string{s.Type: {strings.Join(words, " ")}}))
	if err != nil {
		return false
	}
	_, err = p.Get(parser.Section(s.Type), checkName, "")
	return err != nil // no unprocessed lines
}

// closeToSection catches misspelt section keywords ("frontnd", "bakend").
func closeToSection(kw string) bool {
	for _, s := range []string{"global", "defaults", "frontend", "backend", "listen"} {
		if levenshtein.Distance(strings.ToLower(kw), s, nil) <= 2 {
			return true
		}
	}
	return false
}

// checkDuplicates reports proxies HAProxy would reject for sharing a
// name: backends and listens share one namespace, frontends and listens
// another.
func (c *Config) checkDuplicates() {
	seen := map[string]*Section{}
	for _, s := range c.Sections {
		if !s.IsProxy() || s.Name == "" {
			continue
		}
		var keys []string
		if s.HasBackend() {
			keys = append(keys, "backend "+s.Name)
		}
		if s.HasFrontend() {
			keys = append(keys, "frontend "+s.Name)
		}
		for _, k := range keys {
			if prev, dup := seen[k]; dup {
				c.Problems = append(c.Problems, Problem{Line: s.Line, Column: s.Column, Message: fmt.Sprintf("%s has the same name as %s on line %d", s.Label(), prev.Label(), prev.Line)})
				break
			}
			seen[k] = s
		}
	}
}

func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
}
