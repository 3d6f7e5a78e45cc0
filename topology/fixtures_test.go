package topology_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/topology"
)

// expectation is one `# ERROR: summary` or `# WARNING: summary` marker.
type expectation struct {
	line     int
	severity hcl.DiagnosticSeverity
	summary  string
}

func (e expectation) String() string {
	sev := "ERROR"
	if e.severity == hcl.DiagWarning {
		sev = "WARNING"
	}
	return fmt.Sprintf("line %d: %s: %s", e.line, sev, e.summary)
}

var markerRE = regexp.MustCompile(`(ERROR|WARNING): ([^|]+)`)

// readExpectations collects the markers of a fixture. A line may carry
// several, separated by " | ".
func readExpectations(t *testing.T, src []byte) []expectation {
	t.Helper()
	var out []expectation
	for i, line := range strings.Split(string(src), "\n") {
		hash := strings.LastIndex(line, "# ERROR: ")
		if w := strings.LastIndex(line, "# WARNING: "); w > hash {
			hash = w
		}
		if hash < 0 {
			continue
		}
		// The first marker of the line starts the marker list.
		if first := strings.Index(line, "# ERROR: "); first >= 0 && first < hash {
			hash = first
		}
		if first := strings.Index(line, "# WARNING: "); first >= 0 && first < hash {
			hash = first
		}
		for _, m := range markerRE.FindAllStringSubmatch(line[hash:], -1) {
			sev := hcl.DiagError
			if m[1] == "WARNING" {
				sev = hcl.DiagWarning
			}
			out = append(out, expectation{line: i + 1, severity: sev, summary: strings.TrimSpace(m[2])})
		}
	}
	return out
}

// Every fixture under testdata/invalid produces exactly the diagnostics its
// markers announce, on the marked lines.
func TestInvalidFixtures(t *testing.T) {
	files, err := filepath.Glob("../testdata/invalid/*.hcl")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 15)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(f)
			require.NoError(t, err)
			want := readExpectations(t, src)
			require.NotEmpty(t, want, "fixture has no # ERROR: markers")

			l := topology.NewLoader()
			topo, diags := l.LoadFile(f)
			hasError := false
			for _, e := range want {
				hasError = hasError || e.severity == hcl.DiagError
			}
			if hasError {
				require.Nil(t, topo, "a topology with errors must not be returned")
			}

			var unexpected []string
			remaining := append([]expectation(nil), want...)
			for _, d := range diags {
				require.NotNil(t, d.Subject, "diagnostic %q has no source range", d.Summary)
				require.Equal(t, f, d.Subject.Filename)
				found := -1
				for i, e := range remaining {
					if e.line == d.Subject.Start.Line && e.severity == d.Severity && strings.Contains(d.Summary, e.summary) {
						found = i
						break
					}
				}
				if found < 0 {
					unexpected = append(unexpected, fmt.Sprintf("line %d: %s (%s)", d.Subject.Start.Line, d.Summary, d.Detail))
					continue
				}
				remaining = append(remaining[:found], remaining[found+1:]...)
			}
			require.Empty(t, unexpected, "diagnostics without a marker")
			require.Empty(t, remaining, "markers without a diagnostic")

			// The rendered form names file and line and shows the line.
			var buf bytes.Buffer
			require.NoError(t, l.WriteDiagnostics(&buf, diags, 0, false))
			first := diags[0]
			require.Contains(t, buf.String(), fmt.Sprintf("%s:%d:%d: ", f, first.Subject.Start.Line, first.Subject.Start.Column))
		})
	}
}
