package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// readError says that an input file cannot be read, the same way in every
// command: "cannot read PATH: REASON".
func readError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("cannot read %s: %w", path, err)
}

// checkReadable reports a missing or unreadable input path (exit 3) before
// a command starts: every command says it the same way. The open does not
// block on a FIFO; what a path may be (a directory, a regular file) is for
// the command to judge.
func checkReadable(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return InvalidInputError(readError(path, err))
	}
	f.Close()
	return nil
}
