package cli

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's table of the summary's JSON fields names every field the
// tools print, and no other.
func TestReadmeDocumentsEveryJSONField(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, row, ok := strings.Cut(string(readme), "| summary (last line) |")
	require.True(t, ok, "the README has the summary row")
	row, _, _ = strings.Cut(row, "\n")
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`([a-z0-9_]+)`").FindAllStringSubmatch(row, -1) {
		documented[m[1]] = true
	}
	for _, typ := range []reflect.Type{reflect.TypeOf(Summary{}), reflect.TypeOf(Media{}), reflect.TypeOf(LatencySummary{})} {
		for i := 0; i < typ.NumField(); i++ {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			assert.True(t, documented[name], "the README documents %s.%s (%q)", typ.Name(), typ.Field(i).Name, name)
			delete(documented, name)
		}
	}
	for _, word := range []string{"audio", "format/sampling/ptime/channels"} {
		delete(documented, word)
	}
	assert.Empty(t, documented, "documented but never printed")
}
