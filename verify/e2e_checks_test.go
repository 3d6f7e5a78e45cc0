package verify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/verify"
)

// coldChecks is the loopback driver whose proxy starts while every backend
// is stopped, and whose backends start again once the proxy has marked
// them down: what a loaded machine does when the proxy's first checks miss
// their connect timeout. HAProxy then takes each back only after rise
// good checks.
func init() {
	driver.Register(&driver.Descriptor{
		Name:    "cold-checks-test",
		Summary: "the loopback driver, its proxy's first checks failing",
		Open: func(ctx context.Context, opts driver.Options) (driver.Env, error) {
			env, err := loopback.Open(ctx, opts)
			if err != nil {
				return nil, err
			}
			return &coldEnv{Env: env}, nil
		},
	})
}

type coldEnv struct {
	driver.Env
	backends driver.Backends
}

func (e *coldEnv) StartBackends(ctx context.Context, spec driver.BackendSpec) (driver.Backends, error) {
	b, err := e.Env.StartBackends(ctx, spec)
	e.backends = b
	return b, err
}

func (e *coldEnv) StartProxy(ctx context.Context, spec driver.ProxySpec) (driver.Proxy, error) {
	ids := e.backends.IDs()
	for _, id := range ids {
		if err := e.backends.Stop(ctx, id); err != nil {
			return nil, err
		}
	}
	p, err := e.Env.StartProxy(ctx, spec)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		states, err := p.ServerStates(ctx)
		down := err == nil && len(states) == len(ids)
		for _, st := range states {
			down = down && !st.Up && !st.Pending
		}
		if down {
			break
		}
		if time.Now().After(deadline) {
			return nil, errors.Join(errors.New("the proxy never marked the stopped backends down"), err, p.Close())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, id := range ids {
		if err := e.backends.Start(ctx, id); err != nil {
			return nil, errors.Join(err, p.Close())
		}
	}
	return p, nil
}

// The first clients come once the proxy's health checks have settled:
// not one of them meets a proxy that has every server down still.
func TestE2EClientsWaitForTheFirstHealthChecks(t *testing.T) {
	testutil.NeedProxy(t, proxybin.HAProxy)
	opts := small(proxybin.HAProxy)
	opts.Driver = "cold-checks-test"
	// Twenty good checks bring a server back: a second at the fast
	// checks' interval, during which the proxy answers 503.
	src := strings.Replace(pool3("affinity {\n mode = \"source\"\n}"), "interval = \"1s\"", "interval = \"1s\"\n    rise = 20", 1)
	s, err := verify.VerifyTopology(context.Background(), loadText(t, "cold.hcl", src), opts)
	require.NoError(t, err)
	requireAllPassed(t, s)
}
