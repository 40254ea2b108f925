package testpmd

import (
	"regexp"
	"strconv"
	"strings"
)

// Stats are one port's counters as printed by testpmd.
type Stats struct {
	Port      int
	RxPackets uint64
	RxBytes   uint64
	RxMissed  uint64
	RxErrors  uint64
	RxNoMbuf  uint64
	TxPackets uint64
	TxBytes   uint64
	TxErrors  uint64
	RxPPS     uint64 // throughput since the previous periodic block
	TxPPS     uint64
	// Final marks counters from the exit summary ("Forward statistics for
	// port N"). That summary prints packets and drops but no bytes, so the
	// byte and pps fields are zero then.
	Final     bool
	RxDropped uint64 // exit summary only
	TxDropped uint64 // exit summary only: txonly/io bursts the ring refused
}

type eventKind int

const (
	evNone       eventKind = iota
	evForwarding           // "... packet forwarding - ports=N ..."
	evLinkUp               // memif PMD log "memif_connect(): Connected."
	evLinkDown             // memif PMD log "memif_disconnect(): Disconnected"
	evStats                // end of a periodic NIC statistics block
	evFinal                // end of an exit "Forward statistics" block
	evFatal                // a line that means the port will never work
)

type event struct {
	kind  eventKind
	stats Stats
	line  string
}

// fatalLines are printed when the memif port cannot come up; testpmd then
// keeps running with no working port, so they must be caught explicitly.
var fatalLines = []string{
	"Fail to start port",          // client: no server listening
	"No probed ethernet devices",  // vdev probe failed (e.g. stale socket)
	"Failed to setup socket",      // server: "Address already in use"
	"Failed to connect socket",    // client: connect(2) failed
	"EAL: Error",                  // rte_exit
	"Cause:",                      // rte_exit reason
	"packet forwarding - ports=0", // nothing to forward on
}

var (
	ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")
	counter    = regexp.MustCompile(`([A-Za-z]+-[A-Za-z]+):\s*(\d+)`)
	portNumber = regexp.MustCompile(`for port (\d+)`)
)

type section int

const (
	outside section = iota
	nicBlock
	forwardBlock
)

// parser turns testpmd output, line by line, into events. It is a small
// state machine because counters span several lines of a block.
type parser struct {
	in  section
	cur Stats
}

func (p *parser) line(raw string) event {
	// The periodic block starts with a clear-screen escape.
	s := strings.TrimSpace(ansiEscape.ReplaceAllString(raw, ""))
	switch {
	case strings.Contains(s, "memif_connect(): Connected."):
		return event{kind: evLinkUp, line: s}
	case strings.Contains(s, "memif_disconnect(): Disconnected"):
		return event{kind: evLinkDown, line: s}
	}
	for _, f := range fatalLines {
		if strings.Contains(s, f) {
			return event{kind: evFatal, line: s}
		}
	}
	switch {
	case strings.Contains(s, "packet forwarding - ports="):
		return event{kind: evForwarding, line: s}
	case strings.Contains(s, "NIC statistics for port"):
		p.start(nicBlock, s, false)
	case strings.Contains(s, "Forward statistics for port"):
		p.start(forwardBlock, s, true)
	case p.in == nicBlock && isRule(s, '#'):
		p.in = outside
		return event{kind: evStats, stats: p.cur}
	case p.in == forwardBlock && isRule(s, '-'):
		p.in = outside
		return event{kind: evFinal, stats: p.cur}
	case p.in != outside:
		p.counters(s)
	}
	return event{}
}

func (p *parser) start(in section, s string, final bool) {
	p.in = in
	p.cur = Stats{Final: final}
	if m := portNumber.FindStringSubmatch(s); m != nil {
		p.cur.Port, _ = strconv.Atoi(m[1])
	}
}

// counters reads every "Name: value" pair on a line; names are matched
// case-sensitively because "RX-bytes" and "Rx-bps" mean different things.
func (p *parser) counters(s string) {
	for _, m := range counter.FindAllStringSubmatch(s, -1) {
		v, err := strconv.ParseUint(m[2], 10, 64)
		if err != nil {
			continue
		}
		if f := p.cur.field(m[1]); f != nil {
			*f = v
		}
	}
}

func (st *Stats) field(name string) *uint64 {
	switch name {
	case "RX-packets":
		return &st.RxPackets
	case "RX-bytes":
		return &st.RxBytes
	case "RX-missed":
		return &st.RxMissed
	case "RX-errors":
		return &st.RxErrors
	case "RX-nombuf":
		return &st.RxNoMbuf
	case "RX-dropped":
		return &st.RxDropped
	case "TX-packets":
		return &st.TxPackets
	case "TX-bytes":
		return &st.TxBytes
	case "TX-errors":
		return &st.TxErrors
	case "TX-dropped":
		return &st.TxDropped
	case "Rx-pps":
		return &st.RxPPS
	case "Tx-pps":
		return &st.TxPPS
	}
	return nil
}

// isRule reports whether s is a line drawn only with c (block terminator).
func isRule(s string, c byte) bool {
	if len(s) < 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != c {
			return false
		}
	}
	return true
}

// wrapped reports whether exit-summary counters went below zero: testpmd
// subtracts a start-of-forwarding snapshot from counters that memif may
// have reset on disconnect.
func (st Stats) wrapped() bool {
	const limit = 1 << 62
	return st.RxPackets > limit || st.TxPackets > limit
}
