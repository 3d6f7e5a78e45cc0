package verify

import (
	"testing"
	"time"
)

// A backend of another pool (web1) that lost the broker and is not back yet
// neither holds up the restart nor fails the pool under test; one of the
// pool's own nodes that is still down does both.
func TestBrokerEventsOfThePoolOnly(t *testing.T) {
	down := time.Now()
	at := func(ms int) time.Time { return down.Add(time.Duration(ms) * time.Millisecond) }
	e := &env{broker: &poolBroker{events: []BusEvent{
		{Node: "ws1", At: at(1)}, {Node: "web1", At: at(2)}, {Node: "ws2", At: at(3)},
		{Node: "ws1", Up: true, At: at(10)}, {Node: "ws2", Up: true, At: at(11)},
	}}}
	pool := map[string]bool{"ws1": true, "ws2": true}
	if !e.allBackOnBroker(down, pool) {
		t.Error("the pool's nodes are all back, yet the restart waits (for web1?)")
	}
	for _, ev := range e.busEvents(down, pool) {
		if ev.Node == "web1" {
			t.Errorf("event of another pool's backend judged: %+v", ev)
		}
	}
	e.broker.events = append(e.broker.events, BusEvent{Node: "ws2", At: at(20)})
	if e.allBackOnBroker(down, pool) {
		t.Error("ws2 lost the broker again and is not back, yet the restart goes on")
	}
}
