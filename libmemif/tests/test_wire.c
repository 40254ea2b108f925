/* test_wire.c - control-message encode/decode and ring index arithmetic. */
#include <string.h>

#include "../libmemif.h"
#include "../wire.h"
#include "check.h"

static void
test_roundtrip_all_types (void)
{
  mw_msg_t in[8], out;
  uint8_t buf[MW_MSG_SIZE];
  memset (in, 0, sizeof (in));
  in[0].type = MW_MSG_ACK;
  in[1].type = MW_MSG_HELLO;
  strcpy (in[1].hello.name, "hello-app");
  in[1].hello.min_version = 0x0200;
  in[1].hello.max_version = 0x0201;
  in[1].hello.max_region = 255;
  in[1].hello.max_m2s_ring = 254;
  in[1].hello.max_s2m_ring = 7;
  in[1].hello.max_log2_ring_size = 14;
  in[2].type = MW_MSG_INIT;
  in[2].init.version = 0x0200;
  in[2].init.id = 0xDEADBEEF;
  in[2].init.mode = 2;
  memcpy (in[2].init.secret, "0123456789abcdef01234567", 24);
  strcpy (in[2].init.name, "slave-app");
  in[3].type = MW_MSG_ADD_REGION;
  in[3].add_region.index = 3;
  in[3].add_region.size = 0x123456789ull;
  in[4].type = MW_MSG_ADD_RING;
  in[4].add_ring.flags = MW_ADD_RING_FLAG_S2M;
  in[4].add_ring.index = 9;
  in[4].add_ring.region = 1;
  in[4].add_ring.offset = 0xFFFFFFC0u;
  in[4].add_ring.log2_ring_size = 12;
  in[5].type = MW_MSG_CONNECT;
  strcpy (in[5].connect.if_name, "memif0");
  in[6].type = MW_MSG_CONNECTED;
  strcpy (in[6].connect.if_name, "memif1");
  in[7].type = MW_MSG_DISCONNECT;
  in[7].disconnect.code = 29;
  strcpy (in[7].disconnect.reason, "secret mismatch");
  for (int i = 0; i < 8; i++)
    {
      CHECK_EQ (mw_encode (&in[i], buf), 0);
      CHECK_EQ (mw_decode (buf, sizeof (buf), &out), 0);
      CHECK (memcmp (&in[i], &out, sizeof (out)) == 0);
    }
}

/* Offsets from the memif 2.0 packed layout, checked byte by byte. */
static void
test_layout (void)
{
  mw_msg_t m = {.type = MW_MSG_ADD_RING };
  uint8_t b[MW_MSG_SIZE];
  m.add_ring.flags = 0x0001;
  m.add_ring.index = 0x0302;
  m.add_ring.region = 0x0504;
  m.add_ring.offset = 0x09080706;
  m.add_ring.log2_ring_size = 0x0a;
  m.add_ring.private_hdr_size = 0x0c0b;
  mw_encode (&m, b);
  const uint8_t want[] = { 5, 0, 1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
  CHECK (memcmp (b, want, sizeof (want)) == 0);

  mw_msg_t i = {.type = MW_MSG_INIT };
  i.init.version = 0x0200;
  i.init.id = 7;
  i.init.mode = 1;
  i.init.secret[0] = 'S';
  i.init.name[0] = 'N';
  mw_encode (&i, b);
  CHECK_EQ (b[2], 0x00);
  CHECK_EQ (b[3], 0x02);
  CHECK_EQ (b[4], 7);
  CHECK_EQ (b[8], 1);
  CHECK_EQ (b[9], 'S');
  CHECK_EQ (b[33], 'N');

  mw_msg_t h = {.type = MW_MSG_HELLO };
  h.hello.max_log2_ring_size = 14;
  h.hello.max_s2m_ring = 0x0102;
  mw_encode (&h, b);
  CHECK_EQ (b[42], 2);
  CHECK_EQ (b[43], 1);
  CHECK_EQ (b[44], 14);

  mw_msg_t d = {.type = MW_MSG_DISCONNECT };
  d.disconnect.code = 0x04030201;
  strcpy (d.disconnect.reason, "R");
  mw_encode (&d, b);
  CHECK_EQ (b[2], 1);
  CHECK_EQ (b[5], 4);
  CHECK_EQ (b[6], 'R');
}

static void
test_decode_rejects (void)
{
  uint8_t b[MW_MSG_SIZE + 1];
  mw_msg_t m;
  memset (b, 0, sizeof (b));
  b[0] = MW_MSG_ACK;
  CHECK_EQ (mw_decode (b, MW_MSG_SIZE - 1, &m), MEMIF_ERR_MFMSG);
  CHECK_EQ (mw_decode (b, MW_MSG_SIZE + 1, &m), MEMIF_ERR_MFMSG);
  CHECK_EQ (mw_decode (b, 0, &m), MEMIF_ERR_MFMSG);
  b[0] = 0;
  CHECK_EQ (mw_decode (b, MW_MSG_SIZE, &m), MEMIF_ERR_UNKNOWN_MSG);
  b[0] = 9;
  CHECK_EQ (mw_decode (b, MW_MSG_SIZE, &m), MEMIF_ERR_UNKNOWN_MSG);
  b[0] = 2;
  b[1] = 1;			/* type 0x0102 */
  CHECK_EQ (mw_decode (b, MW_MSG_SIZE, &m), MEMIF_ERR_UNKNOWN_MSG);
  /* An unterminated name stays within its 32 bytes. */
  memset (b, 'x', sizeof (b));
  b[0] = MW_MSG_CONNECT;
  b[1] = 0;
  CHECK_EQ (mw_decode (b, MW_MSG_SIZE, &m), 0);
  CHECK_EQ (strlen (m.connect.if_name), MW_NAME_LEN);
  b[0] = MW_MSG_DISCONNECT;
  CHECK_EQ (mw_decode (b, MW_MSG_SIZE, &m), 0);
  CHECK_EQ (strlen (m.disconnect.reason), MW_REASON_LEN);
}

static void
test_ring_arithmetic (void)
{
  CHECK_EQ (mw_dist (0, 0), 0);
  CHECK_EQ (mw_dist (10, 20), 10);
  CHECK_EQ (mw_dist (65530, 4), 10);	/* across the 2^16 wrap */
  CHECK_EQ (mw_dist (65535, 0), 1);
  CHECK_EQ (mw_dist (4, 65530), 65526);	/* a backwards move looks huge */
  CHECK_EQ (mw_ring_bytes (10), 128 + 1024 * 16);
  CHECK_EQ (mw_ring_bytes (14), 128 + 16384 * 16);
  /* Producer and consumer running past the wrap keep a correct fill. */
  uint16_t head = 65000, tail = 65000;
  const uint16_t size = 1024;
  int bad = 0;
  for (int i = 0; i < 200000; i++)
    {
      uint16_t used = mw_dist (tail, head);
      if (used < size && (i % 3))
	head++;
      else if (used)
	tail++;
      bad += mw_dist (tail, head) > size;
    }
  CHECK_EQ (bad, 0);
  CHECK (head != 65000);
}

int
main (void)
{
  test_roundtrip_all_types ();
  test_layout ();
  test_decode_rejects ();
  test_ring_arithmetic ();
  return check_report ("test_wire");
}
