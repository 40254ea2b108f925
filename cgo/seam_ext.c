//go:build !libmemif_system

/* seam_ext.c - trampolines for the bundled engine's extensions. */
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <libmemif.h>

#include "_cgo_export.h"
#include "gobuffer.h"

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

/* Transmit-wait scratch, in C memory so no Go variable escapes per call. */
typedef struct
{
  uint16_t room, in_flight;
  uint32_t value;
  uint32_t *word;
  int peer_wakes;
} seam_tx_wait_t;

int
seam_tx_wait_prepare (memif_conn_handle_t c, uint16_t qid, void *p)
{
  seam_tx_wait_t *w = p;
  return memif_tx_wait_prepare (c, qid, &w->room, &w->in_flight, &w->word,
				&w->value, &w->peer_wakes);
}

/* Sleeps until *word != value, a FUTEX_WAKE, or ns nanoseconds. */
void
seam_futex_wait (uint32_t *word, uint32_t value, long long ns)
{
  struct timespec ts = {.tv_sec = ns / 1000000000,.tv_nsec = ns % 1000000000 };
  syscall (SYS_futex, word, FUTEX_WAIT, value, &ts, NULL, 0);
}

/* Sends bufs[0..n) and, if that worked, allocates up to want packets of
 * size bytes into bufs[n..): one crossing where a sender would make two.
 * out[0] = sent, out[1] = allocated (0 unless the allocation worked, in
 * whole or up to a full ring). */
int
seam_tx_alloc (uintptr_t c, uint16_t qid, uintptr_t bufs, uintptr_t meta,
	       uint16_t n, uint16_t want, uint32_t size, uintptr_t out)
{
  memif_buffer_t *b = (memif_buffer_t *) bufs;
  uint16_t *o = (uint16_t *) out;
  o[1] = 0;
  int rc = memif_tx_burst_meta ((memif_conn_handle_t) c, qid, b,
				(const uint32_t *) meta, n, &o[0]);
  if (rc != MEMIF_ERR_SUCCESS || !want)
    return rc;
  int arc = memif_buffer_alloc32 ((memif_conn_handle_t) c, qid, b + n, want,
				  &o[1], size);
  if (arc != MEMIF_ERR_SUCCESS && arc != MEMIF_ERR_NOBUF_RING)
    o[1] = 0;
  return rc;
}

/* memif_rx_wait_prepare with its two outputs in out[0] (ready) and out[1]
 * (was masked). */
int
seam_rx_wait_prepare (uintptr_t c, uint16_t qid, uintptr_t out)
{
  int *o = (int *) out;
  return memif_rx_wait_prepare ((memif_conn_handle_t) c, qid, &o[0], &o[1]);
}

int
seam_tx_interrupts (uintptr_t c, uint16_t qid, uintptr_t out)
{
  return memif_get_tx_interrupts ((memif_conn_handle_t) c, qid,
				  (uint64_t *) out);
}

/* The data path with every pointer passed as an integer: they all point to
 * C memory (the interface's scratch), and cgo checks each pointer argument
 * on every call otherwise, which costs as much as the crossing itself. */
int
seam_tx (uintptr_t c, uint16_t qid, uintptr_t bufs, uintptr_t meta,
	 uint16_t n, uintptr_t out)
{
  return memif_tx_burst_meta ((memif_conn_handle_t) c, qid,
			      (memif_buffer_t *) bufs, (const uint32_t *) meta,
			      n, (uint16_t *) out);
}

int
seam_rx (uintptr_t c, uint16_t qid, uintptr_t bufs, uintptr_t meta,
	 uintptr_t room, uint16_t n, uintptr_t out)
{
  return memif_rx_burst_room ((memif_conn_handle_t) c, qid,
			      (memif_buffer_t *) bufs, (uint32_t *) meta,
			      (uint32_t *) room, n, (uint16_t *) out);
}

int
seam_alloc (uintptr_t c, uint16_t qid, uintptr_t bufs, uint16_t n,
	    uintptr_t out, uint32_t size, int one_packet)
{
  if (one_packet)
    return memif_buffer_alloc_packet32 ((memif_conn_handle_t) c, qid,
					(memif_buffer_t *) bufs, n,
					(uint16_t *) out, size);
  return memif_buffer_alloc32 ((memif_conn_handle_t) c, qid,
			       (memif_buffer_t *) bufs, n, (uint16_t *) out,
			       size);
}

int
seam_refill (uintptr_t c, uint16_t qid, uint16_t n)
{
  return memif_refill_queue ((memif_conn_handle_t) c, qid, n, 0);
}

/* memif_tx_singles of bufs[0..n), then memif_alloc_singles of up to want
 * into next: one crossing, and the Go Buffers read and filled here, in
 * place. lens, metas and data are scratch for the engine's arrays. out[0] =
 * sent, out[1] = allocated, out[2] = 1 when the allocation stopped before a
 * buffer smaller than size. Each next[k] gets Data of size bytes (a pointer
 * into shared memory, which the Go collector ignores) and Len = size. */
int
seam_tx_singles (uintptr_t c, uint16_t qid, uintptr_t bufs, uint16_t n,
		 uintptr_t next, uint16_t want, uint32_t size, uintptr_t lens,
		 uintptr_t metas, uintptr_t data, uintptr_t out)
{
  const seam_go_buffer_t *b = (const seam_go_buffer_t *) bufs;
  seam_go_buffer_t *nb = (seam_go_buffer_t *) next;
  uint32_t *len = (uint32_t *) lens, *meta = (uint32_t *) metas;
  void **d = (void **) data;
  uint16_t *o = (uint16_t *) out;
  int short_slot = 0;
  o[0] = o[1] = o[2] = 0;
  for (uint16_t k = 0; k < n; k++)
    {
      if ((uint64_t) b[k].len > (uint64_t) b[k].data_len)
	return SEAM_LEN_OUTSIDE_DATA;	/* nothing sent */
      len[k] = (uint32_t) b[k].len;
      meta[k] = b[k].metadata;
    }
  int rc = memif_tx_singles ((memif_conn_handle_t) c, qid, len, meta, n,
			     &o[0]);
  if (rc != MEMIF_ERR_SUCCESS || !want)
    return rc;
  int arc = memif_alloc_singles ((memif_conn_handle_t) c, qid, d, want, size,
				 &o[1], &short_slot);
  if (arc != MEMIF_ERR_SUCCESS && arc != MEMIF_ERR_NOBUF_RING)
    o[1] = 0;
  for (uint16_t k = 0; k < o[1]; k++)
    {
      nb[k].data = d[k];
      nb[k].data_len = nb[k].data_cap = nb[k].len = size;
    }
  o[2] = (uint16_t) short_slot;
  return n ? rc : arc;		/* nothing sent: the allocation's answer */
}
