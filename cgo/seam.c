/* seam.c - C trampolines between the engine's callbacks and Go. Contexts
 * travel as runtime/cgo.Handle values in uintptr_t. */
#include <stdint.h>
#include <string.h>

#include <libmemif.h>

#include "_cgo_export.h"

static int
seam_fd_update (memif_fd_event_t fde, void *ctx)
{
  return goOnFdUpdate (fde.fd, (int) fde.type, (uintptr_t) fde.private_ctx,
		       (uintptr_t) ctx);
}

/* libmemif 4.x leaves posting receive buffers to the application: every
 * receive queue is filled as the link comes up (a no-op on a master). */
static int
seam_on_connect (memif_conn_handle_t c, void *ctx)
{
  for (uint16_t q = 0; q < 256; q++)
    if (memif_refill_queue (c, q, 0xFFFF, 0) == MEMIF_ERR_QID)
      break;
  goOnLink ((uintptr_t) ctx, 1, NULL);
  return 0;
}

/* libmemif 4.x also calls on_disconnect for handshakes that never came up,
 * when an upstream master's details would touch rings not yet set: the
 * peer's reason is read only for a session Go saw come up. */
static int
seam_on_disconnect (memif_conn_handle_t c, void *ctx)
{
  static char buf[4096];	/* under the socket mutex, like every call */
  memif_details_t md;
  const char *why = NULL;
  if (goLinkUp ((uintptr_t) ctx)
      && memif_get_details (c, &md, buf, sizeof (buf)) == MEMIF_ERR_SUCCESS
      && md.error)
    why = (const char *) md.error;
  goOnLink ((uintptr_t) ctx, 0, (char *) why);
  return 0;
}

int
seam_create_socket (memif_socket_handle_t *s, const char *path,
		    const char *app, long long retry_ns, uintptr_t h)
{
  memif_socket_args_t a;
  memset (&a, 0, sizeof (a));
  strncpy (a.path, path, sizeof (a.path) - 1);
  strncpy (a.app_name, app, sizeof (a.app_name));
  a.connection_request_timer.it_value.tv_sec = retry_ns / 1000000000;
  a.connection_request_timer.it_value.tv_nsec = retry_ns % 1000000000;
  a.connection_request_timer.it_interval = a.connection_request_timer.it_value;
  a.on_control_fd_update = seam_fd_update;
  return memif_create_socket (s, &a, (void *) h);
}

int
seam_create (memif_conn_handle_t *c, memif_conn_args_t *a, uintptr_t h)
{
  return memif_create (c, a, seam_on_connect, seam_on_disconnect, NULL,
		       (void *) h);
}

int
seam_fd_handler (uintptr_t p, int events)
{
  return memif_control_fd_handler ((void *) p, (memif_fd_event_type_t) events);
}

/* cgo cannot write the mode bit-field itself. */
void
seam_set_mode (memif_conn_args_t *a, int mode)
{
  a->mode = (memif_interface_mode_t) mode;
}
