package mcmdp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/memifpeer"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// A peer's DISCONNECT reason is read as an end of stream or a media
// mismatch only when it is exactly what an mcmdp peer sends; anything
// else, however close, is the peer's own words (a *PeerClosed), and no
// count or media is taken from it.
func TestPeerReasonsAreReadStrictly(t *testing.T) {
	for _, tc := range []struct {
		reason string
		want   error // nil: a *PeerClosed with the reason
	}{
		{"end of stream: 5 frames", &EndOfStream{Sent: 5}},
		{"end of stream: many", nil},
		{"end of stream: -3 frames", nil},
		{"end of stream: 99999999999999999999 frames", nil},
		{"media mismatch: mcm1 v0x0 nope", nil},
		{"media mismatch: mcm1 a pcm16 48k 1ms twoch", nil},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			path := testsupport.SockPath(t)
			l, err := memifpeer.Listen(path)
			require.NoError(t, err)
			defer l.Close()
			awaitRx := createAsync(t, videoParam(path, Rx))
			m, err := l.Accept(waitTimeout)
			require.NoError(t, err)
			rx := awaitRx()
			require.NoError(t, m.Send(memifpeer.Disconnect(0, tc.reason)))
			m.Close()

			_, err = rx.DequeueBuffer(waitTimeout)
			require.ErrorIs(t, err, ErrDisconnected)
			if tc.want != nil {
				assert.Equal(t, tc.want, err)
			} else {
				assert.Equal(t, &PeerClosed{Reason: tc.reason}, err)
				assert.EqualError(t, err, "mcmdp: peer closed the connection: "+tc.reason)
				assert.NotErrorIs(t, err, ErrEndOfStream)
			}
			assert.NotErrorIs(t, err, ErrMediaMismatch)
			assert.Zero(t, rx.Stats().MediaMismatches)
		})
	}
}
