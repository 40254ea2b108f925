package memif

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mcmgo/mcm/internal/testsupport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWaitsLastTheirTimeoutUnderSignals: a signal reaching the waiting
// thread (SIGURG from the Go runtime, SIGCHLD from a child) must not end a
// timed wait before its deadline.
func TestWaitsLastTheirTimeoutUnderSignals(t *testing.T) {
	m, _ := pair(t, Config{InterfaceID: 21, Log2RingSize: 3}, Config{InterfaceID: 21, Log2RingSize: 3})
	fillRing(t, m) // m's transmit ring is full and the slave never reads
	const timeout = 5 * time.Millisecond
	waits := []testsupport.TimedWait{
		{Name: "WaitRx", Wait: func() error { return m.WaitRx(m.Session(), 0, timeout) }},
		{Name: "WaitRxAny", Wait: func() error { return m.WaitRxAny(m.Session(), 1, timeout) }},
	}
	if EngineCapabilities().TxWait {
		waits = append(waits, testsupport.TimedWait{Name: "WaitTx", Wait: func() error { return m.WaitTx(m.Session(), 0, timeout, 1) }})
	}
	testsupport.WaitsLastUnderSignals(t, timeout, 4, ErrTimeout, waits)
}

// TestWaitSpanningReconnectWakes: the session a wait began in ends and a
// new one begins after the waiter took its queue's eventfd but before it
// polls; the fd it took is closed, and its number likely reused by the new
// session. The wait must still end at once, before or after registering.
func TestWaitSpanningReconnectWakes(t *testing.T) {
	for _, registered := range []bool{false, true} {
		t.Run(map[bool]string{false: "before registering", true: "registered"}[registered], func(t *testing.T) {
			path := testsupport.SockPath(t)
			ms, ss := newSocket(t, path), newSocket(t, path)
			m := newIface(t, ms, Config{IsMaster: true, InterfaceID: 22})
			s := newIface(t, ss, Config{InterfaceID: 22})
			waitUp(t, m)
			waitUp(t, s)

			reached, proceed := make(chan struct{}), make(chan struct{})
			var once sync.Once
			hook := func(i *Interface, reg bool) {
				if i == m && reg == registered {
					once.Do(func() { close(reached); <-proceed })
				}
			}
			waitHook.Store(&hook)
			t.Cleanup(func() { waitHook.Store(nil) })

			done := make(chan error, 1)
			go func() { done <- m.WaitRx(m.Session(), 0, -1) }()
			select {
			case <-reached:
			case <-time.After(waitTimeout):
				t.Fatal("the waiter never reached the hook")
			}
			require.NoError(t, s.Close())
			waitUntil(t, m, "the first session to end", func(st Status) bool { return !st.Up })
			newIface(t, ss, Config{InterfaceID: 22})
			waitUntil(t, m, "the second session", func(st Status) bool { return st.Up && st.Connects == 2 })
			waitHook.Store(nil)
			close(proceed)
			select {
			case err := <-done:
				assert.NoError(t, err, "up again: try Rx")
			case <-time.After(2 * time.Second):
				t.Fatal("a wait from the ended session sleeps on in the new one")
			}

			// The old session's wake was consumed: a new wait sleeps.
			start := time.Now()
			assert.ErrorIs(t, m.WaitRx(m.Session(), 0, 20*time.Millisecond), ErrTimeout)
			assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
		})
	}
}

// TestWaitRxAllocatesNothing: waits are on the data path.
func TestWaitRxAllocatesNothing(t *testing.T) {
	if asanBuild {
		t.Skip("-asan moves the poll arrays to the heap; the plain and -race runs check this")
	}
	m, s := pair(t, Config{InterfaceID: 23}, Config{InterfaceID: 23})
	var sb, rb [1]Buffer
	allocs := testing.AllocsPerRun(50, func() {
		if n, err := s.Alloc(s.Session(), 0, sb[:], 8); err != nil || n != 1 {
			t.Fatal(n, err)
		}
		if n, err := s.Tx(s.Session(), 0, sb[:]); err != nil || n != 1 {
			t.Fatal(n, err)
		}
		if err := m.WaitRx(m.Session(), 0, waitTimeout); err != nil {
			t.Fatal(err)
		}
		if n, err := m.Rx(m.Session(), 0, rb[:]); err != nil || n != 1 {
			t.Fatal(n, err)
		}
		if err := m.Refill(m.Session(), 0, 1); err != nil {
			t.Fatal(err)
		}
		if err := m.WaitRxAny(m.Session(), 1, time.Microsecond); err != ErrTimeout {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// TestWaitersWokenByDepartureAndOwnClose: a waiter already asleep wakes
// when the peer leaves, and when its own interface closes.
func TestWaitersWokenByDepartureAndOwnClose(t *testing.T) {
	t.Run("receive, the peer leaves", func(t *testing.T) {
		m, s := pair(t, Config{InterfaceID: 24}, Config{InterfaceID: 24})
		done := registeredWaiter(t, s)
		require.NoError(t, m.Close())
		assert.ErrorIs(t, waitResult(t, done), ErrNoConn)
	})
	t.Run("receive, own Close", func(t *testing.T) {
		m, _ := pair(t, Config{InterfaceID: 25}, Config{InterfaceID: 25})
		done := registeredWaiter(t, m)
		require.NoError(t, m.Close())
		endedOrClosed(t, waitResult(t, done))
	})
	t.Run("transmit, own Close", func(t *testing.T) {
		needCap(t, "TxWait")
		m, _ := pair(t, Config{InterfaceID: 26, Log2RingSize: 3}, Config{InterfaceID: 26, Log2RingSize: 3})
		fillRing(t, m) // the slave never reads: no room will come
		done := make(chan error, 1)
		go func() { done <- m.WaitTx(m.Session(), 0, -1, 1) }()
		select { // no event says "asleep": give it time to get there
		case err := <-done:
			t.Fatalf("WaitTx returned %v on a full ring nobody reads", err)
		case <-time.After(50 * time.Millisecond):
		}
		require.NoError(t, m.Close())
		endedOrClosed(t, waitResult(t, done))
	})
}

// registeredWaiter starts i.WaitRx without a timeout and returns once the
// waiter has registered for wakes, past every check that could return
// without sleeping; its result arrives on the channel.
func registeredWaiter(t *testing.T, i *Interface) <-chan error {
	registered := make(chan struct{})
	var once sync.Once
	hook := func(w *Interface, reg bool) {
		if w == i && reg {
			once.Do(func() { close(registered) })
		}
	}
	waitHook.Store(&hook)
	t.Cleanup(func() { waitHook.Store(nil) })
	done := make(chan error, 1)
	go func() { done <- i.WaitRx(i.Session(), 0, -1) }()
	select {
	case <-registered:
	case err := <-done:
		t.Fatalf("WaitRx returned %v before sleeping", err)
	case <-time.After(waitTimeout):
		t.Fatal("the waiter never registered")
	}
	return done
}

func waitResult(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(waitTimeout):
		t.Fatal("the waiter was not woken")
		return nil
	}
}

// endedOrClosed: Close ends the session before it closes the interface,
// and a waiter woken in between sees the end.
func endedOrClosed(t *testing.T, err error) {
	t.Helper()
	assert.True(t, errors.Is(err, ErrClosed) || errors.Is(err, ErrNoConn), "woken with %v", err)
}
