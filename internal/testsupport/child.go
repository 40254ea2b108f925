package testsupport

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A test binary doubles as a helper process: the parent starts it again
// with StartChild and an environment naming the role; the binary's
// TestMain sees that environment and runs the role instead of the tests.
// The child calls Ready once it serves (its socket exists), which the
// parent waits for, and it exits when its stdin closes: when the parent
// calls Stop, or dies.

const readyLine = "READY\n"

// Child is a helper process started by a test.
type Child struct {
	Cmd   *exec.Cmd
	stdin *os.File
}

// StartChild starts the test binary, running no test, with env (KEY=VALUE)
// added to this process's environment, and returns once it called Ready.
// The test's cleanup stops it.
func StartChild(t testing.TB, env ...string) *Child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stdin = r
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		require.NoError(t, err)
	}
	c := &Child{Cmd: cmd, stdin: w}
	t.Cleanup(c.Stop)
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "the child's first line")
	require.Equal(t, readyLine, line, "the child's first line")
	return c
}

// Kill ends the child with SIGKILL, as a crash would: no DISCONNECT, no
// cleanup; it returns once the child is gone.
func (c *Child) Kill() {
	c.Cmd.Process.Kill()
	c.Cmd.Wait()
}

// Stop closes the child's stdin, which ends it, and kills it if it has not
// exited within 5 s. It may be called more than once.
func (c *Child) Stop() {
	c.stdin.Close()
	done := make(chan struct{})
	go func() { c.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		c.Kill()
		<-done
	}
}

// Ready, in the child, tells the parent it serves, and arranges for the
// child to exit when the parent closes its stdin.
func Ready() {
	fmt.Print(readyLine)
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
}

// RunTestAlone runs test name (the test calling it) again in a child
// process with env set, and returns its combined output: for a test whose
// failure mode would take the whole binary down (SIGBUS) or that changes
// process-wide state (rlimits). In the child, InChild(env) is true.
func RunTestAlone(t testing.TB, env string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^" + t.Name() + "$", "-test.count=1"}, args...)...)
	cmd.Env = append(os.Environ(), env+"=1")
	return cmd.CombinedOutput()
}

// InChild reports whether this process is the child RunTestAlone started
// with env.
func InChild(env string) bool { return os.Getenv(env) != "" }
