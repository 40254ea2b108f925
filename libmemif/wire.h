/*
 * wire.h - memif 2.0 on-the-wire facts: control messages and ring layout.
 *
 * Control messages are decoded field by field from little-endian bytes into
 * host structs (never cast from the datagram), so a peer's bytes are only
 * ever read through bounds-checked copies.
 */
#ifndef MEMIF_WIRE_H
#define MEMIF_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define MW_MSG_SIZE 128
#define MW_NAME_LEN 32
#define MW_SECRET_LEN 24
#define MW_REASON_LEN 96

#define MW_COOKIE 0x3E31F20u

enum
{
  MW_MSG_ACK = 1,
  MW_MSG_HELLO = 2,
  MW_MSG_INIT = 3,
  MW_MSG_ADD_REGION = 4,
  MW_MSG_ADD_RING = 5,
  MW_MSG_CONNECT = 6,
  MW_MSG_CONNECTED = 7,
  MW_MSG_DISCONNECT = 8,
};

#define MW_ADD_RING_FLAG_S2M 1u

/* Limits this engine advertises and enforces. */
#define MW_MAX_LOG2_RING 14
#define MW_MAX_RINGS 255	/* each direction */
#define MW_MAX_REGIONS 256

typedef struct
{
  uint16_t type;
  union
  {
    struct
    {
      char name[MW_NAME_LEN + 1];
      uint16_t min_version, max_version;
      uint16_t max_region, max_m2s_ring, max_s2m_ring;
      uint8_t max_log2_ring_size;
    } hello;
    struct
    {
      uint16_t version;
      uint32_t id;
      uint8_t mode;
      uint8_t secret[MW_SECRET_LEN];
      char name[MW_NAME_LEN + 1];
    } init;
    struct
    {
      uint16_t index;
      uint64_t size;
    } add_region;
    struct
    {
      uint16_t flags, index, region;
      uint32_t offset;
      uint8_t log2_ring_size;
      uint16_t private_hdr_size;
    } add_ring;
    struct
    {
      char if_name[MW_NAME_LEN + 1];
    } connect;			/* CONNECT and CONNECTED */
    struct
    {
      uint32_t code;
      char reason[MW_REASON_LEN + 1];
    } disconnect;
  };
} mw_msg_t;

/* Encodes m into exactly MW_MSG_SIZE bytes; unused bytes are zero. Returns 0,
 * or -1 for an unknown type. */
int mw_encode (const mw_msg_t *m, uint8_t out[MW_MSG_SIZE]);

/* Decodes one datagram. Returns 0, MEMIF_ERR_MFMSG for a wrong size, or
 * MEMIF_ERR_UNKNOWN_MSG for an unknown type. Strings come out NUL-terminated
 * whatever the peer sent. */
int mw_decode (const uint8_t *buf, size_t len, mw_msg_t *m);

/* ---- Ring layout (shared memory) ---- */

typedef struct
{
  uint16_t flags;
#define MW_DESC_FLAG_NEXT 1u
  uint16_t region;
  uint32_t length;
  uint32_t offset;
  uint32_t metadata;
} mw_desc_t;

/* The ext_* words live in padding that memif 2.0 leaves unused (peers
 * neither read nor write it). They carry this engine's cross-process wakeup
 * for a sender waiting on a full ring: see datapath.c. */
typedef struct
{
  uint32_t cookie;
  uint16_t flags;
#define MW_RING_FLAG_MASK_INT 1u
/* EXTENSION: set with MASK_INT by a receiver that is awake and clears both
 * before it sleeps (memif_rx_wait_prepare); MASK_INT alone is polling.
 * Peers read only bit 0. */
#define MW_RING_FLAG_EXT_AWAKE 0x8000u
  uint16_t head;
  uint32_t ext_head_waiters;	/* master waits for the slave's head */
  uint32_t ext_head_wakes;	/* the slave wakes them (MW_EXT_WAKES) */
  uint32_t ext_tx_fences;	/* the sender fences its mask reads (MW_EXT_FENCES) */
  uint8_t pad0[44];
  uint16_t tail;
  uint16_t pad_tail;
  uint32_t ext_tail_waiters;	/* slave waits for the master's tail */
  uint32_t ext_tail_wakes;	/* the master wakes them */
  uint8_t pad1[52];
  mw_desc_t desc[];
} mw_ring_t;

#define MW_EXT_WAKES 0x4D474F31u	/* "MGO1": this peer wakes futex waiters */
#define MW_EXT_FENCES 0x4D474F46u	/* "MGOF": its interrupt checks fence */

_Static_assert (sizeof (mw_desc_t) == 16, "descriptor is 16 bytes");
_Static_assert (offsetof (mw_ring_t, head) == 6, "head at +6");
_Static_assert (offsetof (mw_ring_t, tail) == 64, "tail at +64");
_Static_assert (offsetof (mw_ring_t, desc) == 128, "descriptors at +128");
_Static_assert (offsetof (mw_ring_t, ext_head_waiters) == 8, "head word");
_Static_assert (offsetof (mw_ring_t, ext_tail_waiters) == 68, "tail word");

static inline uint64_t
mw_ring_bytes (unsigned log2_size)
{
  return sizeof (mw_ring_t) + ((uint64_t) 1 << log2_size) * sizeof (mw_desc_t);
}

/* Ring indices are free-running 16-bit counters: the distance from a to b
 * is computed modulo 2^16, which stays right across wrap-around as long as
 * no side gets more than 2^16 - 1 ahead (ring sizes are at most 2^14). */
static inline uint16_t
mw_dist (uint16_t from, uint16_t to)
{
  return (uint16_t) (to - from);
}

static inline uint16_t
mw_load_acquire (const uint16_t *p)
{
  return __atomic_load_n (p, __ATOMIC_ACQUIRE);
}

static inline void
mw_store_release (uint16_t *p, uint16_t v)
{
  __atomic_store_n (p, v, __ATOMIC_RELEASE);
}

#endif
