package verify_test

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/verify"
)

// recorder is a driver registered only in these tests: the loopback
// driver with every call through the seam written down. Verify reaches it
// by name, like any other driver.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(call string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
}

func (r *recorder) saw(prefix string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.calls {
		if strings.HasPrefix(c, prefix) {
			return true
		}
	}
	return false
}

var recorded = &recorder{}

func init() {
	driver.Register(&driver.Descriptor{
		Name:    "recorder-test",
		Summary: "the loopback driver, recording",
		Open: func(ctx context.Context, opts driver.Options) (driver.Env, error) {
			env, err := loopback.Open(ctx, opts)
			if err != nil {
				return nil, err
			}
			recorded.add("open")
			return &recEnv{Env: env}, nil
		},
	})
}

type recEnv struct{ driver.Env }

func (e *recEnv) StartBackends(ctx context.Context, spec driver.BackendSpec) (driver.Backends, error) {
	recorded.add("start backends " + strings.Join(spec.IDs, ","))
	b, err := e.Env.StartBackends(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &recBackends{Backends: b}, nil
}

func (e *recEnv) ListenAddrs(n int) ([]netip.AddrPort, error) {
	recorded.add("listen addrs")
	return e.Env.ListenAddrs(n)
}

func (e *recEnv) StartProxy(ctx context.Context, spec driver.ProxySpec) (driver.Proxy, error) {
	recorded.add("start proxy " + string(spec.Binary.Kind))
	p, err := e.Env.StartProxy(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &recProxy{Proxy: p}, nil
}

func (e *recEnv) Clients() driver.Clients {
	recorded.add("clients")
	return e.Env.Clients()
}

type recBackends struct{ driver.Backends }

func (b *recBackends) Stop(ctx context.Context, id string) error {
	recorded.add("stop " + id)
	return b.Backends.Stop(ctx, id)
}

func (b *recBackends) Start(ctx context.Context, id string) error {
	recorded.add("start " + id)
	return b.Backends.Start(ctx, id)
}

type recProxy struct{ driver.Proxy }

func (p *recProxy) Reload(ctx context.Context) error {
	recorded.add("reload")
	return p.Proxy.Reload(ctx)
}

// A driver is picked by name, and verify runs every scenario through it:
// backends, listen addresses, the proxy, client sources, a backend stopped
// and started, a reload.
func TestE2EDriverIsPickedByName(t *testing.T) {
	testutil.NeedProxy(t, proxybin.HAProxy)
	opts := small(proxybin.HAProxy)
	opts.Driver = "recorder-test"
	s, err := verify.VerifyTopology(context.Background(), loadText(t, "source.hcl", pool3("affinity {\n mode = \"source\"\n}")), opts)
	require.NoError(t, err)
	requireAllPassed(t, s)
	for _, call := range []string{"open", "start backends a,b,c", "listen addrs", "start proxy haproxy", "clients", "stop ", "start ", "reload"} {
		require.True(t, recorded.saw(call), "no %q among %v", call, recorded.calls)
	}

	opts.Driver = "warp"
	_, err = verify.VerifyTopology(context.Background(), loadText(t, "source.hcl", pool3("")), opts)
	require.ErrorContains(t, err, `unknown driver "warp": want `)
}
