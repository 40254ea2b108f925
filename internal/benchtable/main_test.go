package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
pkg: github.com/mcmgo/mcm/mcmdp
BenchmarkSweep/64B/memif-2   	 2521926	       500.0 ns/op	 128.00 MB/s	         1.993 Mpps	       0 B/op	       0 allocs/op
BenchmarkSweep/64B/memif-2   	 2521926	       400.0 ns/op	 160.00 MB/s	         2.500 Mpps	       0 B/op	       0 allocs/op
BenchmarkSweep/64B/memif-2   	 2521926	       600.0 ns/op	 100.00 MB/s	         1.600 Mpps	       0 B/op	       0 allocs/op
BenchmarkSweep/64B/touch-2   	47015140	        46.01 ns/op	1391.12 MB/s	        21.74 Mpps
BenchmarkSweep/8MB/memif-2   	     498	   2232400 ns/op	3757.66 MB/s	         0.0004479 Mpps	       0 B/op	       0 allocs/op
BenchmarkSweep/8MB/touch-2   	     234	   6529197 ns/op	1284.78 MB/s	         0.0001520 Mpps
BenchmarkSweep/8MB/testpmd-2 	     926	   1247703 ns/op	6723.24 MB/s	         0.0008014 Mpps	       0 B/op	       0 allocs/op
BenchmarkScale64/idle-2            	      20	 101961212 ns/op	         0.5224 %CPU
BenchmarkFirstLap/no-prefault-2   	      13	 210030253 ns/op	     17216 first-lap-faults	       182.5 first-lap-ms
pkg: github.com/mcmgo/mcm/cgo
BenchmarkInProcessRoundTrip-2   	10000000	       240.0 ns/op	       0 B/op	       0 allocs/op
PASS
`

func TestParseTakesMediansPerPackage(t *testing.T) {
	rs, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	require.Len(t, rs, 8)
	assert.Equal(t, "Sweep/64B/memif", rs[0].name)
	assert.Equal(t, "github.com/mcmgo/mcm/mcmdp", rs[0].pkg)
	assert.Equal(t, 128.0, rs[0].metrics["MB/s"], "the median of three runs")
	assert.Equal(t, 1.993, rs[0].metrics["Mpps"])
	assert.Equal(t, "github.com/mcmgo/mcm/cgo", rs[7].pkg)
}

func TestWriteSweepTableAndTheRest(t *testing.T) {
	rs, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	var out strings.Builder
	write(&out, rs)
	got := out.String()
	assert.Contains(t, got, "| 64 B | 0.13 | 1.99 | 1.39 | 0.09 | – | – |")
	assert.Contains(t, got, "| 8 MB | 3.76 | 0.000448 | 1.28 | 2.92 | 6.72 | 0.000801 |")
	assert.NotContains(t, got, "| 1 MB |", "sizes without results are left out")
	assert.Contains(t, got, "From 8 MB on")
	assert.Contains(t, got, "| `Scale64/idle` (mcmdp) | 0.5224 %CPU, 102 ms/op |")
	assert.Contains(t, got, "| `InProcessRoundTrip` (cgo) | 240 ns/op |")
	assert.Contains(t, got, "| `FirstLap/no-prefault` (mcmdp) | 17216 first-lap-faults, 182.5 first-lap-ms, 210 ms/op |")
	assert.NotContains(t, got, "`Sweep/", "sweep rows only in the sweep table")
}

// "From X on" must hold for every size after X: a size that falls short
// again moves it on.
func TestSweepStopsOnlyWhereEveryLargerSizeKeepsUp(t *testing.T) {
	const dip = `pkg: github.com/mcmgo/mcm/mcmdp
BenchmarkSweep/1500B/memif-2 	 1	 1 ns/op	 7400.00 MB/s	 4.9 Mpps
BenchmarkSweep/1500B/touch-2 	 1	 1 ns/op	 6400.00 MB/s	 4.2 Mpps
BenchmarkSweep/9000B/memif-2 	 1	 1 ns/op	 7600.00 MB/s	 0.85 Mpps
BenchmarkSweep/9000B/touch-2 	 1	 1 ns/op	 10200.00 MB/s	 1.1 Mpps
BenchmarkSweep/64KB/memif-2 	 1	 1 ns/op	 11000.00 MB/s	 0.17 Mpps
BenchmarkSweep/64KB/touch-2 	 1	 1 ns/op	 5000.00 MB/s	 0.08 Mpps
`
	rs, err := parse(strings.NewReader(dip))
	require.NoError(t, err)
	var out strings.Builder
	write(&out, rs)
	assert.Contains(t, out.String(), "From 64 KB on")
	assert.NotContains(t, out.String(), "From 1500 B on", "9000 B falls short")
}
