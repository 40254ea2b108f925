/* gobuffer.h - the seam's Go Buffer (types.go) as C sees it, for the calls
 * that read and fill Buffers in place instead of copying them through C
 * scratch one Go loop at a time. A Go slice is a pointer and two ints.
 * txsingles.go fails to compile if this picture and the Go type differ. */
#ifndef SEAM_GOBUFFER_H
#define SEAM_GOBUFFER_H

#include <stddef.h>
#include <stdint.h>

typedef struct
{
  void *data;			/* Data: shared memory, never Go memory */
  intptr_t data_len, data_cap;	/* a Go int is a pointer wide */
  intptr_t len;			/* Len */
  uint32_t metadata;		/* Metadata */
  uint8_t next;			/* Next */
  uint16_t desc;
  void *queue;
} seam_go_buffer_t;

enum
{
  SEAM_GO_BUFFER_DATA = offsetof (seam_go_buffer_t, data),
  SEAM_GO_BUFFER_DATA_LEN = offsetof (seam_go_buffer_t, data_len),
  SEAM_GO_BUFFER_DATA_CAP = offsetof (seam_go_buffer_t, data_cap),
  SEAM_GO_BUFFER_LEN = offsetof (seam_go_buffer_t, len),
  SEAM_GO_BUFFER_METADATA = offsetof (seam_go_buffer_t, metadata),
  SEAM_GO_BUFFER_SIZE = sizeof (seam_go_buffer_t),
};

/* seam_tx_singles's answer when a Buffer's Len is outside its Data; the
 * engine's codes are positive. */
enum
{ SEAM_LEN_OUTSIDE_DATA = -1 };

#endif
