package topology

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wslb/wslb/broker"
)

// fuzzTimeLimit bounds one load plus printing its diagnostics. Inputs are
// small; the limit is far above the normal milliseconds so that only a
// hang or a quadratic blow-up trips it on a loaded machine.
const fuzzTimeLimit = 10 * time.Second

// FuzzLoad checks the loader's contract on arbitrary input: it never
// panics, finishes within fuzzTimeLimit, prints bounded diagnostics, every
// error points at the source (the CLI then exits 3), and a returned model
// holds only strings that pass their grammars.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(`listener "l" {
  address = "127.0.0.1:8080"
}
pool "p" {
  server "s" {
    address = "10.0.0.1:80"
  }
}`))
	f.Add([]byte(`listener "l" {
  address = "127.0.0.1:8080"
}
pool "p" {
  kubernetes_service = "p.ns:8080"
  affinity {
    mode = "source"
  }
}`))
	f.Add([]byte(`listener "l" {
  address = "127.0.0.1:8080"
}
pool "p" {
  affinity {
    mode = "none"
  }
  broker {
    kind     = "rabbitmq"
    url      = "amqp://u:p@127.0.0.1:5672/vh"
    exchange = "chat.rooms"
    room_key = "room"
  }
  server "s" {
    address = "10.0.0.1:80"
  }
}`))
	f.Add([]byte("a = " + strings.Repeat("[", 100)))
	f.Add([]byte("a = " + strings.Repeat("-", 100) + "1"))
	f.Add([]byte(`a = "%{ for x in [1] }${x}%{ endfor }"`))
	f.Add([]byte("listener \"l\" { address = \"0x7f.1:80\u202e\x1b[2J\" }"))
	f.Fuzz(func(t *testing.T, src []byte) {
		start := time.Now()
		l := NewLoader()
		topo, diags := l.Load("fuzz.hcl", src)
		var out bytes.Buffer
		if err := l.WriteDiagnostics(&out, diags, 80, false); err != nil {
			t.Fatalf("writing diagnostics: %v", err)
		}
		if d := time.Since(start); d > fuzzTimeLimit {
			t.Fatalf("loading %d bytes took %s", len(src), d)
		}
		if out.Len() > maxDiagnosticOutput {
			t.Fatalf("%d diagnostics printed as %d bytes", len(diags), out.Len())
		}
		if bytes.ContainsAny(out.Bytes(), "\x1b\x07\r\u202e\u2066") {
			t.Fatalf("unescaped control character in diagnostics: %q", out.String())
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

// maxDiagnosticOutput bounds what WriteDiagnostics prints for any input:
// MaxPrintedDiagnostics, each a position line, a two-line snippet and a
// few detail lines, all cut to bounded widths.
const maxDiagnosticOutput = MaxPrintedDiagnostics * 8 * 1024

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
		if p.Service != nil {
			svc, err := ParseKubernetesService(p.Service.String())
			check(err)
			if err == nil && (svc.Name != p.Service.Name || svc.Namespace != p.Service.Namespace || svc.Port != p.Service.Port) {
				check(fmt.Errorf("Kubernetes Service %q reads back as %q", p.Service, svc.String()))
			}
		}
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
		if b := p.Broker; b != nil {
			check(broker.CheckURL(b.Kind, b.URL))
			check(broker.CheckChannel(b.Kind, b.Channel))
			check(CheckQueryParam(b.RoomKey))
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
