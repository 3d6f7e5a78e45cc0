package topology

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"

	"github.com/wslb/wslb/internal/words"
)

// Targets are the proxy versions the generated configs must run on.
type Targets struct {
	// Versions holds, by proxy name, the version of every target proxy
	// (see RegisterTarget): the one the target block names, else the
	// proxy's oldest supported version.
	Versions map[string]Version
	Range    hcl.Range
}

// Version is the version of the proxy named name the configs must run
// on; zero when it is no target proxy.
func (t Targets) Version(name string) Version { return t.Versions[name] }

// TargetProxy is a proxy a topology's target block may name.
type TargetProxy struct {
	// Name is the block's argument, the proxy's kind ("haproxy").
	Name string
	// Title is the proxy's name in messages ("HAProxy").
	Title string
	// Oldest is the oldest version wslb writes configs for: older is an
	// error, and it is the target when the block names none.
	Oldest Version
}

var (
	targetsMu     sync.RWMutex
	targetProxies = map[string]TargetProxy{}
)

// RegisterTarget adds a proxy the target block may name. The proxy
// registry calls it for every proxy whose versions it tells apart, so
// that this package knows no proxy by name; a second one of a name is a
// programming error.
func RegisterTarget(p TargetProxy) {
	targetsMu.Lock()
	defer targetsMu.Unlock()
	if p.Name == "" || p.Oldest == (Version{}) {
		panic(fmt.Sprintf("topology: target proxy %q needs a name and an oldest version", p.Name))
	}
	if _, dup := targetProxies[p.Name]; dup {
		panic(fmt.Sprintf("topology: target proxy %q registered twice", p.Name))
	}
	targetProxies[p.Name] = p
}

// TargetProxies lists the proxies the target block may name, by name.
func TargetProxies() []TargetProxy {
	targetsMu.RLock()
	defer targetsMu.RUnlock()
	return slices.SortedFunc(maps.Values(targetProxies), func(a, b TargetProxy) int { return strings.Compare(a.Name, b.Name) })
}

// DefaultTargets are the targets of a topology without a target block:
// every target proxy's oldest supported version.
func DefaultTargets() Targets {
	t := Targets{Versions: map[string]Version{}}
	for _, p := range TargetProxies() {
		t.Versions[p.Name] = p.Oldest
	}
	return t
}

// targetSchema is the target block's schema: one argument per target
// proxy.
func targetSchema(proxies []TargetProxy) *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, p := range proxies {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: p.Name})
	}
	return s
}

func (d *decoder) decodeTargets(b *hcl.Block, t *Targets) {
	proxies := TargetProxies()
	before := len(d.diags)
	a, rng := d.topBlock(b, targetSchema(proxies))
	// HCL's message for an argument the block does not take says what it
	// takes.
	var names []string
	for _, p := range proxies {
		names = append(names, fmt.Sprintf("%q", p.Name))
	}
	known := " No proxy takes a target version here."
	if len(names) > 0 {
		known = " A target names the version of " + words.Or(names) + "."
	}
	for _, diag := range d.diags[before:] {
		if diag.Summary == "Unsupported argument" {
			diag.Detail += known
		}
	}
	*t = DefaultTargets()
	t.Range = rng
	for _, p := range proxies {
		var s string
		if !a.str(p.Name, &s, nil) {
			continue
		}
		v, err := ParseVersion(s)
		if err != nil {
			d.grammarError(a.at(p.Name), err)
			a.reject(p.Name)
			continue
		}
		if min := p.Oldest; !v.AtLeast(min.Major, min.Minor, min.Patch) {
			d.errorf(a.at(p.Name), "Unsupported "+p.Title+" version",
				"wslb generates configs for %s %d.%d or newer; %q is older. Upgrade %s or remove the argument.",
				p.Title, min.Major, min.Minor, s, p.Title)
			continue
		}
		t.Versions[p.Name] = v
	}
}
