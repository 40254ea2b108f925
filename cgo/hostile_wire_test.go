//go:build !libmemif_system

package memif

// A hand-written memif 2.0 control-protocol peer for the hostile tests: a
// message encoder, a SOCK_SEQPACKET endpoint with SCM_RIGHTS, shared memory
// and ring accessors. Written from the wire description, independently of
// the engine, so the tests check the engine against the spec and not
// against itself.

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

const (
	wAck        uint16 = 1
	wHello      uint16 = 2
	wInit       uint16 = 3
	wAddRegion  uint16 = 4
	wAddRing    uint16 = 5
	wConnect    uint16 = 6
	wConnected  uint16 = 7
	wDisconnect uint16 = 8

	wMsgSize = 128
	wVersion = 0x0200
	wCookie  = 0x3E31F20

	// Ring header and descriptor layout.
	ringFlagsOff = 4
	ringHeadOff  = 6
	ringTailOff  = 64
	ringDescOff  = 128
	descSize     = 16
)

var le = binary.LittleEndian

func wMsg(typ uint16) []byte {
	b := make([]byte, wMsgSize)
	le.PutUint16(b, typ)
	return b
}

// putName copies s into a fixed field of n bytes (truncating, no NUL needed).
func putName(dst []byte, s string, n int) { copy(dst[:n], s) }

func encAck() []byte { return wMsg(wAck) }

func encHello(name string, minV, maxV, maxRegion, maxM2S, maxS2M uint16, maxLog2 uint8) []byte {
	b := wMsg(wHello)
	putName(b[2:], name, 32)
	le.PutUint16(b[34:], minV)
	le.PutUint16(b[36:], maxV)
	le.PutUint16(b[38:], maxRegion)
	le.PutUint16(b[40:], maxM2S)
	le.PutUint16(b[42:], maxS2M)
	b[44] = maxLog2
	return b
}

func encInit(version uint16, id uint32, mode uint8, secret, name string) []byte {
	b := wMsg(wInit)
	le.PutUint16(b[2:], version)
	le.PutUint32(b[4:], id)
	b[8] = mode
	putName(b[9:], secret, 24)
	putName(b[33:], name, 32)
	return b
}

func encAddRegion(index uint16, size uint64) []byte {
	b := wMsg(wAddRegion)
	le.PutUint16(b[2:], index)
	le.PutUint64(b[4:], size)
	return b
}

func encAddRing(s2m bool, index, region uint16, offset uint32, log2 uint8, privHdr uint16) []byte {
	b := wMsg(wAddRing)
	if s2m {
		le.PutUint16(b[2:], 1)
	}
	le.PutUint16(b[4:], index)
	le.PutUint16(b[6:], region)
	le.PutUint32(b[8:], offset)
	b[12] = log2
	le.PutUint16(b[13:], privHdr)
	return b
}

func encConnect(typ uint16, name string) []byte {
	b := wMsg(typ)
	putName(b[2:], name, 32)
	return b
}

func encDisconnect(code uint32, reason string) []byte {
	b := wMsg(wDisconnect)
	le.PutUint32(b[2:], code)
	putName(b[6:], reason, 96)
	return b
}

// cstr reads a NUL-padded fixed-size field.
func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// peer is one end of a control connection driven by the test.
type peer struct {
	t  testing.TB
	fd int
}

func newPeer(t testing.TB, fd int) *peer {
	p := &peer{t: t, fd: fd}
	t.Cleanup(p.close)
	return p
}

// dialPeer connects to a master's socket as a slave would.
func dialPeer(t testing.TB, path string) *peer {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	p := newPeer(t, fd)
	require.NoError(t, unix.Connect(fd, &unix.SockaddrUnix{Name: path}))
	return p
}

func (p *peer) close() {
	if p.fd >= 0 {
		unix.Close(p.fd)
		p.fd = -1
	}
}

// send writes one datagram, passing fds with SCM_RIGHTS.
func (p *peer) send(b []byte, fds ...int) {
	p.t.Helper()
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	require.NoError(p.t, unix.Sendmsg(p.fd, b, oob, nil, unix.MSG_NOSIGNAL))
}

// pollIn waits for fd to become readable; it fails the test after waitTimeout.
func pollIn(t testing.TB, fd int, what string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("timed out waiting for %s", what)
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, int(left/time.Millisecond)+1)
		if err == unix.EINTR || n == 0 {
			continue
		}
		require.NoError(t, err)
		return
	}
}

// recv reads the next datagram and its fds; eof reports an orderly close or
// a reset by the other side.
func (p *peer) recv() (msg []byte, fds []int, eof bool) {
	p.t.Helper()
	for {
		pollIn(p.t, p.fd, "a control message")
		buf := make([]byte, 2*wMsgSize)
		oob := make([]byte, unix.CmsgSpace(8*4))
		n, oobn, _, _, err := unix.Recvmsg(p.fd, buf, oob, unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		if err == unix.ECONNRESET {
			return nil, nil, true
		}
		require.NoError(p.t, err)
		if oobn > 0 {
			cms, err := unix.ParseSocketControlMessage(oob[:oobn])
			require.NoError(p.t, err)
			for _, cm := range cms {
				if got, err := unix.ParseUnixRights(&cm); err == nil {
					fds = append(fds, got...)
				}
			}
		}
		if n == 0 && len(fds) == 0 {
			return nil, nil, true
		}
		return buf[:n], fds, false
	}
}

// expect reads one message of type typ (no fds expected unless keepFds).
func (p *peer) expect(typ uint16) []byte {
	p.t.Helper()
	msg, fds, eof := p.recv()
	closeFds(fds)
	require.False(p.t, eof, "connection closed while waiting for message type %d", typ)
	require.Len(p.t, msg, wMsgSize)
	if got := le.Uint16(msg); got != typ {
		if got == wDisconnect {
			p.t.Fatalf("got DISCONNECT %d %q, want message type %d", le.Uint32(msg[2:]), cstr(msg[6:102]), typ)
		}
		p.t.Fatalf("got message type %d, want %d", got, typ)
	}
	return msg
}

// exchange sends msg (with fds) and expects the reply type.
func (p *peer) exchange(reply uint16, msg []byte, fds ...int) []byte {
	p.t.Helper()
	p.send(msg, fds...)
	return p.expect(reply)
}

func (p *peer) expectEOF() {
	p.t.Helper()
	msg, fds, eof := p.recv()
	closeFds(fds)
	require.True(p.t, eof, "expected the connection to close, got %d bytes", len(msg))
}

// expectRefusal reads a DISCONNECT with the given code and a reason matching
// want, then the end of the connection. It returns the reason.
func (p *peer) expectRefusal(code uint32, want *regexp.Regexp) string {
	p.t.Helper()
	msg := p.expect(wDisconnect)
	reason := cstr(msg[6:102])
	assert.Equal(p.t, code, le.Uint32(msg[2:]), "DISCONNECT code (reason %q)", reason)
	assert.Regexp(p.t, want, reason)
	assert.NotEmpty(p.t, reason)
	p.expectEOF()
	return reason
}

func closeFds(fds []int) {
	for _, f := range fds {
		unix.Close(f)
	}
}

// shm is a memfd-backed region mapped into the test.
type shm struct {
	fd  int
	mem []byte
}

// newShm creates a memfd of memSize bytes (0: not mapped) and maps it.
func newShm(t testing.TB, memSize int) *shm {
	fd, err := unix.MemfdCreate("hostile", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING) // real peers seal; the engine seals if not
	require.NoError(t, err)
	s := &shm{fd: fd}
	t.Cleanup(s.close)
	require.NoError(t, unix.Ftruncate(fd, int64(memSize)))
	if memSize > 0 {
		s.mem, err = unix.Mmap(fd, 0, memSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		require.NoError(t, err)
	}
	return s
}

func (s *shm) close() {
	if s.mem != nil {
		unix.Munmap(s.mem)
		s.mem = nil
	}
	if s.fd >= 0 {
		unix.Close(s.fd)
		s.fd = -1
	}
}

// mapFd maps size bytes of an fd received from the peer.
func mapFd(t testing.TB, fd int, size int) []byte {
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Munmap(mem) })
	return mem
}

func newEventfd(t testing.TB) int {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// ring is a view of one ring inside a mapped region.
type ring struct {
	mem []byte
	off int
}

func (r ring) setCookie(v uint32)      { le.PutUint32(r.mem[r.off:], v) }
func (r ring) head() uint16            { return le.Uint16(r.mem[r.off+ringHeadOff:]) }
func (r ring) setHead(v uint16)        { le.PutUint16(r.mem[r.off+ringHeadOff:], v) }
func (r ring) tail() uint16            { return le.Uint16(r.mem[r.off+ringTailOff:]) }
func (r ring) setTail(v uint16)        { le.PutUint16(r.mem[r.off+ringTailOff:], v) }
func (r ring) flags() uint16           { return le.Uint16(r.mem[r.off+ringFlagsOff:]) }
func (r ring) desc(slot int) []byte    { return r.mem[r.off+ringDescOff+slot*descSize:][:descSize] }
func (r ring) descLen(slot int) uint32 { return le.Uint32(r.desc(slot)[4:]) }

func (r ring) setDesc(slot int, flags, region uint16, length, offset, meta uint32) {
	d := r.desc(slot)
	le.PutUint16(d[0:], flags)
	le.PutUint16(d[2:], region)
	le.PutUint32(d[4:], length)
	le.PutUint32(d[8:], offset)
	le.PutUint32(d[12:], meta)
}

// barrier returns once the socket's event goroutine is between events: it
// holds the socket's mutex for the whole of each event and its callbacks.
func barrier(s *Socket) {
	s.mu.Lock()
	s.mu.Unlock()
}

// fired reports whether a Changed channel has been closed.
func fired(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
