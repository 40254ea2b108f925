// Package testpmd runs DPDK's dpdk-testpmd (22.11) as a memif peer for
// interop tests and reads its packet counters from its console output.
//
// Behaviour of testpmd 22.11 that shapes this package (observed, not
// guessed; samples are in testdata/):
//
//   - Without a terminal testpmd exits at once unless --stats-period is
//     given; with --stats-period 1 it prints a "Port statistics" block every
//     second, which is where Stats come from.
//   - testpmd prints no link-state event for memif, even with
//     --print-event all. The memif PMD does log "memif_connect(): Connected."
//     and "memif_disconnect(): Disconnected, ..." once its log level is
//     raised, so the driver always passes --log-level=pmd.net.memif:debug
//     (which also shows the control-channel handshake, handy when an
//     interop test fails).
//   - The memif PMD resets its counters to zero when the peer disconnects.
//     Read a side's counters before its peer goes away: stop testpmd first,
//     or take a Stats/WaitStats snapshot before stopping the peer.
//   - The exit summary ("Forward statistics for port N") counts since
//     forwarding started. If the counters were reset by a disconnect it can
//     wrap below zero (values near 2^64); Stop then falls back to the last
//     periodic block.
//   - As a memif client testpmd connects once at port start and never
//     retries: start the memif server first.
package testpmd
