package cli

import (
	"bufio"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Output is mcm-recv's --output: nothing is created or truncated until the
// first frame arrives, so a run that never met a sender leaves an existing
// file as it was. "-" (or a path that is this process's stdout) writes the
// frames to stdout.
type Output struct {
	path   string
	stdout io.Writer
	toOut  bool
	file   *os.File
	w      *bufio.Writer
	err    error
}

// OpenOutput checks that path can be written, without touching it.
func OpenOutput(path string, stdout io.Writer) (*Output, error) {
	o := &Output{path: path, stdout: stdout}
	switch {
	case path == "":
	case path == "-" || sameFile(path, os.Stdout):
		o.toOut = true
	default:
		if err := writable(path); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// writable checks that path could be written, changing nothing: an
// existing file (or FIFO) must be writable by this user, a new one needs a
// directory this process may write.
func writable(path string) error {
	if _, err := os.Stat(path); err == nil {
		// Asked, not opened: opening a FIFO would block, or end its reader.
		if err := unix.Access(path, unix.W_OK); err != nil {
			return &os.PathError{Op: "open", Path: path, Err: err}
		}
		return nil
	} else if !os.IsNotExist(err) {
		return err
	}
	dir := filepath.Dir(path)
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return &os.PathError{Op: "create", Path: path, Err: err}
	}
	return nil
}

// IsStdout reports that the frames go to stdout.
func (o *Output) IsStdout() bool { return o.toOut }

// Write appends one frame, opening (and truncating) the file first.
func (o *Output) Write(b []byte) {
	if o.path == "" || o.err != nil {
		return
	}
	if o.w == nil {
		var w io.Writer = o.stdout
		if !o.toOut {
			if o.file, o.err = os.Create(o.path); o.err != nil {
				return
			}
			w = o.file
		}
		o.w = bufio.NewWriterSize(w, 1<<20)
	}
	_, o.err = o.w.Write(b)
}

// Flush writes what is buffered and reports the first error.
func (o *Output) Flush() error {
	if o.w != nil && o.err == nil {
		o.err = o.w.Flush()
	}
	return o.err
}

// Close closes the file, if one was opened.
func (o *Output) Close() {
	if o.file != nil {
		o.file.Close()
	}
}

func sameFile(path string, f *os.File) bool {
	a, err := os.Stat(path)
	if err != nil {
		return false
	}
	b, err := f.Stat()
	return err == nil && os.SameFile(a, b)
}
