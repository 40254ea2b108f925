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
	Hello    HelloFields // what the master's HELLO said
	cfg      SlaveConfig
	region   *Region   // region 0, mapped, once laid out
	extra    []*Region // regions 1, 2, ...: sparse, not mapped
	S2M, M2S Ring
	efd      [2]int // S2M, M2S interrupt eventfds
	head     uint16 // S2M: next slot to produce
}

func (cfg SlaveConfig) ringSize() int { return RingHeader + (1<<cfg.Log2Ring)*DescSize }

// DialSlave connects to a master and runs the handshake up to CONNECTED.
func DialSlave(path string, cfg SlaveConfig) (*Slave, error) {
	s, err := StartSlave(path, cfg)
	if err != nil {
		return nil, err
	}
	if err := s.handshake(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// StartSlave connects to a master and reads its HELLO; the rest of the
// handshake is the test's, step by step (SendInit, SendRegion, SendRing,
// SendConnect), with lies in between.
func StartSlave(path string, cfg SlaveConfig) (*Slave, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	c, err := Dial(path)
	if err != nil {
		return nil, err
	}
	s := &Slave{Conn: c, cfg: cfg, efd: [2]int{-1, -1}}
	h, err := s.Expect(MsgHello, cfg.Timeout)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("HELLO: %w", err)
	}
	s.Hello = ParseHello(h)
	return s, nil
}

func (s *Slave) handshake() error {
	if err := s.SendInit(); err != nil || s.cfg.SilentAfter == MsgInit {
		return err
	}
	if err := s.SendRegion(); err != nil || s.cfg.SilentAfter == MsgAddRegion {
		return err
	}
	for k, sz := range s.cfg.Extra {
		r, err := NewRegion(sz, false)
		if err != nil {
			return err
		}
		s.extra = append(s.extra, r)
		if err := s.exchange(AddRegion(uint16(k+1), sz), r.Fd); err != nil {
			return fmt.Errorf("ADD_REGION %d: %w", k+1, err)
		}
	}
	for _, s2m := range []bool{true, false} {
		if err := s.SendRing(s2m); err != nil || s.cfg.SilentAfter == MsgAddRing {
			return err
		}
	}
	return s.SendConnect()
}

// SendInit sends INIT for the configured interface id and reads the ACK.
func (s *Slave) SendInit() error {
	if err := s.exchange(Init(s.cfg.ID, "", "memifpeer")); err != nil {
		return fmt.Errorf("INIT: %w", err)
	}
	return nil
}

// Layout makes region 0 with both rings laid out by the book (cookies set,
// every descriptor pointing at its own buffer) without announcing it.
func (s *Slave) Layout() error {
	rings := s.cfg.ringSize()
	size := 2*rings + 2*(1<<s.cfg.Log2Ring)*int(s.cfg.BufferSize)
	r, err := NewRegion(uint64(size), true)
	if err != nil {
		return err
	}
	s.region = r
	s.S2M, s.M2S = Ring{r.Mem, 0}, Ring{r.Mem, rings}
	for k, ring := range []Ring{s.S2M, s.M2S} {
		ring.SetCookie(Cookie)
		for slot := 0; slot < 1<<s.cfg.Log2Ring; slot++ {
			off := 2*rings + (k<<s.cfg.Log2Ring+slot)*int(s.cfg.BufferSize)
			ring.SetDesc(slot, 0, 0, s.cfg.BufferSize, uint32(off))
		}
	}
	return nil
}

// SendRegion lays region 0 out (Layout), announces it with its memfd and
// reads the ACK.
func (s *Slave) SendRegion() error {
	if err := s.Layout(); err != nil {
		return err
	}
	if err := s.exchange(AddRegion(0, uint64(len(s.region.Mem))), s.region.Fd); err != nil {
		return fmt.Errorf("ADD_REGION 0: %w", err)
	}
	return nil
}

// SendRing announces the S2M or M2S ring of region 0 with a new interrupt
// eventfd and reads the ACK.
func (s *Slave) SendRing(s2m bool) error {
	k, r := 1, s.M2S
	if s2m {
		k, r = 0, s.S2M
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return err
	}
	s.efd[k] = efd
	if err := s.exchange(AddRing(s2m, 0, 0, uint32(r.Off), s.cfg.Log2Ring), efd); err != nil {
		return fmt.Errorf("ADD_RING: %w", err)
	}
	return nil
}

// SendConnect sends CONNECT and reads CONNECTED.
func (s *Slave) SendConnect() error {
	if err := s.Send(Connect("memifpeer")); err != nil {
		return err
	}
	if _, err := s.Expect(MsgConnected, s.cfg.Timeout); err != nil {
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

// Region is memfd-backed shared memory.
type Region struct {
	Fd  int
	Mem []byte // nil when not mapped
}

// NewRegion makes a memfd of size bytes, sealable but not sealed (a peer
// seals what it receives), mapped if mapped; an unmapped one is sparse and
// costs no memory.
func NewRegion(size uint64, mapped bool) (*Region, error) {
	fd, err := unix.MemfdCreate("memifpeer", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, err
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, err
	}
	r := &Region{Fd: fd}
	if mapped && size > 0 {
		if r.Mem, err = unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
			unix.Close(fd)
			return nil, err
		}
	}
	return r, nil
}

// Close unmaps the region and closes its memfd (idempotent).
func (r *Region) Close() {
	if r == nil {
		return
	}
	if r.Mem != nil {
		unix.Munmap(r.Mem)
		r.Mem = nil
	}
	if r.Fd >= 0 {
		unix.Close(r.Fd)
		r.Fd = -1
	}
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

// PostReceiveBuffers offers the master every M2S buffer, as a receiving
// slave does once connected (the layout set their offsets and lengths).
func (s *Slave) PostReceiveBuffers() {
	s.M2S.SetHead(uint16(1 << s.cfg.Log2Ring))
}

// BufferOffset is where S2M slot's own buffer starts in region 0.
func (s *Slave) BufferOffset(slot int) uint32 {
	return uint32(2*s.cfg.ringSize() + slot*int(s.cfg.BufferSize))
}

// Region0 is region 0 once laid out (nil before).
func (s *Slave) Region0() *Region { return s.region }

// Close ends the connection and frees the regions and eventfds.
func (s *Slave) Close() {
	s.Conn.Close()
	s.region.Close()
	for _, r := range s.extra {
		r.Close()
	}
	for _, fd := range s.efd {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	s.region, s.extra, s.efd = nil, nil, [2]int{-1, -1}
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
