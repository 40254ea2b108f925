/* datapath.h - what the data-path entry points (datapath.c, and the
 * extensions in compat.c and txwait.c) share: the checks that open every
 * call and the handing out of tx slots. */
#ifndef MEMIF_DATAPATH_H
#define MEMIF_DATAPATH_H

#include <stdbool.h>
#include <stdint.h>

#include "libmemif.h"
#include "iface.h"

/* Marks c faulted and asks the control path (the socket's work fd) to end
 * the session: a data-path call never tears down what it is using. */
void conn_fault (memif_conn_t *c, int err, const char *why);
/* conn_fault for a peer caught lying; returns MEMIF_ERR_DISCONNECTED. */
int lying (memif_conn_t *c, const char *why);

/* The preamble of every data-path call: a connected interface, an
 * existing queue. */
int queue_of (memif_conn_t *c, uint16_t qid, bool tx, queue_t **q);

/* Free slots this side may fill on tx queue q, or -1 if the peer lied. */
int tx_room (memif_conn_t *c, queue_t *q);
/* Hands out the next free slot as a buffer; 0, or -1 if the peer posted
 * something unusable (master side). *cap gets the buffer's size. */
int take_slot (memif_conn_t *c, queue_t *q, uint16_t slot,
	       memif_buffer_t *b, uint32_t *cap);

#endif
