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
