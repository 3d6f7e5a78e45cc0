package validate

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/validate/rules"
)

// The rule registry (validate/rules) is the one source of each rule's
// title, slug, severity and proxy: the catalog table in docs/rules/README.md
// and the header of every rule page are generated from it.
var update = flag.Bool("update", false, "rewrite docs/rules/README.md's table and the rule pages' headers from the rule registry")

const catalogPath = "../docs/rules/README.md"

// catalogHead opens the catalog table in docs/rules/README.md; a blank
// line ends it.
const catalogHead = "| Rule | Severity | Slug | Checks |\n|---|---|---|---|\n"

// catalogTable renders the catalog table from the registry.
func catalogTable() string {
	var b strings.Builder
	b.WriteString(catalogHead)
	for _, r := range rules.All() {
		b.WriteString(catalogRow(r))
	}
	return b.String()
}

func catalogRow(r *rules.Rule) string {
	return fmt.Sprintf("| [%s](%s.md) | %s | `%s` | %s |\n", r.ID, r.ID, r.Severity, r.Slug, r.Title)
}

// pageHeader is how a rule's page starts: what the code registers.
func pageHeader(t *testing.T, r *rules.Rule) string {
	applies := map[string]string{"": "HAProxy and NGINX", "nginx": "NGINX", "haproxy": "HAProxy", "istio": "Istio and Gateway API YAML"}[r.Proxy]
	require.NotEmpty(t, applies, "%s: unknown Proxy %q", r.ID, r.Proxy)
	return fmt.Sprintf("# %s: %s\n\nSlug: `%s` · Severity: %s · Applies to: %s\n", r.ID, r.Title, r.Slug, r.Severity, applies)
}

// TestRuleCatalogIsTheRegistry: the catalog table lists exactly the
// registered rules, in ID order, as the registry describes them; a row
// for a rule that is gone fails too. -update rewrites it.
func TestRuleCatalogIsTheRegistry(t *testing.T) {
	b, err := os.ReadFile(catalogPath)
	require.NoError(t, err, "docs/rules/README.md lists the catalog")
	text := string(b)
	start := strings.Index(text, catalogHead)
	require.GreaterOrEqual(t, start, 0, "docs/rules/README.md has no table opening with\n%s", catalogHead)
	end := strings.Index(text[start:], "\n\n")
	require.GreaterOrEqual(t, end, 0, "the catalog table must end with a blank line")
	end += start + 1
	want := catalogTable()
	if *update && text[start:end] != want {
		require.NoError(t, os.WriteFile(catalogPath, []byte(text[:start]+want+text[end:]), 0o644))
		return
	}
	require.Equal(t, want, text[start:end], "docs/rules/README.md's table is generated from the rule registry: run go test ./validate -run TestRuleCatalogIsTheRegistry -update")
}

// TestEveryRuleHasDocsAndFixtures keeps the catalog honest: a rule
// without its page, a firing fixture or a non-firing fixture fails.
func TestEveryRuleHasDocsAndFixtures(t *testing.T) {
	index, err := os.ReadFile(catalogPath)
	require.NoError(t, err, "docs/rules/README.md lists the catalog")
	for _, r := range rules.All() {
		t.Run(r.ID, func(t *testing.T) {
			require.Regexp(t, `^WSLB\d{3}$`, r.ID)
			require.Regexp(t, `^[a-z0-9-]+$`, r.Slug)
			require.NotZero(t, r.Severity)
			require.NotEmpty(t, r.Title)
			require.NotEmpty(t, r.Rationale)
			require.NotEmpty(t, r.Fix)

			page, err := os.ReadFile(filepath.Join("..", r.DocPath()))
			require.NoError(t, err, "rule %s needs its page %s", r.ID, r.DocPath())
			text := string(page)
			header := pageHeader(t, r)
			if *update && !strings.HasPrefix(text, header) {
				// The header runs to the end of the "Slug: ..." line.
				slug := strings.Index(text, "\nSlug: ")
				require.GreaterOrEqual(t, slug, 0, "%s has no Slug line to replace", r.DocPath())
				rest := text[slug+1:]
				text = header + rest[strings.IndexByte(rest, '\n')+1:]
				require.NoError(t, os.WriteFile(filepath.Join("..", r.DocPath()), []byte(text), 0o644))
			}
			require.True(t, strings.HasPrefix(text, "# "+r.ID), "%s must start with '# %s'", r.DocPath(), r.ID)
			for _, heading := range []string{"## What", "## Why", "## Fix", "## Suppress"} {
				require.Contains(t, text, heading, "%s lacks a %q section", r.DocPath(), heading)
			}
			require.Contains(t, text, "Before", "%s needs a before/after snippet", r.DocPath())
			require.Contains(t, text, "After", "%s needs a before/after snippet", r.DocPath())
			// The page's header and the catalog's row say what the code
			// registers: title, slug, severity and proxy.
			require.True(t, strings.HasPrefix(text, header), "%s must start with\n%s(go test ./validate -update writes it)", r.DocPath(), header)
			row := catalogRow(r)
			require.True(t, *update || strings.Contains(string(index), row), "docs/rules/README.md should list %s as\n%s(go test ./validate -update writes it)", r.ID, row)

			fire, err := filepath.Glob(filepath.Join(rulesDir, r.ID, "fire*"))
			require.NoError(t, err)
			require.NotEmpty(t, fire, "rule %s needs a firing fixture testdata/rules/%s/fire*", r.ID, r.ID)
			pass, err := filepath.Glob(filepath.Join(rulesDir, r.ID, "pass*"))
			require.NoError(t, err)
			require.NotEmpty(t, pass, "rule %s needs a non-firing fixture testdata/rules/%s/pass*", r.ID, r.ID)
		})
	}
}

// TestRuleIDsAreStable pins the catalog: IDs are never renumbered or
// reused, so removing or renaming one must be a conscious change here.
func TestRuleIDsAreStable(t *testing.T) {
	want := map[string]string{
		"WSLB001": "parse-error",
		"WSLB002": "binary-rejects-config",
		"WSLB003": "unrendered-template",
		"WSLB101": "nginx-upgrade-headers-not-forwarded",
		"WSLB102": "nginx-http10-upstream",
		"WSLB103": "nginx-hardcoded-connection-upgrade",
		"WSLB104": "nginx-websocket-read-timeout",
		"WSLB105": "nginx-websocket-upstream-no-affinity",
		"WSLB106": "nginx-worker-connections-low",
		"WSLB107": "nginx-no-worker-shutdown-timeout",
		"WSLB108": "nginx-ip-hash-ipv4-24",
		"WSLB109": "nginx-hash-not-consistent",
		"WSLB110": "nginx-sticky-unsupported",
		"WSLB111": "nginx-rlimit-nofile-low",
		"WSLB112": "nginx-directive-not-in-version",
		"WSLB113": "nginx-long-poll-timeout-short",
		"WSLB114": "nginx-duplicate-listen",
		"WSLB116": "nginx-connection-upgrade-map-broken",
		"WSLB117": "nginx-connection-upgrade-map-no-empty-case",
		"WSLB118": "nginx-proxy-pass-host-resolved-once",
		"WSLB119": "nginx-add-header-drops-inherited",
		"WSLB120": "nginx-poll-transport-timeout-short",
		"WSLB140": "nginx-affinity-on-handshake-header",
		"WSLB150": "nginx-runs-code",
		"WSLB201": "haproxy-no-timeout-tunnel",
		"WSLB202": "haproxy-http-fetch-in-tcp-mode",
		"WSLB203": "haproxy-hash-not-consistent",
		"WSLB204": "haproxy-websocket-backend-no-affinity",
		"WSLB205": "haproxy-missing-timeouts",
		"WSLB206": "haproxy-unknown-backend",
		"WSLB207": "haproxy-cookie-insert-without-nocache",
		"WSLB208": "haproxy-no-hard-stop-after",
		"WSLB209": "haproxy-no-timeout-client-fin",
		"WSLB210": "haproxy-httpclose-on-websocket",
		"WSLB211": "haproxy-balance-source-without-real-ip",
		"WSLB212": "haproxy-cookie-without-server-values",
		"WSLB213": "haproxy-timeout-tunnel-short",
		"WSLB214": "haproxy-http-frontend-tcp-backend",
		"WSLB215": "haproxy-keyword-not-in-version",
		"WSLB216": "haproxy-server-without-address",
		"WSLB217": "haproxy-long-poll-timeout-short",
		"WSLB218": "haproxy-cookie-affinity-broken",
		"WSLB219": "haproxy-variable-never-set",
		"WSLB220": "haproxy-no-default-backend",
		"WSLB221": "haproxy-websocket-acl-on-host",
		"WSLB222": "haproxy-duplicate-bind",
		"WSLB223": "haproxy-timeout-absurd",
		"WSLB224": "haproxy-poll-transport-timeout-short",
		"WSLB240": "haproxy-affinity-on-handshake-header",
		"WSLB250": "haproxy-runs-code",
		"WSLB300": "istio-websocket-route-timeout",
		"WSLB301": "istio-http-cookie-without-ttl",
		"WSLB302": "istio-source-ip-hash",
		"WSLB303": "istio-polling-route-no-consistent-hash",
		"WSLB304": "istio-websocket-idle-timeout",
		"WSLB305": "istio-outlier-ejects-whole-pool",
		"WSLB306": "istio-destination-rule-unused",
		"WSLB307": "istio-undefined-subset",
	}
	got := map[string]string{}
	for _, r := range rules.All() {
		got[r.ID] = r.Slug
	}
	require.Equal(t, want, got)
}
