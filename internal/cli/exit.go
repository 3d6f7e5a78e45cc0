package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/internal/brokerproc"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/internal/sandbox"
	"github.com/wslb/wslb/validate"
	"github.com/wslb/wslb/verify"
)

// Exit codes, mapped from errors in one place (ExitCode).
const (
	ExitOK             = 0   // success
	ExitFailed         = 1   // findings at or above --fail-on, failed verify, drift
	ExitUsage          = 2   // bad flags or arguments
	ExitInvalidInput   = 3   // input that cannot be loaded or parsed, or that the proxy refuses
	ExitMissingEnviron = 4   // a needed binary or facility is absent
	ExitWriteFailed    = 5   // an output file could not be written (nothing was replaced)
	ExitTimeout        = 124 // validate did not finish within --timeout (as timeout(1))
	// A command stopped by SIGINT or SIGTERM exits 128 + the signal
	// number, as a shell reports it: 130 and 143.
	exitSignalBase = 128
)

// ExitError carries the exit code a command wants. Commands return it
// (wrapped or not); Main maps it to the process exit status.
type ExitError struct {
	Code int
	Err  error
	// Silent means the command already printed everything the user needs.
	Silent bool
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// UsageError reports bad flags or arguments (exit 2).
func UsageError(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// InvalidInputError reports input that cannot be loaded (exit 3).
func InvalidInputError(err error) error {
	return &ExitError{Code: ExitInvalidInput, Err: err}
}

// MissingEnvironmentError reports a missing binary or facility (exit 4).
func MissingEnvironmentError(err error) error {
	return &ExitError{Code: ExitMissingEnviron, Err: err}
}

// WriteFailedError reports an output file that could not be written
// (exit 5).
func WriteFailedError(err error) error {
	return &ExitError{Code: ExitWriteFailed, Err: err}
}

// SignalError is the cause of a context that a signal ended.
type SignalError struct{ Signal os.Signal }

func (e *SignalError) Error() string { return "interrupted by " + signalName(e.Signal) }

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// errTimeout is the cause of a context that --timeout ended.
var errTimeout = errors.New("--timeout reached")

// runStoppable runs fn, with ctx bounded by timeout when it is positive
// (errTimeout is then the cause). When a signal or the timeout ended ctx,
// what fn returned gives way to stoppedError's error: whatever failed
// failed because of that, and partial results are not printed as if they
// were complete. generate, validate and verify all stop this way.
func runStoppable(ctx context.Context, what string, timeout time.Duration, fn func(context.Context) error) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, errTimeout)
		defer cancel()
	}
	err := fn(ctx)
	if serr := stoppedError(ctx, what, timeout); serr != nil {
		return serr
	}
	return err
}

// stoppedError reports that what (e.g. "validate") was stopped because
// ctx ended: by a signal (exit 130 or 143) or by --timeout (exit 124).
// It returns nil when ctx has not ended.
func stoppedError(ctx context.Context, what string, timeout time.Duration) error {
	if ctx.Err() == nil {
		return nil
	}
	cause := context.Cause(ctx)
	var se *SignalError
	switch {
	case errors.As(cause, &se):
		code := ExitFailed
		if n, ok := se.Signal.(syscall.Signal); ok {
			code = exitSignalBase + int(n)
		}
		return &ExitError{Code: code, Err: fmt.Errorf("%s %v: stopped before it finished; no results were printed", what, se)}
	case errors.Is(cause, errTimeout):
		return &ExitError{Code: ExitTimeout, Err: fmt.Errorf("%s did not finish within --timeout %v; no results were printed", what, timeout)}
	}
	return &ExitError{Code: ExitFailed, Err: fmt.Errorf("%s stopped: %w", what, cause)}
}

// lintError maps an error of validate.Lint: a missing proxy binary is
// exit 4; a config gone or refused (outside the roots, not a regular
// file), of unknown kind or running code without --allow-code is 3.
func lintError(err error) error {
	var nf *proxybin.NotFoundError
	var uk *validate.UnknownKindError
	var ce *validate.CodeError
	var re *safefile.RefusedError
	switch {
	case errors.As(err, &nf):
		return MissingEnvironmentError(err)
	case errors.Is(err, fs.ErrNotExist), errors.As(err, &uk), errors.As(err, &ce), errors.As(err, &re):
		return InvalidInputError(err)
	}
	return err
}

// verifyError maps an error of a verify run: a missing proxy binary is
// exit 4, a topology or config it cannot run as given 3.
func verifyError(err error) error {
	var nf *proxybin.NotFoundError
	var inv *verify.InputError
	switch {
	case errors.As(err, &nf), errors.Is(err, brokerproc.ErrMissing), errors.Is(err, driver.ErrUnavailable):
		return MissingEnvironmentError(err)
	case errors.As(err, &inv):
		return InvalidInputError(err)
	}
	return err
}

// FailedError reports findings, a failed check or drift (exit 1). The
// command has already printed the details.
func FailedError(err error) error {
	return &ExitError{Code: ExitFailed, Err: err, Silent: true}
}

// ExitCode maps an error returned by a command to the process exit status.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if errors.Is(err, sandbox.ErrUnavailable) {
		return ExitMissingEnviron
	}
	return ExitFailed
}

// isSilent reports whether the error was already shown to the user.
func isSilent(err error) bool {
	var ee *ExitError
	return errors.As(err, &ee) && ee.Silent
}
