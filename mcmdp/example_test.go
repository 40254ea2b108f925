package mcmdp_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mcmgo/mcm/mcmdp"
)

// videoConn is the 1080p yuv422p10le connection both examples use.
func videoConn(typ mcmdp.TransferType, path string) *mcmdp.ConnParam {
	return &mcmdp.ConnParam{
		Type:     typ,
		Protocol: mcmdp.ProtoMemif,
		Memif:    mcmdp.MemifParam{IsMaster: typ == mcmdp.Tx, SocketPath: path},
		Payload:  mcmdp.PayloadVideo,
		Width:    1920, Height: 1080, FPS: 60,
		PixFmt: mcmdp.PixFmtYUV422P10LE,
	}
}

// A sender: dequeue a buffer in shared memory, fill it, enqueue it.
func Example_sender() {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("mcmdp-example-tx-%d.sock", os.Getpid()))
	go runReceiver(path, 3, false) // the other service, normally another process

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := mcmdp.CreateConnection(ctx, videoConn(mcmdp.Tx, path))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tx.Close()
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
	fmt.Println("sent 3 frames of", tx.FrameSize(), "bytes")
	// Output: sent 3 frames of 8294400 bytes
}

// A receiver: dequeue the next frame, read it in place, give it back.
func Example_receiver() {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("mcmdp-example-rx-%d.sock", os.Getpid()))
	go runSender(path, 3) // the other service, normally another process
	runReceiver(path, 3, true)
	// Output:
	// frame 0: 8294400 bytes, first byte 0
	// frame 1: 8294400 bytes, first byte 1
	// frame 2: 8294400 bytes, first byte 2
}

func runReceiver(path string, frames int, verbose bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rx, err := mcmdp.CreateConnection(ctx, videoConn(mcmdp.Rx, path))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rx.Close()
	for i := 0; i < frames; i++ {
		buf, err := rx.DequeueBuffer(5 * time.Second)
		if err != nil {
			fmt.Println(err)
			return
		}
		if verbose {
			fmt.Printf("frame %d: %d bytes, first byte %d\n", buf.SeqNum, len(buf.Data), buf.Data[0])
		}
		rx.EnqueueBuffer(buf)
	}
}

func runSender(path string, frames int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := mcmdp.CreateConnection(ctx, videoConn(mcmdp.Tx, path))
	if err != nil {
		return
	}
	defer tx.Close()
	for i := 0; i < frames; i++ {
		buf, err := tx.DequeueBuffer(5 * time.Second)
		if err != nil {
			return
		}
		buf.Data[0] = byte(i)
		tx.EnqueueBuffer(buf)
	}
}
