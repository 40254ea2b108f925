package toolstest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/cgo"
	"github.com/mcmgo/mcm/internal/memifpeer"
)

// Exit 3 means the peer truly never appeared. A local setup error is exit 1
// at once, naming the cause, and leaves what is at the path alone.
func TestLocalSetupErrorsExit1WithTheCause(t *testing.T) {
	cases := []struct {
		name  string
		make  func(path string) error
		roles []string
		want  string
	}{
		{"regular file", func(p string) error { return os.WriteFile(p, []byte("keep me"), 0o600) },
			[]string{"master", "slave"}, "is a regular file, not a socket"},
		{"directory", func(p string) error { return os.Mkdir(p, 0o700) },
			[]string{"master", "slave"}, "is a directory, not a socket"},
		{"FIFO", func(p string) error { return syscall.Mkfifo(p, 0o600) },
			[]string{"master", "slave"}, "is a FIFO, not a socket"},
		{"symbolic link to a file", func(p string) error {
			target := p + ".target"
			if err := os.WriteFile(target, nil, 0o600); err != nil {
				return err
			}
			return os.Symlink(target, p)
		}, []string{"master", "slave"}, "not a socket"},
	}
	for _, tc := range cases {
		for _, role := range tc.roles {
			dir := runDir(t)
			path := filepath.Join(dir, "cam0.sock")
			require.NoError(t, tc.make(path))
			before, err := os.Lstat(path)
			require.NoError(t, err)
			began := time.Now()
			p := run(t, dir, "mcm-recv", "--role", role, "--socket", path, "--connect-timeout", "20s")
			assert.Equal(t, 1, p.code, "%s, %s: %s", tc.name, role, p.stderr.String())
			assert.Contains(t, p.stderr.String(), tc.want, "%s, %s", tc.name, role)
			assert.Less(t, time.Since(began), 10*time.Second, "%s, %s: not the connect timeout", tc.name, role)
			after, err := os.Lstat(path)
			require.NoError(t, err, "%s, %s: still there", tc.name, role)
			assert.Equal(t, before.Mode(), after.Mode(), "%s, %s: left alone", tc.name, role)
		}
	}
}

func TestSocketUnderProcIsNamed(t *testing.T) {
	for _, role := range []string{"master", "slave"} {
		p := run(t, runDir(t), "mcm-recv", "--role", role, "--socket", "/proc/mcm-test.sock", "--connect-timeout", "20s")
		assert.Equal(t, 1, p.code, "%s: %s", role, p.stderr.String())
		assert.Contains(t, p.stderr.String(), "/proc", role)
	}
}

// A socket this user may not write is named at once, not waited on.
func TestPermissionDeniedIsNamed(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the slave as another user")
	}
	dir := runDir(t)
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.Chmod(binDir, 0o755)) // the other user runs the tools too
	path := filepath.Join(dir, "cam0.sock")
	master := start(t, dir, "mcm-send", args(small, []string{"--socket", path, "--connect-timeout", "30s"})...)
	waitSocket(t, path, master)
	require.NoError(t, os.Chmod(path, 0o755)) // the owner's alone, whatever the umask
	slave := startAs(t, &syscall.Credential{Uid: 65534, Gid: 65534}, dir, "mcm-recv", "--socket", path, "--connect-timeout", "20s")
	assert.Equal(t, 1, slave.wait(t), "%s", slave.stderr.String())
	assert.Contains(t, slave.stderr.String(), "permission denied")
}

func TestSecondMasterOnALivePathIsNamed(t *testing.T) {
	dir := runDir(t)
	path := filepath.Join(dir, "cam0.sock")
	first := start(t, dir, "mcm-send", args(small, []string{"--socket", path, "--connect-timeout", "30s"})...)
	waitSocket(t, path, first)
	second := run(t, dir, "mcm-send", args(small, []string{"--socket", path})...)
	assert.Equal(t, 1, second.code, "%s", second.stderr.String())
	assert.Contains(t, second.stderr.String(), "another master already listens at "+path)
	_, err := os.Stat(path)
	assert.NoError(t, err, "the live master's socket is left alone")
}

func TestEmptyAbstractNameIsABadFlag(t *testing.T) {
	p := run(t, runDir(t), "mcm-recv", "--socket", "@")
	assert.Equal(t, 2, p.code, "%s", p.stderr.String())
	assert.Contains(t, p.stderr.String(), "--socket")
}

// waitSocket waits for a master's socket file: no event says it exists.
func waitSocket(t testing.TB, path string, p *proc) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st, err := os.Stat(path); err == nil && st.Mode()&os.ModeSocket != 0 {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("%s ended: %s", p.cmd.Path, p.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "no socket at %s", path)
	}
}

// --output is created or truncated only when the first frame arrives: a
// run that never met a sender leaves an existing file as it was.
func TestOutputUntouchedWithoutASender(t *testing.T) {
	dir := runDir(t)
	out := filepath.Join(dir, "keep.yuv")
	require.NoError(t, os.WriteFile(out, []byte("yesterday's recording"), 0o600))
	p := run(t, dir, "mcm-recv", "--output", out, "--connect-timeout", "200ms")
	assert.Equal(t, 3, p.code, "%s", p.stderr.String())
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "yesterday's recording", string(got))
	p = run(t, dir, "mcm-recv", "--output", filepath.Join(dir, "new.yuv"), "--connect-timeout", "200ms")
	assert.Equal(t, 3, p.code)
	_, err = os.Stat(filepath.Join(dir, "new.yuv"))
	assert.True(t, os.IsNotExist(err), "no empty file left behind")
}

// --output - writes the frames to stdout, byte-exact, and the summary to
// stderr, so a pipe gets the frames alone.
func TestOutputToStdout(t *testing.T) {
	dir := runDir(t)
	nv12 := []string{"--width", "64", "--height", "32", "--pix-fmt", "nv12"}
	recv := start(t, dir, "mcm-recv", args(nv12, []string{"--output", "-", "--json"})...)
	send := run(t, dir, "mcm-send", args(nv12, []string{"--frames", "4", "--fps", "0"})...)
	require.Equal(t, 0, send.code, "%s", send.stderr.String())
	require.Equal(t, 0, recv.wait(t), "%s", recv.stderr.String())
	assert.Equal(t, 4*64*32*3/2, recv.stdout.Len(), "stdout holds the frames alone")
	assert.Contains(t, recv.stderr.String(), `"frames":4`, "the summary went to stderr")
	_, err := os.Stat(filepath.Join(dir, "-"))
	assert.True(t, os.IsNotExist(err), "no file named -")
}

// A file's frames are not the test pattern: with the default check the
// receiver sees that from the first frame and does not call them corrupt.
func TestInputFileIsNotCalledCorrupt(t *testing.T) {
	dir := runDir(t)
	nv12 := []string{"--width", "64", "--height", "32", "--pix-fmt", "nv12"}
	in := filepath.Join(dir, "clip.yuv")
	clip := make([]byte, 5*64*32*3/2)
	for k := range clip {
		clip[k] = byte(k * 31)
	}
	require.NoError(t, os.WriteFile(in, clip, 0o600))
	recv := start(t, dir, "mcm-recv", args(nv12, []string{"--json", "--crc"})...)
	send := run(t, dir, "mcm-send", args(nv12, []string{"--input", in, "--fps", "0", "--crc", "--json"})...)
	require.Equal(t, 0, send.code, "%s", send.stderr.String())
	require.Equal(t, 0, recv.wait(t), "%s", recv.stderr.String())
	rs := recv.summary(t)
	assert.Equal(t, uint64(5), rs.Frames)
	assert.Zero(t, rs.IntegrityErrors)
	assert.Equal(t, send.summary(t).CRC32C, rs.CRC32C)
	assert.Contains(t, recv.stdout.String(), "content, not the test pattern")
}

// On connect each tool says what the session is, as testpmd does for a port.
func TestConnectLineDescribesTheSession(t *testing.T) {
	dir := runDir(t)
	recv := start(t, dir, "mcm-recv", args(small, []string{"--json"})...)
	send := run(t, dir, "mcm-send", args(small, []string{"--frames", "2", "--fps", "0", "--id", "0"})...)
	require.Equal(t, 0, send.code)
	require.Equal(t, 0, recv.wait(t))
	ring := "8" // 1,024 for chains of 16-bit buffers over upstream libmemif
	if !memif.EngineCapabilities().BufferSize32 {
		ring = "1024"
	}
	assert.Regexp(t, `mcm-recv: connected to .* as slave: peer "mcm1 v320x240 yuv422p10le" of "mcmdp" \(master\), interface id 0, 1 queue\(s\) each way, ring `+ring+`, buffers \d+ bytes, ethernet mode`,
		recv.stderr.String())
	assert.Regexp(t, `mcm-send: connected to .* as master: peer "mcm1 v320x240 yuv422p10le" of "mcmdp" \(slave\), interface id 0`, send.stderr.String())
	assert.NotContains(t, send.stderr.String(), "buffers 0 bytes", "a master not told the slave's size says so")
}

// With --keep-going, waiting for a lost peer to return still ends at
// --duration, and a signal then is reported as a signal.
func TestKeepGoingWaitHonoursDurationAndSignals(t *testing.T) {
	for _, stop := range []string{"duration", "signal"} {
		dir := runDir(t)
		a := args(small, []string{"--keep-going", "--json"})
		if stop == "duration" {
			a = append(a, "--duration", "2s")
		}
		recv := start(t, dir, "mcm-recv", a...)
		send := start(t, dir, "mcm-send", args(small, []string{"--fps", "100"})...)
		send.waitConnected(t)
		recv.waitConnected(t)
		require.NoError(t, send.cmd.Process.Kill()) // gone, and no one comes back
		send.wait(t)
		began := time.Now()
		if stop == "signal" {
			require.NoError(t, recv.cmd.Process.Signal(syscall.SIGTERM))
		}
		assert.Equal(t, 0, recv.wait(t), "%s: %s", stop, recv.stderr.String())
		assert.Less(t, time.Since(began), 5*time.Second, "%s: not waiting on", stop)
		assert.Equal(t, stop, recv.summary(t).End)
	}
}

// --interval prints the counters while the run goes on, for logs and
// pipes: text lines, or JSON lines before the summary with --json.
func TestIntervalReports(t *testing.T) {
	dir := runDir(t)
	recv := start(t, dir, "mcm-recv", args(small, []string{"--json", "--interval", "100ms"})...)
	send := run(t, dir, "mcm-send", args(small, []string{"--duration", "550ms", "--fps", "100", "--interval", "100ms"})...)
	require.Equal(t, 0, send.code, "%s", send.stderr.String())
	require.Equal(t, 0, recv.wait(t), "%s", recv.stderr.String())
	assert.GreaterOrEqual(t, strings.Count(send.stdout.String(), " fps "), 4, "text lines:\n%s", send.stdout.String())
	lines := strings.Split(strings.TrimSpace(recv.stdout.String()), "\n")
	require.GreaterOrEqual(t, len(lines), 5, "interval lines, then the summary:\n%s", recv.stdout.String())
	for _, l := range lines[:len(lines)-1] {
		var m struct {
			Schema   int
			Interval struct {
				Frames uint64
				FPS    float64 `json:"fps"`
			}
		}
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		assert.Equal(t, 1, m.Schema)
	}
	var last map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &last))
	assert.Equal(t, "end-of-stream", last["end"])
}

// A frame that cannot fit the session's ring is reported with advice for
// the side that can act: the slave (here a plain one with 2,048-byte
// buffers, as DPDK's default) sets the buffer and ring sizes.
func TestFrameTooLargeAdvisesTheSlave(t *testing.T) {
	dir := runDir(t)
	path := filepath.Join(dir, "cam0.sock")
	send := start(t, dir, "mcm-send", args(small, []string{"--socket", path, "--frames", "3"})...)
	slave, err := memifpeer.DialSlaveWhenReady(path, memifpeer.SlaveConfig{Log2Ring: 3, BufferSize: 2048}, peerTimeout)
	require.NoError(t, err)
	defer slave.Close()
	slave.PostReceiveBuffers() // all 8 are free: a frame that does not fit them never will
	assert.Equal(t, 1, send.wait(t), "%s", send.stderr.String())
	assert.Contains(t, send.stderr.String(), "the slave's ring of 8 buffers cannot carry a 307216-byte frame; the slave sets the buffer and ring sizes")
}

// A receiver killed with SIGKILL is a lost peer for the sender, not one
// that closed on purpose.
func TestKilledReceiverIsLostNotClosed(t *testing.T) {
	dir := runDir(t)
	send := start(t, dir, "mcm-send", args(small, []string{"--fps", "100", "--json"})...)
	recv := start(t, dir, "mcm-recv", small...)
	recv.waitConnected(t)
	send.waitConnected(t)
	require.NoError(t, recv.cmd.Process.Kill())
	recv.wait(t)
	assert.Equal(t, 5, send.wait(t), "%s", send.stderr.String())
	assert.Equal(t, "peer-lost", send.summary(t).End)
}
