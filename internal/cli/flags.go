// Package cli holds what mcm-send and mcm-recv share: flags, the test
// pattern, pacing, the progress line and the summary.
package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcmgo/mcm/mcmdp"
)

// Common are the flags both tools take; they map onto mcmdp.ConnParam.
type Common struct {
	Role           string
	Socket         string
	ID             uint
	Secret         string
	Payload        string
	Width, Height  uint
	PixFmt         string
	FPS            float64
	AudioFormat    string
	Sampling       string
	PTime          string
	Channels       uint
	Ring           uint
	Queues         uint
	BufferSize     uint
	Polling        bool
	Raw            bool
	NoPrefault     bool
	Frames         uint64
	Duration       time.Duration
	JSON           bool
	ConnectTimeout time.Duration
	KeepGoing      bool
	Linger         time.Duration
	CRC            bool
	Interval       time.Duration
	Burst          uint
}

// Register adds the flags both tools take; defaultRole is the tool's memif
// role. Each tool adds its own (RegisterSender, RegisterReceiver).
func (c *Common) Register(fs *flag.FlagSet, defaultRole string) {
	fs.StringVar(&c.Role, "role", defaultRole, "memif role: master or slave")
	fs.StringVar(&c.Socket, "socket", DefaultSocket(), "memif socket path (@name for an abstract socket)")
	fs.UintVar(&c.ID, "id", 0, "memif interface id")
	fs.StringVar(&c.Secret, "secret", "", "memif secret (at most 24 bytes)")
	fs.StringVar(&c.Payload, "payload", "video", "payload type: video, audio or anc")
	fs.UintVar(&c.Width, "width", 1920, "video width in pixels")
	fs.UintVar(&c.Height, "height", 1080, "video height in pixels")
	fs.StringVar(&c.PixFmt, "pix-fmt", "yuv422p10le", "pixel format: yuv422p10le, v210, yuv422rfc4175, nv12, yuv422p, rgb24")
	fs.StringVar(&c.AudioFormat, "audio-format", "pcm24", "audio sample format: pcm8, pcm16, pcm24, am824")
	fs.StringVar(&c.Sampling, "sampling", "48k", "audio sampling rate: 44.1k, 48k, 96k")
	fs.StringVar(&c.PTime, "ptime", "1ms", "audio packet time: 1ms, 125us, 250us, 333us, 4ms, 80us, 1.09ms, 0.14ms, 0.09ms")
	fs.UintVar(&c.Channels, "channels", 2, "audio channels")
	fs.UintVar(&c.Ring, "ring", 0, "log2 of the ring size, 1..14 (0: 3 for video, 8 otherwise)")
	fs.UintVar(&c.Queues, "queues", 1, "memif queues each way, 1..8")
	fs.UintVar(&c.BufferSize, "buffer-size", 0, "shared-memory buffer size in bytes (0: sized from the media; required for anc)")
	fs.BoolVar(&c.Raw, "raw", false, "payload only, no SeqNum/Timestamp trailer (for plain memif peers such as DPDK)")
	fs.BoolVar(&c.NoPrefault, "no-prefault", false, "leave the shared buffers to fault in on first touch instead of mapping them at connect (saves the ring's memory until used; the first lap is slower)")
	fs.Uint64Var(&c.Frames, "frames", 0, "stop after this many frames (0: no limit)")
	fs.Var(durationValue{&c.Duration}, "duration", "stop after this long, e.g. 10s or 1m30s (0: no limit)")
	fs.BoolVar(&c.JSON, "json", false, "print the summary as one JSON object")
	c.ConnectTimeout = 10 * time.Second
	fs.Var(durationValue{&c.ConnectTimeout}, "connect-timeout", "give up if the peer does not appear within this time")
	fs.BoolVar(&c.KeepGoing, "keep-going", false, "ride through the peer's restart instead of failing")
	fs.Var(durationValue{&c.Interval}, "interval", "print the counters every so often (e.g. 1s), as text or JSON lines with --json")
	fs.BoolVar(&c.CRC, "crc", false, "report a CRC-32C of every payload byte in order (compare the two summaries)")
	fs.UintVar(&c.Burst, "burst", 1, "frames per dequeue and enqueue call, 1..256: bursts cut the per-frame cost of small packets")
	fs.Var(durationValue{&c.Linger}, "linger", "after the last frame, stay connected this long or until the peer leaves (e.g. to read a DPDK peer's counters)")
}

// RegisterSender adds mcm-send's own knobs beside the common ones.
func (c *Common) RegisterSender(fs *flag.FlagSet) {
	c.FPS = -1
	fs.Float64Var(&c.FPS, "fps", -1, "frames (packets) per second to pace at; 0 = as fast as possible (default: 60 for video and anc, one packet per --ptime for audio)")
}

// RegisterReceiver adds mcm-recv's own knobs beside the common ones.
func (c *Common) RegisterReceiver(fs *flag.FlagSet) {
	fs.BoolVar(&c.Polling, "polling", false, "busy-poll the ring instead of waiting for the sender's interrupts")
}

// Rate is the pace, in frames a second, the sender keeps: --fps, or the
// media's own rate when it was not given (audio: one packet per --ptime).
func (c *Common) Rate() float64 {
	if c.FPS >= 0 {
		return c.FPS
	}
	if c.Payload == "audio" {
		if us, ok := ptimeMicros[c.PTime]; ok {
			return 1e6 / us
		}
	}
	return 60
}

var ptimeMicros = map[string]float64{"1ms": 1000, "125us": 125, "250us": 250, "333us": 1000.0 / 3,
	"4ms": 4000, "80us": 80, "1.09ms": 1000 * 48 / 44.1, "0.14ms": 1000 * 6 / 44.1, "0.09ms": 1000 * 4 / 44.1}

// durationValue is a duration flag whose error says what a duration is.
type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil {
		return "0s"
	}
	return v.d.String()
}

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration with a unit, e.g. 10s or 1m30s")
	}
	*v.d = d
	return nil
}

// DefaultSocket is where both tools meet when no --socket is given: a
// per-user run directory.
func DefaultSocket() string {
	dir := os.Getenv("MCM_RUN_DIR")
	if dir == "" {
		if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
			dir = filepath.Join(x, "mcm")
		} else if os.Geteuid() == 0 {
			dir = "/run/mcm"
		} else {
			dir = filepath.Join(os.TempDir(), fmt.Sprintf("mcm-%d", os.Geteuid()))
		}
	}
	return filepath.Join(dir, "mcm.sock")
}

var (
	sampling = map[string]mcmdp.AudioSampling{"44.1k": mcmdp.Sampling44K, "48k": mcmdp.Sampling48K, "96k": mcmdp.Sampling96K}
	formats  = map[string]mcmdp.AudioFormat{"pcm8": mcmdp.AudioPCM8, "pcm16": mcmdp.AudioPCM16, "pcm24": mcmdp.AudioPCM24, "am824": mcmdp.AudioAM824}
	ptimes   = map[string]mcmdp.AudioPTime{"1ms": mcmdp.PTime1ms, "125us": mcmdp.PTime125us, "250us": mcmdp.PTime250us,
		"333us": mcmdp.PTime333us, "4ms": mcmdp.PTime4ms, "80us": mcmdp.PTime80us,
		"1.09ms": mcmdp.PTime1_09ms, "0.14ms": mcmdp.PTime0_14ms, "0.09ms": mcmdp.PTime0_09ms}
	payloads = map[string]mcmdp.PayloadType{"video": mcmdp.PayloadVideo, "audio": mcmdp.PayloadAudio, "anc": mcmdp.PayloadAncillary}
)

// UsageError is a bad flag: exit code 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usage(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// Param builds the connection parameters and checks them.
func (c *Common) Param(typ mcmdp.TransferType) (*mcmdp.ConnParam, error) {
	p := &mcmdp.ConnParam{Type: typ, Protocol: mcmdp.ProtoMemif,
		Polling: c.Polling, Raw: c.Raw, NoPrefault: c.NoPrefault, BufferSize: uint32(c.BufferSize)}
	switch c.Role {
	case "master":
		p.Memif.IsMaster = true
	case "slave":
	default:
		return nil, usage("--role %q: want master or slave", c.Role)
	}
	p.Memif.SocketPath, p.Memif.InterfaceID, p.Memif.Secret = c.Socket, uint32(c.ID), c.Secret
	var ok bool
	if p.Payload, ok = payloads[c.Payload]; !ok {
		return nil, usage("--payload %q: want video, audio or anc", c.Payload)
	}
	pf, err := mcmdp.ParsePixelFormat(c.PixFmt)
	if err != nil {
		return nil, usage("--pix-fmt %q: unknown pixel format", c.PixFmt)
	}
	for _, r := range []struct {
		name  string
		v, hi uint
	}{{"--width", c.Width, 16384}, {"--height", c.Height, 16384}, {"--channels", c.Channels, 64},
		{"--ring", c.Ring, 14}, {"--id", c.ID, 0xFFFFFFFF}, {"--buffer-size", c.BufferSize, 0xFFFFFFFF}} {
		if r.v > r.hi {
			return nil, usage("%s %d: at most %d", r.name, r.v, r.hi)
		}
	}
	if c.Burst < 1 || c.Burst > maxBurst {
		return nil, usage("--burst %d: want 1..%d", c.Burst, maxBurst)
	}
	if c.Queues < 1 || c.Queues > 8 {
		return nil, usage("--queues %d: want 1..8", c.Queues)
	}
	p.PixFmt, p.Width, p.Height = pf, uint32(c.Width), uint32(c.Height)
	if fps := c.FPS; fps != -1 && (fps < 0 || fps > 1e6 || fps > 0 && fps < 0.01 || fps != fps) {
		return nil, usage("--fps %v: want 0 (as fast as possible) or a rate from 0.01 to 1000000", c.FPS)
	}
	if c.ConnectTimeout <= 0 {
		return nil, usage("--connect-timeout %v: want a positive duration", c.ConnectTimeout)
	}
	if p.Payload == mcmdp.PayloadVideo {
		p.FPS = min(c.Rate(), 1000) // the stream's nominal rate; the transport does not need it
	}
	if p.Audio.Format, ok = formats[c.AudioFormat]; !ok {
		return nil, usage("--audio-format %q: want pcm8, pcm16, pcm24 or am824", c.AudioFormat)
	}
	if p.Audio.Sampling, ok = sampling[c.Sampling]; !ok {
		return nil, usage("--sampling %q: want 44.1k, 48k or 96k", c.Sampling)
	}
	if p.Audio.PTime, ok = ptimes[c.PTime]; !ok {
		return nil, usage("--ptime %q: unknown packet time", c.PTime)
	}
	p.Audio.Channels, p.Log2RingSize, p.Queues = uint16(c.Channels), uint8(c.Ring), uint8(c.Queues)
	if c.Duration < 0 {
		return nil, usage("--duration %v: must not be negative", c.Duration)
	}
	if err := p.Validate(); err != nil {
		if pe, ok := err.(*mcmdp.ParamError); ok {
			return nil, usage("%s: %s", flagOf(pe.Field), pe.Reason)
		}
		return nil, usage("%v", err)
	}
	if !strings.HasPrefix(c.Socket, "@") {
		if err := os.MkdirAll(filepath.Dir(c.Socket), 0o700); err != nil {
			return nil, fmt.Errorf("run directory: %w", err)
		}
	}
	return p, nil
}

// flagOf names the flag behind a ConnParam field.
func flagOf(field string) string {
	m := map[string]string{"Width": "--width", "Height": "--height", "FPS": "--fps", "PixFmt": "--pix-fmt",
		"Memif.SocketPath": "--socket", "Memif.Secret": "--secret", "Log2RingSize": "--ring",
		"Queues": "--queues", "BufferSize": "--buffer-size", "Audio.Channels": "--channels",
		"Audio.PTime": "--ptime", "Audio.Format": "--audio-format", "Audio.Sampling": "--sampling"}
	if f, ok := m[field]; ok {
		return f
	}
	return field
}

// maxBurst is the most buffers one mcmdp burst call moves.
const maxBurst = 256

// Hidden starts the usage of a flag PrintFlags leaves out.
const Hidden = "(hidden) "

// PrintFlags lists the flags the way users type them, with two dashes.
func PrintFlags(fs *flag.FlagSet) {
	w := fs.Output()
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		if strings.HasPrefix(usage, Hidden) {
			return // a test aid, not for users
		}
		if _, ok := f.Value.(durationValue); ok {
			typ = "duration"
		}
		line := "  --" + f.Name
		if typ != "" {
			line += " " + typ
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, usage)
		switch {
		case f.DefValue == "" || f.DefValue == "0" || f.DefValue == "false" || f.DefValue == "0s" || f.DefValue == "-1":
		case typ == "string":
			fmt.Fprintf(w, " (default %q)", f.DefValue)
		default:
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}
