//go:build !libmemif_system

/* iface.c - what every layer may ask of the socket and interface records. */
#include <stdio.h>

#include "iface.h"

void
report_error (memif_socket_t *s, memif_conn_t *c, int err, const char *reason)
{
  char *dst = c ? c->error : s->last_error;
  snprintf (dst, MW_REASON_LEN + 1, "%s", reason);
  if (s->on_error)
    s->on_error (c, c ? c->private_ctx : s->private_ctx, err, reason);
}

bool
socket_serves (const memif_socket_t *s, bool master)
{
  for (const memif_conn_t * o = s->conns; o; o = o->next)
    if ((bool) o->args.is_master == master)
      return true;
  return false;
}
