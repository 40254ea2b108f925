package memif

// Interrupt wakes every goroutine waiting in WaitRx, WaitRxAny or WaitTx
// on this interface: each returns nil ("try again") at once, as after a
// spurious wake, and later waits sleep normally. It is how a caller cancels
// a wait (a context that ended) without a timeout slice; the other waiters
// of the interface only go round once more. Safe from any goroutine.
func (i *Interface) Interrupt() {
	h, err := i.lockAny()
	if err != nil {
		return // closed: Close already woke everyone for good
	}
	defer i.unlockAny()
	// Receive waiters: the wake fd, numbered like a link change that keeps
	// the link as it is, so the last of them drains it (see sessionChanged).
	i.waitMu.Lock()
	i.oldWaiters += i.curWaiters
	i.curWaiters = 0
	i.waitGen.Add(1)
	i.writeWakeLocked()
	if i.oldWaiters == 0 {
		i.drainWakeLocked()
	}
	i.waitMu.Unlock()
	// Transmit waiters: they compare waitGen after every sleep.
	wakeTxWaiters(h)
}
