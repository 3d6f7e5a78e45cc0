package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/wslb/wslb/driver"
)

// A proxy that exits, or stops accepting connections, in the middle of a
// run fails it: whatever the scenarios measured afterwards is not the
// config's behaviour.
const (
	// watchEvery is how often the watch dials the proxy's listener.
	watchEvery = 500 * time.Millisecond
	// unansweredFor is how long the listener may refuse connections, or
	// the master be stopped, before the proxy counts as gone: longer than
	// the moment a reload may take to hand its sockets over.
	unansweredFor = 5 * time.Second
	// deathLogLines is how much of the proxy's log a failure quotes.
	deathLogLines = 10
)

// proxyWatch notices a proxy that dies or stops answering during a run.
type proxyWatch struct {
	p       driver.Proxy
	clients driver.Clients // where the watch dials from
	started time.Time

	mu      sync.Mutex
	failure string   // when and how, one line
	log     []string // the proxy's last log lines then

	stop chan struct{}
	done chan struct{}
}

func watchProxy(p driver.Proxy, clients driver.Clients) *proxyWatch {
	w := &proxyWatch{p: p, clients: clients, started: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *proxyWatch) run() {
	defer close(w.done)
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	var silentSince time.Time
	var lastErr error
	for {
		select {
		case <-w.stop:
			return
		case <-w.p.Exited():
			if at, status, ok := w.p.Died(); ok {
				w.fail(fmt.Sprintf("the %s proxy exited at %s (%s into the run): %v", w.p.Kind(), clock(at), at.Sub(w.started).Round(time.Millisecond), status))
			}
			return
		case <-tick.C:
		}
		conn, err := w.clients.Dial(context.Background(), &net.Dialer{Timeout: 2 * time.Second}, "tcp", w.p.Addr())
		if err == nil {
			conn.Close()
			if w.p.Stopped() {
				err = errors.New("the master process is stopped")
			}
		}
		if err == nil {
			silentSince = time.Time{}
			continue
		}
		if silentSince.IsZero() {
			silentSince, lastErr = time.Now(), err
		}
		if time.Since(silentSince) >= unansweredFor {
			w.fail(fmt.Sprintf("the %s proxy stopped answering on %s at %s (%s into the run): %v", w.p.Kind(), w.p.Addr(), clock(silentSince), silentSince.Sub(w.started).Round(time.Millisecond), lastErr))
			return
		}
	}
}

func clock(t time.Time) string { return t.UTC().Format("15:04:05.000 UTC") }

func (w *proxyWatch) fail(what string) {
	var log []string
	if tail := w.p.LogTail(deathLogLines); tail != "" {
		log = strings.Split(tail, "\n")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failure == "" {
		w.failure, w.log = what, log
	}
}

// failed returns why the proxy failed ("" while it is fine) and its last
// log lines then.
func (w *proxyWatch) failed() (string, []string) {
	if w == nil {
		return "", nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failure, w.log
}

// close stops the watch; call it before stopping the proxy.
func (w *proxyWatch) close() {
	if w == nil {
		return
	}
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}
