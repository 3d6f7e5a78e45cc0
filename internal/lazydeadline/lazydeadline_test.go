package lazydeadline

import (
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// recorder counts the deadlines that reach the wrapped connection.
type recorder struct {
	net.Conn
	reads, writes []time.Time
}

func (r *recorder) SetReadDeadline(t time.Time) error  { r.reads = append(r.reads, t); return nil }
func (r *recorder) SetWriteDeadline(t time.Time) error { r.writes = append(r.writes, t); return nil }
func (r *recorder) SetDeadline(t time.Time) error {
	r.reads, r.writes = append(r.reads, t), append(r.writes, t)
	return nil
}

func TestOnlyChangesReachTheConnection(t *testing.T) {
	rec := &recorder{}
	c := New(rec)
	d1 := time.Now().Add(time.Minute)
	d2 := d1.Add(time.Second)

	for range 3 {
		require.NoError(t, c.SetWriteDeadline(d1))
	}
	require.NoError(t, c.SetWriteDeadline(d2))
	require.NoError(t, c.SetWriteDeadline(time.Time{}))
	require.NoError(t, c.SetWriteDeadline(time.Time{}))
	require.Equal(t, []time.Time{d1, d2, {}}, rec.writes)

	// The zero deadline a new connection has is not set again.
	require.NoError(t, c.SetReadDeadline(time.Time{}))
	require.NoError(t, c.SetReadDeadline(d1))
	require.NoError(t, c.SetReadDeadline(d1))
	require.Equal(t, []time.Time{d1}, rec.reads)

	// SetDeadline always reaches it and updates both.
	require.NoError(t, c.SetDeadline(d2))
	require.NoError(t, c.SetReadDeadline(d2))
	require.NoError(t, c.SetWriteDeadline(d2))
	require.Equal(t, []time.Time{d1, d2}, rec.reads)
	require.Equal(t, []time.Time{d1, d2, {}, d2}, rec.writes)
}

// A deadline still fires through the wrapper: it is set, only not again.
func TestDeadlineStillFires(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := New(a)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.True(t, ne.Timeout())
}

func TestSyscallConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	nc, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	var sc syscall.Conn = New(nc)
	_, err = sc.SyscallConn()
	require.NoError(t, err)

	p, _ := net.Pipe()
	defer p.Close()
	_, err = New(p).SyscallConn()
	require.Error(t, err, "a pipe has no socket")
}
