// Package lazydeadline wraps a network connection so that setting the
// deadline it already has costs nothing.
//
// gorilla/websocket puts its stored write deadline on the socket before
// every frame it writes. A deadline that is not zero costs a clock read
// and a runtime timer update each time, even when it did not change, which
// is a few per cent of a small message's CPU; a zero deadline costs little
// but bounds nothing. With Conn, a caller that moves its deadline only now
// and then pays for the moves alone.
package lazydeadline

import (
	"net"
	"syscall"
	"time"
)

// Conn is a net.Conn whose deadline setters skip a value equal to the one
// they last set. Read deadlines are set by the reader and write deadlines
// by the writer, as gorilla/websocket does (it serializes its writers);
// SetDeadline touches both and must not race with either.
type Conn struct {
	net.Conn
	read, write time.Time
}

// New wraps c, which must have no deadline set (a fresh connection), or
// get its deadlines through SetDeadline first (gorilla's Upgrade clears
// the HTTP server's that way).
func New(c net.Conn) *Conn { return &Conn{Conn: c} }

// SetReadDeadline sets the read deadline unless it is t already.
func (c *Conn) SetReadDeadline(t time.Time) error {
	return setIfMoved(&c.read, t, c.Conn.SetReadDeadline)
}

// SetWriteDeadline sets the write deadline unless it is t already.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	return setIfMoved(&c.write, t, c.Conn.SetWriteDeadline)
}

// setIfMoved calls set with t unless t is *last, and records it in *last
// once set.
func setIfMoved(last *time.Time, t time.Time, set func(time.Time) error) error {
	if t.Equal(*last) {
		return nil
	}
	if err := set(t); err != nil {
		return err
	}
	*last = t
	return nil
}

// SetDeadline sets both deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetDeadline(t); err != nil {
		return err
	}
	c.read, c.write = t, t
	return nil
}

// SyscallConn is the wrapped connection's, for callers that look at the
// socket itself (a non-blocking peek).
func (c *Conn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, syscall.EINVAL
	}
	return sc.SyscallConn()
}

// Unwrap returns the wrapped connection.
func (c *Conn) Unwrap() net.Conn { return c.Conn }
