package testpmd

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The samples in testdata/ are real dpdk-testpmd 22.11 output captured from
// two testpmd instances talking memif to each other.

// replay feeds a captured output file through a Process's line handler,
// exactly as the output reader would.
func replay(t *testing.T, name string) *Process {
	t.Helper()
	p := &Process{changed: make(chan struct{})}
	for _, l := range lines(t, name) {
		p.handle(l)
	}
	return p
}

// events returns the parser events of a captured file, in order.
func events(t *testing.T, name string) []event {
	t.Helper()
	var p parser
	var evs []event
	for _, l := range lines(t, name) {
		if ev := p.line(l); ev.kind != evNone {
			evs = append(evs, ev)
		}
	}
	return evs
}

func lines(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

func TestParsePeriodicBlock(t *testing.T) {
	var got []Stats
	for _, ev := range events(t, "server_rxonly_stopped_first.txt") {
		if ev.kind == evStats {
			got = append(got, ev.stats)
		}
	}
	if len(got) != 4 {
		t.Fatalf("got %d periodic blocks, want 4", len(got))
	}
	equal(t, "first block", got[0], Stats{})
	equal(t, "last block", got[3], Stats{RxPackets: 161792, RxBytes: 10354688, RxPPS: 80869})
}

func TestParseServerStoppedFirst(t *testing.T) {
	p := replay(t, "server_rxonly_stopped_first.txt")
	equal(t, "forwarding", p.forwarding, true)
	equal(t, "linkUp", p.linkUp, true)
	equal(t, "fatal", p.fatal, "")
	equal(t, "final stats", p.Stats(), Stats{Final: true, RxPackets: 289792})
}

func TestParseClientTxonly(t *testing.T) {
	p := replay(t, "client_txonly.txt")
	equal(t, "final stats", p.Stats(), Stats{Final: true, TxPackets: 257024, TxDropped: 70849216})
	// With the debug log level the disconnect at exit is visible too.
	equal(t, "linkEvents", p.linkEvents, 2)
	equal(t, "linkUp", p.linkUp, false)
}

// The memif PMD zeroes its counters when the peer leaves, so a server whose
// client went first ends with zero counters; only the periodic block before
// the disconnect recorded the traffic.
func TestParseServerPeerLeftFirst(t *testing.T) {
	var kinds []eventKind
	var peak uint64
	for _, ev := range events(t, "server_rxonly_client_left_first.txt") {
		kinds = append(kinds, ev.kind)
		peak = max(peak, ev.stats.RxPackets)
	}
	equal(t, "peak RX", peak, uint64(190464))
	equal(t, "events", kinds, []eventKind{evForwarding, evStats, evStats, evStats,
		evLinkUp, evStats, evLinkDown, evStats, evFinal, evLinkDown})
	equal(t, "final stats", replay(t, "server_rxonly_client_left_first.txt").Stats(), Stats{Final: true})
}

// testpmd's exit summary subtracts a start-of-forwarding snapshot from
// counters that the disconnect reset, and wraps below zero.
func TestParseWrappedSummaryIgnored(t *testing.T) {
	p := replay(t, "client_io_server_left_first.txt")
	if p.final == nil || p.final.RxPackets != 18446744073709477440 {
		t.Fatalf("final summary = %+v, want wrapped RX-packets", p.final)
	}
	equal(t, "stats", p.Stats(), Stats{}) // last periodic block, after the reset
}

func TestParseFatal(t *testing.T) {
	for file, want := range map[string]string{
		"client_no_server.txt":    "memif_connect_client(): Failed to connect socket: /tmp/none.sock.",
		"server_stale_socket.txt": "memif_socket_create(): Failed to setup socket /tmp/st.sock: Address already in use",
	} {
		t.Run(file, func(t *testing.T) {
			p := replay(t, file)
			equal(t, "fatal", p.fatal, want)
			equal(t, "linkUp", p.linkUp, false)
		})
	}
}

func TestLinkUpFromTrafficWithoutLogLines(t *testing.T) {
	p := &Process{changed: make(chan struct{})}
	for _, l := range []string{
		"  ######################## NIC statistics for port 0  ########################",
		"  RX-packets: 5          RX-missed: 0          RX-bytes:  320",
		"  ############################################################################",
	} {
		p.handle(l)
	}
	equal(t, "linkUp", p.linkUp, true)
	equal(t, "stats", p.Stats(), Stats{RxPackets: 5, RxBytes: 320})
}

func TestArgs(t *testing.T) {
	got := Config{Role: "client", Socket: "/tmp/x.sock", ID: 3, Secret: "s", ForwardMode: "txonly",
		PacketSize: 3000, BufferSize: 4096, Log2Ring: 11}.args("pfx")
	want := []string{"--no-huge", "-m", "512", "--no-pci", "--file-prefix=pfx", "--lcores=0@0,1@1",
		"--log-level=pmd.net.memif:debug",
		"--vdev=net_memif0,role=client,socket=/tmp/x.sock,id=3,socket-abstract=no,secret=s,bsize=4096,rsize=11",
		"--", "--total-num-mbufs=32768", "--forward-mode=txonly", "--stats-period", "1",
		"--mbuf-size=3128", "--txpkts=3000"}
	equal(t, "args", got, want)
}
