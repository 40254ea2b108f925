//go:build !libmemif_system

/* compat.c - upstream libmemif 4.0 entry points that this engine maps onto
 * its own model: zero-copy requeueing (done by copy here), rewinding an
 * allocation, an application-made listener, external regions (ignored).
 *
 * A slave's buffers are bound to their ring slots (slot n of a ring always
 * owns the same bytes), so a hostile master can never make one buffer sit
 * on two rings. Upstream swaps descriptors instead; moving the bytes gives
 * the application the same result. */
#include <string.h>

#include "datapath.h"
#include "session.h"
#include "sock.h"

int
memif_buffer_enq_tx (memif_conn_handle_t conn, uint16_t qid,
		     memif_buffer_t *bufs, uint16_t count, uint16_t *count_out)
{
  memif_conn_t *c = conn;
  queue_t *q;
  int err = queue_of (c, qid, true, &q);
  if (err)
    return err;
  if (!count_out || (count && !bufs) || c->args.is_master)
    return MEMIF_ERR_INVAL_ARG;	/* upstream: slave only */
  *count_out = 0;
  int room = tx_room (c, q);
  if (room < 0)
    return lying (c, "peer moved a ring index too far");
  uint16_t n = 0;
  for (; n < count && n < room; n++)
    {
      memif_buffer_t *b = &bufs[n], t;
      uint32_t cap;
      if (!b->data || b->len > c->buffer_size)
	return MEMIF_ERR_INVAL_ARG;
      if (take_slot (c, q, (uint16_t) (q->own + q->alloc), &t, &cap))
	return lying (c, "peer posted a buffer outside its region");
      memmove (t.data, b->data, b->len);
      t.len = b->len;
      t.flags = b->flags & MEMIF_BUFFER_FLAG_NEXT;
      *b = t;
      q->alloc++;
      *count_out = (uint16_t) (n + 1);
    }
  return n < count ? MEMIF_ERR_NOBUF_RING : MEMIF_ERR_SUCCESS;
}

/* Bytes usable from data to the end of its slave buffer, or 0. */
static uint32_t
slave_room (memif_conn_t *c, const memif_buffer_t *b)
{
  queue_t *q = b->queue;
  bool ours = false;
  for (uint16_t i = 0; i < c->num_s2m && !ours; i++)
    ours = q == &c->s2m[i];
  for (uint16_t i = 0; i < c->num_m2s && !ours; i++)
    ours = q == &c->m2s[i];
  if (!ours || !b->data)
    return 0;
  uint8_t *base = slave_buffer_ptr (c, q, b->desc_index);
  uint8_t *d = b->data;
  if (!base || d < base || d >= base + c->buffer_size)
    return 0;
  return (uint32_t) (base + c->buffer_size - d);
}

int
memif_buffer_requeue (memif_conn_handle_t conn, memif_buffer_t *buf_a,
		      memif_buffer_t *buf_b)
{
  memif_conn_t *c = conn;
  if (!c)
    return MEMIF_ERR_NOCONN;
  if (c->args.is_master || !buf_a || !buf_b)
    return MEMIF_ERR_INVAL_ARG;
  if (c->state != CONN_UP)
    return MEMIF_ERR_DISCONNECTED;
  uint32_t n = buf_a->len > buf_b->len ? buf_a->len : buf_b->len;
  if (buf_a == buf_b || n > slave_room (c, buf_a) || n > slave_room (c, buf_b))
    return MEMIF_ERR_INVAL_ARG;
  /* Each buffer's bytes move to the other's slot, then the handles
   * follow: a ends up in b's slot holding a's bytes, and b in a's. */
  uint8_t *x = buf_a->data, *y = buf_b->data;
  for (uint32_t i = 0; i < n; i++)
    {
      uint8_t t = x[i];
      x[i] = y[i];
      y[i] = t;
    }
  memif_buffer_t t = *buf_a;
  buf_a->desc_index = buf_b->desc_index;
  buf_a->queue = buf_b->queue;
  buf_a->data = buf_b->data;
  buf_b->desc_index = t.desc_index;
  buf_b->queue = t.queue;
  buf_b->data = t.data;
  return MEMIF_ERR_SUCCESS;
}

int
memif_set_next_free_buffer (memif_conn_handle_t conn, uint16_t qid,
			    memif_buffer_t *buf)
{
  memif_conn_t *c = conn;
  queue_t *q;
  int err = queue_of (c, qid, true, &q);
  if (err)
    return err;
  if (!buf)
    return MEMIF_ERR_INVAL_ARG;
  uint16_t back = (uint16_t) (q->own + q->alloc - buf->desc_index);
  if (back > q->alloc)
    return MEMIF_ERR_INVAL_ARG;	/* not an allocated slot */
  q->alloc -= back;
  return MEMIF_ERR_SUCCESS;
}

int
memif_set_listener_fd (memif_socket_handle_t sock, int fd)
{
  memif_socket_t *s = sock;
  if (!s || fd < 0)
    return MEMIF_ERR_INVAL_ARG;
  /* Owned from here: closed with the socket like a listener we made. */
  return listener_adopt (s, fd);
}

void
memif_register_external_region (memif_socket_handle_t sock,
				memif_add_external_region_t *ar,
				memif_get_external_region_addr_t *gr,
				memif_del_external_region_t *dr,
				memif_get_external_buffer_offset_t *go)
{
  /* External regions are not supported; the engine allocates its own. */
  (void) sock;
  (void) ar;
  (void) gr;
  (void) dr;
  (void) go;
}
