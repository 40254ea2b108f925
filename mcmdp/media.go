package mcmdp

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mcmgo/mcm/cgo"
)

// Media descriptors. With MemifParam.Name empty, a Conn names its memif
// interface after its media, and memif carries that name to the peer in
// the handshake (32 bytes at most):
//
//	mcm1 v1920x1080 yuv422p10le      video: width x height, pixel format
//	mcm1 a pcm24 48k 1ms 2ch         audio: format, rate, packet time, channels
//	mcm1 anc                         ancillary data
//
// Two Conns that both send a descriptor compare them at connect; the
// longest (v16384x16384 yuv422rfc4175, a am824 44.1k 1.09ms 64ch) is 31
// bytes. Only what sizes a frame is described: FPS, Raw, BufferSize, the
// ring and the queues are not compared. A peer with any other name (a
// plain memif peer, or a Conn given a Name) is not checked.

const (
	mediaTag       = "mcm1 "
	mismatchPrefix = "media mismatch: "
)

// Compact wire codes, kept apart from the String names so the descriptor
// does not change with how the enums print.
var (
	wireSampling = [...]string{"48k", "96k", "44.1k"}
	wirePTime    = [...]string{"1ms", "125us", "250us", "333us", "4ms", "80us", "1.09ms", "0.14ms", "0.09ms"}
	wireAudioFmt = [...]string{"pcm8", "pcm16", "pcm24", "am824"}
)

// media is what a descriptor says.
type media struct {
	payload       PayloadType
	width, height uint32
	pixFmt        PixelFormat
	audio         AudioParam
}

func (p *ConnParam) media() media {
	m := media{payload: p.Payload}
	switch p.Payload {
	case PayloadVideo:
		m.width, m.height, m.pixFmt = p.Width, p.Height, p.PixFmt
	case PayloadAudio:
		m.audio = p.Audio
	}
	return m
}

// descriptor is m as an interface name; m must be valid (Validate).
func (m media) descriptor() string {
	switch m.payload {
	case PayloadVideo:
		return fmt.Sprintf("%sv%dx%d %s", mediaTag, m.width, m.height, m.pixFmt)
	case PayloadAudio:
		a := m.audio
		return fmt.Sprintf("%sa %s %s %s %dch", mediaTag, wireAudioFmt[a.Format],
			wireSampling[a.Sampling], wirePTime[a.PTime], a.Channels)
	}
	return mediaTag + "anc"
}

// parseMedia reads a peer's interface name; ok is false for anything that
// is not exactly a valid descriptor.
func parseMedia(name string) (m media, ok bool) {
	rest, ok := strings.CutPrefix(name, mediaTag)
	if !ok {
		return media{}, false
	}
	f := strings.Fields(rest)
	index := func(names []string, s string) int {
		for k, n := range names {
			if n == s {
				return k
			}
		}
		return -1
	}
	switch {
	case len(f) == 2 && strings.HasPrefix(f[0], "v"):
		m.payload = PayloadVideo
		if _, err := fmt.Sscanf(f[0], "v%dx%d", &m.width, &m.height); err != nil {
			return media{}, false
		}
		pf, err := ParsePixelFormat(f[1])
		if err != nil {
			return media{}, false
		}
		m.pixFmt = pf
		if _, err := VideoFrameSize(m.width, m.height, m.pixFmt); err != nil || m.width == 0 || m.height == 0 {
			return media{}, false
		}
	case len(f) == 5 && f[0] == "a":
		m.payload = PayloadAudio
		a := &m.audio
		a.Format = AudioFormat(index(wireAudioFmt[:], f[1]))
		a.Sampling = AudioSampling(index(wireSampling[:], f[2]))
		a.PTime = AudioPTime(index(wirePTime[:], f[3]))
		if _, err := fmt.Sscanf(f[4], "%dch", &a.Channels); err != nil {
			return media{}, false
		}
		if _, err := AudioPacketSize(*a); err != nil {
			return media{}, false
		}
	case len(f) == 1 && f[0] == "anc":
		m.payload = PayloadAncillary
	default:
		return media{}, false
	}
	return m, m.descriptor() == name // one spelling only: no stray zeros or spaces
}

// String describes m for people, with the frame size it implies.
func (m media) String() string {
	switch m.payload {
	case PayloadVideo:
		n, _ := VideoFrameSize(m.width, m.height, m.pixFmt)
		return fmt.Sprintf("%dx%d %v (%d bytes a frame)", m.width, m.height, m.pixFmt, n)
	case PayloadAudio:
		a := m.audio
		n, _ := AudioPacketSize(a)
		return fmt.Sprintf("%v %v %v %dch audio (%d bytes a packet)", a.Format, a.Sampling, a.PTime, a.Channels, n)
	}
	return "ancillary data"
}

// ErrMediaMismatch: the peer's media (see ConnParam.Memif.Name) differ
// from this side's; the error is a *MediaMismatchError naming both.
var ErrMediaMismatch = errors.New("mcmdp: media mismatch")

// MediaMismatchError is a session refused because the two sides' media
// differ: CreateConnection returns it when the first peer mismatches, a
// dequeue reports it once for a later session. It matches
// ErrMediaMismatch and ErrDisconnected (the Conn waits for the next peer).
type MediaMismatchError struct {
	Peer, Local string // each side's media, as MediaMismatchError prints them
	Tx          bool   // this side sends
}

func (e *MediaMismatchError) Error() string {
	if e.Tx {
		return "mcmdp: media mismatch: peer receives " + e.Peer + "; this sender sends " + e.Local
	}
	return "mcmdp: media mismatch: peer sends " + e.Peer + "; this receiver expects " + e.Local
}

func (e *MediaMismatchError) Is(target error) bool {
	return target == ErrMediaMismatch || target == ErrDisconnected
}

func (c *Conn) mismatch(peer media) error {
	return &MediaMismatchError{Peer: peer.String(), Local: c.p.media().String(), Tx: c.tx}
}

// checkMedia, under mu in sync, refuses a new session whose peer described
// other media: the peer gets a DISCONNECT naming ours. It reports whether
// the session may be used.
func (c *Conn) checkMedia(s memif.Session, peerName string) bool {
	if c.p.Memif.Name != "" {
		return true // a user's name: we sent no descriptor
	}
	peer, ok := parseMedia(peerName)
	if !ok || peer == c.p.media() {
		return true
	}
	if c.mismatchSeen != s { // else peerRefusedMedia just reported it
		c.st.mediaMismatches.Add(1)
		c.loss, c.mismatchSeen = c.mismatch(peer), s
	}
	// An engine that cannot end a session (libmemif_system) leaves it
	// unused instead: the peer finds its ring never read or filled.
	c.iface.Fault(s, mismatchPrefix+c.p.media().descriptor())
	return false
}

// peerRefusedMedia, under mu in sync, reports once a session the peer
// refused over media before this side looked at it (it may have come and
// gone between two syncs, or never come up here at all). The refusal is
// the latest session's: the engine's connect count names it, and it moves
// before any reason of that session arrives.
func (c *Conn) peerRefusedMedia() {
	if c.p.Memif.Name != "" {
		return
	}
	st := c.iface.Status()
	latest := memif.Session(st.Connects)
	if st.LastErrorCode != memif.ErrDisconnect || latest == c.mismatchSeen {
		return
	}
	desc, ok := strings.CutPrefix(st.LastError, mismatchPrefix)
	if !ok {
		return
	}
	peer, ok := parseMedia(desc)
	if !ok {
		return
	}
	c.st.mediaMismatches.Add(1)
	c.loss, c.mismatchSeen = c.mismatch(peer), latest
}

// takeMismatch, for CreateConnection: a mismatch found while connecting.
func (c *Conn) takeMismatch() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if errors.Is(c.loss, ErrMediaMismatch) {
		err := c.loss
		c.loss = nil
		return err
	}
	return nil
}
