package cli

import (
	"errors"
	"fmt"
)

// Exit codes, mapped from errors in one place (ExitCode).
const (
	ExitOK             = 0 // success
	ExitFailed         = 1 // findings at or above --fail-on, failed verify, drift
	ExitUsage          = 2 // bad flags or arguments
	ExitInvalidInput   = 3 // input that cannot be loaded or parsed
	ExitMissingEnviron = 4 // a needed binary or facility is absent
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
	return ExitFailed
}

// isSilent reports whether the error was already shown to the user.
func isSilent(err error) bool {
	var ee *ExitError
	return errors.As(err, &ee) && ee.Silent
}
