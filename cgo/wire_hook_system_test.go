//go:build libmemif_system

package memif

// decodeMessageForTest: the bundled engine's decoder is not linked over
// upstream libmemif; FuzzDecodeMessage skips (capability Hardened) before
// calling it.
func decodeMessageForTest(b []byte) (typ uint16, code int, reenc []byte) {
	panic("memif: the bundled engine's message decoder is not linked")
}
