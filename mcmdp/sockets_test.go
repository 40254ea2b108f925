package mcmdp

import (
	"context"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/cgo"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// eventLoops counts the memif event goroutines of the process.
func eventLoops() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "(*Socket).loop")
}

// One camera, many consumers: 16 sender masters on one socket path serve
// 16 receiver slaves by interface id, all in this process, through one
// socket and one event goroutine.
func TestManyIDsShareOneSocket(t *testing.T) {
	const n = 16
	path := testsupport.SockPath(t)
	socks0, loops0 := sharedSockets(), eventLoops()
	tx, rx := make([]*Conn, n), make([]*Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for id := 0; id < n; id++ {
		for _, typ := range []TransferType{Tx, Rx} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := videoParam(path, typ)
				p.Memif.InterfaceID = uint32(id)
				ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
				defer cancel()
				c, err := CreateConnection(ctx, p)
				if err != nil {
					errs <- err
					return
				}
				map[TransferType][]*Conn{Tx: tx, Rx: rx}[typ][id] = c
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		for k := range tx {
			tx[k].Close()
			rx[k].Close()
		}
	})
	// One socket, not one per Conn (one per role where the engine cannot
	// share a socket between roles).
	roles := 1
	if !memif.EngineCapabilities().SharedSocket {
		roles = 2
	}
	assert.Equal(t, socks0+roles, sharedSockets(), "sockets")
	assert.Equal(t, loops0+roles, eventLoops(), "event goroutines")
	for k := 0; k < n; k++ {
		assert.Same(t, tx[0].shared, tx[k].shared)
		assert.Same(t, rx[0].shared, rx[k].shared)
	}
	if roles == 1 {
		assert.Same(t, tx[0].shared, rx[0].shared)
	}

	// Each id gets its own frames.
	round := func(live func(int) bool, seed int) {
		for id := 0; id < n; id++ {
			if live(id) {
				sendFrame(t, tx[id], seed+id, tx[id].FrameSize())
			}
		}
		for id := 0; id < n; id++ {
			if live(id) {
				b := recvFrame(t, rx[id])
				require.True(t, testsupport.Check(b.Data, seed+id), "id %d got another id's frame", id)
				require.NoError(t, rx[id].EnqueueBuffer(b))
			}
		}
	}
	round(func(int) bool { return true }, 0)

	// Closing one pair leaves the others working, and the socket in place.
	require.NoError(t, tx[3].Close())
	require.NoError(t, rx[3].Close())
	round(func(id int) bool { return id != 3 }, 100)
	_, err := os.Stat(path)
	require.NoError(t, err, "socket file removed while masters remain")

	// An id can be taken again once its Conn is closed, but not twice at
	// once. (A cancelled context: nothing waits for a receiver.)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := videoParam(path, Tx)
	p.Memif.InterfaceID = 3
	_, err = CreateConnection(ctx, p)
	require.ErrorIs(t, err, ErrNeverConnected)
	p.Memif.InterfaceID = 5
	_, err = CreateConnection(ctx, p)
	var pe *ParamError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "Memif.InterfaceID", pe.Field)

	// The socket file goes with the last master.
	for id := 0; id < n; id++ {
		require.NoError(t, tx[id].Close())
	}
	_, err = os.Stat(path)
	assert.True(t, os.IsNotExist(err), "socket file left after the last master: %v", err)
	for id := 0; id < n; id++ {
		rx[id].Close()
	}
	assert.Equal(t, socks0, sharedSockets())
	// A closed socket's event goroutine has signalled it is done but may
	// not have returned yet: give it a moment (no event says it exited).
	for deadline := time.Now().Add(5 * time.Second); eventLoops() != loops0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, loops0, eventLoops())
}
