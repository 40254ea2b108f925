package mcmdp

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/mcmgo/mcm/internal/testsupport"
	"github.com/mcmgo/mcm/third_party/testpmd"
)

// The size sweep: frames of one size, the whole of each written by the
// sender and read by the receiver, through memif between two processes;
// beside them the same bytes written and read in one process with no
// transport (the touch bound), and DPDK's memif receiving them
// (dpdk-testpmd rxonly, when installed). Each frame is one raw ancillary
// buffer of exactly that size: no trailer, no chain.
var sweepSizes = []int{64, 1500, 9000, 64 << 10, 1 << 20, 8 << 20}

// sweepLog2 keeps a ring at most 64 MB (8 slots of 8 MB) and at most 1,024
// slots: the memory one direction of the session maps.
func sweepLog2(size int) uint8 {
	switch {
	case size <= 9000:
		return 10
	case size <= 64<<10:
		return 8
	case size <= 1<<20:
		return 5
	default:
		return 3
	}
}

// sweepBurst: small frames go 32 to an engine call, large ones one by one
// (half the ring at most, so the sender never waits for a whole ring).
func sweepBurst(size int) int { return min(32, 1<<sweepLog2(size)/2) }

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func sweepParam(path string, typ TransferType, master bool, size int) *ConnParam {
	return &ConnParam{Type: typ, Protocol: ProtoMemif, Raw: true,
		Memif:   MemifParam{IsMaster: master, SocketPath: path},
		Payload: PayloadAncillary, BufferSize: uint32(size), Log2RingSize: sweepLog2(size)}
}

// sweepSizeEnv tells the receiver process the frame size.
const sweepSizeEnv = "MCMDP_SWEEP_SIZE"

func init() {
	// The sweep's receiver: a polling slave that reads every byte.
	sinks["sink-sweep"] = sinkKind{readAll: true, param: func(path string) *ConnParam {
		size, _ := strconv.Atoi(os.Getenv(sweepSizeEnv))
		p := sweepParam(path, Rx, false, size)
		p.Polling = true
		return p
	}}
}

// BenchmarkSweep: see sweepSizes. memif: this process (master) sends to a
// receiver process; touch: one goroutine writes a frame then reads it,
// over as many frame buffers as the ring has; testpmd: this process
// (slave, so the buffers are ours) sends to dpdk-testpmd rxonly, whose
// memif driver copies every frame into mbufs. Throughput is MB/s (SetBytes)
// and Mpps; a run ends once the receiver released every frame.
func BenchmarkSweep(b *testing.B) {
	for _, size := range sweepSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			src := make([]byte, size)
			testsupport.Fill(src, size)
			var memifTx *Conn // made once per size, for every run of b.N
			var pmd *sweepPMD
			b.Run("memif", func(rb *testing.B) {
				if memifTx == nil {
					b.Setenv(sweepSizeEnv, strconv.Itoa(size)) // the receiver process inherits it
					memifTx = sweepConn(b, "sink-sweep", size)
				}
				sweepSend(rb, memifTx, src)
			})
			b.Run("touch", func(rb *testing.B) { sweepTouch(rb, src) })
			b.Run("testpmd", func(rb *testing.B) {
				if pmd == nil {
					pmd = sweepTestpmd(b, rb, size)
				}
				sweepSend(rb, pmd.tx, src)
				pmd.check(rb)
			})
		})
	}
}

// sweepConn connects this process's sender (master) to a receiver process.
func sweepConn(b *testing.B, sink string, size int) *Conn {
	return benchSender(b, sink, sweepParam("", Tx, true, size))
}

// sweepPMD is dpdk-testpmd rxonly and this process's sender to it.
type sweepPMD struct {
	p  *testpmd.Process
	tx *Conn
}

// check fails rb unless testpmd counted every frame sent so far, whole:
// its memif driver drops a frame it has no mbufs for, and the release
// alone would not tell.
func (s *sweepPMD) check(rb *testing.B) {
	want := s.tx.Stats().FramesTx
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // stats come once a second
	defer cancel()
	st, err := s.p.WaitStats(ctx, func(st testpmd.Stats) bool { return st.RxPackets >= want })
	if err != nil || st.RxPackets != want || st.RxNoMbuf != 0 || st.RxMissed != 0 || st.RxErrors != 0 {
		rb.Fatalf("testpmd counted %+v, we sent %d: %v", st, want, err)
	}
}

// sweepTestpmd starts dpdk-testpmd rxonly as the master and connects this
// process's sender to it as the slave, or skips rb without testpmd. Its
// mbufs are 16 KB at most (larger frames arrive as chains of them), 8,192
// of them: a ring's worth of the largest frames in 512 MB.
func sweepTestpmd(b, rb *testing.B, size int) *sweepPMD {
	if _, err := testpmd.Available(); err != nil {
		rb.Skip(err)
	}
	path := testsupport.SockPath(b)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	mbuf := min(size, 16<<10) + 128 // data room plus headroom
	p, err := testpmd.Start(ctx, testpmd.Config{Role: "server", Socket: path, ForwardMode: "rxonly",
		Extra: []string{"--mbuf-size=" + strconv.Itoa(mbuf), "--total-num-mbufs=8192"}})
	if err != nil {
		rb.Skip("dpdk-testpmd did not start: ", err)
	}
	b.Cleanup(func() { p.Stop() })
	ctx2, cancel2 := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel2()
	c, err := CreateConnection(ctx2, sweepParam(path, Tx, false, size))
	if err != nil {
		rb.Skip("dpdk-testpmd did not connect: ", err, "\n", p.Output())
	}
	b.Cleanup(func() { c.Close() })
	return &sweepPMD{p: p, tx: c}
}

// sweepSend sends b.N frames of len(src) bytes, each written whole, and
// waits until the receiver released them all.
func sweepSend(b *testing.B, tx *Conn, src []byte) {
	burst := sweepBurst(len(src))
	bufs := make([]*Buffer, burst)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; {
		n, err := tx.DequeueBuffers(bufs[:min(burst, b.N-sent)], -1)
		if err != nil {
			b.Fatal(err)
		}
		for _, buf := range bufs[:n] {
			copy(buf.Data, src)
		}
		if err := tx.EnqueueBuffers(bufs[:n]); err != nil {
			b.Fatal(err)
		}
		sent += n
	}
	if err := tx.iface.WaitTx(tx.current(), 0, waitTimeout, 0); err != nil {
		b.Fatal("the receiver did not take everything: ", err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds()/1e6, "Mpps")
}

// sweepTouch is the bound without transport: write each frame from src
// and read it back, cycling over as many frame buffers as the ring has.
func sweepTouch(b *testing.B, src []byte) {
	size := len(src)
	slots := 1 << sweepLog2(size)
	mem := make([]byte, slots*size)
	clear(mem) // fault it in before the clock starts
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		d := mem[(i%slots)*size:][:size]
		copy(d, src)
		sink64 += sumWords(d)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds()/1e6, "Mpps")
}
