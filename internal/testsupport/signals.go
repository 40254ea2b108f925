package testsupport

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/sigstorm"
)

// TimedWait is one blocking call to check; it returns what the call did.
type TimedWait struct {
	Name string
	Wait func() error
}

// WaitsLastUnderSignals runs each wait for rounds while every thread of the
// process gets signals every 100 µs: each must end with timedOut (errors.Is)
// and only once timeout has passed, never early because of a signal.
func WaitsLastUnderSignals(t *testing.T, timeout time.Duration, rounds int, timedOut error, waits []TimedWait) {
	t.Helper()
	stop := sigstorm.Start(100 * time.Microsecond)
	defer stop()
	for round := 0; round < rounds; round++ {
		for _, w := range waits {
			start := time.Now()
			err := w.Wait()
			took := time.Since(start)
			assert.ErrorIs(t, err, timedOut, "%s round %d", w.Name, round)
			assert.GreaterOrEqual(t, took, timeout, "%s round %d ended early", w.Name, round)
		}
	}
	require.NotZero(t, stop(), "no signal was sent")
}
