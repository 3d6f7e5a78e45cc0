package driver

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// FaultKind names what a fault does to one backend.
type FaultKind string

// The fault vocabulary. Every fault targets one backend (a server id) and
// leaves the others alone.
const (
	// FaultLoss drops Percent of the packets on the backend's link.
	FaultLoss FaultKind = "loss"
	// FaultRate limits the backend's link to Rate bits per second.
	FaultRate FaultKind = "rate"
	// FaultDown takes the backend's link down.
	FaultDown FaultKind = "down"
	// FaultPause freezes the backend's process (SIGSTOP, docker pause):
	// its connections stay open and nothing answers.
	FaultPause FaultKind = "pause"
	// FaultPartition cuts the proxy off from the backend (both ways);
	// clients and other hosts still reach it.
	FaultPartition FaultKind = "partition"
	// FaultDelay adds Delay to every packet between the proxy and the
	// backend.
	FaultDelay FaultKind = "delay"
)

// FaultKinds lists the vocabulary, for help and completion.
var FaultKinds = []FaultKind{FaultLoss, FaultRate, FaultDown, FaultPause, FaultPartition, FaultDelay}

// Fault is one fault on one backend. Only the field its kind names is set.
type Fault struct {
	Kind FaultKind
	// Backend is the server id the fault targets.
	Backend string
	// Percent is FaultLoss's share of dropped packets, 1 to 100.
	Percent int
	// Rate is FaultRate's limit, in bits per second.
	Rate uint64
	// Delay is FaultDelay's added latency.
	Delay time.Duration
}

// Undo lifts a fault. It is safe to call once the run is torn down.
type Undo func(ctx context.Context) error

// FaultNotSupported is the error of a driver that cannot inject f.
func FaultNotSupported(driver string, f Fault) error {
	return NotSupported(driver, "fault "+f.String())
}

// String is the fault's spec: ParseFault reads it back.
func (f Fault) String() string {
	switch f.Kind {
	case FaultLoss:
		return fmt.Sprintf("%s:%s:%d%%", f.Kind, f.Backend, f.Percent)
	case FaultRate:
		return fmt.Sprintf("%s:%s:%s", f.Kind, f.Backend, formatRate(f.Rate))
	case FaultDelay:
		return fmt.Sprintf("%s:%s:%s", f.Kind, f.Backend, f.Delay)
	}
	return fmt.Sprintf("%s:%s", f.Kind, f.Backend)
}

// serverID is the grammar of a backend's id in a spec (topology names), at
// most maxServerID characters: checked apart, since a counted repetition
// ({0,62}) compiles to 62 copies, about 60 KB at every wslb start.
var serverID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

const maxServerID = 63

// maxDelay bounds FaultDelay: longer ones only time every check out.
const maxDelay = 10 * time.Second

// ParseFault reads a fault spec, KIND:BACKEND[:VALUE]:
//
//	loss:app2:5%   rate:app1:1mbit   down:app3   pause:app2
//	partition:app1 delay:app2:50ms
func ParseFault(spec string) (Fault, error) {
	parts := strings.Split(strings.TrimSpace(spec), ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Fault{}, fmt.Errorf("fault %q: want KIND:BACKEND[:VALUE], e.g. loss:app2:5%%", spec)
	}
	f := Fault{Kind: FaultKind(parts[0]), Backend: parts[1]}
	if len(f.Backend) > maxServerID || !serverID.MatchString(f.Backend) {
		return Fault{}, fmt.Errorf("fault %q: %q is not a server id", spec, f.Backend)
	}
	value := ""
	if len(parts) == 3 {
		value = parts[2]
	}
	needs := func(what string) error {
		if value == "" {
			return fmt.Errorf("fault %q: %s needs %s, e.g. %s", spec, f.Kind, what, example(f.Kind))
		}
		return nil
	}
	switch f.Kind {
	case FaultLoss:
		if err := needs("a percentage"); err != nil {
			return Fault{}, err
		}
		n, err := strconv.Atoi(strings.TrimSuffix(value, "%"))
		if err != nil || n < 1 || n > 100 {
			return Fault{}, fmt.Errorf("fault %q: loss must be 1%% to 100%%, not %q", spec, value)
		}
		f.Percent = n
	case FaultRate:
		if err := needs("a rate"); err != nil {
			return Fault{}, err
		}
		r, err := parseRate(value)
		if err != nil {
			return Fault{}, fmt.Errorf("fault %q: %w", spec, err)
		}
		f.Rate = r
	case FaultDelay:
		if err := needs("a duration"); err != nil {
			return Fault{}, err
		}
		d, err := time.ParseDuration(value)
		if err != nil || d <= 0 || d > maxDelay {
			return Fault{}, fmt.Errorf("fault %q: delay must be a duration above 0 and at most %s, not %q", spec, maxDelay, value)
		}
		f.Delay = d
	case FaultDown, FaultPause, FaultPartition:
		if value != "" {
			return Fault{}, fmt.Errorf("fault %q: %s takes no value", spec, f.Kind)
		}
	default:
		var kinds []string
		for _, k := range FaultKinds {
			kinds = append(kinds, string(k))
		}
		return Fault{}, fmt.Errorf("fault %q: unknown kind %q, want one of %s", spec, parts[0], strings.Join(kinds, ", "))
	}
	return f, nil
}

func example(k FaultKind) string {
	switch k {
	case FaultLoss:
		return "loss:app2:5%"
	case FaultRate:
		return "rate:app1:1mbit"
	case FaultDelay:
		return "delay:app2:50ms"
	}
	return string(k) + ":app1"
}

// rateUnits are tc's spellings, in bits per second.
var rateUnits = []struct {
	suffix string
	mult   uint64
}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}}

// parseRate reads "1mbit", "500kbit", "2gbit" or "8000bit".
func parseRate(s string) (uint64, error) {
	for _, u := range rateUnits {
		if num, ok := strings.CutSuffix(strings.ToLower(s), u.suffix); ok {
			n, err := strconv.ParseUint(num, 10, 32)
			if err != nil || n == 0 {
				break
			}
			if r := n * u.mult; r >= 8000 {
				return r, nil
			}
		}
	}
	return 0, fmt.Errorf("rate must be a whole number of bit, kbit, mbit or gbit per second, at least 8000bit, not %q", s)
}

func formatRate(r uint64) string {
	for _, u := range rateUnits {
		if r%u.mult == 0 {
			return fmt.Sprintf("%d%s", r/u.mult, u.suffix)
		}
	}
	return fmt.Sprintf("%dbit", r)
}
