package verify

import (
	"context"
	"net/url"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wslb/wslb/harness"
	"github.com/wslb/wslb/report"
)

// The RTT probe: a few connections one after the other, one message in
// flight at a time, so its round trips measure the path and not a queue.
// It alternates between the proxy and one backend directly, so both see
// the same machine. (A pause between messages would let the processes go
// idle and measure their wake-ups: 1.3-2.5× a ping-pong's round trip.)
const (
	probeConns    = 2
	probeMessages = 25
	probeRounds   = 3
	// probeRTTFirst numbers the probe's identities apart from the clients
	// and the failover probes.
	probeRTTFirst = probeFirst - 100
)

// rttProbe measures echo round trips through the proxy and straight to
// the backend at direct (host:port).
func (f *fleet) rttProbe(ctx context.Context, direct string) (proxied, straight report.Latency, err error) {
	via := f.cfg
	via.Clients, via.FirstClient, via.Concurrency = probeConns, probeRTTFirst, 1
	via.Reconnects, via.Messages = 0, probeMessages
	to := via
	to.URL = (&url.URL{Scheme: "ws", Host: direct, Path: "/"}).String()
	to.Mode, to.Key, to.SeedCookie, to.Header = harness.ModeNone, "", false, nil
	hv, err := harness.New(via)
	if err != nil {
		return proxied, straight, err
	}
	hd, err := harness.New(to)
	if err != nil {
		return proxied, straight, err
	}
	pv, pd := harness.NewHistogram(), harness.NewHistogram()
	for range probeRounds {
		for _, p := range []struct {
			h    *harness.Harness
			hist *hdrhistogram.Histogram
		}{{hv, pv}, {hd, pd}} {
			res, err := p.h.Run(ctx)
			if err != nil {
				return proxied, straight, err
			}
			p.hist.Merge(res.Histogram())
		}
	}
	return harness.LatencyOf(pv), harness.LatencyOf(pd), nil
}
