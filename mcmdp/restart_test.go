package mcmdp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	if sink, ok := sinks[role]; ok {
		return runSink(path, sink)
	}
	typ := Tx
	if role == "rx" {
		typ = Rx
	}
	p := videoParam(path, typ)
	p.Memif.IsMaster = true
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	fmt.Println("READY") // the socket exists once CreateConnection waits
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
			fill(b.Data[:100], int(b.SeqNum))
			b.Len = 100
		}
		c.EnqueueBuffer(b)
	}
}

func startPeer(t testing.TB, role, path string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MCMDP_HELPER="+role, "MCMDP_PATH="+path)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "READY\n", line)
	return cmd
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
		path := sockPath(t)
		peer := startPeer(t, "tx", path)
		rxp := videoParam(path, Rx)
		rxp.Memif.IsMaster = false
		rx := create(t, rxp)
		recv := func() error {
			b, err := rx.DequeueBuffer(waitTimeout)
			if err != nil {
				return err
			}
			if !filled(b.Data, int(b.SeqNum)) {
				return fmt.Errorf("frame %d corrupted", b.SeqNum)
			}
			return rx.EnqueueBuffer(b)
		}
		for k := 0; k < 20; k++ {
			require.NoError(t, recv())
		}
		peer.Process.Kill()
		peer.Wait()
		untilDisconnected(t, recv)
		startPeer(t, "tx", path)
		untilWorks(t, rx, recv)
		for k := 0; k < 20; k++ {
			require.NoError(t, recv())
		}
		assert.Equal(t, uint64(1), rx.Stats().Reconnects)
	})
	t.Run("receiver killed", func(t *testing.T) {
		path := sockPath(t)
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
		peer.Process.Kill()
		peer.Wait()
		untilDisconnected(t, send)
		startPeer(t, "rx", path)
		untilWorks(t, tx, send)
		assert.Equal(t, uint64(1), tx.Stats().Reconnects)
	})
}
