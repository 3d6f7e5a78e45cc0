package haproxy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// TestTokenizeAgreesWithHAProxy asks the real haproxy (with an empty
// environment, as wslb runs it) whether each spelling of a keyword is the
// keyword "server", and checks Tokenize reads it the same way.
func TestTokenizeAgreesWithHAProxy(t *testing.T) {
	t.Parallel()
	bin := testutil.NeedProxy(t, proxybin.HAProxy)
	for _, kw := range []string{
		`server`, `"server"`, `'server'`, `se"rv"er`, `se'rv'er`, `s\x65rver`, `"s\x65rver"`,
		`serv\er`, `\server`, `se\ rver`, `"se${X}rver"`, `se"$X"rver`, `"se${X-rv}er"`,
		`se${X}rver`, `'se${X}rver'`, `se$Xrver`, `"server${X[*]}"`, `ser#ver`, `se"r#v"er`,
	} {
		t.Run(kw, func(t *testing.T) {
			t.Parallel()
			line := "    " + kw + " s1 127.0.0.1:1"
			cfg := "defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nbackend b\n" + line + "\n"
			path := filepath.Join(t.TempDir(), "t.cfg")
			require.NoError(t, os.WriteFile(path, []byte(cfg), 0o644))
			cmd := exec.Command(bin.Path, "-c", "-f", path)
			cmd.Env = []string{}
			out, _ := cmd.CombinedOutput()
			haproxySaysServer := !strings.Contains(string(out), "unknown keyword") && !strings.Contains(string(out), "ALERT")
			words, _, err := Tokenize(line)
			wslbSaysServer := err == nil && len(words) == 3 && words[0].Text == "server"
			require.Equal(t, haproxySaysServer, wslbSaysServer, "haproxy:\n%s\nwslb: %+v %v", out, words, err)
		})
	}
}
