package memif

// The hostile tests play the peer with internal/memifpeer, a memif 2.0
// peer written from the wire description, independently of the engine, so
// they check the engine against the spec and not against itself. wire
// binds one of its connections to a test: every step must succeed.

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/mcmgo/mcm/internal/memifpeer"
)

type wire struct {
	c *memifpeer.Conn
	t testing.TB
}

// send writes one message, passing fds with SCM_RIGHTS.
func (w wire) send(m []byte, fds ...int) {
	w.t.Helper()
	require.NoError(w.t, w.c.Send(m, fds...))
}

// expect reads one message of type typ.
func (w wire) expect(typ uint16) []byte {
	w.t.Helper()
	m, err := w.c.Expect(typ, waitTimeout)
	require.NoError(w.t, err)
	return m
}

// exchange sends m (with fds) and expects the reply type.
func (w wire) exchange(reply uint16, m []byte, fds ...int) []byte {
	w.t.Helper()
	w.send(m, fds...)
	return w.expect(reply)
}

// stopReading shuts this end for reading: the engine's next send to it
// fails (EPIPE) while the messages sent from here still arrive.
func (w wire) stopReading() {
	w.t.Helper()
	require.NoError(w.t, unix.Shutdown(w.c.Fd(), unix.SHUT_RD))
}

func (w wire) expectEOF() {
	w.t.Helper()
	require.NoError(w.t, w.c.ExpectEOF(waitTimeout))
}

// expectRefusal reads a DISCONNECT with the given code and a reason matching
// want, then the end of the connection. It returns the reason.
func (w wire) expectRefusal(code uint32, want *regexp.Regexp) string {
	w.t.Helper()
	d, err := w.c.Refusal(waitTimeout)
	require.NoError(w.t, err)
	assert.Equal(w.t, code, d.Code, "DISCONNECT code (reason %q)", d.Reason)
	assert.Regexp(w.t, want, d.Reason)
	assert.NotEmpty(w.t, d.Reason)
	return d.Reason
}

// newRegion is a memfd of size bytes (0: not mapped), freed by the cleanup.
func newRegion(t testing.TB, size int) *memifpeer.Region {
	r, err := memifpeer.NewRegion(uint64(size), size > 0)
	require.NoError(t, err)
	t.Cleanup(r.Close)
	return r
}

func newEventfd(t testing.TB) int {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// barrier returns once the socket's event goroutine is between events: it
// holds the socket's mutex for the whole of each event and its callbacks.
func barrier(s *Socket) {
	s.mu.Lock()
	s.mu.Unlock()
}

// fired reports whether a Changed channel has been closed.
func fired(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
