package mcmdp

import (
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/cgo"
	"github.com/mcmgo/mcm/internal/testsupport"
)

func TestVideoFrameSizes(t *testing.T) {
	cases := []struct {
		f    PixelFormat
		w, h uint32
		want uint64
	}{
		{PixFmtYUV422P10LE, 1920, 1080, 8294400}, // 2 bytes x 2 samples per pixel
		{PixFmtV210, 1920, 1080, 5529600},        // 40 groups of 48 px x 128 B per row
		{PixFmtV210, 1280, 720, 2488320},         // 1280 px pad to 1296: 27 x 128 = 3456 B/row
		{PixFmtYUV422RFC4175, 1920, 1080, 5184000},
		{PixFmtNV12, 1920, 1080, 3110400},
		{PixFmtYUV422P, 1920, 1080, 4147200},
		{PixFmtRGB8, 1920, 1080, 6220800},
		{PixFmtV210, 3840, 2160, 22118400},
	}
	for _, tc := range cases {
		got, err := VideoFrameSize(tc.w, tc.h, tc.f)
		require.NoError(t, err, tc.f)
		assert.Equal(t, tc.want, got, "%v %dx%d", tc.f, tc.w, tc.h)
	}
	// Formats that pair pixels (4:2:2, 4:2:0) name the odd dimension.
	for _, tc := range []struct {
		f     PixelFormat
		w, h  uint32
		field string
	}{
		{PixFmtNV12, 1921, 1080, "Width"}, {PixFmtNV12, 1920, 1081, "Height"},
		{PixFmtYUV422P10LE, 1921, 1080, "Width"}, {PixFmtYUV422RFC4175, 1921, 1080, "Width"},
		{PixFmtYUV422P, 1921, 1080, "Width"},
	} {
		_, err := VideoFrameSize(tc.w, tc.h, tc.f)
		var pe *ParamError
		require.ErrorAs(t, err, &pe, "%v %dx%d", tc.f, tc.w, tc.h)
		assert.Equal(t, tc.field, pe.Field, err.Error())
		assert.Contains(t, err.Error(), "needs an even "+strings.ToLower(tc.field))
	}
	for _, f := range []PixelFormat{PixFmtV210, PixFmtRGB8} {
		_, err := VideoFrameSize(1921, 1081, f)
		assert.NoError(t, err, "%v takes any size", f)
	}
}

func TestAudioPacketSizes(t *testing.T) {
	cases := []struct {
		a    AudioParam
		want uint64
	}{
		{AudioParam{AudioPCM24, Sampling48K, PTime1ms, 2}, 3 * 48 * 2},
		{AudioParam{AudioPCM16, Sampling96K, PTime125us, 8}, 2 * 12 * 8},
		{AudioParam{AudioAM824, Sampling48K, PTime4ms, 16}, 4 * 192 * 16},
		{AudioParam{AudioPCM8, Sampling44K, PTime1_09ms, 1}, 48},
		{AudioParam{AudioPCM24, Sampling48K, PTime333us, 2}, 3 * 16 * 2},
	}
	for _, tc := range cases {
		got, err := AudioPacketSize(tc.a)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, "%+v", tc.a)
	}
}

func TestBufferSizeFromMedia(t *testing.T) {
	p := videoParam("/tmp/x.sock", Tx)
	p.Width, p.Height = 1920, 1080
	l, err := p.frameLayout()
	require.NoError(t, err)
	assert.Equal(t, uint32(8294400), l.payload)
	assert.Equal(t, uint32(8294400+16), l.wire)
	if !memif.EngineCapabilities().BufferSize32 {
		// upstream libmemif: chains of the largest whole-cache-line buffer
		assert.Equal(t, uint32(65472), l.buffer)
		assert.Equal(t, 127, l.segs)
		assert.Equal(t, uint8(10), p.log2Ring(), "8 frames in flight")
		return
	}
	assert.Equal(t, uint32(8294464), l.buffer, "rounded up to a cache line")
	p.Raw = true
	l, _ = p.frameLayout()
	assert.Equal(t, uint32(8294400), l.buffer)
}

func TestInvalidParamsNameTheField(t *testing.T) {
	cases := []struct {
		field string
		edit  func(p *ConnParam)
	}{
		{"Type", func(p *ConnParam) { p.Type = 7 }},
		{"Protocol", func(p *ConnParam) { p.Protocol = 2 }}, // MCM's UDP: not served here
		{"Protocol", func(p *ConnParam) { p.Protocol = -1 }},
		{"Memif.SocketPath", func(p *ConnParam) { p.Memif.SocketPath = "" }},
		{"Memif.SocketPath", func(p *ConnParam) { p.Memif.SocketPath = "/" + strings.Repeat("x", 107) }},
		{"Memif.Secret", func(p *ConnParam) { p.Memif.Secret = strings.Repeat("s", 25) }},
		{"Memif.Name", func(p *ConnParam) { p.Memif.Name = strings.Repeat("n", 33) }},
		{"Width", func(p *ConnParam) { p.Width = 0 }},
		{"Width", func(p *ConnParam) { p.Width = 100000 }},
		{"Height", func(p *ConnParam) { p.Height = 0 }},
		{"FPS", func(p *ConnParam) { p.FPS = math.NaN() }},
		{"FPS", func(p *ConnParam) { p.FPS = 1001 }},
		{"FPS", func(p *ConnParam) { p.FPS = -1 }},
		{"PixFmt", func(p *ConnParam) { p.PixFmt = 99 }},
		{"Log2RingSize", func(p *ConnParam) { p.Log2RingSize = 15 }},
		{"Queues", func(p *ConnParam) { p.Queues = 9 }},
		{"DrainTimeout", func(p *ConnParam) { p.DrainTimeout = -1 }},
		{"HandshakeTimeout", func(p *ConnParam) { p.HandshakeTimeout = -time.Second }},
		{"Payload", func(p *ConnParam) { p.Payload = 9 }},
		{"Audio.PTime", func(p *ConnParam) {
			p.Payload, p.Audio = PayloadAudio, AudioParam{AudioPCM16, Sampling44K, PTime1ms, 2}
		}},
		{"Audio.PTime", func(p *ConnParam) {
			p.Payload, p.Audio = PayloadAudio, AudioParam{AudioPCM16, Sampling48K, 42, 2}
		}},
		{"Audio.Channels", func(p *ConnParam) {
			p.Payload, p.Audio = PayloadAudio, AudioParam{AudioPCM16, Sampling48K, PTime1ms, 0}
		}},
		{"Audio.Format", func(p *ConnParam) {
			p.Payload, p.Audio = PayloadAudio, AudioParam{9, Sampling48K, PTime1ms, 2}
		}},
		{"Audio.Sampling", func(p *ConnParam) {
			p.Payload, p.Audio = PayloadAudio, AudioParam{AudioPCM8, 7, PTime1ms, 2}
		}},
		{"BufferSize", func(p *ConnParam) { p.Payload = PayloadAncillary }},
		{"BufferSize", func(p *ConnParam) { p.BufferSize = 10 }},
		{"BufferSize", func(p *ConnParam) { p.Payload, p.BufferSize = PayloadAncillary, 16 }}, // no room for the trailer
		// 8 buffers of 1027 bytes hold the 8,208-byte frame, but not the
		// 15 bytes a chain adds so its trailer is never split.
		{"BufferSize", func(p *ConnParam) { p.BufferSize, p.Log2RingSize = 1027, 3 }},
	}
	for _, tc := range cases {
		p := videoParam(testsupport.SockPath(t), Tx)
		tc.edit(p)
		_, err := CreateConnection(t.Context(), p)
		var pe *ParamError
		require.True(t, errors.As(err, &pe), "%s: got %v", tc.field, err)
		assert.Equal(t, tc.field, pe.Field, err.Error())
		_, statErr := osStat(p.Memif.SocketPath)
		assert.Error(t, statErr, "no socket touched for a bad %s", tc.field)
	}
	_, err := CreateConnection(t.Context(), nil)
	assert.Error(t, err)
}

// The zero values that MCM's C structs leave are usable: Protocol auto
// means memif here, and FPS is optional.
func TestZeroProtocolAndFPSAreValid(t *testing.T) {
	p := videoParam("/tmp/x.sock", Rx)
	p.Protocol, p.FPS = ProtoAuto, 0
	assert.NoError(t, p.Validate())
}

func TestEnumsPrintTheirNames(t *testing.T) {
	assert.Equal(t, "Tx", Tx.String())
	assert.Equal(t, "ancillary", PayloadAncillary.String())
	assert.Equal(t, "pcm24", AudioPCM24.String())
	assert.Equal(t, "44.1kHz", Sampling44K.String())
	assert.Equal(t, "1.09ms", PTime1_09ms.String())
	assert.Equal(t, "auto", ProtoAuto.String())
	assert.Equal(t, "nv12", PixFmtNV12.String())
	assert.Equal(t, "PayloadType(9)", PayloadType(9).String())
	assert.Equal(t, "Protocol(2)", Protocol(2).String())
}

// A missing socket directory is named at once, in either role, instead of a
// master failing to bind or a slave retrying "socket file does not exist".
func TestMissingSocketDirectoryIsNamed(t *testing.T) {
	for _, typ := range []TransferType{Tx, Rx} {
		p := videoParam("/nonexistent-mcm-dir/cam0.sock", typ)
		_, err := CreateConnection(context.Background(), p)
		assert.ErrorIs(t, err, os.ErrNotExist)
		assert.ErrorContains(t, err, "socket directory /nonexistent-mcm-dir")
	}
}

func TestDetailsOfASession(t *testing.T) {
	txp, rxp := pairParams(t)
	txp.Memif.Name = "camera-7"
	tx, rx := connect(t, txp, rxp)
	d, err := rx.Details()
	require.NoError(t, err)
	assert.True(t, d.Up)
	assert.False(t, d.IsMaster)
	assert.Equal(t, "camera-7", d.PeerName)
	assert.Equal(t, "mcmdp", d.PeerApp)
	assert.Equal(t, 1, d.Queues)
	assert.Equal(t, 1<<rxp.log2Ring(), d.RingSize) // 8, or 1,024 for chains over upstream
	assert.GreaterOrEqual(t, d.BufferSize, tx.FrameSize())
}

// FrameSize from the parameters is what the connected Conn reports.
func TestParamFrameSize(t *testing.T) {
	txp, rxp := pairParams(t)
	want, err := txp.FrameSize()
	require.NoError(t, err)
	tx, rx := connect(t, txp, rxp)
	assert.Equal(t, tx.FrameSize(), want)
	assert.Equal(t, rx.FrameSize(), want)

	bad := *txp
	bad.Width = 0
	_, err = bad.FrameSize()
	var pe *ParamError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "Width", pe.Field)
}
