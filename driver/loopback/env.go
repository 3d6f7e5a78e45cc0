package loopback

import (
	"context"
	"errors"
	"net/netip"
	"os"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/harness"
)

// Name is the driver's name for --driver.
const Name = "loopback"

func init() {
	driver.Register(&driver.Descriptor{
		Name:    Name,
		Summary: "every node a process on this host, on 127.0.0.0/8",
		Open:    Open,
		Cleanup: func(context.Context) ([]string, error) {
			return RemoveOrphans(os.TempDir()), nil
		},
		Check: func(needs driver.Needs) error {
			if len(needs.Faults) > 0 {
				return driver.FaultNotSupported(Name, needs.Faults[0])
			}
			return nil
		},
		AutoRank: 1, // runs anywhere: what auto falls back to
	})
}

// Env holds what one verification run started, so one Close tears it all
// down in the right order: the proxy first (it holds connections to the
// backends), then the backends, then the scratch dir. Fields may be nil.
// It is the loopback driver's driver.Env.
type Env struct {
	Scratch  *Scratch
	Backends *Backends
	Proxy    *Proxy
}

var (
	_ driver.Env      = (*Env)(nil)
	_ driver.Backends = (*Backends)(nil)
	_ driver.Proxy    = (*Proxy)(nil)
)

// Open starts a run of the loopback driver: a fresh scratch dir.
func Open(_ context.Context, _ driver.Options) (driver.Env, error) {
	s, err := NewScratch()
	if err != nil {
		return nil, err
	}
	return &Env{Scratch: s}, nil
}

// Driver is Name.
func (e *Env) Driver() string { return Name }

// Dir is the scratch dir.
func (e *Env) Dir() string { return e.Scratch.Dir }

// WriteFile writes a file inside the scratch dir (Scratch.WriteFile).
func (e *Env) WriteFile(name string, data []byte) (string, error) {
	return e.Scratch.WriteFile(name, data)
}

// StartBackends starts the backends in this process, each on a loopback
// port of its own (StartBackends).
func (e *Env) StartBackends(_ context.Context, spec driver.BackendSpec) (driver.Backends, error) {
	if e.Backends != nil {
		return nil, errors.New("start backends: this run has its backends already")
	}
	b, err := StartBackends(spec.IDs, spec.New)
	if err != nil {
		return nil, err
	}
	e.Backends = b
	return b, nil
}

// ListenAddrs hands out free loopback addresses (ListenAddrs).
func (e *Env) ListenAddrs(n int) ([]netip.AddrPort, error) { return ListenAddrs(n) }

// StartProxy starts the proxy as a child process (StartProxy) with the
// scratch dir as its directory.
func (e *Env) StartProxy(ctx context.Context, spec driver.ProxySpec) (driver.Proxy, error) {
	if e.Proxy != nil {
		return nil, errors.New("start proxy: this run has a proxy already")
	}
	p, err := StartProxy(ctx, ProxyOptions{
		Kind:         spec.Binary.Kind,
		Binary:       spec.Binary.Path,
		Config:       spec.Config,
		Dir:          e.Scratch.Dir,
		ReadyAddr:    spec.ReadyAddr,
		ReadyPath:    spec.ReadyPath,
		ReadyTimeout: spec.ReadyTimeout,
		StopGrace:    spec.StopGrace,
	})
	if err != nil {
		return nil, err
	}
	e.Proxy = p
	return p, nil
}

// Clients are this host's 127.X.Y.Z addresses (harness.SourceAddr).
func (e *Env) Clients() driver.Clients { return harness.LoopbackSources }

// Fault is not supported: every node shares this host's loopback, so no
// link of one backend can be cut, slowed or made lossy apart from the
// others.
func (e *Env) Fault(_ context.Context, f driver.Fault) (driver.Undo, error) {
	return nil, driver.FaultNotSupported(Name, f)
}

// Close tears everything down. It is idempotent.
func (e *Env) Close() error {
	if e == nil {
		return nil
	}
	return errors.Join(e.Proxy.Close(), e.Backends.Close(), e.Scratch.Close())
}
