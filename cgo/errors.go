package memif

import (
	"errors"
	"fmt"
)

// Errno is a memif_err_t code from the engine. The values are libmemif 4.x's.
type Errno int

// Sentinels for the codes callers act on; use errors.Is.
const (
	ErrSyscall      Errno = 1
	ErrConnRefused  Errno = 2
	ErrNoFile       Errno = 4
	ErrAlready      Errno = 7
	ErrNoMem        Errno = 10
	ErrInvalidArg   Errno = 11
	ErrNoConn       Errno = 12
	ErrFileNotSock  Errno = 15
	ErrCookie       Errno = 17
	ErrNoBufRing    Errno = 18
	ErrNoBuf        Errno = 19
	ErrMalformed    Errno = 22
	ErrQueueID      Errno = 23
	ErrProto        Errno = 24
	ErrID           Errno = 25
	ErrAlreadyConn  Errno = 27
	ErrMode         Errno = 28
	ErrSecret       Errno = 29
	ErrMaxRegion    Errno = 31
	ErrMaxRing      Errno = 32
	ErrDisconnect   Errno = 34
	ErrDisconnected Errno = 35
	ErrPollCancel   Errno = 37
	ErrRingSize     Errno = 38
)

// strerror is set by the cgo file to memif_strerror.
var strerror = func(code int) string { return fmt.Sprintf("memif error %d", code) }

func (e Errno) Error() string { return strerror(int(e)) }

// Error is a failed engine call: what was called, the C code, and a reason
// when the peer or the engine gave one.
type Error struct {
	Op     string
	Code   Errno
	Reason string
}

func (e *Error) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("memif %s: %v: %s", e.Op, e.Code, e.Reason)
	}
	return fmt.Sprintf("memif %s: %v", e.Op, e.Code)
}

// Unwrap makes errors.Is(err, ErrNoConn) and errors.As(err, &Errno) work.
func (e *Error) Unwrap() error { return e.Code }

// ErrClosed is returned by calls on a closed Socket or Interface.
var ErrClosed = errors.New("memif: closed")

// ErrNotSupported is returned by extensions the linked engine lacks (with
// the libmemif_system tag).
var ErrNotSupported = errors.New("memif: not supported by this libmemif")

// ErrTimeout is returned by WaitRx when its timeout passed with no event.
var ErrTimeout = errors.New("memif: timeout")

// dataErr is the data path's error: the bare Errno, which converts to an
// error without allocating (codes are small), so a caller spinning on a full
// ring creates no garbage.
func dataErr(code int) error {
	if code == 0 {
		return nil
	}
	return Errno(code)
}

func check(op string, code int) error {
	if code == 0 {
		return nil
	}
	return &Error{Op: op, Code: Errno(code)}
}
