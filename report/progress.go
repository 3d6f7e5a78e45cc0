package report

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Progress shows how far a verify run is, as a bar on a terminal and as
// nothing at all anywhere else (pipes, files, CI logs), so machine output
// stays clean. A nil *Progress is valid and does nothing. Its methods are
// safe for concurrent use.
type Progress struct {
	bar *progressbar.ProgressBar
}

// NewProgress returns a bar counting to total (a negative total shows a
// spinner) labelled label, drawn on w when w is a terminal. The bar is
// erased on Finish so the report that follows starts on a clean line.
func NewProgress(w io.Writer, total int, label string) *Progress {
	return newProgress(w, total, label, isTerminal(w))
}

func newProgress(w io.Writer, total int, label string, tty bool) *Progress {
	if !tty {
		return &Progress{}
	}
	return &Progress{bar: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(label),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionFullWidth(),
	)}
}

// Add advances the bar by n.
func (p *Progress) Add(n int) {
	if p == nil || p.bar == nil {
		return
	}
	_ = p.bar.Add(n) // a failed terminal write must not fail the run
}

// Describe changes the label, e.g. to the scenario running now.
func (p *Progress) Describe(label string) {
	if p == nil || p.bar == nil {
		return
	}
	p.bar.Describe(label)
}

// Finish completes and erases the bar.
func (p *Progress) Finish() {
	if p == nil || p.bar == nil {
		return
	}
	_ = p.bar.Finish()
}

// isTerminal reports whether w writes to a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}
