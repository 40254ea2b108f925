/* shm.h - shared memory regions: made by a slave as sealed memfds, or
 * adopted by a master from the fd a slave sent, after checking it; and the
 * page ranges kept mapped under buffers held past a session's end. */
#ifndef MEMIF_SHM_H
#define MEMIF_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct
{
  void *addr;
  uint64_t size;
  int fd;
} region_t;

/* A page-aligned range [lo, hi). */
typedef struct
{
  uint8_t *lo, *hi;
} range_t;

/* One sealed memfd of size bytes, mapped shared; a memif code. On failure
 * r->fd may still be open: region_release closes it. */
int region_create (region_t *r, uint64_t size);

/* Maps size bytes of the peer's fd after checking it cannot shrink under
 * us and holds that much; takes fd (closed on failure). 0, or a memif code
 * with *why. */
int region_adopt (region_t *r, uint64_t size, int fd, const char **why);

/* Where [offset, offset + len) of region index lies, or NULL when it is not
 * wholly inside one of the n regions. */
void *region_ptr (const region_t *rs, uint16_t n, uint16_t index,
		  uint32_t offset, uint32_t len);

/* Closes r's fd and, with unmap, unmaps it; r is zeroed. */
void region_release (region_t *r, bool unmap);

/* The pages under [p, p + len). */
range_t page_range (const uint8_t *p, uint32_t len);
/* The pages of the whole region. */
range_t region_pages (const region_t *r);

/* Maps the pages of r writable now (pre-faulting), best effort: a page
 * the kernel cannot give now faults later, as it would have anyway. */
void pages_populate (range_t r);

/* Swaps the pages for private zero pages in place, so later accesses see
 * zeros instead of faulting once the region is gone. */
void pages_keep (range_t r);
/* Unmaps every page of the region outside the kept ranges (sorted). */
void region_unmap_except (const region_t *r, const range_t *kept,
			  uint32_t n);

#endif
