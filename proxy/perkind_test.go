package proxy

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPerKind(t *testing.T) {
	p := NewPerKind[int]("a number")
	require.Zero(t, p.Get("haproxy"), "nothing registered")
	p.Register("haproxy", 7)
	require.Equal(t, 7, p.Get("haproxy"))
	require.Zero(t, p.Get("nginx"))
	require.PanicsWithValue(t, `a number for "haproxy" registered twice`, func() { p.Register("haproxy", 8) })
	require.Equal(t, 7, p.Get("haproxy"), "the first registration stands")
}
