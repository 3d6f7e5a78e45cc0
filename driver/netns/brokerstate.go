package netns

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/driver"
)

// An echo process joined to a broker reports each change of its broker
// connection to wslb on stdout, beside its counters (stats.go), as the
// line `wslb echo --broker` prints (broker.StateLine); wslb stamps it
// when it reads it.

// lockedWriter writes one line at a time: the counters and the broker
// changes share the process's stdout.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// brokerReporter is the echo process's end. Changes before the ready
// line (the first line wslb reads) wait for it; none after leave (a node
// that stops closes its connection, which is no loss of the broker).
type brokerReporter struct {
	mu      sync.Mutex
	w       io.Writer // nil until start
	queued  []string
	leaving bool
}

// state is broker.Config.OnState.
func (r *brokerReporter) state(s broker.State, err error) {
	line := broker.StateLine(s, err)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.leaving:
	case r.w == nil:
		r.queued = append(r.queued, line)
	default:
		_, _ = fmt.Fprintln(r.w, line)
	}
}

// start writes what was queued to w, and every change from now on.
func (r *brokerReporter) start(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w = w
	for _, l := range r.queued {
		_, _ = fmt.Fprintln(w, l)
	}
	r.queued = nil
}

// leave stops reporting: the node is stopping.
func (r *brokerReporter) leave() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.leaving = true
}

// parseBrokerLine reads one broker change of node id from a line of its
// process's stdout, read at at; ok is false for any other line.
func parseBrokerLine(id, line string, at time.Time) (ev driver.BrokerEvent, ok bool) {
	s, cause, ok := broker.ParseStateLine(line)
	if !ok {
		return ev, false
	}
	return driver.BrokerEvent{Node: id, Up: s == broker.Up, At: at, Err: cause}, true
}
