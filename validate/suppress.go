package validate

import (
	"regexp"
	"strings"

	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/rules"
)

// ignoreRe reads "wslb:ignore WSLB104,WSLB105" and "wslb:ignore-file ...";
// without IDs every rule is ignored.
var (
	ignoreRe = regexp.MustCompile(`wslb:ignore(-file)?\b(.*)`)
	ruleIDRe = regexp.MustCompile(`(?i)WSLB\d{3}`)
)

// span is a block's line range in one file.
type span struct {
	file       string
	start, end int
}

// ignore is one suppression comment.
type ignore struct {
	file  string
	line  int
	alone bool // the comment is the only thing on its line
	whole bool // wslb:ignore-file
	ids   map[string]bool
}

func (ig ignore) matches(rule string) bool { return len(ig.ids) == 0 || ig.ids[rule] }

// suppressions decides whether a finding is silenced by a comment on its
// line, on the line above (a comment-only line), on the opening line of a
// block that contains it, or by wslb:ignore-file.
type suppressions struct {
	ignores []ignore
	blocks  []span
}

func parseIgnore(file string, line int, text string, alone bool) (ignore, bool) {
	m := ignoreRe.FindStringSubmatch(text)
	if m == nil {
		return ignore{}, false
	}
	ig := ignore{file: file, line: line, alone: alone, whole: m[1] != "", ids: map[string]bool{}}
	for _, id := range ruleIDRe.FindAllString(m[2], -1) {
		ig.ids[strings.ToUpper(id)] = true
	}
	return ig, true
}

func (s *suppressions) covers(f Finding) bool {
	if s == nil {
		return false
	}
	for _, ig := range s.ignores {
		if ig.file != f.File || !ig.matches(f.Rule) {
			continue
		}
		if ig.whole || ig.line == f.Line || (ig.alone && ig.line == f.Line-1) {
			return true
		}
		for _, b := range s.blocks {
			if b.file == f.File && b.start == ig.line && f.Line >= b.start && f.Line <= b.end {
				return true
			}
		}
	}
	return false
}

func haproxySuppressions(c *haproxy.Config) *suppressions {
	s := &suppressions{}
	for _, cm := range c.Comments {
		if ig, ok := parseIgnore(c.File, cm.Line, cm.Text, cm.Alone); ok {
			s.ignores = append(s.ignores, ig)
		}
	}
	for _, sec := range c.Sections {
		s.blocks = append(s.blocks, span{file: c.File, start: sec.Line, end: sec.EndLine})
	}
	return s
}

func nginxSuppressions(c *nginx.Config) *suppressions {
	s := &suppressions{}
	directiveLines := map[span]bool{}
	c.Walk(func(n *nginx.Node) {
		directiveLines[span{file: n.File, start: n.Line}] = true
		if n.Children != nil || n.EndLine > 0 {
			s.blocks = append(s.blocks, span{file: n.File, start: n.Line, end: n.EndLine})
		}
	})
	for _, cm := range c.Comments {
		alone := !directiveLines[span{file: cm.File, start: cm.Line}]
		if ig, ok := parseIgnore(cm.File, cm.Line, cm.Text, alone); ok {
			s.ignores = append(s.ignores, ig)
		}
	}
	return s
}

// textSuppressions reads the "#" comments of a config validate has no
// parser for (Istio's YAML): on a finding's line, on a comment-only line
// above it, on the first line of one of the file's blocks, or
// wslb:ignore-file.
func textSuppressions(file string, text []byte, blocks []rules.Block) *suppressions {
	s := &suppressions{}
	for i, line := range strings.Split(string(text), "\n") {
		c := strings.IndexByte(line, '#')
		if c < 0 {
			continue
		}
		if ig, ok := parseIgnore(file, i+1, line[c:], strings.TrimSpace(line[:c]) == ""); ok {
			s.ignores = append(s.ignores, ig)
		}
	}
	for _, b := range blocks {
		s.blocks = append(s.blocks, span{file: file, start: b.Start, end: b.End})
	}
	return s
}
