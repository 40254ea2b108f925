//go:build !libmemif_system

/* session.c - a session's shared memory, from layout or adoption to free. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "session.h"

#include "stale.h"

static int
queues_alloc (memif_conn_t *c)
{
  const mem_t *mem = &c->sock->mem;
  c->s2m = mem_alloc (mem, MW_MAX_RINGS * sizeof (queue_t));
  c->m2s = mem_alloc (mem, MW_MAX_RINGS * sizeof (queue_t));
  if (!c->s2m || !c->m2s)
    {
      /* Both or neither: session_free walks them as a pair. */
      mem_free (mem, c->s2m);
      mem_free (mem, c->m2s);
      c->s2m = c->m2s = NULL;
      return MEMIF_ERR_NOMEM;
    }
  for (int i = 0; i < MW_MAX_RINGS; i++)
    c->s2m[i].efd = c->m2s[i].efd = -1;
  return 0;
}

void *
session_ptr (memif_conn_t *c, uint16_t region, uint32_t offset, uint32_t len)
{
  return region_ptr (c->regions, c->nregions, region, offset, len);
}

void *
slave_buffer_ptr (memif_conn_t *c, const queue_t *q, uint16_t slot)
{
  if (q->sbuf)			/* checked against its region once */
    return q->sbuf + (size_t) (slot & (q->size - 1)) * c->buffer_size;
  uint16_t region;
  uint32_t offset;
  slave_buffer (c, q, slot, &region, &offset);
  return session_ptr (c, region, offset, c->buffer_size);
}

/* Sets q's one-region shortcut (see queue_t) when its buffers allow. */
static void
slave_queue_shortcut (memif_conn_t *c, queue_t *q)
{
  uint32_t per = c->bufs_per_region;
  uint32_t last = q->first_buffer + q->size - 1;
  q->sbuf = NULL;
  if (q->first_buffer / per != last / per)
    return;
  uint16_t region;
  uint32_t offset;
  slave_buffer (c, q, 0, &region, &offset);
  uint64_t span = (uint64_t) q->size * c->buffer_size;
  if (region >= c->nregions || offset + span > c->regions[region].size)
    return;
  q->sregion = region;
  q->soffset = offset;
  q->sbuf = (uint8_t *) c->regions[region].addr + offset;
}

void
slave_desc_reset (memif_conn_t *c, queue_t *q, uint16_t slot,
		  uint32_t headroom)
{
  slave_desc_put (c, q, slot, headroom, c->buffer_size - headroom, 0, 0);
}

/* Region 0 holds the rings, regions 1.. the buffers, each buffer region
 * small enough for 32-bit descriptor offsets. */
static int
slave_regions (memif_conn_t *c, uint32_t nrings)
{
  uint64_t nbufs = (uint64_t) nrings << c->log2_ring;
  uint64_t per = (MAX_BUFFER_REGION_BYTES + 1) / c->buffer_size;
  if (per > nbufs)
    per = nbufs;
  uint64_t nbuf_regions = (nbufs + per - 1) / per;
  if (1 + nbuf_regions > MW_MAX_REGIONS)
    return MEMIF_ERR_MAXREG;
  c->bufs_per_region = (uint32_t) per;

  int err = region_create (&c->regions[0],
			   nrings * ring_stride (c->log2_ring));
  c->nregions = 1;
  for (uint64_t i = 0; !err && i < nbuf_regions; i++)
    {
      uint64_t n = nbufs - i * per < per ? nbufs - i * per : per;
      err = region_create (&c->regions[1 + i], n * c->buffer_size);
      c->nregions++;		/* counted even if failed: its fd is closed */
    }
  return err;
}

/* Ring g of the slave's layout (S2M first, then M2S), every slot pointing
 * at its own buffer. */
static int
slave_ring_init (memif_conn_t *c, uint32_t g)
{
  uint32_t rsize = 1u << c->log2_ring;
  queue_t *q = g < c->num_s2m ? &c->s2m[g] : &c->m2s[g - c->num_s2m];
  q->log2 = c->log2_ring;
  q->size = (uint16_t) rsize;
  q->region = 0;
  q->offset = (uint32_t) (g * ring_stride (c->log2_ring));
  q->ring = (mw_ring_t *) ((uint8_t *) c->regions[0].addr + q->offset);
  q->first_buffer = g * rsize;
  slave_queue_shortcut (c, q);
  q->efd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (q->efd < 0)
    return err_from_errno (errno);
  q->ring->cookie = MW_COOKIE;
  for (uint32_t s = 0; s < rsize; s++)
    slave_desc_reset (c, q, (uint16_t) s, 0);
  return 0;
}

/* The pages under [lo, hi), which may be longer than 32 bits can say. */
static range_t
pages_of (const uint8_t *lo, const uint8_t *hi)
{
  return (range_t) { page_range (lo, 0).lo, page_range (hi, 0).hi };
}

/* Adds [p, p + len) to the run of memory being populated: adjacent buffers
 * (the usual layout) make one call, not one per buffer. */
static void
run_add (uint8_t **lo, uint8_t **hi, uint8_t *p, uint64_t len)
{
  if (*hi && p >= *lo && p <= *hi)
    {
      if (p + len > *hi)
	*hi = p + len;
      return;
    }
  if (*hi)
    pages_populate (pages_of (*lo, *hi));
  *lo = p;
  *hi = p + len;
}

/* Maps the rings memif_set_prefault chose and their buffers. A slave knows
 * its own layout; a master follows the slave's descriptors, each read once
 * and checked against its region, and maps at most its own buffer size per
 * slot, so a slave cannot make it populate more than it would allocate. */
static void
session_prefault (memif_conn_t *c)
{
  bool master = c->args.is_master;
  uint8_t *lo = NULL, *hi = NULL;
  for (uint32_t g = 0; g < (uint32_t) c->num_s2m + c->num_m2s; g++)
    {
      bool s2m = g < c->num_s2m;
      bool tx = s2m != master;	/* a slave sends on s2m, a master on m2s */
      if (!(c->prefault & (tx ? MEMIF_PREFAULT_TX : MEMIF_PREFAULT_RX)))
	continue;
      queue_t *q = s2m ? &c->s2m[g] : &c->m2s[g - c->num_s2m];
      run_add (&lo, &hi, (uint8_t *) q->ring, mw_ring_bytes (q->log2));
      for (uint32_t slot = 0; slot < q->size; slot++)
	{
	  uint32_t len = c->buffer_size;
	  uint8_t *p;
	  if (master)
	    {
	      mw_desc_t d = ring_desc_read (q, (uint16_t) slot);
	      len = d.length < len ? d.length : len;
	      p = session_ptr (c, d.region, d.offset, len);
	    }
	  else
	    p = slave_buffer_ptr (c, q, (uint16_t) slot);
	  if (p)
	    run_add (&lo, &hi, p, len);
	}
    }
  if (hi)
    pages_populate (pages_of (lo, hi));
}

int
session_layout (memif_conn_t *c)
{
  int err = queues_alloc (c);
  if (err)
    return err;
  c->buffer_size = c->buffer_size_cfg;
  uint32_t nrings = (uint32_t) c->num_s2m + c->num_m2s;
  err = slave_regions (c, nrings);
  for (uint32_t g = 0; !err && g < nrings; g++)
    err = slave_ring_init (c, g);
  if (!err && c->prefault)
    session_prefault (c);	/* before the master maps: it finds them */
  return err;
}

int
session_add_region (memif_conn_t *c, uint16_t index, uint64_t size, int fd,
		    const char **why)
{
  if (index != c->nregions || index >= MW_MAX_REGIONS)
    {
      *why = index >= MW_MAX_REGIONS ? "too many regions"
	: "regions out of order";
      close (fd);
      return MEMIF_ERR_MAXREG;
    }
  int err = region_adopt (&c->regions[index], size, fd, why);
  if (!err)
    c->nregions++;
  return err;
}

/* The peer chooses the interrupt fd: anything but an eventfd (a pipe, a
 * socket, a file) could block or lie. */
static bool
is_eventfd (int fd)
{
  char link[64], target[64];
  snprintf (link, sizeof (link), "/proc/self/fd/%d", fd);
  ssize_t n = readlink (link, target, sizeof (target) - 1);
  if (n < 0)
    return errno == ENOENT;	/* no /proc: cannot tell, accept */
  target[n] = 0;
  return strcmp (target, "anon_inode:[eventfd]") == 0;
}

/* Why the ring an ADD_RING describes cannot be the next one, or 0. */
static int
ring_msg_check (memif_conn_t *c, const mw_msg_t *m, uint16_t added,
		const char **why)
{
  unsigned lg = m->add_ring.log2_ring_size;
  if (m->add_ring.private_hdr_size)
    {
      *why = "private headers are not supported";
      return MEMIF_ERR_PRIVHDR;
    }
  if (lg < 1 || lg > MW_MAX_LOG2_RING
      || (c->log2_ring && lg != c->log2_ring))
    {
      *why = "ring size out of range";
      return MEMIF_ERR_MAX_RING;
    }
  if (m->add_ring.index != added || added >= MW_MAX_RINGS)
    {
      *why = added >= MW_MAX_RINGS ? "too many rings" : "rings out of order";
      return MEMIF_ERR_MAXRING;
    }
  if (m->add_ring.region >= c->nregions || (m->add_ring.offset & 3)
      || (uint64_t) m->add_ring.offset + mw_ring_bytes (lg)
      > c->regions[m->add_ring.region].size)
    {
      *why = "ring outside its region";
      return MEMIF_ERR_MFMSG;
    }
  return 0;
}

int
session_add_ring (memif_conn_t *c, const mw_msg_t *m, int efd,
		  const char **why)
{
  bool s2m = m->add_ring.flags & MW_ADD_RING_FLAG_S2M;
  uint16_t *added = s2m ? &c->s2m_added : &c->m2s_added;
  int err = 0;
  if (!c->s2m && (err = queues_alloc (c)))
    *why = "out of memory";
  else if (!(err = ring_msg_check (c, m, *added, why)) && !is_eventfd (efd))
    {
      *why = "ring interrupt fd is not an eventfd";
      err = MEMIF_ERR_NO_INTFD;
    }
  if (err)
    {
      close (efd);
      return err;
    }
  fcntl (efd, F_SETFL, fcntl (efd, F_GETFL) | O_NONBLOCK);
  queue_t *q = s2m ? &c->s2m[*added] : &c->m2s[*added];
  q->log2 = m->add_ring.log2_ring_size;
  q->size = (uint16_t) (1u << q->log2);
  q->region = m->add_ring.region;
  q->offset = m->add_ring.offset;
  q->ring = (mw_ring_t *) ((uint8_t *) c->regions[q->region].addr
			   + q->offset);
  q->efd = efd;
  c->log2_ring = (uint8_t) q->log2;
  (*added)++;
  return 0;
}

/* Interrupt fds of rx queues, watched when the application asked for
 * on_interrupt: upstream hands its return back to the event loop. */
static int
on_interrupt_fd (fd_entry_t *e, uint32_t events)
{
  (void) events;
  memif_conn_t *c = e->data;
  return c->on_interrupt ? c->on_interrupt (c, c->private_ctx, e->arg)
    : MEMIF_ERR_SUCCESS;
}

static int
rx_start (memif_conn_t *c, queue_t *q, uint16_t qid, const char **why)
{
  ring_announce_wakes (q->ring, c->args.is_master);
  q->ring->flags = c->rx_polling[qid] ? MW_RING_FLAG_MASK_INT : 0;
  if (!c->on_interrupt)
    return 0;
  q->int_ent = fd_watch (&c->sock->reg, q->efd, true, on_interrupt_fd, c,
			 qid);
  if (!q->int_ent)
    {
      *why = "cannot watch interrupt fd";
      return MEMIF_ERR_CB_FDUPDATE;
    }
  return 0;
}

static int
queue_start (memif_conn_t *c, queue_t *q, bool s2m, uint16_t qid,
	     const char **why)
{
  bool master = c->args.is_master;
  int err = ring_start (q, master, s2m, why);
  if (err)
    return err;
  q->spans = mem_alloc (&c->sock->mem, q->size * sizeof (span_t));
  if (!q->spans)
    {
      *why = "out of memory";
      return MEMIF_ERR_NOMEM;
    }
  if (s2m == master)
    return rx_start (c, q, qid, why);
  ring_announce_fences (q->ring);
  return 0;
}

int
session_start (memif_conn_t *c, const char **why)
{
  if (c->args.is_master)
    {
      if (!c->s2m_added || !c->m2s_added)
	{
	  *why = "CONNECT before rings in both directions";
	  return MEMIF_ERR_MAXRING;
	}
      c->num_s2m = c->s2m_added;
      c->num_m2s = c->m2s_added;
    }
  for (uint32_t g = 0; g < (uint32_t) c->num_s2m + c->num_m2s; g++)
    {
      bool s2m = g < c->num_s2m;
      uint16_t qid = (uint16_t) (s2m ? g : g - c->num_s2m);
      int err = queue_start (c, s2m ? &c->s2m[qid] : &c->m2s[qid], s2m, qid,
			     why);
      if (err)
	return err;
    }
  if (c->args.is_master && c->prefault)
    session_prefault (c);	/* a slave's came with its layout */
  return 0;
}

/* Wakes local waiters, stops the interrupt watch, closes the eventfd. */
static void
queue_stop (memif_conn_t *c, queue_t *q)
{
  if (q->ring)
    ring_wake_local (q->ring);
  if (q->int_ent)
    fd_unwatch (&c->sock->reg, q->int_ent);
  if (q->efd >= 0)
    close (q->efd);
}

void
session_free (memif_conn_t *c, bool keep_held)
{
  const mem_t *mem = &c->sock->mem;
  bool keep = keep_held && stale_held_count (c) > 0;
  for (uint32_t i = 0; c->s2m && i < MW_MAX_RINGS; i++)
    {
      queue_stop (c, &c->s2m[i]);
      queue_stop (c, &c->m2s[i]);
    }
  if (keep)
    stale_keep_held (c);
  for (uint16_t i = 0; i < c->nregions; i++)
    region_release (&c->regions[i], !keep);
  for (uint32_t i = 0; c->s2m && i < MW_MAX_RINGS; i++)
    {
      mem_free (mem, c->s2m[i].spans);
      mem_free (mem, c->m2s[i].spans);
    }
  mem_free (mem, c->s2m);
  mem_free (mem, c->m2s);
  c->s2m = c->m2s = NULL;
  c->nregions = 0;
  c->num_s2m = c->num_m2s = 0;
  c->s2m_added = c->m2s_added = 0;
  if (c->args.is_master)
    c->log2_ring = 0;
}
