// Package notify is a change broadcast: waiters take the current channel,
// and every change closes it and starts a new one, so no change is missed
// and nobody polls.
package notify

import "sync"

// Broadcast is ready to use as its zero value.
type Broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

// C returns a channel closed at the next Notify.
func (b *Broadcast) C() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

// Notify wakes everyone waiting on a channel from C.
func (b *Broadcast) Notify() {
	b.mu.Lock()
	if b.ch != nil {
		close(b.ch)
	}
	b.ch = make(chan struct{})
	b.mu.Unlock()
}
