package testpmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// StopTimeout bounds how long Stop (and ctx cancellation) waits for testpmd
// to exit after SIGINT before it is killed. A clean exit takes well under a
// second.
var StopTimeout = 10 * time.Second

// Process is a running dpdk-testpmd.
type Process struct {
	cfg    Config
	cmd    *exec.Cmd
	prefix string
	done   chan struct{} // closed once output is drained and the process reaped

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every state change
	out        strings.Builder
	parse      parser
	forwarding bool
	fatal      string
	linkUp     bool
	linkEvents int // memif connect/disconnect log lines seen
	stats      Stats
	nstats     int // periodic blocks seen
	final      *Stats
	exited     bool
	waitErr    error

	stopOnce  sync.Once
	stopStats Stats
	stopErr   error
}

// Start runs testpmd and returns once it has started packet forwarding. The
// process lives until Stop or until ctx is cancelled (then it gets SIGINT,
// and SIGKILL after StopTimeout). A server's stale socket file is removed
// first, since testpmd would fail with "Address already in use".
func Start(ctx context.Context, cfg Config) (*Process, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	path, err := Available()
	if err != nil {
		return nil, err
	}
	if cfg.Role == "server" {
		if err := removeSocket(cfg.Socket); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("testpmd: remove stale socket: %w", err)
		}
	}
	p := &Process{cfg: cfg, prefix: newFilePrefix(), done: make(chan struct{}), changed: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, path, cfg.args(p.prefix)...)
	p.cmd.Cancel = func() error { return p.cmd.Process.Signal(os.Interrupt) }
	p.cmd.WaitDelay = StopTimeout
	// One pipe for stdout and stderr keeps EAL/PMD logs in order with the
	// stats blocks. Stdin stays /dev/null; --stats-period makes that work.
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	err = p.cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("testpmd: start %s: %w", path, err)
	}
	go p.run(r)

	err = p.wait(ctx, func() (bool, error) {
		switch {
		case p.fatal != "":
			return false, errors.New(p.fatal)
		case p.forwarding:
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		p.Stop()
		return nil, fmt.Errorf("testpmd: start %s %s: %w\n%s", cfg.Role, cfg.Socket, err, p.tail())
	}
	return p, nil
}

// run reads output until EOF, then reaps the process.
func (p *Process) run(r io.ReadCloser) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		p.handle(sc.Text())
	}
	// Drain anything left (e.g. after a too-long line) so testpmd never
	// blocks writing to a full pipe.
	_, _ = io.Copy(io.Discard, r)
	err := p.cmd.Wait()
	p.mu.Lock()
	p.exited, p.waitErr = true, err
	p.notify()
	p.mu.Unlock()
	close(p.done)
}

// handle records one output line and applies its event.
func (p *Process) handle(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out.WriteString(line)
	p.out.WriteByte('\n')
	ev := p.parse.line(line)
	switch ev.kind {
	case evNone:
		return
	case evForwarding:
		p.forwarding = true
	case evFatal:
		if p.fatal == "" && !p.forwarding {
			p.fatal = ev.line
		}
	case evLinkUp, evLinkDown:
		p.linkEvents++
		p.linkUp = ev.kind == evLinkUp
	case evStats:
		if ev.stats.Port != 0 {
			return
		}
		p.stats = ev.stats
		p.nstats++
		// Without PMD log lines, traffic is the only sign of a link.
		if p.linkEvents == 0 && (ev.stats.RxPackets > 0 || ev.stats.TxPackets > 0) {
			p.linkUp = true
		}
	case evFinal:
		if ev.stats.Port != 0 {
			return
		}
		st := ev.stats
		p.final = &st
		if !st.wrapped() {
			p.stats = st
		}
	}
	p.notify()
}

// notify wakes every waiter; callers hold p.mu.
func (p *Process) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Stats returns the latest counters: the last periodic block, or the exit
// summary once testpmd has printed it.
func (p *Process) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Output returns everything testpmd printed so far (stdout and stderr).
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// tail returns the last lines of output, for error messages.
func (p *Process) tail() string {
	lines := strings.Split(strings.TrimRight(p.Output(), "\n"), "\n")
	if n := 40; len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "--- testpmd output (tail) ---\n" + strings.Join(lines, "\n")
}
