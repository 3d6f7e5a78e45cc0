package validate

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// bigHAProxy builds an HAProxy config of at least lines lines: one
// frontend per 20 backends with WebSocket ACLs, backends with servers,
// cookies and timeouts, so every rule has work to do.
func bigHAProxy(lines int) []byte {
	var b lineBuilder
	b.printf("global\n    maxconn 100000\n    hard-stop-after 30s\n\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n    timeout tunnel 1h\n\n")
	for i := 0; i%20 != 0 || b.lines < lines; i++ {
		if i%20 == 0 {
			b.printf("frontend fe%d\n    bind :%d\n    acl is_ws%d hdr(Upgrade) -i websocket\n", i, 10000+i%50000, i)
			for j := i; j < i+20; j++ {
				b.printf("    use_backend be%d if is_ws%d { path_beg /app%d/ }\n", j, i, j)
			}
			b.printf("    default_backend be%d\n\n", i)
		}
		b.printf("backend be%d\n    balance source\n    hash-type consistent\n    cookie SRV%d insert indirect nocache\n    option httpchk GET /health\n", i, i)
		for s := 0; s < 4; s++ {
			b.printf("    server s%d 10.%d.%d.%d:8080 check cookie s%d\n", s, i/250%250, i%250, s+1, s)
		}
		b.printf("\n")
	}
	return []byte(b.String())
}

// lineBuilder counts lines as it grows, so building a 160k-line config
// stays linear.
type lineBuilder struct {
	strings.Builder
	lines int
}

func (b *lineBuilder) printf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	b.lines += strings.Count(s, "\n")
	b.WriteString(s)
}

// bigNginx builds an NGINX config of at least lines lines: upstreams and
// servers with WebSocket and plain locations.
func bigNginx(lines int) []byte {
	var b lineBuilder
	b.printf("worker_rlimit_nofile 40000;\nworker_shutdown_timeout 30s;\nevents { worker_connections 16384; }\nhttp {\n    map $http_upgrade $connection_upgrade {\n        default upgrade;\n        '' close;\n    }\n    proxy_http_version 1.1;\n")
	for i := 0; b.lines < lines; i++ {
		b.printf("    upstream app%d {\n        hash $cookie_sid consistent;\n        server 10.0.%d.1:3000;\n        server 10.0.%d.2:3000;\n    }\n", i, i%250, i%250)
		b.printf("    server {\n        listen %d;\n        server_name app%d.example.com;\n", 10000+i%50000, i)
		b.printf("        location / {\n            proxy_pass http://app%d;\n            proxy_set_header Host $host;\n        }\n", i)
		b.printf("        location /ws {\n            proxy_pass http://app%d;\n            proxy_set_header Upgrade $http_upgrade;\n            proxy_set_header Connection $connection_upgrade;\n            proxy_read_timeout 1h;\n        }\n    }\n", i)
	}
	b.printf("}\n")
	return []byte(b.String())
}

func benchLint(b *testing.B, src Source) (cpuPerOp time.Duration) {
	b.Helper()
	lines := strings.Count(string(src.Bytes), "\n")
	res, err := Lint(context.Background(), []Source{src}, Options{})
	require.NoError(b, err)
	for _, f := range res.Findings {
		require.NotEqual(b, Error, f.Severity, "the benchmark config should parse cleanly: %s:%d %s %s", f.File, f.Line, f.Rule, f.Message)
	}
	b.ReportMetric(float64(lines), "lines")
	b.SetBytes(int64(len(src.Bytes)))
	b.ResetTimer()
	cpu0 := processCPU()
	for b.Loop() {
		if _, err := Lint(context.Background(), []Source{src}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time per op is steadier than wall time on a shared machine.
	cpuPerOp = (processCPU() - cpu0) / time.Duration(b.N)
	b.ReportMetric(float64(cpuPerOp.Milliseconds()), "cpu-ms/op")
	return cpuPerOp
}

// processCPU is the user+system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLint10kHAProxy lints a 10,000-line HAProxy config (target:
// under 200 ms per op).
func BenchmarkLint10kHAProxy(b *testing.B) {
	benchLint(b, Source{Name: "big.cfg", Kind: HAProxy, Bytes: bigHAProxy(10000)})
}

// BenchmarkLint10kNginx lints a 10,000-line NGINX config (target: under
// 200 ms per op).
func BenchmarkLint10kNginx(b *testing.B) {
	benchLint(b, Source{Name: "big.conf", Kind: Nginx, Bytes: bigNginx(10000)})
}

// BenchmarkLintScale lints configs of 10k, 40k and 160k lines of both
// proxies: the CPU time per line must stay flat (linear work). Compare
// cpu-ns/line across sizes; docs/benchmarks.md records the ratios.
func BenchmarkLintScale(b *testing.B) {
	for _, kind := range []Kind{HAProxy, Nginx} {
		for _, lines := range []int{10_000, 40_000, 160_000} {
			b.Run(fmt.Sprintf("%s/%dk", kind, lines/1000), func(b *testing.B) {
				src := Source{Name: "big.cfg", Kind: HAProxy, Bytes: bigHAProxy(lines)}
				if kind == Nginx {
					src = Source{Name: "big.conf", Kind: Nginx, Bytes: bigNginx(lines)}
				}
				cpu := benchLint(b, src)
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(strings.Count(string(src.Bytes), "\n")), "cpu-ns/line")
			})
		}
	}
}
