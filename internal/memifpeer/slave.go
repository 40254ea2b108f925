package memifpeer

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// SlaveConfig is the geometry a Slave proposes: one ring each way in
// region 0, with BufferSize-byte buffers after the rings, and any extra
// regions (sparse memfds, never touched) for descriptors to point into.
type SlaveConfig struct {
	ID         uint32
	Log2Ring   uint8
	BufferSize uint32
	Extra      []uint64 // sizes of regions 1, 2, ...
	Timeout    time.Duration
	// SilentAfter stops the handshake, with no error, once this message
	// type (MsgInit, MsgAddRegion, MsgAddRing) was acknowledged: a peer
	// that holds its place and says nothing more.
	SilentAfter uint16
}

// Slave is a slave that completed the handshake by the book and then does
// what its test says.
type Slave struct {
	*Conn
	cfg      SlaveConfig
	regions  [][]byte // region 0 mapped; extras are not
	fds      []int
	S2M, M2S Ring
	efd      [2]int // S2M, M2S interrupt eventfds
	head     uint16 // S2M: next slot to produce
}

func (cfg SlaveConfig) ringSize() int { return RingHeader + (1<<cfg.Log2Ring)*DescSize }

// DialSlave connects to a master and runs the handshake up to CONNECTED.
func DialSlave(path string, cfg SlaveConfig) (*Slave, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	c, err := Dial(path)
	if err != nil {
		return nil, err
	}
	s := &Slave{Conn: c, cfg: cfg, efd: [2]int{-1, -1}}
	if err := s.handshake(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Slave) handshake() error {
	t := s.cfg.Timeout
	if _, err := s.Expect(MsgHello, t); err != nil {
		return fmt.Errorf("HELLO: %w", err)
	}
	if err := s.exchange(Init(s.cfg.ID, "", "memifpeer")); err != nil {
		return fmt.Errorf("INIT: %w", err)
	}
	if s.cfg.SilentAfter == MsgInit {
		return nil
	}
	rings := s.cfg.ringSize()
	bufs := 2 * (1 << s.cfg.Log2Ring) * int(s.cfg.BufferSize)
	size := 2*rings + bufs
	mem, fd, err := memfd(uint64(size), true)
	if err != nil {
		return err
	}
	s.regions, s.fds = append(s.regions, mem), append(s.fds, fd)
	s.S2M, s.M2S = Ring{mem, 0}, Ring{mem, rings}
	for k, r := range []Ring{s.S2M, s.M2S} {
		r.SetCookie(Cookie)
		for slot := 0; slot < 1<<s.cfg.Log2Ring; slot++ {
			off := 2*rings + (k<<s.cfg.Log2Ring+slot)*int(s.cfg.BufferSize)
			r.SetDesc(slot, 0, 0, s.cfg.BufferSize, uint32(off))
		}
	}
	if err := s.exchange(AddRegion(0, uint64(size)), fd); err != nil {
		return fmt.Errorf("ADD_REGION 0: %w", err)
	}
	if s.cfg.SilentAfter == MsgAddRegion {
		return nil
	}
	for k, sz := range s.cfg.Extra {
		_, fd, err := memfd(sz, false)
		if err != nil {
			return err
		}
		s.fds = append(s.fds, fd)
		if err := s.exchange(AddRegion(uint16(k+1), sz), fd); err != nil {
			return fmt.Errorf("ADD_REGION %d: %w", k+1, err)
		}
	}
	for k, off := range []int{0, rings} {
		efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		if err != nil {
			return err
		}
		s.efd[k] = efd
		if err := s.exchange(AddRing(k == 0, 0, 0, uint32(off), s.cfg.Log2Ring), efd); err != nil {
			return fmt.Errorf("ADD_RING: %w", err)
		}
		if s.cfg.SilentAfter == MsgAddRing {
			return nil
		}
	}
	if err := s.Send(Connect("memifpeer")); err != nil {
		return err
	}
	if _, err := s.Expect(MsgConnected, t); err != nil {
		return fmt.Errorf("CONNECTED: %w", err)
	}
	return nil
}

func (s *Slave) exchange(m []byte, fds ...int) error {
	if err := s.Send(m, fds...); err != nil {
		return err
	}
	_, err := s.Expect(MsgAck, s.cfg.Timeout)
	return err
}

// memfd makes a region; a sparse one (never mapped) costs no memory.
func memfd(size uint64, mapped bool) ([]byte, int, error) {
	fd, err := unix.MemfdCreate("memifpeer", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, -1, err
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, -1, err
	}
	if !mapped {
		return nil, fd, nil
	}
	mem, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, -1, err
	}
	return mem, fd, nil
}

// Desc is one descriptor a test publishes.
type Desc struct {
	Region         uint16
	Length, Offset uint32
	Next           bool
}

// Produce publishes descs on the S2M ring (they must fit its free slots)
// and signals the master.
func (s *Slave) Produce(descs []Desc) error {
	size := 1 << s.cfg.Log2Ring
	if free := size - int(s.head-s.S2M.Tail()); len(descs) > free {
		return fmt.Errorf("%d descriptors, %d slots free", len(descs), free)
	}
	for _, d := range descs {
		var flags uint16
		if d.Next {
			flags = FlagNext
		}
		s.S2M.SetDesc(int(s.head)&(size-1), flags, d.Region, d.Length, d.Offset)
		s.head++
	}
	s.S2M.SetHead(s.head) // after the descriptors: plain stores stay in order on amd64
	_, err := unix.Write(s.efd[0], []byte{1, 0, 0, 0, 0, 0, 0, 0})
	return err
}

// BufferOffset is where S2M slot's own buffer starts in region 0.
func (s *Slave) BufferOffset(slot int) uint32 {
	return uint32(2*s.cfg.ringSize() + slot*int(s.cfg.BufferSize))
}

// Close ends the connection and frees the regions and eventfds.
func (s *Slave) Close() {
	s.Conn.Close()
	for _, m := range s.regions {
		unix.Munmap(m)
	}
	for _, fd := range append(s.fds, s.efd[:]...) {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	s.regions, s.fds, s.efd = nil, nil, [2]int{-1, -1}
}

// DialSlaveWhenReady is DialSlave retried, as a slave retries, until the
// master's socket accepts or timeout passes.
func DialSlaveWhenReady(path string, cfg SlaveConfig, timeout time.Duration) (*Slave, error) {
	deadline := time.Now().Add(timeout)
	for {
		s, err := DialSlave(path, cfg)
		if err == nil || time.Now().After(deadline) {
			return s, err
		}
		if !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ECONNREFUSED) {
			return nil, err
		}
		time.Sleep(10 * time.Millisecond) // a slave's retry interval
	}
}
