//go:build !libmemif_system

/* shm.c - shared memory regions and kept pages. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm.h"
#include "util.h"

int
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

/* Why fd cannot back size bytes of a region, or NULL. */
static const char *
region_unfit (int fd, uint64_t size)
{
  struct stat st;
  if (size == 0 || size > (uint64_t) SIZE_MAX / 2)
    return "region size out of range";
  /* A region the peer could still shrink would turn our next access into
   * SIGBUS: seal it ourselves if the peer did not, else refuse it. */
  (void) fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK);
  int seals = fcntl (fd, F_GET_SEALS);
  if (seals < 0 || !(seals & F_SEAL_SHRINK))
    return "region memory is not sealed against shrinking";
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode)
      || (uint64_t) st.st_size < size)
    return "region larger than its memory";
  return NULL;
}

int
region_adopt (region_t *r, uint64_t size, int fd, const char **why)
{
  *why = region_unfit (fd, size);
  if (*why)
    {
      close (fd);
      return MEMIF_ERR_MFMSG;
    }
  r->addr = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (r->addr == MAP_FAILED)
    {
      r->addr = NULL;
      *why = "cannot map region";
      close (fd);
      return MEMIF_ERR_NOMEM;
    }
  r->size = size;
  r->fd = fd;
  return 0;
}

void *
region_ptr (const region_t *rs, uint16_t n, uint16_t index, uint32_t offset,
	    uint32_t len)
{
  if (index >= n || (uint64_t) offset + len > rs[index].size)
    return NULL;
  return (uint8_t *) rs[index].addr + offset;
}

void
region_release (region_t *r, bool unmap)
{
  if (r->addr && unmap)
    munmap (r->addr, r->size);
  if (r->fd >= 0)
    close (r->fd);
  memset (r, 0, sizeof (*r));
}

/* Sockets may live on different threads: the first of any sets it. */
static uintptr_t
page_mask (void)
{
  static uintptr_t mask;
  uintptr_t m = __atomic_load_n (&mask, __ATOMIC_RELAXED);
  if (!m)
    {
      m = (uintptr_t) sysconf (_SC_PAGESIZE) - 1;
      __atomic_store_n (&mask, m, __ATOMIC_RELAXED);
    }
  return m;
}

static uint8_t *
page_up (const uint8_t *p)
{
  return (uint8_t *) (((uintptr_t) p + page_mask ()) & ~page_mask ());
}

range_t
page_range (const uint8_t *p, uint32_t len)
{
  return (range_t)
  {
  (uint8_t *) ((uintptr_t) p & ~page_mask ()), page_up (p + len)};
}

range_t
region_pages (const region_t *r)
{
  return (range_t)
  {
  r->addr, page_up ((uint8_t *) r->addr + r->size)};
}

/* MADV_POPULATE_WRITE (Linux 5.14) maps the range in one call, then one
 * touch per page, an atomic add of zero, which cannot lose a byte the peer
 * writes meanwhile; older kernels (EINVAL) get the touches alone. The
 * touches are needed anyway on VMs whose hypervisor shadows the guest's
 * page tables: it fills its own entry for a page at the first access from
 * user space, which the kernel's populate is not, and that costs a few
 * microseconds a page, all in the first lap (a 1080p ring of 8: 140 ms
 * against 14 with the touches, on one such VM). Elsewhere a touch finds
 * the page mapped. Other errors are left to the data path. */
void
pages_populate (range_t r)
{
  static bool no_populate;	/* the kernel predates MADV_POPULATE_WRITE */
  if (r.lo >= r.hi)
    return;
  if (!__atomic_load_n (&no_populate, __ATOMIC_RELAXED))
    {
      if (madvise (r.lo, (size_t) (r.hi - r.lo), MADV_POPULATE_WRITE) != 0)
	{
	  if (errno != EINVAL)
	    return;
	  __atomic_store_n (&no_populate, true, __ATOMIC_RELAXED);
	}
    }
  for (uint8_t *p = r.lo; p < r.hi; p += page_mask () + 1)
    __atomic_fetch_add (p, 0, __ATOMIC_RELAXED);
}

/* MAP_NORESERVE: nothing is committed for pages a late reader never
 * writes. MAP_FIXED replaces the shared pages in one step, so no other
 * mapping can slip in between. If that fails the shared mapping itself
 * stays: the peer's pages live on, but the application still never
 * faults. */
void
pages_keep (range_t r)
{
  mmap (r.lo, (size_t) (r.hi - r.lo), PROT_READ | PROT_WRITE,
	MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
}

void
region_unmap_except (const region_t *r, const range_t *kept, uint32_t n)
{
  range_t all = region_pages (r);
  uint8_t *at = all.lo, *end = all.hi;
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
