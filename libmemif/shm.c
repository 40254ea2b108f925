//go:build !libmemif_system

/* shm.c - shared memory of a session: the slave allocates regions, rings and
 * buffers; the master maps what the slave sends after checking it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"

static uint64_t
ring_stride (unsigned log2)
{
  return (mw_ring_bytes (log2) + 63) & ~(uint64_t) 63;
}

static int
queues_alloc (memif_conn_t *c)
{
  c->s2m = mem_alloc (c->sock, MW_MAX_RINGS * sizeof (queue_t));
  c->m2s = mem_alloc (c->sock, MW_MAX_RINGS * sizeof (queue_t));
  if (!c->s2m || !c->m2s)
    {
      /* Both or neither: session_free walks them as a pair. */
      mem_free (c->sock, c->s2m);
      mem_free (c->sock, c->m2s);
      c->s2m = c->m2s = NULL;
      return MEMIF_ERR_NOMEM;
    }
  for (int i = 0; i < MW_MAX_RINGS; i++)
    c->s2m[i].efd = c->m2s[i].efd = -1;
  return 0;
}

/* One sealed memfd, mapped shared. */
static int
region_create (region_t *r, uint64_t size)
{
  r->fd = memfd_create ("memif region", MFD_ALLOW_SEALING | MFD_CLOEXEC);
  if (r->fd < 0)
    return err_from_errno (errno);
  if (ftruncate (r->fd, (off_t) size) < 0
      || fcntl (r->fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
    return err_from_errno (errno);
  r->addr = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
  if (r->addr == MAP_FAILED)
    {
      r->addr = NULL;
      return MEMIF_ERR_NOMEM;
    }
  r->size = size;
  return 0;
}

static void
slave_buffer (memif_conn_t *c, const queue_t *q, uint16_t slot,
	      uint16_t *region, uint32_t *offset)
{
  uint32_t idx = q->first_buffer + (slot & (q->size - 1));
  *region = (uint16_t) (1 + idx / c->bufs_per_region);
  *offset = (uint32_t) ((uint64_t) (idx % c->bufs_per_region) * c->buffer_size);
}

/* Where the buffer bound to a slave's slot starts, or NULL. */
void *
slave_buffer_ptr (memif_conn_t *c, const queue_t *q, uint16_t slot)
{
  uint16_t region;
  uint32_t offset;
  slave_buffer (c, q, slot, &region, &offset);
  return region_ptr (c, region, offset, c->buffer_size);
}

/* Points a slave-owned descriptor back at its own buffer. */
void
slave_desc_reset (memif_conn_t *c, queue_t *q, uint16_t slot,
		  uint32_t headroom)
{
  mw_desc_t *d = &q->ring->desc[slot & (q->size - 1)];
  uint16_t region;
  uint32_t offset;
  slave_buffer (c, q, slot, &region, &offset);
  d->flags = 0;
  d->region = region;
  d->offset = offset + headroom;
  d->length = c->buffer_size - headroom;
  d->metadata = 0;
}

/* Region 0 holds the rings, regions 1.. the buffers, each buffer region
 * small enough for 32-bit descriptor offsets. */
int
slave_alloc_session (memif_conn_t *c)
{
  int err = queues_alloc (c);
  if (err)
    return err;
  c->buffer_size = c->buffer_size_cfg;
  uint32_t nrings = (uint32_t) c->num_s2m + c->num_m2s;
  uint32_t rsize = 1u << c->log2_ring;
  uint64_t nbufs = (uint64_t) nrings * rsize;
  uint64_t per = (MAX_BUFFER_REGION_BYTES + 1) / c->buffer_size;
  if (per > nbufs)
    per = nbufs;
  uint64_t nbuf_regions = (nbufs + per - 1) / per;
  if (1 + nbuf_regions > MW_MAX_REGIONS)
    return MEMIF_ERR_MAXREG;
  c->bufs_per_region = (uint32_t) per;

  err = region_create (&c->regions[0], nrings * ring_stride (c->log2_ring));
  c->nregions = 1;
  for (uint64_t i = 0; !err && i < nbuf_regions; i++)
    {
      uint64_t n = nbufs - i * per < per ? nbufs - i * per : per;
      err = region_create (&c->regions[1 + i], n * c->buffer_size);
      c->nregions++;
    }
  if (err)
    return err;

  for (uint32_t g = 0; g < nrings; g++)
    {
      queue_t *q = g < c->num_s2m ? &c->s2m[g] : &c->m2s[g - c->num_s2m];
      q->log2 = c->log2_ring;
      q->size = (uint16_t) rsize;
      q->region = 0;
      q->offset = (uint32_t) (g * ring_stride (c->log2_ring));
      q->ring = (mw_ring_t *) ((uint8_t *) c->regions[0].addr + q->offset);
      q->first_buffer = g * rsize;
      q->efd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (q->efd < 0)
	return err_from_errno (errno);
      q->ring->cookie = MW_COOKIE;
      for (uint32_t s = 0; s < rsize; s++)
	slave_desc_reset (c, q, (uint16_t) s, 0);
    }
  return 0;
}

int
master_add_region (memif_conn_t *c, uint16_t index, uint64_t size, int fd,
		   const char **why)
{
  struct stat st;
  region_t *r;
  int err = MEMIF_ERR_MFMSG;
  if (index != c->nregions || index >= MW_MAX_REGIONS)
    {
      *why = index >= MW_MAX_REGIONS ? "too many regions"
	: "regions out of order";
      err = MEMIF_ERR_MAXREG;
      goto fail;
    }
  if (size == 0 || size > (uint64_t) SIZE_MAX / 2)
    {
      *why = "region size out of range";
      goto fail;
    }
  /* A region the peer could still shrink would turn our next access into
   * SIGBUS: seal it ourselves if the peer did not, else refuse it. */
  (void) fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK);
  int seals = fcntl (fd, F_GET_SEALS);
  if (seals < 0 || !(seals & F_SEAL_SHRINK))
    {
      *why = "region memory is not sealed against shrinking";
      goto fail;
    }
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode)
      || (uint64_t) st.st_size < size)
    {
      *why = "region larger than its memory";
      goto fail;
    }
  r = &c->regions[index];
  r->addr = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (r->addr == MAP_FAILED)
    {
      r->addr = NULL;
      *why = "cannot map region";
      err = MEMIF_ERR_NOMEM;
      goto fail;
    }
  r->size = size;
  r->fd = fd;
  c->nregions++;
  return 0;
fail:
  close (fd);
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

int
master_add_ring (memif_conn_t *c, const mw_msg_t *m, int efd,
		 const char **why)
{
  bool s2m = m->add_ring.flags & MW_ADD_RING_FLAG_S2M;
  uint16_t *added = s2m ? &c->s2m_added : &c->m2s_added;
  int err = MEMIF_ERR_MFMSG;
  unsigned lg = m->add_ring.log2_ring_size;
  if (!c->s2m && (err = queues_alloc (c)))
    {
      *why = "out of memory";
      goto fail;
    }
  err = MEMIF_ERR_MFMSG;
  if (m->add_ring.private_hdr_size)
    {
      *why = "private headers are not supported";
      err = MEMIF_ERR_PRIVHDR;
      goto fail;
    }
  if (lg < 1 || lg > MW_MAX_LOG2_RING
      || (c->log2_ring && lg != c->log2_ring))
    {
      *why = "ring size out of range";
      err = MEMIF_ERR_MAX_RING;
      goto fail;
    }
  if (m->add_ring.index != *added || *added >= MW_MAX_RINGS)
    {
      *why = *added >= MW_MAX_RINGS ? "too many rings" : "rings out of order";
      err = MEMIF_ERR_MAXRING;
      goto fail;
    }
  if (m->add_ring.region >= c->nregions || (m->add_ring.offset & 3)
      || (uint64_t) m->add_ring.offset + mw_ring_bytes (lg)
      > c->regions[m->add_ring.region].size)
    {
      *why = "ring outside its region";
      goto fail;
    }
  if (!is_eventfd (efd))
    {
      *why = "ring interrupt fd is not an eventfd";
      err = MEMIF_ERR_NO_INTFD;
      goto fail;
    }
  fcntl (efd, F_SETFL, fcntl (efd, F_GETFL) | O_NONBLOCK);
  queue_t *q = s2m ? &c->s2m[*added] : &c->m2s[*added];
  q->log2 = (uint16_t) lg;
  q->size = (uint16_t) (1u << lg);
  q->region = m->add_ring.region;
  q->offset = m->add_ring.offset;
  q->ring = (mw_ring_t *) ((uint8_t *) c->regions[q->region].addr
			   + q->offset);
  q->efd = efd;
  c->log2_ring = (uint8_t) lg;
  (*added)++;
  return 0;
fail:
  close (efd);
  return err;
}

static bool
dist_ok (const queue_t *q, uint16_t from, uint16_t to)
{
  return mw_dist (from, to) <= q->size;
}

/* Checks the rings the peer set up and primes this side's shadows. */
int
session_start (memif_conn_t *c, const char **why)
{
  bool master = c->args.is_master;
  if (master)
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
      queue_t *q = s2m ? &c->s2m[qid] : &c->m2s[qid];
      bool rx = s2m == (bool) master;
      if (__atomic_load_n (&q->ring->cookie, __ATOMIC_ACQUIRE) != MW_COOKIE)
	{
	  *why = "ring cookie mismatch";
	  return MEMIF_ERR_COOKIE;
	}
      uint16_t head = mw_load_acquire (&q->ring->head);
      uint16_t tail = mw_load_acquire (&q->ring->tail);
      if (master)
	{
	  if (!dist_ok (q, tail, head))
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
      q->spans = mem_alloc (c->sock, q->size * sizeof (span_t));
      if (!q->spans)
	{
	  *why = "out of memory";
	  return MEMIF_ERR_NOMEM;
	}
      /* Announce that this side wakes senders waiting on its releases. */
      if (rx && master)
	__atomic_store_n (&q->ring->ext_tail_wakes, MW_EXT_WAKES,
			  __ATOMIC_RELEASE);
      else if (rx)
	__atomic_store_n (&q->ring->ext_head_wakes, MW_EXT_WAKES,
			  __ATOMIC_RELEASE);
      if (rx)
	{
	  q->ring->flags = c->rx_polling[qid] ? MW_RING_FLAG_MASK_INT : 0;
	  if (c->on_interrupt)
	    {
	      q->int_ent = fd_watch (c->sock, q->efd, FD_INTERRUPT, c, qid);
	      if (!q->int_ent)
		{
		  *why = "cannot watch interrupt fd";
		  return MEMIF_ERR_CB_FDUPDATE;
		}
	    }
	}
    }
  return 0;
}

/* Records a kept range; false when the list cannot grow (the range then
 * stays mapped for the life of the process: a leak, never a fault). */
static bool
stale_add (memif_conn_t *c, uint8_t *lo, uint8_t *hi)
{
  if (c->nstale == c->stale_cap)
    {
      uint32_t cap = c->stale_cap ? 2 * c->stale_cap : 8;
      stale_t *ns = mem_alloc (c->sock, cap * sizeof (*ns));
      if (!ns)
	return false;
      if (c->nstale)
	memcpy (ns, c->stale, c->nstale * sizeof (*ns));
      mem_free (c->sock, c->stale);
      c->stale = ns;
      c->stale_cap = cap;
    }
  c->stale[c->nstale++] = (stale_t)
  {
  lo, (size_t) (hi - lo), c->sessions};
  return true;
}

/* Swaps [lo, hi) for private zero pages. MAP_NORESERVE: nothing is
 * committed for pages a late reader never writes. MAP_FIXED replaces the
 * shared pages in one step, so no other mapping can slip in between. If
 * that fails the shared mapping itself stays: the peer's pages live on,
 * but the application still never faults. */
static void
keep_range (memif_conn_t *c, uint8_t *lo, uint8_t *hi)
{
  mmap (lo, (size_t) (hi - lo), PROT_READ | PROT_WRITE,
	MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  stale_add (c, lo, hi);
}

typedef struct
{
  uint8_t *lo, *hi;
} range_t;

static int
range_cmp (const void *a, const void *b)
{
  const range_t *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static uintptr_t page_mask;

static uint8_t *
page_down (const uint8_t *p)
{
  return (uint8_t *) ((uintptr_t) p & ~page_mask);
}

static uint8_t *
page_up (const uint8_t *p)
{
  return (uint8_t *) (((uintptr_t) p + page_mask) & ~page_mask);
}

/* The slots the application holds: tx allocated and not sent, rx handed
 * out and not refilled (both contiguous in ring order), as pages. */
static uint32_t
held_ranges (memif_conn_t *c, range_t *out)
{
  uint32_t n = 0;
  for (uint32_t i = 0; c->s2m && i < MW_MAX_RINGS; i++)
    {
      queue_t *qs[2] = { &c->s2m[i], &c->m2s[i] };
      for (int k = 0; k < 2; k++)
	{
	  queue_t *q = qs[k];
	  if (!q->spans)
	    continue;
	  uint16_t first[2] = { q->own, (uint16_t) (q->last - q->held) };
	  uint16_t count[2] = { q->alloc, q->held };
	  for (int w = 0; w < 2; w++)
	    for (uint16_t j = 0; j < count[w]; j++)
	      {
		const span_t *sp =
		  &q->spans[(uint16_t) (first[w] + j) & (q->size - 1)];
		range_t r = { page_down (sp->p), page_up (sp->p + sp->len) };
		if (r.lo < r.hi)	/* an empty buffer holds no page */
		  out[n++] = r;
	      }
	}
    }
  return n;
}

static uint32_t
held_count (memif_conn_t *c)
{
  uint32_t n = 0;
  for (uint32_t i = 0; c->s2m && i < MW_MAX_RINGS; i++)
    n += (uint32_t) c->s2m[i].alloc + c->s2m[i].held + c->m2s[i].alloc
      + c->m2s[i].held;
  return n;
}

/* Unmaps every page of the region outside the kept ranges (sorted). */
static void
unmap_rest (region_t *r, const range_t *kept, uint32_t n)
{
  uint8_t *at = r->addr, *end = page_up ((uint8_t *) r->addr + r->size);
  for (uint32_t i = 0; i < n && at < end; i++)
    {
      if (kept[i].hi <= at || kept[i].lo >= end)
	continue;
      if (kept[i].lo > at)
	munmap (at, (size_t) (kept[i].lo - at));
      at = kept[i].hi;
    }
  if (at < end)
    munmap (at, (size_t) (end - at));
}

/* A disconnect with buffers still held: only the pages of those buffers
 * become placeholders; the rest of every region is unmapped now, so a
 * reconnect costs no address space or commit beyond what is held. */
static void
keep_held_pages (memif_conn_t *c)
{
  if (!page_mask)
    page_mask = (uintptr_t) sysconf (_SC_PAGESIZE) - 1;
  uint32_t n = held_count (c);
  range_t *rs = mem_alloc (c->sock, n * sizeof (*rs));
  if (!rs)
    {
      /* No memory to sort: keep whole regions, still never a fault. */
      for (uint16_t i = 0; i < c->nregions; i++)
	if (c->regions[i].addr)
	  keep_range (c, c->regions[i].addr,
		      page_up ((uint8_t *) c->regions[i].addr
			       + c->regions[i].size));
      return;
    }
  n = held_ranges (c, rs);
  qsort (rs, n, sizeof (*rs), range_cmp);
  uint32_t m = 0;		/* merge overlapping and touching ranges */
  for (uint32_t i = 0; i < n; i++)
    if (m && rs[i].lo <= rs[m - 1].hi)
      rs[m - 1].hi = rs[i].hi > rs[m - 1].hi ? rs[i].hi : rs[m - 1].hi;
    else
      rs[m++] = rs[i];
  for (uint32_t i = 0; i < m; i++)
    keep_range (c, rs[i].lo, rs[i].hi);
  for (uint16_t i = 0; i < c->nregions; i++)
    if (c->regions[i].addr)
      unmap_rest (&c->regions[i], rs, m);
  mem_free (c->sock, rs);
}

/* Unmaps the session. When the application still holds buffers, the pages
 * under them become private zero pages instead, so a late read sees zeros
 * rather than faulting; they go at memif_release_stale or memif_delete. */
void
session_free (memif_conn_t *c, bool keep_held)
{
  bool keep = keep_held && held_count (c) > 0;
  for (uint32_t i = 0; c->s2m && i < MW_MAX_RINGS; i++)
    {
      queue_t *qs[2] = { &c->s2m[i], &c->m2s[i] };
      for (int k = 0; k < 2; k++)
	{
	  if (qs[k]->ring)
	    wake_local_waiters (qs[k]->ring);
	  if (qs[k]->int_ent)
	    fd_unwatch (c->sock, qs[k]->int_ent);
	  if (qs[k]->efd >= 0)
	    close (qs[k]->efd);
	}
    }
  if (keep)
    keep_held_pages (c);
  for (uint16_t i = 0; i < c->nregions; i++)
    {
      region_t *r = &c->regions[i];
      if (r->addr && !keep)
	munmap (r->addr, r->size);
      if (r->fd >= 0)
	close (r->fd);
      memset (r, 0, sizeof (*r));
    }
  for (uint32_t i = 0; c->s2m && i < MW_MAX_RINGS; i++)
    {
      mem_free (c->sock, c->s2m[i].spans);
      mem_free (c->sock, c->m2s[i].spans);
    }
  mem_free (c->sock, c->s2m);
  mem_free (c->sock, c->m2s);
  c->s2m = c->m2s = NULL;
  c->nregions = 0;
  c->num_s2m = c->num_m2s = 0;
  c->s2m_added = c->m2s_added = 0;
  if (c->args.is_master)
    c->log2_ring = 0;
}

/* Unmaps the kept ranges of one ended session, or of all (session 0). */
void
stale_release (memif_conn_t *c, uint64_t session)
{
  uint32_t kept = 0;
  for (uint32_t i = 0; i < c->nstale; i++)
    if (!session || c->stale[i].session == session)
      munmap (c->stale[i].addr, c->stale[i].size);
    else
      c->stale[kept++] = c->stale[i];
  c->nstale = kept;
}

void
stale_free (memif_conn_t *c)
{
  stale_release (c, 0);
  mem_free (c->sock, c->stale);
  c->stale = NULL;
  c->stale_cap = 0;
}

void *
region_ptr (memif_conn_t *c, uint16_t region, uint32_t offset, uint32_t len)
{
  if (region >= c->nregions
      || (uint64_t) offset + len > c->regions[region].size)
    return NULL;
  return (uint8_t *) c->regions[region].addr + offset;
}
