// Package procstat reads what a process holds from /proc: fds, mappings,
// threads, memory, and its share of the system's commit charge. Tests and
// the soak use it to prove that nothing grows.
package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Usage is one reading of a process.
type Usage struct {
	Fds, Maps, Threads int
	RSS, VmSize        int64 // bytes
	// Accounted is the part of the process's address space the kernel
	// charges to Committed_AS: private writable mappings without
	// MAP_NORESERVE. Unlike the system-wide figure, other processes do not
	// move it.
	Accounted int64
}

func (u Usage) String() string {
	return fmt.Sprintf("fds %d, mappings %d, threads %d, RSS %.1f MiB, VmSize %.1f MiB, accounted %.1f MiB",
		u.Fds, u.Maps, u.Threads, mib(u.RSS), mib(u.VmSize), mib(u.Accounted))
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// Fds is the number of open fds of pid (0: this process).
func Fds(pid int) (int, error) {
	dir := "/proc/self"
	if pid != 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	ents, err := os.ReadDir(dir + "/fd")
	return len(ents), err
}

// Read takes a reading of pid (0: this process).
func Read(pid int) (Usage, error) {
	dir := "/proc/self"
	if pid != 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	var u Usage
	var err error
	if u.Fds, err = Fds(pid); err != nil {
		return u, err
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return u, err
	}
	threads, err := field(status, "Threads:")
	if err != nil {
		return u, err
	}
	u.Threads = int(threads)
	if u.RSS, err = field(status, "VmRSS:"); err != nil {
		return u, err
	}
	if u.VmSize, err = field(status, "VmSize:"); err != nil {
		return u, err
	}
	u.RSS, u.VmSize = u.RSS<<10, u.VmSize<<10
	smaps, err := os.ReadFile(dir + "/smaps")
	if err != nil {
		return u, err
	}
	u.Maps, u.Accounted = accounted(smaps)
	return u, nil
}

// Committed is the system-wide Committed_AS, in bytes.
func Committed() (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	kb, err := field(b, "Committed_AS:")
	return kb << 10, err
}

// field reads the number after name in a "Name: value [kB]" file.
func field(text []byte, name string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == name {
			return strconv.ParseInt(f[1], 10, 64)
		}
	}
	return 0, fmt.Errorf("procstat: no %s", name)
}

// accounted counts the mappings in smaps and sums the sizes of those the
// kernel accounts: writable, not shared, not MAP_NORESERVE (VmFlags "nr").
func accounted(smaps []byte) (maps int, total int64) {
	var size int64
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Text()
		if kb, ok := strings.CutPrefix(line, "Size:"); ok {
			maps++
			n, _ := strconv.ParseInt(strings.Fields(kb)[0], 10, 64)
			size = n << 10
		} else if flags, ok := strings.CutPrefix(line, "VmFlags:"); ok {
			f := " " + flags + " "
			if strings.Contains(f, " wr ") && !strings.Contains(f, " sh ") && !strings.Contains(f, " nr ") {
				total += size
			}
		}
	}
	return maps, total
}

// Mapping is one mapping of a process's address space, as smaps shows it.
type Mapping struct {
	Start, End uintptr
	Name       string // the file, "[heap]", ... or "" for anonymous memory
	Rss        int64  // bytes of it this process's page tables map now
}

// Mappings lists the mappings of pid (0: this process).
func Mappings(pid int) ([]Mapping, error) {
	dir := "/proc/self"
	if pid != 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	smaps, err := os.ReadFile(dir + "/smaps")
	if err != nil {
		return nil, err
	}
	var ms []Mapping
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Text()
		if kb, ok := strings.CutPrefix(line, "Rss:"); ok && len(ms) > 0 {
			n, _ := strconv.ParseInt(strings.Fields(kb)[0], 10, 64)
			ms[len(ms)-1].Rss = n << 10
			continue
		}
		// A header: "start-end perms offset dev inode [name]"; field lines
		// start with a capitalised key and a colon.
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		m := Mapping{Start: uintptr(start), End: uintptr(end)}
		if len(f) > 5 {
			m.Name = strings.Join(f[5:], " ")
		}
		ms = append(ms, m)
	}
	return ms, sc.Err()
}

// MappingOf is the mapping holding address p, if any.
func MappingOf(ms []Mapping, p uintptr) (Mapping, bool) {
	for _, m := range ms {
		if p >= m.Start && p < m.End {
			return m, true
		}
	}
	return Mapping{}, false
}

// CPUTime is the CPU time the live threads of pid (0: this process) have
// used, to the nanosecond (/proc/<pid>/task/*/schedstat), where stat's
// utime and stime count 10 ms ticks: idle figures of a fraction of a
// percent need the finer clock. Threads that already exited are missing,
// so take differences over a window in which none exit.
func CPUTime(pid int) (time.Duration, error) {
	dir := "/proc/self"
	if pid != 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	tasks, err := os.ReadDir(dir + "/task")
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread exited meanwhile
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("procstat: %s schedstat: %w", t.Name(), err)
		}
		total += time.Duration(ns)
	}
	return total, nil
}
