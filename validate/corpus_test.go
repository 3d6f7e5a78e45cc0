package validate

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The corpus (testdata/corpus/) holds configs written in the style of
// well-known public examples, each naming its source style in a header
// comment. Next to each entry, ENTRY.labels labels findings:
//
//	file:line RULE expected           -- why it is right
//	file:line RULE must-not-fire      -- why firing there would be wrong
//	file:line RULE known-miss         -- right, but the rule does not fire yet
//	file:line RULE known-false-alarm  -- wrong, but the rule fires there yet
//	# wslb-test: --nginx-version 1.22.1
//
// Every finding must carry a label. TestCorpusPrecision counts, per rule,
// findings that should fire and do (true positives), ones that do not
// (misses) and must-not-fire ones that fire (false alarms), prints
// precision and recall, and fails below the floors. The floors bound the
// known gaps; any other difference from the labels (an expected finding
// gone, a fixed false alarm back, a known gap closed without relabelling)
// fails at once.
const corpusDir = "../testdata/corpus"

// Floors: a rule that speaks must be right (precision), and the corpus'
// known problems must be found (recall). Per rule and over all rules.
const (
	minRulePrecision = 0.9
	minRuleRecall    = 0.75
	minPrecision     = 0.97
	minRecall        = 0.9
)

type label struct {
	key  string // file:line RULE
	kind string // expected, must-not-fire, known-miss or known-false-alarm
	note string
}

func loadLabels(t *testing.T, path string) ([]label, Options) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err, "every corpus entry needs its labels in %s", path)
	defer f.Close()
	var out []label
	var opts Options
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if m := testOptsRe.FindStringSubmatch(line); m != nil {
			opts = parseTestOptions(t, path, m[1])
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		text, note, _ := strings.Cut(line, "--")
		f := strings.Fields(text)
		require.Len(t, f, 3, "%s:%d: want 'file:line RULE expected|must-not-fire|known-miss|known-false-alarm -- note'", path, n)
		require.Contains(t, []string{"expected", "must-not-fire", "known-miss", "known-false-alarm"}, f[2], "%s:%d", path, n)
		require.NotEmpty(t, strings.TrimSpace(note), "%s:%d: say why", path, n)
		out = append(out, label{key: f[0] + " " + f[1], kind: f[2], note: strings.TrimSpace(note)})
	}
	require.NoError(t, sc.Err())
	return out, opts
}

// corpusLines maps each file of a corpus entry (a file or a directory),
// by base name as labels and findings name it, to its number of lines.
func corpusLines(t *testing.T, entry string) map[string]int {
	t.Helper()
	out := map[string]int{}
	err := filepath.WalkDir(entry, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, dup := out[d.Name()]
		require.False(t, dup, "%s: two files named %s: labels could not tell them apart", entry, d.Name())
		out[d.Name()] = strings.Count(string(data), "\n") + 1
		return nil
	})
	require.NoError(t, err)
	return out
}

func firedWord(fired bool) string {
	if fired {
		return "fires"
	}
	return "stays silent"
}

type score struct{ tp, fn, fp, tn int }

func (s score) precision() float64 {
	if s.tp+s.fp == 0 {
		return 1
	}
	return float64(s.tp) / float64(s.tp+s.fp)
}

func (s score) recall() float64 {
	if s.tp+s.fn == 0 {
		return 1
	}
	return float64(s.tp) / float64(s.tp+s.fn)
}

// TestCorpusPrecision is the precision benchmark; run it with -v to see
// the table: go test ./validate -run TestCorpusPrecision -v
func TestCorpusPrecision(t *testing.T) {
	entries, err := os.ReadDir(corpusDir)
	require.NoError(t, err)
	scores := map[string]*score{}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".labels") {
			continue
		}
		names = append(names, e.Name())
	}
	require.NotEmpty(t, names)
	for _, name := range names {
		labels, opts := loadLabels(t, filepath.Join(corpusDir, name+".labels"))
		srcs, err := Collect([]string{filepath.Join(corpusDir, name)})
		require.NoError(t, err)
		// Corpus configs include the distribution's files
		// (/etc/nginx/mime.types), as `--include-root /etc/nginx` allows.
		opts.Roots = []string{filepath.Join(corpusDir, name), "/etc/nginx"}
		res, err := Lint(context.Background(), srcs, opts)
		require.NoError(t, err)
		fired := map[string]bool{}
		for _, f := range res.Findings {
			fired[fmt.Sprintf("%s:%d %s", filepath.Base(f.File), f.Line, f.Rule)] = true
		}
		lines := corpusLines(t, filepath.Join(corpusDir, name))
		byKey := map[string]label{}
		for _, l := range labels {
			_, dup := byKey[l.key]
			require.False(t, dup, "%s.labels: %s labelled twice", name, l.key)
			byKey[l.key] = l
			// A label on a line that does not exist would count as held
			// (or missed) whatever the rules do.
			file, line, _ := strings.Cut(strings.Fields(l.key)[0], ":")
			n, err := strconv.Atoi(line)
			require.True(t, err == nil && n >= 1 && n <= lines[file], "%s.labels: %s names no line of %s", name, l.key, name)
		}
		for k := range fired {
			_, ok := byKey[k]
			require.True(t, ok, "%s: finding %s has no label in %s.labels%s", name, k, name, describe(res))
		}
		for _, l := range labels {
			rule := strings.Fields(l.key)[1]
			if scores[rule] == nil {
				scores[rule] = &score{}
			}
			s := scores[rule]
			expect := l.kind == "expected" || l.kind == "known-miss"
			switch {
			case expect && fired[l.key]:
				s.tp++
			case expect:
				s.fn++
				t.Logf("miss: %s/%s (%s)", name, l.key, l.note)
			case fired[l.key]:
				s.fp++
				t.Logf("false alarm: %s/%s (%s)", name, l.key, l.note)
			default:
				s.tn++
			}
			// The floors leave room for the known gaps only: a label
			// that no longer describes what the rule does fails.
			switch known := strings.HasPrefix(l.kind, "known-"); {
			case !known && expect != fired[l.key]:
				t.Errorf("%s/%s is labelled %s but the rule %s (%s)", name, l.key, l.kind, firedWord(fired[l.key]), l.note)
			case known && expect == fired[l.key]:
				t.Errorf("%s/%s is labelled %s but the rule %s now: label it %s", name, l.key, l.kind, firedWord(fired[l.key]), map[bool]string{true: "expected", false: "must-not-fire"}[expect])
			}
		}
	}
	var rules []string
	for r := range scores {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	var total score
	var table strings.Builder
	// tp: expected and fired; fn: expected, silent; fp: must-not-fire
	// but fired; held: must-not-fire and silent.
	fmt.Fprintf(&table, "\n%-8s %4s %4s %4s %4s %9s %7s\n", "rule", "tp", "fn", "fp", "held", "precision", "recall")
	for _, r := range rules {
		s := scores[r]
		total.tp, total.fn, total.fp, total.tn = total.tp+s.tp, total.fn+s.fn, total.fp+s.fp, total.tn+s.tn
		fmt.Fprintf(&table, "%-8s %4d %4d %4d %4d %9.2f %7.2f\n", r, s.tp, s.fn, s.fp, s.tn, s.precision(), s.recall())
	}
	fmt.Fprintf(&table, "%-8s %4d %4d %4d %4d %9.2f %7.2f\n", "all", total.tp, total.fn, total.fp, total.tn, total.precision(), total.recall())
	t.Log(table.String())
	for _, r := range rules {
		s := scores[r]
		require.GreaterOrEqual(t, s.precision(), minRulePrecision, "%s precision", r)
		require.GreaterOrEqual(t, s.recall(), minRuleRecall, "%s recall", r)
	}
	require.GreaterOrEqual(t, total.precision(), minPrecision, "overall precision")
	require.GreaterOrEqual(t, total.recall(), minRecall, "overall recall")
}
