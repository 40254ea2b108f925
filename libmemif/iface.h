/* iface.h - the records behind the public handles: an interface
 * (memif_conn_handle_t) with its current session's shared memory, and a
 * socket (memif_socket_handle_t) with its interfaces and fds. The layers
 * above act on them: session.c, datapath.c, handshake.c, sock.c. */
#ifndef MEMIF_IFACE_H
#define MEMIF_IFACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "libmemif.h"
#include "wire.h"
#include "util.h"
#include "fdreg.h"
#include "ring.h"
#include "shm.h"

#define DEFAULT_BUFFER_SIZE 2048
#define DEFAULT_LOG2_RING 10
/* Buffers of one region must be addressable by a 32-bit descriptor offset. */
#define MAX_BUFFER_REGION_BYTES 0xFFFFFFFFull

/* A handshake not finished in this long after the connection was made is
 * abandoned, on both sides and in every state before CONNECTED: a silent
 * peer cannot hold an interface id or an fd. A slave then retries. Settable
 * per socket with memif_set_handshake_timeout. */
#define HANDSHAKE_TIMEOUT_MS 5000

/* accept at the fd limit: the listener is not watched for this long. */
#define ACCEPT_BACKOFF_MS 100

typedef struct memif_socket memif_socket_t;
typedef struct memif_conn memif_conn_t;
/* A control channel under handshake (handshake.h); here only held. */
typedef struct memif_channel memif_channel_t;

/* A page range kept mapped after its session ended, because the
 * application still held buffers there; session numbers it for
 * memif_release_stale. */
typedef struct
{
  void *addr;
  size_t size;
  uint64_t session;
} stale_t;

enum conn_state
{
  CONN_DOWN = 0,
  CONN_HANDSHAKE,
  CONN_UP,
};

struct memif_conn
{
  memif_socket_t *sock;
  memif_conn_t *next;
  memif_conn_args_t args;
  uint32_t buffer_size;		/* effective in the current session */
  uint32_t buffer_size_cfg;	/* for the next slave session */
  uint32_t prefault;		/* MEMIF_PREFAULT_* for the next sessions */
  bool announced;		/* a handshake reached it: on_disconnect is due */
  memif_connection_update_t *on_connect, *on_disconnect;
  memif_on_interrupt_t *on_interrupt;
  void *private_ctx;

  memif_channel_t *ch;
  enum conn_state state;

  /* negotiated for the current session */
  uint16_t num_s2m, num_m2s;
  uint8_t log2_ring;
  uint32_t bufs_per_region;	/* slave: buffers in each buffer region */
  region_t regions[MW_MAX_REGIONS];
  uint16_t nregions;
  queue_t *s2m, *m2s;
  uint16_t s2m_added, m2s_added;
  uint8_t rx_polling[MW_MAX_RINGS + 1];	/* survives reconnects */

  uint64_t sessions;		/* sessions that came up: numbers them */
  /* the last session that ended, and what each of its transmit queues had
   * sent and not got back then (memif_tx_in_flight_at_end) */
  uint64_t ended_session;
  uint16_t ended_in_flight[MW_MAX_RINGS];

  /* page ranges kept alive after a disconnect because the application still
   * held buffers in them (private zero pages); freed by memif_release_stale
   * or memif_delete */
  stale_t *stale;
  uint32_t nstale, stale_cap;

  bool fault;			/* data path found the peer lying */
  int fault_err;
  char fault_reason[MW_REASON_LEN + 1];

  char remote_if_name[MW_NAME_LEN + 1];
  char remote_app_name[MW_NAME_LEN + 1];
  char error[MW_REASON_LEN + 1];
  char delete_reason[MW_REASON_LEN + 1];	/* sent by memif_delete */
};

struct memif_socket
{
  char path[108];
  struct sockaddr_un addr;
  socklen_t addrlen;
  bool abstract;
  char app_name[MW_NAME_LEN + 1];
  struct itimerspec timer_spec;
  mem_t mem;
  fdreg_t reg;
  memif_on_error_t *on_error;
  void *private_ctx;

  fd_entry_t *listener;
  fd_entry_t *timer;
  fd_entry_t *work;		/* eventfd: deferred faults from the data path */
  fd_entry_t *deadline;		/* timerfd: handshake deadlines, accept back-off */
  uint64_t deadline_at;		/* when it is armed for, ms; 0 = disarmed */
  uint32_t handshake_ms;
  uint64_t listener_resume_at;	/* while the listener is paused */
  /* Set by sock.c: a control channel closed, so an fd came free and its
   * slave may wait for its master again. */
  void (*on_channel_closed) (memif_socket_t *s);

  memif_conn_t *conns;
  memif_channel_t *pending;	/* accepted, no interface bound yet */
  char last_error[MW_REASON_LEN + 1];
};

/* Records why c (or, without c, the socket) failed and tells the error
 * callback. */
void report_error (memif_socket_t *s, memif_conn_t *c, int err,
		   const char *reason);

/* Whether the socket has an interface of that role. */
bool socket_serves (const memif_socket_t *s, bool master);

static inline queue_t *
tx_queue (memif_conn_t *c, uint16_t qid)
{
  if (c->args.is_master)
    return qid < c->num_m2s ? &c->m2s[qid] : NULL;
  return qid < c->num_s2m ? &c->s2m[qid] : NULL;
}

static inline queue_t *
rx_queue (memif_conn_t *c, uint16_t qid)
{
  if (c->args.is_master)
    return qid < c->num_s2m ? &c->s2m[qid] : NULL;
  return qid < c->num_m2s ? &c->m2s[qid] : NULL;
}

#endif
