//go:build !libmemif_system

/* api.c - interface lifecycle, details and error strings. */
#include <stdio.h>
#include <string.h>

#include "private.h"

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
  [MEMIF_ERR_NOCONN] = "interface is not connected",
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
  [MEMIF_ERR_DISCONNECTED] = "peer disconnected",
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

int
memif_create (memif_conn_handle_t *conn, memif_conn_args_t *args,
	      memif_connection_update_t *on_connect,
	      memif_connection_update_t *on_disconnect,
	      memif_on_interrupt_t *on_interrupt, void *private_ctx)
{
  if (!conn || !args || !args->socket)
    return MEMIF_ERR_INVAL_ARG;
  memif_socket_t *s = args->socket;
  int role = args->is_master ? 0 : 1;
  if (s->role >= 0 && s->role != role)
    return MEMIF_ERR_INVAL_ARG;	/* one socket serves one role */
  if (args->log2_ring_size > MW_MAX_LOG2_RING
      || args->mode > MEMIF_INTERFACE_MODE_PUNT_INJECT)
    return MEMIF_ERR_INVAL_ARG;
  for (memif_conn_t * o = s->conns; o; o = o->next)
    if (o->args.interface_id == args->interface_id)
      return MEMIF_ERR_INVAL_ARG;	/* ids tell slaves apart */

  memif_conn_t *c = mem_alloc (s, sizeof (*c));
  if (!c)
    return MEMIF_ERR_NOMEM;
  c->sock = s;
  c->args = *args;
  c->buffer_size = args->buffer_size32 ? args->buffer_size32
    : args->buffer_size ? args->buffer_size : DEFAULT_BUFFER_SIZE;
  c->on_connect = on_connect;
  c->on_disconnect = on_disconnect;
  c->on_interrupt = on_interrupt;
  c->private_ctx = private_ctx;

  int err = role == 0 ? listener_open (s) : s->role < 0 ? timer_arm (s) : 0;
  if (err)
    {
      mem_free (s, c);
      return err;
    }
  s->role = role;
  c->next = s->conns;
  s->conns = c;
  if (role == 1)
    channel_connect (c);	/* no master yet is fine: the timer retries */
  *conn = c;
  return MEMIF_ERR_SUCCESS;
}

int
memif_request_connection (memif_conn_handle_t conn)
{
  memif_conn_t *c = conn;
  if (!c)
    return MEMIF_ERR_INVAL_ARG;
  if (c->args.is_master)
    return MEMIF_ERR_INVAL_ARG;
  return channel_connect (c);
}

int
memif_delete (memif_conn_handle_t *conn)
{
  if (!conn || !*conn)
    return MEMIF_ERR_INVAL_ARG;
  memif_conn_t *c = *conn;
  memif_socket_t *s = c->sock;
  if (c->ch)
    {
      mw_msg_t m = {.type = MW_MSG_DISCONNECT };
      m.disconnect.code = MEMIF_ERR_SUCCESS;
      strcpy (m.disconnect.reason, c->delete_reason[0] ? c->delete_reason
	      : "interface deleted");
      channel_send (c->ch, &m, -1);
      channel_close (c->ch);
    }
  stale_free (c);
  for (memif_conn_t ** p = &s->conns; *p; p = &(*p)->next)
    if (*p == c)
      {
	*p = c->next;
	break;
      }
  if (!s->conns)
    {
      /* The socket returns to its unassigned state. */
      if (s->role == 0)
	listener_close (s);
      else if (s->timer)
	{
	  fd_unwatch (s, s->timer);
	  s->timer = NULL;
	}
      s->role = -1;
    }
  mem_free (s, c);
  *conn = NULL;
  return MEMIF_ERR_SUCCESS;
}

int
memif_release_stale (memif_conn_handle_t conn, uint64_t session)
{
  memif_conn_t *c = conn;
  if (!c)
    return MEMIF_ERR_INVAL_ARG;
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
