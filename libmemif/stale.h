/* stale.h - buffers the application still holds when a session ends: the
 * pages under them stay mapped (as private zero pages) until
 * memif_release_stale or memif_delete, so a late access never faults. */
#ifndef MEMIF_STALE_H
#define MEMIF_STALE_H

#include <stdint.h>

#include "iface.h"

/* Buffers the application holds in c's session: allocated and not sent,
 * received and not refilled. */
uint32_t stale_held_count (memif_conn_t *c);
/* Keeps the pages under the held buffers and unmaps the rest of every
 * region; the session's regions are then only to be closed. */
void stale_keep_held (memif_conn_t *c);
/* Unmaps the kept ranges of one ended session, or of all (session 0). */
void stale_release (memif_conn_t *c, uint64_t session);
/* Unmaps all kept ranges and frees the list. */
void stale_free (memif_conn_t *c);

#endif
