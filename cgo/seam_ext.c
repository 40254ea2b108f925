//go:build !libmemif_system

/* seam_ext.c - trampolines for the bundled engine's extensions. */
#include <stdint.h>

#include <libmemif.h>

#include "_cgo_export.h"

static void
seam_on_error (memif_conn_handle_t c, void *ctx, int err, const char *why)
{
  goOnError ((uintptr_t) ctx, c != NULL, err, (char *) why);
}

int
seam_set_error_callback (memif_socket_handle_t s)
{
  return memif_set_error_callback (s, seam_on_error);
}
