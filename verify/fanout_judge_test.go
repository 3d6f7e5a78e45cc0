package verify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/harness"
	"github.com/wslb/wslb/report"
)

var t0 = time.Date(2026, 11, 30, 21, 0, 0, 0, time.UTC)

// perfectFanout is n clients in rooms of size, round robin over nodes,
// each publishing k messages 100 ms apart (message m at t0+m*100ms), and
// every client having received every message of its room once.
func perfectFanout(n, size, k int, nodes ...string) FanoutInput {
	in := FanoutInput{Name: ScenarioFanout, Messages: k, Broker: "redis at 127.0.0.1:1, channel wslb"}
	for i := range n {
		start := i / size * size
		c := harness.FanoutClient{
			Client: harness.Client{Index: i, Name: harness.ClientName(i)}, Room: harness.RoomName(i / size),
			RoomStart: start, RoomLen: min(size, n-start), Backends: []string{nodes[i%len(nodes)]},
			SentAt: make([]time.Time, k), Via: make([]string, k), Refused: make([]bool, k),
		}
		c.Got = make([]uint8, c.RoomLen*k)
		for j := range c.Got {
			c.Got[j] = 1
		}
		for m := range k {
			c.SentAt[m] = t0.Add(time.Duration(m+1) * 100 * time.Millisecond)
			c.Via[m] = c.Backends[0]
		}
		in.Clients = append(in.Clients, c)
	}
	return in
}

func metric(sc *report.Scenario, name string) float64 {
	for _, m := range sc.Metrics {
		if m.Name == name {
			return m.Value
		}
	}
	panic("no metric " + name)
}

func TestEvalFanoutPassesWhenEveryMessageArrivesOnce(t *testing.T) {
	t.Parallel()
	sc := EvalFanout(perfectFanout(30, 10, 3, "ws1", "ws2", "ws3"))
	require.True(t, sc.Passed, sc.Summary)
	require.Equal(t, "900/900 deliveries (90 messages to 30 clients on 3 nodes): every message exactly once, in order", sc.Summary)
	require.EqualValues(t, 300, metric(sc, "delivered on ws2"))
	require.Contains(t, sc.Details, "clients on ws1 (10): delivered 300/300, lost 0, duplicated 0, reordered 0")
}

func TestEvalFanoutCountsLossDuplicatesAndReordering(t *testing.T) {
	t.Parallel()
	in := perfectFanout(30, 10, 3, "ws1", "ws2", "ws3")
	in.Clients[0].Got[0] = 0 // ws1's client misses one
	in.Clients[1].Got[4] = 3 // ws2's client gets one three times
	in.Clients[2].Reordered = 1
	sc := EvalFanout(in)
	require.False(t, sc.Passed)
	require.Contains(t, sc.Summary, "899/900 deliveries")
	require.Contains(t, sc.Summary, "1 lost, 2 duplicated, 1 out of order")
	require.EqualValues(t, 1, metric(sc, "lost on ws1"))
	require.Contains(t, sc.Details, "clients on ws2 (10): delivered 300/300, lost 0, duplicated 2, reordered 0")
	require.Contains(t, sc.Details, "clients on ws3 (10): delivered 300/300, lost 0, duplicated 0, reordered 1")
}

func TestEvalFanoutNamesWhatEachNodeMissedWhenMiswired(t *testing.T) {
	t.Parallel()
	in := perfectFanout(30, 10, 2, "ws1", "ws2", "ws3")
	// Every node on its own channel: a client gets only what was
	// published through its own node.
	for i, c := range in.Clients {
		for j := range c.RoomLen {
			pub := in.Clients[c.RoomStart+j]
			for m := range 2 {
				if pub.Via[m] != c.Backends[0] {
					in.Clients[i].Got[j*2+m] = 0
				}
			}
		}
	}
	sc := EvalFanout(in)
	require.False(t, sc.Passed)
	details := strings.Join(sc.Details, "\n")
	require.Contains(t, details, "clients on ws1 (10) missed 132 messages, every one published through another node: is every node on the same broker channel")
	require.Contains(t, details, "clients on ws2 (10): delivered 68/200, lost 132")
	require.EqualValues(t, 132, metric(sc, "lost on ws3"))
}

func TestEvalFanoutNodeStopSeparatesMissesWhileAway(t *testing.T) {
	t.Parallel()
	in := perfectFanout(30, 10, 4, "ws1", "ws2", "ws3")
	in.Name, in.Stopped, in.StoppedAt = ScenarioFanoutNodeStop, "ws2", t0.Add(250*time.Millisecond)
	// ws2's clients were away from 0.25 s to 0.35 s: message 3 (sent at
	// 0.3 s) never reached them, and they came back on ws1.
	for i := range in.Clients {
		c := &in.Clients[i]
		if c.Backends[0] != "ws2" {
			continue
		}
		c.Away = []harness.Window{{Dropped: t0.Add(250 * time.Millisecond), Rejoined: t0.Add(350 * time.Millisecond)}}
		c.Backends = append(c.Backends, "ws1")
		for j := range c.RoomLen {
			c.Got[j*4+2] = 0
		}
	}
	sc := EvalFanout(in)
	require.True(t, sc.Passed, sc.Summary)
	require.Contains(t, sc.Summary, "; 100 missed while away from stopped ws2 (no resume from an offset)")
	require.Contains(t, sc.Details[0], "its clients missed 100 messages published while they were away (the application does not resume")
	require.EqualValues(t, 0, metric(sc, "lost"))
	require.EqualValues(t, 100, metric(sc, "missed while away"))

	// A miss outside the window is a loss.
	in.Clients[0].Got[0] = 0
	sc = EvalFanout(in)
	require.False(t, sc.Passed)
	require.EqualValues(t, 1, metric(sc, "lost"))

	// In the plain scenario a client that dropped fails it.
	in.Clients[0].Got[0] = 1
	in.Name = ScenarioFanout
	require.False(t, EvalFanout(in).Passed)
}

func TestEvalFanoutBrokerRestartIsNeverSilent(t *testing.T) {
	t.Parallel()
	in := perfectFanout(30, 10, 4, "ws1", "ws2", "ws3")
	in.Name = ScenarioFanoutBrokerRestart
	in.BrokerDown, in.BrokerUp = t0.Add(250*time.Millisecond), t0.Add(350*time.Millisecond)
	in.Events = []BusEvent{{Node: "ws1", At: t0.Add(260 * time.Millisecond)}, {Node: "ws1", Up: true, At: t0.Add(400 * time.Millisecond)}}
	// Message 3 (at 0.3 s) was refused by every node: the publishers know.
	for i := range in.Clients {
		in.Clients[i].Refused[2] = true
		for j := range in.Clients[i].RoomLen {
			in.Clients[i].Got[j*4+2] = 0
		}
	}
	sc := EvalFanout(in)
	require.True(t, sc.Passed, sc.Summary)
	require.Contains(t, sc.Summary, "broker restart: 30 refused, 0 lost")

	// Accepted during the outage and lost: a failure, never a pass.
	in.Clients[0].Refused[2] = false
	sc = EvalFanout(in)
	require.False(t, sc.Passed)
	require.Contains(t, sc.Summary, "10 accepted during the broker restart and lost")

	// A node that never came back fails it too.
	in.Clients[0].Refused[2] = true
	in.Events = in.Events[:1]
	sc = EvalFanout(in)
	require.False(t, sc.Passed)
	require.Contains(t, sc.Summary, "ws1 lost the broker and did not reconnect")
}

func TestEvalFanoutFailsOnEveryError(t *testing.T) {
	t.Parallel()
	in := perfectFanout(30, 10, 2, "ws1", "ws2", "ws3")
	in.Errors = []string{"ws2 did not start again: address in use"}
	require.False(t, EvalFanout(in).Passed)

	in = perfectFanout(30, 10, 2, "ws1", "ws2", "ws3")
	in.Clients[5].Err = "handshake: HTTP 502"
	in.Clients[5].Backends = nil
	sc := EvalFanout(in)
	require.False(t, sc.Passed)
	require.Contains(t, sc.Summary, "1 clients did not join")

	in = perfectFanout(30, 10, 2, "ws1", "ws2", "ws3")
	in.Clients[3].Other = 2
	require.False(t, EvalFanout(in).Passed)

	in = perfectFanout(30, 10, 2, "ws1", "ws2", "ws3")
	in.Clients[3].Refused[0] = true
	require.False(t, EvalFanout(in).Passed, "a refusal fails the plain scenario")

	sc = EvalFanout(FanoutInput{Name: ScenarioFanout, Messages: 2})
	require.False(t, sc.Passed)
	require.Contains(t, sc.Summary, "nothing to judge")
}

func TestFanoutInputSurvivesJSON(t *testing.T) {
	t.Parallel()
	in := perfectFanout(6, 3, 2, "ws1", "ws2")
	in.Clients[0].Got[1] = 0
	data, err := json.Marshal(in)
	require.NoError(t, err)
	var back FanoutInput
	require.NoError(t, json.Unmarshal(data, &back))
	require.Equal(t, EvalFanout(in), EvalFanout(back))
}

func TestEvalFanoutNodeStopTellsAResumingApplication(t *testing.T) {
	t.Parallel()
	in := perfectFanout(30, 10, 4, "ws1", "ws2", "ws3")
	in.Name, in.Stopped, in.StoppedAt = ScenarioFanoutNodeStop, "ws2", t0.Add(250*time.Millisecond)
	// Away from 0.25 s to 1 s, yet message 3 (handed over at 0.3 s)
	// arrived: the application replayed it from an offset.
	for i := range in.Clients {
		if c := &in.Clients[i]; c.Backends[0] == "ws2" {
			c.Away = []harness.Window{{Dropped: t0.Add(250 * time.Millisecond), Rejoined: t0.Add(time.Second)}}
			c.Backends = append(c.Backends, "ws1")
		}
	}
	sc := EvalFanout(in)
	require.True(t, sc.Passed, sc.Summary)
	require.Contains(t, sc.Summary, "0 missed while away from stopped ws2 (200 published while away were delivered: the application resumes)")
}

// Messages the stopped node's clients wrote after it had stopped, before
// they saw their connections drop, reached no node: they are counted
// apart, not as the application's loss. One it had before it stopped and
// never published is still lost.
func TestEvalFanoutNodeStopDoesNotBlameWritesToTheStoppedNode(t *testing.T) {
	t.Parallel()
	in := perfectFanout(30, 10, 4, "ws1", "ws2", "ws3")
	in.Name, in.Stopped, in.StoppedAt = ScenarioFanoutNodeStop, "ws2", t0.Add(250*time.Millisecond)
	onWS2 := func(i int) bool { return in.Clients[i].Backends[0] == "ws2" }
	for i := range in.Clients {
		c := &in.Clients[i]
		for j := range c.RoomLen {
			if onWS2(c.RoomStart + j) {
				c.Got[j*4+2] = 0 // message 3 (0.3 s) of ws2's clients reached no one
			}
		}
		if onWS2(i) {
			// They saw the drop only after writing message 3, and came
			// back on ws1, having missed the others' message 3 too.
			c.Away = []harness.Window{{Dropped: t0.Add(320 * time.Millisecond), Rejoined: t0.Add(400 * time.Millisecond)}}
			c.Backends = append(c.Backends, "ws1")
			for j := range c.RoomLen {
				c.Got[j*4+2] = 0
			}
		}
	}
	sc := EvalFanout(in)
	require.True(t, sc.Passed, sc.Summary)
	require.EqualValues(t, 0, metric(sc, "lost"))
	require.EqualValues(t, 10, metric(sc, "written to the stopped node"))
	require.Contains(t, sc.Details[0], "10 messages its clients wrote after it had stopped")

	// Message 2 (0.2 s, before the stop) of a ws2 client that no one got
	// is the application's loss: for the 7 of its room not on ws2 (the 3
	// on ws2 count it as missed while away, within the grace).
	for i := range in.Clients {
		c := &in.Clients[i]
		if c.RoomStart == 0 {
			c.Got[1*4+1] = 0 // client 1 (ws2), message 2
		}
	}
	sc = EvalFanout(in)
	require.False(t, sc.Passed)
	require.EqualValues(t, 7, metric(sc, "lost"))
}
