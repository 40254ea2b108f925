//go:build !libmemif_system

/* txwait.c - EXTENSION: transmit flow control across processes. */
#include "datapath.h"

#include <time.h>

/* The cross-process wakeup itself is ring.c's. */

static uint64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

int
memif_tx_spin (memif_conn_handle_t conn, uint16_t qid, uint16_t need,
	       uint32_t ns, uint16_t *room)
{
  memif_conn_t *c = conn;
  queue_t *q;
  int err = queue_of (c, qid, true, &q);
  if (err)
    return err;
  if (!room)
    return MEMIF_ERR_INVAL_ARG;
  uint64_t until = 0;
  for (unsigned k = 0;; k++)
    {
      int rm = tx_room (c, q);
      if (rm < 0)
	return lying (c, "peer moved a ring index too far");
      *room = (uint16_t) rm;
      if (rm >= need)
	return MEMIF_ERR_SUCCESS;
      if ((k & 31) == 0)
	{			/* the clock every 32 looks: a look is a load */
	  uint64_t t = now_ns ();
	  if (!until)
	    until = t + ns;
	  else if (t >= until)
	    return MEMIF_ERR_SUCCESS;
	}
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause ();
#endif
    }
}

/* Slots of q sent and not yet released by the peer. A lying peer's index
 * cannot make it more than the ring. */
static uint16_t
tx_in_flight (const memif_conn_t *c, const queue_t *q)
{
  const mw_ring_t *r = q->ring;
  uint32_t n = c->args.is_master
    ? q->size - mw_dist (q->own, mw_load_acquire (&r->head))
    : mw_dist (mw_load_acquire (&r->tail), q->own);
  return (uint16_t) (n > q->size ? q->size : n);
}

void
txwait_note_end (memif_conn_t *c)
{
  uint16_t n = c->args.is_master ? c->num_m2s : c->num_s2m;
  c->ended_session = c->sessions;
  for (uint16_t qid = 0; qid < MW_MAX_RINGS; qid++)
    {
      const queue_t *q = qid < n ? tx_queue (c, qid) : NULL;
      c->ended_in_flight[qid] = q && q->ring ? tx_in_flight (c, q) : 0;
    }
}

int
memif_tx_in_flight_at_end (memif_conn_handle_t conn, uint64_t session,
			   uint16_t qid, uint16_t *in_flight)
{
  memif_conn_t *c = conn;
  if (!c || !in_flight)
    return MEMIF_ERR_INVAL_ARG;
  if (session == 0 || session != c->ended_session)
    return MEMIF_ERR_NOCONN;
  if (qid >= MW_MAX_RINGS)
    return MEMIF_ERR_QID;
  *in_flight = c->ended_in_flight[qid];
  return MEMIF_ERR_SUCCESS;
}

int
memif_tx_wait_prepare (memif_conn_handle_t conn, uint16_t qid,
		       uint16_t *room, uint16_t *in_flight, uint32_t **word,
		       uint32_t *value, int *peer_wakes)
{
  memif_conn_t *c = conn;
  queue_t *q;
  int err = queue_of (c, qid, true, &q);
  if (err)
    return err;
  if (!room || !in_flight || !word || !value || !peer_wakes)
    return MEMIF_ERR_INVAL_ARG;
  /* The master waits for the slave's head, the slave for the master's
   * tail: the index the peer moves when it releases buffers. */
  bool head = c->args.is_master;
  mw_ring_t *r = q->ring;
  __atomic_store_n (head ? &r->ext_head_waiters : &r->ext_tail_waiters, 1,
		    __ATOMIC_SEQ_CST);
  *word = ring_index_word (r, head);
  *value = __atomic_load_n (*word, __ATOMIC_SEQ_CST);
  *peer_wakes = __atomic_load_n (head ? &r->ext_head_wakes
				 : &r->ext_tail_wakes,
				 __ATOMIC_RELAXED) == MW_EXT_WAKES;
  int rm = tx_room (c, q);
  if (rm < 0)
    return lying (c, "peer moved a ring index too far");
  *room = (uint16_t) rm;
  *in_flight = tx_in_flight (c, q);
  return MEMIF_ERR_SUCCESS;
}

int
memif_tx_wait_done (memif_conn_handle_t conn, uint16_t qid)
{
  memif_conn_t *c = conn;
  queue_t *q;
  int err = queue_of (c, qid, true, &q);
  if (err)
    return err;
  __atomic_store_n (c->args.is_master ? &q->ring->ext_head_waiters
		    : &q->ring->ext_tail_waiters, 0, __ATOMIC_RELAXED);
  return MEMIF_ERR_SUCCESS;
}

int
memif_tx_wait_wake (memif_conn_handle_t conn, uint16_t qid)
{
  memif_conn_t *c = conn;
  queue_t *q;
  int err = queue_of (c, qid, true, &q);
  if (err)
    return err;
  ring_wake (q->ring, c->args.is_master);
  return MEMIF_ERR_SUCCESS;
}
