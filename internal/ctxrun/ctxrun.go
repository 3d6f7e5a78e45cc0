// Package ctxrun runs work that takes no context (third-party parsers,
// blocking reads) so that its caller can still stop at once when the
// context ends.
package ctxrun

import "context"

// Run runs fn and waits for it or for ctx, whichever ends first. When ctx
// ends first it returns ctx's error at once and fn keeps running in the
// background: fn must not hold anything that outlives the process
// (processes, scratch files) and its results must be discarded.
func Run(ctx context.Context, fn func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
		return ctx.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}
