/* private.h - the engine's internal state, shared by its .c files. */
#ifndef MEMIF_PRIVATE_H
#define MEMIF_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "libmemif.h"
#include "wire.h"

#define DEFAULT_BUFFER_SIZE 2048
#define DEFAULT_LOG2_RING 10
/* Buffers of one region must be addressable by a 32-bit descriptor offset. */
#define MAX_BUFFER_REGION_BYTES 0xFFFFFFFFull

typedef struct memif_socket memif_socket_t;
typedef struct memif_conn memif_conn_t;
typedef struct memif_channel memif_channel_t;

/* What an fd is for; memif_control_fd_handler dispatches on it. */
enum fd_kind
{
  FD_LISTENER = 1,
  FD_CONTROL,
  FD_TIMER,
  FD_INTERRUPT,
  FD_WORK,
  FD_DEADLINE,
};

typedef struct fd_entry
{
  int fd;
  int kind;
  void *owner;			/* socket, channel or connection */
  uint16_t qid;			/* FD_INTERRUPT */
} fd_entry_t;

typedef struct
{
  void *addr;
  uint64_t size;
  int fd;
} region_t;

/* What the application was handed for one ring slot: the engine's private
 * record, so that a disconnect keeps exactly that memory alive even if the
 * peer rewrote the descriptor since. */
typedef struct
{
  uint8_t *p;
  uint32_t len;
} span_t;

/* A page range kept mapped after its session ended, because the
 * application still held buffers there; session numbers it for
 * memif_release_stale. */
typedef struct
{
  void *addr;
  size_t size;
  uint64_t session;
} stale_t;

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
  span_t *spans;		/* per slot: what alloc / rx handed out */
} queue_t;

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

enum channel_state
{
  CH_M_WAIT_INIT = 1,
  CH_M_CONFIG,
  CH_S_WAIT_HELLO,
  CH_S_SETUP,			/* waiting for ACKs while sending setup */
  CH_S_WAIT_CONNECTED,
  CH_UP,
};

struct memif_channel
{
  memif_socket_t *sock;
  memif_channel_t *next;	/* pending (unbound) channels on a master */
  memif_conn_t *conn;
  fd_entry_t *ent;
  enum channel_state state;
  uint32_t step;		/* slave: setup messages already sent */
  uint64_t started;		/* when the connection was made, ms */
};

/* A handshake not finished in this long after the connection was made is
 * abandoned, on both sides and in every state before CONNECTED: a silent
 * peer cannot hold an interface id or an fd. A slave then retries. Settable
 * per socket with memif_set_handshake_timeout. */
#define HANDSHAKE_TIMEOUT_MS 5000

/* accept at the fd limit: the listener is not watched for this long. */
#define ACCEPT_BACKOFF_MS 100

struct memif_socket
{
  char path[108];
  struct sockaddr_un addr;
  socklen_t addrlen;
  bool abstract;
  char app_name[MW_NAME_LEN + 1];
  struct itimerspec timer_spec;
  memif_control_fd_update_t *on_fd_update;
  memif_alloc_t *alloc;
  memif_realloc_t *realloc;
  memif_free_t *free;
  memif_on_error_t *on_error;
  void *private_ctx;

  fd_entry_t *listener;
  fd_entry_t *timer;
  fd_entry_t *work;		/* eventfd: deferred faults from the data path */
  fd_entry_t *deadline;		/* timerfd: handshake deadlines, accept back-off */
  uint64_t deadline_at;		/* when it is armed for, ms; 0 = disarmed */
  uint32_t handshake_ms;
  bool listener_paused;		/* at the fd limit, see listener_pause */
  uint64_t listener_resume_at;
  int epfd;			/* internal event loop, when no on_fd_update */
  int cancel_fd;

  memif_conn_t *conns;
  memif_channel_t *pending;
  char last_error[MW_REASON_LEN + 1];
};

/* api.c */
bool socket_serves (const memif_socket_t *s, bool master);

/* sock.c */
void *mem_alloc (memif_socket_t *s, size_t n);
void mem_free (memif_socket_t *s, void *p);
fd_entry_t *fd_watch (memif_socket_t *s, int fd, int kind, void *owner,
		      uint16_t qid);
void fd_unwatch (memif_socket_t *s, fd_entry_t *e);
int listener_open (memif_socket_t *s);
void listener_close (memif_socket_t *s);
int timer_arm (memif_socket_t *s);
void deadline_arm (memif_socket_t *s, uint64_t at);
void listener_pause (memif_socket_t *s, int err);
void listener_resume (memif_socket_t *s);
int err_from_errno (int e);

/* channel.c */
uint64_t mono_ms (void);
int channel_send (memif_channel_t *ch, const mw_msg_t *m, int fd);
void channel_accept (memif_socket_t *s);
int channel_connect (memif_conn_t *c);
void channel_on_event (memif_channel_t *ch, uint32_t events);
void channel_fail (memif_channel_t *ch, int err, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));
void channel_close (memif_channel_t *ch);
uint64_t channel_expire (memif_socket_t *s, uint64_t now);
void report_error (memif_socket_t *s, memif_conn_t *c, int err,
		   const char *reason);

/* handshake.c */
void master_on_msg (memif_channel_t *ch, const mw_msg_t *m, int fd);
void slave_on_msg (memif_channel_t *ch, const mw_msg_t *m, int fd);
void conn_teardown (memif_conn_t *c);

/* shm.c */
int slave_alloc_session (memif_conn_t *c);
int master_add_region (memif_conn_t *c, uint16_t index, uint64_t size, int fd,
		       const char **why);
int master_add_ring (memif_conn_t *c, const mw_msg_t *m, int efd,
		     const char **why);
int session_start (memif_conn_t *c, const char **why);
void session_free (memif_conn_t *c, bool keep_held);
void *region_ptr (memif_conn_t *c, uint16_t region, uint32_t offset,
		  uint32_t len);
void stale_free (memif_conn_t *c);
void stale_release (memif_conn_t *c, uint64_t session);
void slave_desc_reset (memif_conn_t *c, queue_t *q, uint16_t slot,
		       uint32_t headroom);

void *slave_buffer_ptr (memif_conn_t *c, const queue_t *q, uint16_t slot);

/* datapath.c */
void conn_fault (memif_conn_t *c, int err, const char *why);
int queue_of (memif_conn_t *c, uint16_t qid, bool tx, queue_t **q);
int lying (memif_conn_t *c, const char *why);
mw_desc_t desc_read (const queue_t *q, uint16_t slot);
int tx_room (memif_conn_t *c, queue_t *q);
int take_slot (memif_conn_t *c, queue_t *q, uint16_t slot, memif_buffer_t *b,
	       uint32_t *cap);

/* txwait.c */
void wake_waiters (mw_ring_t *r, bool head);
void wake_local_waiters (mw_ring_t *r);

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
