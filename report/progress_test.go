package report

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProgressSilentWhenNotATerminal(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := NewProgress(&buf, 10, "verify")
	p.Describe("stickiness")
	p.Add(5)
	p.Finish()
	require.Empty(t, buf.String())

	f, err := os.CreateTemp(t.TempDir(), "progress")
	require.NoError(t, err)
	defer f.Close()
	p = NewProgress(f, 10, "verify")
	p.Add(10)
	p.Finish()
	info, err := f.Stat()
	require.NoError(t, err)
	require.Zero(t, info.Size(), "a file is not a terminal")

	var nilProgress *Progress
	nilProgress.Add(1)
	nilProgress.Describe("x")
	nilProgress.Finish()
}

func TestProgressDrawsOnTerminal(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := newProgress(&buf, 40, "stickiness", true)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				p.Add(1)
			}
		}()
	}
	wg.Wait()
	p.Finish()
	out := buf.String()
	require.Contains(t, out, "stickiness")
	require.Contains(t, out, "/40)", "the count is shown")
	require.True(t, strings.HasSuffix(out, "\r"), "the bar is erased at the end, got %q", out[max(0, len(out)-40):])
}
