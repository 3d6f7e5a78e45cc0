package generator

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/topology"
)

// FuzzGenerate feeds HCL through the loader and the generator. The
// invariant: the loader rejects the input with an error diagnostic, or the
// generator succeeds and both configs pass the proxies' own checks
// (haproxy -c, nginx -t). The binaries run only on inputs that load, and
// only where the check does not depend on the machine (see checkable).
//
// Seeds: the examples plus testdata/fuzz/FuzzGenerate (hostile variants).
//
//	go test ./generator -run '^$' -fuzz FuzzGenerate -fuzztime 3m
func FuzzGenerate(f *testing.F) {
	files, err := filepath.Glob("../examples/*.hcl")
	require.NoError(f, err)
	for _, file := range files {
		src, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		topo, diags := topology.NewLoader().Load("fuzz.hcl", src)
		if diags.HasErrors() {
			require.Nil(t, topo, "a rejected topology must not be returned")
			return
		}
		require.NotNil(t, topo)
		arts, err := Generate(topo, Options{})
		require.NoError(t, err, "the loader accepted a topology the generator cannot render:\n%s", src)
		require.Len(t, arts, 2)
		_, err = Generate(topo, Options{Runtime: &Runtime{Dir: "/tmp/wslb-fuzz"}, IdentityHeader: "X-Served-By"})
		require.NoError(t, err, "runtime mode failed where production mode did not:\n%s", src)
		for _, a := range arts {
			ok, why := checkable(topo, a.Kind)
			if !ok {
				t.Logf("not checking %s: %s", a.Kind, why)
				continue
			}
			bin, err := proxybin.Lookup(a.Kind)
			if err != nil {
				continue // absent binary: the generation invariant still held
			}
			target := targetOf(topo, a.Kind)
			if !bin.Version.AtLeast(target.Major, target.Minor, target.Patch) {
				continue
			}
			checkConfig(t, bin, topo, a.Bytes)
		}
	})
}

// checkable reports whether kind's own check of a config for topo can pass
// on any machine: host names must resolve (NGINX resolves upstream servers,
// both resolve listen addresses) and NGINX binds specific IPv6 listen
// addresses even under -t.
func checkable(topo *topology.Topology, kind proxybin.Kind) (bool, string) {
	resolvable := func(h string) bool {
		if _, err := netip.ParseAddr(h); err == nil {
			return true
		}
		return strings.EqualFold(h, "localhost") || isWildcardHost(h)
	}
	for _, l := range topo.Listeners {
		if !resolvable(l.Address.Host) {
			return false, "listener host name " + l.Address.Host
		}
		if a, err := netip.ParseAddr(l.Address.Host); err == nil && a.Is6() && !a.IsUnspecified() && kind == proxybin.Nginx {
			return false, "specific IPv6 listen address " + l.Address.Host
		}
	}
	if kind == proxybin.Nginx {
		for _, p := range topo.Pools {
			for _, s := range p.Servers {
				if !resolvable(s.Address.Host) {
					return false, "server host name " + s.Address.Host
				}
			}
		}
	}
	return true, ""
}
