//go:build !race

package toolstest

const toolRace = false
