package memif

/*
#include <stdint.h>
#include <libmemif.h>
*/
import "C"

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Receive waits. A waiter takes its queues' interrupt eventfds under the
// data mutex, then sleeps in ppoll on them and on the interface's wake
// eventfd without any lock. Meanwhile:
//
//   - a signal may interrupt ppoll: the wait goes on for the time left;
//   - its session may end, and a new one begin, closing or reusing the fd
//     numbers it took. Link changes are numbered (waitGen). The wake fd is
//     written at every disconnect and drained at a connect only once no
//     waiter of an earlier session is left, so a waiter that registered
//     in time always wakes; one that registers after the number moved
//     does not sleep at all;
//   - the peer may write the interrupt eventfd with nothing on the ring,
//     even in a tight loop: see noteRx.

// maxRxQueues: a memif side has at most 255 receive queues.
const maxRxQueues = 256

// Flood handling. A wait woken by a queue's interrupt marks it rxWoken;
// the next Rx of the queue counts one spurious wake if it found nothing,
// and clears the count if it found frames. After floodWakes spurious wakes
// in a row the queue is flooded: waits leave its eventfd out and look at
// it again every floodPause, so a peer signalling without sending costs at
// most one wake per pause. The first frame ends it. An honest peer causes
// at most one spurious wake per frame (its signal landing just after an
// Rx that already took the frame), so it never gets there.
const (
	rxWoken    = 1 << 31
	floodWakes = 8
	floodPause = time.Millisecond
)

// Interrupt suppression (bundled engine): while a receiver is awake, its
// ring's interrupt-mask flag tells the sender not to write the eventfd;
// each wait first clears the flag and looks at the ring again (see
// memif_rx_wait_prepare), so the sender signals only a receiver about to
// sleep. Our engine's senders fence between publishing a burst and reading
// the flag, so no wake-up is lost; one that does not (upstream libmemif,
// DPDK) may read the flag still set just as it is cleared, while its burst
// is not yet visible here. For those, the wait looks at the ring once more
// unmaskedLook later, by then long enough for any store to have landed,
// before it sleeps: a spin once per sleep, no timer, nothing per frame.
const unmaskedLook = 2 * time.Microsecond

// waitHook, when set (by tests only), runs in every receive wait between
// leaving the socket mutex and polling, to provoke races there.
var waitHook atomic.Pointer[func(i *Interface, registered bool)]

// WaitRx blocks until receive queue qid is signalled by the peer, session
// s ends (ErrNoConn at once if it is not the current one), the interface closes, or timeout passes
// (timeout < 0 waits without limit); signals do not end it early. It needs
// interrupt mode: in polling mode the peer does not signal. A nil return
// means "try Rx", not that data is certainly there.
func (i *Interface) WaitRx(s Session, qid uint16, timeout time.Duration) error {
	return i.waitRx(s, qid, 1, timeout)
}

// MaxWaitQueues is how many receive queues WaitRxAny watches at most.
const MaxWaitQueues = 8

// WaitRxAny is WaitRx over receive queues 0..n-1 (n at most MaxWaitQueues).
func (i *Interface) WaitRxAny(s Session, n int, timeout time.Duration) error {
	if n < 1 || n > MaxWaitQueues {
		return &Error{Op: "wait", Code: ErrInvalidArg, Reason: "queue count"}
	}
	return i.waitRx(s, 0, n, timeout)
}

func (i *Interface) waitRx(s Session, first uint16, n int, timeout time.Duration) error {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	var fds [MaxWaitQueues + 1]unix.PollFd
	var efds [MaxWaitQueues]int32
	h, err := i.lock(s)
	if err != nil {
		return err
	}
	out := (*C.int)(unsafe.Pointer(i.count())) // C scratch: no Go variable escapes to C
	paused, masked := false, false
	for k := 0; k < n; k++ {
		if rc := C.memif_get_queue_efd(h, C.uint16_t(int(first)+k), out); rc != 0 {
			i.unlock()
			return dataErr(int(rc))
		}
		efds[k] = int32(*out)
		ready, was, rc := i.prepareRxWait(h, first+uint16(k), unsafe.Pointer(out))
		if rc != 0 || ready {
			i.unlock()
			return dataErr(int(rc)) // nil when ready: receive what is waiting
		}
		masked = masked || was
		fds[k] = unix.PollFd{Fd: efds[k], Events: unix.POLLIN}
		if i.flooded(int(first) + k) {
			fds[k].Fd, paused = -1, true // poll ignores negative fds
		}
	}
	gen := i.waitGen.Load() // exact: it moves only under the data mutex too
	i.unlock()
	if masked {
		for start := time.Now(); time.Since(start) < unmaskedLook; {
		}
		if ready, err := i.rxWaiting(s, first, n); ready || err != nil {
			return err // nil when ready: receive what is waiting
		}
	}
	hook := waitHook.Load()
	if hook != nil {
		(*hook)(i, false)
	}
	wake, err := i.joinWait(gen)
	if wake < 0 {
		return err
	}
	defer i.leaveWait(gen)
	if hook != nil {
		(*hook)(i, true)
	}
	fds[n] = unix.PollFd{Fd: int32(wake), Events: unix.POLLIN}
	for {
		slice := timeout
		if timeout > 0 {
			slice = max(time.Until(deadline), 0)
		}
		if paused && (slice < 0 || slice > floodPause) {
			slice = floodPause
		}

		var ts *unix.Timespec
		if slice >= 0 {
			t := unix.NsecToTimespec(int64(slice))
			ts = &t
		}
		got, perr := unix.Ppoll(fds[:n+1], ts, nil)
		switch {
		case perr == unix.EINTR:
			if timeout > 0 && !time.Now().Before(deadline) {
				return ErrTimeout
			}
			continue // a signal is not an event: wait for the time left
		case perr != nil:
			return &Error{Op: "wait", Code: ErrSyscall, Reason: perr.Error()}
		case got > 0:
			return i.woken(fds[:n+1], first, gen)
		case timeout == 0 || (timeout > 0 && !time.Now().Before(deadline)):
			return ErrTimeout
		case paused && i.floodGoesOn(fds[:n], efds[:n], first):
			return nil // look at the flooded ring
		}
		// The flood stopped: wait on every eventfd again.
		paused = false
	}
}

// rxWaiting looks at receive queues first..first+n-1 once more (see
// unmaskedLook) and reports whether one has something waiting.
func (i *Interface) rxWaiting(s Session, first uint16, n int) (bool, error) {
	h, err := i.lock(s)
	if err != nil {
		return false, err
	}
	defer i.unlock()
	out := unsafe.Pointer(i.count())
	for k := 0; k < n; k++ {
		if ready, _, rc := i.prepareRxWait(h, first+uint16(k), out); rc != 0 || ready {
			return ready, dataErr(int(rc))
		}
	}
	return false, nil
}

// woken interprets a ppoll that returned events.
func (i *Interface) woken(fds []unix.PollFd, first uint16, gen uint64) error {
	n := len(fds) - 1
	switch {
	case i.closed.Load():
		return ErrClosed
	case fds[n].Revents != 0 || i.waitGen.Load() != gen:
		// Our session ended, or an earlier one's wake is still pending
		// for its last waiters: either way Rx tells what is there now.
		if i.session.Load() == 0 {
			return Errno(ErrNoConn)
		}
		return nil
	}
	for k := 0; k < n; k++ {
		if fds[k].Revents != 0 {
			i.rxWake[int(first)+k].Or(rxWoken)
		}
	}
	return nil
}

// floodGoesOn looks, after a pause, at the eventfds of the flooded queues:
// still signalled means the caller should check the ring; quiet means the
// flood is over, and those queues are waited on normally again.
func (i *Interface) floodGoesOn(fds []unix.PollFd, efds []int32, first uint16) bool {
	var probe [MaxWaitQueues]unix.PollFd
	m := 0
	for k := range fds {
		if fds[k].Fd < 0 {
			probe[m] = unix.PollFd{Fd: efds[k], Events: unix.POLLIN}
			m++
		}
	}
	zero := unix.Timespec{}
	if got, err := unix.Ppoll(probe[:m], &zero, nil); got != 0 || err != nil {
		return true
	}
	for k := range fds {
		if fds[k].Fd < 0 {
			fds[k].Fd = efds[k]
			i.rxWake[int(first)+k].Store(0)
		}
	}
	return false
}

// flooded reports whether queue q's interrupts are being ignored.
func (i *Interface) flooded(q int) bool {
	return q < maxRxQueues && i.rxWake[q].Load()&^rxWoken >= floodWakes
}

// noteRx does the flood accounting for an Rx of got buffers on queue qid;
// it costs one atomic load when nothing changes.
func (i *Interface) noteRx(qid uint16, got int) {
	if int(qid) >= maxRxQueues {
		return
	}
	st := &i.rxWake[qid]
	switch v := st.Load(); {
	case got > 0:
		if v != 0 {
			st.Store(0)
		}
	case v&rxWoken != 0:
		st.Store(min(v&^rxWoken+1, floodWakes))
	}
}

// joinWait registers a waiter of session gen and returns the wake fd, or
// -1 and what to return: ErrClosed, ErrNoConn, or nil ("try Rx") when the
// session changed since the fds were taken.
func (i *Interface) joinWait(gen uint64) (int, error) {
	i.waitMu.Lock()
	defer i.waitMu.Unlock()
	switch {
	case i.wakeFd < 0:
		return -1, ErrClosed
	case i.waitGen.Load() != gen:
		if i.session.Load() == 0 {
			return -1, Errno(ErrNoConn)
		}
		return -1, nil
	}
	i.curWaiters++
	return i.wakeFd, nil
}

// leaveWait unregisters a waiter of session gen. The last waiter of an
// earlier session consumes the wake meant for them, if a session is up.
func (i *Interface) leaveWait(gen uint64) {
	i.waitMu.Lock()
	if gen == i.waitGen.Load() {
		i.curWaiters--
	} else if i.oldWaiters--; i.oldWaiters == 0 {
		i.drainWakeLocked()
	}
	i.releaseWakeLocked()
	i.waitMu.Unlock()
}

// sessionChanged numbers a link change; a disconnect wakes every waiter.
// It runs under the socket mutex, from the engine's callbacks.
func (i *Interface) sessionChanged(up bool) {
	i.waitMu.Lock()
	i.oldWaiters += i.curWaiters
	i.curWaiters = 0
	i.waitGen.Add(1)
	i.genUp = up
	if up {
		if i.oldWaiters == 0 {
			i.drainWakeLocked()
		}
	} else {
		i.writeWakeLocked()
	}
	i.waitMu.Unlock()
}

// wake wakes every waiter for good (Close).
func (i *Interface) wake() {
	i.waitMu.Lock()
	i.writeWakeLocked()
	i.waitMu.Unlock()
}

func (i *Interface) writeWakeLocked() {
	if i.wakeFd >= 0 {
		unix.Write(i.wakeFd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	}
}

// drainWakeLocked resets the wake fd, but never after Close, and never
// while the link is down: those wakes are for every later waiter too.
func (i *Interface) drainWakeLocked() {
	var b [8]byte
	if i.wakeFd >= 0 && i.genUp && !i.closed.Load() {
		unix.Read(i.wakeFd, b[:])
	}
}

// releaseWake closes the wake fd once closed and no waiter uses it.
func (i *Interface) releaseWake() {
	i.waitMu.Lock()
	i.releaseWakeLocked()
	i.waitMu.Unlock()
}

func (i *Interface) releaseWakeLocked() {
	if i.closed.Load() && i.curWaiters+i.oldWaiters == 0 && i.wakeFd >= 0 {
		unix.Close(i.wakeFd)
		i.wakeFd = -1
	}
}
