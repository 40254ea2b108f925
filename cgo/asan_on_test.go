//go:build asan

package memif

// asanBuild: under -asan the compiler moves the waits' poll arrays to the
// heap, so allocation counts are checked by the plain and -race runs only.
const asanBuild = true
