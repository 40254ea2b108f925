package memif

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/procstat"
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
