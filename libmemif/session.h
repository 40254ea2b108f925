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

/* Where [offset, offset + len) of one of the session's regions lies, or
 * NULL. */
void *session_ptr (memif_conn_t *c, uint16_t region, uint32_t offset,
		   uint32_t len);

/* Where the buffer bound to a slave's slot starts, or NULL. */
void *slave_buffer_ptr (memif_conn_t *c, const queue_t *q, uint16_t slot);
/* Writes a slave-owned descriptor whole: its own buffer from headroom. */
void slave_desc_put (memif_conn_t *c, queue_t *q, uint16_t slot,
		     uint32_t headroom, uint32_t length, uint16_t flags,
		     uint32_t metadata);
/* Points a slave-owned descriptor back at its own buffer. */
void slave_desc_reset (memif_conn_t *c, queue_t *q, uint16_t slot,
		       uint32_t headroom);

#endif
