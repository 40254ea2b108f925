package testsupport

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/procstat"
)

// CountFds is the number of open fds of this process.
func CountFds(t testing.TB) int {
	n, err := procstat.Fds(0)
	require.NoError(t, err)
	return n
}

// CheckNoFdLeak registers a check, run after every cleanup registered
// later, that the process has as many fds at the end of the test as now.
// Call it first in the test.
func CheckNoFdLeak(t testing.TB) {
	t.Helper()
	// The runtime's netpoller keeps two fds once started; start it now so
	// a test that starts it later (a pipe, a timer on a file) is no leak.
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	CountFds(t) // the first directory read may set up runtime state
	before := CountFds(t)
	t.Cleanup(func() {
		if after := CountFds(t); after != before {
			t.Errorf("fd leak: %d open before, %d after:\n%s", before, after, strings.Join(openFds(), "\n"))
		}
	})
}

// openFds lists this process's fds and what they point to.
func openFds() []string {
	var open []string
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		l, _ := os.Readlink("/proc/self/fd/" + e.Name())
		open = append(open, e.Name()+"->"+l)
	}
	return open
}
