package driver

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/wslb/wslb/internal/words"
)

// Default is the driver verify uses unless told otherwise.
const Default = "loopback"

// Descriptor is what wslb knows about one driver.
type Descriptor struct {
	// Name is how --driver spells it.
	Name string
	// Summary is one line for help and completion.
	Summary string
	// Open starts a run.
	Open func(ctx context.Context, opts Options) (Env, error)
	// Cleanup removes what runs killed before their teardown left behind
	// (scratch dirs, namespaces, containers) and names each thing it
	// removed. Nil when the driver leaves nothing.
	Cleanup func(ctx context.Context) ([]string, error)
}

var (
	mu       sync.RWMutex
	registry []*Descriptor
)

// Register adds d; a second driver with the same name is a programming
// error.
func Register(d *Descriptor) {
	if d.Name == "" || d.Open == nil {
		panic(fmt.Sprintf("driver: descriptor %q needs a name and Open", d.Name))
	}
	mu.Lock()
	defer mu.Unlock()
	if lookup(d.Name) != nil {
		panic(fmt.Sprintf("driver: %q registered twice", d.Name))
	}
	registry = append(registry, d)
	slices.SortFunc(registry, func(a, b *Descriptor) int { return strings.Compare(a.Name, b.Name) })
}

// All returns every registered driver, by name.
func All() []*Descriptor {
	mu.RLock()
	defer mu.RUnlock()
	return slices.Clone(registry)
}

// Names returns the names of every registered driver: the choices of
// --driver.
func Names() []string {
	var out []string
	for _, d := range All() {
		out = append(out, d.Name)
	}
	return out
}

// Lookup finds a driver by name; "" means Default.
func Lookup(name string) (*Descriptor, error) {
	if name == "" {
		name = Default
	}
	mu.RLock()
	defer mu.RUnlock()
	if d := lookup(name); d != nil {
		return d, nil
	}
	return nil, fmt.Errorf("unknown driver %q: want %s", name, choices())
}

func lookup(name string) *Descriptor {
	for _, d := range registry {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// choices lists the registered names for messages: "a, b or c".
func choices() string {
	var names []string
	for _, d := range registry {
		names = append(names, d.Name)
	}
	if len(names) == 0 {
		return "none (no driver is registered)"
	}
	return words.Or(names)
}
