package mcmdp

import (
	"context"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/cgo"
	"github.com/mcmgo/mcm/internal/procstat"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// idleChildEnv marks the process TestIdleCPUOf64Pairs measures in.
const idleChildEnv = "MCMDP_IDLE_CHILD"

// TestIdleCPUOf64Pairs: 64 senders and 64 receivers on one socket path in
// one process, all connected, the receivers waiting for frames, use less
// than 1 % of a core together (the Go runtime's own timers included). A
// resource bound, not a speed: an idle Conn must not poll. It runs in a
// process of its own, so the other tests' goroutines are not counted.
func TestIdleCPUOf64Pairs(t *testing.T) {
	if !testsupport.InChild(idleChildEnv) {
		out, err := testsupport.RunTestAlone(t, idleChildEnv, "-test.v")
		require.NoError(t, err, "child:\n%s", out)
		t.Logf("child:\n%s", out)
		return
	}
	path := testsupport.SockPath(t)
	waiting := make(chan struct{}, scaleConns)
	for id := range scaleConns {
		txp, rxp := scaleParam(path, Tx, id), scaleParam(path, Rx, id)
		if !memif.EngineCapabilities().BufferSize32 { // idle is idle at any size
			txp.BufferSize, rxp.BufferSize = maxBuffer16, maxBuffer16
		}
		_, rx := connect(t, txp, rxp)
		go func() {
			waiting <- struct{}{}
			rx.DequeueBufferContext(context.Background()) // until Close at the end
		}()
	}
	for range scaleConns {
		<-waiting
	}
	debug.FreeOSMemory() // the setup's garbage collected and returned now, not in the window
	const window = 2 * time.Second
	cpu0, err := procstat.CPUTime(0)
	require.NoError(t, err)
	start := time.Now()
	time.Sleep(window) // the idle period measured: nothing is to happen in it
	cpu1, err := procstat.CPUTime(0)
	require.NoError(t, err)
	share := 100 * (cpu1 - cpu0).Seconds() / time.Since(start).Seconds()
	t.Logf("idle: %.3f %% of a core for %d connected pairs", share, scaleConns)
	assert.Less(t, share, 1.0, "idle CPU of %d connected pairs, %% of one core", scaleConns)
}
