package mcmdp

import (
	"fmt"
	"math"
	"time"

	memif "github.com/mcmgo/mcm/cgo"
)

// TransferType says which way a connection moves buffers (MCM's is_tx /
// is_rx).
type TransferType int

const (
	Tx TransferType = iota
	Rx
)

// Protocol is MCM's proto_type. This package moves frames over memif
// only: ProtoAuto (the zero value) picks it, as MCM's auto does on one node.
type Protocol int

const (
	ProtoAuto Protocol = iota
	ProtoMemif
)

var protocolNames = [...]string{"auto", "memif"}

func (p Protocol) String() string { return enumName(protocolNames[:], int(p), "Protocol") }

// PayloadType is what the frames carry.
type PayloadType int

const (
	PayloadVideo PayloadType = iota
	PayloadAudio
	PayloadAncillary
)

// MemifParam is MCM's memif_interface_param plus the secret and the name.
//
// Conns of one process with the same SocketPath share one memif socket
// (see CreateConnection), told apart by role and InterfaceID.
type MemifParam struct {
	IsMaster    bool
	SocketPath  string // at most 107 bytes; "@name" for an abstract socket
	InterfaceID uint32 // unique per SocketPath and role in a process
	Secret      string // at most 24 bytes
	// Name is the interface name sent to the peer, at most 32 bytes;
	// empty sends a media descriptor, which turns on the media check
	// (see the package doc).
	Name string
}

// AudioParam is MCM's mcm_audio_args.
type AudioParam struct {
	Format   AudioFormat
	Sampling AudioSampling
	PTime    AudioPTime
	Channels uint16
}

// ConnParam is MCM's mcm_conn_param, plus the knobs MCM hard-codes.
type ConnParam struct {
	Type     TransferType
	Protocol Protocol
	Memif    MemifParam

	Payload PayloadType
	// Video
	Width, Height uint32
	// FPS is the stream's nominal rate, for the application's pacing and
	// for peers that describe the stream; the transport does not need it
	// (0: not given).
	FPS    float64
	PixFmt PixelFormat
	// Audio
	Audio AudioParam

	// Log2RingSize is log2 of the number of buffers in flight (1..14);
	// 0 means 3 (8 frames) for video and 8 for audio and ancillary.
	Log2RingSize uint8
	// Queues is the number of rings each way (1..8); 0 means 1. Frames
	// are spread round-robin; SeqNum keeps their order visible.
	Queues uint8
	// BufferSize overrides the size of one shared-memory buffer. Frames
	// larger than a buffer travel as chains (one copy on each side).
	BufferSize uint32
	// Polling makes the receiver busy-poll instead of waiting for the
	// sender's interrupt: lower latency, one core spent.
	Polling bool
	// Raw carries payload only, byte for byte, for plain memif peers
	// (DPDK, libmemif apps); otherwise a 16-byte trailer carries SeqNum
	// and Timestamp (see the package doc).
	Raw bool
	// Debug replaces a buffer's Data after its enqueue with a guard
	// mapping that faults on any access, and poisons returned receive
	// buffers, to catch use after enqueue.
	Debug bool
	// DrainTimeout bounds how long Close waits for the receiver to take
	// what was already enqueued; 0 means 2s.
	DrainTimeout time.Duration
	// NoPrefault leaves the shared buffers this Conn uses to fault in on
	// first touch. By default they are mapped when each session starts
	// (memif.Config.Prefault), on both sides, so the first lap over the
	// ring costs no page faults: a 1080p stream's first 8 frames would
	// otherwise take about 17,000 (BenchmarkFirstLap). The price is that
	// the buffers of this Conn's direction are resident for the whole
	// session: Queues x 2^Log2RingSize x the buffer size (1080p
	// yuv422p10le: 8 x 8.3 MB = 66 MB, shared by both processes).
	NoPrefault bool
	// HandshakeTimeout bounds a memif handshake from the connection to
	// CONNECTED, on either side; a peer that stalls in it is dropped with
	// a reason, so it cannot hold the interface id. 0 means 5s. It is
	// the socket's: Conns sharing one take the first Conn's.
	HandshakeTimeout time.Duration
}

// ParamError names the parameter that is wrong.
type ParamError struct {
	Field  string
	Reason string
}

func (e *ParamError) Error() string { return "mcmdp: " + e.Field + ": " + e.Reason }

func bad(field, format string, args ...any) error {
	return &ParamError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

const (
	maxDimension = 16384
	maxQueues    = 8
	maxLog2Ring  = 14
	maxPathLen   = 107
)

// Validate checks every field before any socket is touched.
func (p *ConnParam) Validate() error {
	if p.Type != Tx && p.Type != Rx {
		return bad("Type", "must be Tx or Rx, got %d", p.Type)
	}
	if p.Protocol != ProtoMemif && p.Protocol != ProtoAuto {
		return bad("Protocol", "%v is not supported by this package; only memif", p.Protocol)
	}
	m := p.Memif
	switch {
	case m.SocketPath == "":
		return bad("Memif.SocketPath", "empty")
	case m.SocketPath == "@":
		return bad("Memif.SocketPath", "an abstract name needs at least one character after @")
	case len(m.SocketPath) > maxPathLen:
		return bad("Memif.SocketPath", "%d bytes, at most %d", len(m.SocketPath), maxPathLen)
	case len(m.Secret) > 24:
		return bad("Memif.Secret", "%d bytes, at most 24", len(m.Secret))
	case len(m.Name) > 32:
		return bad("Memif.Name", "%d bytes, at most 32", len(m.Name))
	case p.Log2RingSize > maxLog2Ring:
		return bad("Log2RingSize", "%d, at most %d", p.Log2RingSize, maxLog2Ring)
	case p.Queues > maxQueues:
		return bad("Queues", "%d, at most %d", p.Queues, maxQueues)
	case p.DrainTimeout < 0:
		return bad("DrainTimeout", "negative")
	case p.HandshakeTimeout < 0:
		return bad("HandshakeTimeout", "negative")
	}
	switch p.Payload {
	case PayloadVideo:
		if p.Width == 0 || p.Width > maxDimension {
			return bad("Width", "%d, want 1..%d", p.Width, maxDimension)
		}
		if p.Height == 0 || p.Height > maxDimension {
			return bad("Height", "%d, want 1..%d", p.Height, maxDimension)
		}
		if math.IsNaN(p.FPS) || p.FPS < 0 || p.FPS > 1000 {
			return bad("FPS", "%v, want 0 (not given) or a rate in (0, 1000]", p.FPS)
		}
		if _, err := VideoFrameSize(p.Width, p.Height, p.PixFmt); err != nil {
			return err
		}
	case PayloadAudio:
		if _, err := AudioPacketSize(p.Audio); err != nil {
			return err
		}
	case PayloadAncillary:
		if p.BufferSize == 0 {
			return bad("BufferSize", "ancillary data needs an explicit buffer size")
		}
	default:
		return bad("Payload", "unknown payload type %d", p.Payload)
	}
	if _, err := p.frameLayout(); err != nil {
		return err
	}
	return nil
}

func (p *ConnParam) log2Ring() uint8 {
	switch {
	case p.Log2RingSize != 0:
		return p.Log2RingSize
	case p.Payload == PayloadVideo && !memif.EngineCapabilities().BufferSize32:
		return 10 // chains of 64 KB buffers: 8 frames of 1080p
	case p.Payload == PayloadVideo:
		return 3
	default:
		return 8
	}
}

// prefault: the buffers of this Conn's own direction, unless NoPrefault.
func (p *ConnParam) prefault() memif.Prefault {
	switch {
	case p.NoPrefault:
		return 0
	case p.Type == Tx:
		return memif.PrefaultTx
	default:
		return memif.PrefaultRx
	}
}

func (p *ConnParam) queues() int {
	if p.Queues == 0 {
		return 1
	}
	return int(p.Queues)
}

func (p *ConnParam) drainTimeout() time.Duration {
	if p.DrainTimeout == 0 {
		return 2 * time.Second
	}
	return p.DrainTimeout
}
