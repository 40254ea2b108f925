/* fuzz_decode.c - the control-message decoder, checked against the wire
 * layout of memif 2.0 (memif.h in the protocol's reference), not against
 * the decoder's own code:
 *  - any length but 128 is refused with MEMIF_ERR_MFMSG, any type outside
 *    1..8 with MEMIF_ERR_UNKNOWN_MSG, nothing else is refused;
 *  - a decoded message re-encodes to the input's bytes in every field the
 *    wire defines for its type (strings up to their first NUL, then zeros)
 *    and to zeros everywhere else;
 *  - decoding that encoding gives back the same message;
 *  - every string comes out NUL-terminated within its field's size. */
#include "fuzz.h"

typedef struct
{
  uint8_t off, len;
  bool str;			/* NUL-terminated text: cut at the first NUL */
} span_t;

#define END { 0, 0, false }

/* Per message type, the fields the wire defines, from the protocol spec. */
static const span_t layout[9][8] = {
  [MW_MSG_ACK] = {END},
  [MW_MSG_HELLO] = {{2, 32, true}, {34, 2, 0}, {36, 2, 0}, {38, 2, 0},
		    {40, 2, 0}, {42, 2, 0}, {44, 1, 0}, END},
  [MW_MSG_INIT] = {{2, 2, 0}, {4, 4, 0}, {8, 1, 0}, {9, 24, 0},
		   {33, 32, true}, END},
  [MW_MSG_ADD_REGION] = {{2, 2, 0}, {4, 8, 0}, END},
  [MW_MSG_ADD_RING] = {{2, 2, 0}, {4, 2, 0}, {6, 2, 0}, {8, 4, 0},
		       {12, 1, 0}, {13, 2, 0}, END},
  [MW_MSG_CONNECT] = {{2, 32, true}, END},
  [MW_MSG_CONNECTED] = {{2, 32, true}, END},
  [MW_MSG_DISCONNECT] = {{2, 4, 0}, {6, 96, true}, END},
};

static void
check_strings (const mw_msg_t *m)
{
  switch (m->type)
    {
    case MW_MSG_HELLO:
      PROP (strnlen (m->hello.name, MW_NAME_LEN + 1) <= MW_NAME_LEN, "name");
      break;
    case MW_MSG_INIT:
      PROP (strnlen (m->init.name, MW_NAME_LEN + 1) <= MW_NAME_LEN, "name");
      break;
    case MW_MSG_CONNECT:
    case MW_MSG_CONNECTED:
      PROP (strnlen (m->connect.if_name, MW_NAME_LEN + 1) <= MW_NAME_LEN,
	    "if_name");
      break;
    case MW_MSG_DISCONNECT:
      PROP (strnlen (m->disconnect.reason, MW_REASON_LEN + 1)
	    <= MW_REASON_LEN, "reason");
      break;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  mw_msg_t m, again;
  /* A copy of exactly size bytes: ASan catches any read past the input. */
  uint8_t *buf = malloc (size ? size : 1);
  memcpy (buf, data, size);
  int rc = mw_decode (buf, size, &m);
  if (size != MW_MSG_SIZE)
    {
      PROP (rc == MEMIF_ERR_MFMSG, "%zu bytes: rc %d", size, rc);
      free (buf);
      return 0;
    }
  unsigned type = buf[0] | (buf[1] << 8);
  if (type < MW_MSG_ACK || type > MW_MSG_DISCONNECT)
    {
      PROP (rc == MEMIF_ERR_UNKNOWN_MSG, "type %u: rc %d", type, rc);
      free (buf);
      return 0;
    }
  PROP (rc == 0 && m.type == type, "type %u: rc %d, type %u", type, rc,
	m.type);
  check_strings (&m);

  uint8_t out[MW_MSG_SIZE], want[MW_MSG_SIZE] = { 0 };
  PROP (mw_encode (&m, out) == 0, "type %u does not encode", type);
  want[0] = buf[0];
  want[1] = buf[1];
  for (const span_t * f = layout[type]; f->len; f++)
    for (unsigned i = 0; i < f->len; i++)
      {
	if (f->str && !buf[f->off + i])
	  break;		/* the rest of the field stays zero */
	want[f->off + i] = buf[f->off + i];
      }
  for (unsigned i = 0; i < MW_MSG_SIZE; i++)
    PROP (out[i] == want[i], "type %u byte %u: encoded %02x, wire %02x",
	  type, i, out[i], want[i]);

  PROP (mw_decode (out, MW_MSG_SIZE, &again) == 0, "re-decode");
  /* mw_decode zeroes the struct first, so padding compares equal too. */
  PROP (memcmp (&m, &again, sizeof (m)) == 0, "decode(encode(m)) != m");
  free (buf);
  return 0;
}
