// Package roster keeps a run's backends by server id, in start order,
// each at an address of its own: the netns and docker drivers' Backends
// answer IDs, Addr and IDByAddr from one.
package roster

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
)

// Roster holds backends of type B. The zero value is empty and ready.
type Roster[B any] struct {
	mu    sync.Mutex
	order []string
	byID  map[string]entry[B]
}

type entry[B any] struct {
	addr netip.AddrPort
	b    B
}

// Add adds b as server id at addr; an id twice is an error.
func (r *Roster[B]) Add(id string, addr netip.AddrPort, b B) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.byID[id]; dup {
		return fmt.Errorf("start backends: duplicate server id %q", id)
	}
	if r.byID == nil {
		r.byID = map[string]entry[B]{}
	}
	r.byID[id] = entry[B]{addr, b}
	r.order = append(r.order, id)
	return nil
}

// Get is server id's backend.
func (r *Roster[B]) Get(id string) (B, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.byID[id]
	if !ok {
		return e.b, fmt.Errorf("backend: unknown server %q", id)
	}
	return e.b, nil
}

// IDs lists the server ids in the order they were added.
func (r *Roster[B]) IDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.order)
}

// Addr is server id's address ("" if unknown).
func (r *Roster[B]) Addr(id string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.byID[id]
	if !ok {
		return ""
	}
	return e.addr.String()
}

// IDByAddr finds the server at addr ("HOST:PORT", as a proxy reports it).
func (r *Roster[B]) IDByAddr(addr string) (string, bool) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return "", false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, e := range r.byID {
		if e.addr == ap {
			return id, true
		}
	}
	return "", false
}
