//go:build !libmemif_system

package cgo

/*
#include <stdint.h>
#include <libmemif.h>
int seam_set_error_callback(memif_socket_handle_t s);
*/
import "C"

import "unsafe"

// The bundled engine's extensions: 32-bit buffer sizes, descriptor
// metadata, and refusal reasons reported on both sides.

// bundledEngine: the extensions of our own engine are there.
const bundledEngine = true

const hasBufferSize32 = true

func setBufferSize(a *C.memif_conn_args_t, n uint32) { a.buffer_size32 = C.uint32_t(n) }

func bufferAlloc(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, n C.uint16_t, out *C.uint16_t, size uint32) C.int {
	return C.memif_buffer_alloc32(c, qid, b, n, out, C.uint32_t(size))
}

func bufferAllocPacket(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, n C.uint16_t, out *C.uint16_t, size uint32, _ uint32) C.int {
	return C.memif_buffer_alloc_packet32(c, qid, b, n, out, C.uint32_t(size))
}

func getQueue(b *C.memif_buffer_t) unsafe.Pointer { return b.queue }

func setQueue(b *C.memif_buffer_t, q unsafe.Pointer) { b.queue = q }

func getMetadata(b *C.memif_buffer_t) uint32 { return uint32(b.metadata) }

func setMetadata(b *C.memif_buffer_t, m uint32) { b.metadata = C.uint32_t(m) }

func enableErrorCallback(s C.memif_socket_handle_t) { C.seam_set_error_callback(s) }
