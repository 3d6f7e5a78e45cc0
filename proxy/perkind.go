package proxy

import (
	"fmt"
	"sync"
)

// PerKind holds one V per proxy kind, registered by the proxy's package
// from init: its generator, its config loader, its failure model. Packages
// that must not import the concrete proxies keep their part of a proxy in
// one of these.
type PerKind[V any] struct {
	what string
	mu   sync.RWMutex
	m    map[Kind]V
}

// NewPerKind returns an empty table; what names its values in the panic
// for a second registration.
func NewPerKind[V any](what string) *PerKind[V] {
	return &PerKind[V]{what: what, m: map[Kind]V{}}
}

// Register adds kind's value. A second value for a kind is a programming
// error.
func (p *PerKind[V]) Register(kind Kind, v V) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, dup := p.m[kind]; dup {
		panic(fmt.Sprintf("%s for %q registered twice", p.what, kind))
	}
	p.m[kind] = v
}

// Get is kind's value, the zero V when none is registered.
func (p *PerKind[V]) Get(kind Kind) V {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.m[kind]
}
