//go:build !libmemif_system

package memif

/*
#include <stdint.h>
#include <libmemif.h>
#include "wire.h"
*/
import "C"

import "unsafe"

// decodeMessageForTest runs the engine's control-message decoder on b and
// returns the decoded type, mw_decode's result code and, when it decoded,
// the message re-encoded by mw_encode: the fields the decoder read, as
// bytes a test can hold against b. It exists for the fuzz tests, which
// cannot use cgo themselves.
func decodeMessageForTest(b []byte) (typ uint16, code int, reenc []byte) {
	var m C.mw_msg_t
	var p *C.uint8_t
	if len(b) > 0 {
		p = (*C.uint8_t)(unsafe.Pointer(&b[0]))
	}
	rc := C.mw_decode(p, C.size_t(len(b)), &m)
	if rc == 0 {
		var out [C.MW_MSG_SIZE]C.uint8_t
		if C.mw_encode(&m, &out[0]) == 0 {
			reenc = C.GoBytes(unsafe.Pointer(&out[0]), C.MW_MSG_SIZE)
		}
	}
	return uint16(m._type), int(rc), reenc
}
