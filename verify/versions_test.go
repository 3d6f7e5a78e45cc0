package verify_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/verify"
)

// targeting is pool3 with cookie affinity and a target block naming the
// given versions.
func targeting(haproxy, nginx string) string {
	return fmt.Sprintf("target {\n  haproxy = %q\n  nginx = %q\n}\n", haproxy, nginx) +
		pool3("affinity {\n mode = \"cookie\"\n cookie = \"SRV\"\n}")
}

// TestE2EEveryVersion verifies a cookie-affinity topology on every
// supported version of each proxy, picked by the topology's target: every
// scenario passes, on the version targeted.
func TestE2EEveryVersion(t *testing.T) {
	testutil.EachProxyVersion(t, func(t *testing.T, bin proxybin.Binary) {
		v := fmt.Sprintf("%d.%d", bin.Version.Major, bin.Version.Minor)
		haproxy, nginx := "2.4", "1.18"
		if bin.Kind == proxybin.HAProxy {
			haproxy = v
		} else {
			nginx = v
		}
		topo := loadText(t, "versions.hcl", targeting(haproxy, nginx))
		opts := small(bin.Kind)
		s, err := verify.VerifyTopology(context.Background(), topo, opts)
		require.NoError(t, err)
		requireAllPassed(t, s)
		for _, r := range s.Runs {
			require.True(t, strings.HasPrefix(r.ProxyVersion, v+"."), "%s ran on %s, not the targeted %s", r.Proxy, r.ProxyVersion, v)
		}
	})
}

// NGINX 1.29.6 brought `sticky cookie` to the open-source release: a
// topology targeting it gets sticky instead of the map-based pinning, and
// that config holds its promises on the real 1.30, the release verify
// picks for that target.
func TestE2ENginxStickyCookie(t *testing.T) {
	bin := testutil.NeedProxyVersion(t, proxybin.Nginx, "1.30")
	t.Parallel()
	topo := loadText(t, "sticky.hcl", targeting("2.4", "1.29.6"))
	arts, err := generator.Generate(topo, generator.Options{Kinds: []proxybin.Kind{proxybin.Nginx}})
	require.NoError(t, err)
	require.Contains(t, string(arts[0].Bytes), "sticky cookie SRV", "the target enables sticky")

	s, err := verify.VerifyTopology(context.Background(), topo, small(proxybin.Nginx))
	require.NoError(t, err)
	requireAllPassed(t, s)
	require.Equal(t, bin.Version.String(), s.Runs[0].ProxyVersion)
}
