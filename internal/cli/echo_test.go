package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/echo"
)

// TestEchoHelperProcess is not a test: TestEchoSIGTERM runs the test binary
// with WSLB_ECHO_HELPER=1 to get a real `wslb echo` process.
func TestEchoHelperProcess(t *testing.T) {
	if os.Getenv("WSLB_ECHO_HELPER") != "1" {
		t.Skip("helper process for TestEchoSIGTERM")
	}
	os.Exit(Run(context.Background(), []string{"echo", "--id", "sig1", "--listen", "127.0.0.1:0"}, SystemStreams()))
}

func TestEchoSIGTERMClosesWithGoingAwayAndExitsZero(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestEchoHelperProcess$")
	cmd.Env = append(os.Environ(), "WSLB_ECHO_HELPER=1")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	// stderr is read only once the child has exited: until then its copy
	// goroutine writes to the buffer.
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("no first line: %v; stderr: %s", err, stderr.String())
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "echo backend sig1 listening on ")
	require.True(t, ok, "first line: %q", line)
	require.NotContains(t, addr, ":0")

	c, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, "sig1", resp.Header.Get("X-Backend-Id"))

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	require.True(t, errors.As(err, &ce), "want a close frame, got %v", err)
	require.Equal(t, websocket.CloseGoingAway, ce.Code)

	err = cmd.Wait()
	require.NoError(t, err, "stderr: %s", stderr.String())
	require.Equal(t, 0, cmd.ProcessState.ExitCode())
}

func TestEchoCommand(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "missing id", args: []string{"echo"}, wantCode: ExitUsage, wantErr: "--id is required"},
		{name: "bad id", args: []string{"echo", "--id", "a b"}, wantCode: ExitUsage, wantErr: "invalid backend id"},
		{name: "bad listen", args: []string{"echo", "--id", "ws1", "--listen", "nowhere"}, wantCode: ExitUsage, wantErr: "want HOST:PORT"},
		{name: "broker without a scheme", args: []string{"echo", "--id", "ws1", "--broker", "127.0.0.1:6379"}, wantCode: ExitUsage, wantErr: "want redis://, nats://, amqp:// or kafka://"},
		{name: "channel without broker", args: []string{"echo", "--id", "ws1", "--channel", "x"}, wantCode: ExitUsage, wantErr: "--channel needs --broker"},
		{name: "bad channel", args: []string{"echo", "--id", "ws1", "--broker", "redis://127.0.0.1:1", "--channel", "a*b"}, wantCode: ExitUsage, wantErr: "--channel"},
		{name: "port in use", args: []string{"echo", "--id", "ws1", "--listen", busy.Addr().String()}, wantCode: ExitFailed, wantErr: "echo backend ws1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(context.Background(), tt.args, IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
			require.Equal(t, tt.wantCode, code, "stderr: %s", errOut.String())
			require.Contains(t, errOut.String(), tt.wantErr)
		})
	}
}

// --probe is the health check of the wslb image's containers: 0 while
// the backend serves, 1 once nothing answers.
func TestEchoProbe(t *testing.T) {
	t.Parallel()
	srv, err := echo.New(echo.Config{ID: "ws1"})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	probe := func(addr string) (int, string) {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), []string{"echo", "--probe", addr}, IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		return code, out.String() + errOut.String()
	}
	code, msg := probe(ln.Addr().String())
	require.Equal(t, ExitOK, code, msg)
	require.Contains(t, msg, "/healthz: ok")
	require.NoError(t, srv.Close())
	code, msg = probe(ln.Addr().String())
	require.Equal(t, ExitFailed, code, msg)
	require.Contains(t, msg, "probe http://"+ln.Addr().String()+"/healthz")
	code, msg = probe("nowhere")
	require.Equal(t, ExitUsage, code, msg)
	require.Contains(t, msg, "want HOST:PORT")
}
