package cli

import "time"

// Pacer releases frame n at start + n/fps: deadlines come from the frame
// count, not from the previous sleep, so the rate never drifts.
type Pacer struct {
	start  time.Time
	period time.Duration
	n      int64
}

// NewPacer paces at fps; 0 disables pacing.
func NewPacer(fps float64) *Pacer {
	p := &Pacer{start: time.Now()}
	if fps > 0 {
		p.period = time.Duration(float64(time.Second) / fps)
	}
	return p
}

// Wait blocks until the next frame is due, or done closes.
func (p *Pacer) Wait(done <-chan struct{}) {
	if p.period == 0 {
		return
	}
	due := p.start.Add(time.Duration(p.n) * p.period)
	p.n++
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-done:
			t.Stop()
		}
	}
}
