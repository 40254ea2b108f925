package mcmdp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
)

// The test binary doubles as a peer process (MCMDP_HELPER=tx or rx).
func TestMain(m *testing.M) {
	if role := os.Getenv("MCMDP_HELPER"); role != "" {
		os.Exit(runPeer(role, os.Getenv("MCMDP_PATH")))
	}
	os.Exit(m.Run())
}

// runPeer is a master that sends frames as fast as the ring allows (tx) or
// receives and returns them (rx), until killed.
func runPeer(role, path string) int {
	if role == seamSinkRole {
		return runSeamSink(path)
	}
	if sink, ok := sinks[role]; ok {
		return runSink(path, sink)
	}
	if run, ok := peerRoles[role]; ok {
		return run(path)
	}
	typ := Tx
	if role == "rx" {
		typ = Rx
	}
	p := videoParam(path, typ)
	p.Memif.IsMaster = true
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	testsupport.Ready() // the socket exists once CreateConnection waits
	c, err := CreateConnection(ctx, p)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	for {
		b, err := c.DequeueBuffer(time.Second)
		if err != nil {
			continue
		}
		if typ == Tx {
			testsupport.Fill(b.Data[:100], int(b.SeqNum))
			b.Len = 100
		}
		c.EnqueueBuffer(b)
	}
}

// startPeer runs a helper peer process in role on path.
// peerRoles are further roles of the peer process, by name (benchmarks
// register theirs).
var peerRoles = map[string]func(path string) int{}

func startPeer(t testing.TB, role, path string) *testsupport.Child {
	t.Helper()
	return testsupport.StartChild(t, "MCMDP_HELPER="+role, "MCMDP_PATH="+path)
}

// untilDisconnected runs op until it reports ErrDisconnected.
func untilDisconnected(t *testing.T, op func() error) {
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		if err := op(); errors.Is(err, ErrDisconnected) {
			return
		}
	}
	t.Fatal("the disconnect was never reported")
}

// untilWorks waits for the Conn to resume, then runs op, which must work.
func untilWorks(t *testing.T, c *Conn, op func() error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		require.NoError(t, c.WaitConnected(ctx), "the connection never resumed")
		err := op()
		if err == nil {
			return
		}
		require.ErrorIs(t, err, ErrDisconnected) // a stale session's last word
	}
}

func TestPeerKilledAndRestartedMidStream(t *testing.T) {
	t.Run("sender killed", func(t *testing.T) {
		path := testsupport.SockPath(t)
		peer := startPeer(t, "tx", path)
		rxp := videoParam(path, Rx)
		rxp.Memif.IsMaster = false
		rx := create(t, rxp)
		recv := func() error {
			b, err := rx.DequeueBuffer(waitTimeout)
			if err != nil {
				return err
			}
			if !testsupport.Check(b.Data, int(b.SeqNum)) {
				return fmt.Errorf("frame %d corrupted", b.SeqNum)
			}
			return rx.EnqueueBuffer(b)
		}
		for k := 0; k < 20; k++ {
			require.NoError(t, recv())
		}
		peer.Kill()
		untilDisconnected(t, recv)
		startPeer(t, "tx", path)
		untilWorks(t, rx, recv)
		for k := 0; k < 20; k++ {
			require.NoError(t, recv())
		}
		assert.Equal(t, uint64(1), rx.Stats().Reconnects)
	})
	t.Run("receiver killed", func(t *testing.T) {
		path := testsupport.SockPath(t)
		peer := startPeer(t, "rx", path)
		txp := videoParam(path, Tx)
		txp.Memif.IsMaster = false
		tx := create(t, txp)
		send := func() error {
			b, err := tx.DequeueBuffer(waitTimeout)
			if err != nil {
				return err
			}
			b.Len = 10
			return tx.EnqueueBuffer(b)
		}
		for k := 0; k < 20; k++ {
			require.NoError(t, send())
		}
		peer.Kill()
		untilDisconnected(t, send)
		startPeer(t, "rx", path)
		untilWorks(t, tx, send)
		assert.Equal(t, uint64(1), tx.Stats().Reconnects)
	})
}
