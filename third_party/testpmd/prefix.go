package testpmd

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
)

// newFilePrefix returns a unique EAL --file-prefix. EAL keeps per-prefix
// state in a runtime directory and refuses to start a second primary
// process with the same prefix, so parallel or leftover runs must differ.
func newFilePrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "mcmtestpmd_" + hex.EncodeToString(b)
}

// runtimeDir is where EAL keeps that state for prefix: /var/run/dpdk/PREFIX
// for root, else under $XDG_RUNTIME_DIR (or /tmp). testpmd never removes it.
func runtimeDir(prefix string) string {
	base := "/var/run"
	if os.Geteuid() != 0 {
		base = os.Getenv("XDG_RUNTIME_DIR")
		if base == "" {
			base = "/tmp"
		}
	}
	return filepath.Join(base, "dpdk", prefix)
}
