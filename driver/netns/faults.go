package netns

import (
	"context"

	"github.com/wslb/wslb/driver"
)

// supported are the faults this driver injects.
var supported = map[driver.FaultKind]bool{
	driver.FaultPause: true,
}

// Fault injects f on its backend's host and returns what lifts it.
func (e *Env) Fault(ctx context.Context, f driver.Fault) (driver.Undo, error) {
	e.mu.Lock()
	b := e.backends
	e.mu.Unlock()
	if b == nil {
		return nil, driver.FaultNotSupported(Name, f)
	}
	switch f.Kind {
	case driver.FaultPause:
		if err := b.Pause(ctx, f.Backend); err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return b.Resume(ctx, f.Backend) }, nil
	}
	return nil, driver.FaultNotSupported(Name, f)
}
