package mcmdp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A call's clock starts at its first wait, not at the call: the first
// wait gets the whole timeout, later ones what is left, and a deadline
// passed ends the waiting.
func TestWaitClock(t *testing.T) {
	forever := waitClock{timeout: -1}
	for range 2 {
		wait, ok := forever.remaining()
		assert.Equal(t, time.Duration(-1), wait)
		assert.True(t, ok)
	}
	assert.True(t, forever.deadline.IsZero(), "no clock for a wait without end")

	none := waitClock{timeout: 0}
	_, ok := none.remaining()
	assert.False(t, ok, "a zero timeout never waits")
	assert.True(t, none.deadline.IsZero())

	w := waitClock{timeout: time.Hour}
	assert.True(t, w.deadline.IsZero(), "not started before the first wait")
	wait, ok := w.remaining()
	assert.Equal(t, time.Hour, wait)
	assert.True(t, ok)
	assert.False(t, w.deadline.IsZero(), "started by the first wait")
	wait, ok = w.remaining()
	assert.True(t, ok)
	assert.LessOrEqual(t, wait, time.Hour)
	assert.Greater(t, wait, 59*time.Minute)

	w.deadline = time.Now().Add(-time.Millisecond) // the time is up
	_, ok = w.remaining()
	assert.False(t, ok)
}
