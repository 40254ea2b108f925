package mcmdp

import memif "github.com/mcmgo/mcm/cgo"

// PixelFormat is a video frame layout. Sizes are the formats' real ones,
// not MCM's blanket width x height x 4.
type PixelFormat int

const (
	// PixFmtYUV422P10LE: planar 4:2:2, 10-bit samples in 16-bit little-endian
	// words: 4 bytes per pixel. The zero value, as in MCM's ST 2110 default.
	PixFmtYUV422P10LE PixelFormat = iota
	// PixFmtV210: packed 4:2:2 10-bit, 6 pixels in 16 bytes, each row padded
	// to a multiple of 48 pixels (128 bytes).
	PixFmtV210
	// PixFmtYUV422RFC4175: RFC 4175 4:2:2 10-bit big-endian pgroups, 2
	// pixels in 5 bytes.
	PixFmtYUV422RFC4175
	// PixFmtNV12: 4:2:0 8-bit, a Y plane and an interleaved UV plane.
	PixFmtNV12
	// PixFmtYUV422P: planar 4:2:2 8-bit.
	PixFmtYUV422P
	// PixFmtRGB8: packed 8-bit RGB, 3 bytes per pixel.
	PixFmtRGB8
)

var pixFmtNames = [...]string{"yuv422p10le", "v210", "yuv422rfc4175", "nv12", "yuv422p", "rgb24"}

func (f PixelFormat) String() string { return enumName(pixFmtNames[:], int(f), "PixelFormat") }

// ParsePixelFormat maps a name (as String prints it) to its format.
func ParsePixelFormat(name string) (PixelFormat, error) {
	for k, n := range pixFmtNames {
		if n == name {
			return PixelFormat(k), nil
		}
	}
	return 0, bad("PixFmt", "unknown pixel format %q", name)
}

// VideoFrameSize is the size in bytes of one frame.
func VideoFrameSize(width, height uint32, f PixelFormat) (uint64, error) {
	w, h := uint64(width), uint64(height)
	even := func() error {
		if w%2 != 0 {
			return bad("Width", "%v needs an even width, got %d", f, w)
		}
		return nil
	}
	switch f {
	case PixFmtYUV422P10LE:
		if err := even(); err != nil {
			return 0, err
		}
		return w * h * 4, nil
	case PixFmtV210:
		return (w + 47) / 48 * 128 * h, nil
	case PixFmtYUV422RFC4175:
		if err := even(); err != nil {
			return 0, err
		}
		return w / 2 * 5 * h, nil
	case PixFmtNV12:
		if err := even(); err != nil {
			return 0, err
		}
		if h%2 != 0 {
			return 0, bad("Height", "nv12 needs an even height, got %d", h)
		}
		return w * h * 3 / 2, nil
	case PixFmtYUV422P:
		if err := even(); err != nil {
			return 0, err
		}
		return w * h * 2, nil
	case PixFmtRGB8:
		return w * h * 3, nil
	}
	return 0, bad("PixFmt", "unknown pixel format %d", int(f))
}

// AudioFormat is MCM's mcm_audio_format: bits per sample.
type AudioFormat int

const (
	AudioPCM8 AudioFormat = iota
	AudioPCM16
	AudioPCM24
	AudioAM824
)

// AudioSampling is MCM's mcm_audio_sampling.
type AudioSampling int

const (
	Sampling48K AudioSampling = iota
	Sampling96K
	Sampling44K // 44.1 kHz
)

// AudioPTime is MCM's mcm_audio_ptime.
type AudioPTime int

const (
	PTime1ms AudioPTime = iota
	PTime125us
	PTime250us
	PTime333us
	PTime4ms
	PTime80us
	PTime1_09ms // 44.1 kHz only
	PTime0_14ms // 44.1 kHz only
	PTime0_09ms // 44.1 kHz only
)

// samplesPerPacket: at 48 kHz, then 44.1 kHz (0: not a whole number of
// samples, so not a valid packet time there). 96 kHz doubles 48 kHz.
var samplesPerPacket = map[AudioPTime][2]uint64{
	PTime1ms: {48, 0}, PTime125us: {6, 0}, PTime250us: {12, 0},
	PTime333us: {16, 0}, PTime4ms: {192, 0}, PTime80us: {4, 0},
	PTime1_09ms: {0, 48}, PTime0_14ms: {0, 6}, PTime0_09ms: {0, 4},
}

// AudioPacketSize is bytes per sample x samples per packet time x channels.
func AudioPacketSize(a AudioParam) (uint64, error) {
	if a.Format < AudioPCM8 || a.Format > AudioAM824 {
		return 0, bad("Audio.Format", "unknown audio format %d", a.Format)
	}
	if a.Channels == 0 || a.Channels > 64 {
		return 0, bad("Audio.Channels", "%d, want 1..64", a.Channels)
	}
	spp, ok := samplesPerPacket[a.PTime]
	if !ok {
		return 0, bad("Audio.PTime", "unknown packet time %d", a.PTime)
	}
	var n uint64
	switch a.Sampling {
	case Sampling48K:
		n = spp[0]
	case Sampling96K:
		n = spp[0] * 2
	case Sampling44K:
		n = spp[1]
	default:
		return 0, bad("Audio.Sampling", "unknown sampling rate %d", a.Sampling)
	}
	if n == 0 {
		return 0, bad("Audio.PTime", "packet time %d is not valid at this sampling rate", a.PTime)
	}
	return uint64(a.Format+1) * n * uint64(a.Channels), nil
}

// frameLayout is what one frame occupies: payload capacity, and the size of
// one shared-memory buffer.
type frameLayout struct {
	payload uint32 // bytes the application may fill
	wire    uint32 // payload + trailer
	buffer  uint32 // one descriptor's buffer
	segs    int    // descriptors per frame with our buffers
}

// maxSegs is the longest chain one engine call can carry.
const maxSegs = 256

// maxBuffer16: the largest whole-cache-line buffer a 16-bit size holds.
const maxBuffer16 = 0xFFFF &^ 63

const maxWire = 0xFFFFFFFF &^ 63

// FrameSize is the payload bytes of one frame a Conn with these
// parameters carries (Conn.FrameSize), known before connecting, so an
// application can prepare its frames before the first one is due.
func (p *ConnParam) FrameSize() (int, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	l, err := p.frameLayout()
	return int(l.payload), err
}

func (p *ConnParam) frameLayout() (frameLayout, error) {
	var payload uint64
	var err error
	switch p.Payload {
	case PayloadVideo:
		payload, err = VideoFrameSize(p.Width, p.Height, p.PixFmt)
	case PayloadAudio:
		payload, err = AudioPacketSize(p.Audio)
	default: // ancillary: the buffer size is the whole wire size
		payload = uint64(p.BufferSize)
		if !p.Raw {
			if payload <= trailerSize {
				return frameLayout{}, bad("BufferSize", "%d leaves no room for the %d-byte trailer", payload, trailerSize)
			}
			payload -= trailerSize
		}
	}
	if err != nil {
		return frameLayout{}, err
	}
	wire := payload
	if !p.Raw {
		wire += trailerSize
	}
	if wire > maxWire {
		return frameLayout{}, bad("Width", "a frame of %d bytes is too large", payload)
	}
	buffer := p.BufferSize
	if buffer == 0 {
		buffer = uint32((wire + 63) &^ 63) // whole cache lines
		if buffer > maxBuffer16 && !memif.EngineCapabilities().BufferSize32 {
			buffer = maxBuffer16 // upstream libmemif: frames travel as chains
		}
	}
	if buffer < 64 {
		return frameLayout{}, bad("BufferSize", "%d, at least 64", buffer)
	}
	segs := int((wire + uint64(buffer) - 1) / uint64(buffer))
	if segs < 1 {
		segs = 1
	}
	if segs > 1 && !p.Raw { // a chain takes 15 bytes more, so the trailer is never split
		segs = int((wire + trailerSize - 1 + uint64(buffer) - 1) / uint64(buffer))
	}
	if segs > maxSegs || segs > 1<<p.log2Ring() {
		return frameLayout{}, bad("BufferSize", "%d: a frame needs %d buffers, more than the ring (%d) or a chain (%d) holds",
			buffer, segs, 1<<p.log2Ring(), maxSegs)
	}
	return frameLayout{payload: uint32(payload), wire: uint32(wire), buffer: buffer, segs: segs}, nil
}
