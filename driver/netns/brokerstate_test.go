package netns

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/broker"
)

// Changes before the ready line wait for it, none is written once the
// node leaves, and wslb reads back each one's state and cause.
func TestBrokerReporterLines(t *testing.T) {
	r := &brokerReporter{}
	r.state(broker.Down, errors.New("dial tcp: refused\nagain"))
	var out bytes.Buffer
	r.start(&out)
	r.state(broker.Up, nil)
	r.leave()
	r.state(broker.Down, errors.New("closed"))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2, out.String())
	at := time.Now()
	ev, ok := parseBrokerLine("ws1", lines[0], at)
	require.True(t, ok)
	require.Equal(t, "ws1", ev.Node)
	require.False(t, ev.Up)
	require.Equal(t, "dial tcp: refused again", ev.Err)
	require.Equal(t, at, ev.At)
	ev, ok = parseBrokerLine("ws1", lines[1], at)
	require.True(t, ok)
	require.True(t, ev.Up)
	_, ok = parseBrokerLine("ws1", "stats 0 1 2", at)
	require.False(t, ok)
}
