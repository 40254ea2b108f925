package mcmdp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mcmgo/mcm/mcmdp"
)

// video is a 1080p yuv422p10le connection on the socket at path. In a real
// system each side is its own service; here the peer runs in a goroutine.
func video(typ mcmdp.TransferType, master bool, path string) *mcmdp.ConnParam {
	return &mcmdp.ConnParam{
		Type:    typ,
		Memif:   mcmdp.MemifParam{IsMaster: master, SocketPath: path},
		Payload: mcmdp.PayloadVideo, Width: 1920, Height: 1080, FPS: 60,
		PixFmt: mcmdp.PixFmtYUV422P10LE,
	}
}

// socketPath makes a directory for the example's socket.
func socketPath() (string, func()) {
	dir, _ := os.MkdirTemp("", "mcmdp-example")
	return filepath.Join(dir, "cam0.sock"), func() { os.RemoveAll(dir) }
}

// sendFrames is the sending service of the examples: n frames, then Close,
// which the receiver sees as the end of the stream.
func sendFrames(p *mcmdp.ConnParam, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := mcmdp.CreateConnection(ctx, p)
	if err != nil {
		return
	}
	for i := 0; i < n; i++ {
		buf, err := tx.DequeueBuffer(time.Second)
		if err != nil {
			break
		}
		buf.Data[0] = byte(i)
		tx.EnqueueBuffer(buf)
	}
	tx.Close()
}

// A sender: dequeue a buffer in shared memory, fill it, enqueue it. Close
// waits until the receiver has taken everything, then ends the stream.
func Example_sender() {
	path, cleanup := socketPath()
	defer cleanup()
	go func() { // the receiving service: takes frames until the stream ends
		rx, _ := mcmdp.CreateConnection(context.Background(), video(mcmdp.Rx, false, path))
		for buf, err := rx.DequeueBuffer(-1); err == nil; buf, err = rx.DequeueBuffer(-1) {
			rx.EnqueueBuffer(buf)
		}
		rx.Close()
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := mcmdp.CreateConnection(ctx, video(mcmdp.Tx, true, path))
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := 0; i < 3; i++ {
		buf, err := tx.DequeueBuffer(time.Second)
		if err != nil {
			fmt.Println(err)
			return
		}
		buf.Data[0] = byte(i) // ... render the frame into buf.Data ...
		buf.Timestamp = time.Now().UnixNano()
		if err := tx.EnqueueBuffer(buf); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println("sent 3 frames of", tx.FrameSize(), "bytes; close:", tx.Close())
	// Output: sent 3 frames of 8294400 bytes; close: <nil>
}

// A receiver: dequeue the next frame, read it in place, give it back, until
// the sender ends the stream.
func Example_receiver() {
	path, cleanup := socketPath()
	defer cleanup()
	go sendFrames(video(mcmdp.Tx, true, path), 3)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rx, err := mcmdp.CreateConnection(ctx, video(mcmdp.Rx, false, path))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rx.Close()
	for {
		buf, err := rx.DequeueBufferContext(ctx)
		var eos *mcmdp.EndOfStream
		switch {
		case errors.As(err, &eos):
			fmt.Printf("end of stream: %d sent, %d lost\n", eos.Sent, eos.Lost())
			return
		case err != nil:
			fmt.Println(err)
			return
		}
		fmt.Printf("frame %d: %d bytes, first byte %d\n", buf.SeqNum, len(buf.Data), buf.Data[0])
		rx.EnqueueBuffer(buf)
	}
	// Output:
	// frame 0: 8294400 bytes, first byte 0
	// frame 1: 8294400 bytes, first byte 1
	// frame 2: 8294400 bytes, first byte 2
	// end of stream: 3 sent, 0 lost
}

// A receiver that outlives its senders: when one goes, the next call
// reports it once, and the calls after it wait for the next sender. No
// reconnect code is needed, and nothing spins while nobody is there.
func Example_reconnect() {
	path, cleanup := socketPath()
	defer cleanup()
	sender := func() { sendFrames(video(mcmdp.Tx, false, path), 2) } // comes, sends, goes
	go sender()
	rx, err := mcmdp.CreateConnection(context.Background(), video(mcmdp.Rx, true, path))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rx.Close()
	for n := 1; n <= 2; n++ {
		if n == 2 {
			go sender() // another one, later
		}
		for {
			buf, err := rx.DequeueBuffer(10 * time.Second)
			if errors.Is(err, mcmdp.ErrDisconnected) { // matches every kind of end
				fmt.Println("sender", n, "left:", err)
				break
			}
			if err != nil {
				fmt.Println(err)
				return
			}
			rx.EnqueueBuffer(buf)
		}
	}
	fmt.Println("reconnects:", rx.Stats().Reconnects)
	// Output:
	// sender 1 left: mcmdp: end of stream: 2 frames sent, 2 received
	// sender 2 left: mcmdp: end of stream: 2 frames sent, 2 received
	// reconnects: 1
}

// Small packets in bursts: one engine call for many buffers each way.
func Example_bursts() {
	path, cleanup := socketPath()
	defer cleanup()
	anc := func(typ mcmdp.TransferType) *mcmdp.ConnParam {
		return &mcmdp.ConnParam{Type: typ, Memif: mcmdp.MemifParam{IsMaster: typ == mcmdp.Tx, SocketPath: path},
			Payload: mcmdp.PayloadAncillary, BufferSize: 256}
	}
	got := make(chan int)
	go func() { // the receiving service
		rx, _ := mcmdp.CreateConnection(context.Background(), anc(mcmdp.Rx))
		defer rx.Close()
		in, total := make([]*mcmdp.Buffer, 64), 0
		for total < 96 {
			n, err := rx.DequeueBuffers(in, time.Second)
			if err != nil {
				break
			}
			total += n
			rx.EnqueueBuffers(in[:n])
		}
		got <- total
	}()

	tx, err := mcmdp.CreateConnection(context.Background(), anc(mcmdp.Tx))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tx.Close()
	out := make([]*mcmdp.Buffer, 32)
	for sent := 0; sent < 96; {
		n, err := tx.DequeueBuffers(out, time.Second)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, b := range out[:n] {
			b.Len = copy(b.Data, "a small packet")
		}
		tx.EnqueueBuffers(out[:n])
		sent += n
	}
	fmt.Println("received", <-got, "packets")
	// Output: received 96 packets
}

// Raw carries the payload alone, byte for byte, as plain memif peers (DPDK's
// net_memif, libmemif applications) send and expect it.
func Example_raw() {
	path, cleanup := socketPath()
	defer cleanup()
	raw := func(typ mcmdp.TransferType) *mcmdp.ConnParam {
		return &mcmdp.ConnParam{Type: typ, Memif: mcmdp.MemifParam{IsMaster: typ == mcmdp.Tx, SocketPath: path},
			Payload: mcmdp.PayloadAncillary, BufferSize: 2048, Raw: true}
	}
	go func() {
		tx, _ := mcmdp.CreateConnection(context.Background(), raw(mcmdp.Tx))
		buf, _ := tx.DequeueBuffer(time.Second)
		buf.Len = copy(buf.Data, "\x45\x00 an IPv4 packet, say")
		tx.EnqueueBuffer(buf)
		tx.Close()
	}()
	rx, err := mcmdp.CreateConnection(context.Background(), raw(mcmdp.Rx))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rx.Close()
	buf, err := rx.DequeueBuffer(time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d bytes: %q\n", len(buf.Data), buf.Data)
	rx.EnqueueBuffer(buf)
	// Output: 22 bytes: "E\x00 an IPv4 packet, say"
}
