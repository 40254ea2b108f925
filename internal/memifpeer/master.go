package memifpeer

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Listener is a master's socket.
type Listener struct {
	fd   int
	path string
}

// Listen binds a master's socket at path.
func Listen(path string) (*Listener, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s: %w", path, err)
	}
	if err := unix.Listen(fd, 8); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &Listener{fd: fd, path: path}, nil
}

// Close stops listening and removes the socket file, so a good master can
// take the path over.
func (l *Listener) Close() {
	if l.fd >= 0 {
		unix.Close(l.fd)
		os.Remove(l.path)
		l.fd = -1
	}
}

// Master is a master that completed the handshake by the book and then
// does what its test says.
type Master struct {
	*Conn
	Init     InitFields // what the slave's INIT said
	regions  map[uint16][]byte
	fds      []int
	S2M, M2S Ring
	m2sLog2  uint8
	m2sEfd   int
	tail     uint16 // M2S: next slot to fill
}

// Accept waits for a slave and runs the handshake up to CONNECTED.
func (l *Listener) Accept(timeout time.Duration) (*Master, error) {
	c, err := l.AcceptConn(timeout)
	if err != nil {
		return nil, err
	}
	return Serve(c, timeout)
}

// AcceptConn waits for a slave and returns its connection, with nothing
// sent: what the master says is the test's.
func (l *Listener) AcceptConn(timeout time.Duration) (*Conn, error) {
	pfd := []unix.PollFd{{Fd: int32(l.fd), Events: unix.POLLIN}}
	for deadline := time.Now().Add(timeout); ; {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("no slave within %v", timeout)
		}
		if n, err := unix.Poll(pfd, int(left/time.Millisecond)+1); n > 0 {
			break
		} else if err != nil && err != unix.EINTR {
			return nil, err
		}
	}
	fd, _, err := unix.Accept4(l.fd, unix.SOCK_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &Conn{fd: fd}, nil
}

// Serve runs a master's handshake by the book on an accepted connection,
// from HELLO up to CONNECTED, mapping the regions the slave shares. On
// failure c is closed.
func Serve(c *Conn, timeout time.Duration) (*Master, error) {
	return ServeHello(c, DefaultHello("memifpeer"), timeout)
}

// ServeHello is Serve opening with hello: limits the slave must honour.
func ServeHello(c *Conn, hello HelloFields, timeout time.Duration) (*Master, error) {
	m := &Master{Conn: c, regions: map[uint16][]byte{}, m2sEfd: -1}
	if err := m.handshake(hello, timeout); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (m *Master) handshake(hello HelloFields, timeout time.Duration) error {
	if err := m.Send(hello.Encode()); err != nil {
		return err
	}
	init, err := m.Expect(MsgInit, timeout)
	if err != nil {
		return fmt.Errorf("INIT: %w", err)
	}
	m.Init = ParseInit(init)
	if err := m.Send(Ack()); err != nil {
		return err
	}
	var rings [2]*Ring // S2M, M2S
	for {
		msg, fds, err := m.RecvFds(timeout)
		if err != nil {
			return err
		}
		m.fds = append(m.fds, fds...)
		switch Type(msg) {
		case MsgAddRegion:
			if len(fds) != 1 {
				return fmt.Errorf("ADD_REGION with %d fds", len(fds))
			}
			size := le.Uint64(msg[4:])
			mem, err := unix.Mmap(fds[0], 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
			if err != nil {
				return err
			}
			m.regions[le.Uint16(msg[2:])] = mem
		case MsgAddRing:
			if len(fds) != 1 {
				return fmt.Errorf("ADD_RING with %d fds", len(fds))
			}
			r := &Ring{Mem: m.regions[le.Uint16(msg[6:])], Off: int(le.Uint32(msg[8:]))}
			if le.Uint16(msg[2:])&1 != 0 {
				rings[0] = r
			} else {
				rings[1], m.m2sLog2, m.m2sEfd = r, msg[12], fds[0]
			}
		case MsgConnect:
			if rings[0] == nil || rings[1] == nil {
				return fmt.Errorf("CONNECT before both rings")
			}
			m.S2M, m.M2S = *rings[0], *rings[1]
			return m.Send(Connected("memifpeer"))
		default:
			return fmt.Errorf("message type %d during setup", Type(msg))
		}
		if err := m.Send(Ack()); err != nil {
			return err
		}
	}
}

// Region is the slave's region index as the master mapped it (nil if none).
func (m *Master) Region(index uint16) []byte { return m.regions[index] }

// M2SInterruptFd is the slave's M2S interrupt eventfd, as passed.
func (m *Master) M2SInterruptFd() int { return m.m2sEfd }

// RingSize is the M2S ring's slot count.
func (m *Master) RingSize() int { return 1 << m.m2sLog2 }

// BufferLen is the length the slave posted in M2S slot: its buffer size.
func (m *Master) BufferLen(slot int) uint32 {
	_, _, n, _ := m.M2S.Desc(slot & (m.RingSize() - 1))
	return n
}

// Fill publishes frames into the buffers the slave posted on M2S: each
// entry is a length and whether the next buffer continues the frame. The
// payload bytes are left as they are.
func (m *Master) Fill(lens []uint32, next []bool) error {
	size := m.RingSize()
	if posted := int(m.M2S.Head() - m.tail); len(lens) > posted {
		return fmt.Errorf("%d buffers wanted, the slave posted %d", len(lens), posted)
	}
	for k, n := range lens {
		slot := int(m.tail) & (size - 1)
		_, region, _, off := m.M2S.Desc(slot)
		var flags uint16
		if next[k] {
			flags = FlagNext
		}
		m.M2S.SetDesc(slot, flags, region, n, off)
		m.tail++
	}
	m.M2S.SetTail(m.tail) // after the descriptors: plain stores stay in order on amd64
	_, err := unix.Write(m.m2sEfd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	return err
}

// Close ends the connection and unmaps what the slave shared.
func (m *Master) Close() {
	m.Conn.Close()
	for _, mem := range m.regions {
		unix.Munmap(mem)
	}
	for _, fd := range m.fds {
		unix.Close(fd)
	}
	m.regions, m.fds = nil, nil
}

// Interrupt signals the slave's M2S eventfd once, with nothing new on the
// ring: a flood is many of these.
func (m *Master) Interrupt() error {
	_, err := unix.Write(m.m2sEfd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	return err
}
