package sandbox

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// miniRoot builds a root filesystem holding the host's /bin/sh and the
// libraries it links, laid out like a merged-/usr Debian (bin -> usr/bin),
// with a /root the box must not see into.
func miniRoot(t *testing.T) string {
	t.Helper()
	sh, err := filepath.EvalSymlinks("/bin/sh")
	require.NoError(t, err)
	out, err := exec.Command("ldd", sh).Output()
	if err != nil {
		t.Skipf("ldd %s: %v", sh, err)
	}
	root, err := os.MkdirTemp("", "wslb-rootfs-test-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	require.NoError(t, os.Chmod(root, 0o755))
	copyIn := func(src, dst string) {
		b, err := os.ReadFile(src)
		require.NoError(t, err)
		p := filepath.Join(root, dst)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, b, 0o755))
	}
	copyIn(sh, "usr/bin/sh")
	for _, m := range regexp.MustCompile(`(/\S+) \(0x`).FindAllStringSubmatch(string(out), -1) {
		real, err := filepath.EvalSymlinks(m[1])
		require.NoError(t, err)
		copyIn(real, m[1])
	}
	require.NoError(t, os.Symlink("usr/bin", filepath.Join(root, "bin")))
	for _, d := range []string{"etc", "run", "var/log", "root"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc", "release"), []byte("mini\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "root", "private"), []byte("x"), 0o600))
	require.NoError(t, os.Chmod(filepath.Join(root, "root"), 0o700))
	return root
}

// A binary of another root filesystem runs with that as the box's root:
// the host's files are gone, the root filesystem is read-only, the scratch
// dir is writable at its own path, and the box keeps its isolation.
func TestBoxInRootFilesystem(t *testing.T) {
	if err := Probe(); err != nil {
		t.Skipf("no sandbox here: %v", err)
	}
	t.Setenv("WSLB_CANARY_SECRET", "do-not-print-me")
	root := miniRoot(t)
	dir := scratchDir(t)
	script := strings.Join([]string{
		`echo "argv0=$0"`,
		`echo "pid=$$"`,
		`echo "env=$(export -p)"`,
		`read r < /etc/release; echo "release=$r"`,
		`[ -e /etc/shadow ] && echo "host=visible" || echo "host=gone"`,
		`[ -e ` + root + ` ] && echo "rootpath=visible" || echo "rootpath=gone"`,
		`echo x > /etc/x 2>/dev/null && echo "etc=written" || echo "etc=refused"`,
		`echo x > /usr/x 2>/dev/null && echo "usr=written" || echo "usr=refused"`,
		`echo x > ` + dir + `/written && echo "scratch=ok"`,
		`echo x > /tmp/x && echo "tmp=ok"`,
		`echo x > /run/x.pid && echo "run=ok"`,
		`echo x > /var/log/x.log && echo "log=ok"`,
		`echo x > /dev/null && echo "null=ok"`,
		`[ -e /root/private ] && echo "rootdir=visible" || echo "rootdir=hidden"`,
		`while read l; do case "$l" in *:*) echo "iface=${l%%:*}";; esac; done < /proc/net/dev`,
		`while read k a b c d; do case "$k $a" in "Max processes"|"Max cpu") echo "limit=$a $b $c $d";; esac; done < /proc/self/limits`,
	}, "; ")
	cmd, err := Command(Spec{Binary: filepath.Join(root, "usr/bin/sh"), Root: root, Args: []string{"-c", script}, Dir: dir})
	require.NoError(t, err)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	require.NoError(t, cmd.Wait(), out.String())
	got := out.String()
	t.Log(got)
	for _, want := range []string{
		"argv0=/usr/bin/sh\n", "pid=1\n", "release=mini\n", "host=gone\n", "rootpath=gone\n",
		"etc=refused\n", "usr=refused\n", "scratch=ok\n", "tmp=ok\n", "run=ok\n", "log=ok\n", "null=ok\n",
		"iface=lo\n",
	} {
		require.Contains(t, got, want)
	}
	require.Regexp(t, `limit=processes 512 512 `, got)
	require.Regexp(t, `limit=cpu time 3600 3600`, got)
	require.Regexp(t, `env=export PATH='?/usr/local/sbin[^\n]*\nexport PWD='?`+dir+`'?\n`, got, "an empty environment apart from PATH")
	require.NotContains(t, got, "do-not-print-me")
	require.Equal(t, 1, strings.Count(got, "iface="), "only lo")
	b, err := os.ReadFile(filepath.Join(dir, "written"))
	require.NoError(t, err)
	require.Equal(t, "x\n", string(b))
	for _, p := range []string{"etc/x", "usr/x", "tmp/x", "run/x.pid", "var/log/x.log"} {
		require.NoFileExists(t, filepath.Join(root, p), "a write in the box reached the root filesystem")
	}
	if os.Geteuid() == 0 {
		require.Contains(t, got, "rootdir=hidden")
	}
}

func TestBoxRootMustHoldTheBinary(t *testing.T) {
	_, err := Command(Spec{Binary: "/bin/sh", Root: t.TempDir(), Dir: t.TempDir()})
	require.ErrorContains(t, err, "not inside the root filesystem")
}
