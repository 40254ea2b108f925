/* test_loop.c - a master and a slave in one process, driven by the engine's
 * own event loop: handshake, both directions, chains, refusal, reconnect. */
#include <string.h>
#include <unistd.h>

#include "../libmemif.h"
#include "check.h"

typedef struct
{
  int up, down;
  char reason[128];
} state_t;

static int
on_up (memif_conn_handle_t c, void *ctx)
{
  ((state_t *) ctx)->up++;
  return 0;
}

static int
on_down (memif_conn_handle_t c, void *ctx)
{
  ((state_t *) ctx)->down++;
  return 0;
}

static void
on_err (memif_conn_handle_t c, void *ctx, int err, const char *why)
{
  if (ctx)
    snprintf (((state_t *) ctx)->reason, 128, "%s", why);
}

static memif_socket_handle_t
mksock (const char *path)
{
  memif_socket_args_t a = { 0 };
  memif_socket_handle_t s = NULL;
  strcpy (a.path, path);
  strcpy (a.app_name, "test");
  a.connection_request_timer.it_value.tv_nsec = 10000000;
  a.connection_request_timer.it_interval.tv_nsec = 10000000;
  CHECK_EQ (memif_create_socket (&s, &a, NULL), 0);
  memif_set_error_callback (s, on_err);
  return s;
}

static memif_conn_handle_t
mkconn (memif_socket_handle_t s, int master, uint32_t id, const char *secret,
	state_t *st, uint32_t bufsize)
{
  memif_conn_args_t a = { 0 };
  memif_conn_handle_t c = NULL;
  a.socket = s;
  a.is_master = (uint8_t) master;
  a.interface_id = id;
  a.log2_ring_size = 4;
  a.buffer_size32 = bufsize;
  strcpy ((char *) a.interface_name, master ? "m" : "s");
  if (secret)
    strcpy ((char *) a.secret, secret);
  CHECK_EQ (memif_create (&c, &a, on_up, on_down, NULL, st), 0);
  return c;
}

/* Runs both loops until cond holds or a bounded number of events passed. */
#define PUMP(ms, ss, cond)                                   \
  for (int _i = 0; _i < 2000 && !(cond); _i++)               \
    {                                                        \
      memif_poll_event (ms, 1);                              \
      memif_poll_event (ss, 1);                              \
    }

static void
send_recv (memif_conn_handle_t tx, memif_conn_handle_t rx, uint32_t size,
	   int rounds)
{
  memif_buffer_t b[64];
  uint16_t n, got;
  int ok = 1;
  for (int r = 0; r < rounds; r++)
    {
      int e = memif_buffer_alloc32 (tx, 0, b, 64, &n, size);
      CHECK (e == 0 || e == MEMIF_ERR_NOBUF_RING);
      CHECK (n > 0);
      uint32_t fill = 0;
      for (uint16_t i = 0; i < n; i++)
	for (uint32_t k = 0; k < b[i].len; k++)
	  ((uint8_t *) b[i].data)[k] = (uint8_t) (fill++ + r);
      for (uint16_t i = 0; i < n; i++)
	b[i].metadata = 1000u + i;
      uint16_t sent;
      CHECK_EQ (memif_tx_burst (tx, 0, b, n, &sent), 0);
      CHECK_EQ (sent, n);
      memif_buffer_t rb[64];
      CHECK_EQ (memif_rx_burst (rx, 0, rb, 64, &got), 0);
      CHECK_EQ (got, n);
      uint32_t seen = 0;
      for (uint16_t i = 0; i < got; i++)
	{
	  ok &= rb[i].metadata == 1000u + i;
	  ok &= !!(rb[i].flags & MEMIF_BUFFER_FLAG_NEXT)
	    == !!(b[i].flags & MEMIF_BUFFER_FLAG_NEXT);
	  for (uint32_t k = 0; k < rb[i].len; k++)
	    ok &= ((uint8_t *) rb[i].data)[k] == (uint8_t) (seen++ + r);
	}
      CHECK_EQ (seen, fill);
      CHECK_EQ (memif_refill_queue (rx, 0, got, 0), 0);
    }
  CHECK (ok);
}

static void
test_connect_and_transfer (void)
{
  const char *path = "/tmp/memif-test-loop.sock";
  state_t ms = { 0 }, ss = { 0 };
  memif_socket_handle_t msock = mksock (path), ssock = mksock (path);
  memif_conn_handle_t m = mkconn (msock, 1, 7, "pw", &ms, 256);
  memif_conn_handle_t s = mkconn (ssock, 0, 7, "pw", &ss, 256);
  PUMP (msock, ssock, ms.up && ss.up);
  CHECK_EQ (ms.up, 1);
  CHECK_EQ (ss.up, 1);
  send_recv (s, m, 100, 50);	/* S2M, single buffers */
  send_recv (m, s, 100, 50);	/* M2S */
  send_recv (s, m, 700, 10);	/* chains of 3 */
  send_recv (m, s, 700, 10);
  memif_details_t md;
  char buf[2048];
  CHECK_EQ (memif_get_details (m, &md, buf, sizeof (buf)), 0);
  CHECK_EQ (md.link_up_down, 1);
  CHECK_EQ (md.rx_queues_num, 1);
  CHECK (strcmp ((char *) md.remote_if_name, "s") == 0);

  /* Deleting the slave tells the master, which then serves a new slave. */
  CHECK_EQ (memif_delete (&s), 0);
  PUMP (msock, ssock, ms.down);
  CHECK_EQ (ms.down, 1);
  CHECK (strstr (ms.reason, "deleted") != NULL);
  s = mkconn (ssock, 0, 7, "pw", &ss, 256);
  PUMP (msock, ssock, ms.up == 2 && ss.up == 2);
  CHECK_EQ (ms.up, 2);
  send_recv (s, m, 64, 5);
  memif_delete (&s);
  memif_delete (&m);
  CHECK_EQ (memif_delete_socket (&ssock), 0);
  CHECK_EQ (memif_delete_socket (&msock), 0);
  CHECK (access (path, F_OK) != 0);	/* master removed its socket file */
}

static void
test_refusals (void)
{
  const char *path = "@memif-test-refuse";
  state_t ms = { 0 }, ss = { 0 };
  memif_socket_handle_t msock = mksock (path), ssock = mksock (path);
  memif_conn_handle_t m = mkconn (msock, 1, 1, "right", &ms, 0);
  memif_conn_handle_t s = mkconn (ssock, 0, 1, "wrong", &ss, 0);
  PUMP (msock, ssock, ms.reason[0] && ss.reason[0]);
  CHECK (strstr (ms.reason, "secret") != NULL);
  CHECK (strstr (ss.reason, "secret") != NULL);
  CHECK_EQ (ss.up, 0);
  memif_delete (&s);
  memset (&ss, 0, sizeof (ss));
  s = mkconn (ssock, 0, 2, "right", &ss, 0);
  PUMP (msock, ssock, ss.reason[0]);
  CHECK (strstr (ss.reason, "no interface with id 2") != NULL);
  memif_delete (&s);
  memif_delete (&m);
  memif_delete_socket (&ssock);
  memif_delete_socket (&msock);
}

int
main (void)
{
  test_connect_and_transfer ();
  test_refusals ();
  return check_report ("test_loop");
}
