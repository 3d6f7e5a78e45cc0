//go:build linux || darwin

package harness

import (
	"crypto/tls"
	"errors"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// peerState is what a peek at an idle connection found.
type peerState struct {
	closed bool
	code   int    // close code when the peer sent a close frame
	reason string // why the connection counts as closed
}

// peek looks at an idle connection's socket without blocking and without a
// reader goroutine: nothing to read means open; end of stream or an error
// means the peer closed; a pending close frame is read (gorilla answers it)
// for its code. Other pending frames are left for the next Ping.
func peek(c *websocket.Conn) peerState {
	nc := c.NetConn()
	tlsConn, isTLS := nc.(*tls.Conn)
	if isTLS {
		nc = tlsConn.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return peerState{}
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return peerState{closed: true, reason: err.Error()}
	}
	var buf [1]byte
	var n int
	var rerr error
	if err := raw.Read(func(fd uintptr) bool {
		n, _, rerr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait: this is a poll
	}); err != nil {
		return peerState{closed: true, reason: err.Error()}
	}
	switch {
	case errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK) || errors.Is(rerr, syscall.EINTR):
		return peerState{}
	case rerr != nil:
		return peerState{closed: true, reason: "connection error: " + rerr.Error()}
	case n == 0:
		return peerState{closed: true, reason: "connection closed by peer"}
	}
	// A server frame starts with FIN and the opcode; 8 is close. TLS
	// records can't be read this way, so any data there is read too.
	if !isTLS && buf[0]&0x0f != 8 {
		return peerState{}
	}
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	_, _, err = c.ReadMessage()
	if code := errCode(err); code != 0 {
		return peerState{closed: true, code: code, reason: "close frame from peer"}
	}
	if err != nil {
		return peerState{closed: true, reason: "reading pending frame: " + err.Error()}
	}
	// An unsolicited data frame (TLS only): the connection is still open.
	_ = c.SetReadDeadline(time.Time{})
	return peerState{}
}
