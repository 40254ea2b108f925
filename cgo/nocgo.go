//go:build !cgo

package memif

// The memif engine is C code compiled by cgo. Build with CGO_ENABLED=1 and a
// C compiler (gcc) on PATH.
var _ = this_package_needs_cgo__build_with_CGO_ENABLED_1_and_gcc_installed

const hasBufferSize32 = false // keeps the message above the only error
