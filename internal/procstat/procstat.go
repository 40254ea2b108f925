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
