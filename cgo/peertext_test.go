package memif

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPeerText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"interface deleted", "interface deleted"},
		{"end of stream: 600 frames", "end of stream: 600 frames"},
		{"caméra 1", "caméra 1"},
		{"\x1b[2J\nmcm-recv: all good", `\x1b[2J\x0amcm-recv: all good`},
		{"a\rb\tc\x00d", `a\x0db\x09c\x00d`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"bidi \u202e override", `bidi \u202e override`},
		{"", ""},
	} {
		assert.Equal(t, tc.want, peerText(tc.in), "%q", tc.in)
	}
}

func FuzzPeerText(f *testing.F) {
	f.Add("\x1b[31mred\n")
	f.Fuzz(func(t *testing.T, s string) {
		out := peerText(s)
		for _, r := range out {
			if r < 0x20 || r == 0x7f || r == 0x1b {
				t.Fatalf("%q kept control character %q", s, r)
			}
		}
		assert.Equal(t, out, peerText(out), "sanitising is idempotent")
	})
}
