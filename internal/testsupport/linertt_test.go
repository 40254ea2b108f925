package testsupport

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The round trip is measured when two CPUs are there, takes real time,
// and leaves the thread it ran on free to run anywhere again.
func TestLineRoundTrip(t *testing.T) {
	runtime.LockOSThread() // the thread whose affinity is compared
	defer runtime.UnlockOSThread()
	var before, after unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &before))
	rtt := LineRoundTrip()
	require.NoError(t, unix.SchedGetaffinity(0, &after))
	assert.Equal(t, before, after, "the measuring thread stayed pinned")
	if before.Count() < 2 {
		assert.Zero(t, rtt, "one CPU: nothing to measure")
		return
	}
	assert.Positive(t, rtt)
}
