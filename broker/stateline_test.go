package broker

import (
	"errors"
	"testing"
)

func TestStateLineRoundTrip(t *testing.T) {
	for _, c := range []struct {
		s     State
		err   error
		cause string
	}{{Up, nil, ""}, {Down, errors.New("EOF\nagain"), "EOF again"}} {
		s, cause, ok := ParseStateLine(StateLine(c.s, c.err) + "\n")
		if !ok || s != c.s || cause != c.cause {
			t.Fatalf("%v %v: read back %v %q %v", c.s, c.err, s, cause, ok)
		}
	}
	for _, line := range []string{"", "echo backend ws1 listening on :8080", "broker connection sideways"} {
		if _, _, ok := ParseStateLine(line); ok {
			t.Fatalf("%q read as a state line", line)
		}
	}
}
