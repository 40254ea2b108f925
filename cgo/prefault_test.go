package memif

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/memifpeer"
	"github.com/mcmgo/mcm/internal/procstat"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// TestPrefault: with Prefault a session's chosen buffers are in each
// side's page tables once it is up (the Rss of that side's mapping of the
// region), before anyone touched them; without it none are. One ring of
// 16 buffers of 64 KB each way, so the buffer region is 2 MB: the master
// sends (PrefaultTx), the slave receives (PrefaultRx), and the other
// direction's 1 MB, chosen by nobody, stays out.
func TestPrefault(t *testing.T) {
	if !EngineCapabilities().Prefault {
		t.Skip("the linked engine maps pages on first touch (Capabilities.Prefault)")
	}
	const bufSize, slots = 64 << 10, 16
	const used = bufSize * slots // one direction's buffers
	for _, on := range []bool{false, true} {
		t.Run(map[bool]string{false: "off", true: "on"}[on], func(t *testing.T) {
			mcfg := Config{InterfaceID: 1, Log2RingSize: 4, BufferSize: bufSize}
			scfg := mcfg
			if on {
				mcfg.Prefault, scfg.Prefault = PrefaultTx, PrefaultRx
			}
			m, _ := pair(t, mcfg, scfg)
			var b [1]Buffer
			n, err := m.Alloc(m.Session(), 0, b[:], bufSize) // writes a descriptor, not the buffer
			require.NoError(t, err)
			require.Equal(t, 1, n)

			maps, err := procstat.Mappings(0)
			require.NoError(t, err)
			master, ok := procstat.MappingOf(maps, uintptr(unsafe.Pointer(unsafe.SliceData(b[0].Data))))
			require.True(t, ok, "the buffer lies in a mapping")
			var slave []procstat.Mapping // the slave's own mapping of the same region
			for _, mp := range maps {
				if strings.Contains(mp.Name, "memif region") && mp.End-mp.Start == 2*used && mp.Start != master.Start {
					slave = append(slave, mp)
				}
			}
			require.Len(t, slave, 1, "the slave maps the 2 MB buffer region once")
			for side, mp := range map[string]procstat.Mapping{"master": master, "slave": slave[0]} {
				require.EqualValues(t, 2*used, mp.End-mp.Start, "%s: the buffer region", side)
				if on {
					assert.EqualValues(t, used, mp.Rss, "%s: the sender's ring's buffers, and only those", side)
				} else {
					assert.Zero(t, mp.Rss, "%s: nothing touched yet", side)
				}
			}
		})
	}
}

func TestPrefaultValidated(t *testing.T) {
	s := newSocket(t, t.TempDir()+"/s.sock")
	_, err := s.NewInterface(Config{IsMaster: true, Prefault: PrefaultTx | PrefaultRx + 1})
	assert.ErrorContains(t, err, "prefault")
}

// TestPrefaultHostileSlave: a prefaulting master follows the slave's
// descriptors, so a slave could ask it to populate far more than a session
// needs: here every slot claims 16 MB of a 1 GB sparse region, and one
// descriptor each way points outside any region. The master maps at most
// its own buffer size (4 KB) per slot, skips the bad ones, and comes up.
func TestPrefaultHostileSlave(t *testing.T) {
	if !EngineCapabilities().Prefault {
		t.Skip("the linked engine maps pages on first touch (Capabilities.Prefault)")
	}
	const page, huge, claim = 4096, 1 << 30, 16 << 20
	path := testsupport.SockPath(t)
	m := newIface(t, newSocket(t, path), Config{IsMaster: true, InterfaceID: hsID,
		BufferSize: page, Prefault: PrefaultTx | PrefaultRx})
	h, err := memifpeer.StartSlave(path, memifpeer.SlaveConfig{ID: hsID, Log2Ring: hsLog2, BufferSize: hsBufSize, Timeout: waitTimeout})
	require.NoError(t, err)
	t.Cleanup(h.Close)
	require.NoError(t, h.SendInit())
	require.NoError(t, h.SendRegion())
	big, err := memifpeer.NewRegion(huge, false) // sparse: costs nothing until touched
	require.NoError(t, err)
	t.Cleanup(big.Close)
	require.NoError(t, h.Send(memifpeer.AddRegion(1, huge), big.Fd))
	_, err = h.Expect(memifpeer.MsgAck, waitTimeout)
	require.NoError(t, err)
	for k, ring := range []memifpeer.Ring{h.S2M, h.M2S} {
		for slot := 0; slot < hsSlots; slot++ {
			ring.SetDesc(slot, 0, 1, claim, uint32((k*hsSlots+slot)*claim))
		}
	}
	h.S2M.SetDesc(hsSlots-1, 0, 9, claim, 0)    // no such region
	h.M2S.SetDesc(hsSlots-1, 0, 1, claim, huge) // starts at the region's end
	require.NoError(t, h.SendRing(true))
	require.NoError(t, h.SendRing(false))
	require.NoError(t, h.SendConnect())
	waitUp(t, m)

	maps, err := procstat.Mappings(0)
	require.NoError(t, err)
	var region []procstat.Mapping // only the master maps region 1
	for _, mp := range maps {
		if mp.End-mp.Start == huge {
			region = append(region, mp)
		}
	}
	require.Len(t, region, 1)
	assert.EqualValues(t, 2*(hsSlots-1)*page, region[0].Rss,
		"one page for each sound descriptor, none for the two bad ones")
}
