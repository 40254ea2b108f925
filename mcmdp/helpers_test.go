package mcmdp

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/cgo"
)

// needCap skips a test of a behaviour the linked engine lacks (upstream
// libmemif under libmemif_system), by the memif.Capabilities field's name.
func needCap(t testing.TB, name string) {
	t.Helper()
	v := reflect.ValueOf(memif.EngineCapabilities()).FieldByName(name)
	if !v.IsValid() {
		t.Fatalf("no capability %q", name)
	}
	if !v.Bool() {
		t.Skipf("needs capability %s", name)
	}
}

const waitTimeout = 10 * time.Second

var sockSeq atomic.Int64

func sockPath(t testing.TB) string {
	dir, err := os.MkdirTemp("", "mcmdp")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, fmt.Sprintf("c%d.sock", sockSeq.Add(1)))
}

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

func fill(b []byte, seed int) {
	for k := range b {
		b[k] = byte(seed*13 + k*7 + k>>8)
	}
}

func filled(b []byte, seed int) bool {
	for k := range b {
		if b[k] != byte(seed*13+k*7+k>>8) {
			return false
		}
	}
	return true
}

func sendFrame(t testing.TB, c *Conn, seed int, n int) {
	t.Helper()
	b, err := c.DequeueBuffer(waitTimeout)
	require.NoError(t, err)
	require.NotNil(t, b)
	b.Len = n
	fill(b.Data[:n], seed)
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
