package memif

import (
	"fmt"
	"unsafe"
)

// Mode is the memif interface mode; both sides must agree.
type Mode uint8

const (
	ModeEthernet     Mode = 0
	ModeIP           Mode = 1
	ModePuntInject   Mode = 2
	maxSecretLen          = 24
	maxNameLen            = 32
	maxSocketPathLen      = 107
	maxBurst              = 256
)

// SocketConfig describes one memif control socket.
type SocketConfig struct {
	// Path of the socket file, or "@name" for an abstract socket.
	Path string
	// AppName is sent to the peer (HELLO / INIT), at most 32 bytes.
	AppName string
	// RetryInterval is how often a slave retries a missing master;
	// 0 means 100ms.
	RetryInterval int64 // nanoseconds
	// HandshakeTimeout bounds a handshake, from the connection to CONNECTED,
	// on either side: a peer silent for longer gets a DISCONNECT and its
	// interface id is free again. 0 means the engine's 5s. Rounded up to
	// milliseconds; ignored with libmemif_system.
	HandshakeTimeout int64 // nanoseconds
}

// Config describes one memif interface on a socket.
type Config struct {
	IsMaster    bool
	InterfaceID uint32
	Name        string // at most 32 bytes
	Secret      string // at most 24 bytes; both sides must match
	Mode        Mode
	// Rings each way (1..255) and log2 of the ring size (1..14); 0 picks
	// the defaults 1 and 10. A master takes what its slave proposes.
	NumS2M, NumM2S uint8
	Log2RingSize   uint8
	// BufferSize of one descriptor's buffer; 0 means 2048. Above 65535
	// needs the bundled engine (libmemif 4.x has 16-bit buffer sizes).
	BufferSize uint32
	// Prefault maps the chosen rings' buffers when a session starts, so
	// the first lap over them costs no page faults. The price is memory:
	// they are resident for the whole session, rings x ring size x buffer
	// size per direction chosen. A master maps at most its own BufferSize
	// per slot of the slave's buffers. 0 maps pages on first touch;
	// ignored with libmemif_system (Capabilities.Prefault).
	Prefault Prefault
}

// Prefault chooses which of a session's buffers are mapped at connect.
type Prefault uint8

const (
	PrefaultTx Prefault = 1 // the buffers of the rings this side sends on
	PrefaultRx Prefault = 2 // the buffers of the rings this side receives on
)

func (c *Config) validate() error {
	switch {
	case len(c.Secret) > maxSecretLen:
		return fmt.Errorf("memif: secret is %d bytes, at most %d", len(c.Secret), maxSecretLen)
	case len(c.Name) > maxNameLen:
		return fmt.Errorf("memif: name is %d bytes, at most %d", len(c.Name), maxNameLen)
	case c.Log2RingSize > 14:
		return fmt.Errorf("memif: log2 ring size %d, at most 14", c.Log2RingSize)
	case c.Mode > ModePuntInject:
		return fmt.Errorf("memif: unknown mode %d", c.Mode)
	case c.Prefault > PrefaultTx|PrefaultRx:
		return fmt.Errorf("memif: prefault %d: want PrefaultTx, PrefaultRx or both", c.Prefault)
	case c.BufferSize > 0xFFFF && !hasBufferSize32:
		return fmt.Errorf("memif: buffer size %d needs the bundled engine", c.BufferSize)
	}
	return nil
}

// Buffer is one descriptor's shared-memory buffer.
//
// On transmit, Alloc sets Data to the whole buffer and Len to the bytes the
// allocation asked for; the caller writes Data and may lower Len before Tx.
// On receive, Data holds exactly the Len received bytes, and cap(Data)
// reaches as far past them as the peer's region does (at most 65,535 bytes
// more; none with libmemif_system): room for a trailer two peers agree on
// after the declared length, which plain peers never see. Next marks a buffer
// that continues in the following one (a chained packet). Metadata is the
// descriptor's 32-bit metadata word (always 0 with libmemif_system).
//
// Data is valid until the buffer is returned (Tx, Refill) or the Interface
// closes; see the package doc for disconnects.
type Buffer struct {
	Data     []byte
	Len      int
	Metadata uint32
	Next     bool

	desc  uint16
	queue unsafe.Pointer // engine's queue: C memory, never Go memory
}

// Session names one connected session of an Interface: the engine's
// connect count when it came up, so the n-th session is Session(n) and
// Status().Connects is the latest. 0 is no session. Data-path calls take
// the session they are meant for and fail with ErrNoConn in any other,
// exactly: sessions change only under the lock those calls hold.
type Session uint64

// Status is a snapshot of an interface's connection state.
type Status struct {
	Up          bool
	Connects    uint64 // the latest Session, up or not
	Disconnects uint64
	// LastError is the last refusal or disconnect reason, from either side.
	LastError string
	// LastErrorCode came with LastError: ErrDisconnect when it is the text
	// of the peer's own DISCONNECT (the peer closed on purpose),
	// ErrDisconnected when the peer vanished, else the code this side
	// refused or ended the session with.
	LastErrorCode Errno
}

// Details is what memif_get_details reports, and the Session it describes
// (0 while down).
type Details struct {
	Session                                  Session
	Name, AppName, RemoteName, RemoteAppName string
	ID                                       uint32
	IsMaster                                 bool
	Mode                                     Mode
	SocketPath                               string
	Error                                    string
	Up                                       bool
	Regions                                  int
	RxQueues, TxQueues                       int
	RingSize                                 int
	// BufferSize is this side's configured buffer size (a master sends
	// into its slave's buffers, whatever their size).
	BufferSize int
}

// log2Ring is the ring size the engine uses (0 means its default, 2^10).
func (c Config) log2Ring() int {
	if c.Log2RingSize == 0 {
		return 10
	}
	return int(c.Log2RingSize)
}
