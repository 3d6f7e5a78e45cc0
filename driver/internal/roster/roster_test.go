package roster

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRosterFindsBackendsByIDAndAddress(t *testing.T) {
	var r Roster[int]
	a := netip.MustParseAddrPort("198.18.1.1:8080")
	b := netip.MustParseAddrPort("198.18.1.2:8080")
	require.NoError(t, r.Add("ws2", a, 2))
	require.NoError(t, r.Add("ws1", b, 1))
	require.ErrorContains(t, r.Add("ws1", a, 3), `duplicate server id "ws1"`)
	require.Equal(t, []string{"ws2", "ws1"}, r.IDs(), "start order")
	v, err := r.Get("ws1")
	require.NoError(t, err)
	require.Equal(t, 1, v)
	_, err = r.Get("ws9")
	require.ErrorContains(t, err, `unknown server "ws9"`)
	require.Equal(t, "198.18.1.2:8080", r.Addr("ws1"))
	require.Empty(t, r.Addr("ws9"))
	id, ok := r.IDByAddr("198.18.1.1:8080")
	require.True(t, ok)
	require.Equal(t, "ws2", id)
	for _, addr := range []string{"198.18.1.1:8081", "ws2", ""} {
		_, ok = r.IDByAddr(addr)
		require.False(t, ok, addr)
	}
}
