package cli

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPatternFramesDifferAndCheck(t *testing.T) {
	p := NewPattern(1000)
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
	assert.Equal(t, 50.0, s.P50)
	assert.Equal(t, 90.0, s.P90)
	assert.Equal(t, 99.0, s.P99)
	assert.Equal(t, 100.0, s.Max)
}
