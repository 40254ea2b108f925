package memifpeer

import (
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/sys/unix"
)

// Conn is one control connection, driven message by message.
type Conn struct {
	fd int
}

// Dial connects to a master's socket as a slave does.
func Dial(path string) (*Conn, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("connect %s: %w", path, err)
	}
	return &Conn{fd: fd}, nil
}

// Close closes the control connection (idempotent).
func (c *Conn) Close() {
	if c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
}

// Send writes one message, passing fds with SCM_RIGHTS.
func (c *Conn) Send(m []byte, fds ...int) error {
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	return unix.Sendmsg(c.fd, m, oob, nil, unix.MSG_NOSIGNAL)
}

// Recv reads the next message and closes any fds that came with it. It
// returns io.EOF when the other side closed, and an error after timeout.
func (c *Conn) Recv(timeout time.Duration) ([]byte, error) {
	m, fds, err := c.RecvFds(timeout)
	for _, f := range fds {
		unix.Close(f)
	}
	return m, err
}

// RecvFds is Recv that hands over the fds; the caller closes them.
func (c *Conn) RecvFds(timeout time.Duration) ([]byte, []int, error) {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil, fmt.Errorf("no control message within %v", timeout)
		}
		pfd := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(pfd, int(left/time.Millisecond)+1); err == unix.EINTR || n == 0 {
			continue
		} else if err != nil {
			return nil, nil, err
		}
		buf := make([]byte, 2*MsgSize)
		oob := make([]byte, unix.CmsgSpace(8*4))
		n, oobn, _, _, err := unix.Recvmsg(c.fd, buf, oob, unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
			continue
		case err == unix.ECONNRESET:
			return nil, nil, io.EOF
		case err != nil:
			return nil, nil, err
		}
		var fds []int
		if oobn > 0 {
			cms, _ := unix.ParseSocketControlMessage(oob[:oobn])
			for _, cm := range cms {
				got, _ := unix.ParseUnixRights(&cm)
				fds = append(fds, got...)
			}
		}
		if n == 0 {
			for _, f := range fds {
				unix.Close(f)
			}
			return nil, nil, io.EOF
		}
		return buf[:n], fds, nil
	}
}

// DisconnectError is a DISCONNECT received where another message was due.
type DisconnectError struct {
	Code   uint32
	Reason string
}

func (e *DisconnectError) Error() string {
	return fmt.Sprintf("DISCONNECT %d: %q", e.Code, e.Reason)
}

// Expect reads one message and checks its type; a DISCONNECT instead comes
// back as *DisconnectError.
func (c *Conn) Expect(typ uint16, timeout time.Duration) ([]byte, error) {
	m, err := c.Recv(timeout)
	if err != nil {
		return nil, err
	}
	if len(m) != MsgSize {
		return nil, fmt.Errorf("message of %d bytes", len(m))
	}
	if got := Type(m); got != typ {
		if got == MsgDisconnect && typ != MsgDisconnect {
			code, reason := DisconnectReason(m)
			return nil, &DisconnectError{Code: code, Reason: reason}
		}
		return nil, fmt.Errorf("message type %d, want %d", got, typ)
	}
	return m, nil
}

// WaitDisconnect reads the peer's next message, which must be its
// DISCONNECT, and returns it.
func (c *Conn) WaitDisconnect(timeout time.Duration) (*DisconnectError, error) {
	m, err := c.Expect(MsgDisconnect, timeout)
	var d *DisconnectError
	switch {
	case errors.As(err, &d):
		return d, nil
	case err != nil:
		return nil, err
	}
	code, reason := DisconnectReason(m)
	return &DisconnectError{Code: code, Reason: reason}, nil
}

// Fd is the connection's socket, for tests that act on it directly.
func (c *Conn) Fd() int { return c.fd }

// CloseWrite shuts the sending side down: the other end reads the end of
// the connection while this one can still read.
func (c *Conn) CloseWrite() error { return unix.Shutdown(c.fd, unix.SHUT_WR) }

// ExpectEOF reads the end of the connection; a message instead is an error.
func (c *Conn) ExpectEOF(timeout time.Duration) error {
	m, err := c.Recv(timeout)
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return err
	}
	return fmt.Errorf("a message of %d bytes where the connection should end", len(m))
}

// Refusal reads a refusal: the peer's DISCONNECT, then the end of the
// connection.
func (c *Conn) Refusal(timeout time.Duration) (*DisconnectError, error) {
	m, err := c.Expect(MsgDisconnect, timeout)
	if err != nil {
		return nil, err
	}
	code, reason := DisconnectReason(m)
	if err := c.ExpectEOF(timeout); err != nil {
		return nil, fmt.Errorf("after DISCONNECT %d %q: %w", code, reason, err)
	}
	return &DisconnectError{Code: code, Reason: reason}, nil
}
