package mcmdp

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/capcheck"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// needCap skips a test of a behaviour the linked engine lacks.
var needCap = capcheck.Need

const waitTimeout = 10 * time.Second

// videoParam is a small video connection; tests change what they need.
func videoParam(path string, typ TransferType) *ConnParam {
	return &ConnParam{
		Type: typ, Protocol: ProtoMemif,
		Memif:   MemifParam{IsMaster: typ == Tx, SocketPath: path, InterfaceID: 1},
		Payload: PayloadVideo, Width: 64, Height: 32, FPS: 60, PixFmt: PixFmtYUV422P10LE,
	}
}

func create(t testing.TB, p *ConnParam) *Conn {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := CreateConnection(ctx, p)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// connect creates tx and rx at once (each blocks until connected).
func connect(t testing.TB, txp, rxp *ConnParam) (tx, rx *Conn) {
	type res struct {
		c   *Conn
		err error
	}
	done := make(chan res, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		c, err := CreateConnection(ctx, rxp)
		done <- res{c, err}
	}()
	tx = create(t, txp)
	r := <-done
	require.NoError(t, r.err)
	t.Cleanup(func() { r.c.Close() })
	return tx, r.c
}

func sendFrame(t testing.TB, c *Conn, seed int, n int) {
	t.Helper()
	b, err := c.DequeueBuffer(waitTimeout)
	require.NoError(t, err)
	require.NotNil(t, b)
	b.Len = n
	testsupport.Fill(b.Data[:n], seed)
	b.Timestamp = int64(seed) * 1000
	require.NoError(t, c.EnqueueBuffer(b))
}

func recvFrame(t testing.TB, c *Conn) *Buffer {
	t.Helper()
	b, err := c.DequeueBuffer(waitTimeout)
	require.NoError(t, err)
	require.NotNil(t, b)
	return b
}

func osStat(path string) (os.FileInfo, error) {
	if path == "" {
		return nil, os.ErrNotExist
	}
	return os.Stat(path)
}
