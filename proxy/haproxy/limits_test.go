package haproxy

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCapLimits(t *testing.T) {
	in := "global\n    maxconn 50000\n    ulimit-n 200000\ndefaults\n  maxconn 100\nfrontend fe\n\tmaxconn 12000\n  server s1 10.0.0.1:80 maxconn 90000\n"
	want := "global\n    maxconn 9000\n    ulimit-n 20000\ndefaults\n  maxconn 100\nfrontend fe\n\tmaxconn 9000\n  server s1 10.0.0.1:80 maxconn 90000\n"
	require.Equal(t, want, string(CapLimits([]byte(in), 9000, 20000)))
}
