// Package mcmdp is the data-plane API of Intel's Media Communications Mesh
// (mcm_dp.h) in Go, over memif shared memory with zero copies.
//
// Fill a ConnParam (transfer type, protocol memif, the memif interface, the
// media), CreateConnection, then DequeueBuffer / EnqueueBuffer:
//
//	MCM (C)                   this package
//	mcm_conn_param            ConnParam
//	memif_interface_param     MemifParam
//	mcm_buffer                Buffer
//	mcm_create_connection     CreateConnection
//	mcm_dequeue_buffer        Conn.DequeueBuffer
//	mcm_enqueue_buffer        Conn.EnqueueBuffer
//	mcm_destroy_connection    Conn.Close
//
// The sender is the memif master by default in MCM's apps, but either side
// may be either role and either may start first.
//
// # Many connections on one socket
//
// Conns of one process on the same socket path share one memif socket and
// its event goroutine, told apart by role and interface id: one sender
// process serves receivers with ids 0..N on one path. The socket goes with
// the last of them, a master's socket file with the last master.
//
// # Media check
//
// With MemifParam.Name empty, the memif interface name a Conn sends its
// peer describes its media (mcm1 v1920x1080 yuv422p10le; audio and
// ancillary likewise). Two such peers whose media differ refuse the
// session: CreateConnection, or the next dequeue after a reconnect, returns
// a *MediaMismatchError naming both sides (errors.Is ErrMediaMismatch), the
// peer gets a DISCONNECT saying so, and Stats.MediaMismatches counts it.
// Only what sizes a frame is compared (not FPS, Raw or BufferSize). A peer
// with another name, a plain memif peer or a Conn given a Name, is not
// checked.
//
// # Closing
//
// A sender's Close waits up to DrainTimeout for the receiver to take what
// was enqueued; what it did not take is reported as an *UndeliveredError
// (errors.Is ErrUndelivered) with the number of frames, not lost silently.
//
// # Buffer sizes
//
// One shared-memory buffer holds one whole frame: its size comes from the
// media, by the pixel format's real layout (VideoFrameSize) or the audio
// packet (AudioPacketSize), plus the metadata trailer, rounded up to 64
// bytes. BufferSize overrides it; frames larger than a buffer then travel
// as chains of descriptors, copied once on each side.
//
// # Wire layout
//
// A frame on the wire is its payload alone, byte for byte, at offset 0 of
// the buffer, with the descriptor length equal to the payload length:
// what plain memif peers (DPDK's net_memif, libmemif applications) send and
// expect, so they need no flag. Two mcmdp peers also carry SeqNum and
// Timestamp out of band: the sender writes a 16-byte trailer past the
// payload (uint32 magic 0x314D434D, uint32 SeqNum, int64 Timestamp,
// little-endian) and marks its descriptor (metadata word 0x544D434D). The
// receiver reads it where marked or, when no descriptor is (an upstream
// libmemif on either side has no metadata word), where a framed sender
// puts it, and the magic decides; always only inside the peer's region.
// Buffer.Framed tells the two kinds apart, and a plain peer's frames are
// counted in Stats.PlainFrames, not as errors. With Raw, nothing is
// written past the payload and nothing is read there.
//
// # Ends of sessions
//
// When a session ends, the next DequeueBuffer reports it once: an
// *EndOfStream when the sender closed after its last frame (its count and
// this side's), a *PeerClosed when the peer closed on purpose with another
// reason (a receiver's Close says "receiver closed"), ErrDisconnected when
// it vanished; all three match ErrDisconnected. The calls after it wait for
// the next session within their timeout, so a plain loop never spins. A
// peer that left and came back between two calls still ended a session:
// the next call reports that end before any frame of the new one, whether
// or not Connected or WaitConnected saw the change meanwhile.
// DequeueBufferContext and DequeueBuffersContext end when their context
// does.
//
// # Cost per frame
//
// DequeueBuffer on a sender hands out ring slots the engine reserved ahead
// in batches; EnqueueBuffer sends the frame at once and, when the reserved
// slots run out, reserves the next ones in the same engine call. A frame
// sent per DequeueBuffer+EnqueueBuffer pair thus costs one call into C, a
// burst one per burst; nothing waits to be batched, and reserved slots are
// invisible to the peer. A receiver in interrupt mode masks the sender's
// interrupts (memif's MEMIF_RING_FLAG_MASK_INT) while it is awake and
// unmasks them, looking at the ring once more, before it sleeps: a busy
// receiver costs the sender no eventfd writes, and no wake-up is lost.
//
// # Waiting
//
// A receiver waits for the sender's memif interrupt; a sender with a full
// ring waits for the receiver to release buffers, which our engine signals
// across processes (with other memif peers it polls every 200µs). Nothing
// sleeps in fixed steps; only a receiver in Polling mode spins. Timed
// waits last their timeout even when signals interrupt them. A peer that
// keeps signalling with nothing on the ring (an interrupt flood) is not
// answered each time: the receiver then looks at that ring once per
// millisecond until a frame arrives or the signals stop.
package mcmdp
