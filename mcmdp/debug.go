package mcmdp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// The Debug guard: an inaccessible mapping as large as a frame. A buffer's
// Data points into it after enqueue, so any later access faults at the
// offending line instead of silently touching memory the peer now owns.

func (c *Conn) mapGuard() error {
	size := (int(c.layout.wire) + 4095) &^ 4095 // a plain peer's frame may fill the wire size
	g, err := unix.Mmap(-1, 0, max(size, 4096), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_NORESERVE)
	if err != nil {
		return fmt.Errorf("mcmdp: debug guard: %w", err)
	}
	c.guard = g
	return nil
}

func (c *Conn) unmapGuard() {
	// Left mapped: a Buffer may still point at it, and a fault there is the
	// point. The address space goes with the process.
}

func (c *Conn) retire(b *Buffer) {
	if c.guard != nil {
		b.Data = c.guard[:len(b.Data)]
	} else {
		b.Data = nil
	}
}

// poison marks returned receive memory so a late reader sees garbage that
// tests can recognise, should it have kept its own slice.
func poison(p []byte) {
	for k := range p {
		p[k] = 0xDB
	}
}
