package mcmdp

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcmgo/mcm/internal/procstat"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// Scale: 64 senders in this process, all masters on one socket path (so
// one memif socket and one event goroutine), to 64 receivers in a second
// process, all slaves on that path. Frames are 64 KB raw buffers, each
// written whole and read whole; receivers wait for interrupts.
const (
	scaleConns = 64
	scaleFrame = 64 << 10
	scaleLog2  = 5 // 32 slots: 2 MB a direction for each Conn
	scaleBurst = 8
)

func scaleParam(path string, typ TransferType, id int) *ConnParam {
	return &ConnParam{Type: typ, Protocol: ProtoMemif, Raw: true,
		Memif:   MemifParam{IsMaster: typ == Tx, SocketPath: path, InterfaceID: uint32(id)},
		Payload: PayloadAncillary, BufferSize: scaleFrame, Log2RingSize: scaleLog2}
}

func init() { peerRoles["scale-rx"] = runScaleRx }

// scaleRead keeps the receivers' reads from being optimised away.
var scaleRead atomic.Uint64

// runScaleRx, in the receiver process, connects the 64 receivers at once
// and has each read every byte of every frame until the process ends.
func runScaleRx(path string) int {
	testsupport.Ready() // before connecting: the parent times the connects
	for id := range scaleConns {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			c, err := CreateConnection(ctx, scaleParam(path, Rx, id))
			cancel()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			var bufs [scaleBurst]*Buffer
			for {
				n, err := c.DequeueBuffers(bufs[:], -1)
				if err != nil {
					c.WaitConnected(context.Background())
					continue
				}
				var sum uint64
				for _, b := range bufs[:n] {
					sum += sumWords(b.Data)
				}
				scaleRead.Add(sum)
				c.EnqueueBuffers(bufs[:n])
			}
		}()
	}
	select {} // Ready's watcher exits when the parent closes stdin
}

// scaleRig is the 64 connected pairs.
type scaleRig struct {
	tx      []*Conn
	rx      *testsupport.Child
	connect time.Duration // from the receiver process's start to all 64 up
}

// newScaleRig creates the 64 masters, starts the receiver process once
// all of them listen, and waits until all 64 pairs are up. The timer runs
// only while the receivers connect.
func newScaleRig(b *testing.B) *scaleRig {
	b.StopTimer()
	path := testsupport.SockPath(b)
	r := &scaleRig{tx: make([]*Conn, scaleConns)}
	errs := make(chan error, scaleConns)
	for id := range scaleConns {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			var err error
			r.tx[id], err = CreateConnection(ctx, scaleParam(path, Tx, id))
			errs <- err
		}()
	}
	// A slave whose id has no master yet would sit out a retry interval.
	waitMasters(b, path, scaleConns)
	r.rx = startPeer(b, "scale-rx", path)
	b.StartTimer()
	start := time.Now()
	for range scaleConns {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	r.connect = time.Since(start)
	b.StopTimer()
	return r
}

// waitMasters polls the socket registry until n masters are attached on
// path: CreateConnection only returns once its peer came.
func waitMasters(b *testing.B, path string, n int) {
	k := keyOf(MemifParam{SocketPath: path})
	deadline := time.Now().Add(waitTimeout)
	for {
		sockets.mu.Lock()
		got := 0
		if ss := sockets.m[k]; ss != nil {
			for key := range ss.ids {
				if key.master {
					got++
				}
			}
		}
		sockets.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d masters after %v", got, n, waitTimeout)
		}
		time.Sleep(time.Millisecond)
	}
}

func (r *scaleRig) close() {
	for _, c := range r.tx {
		c.Close()
	}
	r.rx.Stop()
}

// cpu is the CPU time both processes have used so far.
func (r *scaleRig) cpu(b *testing.B) time.Duration {
	self, err := procstat.CPUTime(0)
	if err != nil {
		b.Fatal(err)
	}
	child, err := procstat.CPUTime(r.rx.Cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	return self + child
}

// BenchmarkScale64: connect is the time from the receiver process's start
// until all 64 pairs are up; idle is the CPU both processes use together
// while all 64 receivers wait for frames (in % of one core); busy is
// every sender sending at once, the aggregate throughput.
func BenchmarkScale64(b *testing.B) {
	b.Run("connect", func(b *testing.B) {
		b.ResetTimer()
		var total time.Duration
		for i := 0; i < b.N; i++ {
			r := newScaleRig(b)
			total += r.connect
			r.close()
		}
		b.ReportMetric(total.Seconds()*1e3/float64(b.N), "ms/connect-all")
	})
	b.Run("idle", func(b *testing.B) {
		r := newScaleRig(b)
		defer r.close()
		debug.FreeOSMemory() // the setup's garbage collected now, not in the window
		b.ResetTimer()
		b.StartTimer()
		cpu0, start := r.cpu(b), time.Now()
		for i := 0; i < b.N; i++ {
			time.Sleep(100 * time.Millisecond) // the idle period measured
		}
		cpu, elapsed := r.cpu(b)-cpu0, time.Since(start)
		b.StopTimer()
		b.ReportMetric(100*cpu.Seconds()/elapsed.Seconds(), "%CPU")
	})
	b.Run("busy", func(b *testing.B) {
		r := newScaleRig(b)
		defer r.close()
		src := make([]byte, scaleFrame)
		testsupport.Fill(src, 64)
		b.SetBytes(scaleFrame)
		b.ResetTimer()
		b.StartTimer()
		start := time.Now()
		var wg sync.WaitGroup
		for k, tx := range r.tx {
			share := b.N / scaleConns
			if k < b.N%scaleConns {
				share++
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				scaleSend(b, tx, src, share)
			}()
		}
		wg.Wait()
		b.StopTimer()
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds()/1e6, "Mpps")
	})
}

// scaleSend sends n frames on tx, each written whole, and waits until the
// receiver released them.
func scaleSend(b *testing.B, tx *Conn, src []byte, n int) {
	var bufs [scaleBurst]*Buffer
	for sent := 0; sent < n; {
		k, err := tx.DequeueBuffers(bufs[:min(scaleBurst, n-sent)], -1)
		if err != nil {
			b.Error(err)
			return
		}
		for _, buf := range bufs[:k] {
			copy(buf.Data, src)
		}
		if err := tx.EnqueueBuffers(bufs[:k]); err != nil {
			b.Error(err)
			return
		}
		sent += k
	}
	if err := tx.iface.WaitTx(tx.current(), 0, waitTimeout, 0); err != nil {
		b.Error("the receiver did not take everything: ", err)
	}
}
