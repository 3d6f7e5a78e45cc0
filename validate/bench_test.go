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
	var b strings.Builder
	b.WriteString("global\n    maxconn 100000\n    hard-stop-after 30s\n\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n    timeout tunnel 1h\n\n")
	for i := 0; i%20 != 0 || strings.Count(b.String(), "\n") < lines; i++ {
		if i%20 == 0 {
			fmt.Fprintf(&b, "frontend fe%d\n    bind :%d\n    acl is_ws%d hdr(Upgrade) -i websocket\n", i, 10000+i, i)
			for j := i; j < i+20; j++ {
				fmt.Fprintf(&b, "    use_backend be%d if is_ws%d { path_beg /app%d/ }\n", j, i, j)
			}
			fmt.Fprintf(&b, "    default_backend be%d\n\n", i)
		}
		fmt.Fprintf(&b, "backend be%d\n    balance source\n    hash-type consistent\n    cookie SRV%d insert indirect nocache\n    option httpchk GET /health\n", i, i)
		for s := 0; s < 4; s++ {
			fmt.Fprintf(&b, "    server s%d 10.%d.%d.%d:8080 check cookie s%d\n", s, i/250%250, i%250, s+1, s)
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// bigNginx builds an NGINX config of at least lines lines: upstreams and
// servers with WebSocket and plain locations.
func bigNginx(lines int) []byte {
	var b strings.Builder
	b.WriteString("worker_rlimit_nofile 40000;\nworker_shutdown_timeout 30s;\nevents { worker_connections 16384; }\nhttp {\n    map $http_upgrade $connection_upgrade {\n        default upgrade;\n        '' close;\n    }\n    proxy_http_version 1.1;\n")
	for i := 0; strings.Count(b.String(), "\n") < lines; i++ {
		fmt.Fprintf(&b, "    upstream app%d {\n        hash $cookie_sid consistent;\n        server 10.0.%d.1:3000;\n        server 10.0.%d.2:3000;\n    }\n", i, i%250, i%250)
		fmt.Fprintf(&b, "    server {\n        listen %d;\n        server_name app%d.example.com;\n", 10000+i, i)
		fmt.Fprintf(&b, "        location / {\n            proxy_pass http://app%d;\n            proxy_set_header Host $host;\n        }\n", i)
		fmt.Fprintf(&b, "        location /ws {\n            proxy_pass http://app%d;\n            proxy_set_header Upgrade $http_upgrade;\n            proxy_set_header Connection $connection_upgrade;\n            proxy_read_timeout 1h;\n        }\n    }\n", i)
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

func benchLint(b *testing.B, src Source) {
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
	b.ReportMetric(float64((processCPU()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
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
