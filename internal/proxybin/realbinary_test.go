package proxybin_test

// The checks with the real binaries need them through testutil.NeedProxy
// (so that CI, with $WSLB_REQUIRE_PROXIES=1, fails where one is missing),
// which imports this package: hence a test package of their own.

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	_ "github.com/wslb/wslb/proxy/all" // the proxies' check command lines
)

const goodHAProxy = `global
    maxconn 100
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend f
    bind 127.0.0.1:80
    default_backend b
backend b
    server s1 127.0.0.1:1
`

const goodNginx = `events {}
http {
    server {
        listen 80;
        location / { proxy_pass http://127.0.0.1:1; }
    }
}
`

func TestCheckWithTheRealBinaries(t *testing.T) {
	tests := []struct {
		kind      proxybin.Kind
		good, bad string
	}{
		{proxybin.HAProxy, goodHAProxy, goodHAProxy + "backend c\n    balance bogus\n"},
		{proxybin.Nginx, goodNginx, goodNginx + "bogus_directive on;\n"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			b := testutil.NeedProxy(t, tt.kind)
			require.True(t, b.Version.AtLeast(1, 0, 0), "version %v", b.Version)

			require.NoError(t, b.CheckText(context.Background(), []byte(tt.good), nil))

			err := b.CheckText(context.Background(), []byte(tt.bad), nil)
			var ce *proxybin.CheckError
			require.ErrorAs(t, err, &ce)
			require.NotEmpty(t, ce.Output, "the binary's complaint is kept")
		})
	}
}

// Two checks of configs that listen on the same port must not collide:
// nginx -t binds its listen addresses.
func TestNginxChecksRunInParallel(t *testing.T) {
	b := testutil.NeedProxy(t, proxybin.Nginx)
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- b.CheckText(context.Background(), []byte(goodNginx), nil) }()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
}
