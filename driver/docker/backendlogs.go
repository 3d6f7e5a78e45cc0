package docker

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/driver"
)

var _ driver.Outputs = (*Backends)(nil)

// followBroker reads backend be's output from since (its start) until
// its container stops, and reports every change of its broker connection
// (`wslb echo` prints broker.StateLine) to the spec's OnState, with the
// time the engine stamped on the line: verify judges the changes against
// the broker's restart.
func (b *Backends) followBroker(be *backend, since time.Time) {
	r, err := b.e.cli.ContainerLogs(b.follow, be.proc, client.ContainerLogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: true, Timestamps: true,
		Since: strconv.FormatInt(since.Unix(), 10) + "." + fmt.Sprintf("%09d", since.Nanosecond()),
	})
	if err != nil {
		return
	}
	defer r.Close()
	pr, pw := io.Pipe()
	go func() { _, err := stdcopy.StdCopy(pw, pw, r); pw.CloseWithError(err) }()
	defer pr.Close()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		stamp, line, _ := strings.Cut(sc.Text(), " ")
		s, cause, ok := broker.ParseStateLine(line)
		if !ok || be.leaving.Load() {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, stamp)
		if err != nil {
			at = time.Now()
		}
		b.spec.Broker.OnState(driver.BrokerEvent{Node: be.id, Up: s == broker.Up, At: at, Err: cause})
	}
}

// Output is the last n lines server id printed.
func (b *Backends) Output(id string, n int) []string {
	be, err := b.roster.Get(id)
	if err != nil || be.proc == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r, err := b.e.cli.ContainerLogs(ctx, be.proc, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(n)})
	if err != nil {
		return nil
	}
	defer r.Close()
	var out strings.Builder
	_, _ = stdcopy.StdCopy(&out, &out, io.LimitReader(r, 64<<10))
	text := strings.TrimRight(out.String(), "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// quoteLines is how many of its last output lines a backend that failed
// to start quotes.
const quoteLines = 5

// quote is ": OUTPUT" for a backend's last lines, "" when it printed
// nothing.
func (b *Backends) quote(id string) string {
	lines := b.Output(id, quoteLines)
	if len(lines) == 0 {
		return ""
	}
	return ": " + strings.Join(lines, " | ")
}
