package oci

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// ProgressThreshold is the size from which NewProgress shows a transfer: smaller ones end
// before a progress line could tell anything.
const ProgressThreshold = 1 << 20

// NewProgress returns an Options.Progress that draws one line on w (a terminal: it rewrites
// the line with \r) for every transfer of at least min bytes, at most ten times a second.
func NewProgress(w io.Writer, min int64) func(label string, total int64) Progress {
	return func(label string, total int64) Progress {
		if total < min {
			return nil
		}
		return &progressLine{w: w, label: label, total: total}
	}
}

type progressLine struct {
	w      io.Writer
	label  string
	total  int64
	mu     sync.Mutex
	done   int64
	last   time.Time
	drawn  bool
	closed bool
}

func (p *progressLine) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += int64(len(b))
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.draw()
	}
	return len(b), nil
}

func (p *progressLine) draw() {
	pct := 100.0
	if p.total > 0 {
		pct = float64(p.done) * 100 / float64(p.total)
	}
	fmt.Fprintf(p.w, "\r%s %s / %s %3.0f%%", p.label, size(p.done), size(p.total), pct)
	p.drawn = true
}

// Done draws the final state and ends the line.
func (p *progressLine) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.draw()
	fmt.Fprintln(p.w)
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
