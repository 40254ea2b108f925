package testpmd

import (
	"fmt"
	"strconv"
	"strings"
)

// Config describes one testpmd instance with a single memif port (port 0).
type Config struct {
	Role string // "server" (memif master) or "client" (memif slave)
	// Socket is a filesystem path (socket-abstract=no), or "@name" for an
	// abstract socket (socket-abstract=yes, testpmd's own default).
	Socket string
	ID     uint32 // memif interface id
	Secret string // optional memif secret
	// ForwardMode is "io", "txonly" or "rxonly"; empty means "io". With
	// one port testpmd's default "paired" topology pairs port 0 with
	// itself, so "io" echoes what it receives back to the memif peer.
	ForwardMode string
	PacketSize  int // --txpkts for txonly; 0 = testpmd default (64)
	BufferSize  int // memif bsize; 0 = PMD default
	Log2Ring    int // memif rsize (log2 of ring size); 0 = PMD default
	// Lcores is the EAL --lcores map. Lcore 0 prints stats, lcore 1 busy-polls
	// and forwards; the forwarding lcore needs a CPU of its own or throughput
	// collapses. Empty means "0@0,1@1".
	Lcores string
	Extra  []string // extra testpmd arguments (after "--")
}

// defaultMbufDataSize is testpmd's default mbuf data room without headroom;
// a single-segment txonly packet larger than this needs a bigger mbuf.
const (
	defaultMbufDataSize = 2048
	mbufHeadroom        = 128
)

func (c Config) validate() error {
	if c.Role != "server" && c.Role != "client" {
		return fmt.Errorf("testpmd: role %q: want \"server\" or \"client\"", c.Role)
	}
	if c.Socket == "" {
		return fmt.Errorf("testpmd: empty socket path")
	}
	switch c.ForwardMode {
	case "", "io", "txonly", "rxonly":
	default:
		return fmt.Errorf("testpmd: forward mode %q: want io, txonly or rxonly", c.ForwardMode)
	}
	if strings.ContainsAny(c.Socket+c.Secret, ",") {
		// The vdev argument string is comma separated.
		return fmt.Errorf("testpmd: socket path and secret must not contain ','")
	}
	return nil
}

// args builds the command line: EAL arguments, "--", testpmd arguments.
func (c Config) args(filePrefix string) []string {
	lcores := c.Lcores
	if lcores == "" {
		lcores = "0@0,1@1"
	}
	sock, abstract := strings.CutPrefix(c.Socket, "@")
	vdev := "net_memif0,role=" + c.Role + ",socket=" + sock +
		",id=" + strconv.FormatUint(uint64(c.ID), 10) + ",socket-abstract=" + map[bool]string{true: "yes", false: "no"}[abstract]
	if c.Secret != "" {
		vdev += ",secret=" + c.Secret
	}
	if c.BufferSize > 0 {
		vdev += ",bsize=" + strconv.Itoa(c.BufferSize)
	}
	if c.Log2Ring > 0 {
		vdev += ",rsize=" + strconv.Itoa(c.Log2Ring)
	}
	mode := c.ForwardMode
	if mode == "" {
		mode = "io"
	}
	args := []string{
		// No hugepages and no PCI scan: tests run unprivileged-ish and fast.
		"--no-huge", "-m", "512", "--no-pci",
		"--file-prefix=" + filePrefix,
		"--lcores=" + lcores,
		"--log-level=pmd.net.memif:debug",
		"--vdev=" + vdev,
		"--",
		"--total-num-mbufs=32768",
		"--forward-mode=" + mode,
		"--stats-period", "1",
	}
	if c.PacketSize > 0 {
		// --mbuf-size must precede --txpkts, which is checked against it.
		if c.PacketSize > defaultMbufDataSize {
			args = append(args, "--mbuf-size="+strconv.Itoa(c.PacketSize+mbufHeadroom))
		}
		args = append(args, "--txpkts="+strconv.Itoa(c.PacketSize))
	}
	return append(args, c.Extra...)
}
