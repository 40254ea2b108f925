package testsupport

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// ShortDir is a fresh directory under the system temp dir, removed when the
// test ends. t.TempDir() paths carry the test's name and can be too long
// for a socket: sun_path holds 107 bytes.
func ShortDir(t testing.TB) string {
	dir, err := os.MkdirTemp("", "mcm")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// SockPath is a socket path no one uses, in its own ShortDir.
func SockPath(t testing.TB) string {
	return filepath.Join(ShortDir(t), "s.sock")
}
