//go:build !libmemif_system

/* datapath.c - buffers on the rings: alloc, tx, rx, refill.
 *
 * Ownership of the indices (memif 2.0): the slave writes head, the master
 * writes tail, on both rings. On S2M the slave produces at head and the
 * master releases at tail; on M2S the slave posts empty buffers at head and
 * the master fills them and publishes at tail. Every index or descriptor
 * read from shared memory is checked before use; a peer caught lying is
 * disconnected from the control path (conn_fault). */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <poll.h>
#include <sys/uio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

void
conn_fault (memif_conn_t *c, int err, const char *why)
{
  if (c->fault)
    return;
  c->fault = true;
  c->fault_err = err;
  snprintf (c->fault_reason, sizeof (c->fault_reason), "%s", why);
  uint64_t one = 1;
  if (write (c->sock->work->fd, &one, sizeof (one)) < 0)
    (void) 0;			/* already signalled */
}

int
memif_fault (memif_conn_handle_t conn, const char *reason)
{
  memif_conn_t *c = conn;
  if (!c || !reason)
    return MEMIF_ERR_INVAL_ARG;
  if (c->state != CONN_UP)
    return MEMIF_ERR_NOCONN;
  conn_fault (c, MEMIF_ERR_PROTO, reason);
  return MEMIF_ERR_SUCCESS;
}

static int
usable (memif_conn_t *c)
{
  if (!c)
    return MEMIF_ERR_INVAL_ARG;
  if (c->state != CONN_UP)
    return MEMIF_ERR_NOCONN;
  if (c->fault)
    return MEMIF_ERR_DISCONNECTED;
  return 0;
}

/* The preamble of every data-path call: a connected interface, an
 * existing queue. */
static int
queue_of (memif_conn_t *c, uint16_t qid, bool tx, queue_t **q)
{
  int err = usable (c);
  if (err)
    return err;
  *q = tx ? tx_queue (c, qid) : rx_queue (c, qid);
  return *q ? 0 : MEMIF_ERR_QID;
}

static int
lying (memif_conn_t *c, const char *why)
{
  conn_fault (c, MEMIF_ERR_MFMSG, why);
  return MEMIF_ERR_DISCONNECTED;
}

/* Reads a descriptor once, field by field: the peer may change it at any
 * moment, so only this private copy is checked and used. */
static mw_desc_t
desc_read (const queue_t *q, uint16_t slot)
{
  const volatile mw_desc_t *v = &q->ring->desc[slot & (q->size - 1)];
  mw_desc_t d;
  d.flags = v->flags;
  d.region = v->region;
  d.length = v->length;
  d.offset = v->offset;
  d.metadata = v->metadata;
  return d;
}

/* Free slots this side may fill on a tx ring, or -1 if the peer lied. */
static int
tx_room (memif_conn_t *c, queue_t *q)
{
  uint16_t room;
  if (c->args.is_master)
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

/* Fills bufs with up to max_packets packets of size bytes each. */
static int
buffer_alloc (memif_conn_handle_t conn, uint16_t qid, memif_buffer_t *bufs,
	      uint16_t count, uint16_t *count_out, uint32_t size,
	      uint32_t max_packets)
{
  memif_conn_t *c = conn;
  if (count_out)
    *count_out = 0;
  queue_t *q;
  int err = queue_of (c, qid, true, &q);
  if (err)
    return err;
  if (!bufs || !count_out)
    return MEMIF_ERR_INVAL_ARG;
  int room = tx_room (c, q);
  if (room < 0)
    return lying (c, "peer moved a ring index too far");

  uint16_t n = 0;
  for (uint32_t pkt = 0; n < count && pkt < max_packets; pkt++)
    {
      uint32_t left = size;
      uint16_t k = 0;
      do
	{
	  if (n + k >= count)
	    return n ? MEMIF_ERR_SUCCESS : MEMIF_ERR_NOBUF;
	  if (k >= room)
	    return MEMIF_ERR_NOBUF_RING;
	  uint16_t slot = (uint16_t) (q->own + q->alloc + k);
	  uint32_t cap;
	  if (!c->args.is_master)
	    slave_desc_reset (c, q, slot, 0);
	  mw_desc_t d = desc_read (q, slot);
	  cap = c->args.is_master ? d.length : c->buffer_size;
	  void *p = region_ptr (c, d.region, d.offset, cap);
	  if (!p || cap == 0)
	    return lying (c, "peer posted a buffer outside its region");
	  memif_buffer_t *b = &bufs[n + k];
	  q->spans[slot & (q->size - 1)] = (span_t)
	  {
	  p, cap};
	  b->desc_index = slot & (q->size - 1);
	  b->queue = q;
	  b->data = p;
	  b->len = size && left < cap ? left : cap;
	  b->flags = 0;
	  b->metadata = 0;
	  left = size ? left - b->len : 0;
	  if (left)
	    b->flags = MEMIF_BUFFER_FLAG_NEXT;
	  k++;
	}
      while (left);
      q->alloc += k;
      room -= k;
      n += k;
      *count_out = n;
    }
  return MEMIF_ERR_SUCCESS;
}

int
memif_buffer_alloc32 (memif_conn_handle_t conn, uint16_t qid,
		      memif_buffer_t *bufs, uint16_t count,
		      uint16_t *count_out, uint32_t size)
{
  return buffer_alloc (conn, qid, bufs, count, count_out, size, UINT32_MAX);
}

int
memif_buffer_alloc_packet32 (memif_conn_handle_t conn, uint16_t qid,
			     memif_buffer_t *bufs, uint16_t count,
			     uint16_t *count_out, uint32_t size)
{
  return buffer_alloc (conn, qid, bufs, count, count_out, size, 1);
}

int
memif_buffer_alloc (memif_conn_handle_t conn, uint16_t qid,
		    memif_buffer_t *bufs, uint16_t count,
		    uint16_t *count_out, uint16_t size)
{
  return buffer_alloc (conn, qid, bufs, count, count_out, size, UINT32_MAX);
}

/* The interrupt eventfd's open file is shared with the peer, which can
 * clear O_NONBLOCK on it at any time: never rely on the fd's flags. */
static void
kick (queue_t *q)
{
  uint64_t one = 1;
  struct pollfd p = {.fd = q->efd,.events = POLLOUT };
  if (__atomic_load_n (&q->ring->flags, __ATOMIC_RELAXED)
      & MW_RING_FLAG_MASK_INT)
    return;
  /* Writable means the counter cannot overflow, so write cannot block. */
  if (poll (&p, 1, 0) == 1 && (p.revents & POLLOUT))
    if (write (q->efd, &one, sizeof (one)) < 0)
      (void) 0;			/* the peer is awake anyway */
}

static void
drain_interrupt (int efd)
{
  uint64_t v;
  struct iovec io = {.iov_base = &v,.iov_len = sizeof (v) };
  if (preadv2 (efd, &io, 1, -1, RWF_NOWAIT) >= 0 || errno == EAGAIN)
    return;
  /* Kernels without RWF_NOWAIT on eventfd: read only what poll saw. */
  struct pollfd p = {.fd = efd,.events = POLLIN };
  if (poll (&p, 1, 0) == 1 && (p.revents & POLLIN))
    if (read (efd, &v, sizeof (v)) < 0)
      (void) 0;
}

int
memif_tx_burst (memif_conn_handle_t conn, uint16_t qid,
		memif_buffer_t *bufs, uint16_t count, uint16_t *tx)
{
  memif_conn_t *c = conn;
  if (tx)
    *tx = 0;
  queue_t *q;
  int err = queue_of (c, qid, true, &q);
  if (err)
    return err;
  if (count > q->alloc || (count && !bufs) || !tx)
    return MEMIF_ERR_INVAL_ARG;
  /* Check the whole burst first: a bad buffer sends nothing. */
  for (uint16_t i = 0; i < count; i++)
    {
      uint16_t slot = (uint16_t) (q->own + i) & (q->size - 1);
      if (bufs[i].desc_index != slot)
	return MEMIF_ERR_INVAL_ARG;
      if (!c->args.is_master && bufs[i].len > c->buffer_size)
	return MEMIF_ERR_INVAL_ARG;
      /* The master's capacity is the slave's posted length, as alloc
       * handed it out; the slave must not shrink it while we own the
       * slot. (An application overrunning it lands here too.) */
      if (c->args.is_master && bufs[i].len > desc_read (q, slot).length)
	return lying (c, "peer shrank a posted buffer (or the sender overran it)");
    }
  for (uint16_t i = 0; i < count; i++)
    {
      mw_desc_t *d = &q->ring->desc[(q->own + i) & (q->size - 1)];
      d->length = bufs[i].len;
      d->flags = bufs[i].flags & MEMIF_BUFFER_FLAG_NEXT ? MW_DESC_FLAG_NEXT
	: 0;
      d->metadata = bufs[i].metadata;
    }
  q->own += count;
  q->alloc -= count;
  if (c->args.is_master)
    mw_store_release (&q->ring->tail, q->own);
  else
    mw_store_release (&q->ring->head, q->own);
  if (count)
    kick (q);
  *tx = count;
  return MEMIF_ERR_SUCCESS;
}

int
memif_rx_burst (memif_conn_handle_t conn, uint16_t qid,
		memif_buffer_t *bufs, uint16_t count, uint16_t *rx)
{
  memif_conn_t *c = conn;
  if (rx)
    *rx = 0;
  queue_t *q;
  int err = queue_of (c, qid, false, &q);
  if (err)
    return err;
  if (!rx || (count && !bufs))
    return MEMIF_ERR_INVAL_ARG;
  if (!c->rx_polling[qid])
    drain_interrupt (q->efd);
  uint16_t avail, limit;
  if (c->args.is_master)
    {
      uint16_t head = mw_load_acquire (&q->ring->head);
      avail = mw_dist (q->last, head);
      limit = (uint16_t) (q->size - q->held);	/* slots not yet released */
    }
  else
    {
      avail = mw_dist (q->last, mw_load_acquire (&q->ring->tail));
      limit = mw_dist (q->last, q->own);	/* posted, not yet returned */
    }
  if (avail > limit)
    return lying (c, "peer moved a ring index too far");
  uint16_t n = avail < count ? avail : count;
  for (uint16_t i = 0; i < n; i++)
    {
      uint16_t slot = (uint16_t) (q->last + i);
      mw_desc_t d = desc_read (q, slot);
      void *p = region_ptr (c, d.region, d.offset, d.length);
      if (!p || (!c->args.is_master && d.length > c->buffer_size))
	return lying (c, "peer sent a descriptor outside its region");
      memif_buffer_t *b = &bufs[i];
      q->spans[slot & (q->size - 1)] = (span_t)
      {
      p, d.length};
      b->desc_index = slot & (q->size - 1);
      b->queue = q;
      b->data = p;
      b->len = d.length;
      b->flags = MEMIF_BUFFER_FLAG_RX
	| (d.flags & MW_DESC_FLAG_NEXT ? MEMIF_BUFFER_FLAG_NEXT : 0);
      b->metadata = d.metadata;
    }
  q->last += n;
  q->held += n;
  *rx = n;
  return MEMIF_ERR_SUCCESS;
}

/* ---- Cross-process wakeup for a sender waiting on a full ring ----
 *
 * memif 2.0 signals only "data arrived"; a sender whose ring is full has no
 * event for "the peer released buffers". This engine adds one in the ring's
 * unused padding: the waiter sets a flag word and futex-waits on the 32-bit
 * word holding the index the peer writes; after moving that index the peer
 * checks the flag and FUTEX_WAKEs. A peer advertises that it does this with
 * MW_EXT_WAKES; with other peers the waiter must poll. */

static uint32_t *
index_word (mw_ring_t *r, bool head)
{
  return (uint32_t *) ((uint8_t *) r + (head ? 4 : 64));
}

static void
wake_waiters (mw_ring_t *r, bool head)
{
  uint32_t *flag = head ? &r->ext_head_waiters : &r->ext_tail_waiters;
  __atomic_thread_fence (__ATOMIC_SEQ_CST);
  if (__atomic_load_n (flag, __ATOMIC_RELAXED))
    syscall (SYS_futex, index_word (r, head), FUTEX_WAKE, INT_MAX, NULL,
	     NULL, 0);
}

/* Wakes this process's own waiters on a ring about to go away. */
void
wake_local_waiters (mw_ring_t *r)
{
  syscall (SYS_futex, index_word (r, true), FUTEX_WAKE, INT_MAX, NULL, NULL,
	   0);
  syscall (SYS_futex, index_word (r, false), FUTEX_WAKE, INT_MAX, NULL, NULL,
	   0);
}

int
memif_tx_wait_prepare (memif_conn_handle_t conn, uint16_t qid,
		       uint16_t *room, uint16_t *in_flight, uint32_t **word,
		       uint32_t *value, int *peer_wakes)
{
  memif_conn_t *c = conn;
  queue_t *q;
  int err = queue_of (c, qid, true, &q);
  if (err)
    return err;
  if (!room || !in_flight || !word || !value || !peer_wakes)
    return MEMIF_ERR_INVAL_ARG;
  /* The master waits for the slave's head, the slave for the master's
   * tail: the index the peer moves when it releases buffers. */
  bool head = c->args.is_master;
  mw_ring_t *r = q->ring;
  __atomic_store_n (head ? &r->ext_head_waiters : &r->ext_tail_waiters, 1,
		    __ATOMIC_SEQ_CST);
  *word = index_word (r, head);
  *value = __atomic_load_n (*word, __ATOMIC_SEQ_CST);
  *peer_wakes = __atomic_load_n (head ? &r->ext_head_wakes
				 : &r->ext_tail_wakes,
				 __ATOMIC_RELAXED) == MW_EXT_WAKES;
  int rm = tx_room (c, q);
  if (rm < 0)
    return lying (c, "peer moved a ring index too far");
  *room = (uint16_t) rm;
  if (c->args.is_master)
    *in_flight = (uint16_t) (q->size
			     - mw_dist (q->own,
					mw_load_acquire (&r->head)));
  else
    *in_flight = mw_dist (mw_load_acquire (&r->tail), q->own);
  return MEMIF_ERR_SUCCESS;
}

int
memif_tx_wait_done (memif_conn_handle_t conn, uint16_t qid)
{
  memif_conn_t *c = conn;
  queue_t *q;
  int err = queue_of (c, qid, true, &q);
  if (err)
    return err;
  __atomic_store_n (c->args.is_master ? &q->ring->ext_head_waiters
		    : &q->ring->ext_tail_waiters, 0, __ATOMIC_RELAXED);
  return MEMIF_ERR_SUCCESS;
}

int
memif_tx_wait_wake (memif_conn_handle_t conn, uint16_t qid)
{
  memif_conn_t *c = conn;
  queue_t *q;
  int err = queue_of (c, qid, true, &q);
  if (err)
    return err;
  syscall (SYS_futex, index_word (q->ring, c->args.is_master), FUTEX_WAKE,
	   INT_MAX, NULL, NULL, 0);
  return MEMIF_ERR_SUCCESS;
}

int
memif_refill_queue (memif_conn_handle_t conn, uint16_t qid, uint16_t count,
		    uint16_t headroom)
{
  memif_conn_t *c = conn;
  queue_t *q;
  int err = queue_of (c, qid, false, &q);
  if (err)
    return err;
  if (c->args.is_master)
    {
      if (count > q->held)
	count = q->held;
      q->own += count;
      q->held -= count;
      mw_store_release (&q->ring->tail, q->own);
      wake_waiters (q->ring, false);
      return MEMIF_ERR_SUCCESS;
    }
  if (headroom >= c->buffer_size)
    return MEMIF_ERR_INVAL_ARG;
  uint16_t room = (uint16_t) (q->size - mw_dist (q->last, q->own));
  if (count > room)
    count = room;
  for (uint16_t i = 0; i < count; i++)
    slave_desc_reset (c, q, (uint16_t) (q->own + i), headroom);
  q->own += count;
  q->held -= count < q->held ? count : q->held;
  mw_store_release (&q->ring->head, q->own);
  wake_waiters (q->ring, true);
  return MEMIF_ERR_SUCCESS;
}

int
memif_get_queue_efd (memif_conn_handle_t conn, uint16_t qid, int *fd)
{
  memif_conn_t *c = conn;
  if (fd)
    *fd = -1;
  queue_t *q;
  int err = queue_of (c, qid, false, &q);
  if (err)
    return err;
  if (!fd)
    return MEMIF_ERR_INVAL_ARG;
  *fd = q->efd;
  return MEMIF_ERR_SUCCESS;
}

int
memif_set_rx_mode (memif_conn_handle_t conn, memif_rx_mode_t rx_mode,
		   uint16_t qid)
{
  memif_conn_t *c = conn;
  if (!c || qid >= MW_MAX_RINGS || rx_mode > MEMIF_RX_MODE_POLLING)
    return MEMIF_ERR_INVAL_ARG;
  c->rx_polling[qid] = rx_mode == MEMIF_RX_MODE_POLLING;
  queue_t *q = c->state == CONN_UP ? rx_queue (c, qid) : NULL;
  if (q)
    __atomic_store_n (&q->ring->flags,
		      c->rx_polling[qid] ? MW_RING_FLAG_MASK_INT : 0,
		      __ATOMIC_RELEASE);
  return MEMIF_ERR_SUCCESS;
}
