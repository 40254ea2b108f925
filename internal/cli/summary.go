package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Exit codes, the same for both tools.
const (
	ExitOK        = 0
	ExitError     = 1
	ExitUsage     = 2
	ExitNoPeer    = 3 // the peer never appeared within --connect-timeout
	ExitIntegrity = 4 // received bytes differ from what was sent
	ExitPeerLost  = 5 // the peer vanished without ending the stream
)

// Summary is what a run reports at its end.
type Summary struct {
	Schema          int             `json:"schema"` // SchemaVersion
	Tool            string          `json:"tool"`
	Start           string          `json:"start"` // RFC 3339, when the tool started
	Media           *Media          `json:"media,omitempty"`
	Role            string          `json:"role"`
	Socket          string          `json:"socket"`
	Frames          uint64          `json:"frames"`
	Bytes           uint64          `json:"bytes"`
	Seconds         float64         `json:"duration_s"`
	FPS             float64         `json:"fps"`
	Gbps            float64         `json:"gbit_s"`
	LatencyUS       *LatencySummary `json:"latency_us,omitempty"`
	SeqGaps         uint64          `json:"seq_gaps"`
	IntegrityErrors uint64          `json:"integrity_errors"`
	Check           string          `json:"check,omitempty"`
	RingFull        uint64          `json:"ring_full_waits"`
	Reconnects      uint64          `json:"reconnects"`
	PeerFaults      uint64          `json:"peer_faults"`
	PlainFrames     uint64          `json:"plain_frames"`
	Undelivered     uint64          `json:"undelivered,omitempty"`
	CRC32C          string          `json:"crc32c,omitempty"`
	// End is why the run ended, one of: frames, duration, signal, input,
	// end-of-stream, receiver-closed, peer-lost, no-peer, usage, error.
	End       string `json:"end"`
	EndDetail string `json:"end_detail,omitempty"`
	ExitCode  int    `json:"exit_code"`
	Error     string `json:"error,omitempty"`
}

// SchemaVersion numbers the JSON the tools print (summary, interval and
// error objects); it changes when a field changes meaning or goes away.
const SchemaVersion = 1

// Media is what the stream carries, as the flags asked.
type Media struct {
	Payload    string `json:"payload"`
	Width      uint   `json:"width,omitempty"`
	Height     uint   `json:"height,omitempty"`
	PixFmt     string `json:"pix_fmt,omitempty"`
	Audio      string `json:"audio,omitempty"` // format/sampling/ptime/channels
	FrameBytes int    `json:"frame_bytes,omitempty"`
	Raw        bool   `json:"raw,omitempty"`
}

// startedAt is when the tool started, for the JSON's start.
var startedAt = time.Now()

func (c *Common) media() *Media {
	m := &Media{Payload: c.Payload, Raw: c.Raw}
	switch c.Payload {
	case "video":
		m.Width, m.Height, m.PixFmt = c.Width, c.Height, c.PixFmt
	case "audio":
		m.Audio = fmt.Sprintf("%s/%s/%s/%dch", c.AudioFormat, c.Sampling, c.PTime, c.Channels)
	}
	return m
}

// Finish fills the rates from the totals.
func (s *Summary) Finish(elapsed time.Duration) {
	s.Seconds = elapsed.Seconds()
	if s.Seconds > 0 {
		s.FPS = float64(s.Frames) / s.Seconds
		s.Gbps = float64(s.Bytes) * 8 / s.Seconds / 1e9
	}
}

// Print writes the summary as text or as one JSON object.
func (s *Summary) Print(w io.Writer, asJSON bool) {
	if asJSON {
		b, _ := json.Marshal(s)
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	fmt.Fprintf(w, "%s summary (%s, %s)\n", s.Tool, s.Role, s.Socket)
	fmt.Fprintf(w, "  frames     %d (%s)\n", s.Frames, humanBytes(s.Bytes))
	fmt.Fprintf(w, "  duration   %.3f s\n", s.Seconds)
	fmt.Fprintf(w, "  rate       %.2f fps, %.3f Gbit/s\n", s.FPS, s.Gbps)
	if l := s.LatencyUS; l != nil {
		fmt.Fprintf(w, "  latency    p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us\n", l.P50, l.P90, l.P99, l.Max)
	}
	if s.Check != "" { // a receiver's: a sender has no gaps or checks to show
		fmt.Fprintf(w, "  seq gaps   %d\n", s.SeqGaps)
		fmt.Fprintf(w, "  integrity  %d errors, check %s\n", s.IntegrityErrors, s.Check)
	}
	if s.RingFull > 0 {
		fmt.Fprintf(w, "  ring full  %d waits\n", s.RingFull)
	}
	if s.CRC32C != "" {
		fmt.Fprintf(w, "  crc32c     %s\n", s.CRC32C)
	}
	if s.Reconnects > 0 {
		fmt.Fprintf(w, "  reconnects %d\n", s.Reconnects)
	}
	if s.Undelivered > 0 {
		fmt.Fprintf(w, "  undelivered %d frames the receiver never took\n", s.Undelivered)
	}
	if s.PlainFrames > 0 {
		fmt.Fprintf(w, "  plain      %d frames from a plain memif peer (payload only: no SeqNum, timestamp or pattern check)\n", s.PlainFrames)
	}
	if s.PeerFaults > 0 {
		fmt.Fprintf(w, "  peer faults %d (sessions ended: frames larger than agreed)\n", s.PeerFaults)
	}
	if s.EndDetail != "" {
		fmt.Fprintf(w, "  end        %s (%s)\n", s.End, s.EndDetail)
	} else {
		fmt.Fprintf(w, "  end        %s\n", s.End)
	}
}

func humanBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d B", n)
}
