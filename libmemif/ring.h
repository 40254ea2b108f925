/* ring.h - one ring as this side sees it: its place in shared memory, this
 * side's private shadows of the indices, and the checks that keep a peer's
 * index moves and descriptors from steering us. */
#ifndef MEMIF_RING_H
#define MEMIF_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "fdreg.h"
#include "wire.h"

/* What the application was handed for one ring slot: the engine's private
 * record, so that a disconnect keeps exactly that memory alive even if the
 * peer rewrote the descriptor since. */
typedef struct
{
  uint8_t *p;
  uint32_t len;
} span_t;

/* One ring as seen by this side. "own" is this side's shadow of the index it
 * writes (slave: head, master: tail): it is never read back from shared
 * memory, so a peer scribbling on it cannot move us. */
typedef struct
{
  mw_ring_t *ring;
  uint16_t log2;
  uint16_t size;
  uint16_t region;
  uint32_t offset;
  int efd;
  fd_entry_t *int_ent;
  uint16_t own;
  uint16_t last;		/* rx: next slot to hand out */
  uint16_t alloc;		/* tx: allocated, not yet sent */
  uint16_t held;		/* rx: handed out, not yet refilled */
  uint32_t first_buffer;	/* slave: index of slot 0's buffer */
  /* Slave, when every slot's buffer lies in one region (the usual case):
   * slot s's buffer is at sbuf + s * buffer_size, and its descriptor says
   * region sregion, offset soffset + s * buffer_size. NULL otherwise. */
  uint8_t *sbuf;
  uint16_t sregion;
  uint32_t soffset;
  span_t *spans;		/* per slot: what alloc / rx handed out */
  bool mask_awake;		/* rx: the waiter masks interrupts while awake */
  uint64_t kicks;		/* tx: interrupts sent this session */
} queue_t;

/* Bytes from one ring's start to the next one's in a slave's ring region. */
uint64_t ring_stride (unsigned log2);

/* Reads a descriptor once: only this private copy is checked and used. */
mw_desc_t ring_desc_read (const queue_t *q, uint16_t slot);
/* Just the length: what a master re-checks on every buffer it sends. */
uint32_t ring_desc_length (const queue_t *q, uint16_t slot);

/* Free slots this side may fill on a tx ring, or -1 if the peer lied. */
int ring_tx_room (const queue_t *q, bool master);
/* Received slots waiting on an rx ring, or -1 if the peer lied. */
int ring_rx_avail (const queue_t *q, bool master);

/* Checks the ring the peer set up (cookie, indices) and primes this side's
 * shadows for a new session; 0, or a memif code with *why. */
int ring_start (queue_t *q, bool master, bool s2m, const char **why);

/* The 32-bit word holding head (or tail), on which waiters futex-wait. */
uint32_t *ring_index_word (mw_ring_t *r, bool head);
/* Wakes whoever futex-waits on head (or tail). */
void ring_wake (mw_ring_t *r, bool head);
/* After moving head (or tail): wakes senders of either process waiting for
 * it, if any announced themselves. */
void ring_wake_waiters (mw_ring_t *r, bool head);
/* Wakes this process's own waiters on a ring about to go away. */
void ring_wake_local (mw_ring_t *r);
/* Announces that this side, the receiver, wakes senders waiting on it. */
void ring_announce_wakes (mw_ring_t *r, bool master);
/* Announces that this side, the sender, fences between publishing a burst
 * and reading the receiver's interrupt mask (see kick in datapath.c). */
void ring_announce_fences (mw_ring_t *r);

#endif
