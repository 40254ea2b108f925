/* test_loop.c - a master and a slave in one process, driven by the engine's
 * own event loop: handshake, both directions, chains, refusal, reconnect. */
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../libmemif.h"
#include "check.h"

typedef struct
{
  int up, down;
  char reason[128];
} state_t;

/* As with upstream libmemif, the application posts receive buffers. */
static int
on_up (memif_conn_handle_t c, void *ctx)
{
  ((state_t *) ctx)->up++;
  CHECK_EQ (memif_refill_queue (c, 0, 0xFFFF, 0), 0);
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
  strcpy ((char *) a.interface_name, master ? "m" : "s");
  if (secret)
    strcpy ((char *) a.secret, secret);
  CHECK_EQ (memif_create (&c, &a, on_up, on_down, NULL, st), 0);
  if (bufsize)
    CHECK_EQ (memif_set_buffer_size32 (c, bufsize), 0);
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
  uint32_t meta[64], rmeta[64];
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
	meta[i] = 1000u + i;
      uint16_t sent;
      CHECK_EQ (memif_tx_burst_meta (tx, 0, b, meta, n, &sent), 0);
      CHECK_EQ (sent, n);
      memif_buffer_t rb[64];
      CHECK_EQ (memif_rx_burst_meta (rx, 0, rb, rmeta, 64, &got), 0);
      CHECK_EQ (got, n);
      uint32_t seen = 0;
      for (uint16_t i = 0; i < got; i++)
	{
	  ok &= rmeta[i] == 1000u + i;
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

static int
raw_socket (void)
{
  return socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
}

static struct sockaddr_un
abstract_addr (const char *name, socklen_t *len)
{
  struct sockaddr_un a = {.sun_family = AF_UNIX };
  memcpy (a.sun_path + 1, name, strlen (name));
  *len = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + 1
		      + strlen (name));
  return a;
}

static uint64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Runs sock's loop until fd is readable; returns the milliseconds it took,
 * or -1 after 5 s. Nothing but the engine's own timer can make it so. */
static long
pump_until_readable (memif_socket_handle_t sock, int fd)
{
  uint64_t t0 = now_ms ();
  while (now_ms () - t0 < 5000)
    {
      struct pollfd p = {.fd = fd,.events = POLLIN };
      if (poll (&p, 1, 0) == 1)
	return (long) (now_ms () - t0);
      memif_poll_event (sock, 5);
    }
  return -1;
}

/* Reads one message: its type, and the DISCONNECT reason into why. */
static int
read_msg (int fd, char why[97])
{
  uint8_t b[128] = { 0 };
  ssize_t n = recv (fd, b, sizeof (b), MSG_DONTWAIT);
  if (n != 128)
    return -1;
  memcpy (why, b + 6, 96);
  why[96] = 0;
  return b[0] | (b[1] << 8);
}

/* A master and a slave, each on its own socket on path, connected. */
typedef struct
{
  state_t ms, ss;
  memif_socket_handle_t msock, ssock;
  memif_conn_handle_t m, s;
} pair_t;

static void
pair_up (pair_t *p, const char *path, uint32_t id)
{
  memset (p, 0, sizeof (*p));
  p->msock = mksock (path);
  p->ssock = mksock (path);
  p->m = mkconn (p->msock, 1, id, NULL, &p->ms, 0);
  p->s = mkconn (p->ssock, 0, id, NULL, &p->ss, 0);
  PUMP (p->msock, p->ssock, p->ms.up && p->ss.up);
}

/* Sends n single-buffer packets on queue 0 of tx; the interrupts it sent
 * this session come back. */
static uint64_t
send_n (memif_conn_handle_t tx, uint16_t n)
{
  memif_buffer_t b[16];
  uint16_t got, sent;
  CHECK_EQ (memif_buffer_alloc32 (tx, 0, b, n, &got, 32), 0);
  CHECK_EQ (got, n);
  CHECK_EQ (memif_tx_burst (tx, 0, b, n, &sent), 0);
  uint64_t kicks = 0;
  CHECK_EQ (memif_get_tx_interrupts (tx, 0, &kicks), 0);
  return kicks;
}

/* Receives everything waiting on queue 0 of rx and gives it back. */
static uint16_t
drain_rx (memif_conn_handle_t rx)
{
  memif_buffer_t b[64];
  uint16_t got = 0, total = 0;
  do
    {
      memif_rx_burst (rx, 0, b, 64, &got);
      CHECK_EQ (memif_refill_queue (rx, 0, got, 0), 0);
      total += got;
    }
  while (got);
  return total;
}

static int
readable (int fd)
{
  struct pollfd p = {.fd = fd,.events = POLLIN };
  return poll (&p, 1, 0) == 1;
}

/* A receiver that prepares its waits masks interrupts while it is awake:
 * the sender writes the eventfd only after the receiver cleared the mask
 * on its way to sleep, and the receiver never sleeps on a waiting burst. */
static void
test_interrupt_mask (void)
{
  pair_t p;
  pair_up (&p, "/tmp/memif-test-mask.sock", 3);
  memif_conn_handle_t m = p.m, s = p.s;
  int efd = -1, ready = -1, was = -1;
  CHECK_EQ (memif_get_queue_efd (m, 0, &efd), 0);

  CHECK_EQ (memif_rx_wait_prepare (m, 0, &ready, &was), 0);
  CHECK_EQ (ready, 0);
  CHECK_EQ (was, 1);		/* the first time: look again soon */
  CHECK_EQ (send_n (s, 1), 1);	/* asleep: signalled */
  CHECK (readable (efd));
  CHECK_EQ (drain_rx (m), 1);	/* awake now: masked */
  CHECK_EQ (send_n (s, 2), 1);
  CHECK_EQ (send_n (s, 3), 1);
  CHECK_EQ (drain_rx (m), 5);
  CHECK_EQ (memif_rx_wait_prepare (m, 0, &ready, &was), 0);
  CHECK_EQ (ready, 0);
  CHECK_EQ (was, 0);		/* this engine's sender fences: no second look */
  CHECK (!readable (efd));	/* drained: no stale wake-up */
  CHECK_EQ (send_n (s, 1), 2);	/* going to sleep: signalled again */
  CHECK (readable (efd));
  CHECK_EQ (memif_rx_wait_prepare (m, 0, &ready, &was), 0);
  CHECK_EQ (ready, 1);		/* a burst is waiting: no sleep */
  CHECK_EQ (was, 0);
  CHECK_EQ (drain_rx (m), 1);

  /* Polling mode keeps the mask whatever the waits do. */
  CHECK_EQ (memif_set_rx_mode (m, MEMIF_RX_MODE_POLLING, 0), 0);
  CHECK_EQ (memif_rx_wait_prepare (m, 0, &ready, &was), 0);
  CHECK_EQ (send_n (s, 4), 2);
  CHECK_EQ (drain_rx (m), 4);
  CHECK_EQ (memif_rx_wait_prepare (m, 1, &ready, &was), MEMIF_ERR_QID);
  CHECK_EQ (memif_rx_wait_prepare (m, 0, NULL, NULL), MEMIF_ERR_INVAL_ARG);
  CHECK_EQ (memif_get_tx_interrupts (m, 0, NULL), MEMIF_ERR_INVAL_ARG);

  memif_delete (&s);
  memif_delete (&m);
  CHECK_EQ (memif_delete_socket (&p.ssock), 0);
  CHECK_EQ (memif_delete_socket (&p.msock), 0);
}

/* A peer silent in the handshake is ended by the deadline timer alone, on
 * both sides, with DISCONNECT "handshake timed out". */
static void
test_handshake_deadline (void)
{
  const char *name = "memif-test-deadline";
  char path[64], why[97];
  snprintf (path, sizeof (path), "@%s", name);
  socklen_t alen;
  struct sockaddr_un addr = abstract_addr (name, &alen);

  /* Master: a slave that connects and never sends INIT. */
  state_t ms = { 0 };
  memif_socket_handle_t msock = mksock (path);
  CHECK_EQ (memif_set_handshake_timeout (msock, 100), 0);
  memif_conn_handle_t m = mkconn (msock, 1, 3, NULL, &ms, 0);
  int c = raw_socket ();
  CHECK_EQ (connect (c, (struct sockaddr *) &addr, alen), 0);
  CHECK (pump_until_readable (msock, c) >= 0);
  CHECK_EQ (read_msg (c, why), 2);	/* HELLO on accept */
  long took = pump_until_readable (msock, c);
  CHECK (took >= 90 && took < 2000);
  CHECK_EQ (read_msg (c, why), 8);
  CHECK (strcmp (why, "handshake timed out") == 0);
  close (c);
  memif_delete (&m);
  memif_delete_socket (&msock);

  /* Slave: a master that accepts and never sends HELLO. */
  int l = raw_socket ();
  CHECK_EQ (bind (l, (struct sockaddr *) &addr, alen), 0);
  CHECK_EQ (listen (l, 4), 0);
  state_t ss = { 0 };
  memif_socket_handle_t ssock = mksock (path);
  CHECK_EQ (memif_set_handshake_timeout (ssock, 100), 0);
  memif_conn_handle_t s = mkconn (ssock, 0, 3, NULL, &ss, 0);
  int a = accept (l, NULL, NULL);
  CHECK (a >= 0);
  took = pump_until_readable (ssock, a);
  CHECK (took >= 80 && took < 2000);
  CHECK_EQ (read_msg (a, why), 8);
  CHECK (strcmp (why, "handshake timed out") == 0);
  CHECK (strcmp (ss.reason, "handshake timed out") == 0);
  close (a);
  memif_delete (&s);
  memif_delete_socket (&ssock);
  close (l);
}

/* A slave's connection-request timer stops once the slave is connected,
 * so an idle socket takes no wakeups, and starts again when the session
 * ends, so the slave finds its master's successor. */
static void
test_idle_timer (void)
{
  pair_t p;
  pair_up (&p, "@memif-test-idle-timer", 5);
  memif_socket_handle_t msock = p.msock, ssock = p.ssock;
  memif_conn_handle_t m = p.m, s = p.s;
  state_t *ms = &p.ms, *ss = &p.ss;
  CHECK_EQ (ss->up, 1);
  for (int i = 0; i < 3; i++)
    memif_poll_event (ssock, 20);	/* the 10 ms tick that finds nobody waiting */
  uint64_t t0 = now_ms ();
  CHECK_EQ (memif_poll_event (ssock, 200), 0);
  CHECK (now_ms () - t0 >= 190);	/* nothing woke the loop */

  CHECK_EQ (memif_delete (&m), 0);
  PUMP (msock, ssock, ss->down);
  CHECK_EQ (ss->down, 1);
  m = mkconn (msock, 1, 5, NULL, ms, 0);
  PUMP (msock, ssock, ss->up == 2);
  CHECK_EQ (ss->up, 2);		/* the timer retried */
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
  test_handshake_deadline ();
  test_idle_timer ();
  test_interrupt_mask ();
  return check_report ("test_loop");
}
