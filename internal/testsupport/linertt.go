package testsupport

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// LineRoundTrip is how long one cache line takes to go from one CPU to
// another and back right now: two threads, one on each of the first two
// CPUs this process may use, hand a counter to and fro.
// A one-frame-per-call stream pays about half of it per frame at least
// (the index line the receiver polls must come back before the sender's
// next crossing ends), so benchmarks report it beside their rates: on a
// VM it changes with where the host puts the virtual CPUs, by four to ten
// times on this project's machines. It is 0 with fewer than two CPUs.
func LineRoundTrip() time.Duration {
	var allowed unix.CPUSet
	if unix.SchedGetaffinity(0, &allowed) != nil || allowed.Count() < 2 {
		return 0
	}
	var cpus []int
	for c := 0; len(cpus) < 2; c++ {
		if allowed.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	const rounds = 20_000
	var lines struct {
		ping atomic.Uint64
		_    [120]byte // each counter on a line of its own
		pong atomic.Uint64
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer pinned(cpus[1])()
		for k := uint64(1); k <= rounds; k++ {
			for lines.ping.Load() != k {
			}
			lines.pong.Store(k)
		}
	}()
	defer pinned(cpus[0])()
	start := time.Now()
	for k := uint64(1); k <= rounds; k++ {
		lines.ping.Store(k)
		for lines.pong.Load() != k {
		}
	}
	took := time.Since(start)
	wg.Wait()
	return took / rounds
}

// pinned runs the calling goroutine's thread on cpu alone, until the
// returned func undoes it.
func pinned(cpu int) func() {
	runtime.LockOSThread()
	var old, one unix.CPUSet
	unix.SchedGetaffinity(0, &old)
	one.Set(cpu)
	unix.SchedSetaffinity(0, &one)
	return func() {
		unix.SchedSetaffinity(0, &old)
		runtime.UnlockOSThread()
	}
}
