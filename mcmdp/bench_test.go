package mcmdp

import (
	"context"
	"fmt"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/mcmgo/mcm/cgo"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// Benchmark peers run in a second process (see runPeer): a receiver that
// is the memif slave, started after this process's master exists.
type sinkKind struct {
	param   func(path string) *ConnParam
	readAll bool // read every byte of every frame
}

var sinks = map[string]sinkKind{
	"sink-packets": {param: func(path string) *ConnParam {
		p := packetRx(path)
		p.Polling = true
		return p
	}},
	"sink-frames": {param: frameRx, readAll: true},
}

func packetRx(path string) *ConnParam {
	return &ConnParam{Type: Rx, Protocol: ProtoMemif, Raw: true,
		Memif:   MemifParam{SocketPath: path, InterfaceID: 1},
		Payload: PayloadAncillary, BufferSize: 128, Log2RingSize: 10}
}

func frameRx(path string) *ConnParam {
	return &ConnParam{Type: Rx, Protocol: ProtoMemif,
		Memif:   MemifParam{SocketPath: path, InterfaceID: 1},
		Payload: PayloadVideo, Width: 1920, Height: 1080, FPS: 60, PixFmt: PixFmtYUV422P10LE}
}

func runSink(path string, k sinkKind) int {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	testsupport.Ready()
	c, err := CreateConnection(ctx, k.param(path))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var bufs [sinkBurst]*Buffer
	var idle idleSink
	for {
		n, err := c.DequeueBuffers(bufs[:], 0)
		if err == ErrTimeout {
			idle.empty()
			continue
		}
		if err != nil {
			if err == ErrClosed {
				return 0
			}
			c.WaitConnected(context.Background())
			continue
		}
		idle.got()
		if k.readAll {
			for _, b := range bufs[:n] {
				sink64 += sumWords(b.Data)
			}
		}
		c.EnqueueBuffers(bufs[:n])
	}
}

// idleSink lets a polling sink sleep once it has found nothing for a
// while: the benchmarks keep two sender/sink pairs up and use one at a
// time, and the idle sink must not take a core from the busy pair. A
// stream in progress never lets it get there.
type idleSink struct{ polls int }

func (s *idleSink) got() { s.polls = 0 }

func (s *idleSink) empty() {
	if s.polls++; s.polls >= 1<<14 {
		time.Sleep(time.Millisecond)
	}
}

var sink64 uint64

// sinkBurst is how many buffers a sink takes per call, with either API.
const sinkBurst = 256

// sumWords reads every byte, 8 at a time, then the tail.
func sumWords(b []byte) uint64 {
	w := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8)
	var s uint64
	for _, v := range w {
		s += v
	}
	for _, v := range b[len(w)*8:] {
		s += uint64(v)
	}
	return s
}

func benchSender(b *testing.B, sink string, p *ConnParam) *Conn {
	path := testsupport.SockPath(b)
	p.Type, p.Memif.SocketPath, p.Memif.IsMaster = Tx, path, true
	done := make(chan *Conn, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		c, err := CreateConnection(ctx, p)
		if err != nil {
			b.Error(err)
		}
		done <- c
	}()
	startPeer(b, sink, path) // a slave: it retries until our master exists
	c := <-done
	if c == nil {
		b.FailNow()
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkPackets64B: 64-byte packets from this process to a polling
// receiver process, one buffer per call or 32 per call, with mcmdp and, in
// alternating slices of the same run, with the seam alone (see seamSender):
// the machine is noisy, the ratio (x-seam) is steadier than either rate.
// line-rtt-ns is the median cache-line round trip between two CPUs, taken
// before each slice (see testsupport.LineRoundTrip): one buffer per call
// is bound by it.
func BenchmarkPackets64B(b *testing.B) {
	for _, burst := range []int{1, 32} {
		b.Run(fmt.Sprintf("burst%d", burst), func(b *testing.B) {
			p := packetRx("")
			p.Polling = false
			tx := benchSender(b, "sink-packets", p)
			seam := seamSender(b)
			bufs, seamBufs := make([]*Buffer, burst), make([]memif.Buffer, burst)
			const parts = 8
			var took, seamTook time.Duration
			var rtt [parts]time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for k := 0; k < parts; k++ {
				b.StopTimer()
				rtt[k] = testsupport.LineRoundTrip()
				b.StartTimer()
				n := b.N/parts + b.N%parts*(k/(parts-1)) // the rest in the last
				start := time.Now()
				sendPackets(b, tx, bufs, n)
				took += time.Since(start)
				start = time.Now()
				sendSeamPackets(b, seam, seamBufs, n)
				seamTook += time.Since(start)
			}
			b.StopTimer()
			mpps, seamMpps := float64(b.N)/took.Seconds()/1e6, float64(b.N)/seamTook.Seconds()/1e6
			b.ReportMetric(mpps, "Mpps")
			b.ReportMetric(seamMpps, "seam-Mpps")
			b.ReportMetric(mpps/seamMpps, "x-seam")
			slices.Sort(rtt[:])
			b.ReportMetric(float64(rtt[len(rtt)/2].Nanoseconds()), "line-rtt-ns")
		})
	}
}

// sendPackets sends n 64-byte packets, len(bufs) per call pair.
func sendPackets(b *testing.B, tx *Conn, bufs []*Buffer, n int) {
	for sent := 0; sent < n; {
		k := 1
		var err error
		if len(bufs) == 1 {
			bufs[0], err = tx.DequeueBuffer(-1)
		} else {
			k, err = tx.DequeueBuffers(bufs[:min(len(bufs), n-sent)], -1)
		}
		if err != nil {
			b.Fatal(err)
		}
		for _, buf := range bufs[:k] {
			buf.Len = 64
			buf.Data[0] = byte(sent)
		}
		if len(bufs) == 1 {
			err = tx.EnqueueBuffer(bufs[0])
		} else {
			err = tx.EnqueueBuffers(bufs[:k])
		}
		if err != nil {
			b.Fatal(err)
		}
		sent += k
	}
}

// BenchmarkFrames1080p: 1080p yuv422p10le frames (8,294,400 B) from this
// process, which writes every byte, to a receiver process that reads every
// byte; interrupt mode.
func BenchmarkFrames1080p(b *testing.B) {
	p := frameRx("")
	tx := benchSender(b, "sink-frames", p)
	src := make([]byte, tx.FrameSize())
	testsupport.Fill(src, 1)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		buf, err := tx.DequeueBuffer(-1)
		if err != nil {
			b.Fatal(err)
		}
		copy(buf.Data, src)
		if err := tx.EnqueueBuffer(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "frames/s")
}

// BenchmarkFrames1080pInProcess touches the same bytes with no transport:
// write a frame, read it back. The difference to BenchmarkFrames1080p is
// the transport's share.
func BenchmarkFrames1080pInProcess(b *testing.B) {
	n, _ := VideoFrameSize(1920, 1080, PixFmtYUV422P10LE)
	src, dst := make([]byte, n), make([]byte, n)
	testsupport.Fill(src, 1)
	b.SetBytes(int64(n))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		copy(dst, src)
		sink64 += sumWords(dst)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "frames/s")
}

// BenchmarkLatency: one frame in flight, from the sender's Timestamp to
// the receiver's DequeueBuffer returning, in one process.
func BenchmarkLatency(b *testing.B) {
	for _, polling := range []bool{false, true} {
		b.Run(map[bool]string{false: "interrupt", true: "polling"}[polling], func(b *testing.B) {
			txp, rxp := pairParams(b)
			rxp.Polling = polling
			tx, rx := connect(b, txp, rxp)
			lat := make([]time.Duration, 0, b.N)
			got := make(chan struct{})
			go func() {
				for i := 0; i < b.N; i++ {
					buf, err := rx.DequeueBuffer(-1)
					if err != nil {
						b.Error(err)
						return
					}
					lat = append(lat, time.Duration(time.Now().UnixNano()-buf.Timestamp))
					rx.EnqueueBuffer(buf)
					got <- struct{}{}
				}
			}()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				buf, err := tx.DequeueBuffer(-1)
				if err != nil {
					b.Fatal(err)
				}
				buf.Len = 64
				buf.Timestamp = time.Now().UnixNano()
				tx.EnqueueBuffer(buf)
				<-got
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
		})
	}
}

// BenchmarkIdleCPU: a connected pair in interrupt mode with a receiver
// blocked in DequeueBuffer; reports the process's CPU use while idle.
func BenchmarkIdleCPU(b *testing.B) {
	txp, rxp := pairParams(b)
	_, rx := connect(b, txp, rxp)
	go rx.DequeueBuffer(-1)
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		time.Sleep(200 * time.Millisecond) // the measured idle period
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(100*cpu.Seconds()/time.Since(start).Seconds(), "%CPU")
}
