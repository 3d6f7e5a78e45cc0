package loopback_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/loopback"
	_ "github.com/wslb/wslb/proxy/all" // the proxies StartProxy runs
)

// The loopback driver is found by name and runs the backends the spec's
// factory makes on the addresses it hands out.
func TestEnvThroughTheRegistry(t *testing.T) {
	d, err := driver.Pick("", driver.Needs{})
	require.NoError(t, err)
	require.Equal(t, loopback.Name, d.Name, "auto falls back to loopback, the only driver here")
	env, err := d.Open(context.Background(), driver.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, env.Close()) })
	require.Equal(t, "loopback", env.Driver())
	require.DirExists(t, env.Dir())

	made := map[string]int{}
	backends, err := env.StartBackends(context.Background(), driver.BackendSpec{
		IDs: []string{"a", "b"},
		New: func(id string) (driver.Server, error) {
			made[id]++
			return loopback.EchoBackend(id)
		},
	})
	require.NoError(t, err)
	require.Equal(t, map[string]int{"a": 1, "b": 1}, made, "the driver runs what the factory makes")
	_, err = env.StartBackends(context.Background(), driver.BackendSpec{IDs: []string{"c"}, New: loopback.EchoBackend})
	require.Error(t, err, "one set of backends per run")

	addr := backends.Addr("a")
	resp, err := http.Get("http://" + addr + "/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "a", resp.Header.Get("X-Backend-Id"))
	id, ok := backends.IDByAddr(addr)
	require.True(t, ok)
	require.Equal(t, "a", id)

	require.NoError(t, backends.Stop(context.Background(), "a"))
	require.NoError(t, backends.Start(context.Background(), "a"))
	require.Equal(t, 2, made["a"], "a fresh server after a stop")
	require.Equal(t, addr, backends.Addr("a"), "the same address after a restart")

	err = backends.Pause(context.Background(), "b")
	require.ErrorIs(t, err, driver.ErrNotSupported)
	require.EqualError(t, err, "pause backend b: not supported by driver loopback")
	require.ErrorIs(t, backends.Resume(context.Background(), "b"), driver.ErrNotSupported)
	_, err = env.Fault(context.Background(), driver.Fault{Kind: driver.FaultLoss, Backend: "b", Percent: 5})
	require.EqualError(t, err, "fault loss:b:5%: not supported by driver loopback")
	require.ErrorIs(t, err, driver.ErrNotSupported)

	listen, err := env.ListenAddrs(3)
	require.NoError(t, err)
	require.Len(t, listen, 3)
	for _, a := range listen {
		require.True(t, a.Addr().IsLoopback(), a)
		ln, err := net.Listen("tcp", a.String())
		require.NoError(t, err, "free a moment ago")
		ln.Close()
	}

	src, err := env.Clients().Source(43)
	require.NoError(t, err)
	require.True(t, src.IsLoopback())
	require.Greater(t, env.Clients().MaxSources(), 1000)

	dir := env.Dir()
	require.NoError(t, env.Close())
	require.NoError(t, env.Close(), "idempotent")
	_, err = os.Stat(dir)
	require.True(t, os.IsNotExist(err), "the scratch dir is gone")
	require.False(t, backends.Running("b"))
}

// A proxy that cannot bind is reported as EADDRINUSE, the way a bind in
// this process would be, so verify retries without knowing the driver.
func TestAddrInUseIsEADDRINUSE(t *testing.T) {
	require.ErrorIs(t, loopback.ErrAddrInUse, syscall.EADDRINUSE)
	require.NotErrorIs(t, loopback.ErrAddrInUse, syscall.ECONNREFUSED)
	require.Equal(t, "a listen address is already in use", loopback.ErrAddrInUse.Error())
}
