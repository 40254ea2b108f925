// Package capcheck lets tests above the seam skip a behaviour the linked
// memif engine lacks (upstream libmemif under the libmemif_system tag).
// The seam's own tests keep their copy: they are package memif, which this
// package imports.
package capcheck

import (
	"reflect"
	"testing"

	memif "github.com/mcmgo/mcm/cgo"
)

// Need skips t unless the engine has the capability named by its
// memif.Capabilities field; a name with no such field fails t.
func Need(t testing.TB, name string) {
	t.Helper()
	v := reflect.ValueOf(memif.EngineCapabilities()).FieldByName(name)
	if !v.IsValid() {
		t.Fatalf("no capability %q", name)
	}
	if !v.Bool() {
		t.Skipf("needs capability %s", name)
	}
}
