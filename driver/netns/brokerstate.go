package netns

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/driver"
)

// An echo process joined to a broker reports each change of its broker
// connection to wslb on stdout, beside its counters (stats.go):
//
//	process → wslb (stdout): broker up|down UNIXNANO [CAUSE]
const brokerPrefix = "broker "

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
	line := fmt.Sprintf("%s%s %d", brokerPrefix, s, time.Now().UnixNano())
	if err != nil {
		line += " " + strings.Join(strings.Fields(err.Error()), " ")
	}
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
// process's stdout; ok is false for any other line.
func parseBrokerLine(id, line string) (ev driver.BrokerEvent, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(line), brokerPrefix)
	if !found {
		return ev, false
	}
	f := strings.SplitN(rest, " ", 3)
	if len(f) < 2 || (f[0] != "up" && f[0] != "down") {
		return ev, false
	}
	ns, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return ev, false
	}
	ev = driver.BrokerEvent{Node: id, Up: f[0] == "up", At: time.Unix(0, ns)}
	if len(f) == 3 {
		ev.Err = f[2]
	}
	return ev, true
}
