package memif

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/mcmgo/mcm/internal/testsupport"
)

// The data path of one interface takes only that interface's lock: it
// goes on while another interface of the same socket is inside the
// engine, and while the socket's own lock is held (a control call, or the
// event goroutine about to handle an event). The event goroutine's engine
// calls wait for every interface's data path to leave.
func TestDataPathsOfOneSocketDoNotQueue(t *testing.T) {
	path := testsupport.SockPath(t)
	ms := newSocket(t, path)
	a := newIface(t, ms, Config{IsMaster: true, InterfaceID: 41})
	b := newIface(t, ms, Config{IsMaster: true, InterfaceID: 42})
	peer := newSocket(t, path)
	pa := newIface(t, peer, Config{InterfaceID: 41})
	pb := newIface(t, peer, Config{InterfaceID: 42})
	for _, i := range []*Interface{a, b, pa, pb} {
		waitUp(t, i)
	}

	a.dmu.Lock() // a is busy in the engine
	ms.mu.Lock() // and a control call holds the socket
	done := make(chan struct{})
	go func() {
		defer close(done)
		sendPacket(t, b, 64, 1, 0)
	}()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Error("b's send queued behind a and the socket")
	}
	ms.mu.Unlock()
	a.dmu.Unlock()
	<-done
	data, _ := recvPacket(t, pb)
	assert.True(t, testsupport.Check(data, 1))
	sendPacket(t, a, 64, 2, 0)
	data, _ = recvPacket(t, pa)
	assert.True(t, testsupport.Check(data, 2))
}
