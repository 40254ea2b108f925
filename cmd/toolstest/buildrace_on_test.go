//go:build race

package toolstest

// A -race test run builds race-checked tools.
const toolRace = true
