package toolstest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/procstat"
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

// usage is a reading of the long-lived tool and of the system's commit.
type usage struct {
	procstat.Usage
	committed int64 // system-wide Committed_AS
}

func (u usage) String() string {
	return fmt.Sprintf("%v, Committed_AS %.1f MiB", u.Usage, float64(u.committed)/(1<<20))
}

func snapshot(t *testing.T, pid int) usage {
	t.Helper()
	u, err := procstat.Read(pid)
	require.NoError(t, err, "the long-lived tool is gone")
	c, err := procstat.Committed()
	require.NoError(t, err)
	return usage{u, c}
}

// settled is the end reading, taken once the tool has let go of the peer
// that just left (its channel's fd and mappings go a moment after the peer
// does, and the memory kept for buffers held across the end once the tool
// next looks; no event says when), or after 2 s, whichever comes first.
func settled(t *testing.T, pid int, start usage) usage {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		u := snapshot(t, pid)
		if u.Fds <= start.Fds && u.Maps <= start.Maps+8 && u.VmSize <= start.VmSize+vmSlack || time.Now().After(deadline) {
			return u
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// letGo waits until the tool has closed what it held for the peer that
// just died: fewer fds than while connected (no event says when), or 2 s.
func letGo(t *testing.T, pid int, connected usage) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		if snapshot(t, pid).Fds < connected.Fds {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// vmSlack: the address space a Go process's runtime may add on its own (a
// thread or two, each with its stack and malloc arena).
const vmSlack = 160 << 20

// noGrowth fails on any growth past what a Go process's runtime may add on
// its own: a thread or two, each with its stack and malloc arena. The
// system-wide Committed_AS is asserted only in the full soak, which runs
// alone; in make test other packages' tests move it.
func noGrowth(t *testing.T, what string, start, end usage) {
	t.Helper()
	t.Logf("%s\n  start: %v\n  end:   %v", what, start, end)
	assert.LessOrEqual(t, end.Fds, start.Fds, "%s: fds", what)
	assert.LessOrEqual(t, end.Maps, start.Maps+8, "%s: mappings", what)
	assert.LessOrEqual(t, end.Threads, start.Threads+4, "%s: threads", what)
	assert.LessOrEqual(t, end.RSS, start.RSS+48<<20, "%s: RSS", what)
	assert.LessOrEqual(t, end.VmSize, start.VmSize+vmSlack, "%s: VmSize", what)
	assert.LessOrEqual(t, end.Accounted, start.Accounted+160<<20, "%s: accounted commit", what)
	if os.Getenv("MCM_SOAK") == "full" {
		assert.LessOrEqual(t, end.committed, start.committed+256<<20, "%s: Committed_AS (system-wide)", what)
	}
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
			last = settled(t, long.cmd.Process.Pid, first)
		}
		require.NoError(t, peer.cmd.Process.Kill())
		peer.wait(t)
	}
	// The stop must not race the last peer's end: a sender stopped before
	// it saw its receiver die counts the frames sent to it as undelivered.
	letGo(t, long.cmd.Process.Pid, last)
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
			rate := func(tool string) []string { // the sender runs unpaced
				if tool == "mcm-send" {
					return []string{"--fps", "0"}
				}
				return nil
			}
			long := start(t, dir, tc.long, args(small, rate(tc.long), []string{"--role", tc.longRole, "--socket", sock, "--keep-going", "--json"})...)
			s, e := killCycles(t, size.kills, sock, long, tc.peer, args(small, rate(tc.peer), []string{"--role", tc.peerRole}))
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
			e = settled(t, long.cmd.Process.Pid, s)
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
