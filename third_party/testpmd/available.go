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
