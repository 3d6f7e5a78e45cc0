package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/echo"
)

// statsWait bounds asking one echo container for its counters.
const statsWait = 500 * time.Millisecond

// echoCounters are one backend's counters as its echo containers
// reported them; Backends.mu guards them.
type echoCounters struct {
	last    driver.EchoStats // the running process's, from its start
	retired uint64           // accepted by the processes that stopped
	// gen counts the processes retired: an answer from an earlier one,
	// arriving late, is dropped.
	gen int
}

var _ driver.EchoCounter = (*Backends)(nil)

// EchoStats asks every serving backend's echo server for its counters
// (GET echo.StatsPath from this host, on a kept-alive connection); a
// paused or stopped one, or one that does not answer in time, gives the
// last it reported.
func (b *Backends) EchoStats(ctx context.Context) map[string]driver.EchoStats {
	ids := b.IDs()
	var wg sync.WaitGroup
	for _, id := range ids {
		if be, err := b.lookup(id); err == nil {
			wg.Go(func() { b.poll(ctx, be) })
		}
	}
	wg.Wait()
	m := make(map[string]driver.EchoStats, len(ids))
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range ids {
		be, err := b.lookup(id)
		if err != nil {
			continue
		}
		st := driver.EchoStats{Accepted: be.counters.retired + be.counters.last.Accepted}
		if be.running {
			st.Open = be.counters.last.Open
		}
		m[id] = st
	}
	return m
}

// poll reads backend be's counters if it serves.
func (b *Backends) poll(ctx context.Context, be *backend) {
	b.mu.Lock()
	serving, gen := be.running && !be.paused, be.counters.gen
	b.mu.Unlock()
	if !serving || b.spec.Command != nil { // the user's server keeps no echo counters
		return
	}
	c, err := b.fetch(ctx, be)
	if err != nil {
		return // the last ones stand
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if be.counters.gen == gen {
		be.counters.last = driver.EchoStats{Open: c.Open, Accepted: c.Accepted}
	}
}

func (b *Backends) fetch(ctx context.Context, be *backend) (echo.Counters, error) {
	ctx, cancel := context.WithTimeout(ctx, statsWait)
	defer cancel()
	var c echo.Counters
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+be.addr.String()+echo.StatsPath, nil)
	if err != nil {
		return c, err
	}
	resp, err := b.stats.Do(req)
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return c, fmt.Errorf("backend %s: %s answered %s", be.id, echo.StatsPath, resp.Status)
	}
	return c, json.NewDecoder(resp.Body).Decode(&c)
}

// retire reads backend be's counters once more before its process goes
// (Stop, Kill) and keeps what it accepted: a started process counts from
// zero again.
func (b *Backends) retire(ctx context.Context, be *backend) {
	b.poll(ctx, be)
	b.mu.Lock()
	defer b.mu.Unlock()
	be.counters.retired += be.counters.last.Accepted
	be.counters.last = driver.EchoStats{}
	be.counters.gen++
}

// newStatsClient is the HTTP client EchoStats asks with: one kept-alive
// connection per backend.
func newStatsClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: statsWait}).DialContext,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}}
}
