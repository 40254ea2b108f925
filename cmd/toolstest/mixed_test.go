package toolstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Mixed pairs: the tools over our engine against the tools over an
// installed upstream libmemif (found by pkg-config libmemif), in every role
// and direction. Opt-in with MCM_UPSTREAM=1, since no distribution packages
// libmemif; once asked for, a missing libmemif fails the test.

// otherEngineTools builds mcm-send and mcm-recv over the engine this test
// binary was not built with, and names the engine of each set.
func otherEngineTools(t *testing.T) (other, thisEngine, otherEngine string) {
	t.Helper()
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() { // this binary's cgo flags are for its own engine
		if !strings.HasPrefix(kv, "CGO_CFLAGS=") && !strings.HasPrefix(kv, "CGO_LDFLAGS=") {
			env = append(env, kv)
		}
	}
	flags := []string{"build", "-o", dir + "/"}
	thisEngine, otherEngine = "upstream", "ours"
	if toolTags == "" {
		thisEngine, otherEngine = "ours", "upstream"
		pc := func(arg string) string {
			out, err := exec.Command("pkg-config", arg, "libmemif").Output()
			require.NoError(t, err, "MCM_UPSTREAM=1 but pkg-config finds no libmemif (set PKG_CONFIG_PATH)")
			return strings.TrimSpace(string(out))
		}
		env = append(env, "CGO_CFLAGS="+pc("--cflags"),
			"CGO_LDFLAGS="+pc("--libs")+" -Wl,-rpath,"+pc("--variable=libdir"))
		flags = append(flags, "-tags", "libmemif_system")
	}
	build := exec.Command("go", append(flags, "github.com/mcmgo/mcm/cmd/mcm-send", "github.com/mcmgo/mcm/cmd/mcm-recv")...)
	build.Env = env
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building the %s tools:\n%s", otherEngine, out)
	return dir, thisEngine, otherEngine
}

func TestMixedEnginePairs(t *testing.T) {
	if os.Getenv("MCM_UPSTREAM") != "1" {
		t.Skip("MCM_UPSTREAM=1 runs the tools against tools over an installed upstream libmemif")
	}
	otherDir, thisEngine, otherEngine := otherEngineTools(t)
	toolsOf := map[string]string{thisEngine: binDir, otherEngine: otherDir}
	media := []struct {
		name   string
		args   []string
		frames int
	}{
		{"video", small, 200}, // chains of 65,472-byte buffers over upstream
		{"audio", []string{"--payload", "audio"}, 2000},
		{"anc", []string{"--payload", "anc", "--buffer-size", "2048"}, 2000},
	}
	for _, m := range media {
		for _, sendEngine := range []string{"ours", "upstream"} {
			recvEngine := map[string]string{"ours": "upstream", "upstream": "ours"}[sendEngine]
			for _, sendRole := range []string{"master", "slave"} {
				recvRole := map[string]string{"master": "slave", "slave": "master"}[sendRole]
				name := fmt.Sprintf("%s %s %s to %s %s", m.name, sendEngine, sendRole, recvEngine, recvRole)
				t.Run(name, func(t *testing.T) {
					var recvExtra []string
					if m.name == "video" && sendEngine == "upstream" && sendRole == "master" {
						// An upstream master fills at most 65,535 bytes of
						// a buffer: our slave's default (one frame a
						// buffer) is refused, see the test below.
						recvExtra = []string{"--buffer-size", "65472", "--ring", "10"}
					}
					dir := runDir(t)
					common := args(m.args, []string{"--socket", filepath.Join(dir, "s.sock"), "--crc", "--json"})
					recv := start(t, dir, filepath.Join(toolsOf[recvEngine], "mcm-recv"), args(common, recvExtra, []string{"--role", recvRole})...)
					send := run(t, dir, filepath.Join(toolsOf[sendEngine], "mcm-send"),
						args(common, []string{"--role", sendRole, "--frames", fmt.Sprint(m.frames), "--fps", "0"})...)
					require.Equal(t, 0, send.code, "sender: %s", send.stderr.String())
					require.Equal(t, 0, recv.wait(t), "receiver: %s", recv.stderr.String())
					ss, rs := send.summary(t), recv.summary(t)
					assert.EqualValues(t, m.frames, ss.Frames)
					assert.EqualValues(t, m.frames, rs.Frames)
					assert.NotEmpty(t, ss.CRC32C)
					assert.Equal(t, ss.CRC32C, rs.CRC32C)
					assert.Equal(t, "frames", ss.End)
					assert.Equal(t, "end-of-stream", rs.End)
					assert.Zero(t, rs.SeqGaps+rs.IntegrityErrors, "gaps and integrity errors")
					assert.Zero(t, rs.PlainFrames, "SeqNum and Timestamp crossed")
				})
			}
		}
	}
	t.Run("video upstream master to our default slave is named", func(t *testing.T) {
		dir := runDir(t)
		sock := []string{"--socket", filepath.Join(dir, "s.sock")}
		recv := start(t, dir, filepath.Join(toolsOf["ours"], "mcm-recv"), args(small, sock, []string{"--role", "slave", "--connect-timeout", "2s"})...)
		send := run(t, dir, filepath.Join(toolsOf["upstream"], "mcm-send"), args(small, sock, []string{"--role", "master", "--frames", "1"})...)
		assert.Equal(t, 1, send.code, "%s", send.stderr.String())
		assert.Contains(t, send.stderr.String(), "a master over upstream libmemif fills at most 65,535 bytes of each")
		recv.wait(t)
	})
}
