// Package memifpeer is a memif 2.0 peer written by hand from the protocol's
// wire description, for tests that must play a peer the engine did not
// write: hostile slaves that lie about frames, peers that stall mid
// handshake. It is test support; services never import it.
package memifpeer

import (
	"bytes"
	"encoding/binary"
)

// Control message types and sizes.
const (
	MsgAck        uint16 = 1
	MsgHello      uint16 = 2
	MsgInit       uint16 = 3
	MsgAddRegion  uint16 = 4
	MsgAddRing    uint16 = 5
	MsgConnect    uint16 = 6
	MsgConnected  uint16 = 7
	MsgDisconnect uint16 = 8

	MsgSize = 128
	Version = 0x0200
	Cookie  = 0x3E31F20
)

// Ring header and descriptor layout.
const (
	ringFlagsOff = 4
	ringHeadOff  = 6
	ringTailOff  = 64
	RingHeader   = 128
	DescSize     = 16
	FlagNext     = 1
)

var le = binary.LittleEndian

func msg(typ uint16) []byte {
	b := make([]byte, MsgSize)
	le.PutUint16(b, typ)
	return b
}

// Message is a message of type typ with every field zero: with a type no
// peer knows, or cut or extended, it is a malformed message.
func Message(typ uint16) []byte { return msg(typ) }

// HelloFields are a HELLO's fields: the versions the master speaks and the
// highest region index, ring indices and ring size it accepts.
type HelloFields struct {
	Name                   string
	MinVersion, MaxVersion uint16
	MaxRegion              uint16
	MaxM2SRing, MaxS2MRing uint16
	MaxLog2RingSize        uint8
}

// DefaultHello is what a master by the book offers.
func DefaultHello(name string) HelloFields {
	return HelloFields{Name: name, MinVersion: Version, MaxVersion: Version,
		MaxRegion: 255, MaxM2SRing: 254, MaxS2MRing: 254, MaxLog2RingSize: 14}
}

// Encode is the HELLO carrying f, whatever its values.
func (f HelloFields) Encode() []byte {
	b := msg(MsgHello)
	copy(b[2:2+32], f.Name)
	le.PutUint16(b[34:], f.MinVersion)
	le.PutUint16(b[36:], f.MaxVersion)
	le.PutUint16(b[38:], f.MaxRegion)
	le.PutUint16(b[40:], f.MaxM2SRing)
	le.PutUint16(b[42:], f.MaxS2MRing)
	b[44] = f.MaxLog2RingSize
	return b
}

// ParseHello reads a HELLO's fields.
func ParseHello(m []byte) HelloFields {
	return HelloFields{Name: CString(m[2 : 2+32]), MinVersion: le.Uint16(m[34:]), MaxVersion: le.Uint16(m[36:]),
		MaxRegion: le.Uint16(m[38:]), MaxM2SRing: le.Uint16(m[40:]), MaxS2MRing: le.Uint16(m[42:]), MaxLog2RingSize: m[44]}
}

// Hello is the master's first message, as a master by the book sends it.
func Hello(name string) []byte { return DefaultHello(name).Encode() }

// Ack answers a slave's setup message.
func Ack() []byte { return msg(MsgAck) }

// Connected answers CONNECT.
func Connected(name string) []byte {
	b := msg(MsgConnected)
	copy(b[2:2+32], name)
	return b
}

// InitFields are an INIT's fields.
type InitFields struct {
	Version      uint16
	ID           uint32
	Mode         uint8
	Secret, Name string
}

// Encode is the INIT carrying f, whatever its values.
func (f InitFields) Encode() []byte {
	b := msg(MsgInit)
	le.PutUint16(b[2:], f.Version)
	le.PutUint32(b[4:], f.ID)
	b[8] = f.Mode
	copy(b[9:9+24], f.Secret)
	copy(b[33:33+32], f.Name)
	return b
}

// ParseInit reads an INIT's fields.
func ParseInit(m []byte) InitFields {
	return InitFields{Version: le.Uint16(m[2:]), ID: le.Uint32(m[4:]), Mode: m[8],
		Secret: CString(m[9 : 9+24]), Name: CString(m[33 : 33+32])}
}

// Init is the slave's first message: memif 2.0, ethernet mode, interface
// id, secret and interface name.
func Init(id uint32, secret, name string) []byte {
	return InitFields{Version: Version, ID: id, Secret: secret, Name: name}.Encode()
}

// AddRegion announces region index of size bytes; its memfd travels with it.
func AddRegion(index uint16, size uint64) []byte {
	b := msg(MsgAddRegion)
	le.PutUint16(b[2:], index)
	le.PutUint64(b[4:], size)
	return b
}

// RingFields are an ADD_RING's fields.
type RingFields struct {
	S2M           bool
	Index, Region uint16
	Offset        uint32
	Log2          uint8
	PrivateHeader uint16 // bytes; memif 2.0 peers send 0
}

// Encode is the ADD_RING carrying f, whatever its values.
func (f RingFields) Encode() []byte {
	b := msg(MsgAddRing)
	if f.S2M {
		le.PutUint16(b[2:], 1)
	}
	le.PutUint16(b[4:], f.Index)
	le.PutUint16(b[6:], f.Region)
	le.PutUint32(b[8:], f.Offset)
	b[12] = f.Log2
	le.PutUint16(b[13:], f.PrivateHeader)
	return b
}

// AddRing announces a ring at offset of region; its interrupt eventfd
// travels with it.
func AddRing(s2m bool, index, region uint16, offset uint32, log2 uint8) []byte {
	return RingFields{S2M: s2m, Index: index, Region: region, Offset: offset, Log2: log2}.Encode()
}

// Connect is the slave's last handshake message, with its interface name.
func Connect(name string) []byte {
	b := msg(MsgConnect)
	copy(b[2:2+32], name)
	return b
}

// Disconnect carries a code and a reason of at most 96 bytes.
func Disconnect(code uint32, reason string) []byte {
	b := msg(MsgDisconnect)
	le.PutUint32(b[2:], code)
	copy(b[6:6+96], reason)
	return b
}

// Type is a message's type field.
func Type(m []byte) uint16 { return le.Uint16(m) }

// DisconnectReason reads a DISCONNECT's code and reason.
func DisconnectReason(m []byte) (code uint32, reason string) {
	return le.Uint32(m[2:]), CString(m[6 : 6+96])
}

// CString reads a NUL-padded text field (up to the first NUL, or all of it).
func CString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// Ring is a view of one ring inside a mapped region.
type Ring struct {
	Mem []byte
	Off int
}

// Header fields: the cookie, the head (written by the ring's producer),
// the tail (by its consumer) and the flags.
func (r Ring) SetCookie(v uint32)   { le.PutUint32(r.Mem[r.Off:], v) }
func (r Ring) Head() uint16         { return le.Uint16(r.Mem[r.Off+ringHeadOff:]) }
func (r Ring) SetHead(v uint16)     { le.PutUint16(r.Mem[r.Off+ringHeadOff:], v) }
func (r Ring) Tail() uint16         { return le.Uint16(r.Mem[r.Off+ringTailOff:]) }
func (r Ring) SetTail(v uint16)     { le.PutUint16(r.Mem[r.Off+ringTailOff:], v) }
func (r Ring) Flags() uint16        { return le.Uint16(r.Mem[r.Off+ringFlagsOff:]) }
func (r Ring) desc(slot int) []byte { return r.Mem[r.Off+RingHeader+slot*DescSize:][:DescSize] }

// SetDescLength rewrites only the length of descriptor slot.
func (r Ring) SetDescLength(slot int, length uint32) { le.PutUint32(r.desc(slot)[4:], length) }

// SetDesc writes descriptor slot.
func (r Ring) SetDesc(slot int, flags, region uint16, length, offset uint32) {
	d := r.desc(slot)
	le.PutUint16(d[0:], flags)
	le.PutUint16(d[2:], region)
	le.PutUint32(d[4:], length)
	le.PutUint32(d[8:], offset)
	le.PutUint32(d[12:], 0)
}

// Desc reads descriptor slot: flags, region, length, offset.
func (r Ring) Desc(slot int) (flags, region uint16, length, offset uint32) {
	d := r.desc(slot)
	return le.Uint16(d[0:]), le.Uint16(d[2:]), le.Uint32(d[4:]), le.Uint32(d[8:])
}
