// Command mcm-recv receives frames over memif with the MCM data-plane API,
// checks them, optionally writes them to a file, and prints a summary with
// one-way latency. See --help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mcmgo/mcm/internal/cli"
	"github.com/mcmgo/mcm/mcmdp"
)

const tool = "mcm-recv"

const help = `Usage: mcm-recv [flags]

Receives video frames (or audio / ancillary packets) over memif shared
memory. By default it is the memif slave on the default socket, expects
1080p yuv422p10le frames with mcm-send's test pattern, checks every byte,
and ends when the sender ends its stream.

Examples:
  mcm-recv                                       # then run mcm-send elsewhere
  mcm-recv --raw --check none --frames 10000 --payload anc --buffer-size 2048 --socket /tmp/pmd.sock

The default socket is $MCM_RUN_DIR/mcm.sock; MCM_RUN_DIR defaults to
$XDG_RUNTIME_DIR/mcm, else /run/mcm for root, else /tmp/mcm-<uid>. To let
peers under other user ids connect, make that directory group-owned and
setgid (chmod 2770) and run with umask 0007.

Exit codes: 0 done, 2 bad flag, 3 no sender within --connect-timeout,
4 integrity errors, 5 sender lost (unless --keep-going), 1 other errors.

Flags:
`

func main() { os.Exit(run(os.Args[1:], os.Stdout)) }

type recvFlags struct {
	cli.Common
	output string
	check  string
}

func run(args []string, stdout io.Writer) int {
	var f recvFlags
	fs := flag.NewFlagSet(tool, flag.ContinueOnError)
	f.Register(fs, "slave")
	f.RegisterReceiver(fs)
	version := fs.Bool("version", false, "print the version and exit")
	fs.StringVar(&f.output, "output", "", "write the received frames to this file, byte-exact")
	fs.StringVar(&f.check, "check", "auto", "integrity check: pattern (mcm-send's test pattern), none, or auto (pattern unless --raw)")
	fs.Usage = func() { fmt.Fprint(fs.Output(), help); cli.PrintFlags(fs) }
	cli.WantJSON(args)
	if err := cli.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cli.ExitOK
		}
		return cli.Fail(tool, err, cli.ExitUsage)
	}
	if *version {
		fmt.Fprintln(stdout, tool, cli.Version())
		return cli.ExitOK
	}
	auto := f.check == "auto"
	switch f.check {
	case "auto":
		f.check = map[bool]string{true: "none", false: "pattern"}[f.Raw]
	case "pattern", "none":
	default:
		return cli.Fail(tool, fmt.Errorf("--check %q: want pattern, none or auto", f.check), cli.ExitUsage)
	}
	p, code := f.ParamOrFail(tool, mcmdp.Rx)
	if p == nil {
		return code
	}
	out, err := cli.OpenOutput(f.output, stdout)
	if err != nil {
		return cli.Fail(tool, err, cli.ExitUsage)
	}
	defer out.Close()
	if out.IsStdout() {
		stdout = os.Stderr // the frames own stdout: the summary goes beside the log
	}

	r := &receiver{stdout: stdout, f: &f, out: out, lat: cli.NewLatency(), crc: cli.NewChecksum(f.CRC)}
	if f.check == "pattern" {
		// Before the connect: the sender's first frame may come at once.
		size, err := p.FrameSize()
		if err != nil {
			return cli.Fail(tool, err, cli.ExitUsage)
		}
		r.pattern = cli.NewPattern(size)
	}

	ctx, stop := cli.Signals()
	defer stop()
	conn, code := cli.Connect(ctx, tool, "sender", &f.Common, p)
	if conn == nil {
		return code // an existing --output file was not touched
	}
	r.conn = conn
	r.auto = auto
	return cli.Report(tool, &f.Common, r.loop(ctx), stdout)
}

type receiver struct {
	stdout  io.Writer // summary and --interval lines
	f       *recvFlags
	conn    *mcmdp.Conn
	out     *cli.Output
	pattern *cli.Pattern
	auto    bool // --check auto: a plain peer's frames carry no pattern to check
	decided bool // auto: the first frame said whether it is the pattern
	content bool // auto: the sender sends real content, not the pattern
	lat     *cli.Latency
	crc     *cli.Checksum
	bad     uint64
}

func (r *receiver) loop(ctx context.Context) *cli.Summary {
	l := cli.NewLoop(ctx, r.conn, &r.f.Common, mcmdp.Rx, r.stdout)
	for !l.Out.Over() {
		bufs := l.Next(nil)
		bad := r.take(bufs)
		if l.Done(bufs) {
			r.bad -= bad // the session's memory went away under the check
		}
	}
	st, elapsed := l.End(tool)
	if r.bad > 0 {
		l.Out.Fault(cli.ExitIntegrity, fmt.Sprintf("%d frames differ from what was sent", r.bad))
	}
	if err := r.out.Flush(); err != nil {
		l.Out.Fault(cli.ExitError, "writing "+r.f.output+": "+err.Error())
	}
	sum := &cli.Summary{Frames: l.Frames, Bytes: st.BytesRx, LatencyUS: r.lat.Summary(),
		SeqGaps: st.SeqGaps, IntegrityErrors: r.bad, Reconnects: st.Reconnects, PeerFaults: st.PeerFaults,
		PlainFrames: st.PlainFrames, Check: r.checkDone(),
		Media: &cli.Media{FrameBytes: r.conn.FrameSize()}, CRC32C: r.crc.String()}
	l.Out.Fill(sum)
	sum.Finish(elapsed)
	return sum
}

// take checks, measures and stores the frames of bufs, and returns how
// many failed the pattern check.
func (r *receiver) take(bufs []*mcmdp.Buffer) (bad uint64) {
	if len(bufs) == 0 {
		return 0
	}
	var now int64 // read once, and only for frames that carry a timestamp
	for _, buf := range bufs {
		if buf.Timestamp != 0 {
			if now == 0 {
				now = time.Now().UnixNano()
			}
			r.lat.Add(time.Duration(now - buf.Timestamp))
		}
		if r.auto && r.pattern != nil && buf.Framed && !r.decided {
			// The first frame tells: mcm-send's pattern, or real content
			// (mcm-send --input), which only the sender's CRC can vouch for.
			r.decided = true
			if !cli.IsPattern(buf.Data) {
				r.pattern, r.content = nil, true
			}
		}
		if r.pattern != nil && !(r.auto && !buf.Framed) && !r.pattern.Check(buf.Data, buf.SeqNum) {
			bad++
		}
		r.crc.Add(buf.Data)
		r.out.Write(buf.Data)
	}
	r.bad += bad
	return bad
}

// checkDone says which integrity check the frames got: "pattern", or
// "none" (asked, or real content: compare the two sides' --crc).
func (r *receiver) checkDone() string {
	switch {
	case r.content:
		return "none (the sender sends content, not the test pattern: compare --crc)"
	case r.pattern != nil:
		return "pattern"
	}
	return "none"
}
