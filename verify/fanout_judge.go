package verify

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/wslb/wslb/harness"
	"github.com/wslb/wslb/report"
)

// The fan-out scenarios: clients spread over every node of a pool whose
// nodes share a message broker, each publishing into a room shared with
// clients of the other nodes; every client must receive every message of
// its room exactly once, in each publisher's order.
const (
	ScenarioFanout = "fanout"
	// ScenarioFanoutNodeStop stops a node halfway: its clients reconnect
	// to the others and join again.
	ScenarioFanoutNodeStop = "fanout-node-stop"
	// ScenarioFanoutBrokerRestart restarts the broker halfway: the nodes
	// must reconnect to it.
	ScenarioFanoutBrokerRestart = "fanout-broker-restart"
)

// FanoutScenarios are the scenarios of a pool whose nodes share a broker
// when none are named: no affinity is needed, so stickiness is not judged.
var FanoutScenarios = []string{ScenarioSpread, ScenarioFanout, ScenarioFanoutNodeStop, ScenarioFanoutBrokerRestart}

// awayGrace widens the time a client was away: a message the broker handed
// to the nodes this shortly before the client's connection was seen to
// drop was in flight to a node that was going away, and one handed over
// this shortly after it joined again may have reached its new node before
// the join did. Under load the run's p99 latency widens it further (a
// node's deliveries queue for that long).
const awayGrace = 250 * time.Millisecond

// BusEvent is a node's broker connection going down or coming back.
type BusEvent struct {
	Node string    `json:"node"`
	Up   bool      `json:"up"`
	At   time.Time `json:"at"`
	Err  string    `json:"err,omitempty"`
}

// FanoutInput is what one fan-out scenario observed, for EvalFanout.
type FanoutInput struct {
	Name     string                 `json:"name"`
	Messages int                    `json:"messages"`
	Clients  []harness.FanoutClient `json:"clients"`
	Latency  report.Latency         `json:"latency"`
	// Span is from the first message published to the last delivery.
	Span time.Duration `json:"span_ns"`
	// Broker describes the broker ("redis at 127.0.0.1:6379, channel
	// wslb"); Resumes says the nodes resume from an offset after a drop.
	Broker string `json:"broker"`
	// Stopped is the node stopped (node-stop) and when; Restarted when
	// the broker went down and was back (broker-restart).
	Stopped    string    `json:"stopped,omitempty"`
	StoppedAt  time.Time `json:"stopped_at"`
	BrokerDown time.Time `json:"broker_down"`
	BrokerUp   time.Time `json:"broker_up"`
	// Events are the nodes' broker connections going down and back.
	Events []BusEvent `json:"events,omitempty"`
	// Errors are anything else that went wrong in the run (a node that
	// did not start again, a broker that did not come back).
	Errors []string `json:"errors,omitempty"`
}

// nodeTally is one node's share of a fan-out.
type nodeTally struct {
	clients, expected, delivered, missed, away, outage, dups, reordered int
	fromOthers                                                          int // missed messages published through another node
	clientsMissing                                                      int // clients that missed something
}

// fanoutTally is the whole run's.
type fanoutTally struct {
	nodes                                   map[string]*nodeTally
	published, refused, refusedDelivered    int
	unpublished, notJoined, foreign, other  int
	expected, delivered, lost, away, outage int
	dups, reordered, resumed, neverBack     int
	// intoStopped are messages written to the stopped node's connections
	// after it stopped, before their clients saw the drop: no node read
	// them, so they were never published.
	intoStopped int
	joinErrors  []string
}

// tallyFanout counts every client's deliveries against what was published.
func tallyFanout(in FanoutInput) fanoutTally {
	t := fanoutTally{nodes: map[string]*nodeTally{}}
	k := in.Messages
	grace := max(awayGrace, in.Latency.P99)
	for ci, c := range in.Clients {
		if c.Err != "" || len(c.Backends) == 0 {
			t.notJoined++
			t.joinErrors = append(t.joinErrors, fmt.Sprintf("%s: %s", c.Client.Name, c.Err))
			continue
		}
		for m := range k {
			switch {
			case c.SentAt[m].IsZero():
				t.unpublished++
			case c.Refused[m]:
				t.refused++
			case intoStopped(in, ci, m):
				t.intoStopped++
			default:
				t.published++
			}
		}
	}
	for _, c := range in.Clients {
		if c.Err != "" || len(c.Backends) == 0 {
			continue
		}
		node := c.Backends[0]
		n := t.nodes[node]
		if n == nil {
			n = &nodeTally{}
			t.nodes[node] = n
		}
		n.clients++
		n.reordered += c.Reordered
		t.foreign += c.Foreign
		t.other += c.Other
		for _, w := range c.Away {
			if w.Rejoined.IsZero() {
				t.neverBack++
				break
			}
		}
		missing := false
		for j := range c.RoomLen {
			pi := c.RoomStart + j
			if pi >= len(in.Clients) {
				break
			}
			pub := in.Clients[pi]
			for m := range k {
				if pub.Err != "" || pub.SentAt[m].IsZero() {
					continue
				}
				g := int(c.Got[j*k+m])
				if pub.Refused[m] {
					if g > 0 {
						t.refusedDelivered++
					}
					continue
				}
				if intoStopped(in, pi, m) {
					continue
				}
				n.expected++
				// When the broker handed it to the nodes: its first
				// delivery anywhere, else when it was sent.
				sent := pub.SentAt[m]
				if m < len(pub.FirstAt) && !pub.FirstAt[m].IsZero() {
					sent = pub.FirstAt[m]
				}
				if g == 0 {
					missing = true
					n.missed++
					if pub.Via[m] != node {
						n.fromOthers++
					}
					switch {
					case wasAway(c.Away, sent, grace):
						n.away++
					case !in.BrokerDown.IsZero() && inWindow(sent, in.BrokerDown.Add(-grace), in.BrokerUp.Add(grace)):
						n.outage++
					}
					continue
				}
				n.delivered++
				n.dups += g - 1
				if publishedWhileAway(c.Away, sent, grace) {
					t.resumed++
				}
			}
		}
		if missing {
			n.clientsMissing++
		}
	}
	for _, n := range t.nodes {
		t.expected += n.expected
		t.delivered += n.delivered
		t.away += n.away
		t.outage += n.outage
		t.lost += n.missed - n.away - n.outage
		t.dups += n.dups
		t.reordered += n.reordered
	}
	return t
}

// intoStopped reports whether message m of client pi went to the stopped
// node after it had stopped and reached no client: the publisher wrote it
// into a connection whose other end was gone (its client had not seen the
// drop yet), so no node could have published it. Not the application's
// loss.
func intoStopped(in FanoutInput, pi, m int) bool {
	pub := in.Clients[pi]
	if in.Stopped == "" || m >= len(pub.Via) || pub.Via[m] != in.Stopped || pub.SentAt[m].Before(in.StoppedAt) {
		return false
	}
	if m < len(pub.FirstAt) && !pub.FirstAt[m].IsZero() {
		return false
	}
	k := in.Messages
	for r := pub.RoomStart; r < pub.RoomStart+pub.RoomLen && r < len(in.Clients); r++ {
		if i := (pi-pub.RoomStart)*k + m; i < len(in.Clients[r].Got) && in.Clients[r].Got[i] > 0 {
			return false
		}
	}
	return true
}

// wasAway reports whether a message the broker handed over at at was
// published while the client was away (give or take grace).
func wasAway(away []harness.Window, at time.Time, grace time.Duration) bool {
	for _, w := range away {
		to := w.Rejoined
		if !to.IsZero() {
			to = to.Add(grace)
		}
		if inWindow(at, w.Dropped.Add(-grace), to) {
			return true
		}
	}
	return false
}

// publishedWhileAway reports whether a message the broker handed over at
// at reached the nodes after the client's connection dropped and well
// before it joined again: if the client got it anyway, the application
// resumed from an offset.
func publishedWhileAway(away []harness.Window, at time.Time, grace time.Duration) bool {
	for _, w := range away {
		if !w.Rejoined.IsZero() && inWindow(at, w.Dropped, w.Rejoined.Add(-grace)) {
			return true
		}
	}
	return false
}

// inWindow reports whether t is in [from, to]; a zero to is open-ended.
func inWindow(t, from, to time.Time) bool {
	return !t.Before(from) && (to.IsZero() || !t.After(to))
}

// EvalFanout judges one fan-out scenario. Every message a node accepted
// must reach every client of its room exactly once, in its publisher's
// order. Messages published while a client was away (its node stopped)
// are reported apart — missed unless the application resumes from an
// offset — and so are those refused while the broker was down (the
// publisher was told); a message accepted and then lost fails, whatever
// the fault. Every other error the run saw (a client that could not join
// or come back, a node that lost the broker and did not reconnect)
// fails too.
func EvalFanout(in FanoutInput) *report.Scenario {
	sc := &report.Scenario{Name: in.Name}
	t := tallyFanout(in)
	nodes := make([]string, 0, len(t.nodes))
	for n := range t.nodes {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	joined := len(in.Clients) - t.notJoined
	if joined == 0 || t.published == 0 {
		sc.Summary = fmt.Sprintf("nothing to judge: %d of %d clients joined, %d messages published", joined, len(in.Clients), t.published)
		sc.Details = limitDetails(append(t.joinErrors, in.Errors...))
		return sc
	}

	var problems, details []string
	if t.lost > 0 {
		problems = append(problems, fmt.Sprintf("%d lost", t.lost))
	}
	if t.dups > 0 {
		problems = append(problems, fmt.Sprintf("%d duplicated", t.dups))
	}
	if t.reordered > 0 {
		problems = append(problems, fmt.Sprintf("%d out of order", t.reordered))
	}
	if t.foreign > 0 {
		problems = append(problems, fmt.Sprintf("%d deliveries of another room", t.foreign))
		details = append(details, fmt.Sprintf("%d deliveries reached clients of another room or named a publisher that does not exist", t.foreign))
	}
	if t.other > 0 {
		problems = append(problems, fmt.Sprintf("%d unexpected messages", t.other))
		details = append(details, fmt.Sprintf("%d messages were neither a delivery nor a refusal (a node that echoes publications instead of publishing them?)", t.other))
	}
	if t.notJoined > 0 {
		problems = append(problems, fmt.Sprintf("%d clients did not join", t.notJoined))
	}
	if t.neverBack > 0 {
		problems = append(problems, fmt.Sprintf("%d clients did not come back", t.neverBack))
	}
	if t.unpublished > 0 {
		problems = append(problems, fmt.Sprintf("%d messages could not be sent", t.unpublished))
	}
	// A fault scenario expects misses while away and refusals during the
	// outage; the plain run expects none.
	if in.Name == ScenarioFanout {
		if t.away > 0 || t.outage > 0 {
			problems = append(problems, fmt.Sprintf("%d missed by clients that dropped", t.away+t.outage))
		}
		if t.refused > 0 {
			problems = append(problems, fmt.Sprintf("%d refused by a node", t.refused))
		}
	}
	if in.Name == ScenarioFanoutBrokerRestart && t.outage > 0 {
		problems = append(problems, fmt.Sprintf("%d accepted during the broker restart and lost", t.outage))
	}
	down := map[string]bool{}
	for _, e := range in.Events {
		down[e.Node] = !e.Up
	}
	for _, n := range slices.Sorted(maps.Keys(down)) {
		if down[n] {
			problems = append(problems, fmt.Sprintf("%s lost the broker and did not reconnect", n))
		}
	}
	if in.Name != ScenarioFanoutBrokerRestart && len(in.Events) > 0 {
		problems = append(problems, fmt.Sprintf("%d broker connection changes", len(in.Events)))
		for _, e := range in.Events {
			state := "lost the broker"
			if e.Up {
				state = "was back on the broker"
			}
			details = append(details, fmt.Sprintf("%s %s at %s %s", e.Node, state, e.At.UTC().Format("15:04:05.000"), e.Err))
		}
	}
	if len(in.Errors) > 0 {
		problems = append(problems, fmt.Sprintf("%d errors", len(in.Errors)))
	}
	sc.Passed = len(problems) == 0

	// Per node: what its clients got, and why they missed what they did.
	for _, id := range nodes {
		n := t.nodes[id]
		line := fmt.Sprintf("clients on %s (%d): delivered %d/%d, lost %d, duplicated %d, reordered %d", id, n.clients, n.delivered, n.expected, n.missed-n.away-n.outage, n.dups, n.reordered)
		if n.away > 0 {
			line += fmt.Sprintf(", missed %d while away", n.away)
		}
		if n.outage > 0 {
			line += fmt.Sprintf(", missed %d during the broker restart", n.outage)
		}
		details = append(details, line)
		if lost := n.missed - n.away - n.outage; lost > 0 && n.fromOthers == n.missed {
			details = append(details, fmt.Sprintf("clients on %s (%d) missed %d messages, every one published through another node: is every node on the same broker channel (%s)?", id, n.clientsMissing, n.missed, in.Broker))
		}
	}
	if in.Name == ScenarioFanoutNodeStop {
		away := fmt.Sprintf("stopped %s at %s: its clients missed %d messages published while they were away", in.Stopped, in.StoppedAt.UTC().Format("15:04:05.000"), t.away)
		if t.resumed > 0 {
			away += fmt.Sprintf(", and received %d published while away (the application resumes from an offset)", t.resumed)
		} else {
			away += " (the application does not resume from an offset: a client that reconnects gets only what is published after it joins again)"
		}
		if t.intoStopped > 0 {
			away += fmt.Sprintf("; %d messages its clients wrote after it had stopped, before they saw their connections drop, reached no node and are not counted", t.intoStopped)
		}
		details = append([]string{away}, details...)
	}
	if in.Name == ScenarioFanoutBrokerRestart {
		line := fmt.Sprintf("broker restarted: down at %s, back at %s; %d messages refused by the nodes while it was down (the publishers were told), %d accepted and lost",
			in.BrokerDown.UTC().Format("15:04:05.000"), in.BrokerUp.UTC().Format("15:04:05.000"), t.refused, t.outage)
		details = append([]string{line}, details...)
	}
	details = append(details, t.joinErrors...)
	details = append(details, in.Errors...)
	sc.Details = limitDetails(details)

	sc.Summary = fmt.Sprintf("%d/%d deliveries (%d messages to %d clients on %d nodes)", t.delivered, t.expected, t.published, joined, len(nodes))
	switch {
	case sc.Passed && t.away+t.refused > 0:
		sc.Summary += ": every message published while a client was there reached it exactly once, in order"
	case sc.Passed:
		sc.Summary += ": every message exactly once, in order"
	default:
		sc.Summary += ": " + strings.Join(problems, ", ")
	}
	if in.Name == ScenarioFanoutNodeStop {
		sc.Summary += fmt.Sprintf("; %d missed while away from stopped %s", t.away, in.Stopped)
		if t.resumed > 0 {
			sc.Summary += fmt.Sprintf(" (%d published while away were delivered: the application resumes)", t.resumed)
		} else {
			sc.Summary += " (no resume from an offset)"
		}
	}
	if in.Name == ScenarioFanoutBrokerRestart {
		sc.Summary += fmt.Sprintf("; broker restart: %d refused, %d lost", t.refused, t.outage)
	}
	sc.Metrics = []report.Metric{
		{Name: "messages published", Value: float64(t.published), Unit: "messages"},
		{Name: "deliveries expected", Value: float64(t.expected), Unit: "messages"},
		{Name: "delivered", Value: float64(t.delivered), Unit: "messages"},
		{Name: "lost", Value: float64(t.lost), Unit: "messages"},
		{Name: "duplicated", Value: float64(t.dups), Unit: "messages"},
		{Name: "reordered", Value: float64(t.reordered), Unit: "messages"},
		{Name: "missed while away", Value: float64(t.away), Unit: "messages"},
		{Name: "refused", Value: float64(t.refused), Unit: "messages"},
		{Name: "latency p50", Value: ms(in.Latency.P50), Unit: "ms"},
		{Name: "latency p99", Value: ms(in.Latency.P99), Unit: "ms"},
		{Name: "latency max", Value: ms(in.Latency.Max), Unit: "ms"},
	}
	if in.Span > 0 {
		sc.Metrics = append(sc.Metrics, report.Metric{Name: "delivery rate", Value: float64(t.delivered) / in.Span.Seconds(), Unit: "deliveries/s"})
	}
	if in.Name == ScenarioFanoutNodeStop {
		sc.Metrics = append(sc.Metrics, report.Metric{Name: "written to the stopped node", Value: float64(t.intoStopped), Unit: "messages"})
	}
	if in.Name == ScenarioFanoutBrokerRestart {
		sc.Metrics = append(sc.Metrics, report.Metric{Name: "lost during the broker restart", Value: float64(t.outage), Unit: "messages"})
	}
	for _, id := range nodes {
		n := t.nodes[id]
		// The details line each node's delivered, expected, duplicated and
		// reordered; the numbers a script compares are these.
		sc.Metrics = append(sc.Metrics,
			report.Metric{Name: "delivered on " + id, Value: float64(n.delivered), Unit: "messages"},
			report.Metric{Name: "lost on " + id, Value: float64(n.missed - n.away - n.outage), Unit: "messages"},
		)
	}
	return sc
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
