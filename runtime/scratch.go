// Package runtime runs a proxy topology on loopback for verification: a
// scratch directory, in-process echo backends on free ports, and the real
// haproxy or nginx binary as a child process that is always torn down by
// PID.
package runtime

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

// NewScratch creates a fresh scratch directory (wslb-verify-*) under the
// system temp dir.
func NewScratch() (*Scratch, error) {
	dir, err := os.MkdirTemp("", "wslb-verify-*")
	if err != nil {
		return nil, fmt.Errorf("create scratch dir: %w", err)
	}
	return &Scratch{Dir: dir}, nil
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
