package docker

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/internal/testutil"
)

// Check accepts echo backends, the user's command and every broker kind,
// and refuses, naming why, a broker already running (the run's network
// reaches nothing outside it).
func TestCheckSaysWhatTheDriverRuns(t *testing.T) {
	require.NoError(t, Check(driver.Needs{}))
	require.NoError(t, Check(driver.Needs{ForeignServers: true}))
	for _, kind := range []string{"redis", "nats", "rabbitmq", "kafka"} {
		require.NoError(t, Check(driver.Needs{ForeignServers: true, Broker: true, BrokerKind: kind}), kind)
	}
	require.ErrorContains(t, Check(driver.Needs{Broker: true, BrokerKind: "mqtt"}), "mqtt")
	require.ErrorContains(t, Check(driver.Needs{ExternalBroker: true}), "reach no broker outside the run's network")
}

// A broker container and echo nodes that join it: a stopped broker
// refuses connections, a restart is seen by every running node going
// down and coming back (read from its output), and a stopped node
// reports nothing.
func TestBrokerRestartReachesEveryNodeOnTheEngine(t *testing.T) {
	testutil.NeedDockerRuntime(t)
	ctx, e := openOnEngine(t)
	br, err := e.StartBroker(ctx, "redis")
	require.NoError(t, err)
	require.Equal(t, "redis://"+e.net.broker.String()+":6379", br.URL())

	var mu sync.Mutex
	last := map[string]bool{}
	changes := map[string]int{}
	spec := driver.BackendSpec{IDs: []string{"n1", "n2", "n3"}, Echo: true, Broker: &driver.EchoBroker{
		URL:     br.URL(),
		Channel: "wslb",
		OnState: func(ev driver.BrokerEvent) {
			mu.Lock()
			defer mu.Unlock()
			last[ev.Node] = ev.Up
			changes[ev.Node]++
		},
	}}
	bs, err := e.StartBackends(ctx, spec)
	require.NoError(t, err)
	require.NoError(t, bs.Stop(ctx, "n3"))

	require.NoError(t, br.Stop())
	// Refused, not a timeout: the broker's host keeps the address.
	_, err = net.DialTimeout("tcp", e.net.broker.String()+":6379", 5*time.Second)
	require.ErrorContains(t, err, "refused")
	require.NoError(t, br.Start(ctx))
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return last["n1"] && last["n2"] && changes["n1"] >= 2 && changes["n2"] >= 2
	}, time.Minute, 50*time.Millisecond, "every running node goes down and comes back")
	mu.Lock()
	require.Zero(t, changes["n3"], "a stopped node reported its broker")
	mu.Unlock()
}

// The user's command runs in the runtime image as the backend, its
// directory mounted read-only; one that exits before it serves is an
// error quoting its output.
func TestCommandBackendOnTheEngine(t *testing.T) {
	testutil.NeedDockerRuntime(t)
	ctx, env := openOnEngine(t)
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "greeting"), []byte("hello from the app dir"), 0o644))
	server := `exec node -e 'const fs = require("fs"); require("http").createServer((q, s) => s.end(process.argv[1] + ": " + fs.readFileSync("greeting") + " " + (() => { try { fs.writeFileSync("x", "") ; return "writable" } catch (e) { return "read-only" } })())).listen(Number(process.argv[2]), process.argv[3])' `
	bs, err := env.StartBackends(ctx, driver.BackendSpec{IDs: []string{"app1"}, Command: &driver.Command{
		Dir: dir,
		Script: func(host string, port int, id string) string {
			return "cd " + dir + " && " + server + id + " " + itoa(port) + " " + host
		},
	}})
	require.NoError(t, err)
	resp, err := http.Get("http://" + bs.Addr("app1") + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "app1: hello from the app dir read-only", string(body))

	env2, err := Open(ctx, driver.Options{})
	require.NoError(t, err)
	defer env2.Close()
	_, err = env2.StartBackends(ctx, driver.BackendSpec{IDs: []string{"bad"}, Command: &driver.Command{
		Dir:    dir,
		Script: func(string, int, string) string { return "echo no such module >&2; exit 3" },
	}})
	require.ErrorContains(t, err, "backend bad exited (status 3) before it served")
	require.ErrorContains(t, err, "no such module")
}

func itoa(n int) string { return strconv.Itoa(n) }
