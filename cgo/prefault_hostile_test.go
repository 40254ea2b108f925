package memif

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/memifpeer"
	"github.com/mcmgo/mcm/internal/procstat"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// TestPrefaultHostileSlave: a prefaulting master follows the slave's
// descriptors, so a slave could ask it to populate far more than a session
// needs: here every slot claims 16 MB of a 1 GB sparse region, and one
// descriptor each way points outside any region. The master maps at most
// its own buffer size (4 KB) per slot, skips the bad ones, and comes up.
func TestPrefaultHostileSlave(t *testing.T) {
	needCap(t, "Prefault")
	needCap(t, "Hardened")
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
