package toolstest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The soak: long-lived tools whose peers are killed or cycle again and
// again must end with the fds, mappings, threads and memory they started
// with. `make test` runs a short version; `make soak` (MCM_SOAK=full) the
// full one, printing the figures the README quotes.

type soakScale struct {
	kills, cycles, hdKills int
	frames                 int
}

func soakSize() soakScale {
	if os.Getenv("MCM_SOAK") == "full" {
		return soakScale{kills: 100, cycles: 1000, hdKills: 1000, frames: 10_000_000}
	}
	return soakScale{kills: 4, cycles: 40, hdKills: 8, frames: 200_000}
}

// usage is what a process holds, plus the system-wide commit charge.
type usage struct {
	fds, maps, threads    int
	rss, vsize, committed int64 // bytes
}

func (u usage) String() string {
	return fmt.Sprintf("fds %d, mappings %d, threads %d, RSS %.1f MiB, VmSize %.1f MiB, Committed_AS %.1f MiB",
		u.fds, u.maps, u.threads, mib(u.rss), mib(u.vsize), mib(u.committed))
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func snapshot(t *testing.T, pid int) usage {
	t.Helper()
	var u usage
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	require.NoError(t, err, "the long-lived tool is gone")
	u.fds = len(fds)
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	require.NoError(t, err)
	u.maps = strings.Count(string(maps), "\n")
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	u.threads = int(procField(t, status, "Threads:", 1))
	u.rss = procField(t, status, "VmRSS:", 1024)
	u.vsize = procField(t, status, "VmSize:", 1024)
	meminfo, err := os.ReadFile("/proc/meminfo")
	require.NoError(t, err)
	u.committed = procField(t, meminfo, "Committed_AS:", 1024)
	return u
}

func procField(t *testing.T, text []byte, name string, unit int64) int64 {
	for _, line := range strings.Split(string(text), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == name {
			n, err := strconv.ParseInt(f[1], 10, 64)
			require.NoError(t, err)
			return n * unit
		}
	}
	t.Fatalf("no %s", name)
	return 0
}

// noGrowth fails on any growth past what a Go process's runtime may add on
// its own (a few threads, some heap).
func noGrowth(t *testing.T, what string, start, end usage) {
	t.Helper()
	t.Logf("%s\n  start: %v\n  end:   %v", what, start, end)
	assert.LessOrEqual(t, end.fds, start.fds, "%s: fds", what)
	assert.LessOrEqual(t, end.maps, start.maps+8, "%s: mappings", what)
	assert.LessOrEqual(t, end.threads, start.threads+4, "%s: threads", what)
	assert.LessOrEqual(t, end.rss, start.rss+48<<20, "%s: RSS", what)
	assert.LessOrEqual(t, end.vsize, start.vsize+128<<20, "%s: VmSize", what)
	assert.LessOrEqual(t, end.committed, start.committed+256<<20, "%s: Committed_AS (system-wide)", what)
}

// killCycles keeps long connected through n peers killed with SIGKILL
// mid-stream, then ends it with SIGTERM and checks its summary.
func killCycles(t *testing.T, n int, sock string, long *proc, peerTool string, peerArgs []string) (first, last usage) {
	dir := filepath.Dir(sock)
	for k := 0; k < n; k++ {
		peer := start(t, dir, peerTool, append([]string{"--socket", sock}, peerArgs...)...)
		peer.waitConnected(t)
		if k == 0 {
			long.waitConnected(t)
		}
		// Both ends are streaming (--fps 0): the kill lands with buffers
		// in flight and held.
		if k == 1 {
			first = snapshot(t, long.cmd.Process.Pid)
		}
		if k == n-1 {
			last = snapshot(t, long.cmd.Process.Pid)
		}
		require.NoError(t, peer.cmd.Process.Kill())
		peer.wait(t)
	}
	require.NoError(t, long.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, long.wait(t), "%s", long.stderr.String())
	s := long.summary(t)
	assert.Equal(t, "signal", s.End)
	assert.GreaterOrEqual(t, s.Reconnects, uint64(n-1), "every killed peer's successor was served")
	return first, last
}

func TestSoakKillNine(t *testing.T) {
	size := soakSize()
	for _, tc := range []struct {
		long, longRole, peer, peerRole string
	}{
		{"mcm-recv", "master", "mcm-send", "slave"},
		{"mcm-recv", "slave", "mcm-send", "master"},
		{"mcm-send", "master", "mcm-recv", "slave"},
		{"mcm-send", "slave", "mcm-recv", "master"},
	} {
		name := fmt.Sprintf("%s %s, %s %s killed", tc.long, tc.longRole, tc.peer, tc.peerRole)
		t.Run(name, func(t *testing.T) {
			dir := runDir(t)
			sock := filepath.Join(dir, "soak.sock")
			rate := []string{"--fps", "0"}
			long := start(t, dir, tc.long, args(small, rate, []string{"--role", tc.longRole, "--socket", sock, "--keep-going", "--json"})...)
			s, e := killCycles(t, size.kills, sock, long, tc.peer, args(small, rate, []string{"--role", tc.peerRole}))
			noGrowth(t, fmt.Sprintf("%s after %d kills", name, size.kills), s, e)
		})
	}
}

// A 1080p sender keeps buffers of 8 MB held across every kill: what the
// engine keeps for them must go, or memory grows by a region per kill.
func TestSoakKillNine1080p(t *testing.T) {
	size := soakSize()
	dir := runDir(t)
	sock := filepath.Join(dir, "soak.sock")
	long := start(t, dir, "mcm-send", "--role", "master", "--socket", sock, "--keep-going", "--fps", "0", "--json")
	s, e := killCycles(t, size.hdKills, sock, long, "mcm-recv", []string{"--role", "slave"})
	noGrowth(t, fmt.Sprintf("1080p sender after %d receivers killed", size.hdKills), s, e)
}

// Receivers that take one frame and leave, one after another, against one
// long-lived master.
func TestSoakConnectCycles(t *testing.T) {
	size := soakSize()
	dir := runDir(t)
	sock := filepath.Join(dir, "soak.sock")
	long := start(t, dir, "mcm-send", args(small, []string{"--role", "master", "--socket", sock, "--keep-going", "--fps", "0", "--json"})...)
	var s, e usage
	for k := 0; k < size.cycles; k++ {
		p := run(t, dir, "mcm-recv", args(small, []string{"--role", "slave", "--socket", sock, "--frames", "1"})...)
		require.Equal(t, 0, p.code, "cycle %d: %s", k, p.stderr.String())
		switch k {
		case 1:
			s = snapshot(t, long.cmd.Process.Pid)
		case size.cycles - 1:
			e = snapshot(t, long.cmd.Process.Pid)
		}
	}
	require.NoError(t, long.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, long.wait(t), "%s", long.stderr.String())
	assert.GreaterOrEqual(t, long.summary(t).Reconnects, uint64(size.cycles-1))
	noGrowth(t, fmt.Sprintf("master after %d connect/disconnect cycles", size.cycles), s, e)
}

// Many small frames, every byte checksummed on both sides.
func TestSoakCRC(t *testing.T) {
	size := soakSize()
	dir := runDir(t)
	anc := []string{"--payload", "anc", "--buffer-size", "256", "--crc", "--json"}
	recv := start(t, dir, "mcm-recv", anc...)
	send := run(t, dir, "mcm-send", args(anc, []string{"--frames", strconv.Itoa(size.frames), "--fps", "0"})...)
	require.Equal(t, 0, send.code, "%s", send.stderr.String())
	require.Equal(t, 0, recv.wait(t), "%s", recv.stderr.String())
	ss, rs := send.summary(t), recv.summary(t)
	assert.Equal(t, uint64(size.frames), rs.Frames)
	assert.Zero(t, rs.IntegrityErrors)
	assert.Zero(t, rs.SeqGaps)
	require.NotEmpty(t, ss.CRC32C)
	assert.Equal(t, ss.CRC32C, rs.CRC32C)
	t.Logf("%d frames of %d bytes: %.0f frames/s, CRC-32C %s on both sides", rs.Frames, 240, rs.FPS, rs.CRC32C)
}
