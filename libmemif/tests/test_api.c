/* test_api.c - the libmemif 4.x calls as an application uses them with its
 * own event loop (on_control_fd_update), interrupts through on_interrupt,
 * queue eventfds, rx modes, details, and argument errors. */
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../libmemif.h"
#include "check.h"

static int epfd;
static int watched;
static int up, interrupts;

static int
fd_update (memif_fd_event_t fde, void *ctx)
{
  struct epoll_event ev = {.events = EPOLLIN,.data.ptr = fde.private_ctx };
  if (fde.type & MEMIF_FD_EVENT_DEL)
    {
      watched--;
      return epoll_ctl (epfd, EPOLL_CTL_DEL, fde.fd, NULL);
    }
  watched++;
  return epoll_ctl (epfd, EPOLL_CTL_ADD, fde.fd, &ev);
}

static int
on_up (memif_conn_handle_t c, void *ctx)
{
  up++;
  memif_refill_queue (c, 0, 0xFFFF, 0);	/* the application's job */
  return 0;
}

static int
on_down (memif_conn_handle_t c, void *ctx)
{
  up--;
  return 0;
}

static int
on_int (memif_conn_handle_t c, void *ctx, uint16_t qid)
{
  memif_buffer_t b[8];
  uint16_t n = 0;
  interrupts++;
  memif_rx_burst (c, qid, b, 8, &n);	/* consumes the interrupt */
  memif_refill_queue (c, qid, n, 0);
  return 0;
}

/* The application's loop: one ready fd per round, handed to libmemif. */
static void
run_events (int rounds)
{
  for (int i = 0; i < rounds; i++)
    {
      struct epoll_event ev;
      if (epoll_wait (epfd, &ev, 1, 20) == 1)
	memif_control_fd_handler (ev.data.ptr, MEMIF_FD_EVENT_READ);
    }
}

static void
test_external_loop (void)
{
  memif_socket_handle_t ms = NULL, ss = NULL;
  memif_conn_handle_t m = NULL, s = NULL;
  memif_socket_args_t sa;
  memset (&sa, 0, sizeof (sa));
  strcpy (sa.path, "@memif-test-api");
  strcpy (sa.app_name, "api");
  sa.on_control_fd_update = fd_update;
  epfd = epoll_create1 (0);
  CHECK_EQ (memif_create_socket (&ms, &sa, NULL), 0);
  CHECK_EQ (memif_create_socket (&ss, &sa, NULL), 0);
  CHECK (watched >= 2);
  CHECK_EQ (memif_poll_event (ms, 0), MEMIF_ERR_INVAL_ARG);	/* not ours */

  memif_conn_args_t ca;
  memset (&ca, 0, sizeof (ca));
  ca.socket = ms;
  ca.is_master = 1;
  ca.interface_id = 3;
  CHECK_EQ (memif_create (&m, &ca, on_up, on_down, on_int, NULL), 0);
  CHECK (memif_get_listener_fd (ms) >= 0);
  ca.socket = ss;
  ca.is_master = 0;
  CHECK_EQ (memif_create (&s, &ca, on_up, on_down, on_int, NULL), 0);
  CHECK_EQ (memif_request_connection (s), MEMIF_ERR_ALRCONN);
  CHECK_EQ (memif_request_connection (m), MEMIF_ERR_SUCCESS);
  CHECK (memif_get_socket_handle (s) == ss);
  CHECK (strcmp (memif_get_socket_path (ss), "@memif-test-api") == 0);
  for (int i = 0; i < 50 && up < 2; i++)
    run_events (1);
  CHECK_EQ (up, 2);

  int efd = -1;
  CHECK_EQ (memif_get_queue_efd (m, 0, &efd), 0);
  CHECK (efd >= 0);
  CHECK_EQ (memif_get_queue_efd (m, 1, &efd), MEMIF_ERR_QID);

  /* Interrupt mode: a send wakes the master's loop through on_interrupt. */
  memif_buffer_t b[4];
  uint16_t n = 0, tx = 0;
  CHECK_EQ (memif_buffer_alloc (s, 0, b, 4, &n, 60), 0);
  CHECK_EQ (n, 4);
  CHECK_EQ (memif_tx_burst (s, 0, b, n, &tx), 0);
  for (int i = 0; i < 20 && !interrupts; i++)
    run_events (1);
  CHECK_EQ (interrupts, 1);

  /* Polling mode: the peer stops signalling. */
  CHECK_EQ (memif_set_rx_mode (m, MEMIF_RX_MODE_POLLING, 0), 0);
  CHECK_EQ (memif_buffer_alloc (s, 0, b, 1, &n, 60), 0);
  CHECK_EQ (memif_tx_burst (s, 0, b, n, &tx), 0);
  run_events (3);
  CHECK_EQ (interrupts, 1);
  uint16_t rx = 0;
  CHECK_EQ (memif_rx_burst (m, 0, b, 4, &rx), 0);
  CHECK_EQ (rx, 1);
  CHECK_EQ (memif_refill_queue (m, 0, rx, 0), 0);

  memif_details_t md;
  char small[8];
  CHECK_EQ (memif_get_details (m, &md, small, sizeof (small)),
	    MEMIF_ERR_NOBUF_DET);
  char buf[4096];
  CHECK_EQ (memif_get_details (m, &md, buf, sizeof (buf)), 0);
  CHECK_EQ (md.rx_queues[0].flags, MEMIF_QUEUE_FLAG_POLLING);
  CHECK_EQ (md.rx_queues[0].ring_size, 1024);
  CHECK_EQ (md.rx_queues[0].buffer_size, 2048);
  CHECK_EQ (md.regions_num, 2);

  CHECK_EQ (memif_delete_socket (&ms), MEMIF_ERR_INVAL_ARG);	/* in use */
  CHECK_EQ (memif_delete (&s), 0);
  CHECK (s == NULL);
  run_events (3);
  CHECK_EQ (up, 0);
  CHECK_EQ (memif_delete (&m), 0);
  CHECK_EQ (memif_delete_socket (&ss), 0);
  CHECK_EQ (memif_delete_socket (&ms), 0);
  CHECK_EQ (watched, 0);	/* every fd announced was withdrawn */
  close (epfd);
}

static void
test_errors_and_cancel (void)
{
  memif_socket_handle_t sock = NULL;
  memif_socket_args_t sa;
  memset (&sa, 0, sizeof (sa));
  CHECK_EQ (memif_create_socket (&sock, &sa, NULL), MEMIF_ERR_INVAL_ARG);
  strcpy (sa.path, "/nonexistent-dir/x.sock");
  CHECK_EQ (memif_create_socket (&sock, &sa, NULL), 0);
  memif_conn_args_t ca;
  memif_conn_handle_t c = NULL;
  memset (&ca, 0, sizeof (ca));
  ca.socket = sock;
  ca.is_master = 1;
  CHECK_EQ (memif_create (&c, &ca, NULL, NULL, NULL, NULL), MEMIF_ERR_NO_FILE);
  ca.is_master = 0;
  ca.log2_ring_size = 15;
  CHECK_EQ (memif_create (&c, &ca, NULL, NULL, NULL, NULL),
	    MEMIF_ERR_MAX_RING);
  ca.log2_ring_size = 0;
  CHECK_EQ (memif_create (&c, &ca, NULL, NULL, NULL, NULL), 0);
  uint16_t n = 0;
  memif_buffer_t b;
  CHECK_EQ (memif_buffer_alloc (c, 0, &b, 1, &n, 0), MEMIF_ERR_DISCONNECTED);
  CHECK_EQ (memif_request_connection (c), MEMIF_ERR_NO_FILE);
  CHECK_EQ (memif_cancel_poll_event (sock), 0);
  CHECK_EQ (memif_poll_event (sock, -1), MEMIF_ERR_POLL_CANCEL);
  CHECK_EQ (memif_poll_event (sock, 0), 0);
  CHECK (strcmp (memif_strerror (MEMIF_ERR_SECRET), "secret mismatch") == 0);
  CHECK (strcmp (memif_strerror (9999), "unknown error") == 0);
  CHECK_EQ (memif_get_version (), 0x0200);
  CHECK_EQ (memif_delete (&c), 0);
  CHECK_EQ (memif_delete_socket (&sock), 0);
}

int
main (void)
{
  test_external_loop ();
  test_errors_and_cancel ();
  return check_report ("test_api");
}
