package mcmdp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/mcmgo/mcm/cgo"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// The seam's own speed, measured here next to mcmdp's in the same run (the
// machine is noisy, so only ratios of one run mean much): the same packets,
// ring and buffer sizes as BenchmarkPackets64B, sent with the cgo seam
// alone into a receiver process that uses the seam alone, as
// cgo.BenchmarkTwoProcess does. What mcmdp adds per frame is the
// difference.

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
			var idle idleSink
			for {
				ch := i.Changed()
				if !i.Status().Up {
					<-ch
					continue
				}
				n, _ := i.Rx(i.Session(), 0, rx[:])
				if n == 0 {
					idle.empty()
					continue
				}
				idle.got()
				i.Refill(i.Session(), 0, n)
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
	waitSeamUp(b, i)
	return i
}

// sendSeamPackets sends n 64-byte packets through the seam, one per
// AllocPacket+Tx or len(bufs) per Alloc+Tx, retrying while the ring is
// full, as cgo.BenchmarkTwoProcess does.
func sendSeamPackets(b *testing.B, i *memif.Interface, bufs []memif.Buffer, n int) {
	for sent := 0; sent < n; {
		var k int
		var err error
		if len(bufs) == 1 {
			k, err = i.AllocPacket(i.Session(), 0, bufs[:1], 64)
		} else {
			k, err = i.Alloc(i.Session(), 0, bufs[:min(len(bufs), n-sent)], 64)
		}
		if err != nil && !errors.Is(err, memif.ErrNoBufRing) {
			b.Fatal(err)
		}
		for j := range bufs[:k] {
			bufs[j].Data[0] = byte(sent)
		}
		if k > 0 {
			if _, err := i.Tx(i.Session(), 0, bufs[:k]); err != nil {
				b.Fatal(err)
			}
		}
		sent += k
	}
}

// BenchmarkFrameCost is the CPU time per 64-byte frame of both ends in one
// goroutine, with no second process and no scheduling in the way: the
// sender moves 32 frames as one burst or as 32 single calls, then the
// (polling) receiver takes them as one burst. seam-* does the same with
// the seam alone; x-seam is mcmdp's cost over the seam's. cpu-ns/op is the
// process's CPU time per frame, steadier than ns/op on a busy machine.
func BenchmarkFrameCost(b *testing.B) {
	const round = 32
	for _, burst := range []int{1, round} {
		var seam float64
		b.Run(fmt.Sprintf("seam-burst%d", burst), func(b *testing.B) {
			m, s := seamPair(b)
			tx, rx := make([]memif.Buffer, burst), make([]memif.Buffer, round)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			for done := 0; done < b.N; done += round {
				sendSeamPackets(b, m, tx, round)
				n, err := s.Rx(s.Session(), 0, rx)
				if n != round {
					b.Fatal(n, err)
				}
				s.Refill(s.Session(), 0, n)
			}
			seam = cpu.perOp(b)
		})
		b.Run(fmt.Sprintf("burst%d", burst), func(b *testing.B) {
			txp, rxp := packetRx(testsupport.SockPath(b)), packetRx("")
			rxp.Memif.SocketPath, rxp.Polling = txp.Memif.SocketPath, true
			txp.Type, txp.Memif.IsMaster = Tx, true
			tx, rx := connect(b, txp, rxp)
			out, in := make([]*Buffer, burst), make([]*Buffer, round)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			for done := 0; done < b.N; done += round {
				sendPackets(b, tx, out, round)
				n, err := rx.DequeueBuffers(in, -1)
				if n != round {
					b.Fatal(n, err)
				}
				rx.EnqueueBuffers(in)
			}
			if cost := cpu.perOp(b); seam > 0 {
				b.ReportMetric(cost/seam, "x-seam")
			}
		})
	}
}

// seamPair is a connected master and slave in this process, the slave
// polling.
func seamPair(b *testing.B) (m, s *memif.Interface) {
	path := testsupport.SockPath(b)
	var ifaces [2]*memif.Interface
	for k, master := range []bool{true, false} {
		sock, err := memif.NewSocket(memif.SocketConfig{Path: path, AppName: "bench", RetryInterval: int64(10 * time.Millisecond)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { sock.Close() })
		if ifaces[k], err = sock.NewInterface(seamConfig(master)); err != nil {
			b.Fatal(err)
		}
	}
	m, s = ifaces[0], ifaces[1]
	s.SetRxMode(0, true)
	for _, i := range ifaces {
		waitSeamUp(b, i)
	}
	return m, s
}

func waitSeamUp(b *testing.B, i *memif.Interface) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		ch := i.Changed()
		if i.Status().Up {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			b.Fatal("the seam pair never connected")
		}
	}
}

// cpuClock measures the process's CPU time (user and system) from start.
type cpuClock struct{ start time.Duration }

func startCPU() cpuClock { return cpuClock{processCPU()} }

// perOp stops b's timer and reports the CPU time per op, as cpu-ns/op.
func (c cpuClock) perOp(b *testing.B) float64 {
	b.StopTimer()
	ns := float64(processCPU()-c.start) / float64(b.N)
	b.ReportMetric(ns, "cpu-ns/op")
	return ns
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
