// Package safefile reads config files that may be hostile: only regular
// files, only below the directories the user named (after resolving
// symbolic links), with limits on each file's size, the total read and
// the number of files. validate and verify read every config and include
// through one Reader.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Limits bound what one run reads.
type Limits struct {
	// MaxFile is the largest file read, in bytes.
	MaxFile int64
	// MaxTotal bounds the bytes read by all files together.
	MaxTotal int64
	// MaxFiles bounds the number of files read.
	MaxFiles int
	// MaxFanOut bounds the files one include pattern may match.
	MaxFanOut int
	// MaxDepth bounds how deeply includes may nest.
	MaxDepth int
}

// DefaultLimits hold real configs with room to spare (the largest
// HAProxy configs seen in the wild are a few MB; 16 MiB is about 500,000
// lines, linted in under 15 CPU seconds) and keep a hostile one to seconds
// and a bounded amount of memory: a 50 MB file is refused before it is
// read.
var DefaultLimits = Limits{
	MaxFile:   16 << 20,
	MaxTotal:  64 << 20,
	MaxFiles:  4096,
	MaxFanOut: 1024,
	MaxDepth:  16,
}

// RefusedError says why a file was not read. Its message never quotes the
// file's contents.
type RefusedError struct {
	Path   string
	Reason string
}

func (e *RefusedError) Error() string { return fmt.Sprintf("%s: %s", e.Path, e.Reason) }

// Reader reads files below its roots within its limits. It is safe for
// concurrent use.
type Reader struct {
	roots  []string // absolute, symbolic links resolved
	limits Limits

	mu    sync.Mutex
	total int64
	files int
}

// NewReader returns a Reader for files below roots (directories; a file
// stands for its directory) within l; zero Limits mean DefaultLimits.
// Roots that do not exist are ignored.
func NewReader(roots []string, l Limits) *Reader {
	if l == (Limits{}) {
		l = DefaultLimits
	}
	r := &Reader{limits: l}
	for _, root := range roots {
		abs, err := filepath.Abs(root)
		if err != nil {
			continue
		}
		if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
			abs = filepath.Dir(abs)
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		r.roots = append(r.roots, abs)
	}
	return r
}

// Limits returns the reader's limits.
func (r *Reader) Limits() Limits { return r.limits }

// Roots returns the directories files may come from.
func (r *Reader) Roots() []string { return append([]string(nil), r.roots...) }

// Within reports whether path (after resolving symbolic links as far as
// they exist) lies below one of the roots.
func (r *Reader) Within(path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return r.within(abs)
}

func (r *Reader) within(abs string) bool {
	for _, root := range r.roots {
		if abs == root || strings.HasPrefix(abs, strings.TrimSuffix(root, "/")+"/") {
			return true
		}
	}
	return false
}

// outside is the reason for a path below none of the roots.
func (r *Reader) outside() string {
	return fmt.Sprintf("outside the directories given on the command line (%s); pass --include-root to allow it", strings.Join(r.roots, ", "))
}

// Refusal says why a proxy given path should not read it: what Check
// refuses, and for a directory (the *-base settings) one below none of
// the roots. It is "" when path may be read or does not exist.
func (r *Reader) Refusal(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if fi.IsDir() {
		if r.Within(path) {
			return ""
		}
		return r.outside()
	}
	err = r.Check(path)
	var re *RefusedError
	switch {
	case err == nil || errors.Is(err, fs.ErrNotExist):
		return ""
	case errors.As(err, &re):
		return re.Reason
	}
	return err.Error()
}

// Check says whether Read would accept path without reading it: it must
// exist, resolve below a root and be a regular file no larger than
// MaxFile. A missing file is an error wrapping fs.ErrNotExist.
func (r *Reader) Check(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return &RefusedError{path, err.Error()}
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", path, fs.ErrNotExist)
		}
		return &RefusedError{path, "cannot resolve it"}
	}
	if !r.within(real) {
		return &RefusedError{path, r.outside()}
	}
	fi, err := os.Stat(real)
	if err != nil {
		return &RefusedError{path, "cannot stat it"}
	}
	if !fi.Mode().IsRegular() {
		return &RefusedError{path, (&NotRegularError{fi.Mode()}).Error()}
	}
	if fi.Size() > r.limits.MaxFile {
		return &RefusedError{path, fmt.Sprintf("larger than %d bytes", r.limits.MaxFile)}
	}
	return nil
}

// Read returns the contents of path after Check, opened without blocking
// (a FIFO swapped in meanwhile is refused, not waited on) and read no
// further than the limits.
func (r *Reader) Read(path string) ([]byte, error) {
	if err := r.Check(path); err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.files >= r.limits.MaxFiles {
		r.mu.Unlock()
		return nil, &RefusedError{path, fmt.Sprintf("more than %d files read", r.limits.MaxFiles)}
	}
	r.files++
	r.mu.Unlock()

	f, err := OpenRegular(path)
	if err != nil {
		var nr *NotRegularError
		if errors.As(err, &nr) {
			return nil, &RefusedError{path, nr.Error()}
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	// What was opened, not what was checked, must be below a root.
	if real, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd()))); err == nil && !r.within(real) {
		return nil, &RefusedError{path, "outside the directories given on the command line"}
	}
	data, err := ReadAtMost(f, r.limits.MaxFile)
	if errors.Is(err, ErrTooLarge) {
		return nil, &RefusedError{path, fmt.Sprintf("larger than %d bytes", r.limits.MaxFile)}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total += int64(len(data))
	if r.total > r.limits.MaxTotal {
		return nil, &RefusedError{path, fmt.Sprintf("the files read add up to more than %d bytes", r.limits.MaxTotal)}
	}
	return data, nil
}

// OpenRegular opens path for reading without blocking, so that a FIFO
// cannot hang the open, and keeps it only when it is a regular file; else
// the error is a *NotRegularError.
func OpenRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = &NotRegularError{Mode: fi.Mode()}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// NotRegularError says a path is a directory, a FIFO, a device or a socket.
type NotRegularError struct{ Mode fs.FileMode }

func (e *NotRegularError) Error() string { return "not a regular file (" + Kind(e.Mode) + ")" }

// ErrTooLarge is ReadAtMost's error for input over its limit.
var ErrTooLarge = errors.New("larger than the limit")

// ReadAtMost reads r to its end, failing with ErrTooLarge past max bytes:
// a file may grow after its size was checked.
func ReadAtMost(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err == nil && int64(len(data)) > max {
		return nil, ErrTooLarge
	}
	return data, err
}

// Kind names what a file that is not regular is, for messages.
func Kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	}
	return m.Type().String()
}
