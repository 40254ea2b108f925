package cli

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Counters are what the progress line shows; the tools update them.
type Counters struct {
	Frames, Bytes, Gaps atomic.Uint64
}

// Progress prints a live line to stderr once a second, only when stderr is
// a terminal: pipes and logs get the summary alone. stop ends it and clears
// the line.
func Progress(c *Counters) (stop func()) {
	if _, err := unix.IoctlGetTermios(int(os.Stderr.Fd()), unix.TCGETS); err != nil {
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		start, lastF, lastB := time.Now(), uint64(0), uint64(0)
		for {
			select {
			case <-done:
				fmt.Fprint(os.Stderr, "\r\033[K")
				return
			case now := <-t.C:
				f, b := c.Frames.Load(), c.Bytes.Load()
				fmt.Fprintf(os.Stderr, "\r\033[K%6.0fs  frames %d  %.1f fps  %.3f Gbit/s  gaps %d",
					now.Sub(start).Seconds(), f, float64(f-lastF), float64(b-lastB)*8/1e9, c.Gaps.Load())
				lastF, lastB = f, b
			}
		}
	}()
	return func() { close(done); <-finished }
}
