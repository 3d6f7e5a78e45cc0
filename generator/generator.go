// Package generator turns a loaded topology into the configs of the
// proxies whose generators are registered (Register). The HAProxy and
// NGINX builders live here (haproxy.go, nginx.go) and register themselves
// as any proxy's package does; they stay in this package because it reads
// the proxy registry (it imports proxy/all), so proxy/haproxy and
// proxy/nginx cannot import it.
//
// Each proxy has a view model (haproxyView, nginxView) computed in Go from
// the topology; the embedded templates only walk and print it. Output is
// deterministic: the same topology and options always give the same bytes.
// The package does no file I/O.
package generator

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"text/template"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy"
	_ "github.com/wslb/wslb/proxy/all" // the descriptors of the built-in generators
	"github.com/wslb/wslb/templates"
	"github.com/wslb/wslb/topology"
)

// Artifact is one generated config file.
type Artifact struct {
	// Name is the conventional file name: "haproxy.cfg" or "nginx.conf".
	Name  string
	Kind  proxybin.Kind
	Bytes []byte
}

// Runtime makes a config self-contained for running the proxy as a
// foreground process in a scratch directory: the pid file, logs, temporary
// files and HAProxy's stats socket all go under Dir.
type Runtime struct {
	// Dir is an absolute directory the proxy may write to.
	Dir string
	// ConsoleLogs sends the logs to the standard streams instead of
	// files in Dir: a container's logs are its output.
	ConsoleLogs bool
}

// Options tune generation.
type Options struct {
	// Kinds selects the proxies to generate for, in order; empty means
	// every registered proxy with a generator, by name (HAProxy, NGINX),
	// but no ConfigOnly target (Istio), which is written only when named.
	Kinds []proxybin.Kind
	// Runtime, when set, puts every path the proxy writes under Runtime.Dir
	// and keeps the proxy in the foreground; nil gives production paths.
	Runtime *Runtime
	// IdentityHeader, when set, makes the proxy add a response header of
	// this name carrying the name of the server that served the request.
	IdentityHeader string
	// FDLimit, when positive, is the hard file descriptor limit
	// (RLIMIT_NOFILE) on the machine that will run the proxies. A derived
	// connection budget (limits.max_conns not written) is then lowered so
	// that HAProxy can raise its limit to what it needs, and NGINX's
	// worker_rlimit_nofile stays within it. Zero keeps the budget as is.
	FDLimit int
}

// FileName returns the conventional config file name for kind, from the
// proxy registry ("" for a proxy it does not know).
func FileName(kind proxybin.Kind) string {
	if d, ok := proxy.LookupTarget(string(kind)); ok {
		return d.ConfigName
	}
	return ""
}

// Func builds one proxy's config for t.
type Func func(t *topology.Topology, opts Options) ([]byte, error)

// FilesFunc builds a target written as several files (a Docker Compose
// project: the compose file, the proxies' configs, a README). Names are
// relative to the output directory.
type FilesFunc func(t *topology.Topology, opts Options) ([]Artifact, error)

var (
	generators      = proxy.NewPerKind[Func]("generator")
	filesGenerators = proxy.NewPerKind[FilesFunc]("files generator")
)

// Register adds the generator of the proxy kind, which must be in the proxy
// registry. A proxy's package calls it from init, next to
// proxy.Register; a second generator for a kind is a programming error.
func Register(kind proxybin.Kind, f Func) { generators.Register(kind, f) }

// RegisterFiles is Register for a target written as several files; a
// kind has a Func or a FilesFunc, not both.
func RegisterFiles(kind proxybin.Kind, f FilesFunc) {
	if generators.Get(kind) != nil {
		panic(fmt.Sprintf("generator: %q has a single-file generator already", kind))
	}
	filesGenerators.Register(kind, f)
}

// fromView is the Func of a proxy whose view model build makes and whose
// template tmplName prints.
func fromView[V any](build func(*topology.Topology, Options) (V, error), tmplName string) Func {
	return func(t *topology.Topology, opts Options) ([]byte, error) {
		view, err := build(t, opts)
		if err != nil {
			return nil, err
		}
		return render(tmplName, view)
	}
}

// Generate renders the configs for t.
func Generate(t *topology.Topology, opts Options) ([]Artifact, error) {
	if t == nil {
		return nil, fmt.Errorf("generate: no topology")
	}
	if err := checkOptions(opts); err != nil {
		return nil, err
	}
	kinds := opts.Kinds
	if len(kinds) == 0 {
		for _, k := range proxy.Kinds() {
			if generators.Get(k) != nil {
				kinds = append(kinds, k)
			}
		}
	}
	var out []Artifact
	for _, kind := range kinds {
		gen, files, name := generators.Get(kind), filesGenerators.Get(kind), FileName(kind)
		if (gen == nil && files == nil) || name == "" {
			return nil, fmt.Errorf("generate: unknown proxy %q", kind)
		}
		if d, _ := proxy.LookupTarget(string(kind)); !d.KubernetesServices {
			if err := topology.CheckAddresses(t, d.Title, "it balances over the servers its config lists, and a Service's pods are not listed anywhere it can read"); err != nil {
				return nil, err
			}
		}
		if files != nil {
			arts, err := files(t, opts)
			if err != nil {
				return nil, fmt.Errorf("generate %s: %w", kind, err)
			}
			out = append(out, arts...)
			continue
		}
		b, err := gen(t, opts)
		if err != nil {
			return nil, fmt.Errorf("generate %s config: %w", kind, err)
		}
		out = append(out, Artifact{Name: name, Kind: kind, Bytes: b})
	}
	return out, nil
}

func checkOptions(opts Options) error {
	if opts.Runtime != nil {
		if err := checkFilePath(opts.Runtime.Dir); err != nil {
			return fmt.Errorf("generate: runtime dir: %w", err)
		}
	}
	if opts.IdentityHeader != "" {
		if err := topology.CheckHeaderName(opts.IdentityHeader); err != nil {
			return fmt.Errorf("generate: identity header: %w", err)
		}
	}
	return nil
}

// funcs format typed view fields; quoting stays in the view builders.
var funcs = template.FuncMap{
	"dur":     dur,
	"seconds": seconds,
	"words":   func(w []string) string { return strings.Join(w, " ") },
}

// tmpl is parsed on first use rather than at start, which every wslb
// process (an echo backend too) would pay for: about 140 KB and 2,600
// allocations.
var tmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("wslb").Funcs(funcs).Option("missingkey=error").ParseFS(templates.FS, "*.tmpl"))
})

func render(name string, view any) ([]byte, error) {
	var buf bytes.Buffer
	if err := tmpl().ExecuteTemplate(&buf, name, view); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// noAffinity adds to comments what a pool without affinity says, and
// returns rule (the proxy's rule asking for affinity) to suppress when the
// servers need none: validate would otherwise ask for affinity, as the
// loader would have.
func noAffinity(comments []string, p *topology.Pool, rule string) ([]string, string) {
	comments = append(comments, "No affinity: every request and handshake is balanced on its own.")
	switch {
	case p.Broker != nil:
		// The servers share messages through the broker.
		return append(comments, fmt.Sprintf("The servers share messages through a %s broker: no affinity needed.", p.Broker.Kind)), rule
	case p.Affinity.Declared:
		// The topology says the servers share state.
		return append(comments, "affinity { mode = \"none\" }: the servers share their state."), rule
	}
	return comments, ""
}
