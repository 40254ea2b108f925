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
// With Raw, a frame on the wire is its payload, byte for byte: what plain
// memif peers (DPDK, libmemif applications) send and expect. Otherwise the
// payload is followed, in the same buffer or chain, by a 16-byte
// little-endian trailer: uint32 magic 0x314D434D, uint32 SeqNum, int64
// Timestamp. The payload stays at offset 0 of the buffer, aligned; a frame
// without a valid trailer is delivered whole and counted in
// Stats.FramingErrors.
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
