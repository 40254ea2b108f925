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

// Hello is the master's first message: versions and the highest region,
// ring and ring size it accepts.
func Hello(name string) []byte {
	b := msg(MsgHello)
	copy(b[2:2+32], name)
	le.PutUint16(b[34:], Version)
	le.PutUint16(b[36:], Version)
	le.PutUint16(b[38:], 255)
	le.PutUint16(b[40:], 254)
	le.PutUint16(b[42:], 254)
	b[44] = 14
	return b
}

// Ack answers a slave's setup message.
func Ack() []byte { return msg(MsgAck) }

// Connected answers CONNECT.
func Connected(name string) []byte {
	b := msg(MsgConnected)
	copy(b[2:2+32], name)
	return b
}

// Init is the slave's first message: version, interface id, mode, secret
// and interface name.
func Init(id uint32, secret, name string) []byte {
	b := msg(MsgInit)
	le.PutUint16(b[2:], Version)
	le.PutUint32(b[4:], id)
	copy(b[9:9+24], secret)
	copy(b[33:33+32], name)
	return b
}

// AddRegion announces region index of size bytes; its memfd travels with it.
func AddRegion(index uint16, size uint64) []byte {
	b := msg(MsgAddRegion)
	le.PutUint16(b[2:], index)
	le.PutUint64(b[4:], size)
	return b
}

// AddRing announces a ring at offset of region; its interrupt eventfd
// travels with it.
func AddRing(s2m bool, index, region uint16, offset uint32, log2 uint8) []byte {
	b := msg(MsgAddRing)
	if s2m {
		le.PutUint16(b[2:], 1)
	}
	le.PutUint16(b[4:], index)
	le.PutUint16(b[6:], region)
	le.PutUint32(b[8:], offset)
	b[12] = log2
	return b
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
	return le.Uint32(m[2:]), cstr(m[6 : 6+96])
}

func cstr(b []byte) string {
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

func (r Ring) SetCookie(v uint32)   { le.PutUint32(r.Mem[r.Off:], v) }
func (r Ring) Head() uint16         { return le.Uint16(r.Mem[r.Off+ringHeadOff:]) }
func (r Ring) SetHead(v uint16)     { le.PutUint16(r.Mem[r.Off+ringHeadOff:], v) }
func (r Ring) Tail() uint16         { return le.Uint16(r.Mem[r.Off+ringTailOff:]) }
func (r Ring) SetTail(v uint16)     { le.PutUint16(r.Mem[r.Off+ringTailOff:], v) }
func (r Ring) Flags() uint16        { return le.Uint16(r.Mem[r.Off+ringFlagsOff:]) }
func (r Ring) desc(slot int) []byte { return r.Mem[r.Off+RingHeader+slot*DescSize:][:DescSize] }

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
