package validate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/topology"
	"github.com/wslb/wslb/validate/rules"
)

// Rule fixtures live in testdata/rules/WSLBNNN/{fire,pass}*.{cfg,conf}.
// A fire fixture marks every line where the rule must fire with a
// "# want WSLBNNN" comment; the rule must fire on exactly those lines,
// and so must any other rule a "# want" names. A pass fixture must not
// trigger the rule. A "# wslb-test:" line sets options: --nginx-version V,
// --haproxy-version V, --min-idle-timeout D, --websocket all, --exec.
const rulesDir = "../testdata/rules"

var (
	wantRe     = regexp.MustCompile(`#\s*want\s+((?:WSLB\d{3}[ ,]*)+)`)
	testOptsRe = regexp.MustCompile(`#\s*wslb-test:(.*)`)
)

type fixture struct {
	path  string
	rule  string
	fire  bool
	wants map[string][]int // rule → lines
	opts  Options
}

func loadFixture(t *testing.T, rule, path string) fixture {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	fx := fixture{path: path, rule: rule, fire: strings.HasPrefix(filepath.Base(path), "fire"), wants: map[string][]int{}}
	for i, line := range strings.Split(string(data), "\n") {
		if m := wantRe.FindStringSubmatch(line); m != nil {
			for _, id := range ruleIDRe.FindAllString(m[1], -1) {
				fx.wants[id] = append(fx.wants[id], i+1)
			}
		}
		if m := testOptsRe.FindStringSubmatch(line); m != nil {
			fx.opts = parseTestOptions(t, path, m[1])
		}
	}
	return fx
}

// parseTestOptions reads the options of a "# wslb-test:" line.
func parseTestOptions(t *testing.T, path, line string) Options {
	t.Helper()
	var opts Options
	f := strings.Fields(line)
	for j := 0; j < len(f); j++ {
		switch f[j] {
		case "--nginx-version", "--haproxy-version":
			j++
			require.Less(t, j, len(f), "%s: %s needs a value", path, f[j-1])
			v, err := topology.ParseVersion(f[j])
			require.NoError(t, err)
			opts.SetVersion(proxybin.Kind(strings.TrimSuffix(strings.TrimPrefix(f[j-1], "--"), "-version")), v)
		case "--min-idle-timeout":
			j++
			require.Less(t, j, len(f), "%s: --min-idle-timeout needs a value", path)
			d, err := time.ParseDuration(f[j])
			require.NoError(t, err)
			opts.MinIdleTimeout = d
		case "--websocket":
			j++
			require.Less(t, j, len(f), "%s: --websocket needs a value", path)
			opts.WebSocketAll = f[j] == "all"
		case "--exec":
			opts.Exec = true
		default:
			t.Fatalf("%s: unknown wslb-test option %q", path, f[j])
		}
	}
	return opts
}

func fixturePaths(t *testing.T, rule string) []string {
	t.Helper()
	var out []string
	for _, pat := range []string{"fire*", "pass*"} {
		m, err := filepath.Glob(filepath.Join(rulesDir, rule, pat))
		require.NoError(t, err)
		out = append(out, m...)
	}
	sort.Strings(out)
	return out
}

func TestRuleFixtures(t *testing.T) {
	for _, r := range rules.All() {
		for _, path := range fixturePaths(t, r.ID) {
			t.Run(r.ID+"/"+filepath.Base(path), func(t *testing.T) {
				t.Parallel()
				fx := loadFixture(t, r.ID, path)
				if !fx.opts.Exec {
					checkFixture(t, r.ID, path, fx, fx.opts)
					return
				}
				// --exec fixtures hold on every supported version.
				kind, _ := Detect(path, nil)
				testutil.EachVersionOf(t, kind, func(t *testing.T, bin proxybin.Binary) {
					opts := fx.opts
					opts.Binaries = func(Kind) (proxybin.Binary, error) { return bin, nil }
					checkFixture(t, r.ID, path, fx, opts)
				})
			})
		}
	}
}

func checkFixture(t *testing.T, id, path string, fx fixture, opts Options) {
	t.Helper()
	res, err := Lint(context.Background(), []Source{{Name: path}}, opts)
	require.NoError(t, err)
	got := map[string][]int{}
	for _, f := range res.Findings {
		if f.File == path {
			got[f.Rule] = append(got[f.Rule], f.Line)
		}
	}
	if fx.fire {
		require.NotEmpty(t, fx.wants[id], "fire fixture %s marks no line with '# want %s'", path, id)
	} else {
		require.Empty(t, got[id], "%s fired on pass fixture %s\nfindings: %s", id, path, describe(res))
	}
	// Every rule a "# want" names fires on exactly its lines,
	// the fixture's own and any other it names.
	for rule, lines := range fx.wants {
		require.Equal(t, uniq(lines), uniq(got[rule]), "lines where %s fired in %s\nfindings: %s", rule, path, describe(res))
	}
}

func uniq(xs []int) []int {
	m := map[int]bool{}
	var out []int
	for _, x := range xs {
		if !m[x] {
			m[x] = true
			out = append(out, x)
		}
	}
	sort.Ints(out)
	return out
}

func describe(r Result) string {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "\n  %s:%d %s %s", f.File, f.Line, f.Rule, f.Message)
	}
	return b.String()
}

// The built-in kinds, as tests name them.
const (
	HAProxy = proxybin.HAProxy
	Nginx   = proxybin.Nginx
)
