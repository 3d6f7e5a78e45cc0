package rewrite_test

import (
	"context"
	_ "github.com/wslb/wslb/proxy/all"
	"github.com/wslb/wslb/proxy/rewrite"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// TestEmptyBlocksRenderAsBlocks renders configs with empty blocks: each
// must come out as "name {\n}" (never "name;", which nginx rejects with
// "directive events has no opening {") and pass nginx -t.
func TestEmptyBlocksRenderAsBlocks(t *testing.T) {
	t.Parallel()
	for name, text := range map[string]string{
		"events":         "events {}\nhttp { server { listen 80; location / { proxy_pass http://10.0.0.1:80; } } }\n",
		"events-newline": "events {\n}\nhttp { server { listen 80; location / { proxy_pass http://10.0.0.1:80; } } }\n",
		"events-last":    "http { server { listen 80; location / { proxy_pass http://10.0.0.1:80; } } }\nevents {}\n",
		"emptied":        "events { }\nhttp { server { listen 80; location / { proxy_pass http://10.0.0.1:80; } location /quiet { access_log off; } } }\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src := filepath.Join(t.TempDir(), "nginx.conf")
			require.NoError(t, os.WriteFile(src, []byte(text), 0o644))
			c, err := rewrite.Load(src)
			require.NoError(t, err)
			scratch, err := loopback.NewScratch()
			require.NoError(t, err)
			t.Cleanup(func() { scratch.Close() })
			res := renderLocal(t, c, scratch.Dir)
			out := string(res.Config)
			require.Contains(t, out, "events {\n}")
			require.NotContains(t, out, "events;")
			if strings.Contains(text, "/quiet") {
				// Its only directive is dropped: the block stays.
				require.Contains(t, out, "location /quiet {\n")
			}
			bin := testutil.NeedProxy(t, proxybin.Nginx)
			path, err := scratch.WriteFile(res.ConfigName, res.Config)
			require.NoError(t, err)
			require.NoError(t, bin.Check(context.Background(), path), "rewritten config:\n%s", out)
		})
	}
}
