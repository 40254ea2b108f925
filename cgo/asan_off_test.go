//go:build !asan

package cgo

const asanBuild = false
