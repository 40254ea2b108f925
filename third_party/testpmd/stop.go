package testpmd

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// ErrCrashedOnExit: testpmd died by SIGSEGV while stopping. DPDK 22.11's
// memif server can do this when its peer (a slave that retries) connects
// while the listener is being torn down ("Failed to accept connection
// request on socket fd -1", then a crash). It is DPDK's bug, after the
// counters were read; callers may log it rather than fail.
var ErrCrashedOnExit = errors.New("testpmd crashed while stopping (DPDK memif listener teardown)")

// Stop sends SIGINT, waits for testpmd to exit (SIGKILL after StopTimeout)
// and returns its final counters: the exit summary if it printed a sane one,
// else the last periodic block. It removes the server's socket file and
// testpmd's EAL runtime directory. Calling it again returns the same result.
//
// Stop testpmd before its memif peer goes away: the peer's disconnect
// resets testpmd's counters (and in DPDK 22.11 may crash a forwarding
// testpmd).
func (p *Process) Stop() (Stats, error) {
	p.stopOnce.Do(func() { p.stopStats, p.stopErr = p.stop() })
	return p.stopStats, p.stopErr
}

func (p *Process) stop() (Stats, error) {
	var killed bool
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(StopTimeout):
			_ = p.cmd.Process.Kill()
			killed = true
			<-p.done
		}
	}
	p.cleanup()

	p.mu.Lock()
	st, waitErr := p.stats, p.waitErr
	p.mu.Unlock()
	switch {
	case killed:
		return st, fmt.Errorf("testpmd: no exit %v after SIGINT, killed\n%s", StopTimeout, p.tail())
	case waitErr != nil && strings.Contains(waitErr.Error(), "signal: segmentation fault"):
		return st, fmt.Errorf("%w: %v\n%s", ErrCrashedOnExit, waitErr, p.tail())
	case waitErr != nil:
		return st, fmt.Errorf("testpmd: %v\n%s", waitErr, p.tail())
	}
	return st, nil
}

// cleanup removes what testpmd leaves behind when it does not exit cleanly
// (a clean exit already unlinks the server socket).
func (p *Process) cleanup() {
	if p.cfg.Role == "server" {
		if err := removeSocket(p.cfg.Socket); err != nil && !errors.Is(err, os.ErrNotExist) {
			p.handle("testpmd driver: remove socket: " + err.Error())
		}
	}
	_ = os.RemoveAll(runtimeDir(p.prefix))
}

// removeSocket removes a socket file; an abstract socket has none.
func removeSocket(path string) error {
	if strings.HasPrefix(path, "@") {
		return nil
	}
	return os.Remove(path)
}

// Tolerable reports whether a Stop error is only ErrCrashedOnExit, which a
// test that already checked its counters may log instead of failing on.
func Tolerable(err error) bool { return errors.Is(err, ErrCrashedOnExit) }
