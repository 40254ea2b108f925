/* session.h - the shared memory of an interface's current session: a
 * slave lays out its regions, rings and buffers; a master adopts what the
 * slave sends after checking it; both check the rings at CONNECT and set
 * them going, and free everything when the session ends. */
#ifndef MEMIF_SESSION_H
#define MEMIF_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"
#include "iface.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Slave: allocates the regions, rings and buffers c's negotiated
 * num_s2m, num_m2s and log2_ring ask for. */
int session_layout (memif_conn_t *c);

/* Master: adopt the region or ring the slave announced, taking fd (closed
 * on failure). 0, or a memif code with *why. */
int session_add_region (memif_conn_t *c, uint16_t index, uint64_t size,
			int fd, const char **why);
int session_add_ring (memif_conn_t *c, const mw_msg_t *m, int efd,
		      const char **why);

/* Checks the rings the peer set up and primes this side's shadows; 0, or
 * a memif code with *why. */
int session_start (memif_conn_t *c, const char **why);

/* Unmaps the session. With keep_held, the pages under buffers the
 * application still holds become private zero pages instead (stale.h). */
void session_free (memif_conn_t *c, bool keep_held);
/* Keeps, as a session that was up ends, what each transmit queue had sent
 * and not got back (txwait.c; memif_tx_in_flight_at_end). */
void txwait_note_end (memif_conn_t *c);

/* Where [offset, offset + len) of one of the session's regions lies, or
 * NULL. */
void *session_ptr (memif_conn_t *c, uint16_t region, uint32_t offset,
		   uint32_t len);

/* Where the buffer bound to a slave's slot starts, or NULL. */
void *slave_buffer_ptr (memif_conn_t *c, const queue_t *q, uint16_t slot);

/* Where a slave's slot's own buffer is, as a descriptor says it. */
static inline void
slave_buffer (const memif_conn_t *c, const queue_t *q, uint16_t slot,
	      uint16_t *region, uint32_t *offset)
{
  if (q->sbuf)
    {				/* no division on the data path */
      *region = q->sregion;
      *offset = q->soffset + (uint32_t) (slot & (q->size - 1))
	* c->buffer_size;
      return;
    }
  uint32_t idx = q->first_buffer + (slot & (q->size - 1));
  *region = (uint16_t) (1 + idx / c->bufs_per_region);
  *offset = (uint32_t) ((uint64_t) (idx % c->bufs_per_region) * c->buffer_size);
}

/* Writes a slave-owned descriptor whole: its own buffer from headroom.
 * Inline, and the value built in registers: a descriptor built in memory
 * (a struct, or an argument past the sixth) is read back by a load that
 * waits for the stores that wrote it, so for every store ahead of them in
 * the store buffer, which on a ring the peer reads means its lines. */
static inline void
slave_desc_put (const memif_conn_t *c, queue_t *q, uint16_t slot,
		uint32_t headroom, uint32_t length, uint16_t flags,
		uint32_t metadata)
{
  uint16_t region;
  uint32_t offset;
  slave_buffer (c, q, slot, &region, &offset);
  offset += headroom;
  mw_desc_t *to = &q->ring->desc[slot & (q->size - 1)];
#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  /* One 16-byte store, not five: the line is usually the peer's, and a
   * core waiting for it holds every store behind it. */
  uint64_t lo = flags | (uint64_t) region << 16 | (uint64_t) length << 32;
  uint64_t hi = offset | (uint64_t) metadata << 32;
  _mm_storeu_si128 ((__m128i *) to,
		    _mm_set_epi64x ((long long) hi, (long long) lo));
#else
  to->flags = flags;
  to->region = region;
  to->length = length;
  to->offset = offset;
  to->metadata = metadata;
#endif
}

/* Points a slave-owned descriptor back at its own buffer. */
void slave_desc_reset (memif_conn_t *c, queue_t *q, uint16_t slot,
		       uint32_t headroom);

#endif
