//go:build !libmemif_system

/* ring.c - ring layout, index checks and the cross-process wake words.
 *
 * Ownership of the indices (memif 2.0): the slave writes head, the master
 * writes tail, on both rings. On S2M the slave produces at head and the
 * master releases at tail; on M2S the slave posts empty buffers at head and
 * the master fills them and publishes at tail. */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ring.h"

uint64_t
ring_stride (unsigned log2)
{
  return (mw_ring_bytes (log2) + 63) & ~(uint64_t) 63;
}

mw_desc_t
ring_desc_read (const queue_t *q, uint16_t slot)
{
  /* Field by field: the peer may change the descriptor at any moment. */
  const volatile mw_desc_t *v = &q->ring->desc[slot & (q->size - 1)];
  mw_desc_t d;
  d.flags = v->flags;
  d.region = v->region;
  d.length = v->length;
  d.offset = v->offset;
  d.metadata = v->metadata;
  return d;
}

uint32_t
ring_desc_length (const queue_t *q, uint16_t slot)
{
  const volatile mw_desc_t *v = &q->ring->desc[slot & (q->size - 1)];
  return v->length;
}

int
ring_tx_room (const queue_t *q, bool master)
{
  uint16_t room;
  if (master)
    room = mw_dist (q->own, mw_load_acquire (&q->ring->head));
  else
    {
      uint16_t used = mw_dist (mw_load_acquire (&q->ring->tail), q->own);
      if (used > q->size)
	return -1;
      room = (uint16_t) (q->size - used);
    }
  if (room > q->size)
    return -1;
  return room > q->alloc ? room - q->alloc : 0;
}

int
ring_rx_avail (const queue_t *q, bool master)
{
  uint16_t avail, limit;
  if (master)
    {
      avail = mw_dist (q->last, mw_load_acquire (&q->ring->head));
      limit = (uint16_t) (q->size - q->held);	/* slots not yet released */
    }
  else
    {
      avail = mw_dist (q->last, mw_load_acquire (&q->ring->tail));
      limit = mw_dist (q->last, q->own);	/* posted, not yet returned */
    }
  return avail > limit ? -1 : avail;
}

int
ring_start (queue_t *q, bool master, bool s2m, const char **why)
{
  if (__atomic_load_n (&q->ring->cookie, __ATOMIC_ACQUIRE) != MW_COOKIE)
    {
      *why = "ring cookie mismatch";
      return MEMIF_ERR_COOKIE;
    }
  uint16_t head = mw_load_acquire (&q->ring->head);
  uint16_t tail = mw_load_acquire (&q->ring->tail);
  if (master)
    {
      if (mw_dist (tail, head) > q->size)
	{
	  *why = "ring head and tail inconsistent";
	  return MEMIF_ERR_MFMSG;
	}
      q->own = q->last = tail;
    }
  else if (!s2m)
    {
      /* Empty: as upstream, the application posts receive buffers with
       * memif_refill_queue (conn, qid, -1, headroom) in on_connect. */
      q->own = q->last = 0;
      mw_store_release (&q->ring->tail, 0);
      mw_store_release (&q->ring->head, 0);
    }
  q->alloc = q->held = 0;
  return 0;
}

/* ---- Cross-process wakeup for a sender waiting on a full ring ----
 *
 * memif 2.0 signals only "data arrived"; a sender whose ring is full has no
 * event for "the peer released buffers". This engine adds one in the ring's
 * unused padding: the waiter sets a flag word and futex-waits on the 32-bit
 * word holding the index the peer writes; after moving that index the peer
 * checks the flag and FUTEX_WAKEs. A peer advertises that it does this with
 * MW_EXT_WAKES; with other peers the waiter must poll. */

uint32_t *
ring_index_word (mw_ring_t *r, bool head)
{
  return (uint32_t *) ((uint8_t *) r + (head ? 4 : 64));
}

void
ring_wake (mw_ring_t *r, bool head)
{
  syscall (SYS_futex, ring_index_word (r, head), FUTEX_WAKE, INT_MAX, NULL,
	   NULL, 0);
}

void
ring_wake_waiters (mw_ring_t *r, bool head)
{
  uint32_t *flag = head ? &r->ext_head_waiters : &r->ext_tail_waiters;
  __atomic_thread_fence (__ATOMIC_SEQ_CST);
  if (__atomic_load_n (flag, __ATOMIC_RELAXED))
    ring_wake (r, head);
}

void
ring_wake_local (mw_ring_t *r)
{
  ring_wake (r, true);
  ring_wake (r, false);
}

void
ring_announce_wakes (mw_ring_t *r, bool master)
{
  /* A master receives on S2M and releases at tail; a slave at head. */
  __atomic_store_n (master ? &r->ext_tail_wakes : &r->ext_head_wakes,
		    MW_EXT_WAKES, __ATOMIC_RELEASE);
}

void
ring_announce_fences (mw_ring_t *r)
{
  __atomic_store_n (&r->ext_tx_fences, MW_EXT_FENCES, __ATOMIC_RELEASE);
}
