package mcmdp

import (
	"context"
	"os"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
)

func TestStartOrderBothWays(t *testing.T) {
	for _, rxFirst := range []bool{true, false} {
		t.Run(map[bool]string{true: "receiver first", false: "sender first"}[rxFirst], func(t *testing.T) {
			path := testsupport.SockPath(t)
			txp, rxp := videoParam(path, Tx), videoParam(path, Rx)
			first, second := rxp, txp
			if !rxFirst {
				first, second = txp, rxp
			}
			type res struct {
				c   *Conn
				err error
			}
			done := make(chan res, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
				defer cancel()
				c, err := CreateConnection(ctx, first)
				done <- res{c, err}
			}()
			// The first side is blocked in CreateConnection: nothing to
			// connect to yet. Its socket (a master's) or its retries (a
			// slave's) are in place before the second side starts.
			c2 := create(t, second)
			r := <-done
			require.NoError(t, r.err)
			defer r.c.Close()
			tx, rx := c2, r.c
			if !rxFirst {
				tx, rx = r.c, c2
			}
			sendFrame(t, tx, 1, 100)
			b := recvFrame(t, rx)
			assert.True(t, testsupport.Check(b.Data, 1))
			require.NoError(t, rx.EnqueueBuffer(b)) // or the sender's Close waits to drain
		})
	}
}

func TestNeverConnectedSaysWhy(t *testing.T) {
	needCap(t, "Reasons") // the refusing master's own words reach the slave
	path := testsupport.SockPath(t)
	txp := videoParam(path, Tx)
	txp.Memif.Secret = "right"
	tx := make(chan *Conn, 1)
	txCtx, stopTx := context.WithCancel(context.Background())
	go func() {
		c, _ := CreateConnection(txCtx, txp)
		tx <- c
	}()
	rxp := videoParam(path, Rx)
	rxp.Memif.Secret = "wrong"
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := CreateConnection(ctx, rxp)
	require.ErrorIs(t, err, ErrNeverConnected)
	assert.ErrorContains(t, err, "secret mismatch")
	stopTx()
	assert.Nil(t, <-tx)
}

func pairParams(t testing.TB) (txp, rxp *ConnParam) {
	path := testsupport.SockPath(t)
	return videoParam(path, Tx), videoParam(path, Rx)
}

// chainParams: 1024-byte frames in 256-byte buffers, so every frame is a
// chain of them.
func chainParams(t testing.TB) (txp, rxp *ConnParam) {
	txp, rxp = pairParams(t)
	txp.Width, txp.Height, rxp.Width, rxp.Height = 64, 4, 64, 4
	txp.BufferSize, rxp.BufferSize = 256, 256
	return txp, rxp
}

func TestTimeouts(t *testing.T) {
	txp, rxp := pairParams(t)
	tx, rx := connect(t, txp, rxp)

	b, err := rx.DequeueBuffer(0)
	assert.Nil(t, b)
	assert.ErrorIs(t, err, ErrTimeout, "0 checks once")

	start := time.Now()
	b, err = rx.DequeueBuffer(30 * time.Millisecond)
	assert.Nil(t, b)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond, "waits the whole timeout")

	// A long wait is cut short by data.
	got := make(chan *Buffer, 1)
	go func() {
		b, err := rx.DequeueBuffer(time.Hour)
		assert.NoError(t, err)
		got <- b
	}()
	sendFrame(t, tx, 4, 50)
	select {
	case b := <-got:
		require.NotNil(t, b)
		assert.True(t, testsupport.Check(b.Data, 4))
	case <-time.After(waitTimeout):
		t.Fatal("long wait not woken by data")
	}

	// A sender with a full ring times out too.
	for {
		b, err := tx.DequeueBuffer(0)
		if err != nil {
			assert.ErrorIs(t, err, ErrTimeout)
			break
		}
		require.NoError(t, tx.EnqueueBuffer(b))
	}
	b, err = tx.DequeueBuffer(10 * time.Millisecond)
	assert.Nil(t, b)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.NotZero(t, tx.Stats().RingFull)
}

func TestManyOutstandingReturnedOutOfOrder(t *testing.T) {
	txp, rxp := pairParams(t)
	txp.Log2RingSize, rxp.Log2RingSize = 3, 3
	tx, rx := connect(t, txp, rxp)
	for round := 0; round < 5; round++ {
		// Sender: six buffers out at once, enqueued in a scrambled order;
		// they still arrive in ring order.
		var out [6]*Buffer
		for k := range out {
			b, err := tx.DequeueBuffer(waitTimeout)
			require.NoError(t, err)
			testsupport.Fill(b.Data[:64], round*10+k)
			b.Len = 64
			out[k] = b
		}
		for _, k := range []int{3, 0, 5, 1, 4, 2} {
			require.NoError(t, tx.EnqueueBuffer(out[k]))
		}
		// Receiver: six frames held at once, returned in another order.
		var in [6]*Buffer
		for k := range in {
			in[k] = recvFrame(t, rx)
			assert.True(t, testsupport.Check(in[k].Data, round*10+k), "round %d frame %d", round, k)
		}
		for _, k := range []int{5, 2, 4, 0, 3, 1} {
			require.NoError(t, rx.EnqueueBuffer(in[k]))
		}
	}
	assert.Zero(t, rx.Stats().SeqGaps)
}

func TestMisuseIsAnError(t *testing.T) {
	txp, rxp := pairParams(t)
	tx, rx := connect(t, txp, rxp)
	b, err := tx.DequeueBuffer(waitTimeout)
	require.NoError(t, err)
	b.Len = len(b.Data) + 1
	assert.ErrorIs(t, tx.EnqueueBuffer(b), ErrLen)
	b.Len = -1
	assert.ErrorIs(t, tx.EnqueueBuffer(b), ErrLen)
	b.Len = 10
	assert.ErrorIs(t, rx.EnqueueBuffer(b), ErrBufferState, "from another Conn")
	require.NoError(t, tx.EnqueueBuffer(b))
	assert.ErrorIs(t, tx.EnqueueBuffer(b), ErrBufferState, "enqueued twice")
	assert.Nil(t, b.Data, "Data is gone after enqueue")
	assert.ErrorIs(t, tx.EnqueueBuffer(nil), ErrBufferState)

	r := recvFrame(t, rx)
	require.NoError(t, rx.EnqueueBuffer(r))
	assert.ErrorIs(t, rx.EnqueueBuffer(r), ErrBufferState)

	b, err = tx.DequeueBuffer(waitTimeout)
	require.NoError(t, err)
	require.NoError(t, tx.Close())
	require.NoError(t, tx.Close(), "Close is idempotent")
	_, statErr := os.Stat(txp.Memif.SocketPath)
	assert.True(t, os.IsNotExist(statErr), "the master removed its socket file")
	assert.ErrorIs(t, tx.EnqueueBuffer(b), ErrClosed)
	_, err = tx.DequeueBuffer(0)
	assert.ErrorIs(t, err, ErrClosed)
}

func TestChainedFramesThreeTimesTheBuffer(t *testing.T) {
	txp, rxp := pairParams(t)
	frame, _ := VideoFrameSize(64, 32, PixFmtYUV422P10LE) // 8192
	for _, p := range []*ConnParam{txp, rxp} {
		p.BufferSize = uint32(frame+trailerSize+2) / 3 // the frame needs 3 buffers
		p.BufferSize = (p.BufferSize + 63) &^ 63
	}
	tx, rx := connect(t, txp, rxp)
	for k := 0; k < 20; k++ {
		n := int(frame) - k*100
		sendFrame(t, tx, k, n)
		b := recvFrame(t, rx)
		require.Len(t, b.Data, n, "frame %d came out whole", k)
		require.True(t, testsupport.Check(b.Data, k))
		assert.Equal(t, uint32(k), b.SeqNum)
		require.NoError(t, rx.EnqueueBuffer(b))
	}
	assert.Zero(t, rx.Stats().FramingErrors)
}

// Each side's own Close wakes its blocked waiter with ErrClosed, while the
// peer stays: a receiver waiting for frames, a sender waiting for room.
func TestCloseWakesWaiters(t *testing.T) {
	for _, side := range []TransferType{Rx, Tx} {
		txp, rxp := pairParams(t)
		txp.DrainTimeout = 10 * time.Millisecond // the ring will not drain
		tx, rx := connect(t, txp, rxp)
		for { // fill the sender's ring
			b, err := tx.DequeueBuffer(0)
			if err != nil {
				require.ErrorIs(t, err, ErrTimeout)
				break
			}
			require.NoError(t, tx.EnqueueBuffer(b))
		}
		for { // take everything and hold it: the sender's ring stays full
			if _, err := rx.DequeueBuffer(0); err != nil {
				require.ErrorIs(t, err, ErrTimeout)
				break
			}
		}
		c := map[TransferType]*Conn{Rx: rx, Tx: tx}[side]
		errs := make(chan error, 1)
		go func() {
			_, err := c.DequeueBuffer(-1) // nothing can arrive, no room can free up
			errs <- err
		}()
		select {
		case err := <-errs:
			t.Fatalf("side %d: DequeueBuffer(-1) returned %v while nothing could happen", side, err)
		case <-time.After(50 * time.Millisecond): // blocked, as it should be
		}
		if err := c.Close(); side == Tx {
			require.ErrorIs(t, err, ErrUndelivered, "the receiver holds the whole ring")
		} else {
			require.NoError(t, err)
		}
		select {
		case err := <-errs:
			assert.ErrorIs(t, err, ErrClosed, "side %d", side)
		case <-time.After(waitTimeout):
			t.Fatalf("side %d: a waiter was not woken by its Conn's Close", side)
		}
	}
}

func TestCloseDeliversWhatWasEnqueued(t *testing.T) {
	txp, rxp := pairParams(t)
	tx, rx := connect(t, txp, rxp)
	const n = 5
	got := make(chan int, 1)
	go func() {
		k := 0
		for {
			b, err := rx.DequeueBuffer(waitTimeout)
			if err != nil {
				got <- k
				return
			}
			k++
			rx.EnqueueBuffer(b)
		}
	}()
	for k := 0; k < n; k++ {
		sendFrame(t, tx, k, 100)
	}
	require.NoError(t, tx.Close()) // returns once the receiver took all
	assert.Equal(t, n, <-got)
}

func TestZeroAllocationsPerBuffer(t *testing.T) {
	for _, tc := range []struct {
		name            string
		polling, chains bool
	}{
		{"interrupt mode", false, false},
		{"polling", true, false},
		{"chained frames", false, true},
	} {
		txp, rxp := pairParams(t)
		if tc.chains {
			txp, rxp = chainParams(t)
		}
		rxp.Polling = tc.polling
		tx, rx := connect(t, txp, rxp)
		round := func() {
			b, err := tx.DequeueBuffer(waitTimeout)
			if err != nil {
				t.Fatal(err)
			}
			b.Data[0] = 1
			if err := tx.EnqueueBuffer(b); err != nil {
				t.Fatal(err)
			}
			r, err := rx.DequeueBuffer(waitTimeout)
			if err != nil {
				t.Fatal(err)
			}
			if err := rx.EnqueueBuffer(r); err != nil {
				t.Fatal(err)
			}
		}
		round() // the first chain sets up the memory the next ones reuse
		assert.Zero(t, testing.AllocsPerRun(200, round), tc.name)
	}
}

func TestDebugCatchesUseAfterEnqueue(t *testing.T) {
	txp, rxp := pairParams(t)
	txp.Debug, rxp.Debug = true, true
	tx, rx := connect(t, txp, rxp)
	b, err := tx.DequeueBuffer(waitTimeout)
	require.NoError(t, err)
	kept := b // a stale reference to the Buffer
	require.NoError(t, tx.EnqueueBuffer(b))
	assert.True(t, faults(func() { kept.Data[0] = 1 }), "write after enqueue faults")

	r := recvFrame(t, rx)
	own := r.Data // the application kept its own slice of the data
	require.NoError(t, rx.EnqueueBuffer(r))
	assert.True(t, faults(func() { sink = r.Data[0] }), "read after enqueue faults")
	assert.Equal(t, byte(0xDB), own[0], "returned memory is poisoned")
}

var sink byte

// faults runs f and reports whether it hit a memory fault.
func faults(f func()) (hit bool) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() { hit = recover() != nil }()
	f()
	return false
}

func TestCloseReasonReachesThePeer(t *testing.T) {
	txp, rxp := pairParams(t)
	tx, rx := connect(t, txp, rxp)
	sendFrame(t, tx, 1, 10)
	b := recvFrame(t, rx)
	require.NoError(t, rx.EnqueueBuffer(b))
	require.NoError(t, tx.CloseWithReason("end of stream: 1 frames"))
	_, err := rx.DequeueBuffer(waitTimeout)
	require.ErrorIs(t, err, ErrDisconnected)
	assert.Equal(t, "end of stream: 1 frames", rx.PeerReason())
}
