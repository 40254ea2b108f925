// Package memif is the thin seam between Go and the memif engine: the only Go
// package that imports "C". It lives in the folder cgo (import path
// github.com/mcmgo/mcm/cgo) but is named for what it wraps, so importers
// need no alias and runtime/cgo, which it uses, is not shadowed.
//
// By default it compiles the engine in ../libmemif (our own memif 2.0
// implementation) with no pre-build step. With the build tag libmemif_system
// it links an upstream libmemif 4.x instead (see the Makefile's
// build-system target for the pkg-config / -lmemif flags); the Go API is the
// same, and the few things that need our engine's extensions degrade as
// their doc comments say.
//
// A Socket runs one event goroutine, locked to its OS thread, that handles
// the control channel. Every call into the engine, from that goroutine or
// from data-path methods, holds the socket's mutex, so the engine is never
// entered concurrently and a disconnect is never processed while a data-path
// call is reading the rings.
//
// Sessions are named by the engine's connect count (Session). Data-path
// calls take the session they are for and are refused (ErrNoConn) in any
// other, so a caller's per-session state never meets a later session's
// rings.
//
// Zero-copy contract: Buffer.Data points into shared memory. It is valid
// until the buffer is returned (Tx for transmit buffers, Refill for received
// ones) or the Interface is closed. If the peer disconnects while buffers are
// held, the bundled engine swaps the pages under exactly those buffers for
// private zero pages (reserving no swap) and unmaps the rest of the
// session's memory, so a late access reads zeros or writes to a private page
// instead of faulting. The placeholders stay until ReleaseStale is called for
// that session, which the caller does once it holds none of its buffers, or
// until Close. With libmemif_system the memory is unmapped at the disconnect
// and must not be touched after it.
package memif
