package docker

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeEngine answers the engine's ping on a unix socket in dir, counting
// the requests it gets.
func fakeEngine(t *testing.T, dir string) *atomic.Int32 {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(dir, "docker.sock"))
	require.NoError(t, err)
	var hits atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Api-Version", "1.41")
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("OK"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &hits
}

// With DOCKER_HOST unset, verify finds the engine `make docker` starts
// (scripts/dockerd's socket) without being told; DOCKER_HOST, when set,
// wins; and when neither answers the error names both and how to start one.
func TestConnectFindsOwnEngine(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "wslb-dockerd-test-") // short: a socket path has ~100 bytes
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Setenv(OwnEngineRunEnv, dir)
	t.Setenv(HostEnv, "")
	hits := fakeEngine(t, dir)

	c, err := Connect(context.Background())
	require.NoError(t, err)
	require.Equal(t, "unix://"+filepath.Join(dir, "docker.sock"), c.DaemonHost())
	c.Close()
	require.Positive(t, hits.Load(), "the own engine was not asked")

	other, err := os.MkdirTemp("/tmp", "wslb-dockerd-test-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(other) })
	otherHits := fakeEngine(t, other)
	t.Setenv(HostEnv, "unix://"+filepath.Join(other, "docker.sock"))
	c, err = Connect(context.Background())
	require.NoError(t, err)
	require.Equal(t, "unix://"+filepath.Join(other, "docker.sock"), c.DaemonHost())
	c.Close()
	require.Positive(t, otherHits.Load())

	t.Setenv(HostEnv, "unix://"+filepath.Join(other, "missing.sock"))
	_, err = Connect(context.Background())
	require.True(t, errors.Is(err, ErrNoEngine), "%v", err)
	require.Contains(t, err.Error(), "make docker")
}
