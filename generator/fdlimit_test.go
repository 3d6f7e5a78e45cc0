package generator

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/topology"
)

var maxconnRE = regexp.MustCompile(`(?m)^    maxconn (\d+)$`)

func globalMaxConn(t *testing.T, cfg []byte) int {
	t.Helper()
	m := maxconnRE.FindSubmatch(cfg)
	require.NotNil(t, m, "no maxconn line")
	n, err := strconv.Atoi(string(m[1]))
	require.NoError(t, err)
	return n
}

var rlimitRE = regexp.MustCompile(`worker_rlimit_nofile (\d+);`)

// A derived budget is lowered to fit the descriptor limit; a written one
// is the user's choice and stays.
func TestMaxConnFitsTheDescriptorLimit(t *testing.T) {
	topo := baseTopology("fd", topology.Affinity{Mode: topology.AffinityNone, Consistent: true})
	topo.Limits = topology.Limits{MaxConns: topology.DefaultMaxConns}
	arts, err := Generate(topo, Options{FDLimit: 20000})
	require.NoError(t, err)
	n := globalMaxConn(t, arts[0].Bytes)
	require.Less(t, n, topology.DefaultMaxConns)
	require.LessOrEqual(t, 2*n+100, 20000, "HAProxy asks for 2×maxconn plus its own descriptors")
	require.Contains(t, string(arts[0].Bytes), "lowered to fit the hard descriptor limit (20000)")
	rl, err := strconv.Atoi(string(rlimitRE.FindSubmatch(arts[1].Bytes)[1]))
	require.NoError(t, err)
	require.LessOrEqual(t, rl, 20000)

	arts, err = Generate(topo, Options{FDLimit: 1 << 20})
	require.NoError(t, err)
	require.Equal(t, topology.DefaultMaxConns, globalMaxConn(t, arts[0].Bytes), "nothing to lower")

	topo.Limits.MaxConnsSet = true
	arts, err = Generate(topo, Options{FDLimit: 20000})
	require.NoError(t, err)
	require.Equal(t, topology.DefaultMaxConns, globalMaxConn(t, arts[0].Bytes))
	require.NotContains(t, string(arts[0].Bytes), "lowered")
}

// The real HAProxy starts with the budget generated for this machine's hard
// limit, with strict limits (a failure to raise the limit is fatal).
func TestDerivedMaxConnStartsOnThisMachine(t *testing.T) {
	testutil.NeedProxy(t, proxybin.HAProxy)
	var rl syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl))
	if rl.Max > 1<<20 {
		t.Skip("no hard descriptor limit to fit")
	}
	b := startBackend(t, "s1")
	port, err := loopback.FreePort()
	require.NoError(t, err)
	topo := cookieTopology(port, []*backend{b})
	topo.Limits = topology.Limits{MaxConns: topology.DefaultMaxConns}
	dir := t.TempDir()
	arts, err := Generate(topo, Options{Kinds: []proxybin.Kind{proxybin.HAProxy}, Runtime: &Runtime{Dir: dir}, FDLimit: int(rl.Max)})
	require.NoError(t, err)
	cfgText := bytes.Replace(arts[0].Bytes, []byte("    no strict-limits\n"), nil, 1)
	cfg := filepath.Join(dir, arts[0].Name)
	require.NoError(t, os.WriteFile(cfg, cfgText, 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	px, err := loopback.StartProxy(ctx, loopback.ProxyOptions{Kind: proxybin.HAProxy, Config: cfg, Dir: dir, ReadyAddr: "127.0.0.1:" + strconv.Itoa(port)})
	require.NoError(t, err, "maxconn %d with a hard limit of %d", globalMaxConn(t, cfgText), rl.Max)
	require.NoError(t, px.Close())
}

// affinity { mode = "none" } declares stateless servers: the configs say
// so to validate, which would otherwise ask for affinity where the loader
// is silent. A pool without an affinity block gets no such marker.
func TestDeclaredNoAffinitySilencesValidate(t *testing.T) {
	topo := baseTopology("none", topology.Affinity{Mode: topology.AffinityNone, Declared: true, Consistent: true})
	arts, err := Generate(topo, Options{})
	require.NoError(t, err)
	require.Contains(t, string(arts[0].Bytes), " # wslb:ignore WSLB204\n")
	require.Contains(t, string(arts[1].Bytes), "{ # wslb:ignore WSLB105\n")

	topo = baseTopology("none", topology.Affinity{Mode: topology.AffinityNone, Consistent: true})
	arts, err = Generate(topo, Options{})
	require.NoError(t, err)
	require.NotContains(t, string(arts[0].Bytes), "wslb:ignore")
	require.NotContains(t, string(arts[1].Bytes), "wslb:ignore")
}
