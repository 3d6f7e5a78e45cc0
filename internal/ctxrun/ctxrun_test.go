package ctxrun

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRunReturnsWhenFnEnds(t *testing.T) {
	ran := false
	require.NoError(t, Run(context.Background(), func() { ran = true }))
	require.True(t, ran)
}

func TestRunReturnsWhenCtxEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	defer close(release)
	go func() {
		time.Sleep(10 * time.Millisecond)
		cancel()
	}()
	err := Run(ctx, func() { <-release })
	require.ErrorIs(t, err, context.Canceled)
}

func TestRunDoesNotStartOnEndedCtx(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	require.ErrorIs(t, Run(ctx, func() { ran = true }), context.Canceled)
	require.False(t, ran)
}
