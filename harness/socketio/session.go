package socketio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Request kinds, as reports name them.
const (
	KindOpen    = "open"    // the handshake GET
	KindPoll    = "poll"    // a polling GET
	KindPost    = "post"    // a polling POST
	KindUpgrade = "upgrade" // the WebSocket handshake
)

// Request is one HTTP request of a session and what answered it.
type Request struct {
	N       int    // 1 for the handshake, then in order
	Kind    string // KindOpen, KindPoll, KindPost, KindUpgrade
	Backend string // from the backend header; "" when absent
	Status  int    // HTTP status; 0 when no response came
	Err     string // what went wrong; "" when the request succeeded
}

// Unknown reports whether the server answered "Session ID unknown": the
// request reached a server that does not hold the session.
func (r Request) Unknown() bool { return strings.Contains(r.Err, "Session ID unknown") }

// Config is how sessions reach the server.
type Config struct {
	// URL is the Engine.IO endpoint, e.g. http://127.0.0.1:8080/socket.io/
	// (ws:// and wss:// are accepted and mean http:// and https://).
	URL *url.URL
	// HTTP makes the polling requests; its Jar, if any, is the client's.
	HTTP *http.Client
	// Dialer makes the WebSocket upgrade; its Jar should be HTTP's.
	Dialer *websocket.Dialer
	// Header is sent on every request (Origin, an affinity header, Host).
	Header http.Header
	// BackendHeaders are the response headers naming the backend, tried in
	// order; Resolve, when set, turns a header's value into the backend's
	// name (a proxy may name it by address).
	BackendHeaders []string
	Resolve        func(string) string
	// Timeout bounds each request and each wait for a packet.
	Timeout time.Duration
	// OnEvent, when set, is called from the reading goroutine for every
	// EVENT the server sends after the upgrade.
	OnEvent func(name string, args [][]byte)
}

// Session is one Engine.IO session with the main Socket.IO namespace
// connected. Open runs the polling handshake and the upgrade; after it,
// Emit sends events over the WebSocket while a goroutine reads packets,
// answers pings and hands events to Config.OnEvent.
type Session struct {
	cfg       Config
	Handshake Handshake
	// Requests lists every HTTP request in order; Opened is the backend
	// that answered the handshake.
	Requests []Request
	Opened   string

	ws      *websocket.Conn
	wmu     sync.Mutex
	done    chan struct{}
	readErr error
}

// Open runs a session's handshake: the open GET, the Socket.IO CONNECT
// (POST "40", then GETs until the server's CONNECT arrives), extraPolls
// POSTs of a "wslb:poll" event, then the WebSocket upgrade with its
// probe. Every request is recorded in Requests, also when Open fails; the
// error names the request that failed and, when it reached another
// server than the handshake, both servers.
func Open(ctx context.Context, cfg Config, extraPolls int) (*Session, error) {
	s := &Session{cfg: cfg, done: make(chan struct{})}
	if err := s.open(ctx, extraPolls); err != nil {
		s.closeWS()
		close(s.done)
		return s, err
	}
	go s.readLoop()
	return s, nil
}

func (s *Session) open(ctx context.Context, extraPolls int) error {
	// 1: the handshake.
	body, err := s.poll(ctx, KindOpen, http.MethodGet, nil)
	if err != nil {
		return err
	}
	ps, err := DecodePayload(body)
	if err != nil || len(ps) == 0 || ps[0].Type != EIOOpen {
		return s.fail(fmt.Errorf("handshake answer is not an Engine.IO open packet: %.60q", body))
	}
	if s.Handshake, err = DecodeHandshake(ps[0].Data); err != nil {
		return s.fail(err)
	}
	if !slices.Contains(s.Handshake.Upgrades, "websocket") {
		// A server with transports: ["polling"] only: nothing to upgrade
		// to, and the WebSocket path is not what it serves.
		return s.fail(fmt.Errorf("server offers no WebSocket upgrade (upgrades %q)", s.Handshake.Upgrades))
	}
	// 2, 3: connect the main namespace and read the server's CONNECT.
	if err := s.post(ctx, EIOPacket{Type: EIOMessage, Data: SIOPacket{Type: SIOConnect, ID: -1}.Encode()}); err != nil {
		return err
	}
	if err := s.awaitConnect(ctx); err != nil {
		return err
	}
	// More polling rounds: a message POSTed and, where the server has
	// something queued, read. They show a session's requests keep
	// reaching its server.
	for n := range extraPolls {
		ev, err := NewEvent("wslb:poll", n+1)
		if err != nil {
			return err
		}
		if err := s.post(ctx, EIOPacket{Type: EIOMessage, Data: ev.Encode()}); err != nil {
			return err
		}
	}
	return s.upgrade(ctx)
}

// fail marks the last request failed with err and returns the error
// naming that request.
func (s *Session) fail(err error) error {
	n := len(s.Requests)
	if n == 0 {
		return err
	}
	r := &s.Requests[n-1]
	if r.Err == "" {
		r.Err = err.Error()
	}
	return s.requestErr(r)
}

// pollURL is the Engine.IO URL for transport with the session's sid.
func (s *Session) pollURL(transport string) string {
	u := *s.cfg.URL
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	if transport == "websocket" {
		if u.Scheme == "https" {
			u.Scheme = "wss"
		} else {
			u.Scheme = "ws"
		}
	}
	q := u.Query()
	q.Set("EIO", "4")
	q.Set("transport", transport)
	if s.Handshake.SID != "" {
		q.Set("sid", s.Handshake.SID)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (s *Session) backendOf(h http.Header) string {
	for _, name := range s.cfg.BackendHeaders {
		if v := h.Get(name); v != "" {
			if s.cfg.Resolve != nil {
				return s.cfg.Resolve(v)
			}
			return v
		}
	}
	return ""
}

// record adds a request and checks it reached the session's server.
func (s *Session) record(kind string, resp *http.Response) *Request {
	r := Request{N: len(s.Requests) + 1, Kind: kind}
	if resp != nil {
		r.Status = resp.StatusCode
		r.Backend = s.backendOf(resp.Header)
	}
	if kind == KindOpen {
		s.Opened = r.Backend
	}
	s.Requests = append(s.Requests, r)
	return &s.Requests[len(s.Requests)-1]
}

// poll sends one polling request and returns its body (bounded).
func (s *Session) poll(ctx context.Context, kind, method string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.pollURL("polling"), rd)
	if err != nil {
		return nil, err
	}
	for k, v := range s.cfg.Header {
		req.Header[k] = v
	}
	if host := s.cfg.Header.Get("Host"); host != "" {
		req.Host = host
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := s.cfg.HTTP.Do(req)
	r := s.record(kind, resp)
	if err != nil {
		r.Err = err.Error()
		return nil, s.requestErr(r)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxPayload+1))
	switch {
	case err != nil:
		r.Err = "reading the answer: " + err.Error()
	case len(data) > MaxPayload:
		r.Err = fmt.Sprintf("answer exceeds %d bytes", MaxPayload)
	case resp.StatusCode != http.StatusOK:
		r.Err = strconv.Itoa(resp.StatusCode) + " " + answerText(data)
	}
	if r.Err != "" {
		return nil, s.requestErr(r)
	}
	return data, nil
}

// answerText is an error answer's message: Engine.IO's JSON error
// {"code":1,"message":"Session ID unknown"} gives its message.
func answerText(b []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if jsonObject(b, &e) && e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("%.80q", bytes.TrimSpace(b))
}

// requestErr describes a failed request, naming where it went when that
// was not the session's server.
func (s *Session) requestErr(r *Request) error {
	what := fmt.Sprintf("%s request %d", kindName(r.Kind), r.N)
	if r.Kind != KindOpen && r.Backend != "" && s.Opened != "" && r.Backend != s.Opened {
		return fmt.Errorf("%s reached %s, session opened on %s: %s", what, r.Backend, s.Opened, r.Err)
	}
	return fmt.Errorf("%s: %s", what, r.Err)
}

// jsonObject decodes b into v when b is a JSON object.
func jsonObject(b []byte, v any) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Unmarshal(b, v) == nil
}

func kindName(kind string) string {
	switch kind {
	case KindOpen:
		return "handshake"
	case KindUpgrade:
		return "upgrade"
	}
	return "polling"
}

// post sends packets in one polling POST, which must answer "ok".
func (s *Session) post(ctx context.Context, ps ...EIOPacket) error {
	body, err := s.poll(ctx, KindPost, http.MethodPost, EncodePayload(ps...))
	if err != nil {
		return err
	}
	if string(body) != "ok" {
		r := &s.Requests[len(s.Requests)-1]
		r.Err = fmt.Sprintf("POST answered %.40q, not \"ok\"", body)
		return s.requestErr(r)
	}
	return s.checkBackend()
}

// checkBackend fails the last request when it was answered by a server
// other than the session's (it may have answered 200 if it shares
// sessions some other way; the session is still split).
func (s *Session) checkBackend() error {
	r := &s.Requests[len(s.Requests)-1]
	if r.Backend != "" && s.Opened != "" && r.Backend != s.Opened {
		r.Err = "answered by another server"
		return s.requestErr(r)
	}
	return nil
}

// awaitConnect polls until the server's CONNECT for the main namespace
// arrives, answering pings on the way.
func (s *Session) awaitConnect(ctx context.Context) error {
	for range 4 {
		body, err := s.poll(ctx, KindPoll, http.MethodGet, nil)
		if err != nil {
			return err
		}
		if err := s.checkBackend(); err != nil {
			return err
		}
		ps, err := DecodePayload(body)
		if err != nil {
			return s.fail(err)
		}
		for _, p := range ps {
			switch p.Type {
			case EIOPing:
				if err := s.post(ctx, EIOPacket{Type: EIOPong, Data: p.Data}); err != nil {
					return err
				}
			case EIOClose:
				return s.fail(errors.New("server closed the session"))
			case EIOMessage:
				sp, err := DecodeSIO(p.Data)
				if err != nil {
					return s.fail(err)
				}
				switch sp.Type {
				case SIOConnect:
					return nil
				case SIOConnectError:
					return s.fail(fmt.Errorf("server refused the connection: %.80s", sp.Data))
				}
			}
		}
	}
	return s.fail(errors.New("no Socket.IO CONNECT after 4 polls"))
}

// upgrade opens the WebSocket for the session, probes it ("2probe" →
// "3probe") and completes the upgrade ("5").
func (s *Session) upgrade(ctx context.Context) error {
	d := *s.cfg.Dialer
	d.HandshakeTimeout = s.cfg.Timeout
	header := http.Header{}
	for k, v := range s.cfg.Header {
		header[k] = v
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	ws, resp, err := d.DialContext(ctx, s.pollURL("websocket"), header)
	r := s.record(KindUpgrade, resp)
	if err != nil {
		r.Err = err.Error()
		if resp != nil {
			data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			r.Err = strconv.Itoa(resp.StatusCode) + " " + answerText(data)
		}
		return s.requestErr(r)
	}
	s.ws = ws
	if err := s.checkBackend(); err != nil {
		return err
	}
	if err := s.write(EIOPacket{Type: EIOPing, Data: []byte("probe")}); err != nil {
		return s.fail(fmt.Errorf("probe: %w", err))
	}
	_ = ws.SetReadDeadline(time.Now().Add(s.cfg.Timeout))
	for {
		p, err := s.read()
		if err != nil {
			return s.fail(fmt.Errorf("waiting for the probe's pong: %w", err))
		}
		if p.Type == EIOPong && string(p.Data) == "probe" {
			break
		}
		if p.Type == EIOClose {
			return s.fail(errors.New("server closed the WebSocket during the upgrade"))
		}
	}
	_ = ws.SetReadDeadline(time.Time{})
	if err := s.write(EIOPacket{Type: EIOUpgrade}); err != nil {
		return s.fail(fmt.Errorf("upgrade: %w", err))
	}
	return nil
}

func (s *Session) write(p EIOPacket) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.ws.SetWriteDeadline(time.Now().Add(s.cfg.Timeout))
	if p.Binary {
		return s.ws.WriteMessage(websocket.BinaryMessage, p.Data)
	}
	return s.ws.WriteMessage(websocket.TextMessage, p.Encode())
}

func (s *Session) read() (EIOPacket, error) {
	typ, data, err := s.ws.ReadMessage()
	if err != nil {
		return EIOPacket{}, err
	}
	if typ == websocket.BinaryMessage {
		return EIOPacket{Type: EIOMessage, Data: data, Binary: true}, nil
	}
	return DecodeEIO(data)
}

// readLoop answers pings and hands events on until the socket closes.
func (s *Session) readLoop() {
	defer close(s.done)
	for {
		p, err := s.read()
		if err != nil {
			s.readErr = err
			return
		}
		switch p.Type {
		case EIOPing:
			if err := s.write(EIOPacket{Type: EIOPong, Data: p.Data}); err != nil {
				s.readErr = err
				return
			}
		case EIOClose:
			s.readErr = errors.New("server closed the session")
			return
		case EIOMessage:
			if p.Binary || s.cfg.OnEvent == nil {
				continue
			}
			sp, err := DecodeSIO(p.Data)
			if err != nil {
				continue // one bad packet is not the session's end
			}
			if name, args, err := sp.Event(); err == nil {
				raw := make([][]byte, len(args))
				for i, a := range args {
					raw[i] = a
				}
				s.cfg.OnEvent(name, raw)
			}
		}
	}
}

// Emit sends an event over the upgraded WebSocket.
func (s *Session) Emit(name string, args ...any) error {
	ev, err := NewEvent(name, args...)
	if err != nil {
		return err
	}
	return s.write(EIOPacket{Type: EIOMessage, Data: ev.Encode()})
}

// Err is why the session's WebSocket ended (nil while it is open or after
// a clean Close).
func (s *Session) Err() error {
	select {
	case <-s.done:
		return s.readErr
	default:
		return nil
	}
}

// Close disconnects the namespace and closes the WebSocket of an open
// session.
func (s *Session) Close() {
	if s.ws == nil {
		return
	}
	_ = s.write(EIOPacket{Type: EIOMessage, Data: SIOPacket{Type: SIODisconnect, ID: -1}.Encode()})
	s.wmu.Lock()
	_ = s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	s.wmu.Unlock()
	s.closeWS()
	<-s.done
}

func (s *Session) closeWS() {
	if s.ws != nil {
		_ = s.ws.Close()
	}
}
