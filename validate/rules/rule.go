// Package rules is wslb's catalog of WebSocket checks for HAProxy and
// NGINX configs. Each rule lives in its own file and registers itself;
// IDs are stable and never reused.
package rules

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/topology"
	"github.com/wslb/wslb/validate/finding"
)

// Options tune the checks.
type Options struct {
	// MinIdleTimeout is the shortest idle time a WebSocket must survive
	// (WSLB104, WSLB213, WSLB201). Zero means DefaultMinIdleTimeout.
	MinIdleTimeout time.Duration
	// Versions are the proxy versions the configs target, by kind (NGINX:
	// WSLB102, WSLB110, WSLB112; HAProxy: WSLB215's keyword table). A
	// kind left out means its descriptor's oldest version: WSLB112 then
	// judges nothing, and WSLB215 only keywords every supported version
	// rejects.
	Versions map[proxy.Kind]topology.Version
	// WebSocketAll treats every proxied route as WebSocket traffic.
	WebSocketAll bool
}

// Defaults used when Options leave a field zero.
var (
	DefaultMinIdleTimeout = 120 * time.Second
	OldestHAProxy         = topology.MinHAProxy
)

func (o Options) minIdle() time.Duration {
	if o.MinIdleTimeout <= 0 {
		return DefaultMinIdleTimeout
	}
	return o.MinIdleTimeout
}

// SetVersion sets the version of kind the configs target.
func (o *Options) SetVersion(kind proxy.Kind, v topology.Version) {
	if o.Versions == nil {
		o.Versions = map[proxy.Kind]topology.Version{}
	}
	o.Versions[kind] = v
}

// Version is the version of kind the configs target; known is false, and
// v the proxy's oldest supported version, when nothing names it.
func (o Options) Version(kind proxy.Kind) (v topology.Version, known bool) {
	if v, ok := o.Versions[kind]; ok && v != (topology.Version{}) {
		return v, true
	}
	if d, ok := proxy.Lookup(string(kind)); ok {
		return d.MinVersion, false
	}
	return topology.Version{}, false
}

func (o Options) haproxyVersion() (topology.Version, bool) { return o.Version(haproxy.Descriptor.Name) }

func (o Options) nginxVersion() (topology.Version, bool) { return o.Version(nginx.Descriptor.Name) }

// Rule is one check. Engine rules (WSLB001, WSLB002) have no check
// function: the validate stage emits them itself.
type Rule struct {
	finding.Rule
	// Proxy is the proxy the rule checks ("haproxy", "nginx"), or "" for
	// both built-in ones.
	Proxy string
	// Version marks a rule whose findings name what the target version
	// of the proxy rejects: such a finding explains a parse error on its
	// line, and one per line is enough.
	Version bool
	HAProxy func(*HAProxyPass)
	Nginx   func(*NginxPass)
	// File checks a config of Proxy when validate has no parser of its
	// own for it: the rules of a proxy registered from outside wslb's
	// built-in packages.
	File func(*FilePass)
}

var (
	registryMu sync.Mutex
	registry   = map[string]*Rule{}
)

// Register adds a rule from outside this package, for the proxy named in
// r.Proxy, at init; a duplicate ID is a programming error.
func Register(r *Rule) {
	if r.Proxy == "" || r.File == nil {
		panic(fmt.Sprintf("rules: rule %s registered from outside needs Proxy and File", r.ID))
	}
	register(r)
}

// register adds a rule at init; a duplicate ID is a programming error.
func register(r *Rule) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[r.ID]; dup {
		panic(fmt.Sprintf("rules: duplicate rule ID %s", r.ID))
	}
	registry[r.ID] = r
}

// All returns every rule sorted by ID.
func All() []*Rule {
	registryMu.Lock()
	defer registryMu.Unlock()
	out := make([]*Rule, 0, len(registry))
	for _, r := range registry {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ByID returns the rule with that ID, or nil.
func ByID(id string) *Rule {
	registryMu.Lock()
	defer registryMu.Unlock()
	return registry[id]
}

// HAProxyPass is what a rule sees of one HAProxy file.
type HAProxyPass struct {
	Config *haproxy.Config
	Opts   Options
	WS     *haproxy.WebSockets
	rule   *Rule
	out    *[]finding.Finding
}

// Report records a finding at a directive.
func (p *HAProxyPass) Report(d *haproxy.Directive, msg, fix string) {
	p.report(d.Line, d.Column, msg, fix)
}

// ReportArg records a finding at a directive's i-th argument.
func (p *HAProxyPass) ReportArg(d *haproxy.Directive, i int, msg, fix string) {
	col := d.Column
	if i >= 0 && i < len(d.ArgColumns) {
		col = d.ArgColumns[i]
	}
	p.report(d.Line, col, msg, fix)
}

// ReportSection records a finding at a section's header line.
func (p *HAProxyPass) ReportSection(s *haproxy.Section, msg, fix string) {
	p.report(s.Line, s.Column, msg, fix)
}

// ReportFile records a finding about the file as a whole (line 1).
func (p *HAProxyPass) ReportFile(msg, fix string) { p.report(1, 0, msg, fix) }

func (p *HAProxyPass) report(line, col int, msg, fix string) {
	*p.out = append(*p.out, newFinding(p.rule, p.Config.File, line, col, msg, fix))
}

// NginxPass is what a rule sees of one NGINX config and its includes.
type NginxPass struct {
	Config *nginx.Config
	Opts   Options
	WS     *nginx.WebSockets
	rule   *Rule
	out    *[]finding.Finding
}

// Report records a finding at a directive.
func (p *NginxPass) Report(n *nginx.Node, msg, fix string) {
	*p.out = append(*p.out, newFinding(p.rule, n.File, n.Line, n.Column, msg, fix))
}

// ReportFile records a finding about the main file as a whole (line 1).
func (p *NginxPass) ReportFile(msg, fix string) {
	*p.out = append(*p.out, newFinding(p.rule, p.Config.File, 1, 0, msg, fix))
}

func newFinding(r *Rule, file string, line, col int, msg, fix string) finding.Finding {
	if fix == "" {
		fix = r.Fix
	}
	return finding.Finding{
		Rule: r.ID, Slug: r.Slug, Severity: r.Severity,
		File: file, Line: line, Column: col, Message: msg, Fix: fix,
	}
}

// CheckHAProxy runs every HAProxy rule not in disabled over c.
func CheckHAProxy(c *haproxy.Config, opts Options, disabled map[string]bool) []finding.Finding {
	var out []finding.Finding
	ws := haproxy.DetectWebSockets(c, opts.WebSocketAll)
	for _, r := range All() {
		if r.HAProxy == nil || disabled[r.ID] {
			continue
		}
		r.HAProxy(&HAProxyPass{Config: c, Opts: opts, WS: ws, rule: r, out: &out})
	}
	return out
}

// CheckNginx runs every NGINX rule not in disabled over c.
func CheckNginx(c *nginx.Config, opts Options, disabled map[string]bool) []finding.Finding {
	var out []finding.Finding
	if len(c.Root) == 0 {
		return nil // nothing parsed (a syntax error, reported as WSLB001)
	}
	ws := nginx.DetectWebSockets(c, opts.WebSocketAll)
	for _, r := range All() {
		if r.Nginx == nil || disabled[r.ID] {
			continue
		}
		r.Nginx(&NginxPass{Config: c, Opts: opts, WS: ws, rule: r, out: &out})
	}
	return out
}

// FilePass is what a rule of a proxy without a parser in validate sees
// of one file: its name and text, and what the proxy's Loader made of it.
type FilePass struct {
	File string
	Text []byte
	// Model is the proxy's Loader's reading of the file; nil when the
	// proxy registered none.
	Model any
	Opts  Options
	rule  *Rule
	out   *[]finding.Finding
}

// Report records a finding at line and column (from 1; column 0 for the
// whole line).
func (p *FilePass) Report(line, col int, msg, fix string) {
	*p.out = append(*p.out, newFinding(p.rule, p.File, line, col, msg, fix))
}

// Loader reads one file of a proxy validate has no parser of its own for,
// once for all of the proxy's File rules.
type Loader func(file string, text []byte, opts Options) Loaded

// Loaded is what a Loader made of a file.
type Loaded struct {
	// Model is handed to every File rule as FilePass.Model.
	Model any
	// Problems are the parts that could not be read: WSLB001 findings.
	Problems []Problem
	// Blocks are the file's blocks (say, a YAML document's object): a
	// wslb:ignore comment on a block's first line covers all of it.
	Blocks []Block
}

// Problem is a part of a file a Loader could not read.
type Problem struct {
	Line, Column int
	Message      string
}

// Block is a span of lines.
type Block struct{ Start, End int }

var loaders = proxy.NewPerKind[Loader]("config loader")

// RegisterLoader adds the Loader of the proxy kind, from its package's
// init.
func RegisterLoader(kind string, l Loader) { loaders.Register(proxy.Kind(kind), l) }

// CheckFile runs every rule of proxy kind not in disabled over the file,
// after the kind's Loader (if any) has read it; it returns the findings
// (the Loader's problems as WSLB001) and the file's blocks.
func CheckFile(kind, file string, text []byte, opts Options, disabled map[string]bool) ([]finding.Finding, []Block) {
	var out []finding.Finding
	var loaded Loaded
	if load := loaders.Get(proxy.Kind(kind)); load != nil {
		loaded = load(file, text, opts)
		parse := ByID(ParseErrorID)
		for _, p := range loaded.Problems {
			out = append(out, newFinding(parse, file, p.Line, p.Column, p.Message, ""))
		}
	}
	for _, r := range All() {
		if r.File == nil || r.Proxy != kind || disabled[r.ID] {
			continue
		}
		r.File(&FilePass{File: file, Text: text, Model: loaded.Model, Opts: opts, rule: r, out: &out})
	}
	return out, loaded.Blocks
}

// formatDuration prints a duration the way configs write it: whole hours
// as "1h", long whole minutes as "15m", anything else in seconds.
func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= 10*time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}
