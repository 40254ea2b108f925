// Package sigstorm sends signals to every thread of the test process, so
// tests can check that blocking calls survive being interrupted.
package sigstorm

import (
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Start sends SIGURG and SIGCHLD to every thread of the process every
// interval until the returned stop is called (it returns how many were
// sent, and may be called again). Both are harmless to a Go
// program (the runtime uses SIGURG itself; SIGCHLD is ignored), but each
// delivery makes a blocking system call on that thread return EINTR.
// Signalling each thread with tgkill reaches the one that waits, which a
// process-wide kill may never pick.
func Start(interval time.Duration) (stop func() (sent int)) {
	quit, done := make(chan struct{}), make(chan int)
	go func() {
		pid, sent := os.Getpid(), 0
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				done <- sent
				return
			case <-tick.C:
			}
			for _, tid := range threads() {
				for _, sig := range []unix.Signal{unix.SIGURG, unix.SIGCHLD} {
					if unix.Tgkill(pid, tid, sig) == nil {
						sent++
					}
				}
			}
		}
	}()
	var once sync.Once
	sent := 0
	return func() int {
		once.Do(func() { close(quit); sent = <-done })
		return sent
	}
}

func threads() []int {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil
	}
	tids := make([]int, 0, len(ents))
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids
}
