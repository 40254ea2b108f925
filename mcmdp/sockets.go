package mcmdp

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mcmgo/mcm/cgo"
)

// Conns of one process on one socket path share one memif socket, and so
// one event goroutine: one master process serves many receivers told apart
// by interface id. The first Conn of a path creates the socket (its
// HandshakeTimeout applies to all), the last Close deletes it; a master's
// socket file goes with the last master. Masters and slaves may share it,
// as in upstream libmemif. An engine without memif.Capabilities
// SharedSocket (upstream libmemif) gets one socket per role on a path.

// socketKey is a socket path (absolute, or "@name") and, when the engine
// cannot share a socket between roles, the role.
type socketKey struct {
	path   string
	master bool
}

// ifaceKey: the engine tells interfaces apart by role and id.
type ifaceKey struct {
	master bool
	id     uint32
}

// sharedSocket is one socket and the Conns using it.
type sharedSocket struct {
	key  socketKey
	sock *memif.Socket
	ids  map[ifaceKey]bool // in use: the engine refuses a second
}

// sockets is the process-wide registry; mu also orders a socket's last
// Close before a new socket on the same path, so a departing master never
// removes the file a new one just bound.
var sockets struct {
	mu sync.Mutex
	m  map[socketKey]*sharedSocket
}

func keyOf(m MemifParam) socketKey {
	path := m.SocketPath
	if !strings.HasPrefix(path, "@") {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
	}
	return socketKey{path, m.IsMaster && !memif.EngineCapabilities().SharedSocket}
}

// attach creates an interface with cfg on the shared socket of p's path,
// creating the socket if it is the first.
func attach(p *ConnParam, cfg memif.Config) (*sharedSocket, *memif.Interface, error) {
	k := keyOf(p.Memif)
	sockets.mu.Lock()
	defer sockets.mu.Unlock()
	ss := sockets.m[k]
	if ss == nil {
		sock, err := memif.NewSocket(memif.SocketConfig{Path: p.Memif.SocketPath, AppName: "mcmdp",
			RetryInterval: int64(50 * time.Millisecond), HandshakeTimeout: int64(p.HandshakeTimeout)})
		if err != nil {
			return nil, nil, fmt.Errorf("mcmdp: socket %s: %w", p.Memif.SocketPath, err)
		}
		ss = &sharedSocket{key: k, sock: sock, ids: map[ifaceKey]bool{}}
	} else if ss.ids[ifaceKey{cfg.IsMaster, cfg.InterfaceID}] {
		return nil, nil, bad("Memif.InterfaceID", "%d is already used by another %s Conn of this process on %s",
			cfg.InterfaceID, map[bool]string{true: "master", false: "slave"}[cfg.IsMaster], p.Memif.SocketPath)
	}
	iface, err := ss.sock.NewInterface(cfg)
	if err != nil {
		if len(ss.ids) == 0 {
			ss.sock.Close()
		}
		if cfg.IsMaster && errors.Is(err, memif.ErrAlready) {
			return nil, nil, fmt.Errorf("mcmdp: another master already listens at %s: %w", p.Memif.SocketPath, err)
		}
		return nil, nil, fmt.Errorf("mcmdp: interface: %w", err)
	}
	ss.ids[ifaceKey{cfg.IsMaster, cfg.InterfaceID}] = true
	if sockets.m == nil {
		sockets.m = map[socketKey]*sharedSocket{}
	}
	sockets.m[k] = ss
	return ss, iface, nil
}

// detach deletes iface (the peer gets a DISCONNECT) and, with the last
// interface, the socket.
func (ss *sharedSocket) detach(iface *memif.Interface) error {
	sockets.mu.Lock()
	defer sockets.mu.Unlock()
	err := iface.Close()
	delete(ss.ids, ifaceKey{iface.Config().IsMaster, iface.Config().InterfaceID})
	if len(ss.ids) == 0 {
		delete(sockets.m, ss.key)
		if cerr := ss.sock.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// sharedSockets counts the sockets open (for tests).
func sharedSockets() int {
	sockets.mu.Lock()
	defer sockets.mu.Unlock()
	return len(sockets.m)
}
