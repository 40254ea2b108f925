package mcmdp

import (
	"syscall"
	"testing"
	"time"

	"github.com/mcmgo/mcm/internal/testsupport"
)

// BenchmarkFirstLap: the first lap over a fresh session's ring against the
// second lap over the same buffers: a ring of 1080p yuv422p10le frames
// (8 of 8,294,400 B), each written whole by the sender and read whole by
// the receiver, two goroutines of this process with a mapping each, by
// default and with NoPrefault. The page faults of each lap (getrusage)
// show what the first lap pays without prefaulting; the connect, where
// prefaulting pays instead, is outside the timer. ns/op is both laps.
func BenchmarkFirstLap(b *testing.B) {
	for _, noPrefault := range []bool{false, true} {
		b.Run(map[bool]string{false: "prefault", true: "no-prefault"}[noPrefault], func(b *testing.B) {
			var took [2]time.Duration
			var faults [2]int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				txp, rxp := pairParams(b)
				for _, p := range []*ConnParam{txp, rxp} {
					p.Width, p.Height, p.NoPrefault = 1920, 1080, noPrefault
				}
				tx, rx := connect(b, txp, rxp)
				src := make([]byte, tx.FrameSize())
				testsupport.Fill(src, i)
				frames := 1 << txp.log2Ring()
				b.StartTimer()
				for lap := range took {
					d, f := runLap(b, tx, rx, src, frames)
					took[lap] += d
					faults[lap] += f
				}
				b.StopTimer()
				tx.Close() // now, not at the end: each session maps 132 MB
				rx.Close()
			}
			n := float64(b.N)
			b.ReportMetric(took[0].Seconds()*1e3/n, "first-lap-ms")
			b.ReportMetric(took[1].Seconds()*1e3/n, "second-lap-ms")
			b.ReportMetric(float64(faults[0])/n, "first-lap-faults")
			b.ReportMetric(float64(faults[1])/n, "second-lap-faults")
		})
	}
}

// runLap sends frames frames of src from tx to rx, each written and read
// whole, and returns how long it took and the page faults of the process
// meanwhile.
func runLap(b *testing.B, tx, rx *Conn, src []byte, frames int) (time.Duration, int64) {
	faults0, start := minorFaults(), time.Now()
	sent := make(chan error, 1)
	go func() {
		for range frames {
			buf, err := tx.DequeueBuffer(waitTimeout)
			if err != nil {
				sent <- err
				return
			}
			copy(buf.Data, src)
			if err := tx.EnqueueBuffer(buf); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	for range frames {
		buf, err := rx.DequeueBuffer(waitTimeout)
		if err != nil {
			b.Fatal(err)
		}
		sink64 += sumWords(buf.Data)
		if err := rx.EnqueueBuffer(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-sent; err != nil {
		b.Fatal(err)
	}
	return time.Since(start), minorFaults() - faults0
}

func minorFaults() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Minflt
}
