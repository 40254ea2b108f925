//go:build libmemif_system

package toolstest

// The tools are built as this test binary was: over an installed libmemif
// (CGO_CFLAGS/CGO_LDFLAGS come through the environment).
const toolTags = "libmemif_system"
