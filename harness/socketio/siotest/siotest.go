// Package siotest is a minimal in-process Engine.IO v4 / Socket.IO v5
// server for tests of Socket.IO clients: each Node keeps its own sessions,
// and Front spreads requests over nodes without affinity.
package siotest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"

	"github.com/wslb/wslb/harness/socketio"
)

// Node is a minimal Engine.IO v4 / Socket.IO v5 server, enough for the
// client's handshake, polling and upgrade; it keeps its own sessions, so a
// request for another node's session gets "Session ID unknown".
type Node struct {
	id       string
	mu       sync.Mutex
	sessions map[string][]string // sid → packets queued for the next GET
	n        int
	Events   chan string // pongs and events the server received
}

// NewNode is a server whose responses name it as id (X-Wslb-Server).
func NewNode(id string) *Node {
	return &Node{id: id, sessions: map[string][]string{}, Events: make(chan string, 16)}
}

func (n *Node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Wslb-Server", n.id)
	q := r.URL.Query()
	if q.Get("EIO") != "4" {
		http.Error(w, `{"code":5,"message":"Unsupported protocol version"}`, http.StatusBadRequest)
		return
	}
	sid := q.Get("sid")
	n.mu.Lock()
	queue, known := n.sessions[sid]
	if sid == "" {
		n.n++
		sid = fmt.Sprintf("%s-s%d", n.id, n.n)
		n.sessions[sid] = nil
		n.mu.Unlock()
		fmt.Fprintf(w, `0{"sid":%q,"upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`, sid)
		return
	}
	n.mu.Unlock()
	if !known {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"code":1,"message":"Session ID unknown"}`)
		return
	}
	switch {
	case q.Get("transport") == "websocket":
		n.serveWS(w, r)
	case r.Method == http.MethodPost:
		body, _ := io.ReadAll(r.Body)
		ps, err := socketio.DecodePayload(body)
		if err != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		for _, p := range ps {
			if p.Type == socketio.EIOMessage && string(p.Data) == "0" {
				n.mu.Lock()
				n.sessions[sid] = append(n.sessions[sid], `40{"sid":"x"}`)
				n.mu.Unlock()
			}
		}
		io.WriteString(w, "ok")
	default:
		n.mu.Lock()
		n.sessions[sid] = nil
		n.mu.Unlock()
		if len(queue) == 0 {
			queue = []string{"6"}
		}
		io.WriteString(w, strings.Join(queue, "\x1e"))
	}
}

func (n *Node) serveWS(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	c, err := up.Upgrade(w, r, http.Header{"X-Wslb-Server": {n.id}})
	if err != nil {
		return
	}
	defer c.Close()
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		switch {
		case string(data) == "2probe":
			_ = c.WriteMessage(websocket.TextMessage, []byte("3probe"))
		case string(data) == "5":
			// Upgraded: ping once, as a server does every pingInterval,
			// and send an event.
			_ = c.WriteMessage(websocket.TextMessage, []byte("2"))
			_ = c.WriteMessage(websocket.TextMessage, []byte(`42["hello","from `+n.id+`"]`))
		case string(data) == "3":
			n.Events <- "pong"
		case strings.HasPrefix(string(data), "42"):
			n.Events <- string(data)
		}
	}
}

// Front sends each request to the next node in turn, like a proxy without
// affinity; with one node it is that node.
type Front struct {
	Nodes []*Node
	next  atomic.Int64
}

func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.Nodes[int(f.next.Add(1)-1)%len(f.Nodes)].ServeHTTP(w, r)
}
