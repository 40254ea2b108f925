// Command benchtable reads `go test -bench` output on stdin (what `make
// bench` saves, also benchstat's input) and prints the summary the README's
// Benchmarks section is made from: the size sweep as one table, then the
// scale, first-lap and other benchmarks as one row each. With -count > 1 a
// benchmark's figures are the medians of its runs.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

func main() {
	results, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(results) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark lines on stdin")
		os.Exit(1)
	}
	write(os.Stdout, results)
}

// result is one benchmark's figures by unit ("ns/op", "MB/s", "Mpps", ...),
// each the median of its runs.
type result struct {
	name    string // without the package and the -GOMAXPROCS suffix
	pkg     string
	metrics map[string]float64
	order   []string // units in the order printed
}

var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parse reads go test output: "pkg:" lines name the package of the
// benchmark lines after them.
func parse(r io.Reader) ([]*result, error) {
	byName := map[string]*result{}
	runs := map[string]map[string][]float64{}
	var order []string
	pkg := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		key := pkg + "." + m[1]
		res := byName[key]
		if res == nil {
			res = &result{name: m[1], pkg: pkg, metrics: map[string]float64{}}
			byName[key], runs[key] = res, map[string][]float64{}
			order = append(order, key)
		}
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %v", line, err)
			}
			unit := f[i+1]
			if _, seen := runs[key][unit]; !seen {
				res.order = append(res.order, unit)
			}
			runs[key][unit] = append(runs[key][unit], v)
		}
	}
	out := make([]*result, 0, len(order))
	for _, key := range order {
		for unit, vs := range runs[key] {
			byName[key].metrics[unit] = median(vs)
		}
		out = append(out, byName[key])
	}
	return out, sc.Err()
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// sweepSizes are BenchmarkSweep's sizes, in its names' spelling, smallest
// first.
var sweepSizes = []struct {
	name, label string
}{{"64B", "64 B"}, {"1500B", "1500 B"}, {"9000B", "9000 B"}, {"64KB", "64 KB"}, {"1MB", "1 MB"}, {"8MB", "8 MB"}}

func write(w io.Writer, results []*result) {
	find := func(name string) *result {
		for _, r := range results {
			if r.name == name {
				return r
			}
		}
		return nil
	}
	used := map[*result]bool{}
	get := func(name, unit string) (float64, bool) {
		r := find(name)
		if r == nil {
			return 0, false
		}
		used[r] = true
		v, ok := r.metrics[unit]
		return v, ok
	}

	fmt.Fprintln(w, "\nSize sweep (BenchmarkSweep): the sender writes every byte of a frame, the receiver reads every byte.")
	fmt.Fprintln(w, "memif: mcmdp between two processes; touch bound: the same bytes written then read in one goroutine;")
	fmt.Fprintln(w, "testpmd: mcmdp's sender to dpdk-testpmd rxonly (its memif driver copies every frame into mbufs).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| size | memif GB/s | memif Mpps | touch bound GB/s | memif / touch | testpmd GB/s | testpmd Mpps |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|")
	stops := ""
	for _, s := range sweepSizes {
		memif, okM := get("Sweep/"+s.name+"/memif", "MB/s")
		mpps, _ := get("Sweep/"+s.name+"/memif", "Mpps")
		touch, okT := get("Sweep/"+s.name+"/touch", "MB/s")
		pmd, okP := get("Sweep/"+s.name+"/testpmd", "MB/s")
		pmdMpps, _ := get("Sweep/"+s.name+"/testpmd", "Mpps")
		if !okM && !okT && !okP {
			continue
		}
		ratio := "–"
		if okM && okT && touch > 0 {
			ratio = fmt.Sprintf("%.2f", memif/touch)
			// The claim below holds for every size from stops on: a
			// smaller ratio after it moves it past that size.
			switch {
			case memif < 0.9*touch:
				stops = ""
			case stops == "":
				stops = s.label
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", s.label,
			gb(memif, okM), num(mpps, okM), gb(touch, okT), ratio, gb(pmd, okP), num(pmdMpps, okP))
	}
	if stops != "" {
		fmt.Fprintf(w, "\nFrom %s on, memif moves frames at least 90%% as fast as one core touches the same bytes: the transport stops mattering there.\n", stops)
	}

	fmt.Fprintln(w, "\nOther benchmarks (one row each):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| benchmark | result |")
	fmt.Fprintln(w, "|---|---|")
	for _, r := range results {
		if used[r] {
			continue
		}
		fmt.Fprintf(w, "| `%s` %s | %s |\n", r.name, shortPkg(r.pkg), describe(r))
	}
}

func shortPkg(pkg string) string {
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	return "(" + pkg + ")"
}

func gb(mbs float64, ok bool) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.2f", mbs/1000)
}

func num(v float64, ok bool) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.3g", v)
}

// describe lists a benchmark's figures: throughput in GB/s, the custom
// metrics as reported, then ns/op; allocations only when there are any.
func describe(r *result) string {
	var parts []string
	for _, unit := range r.order {
		v := r.metrics[unit]
		switch unit {
		case "ns/op":
			continue
		case "MB/s":
			parts = append(parts, fmt.Sprintf("%.2f GB/s", v/1000))
		case "B/op":
			continue
		case "allocs/op":
			if v > 0 {
				parts = append(parts, fmt.Sprintf("%.3g allocs/op", v))
			}
		default:
			parts = append(parts, figure(v)+" "+unit)
		}
	}
	if v, ok := r.metrics["ns/op"]; ok {
		parts = append(parts, fmt.Sprintf("%s/op", duration(v)))
	}
	return strings.Join(parts, ", ")
}

// figure prints a custom metric with four significant digits, but whole
// numbers from 1,000 up (fault counts, not 1.722e+04).
func figure(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}

func duration(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.3g s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.3g ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.3g µs", ns/1e3)
	}
	return fmt.Sprintf("%.3g ns", ns)
}
