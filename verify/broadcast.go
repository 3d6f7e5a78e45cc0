package verify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wslb/wslb/harness/socketio"
	"github.com/wslb/wslb/report"
)

// The broadcast scenario's contract with the application: a client emits
// BroadcastEvent with a string, and the server re-emits it to every
// client of every server (io.emit("broadcast", msg) — with the Redis
// adapter, through Redis pub/sub).
const (
	BroadcastEvent = "broadcast"
	// broadcastPerSender is how many messages each sender emits.
	broadcastPerSender = 3
	// broadcastQuiet ends the wait once no message arrived for this long
	// after the last send; broadcastMax bounds it.
	broadcastQuiet = 1500 * time.Millisecond
	broadcastMax   = 10 * time.Second
	// broadcastOpeners bounds sessions opening at once.
	broadcastOpeners = 16
)

// inbox counts, for one client, each broadcast id it received.
type inbox struct {
	mu   sync.Mutex
	got  map[string]int
	last time.Time
}

func (b *inbox) add(args [][]byte) {
	var id string
	if len(args) == 0 || json.Unmarshal(args[0], &id) != nil || !strings.HasPrefix(id, "wslb-broadcast-") {
		return // not ours
	}
	b.mu.Lock()
	b.got[id]++
	b.last = time.Now()
	b.mu.Unlock()
}

// BroadcastInput is what the broadcast scenario observed, for EvalBroadcast.
type BroadcastInput struct {
	// Server maps each client whose session opened to its server.
	Server map[string]string
	// Got maps each such client to the count of every message id it
	// received; Sent lists the ids sent, Via the server each was sent
	// through.
	Got  map[string]map[string]int
	Sent []string
	Via  map[string]string
	// OpenFailures are clients whose session did not open, with why.
	OpenFailures []string
}

// broadcast opens a Socket.IO session per client, has one client per
// server emit broadcastPerSender messages, and counts what every client
// received.
func (r *runner) broadcast() (BroadcastInput, error) {
	h := r.fleet.h
	n := len(r.fleet.clients)
	sessions := make([]*socketio.Session, n)
	boxes := make([]*inbox, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, broadcastOpeners)
	for i := range n {
		boxes[i] = &inbox{got: map[string]int{}}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			box := boxes[i]
			sessions[i], errs[i] = h.OpenSocketIO(r.ctx, i, func(name string, args [][]byte) {
				if name == BroadcastEvent {
					box.add(args)
				}
			})
		})
	}
	wg.Wait()
	defer func() {
		for i, s := range sessions {
			if s != nil && errs[i] == nil {
				s.Close()
			}
		}
	}()
	if err := r.ctx.Err(); err != nil {
		return BroadcastInput{}, err
	}

	in := BroadcastInput{Server: map[string]string{}, Got: map[string]map[string]int{}, Via: map[string]string{}}
	senders := map[string]int{} // server → its first client
	for i := range n {
		name := r.fleet.clientName(i)
		if errs[i] != nil {
			in.OpenFailures = append(in.OpenFailures, fmt.Sprintf("%s: %v", name, errs[i]))
			continue
		}
		srv := sessions[i].Opened
		in.Server[name] = srv
		if _, ok := senders[srv]; !ok {
			senders[srv] = i
		}
	}
	servers := make([]string, 0, len(senders))
	for s := range senders {
		servers = append(servers, s)
	}
	slices.Sort(servers)
	for m := 1; m <= broadcastPerSender; m++ {
		for _, srv := range servers {
			i := senders[srv]
			id := fmt.Sprintf("wslb-broadcast-%s-%d", srv, m)
			if err := sessions[i].Emit(BroadcastEvent, id); err != nil {
				in.OpenFailures = append(in.OpenFailures, fmt.Sprintf("%s: emitting %s: %v", r.fleet.clientName(i), id, err))
				continue
			}
			in.Sent = append(in.Sent, id)
			in.Via[id] = srv
		}
	}
	// Wait until every client has everything, or nothing arrived for a
	// while.
	sentAt := time.Now()
	for {
		time.Sleep(50 * time.Millisecond)
		complete, last := true, sentAt
		for i, b := range boxes {
			if errs[i] != nil {
				continue
			}
			b.mu.Lock()
			if len(b.got) < len(in.Sent) {
				complete = false
			}
			if b.last.After(last) {
				last = b.last
			}
			b.mu.Unlock()
		}
		if complete || time.Since(last) > broadcastQuiet || time.Since(sentAt) > broadcastMax || r.ctx.Err() != nil {
			break
		}
	}
	// Duplicates arrive right after the originals: a short grace.
	time.Sleep(100 * time.Millisecond)
	for i, b := range boxes {
		if errs[i] != nil {
			continue
		}
		b.mu.Lock()
		got := make(map[string]int, len(b.got))
		for id, c := range b.got {
			got[id] = c
		}
		b.mu.Unlock()
		in.Got[r.fleet.clientName(i)] = got
	}
	return in, nil
}

// EvalBroadcast passes when every client whose session opened received
// every message exactly once, and every session opened. Missed messages
// are reported per server: clients of a server that missed exactly the
// messages sent through the other servers point at a missing adapter.
func EvalBroadcast(in BroadcastInput) *report.Scenario {
	sc := &report.Scenario{Name: ScenarioBroadcast}
	if len(in.Sent) == 0 {
		sc.Summary = "no message was sent: no Socket.IO session opened"
		sc.Details = limitDetails(in.OpenFailures)
		return sc
	}
	type tally struct {
		clients, missed, dups, minMissed, maxMissed int
		fromOthers                                  bool // every miss came through another server
	}
	byServer := map[string]*tally{}
	lost, dups, received := 0, 0, 0
	for c, srv := range in.Server {
		t := byServer[srv]
		if t == nil {
			t = &tally{minMissed: len(in.Sent) + 1, fromOthers: true}
			byServer[srv] = t
		}
		t.clients++
		missed := 0
		for _, id := range in.Sent {
			switch k := in.Got[c][id]; {
			case k == 0:
				missed++
				if in.Via[id] == srv {
					t.fromOthers = false
				}
			case k > 1:
				t.dups += k - 1
				received++
			default:
				received++
			}
		}
		t.missed += missed
		t.minMissed = min(t.minMissed, missed)
		t.maxMissed = max(t.maxMissed, missed)
	}
	servers := make([]string, 0, len(byServer))
	for s, t := range byServer {
		servers = append(servers, s)
		lost += t.missed
		dups += t.dups
	}
	slices.Sort(servers)
	expected := len(in.Sent) * len(in.Server)
	var details []string
	for _, srv := range servers {
		t := byServer[srv]
		switch {
		case t.missed == 0:
		case t.minMissed == t.maxMissed:
			line := fmt.Sprintf("clients on %s (%d) missed %d of %d messages each", srv, t.clients, t.minMissed, len(in.Sent))
			if t.fromOthers {
				line += ": every message sent through another server (are the servers sharing broadcasts, e.g. the Redis adapter?)"
			}
			details = append(details, line)
		default:
			details = append(details, fmt.Sprintf("clients on %s (%d) missed %d of %d messages in all (%d to %d each)", srv, t.clients, t.missed, len(in.Sent)*t.clients, t.minMissed, t.maxMissed))
		}
		if t.dups > 0 {
			details = append(details, fmt.Sprintf("clients on %s (%d) received %d duplicates", srv, t.clients, t.dups))
		}
	}
	details = append(details, in.OpenFailures...)
	sc.Passed = lost == 0 && dups == 0 && len(in.OpenFailures) == 0
	if sc.Passed {
		sc.Summary = fmt.Sprintf("every client received all %d messages exactly once (%d clients on %d servers)", len(in.Sent), len(in.Server), len(servers))
	} else {
		sc.Summary = fmt.Sprintf("%d of %d deliveries lost, %d duplicated (%d messages to %d clients on %d servers)", lost, expected, dups, len(in.Sent), len(in.Server), len(servers))
		if len(in.OpenFailures) > 0 {
			sc.Summary += fmt.Sprintf("; %d sessions did not open", len(in.OpenFailures))
		}
	}
	sc.Metrics = []report.Metric{
		{Name: "messages sent", Value: float64(len(in.Sent)), Unit: "messages"},
		{Name: "deliveries expected", Value: float64(expected), Unit: "messages"},
		{Name: "received", Value: float64(received), Unit: "messages"},
		{Name: "lost", Value: float64(lost), Unit: "messages"},
		{Name: "duplicated", Value: float64(dups), Unit: "messages"},
		{Name: "servers with clients", Value: float64(len(servers)), Unit: "servers"},
	}
	sc.Details = limitDetails(details)
	return sc
}
