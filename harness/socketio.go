package harness

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wslb/wslb/echo"
	"github.com/wslb/wslb/harness/socketio"
)

// Client protocols.
const (
	ClientWebSocket = "websocket" // plain WebSocket to an echo backend
	ClientSocketIO  = "socketio"  // Socket.IO sessions: polling, then the upgrade
)

// sioPolls is how many polling POSTs a Socket.IO session sends after its
// CONNECT and before the upgrade: with the handshake, the CONNECT's POST
// and GET and the upgrade, five requests that must reach one server.
const sioPolls = 1

// sioSession is one Socket.IO session of client i: the polling handshake,
// the upgrade, messages emitted over the WebSocket and a clean close. The
// ConnResult's backend is the server the handshake reached; a request
// that reached another server, or any failed request, fails the session,
// its Err naming the request ("polling request 3 reached io2, session
// opened on io1: 400 Session ID unknown").
func (h *Harness) sioSession(ctx context.Context, col *collector, i, connNo, messages int) {
	cr := ConnResult{Started: time.Now()}
	s, err := socketio.Open(ctx, h.sioConfig(i, nil), sioPolls)
	cr.HeaderBackend = s.Opened
	cr.Requests = s.Requests
	for _, r := range s.Requests {
		if r.Unknown() {
			cr.SessionUnknown++
		}
	}
	if err != nil {
		cr.Status = s.Requests[len(s.Requests)-1].Status
		cr.Err = fmt.Sprintf("session %d: %v", connNo, err)
		col.conn(i, cr, true)
		return
	}
	cr.Backend = s.Opened
	defer func() { col.conn(i, cr, false) }()
	for m := 1; m <= messages; m++ {
		cr.Emitted++ // not Sent: nothing echoes an event back
		if err := s.Emit("wslb", fmt.Sprintf("%s c%d m%d", h.clients[i].Name, connNo, m)); err != nil {
			cr.Err = fmt.Sprintf("session %d message %d: %v", connNo, m, err)
			s.Close()
			return
		}
	}
	s.Close()
}

// OpenSocketIO opens a Socket.IO session for client i and keeps it open;
// onEvent gets the events the server sends. The caller closes it.
func (h *Harness) OpenSocketIO(ctx context.Context, i int, onEvent func(name string, args [][]byte)) (*socketio.Session, error) {
	if i < 0 || i >= len(h.clients) {
		return nil, fmt.Errorf("harness: no client %d", i)
	}
	return socketio.Open(ctx, h.sioConfig(i, onEvent), sioPolls)
}

// sioConfig builds client i's session settings: its source address, cookie
// jar, header or query value, like its WebSocket handshakes.
func (h *Harness) sioConfig(i int, onEvent func(string, [][]byte)) socketio.Config {
	c := h.clients[i]
	dial := h.netDialer(c)
	// No keep-alive: every polling request is balanced on its own, as a
	// browser's may be on a fresh connection.
	hc := &http.Client{
		Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true, Proxy: nil, TLSClientConfig: h.cfg.TLSConfig},
		// A redirect is an answer to report, not to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	d := &websocket.Dialer{NetDialContext: dial, TLSClientConfig: h.cfg.TLSConfig, ReadBufferSize: readBufferSize, WriteBufferSize: writeBufferSize, WriteBufferPool: h.pool}
	if h.jars != nil {
		hc.Jar = h.jars[i]
		d.Jar = h.jars[i]
	}
	header, target := h.identity(c)
	if !strings.HasSuffix(target.Path, "/") {
		target.Path += "/" // Engine.IO serves /socket.io/, not /socket.io
	}
	return socketio.Config{
		URL:            &target,
		HTTP:           hc,
		Dialer:         d,
		Header:         header,
		BackendHeaders: []string{h.cfg.BackendHeader, echo.HeaderBackendID},
		Resolve:        h.cfg.ResolveBackend,
		Timeout:        h.cfg.MessageTimeout,
		OnEvent:        onEvent,
	}
}
