package output

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/topology"
	"github.com/wslb/wslb/validate"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const goldenDir = "../../testdata/validate/golden"

// goldenResult lints the golden inputs under stable names.
func goldenResult(t *testing.T) validate.Result {
	t.Helper()
	var srcs []validate.Source
	for _, name := range []string{"haproxy.cfg", "nginx.conf"} {
		b, err := os.ReadFile(filepath.Join(goldenDir, name))
		require.NoError(t, err)
		srcs = append(srcs, validate.Source{Name: "deploy/" + name, Bytes: b})
	}
	opts := validate.Options{}
	opts.SetVersion(proxybin.Nginx, topology.Version{Major: 1, Minor: 22, Patch: 1})
	res, err := validate.Lint(context.Background(), srcs, opts)
	require.NoError(t, err)
	require.NotEmpty(t, res.Findings)
	res.Notes = []string{"an example note"}
	return res
}

func render(t *testing.T, format string, opts Options) []byte {
	t.Helper()
	p, err := New(format, opts)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, p.Print(&buf, goldenResult(t)))
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	cases := map[string]Options{
		"text":       {},
		"text-color": {Color: true},
		"json":       {},
		"sarif":      {ToolVersion: "1.0.0-test"},
		"github":     {},
		"checkstyle": {},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			format := strings.TrimSuffix(name, "-color")
			got := render(t, format, opts)
			path := filepath.Join(goldenDir, name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./validate/output -update")
			require.Equal(t, string(want), string(got))
		})
	}
}

func TestTextColourOnlyWhenAsked(t *testing.T) {
	require.NotContains(t, string(render(t, "text", Options{})), "\x1b[")
	require.Contains(t, string(render(t, "text", Options{Color: true})), "\x1b[")
}

func TestJSONShape(t *testing.T) {
	var doc map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(render(t, "json", Options{}), &doc))
	require.Contains(t, doc, "findings")
	require.Contains(t, doc, "summary")
	var findings []map[string]any
	require.NoError(t, json.Unmarshal(doc["findings"], &findings))
	require.NotEmpty(t, findings)
	for _, f := range findings {
		keys := make([]string, 0, len(f))
		for k := range f {
			keys = append(keys, k)
		}
		require.ElementsMatch(t, []string{"rule", "severity", "file", "line", "column", "message", "fix"}, keys)
		require.Regexp(t, `^WSLB\d{3}$`, f["rule"])
		require.Contains(t, []any{"error", "warning", "info"}, f["severity"])
	}
	var sum validate.Summary
	require.NoError(t, json.Unmarshal(doc["summary"], &sum))
	require.Equal(t, len(findings), sum.Total)
	require.Equal(t, sum.Total, sum.Errors+sum.Warnings+sum.Infos)
}

func TestGitHubAnnotations(t *testing.T) {
	out := string(render(t, "github", Options{}))
	lineRe := regexp.MustCompile(`^::(error|warning|notice) file=[^,]+,line=\d+(,col=\d+)?,title=WSLB\d{3}::[^\n]+$`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.NotEmpty(t, lines)
	for _, l := range lines {
		require.Regexp(t, lineRe, l)
	}
}

func TestCheckstyleParses(t *testing.T) {
	var rep csReport
	require.NoError(t, xml.Unmarshal(render(t, "checkstyle", Options{}), &rep))
	require.Len(t, rep.Files, 2)
	for _, f := range rep.Files {
		require.NotEmpty(t, f.Errors)
		for _, e := range f.Errors {
			require.Positive(t, e.Line)
			require.True(t, strings.HasPrefix(e.Source, "wslb.WSLB"))
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	_, err := New("yaml", Options{})
	require.ErrorContains(t, err, "unknown format")
}

// Text quoted from a config must not reach the terminal as control
// sequences.
func TestTextEscapesControlCharacters(t *testing.T) {
	p, err := New("text", Options{})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, p.Print(&buf, validate.Result{Findings: []validate.Finding{{
		Rule: "WSLB001", Severity: validate.Error, File: "x\x1b[2J.cfg", Line: 1,
		Message: "unknown keyword \x1b]0;owned\x07", Fix: "remove \r it",
	}}}))
	out := buf.String()
	require.NotContains(t, out, "\x1b")
	require.NotContains(t, out, "\x07")
	require.NotContains(t, out, "\r")
	require.Contains(t, out, "unknown keyword ?]0;owned?")
}
