package cli

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUnifiedDiff(t *testing.T) {
	require.Equal(t, "", unifiedDiff([]byte("a\n"), []byte("a\n"), false, "x", "x"))
	require.Equal(t, "--- /dev/null\n+++ x\n@@ -0,0 +1,2 @@\n+a\n+b\n",
		unifiedDiff(nil, []byte("a\nb\n"), true, "x", "x"))
	require.Equal(t, "--- x\n+++ x\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n",
		unifiedDiff([]byte("a\nb"), []byte("a\nb\n"), false, "x", "x"))
	require.Equal(t, "--- x\n+++ x\n@@ -1 +0,0 @@\n-a\n",
		unifiedDiff([]byte("a\n"), nil, false, "x", "x"))
}
