package enginesrc

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Layer is one level of the engine: the files whose name, less .c or .h,
// is in Stems, and the one job they do.
type Layer struct {
	Stems []string
	Job   string
}

// Layers is the engine's order, lowest first. A file of libmemif/ may
// include its own header and headers of lower layers, nothing else, so the
// includes (and the calls they declare) only point down; a lower layer
// reaches up only through callbacks an upper one set.
var Layers = []Layer{
	{[]string{"libmemif"}, "public API, upstream libmemif 4.0 compatible"},
	{[]string{"wire"}, "memif 2.0 on the wire: message encode/decode, ring layout"},
	{[]string{"util"}, "inline helpers: allocator, monotonic ms, errno to memif codes"},
	{[]string{"fdreg"}, "fd registry: entries carry their handler; memif_control_fd_handler, own epoll loop"},
	{[]string{"channel"}, "control channel: datagrams and fds; messages, failures, close go to callbacks"},
	{[]string{"ring"}, "one ring: shadows, index and descriptor checks, futex wake words"},
	{[]string{"shm"}, "regions: sealed memfds, a peer's fd checked and mapped, kept pages"},
	{[]string{"iface"}, "records of interfaces and sockets, error reporting"},
	{[]string{"stale"}, "pages kept under buffers held past a session's end"},
	{[]string{"session"}, "a session's shared memory: layout, adoption, start, free"},
	{[]string{"datapath"}, "buffers on the rings: alloc, tx, rx, refill"},
	{[]string{"handshake"}, "memif 2.0 state machines, master and slave"},
	{[]string{"sock"}, "sockets: listener, connect timer, deadlines, deferred faults"},
	{[]string{"api", "compat", "details", "txwait"}, "interface calls, upstream extras, details, tx wait"},
}

var includeRe = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*include[ \t]*"([^"]+)"`)

// Includes returns the quoted includes of a C source, in order.
func Includes(src string) []string {
	var out []string
	for _, m := range includeRe.FindAllStringSubmatch(src, -1) {
		out = append(out, m[1])
	}
	return out
}

// ReadSources returns the engine's files in dir (libmemif/) by name.
func ReadSources(dir string) (map[string]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.[ch]"))
	if err != nil {
		return nil, err
	}
	srcs := make(map[string]string, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		srcs[filepath.Base(p)] = string(b)
	}
	return srcs, nil
}

// CheckLayers reports every include in srcs (file name to text) that is
// not of the file's own header or a lower layer's, every include cycle,
// every file no layer names and every layer stem with no file.
func CheckLayers(srcs map[string]string, layers []Layer) error {
	rank := map[string]int{}
	for i, l := range layers {
		for _, s := range l.Stems {
			rank[s] = i
		}
	}
	var errs []error
	names := make([]string, 0, len(srcs))
	for n := range srcs {
		names = append(names, n)
	}
	sort.Strings(names)
	seen := map[string]bool{}
	graph := map[string][]string{}
	for _, n := range names {
		stem := strings.TrimSuffix(n, path.Ext(n))
		seen[stem] = true
		r, ok := rank[stem]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: in no layer (add it to enginesrc.Layers)", n))
			continue
		}
		for _, inc := range Includes(srcs[n]) {
			if _, ok := srcs[inc]; !ok || path.Ext(inc) != ".h" {
				errs = append(errs, fmt.Errorf("%s: includes %q, not an engine header", n, inc))
				continue
			}
			graph[n] = append(graph[n], inc)
			is := strings.TrimSuffix(inc, ".h")
			if ir, ok := rank[is]; ok && is != stem && ir >= r {
				errs = append(errs, fmt.Errorf("%s (layer %d, %s) includes %s (layer %d, %s): includes must point down",
					n, r, layers[r].Job, inc, ir, layers[ir].Job))
			}
		}
	}
	for _, l := range layers {
		for _, s := range l.Stems {
			if !seen[s] {
				errs = append(errs, fmt.Errorf("layer names %s, but there is no %s.c or %s.h", s, s, s))
			}
		}
	}
	errs = append(errs, cycles(names, graph)...)
	return errors.Join(errs...)
}

// cycles reports each include cycle once, as the path that closes it.
func cycles(names []string, graph map[string][]string) []error {
	const (
		unseen = iota
		open
		done
	)
	state := map[string]int{}
	var stack []string
	var errs []error
	var visit func(n string)
	visit = func(n string) {
		state[n] = open
		stack = append(stack, n)
		for _, m := range graph[n] {
			switch state[m] {
			case unseen:
				visit(m)
			case open:
				i := len(stack) - 1
				for stack[i] != m {
					i--
				}
				loop := append(append([]string{}, stack[i:]...), m)
				errs = append(errs, fmt.Errorf("include cycle: %s", strings.Join(loop, " -> ")))
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
	}
	for _, n := range names {
		if state[n] == unseen {
			visit(n)
		}
	}
	return errs
}
