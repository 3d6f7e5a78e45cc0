package netns

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/echo"
)

// An echo process reports its connection counters to wslb over its
// stdio, a line each way:
//
//	wslb → process (stdin):  SEQ
//	process → wslb (stdout): stats SEQ OPEN ACCEPTED
//
// SEQ (from 1) names a request and its answer; 0 marks a line the process
// sends unasked: when its counters changed (checked every statsPush), and
// once more on its way out, so that wslb keeps the connections a process
// accepted before it stopped.
const (
	statsPrefix = "stats "
	statsPush   = 100 * time.Millisecond
	// statsWait bounds waiting for an answer: a process that is slower
	// (a loaded machine) gives its last pushed counters instead.
	statsWait = 500 * time.Millisecond
)

// statsReporter is the echo process's end.
type statsReporter struct {
	stats func() echo.Stats
	mu    sync.Mutex // one line at a time on w
	w     io.Writer
}

// send writes the counters now, answering request seq.
func (r *statsReporter) send(seq uint64) (echo.Stats, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.stats()
	_, err := fmt.Fprintf(r.w, "%s%d %d %d\n", statsPrefix, seq, st.Open, st.Total)
	return st, err
}

// answer answers every request read from in until it ends.
func (r *statsReporter) answer(in io.Reader) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		seq, err := strconv.ParseUint(strings.TrimSpace(sc.Text()), 10, 64)
		if err != nil || seq == 0 {
			continue
		}
		if _, err := r.send(seq); err != nil {
			return
		}
	}
}

// push sends the counters whenever they changed until done is closed.
func (r *statsReporter) push(done <-chan struct{}) {
	t := time.NewTicker(statsPush)
	defer t.Stop()
	var last echo.Stats
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if st := r.stats(); st.Open == last.Open && st.Total == last.Total {
				continue
			}
			st, err := r.send(0)
			if err != nil {
				return
			}
			last = st
		}
	}
}

// statsLink is wslb's end for one echo process: requests go to its stdin,
// record takes the answers (and pushes) read from its stdout.
type statsLink struct {
	req    io.Writer
	seq    atomic.Uint64
	paused atomic.Bool // a stopped process answers nothing: ask not

	mu       sync.Mutex
	last     driver.EchoStats // this process's: Accepted counts from its start
	answered uint64
	changed  chan struct{} // closed and replaced on every line
	gone     bool          // its stdout ended
}

func newStatsLink(req io.Writer) *statsLink {
	return &statsLink{req: req, changed: make(chan struct{})}
}

// record takes one line of the process's stdout; other lines are not
// counters and are ignored.
func (l *statsLink) record(line string) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), statsPrefix)
	if !ok {
		return
	}
	var seq, accepted uint64
	var open int
	if n, err := fmt.Sscanf(rest, "%d %d %d", &seq, &open, &accepted); n != 3 || err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = driver.EchoStats{Open: open, Accepted: accepted}
	l.answered = max(l.answered, seq)
	close(l.changed)
	l.changed = make(chan struct{})
}

// end says the process's stdout ended: nothing more will be answered.
func (l *statsLink) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gone = true
	l.last.Open = 0
	close(l.changed)
	l.changed = make(chan struct{})
}

// latest is the last counters the process reported.
func (l *statsLink) latest() driver.EchoStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// ask asks the process for its counters and waits for the answer, at most
// statsWait; the last reported counters stand in for one that never comes.
func (l *statsLink) ask(ctx context.Context) driver.EchoStats {
	if l.paused.Load() {
		return l.latest()
	}
	seq := l.seq.Add(1)
	if _, err := fmt.Fprintf(l.req, "%d\n", seq); err != nil {
		return l.latest()
	}
	timer := time.NewTimer(statsWait)
	defer timer.Stop()
	for {
		l.mu.Lock()
		if l.answered >= seq || l.gone {
			st := l.last
			l.mu.Unlock()
			return st
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			return l.latest()
		case <-ctx.Done():
			return l.latest()
		}
	}
}

// EchoStats asks every running backend for its counters, side by side.
func (b *Backends) EchoStats(ctx context.Context) map[string]driver.EchoStats {
	ids := b.IDs()
	stats := make([]driver.EchoStats, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		s, err := b.get(id)
		if err != nil {
			continue
		}
		wg.Go(func() { stats[i] = s.echoStats(ctx) })
	}
	wg.Wait()
	m := make(map[string]driver.EchoStats, len(ids))
	for i, id := range ids {
		m[id] = stats[i]
	}
	return m
}

var _ driver.EchoCounter = (*Backends)(nil)

// echoStats are the backend's counters across its processes.
func (s *backend) echoStats(ctx context.Context) driver.EchoStats {
	s.statsMu.Lock()
	l, retired := s.link, s.retired
	s.statsMu.Unlock()
	if l == nil {
		return driver.EchoStats{Accepted: retired}
	}
	st := l.ask(ctx)
	return driver.EchoStats{Open: st.Open, Accepted: retired + st.Accepted}
}

// follow attaches link to the backend's new process.
func (s *backend) follow(l *statsLink) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.link = l
}

// retire folds the exited process's accepted connections into the
// backend's, so that its count only grows across restarts.
func (s *backend) retire(l *statsLink) {
	l.end()
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.retired += l.latest().Accepted
	if s.link == l {
		s.link = nil
	}
}

// markPaused says whether the running process is stopped by a signal.
func (s *backend) markPaused(paused bool) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.link != nil {
		s.link.paused.Store(paused)
	}
}
