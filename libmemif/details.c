//go:build !libmemif_system

/* details.c - memif_get_details: a snapshot of one interface. Strings and
 * arrays are laid out in the caller's buffer. */
#include <string.h>

#include "iface.h"

typedef struct
{
  char *p;
  size_t left;
  bool full;
} cursor_t;

static void *
take (cursor_t *k, size_t n, size_t align)
{
  size_t pad = (align - ((uintptr_t) k->p % align)) % align;
  if (k->full || pad + n > k->left)
    {
      k->full = true;
      return NULL;
    }
  void *r = k->p + pad;
  k->p += pad + n;
  k->left -= pad + n;
  return r;
}

static uint8_t *
str (cursor_t *k, const char *s, size_t max)
{
  size_t n = strnlen (s, max);
  uint8_t *d = take (k, n + 1, 1);
  if (d)
    {
      memcpy (d, s, n);
      d[n] = 0;
    }
  return d;
}

static void
queue_details (memif_conn_t *c, memif_queue_details_t *d, queue_t *q,
	       uint16_t qid, bool rx)
{
  d->region = (uint8_t) q->region;
  d->qid = qid;
  d->ring_size = q->size;
  d->flags = rx && c->rx_polling[qid] ? MEMIF_QUEUE_FLAG_POLLING : 0;
  d->head = mw_load_acquire (&q->ring->head);
  d->tail = mw_load_acquire (&q->ring->tail);
  d->buffer_size = (uint16_t) c->buffer_size;
}

int
memif_get_details (memif_conn_handle_t conn, memif_details_t *md, char *buf,
		   ssize_t buflen)
{
  memif_conn_t *c = conn;
  if (!c)
    return MEMIF_ERR_NOCONN;
  if (!md || !buf || buflen < 0)
    return MEMIF_ERR_INVAL_ARG;
  cursor_t k = {.p = buf,.left = (size_t) buflen };
  memset (md, 0, sizeof (*md));
  md->if_name = str (&k, (const char *) c->args.interface_name, MW_NAME_LEN);
  md->inst_name = str (&k, c->sock->app_name, MW_NAME_LEN);
  md->remote_if_name = str (&k, c->remote_if_name, MW_NAME_LEN);
  md->remote_inst_name = str (&k, c->remote_app_name, MW_NAME_LEN);
  md->id = c->args.interface_id;
  if (c->args.secret[0])
    md->secret = str (&k, (const char *) c->args.secret, MW_SECRET_LEN);
  md->role = c->args.is_master ? 0 : 1;
  md->mode = c->args.mode;
  md->socket_path = str (&k, c->sock->path, sizeof (c->sock->path));
  md->error = str (&k, c->error, MW_REASON_LEN);
  md->link_up_down = c->state == CONN_UP;
  if (c->state == CONN_UP)
    {
      md->regions_num = (uint8_t) c->nregions;
      md->regions = take (&k, c->nregions * sizeof (*md->regions), 8);
      for (uint16_t i = 0; md->regions && i < c->nregions; i++)
	md->regions[i] = (memif_region_details_t)
	{
	.index = (uint8_t) i,.addr = c->regions[i].addr,
	    .size = (uint32_t) c->regions[i].size,.fd = c->regions[i].fd};
      uint16_t nrx = c->args.is_master ? c->num_s2m : c->num_m2s;
      uint16_t ntx = c->args.is_master ? c->num_m2s : c->num_s2m;
      md->rx_queues_num = (uint8_t) nrx;
      md->tx_queues_num = (uint8_t) ntx;
      md->rx_queues = take (&k, nrx * sizeof (*md->rx_queues), 8);
      md->tx_queues = take (&k, ntx * sizeof (*md->tx_queues), 8);
      for (uint16_t i = 0; md->rx_queues && i < nrx; i++)
	queue_details (c, &md->rx_queues[i], rx_queue (c, i), i, true);
      for (uint16_t i = 0; md->tx_queues && i < ntx; i++)
	queue_details (c, &md->tx_queues[i], tx_queue (c, i), i, false);
    }
  return k.full ? MEMIF_ERR_NOBUF_DET : MEMIF_ERR_SUCCESS;
}
