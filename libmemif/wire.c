//go:build !libmemif_system

/* wire.c - encode and decode memif 2.0 control messages. */
#include <string.h>

#include "libmemif.h"
#include "wire.h"

/* Field offsets inside the 128-byte datagram. The type is a 16-bit word at
 * 0 and every body starts right after it, packed. */
enum
{
  OFF_BODY = 2,
  HELLO_NAME = 2, HELLO_MIN = 34, HELLO_MAX = 36, HELLO_MAX_REGION = 38,
  HELLO_MAX_M2S = 40, HELLO_MAX_S2M = 42, HELLO_MAX_LOG2 = 44,
  INIT_VERSION = 2, INIT_ID = 4, INIT_MODE = 8, INIT_SECRET = 9, INIT_NAME = 33,
  REGION_INDEX = 2, REGION_SIZE = 4,
  RING_FLAGS = 2, RING_INDEX = 4, RING_REGION = 6, RING_OFFSET = 8,
  RING_LOG2 = 12, RING_PRIV = 13,
  CONNECT_NAME = 2,
  DISC_CODE = 2, DISC_REASON = 6,
};

static void
put16 (uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t) v;
  p[1] = (uint8_t) (v >> 8);
}

static void
put32 (uint8_t *p, uint32_t v)
{
  put16 (p, (uint16_t) v);
  put16 (p + 2, (uint16_t) (v >> 16));
}

static void
put64 (uint8_t *p, uint64_t v)
{
  put32 (p, (uint32_t) v);
  put32 (p + 4, (uint32_t) (v >> 32));
}

static uint16_t
get16 (const uint8_t *p)
{
  return (uint16_t) (p[0] | (p[1] << 8));
}

static uint32_t
get32 (const uint8_t *p)
{
  return get16 (p) | ((uint32_t) get16 (p + 2) << 16);
}

static uint64_t
get64 (const uint8_t *p)
{
  return get32 (p) | ((uint64_t) get32 (p + 4) << 32);
}

/* Copies a fixed-size, possibly unterminated field into a C string. */
static void
get_str (char *dst, const uint8_t *src, size_t n)
{
  size_t i;
  for (i = 0; i < n && src[i]; i++)
    dst[i] = (char) src[i];
  dst[i] = 0;
}

static void
put_str (uint8_t *dst, const char *src, size_t n)
{
  size_t len = strnlen (src, n);
  memcpy (dst, src, len);
}

int
mw_encode (const mw_msg_t *m, uint8_t out[MW_MSG_SIZE])
{
  memset (out, 0, MW_MSG_SIZE);
  put16 (out, m->type);
  switch (m->type)
    {
    case MW_MSG_ACK:
      break;
    case MW_MSG_HELLO:
      put_str (out + HELLO_NAME, m->hello.name, MW_NAME_LEN);
      put16 (out + HELLO_MIN, m->hello.min_version);
      put16 (out + HELLO_MAX, m->hello.max_version);
      put16 (out + HELLO_MAX_REGION, m->hello.max_region);
      put16 (out + HELLO_MAX_M2S, m->hello.max_m2s_ring);
      put16 (out + HELLO_MAX_S2M, m->hello.max_s2m_ring);
      out[HELLO_MAX_LOG2] = m->hello.max_log2_ring_size;
      break;
    case MW_MSG_INIT:
      put16 (out + INIT_VERSION, m->init.version);
      put32 (out + INIT_ID, m->init.id);
      out[INIT_MODE] = m->init.mode;
      memcpy (out + INIT_SECRET, m->init.secret, MW_SECRET_LEN);
      put_str (out + INIT_NAME, m->init.name, MW_NAME_LEN);
      break;
    case MW_MSG_ADD_REGION:
      put16 (out + REGION_INDEX, m->add_region.index);
      put64 (out + REGION_SIZE, m->add_region.size);
      break;
    case MW_MSG_ADD_RING:
      put16 (out + RING_FLAGS, m->add_ring.flags);
      put16 (out + RING_INDEX, m->add_ring.index);
      put16 (out + RING_REGION, m->add_ring.region);
      put32 (out + RING_OFFSET, m->add_ring.offset);
      out[RING_LOG2] = m->add_ring.log2_ring_size;
      put16 (out + RING_PRIV, m->add_ring.private_hdr_size);
      break;
    case MW_MSG_CONNECT:
    case MW_MSG_CONNECTED:
      put_str (out + CONNECT_NAME, m->connect.if_name, MW_NAME_LEN);
      break;
    case MW_MSG_DISCONNECT:
      put32 (out + DISC_CODE, m->disconnect.code);
      put_str (out + DISC_REASON, m->disconnect.reason, MW_REASON_LEN);
      break;
    default:
      return -1;
    }
  return 0;
}

int
mw_decode (const uint8_t *buf, size_t len, mw_msg_t *m)
{
  memset (m, 0, sizeof (*m));
  if (len != MW_MSG_SIZE)
    return MEMIF_ERR_MFMSG;
  m->type = get16 (buf);
  switch (m->type)
    {
    case MW_MSG_ACK:
      break;
    case MW_MSG_HELLO:
      get_str (m->hello.name, buf + HELLO_NAME, MW_NAME_LEN);
      m->hello.min_version = get16 (buf + HELLO_MIN);
      m->hello.max_version = get16 (buf + HELLO_MAX);
      m->hello.max_region = get16 (buf + HELLO_MAX_REGION);
      m->hello.max_m2s_ring = get16 (buf + HELLO_MAX_M2S);
      m->hello.max_s2m_ring = get16 (buf + HELLO_MAX_S2M);
      m->hello.max_log2_ring_size = buf[HELLO_MAX_LOG2];
      break;
    case MW_MSG_INIT:
      m->init.version = get16 (buf + INIT_VERSION);
      m->init.id = get32 (buf + INIT_ID);
      m->init.mode = buf[INIT_MODE];
      memcpy (m->init.secret, buf + INIT_SECRET, MW_SECRET_LEN);
      get_str (m->init.name, buf + INIT_NAME, MW_NAME_LEN);
      break;
    case MW_MSG_ADD_REGION:
      m->add_region.index = get16 (buf + REGION_INDEX);
      m->add_region.size = get64 (buf + REGION_SIZE);
      break;
    case MW_MSG_ADD_RING:
      m->add_ring.flags = get16 (buf + RING_FLAGS);
      m->add_ring.index = get16 (buf + RING_INDEX);
      m->add_ring.region = get16 (buf + RING_REGION);
      m->add_ring.offset = get32 (buf + RING_OFFSET);
      m->add_ring.log2_ring_size = buf[RING_LOG2];
      m->add_ring.private_hdr_size = get16 (buf + RING_PRIV);
      break;
    case MW_MSG_CONNECT:
    case MW_MSG_CONNECTED:
      get_str (m->connect.if_name, buf + CONNECT_NAME, MW_NAME_LEN);
      break;
    case MW_MSG_DISCONNECT:
      m->disconnect.code = get32 (buf + DISC_CODE);
      get_str (m->disconnect.reason, buf + DISC_REASON, MW_REASON_LEN);
      break;
    default:
      return MEMIF_ERR_UNKNOWN_MSG;
    }
  return 0;
}
