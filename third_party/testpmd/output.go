package testpmd

import "strings"

// Blocks returns every counter block in captured testpmd output (a log
// file, or `docker logs` of a testpmd container): the periodic "NIC
// statistics" blocks and the exit summaries (Final), in the order printed.
// For callers that did not run testpmd through Start.
func Blocks(out string) []Stats {
	var p parser
	var st []Stats
	for _, l := range strings.Split(out, "\n") {
		if ev := p.line(strings.TrimSuffix(l, "\r")); ev.kind == evStats || ev.kind == evFinal {
			st = append(st, ev.stats)
		}
	}
	return st
}
