package harness_test

import (
	"hash/fnv"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/echo"
	"github.com/wslb/wslb/harness"
)

// backend is an echo backend on a free loopback port.
type backend struct {
	srv  *echo.Server
	addr string
}

func startBackends(t *testing.T, ids ...string) []*backend {
	t.Helper()
	var out []*backend
	for _, id := range ids {
		srv, err := echo.New(echo.Config{ID: id})
		require.NoError(t, err)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		out = append(out, &backend{srv: srv, addr: ln.Addr().String()})
	}
	return out
}

// affinityProxy is a small reverse proxy that picks a backend by the
// identity mode keys on, like a sticky load balancer, and names the backend
// in X-Wslb-Server. ModeNone means round robin.
type affinityProxy struct {
	mode    harness.Mode
	key     string
	proxies []*httputil.ReverseProxy
	ids     []string
	rr      atomic.Uint64

	mu   sync.Mutex
	down map[int]bool
	seen map[string]int // identity value → requests
}

const proxyServerHeader = "X-Wslb-Server"

func startAffinityProxy(t *testing.T, mode harness.Mode, key string, backends []*backend) (*affinityProxy, string) {
	t.Helper()
	p := &affinityProxy{mode: mode, key: key, down: map[int]bool{}, seen: map[string]int{}}
	for i, b := range backends {
		target := &url.URL{Scheme: "http", Host: b.addr}
		rp := httputil.NewSingleHostReverseProxy(target)
		rp.ModifyResponse = func(resp *http.Response) error {
			resp.Header.Set(proxyServerHeader, b.srv.ID())
			if mode == harness.ModeCookie && resp.Request.Header.Get("Cookie") == "" {
				resp.Header.Add("Set-Cookie", (&http.Cookie{Name: key, Value: strconv.Itoa(i), Path: "/"}).String())
			}
			return nil
		}
		p.proxies = append(p.proxies, rp)
		p.ids = append(p.ids, b.srv.ID())
	}
	return p, "ws://" + serveHTTP(t, p) + "/chat"
}

// setDown takes backend i out of the pool (its clients are rehashed).
func (p *affinityProxy) setDown(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down[i] = true
}

func (p *affinityProxy) identities() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.seen {
		out[k] = v
	}
	return out
}

func (p *affinityProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var identity string
	switch p.mode {
	case harness.ModeSource:
		identity, _, _ = net.SplitHostPort(r.RemoteAddr)
	case harness.ModeHeader:
		identity = r.Header.Get(p.key)
	case harness.ModeQuery:
		identity = r.URL.Query().Get(p.key)
	case harness.ModeCookie:
		if c, err := r.Cookie(p.key); err == nil {
			identity = c.Value
		}
	}
	p.mu.Lock()
	p.seen[identity]++
	var alive []int
	for i := range p.proxies {
		if !p.down[i] {
			alive = append(alive, i)
		}
	}
	p.mu.Unlock()

	var pick int
	switch {
	case p.mode == harness.ModeCookie && identity != "":
		n, err := strconv.Atoi(identity)
		if err != nil || n < 0 || n >= len(p.proxies) {
			http.Error(w, "bad cookie", http.StatusBadRequest)
			return
		}
		pick = n
	case identity == "" || p.mode == harness.ModeNone || p.mode == harness.ModeCookie:
		pick = alive[int(p.rr.Add(1))%len(alive)]
	default:
		h := fnv.New32a()
		_, _ = h.Write([]byte(identity))
		pick = alive[int(h.Sum32()%uint32(len(alive)))]
	}
	p.proxies[pick].ServeHTTP(w, r)
}
