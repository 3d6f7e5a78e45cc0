package topology

import (
	"io"
	"testing"
)

// FuzzLoad checks the loader's contract on arbitrary input: it never
// panics, every error points at the source, and a returned model holds only
// strings that pass their grammars.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(`listener "l" {
  address = "127.0.0.1:8080"
}
pool "p" {
  server "s" {
    address = "10.0.0.1:80"
  }
}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		l := NewLoader()
		topo, diags := l.Load("fuzz.hcl", src)
		if err := l.WriteDiagnostics(io.Discard, diags, 80, false); err != nil {
			t.Fatalf("writing diagnostics: %v", err)
		}
		if diags.HasErrors() {
			if topo != nil {
				t.Fatal("a topology was returned together with errors")
			}
			for _, d := range diags {
				if d.Subject == nil {
					t.Fatalf("diagnostic %q has no source range", d.Summary)
				}
			}
			return
		}
		if topo == nil {
			t.Fatal("no topology and no error")
		}
		if err := checkModelStrings(topo); err != nil {
			t.Fatalf("loaded model holds an invalid string: %v", err)
		}
	})
}

// checkModelStrings re-checks every string of a loaded model against its
// grammar.
func checkModelStrings(t *Topology) error {
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	host := func(h string, listen bool) error {
		if listen && h == "*" {
			return nil
		}
		return CheckHost(h)
	}
	check(CheckName(t.Name))
	for _, l := range t.Listeners {
		check(CheckName(l.Name))
		check(host(l.Address.Host, true))
		if l.TLS != nil {
			check(CheckFilePath(l.TLS.Certificate))
			if l.TLS.Key != "" {
				check(CheckFilePath(l.TLS.Key))
			}
		}
	}
	for _, r := range t.Routes {
		check(CheckName(r.Name))
		check(CheckName(r.Pool))
		check(CheckPath(r.PathPrefix))
		if r.Listener != "" {
			check(CheckName(r.Listener))
		}
		if r.Host != "" {
			check(checkRouteHost(r.Host))
		}
	}
	for _, p := range t.Pools {
		check(CheckName(p.Name))
		check(CheckPath(p.Health.Path))
		a := p.Affinity
		for _, s := range []struct {
			v     string
			check func(string) error
		}{{a.Cookie, CheckCookieName}, {a.Header, CheckHeaderName}, {a.Param, CheckQueryParam}, {a.ClientIPHeader, CheckHeaderName}} {
			if s.v != "" {
				check(s.check(s.v))
			}
		}
		for _, c := range a.TrustedProxies {
			_, err := ParseCIDR(c)
			check(err)
		}
		for _, s := range p.Servers {
			check(CheckName(s.Name))
			check(host(s.Address.Host, false))
		}
	}
	for _, o := range t.Security.AllowedOrigins {
		check(CheckOrigin(o))
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}
