package memif

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mcmgo/mcm/internal/testsupport"
)

// BenchmarkTwoProcess measures packets per second from this process (the
// master, sending) to a sink-slave process that busy-polls in polling mode,
// through the cgo seam: one packet per call pair (AllocPacket+Tx) or bursts
// of 32 (Alloc+Tx). The sender writes the first 8 bytes of each packet.
func BenchmarkTwoProcess(b *testing.B) {
	for _, size := range []int{64, 1500} {
		for _, burst := range []int{1, 32} {
			b.Run(fmt.Sprintf("%dB/burst%d", size, burst), func(b *testing.B) {
				benchSend(b, size, burst)
			})
		}
	}
}

func benchSend(b *testing.B, size, burst int) {
	path := testsupport.SockPath(b)
	i := newIface(b, newSocket(b, path), Config{IsMaster: true, InterfaceID: 1})
	startPeer(b, "sink-slave", path, 1)
	waitUp(b, i)
	bufs := make([]Buffer, burst)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; {
		want := min(burst, b.N-sent)
		var n int
		var err error
		if burst == 1 {
			n, err = i.AllocPacket(i.Session(), 0, bufs[:1], uint32(size))
		} else {
			n, err = i.Alloc(i.Session(), 0, bufs[:want], uint32(size))
		}
		if err != nil && !errors.Is(err, ErrNoBufRing) {
			b.Fatal(err)
		}
		for k := 0; k < n; k++ {
			bufs[k].Data[0] = byte(sent + k)
			bufs[k].Data[7] = byte(k)
		}
		if n > 0 {
			if _, err := i.Tx(i.Session(), 0, bufs[:n]); err != nil {
				b.Fatal(err)
			}
		}
		sent += n
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds()/1e6, "Mpps")
}

// BenchmarkInProcessRoundTrip is one packet through master -> slave in one
// process, in polling mode: the cost of the four cgo calls and the ring.
func BenchmarkInProcessRoundTrip(b *testing.B) {
	m, s := pair(b, Config{InterfaceID: 1}, Config{InterfaceID: 1})
	if err := s.SetRxMode(0, true); err != nil {
		b.Fatal(err)
	}
	var tx, rx [1]Buffer
	b.ReportAllocs()
	b.ResetTimer()
	for k := 0; k < b.N; k++ {
		if _, err := m.AllocPacket(m.Session(), 0, tx[:], 64); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Tx(m.Session(), 0, tx[:]); err != nil {
			b.Fatal(err)
		}
		if n, err := s.Rx(s.Session(), 0, rx[:]); n != 1 || err != nil {
			b.Fatal(n, err)
		}
		if err := s.Refill(s.Session(), 0, 1); err != nil {
			b.Fatal(err)
		}
	}
}
