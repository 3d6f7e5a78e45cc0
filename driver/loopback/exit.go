package loopback

import (
	"sync/atomic"
	"time"
)

// Exit records how a proxy ended: when, with what status, and whether its
// stop was asked for. The proxies of the loopback and docker drivers keep
// one each; NewExit makes it.
type Exit struct {
	done chan struct{}
	at   time.Time // valid once done is closed
	err  error     // the exit status, valid once done is closed
	// expected is set once a stop is asked for (Close began): an exit
	// after it is no death.
	expected atomic.Bool
}

// NewExit makes an Exit that has not happened yet.
func NewExit() *Exit { return &Exit{done: make(chan struct{})} }

// Record notes the exit, at at with status; call it once.
func (x *Exit) Record(at time.Time, status error) {
	x.at, x.err = at, status
	close(x.done)
}

// Exited is closed once the exit is recorded.
func (x *Exit) Exited() <-chan struct{} { return x.done }

// Err is the exit status once Exited is closed, else nil.
func (x *Exit) Err() error {
	select {
	case <-x.done:
		return x.err
	default:
		return nil
	}
}

// Expect marks an exit from now on as asked for.
func (x *Exit) Expect() { x.expected.Store(true) }

// Died reports an exit that was not asked for: when, and its status. ok
// is false while the proxy runs or when its stop was asked for.
func (x *Exit) Died() (at time.Time, status error, ok bool) {
	select {
	case <-x.done:
	default:
		return time.Time{}, nil, false
	}
	if x.expected.Load() {
		return time.Time{}, nil, false
	}
	return x.at, x.err, true
}
