package memif

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Interrupt brings back a receive waiter and a transmit waiter (the slave's,
// whose ring is full and whose master sends nothing) that nothing else would
// wake, and leaves later waits sleeping as usual.
func TestInterruptWakesWaitersOnce(t *testing.T) {
	_, s := pair(t, Config{InterfaceID: 31}, Config{InterfaceID: 31, Log2RingSize: 3})
	fillRing(t, s) // the slave's transmit ring is full: WaitTx sleeps
	waits := map[string]func() error{
		"WaitRx": func() error { return s.WaitRx(s.Session(), 0, -1) },
		"WaitTx": func() error { return s.WaitTx(s.Session(), 0, -1, 1) },
	}
	if !EngineCapabilities().TxWait {
		delete(waits, "WaitTx") // it returns after every short poll anyway
	}
	for name, wait := range waits {
		done := make(chan error, 1)
		go func() { done <- wait() }()
		select {
		case err := <-done:
			t.Fatalf("%s returned %v before any event", name, err)
		case <-time.After(50 * time.Millisecond): // asleep, as it should be
		}
		s.Interrupt()
		select {
		case err := <-done:
			assert.NoError(t, err, "%s after Interrupt", name)
		case <-time.After(waitTimeout):
			t.Fatalf("%s not woken by Interrupt", name)
		}
	}
	// The interrupt is spent: a new wait sleeps its whole timeout.
	start := time.Now()
	require.ErrorIs(t, s.WaitRx(s.Session(), 0, 30*time.Millisecond), ErrTimeout)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
}
