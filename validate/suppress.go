package validate

import (
	"regexp"
	"strings"

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

// newSuppressions reads the wslb:ignore comments among a config's
// comments; blocks are the spans a comment on their first line covers.
func newSuppressions(comments []rules.Comment, blocks []rules.Span) *suppressions {
	s := &suppressions{}
	for _, cm := range comments {
		if ig, ok := parseIgnore(cm.File, cm.Line, cm.Text, cm.Alone); ok {
			s.ignores = append(s.ignores, ig)
		}
	}
	for _, b := range blocks {
		s.blocks = append(s.blocks, span{file: b.File, start: b.Start, end: b.End})
	}
	return s
}
