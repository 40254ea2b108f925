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

static int
seam_on_connect (memif_conn_handle_t c, void *ctx)
{
  goOnLink ((uintptr_t) ctx, 1);
  return 0;
}

static int
seam_on_disconnect (memif_conn_handle_t c, void *ctx)
{
  goOnLink ((uintptr_t) ctx, 0);
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
