//go:build !libmemif_system

/* datapath.c - buffers on the rings: alloc, tx, rx, refill, with upstream
 * libmemif 4.0's counting and return codes. Who writes which index is in
 * ring.c. Every index or descriptor read from shared memory is checked
 * before use; a peer caught lying is disconnected from the control path
 * (conn_fault). */
#include <errno.h>
#include <poll.h>
#include <sys/uio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "datapath.h"
#include "session.h"

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
  if (!c)
    return MEMIF_ERR_NOCONN;
  if (!reason)
    return MEMIF_ERR_INVAL_ARG;
  if (c->state != CONN_UP)
    return MEMIF_ERR_DISCONNECTED;
  conn_fault (c, MEMIF_ERR_PROTO, reason);
  return MEMIF_ERR_SUCCESS;
}

/* Upstream's codes: NOCONN for no handle, DISCONNECTED for no session (a
 * faulted session counts as gone). */
static int
usable (memif_conn_t *c)
{
  if (!c)
    return MEMIF_ERR_NOCONN;
  if (c->state != CONN_UP || c->fault)
    return MEMIF_ERR_DISCONNECTED;
  return 0;
}

int
memif_is_up (memif_conn_handle_t conn)
{
  return usable (conn) == 0;
}

int
queue_of (memif_conn_t *c, uint16_t qid, bool tx, queue_t **q)
{
  int err = usable (c);
  if (err)
    return err;
  *q = tx ? tx_queue (c, qid) : rx_queue (c, qid);
  return *q ? 0 : MEMIF_ERR_QID;
}

int
lying (memif_conn_t *c, const char *why)
{
  conn_fault (c, MEMIF_ERR_MFMSG, why);
  return MEMIF_ERR_DISCONNECTED;
}

int
tx_room (memif_conn_t *c, queue_t *q)
{
  return ring_tx_room (q, c->args.is_master);
}

int
take_slot (memif_conn_t *c, queue_t *q, uint16_t slot, memif_buffer_t *b,
	   uint32_t *cap)
{
  void *p;
  if (c->args.is_master)
    {
      mw_desc_t d = ring_desc_read (q, slot);
      *cap = d.length;
      p = session_ptr (c, d.region, d.offset, *cap);
    }
  else
    {				/* its own buffer: tx writes the descriptor */
      *cap = c->buffer_size;
      p = slave_buffer_ptr (c, q, slot);
    }
  if (!p || *cap == 0)
    return -1;
  q->spans[slot & (q->size - 1)] = (span_t)
  {
  p, *cap};
  b->desc_index = slot;
  b->queue = q;
  b->data = p;
  b->flags = 0;
  return 0;
}

/* Most this side warms ahead in one call: a burst's worth. */
#define WARM_AHEAD_MAX 64

/* Warms the lines of the next n free slots past those allocated: their
 * descriptor lines and, for a slave, the first line of each buffer. The
 * peer's core read them a lap ago; taken back now, while the application
 * fills what it was just given, its stores into them later do not wait.
 * Only free slots: the peer is done with them. */
static void
warm_ahead (memif_conn_t *c, queue_t *q, uint32_t n)
{
  if (n > WARM_AHEAD_MAX)
    n = WARM_AHEAD_MAX;
  for (uint32_t i = 0; i < n; i++)
    {
      uint16_t s = (uint16_t) (q->own + q->alloc + i) & (q->size - 1);
      const mw_desc_t *d = &q->ring->desc[s];
      if (i == 0 || ((uintptr_t) d & 63) == 0)
	prefetch_for_write (d);
      if (q->sbuf)
	prefetch_for_write (q->sbuf + (size_t) s * c->buffer_size);
    }
}

/* Takes the entries of one packet of size bytes (0: one whole buffer) at
 * bufs[n], *k of them. On NOBUF (out of entries) or NOBUF_RING (out of
 * room) the packet's entries are zeroed. */
static int
alloc_packet (memif_conn_t *c, queue_t *q, memif_buffer_t *bufs, uint32_t n,
	      uint32_t max_entries, uint32_t room, uint32_t size, uint32_t *k)
{
  uint32_t left = size;
  *k = 0;
  do
    {
      /* Out of entries first: a packet longer than the caller's array (a
       * ring's worth, say) will never fit, whatever frees up. */
      bool out = n + *k >= max_entries;
      if (out || n + *k >= room)
	{
	  memset (&bufs[n], 0, *k * sizeof (*bufs));
	  return out ? MEMIF_ERR_NOBUF : MEMIF_ERR_NOBUF_RING;
	}
      memif_buffer_t *b = &bufs[n + *k];
      uint32_t cap;
      if (take_slot (c, q, (uint16_t) (q->own + q->alloc + *k), b, &cap))
	return lying (c, "peer posted a buffer outside its region");
      b->len = size && left < cap ? left : cap;
      left = size ? left - b->len : 0;
      if (left)
	b->flags = MEMIF_BUFFER_FLAG_NEXT;
      (*k)++;
    }
  while (left);
  return 0;
}

/* The allocators. max_entries bounds the entries of bufs (the extensions
 * count buffers), max_packets the packets (upstream counts packets). A
 * packet that does not fit whole is rolled back, its entries zeroed. */
static int
alloc_common (memif_conn_t *c, uint16_t qid, memif_buffer_t *bufs,
	      uint32_t max_entries, uint32_t max_packets, uint16_t *count_out,
	      uint32_t size, bool whole_if_zero)
{
  queue_t *q;
  int err = queue_of (c, qid, true, &q);
  if (err)
    return err;
  if (!count_out || (!bufs && max_packets))
    return MEMIF_ERR_INVAL_ARG;
  *count_out = 0;
  int room = tx_room (c, q);
  if (room < 0)
    return lying (c, "peer moved a ring index too far");
  if (size == 0 && !whole_if_zero)
    return MEMIF_ERR_SUCCESS;	/* upstream: a 0-byte packet takes nothing */

  uint32_t n = 0;
  for (uint32_t pkt = 0; pkt < max_packets; pkt++)
    {
      uint32_t k;
      err = alloc_packet (c, q, bufs, n, max_entries, (uint32_t) room, size,
			  &k);
      if (err == MEMIF_ERR_NOBUF && n)
	break;			/* the caller's array is full */
      if (err)
	return err;
      q->alloc += k;
      n += k;
      *count_out = (uint16_t) n;
    }
  warm_ahead (c, q, n < (uint32_t) room - n ? n : (uint32_t) room - n);
  return MEMIF_ERR_SUCCESS;
}

int
memif_buffer_alloc (memif_conn_handle_t conn, uint16_t qid,
		    memif_buffer_t *bufs, uint16_t count,
		    uint16_t *count_out, uint16_t size)
{
  return alloc_common (conn, qid, bufs, UINT32_MAX, count, count_out, size,
		       false);
}

int
memif_buffer_alloc32 (memif_conn_handle_t conn, uint16_t qid,
		      memif_buffer_t *bufs, uint16_t count,
		      uint16_t *count_out, uint32_t size)
{
  return alloc_common (conn, qid, bufs, count, UINT32_MAX, count_out, size,
		       true);
}

int
memif_buffer_alloc_packet32 (memif_conn_handle_t conn, uint16_t qid,
			     memif_buffer_t *bufs, uint16_t count,
			     uint16_t *count_out, uint32_t size)
{
  return alloc_common (conn, qid, bufs, count, 1, count_out, size, true);
}

/* The interrupt eventfd's open file is shared with the peer, which can
 * clear O_NONBLOCK on it at any time: never rely on the fd's flags.
 *
 * flags is the ring's flags word as read just before the index was
 * published: a relaxed load after the release store could be ordered
 * before it anyway, and after it the load would wait for the line the
 * store is taking back from the peer.
 *
 * A polling receiver masks interrupts for good. An awake one masks them
 * until it prepares to sleep (memif_rx_wait_prepare), so a mask seen may
 * just have been cleared: the fence pairs with the one there, and the
 * second look sees either the mask cleared or the receiver sees the index
 * just published; no wake-up is lost. Polling needs no fence. */
static void
kick (queue_t *q, uint16_t flags)
{
  uint64_t one = 1;
  struct pollfd p = {.fd = q->efd,.events = POLLOUT };
  if (flags & MW_RING_FLAG_MASK_INT)
    {
      if (!(flags & MW_RING_FLAG_EXT_AWAKE))
	return;
      __atomic_thread_fence (__ATOMIC_SEQ_CST);
      if (__atomic_load_n (&q->ring->flags, __ATOMIC_RELAXED)
	  & MW_RING_FLAG_MASK_INT)
	return;
    }
  q->kicks++;
  /* Writable means the counter cannot overflow, so write cannot block. */
  if (poll (&p, 1, 0) == 1 && (p.revents & POLLOUT))
    if (write (q->efd, &one, sizeof (one)) < 0)
      (void) 0;			/* the peer is awake anyway */
}

/* Masks (awake) or unmasks a receive ring's interrupts; only the receiver
 * writes the flags, and only when they change (the word shares a cache
 * line with an index). Returns whether they were masked. */
static bool
mask_interrupts (queue_t *q, bool on)
{
  const uint16_t awake = MW_RING_FLAG_MASK_INT | MW_RING_FLAG_EXT_AWAKE;
  uint16_t f = __atomic_load_n (&q->ring->flags, __ATOMIC_RELAXED);
  uint16_t want = on ? f | awake : f & ~awake;
  if (f != want)
    __atomic_store_n (&q->ring->flags, want, __ATOMIC_RELAXED);
  return f & MW_RING_FLAG_MASK_INT;
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

/* Why buffer i cannot be sent, or 0. Slave: data may sit anywhere inside
 * the buffer alloc handed out (headroom), *off says where. */
static int
tx_check (memif_conn_t *c, queue_t *q, const memif_buffer_t *b,
	  uint16_t slot, uint32_t *off)
{
  const span_t *sp = &q->spans[slot & (q->size - 1)];
  *off = 0;
  if (((b->desc_index ^ slot) & (q->size - 1)) != 0)
    return MEMIF_ERR_INVAL_ARG;
  if (!c->args.is_master && b->data)
    {
      uintptr_t d = (uintptr_t) b->data, base = (uintptr_t) sp->p;
      if (d < base || d - base > sp->len)
	return MEMIF_ERR_INVAL_ARG;
      *off = (uint32_t) (d - base);
    }
  if (b->len > sp->len - *off)
    return MEMIF_ERR_INVAL_ARG;	/* the application overran its buffer */
  return 0;
}

/* Writes slot's descriptor for a send of len bytes from off. Within what
 * alloc handed out, but above what the slave posts now, means the slave
 * shrank a buffer the master owns: that ends the session. */
static int
put_desc (memif_conn_t *c, queue_t *q, uint16_t slot, uint32_t off,
	  uint32_t len, uint16_t flags, uint32_t meta)
{
  if (!c->args.is_master)
    {
      slave_desc_put (c, q, slot, off, len, flags, meta);
      return 0;
    }
  if (len > ring_desc_length (q, slot))
    return lying (c, "peer shrank a posted buffer");
  mw_desc_t *d = &q->ring->desc[slot & (q->size - 1)];
  d->length = len;
  d->flags = flags;
  d->metadata = meta;
  return 0;
}

/* Sends of at most this many buffers fetch their index line to write. */
#define SHORT_SEND 4

/* Asks, as a send starts, for the lines it will touch: the first
 * descriptor's, to write, and the line of the index it publishes (a
 * slave's holds the flags word kick reads too). The peer's polling keeps
 * them in its core; fetched now they come while the descriptors are
 * written. A short send asks for its index line to write: asked for to
 * read, it comes shared, and the store must take it once more, a second
 * round trip that the return to the caller waits for. A long one asks to
 * read, as the peer would take a line it cannot use yet back before the
 * store, and also reads the line of the peer's index, which the next
 * allocation looks at. A short send leaves that line alone: it is
 * allocated for in batches, and taking the line every frame would make
 * the peer's next release wait for it. */
static inline void
ring_lines_early (queue_t *q, bool master, uint16_t count)
{
  const uint16_t *mine = master ? &q->ring->tail : &q->ring->head;
  prefetch_for_write (&q->ring->desc[q->own & (q->size - 1)]);
  if (count <= SHORT_SEND)
    {
      prefetch_for_write (mine);
      return;
    }
  __builtin_prefetch (mine, 0, 3);
  __builtin_prefetch (master ? &q->ring->head : &q->ring->tail, 0, 3);
}

/* What both sends do first: find the queue, check the arguments (count
 * entries of array), zero *tx, and fetch the index lines if anything goes. */
static int
send_start (memif_conn_t *c, uint16_t qid, queue_t **q, uint16_t *tx,
	    uint16_t count, const void *array)
{
  int err = queue_of (c, qid, true, q);
  if (err)
    return err;
  if (!tx || (count && !array))
    return MEMIF_ERR_INVAL_ARG;
  *tx = 0;
  if (count)
    ring_lines_early (*q, c->args.is_master, count);
  return 0;
}

/* Hands the n oldest allocated slots to the peer and signals it. */
static void
publish (memif_conn_t *c, queue_t *q, uint16_t n)
{
  if (!n)
    return;			/* the peer's lines are not worth touching */
  uint16_t flags = __atomic_load_n (&q->ring->flags, __ATOMIC_RELAXED);
  q->own += n;
  q->alloc -= n;
  if (c->args.is_master)
    mw_store_release (&q->ring->tail, q->own);
  else
    mw_store_release (&q->ring->head, q->own);
  kick (q, flags);
}

/* After a short send, asks for the buffer line of the next slot already
 * allocated, to write: the application fills it next. The peer's core
 * read it a lap ago, and its reads of what was just sent may pull in the
 * lines after it; fetched now, the fill does not wait for it, nor does the
 * crossing back to the caller (it waits for every store before it). */
static void
warm_next_fill (queue_t *q, uint16_t sent)
{
  if (sent && sent <= SHORT_SEND && q->alloc)
    prefetch_for_write (q->spans[q->own & (q->size - 1)].p);
}

int
memif_tx_burst_meta (memif_conn_handle_t conn, uint16_t qid,
		     memif_buffer_t *bufs, const uint32_t *meta,
		     uint16_t count, uint16_t *tx)
{
  memif_conn_t *c = conn;
  queue_t *q;
  int err = send_start (c, qid, &q, tx, count, bufs);
  if (err)
    return err;
  /* Upstream's contract: the good prefix goes, the first bad buffer stops. */
  uint16_t n = 0;
  int rc = MEMIF_ERR_SUCCESS;
  for (; n < count; n++)
    {
      uint16_t slot = (uint16_t) (q->own + n);
      uint32_t off;
      if (n >= q->alloc)
	rc = MEMIF_ERR_INVAL_ARG;	/* never allocated */
      else
	rc = tx_check (c, q, &bufs[n], slot, &off);
      if (rc)
	break;
      uint16_t flags = bufs[n].flags & MEMIF_BUFFER_FLAG_NEXT
	? MW_DESC_FLAG_NEXT : 0;
      if (put_desc (c, q, slot, off, bufs[n].len, flags, meta ? meta[n] : 0))
	return MEMIF_ERR_DISCONNECTED;
    }
  publish (c, q, n);
  warm_next_fill (q, n);
  *tx = n;
  return rc;
}

int
memif_tx_burst (memif_conn_handle_t conn, uint16_t qid,
		memif_buffer_t *bufs, uint16_t count, uint16_t *tx)
{
  return memif_tx_burst_meta (conn, qid, bufs, NULL, count, tx);
}

int
memif_tx_singles (memif_conn_handle_t conn, uint16_t qid,
		  const uint32_t *len, const uint32_t *meta, uint16_t count,
		  uint16_t *tx)
{
  memif_conn_t *c = conn;
  queue_t *q;
  int err = send_start (c, qid, &q, tx, count, len);
  if (err)
    return err;
  uint16_t n = 0;
  int rc = MEMIF_ERR_SUCCESS;
  for (; n < count; n++)
    {
      uint16_t slot = (uint16_t) (q->own + n);
      if (n >= q->alloc || len[n] > q->spans[slot & (q->size - 1)].len)
	{
	  rc = MEMIF_ERR_INVAL_ARG;	/* never allocated, or overrun */
	  break;
	}
      if (put_desc (c, q, slot, 0, len[n], 0, meta ? meta[n] : 0))
	return MEMIF_ERR_DISCONNECTED;
    }
  publish (c, q, n);
  warm_next_fill (q, n);
  *tx = n;
  return rc;
}

int
memif_alloc_singles (memif_conn_handle_t conn, uint16_t qid, void **data,
		     uint16_t count, uint32_t size, uint16_t *got,
		     int *short_slot)
{
  memif_conn_t *c = conn;
  queue_t *q;
  int err = queue_of (c, qid, true, &q);
  if (err)
    return err;
  if (!got || !short_slot || (count && !data))
    return MEMIF_ERR_INVAL_ARG;
  *got = 0;
  *short_slot = 0;
  int room = tx_room (c, q);
  if (room < 0)
    return lying (c, "peer moved a ring index too far");
  uint16_t n = 0;
  for (; n < count && n < room; n++)
    {
      memif_buffer_t b;
      uint32_t cap;
      if (take_slot (c, q, (uint16_t) (q->own + q->alloc), &b, &cap))
	return lying (c, "peer posted a buffer outside its region");
      if (cap < size)
	{
	  *short_slot = 1;	/* stays free: a chain of them is the way */
	  break;
	}
      data[n] = b.data;
      q->alloc++;
      *got = (uint16_t) (n + 1);
    }
  warm_ahead (c, q, n < room - n ? n : (uint32_t) (room - n));
  return n < count && !*short_slot ? MEMIF_ERR_NOBUF_RING : MEMIF_ERR_SUCCESS;
}

int
memif_rx_burst_meta (memif_conn_handle_t conn, uint16_t qid,
		     memif_buffer_t *bufs, uint32_t *meta, uint16_t count,
		     uint16_t *rx)
{
  return memif_rx_burst_room (conn, qid, bufs, meta, NULL, count, rx);
}

int
memif_rx_burst_room (memif_conn_handle_t conn, uint16_t qid,
		     memif_buffer_t *bufs, uint32_t *meta, uint32_t *room,
		     uint16_t count, uint16_t *rx)
{
  memif_conn_t *c = conn;
  queue_t *q;
  int err = queue_of (c, qid, false, &q);
  if (err)
    return err;
  if (!rx || (count && !bufs))
    return MEMIF_ERR_INVAL_ARG;
  *rx = 0;
  int avail = ring_rx_avail (q, c->args.is_master);
  if (avail < 0)
    return lying (c, "peer moved a ring index too far");
  uint16_t n = avail < count ? (uint16_t) avail : count;
  for (uint16_t i = 0; i < n; i++)
    {
      uint16_t slot = (uint16_t) (q->last + i);
      mw_desc_t d = ring_desc_read (q, slot);
      void *p = session_ptr (c, d.region, d.offset, d.length);
      if (!p || (!c->args.is_master && d.length > c->buffer_size))
	return lying (c, "peer sent a descriptor outside its region");
      memif_buffer_t *b = &bufs[i];
      q->spans[slot & (q->size - 1)] = (span_t)
      {
      p, d.length};
      b->desc_index = slot;
      b->queue = q;
      b->data = p;
      b->len = d.length;
      b->flags = d.flags & MW_DESC_FLAG_NEXT ? MEMIF_BUFFER_FLAG_NEXT : 0;
      if (meta)
	meta[i] = d.metadata;
      if (room)
	{
	  /* region_ptr checked offset + length against the region's size */
	  uint64_t left = c->regions[d.region].size
	    - ((uint64_t) d.offset + d.length);
	  room[i] = left > 0xFFFF ? 0xFFFF : (uint32_t) left;
	}
    }
  q->last += n;
  q->held += n;
  *rx = n;
  bool interrupts = !c->rx_polling[qid];
  if (interrupts && q->mask_awake)
    {
      /* Busy: the sender need not signal until the receiver prepares to
       * sleep, which also drains the eventfd and looks again. */
      if (n)
	mask_interrupts (q, true);
      return avail > n ? MEMIF_ERR_NOBUF : MEMIF_ERR_SUCCESS;
    }
  if (avail > n)
    return MEMIF_ERR_NOBUF;	/* more waiting: the interrupt stays pending */
  if (interrupts)
    {
      drain_interrupt (q->efd);
      /* A burst published between the read and the drain lost its kick:
       * give it back, so the caller's loop is woken again. */
      int more = ring_rx_avail (q, c->args.is_master);
      if (more > 0)
	{
	  uint64_t one = 1;
	  if (write (q->efd, &one, sizeof (one)) < 0)
	    (void) 0;
	}
    }
  return MEMIF_ERR_SUCCESS;
}

int
memif_rx_burst (memif_conn_handle_t conn, uint16_t qid,
		memif_buffer_t *bufs, uint16_t count, uint16_t *rx)
{
  return memif_rx_burst_meta (conn, qid, bufs, NULL, count, rx);
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
      ring_wake_waiters (q->ring, false);
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
  ring_wake_waiters (q->ring, true);
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
memif_rx_wait_prepare (memif_conn_handle_t conn, uint16_t qid, int *ready,
		       int *was_masked)
{
  memif_conn_t *c = conn;
  queue_t *q;
  int err = queue_of (c, qid, false, &q);
  if (err)
    return err;
  if (!ready)
    return MEMIF_ERR_INVAL_ARG;
  bool was = false;
  if (!c->rx_polling[qid])
    {
      /* A sender that does not fence may act on the mask just cleared;
       * the first time, any sender may act on polling mode's. */
      bool fences = __atomic_load_n (&q->ring->ext_tx_fences,
				     __ATOMIC_RELAXED) == MW_EXT_FENCES;
      was = (mask_interrupts (q, false) && !fences) || !q->mask_awake;
      q->mask_awake = true;
      /* Pairs with kick's: a burst published before this point is seen
       * below, one published after it finds the mask cleared. */
      __atomic_thread_fence (__ATOMIC_SEQ_CST);
      drain_interrupt (q->efd);
    }
  int avail = ring_rx_avail (q, c->args.is_master);
  if (avail < 0)
    return lying (c, "peer moved a ring index too far");
  *ready = avail > 0;
  if (was_masked)
    *was_masked = was;
  return MEMIF_ERR_SUCCESS;
}

int
memif_get_tx_interrupts (memif_conn_handle_t conn, uint16_t qid,
			 uint64_t *sent)
{
  memif_conn_t *c = conn;
  queue_t *q;
  int err = queue_of (c, qid, true, &q);
  if (err)
    return err;
  if (!sent)
    return MEMIF_ERR_INVAL_ARG;
  *sent = q->kicks;
  return MEMIF_ERR_SUCCESS;
}

int
memif_set_rx_mode (memif_conn_handle_t conn, memif_rx_mode_t rx_mode,
		   uint16_t qid)
{
  memif_conn_t *c = conn;
  if (!c)
    return MEMIF_ERR_NOCONN;
  if (qid >= MW_MAX_RINGS || (c->state == CONN_UP && !rx_queue (c, qid)))
    return MEMIF_ERR_QID;
  if (rx_mode > MEMIF_RX_MODE_POLLING)
    return MEMIF_ERR_INVAL_ARG;
  c->rx_polling[qid] = rx_mode == MEMIF_RX_MODE_POLLING;
  queue_t *q = c->state == CONN_UP ? rx_queue (c, qid) : NULL;
  if (q)
    __atomic_store_n (&q->ring->flags,
		      c->rx_polling[qid] ? MW_RING_FLAG_MASK_INT : 0,
		      __ATOMIC_RELEASE);
  return MEMIF_ERR_SUCCESS;
}
