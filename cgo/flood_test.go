package memif

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// threadCPU is the CPU time the calling thread has used.
func threadCPU(t *testing.T) time.Duration {
	var ru unix.Rusage
	require.NoError(t, unix.Getrusage(unix.RUSAGE_THREAD, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestInterruptFloodCostsFramesNotSignals: a peer writing the shared
// interrupt eventfd in a tight loop, with no frame behind the signals, must
// not cost the receiver a core; a real frame sent during the flood still
// arrives promptly.
func TestInterruptFloodCostsFramesNotSignals(t *testing.T) {
	s, h := upUnderHostileMaster(t)

	var flooding atomic.Bool
	flooding.Store(true)
	var writes atomic.Int64
	floodDone := make(chan struct{})
	go func() {
		defer close(floodDone)
		for n := int64(1); flooding.Load(); n++ {
			h.Interrupt()
			writes.Store(n)
		}
	}()
	defer func() { flooding.Store(false); <-floodDone }()

	const window = time.Second
	type result struct {
		cpu, frameAt time.Duration
		wakes        int
		got          []byte
		err          error
	}
	res := make(chan result, 1)
	start := time.Now()
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var r result
		var bufs [hmSlots]Buffer
		cpu0 := threadCPU(t)
		for {
			left := window - time.Since(start)
			if left <= 0 {
				break
			}
			err := s.WaitRx(s.Session(), 0, left)
			if err == ErrTimeout {
				break
			}
			if err != nil {
				r.err = err
				break
			}
			r.wakes++
			n, err := s.Rx(s.Session(), 0, bufs[:])
			if err != nil {
				r.err = err
				break
			}
			if n > 0 {
				r.got = append(r.got, bufs[0].Data...)
				r.frameAt = time.Since(start)
				if err := s.Refill(s.Session(), 0, n); err != nil {
					r.err = err
					break
				}
			}
		}
		r.cpu = threadCPU(t) - cpu0
		res <- r
	}()

	time.Sleep(window / 2)
	want := []byte("a real frame inside the flood")
	sentAt := time.Since(start)
	h.deliver(0, want)
	r := <-res
	require.NoError(t, r.err)
	share := r.cpu.Seconds() / window.Seconds()
	t.Logf("receiver thread: %.1f%% of a core, %d wakes in %v; peer wrote the eventfd %d times; frame after %v",
		100*share, r.wakes, window, writes.Load(), r.frameAt-sentAt)
	assert.Equal(t, want, r.got, "the real frame")
	assert.Less(t, r.frameAt-sentAt, 100*time.Millisecond, "the real frame arrived late")
	assert.Less(t, share, 0.20, "an eventfd flood costs the receiver %.0f%% of a core", 100*share)
	// Wakes tell the two behaviours apart even on a box too busy to give
	// the receiver a core: ~1,000 with pauses of 1 ms, 100,000s without.
	assert.Less(t, r.wakes, 5000, "wakes in %v of flood", window)
}
