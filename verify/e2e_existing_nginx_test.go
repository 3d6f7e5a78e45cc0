package verify_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/verify"
)

// What `wslb generate` writes for NGINX verifies as an existing config
// too: the WebSocket upstream is found whichever way the config picks it
// (a map on the Upgrade header, a map from the affinity cookie to one
// upstream per server), and the Origin allowlist is honoured without
// --origin.
func TestE2EGeneratedNginxConfigsVerifyAsExisting(t *testing.T) {
	want := map[string]struct{ pool, mode, key string }{
		"chat.hcl":        {"wslb_realtime", "source", ""},
		"cookie.hcl":      {"wslb_app", "cookie", "WSLB_SRV"},
		"session-key.hcl": {"wslb_rooms", "query", "room"},
		"socketio.hcl":    {"wslb_socketio", "cookie", "io_srv"},
	}
	examples, err := filepath.Glob("../examples/*.hcl")
	require.NoError(t, err)
	require.NotEmpty(t, examples)
	for _, path := range examples {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			testutil.NeedProxy(t, proxybin.Nginx)
			topo := load(t, path)
			arts, err := generator.Generate(topo, generator.Options{Kinds: []proxybin.Kind{proxybin.Nginx}})
			require.NoError(t, err)
			cfg := filepath.Join(t.TempDir(), arts[0].Name)
			require.NoError(t, os.WriteFile(cfg, arts[0].Bytes, 0o644))
			s, err := verify.VerifyConfig(context.Background(), cfg, "", small())
			require.NoError(t, err)
			requireAllPassed(t, s)
			if w, ok := want[filepath.Base(path)]; ok {
				r := s.Runs[0]
				require.Equal(t, w.pool, r.Pool, reportText(s))
				require.Equal(t, w.mode, r.Affinity.Mode, reportText(s))
				require.Equal(t, w.key, r.Affinity.Key, reportText(s))
			}
		})
	}
}
