// Package harness drives many WebSocket clients through a proxy and records
// which backend served each connection. Every client carries the identity
// the proxy's affinity keys on (source address, cookie, header or query
// parameter), so a sticky proxy must send all of a client's connections to
// one backend.
//
// Run exchanges messages and reconnects; Open holds connections for reload,
// idle and failover scenarios. Only loopback targets are allowed unless
// Config.AllowRemote is set.
package harness

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/wslb/wslb/echo"
)

// Mode is what a client's identity consists of.
type Mode string

// Affinity modes.
const (
	ModeSource Mode = "source" // its own 127.X.Y.Z source address
	ModeCookie Mode = "cookie" // its own cookie jar, kept across reconnects
	ModeHeader Mode = "header" // its own value of a request header
	ModeQuery  Mode = "query"  // its own value of a query parameter
	ModeNone   Mode = "none"   // no identity: every client looks the same
)

// Modes lists the modes, for flag completion and messages.
var Modes = []Mode{ModeSource, ModeCookie, ModeHeader, ModeQuery, ModeNone}

// Defaults for Config fields left zero.
const (
	DefaultHeaderKey        = "X-Session-Id"
	DefaultQueryKey         = "sid"
	DefaultConcurrency      = 64
	DefaultHandshakeTimeout = 5 * time.Second
	DefaultMessageTimeout   = 5 * time.Second
	DefaultMessageSize      = 32
	DefaultErrorSamples     = 5
	DefaultCheckInterval    = 250 * time.Millisecond
	// MaxSourceClients is how many distinct 127.X.Y.Z source addresses
	// SourceAddr hands out.
	MaxSourceClients = 250 * 250
)

// Config describes a load run.
type Config struct {
	// URL is the proxy's WebSocket endpoint, e.g. ws://127.0.0.1:8080/chat
	// (with ClientSocketIO, the Engine.IO path: ws://127.0.0.1:8080/socket.io/).
	URL string
	// Client is the protocol each connection speaks: ClientWebSocket (the
	// default: messages echoed by wslb's echo backend) or ClientSocketIO
	// (a Socket.IO session per connection: long-polling handshake, then
	// the upgrade; messages are events emitted over the WebSocket).
	Client string
	// Mode is the identity each client carries; Key names the header,
	// query parameter or cookie (the cookie name is informational unless
	// SeedCookie is set: the jar sends whatever the proxy set).
	Mode Mode
	Key  string
	// SeedCookie, in cookie mode, starts every client with the cookie
	// Key=<client name>, for configs that hash a cookie the application
	// sets and the proxy only reads (nginx `hash $cookie_sid`, HAProxy
	// `stick on req.cook(sid)`). A proxy that sets the cookie itself
	// replaces the seed on its first response.
	SeedCookie bool

	Clients    int // number of clients, at least 1
	Messages   int // messages per connection (0: handshake only)
	Reconnects int // connections per client after the first
	// FirstClient numbers the clients from this index, so that a second
	// harness can have identities (names, source addresses) that the
	// first one never used.
	FirstClient int

	// Concurrency bounds the clients in flight (Run) and the handshakes in
	// flight (Open).
	Concurrency      int
	HandshakeTimeout time.Duration
	MessageTimeout   time.Duration // per message: write and wait for its echo (at least half of it; the deadline moves lazily)
	MessageSize      int           // payload bytes; at least the identifying prefix

	// BackendHeader is the handshake response header naming the backend,
	// e.g. one the proxy config adds. When empty or absent on a response,
	// X-Backend-Id (set by wslb's echo backends) is used.
	BackendHeader string
	// ResolveBackend, when set, turns BackendHeader's value into the
	// backend's name in Socket.IO sessions (NGINX names the server by
	// its address, $upstream_addr).
	ResolveBackend func(string) string
	// Header is sent on every handshake; Origin, when set, too.
	Header http.Header
	Origin string
	// TLSConfig is used for wss:// URLs.
	TLSConfig *tls.Config

	// Sources hands out the source addresses of source mode; nil means
	// SourceAddr's 127.X.Y.Z addresses of this host. A driver that runs
	// the clients on hosts of its own passes its addresses here.
	Sources Sources

	// AllowRemote permits targets outside loopback.
	AllowRemote bool
	// ErrorSamples is how many error messages a result keeps.
	ErrorSamples int
	// CheckInterval is how often held connections are checked for a peer
	// close (Open).
	CheckInterval time.Duration
	// KeepGC leaves garbage collection alone in Open: no lower GC target
	// while 1,000 or more connections open and no return of memory to the
	// operating system afterwards. For callers that hold connections
	// briefly and set their own target (verify).
	KeepGC bool
}

// withDefaults returns cfg with zero fields filled in.
func (cfg Config) withDefaults() Config {
	if cfg.Mode == "" {
		cfg.Mode = ModeNone
	}
	if cfg.Client == "" {
		cfg.Client = ClientWebSocket
	}
	if cfg.Key == "" {
		switch cfg.Mode {
		case ModeHeader:
			cfg.Key = DefaultHeaderKey
		case ModeQuery:
			cfg.Key = DefaultQueryKey
		}
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.MessageTimeout <= 0 {
		cfg.MessageTimeout = DefaultMessageTimeout
	}
	if cfg.MessageSize <= 0 {
		cfg.MessageSize = DefaultMessageSize
	}
	if cfg.BackendHeader == "" {
		cfg.BackendHeader = echo.HeaderBackendID
	}
	if cfg.ErrorSamples <= 0 {
		cfg.ErrorSamples = DefaultErrorSamples
	}
	if cfg.CheckInterval <= 0 {
		cfg.CheckInterval = DefaultCheckInterval
	}
	return cfg
}

// validate checks cfg (with defaults applied) and returns the parsed URL.
func (cfg Config) validate() (*url.URL, error) {
	var errs []error
	u, err := url.Parse(cfg.URL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("harness: target URL %q: %w", cfg.URL, err)
	case u.Scheme != "ws" && u.Scheme != "wss":
		return nil, fmt.Errorf("harness: target URL %q: scheme must be ws or wss", cfg.URL)
	case u.Hostname() == "":
		return nil, fmt.Errorf("harness: target URL %q has no host", cfg.URL)
	}
	loopback := isLoopbackHost(u.Hostname())
	if a, err := netip.ParseAddr(u.Hostname()); err == nil && cfg.Sources != nil && cfg.Sources.Local(a) {
		loopback = true // the driver's own isolated network
	}
	if !loopback && !cfg.AllowRemote {
		errs = append(errs, fmt.Errorf("target %s is not a loopback address (127.0.0.0/8, ::1, localhost); pass --allow-remote to load a remote host", u.Host))
	}
	switch cfg.Mode {
	case ModeSource:
		if ip := net.ParseIP(u.Hostname()); cfg.Sources == nil && ((ip != nil && ip.To4() == nil) || !loopback) {
			errs = append(errs, fmt.Errorf("source mode binds 127.X.Y.Z source addresses and needs an IPv4 loopback target, not %s", u.Host))
		}
		if n := cfg.sources().MaxSources(); cfg.FirstClient+cfg.Clients > n {
			errs = append(errs, fmt.Errorf("source mode has %d distinct source addresses; %d clients asked", n, cfg.Clients))
		}
	case ModeHeader:
		if !validToken(cfg.Key) {
			errs = append(errs, fmt.Errorf("header name %q is not a valid HTTP header name", cfg.Key))
		} else if err := CheckSendable(cfg.Key); err != nil {
			errs = append(errs, err)
		}
	case ModeCookie:
		if cfg.SeedCookie && !validToken(cfg.Key) {
			errs = append(errs, fmt.Errorf("cookie name %q is not a valid cookie name", cfg.Key))
		}
	case ModeQuery, ModeNone:
	default:
		errs = append(errs, fmt.Errorf("unknown mode %q (want one of source, cookie, header, query, none)", cfg.Mode))
	}
	if cfg.Client != ClientWebSocket && cfg.Client != ClientSocketIO {
		errs = append(errs, fmt.Errorf("unknown client %q (want %s or %s)", cfg.Client, ClientWebSocket, ClientSocketIO))
	}
	if cfg.SeedCookie && cfg.Mode != ModeCookie {
		errs = append(errs, fmt.Errorf("seeding a cookie needs cookie mode, not %q", cfg.Mode))
	}
	if cfg.FirstClient < 0 {
		errs = append(errs, fmt.Errorf("first client must not be negative, got %d", cfg.FirstClient))
	}
	if cfg.Clients < 1 {
		errs = append(errs, fmt.Errorf("clients must be at least 1, got %d", cfg.Clients))
	}
	if cfg.Messages < 0 || cfg.Reconnects < 0 {
		errs = append(errs, fmt.Errorf("messages and reconnects must not be negative"))
	}
	if !validToken(cfg.BackendHeader) {
		errs = append(errs, fmt.Errorf("backend header %q is not a valid HTTP header name", cfg.BackendHeader))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	return u, nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validToken reports whether name is an RFC 9110 token, the grammar of
// header and cookie names.
func validToken(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r > 0x7e || r <= ' ' || isSeparator(r) {
			return false
		}
	}
	return true
}

func isSeparator(r rune) bool {
	switch r {
	case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', '{', '}':
		return true
	}
	return false
}
