package netfault

import (
	"context"
	"sync"

	"github.com/wslb/wslb/driver"
)

// Held is the faults a run has on: each fault's undo, made safe to call
// twice (by the caller and by the run's teardown), and lifted together
// when the run closes.
type Held struct {
	mu   sync.Mutex
	undo []driver.Undo
}

// Hold remembers undo and returns it, safe to call more than once: the
// first call lifts the fault, later ones return its result.
func (h *Held) Hold(undo driver.Undo) driver.Undo {
	once := sync.OnceValue(func() error { return undo(context.Background()) })
	lift := func(context.Context) error { return once() }
	h.mu.Lock()
	h.undo = append(h.undo, lift)
	h.mu.Unlock()
	return lift
}

// LiftAll lifts every fault still on, the last made first. Errors are
// dropped: the run's nodes go next anyway.
func (h *Held) LiftAll() {
	h.mu.Lock()
	undo := h.undo
	h.undo = nil
	h.mu.Unlock()
	for i := len(undo) - 1; i >= 0; i-- {
		_ = undo[i](context.Background())
	}
}
