package dockertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcmgo/mcm/internal/cli"
	"github.com/mcmgo/mcm/third_party/testpmd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	toolsImage   = "mcm-memif:latest"
	testpmdImage = "mcm-memif:testpmd"
	root         = "../.."
)

// need skips unless the Makefile asked for the Docker checks, and then
// fails if there is no daemon to run them on.
func need(t *testing.T) {
	t.Helper()
	if os.Getenv("MCM_DOCKER_TEST") != "1" {
		t.Skip("Docker checks run with MCM_DOCKER_TEST=1 (make docker-test)")
	}
	out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}}").CombinedOutput()
	require.NoError(t, err, "MCM_DOCKER_TEST=1 but no Docker daemon answers: %s", out)
}

// result is one finished command.
type result struct {
	stdout, stderr string
	code           int
}

func run(t *testing.T, timeout time.Duration, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = root
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) || ctx.Err() != nil {
		t.Fatalf("%s %s: %v (%v)\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, ctx.Err(), o.String(), e.String())
	}
	return result{stdout: o.String(), stderr: e.String(), code: cmd.ProcessState.ExitCode()}
}

// composeCommand is `docker compose` when the plugin answers, else Debian's
// docker-compose (1.29); MCM_COMPOSE overrides, e.g. "docker-compose".
func composeCommand(t *testing.T) []string {
	t.Helper()
	if c := os.Getenv("MCM_COMPOSE"); c != "" {
		return strings.Fields(c)
	}
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}
	}
	t.Fatal("neither `docker compose` nor docker-compose is installed")
	return nil
}

// project is one compose project: a repository compose file plus an
// override that only changes the tools' flags (JSON summaries, CRCs, counts).
type project struct {
	t     *testing.T
	cmd   []string
	flags []string
}

func newProject(t *testing.T, file, override string) *project {
	ov := filepath.Join(t.TempDir(), "override.yaml")
	require.NoError(t, os.WriteFile(ov, []byte(override), 0o644))
	name := fmt.Sprintf("mcmtest%d%s", os.Getpid(), strings.ToLower(strings.ReplaceAll(t.Name(), "/", "")))
	p := &project{t: t, cmd: composeCommand(t), flags: []string{"--ansi", "never", "-p", name, "-f", file, "-f", ov}}
	t.Cleanup(func() { p.run(2*time.Minute, "down", "-v", "--remove-orphans") })
	return p
}

func (p *project) run(timeout time.Duration, args ...string) result {
	p.t.Helper()
	all := append(append(append([]string{}, p.cmd[1:]...), p.flags...), args...)
	return run(p.t, timeout, p.cmd[0], all...)
}

// container is what the checks need of `docker inspect`.
type container struct {
	ID     string
	State  struct{ ExitCode int }
	Config struct {
		User string
	}
	HostConfig struct {
		IpcMode, NetworkMode string
		Privileged           bool
	}
	Mounts []struct{ Type, Name, Destination string }
}

func (p *project) container(service string) container {
	p.t.Helper()
	id := strings.TrimSpace(p.run(time.Minute, "ps", "-q", service).stdout)
	require.NotEmpty(p.t, id, "no container for service %s", service)
	r := run(p.t, time.Minute, "docker", "inspect", id)
	require.Zero(p.t, r.code, r.stderr)
	var cs []container
	require.NoError(p.t, json.Unmarshal([]byte(r.stdout), &cs))
	require.Len(p.t, cs, 1)
	return cs[0]
}

// logs returns a container's stdout and stderr, separately.
func logs(t *testing.T, c container) result {
	t.Helper()
	r := run(t, time.Minute, "docker", "logs", c.ID)
	require.Zero(t, r.code, r.stderr)
	return r
}

// summary is the tool's --json summary: the last stdout line that is a JSON object.
func summary(t *testing.T, c container) cli.Summary {
	t.Helper()
	out := logs(t, c)
	lines := strings.Split(strings.TrimSpace(out.stdout), "\n")
	last := lines[len(lines)-1]
	var s cli.Summary
	require.NoError(t, json.Unmarshal([]byte(last), &s), "no JSON summary; stdout:\n%s\nstderr:\n%s", out.stdout, out.stderr)
	return s
}

// isolated asserts a pair shares exactly one thing: the socket volume at
// /run/mcm. No host IPC, no shared IPC namespace, no network, no other mount
// (so no shared /dev/shm), not privileged; different users, one group.
func isolated(t *testing.T, a, b container) {
	t.Helper()
	for _, c := range []container{a, b} {
		assert.NotEqual(t, "host", c.HostConfig.IpcMode, "%s", c.ID)
		assert.False(t, strings.HasPrefix(c.HostConfig.IpcMode, "container:"), "%s ipc %s", c.ID, c.HostConfig.IpcMode)
		assert.NotEqual(t, "shareable", c.HostConfig.IpcMode, "%s", c.ID)
		assert.Equal(t, "none", c.HostConfig.NetworkMode, "%s", c.ID)
		assert.False(t, c.HostConfig.Privileged, "%s", c.ID)
		if assert.Len(t, c.Mounts, 1, "%s mounts %+v", c.ID, c.Mounts) {
			assert.Equal(t, "volume", c.Mounts[0].Type)
			assert.Equal(t, "/run/mcm", c.Mounts[0].Destination)
		}
	}
	if len(a.Mounts) == 1 && len(b.Mounts) == 1 {
		assert.Equal(t, a.Mounts[0].Name, b.Mounts[0].Name, "one socket volume for both")
	}
	ua, ga, _ := strings.Cut(a.Config.User, ":")
	ub, gb, _ := strings.Cut(b.Config.User, ":")
	assert.NotEqual(t, ua, ub, "different user ids")
	assert.NotContains(t, []string{"", "0", "root"}, ua)
	assert.NotContains(t, []string{"", "0", "root"}, ub)
	assert.Equal(t, ga, gb, "one group")
	assert.NotEmpty(t, ga)
}

// The runtime images: non-root, labelled, and without build or test tools;
// only the testpmd target has dpdk-testpmd.
func TestImages(t *testing.T) {
	need(t)
	for _, img := range []string{toolsImage, testpmdImage} {
		r := run(t, time.Minute, "docker", "image", "inspect", "--format",
			`{{.Config.User}}|{{index .Config.Labels "org.opencontainers.image.title"}}|{{index .Config.Labels "org.opencontainers.image.revision"}}`, img)
		require.Zero(t, r.code, "%s: %s (make docker-images builds it)", img, r.stderr)
		f := strings.Split(strings.TrimSpace(r.stdout), "|")
		assert.Equal(t, "mcm", f[0], "%s runs as the non-root user mcm", img)
		assert.Equal(t, "mcm-memif", f[1], "%s title label", img)
		assert.NotEmpty(t, f[2], "%s revision label", img)
		r = run(t, time.Minute, "docker", "run", "--rm", "--network", "none", img, "sh", "-c",
			"id -u; for c in go gcc cc make git; do command -v $c; done; command -v dpdk-testpmd || echo no-testpmd; mcm-send --help >/dev/null 2>&1 && echo send-ok")
		require.Zero(t, r.code, r.stderr)
		got := strings.Fields(r.stdout)
		want := []string{"10001", "/usr/bin/dpdk-testpmd", "send-ok"}
		if img == toolsImage {
			want[1] = "no-testpmd"
		}
		assert.Equal(t, want, got, "%s: uid, no go/gcc/cc/make/git, testpmd, tools", img)
	}
}

// mcm-send and mcm-recv in two containers (compose.yaml), as different users
// of one group, sharing only the socket volume: both summaries count the same
// frames with the same CRC-32C, the receiver ends on the sender's end of
// stream, and both containers exit 0.
func TestSendRecv(t *testing.T) {
	need(t)
	const frames = 600 // 1080p yuv422p10le: 4.6 GiB through shared memory
	p := newProject(t, "compose.yaml", fmt.Sprintf(`services:
  send:
    command: ["mcm-send", "--frames", "%d", "--fps", "0", "--crc", "--json"]
  recv:
    command: ["mcm-recv", "--crc", "--json"]
`, frames))
	up := p.run(3*time.Minute, "up", "--exit-code-from", "recv")
	send, recv := p.container("send"), p.container("recv")
	t.Logf("compose up: exit %d\n%s", up.code, up.stdout)
	assert.Zero(t, recv.State.ExitCode, "mcm-recv's exit code")
	assert.Zero(t, send.State.ExitCode, "mcm-send's exit code")
	assert.Zero(t, up.code, "up --exit-code-from recv")
	isolated(t, send, recv)

	ss, rs := summary(t, send), summary(t, recv)
	assert.Equal(t, uint64(frames), ss.Frames, "sender's frames")
	assert.Equal(t, uint64(frames), rs.Frames, "receiver's frames")
	assert.Equal(t, ss.Bytes, rs.Bytes)
	assert.Len(t, ss.CRC32C, 8)
	assert.Equal(t, ss.CRC32C, rs.CRC32C, "CRC-32C of every payload byte, both sides")
	assert.Zero(t, rs.IntegrityErrors)
	assert.Zero(t, rs.SeqGaps)
	assert.Equal(t, "frames", ss.End)
	assert.Equal(t, "end-of-stream", rs.End, "a clean end of stream")
	assert.Equal(t, fmt.Sprintf("the sender sent %d frames in its last session", frames), rs.EndDetail)
	assert.Equal(t, "master", ss.Role)
	assert.Equal(t, "slave", rs.Role)
}

// mcm-recv against dpdk-testpmd txonly (compose.testpmd.yaml): mcm-recv
// counts its frames, testpmd's own counters (printed while the link was up)
// say it sent those plus at most what fits the ring mcm-recv stopped
// reading, and the result is mcm-recv's exit code.
func TestTestpmdTxonly(t *testing.T) {
	need(t)
	const (
		frames = 100000
		ring   = 256 // mcm-recv's default ring for --payload anc: 2^8 slots
	)
	p := newProject(t, "compose.testpmd.yaml", fmt.Sprintf(`services:
  recv:
    command: ["mcm-recv", "--raw", "--check", "none", "--payload", "anc", "--buffer-size", "2048",
              "--frames", "%d", "--linger", "2s", "--json", "--socket", "/run/mcm/testpmd.sock"]
`, frames))
	up := p.run(3*time.Minute, "up", "--exit-code-from", "recv")
	pmd, recv := p.container("testpmd"), p.container("recv")
	assert.Zero(t, recv.State.ExitCode, "mcm-recv's exit code")
	assert.Zero(t, up.code, "up --exit-code-from recv")
	isolated(t, pmd, recv)

	pl := logs(t, pmd)
	out := pl.stdout + pl.stderr
	switch c := pmd.State.ExitCode; {
	case c == 0:
	case c >= 128: // a signal: DPDK 22.11's memif may crash once its peer has left
		t.Logf("testpmd ended by signal %d after mcm-recv left (known DPDK 22.11 behaviour)", c-128)
	default:
		t.Errorf("testpmd exit code %d:\n%s", c, out)
	}
	require.Equal(t, 1, strings.Count(out, "memif_connect(): Connected."), "one memif session:\n%s", out)

	rs := summary(t, recv)
	assert.Equal(t, uint64(frames), rs.Frames, "mcm-recv's frames")
	assert.Equal(t, uint64(frames*64), rs.Bytes, "testpmd txonly sends 64-byte packets")
	assert.Equal(t, "frames", rs.End)

	// memif zeroes the counters when the peer leaves, so testpmd's count is
	// the highest periodic block of its only session.
	var tx testpmd.Stats
	for _, b := range testpmd.Blocks(out) {
		if !b.Final && b.TxPackets > tx.TxPackets {
			tx = b
		}
	}
	t.Logf("testpmd TX-packets %d, mcm-recv frames %d", tx.TxPackets, rs.Frames)
	assert.GreaterOrEqual(t, tx.TxPackets, rs.Frames, "testpmd sent at least what mcm-recv received")
	assert.LessOrEqual(t, tx.TxPackets, rs.Frames+ring, "and at most one ring more (the slots mcm-recv left unread)")
	assert.Equal(t, 64*tx.TxPackets, tx.TxBytes, "testpmd's TX-bytes")
}
