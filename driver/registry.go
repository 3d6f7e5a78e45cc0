package driver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/wslb/wslb/internal/words"
)

// Auto is the --driver value that picks a driver (Pick): the default.
const Auto = "auto"

// Default is the driver verify uses unless told otherwise.
const Default = Auto

// Descriptor is what wslb knows about one driver.
type Descriptor struct {
	// Name is how --driver spells it.
	Name string
	// Summary is one line for help and completion.
	Summary string
	// Open starts a run.
	Open func(ctx context.Context, opts Options) (Env, error)
	// OwnNetwork says the driver's nodes live on networks of their own
	// (containers, namespaces): verify reaches them from the host's
	// network and does not run itself in a loopback-only namespace.
	OwnNetwork bool
	// Cleanup removes what runs killed before their teardown left behind
	// (scratch dirs, namespaces, containers) and names each thing it
	// removed. Nil when the driver leaves nothing.
	Cleanup func(ctx context.Context) ([]string, error)
	// Check says whether the driver can run here with needs (nil: yes),
	// and why not. Nil means it always can.
	Check func(needs Needs) error
	// AutoRank orders the drivers Auto tries, highest first; zero means
	// Auto never picks this one.
	AutoRank int
	// AutoCheck, when set, is what Auto asks beyond Check: a run the
	// driver can carry out when named, but that Auto should not give it
	// unasked (nil: Check alone).
	AutoCheck func(needs Needs) error
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

// Names returns the choices of --driver: Auto and every registered
// driver.
func Names() []string {
	out := []string{Auto}
	for _, d := range All() {
		out = append(out, d.Name)
	}
	return out
}

// Lookup finds a driver by name; "" means Default. Auto is a valid name
// with no descriptor of its own: Pick resolves it.
func Lookup(name string) (*Descriptor, error) {
	if name == "" {
		name = Default
	}
	if name == Auto {
		return &Descriptor{Name: Auto, Open: func(context.Context, Options) (Env, error) {
			return nil, errors.New("driver auto: resolve it with Pick first")
		}}, nil
	}
	mu.RLock()
	defer mu.RUnlock()
	if d := lookup(name); d != nil {
		return d, nil
	}
	return nil, fmt.Errorf("unknown driver %q: want %s", name, choices())
}

// Choice is the driver a --driver value resolved to, and why.
type Choice struct {
	Driver *Descriptor
	// Why says how it was chosen, for the report: named by --driver, or
	// auto's pick and why each driver ranked above it could not run.
	Why string
}

// Pick resolves a --driver value for a run with needs: a named driver
// must pass its Check; Auto ("" too) is the highest-ranked driver that
// does.
func Pick(name string, needs Needs) (*Descriptor, error) {
	c, err := Choose(name, needs)
	return c.Driver, err
}

// Choose is Pick, saying why.
func Choose(name string, needs Needs) (Choice, error) {
	if name != "" && name != Auto {
		d, err := Lookup(name)
		if err != nil {
			return Choice{}, err
		}
		if d.Check != nil {
			if err := d.Check(needs); err != nil {
				return Choice{}, fmt.Errorf("driver %s: %w", d.Name, err)
			}
		}
		return Choice{Driver: d, Why: "named by --driver"}, nil
	}
	var whyNot []string
	for _, d := range autoOrder() {
		err := error(nil)
		if d.Check != nil {
			err = d.Check(needs)
		}
		if err == nil && d.AutoCheck != nil {
			err = d.AutoCheck(needs)
		}
		if err != nil {
			whyNot = append(whyNot, fmt.Sprintf("%s: %v", d.Name, err))
			continue
		}
		why := "auto: ranks first and can run here"
		if len(whyNot) > 0 {
			why = "auto: the first that can run here (" + strings.Join(whyNot, "; ") + ")"
		}
		return Choice{Driver: d, Why: why}, nil
	}
	return Choice{}, fmt.Errorf("driver auto: no driver can run here (%s)", strings.Join(whyNot, "; "))
}

// AutoSummary says what Auto does, for help and completion: "the first
// that can run here of netns, loopback".
func AutoSummary() string {
	var names []string
	for _, d := range autoOrder() {
		names = append(names, d.Name)
	}
	return "the first that can run here of " + strings.Join(names, ", ")
}

// autoOrder are the drivers Auto tries, highest AutoRank first.
func autoOrder() []*Descriptor {
	ranked := slices.DeleteFunc(All(), func(d *Descriptor) bool { return d.AutoRank == 0 })
	slices.SortStableFunc(ranked, func(a, b *Descriptor) int { return b.AutoRank - a.AutoRank })
	return ranked
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
	names := []string{Auto}
	for _, d := range registry {
		names = append(names, d.Name)
	}
	return words.Or(names)
}
