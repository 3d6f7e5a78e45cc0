// Package proxy is the registry of the proxies wslb knows. Each proxy
// package (proxy/haproxy, proxy/nginx) registers a Descriptor from its
// init; commands, shell completion, help texts and kind detection read the
// registry, so supporting another proxy is adding a package, not a case in
// every switch. Import proxy/all to register every built-in proxy.
//
// This package knows no concrete proxy.
package proxy

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/words"
	"github.com/wslb/wslb/topology"
)

// Kind names a proxy ("haproxy", "nginx").
type Kind = proxybin.Kind

// Descriptor is what wslb knows about one proxy.
type Descriptor struct {
	// Name is the proxy's kind, as flags and reports spell it.
	Name Kind
	// Aliases are other spellings Lookup accepts; they are never listed
	// in choices or completion.
	Aliases []string
	// Title is the proxy's name in prose ("HAProxy").
	Title string
	// ConfigName is the conventional file name of its main config
	// ("haproxy.cfg"), used for generated and rewritten configs.
	ConfigName string
	// Detect weighs how much a file looks like a config of this proxy.
	// A ConfigOnly target may leave it nil: then nothing reads its
	// configs back.
	Detect func(path string, content []byte) Evidence
	// Run says how a driver runs the proxy in the foreground; nil when
	// wslb cannot run it.
	Run func(RunRequest) (RunPlan, error)
	// CheckArgs is the command line after the binary that makes bin
	// check the config at the absolute path abs without running it
	// (validate --exec, and verify when the proxy does not start); nil
	// when wslb cannot check the proxy's configs with its binary.
	CheckArgs func(bin proxybin.Binary, abs string) []string
	// VersionArgs is the command line after the binary that makes it
	// print its version, and ParseVersion reads the version from that
	// output (proxybin.VersionAfter reads most). A proxy whose binary
	// wslb finds (CheckArgs, Run) needs ParseVersion: finding a binary
	// reads its version.
	VersionArgs  []string
	ParseVersion func(output string) (topology.Version, error)
	// CheckOutput reads the errors in the output of that check (see
	// CheckMessages); nil reads the whole output as one error.
	CheckOutput func(output string) []CheckMessage
	// ContainerCommand is the command line that runs the proxy in the
	// foreground in a container of its official image, with config (a
	// config generated in runtime mode for dir) mounted at the absolute
	// path config; nil when wslb has none. generate --proxy compose
	// offers the proxies that have one.
	ContainerCommand func(config, dir string) []string
	// MinVersion is the oldest version of the proxy wslb writes configs
	// for, which validate's version rules assume when nothing names the
	// target; zero when wslb tells no versions of it apart (validate then
	// offers no --NAME-version flag). A proxy with one is a target proxy
	// of topologies: their target block may name its version (NAME =
	// "1.2"), at least MinVersion.
	MinVersion topology.Version
	// CapLimits lowers the connection and descriptor limits a config
	// sets to what this machine allows (maxConns proxied connections,
	// nofile descriptors), keeping its line numbers; nil when the proxy
	// starts whatever the config asks for.
	CapLimits func(config []byte, maxConns, nofile int) []byte
	// Fallback marks the proxy verify reads a config as when nothing
	// tells which proxy it is for (at most one sets it).
	Fallback bool
	// ConfigOnly marks a target wslb writes configs for but never runs
	// (Istio: Envoy cannot be installed here). generate writes it only
	// when it is named, and All, Names, Kinds and Lookup leave it out, so
	// verify and a plain `generate -o DIR` never meet it. With a Detect it
	// is still read back: Detect tells its files apart and validate lints
	// them (Readable, LookupReadable).
	ConfigOnly bool
	// KubernetesServices marks a target that sends a pool to a Kubernetes
	// Service by name (a pool's kubernetes_service). Generating for a
	// target without it refuses such pools: it needs server addresses.
	KubernetesServices bool
}

// Binary finds the proxy's executable (the one $WSLB_<NAME> names, else
// the one in PATH) and reads its version.
func (d *Descriptor) Binary() (proxybin.Binary, error) { return proxybin.Lookup(d.Name) }

// EnvVar is the environment variable that selects the proxy's binary.
func (d *Descriptor) EnvVar() string { return proxybin.EnvVar(d.Name) }

// Evidence is a detector's judgement of one file.
type Evidence struct {
	// Content grows with every line that reads as this proxy's syntax;
	// zero when nothing does.
	Content int
	// Name is the hint the path gives: 3 when the file's name contains
	// the proxy's name, 2 for its usual extension, 1 when a directory
	// of the path is named after it.
	Name int
}

var (
	mu       sync.RWMutex
	registry []*Descriptor
)

// Register adds d; a second proxy with the same name or alias is a
// programming error.
func Register(d *Descriptor) {
	if d.Name == "" || (d.Detect == nil && !d.ConfigOnly) || d.ConfigName == "" {
		panic(fmt.Sprintf("proxy: descriptor %q needs a name, a config name and a detector", d.Name))
	}
	if (d.CheckArgs != nil || d.Run != nil) && d.ParseVersion == nil {
		panic(fmt.Sprintf("proxy: descriptor %q runs its binary but cannot read its version (ParseVersion)", d.Name))
	}
	mu.Lock()
	defer mu.Unlock()
	if d.Fallback && slices.ContainsFunc(registry, func(r *Descriptor) bool { return r.Fallback }) {
		panic(fmt.Sprintf("proxy: %q is a second fallback proxy", d.Name))
	}
	for _, name := range append([]string{string(d.Name)}, d.Aliases...) {
		if lookup(name, true) != nil {
			panic(fmt.Sprintf("proxy: %q registered twice", name))
		}
	}
	registry = append(registry, d)
	if d.MinVersion != (topology.Version{}) {
		topology.RegisterTarget(topology.TargetProxy{Name: string(d.Name), Title: d.Title, Oldest: d.MinVersion})
	}
	if d.ParseVersion != nil {
		proxybin.RegisterVersioner(d.Name, proxybin.Versioner{Args: d.VersionArgs, Parse: d.ParseVersion})
	}
	if d.CheckArgs != nil {
		proxybin.RegisterChecker(d.Name, proxybin.Checker{Args: d.CheckArgs, ConfigName: d.ConfigName})
	}
	slices.SortFunc(registry, func(a, b *Descriptor) int { return strings.Compare(string(a.Name), string(b.Name)) })
}

// All returns every registered proxy wslb runs and reads, by name (not
// the ConfigOnly targets).
func All() []*Descriptor {
	return slices.DeleteFunc(Targets(), func(d *Descriptor) bool { return d.ConfigOnly })
}

// Targets returns every registered proxy generate can write for, by name:
// All and the ConfigOnly targets.
func Targets() []*Descriptor {
	mu.RLock()
	defer mu.RUnlock()
	return slices.Clone(registry)
}

// TargetNames returns the names of Targets: the choices of generate's
// --proxy flag.
func TargetNames() []string { return names(Targets()) }

// Names returns the names of every registered proxy, by name: the choices
// a --proxy flag offers.
func Names() []string { return names(All()) }

func names(ds []*Descriptor) []string {
	var out []string
	for _, d := range ds {
		out = append(out, string(d.Name))
	}
	return out
}

// Kinds returns the kinds of every registered proxy, by name.
func Kinds() []Kind {
	var out []Kind
	for _, d := range All() {
		out = append(out, d.Name)
	}
	return out
}

// Runnable returns the kinds of every registered proxy a driver can run
// (those with Run), by name: what verify runs when no proxy is named.
func Runnable() []Kind {
	var out []Kind
	for _, d := range All() {
		if d.Run != nil {
			out = append(out, d.Name)
		}
	}
	return out
}

// Fallback is the proxy that reads configs nothing tells apart, nil if
// none is registered.
func Fallback() *Descriptor {
	for _, d := range All() {
		if d.Fallback {
			return d
		}
	}
	return nil
}

// Target is the version of d a topology's targets ask for (its
// MinVersion when they name none); zero when d is no target proxy.
func (d *Descriptor) Target(t topology.Targets) topology.Version {
	return t.Version(string(d.Name))
}

// Readable returns every registered proxy whose configs wslb reads (those
// with a detector), by name: All and the ConfigOnly targets validate
// lints.
func Readable() []*Descriptor {
	return slices.DeleteFunc(Targets(), func(d *Descriptor) bool { return d.Detect == nil })
}

// ReadableNames returns the names of Readable: the choices of validate's
// --proxy flag.
func ReadableNames() []string { return names(Readable()) }

// LookupReadable finds a proxy of Readable by name or alias.
func LookupReadable(name string) (*Descriptor, bool) {
	d, ok := LookupTarget(name)
	if !ok || d.Detect == nil {
		return nil, false
	}
	return d, true
}

// Lookup finds a proxy of All by name or alias.
func Lookup(name string) (*Descriptor, bool) {
	mu.RLock()
	defer mu.RUnlock()
	d := lookup(name, false)
	return d, d != nil
}

// LookupTarget finds any target, ConfigOnly ones included, by name or
// alias.
func LookupTarget(name string) (*Descriptor, bool) {
	mu.RLock()
	defer mu.RUnlock()
	d := lookup(name, true)
	return d, d != nil
}

func lookup(name string, configOnly bool) *Descriptor {
	for _, d := range registry {
		if d.ConfigOnly && !configOnly {
			continue
		}
		if string(d.Name) == name || slices.Contains(d.Aliases, name) {
			return d
		}
	}
	return nil
}

// Choices lists the registered names for messages: "haproxy or nginx",
// "a, b or c".
func Choices() string {
	if names := Names(); len(names) > 0 {
		return words.Or(names)
	}
	return "none"
}
