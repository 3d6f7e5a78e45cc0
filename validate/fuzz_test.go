package validate

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzOptions keep fuzzed NGINX includes off the disk.
func fuzzOptions() Options {
	return Options{ReadFile: func(string) ([]byte, error) { return nil, fs.ErrNotExist }}
}

// addFixtureSeeds seeds a fuzz target with every rule fixture and corpus
// file of the given extension.
func addFixtureSeeds(f *testing.F, ext string) {
	for _, pat := range []string{"../testdata/rules/*/*" + ext, "../testdata/corpus/*" + ext, "../testdata/corpus/*/*" + ext} {
		paths, _ := filepath.Glob(pat)
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
}

// FuzzLintHAProxy: no input makes the HAProxy path panic, and every
// finding points at a line of the input.
func FuzzLintHAProxy(f *testing.F) {
	addFixtureSeeds(f, ".cfg")
	f.Add([]byte("frontend\n  bind \"unterminated\n"))
	f.Add([]byte("defaults x from x\nbackend b from x\n  balance hdr(\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Lint(context.Background(), []Source{{Name: "fuzz.cfg", Kind: HAProxy, Bytes: data}}, fuzzOptions())
		if err != nil {
			t.Fatalf("Lint: %v", err)
		}
		checkLines(t, res, data)
	})
}

// FuzzLintNginx: no input makes the NGINX path panic.
func FuzzLintNginx(f *testing.F) {
	addFixtureSeeds(f, ".conf")
	f.Add([]byte("http { server { location / { proxy_pass http://x; }"))
	f.Add([]byte("events{}\nhttp{ include a.conf; upstream u { hash; } }"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Lint(context.Background(), []Source{{Name: "fuzz.conf", Kind: Nginx, Bytes: data}}, fuzzOptions())
		if err != nil {
			t.Fatalf("Lint: %v", err)
		}
		checkLines(t, res, data)
	})
}

// FuzzLintIstio: no input makes the Istio path (the YAML reader and every
// WSLB3xx rule) panic, and every finding points at a line of the input.
func FuzzLintIstio(f *testing.F) {
	addFixtureSeeds(f, ".yaml")
	f.Add([]byte("apiVersion: networking.istio.io/v1\nkind: VirtualService\nspec:\n  http:\n  - timeout: 1s\n    match: [{uri: {prefix: /ws}}]\n"))
	f.Add([]byte("a: &a [*a, *a]\n---\nkind: List\nitems: [{kind: List, items: [1]}]\n---\n\tbad\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Lint(context.Background(), []Source{{Name: "fuzz.yaml", Kind: "istio", Bytes: data}}, fuzzOptions())
		if err != nil {
			t.Fatalf("Lint: %v", err)
		}
		checkLines(t, res, data)
	})
}

func checkLines(t *testing.T, res Result, data []byte) {
	t.Helper()
	lines := strings.Count(string(data), "\n") + 1
	for _, f := range res.Findings {
		if f.Line < 1 || f.Line > lines {
			t.Fatalf("finding %s at line %d outside the %d-line input: %s", f.Rule, f.Line, lines, f.Message)
		}
	}
}

// FuzzStubHosts: stubbing host names for --exec never panics, keeps every
// line where it was (findings map back by line), and changes a line only
// by replacing whole host names with the stub address.
func FuzzStubHosts(f *testing.F) {
	addFixtureSeeds(f, ".cfg")
	f.Add([]byte("backend b\n  server s1 app:80 check\n  server s2 check\n  server s3 <h>:80\n  server-template w 1-3 \"web\\x2e1\":80\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := Source{Name: "fuzz.cfg", Kind: HAProxy, Bytes: data}
		_, main, st, err := scratchCopy(src, execOf(src), t.TempDir())
		if err != nil {
			t.Fatalf("scratchCopy: %v", err)
		}
		out, err := os.ReadFile(main)
		if err != nil {
			t.Fatal(err)
		}
		in, got := strings.Split(string(data), "\n"), strings.Split(string(out), "\n")
		if len(in) != len(got) {
			t.Fatalf("%d lines became %d", len(in), len(got))
		}
		for i := range in {
			if !isStubbedVersion(in[i], got[i], st.replaced) {
				t.Fatalf("line %d changed beyond its host names:\n%q\n%q", i+1, in[i], got[i])
			}
		}
	})
}

// isStubbedVersion reports whether got is line with some occurrences of
// the hosts replaced by the stub address.
func isStubbedVersion(line, got string, hosts []string) bool {
	if line == got {
		return true
	}
	// The first replacement starts at or before the first difference.
	d := 0
	for d < len(line) && d < len(got) && line[d] == got[d] {
		d++
	}
	for _, h := range hosts {
		for i := 0; i <= d; i++ {
			if strings.HasPrefix(line[i:], h) && strings.HasPrefix(got[i:], stubAddress) &&
				isStubbedVersion(line[i+len(h):], got[i+len(stubAddress):], hosts) {
				return true
			}
		}
	}
	return false
}
