package testsupport

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a test whose errors and cleanups the checker's own test
// collects.
type recorder struct {
	testing.TB
	errs     []string
	cleanups []func()
}

func (r *recorder) Helper()                           {}
func (r *recorder) Cleanup(f func())                  { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(format string, args ...any) { r.errs = append(r.errs, format) }

func (r *recorder) end() {
	for k := len(r.cleanups) - 1; k >= 0; k-- {
		r.cleanups[k]()
	}
}

func TestCheckNoFdLeakReportsAnFdLeftOpen(t *testing.T) {
	r := &recorder{TB: t}
	CheckNoFdLeak(r)
	f, err := os.Open("/dev/null")
	require.NoError(t, err)
	defer f.Close()
	r.end()
	assert.Len(t, r.errs, 1, "the fd left open is reported")

	r = &recorder{TB: t}
	CheckNoFdLeak(r)
	r.end()
	assert.Empty(t, r.errs, "nothing left open, nothing reported")
}

// The runtime's netpoller opens fds of its own the first time a timer or
// a pollable file needs it, which under -test.timeout=0 may be in the
// middle of a test: that is not the test's leak.
func TestCheckNoFdLeakIgnoresTheNetpollerStartingLate(t *testing.T) {
	if !InChild("TESTSUPPORT_LATE_NETPOLL") {
		out, err := RunTestAlone(t, "TESTSUPPORT_LATE_NETPOLL", "-test.timeout=0")
		require.NoError(t, err, "%s", out)
		return
	}
	CheckNoFdLeak(t)
	time.Sleep(time.Millisecond) // this process's first timer
}
