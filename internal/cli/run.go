package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mcmgo/mcm/mcmdp"
)

// Parse parses args with fs, turning errors into exit code 2 with one line.
func Parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard) // errors are reported by Fail, help by Usage
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(os.Stdout)
		fs.Usage()
		return err
	}
	if err != nil { // the flag package says -name; users type --name
		msg := strings.Replace(err.Error(), " flag -", " flag --", 1)
		return usage("%s", strings.Replace(msg, "defined: -", "defined: --", 1))
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// Fail prints one clear line and returns the exit code for err.
func Fail(tool string, err error, code int) int {
	fmt.Fprintf(os.Stderr, "%s: %v\n", tool, err)
	if jsonOut { // scripts get an object on failure too, as iperf3 -J does
		end := map[int]string{ExitUsage: "usage", ExitNoPeer: "no-peer"}[code]
		if end == "" {
			end = "error"
		}
		b, _ := json.Marshal(map[string]any{"schema": SchemaVersion, "tool": tool,
			"start": startedAt.Format(time.RFC3339Nano), "end": end, "exit_code": code, "error": err.Error()})
		fmt.Fprintf(os.Stdout, "%s\n", b)
	}
	return code
}

// jsonOut: --json was among the arguments, so failures print JSON too,
// even those found before the flags are parsed.
var jsonOut bool

// WantJSON looks for --json in args before they are parsed.
func WantJSON(args []string) {
	for _, a := range args {
		switch a {
		case "--json", "-json", "--json=true", "-json=true":
			jsonOut = true
		case "--":
			return
		}
	}
}

// Connect creates the connection within --connect-timeout and announces
// it on stderr (the line tests and logs wait for), or prints why not and
// returns exit code 3. peer names the other side ("receiver", "sender").
func Connect(ctx context.Context, tool, peer string, c *Common, p *mcmdp.ConnParam) (*mcmdp.Conn, int) {
	cctx, cancel := context.WithTimeout(ctx, c.ConnectTimeout)
	defer cancel()
	conn, err := mcmdp.CreateConnection(cctx, p)
	switch {
	case err == nil:
		fmt.Fprintf(os.Stderr, "%s: connected to %s as %s%s\n", tool, c.Socket, c.Role, describe(conn))
		return conn, ExitOK
	case ctx.Err() != nil:
		return nil, Fail(tool, fmt.Errorf("stopped before a %s appeared", peer), ExitNoPeer)
	case !errors.Is(err, mcmdp.ErrNeverConnected):
		// A local cause (the socket's place, permissions, a master already
		// there): exit 3 is kept for a peer that truly never appeared.
		return nil, Fail(tool, err, ExitError)
	}
	return nil, Fail(tool, fmt.Errorf("no %s at %s within %v: %w", peer, c.Socket, c.ConnectTimeout, err), ExitNoPeer)
}

// ParamOrFail builds the connection parameters, or prints why not and
// returns the exit code (2 for a bad flag).
func (c *Common) ParamOrFail(tool string, typ mcmdp.TransferType) (*mcmdp.ConnParam, int) {
	p, err := c.Param(typ)
	if err == nil {
		return p, ExitOK
	}
	var u *UsageError
	if errors.As(err, &u) {
		return nil, Fail(tool, err, ExitUsage)
	}
	return nil, Fail(tool, err, ExitError)
}

// Report prints the summary (and the failure line, if any) and returns
// the exit code.
func Report(tool string, c *Common, sum *Summary, stdout io.Writer) int {
	sum.Schema, sum.Tool, sum.Role, sum.Socket = SchemaVersion, tool, c.Role, c.Socket
	sum.Start = startedAt.Format(time.RFC3339Nano)
	frame := 0
	if sum.Media != nil {
		frame = sum.Media.FrameBytes
	}
	sum.Media = c.media()
	sum.Media.FrameBytes = frame
	sum.Print(stdout, c.JSON)
	if sum.Error != "" {
		fmt.Fprintf(os.Stderr, "%s: %s\n", tool, sum.Error)
	}
	return sum.ExitCode
}

// Signals returns a context cancelled by SIGINT or SIGTERM; the run then
// ends cleanly and still reports.
func Signals() (context.Context, func()) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

// describe is what the session was set up with, as testpmd shows a port.
func describe(conn *mcmdp.Conn) string {
	d, err := conn.Details()
	if err != nil || !d.Up {
		return ""
	}
	peer := map[bool]string{true: "slave", false: "master"}[d.IsMaster]
	buffers := fmt.Sprintf("buffers %d bytes", d.BufferSize)
	if d.BufferSize == 0 { // a master over upstream libmemif is not told
		buffers = "buffers sized by the slave"
	}
	return fmt.Sprintf(": peer %q of %q (%s), interface id %d, %d queue(s) each way, ring %d, %s, ethernet mode",
		d.PeerName, d.PeerApp, peer, d.InterfaceID, d.Queues, d.RingSize, buffers)
}
