//go:build !libmemif_system

/* stale.c - pages kept under held buffers past a session's end. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "stale.h"

/* Records a kept range; false when the list cannot grow (the range then
 * stays mapped for the life of the process: a leak, never a fault). */
static bool
stale_add (memif_conn_t *c, range_t r)
{
  if (c->nstale == c->stale_cap)
    {
      uint32_t cap = c->stale_cap ? 2 * c->stale_cap : 8;
      stale_t *ns = mem_alloc (&c->sock->mem, cap * sizeof (*ns));
      if (!ns)
	return false;
      if (c->nstale)
	memcpy (ns, c->stale, c->nstale * sizeof (*ns));
      mem_free (&c->sock->mem, c->stale);
      c->stale = ns;
      c->stale_cap = cap;
    }
  c->stale[c->nstale++] = (stale_t)
  {
  r.lo, (size_t) (r.hi - r.lo), c->sessions};
  return true;
}

static void
keep_range (memif_conn_t *c, range_t r)
{
  pages_keep (r);
  stale_add (c, r);
}

static int
range_cmp (const void *a, const void *b)
{
  const range_t *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
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
		range_t r = page_range (sp->p, sp->len);
		if (r.lo < r.hi)	/* an empty buffer holds no page */
		  out[n++] = r;
	      }
	}
    }
  return n;
}

uint32_t
stale_held_count (memif_conn_t *c)
{
  uint32_t n = 0;
  for (uint32_t i = 0; c->s2m && i < MW_MAX_RINGS; i++)
    n += (uint32_t) c->s2m[i].alloc + c->s2m[i].held + c->m2s[i].alloc
      + c->m2s[i].held;
  return n;
}

/* Sorts the ranges and merges overlapping and touching ones; the count. */
static uint32_t
ranges_merge (range_t *rs, uint32_t n)
{
  qsort (rs, n, sizeof (*rs), range_cmp);
  uint32_t m = 0;
  for (uint32_t i = 0; i < n; i++)
    if (m && rs[i].lo <= rs[m - 1].hi)
      rs[m - 1].hi = rs[i].hi > rs[m - 1].hi ? rs[i].hi : rs[m - 1].hi;
    else
      rs[m++] = rs[i];
  return m;
}

/* Only the pages of held buffers become placeholders; the rest of every
 * region is unmapped now, so a reconnect costs no address space or commit
 * beyond what is held. */
void
stale_keep_held (memif_conn_t *c)
{
  uint32_t n = stale_held_count (c);
  range_t *rs = mem_alloc (&c->sock->mem, n * sizeof (*rs));
  if (!rs)
    {
      /* No memory to sort: keep whole regions, still never a fault. */
      for (uint16_t i = 0; i < c->nregions; i++)
	if (c->regions[i].addr)
	  keep_range (c, region_pages (&c->regions[i]));
      return;
    }
  uint32_t m = ranges_merge (rs, held_ranges (c, rs));
  for (uint32_t i = 0; i < m; i++)
    keep_range (c, rs[i]);
  for (uint16_t i = 0; i < c->nregions; i++)
    if (c->regions[i].addr)
      region_unmap_except (&c->regions[i], rs, m);
  mem_free (&c->sock->mem, rs);
}

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
  mem_free (&c->sock->mem, c->stale);
  c->stale = NULL;
  c->stale_cap = 0;
}
