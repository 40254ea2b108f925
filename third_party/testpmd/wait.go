package testpmd

import (
	"context"
	"fmt"
)

// wait calls cond under p.mu on every state change until it reports done
// or an error, the process exits, or ctx ends. Event driven: no polling.
func (p *Process) wait(ctx context.Context, cond func() (bool, error)) error {
	for {
		p.mu.Lock()
		ok, err := cond()
		exited, waitErr, changed := p.exited, p.waitErr, p.changed
		p.mu.Unlock()
		switch {
		case err != nil:
			return err
		case ok:
			return nil
		case exited:
			return fmt.Errorf("testpmd exited: %v", exitReason(waitErr))
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func exitReason(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// WaitLinkUp waits until the memif link is up, as told by the memif PMD's
// "memif_connect(): Connected." log line (testpmd prints no link-state
// event for memif). If no such line is ever printed, a periodic block with
// traffic counts as link up.
func (p *Process) WaitLinkUp(ctx context.Context) error {
	return p.waitTail(ctx, func() (bool, error) { return p.linkUp, nil })
}

// WaitLinkDown waits until the memif PMD logs a disconnect after the link
// was up. Counters are reset to zero at that point.
func (p *Process) WaitLinkDown(ctx context.Context) error {
	return p.waitTail(ctx, func() (bool, error) {
		if p.linkEvents == 0 {
			return false, nil
		}
		return !p.linkUp, nil
	})
}

// WaitStats blocks until the latest parsed stats (checked now, then on each
// new block) satisfy cond, and returns them.
func (p *Process) WaitStats(ctx context.Context, cond func(Stats) bool) (Stats, error) {
	var got Stats
	err := p.waitTail(ctx, func() (bool, error) {
		got = p.stats
		return (p.nstats > 0 || p.final != nil) && cond(got), nil
	})
	return got, err
}

// waitTail is wait with the output tail attached to failures, so a failing
// test shows what testpmd said.
func (p *Process) waitTail(ctx context.Context, cond func() (bool, error)) error {
	if err := p.wait(ctx, cond); err != nil {
		return fmt.Errorf("%w\n%s", err, p.tail())
	}
	return nil
}
