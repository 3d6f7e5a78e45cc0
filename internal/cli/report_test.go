package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReportMergeRefusals(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	shard := func(i int, sum string) string {
		return `{"format":"wslb-verify-results","version":1,"source":"t.hcl","source_sha256":"` + sum +
			`","shard":{"index":` + string(rune('0'+i)) + `,"count":2},"params":{"clients":2},"runs":[{"proxy":"haproxy","pool":"p",` +
			`"first_client":` + string(rune('0'+i)) + `,"clients":1,"observations":{"scenarios":["stickiness"],"min_stickiness":1,` +
			`"baseline":[{"client":"client-000` + string(rune('0'+i)) + `","backends":["a","a"]}]}}]}`
	}
	s0 := write("s0.json", shard(0, "aa"))
	s1 := write("s1.json", shard(1, "aa"))
	other := write("other.json", shard(1, "bb"))
	junk := write("junk.json", "{\n  nope")
	for name, tc := range map[string]struct {
		args []string
		code int
		want string
	}{
		"no files":    {[]string{"report", "merge"}, ExitUsage, "requires at least 1 arg"},
		"bad format":  {[]string{"report", "merge", s0, s1, "--format", "xml"}, ExitUsage, "--format must be text or json"},
		"missing":     {[]string{"report", "merge", s0}, ExitInvalidInput, "shard 1/2 missing"},
		"duplicate":   {[]string{"report", "merge", s0, s0, s1}, ExitInvalidInput, "shard 0/2 given more than once"},
		"other input": {[]string{"report", "merge", s0, other}, ExitInvalidInput, "ran another topology or config"},
		"not json":    {[]string{"report", "merge", s0, junk}, ExitInvalidInput, "junk.json: not a wslb results file: 2:3: invalid character"},
		"no file":     {[]string{"report", "merge", filepath.Join(dir, "none.json")}, ExitInvalidInput, "cannot read"},
		"a directory": {[]string{"report", "merge", dir}, ExitInvalidInput, "not a regular file"},
	} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.args...)
			require.Equal(t, tc.code, code, "stderr: %s", stderr)
			require.Contains(t, stderr, tc.want)
			require.Empty(t, stdout)
		})
	}
	code, stdout, stderr := runCLI(t, "report", "merge", s1, s0, "--format", "json")
	require.Equal(t, ExitOK, code, stderr)
	require.Contains(t, stdout, `"summary": "2/2 clients stayed on one backend (100.0%)"`)
}
