package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Counters are what the progress line and the interval reports show; the
// tools update them.
type Counters struct {
	Frames, Bytes, Gaps atomic.Uint64
}

// Progress prints a live line to stderr once a second, only when stderr is
// a terminal: pipes and logs get the summary alone (and --interval lines).
// stop ends it and clears the line.
func Progress(c *Counters) (stop func()) {
	if _, err := unix.IoctlGetTermios(int(os.Stderr.Fd()), unix.TCGETS); err != nil {
		return func() {}
	}
	return every(c, time.Second, func(r rates) {
		fmt.Fprintf(os.Stderr, "\r\033[K%6.0fs  frames %d  %.1f fps  %.3f Gbit/s  gaps %d",
			r.at.Seconds(), r.frames, r.fps, r.gbps, r.gaps)
	}, func() { fmt.Fprint(os.Stderr, "\r\033[K") })
}

// Intervals prints the counters every d to w, as testpmd's --stats-period
// and iperf3's -i do, for logs and pipes: a text line, or with asJSON one
// JSON object per line ({"schema":1,"interval":{...}}). d <= 0: none.
func Intervals(c *Counters, d time.Duration, w io.Writer, asJSON bool) (stop func()) {
	if d <= 0 {
		return func() {}
	}
	return every(c, d, func(r rates) {
		if asJSON {
			b, _ := json.Marshal(map[string]any{"schema": SchemaVersion, "interval": map[string]any{
				"t_s": r.at.Seconds(), "frames": r.frames, "bytes": r.bytes, "fps": r.fps, "gbit_s": r.gbps, "gaps": r.gaps}})
			fmt.Fprintf(w, "%s\n", b)
			return
		}
		fmt.Fprintf(w, "%8.1fs  frames %d  %.1f fps  %.3f Gbit/s  gaps %d\n", r.at.Seconds(), r.frames, r.fps, r.gbps, r.gaps)
	}, func() {})
}

// rates are the counters at a tick, with the rates since the last one
// measured over the time that really passed.
type rates struct {
	at                  time.Duration
	frames, bytes, gaps uint64
	fps, gbps           float64
}

func every(c *Counters, d time.Duration, show func(rates), done func()) (stop func()) {
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(d)
		defer t.Stop()
		start := time.Now()
		lastAt, lastF, lastB := start, uint64(0), uint64(0)
		for {
			select {
			case <-quit:
				done()
				return
			case now := <-t.C:
				f, b := c.Frames.Load(), c.Bytes.Load()
				span := now.Sub(lastAt).Seconds()
				show(rates{at: now.Sub(start), frames: f, bytes: b, gaps: c.Gaps.Load(),
					fps: float64(f-lastF) / span, gbps: float64(b-lastB) * 8 / span / 1e9})
				lastAt, lastF, lastB = now, f, b
			}
		}
	}()
	return func() { close(quit); <-finished }
}
