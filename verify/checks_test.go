package verify

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
)

func TestUnsettledWaitsForACheckResultOnEveryServer(t *testing.T) {
	addrs := map[string]string{"10.0.0.1:80": "a", "10.0.0.2:80": "b", "10.0.0.3:80": "c", "10.0.0.4:80": "d"}
	states := []driver.ServerState{
		{Addr: "10.0.0.1:80", Up: true},                // checked, or not checked at all
		{Addr: "10.0.0.2:80", Up: true, Pending: true}, // up before its first check
		{Addr: "10.0.0.3:80"},                          // its first check failed
		{Addr: "10.0.0.3:80"},                          // in a second backend too
		{Addr: "10.0.0.4:80", Maint: true},             // disabled: never up
		{Addr: "10.9.9.9:80", Pending: true},           // not the pool's
	}
	require.Equal(t, []string{"b", "c"}, unsettled(states, addrs))
	require.Empty(t, unsettled(states[:1], addrs))
}
