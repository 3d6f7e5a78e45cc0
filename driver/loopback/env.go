package loopback

import "errors"

// Env holds what one verification run started, so one Close tears it all
// down in the right order: the proxy first (it holds connections to the
// backends), then the backends, then the scratch dir. Fields may be nil.
type Env struct {
	Scratch  *Scratch
	Backends *Backends
	Proxy    *Proxy
}

// Close tears everything down. It is idempotent.
func (e *Env) Close() error {
	if e == nil {
		return nil
	}
	return errors.Join(e.Proxy.Close(), e.Backends.Close(), e.Scratch.Close())
}
