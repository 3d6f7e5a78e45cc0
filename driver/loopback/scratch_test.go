package loopback

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A run killed with SIGKILL leaves its scratch dir; the next run removes it,
// but never the dir of a process that still runs.
func TestRemoveOrphans(t *testing.T) {
	root := t.TempDir()
	self, ok := ProcessID(os.Getpid())
	require.True(t, ok)
	dirs := map[string]string{
		"wslb-verify-dead":     "999999999 1",                    // no such pid
		"wslb-verify-reused":   fmt.Sprintf("%d 1", os.Getpid()), // our pid, another start time
		"wslb-verify-alive":    self,
		"wslb-verify-no-owner": "",
		"wslb-exec-dead":       "999999999 1",
		"other-dead":           "999999999 1", // not a scratch dir
	}
	for name, owner := range dirs {
		dir := filepath.Join(root, name)
		require.NoError(t, os.Mkdir(dir, 0o755))
		if owner != "" {
			require.NoError(t, os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o644))
		}
	}
	require.ElementsMatch(t, []string{filepath.Join(root, "wslb-verify-dead"), filepath.Join(root, "wslb-verify-reused"), filepath.Join(root, "wslb-exec-dead")},
		RemoveOrphans(root))
	var left []string
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	require.ElementsMatch(t, []string{"wslb-verify-alive", "wslb-verify-no-owner", "other-dead"}, left)
}

func TestNewScratchRecordsItsOwner(t *testing.T) {
	s, err := NewScratch()
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	owner, err := os.ReadFile(s.Path(ownerFile))
	require.NoError(t, err)
	self, _ := ProcessID(os.Getpid())
	require.Equal(t, self, string(owner))
}
