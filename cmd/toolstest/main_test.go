// Package toolstest runs the real mcm-send and mcm-recv binaries: flags,
// exit codes, summaries, integrity, lost peers, and DPDK interop.
package toolstest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
)

var binDir string

// coverDir, from make cover, is where cover-built tools write their counters.
var coverDir = os.Getenv("MCM_TOOLS_COVERDIR")

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mcmtools")
	if err != nil {
		panic(err)
	}
	flags := []string{"build", "-o", dir + "/"}
	if toolTags != "" {
		flags = append(flags, "-tags", toolTags)
	}
	if toolRace {
		flags = append(flags, "-race")
	}
	if coverDir != "" { // make cover: the tools' own runs count too
		flags = append(flags, "-cover", "-coverpkg=github.com/mcmgo/mcm/...")
	}
	build := exec.Command("go", append(flags, "github.com/mcmgo/mcm/cmd/mcm-send", "github.com/mcmgo/mcm/cmd/mcm-recv")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the tools:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is one running tool.
type proc struct {
	cmd       *exec.Cmd
	stdout    bytes.Buffer
	stderr    syncBuffer
	connected chan struct{} // closed when the tool says it is connected
	done      chan struct{}
	code      int
}

// syncBuffer collects stderr as the tool writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var seq atomic.Int64

// runDir is a fresh run directory: the tools' default socket lives there.
func runDir(t testing.TB) string { return testsupport.ShortDir(t) }

func start(t testing.TB, dir, tool string, args ...string) *proc {
	return startAs(t, nil, dir, tool, args...)
}

// startAs is start under other credentials (nil: this process's).
func startAs(t testing.TB, cred *syscall.Credential, dir, tool string, args ...string) *proc {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	p := &proc{done: make(chan struct{}), connected: make(chan struct{})}
	if !filepath.IsAbs(tool) {
		tool = filepath.Join(binDir, tool)
	}
	p.cmd = exec.CommandContext(ctx, tool, args...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	p.cmd.Env = append(os.Environ(), "MCM_RUN_DIR="+dir)
	if coverDir != "" {
		p.cmd.Env = append(p.cmd.Env, "GOCOVERDIR="+coverDir)
	}
	p.cmd.Stdout = &p.stdout
	errPipe, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	scanned := make(chan struct{})
	go func() { // stderr line by line: "connected" is the event tests wait for
		defer close(scanned)
		sc := bufio.NewScanner(errPipe)
		seen := false
		for sc.Scan() {
			p.stderr.mu.Lock()
			p.stderr.b.WriteString(sc.Text() + "\n")
			p.stderr.mu.Unlock()
			if !seen && strings.Contains(sc.Text(), ": connected to ") {
				seen = true
				close(p.connected)
			}
		}
	}()
	go func() {
		<-scanned
		err := p.cmd.Wait()
		p.code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				p.code = -int(ws.Signal())
			}
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	return p
}

// waitConnected blocks until the tool reports its connection.
func (p *proc) waitConnected(t testing.TB) {
	select {
	case <-p.connected:
	case <-p.done:
		t.Fatalf("%s ended before connecting: %s", p.cmd.Path, p.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s never connected: %s", p.cmd.Path, p.stderr.String())
	}
}

// wait returns the exit code; the test fails if the tool does not end.
func (p *proc) wait(t testing.TB) int {
	select {
	case <-p.done:
		return p.code
	case <-time.After(90 * time.Second):
		t.Fatalf("%s did not end\nstdout:\n%s\nstderr:\n%s", p.cmd.Path, &p.stdout, &p.stderr)
		return 0
	}
}

// run starts a tool and waits for it.
func run(t testing.TB, dir, tool string, args ...string) *proc {
	p := start(t, dir, tool, args...)
	p.wait(t)
	return p
}

type summary struct {
	Tool            string  `json:"tool"`
	Frames          uint64  `json:"frames"`
	Bytes           uint64  `json:"bytes"`
	Seconds         float64 `json:"duration_s"`
	FPS             float64 `json:"fps"`
	Gbps            float64 `json:"gbit_s"`
	SeqGaps         uint64  `json:"seq_gaps"`
	IntegrityErrors uint64  `json:"integrity_errors"`
	Reconnects      uint64  `json:"reconnects"`
	PeerFaults      uint64  `json:"peer_faults"`
	PlainFrames     uint64  `json:"plain_frames"`
	Undelivered     uint64  `json:"undelivered"`
	CRC32C          string  `json:"crc32c"`
	End             string  `json:"end"`
	EndDetail       string  `json:"end_detail"`
	ExitCode        int     `json:"exit_code"`
	Error           string  `json:"error"`
	LatencyUS       *struct {
		P50, P90, P99, Max float64
	} `json:"latency_us"`
}

func (p *proc) summary(t testing.TB) summary {
	var s summary
	require.NoError(t, json.Unmarshal(p.stdout.Bytes(), &s), "stdout: %s\nstderr: %s", &p.stdout, p.stderr.String())
	return s
}

// small is a video size that keeps tests quick.
var small = []string{"--width", "320", "--height", "240"}

func args(a ...[]string) []string {
	var out []string
	for _, x := range a {
		out = append(out, x...)
	}
	return out
}
