package verify

import (
	"strings"
	"testing"

	"github.com/wslb/wslb/harness"
)

func broadcastInput(deliver func(client, srv, id string) int) BroadcastInput {
	in := BroadcastInput{Server: map[string]string{}, Got: map[string]map[string]int{}, Via: map[string]string{}}
	for _, srv := range []string{"io1", "io2", "io3"} {
		for m := 1; m <= 3; m++ {
			id := "wslb-broadcast-" + srv + "-" + string(rune('0'+m))
			in.Sent = append(in.Sent, id)
			in.Via[id] = srv
		}
	}
	for i, c := range []string{"a", "b", "c", "d", "e", "f"} {
		srv := []string{"io1", "io2", "io3"}[i%3]
		in.Server[c] = srv
		in.Got[c] = map[string]int{}
		for _, id := range in.Sent {
			if k := deliver(c, srv, id); k > 0 {
				in.Got[c][id] = k
			}
		}
	}
	return in
}

func TestEvalBroadcastExactlyOnce(t *testing.T) {
	sc := EvalBroadcast(broadcastInput(func(string, string, string) int { return 1 }))
	if !sc.Passed || sc.Summary != "every client received all 9 messages exactly once (6 clients on 3 servers)" {
		t.Fatalf("%+v", sc)
	}
}

// Without an adapter each server's clients get only what was sent
// through their server.
func TestEvalBroadcastWithoutAdapter(t *testing.T) {
	in := broadcastInput(func(_, srv, id string) int {
		if strings.Contains(id, srv) {
			return 1
		}
		return 0
	})
	sc := EvalBroadcast(in)
	if sc.Passed || sc.Summary != "36 of 54 deliveries lost, 0 duplicated (9 messages to 6 clients on 3 servers)" {
		t.Fatalf("%+v", sc)
	}
	want := "clients on io2 (2) missed 6 of 9 messages each: every message sent through another server"
	if !strings.HasPrefix(sc.Details[1], want) {
		t.Errorf("details %q, want %q", sc.Details, want)
	}
}

func TestEvalBroadcastDuplicatesAndUneven(t *testing.T) {
	in := broadcastInput(func(c, _, id string) int {
		switch {
		case c == "a":
			return 2
		case c == "d" && strings.HasSuffix(id, "-1"):
			return 0
		}
		return 1
	})
	sc := EvalBroadcast(in)
	if sc.Passed || !strings.Contains(sc.Summary, "3 of 54 deliveries lost, 9 duplicated") {
		t.Fatalf("%+v", sc)
	}
	got := strings.Join(sc.Details, "\n")
	for _, want := range []string{"clients on io1 (2) missed 3 of 18 messages in all (0 to 3 each)", "clients on io1 (2) received 9 duplicates"} {
		if !strings.Contains(got, want) {
			t.Errorf("details lack %q:\n%s", want, got)
		}
	}
}

func TestEvalBroadcastNothingSent(t *testing.T) {
	sc := EvalBroadcast(BroadcastInput{OpenFailures: []string{"client-0000: handshake request 1: 404"}})
	if sc.Passed || len(sc.Details) != 1 {
		t.Fatalf("%+v", sc)
	}
}

func TestOptionsClient(t *testing.T) {
	o, err := Options{Client: harness.ClientSocketIO, BackendCmd: "node s.js {port}", Reconnects: 1}.Normalize()
	if err != nil || strings.Join(o.Scenarios, ",") != "stickiness,spread,broadcast" {
		t.Fatalf("%v %v", o.Scenarios, err)
	}
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Client: harness.ClientSocketIO, Reconnects: 1}, "needs --backend-cmd"},
		{Options{Client: harness.ClientSocketIO, BackendCmd: "x {port}", Scenarios: []string{ScenarioReload}}, "does not run with --client socketio"},
		{Options{Scenarios: []string{ScenarioBroadcast}}, "needs --client socketio"},
		{Options{Client: "sse"}, `unknown client "sse"`},
		{Options{Redis: true}, "--redis is for the servers of --backend-cmd"},
	} {
		if _, err := c.o.Normalize(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.o, err, c.want)
		}
	}
}
