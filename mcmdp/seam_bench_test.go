package mcmdp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/mcmgo/mcm/cgo"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// The seam's own speed, measured here next to mcmdp's in the same run (the
// machine is noisy, so only ratios of one run mean much): the same packets,
// ring and buffer sizes as BenchmarkPackets64B, sent with the cgo seam
// alone into a receiver process that uses the seam alone. What mcmdp adds
// per frame is the difference.

const seamSinkRole = "sink-seam"

// seamConfig matches packetRx: 128-byte buffers, 1,024-slot rings.
func seamConfig(master bool) memif.Config {
	return memif.Config{IsMaster: master, InterfaceID: 1, BufferSize: 128, Log2RingSize: 10}
}

// runSeamSink is the receiver process: a slave polling its ring with the
// seam's bursts, as the mcmdp sink does with DequeueBuffers.
func runSeamSink(path string) int {
	s, err := memif.NewSocket(memif.SocketConfig{Path: path, AppName: seamSinkRole, RetryInterval: int64(10 * time.Millisecond)})
	if err == nil {
		var i *memif.Interface
		if i, err = s.NewInterface(seamConfig(false)); err == nil {
			i.SetRxMode(0, true)
			testsupport.Ready()
			var rx [sinkBurst]memif.Buffer
			for {
				ch := i.Changed()
				if !i.Status().Up {
					<-ch
					continue
				}
				if n, _ := i.Rx(i.Session(), 0, rx[:]); n > 0 {
					i.Refill(i.Session(), 0, n)
				}
			}
		}
	}
	fmt.Fprintln(os.Stderr, err)
	return 2
}

// seamSender is this process's master, connected to a seam sink.
func seamSender(b *testing.B) *memif.Interface {
	path := testsupport.SockPath(b)
	s, err := memif.NewSocket(memif.SocketConfig{Path: path, AppName: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	i, err := s.NewInterface(seamConfig(true))
	if err != nil {
		b.Fatal(err)
	}
	startPeer(b, seamSinkRole, path)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		ch := i.Changed()
		if i.Status().Up {
			return i
		}
		select {
		case <-ch:
		case <-ctx.Done():
			b.Fatal("the seam sink never connected")
		}
	}
}

// benchSeam sends b.N 64-byte packets through the seam, one per
// AllocPacket+Tx or burst per Alloc+Tx, and returns the rate in Mpps.
func benchSeam(b *testing.B, burst int) float64 {
	i := seamSender(b)
	bufs := make([]memif.Buffer, burst)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; {
		var n int
		var err error
		if burst == 1 {
			n, err = i.AllocPacket(i.Session(), 0, bufs[:1], 64)
		} else {
			n, err = i.Alloc(i.Session(), 0, bufs[:min(burst, b.N-sent)], 64)
		}
		if err != nil && !errors.Is(err, memif.ErrNoBufRing) {
			b.Fatal(err)
		}
		for k := range bufs[:n] {
			bufs[k].Data[0] = byte(sent)
		}
		if n > 0 {
			if _, err := i.Tx(i.Session(), 0, bufs[:n]); err != nil {
				b.Fatal(err)
			}
		}
		sent += n
	}
	mpps := float64(b.N) / time.Since(start).Seconds() / 1e6
	b.ReportMetric(mpps, "Mpps")
	return mpps
}
