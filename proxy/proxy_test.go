package proxy_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/proxy"
	_ "github.com/wslb/wslb/proxy/all"
)

func TestBlockLine(t *testing.T) {
	for line, want := range map[string]bool{
		"listen 80;":                 true,
		"server {":                   true,
		"}":                          true,
		"events {}":                  true,
		"location / { return 204; }": true,
		"map $a $b { default 0; }":   true,
		"bind :80":                   false,
		"use_backend ws if { hdr(upgrade) -i websocket }":  false,
		"http-request deny if { path_beg /x } !{ ssl_fc }": false,
		"acl is_ws hdr(upgrade) -i websocket":              false,
	} {
		require.Equal(t, want, proxy.BlockLine(line), line)
	}
}

func TestNameHint(t *testing.T) {
	require.Equal(t, 3, proxy.NameHint("/etc/nginx/haproxy.cfg", "haproxy", ".cfg"))
	require.Equal(t, 1, proxy.NameHint("/etc/nginx/haproxy.cfg", "nginx", ".conf"))
	require.Equal(t, 2, proxy.NameHint("edge.cfg", "haproxy", ".cfg"))
	require.Equal(t, 0, proxy.NameHint("edge.cfg", "nginx", ".conf"))
	require.Equal(t, 1, proxy.NameHint("deploy/HAProxy/site", "haproxy", ".cfg"))
}

func TestLookupAndRegister(t *testing.T) {
	d, ok := proxy.Lookup("haproxy")
	require.True(t, ok)
	require.Equal(t, "haproxy.cfg", d.ConfigName)
	_, ok = proxy.Lookup("envoy")
	require.False(t, ok)
	require.Equal(t, "haproxy or nginx", proxy.Choices())
	require.Panics(t, func() { proxy.Register(&proxy.Descriptor{Name: "nginx", ConfigName: "x", Detect: d.Detect}) })
	require.Panics(t, func() { proxy.Register(&proxy.Descriptor{Name: "incomplete"}) })
	require.Equal(t, []string{"haproxy", "nginx"}, proxy.Names(), "a refused descriptor is not registered")
}

// Detect reads hostile input: it never panics and always decides the same.
func FuzzDetect(f *testing.F) {
	f.Add("edge.cfg", "events {}\nhttp { server { listen 80; } }\n")
	f.Add("lb.conf", "global\n  maxconn 10\nfrontend f\n  use_backend b if { path_beg /ws }\n")
	f.Add("x", "}\n;\n{\n# only\n\n")
	f.Fuzz(func(t *testing.T, name, text string) {
		d1, why1, ok1 := proxy.Detect(name, []byte(text))
		d2, why2, ok2 := proxy.Detect(name, []byte(text))
		if d1 != d2 || why1 != why2 || ok1 != ok2 {
			t.Fatalf("Detect(%q) is not deterministic", name)
		}
		if ok1 != (d1 != nil) {
			t.Fatalf("ok %v with descriptor %v", ok1, d1)
		}
	})
}
