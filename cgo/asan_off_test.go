//go:build !asan

package memif

const asanBuild = false
