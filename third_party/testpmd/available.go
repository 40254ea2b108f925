package testpmd

import (
	"errors"
	"os"
	"os/exec"
)

// EnvPath names an environment variable that overrides where dpdk-testpmd is.
const EnvPath = "DPDK_TESTPMD"

// Available returns the path of dpdk-testpmd, or an error that says how to
// install it.
func Available() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", errors.New("testpmd: " + EnvPath + "=" + p + ": " + err.Error())
		}
		return p, nil
	}
	if p, err := exec.LookPath("dpdk-testpmd"); err == nil {
		return p, nil
	}
	return "", errors.New("testpmd: dpdk-testpmd not found in PATH; install it with " +
		"`apt-get install dpdk-dev librte-net-memif23` (Debian 12, DPDK 22.11) " +
		"or set " + EnvPath + " to its path")
}

// Skipper is what Require needs of a *testing.T (kept to an interface so
// this driver does not import package testing).
type Skipper interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// Require skips the test without dpdk-testpmd, except under CI=true, where
// a missing peer is a failure.
func Require(t Skipper) {
	t.Helper()
	if _, err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and no DPDK peer: %v", err)
		}
		t.Skipf("no DPDK peer: %v", err)
	}
}
