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

func checkLines(t *testing.T, res Result, data []byte) {
	t.Helper()
	lines := strings.Count(string(data), "\n") + 1
	for _, f := range res.Findings {
		if f.Line < 1 || f.Line > lines {
			t.Fatalf("finding %s at line %d outside the %d-line input: %s", f.Rule, f.Line, lines, f.Message)
		}
	}
}
