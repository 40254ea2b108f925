package toolstest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/mcmgo/mcm/internal/testsupport"
	"github.com/mcmgo/mcm/third_party/testpmd"
)

// The tools are never what limits a benchmark: in one run, 64 B packets
// from testpmd txonly into testpmd rxonly (the yardstick), from mcm-send
// --burst into testpmd rxonly, and from testpmd txonly into mcm-recv
// --burst, each rate measured the same way (testpmd's own counter over a
// window of its periodic blocks), with the ratios to the yardstick and
// each tool's count beside testpmd's. It runs MCM_BENCH_ROUNDS rounds
// (3; run it with -benchtime 1x), each tool's ratio taken to its own
// round's yardstick, so a load that comes and goes on a shared machine
// weighs on both sides of a ratio; the metrics are the medians.
//
// A round has two sets of rows: bursts of 32 (testpmd's own burst), and
// one packet per call (testpmd --burst=1 at both ends, the tools --burst
// 1: mcmdp's DequeueBuffer and EnqueueBuffer). The second set has a fourth
// row, mcm-send into mcm-recv (polling), the pair the one-per-call target
// is about, beside testpmd's pair: C that no lock or cgo call slows, on
// the same machine in the same minute. Its rate is mcm-send's own count
// over its run (no testpmd there to count), mcm-recv's beside it.
//
// A VM's host may also move its virtual CPUs closer or further apart
// within seconds, and a cache line's round trip between them with them
// (testsupport.LineRoundTrip: 110 or 530 ns on this project's machines,
// about 1 µs on some): a set whose rows ran in different placements
// compares two machines. So the round trip is taken before each row and
// after the last, and a set is steady when no reading is three times
// another (the placements are four to five times apart; within one,
// readings wander by up to twice). The metrics are the medians of all
// rounds; those of the steady ones are printed beside them, and every set
// with its readings. A placement can also come and go inside one row,
// which no reading between rows sees: more rounds is the only cure. A
// benchmark, not a test: nothing here asserts a speed. Run it with `make
// bench-testpmd`.
func BenchmarkTestpmd(b *testing.B) {
	testpmd.Require(b)
	rounds := 3
	if r, err := strconv.Atoi(os.Getenv("MCM_BENCH_ROUNDS")); err == nil && r > 0 {
		rounds = r
	}
	var all, steady [2]benchRatios // bursts of 32, one per call
	for i := 0; i < b.N*rounds; i++ {
		for k, burst := range []int{32, 1} {
			rows, rtts := benchTestpmdRows(b, burst)
			ok := steadyRound(rtts)
			fmt.Fprintf(os.Stdout, "\nround %d of %d, %s: 64 B packets, memif ring 1024 x 64 B buffers, rates over %v of testpmd's blocks\n",
				i+1, b.N*rounds, burstName(burst), benchWindow)
			fmt.Fprintf(os.Stdout, "line round trip before each row and after the last: %v (%s)\n", rtts, map[bool]string{true: "steady", false: "the placement changed"}[ok])
			fmt.Fprintf(os.Stdout, "%-48s %6s %6s  %s\n", "run", "Mpps", "ratio", "counts")
			for _, r := range rows {
				fmt.Fprintf(os.Stdout, "%-48s %6.2f %6.2f  %s\n", r.name, r.pps/1e6, r.pps/rows[0].pps, r.counts)
			}
			all[k].add(rows)
			if ok {
				steady[k].add(rows)
			}
		}
	}
	for k, burst := range []int{32, 1} {
		all[k].print(burstName(burst), "all %d rounds", len(all[k].base))
		if len(steady[k].base) > 0 {
			steady[k].print(burstName(burst), "the %d steady rounds", len(steady[k].base))
		}
	}
	b.ReportMetric(median(all[0].base), "pmd-Mpps")
	b.ReportMetric(median(all[0].send), "send/pmd")
	b.ReportMetric(median(all[0].recv), "recv/pmd")
	b.ReportMetric(float64(len(steady[0].base)), "steady-rounds")
	b.ReportMetric(median(all[1].base), "pmd1-Mpps")
	b.ReportMetric(median(all[1].send), "send1/pmd1")
	b.ReportMetric(median(all[1].recv), "recv1/pmd1")
	b.ReportMetric(median(all[1].pair), "pair1/pmd1")
	b.ReportMetric(median(all[1].pairMpps), "pair1-Mpps")
}

func burstName(burst int) string {
	if burst == 1 {
		return "one packet per call"
	}
	return fmt.Sprintf("bursts of %d", burst)
}

// benchRatios: per round, the yardstick's Mpps and each tool's ratio to it;
// for one packet per call also the mcm pair's, and its Mpps.
type benchRatios struct{ base, send, recv, pair, pairMpps []float64 }

func (r *benchRatios) add(rows []benchRow) {
	pmd := rows[0].pps
	r.base = append(r.base, pmd/1e6)
	r.send = append(r.send, rows[1].pps/pmd)
	r.recv = append(r.recv, rows[2].pps/pmd)
	if len(rows) > 3 {
		r.pair = append(r.pair, rows[3].pps/pmd)
		r.pairMpps = append(r.pairMpps, rows[3].pps/1e6)
	}
}

func (r *benchRatios) print(set, which string, args ...any) {
	fmt.Fprintf(os.Stdout, "%s, medians of %s: testpmd -> testpmd %.2f Mpps, mcm-send/testpmd %.2f, mcm-recv/testpmd %.2f",
		set, fmt.Sprintf(which, args...), median(r.base), median(r.send), median(r.recv))
	if len(r.pair) > 0 {
		fmt.Fprintf(os.Stdout, ", mcm-send -> mcm-recv %.2f Mpps (%.2f)", median(r.pairMpps), median(r.pair))
	}
	fmt.Fprintln(os.Stdout)
}

// steadyRound: no reading is three times another.
func steadyRound(rtts []time.Duration) bool {
	lo, hi := slices.Min(rtts), slices.Max(rtts)
	return lo > 0 && hi < 3*lo
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// benchWindow is how long each rate is measured, once traffic runs; a
// tool runs for benchRun, so the window fits whatever its rate.
const (
	benchWindow = 4 * time.Second
	benchRun    = benchWindow + 6*time.Second
)

type benchRow struct {
	name   string
	pps    float64 // testpmd's counter over the window; the mcm pair's own
	counts string  // the tool's own count beside testpmd's
}

// benchTestpmdRows runs the rows of one set, bursts of burst (32 or 1),
// and returns them with the line round trip taken before each and after
// the last, each while nothing else runs.
func benchTestpmdRows(b *testing.B, burst int) ([]benchRow, []time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var rows []benchRow
	rtts := []time.Duration{testsupport.LineRoundTrip()}
	pmdBurst := []string{fmt.Sprintf("--burst=%d", burst)}
	tools := fmt.Sprintf("--burst %d", burst)

	// The yardstick. The two forwarding lcores (1) get a CPU each; the
	// mostly idle main lcores (0) print the blocks.
	sock := filepath.Join(runDir(b), "pmd.sock")
	sink := startPMD(b, ctx, testpmd.Config{Role: "server", Socket: sock, ForwardMode: "rxonly", Lcores: "0@1,1@0", Extra: pmdBurst})
	source := startPMD(b, ctx, testpmd.Config{Role: "client", Socket: sock, ForwardMode: "txonly",
		BufferSize: 64, Log2Ring: 10, Lcores: "0@1,1@1", Extra: pmdBurst})
	pps := window(b, ctx, "testpmd rxonly, from testpmd txonly", sink, rxPackets)
	sinkSt := sink.Stats() // before the source leaves: that zeroes the sink's counters
	srcSt, _ := source.Stop()
	sink.Stop()
	rows = append(rows, benchRow{fmt.Sprintf("testpmd txonly -> testpmd rxonly (--burst=%d)", burst), pps,
		fmt.Sprintf("testpmd rxonly RX-packets %d at the window's end, testpmd txonly TX-packets %d at its exit", sinkSt.RxPackets, srcSt.TxPackets)})
	rtts = append(rtts, testsupport.LineRoundTrip())

	// mcm-send into testpmd rxonly: testpmd must count exactly what it sent.
	dir := runDir(b)
	sock = filepath.Join(dir, "pmd.sock")
	sink = startPMD(b, ctx, testpmd.Config{Role: "server", Socket: sock, ForwardMode: "rxonly", Lcores: "0@1,1@0", Extra: pmdBurst})
	send := startOnCPU(b, "1", dir, "mcm-send", append(benchPacketFlags(sock, "slave", burst), "--fps", "0")...)
	pps = window(b, ctx, "testpmd rxonly, from mcm-send", sink, rxPackets)
	sinkSt = settle(b, ctx, "testpmd rxonly, from mcm-send", sink, rxPackets)
	sink.Stop() // while mcm-send lingers: its leaving would zero the counters
	if code := send.wait(b); code != 0 {
		b.Fatalf("mcm-send exit %d: %s", code, send.stderr.String())
	}
	ss := send.summary(b)
	rows = append(rows, benchRow{"mcm-send " + tools + " -> testpmd rxonly", pps,
		fmt.Sprintf("mcm-send sent %d (%.2f Mpps over its run), testpmd RX-packets %d", ss.Frames, ss.FPS/1e6, sinkSt.RxPackets)})
	rtts = append(rtts, testsupport.LineRoundTrip())

	// testpmd txonly into mcm-recv: testpmd's TX count is mcm-recv's plus
	// what was still on the ring when mcm-recv stopped taking.
	dir = runDir(b)
	sock = filepath.Join(dir, "pmd.sock")
	source = startPMD(b, ctx, testpmd.Config{Role: "server", Socket: sock, ForwardMode: "txonly", Lcores: "0@1,1@1", Extra: pmdBurst})
	recv := startOnCPU(b, "0", dir, "mcm-recv", benchPacketFlags(sock, "slave", burst)...)
	pps = window(b, ctx, "testpmd txonly, into mcm-recv", source, txPackets)
	srcSt = settle(b, ctx, "testpmd txonly, into mcm-recv", source, txPackets)
	source.Stop()
	if code := recv.wait(b); code != 0 {
		b.Fatalf("mcm-recv exit %d: %s", code, recv.stderr.String())
	}
	rs := recv.summary(b)
	rows = append(rows, benchRow{"testpmd txonly -> mcm-recv " + tools, pps,
		fmt.Sprintf("mcm-recv took %d (%.2f Mpps over its run), testpmd TX-packets %d (%d left on the ring)",
			rs.Frames, rs.FPS/1e6, srcSt.TxPackets, int64(srcSt.TxPackets-rs.Frames))})
	rtts = append(rtts, testsupport.LineRoundTrip())
	if burst != 1 {
		return rows, rtts
	}

	// mcm-send into mcm-recv, polling as testpmd does, in testpmd's roles
	// and on its CPUs: mcm-recv must take every frame mcm-send sent.
	dir = runDir(b)
	sock = filepath.Join(dir, "pair.sock")
	recv = startOnCPU(b, "0", dir, "mcm-recv", append(benchPacketFlags(sock, "master", burst), "--polling", "--duration", "0")...)
	waitSocket(b, sock, recv) // it ends at mcm-send's end of stream
	send = startOnCPU(b, "1", dir, "mcm-send", append(benchPacketFlags(sock, "slave", burst), "--fps", "0")...)
	if code := send.wait(b); code != 0 {
		b.Fatalf("mcm-send exit %d: %s", code, send.stderr.String())
	}
	if code := recv.wait(b); code != 0 {
		b.Fatalf("mcm-recv exit %d: %s", code, recv.stderr.String())
	}
	ss, rs = send.summary(b), recv.summary(b)
	if rs.Frames != ss.Frames {
		b.Fatalf("mcm-recv took %d of the %d frames mcm-send sent", rs.Frames, ss.Frames)
	}
	rows = append(rows, benchRow{"mcm-send " + tools + " -> mcm-recv " + tools + " --polling", ss.FPS,
		fmt.Sprintf("mcm-send sent %d over its run (%.1f s), mcm-recv took %d", ss.Frames, ss.Seconds, rs.Frames)})
	return rows, append(rtts, testsupport.LineRoundTrip())
}

// benchPacketFlags: 64 B raw packets in 64 B buffers on a ring of 1024,
// in bursts of burst, as role.
func benchPacketFlags(sock, role string, burst int) []string {
	return []string{"--raw", "--payload", "anc", "--buffer-size", "64", "--ring", "10", "--role", role,
		"--socket", sock, "--burst", strconv.Itoa(burst), "--json", "--duration", benchRun.String(), "--linger", "60s"}
}

// startOnCPU starts a tool held to one CPU, testpmd's forwarding lcore
// having the other, each end where the yardstick's testpmd of the same
// role runs: senders on CPU 1, receivers on CPU 0. The two CPUs of a VM
// need not be alike (this one's CPU 0 has slow spells the other does not
// share), so a tool and the testpmd it is compared with get the same one.
func startOnCPU(b *testing.B, cpu, dir, tool string, args ...string) *proc {
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		b.Fatalf("taskset (util-linux) is needed to pin the tool: %v", err)
	}
	return start(b, dir, taskset, append([]string{"-c", cpu, filepath.Join(binDir, tool)}, args...)...)
}

func startPMD(b *testing.B, ctx context.Context, cfg testpmd.Config) *testpmd.Process {
	p, err := testpmd.Start(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Stop() })
	return p
}

// counter is one of testpmd's packet counters, with its rate since the
// previous block.
type counter struct{ packets, pps func(testpmd.Stats) uint64 }

var (
	rxPackets = counter{func(s testpmd.Stats) uint64 { return s.RxPackets }, func(s testpmd.Stats) uint64 { return s.RxPPS }}
	txPackets = counter{func(s testpmd.Stats) uint64 { return s.TxPackets }, func(s testpmd.Stats) uint64 { return s.TxPPS }}
)

// window is the rate of c over benchWindow of p's periodic blocks, from
// the first block after traffic started: WaitStats wakes as each block
// arrives, so both ends of the window are timed fresh.
func window(b *testing.B, ctx context.Context, what string, p *testpmd.Process, c counter) float64 {
	ctx, cancel := context.WithTimeout(ctx, benchRun+20*time.Second) // slow starts on a busy machine
	defer cancel()
	moving, err := p.WaitStats(ctx, func(s testpmd.Stats) bool { return c.packets(s) > 0 })
	if err != nil {
		b.Fatalf("%s: no traffic: %v", what, err)
	}
	first, err := p.WaitStats(ctx, func(s testpmd.Stats) bool { return c.packets(s) != c.packets(moving) })
	if err != nil {
		b.Fatalf("%s: traffic stopped: %v", what, err)
	}
	began := time.Now()
	last, err := p.WaitStats(ctx, func(s testpmd.Stats) bool {
		return c.packets(s) != c.packets(first) && time.Since(began) >= benchWindow
	})
	if err != nil {
		b.Fatalf("%s: traffic stopped within the window: %v", what, err)
	}
	return float64(c.packets(last)-c.packets(first)) / time.Since(began).Seconds()
}

// settle waits for a block that saw no traffic: the tool ran its time and
// lingers, so testpmd's count is final.
func settle(b *testing.B, ctx context.Context, what string, p *testpmd.Process, c counter) testpmd.Stats {
	st, err := p.WaitStats(ctx, func(s testpmd.Stats) bool { return c.packets(s) > 0 && c.pps(s) == 0 })
	if err != nil {
		b.Fatalf("%s: the tool never stopped: %v", what, err)
	}
	return st
}

// A round is steady only when no reading is three times another: the
// readings of rounds printed on 2026-11-30, near, far and mixed.
func TestSteadyRound(t *testing.T) {
	ns := func(v ...int) []time.Duration {
		d := make([]time.Duration, len(v))
		for k, x := range v {
			d[k] = time.Duration(x)
		}
		return d
	}
	for _, c := range []struct {
		rtts   []time.Duration
		steady bool
	}{
		{ns(111, 122, 58, 153), true},
		{ns(103, 95, 106, 209), true},
		{ns(617, 512, 601, 726), true},
		{ns(522, 595, 104, 109), false},
		{ns(110, 762, 115, 109), false},
		{ns(100, 299, 120, 110), true},
		{ns(100, 300, 120, 110), false},
		{ns(0, 0, 0, 0), false}, // one CPU: nothing was measured
	} {
		if got := steadyRound(c.rtts); got != c.steady {
			t.Errorf("steadyRound(%v) = %v, want %v", c.rtts, got, c.steady)
		}
	}
}
