package memif

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/enginesrc"
)

// TestEngineSourceCurrent fails when libmemif/ changed without engine.c
// being regenerated: the build cache could otherwise serve an old engine.
func TestEngineSourceCurrent(t *testing.T) {
	want, err := enginesrc.Render("../libmemif")
	require.NoError(t, err)
	got, err := os.ReadFile("engine.c")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got),
		"cgo/engine.c is out of date with libmemif/: run `make engine`")
}
