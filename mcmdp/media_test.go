package mcmdp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
)

// Every descriptor fits memif's 32-byte name with room for a NUL, and
// reads back as what it describes.
func TestMediaDescriptorsFit(t *testing.T) {
	var all []media
	for f := range pixFmtNames {
		all = append(all, media{payload: PayloadVideo, width: 16384, height: 16384, pixFmt: PixelFormat(f)},
			media{payload: PayloadVideo, width: 2, height: 2, pixFmt: PixelFormat(f)})
	}
	for f := range wireAudioFmt {
		for s := range wireSampling {
			for pt := range wirePTime {
				for _, ch := range []uint16{1, 2, 64} {
					a := AudioParam{AudioFormat(f), AudioSampling(s), AudioPTime(pt), ch}
					if _, err := AudioPacketSize(a); err == nil {
						all = append(all, media{payload: PayloadAudio, audio: a})
					}
				}
			}
		}
	}
	all = append(all, media{payload: PayloadAncillary})
	for _, m := range all {
		d := m.descriptor()
		assert.LessOrEqual(t, len(d), 31, "%q", d)
		got, ok := parseMedia(d)
		assert.True(t, ok, "%q", d)
		assert.Equal(t, m, got, "%q", d)
	}
	for _, name := range []string{"", "mcm-send", "mcm1 ", "mcm1 v1920x1080", "mcm1 v1920x1080 yuv9",
		"mcm1 v01920x1080 yuv422p10le", "mcm1 v1921x1080 yuv422p10le", "mcm1  v1920x1080 yuv422p10le",
		"mcm1 a pcm16 44.1k 1ms 2ch", "mcm1 a pcm16 48k 1ms 0ch", "mcm1 anc x",
		"mcm1 vAx2 nv12", "mcm1 a pcm16 48k 1ms twoch", "mcm1 a pcm99 48k 1ms 2ch"} {
		_, ok := parseMedia(name)
		assert.False(t, ok, "%q", name)
	}
}

// createBoth runs CreateConnection for both sides at once.
func createBoth(txp, rxp *ConnParam, timeout time.Duration) (tx, rx *Conn, txErr, rxErr error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan struct{})
	go func() {
		rx, rxErr = CreateConnection(ctx, rxp)
		close(done)
	}()
	tx, txErr = CreateConnection(ctx, txp)
	<-done
	return
}

// mismatchBoth creates both sides at once, each of which must fail with
// ErrMediaMismatch.
func mismatchBoth(t *testing.T, txp, rxp *ConnParam) (txErr, rxErr error) {
	t.Helper()
	tx, rx, txErr, rxErr := createBoth(txp, rxp, waitTimeout)
	for _, c := range []*Conn{tx, rx} {
		if c != nil {
			c.Close()
		}
	}
	require.ErrorIs(t, rxErr, ErrMediaMismatch)
	require.ErrorIs(t, txErr, ErrMediaMismatch)
	return txErr, rxErr
}

// A 64x32 sender and a 32x32 receiver: both CreateConnection calls fail at
// connect, each naming both sides' media.
func TestMediaMismatchAtConnect(t *testing.T) {
	path := testsupport.SockPath(t)
	txp, rxp := videoParam(path, Tx), videoParam(path, Rx)
	rxp.Width = 32
	txErr, rxErr := mismatchBoth(t, txp, rxp)
	assert.EqualError(t, rxErr, "mcmdp: media mismatch: peer sends 64x32 yuv422p10le (8192 bytes a frame); "+
		"this receiver expects 32x32 yuv422p10le (4096 bytes a frame)")
	assert.EqualError(t, txErr, "mcmdp: media mismatch: peer receives 32x32 yuv422p10le (4096 bytes a frame); "+
		"this sender sends 64x32 yuv422p10le (8192 bytes a frame)")
}

// Audio and ancillary media are named as such in a mismatch.
func TestMediaMismatchOfAudioAndAncillary(t *testing.T) {
	path := testsupport.SockPath(t)
	txp, rxp := videoParam(path, Tx), videoParam(path, Rx)
	txp.Payload, txp.Audio = PayloadAudio, AudioParam{AudioPCM24, Sampling48K, PTime1ms, 2}
	rxp.Payload, rxp.BufferSize = PayloadAncillary, 304
	txErr, rxErr := mismatchBoth(t, txp, rxp)
	assert.EqualError(t, rxErr, "mcmdp: media mismatch: peer sends pcm24 48kHz 1ms 2ch audio (288 bytes a packet); this receiver expects ancillary data")
	assert.EqualError(t, txErr, "mcmdp: media mismatch: peer receives ancillary data; this sender sends pcm24 48kHz 1ms 2ch audio (288 bytes a packet)")
}

// A receiver already running meets a new sender with other media: its
// dequeue reports the end of the first, then the mismatch, once each.
func TestMediaMismatchAfterReconnect(t *testing.T) {
	path := testsupport.SockPath(t)
	tx, rx := connect(t, videoParam(path, Tx), videoParam(path, Rx))
	sendFrame(t, tx, 1, tx.FrameSize())
	require.NoError(t, rx.EnqueueBuffer(recvFrame(t, rx)))
	require.NoError(t, tx.Close())
	_, err := rx.DequeueBuffer(waitTimeout)
	require.ErrorIs(t, err, ErrEndOfStream)

	txp := videoParam(path, Tx)
	txp.PixFmt = PixFmtNV12
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	_, err = CreateConnection(ctx, txp)
	require.ErrorIs(t, err, ErrMediaMismatch)
	_, err = rx.DequeueBuffer(waitTimeout)
	require.ErrorIs(t, err, ErrMediaMismatch)
	assert.ErrorIs(t, err, ErrDisconnected)
	assert.Contains(t, err.Error(), "peer sends 64x32 nv12 (3072 bytes a frame)")
	_, err = rx.DequeueBuffer(20 * time.Millisecond)
	assert.ErrorIs(t, err, ErrTimeout, "reported once")
	assert.Equal(t, uint64(1), rx.Stats().MediaMismatches)
}

// A user's Name turns the check off: the two sides connect as before.
func TestMediaNamedPeerNotChecked(t *testing.T) {
	path := testsupport.SockPath(t)
	txp, rxp := videoParam(path, Tx), videoParam(path, Rx)
	txp.Memif.Name = "camera-7"
	rxp.Width = 32
	tx, rx := connect(t, txp, rxp)
	d, err := tx.Details()
	require.NoError(t, err)
	assert.Equal(t, "mcm1 v32x32 yuv422p10le", d.PeerName)
	assert.Equal(t, uint64(0), tx.Stats().MediaMismatches+rx.Stats().MediaMismatches)
}
