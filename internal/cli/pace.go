package cli

import "time"

// Pacer releases frame n at start + n/fps: deadlines come from the frame
// count, not from the previous sleep, so the rate never drifts.
type Pacer struct {
	start  time.Time
	period time.Duration
}

// NewPacer paces at fps; 0 disables pacing.
func NewPacer(fps float64) *Pacer {
	p := &Pacer{start: time.Now()}
	if fps > 0 {
		p.period = time.Duration(float64(time.Second) / fps)
	}
	return p
}

// Wait blocks until frame n is due, or done closes. Asking again for the
// same frame (after a failed attempt) does not push the schedule back.
func (p *Pacer) Wait(n uint64, done <-chan struct{}) {
	if p.period == 0 {
		return
	}
	due := p.Due(n)
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-done:
			t.Stop()
		}
	}
}

// Due is when frame n may go: start + n/fps.
func (p *Pacer) Due(n uint64) time.Time { return p.start.Add(time.Duration(n) * p.period) }
