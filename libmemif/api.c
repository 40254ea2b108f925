//go:build !libmemif_system

/* api.c - interface lifecycle, details and error strings. */
#include <stdio.h>

#include "handshake.h"
#include "sock.h"
#include "stale.h"

uint16_t
memif_get_version (void)
{
  return MEMIF_VERSION;
}

const char *
memif_get_version_str (void)
{
  return "2.0";
}

static const char *const err_text[] = {
  [MEMIF_ERR_SUCCESS] = "success",
  [MEMIF_ERR_SYSCALL] = "system call failed",
  [MEMIF_ERR_CONNREFUSED] = "connection refused: no master listening",
  [MEMIF_ERR_ACCES] = "permission denied",
  [MEMIF_ERR_NO_FILE] = "socket file does not exist",
  [MEMIF_ERR_FILE_LIMIT] = "system open file limit reached",
  [MEMIF_ERR_PROC_FILE_LIMIT] = "process open file limit reached",
  [MEMIF_ERR_ALREADY] = "already connected or connecting",
  [MEMIF_ERR_AGAIN] = "operation would block",
  [MEMIF_ERR_BAD_FD] = "bad file descriptor",
  [MEMIF_ERR_NOMEM] = "out of memory",
  [MEMIF_ERR_INVAL_ARG] = "invalid argument",
  [MEMIF_ERR_NOCONN] = "no such interface",
  [MEMIF_ERR_CONN] = "interface is connected",
  [MEMIF_ERR_CB_FDUPDATE] = "fd update callback failed",
  [MEMIF_ERR_FILE_NOT_SOCK] = "socket path exists and is not a socket",
  [MEMIF_ERR_NO_SHMFD] = "region message carried no memory fd",
  [MEMIF_ERR_COOKIE] = "ring cookie mismatch",
  [MEMIF_ERR_NOBUF_RING] = "ring is full",
  [MEMIF_ERR_NOBUF] = "not enough buffer slots in the request",
  [MEMIF_ERR_NOBUF_DET] = "details buffer too small",
  [MEMIF_ERR_INT_WRITE] = "cannot signal the peer",
  [MEMIF_ERR_MFMSG] = "malformed message or peer data",
  [MEMIF_ERR_QID] = "no such queue",
  [MEMIF_ERR_PROTO] = "incompatible memif protocol version",
  [MEMIF_ERR_ID] = "interface id not found",
  [MEMIF_ERR_ACCSLAVE] = "a slave cannot accept connections",
  [MEMIF_ERR_ALRCONN] = "interface already connected",
  [MEMIF_ERR_MODE] = "interface mode mismatch",
  [MEMIF_ERR_SECRET] = "secret mismatch",
  [MEMIF_ERR_NOSECRET] = "secret required",
  [MEMIF_ERR_MAXREG] = "too many regions",
  [MEMIF_ERR_MAXRING] = "too many rings",
  [MEMIF_ERR_NO_INTFD] = "ring message carried no interrupt fd",
  [MEMIF_ERR_DISCONNECT] = "peer sent disconnect",
  [MEMIF_ERR_DISCONNECTED] = "interface is disconnected",
  [MEMIF_ERR_UNKNOWN_MSG] = "unknown message type",
  [MEMIF_ERR_POLL_CANCEL] = "event polling cancelled",
  [MEMIF_ERR_MAX_RING] = "ring size out of range",
  [MEMIF_ERR_PRIVHDR] = "private headers are not supported",
};

char *
memif_strerror (int err_code)
{
  if (err_code < 0 || (size_t) err_code >= sizeof (err_text) / sizeof (*err_text))
    return (char *) "unknown error";
  return (char *) err_text[err_code];
}

memif_socket_handle_t
memif_get_socket_handle (memif_conn_handle_t conn)
{
  return conn ? ((memif_conn_t *) conn)->sock : NULL;
}

/* As upstream: one socket may serve masters and slaves at once. Ours is
 * stricter on ids: an id used twice in one role is refused (upstream binds
 * a slave to the last match and leaves the others inconsistent). */
int
memif_create (memif_conn_handle_t *conn, memif_conn_args_t *args,
	      memif_connection_update_t *on_connect,
	      memif_connection_update_t *on_disconnect,
	      memif_on_interrupt_t *on_interrupt, void *private_ctx)
{
  if (!conn || !args || !args->socket)
    return MEMIF_ERR_INVAL_ARG;
  if (*conn)
    return MEMIF_ERR_CONN;	/* upstream: the handle is already in use */
  memif_socket_t *s = args->socket;
  bool master = args->is_master;
  if (args->log2_ring_size > MW_MAX_LOG2_RING)
    return MEMIF_ERR_MAX_RING;
  if (args->mode > MEMIF_INTERFACE_MODE_PUNT_INJECT)
    return MEMIF_ERR_INVAL_ARG;
  for (memif_conn_t * o = s->conns; o; o = o->next)
    if (o->args.interface_id == args->interface_id
	&& (bool) o->args.is_master == master)
      return MEMIF_ERR_INVAL_ARG;	/* ids tell slaves apart */

  memif_conn_t *c = mem_alloc (&s->mem, sizeof (*c));
  if (!c)
    return MEMIF_ERR_NOMEM;
  c->sock = s;
  c->args = *args;
  c->buffer_size = c->buffer_size_cfg = args->buffer_size ? args->buffer_size
    : DEFAULT_BUFFER_SIZE;
  c->on_connect = on_connect;
  c->on_disconnect = on_disconnect;
  c->on_interrupt = on_interrupt;
  c->private_ctx = private_ctx;

  int err = master ? listener_open (s) : timer_arm (s);	/* it may have stopped */
  if (err)
    {
      mem_free (&s->mem, c);
      return err;
    }
  c->next = s->conns;
  s->conns = c;
  if (!master)
    sock_connect (c);		/* no master yet is fine: the timer retries */
  *conn = c;
  return MEMIF_ERR_SUCCESS;
}

int
memif_set_buffer_size32 (memif_conn_handle_t conn, uint32_t size)
{
  memif_conn_t *c = conn;
  if (!c)
    return MEMIF_ERR_NOCONN;
  c->buffer_size_cfg = size ? size : c->args.buffer_size ? c->args.buffer_size
    : DEFAULT_BUFFER_SIZE;
  if (c->state == CONN_DOWN || c->args.is_master)
    c->buffer_size = c->buffer_size_cfg;	/* what details report */
  return MEMIF_ERR_SUCCESS;
}

int
memif_set_prefault (memif_conn_handle_t conn, uint32_t which)
{
  memif_conn_t *c = conn;
  if (!c)
    return MEMIF_ERR_NOCONN;
  if (which & ~(MEMIF_PREFAULT_TX | MEMIF_PREFAULT_RX))
    return MEMIF_ERR_INVAL_ARG;
  c->prefault = which;
  return MEMIF_ERR_SUCCESS;
}

/* Upstream's codes: a master is always "connecting" (SUCCESS), a busy
 * slave is MEMIF_ERR_ALRCONN. */
int
memif_request_connection (memif_conn_handle_t conn)
{
  memif_conn_t *c = conn;
  if (!c)
    return MEMIF_ERR_NOCONN;
  if (c->args.is_master)
    return MEMIF_ERR_SUCCESS;
  if (c->ch)
    return MEMIF_ERR_ALRCONN;
  return sock_connect (c);
}

int
memif_delete (memif_conn_handle_t *conn)
{
  if (!conn || !*conn)
    return MEMIF_ERR_NOCONN;
  memif_conn_t *c = *conn;
  memif_socket_t *s = c->sock;
  if (c->ch)
    channel_hang_up (&c->ch->link, c->delete_reason[0] ? c->delete_reason
		     : "interface deleted");
  stale_free (c);
  for (memif_conn_t ** p = &s->conns; *p; p = &(*p)->next)
    if (*p == c)
      {
	*p = c->next;
	break;
      }
  /* A role with no interface left gives back its listener or timer. */
  if (!socket_serves (s, true))
    listener_close (s);
  if (!socket_serves (s, false))
    timer_close (s);
  mem_free (&s->mem, c);
  *conn = NULL;
  return MEMIF_ERR_SUCCESS;
}

int
memif_release_stale (memif_conn_handle_t conn, uint64_t session)
{
  memif_conn_t *c = conn;
  if (!c)
    return MEMIF_ERR_NOCONN;
  stale_release (c, session);
  return MEMIF_ERR_SUCCESS;
}

int
memif_set_delete_reason (memif_conn_handle_t conn, const char *reason)
{
  memif_conn_t *c = conn;
  if (!c || !reason)
    return MEMIF_ERR_INVAL_ARG;
  snprintf (c->delete_reason, sizeof (c->delete_reason), "%s", reason);
  return MEMIF_ERR_SUCCESS;
}
