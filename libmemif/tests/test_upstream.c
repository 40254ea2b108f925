/* test_upstream.c - the contract of upstream libmemif 4.0 where this header
 * shares its names: a C program written for upstream must behave the same
 * on this engine. One test per semantic; the extensions keep their own. */
#include <poll.h>
#include <stddef.h>
#include <string.h>

#include "../libmemif.h"
#include "check.h"

typedef struct
{
  int up, down, down_while_up, refill;
  uint16_t headroom;
  char reason[128];
  int *peer_up;			/* the other side's up count, seen at on_connect */
  int peer_up_seen;
} side_t;

static int
on_up (memif_conn_handle_t c, void *ctx)
{
  side_t *s = ctx;
  s->up++;
  s->peer_up_seen = s->peer_up ? *s->peer_up : -1;
  if (s->refill)
    CHECK_EQ (memif_refill_queue (c, 0, 0xFFFF, s->headroom), 0);
  return 0;
}

static int
on_down (memif_conn_handle_t c, void *ctx)
{
  side_t *s = ctx;
  s->down++;
  /* Upstream calls it first, with the session and its reason still there. */
  s->down_while_up += memif_is_up (c);
  memif_details_t md;
  char buf[1024];
  if (memif_get_details (c, &md, buf, sizeof (buf)) == 0 && md.error)
    snprintf (s->reason, sizeof (s->reason), "%s", (char *) md.error);
  return 0;
}

static memif_socket_handle_t
mksock (const char *path)
{
  memif_socket_args_t a = { 0 };
  memif_socket_handle_t s = NULL;
  strcpy (a.path, path);
  a.connection_request_timer.it_value.tv_nsec = 10000000;
  a.connection_request_timer.it_interval.tv_nsec = 10000000;
  CHECK_EQ (memif_create_socket (&s, &a, NULL), 0);
  return s;
}

static memif_conn_handle_t
mk (memif_socket_handle_t s, int master, uint32_t id, const char *secret,
    side_t *st, uint16_t bufsize, uint8_t log2)
{
  memif_conn_args_t a = { 0 };
  memif_conn_handle_t c = NULL;
  a.socket = s;
  a.is_master = (uint8_t) master;
  a.interface_id = id;
  a.log2_ring_size = log2;
  a.buffer_size = bufsize;
  if (secret)
    strcpy ((char *) a.secret, secret);
  CHECK_EQ (memif_create (&c, &a, on_up, on_down, NULL, st), 0);
  return c;
}

#define PUMP(a, b, cond)                                     \
  for (int _i = 0; _i < 3000 && !(cond); _i++)               \
    {                                                        \
      memif_poll_event (a, 1);                               \
      if ((b) != (a))                                        \
        memif_poll_event (b, 1);                             \
    }

typedef struct
{
  memif_socket_handle_t ms, ss;
  memif_conn_handle_t m, s;
  side_t mst, sst;
} pair_t;

/* A connected pair: log2 4 rings (16 slots), slave buffers of 256 bytes. */
static void
pair_up (pair_t *p, const char *path, int refill, uint16_t headroom)
{
  memset (p, 0, sizeof (*p));
  p->ms = mksock (path);
  p->ss = mksock (path);
  p->mst.refill = p->sst.refill = refill;
  p->sst.headroom = headroom;
  p->mst.peer_up = &p->sst.up;
  p->m = mk (p->ms, 1, 1, NULL, &p->mst, 0, 4);
  p->s = mk (p->ss, 0, 1, NULL, &p->sst, 256, 4);
  PUMP (p->ms, p->ss, p->mst.up && p->sst.up);
  CHECK (p->mst.up == 1 && p->sst.up == 1);
}

static void
pair_down (pair_t *p)
{
  memif_delete (&p->s);
  memif_delete (&p->m);
  memif_delete_socket (&p->ss);
  memif_delete_socket (&p->ms);
}

static uint16_t
send_n (memif_conn_handle_t c, int n, uint16_t size)
{
  memif_buffer_t b[64];
  uint16_t got = 0, tx = 0;
  memif_buffer_alloc (c, 0, b, (uint16_t) n, &got, size);
  for (uint16_t i = 0; i < got; i++)
    memset (b[i].data, 0x40 + i, b[i].len);
  memif_tx_burst (c, 0, b, got, &tx);
  return tx;
}

static int
readable (memif_conn_handle_t c)
{
  int fd = -1;
  memif_get_queue_efd (c, 0, &fd);
  struct pollfd p = {.fd = fd,.events = POLLIN };
  return poll (&p, 1, 0) == 1;
}

/* Nobody posts the slave's receive buffers but the application, in
 * on_connect, with its headroom. */
static void
test_refill_is_the_applications (void)
{
  pair_t p;
  pair_up (&p, "@memif-up-norefill", 0, 0);
  memif_buffer_t b[4];
  uint16_t n = 7;
  CHECK_EQ (memif_buffer_alloc (p.m, 0, b, 1, &n, 10), MEMIF_ERR_NOBUF_RING);
  CHECK_EQ (n, 0);
  pair_down (&p);

  pair_up (&p, "@memif-up-refill", 1, 64);
  CHECK_EQ (memif_buffer_alloc (p.m, 0, b, 1, &n, 10), 0);
  CHECK_EQ (n, 1);
  CHECK_EQ (b[0].len, 10);
  memif_buffer_t full;
  CHECK_EQ (memif_buffer_alloc (p.m, 0, &full, 1, &n, 256 - 64), 0);
  CHECK_EQ (n, 1);		/* the headroom is out of the posted length */
  CHECK_EQ (memif_set_next_free_buffer (p.m, 0, &b[0]), 0);
  pair_down (&p);
}

/* memif_buffer_alloc counts packets; a chain takes several entries. The
 * extension memif_buffer_alloc32 counts entries. */
static void
test_alloc_counts_packets (void)
{
  pair_t p;
  pair_up (&p, "@memif-up-alloc", 1, 0);
  memif_buffer_t b[32];
  uint16_t n = 0;
  CHECK_EQ (memif_buffer_alloc (p.s, 0, b, 2, &n, 600), 0);
  CHECK_EQ (n, 6);		/* 2 packets of 3 buffers */
  CHECK (b[0].flags & MEMIF_BUFFER_FLAG_NEXT);
  CHECK (!(b[2].flags & MEMIF_BUFFER_FLAG_NEXT));
  CHECK_EQ (b[2].len, 600 - 512);
  CHECK_EQ (b[1].desc_index, (uint16_t) (b[0].desc_index + 1));
  /* 10 slots left: 3 packets of 3 fit, the 4th is rolled back. */
  memset (b, 0xAA, sizeof (b));
  CHECK_EQ (memif_buffer_alloc (p.s, 0, b, 4, &n, 600), MEMIF_ERR_NOBUF_RING);
  CHECK_EQ (n, 9);
  CHECK (b[9].data == NULL && b[9].len == 0);
  CHECK_EQ (memif_buffer_alloc (p.s, 0, b, 1, &n, 0), 0);
  CHECK_EQ (n, 0);		/* size 0 allocates nothing */
  pair_down (&p);

  pair_up (&p, "@memif-up-alloc32", 1, 0);
  CHECK_EQ (memif_buffer_alloc32 (p.s, 0, b, 4, &n, 600), 0);
  CHECK_EQ (n, 3);		/* count bounds buffers: one packet fits */
  CHECK_EQ (memif_buffer_alloc32 (p.s, 0, b, 2, &n, 600), MEMIF_ERR_NOBUF);
  CHECK_EQ (n, 0);
  pair_down (&p);
}

/* "More waiting" is MEMIF_ERR_NOBUF with *rx == count, and the interrupt
 * stays pending until the ring is emptied. */
static void
test_rx_more_data (void)
{
  pair_t p;
  pair_up (&p, "@memif-up-rx", 1, 0);
  CHECK_EQ (send_n (p.s, 10, 64), 10);
  memif_buffer_t b[16];
  uint16_t rx = 0;
  CHECK_EQ (memif_rx_burst (p.m, 0, b, 4, &rx), MEMIF_ERR_NOBUF);
  CHECK_EQ (rx, 4);
  CHECK (readable (p.m));
  CHECK_EQ (memif_rx_burst (p.m, 0, b + 4, 16, &rx), 0);
  CHECK_EQ (rx, 6);
  CHECK (!readable (p.m));
  CHECK_EQ (memif_rx_burst (p.m, 0, b, 16, &rx), 0);
  CHECK_EQ (rx, 0);
  CHECK_EQ (memif_refill_queue (p.m, 0, 0xFFFF, 0), 0);
  pair_down (&p);
}

/* NULL handle: NOCONN; no session: DISCONNECTED; outputs untouched. */
static void
test_error_codes (void)
{
  memif_buffer_t b;
  uint16_t n = 0xBEEF;
  memif_details_t md;
  char buf[64];
  CHECK_EQ (memif_buffer_alloc (NULL, 0, &b, 1, &n, 0), MEMIF_ERR_NOCONN);
  CHECK_EQ (memif_tx_burst (NULL, 0, &b, 1, &n), MEMIF_ERR_NOCONN);
  CHECK_EQ (memif_rx_burst (NULL, 0, &b, 1, &n), MEMIF_ERR_NOCONN);
  CHECK_EQ (memif_refill_queue (NULL, 0, 1, 0), MEMIF_ERR_NOCONN);
  CHECK_EQ (memif_get_details (NULL, &md, buf, 64), MEMIF_ERR_NOCONN);
  CHECK_EQ (memif_request_connection (NULL), MEMIF_ERR_NOCONN);
  CHECK_EQ (memif_set_rx_mode (NULL, 0, 0), MEMIF_ERR_NOCONN);
  memif_conn_handle_t none = NULL;
  CHECK_EQ (memif_delete (&none), MEMIF_ERR_NOCONN);
  CHECK_EQ (n, 0xBEEF);

  side_t st = { 0 };
  memif_socket_handle_t s = mksock ("@memif-up-codes");
  memif_conn_handle_t c = mk (s, 1, 0, NULL, &st, 0, 0);
  CHECK_EQ (memif_buffer_alloc (c, 0, &b, 1, &n, 0), MEMIF_ERR_DISCONNECTED);
  CHECK_EQ (memif_tx_burst (c, 0, &b, 1, &n), MEMIF_ERR_DISCONNECTED);
  CHECK_EQ (memif_rx_burst (c, 0, &b, 1, &n), MEMIF_ERR_DISCONNECTED);
  CHECK_EQ (n, 0xBEEF);
  memif_conn_handle_t again = c;
  memif_conn_args_t a = {.socket = s };
  CHECK_EQ (memif_create (&again, &a, NULL, NULL, NULL, NULL), MEMIF_ERR_CONN);
  memif_delete (&c);
  memif_delete_socket (&s);
}

/* A slave sends from b->data: headroom in front of the payload is allowed;
 * a bad buffer stops the burst after the good prefix. */
static void
test_slave_tx_offset (void)
{
  pair_t p;
  pair_up (&p, "@memif-up-offset", 1, 0);
  memif_buffer_t b[3], r[3];
  uint16_t n = 0, tx = 0, rx = 0;
  CHECK_EQ (memif_buffer_alloc (p.s, 0, b, 3, &n, 100), 0);
  for (int i = 0; i < 3; i++)
    {
      b[i].data = (uint8_t *) b[i].data + 32;
      memset (b[i].data, 'a' + i, 100);
    }
  b[2].data = (uint8_t *) b[2].data + 200;	/* past the buffer's end */
  CHECK_EQ (memif_tx_burst (p.s, 0, b, 3, &tx), MEMIF_ERR_INVAL_ARG);
  CHECK_EQ (tx, 2);
  CHECK_EQ (memif_rx_burst (p.m, 0, r, 3, &rx), 0);
  CHECK_EQ (rx, 2);
  CHECK (((uint8_t *) r[1].data)[0] == 'b' && r[1].len == 100);
  CHECK (((uint8_t *) r[1].data)[99] == 'b');
  CHECK_EQ (memif_refill_queue (p.m, 0, rx, 0), 0);
  pair_down (&p);
}

/* Zero-copy forwarding as upstream's responder does it: enq_tx, refill,
 * tx_burst, and the master gets the same bytes back. */
static void
test_enq_tx (void)
{
  pair_t p;
  pair_up (&p, "@memif-up-enq", 1, 0);
  CHECK_EQ (send_n (p.m, 3, 50), 3);
  memif_buffer_t b[4], r[4];
  uint16_t rx = 0, q = 0, tx = 0;
  CHECK_EQ (memif_rx_burst (p.s, 0, b, 4, &rx), 0);
  CHECK_EQ (rx, 3);
  CHECK_EQ (memif_buffer_enq_tx (p.m, 0, b, rx, &q), MEMIF_ERR_INVAL_ARG);
  CHECK_EQ (memif_buffer_enq_tx (p.s, 0, b, rx, &q), 0);
  CHECK_EQ (q, 3);
  CHECK_EQ (memif_refill_queue (p.s, 0, q, 0), 0);
  CHECK_EQ (memif_tx_burst (p.s, 0, b, q, &tx), 0);
  CHECK_EQ (tx, 3);
  CHECK_EQ (memif_rx_burst (p.m, 0, r, 4, &rx), 0);
  CHECK_EQ (rx, 3);
  CHECK (r[2].len == 50 && ((uint8_t *) r[2].data)[49] == 0x42);
  pair_down (&p);
}

/* on_connect of the master runs before the slave can be up; on_disconnect
 * runs first, session still up, reason readable; a refused slave gets it. */
static void
test_callback_order (void)
{
  pair_t p;
  pair_up (&p, "@memif-up-order", 1, 0);
  CHECK_EQ (p.mst.peer_up_seen, 0);
  memif_delete (&p.s);
  PUMP (p.ms, p.ms, p.mst.down);
  CHECK_EQ (p.mst.down, 1);
  CHECK_EQ (p.mst.down_while_up, 1);
  CHECK (strstr (p.mst.reason, "deleted") != NULL);
  pair_down (&p);

  side_t ms = { 0 }, ss = { 0 };
  memif_socket_handle_t a = mksock ("@memif-up-refused"), b =
    mksock ("@memif-up-refused");
  memif_conn_handle_t m = mk (a, 1, 1, "right", &ms, 0, 4);
  memif_conn_handle_t s = mk (b, 0, 1, "wrong", &ss, 0, 4);
  PUMP (a, b, ss.down);
  CHECK (ss.down >= 1);
  CHECK_EQ (ss.down_while_up, 0);
  CHECK_EQ (ss.up, 0);
  memif_delete (&s);
  memif_delete (&m);
  memif_delete_socket (&b);
  memif_delete_socket (&a);
}

/* One socket serves both roles (upstream's loopback example); an id may be
 * used once per role; a master without a secret admits any slave. */
static void
test_socket_roles_ids_secret (void)
{
  side_t ms = { 0 }, ss = { 0 };
  memif_socket_handle_t s = mksock ("@memif-up-loop");
  ms.refill = ss.refill = 1;
  memif_conn_handle_t m = mk (s, 1, 0, NULL, &ms, 0, 4);
  memif_conn_handle_t sl = mk (s, 0, 0, "anything", &ss, 0, 4);
  memif_conn_args_t dup = {.socket = s,.is_master = 1 };
  memif_conn_handle_t d = NULL;
  CHECK_EQ (memif_create (&d, &dup, NULL, NULL, NULL, NULL),
	    MEMIF_ERR_INVAL_ARG);
  PUMP (s, s, ms.up && ss.up);
  CHECK (ms.up == 1 && ss.up == 1);
  CHECK_EQ (send_n (sl, 2, 10), 2);
  memif_buffer_t r[2];
  uint16_t rx = 0;
  CHECK_EQ (memif_rx_burst (m, 0, r, 2, &rx), 0);
  CHECK_EQ (rx, 2);
  memif_delete (&sl);
  memif_delete (&m);
  CHECK_EQ (memif_delete_socket (&s), 0);
}

/* memif_buffer_t and memif_conn_args_t are laid out as upstream's. */
static void
test_abi (void)
{
  CHECK_EQ (sizeof (memif_buffer_t), 32);
  CHECK_EQ (offsetof (memif_buffer_t, data), 24);
  CHECK_EQ (offsetof (memif_buffer_t, flags), 20);
  CHECK_EQ (sizeof (memif_conn_args_t), 80);
  CHECK_EQ (offsetof (memif_conn_args_t, interface_name), 44);
}

int
main (void)
{
  test_refill_is_the_applications ();
  test_alloc_counts_packets ();
  test_rx_more_data ();
  test_error_codes ();
  test_slave_tx_offset ();
  test_enq_tx ();
  test_callback_order ();
  test_socket_roles_ids_secret ();
  test_abi ();
  return check_report ("test_upstream");
}
