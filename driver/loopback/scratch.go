// Package loopback runs a proxy topology on loopback for verification: a
// scratch directory, in-process echo backends on free ports, and the real
// haproxy or nginx binary as a child process that is always torn down by
// PID.
package loopback

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Scratch is a private temporary directory for one run: configs, pid files,
// logs, sockets and nginx temp paths live here. Close removes it.
type Scratch struct {
	Dir string

	once sync.Once
	err  error
}

// ownerFile names, inside a scratch dir, the process that created it.
const ownerFile = ".wslb-owner"

// Scratch dir name prefixes: verify's runs and validate --exec's checks.
const (
	VerifyPrefix = "wslb-verify-"
	ExecPrefix   = "wslb-exec-"
)

// scratchPrefixes are every prefix NewScratchNamed is given: the dirs
// RemoveOrphans looks at.
var scratchPrefixes = []string{VerifyPrefix, ExecPrefix}

// NewScratch creates a fresh scratch directory (wslb-verify-*) under the
// system temp dir. A process killed with SIGKILL cannot remove its scratch
// dir (its proxies die with it), so NewScratch first removes the dirs whose
// owner is gone.
func NewScratch() (*Scratch, error) { return NewScratchNamed(VerifyPrefix) }

// NewScratchNamed is NewScratch with another name prefix (ExecPrefix).
func NewScratchNamed(prefix string) (*Scratch, error) {
	RemoveOrphans(os.TempDir())
	dir, err := os.MkdirTemp("", prefix+"*")
	if err != nil {
		return nil, fmt.Errorf("create scratch dir: %w", err)
	}
	s := &Scratch{Dir: dir}
	if id, ok := ProcessID(os.Getpid()); ok {
		if _, err := s.WriteFile(ownerFile, []byte(id)); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, nil
}

// ProcessID identifies a running process by pid and start time, so that a
// reused pid is not mistaken for the owner of what a run left; ok is false
// when no such process runs (a zombie has exited: its parent just has not
// reaped it).
func ProcessID(pid int) (string, bool) {
	st, err := readProcStat(pid)
	if err != nil || st.state == 'Z' {
		return "", false
	}
	return fmt.Sprintf("%d %s", pid, st.start), true
}

// RemoveOrphans removes the scratch dirs (wslb-verify-*, wslb-exec-*)
// under root whose owner process no longer runs, and returns them. Dirs
// without an owner file (being created, or from elsewhere) are left alone.
func RemoveOrphans(root string) []string {
	var dirs, removed []string
	for _, prefix := range scratchPrefixes {
		found, _ := filepath.Glob(filepath.Join(root, prefix+"*"))
		dirs = append(dirs, found...)
	}
	for _, dir := range dirs {
		owner, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		var pid int
		if _, err := fmt.Sscanf(string(owner), "%d", &pid); err != nil || pid <= 0 {
			continue
		}
		if id, ok := ProcessID(pid); ok && id == string(owner) {
			continue // still running
		}
		if os.RemoveAll(dir) == nil {
			removed = append(removed, dir)
		}
	}
	return removed
}

// Path joins name onto the scratch directory.
func (s *Scratch) Path(name ...string) string {
	return filepath.Join(append([]string{s.Dir}, name...)...)
}

// WriteFile writes a file (creating parent dirs) inside the scratch dir and
// returns its absolute path. name must stay inside the directory.
func (s *Scratch) WriteFile(name string, data []byte) (string, error) {
	p := s.Path(name)
	rel, err := filepath.Rel(s.Dir, p)
	if err != nil || rel == ".." || len(rel) >= 3 && rel[:3] == ".."+string(filepath.Separator) {
		return "", fmt.Errorf("write %s: path leaves the scratch dir", name)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return p, nil
}

// Close removes the directory and everything in it. It is idempotent.
func (s *Scratch) Close() error {
	if s == nil {
		return nil
	}
	s.once.Do(func() {
		if err := os.RemoveAll(s.Dir); err != nil {
			s.err = fmt.Errorf("remove scratch dir: %w", err)
		}
	})
	return s.err
}
