package toolstest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHelpMatchesFlags(t *testing.T) {
	common := []string{"role", "socket", "id", "secret", "payload", "width", "height", "pix-fmt",
		"audio-format", "sampling", "ptime", "channels", "ring", "queues", "buffer-size", "raw",
		"frames", "duration", "json", "connect-timeout", "keep-going", "linger", "crc", "version", "interval", "burst"}
	own := map[string][]string{"mcm-send": {"input", "loop", "fps"}, "mcm-recv": {"output", "check", "polling"}}
	for tool, mine := range own {
		p := run(t, runDir(t), tool, "--help")
		require.Equal(t, 0, p.code)
		help := p.stdout.String()
		for _, f := range append(common, mine...) {
			assert.Regexp(t, `(?m)^  --`+f+`( |$)`, help, "%s --help documents --%s", tool, f)
		}
		other := own[map[string]string{"mcm-send": "mcm-recv", "mcm-recv": "mcm-send"}[tool]]
		for _, f := range append(other, "corrupt") {
			assert.NotRegexp(t, `(?m)^  --`+f+`( |$)`, help, "%s --help has no --%s", tool, f)
		}
		assert.Contains(t, help, "MCM_RUN_DIR")
		examples := help[strings.Index(help, "Examples:"):strings.Index(help, "Exit codes:")]
		assert.Equal(t, 2, strings.Count(examples, "\n  "+tool), "%s shows two examples", tool)
	}
}

func TestBadFlagsExit2WithOneLine(t *testing.T) {
	cases := []struct {
		tool string
		args []string
		want string
	}{
		{"mcm-send", []string{"--width", "0"}, "--width"},
		{"mcm-recv", []string{"--height", "99999"}, "--height"},
		{"mcm-send", []string{"--role", "boss"}, "--role"},
		{"mcm-send", []string{"--pix-fmt", "mjpeg"}, "--pix-fmt"},
		{"mcm-recv", []string{"--ptime", "7ms", "--payload", "audio"}, "--ptime"},
		{"mcm-recv", []string{"--check", "sha1"}, "--check"},
		{"mcm-send", []string{"--bogus"}, "bogus"},
		{"mcm-send", []string{"extra"}, "unexpected argument"},
		{"mcm-send", []string{"--loop"}, "--loop needs --input"},
		{"mcm-send", []string{"--input", "/nonexistent/clip.yuv"}, "clip.yuv"},
		{"mcm-send", []string{"--width", "4294968320", "--height", "4294967912"}, "--width 4294968320: at most 16384"},
		{"mcm-send", []string{"--fps", "1e-300"}, "--fps 1e-300: want 0"},
		{"mcm-recv", []string{"--queues", "0"}, "--queues 0: want 1..8"},
		{"mcm-recv", []string{"--connect-timeout", "0s"}, "--connect-timeout 0s: want a positive duration"},
		{"mcm-recv", []string{"--connect-timeout", "-1s"}, "--connect-timeout -1s"},
		{"mcm-send", []string{"--duration", "10"}, "flag --duration: want a duration with a unit, e.g. 10s"},
		{"mcm-recv", []string{"--ring", "300"}, "--ring 300: at most 14"},
		{"mcm-send", []string{"--polling"}, "not defined: --polling"},
		{"mcm-recv", []string{"--fps", "30"}, "not defined: --fps"},
	}
	for _, tc := range cases {
		p := run(t, runDir(t), tc.tool, tc.args...)
		assert.Equal(t, 2, p.code, "%s %v: %s", tc.tool, tc.args, p.stderr.String())
		lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
		assert.Len(t, lines, 1, "one line: %q", p.stderr.String())
		assert.Contains(t, p.stderr.String(), tc.want)
		assert.True(t, strings.HasPrefix(p.stderr.String(), tc.tool+": "))
	}
}

func TestNoPeerExit3(t *testing.T) {
	for _, tool := range []string{"mcm-send", "mcm-recv"} {
		p := run(t, runDir(t), tool, "--connect-timeout", "300ms")
		assert.Equal(t, 3, p.code, "%s: %s", tool, p.stderr.String())
		assert.Contains(t, p.stderr.String(), "within 300ms")
	}
}

func TestDefaultsFindEachOtherWithJSONSummaries(t *testing.T) {
	dir := runDir(t)
	recv := start(t, dir, "mcm-recv", args(small, []string{"--json"})...)
	send := run(t, dir, "mcm-send", args(small, []string{"--json", "--frames", "40", "--fps", "0"})...)
	require.Equal(t, 0, send.code, "%s", send.stderr.String())
	require.Equal(t, 0, recv.wait(t), "%s", recv.stderr.String())
	ss, rs := send.summary(t), recv.summary(t)
	assert.Equal(t, uint64(40), ss.Frames)
	assert.Equal(t, uint64(40), rs.Frames)
	assert.Equal(t, uint64(40*320*240*4), rs.Bytes)
	assert.Equal(t, ss.Bytes, rs.Bytes)
	assert.Zero(t, rs.IntegrityErrors)
	assert.Zero(t, rs.SeqGaps)
	assert.Equal(t, "frames", ss.End)
	assert.Equal(t, "end-of-stream", rs.End)
	assert.Equal(t, "the sender sent 40 frames in its last session", rs.EndDetail)
	require.NotNil(t, rs.LatencyUS)
	assert.Positive(t, rs.LatencyUS.P50)
	assert.LessOrEqual(t, rs.LatencyUS.P50, rs.LatencyUS.Max)
	assert.Positive(t, rs.Gbps)
}

func TestCorruptedByteIsAnIntegrityFailure(t *testing.T) {
	dir := runDir(t)
	recv := start(t, dir, "mcm-recv", args(small, []string{"--json"})...)
	send := run(t, dir, "mcm-send", args(small, []string{"--frames", "20", "--fps", "0", "--corrupt", "7"})...)
	require.Equal(t, 0, send.code, "%s", send.stderr.String())
	assert.Equal(t, 4, recv.wait(t))
	rs := recv.summary(t)
	assert.Equal(t, uint64(1), rs.IntegrityErrors)
	assert.Equal(t, uint64(20), rs.Frames)
	assert.Contains(t, recv.stderr.String(), "1 frames differ")
}

func TestFileInOutIsByteExact(t *testing.T) {
	dir := runDir(t)
	frame := 320 * 240 * 3 / 2 // nv12
	in := make([]byte, 5*frame)
	rand.Read(in)
	inPath, outPath := filepath.Join(dir, "in.yuv"), filepath.Join(dir, "out.yuv")
	require.NoError(t, os.WriteFile(inPath, in, 0o600))
	fmtArgs := []string{"--width", "320", "--height", "240", "--pix-fmt", "nv12"}
	recv := start(t, dir, "mcm-recv", args(fmtArgs, []string{"--check", "none", "--output", outPath, "--crc", "--json"})...)
	send := run(t, dir, "mcm-send", args(fmtArgs, []string{"--input", inPath, "--fps", "0", "--crc", "--json"})...)
	require.Equal(t, 0, send.code, "%s", send.stderr.String())
	require.Equal(t, 0, recv.wait(t), "%s", recv.stderr.String())
	out, err := os.ReadFile(outPath)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(in, out), "output differs from input (%d vs %d bytes)", len(out), len(in))
	ss, rs := send.summary(t), recv.summary(t)
	assert.Equal(t, "input", ss.End)
	assert.Equal(t, uint64(5), rs.Frames)
	require.NotEmpty(t, ss.CRC32C)
	assert.Equal(t, ss.CRC32C, rs.CRC32C, "the checksums of both ends agree")
}

func TestLostPeerExit5UnlessKeepGoing(t *testing.T) {
	dir := runDir(t)
	recv := start(t, dir, "mcm-recv", args(small, []string{"--json"})...)
	send := start(t, dir, "mcm-send", args(small, []string{"--fps", "200"})...)
	send.waitConnected(t)
	recv.waitConnected(t)
	send.cmd.Process.Kill() // SIGKILL: no end of stream
	send.wait(t)
	assert.Equal(t, 5, recv.wait(t))
	assert.Contains(t, recv.stderr.String(), "sender lost")
	assert.Equal(t, "peer-lost", recv.summary(t).End)

	// --keep-going rides through a restart of the sender.
	keepGoingThroughRestart(t)
}

// keepGoingThroughRestart: a --keep-going receiver whose sender is killed
// takes the next sender's 30 frames, with no integrity error; extra flags
// go to all three runs.
func keepGoingThroughRestart(t *testing.T, extra ...string) summary {
	dir := runDir(t)
	recv := start(t, dir, "mcm-recv", args(small, extra, []string{"--json", "--keep-going"})...)
	send := start(t, dir, "mcm-send", args(small, extra, []string{"--fps", "200"})...)
	send.waitConnected(t)
	recv.waitConnected(t)
	send.cmd.Process.Kill()
	send.wait(t)
	second := run(t, dir, "mcm-send", args(small, extra, []string{"--frames", "30", "--fps", "0"})...)
	require.Equal(t, 0, second.code, "%s", second.stderr.String())
	require.Equal(t, 0, recv.wait(t), "%s", recv.stderr.String())
	rs := recv.summary(t)
	assert.Equal(t, uint64(1), rs.Reconnects)
	assert.GreaterOrEqual(t, rs.Frames, uint64(30))
	assert.Zero(t, rs.IntegrityErrors)
	return rs
}

func TestSignalEndsCleanlyWithSummary(t *testing.T) {
	dir := runDir(t)
	recv := start(t, dir, "mcm-recv", args(small, []string{"--json"})...)
	send := start(t, dir, "mcm-send", args(small, []string{"--json", "--fps", "100"})...)
	send.waitConnected(t)
	recv.waitConnected(t)
	require.NoError(t, send.cmd.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, 0, send.wait(t), "%s", send.stderr.String())
	assert.Equal(t, "signal", send.summary(t).End)
	assert.Equal(t, 0, recv.wait(t), "%s", recv.stderr.String())
	assert.Equal(t, send.summary(t).Frames, recv.summary(t).Frames, "everything sent was received")
}

// On a terminal both tools show a live progress line and still end; the
// summary follows it. script(1) gives the sender a pseudo-terminal.
func TestProgressLineOnATerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("script(1) (bsdutils) is missing on CI")
		}
		t.Skip("script(1) not installed")
	}
	dir := runDir(t)
	recv := start(t, dir, "mcm-recv", small...)
	sendCmd := filepath.Join(binDir, "mcm-send") + " --duration 1500ms --width 320 --height 240"
	term := run(t, dir, script, "-qec", sendCmd, "/dev/null")
	require.Equal(t, 0, term.code, "%s", term.stdout.String())
	out := term.stdout.String()
	assert.Contains(t, out, "\r\033[K", "the line redraws in place")
	assert.Regexp(t, `frames \d+ +[\d.]+ fps +[\d.]+ Gbit/s +gaps 0`, out)
	assert.Contains(t, out, "mcm-send summary")
	assert.Equal(t, 0, recv.wait(t))
	assert.NotContains(t, recv.stdout.String(), "\033[K", "no progress line into a pipe")
}

// A receiver that stops on purpose (--frames, or a signal) tells the
// sender so: the sender ends cleanly, not with "receiver lost".
func TestReceiverThatStopsEndsTheSenderCleanly(t *testing.T) {
	dir := runDir(t)
	send := start(t, dir, "mcm-send", args(small, []string{"--json", "--fps", "0"})...)
	recv := run(t, dir, "mcm-recv", args(small, []string{"--json", "--frames", "30"})...)
	require.Equal(t, 0, recv.code, "%s", recv.stderr.String())
	assert.Equal(t, 0, send.wait(t), "%s", send.stderr.String())
	assert.Equal(t, "receiver-closed", send.summary(t).End)
	assert.Equal(t, "receiver closed", send.summary(t).EndDetail)
	assert.Equal(t, uint64(30), recv.summary(t).Frames)
}

// Both stop at --frames: the receiver gives back its last frame and
// leaves while the sender's Close waits for it. Every frame was delivered,
// and the sender must say so however the two ends interleave (it used to
// report the count it read just before the receiver's last release).
func TestBothStopAtFramesNothingUndelivered(t *testing.T) {
	const n = 5000
	media := []string{"--raw", "--payload", "anc", "--buffer-size", "256"}
	for round := 0; round < 5; round++ {
		dir := runDir(t)
		recv := start(t, dir, "mcm-recv", args(media, []string{"--json", "--frames", strconv.Itoa(n)})...)
		send := run(t, dir, "mcm-send", args(media, []string{"--json", "--fps", "0", "--frames", strconv.Itoa(n)})...)
		require.Equal(t, 0, send.code, "round %d: %s", round, send.stderr.String())
		require.Equal(t, 0, recv.wait(t), "round %d: %s", round, recv.stderr.String())
		ss := send.summary(t)
		assert.Equal(t, uint64(n), ss.Frames, "round %d", round)
		assert.Zero(t, ss.Undelivered, "round %d", round)
		assert.Equal(t, "frames", ss.End, "round %d", round)
		assert.Equal(t, uint64(n), recv.summary(t).Frames, "round %d", round)
	}
}

func TestVersion(t *testing.T) {
	for _, tool := range []string{"mcm-send", "mcm-recv"} {
		p := run(t, runDir(t), tool, "--version")
		assert.Equal(t, 0, p.code)
		assert.Regexp(t, `^`+tool+` \S+.* go1\.\d+`, p.stdout.String())
		// The tools link the engine this test binary was built with.
		engine := map[string]string{"": "engine: bundled", "libmemif_system": "engine: system libmemif"}[toolTags]
		assert.Contains(t, p.stdout.String(), engine)
	}
}

// Without --fps the sender paces at the media's own rate: one audio packet
// per --ptime (1,000 a second at 1 ms), not 60.
func TestDefaultPaceFollowsTheMedia(t *testing.T) {
	dir := runDir(t)
	audio := []string{"--payload", "audio", "--ptime", "1ms", "--json"}
	recv := start(t, dir, "mcm-recv", audio...)
	send := run(t, dir, "mcm-send", args(audio, []string{"--frames", "200"})...)
	require.Equal(t, 0, send.code, "%s", send.stderr.String())
	require.Equal(t, 0, recv.wait(t), "%s", recv.stderr.String())
	ss := send.summary(t)
	assert.GreaterOrEqual(t, ss.Seconds, 0.19, "paced: 200 packets take 0.2 s")
	assert.Greater(t, ss.FPS, 500.0, "about 1,000 packets a second, not 60")
}

// The JSON a script reads: a schema version, the start time and the media
// on every summary, and an object on failure too.
func TestJSONSchema(t *testing.T) {
	dir := runDir(t)
	recv := start(t, dir, "mcm-recv", args(small, []string{"--json"})...)
	send := run(t, dir, "mcm-send", args(small, []string{"--json", "--frames", "3", "--fps", "0"})...)
	require.Equal(t, 0, send.code)
	require.Equal(t, 0, recv.wait(t))
	for _, p := range []*proc{send, recv} {
		var m map[string]any
		require.NoError(t, json.Unmarshal(p.stdout.Bytes(), &m), p.stdout.String())
		assert.EqualValues(t, 1, m["schema"])
		_, err := time.Parse(time.RFC3339Nano, m["start"].(string))
		assert.NoError(t, err)
		assert.Equal(t, map[string]any{"payload": "video", "width": 320.0, "height": 240.0,
			"pix_fmt": "yuv422p10le", "frame_bytes": 320.0 * 240 * 4}, m["media"])
	}
	for _, tc := range []struct {
		args []string
		code int
		end  string
	}{
		{[]string{"--json", "--width", "0"}, 2, "usage"},
		{[]string{"--json", "--connect-timeout", "100ms"}, 3, "no-peer"},
	} {
		p := run(t, runDir(t), "mcm-recv", tc.args...)
		assert.Equal(t, tc.code, p.code)
		var m map[string]any
		require.NoError(t, json.Unmarshal(p.stdout.Bytes(), &m), "an object on failure: %q", p.stdout.String())
		assert.Equal(t, tc.end, m["end"])
		assert.EqualValues(t, tc.code, m["exit_code"])
		assert.NotEmpty(t, m["error"])
	}
}

// The README's flag list and the tools' --help name the same flags.
func TestReadmeListsTheFlags(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, text, ok := strings.Cut(string(readme), "Flags (each tool's `--help` lists its own")
	require.True(t, ok)
	text, _, _ = strings.Cut(text, "With `--json`")
	inReadme := map[string]bool{}
	for _, m := range regexp.MustCompile("`--([a-z0-9-]+)").FindAllStringSubmatch(text, -1) {
		inReadme[m[1]] = true
	}
	inHelp := map[string]bool{}
	for _, tool := range []string{"mcm-send", "mcm-recv"} {
		p := run(t, runDir(t), tool, "--help")
		for _, m := range regexp.MustCompile(`(?m)^  --([a-z0-9-]+)`).FindAllStringSubmatch(p.stdout.String(), -1) {
			inHelp[m[1]] = true
		}
	}
	assert.Equal(t, inHelp, inReadme)
}
