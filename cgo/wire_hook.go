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
// returns the decoded type and mw_decode's result code. It exists for the
// fuzz tests, which cannot use cgo themselves.
func decodeMessageForTest(b []byte) (typ uint16, code int) {
	var m C.mw_msg_t
	var p *C.uint8_t
	if len(b) > 0 {
		p = (*C.uint8_t)(unsafe.Pointer(&b[0]))
	}
	rc := C.mw_decode(p, C.size_t(len(b)), &m)
	return uint16(m._type), int(rc)
}
