// Command mcm-send sends frames over memif with the MCM data-plane API: a
// cheap test pattern or a raw file, paced at --fps, with a summary at the
// end. See --help.
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

const tool = "mcm-send"

const help = `Usage: mcm-send [flags]

Sends video frames (or audio / ancillary packets) over memif shared memory.
By default it is the memif master, sends a 1080p yuv422p10le test pattern at
60 fps to the default socket, and runs until stopped.

Examples:
  mcm-send --frames 600                        # 10 s of 1080p60 to mcm-recv
  mcm-send --input clip.yuv --loop --fps 30 --width 1280 --height 720 --pix-fmt nv12

The default socket is $MCM_RUN_DIR/mcm.sock; MCM_RUN_DIR defaults to
$XDG_RUNTIME_DIR/mcm, else /run/mcm for root, else /tmp/mcm-<uid>. To let
peers under other user ids connect, make that directory group-owned and
setgid (chmod 2770) and run with umask 0007.

Exit codes: 0 done, 2 bad flag, 3 no receiver within --connect-timeout,
5 receiver lost (unless --keep-going), 1 other errors.

Flags:
`

func main() { os.Exit(run(os.Args[1:], os.Stdout)) }

type sendFlags struct {
	cli.Common
	input   string
	loop    bool
	corrupt int64
}

func run(args []string, stdout io.Writer) int {
	var f sendFlags
	fs := flag.NewFlagSet(tool, flag.ContinueOnError)
	f.Register(fs, "master")
	f.RegisterSender(fs)
	version := fs.Bool("version", false, "print the version and exit")
	fs.StringVar(&f.input, "input", "", "send frames from this raw file instead of the test pattern")
	fs.BoolVar(&f.loop, "loop", false, "with --input, start over at the end of the file")
	fs.Int64Var(&f.corrupt, "corrupt", -1, cli.Hidden+"testing aid: flip one byte of frame N after filling it")
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
	p, code := f.ParamOrFail(tool, mcmdp.Tx)
	if p == nil {
		return code
	}
	var src *os.File
	if f.input != "" {
		var err error
		if src, err = os.Open(f.input); err != nil {
			return cli.Fail(tool, err, cli.ExitUsage)
		}
		defer src.Close()
	} else if f.loop {
		return cli.Fail(tool, errors.New("--loop needs --input"), cli.ExitUsage)
	}

	size, err := p.FrameSize()
	if err != nil {
		return cli.Fail(tool, err, cli.ExitUsage)
	}
	pattern := cli.NewSendPattern(size) // before the connect: the first frame is due at once

	ctx, stop := cli.Signals()
	defer stop()
	conn, code := cli.Connect(ctx, tool, "receiver", &f.Common, p)
	if conn == nil {
		return code
	}
	s := &sender{stdout: stdout, f: &f, conn: conn, src: src, pattern: pattern, crc: cli.NewChecksum(f.CRC)}
	return cli.Report(tool, &f.Common, s.loop(ctx), stdout)
}

type sender struct {
	stdout  io.Writer // summary and --interval lines
	f       *sendFlags
	conn    *mcmdp.Conn
	src     *os.File
	pattern *cli.Pattern
	crc     *cli.Checksum
}

func (s *sender) loop(ctx context.Context) *cli.Summary {
	l := cli.NewLoop(ctx, s.conn, &s.f.Common, mcmdp.Tx, s.stdout)
	pacer := cli.NewPacer(s.f.Rate())
	pace := func(n uint64) { pacer.Wait(n, ctx.Done()) }
	for !l.Out.Over() {
		bufs := l.Next(pace)
		filled := s.fill(bufs, l.Frames, l.Out)
		l.Discard(bufs[filled:]) // not sent
		l.Done(bufs[:filled])
	}
	st, elapsed := l.End(tool)
	sum := &cli.Summary{Frames: l.Frames, Bytes: st.BytesTx, RingFull: st.RingFull, Reconnects: st.Reconnects,
		CRC32C: s.crc.String(), Media: &cli.Media{FrameBytes: s.conn.FrameSize()}}
	l.Out.Fill(sum)
	sum.Finish(elapsed)
	return sum
}

// fill writes the frames of bufs, the first being frame n, and returns
// how many it filled: fewer when the input ended or failed (out says).
func (s *sender) fill(bufs []*mcmdp.Buffer, n uint64, out *cli.Outcome) int {
	filled := len(bufs)
	if s.src == nil {
		s.fillPattern(bufs, n)
	} else {
		filled = s.fillInput(bufs, n, out)
	}
	if s.f.Raw || filled == 0 {
		return filled // raw frames carry no timestamp: no clock to read
	}
	now := time.Now().UnixNano() // once the frames are ready to go
	for _, buf := range bufs[:filled] {
		buf.Timestamp = now
	}
	return filled
}

// fillPattern writes the test pattern, which cannot fail, in one tight
// loop: small frames are many, and this is most of the tool's own work.
func (s *sender) fillPattern(bufs []*mcmdp.Buffer, n uint64) {
	for _, buf := range bufs {
		s.pattern.Fill(buf.Data, buf.SeqNum)
	}
	if k := s.f.corrupt - int64(n); k >= 0 && k < int64(len(bufs)) {
		buf := bufs[k]
		buf.Data[buf.Len/2] ^= 0xFF
	}
	if s.f.CRC {
		for _, buf := range bufs {
			s.crc.Add(buf.Data[:buf.Len])
		}
	}
}

// fillInput reads the frames from --input and returns how many it read.
func (s *sender) fillInput(bufs []*mcmdp.Buffer, n uint64, out *cli.Outcome) int {
	for k, buf := range bufs {
		if err := s.read(buf, n+uint64(k)); err == errInputEnd {
			out.Stop("input")
			return k
		} else if err != nil {
			out.Fail(err)
			return k
		}
		if int64(n)+int64(k) == s.f.corrupt {
			buf.Data[buf.Len/2] ^= 0xFF
		}
		s.crc.Add(buf.Data[:buf.Len])
	}
	return len(bufs)
}

var errInputEnd = errors.New("end of input")

// read writes frame n from the file.
func (s *sender) read(buf *mcmdp.Buffer, n uint64) error {
	_, err := io.ReadFull(s.src, buf.Data)
	if (err == io.EOF || err == io.ErrUnexpectedEOF) && s.f.loop {
		if _, err = s.src.Seek(0, io.SeekStart); err == nil {
			_, err = io.ReadFull(s.src, buf.Data)
		}
	}
	switch {
	case err == io.EOF:
		return errInputEnd
	case err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%s ends with a partial frame after %d frames of %d bytes", s.f.input, n, len(buf.Data))
	}
	return err
}
