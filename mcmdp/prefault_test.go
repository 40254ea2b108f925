package mcmdp

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/procstat"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// TestPrefault: by default both Conns find the buffers of their direction
// mapped once connected (the Rss of each side's mapping of the region),
// whichever side is the master; NoPrefault leaves them to fault in. One
// queue of 16 buffers of 64 KB each way: a 2 MB buffer region of which
// the sending direction uses 1 MB.
func TestPrefault(t *testing.T) {
	needCap(t, "Prefault")
	const bufSize, slots = 64 << 10, 16
	const used = bufSize * slots
	for _, txMaster := range []bool{true, false} {
		for _, off := range []bool{false, true} {
			t.Run(fmt.Sprintf("txMaster=%v/NoPrefault=%v", txMaster, off), func(t *testing.T) {
				path := testsupport.SockPath(t)
				txp, rxp := rawParam(path, Tx, txMaster), rawParam(path, Rx, !txMaster)
				for _, p := range []*ConnParam{txp, rxp} {
					p.BufferSize, p.Log2RingSize, p.NoPrefault = bufSize, 4, off
				}
				tx, _ := connect(t, txp, rxp)
				b, err := tx.DequeueBuffer(waitTimeout) // hands out the buffer untouched
				require.NoError(t, err)

				maps, err := procstat.Mappings(0)
				require.NoError(t, err)
				sender, ok := procstat.MappingOf(maps, uintptr(unsafe.Pointer(unsafe.SliceData(b.Data))))
				require.True(t, ok)
				var receiver []procstat.Mapping
				for _, m := range maps {
					if strings.Contains(m.Name, "memif region") && m.End-m.Start == 2*used && m.Start != sender.Start {
						receiver = append(receiver, m)
					}
				}
				require.Len(t, receiver, 1, "the other side's mapping of the buffer region")
				for side, m := range map[string]procstat.Mapping{"sender": sender, "receiver": receiver[0]} {
					require.EqualValues(t, 2*used, m.End-m.Start, side)
					if off {
						assert.Zero(t, m.Rss, "%s: nothing touched yet", side)
					} else {
						assert.EqualValues(t, used, m.Rss, "%s: the sending direction's buffers, and only those", side)
					}
				}
				require.NoError(t, tx.EnqueueBuffer(b))
			})
		}
	}
}
