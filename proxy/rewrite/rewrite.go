// Package rewrite turns a user's existing haproxy.cfg or nginx.conf into a
// version that runs on loopback against wslb's echo backends, and reads from
// it what verify needs to exercise: the servers of the pool that serves
// WebSockets, the affinity key and the WebSocket path.
//
// Use is two steps, because the echo backends must be started (on ports
// the config then points at) between them:
//
//	cfg, err := rewrite.Load("haproxy.cfg")        // analyse; errors carry file:line
//	backends, err := env.StartBackends(ctx, driver.BackendSpec{IDs: cfg.ServerIDs(), New: echo})
//	out, err := cfg.Render(rewrite.Local{Dir: env.Dir(), Backends: addrs, ListenAddrs: env.ListenAddrs})
//
// Rewriting keeps everything that does not reach outside the machine or
// need privileges: balance, cookies, stick tables, ACLs, timeouts, health
// checks stay as written, except that Local.FastChecks shortens the health
// check timers the way verify does for generated configs. Every change is listed in Notes.
//
// This package holds what the proxies share (the Config and Result, the
// loader registry, timers); each proxy's package (proxy/haproxy, ...)
// reads and renders its own configs and registers its LoadFunc, so Load
// needs them registered: import proxy/all.
package rewrite

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/topology"
)

// ServerHeader is the response header the rewritten config adds so clients
// learn which server answered (HAProxy: the server name; nginx: the
// upstream address, see Result.UpstreamIDs).
const ServerHeader = "X-Wslb-Server"

// Server is a server of the original config, replaced by an echo backend.
type Server struct {
	// ID names the echo backend: the server's name in the config (HAProxy),
	// for nginx upstream servers the one-word comment closing each server
	// line when all have distinct ones ("server 10.0.0.1:80; # ws1"), else
	// "<upstream>-<n>" (n from 1), and the address for nginx proxy_pass to
	// an address. If a HAProxy name repeats in several pools, it is
	// prefixed with "<pool>.". An nginx address listed in several
	// upstreams is one server.
	ID string
	// Name is the server's name as written (HAProxy), or the name the ID
	// is made from (nginx).
	Name string
	// Pool is the backend, listen or upstream it belongs to (for the
	// WebSocket pool's servers: that pool).
	Pool string
	// Addr is the original address.
	Addr   string
	Weight int // default 1
	Backup bool
	// WebSocket reports whether the server belongs to the pool that serves
	// WebSockets.
	WebSocket bool
	// File and Line locate the server in the config.
	File string
	Line int
}

// Affinity is how the config keeps a client on one server.
type Affinity struct {
	Mode topology.AffinityMode
	// Key is the cookie, header or query parameter name (empty for source
	// and none).
	Key string
	// Consistent is true with consistent hashing (only a failed server's
	// clients move).
	Consistent bool
	// ClientCookie is true for cookie affinity where the proxy only reads
	// the cookie (nginx `hash $cookie_NAME`, HAProxy `stick on
	// req.cook(NAME)`): each client must bring its own value. When false
	// the proxy sets the cookie on the first response.
	ClientCookie bool
}

// Error is a config that cannot be made runnable, with where and why.
type Error struct {
	File string
	Line int // 0 when not tied to a line
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// CodeError refuses directive kw at file:line, which runs code for the
// reason why (from the proxy package's RunsCode), without --allow-code.
func CodeError(file string, line int, kw, why string) *Error {
	return &Error{file, line, fmt.Sprintf("%s runs code: %s; verify does not run configs that run code unless --allow-code is given", kw, why)}
}

// Config is an analysed existing config, ready to render.
type Config struct {
	Kind proxybin.Kind
	File string
	// Servers are all servers of the config, in order; every one needs an
	// echo backend.
	Servers []Server
	// Pool is the backend/upstream that serves WebSockets.
	Pool string
	// Route is where the config sends WebSockets to Pool: the NGINX
	// location holding the proxy_pass, or the HAProxy backend or listen
	// section.
	Route    SourceLine
	Affinity Affinity
	// Path is a request path that reaches Pool ("/" unless the config
	// routes WebSockets by path, e.g. "/ws" or "/socket.io/").
	Path string
	// AllowedOrigin is an Origin the config accepts on WebSocket handshakes when
	// it checks them against a list (empty when it does not): clients
	// must send it to be let in.
	AllowedOrigin string
	// Timers are the WebSocket pool's failure detection settings.
	Timers Timers
	// Notes list what was detected and what will be changed.
	Notes []string

	render func(Local) (*Result, error)
}

// SetRender sets how the proxy's package renders c; its loader calls it.
func (c *Config) SetRender(render func(Local) (*Result, error)) { c.render = render }

// Local is where the rendered config must point.
type Local struct {
	// Dir is the scratch dir for pid file, logs, sockets and temp paths.
	Dir string
	// Backends maps every Server.ID to the address ("HOST:PORT") of the
	// backend the driver started for it.
	Backends map[string]string
	// ListenAddrs hands out addresses for the listeners: the driver's
	// (driver.Env.ListenAddrs). Required.
	ListenAddrs func(n int) ([]netip.AddrPort, error)
	// FastChecks sets the health checks to driver.FastCheckInterval
	// (HAProxy: inter, fastinter and downinter, with `timeout check` at
	// least driver.FastCheckTimeout; NGINX: fail_timeout), as verify does
	// for generated configs. Config.Timers keeps the production values.
	FastChecks bool
}

// Timers are the failure detection settings of the WebSocket pool as the
// config writes them, with the proxy's defaults for what it leaves out.
type Timers struct {
	// Known is false when they could not be read: the pool's servers
	// differ, or (NGINX) the pool is not one upstream.
	Known bool
	// Checks: HAProxy health-checks the servers; NGINX: max_fails > 0.
	Checks bool
	// HAProxy: inter, fastinter, downinter (zero when unset), rise and
	// fall.
	Interval, FastInter, DownInter time.Duration
	Rise, Fall                     int
	// NGINX: max_fails and fail_timeout.
	MaxFails    int
	FailTimeout time.Duration
}

// Result is the runnable config and what to exercise.
type Result struct {
	Kind proxybin.Kind
	// Config is the rewritten config text; write it as ConfigName in Dir.
	Config     []byte
	ConfigName string
	// Listen is the local address ("HOST:PORT", one of Local.ListenAddrs)
	// of the listener that routes to the WebSocket pool.
	Listen string
	// Listeners maps every rewritten listener (frontend/listen name, or
	// "server:LINE" for nginx) to its local address.
	Listeners map[string]string
	// Servers are the WebSocket pool's servers.
	Servers  []Server
	Affinity Affinity
	Path     string
	// AllowedOrigin is Config.AllowedOrigin: send it on handshakes.
	AllowedOrigin string
	// Timers is Config.Timers: the production settings, whatever this
	// render runs with.
	Timers Timers
	// HeaderIDs maps a ServerHeader value to the Server.ID of a WebSocket
	// pool server: HAProxy sends the server's name, nginx the echo
	// backend's address ($upstream_addr; after a retry it lists several,
	// "a, b", and the last one served).
	HeaderIDs map[string]string
	Notes     []string

	// Sources maps each line of Config (index = line-1) to the line it
	// came from; lines wslb added have Line 0.
	Sources []SourceLine
}

// SourceLine is a line of the user's config.
type SourceLine struct {
	File string
	Line int
}

// Origin tells which line of the user's config produced line n (from 1)
// of the rewritten config; ok is false for lines wslb added.
func (r *Result) Origin(n int) (file string, line int, ok bool) {
	if n < 1 || n > len(r.Sources) || r.Sources[n-1].Line == 0 {
		return "", 0, false
	}
	o := r.Sources[n-1]
	return o.File, o.Line, true
}

// WebSocketName matches a backend, upstream or path name that says it
// serves WebSockets ("ws", "chat-ws", "socket.io").
var WebSocketName = regexp.MustCompile(`(?i)(^|[_.-])(ws|wss|websockets?|socket\.?io|sockjs)($|[_.-])`)

// OriginValue matches an Origin a config may allow: scheme, host and
// port, nothing else.
var OriginValue = regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(:\d+)?$`)

// MapLines rewrites references to the rewritten config's lines in a proxy
// message ("[/tmp/wslb-verify-1/haproxy.cfg:12]", "nginx.conf:7") into the
// user's file and line, so errors point at what the user wrote.
func (r *Result) MapLines(msg string) string {
	// A reference is the config's path (up to a blank, bracket or quote),
	// its name and the line.
	ref := regexp.MustCompile(`[^\s\[\]"']*?` + regexp.QuoteMeta(r.ConfigName) + `:(\d+)`)
	return ref.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(ref.FindStringSubmatch(m)[1])
		if file, line, ok := r.Origin(n); ok {
			return fmt.Sprintf("%s:%d", file, line)
		}
		return m
	})
}

// Options change what Load accepts.
type Options struct {
	// AllowCode lets through directives that run code (lua-load,
	// program, load_module, js_*, ...); without it Load refuses them.
	AllowCode bool
	// Roots are directories the config's includes, and the files the
	// proxy reads, may come from besides the config's own directory.
	Roots []string
	// Limits bound what is read; zero means safefile.DefaultLimits.
	Limits safefile.Limits
}

// Reader is the safefile.Reader for the config at path: below its
// directory and Roots, within Limits.
func (o Options) Reader(path string) *safefile.Reader {
	return safefile.NewReader(append([]string{filepath.Dir(path)}, o.Roots...), o.Limits)
}

// ConfigDir is the absolute directory of the config at path, from which
// relative file names are read.
func ConfigDir(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return filepath.Dir(path)
}

// Load reads and analyses path with the default Options.
func Load(path string) (*Config, error) { return LoadWith(path, Options{}) }

// LoadWith reads and analyses path, telling HAProxy from nginx by content
// (or by name when the content is ambiguous). The config and its includes
// are read through one safefile.Reader: regular files below the roots,
// within its limits.
func LoadWith(path string, o Options) (_ *Config, err error) {
	r := o.Reader(path)
	text, err := r.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if re := (*safefile.RefusedError)(nil); errors.As(err, &re) {
		return nil, &Error{File: path, Msg: "refused: " + re.Reason}
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer recoverInternal(path, &err)
	kind := DetectKind(path, text)
	load := loaders.Get(kind)
	if kind == "" {
		return nil, &Error{File: path, Msg: "cannot tell which proxy this config is for"}
	}
	if load == nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("this is a %s config, which verify cannot run yet", kind)}
	}
	return load(path, text, r, o.AllowCode)
}

// ErrInternal marks a config whose structure the rewriter did not expect
// and failed on. Users get an error naming the file instead of a crash; the
// fuzz target fails on it, so such inputs are found and fixed.
var ErrInternal = errors.New("internal error")

// recoverInternal turns a panic while reading or rewriting file into an
// ErrInternal error.
func recoverInternal(file string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: wslb cannot rewrite this config (%w: %v); please report it with the config", file, ErrInternal, r)
	}
}

// DetectKind tells which proxy a config is for, the way every wslb command
// does (proxy.Detect); a file nothing tells apart is read as the
// Fallback proxy's (HAProxy's).
func DetectKind(path string, text []byte) proxybin.Kind {
	if k := proxy.DetectKind(path, text); k != "" {
		return k
	}
	if d := proxy.Fallback(); d != nil {
		return d.Name
	}
	return ""
}

// Render produces the runnable config for the given local addresses.
func (c *Config) Render(l Local) (_ *Result, err error) {
	if l.Dir == "" {
		return nil, fmt.Errorf("render %s: no scratch dir", c.File)
	}
	for _, s := range c.Servers {
		if l.Backends[s.ID] == "" {
			return nil, fmt.Errorf("render %s: no local backend for server %s", c.File, s.ID)
		}
	}
	if l.ListenAddrs == nil {
		return nil, fmt.Errorf("render %s: no listen addresses", c.File)
	}
	defer recoverInternal(c.File, &err)
	return c.render(l)
}

// ServerIDs lists the echo backends to start: one per server.
func (c *Config) ServerIDs() []string {
	ids := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		ids[i] = s.ID
	}
	return ids
}

// WebSocketServers are the servers of the WebSocket pool.
func (c *Config) WebSocketServers() []Server {
	var out []Server
	for _, s := range c.Servers {
		if s.WebSocket {
			out = append(out, s)
		}
	}
	return out
}

// AssignIDs gives every server a unique echo id: its name, prefixed by the
// pool where names repeat across pools.
func AssignIDs(servers []Server) {
	count := map[string]int{}
	for _, s := range servers {
		count[s.Name]++
	}
	for i := range servers {
		id := SanitizeID(servers[i].Name)
		if count[servers[i].Name] > 1 {
			id = SanitizeID(servers[i].Pool + "." + servers[i].Name)
		}
		servers[i].ID = id
	}
}

// SanitizeID maps s onto the echo id alphabet (letters, digits, "._:-").
func SanitizeID(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			b[i] = '_'
		}
	}
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}

// FileExists reports whether path is a file (not a directory).
func FileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

// SortedKeys returns m's keys in order.
func SortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// NewResult starts the Result of rendering c: what Load detected, with
// the listener and header maps still empty.
func (c *Config) NewResult(kind proxybin.Kind, configName string) *Result {
	return &Result{
		Kind:          kind,
		ConfigName:    configName,
		Listeners:     map[string]string{},
		Servers:       c.WebSocketServers(),
		Affinity:      c.Affinity,
		Path:          c.Path,
		AllowedOrigin: c.AllowedOrigin,
		Timers:        c.Timers,
		HeaderIDs:     map[string]string{},
		Notes:         append([]string(nil), c.Notes...),
	}
}

// LoadFunc reads and analyses one proxy's config: path's text, with its
// includes and the files it names read through r.
type LoadFunc func(path string, text []byte, r *safefile.Reader, allowCode bool) (*Config, error)

var loaders = proxy.NewPerKind[LoadFunc]("rewrite: a loader")

// RegisterLoader adds the loader of the proxy kind; the proxy's package
// calls it from init. A second loader for a kind is a programming error.
func RegisterLoader(kind proxybin.Kind, load LoadFunc) { loaders.Register(kind, load) }
