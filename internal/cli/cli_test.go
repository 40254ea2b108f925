package cli

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPatternFramesDifferAndCheck(t *testing.T) {
	p := NewPattern(1000) // Fill from the window, without the table
	a, b := make([]byte, 1000), make([]byte, 1000)
	p.Fill(a, 1)
	p.Fill(b, 2)
	assert.NotEqual(t, a, b)
	assert.True(t, p.Check(a, 1))
	assert.False(t, p.Check(a, 2))
	a[500] ^= 1
	assert.False(t, p.Check(a, 1))
	assert.True(t, p.Check(b[:10], 2), "a short frame checks its prefix")
}

// Small frames come whole from a table: the same bytes as the window with
// the mark written over its start, for every size and offset, and for
// frames shorter than the pattern's.
func TestPatternTableMatchesWindow(t *testing.T) {
	for _, size := range []int{3, 8, 64, 1500, markedMax, markedMax + 1} {
		assert.Nil(t, NewPattern(size).marked, "a checker keeps no table")
		p := NewSendPattern(size)
		assert.Equal(t, size <= markedMax, p.marked != nil, "size %d", size)
		for _, seq := range []uint32{0, 1, 36, 37, 255, 256, 1 << 31, 1<<32 - 1} {
			for _, n := range []int{size, size / 2} {
				want := make([]byte, n)
				copy(want, p.window(seq, n))
				copy(want, patternMark)
				got := make([]byte, n)
				p.Fill(got, seq)
				if !assert.Equal(t, want, got, "size %d seq %d n %d", size, seq, n) {
					return
				}
				assert.True(t, p.Check(got, seq))
			}
		}
	}
}

// The pacer's deadline for frame n is start + n/fps whatever happened
// before: retrying a frame or a late wake-up does not shift later frames.
func TestPacerDoesNotDrift(t *testing.T) {
	p := NewPacer(100) // 10ms period
	assert.Equal(t, p.start.Add(10*time.Second), p.Due(1000), "no accumulated error over 1000 frames")
	p.Wait(3, nil)
	p.Wait(3, nil) // asking again does not move frame 4
	assert.Equal(t, p.start.Add(40*time.Millisecond), p.Due(4))
	assert.False(t, time.Now().Before(p.Due(3)), "frame 3 waited for its slot")
}

func TestLatencyPercentiles(t *testing.T) {
	l := NewLatency()
	assert.Nil(t, l.Summary())
	for i := 1; i <= 100; i++ {
		l.Add(time.Duration(i) * time.Microsecond)
	}
	s := l.Summary()
	assert.InEpsilon(t, 50.0, s.P50, 0.016)
	assert.InEpsilon(t, 90.0, s.P90, 0.016)
	assert.InEpsilon(t, 99.0, s.P99, 0.016)
	assert.Equal(t, 100.0, s.Max, "the maximum is exact")
}

// Every sample weighs the same however many there are: a long run of slow
// frames followed by many fast ones gives the true percentiles (the old
// store thinned old samples and skewed toward recent frames), in fixed
// memory and within the buckets' error.
func TestLatencyHistogramIsUnbiased(t *testing.T) {
	l := NewLatency()
	for i := 0; i < 1_000_000; i++ {
		l.Add(1 * time.Millisecond)
	}
	for i := 0; i < 2_000_000; i++ {
		l.Add(10 * time.Microsecond)
	}
	l.Add(123456789 * time.Nanosecond)
	s := l.Summary()
	assert.InEpsilon(t, 10.0, s.P50, 0.016, "two thirds of the samples are 10 µs")
	assert.InEpsilon(t, 1000.0, s.P90, 0.016)
	assert.Equal(t, 123456.789, s.Max)
}

func TestLatencyBuckets(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<20; v += 1 + v/97 {
		b := bucket(v)
		assert.GreaterOrEqual(t, b, prev, "monotonic at %d", v)
		assert.LessOrEqual(t, lowest(b), v, "bucket %d starts at or below %d", b, v)
		assert.Less(t, float64(v-lowest(b)), float64(v)/64+1, "relative error at %d", v)
		prev = b
	}
	assert.Less(t, bucket(^uint64(0)>>1), 64*latencySub)
}

// A turn takes a whole burst until --frames leaves less; without --frames
// always a whole burst.
func TestLimitsBurst(t *testing.T) {
	for _, tc := range []struct {
		frames, done uint64
		burst, want  int
	}{
		{0, 0, 32, 32}, {0, 1 << 40, 32, 32}, {1000, 0, 32, 32}, {1000, 992, 32, 8},
		{1000, 999, 32, 1}, {1000, 968, 32, 32}, {5, 0, 1, 1}, {5, 4, 256, 1},
	} {
		l := NewLimits(&Common{Frames: tc.frames})
		assert.Equal(t, tc.want, l.Burst(tc.done, tc.burst), "%+v", tc)
	}
}

// A wait never runs past --duration: a deadline within leftBound bounds
// it from the start, one further away only the waits longer than that.
func TestLimitsLeft(t *testing.T) {
	for _, tc := range []struct {
		duration, ask time.Duration
		atMost        time.Duration
	}{
		{0, turnWait, turnWait},               // no --duration
		{time.Hour, turnWait, turnWait},       // far: the wait as asked
		{time.Hour, 2 * time.Hour, time.Hour}, // a longer wait reads the clock
		{100 * time.Millisecond, turnWait, 100 * time.Millisecond},
		{leftBound, 2 * leftBound, leftBound},
		{time.Microsecond, turnWait, time.Millisecond}, // at least a millisecond
	} {
		l := NewLimits(&Common{Duration: tc.duration})
		got := l.Left(tc.ask)
		l.Stop()
		assert.LessOrEqual(t, got, tc.atMost, "%+v", tc)
		assert.Greater(t, got, time.Duration(0), "%+v", tc)
	}
}
