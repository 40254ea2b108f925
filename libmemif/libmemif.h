/*
 * libmemif.h - public API of this project's memif engine.
 *
 * The names, types and semantics follow the libmemif 4.x C API for the subset
 * a binding needs, so C code written against libmemif 4.x compiles against
 * this header unchanged. Everything marked "EXTENSION" is ours, additive, and
 * absent from upstream libmemif: code that wants to build against both must
 * guard it with the MEMIF_HAVE_EXT_* macros below.
 *
 * Threading: like upstream, one socket and its interfaces are not safe for
 * concurrent use; callers serialise control handling and data-path calls.
 */
#ifndef _LIBMEMIF_H_
#define _LIBMEMIF_H_

#include <inttypes.h>
#include <stddef.h>
#include <sys/timerfd.h>
#include <sys/types.h>

#define LIBMEMIF_VERSION "4.0"
#define MEMIF_DEFAULT_APP_NAME "libmemif-app"

/* memif wire protocol implemented: 2.0 */
#define MEMIF_VERSION_MAJOR 2
#define MEMIF_VERSION_MINOR 0
#define MEMIF_VERSION ((MEMIF_VERSION_MAJOR << 8) | MEMIF_VERSION_MINOR)

/* Error codes. The numbering is libmemif 4.x's: bindings rely on it. */
typedef enum
{
  MEMIF_ERR_SUCCESS = 0,
  MEMIF_ERR_SYSCALL,
  MEMIF_ERR_CONNREFUSED,
  MEMIF_ERR_ACCES,
  MEMIF_ERR_NO_FILE,
  MEMIF_ERR_FILE_LIMIT,
  MEMIF_ERR_PROC_FILE_LIMIT,
  MEMIF_ERR_ALREADY,
  MEMIF_ERR_AGAIN,
  MEMIF_ERR_BAD_FD,
  MEMIF_ERR_NOMEM,
  MEMIF_ERR_INVAL_ARG,
  MEMIF_ERR_NOCONN,
  MEMIF_ERR_CONN,
  MEMIF_ERR_CB_FDUPDATE,
  MEMIF_ERR_FILE_NOT_SOCK,
  MEMIF_ERR_NO_SHMFD,
  MEMIF_ERR_COOKIE,
  MEMIF_ERR_NOBUF_RING,
  MEMIF_ERR_NOBUF,
  MEMIF_ERR_NOBUF_DET,
  MEMIF_ERR_INT_WRITE,
  MEMIF_ERR_MFMSG,
  MEMIF_ERR_QID,
  MEMIF_ERR_PROTO,
  MEMIF_ERR_ID,
  MEMIF_ERR_ACCSLAVE,
  MEMIF_ERR_ALRCONN,
  MEMIF_ERR_MODE,
  MEMIF_ERR_SECRET,
  MEMIF_ERR_NOSECRET,
  MEMIF_ERR_MAXREG,
  MEMIF_ERR_MAXRING,
  MEMIF_ERR_NO_INTFD,
  MEMIF_ERR_DISCONNECT,
  MEMIF_ERR_DISCONNECTED,
  MEMIF_ERR_UNKNOWN_MSG,
  MEMIF_ERR_POLL_CANCEL,
  MEMIF_ERR_MAX_RING,
  MEMIF_ERR_PRIVHDR,
} memif_err_t;

typedef enum memif_fd_event_type
{
  MEMIF_FD_EVENT_READ = 1,
  MEMIF_FD_EVENT_WRITE = 2,
  MEMIF_FD_EVENT_ERROR = 4,
  MEMIF_FD_EVENT_DEL = 8,
  MEMIF_FD_EVENT_MOD = 16
} memif_fd_event_type_t;

typedef void *memif_conn_handle_t;
typedef void *memif_socket_handle_t;

typedef void *(memif_alloc_t) (size_t size);
typedef void *(memif_realloc_t) (void *ptr, size_t size);
typedef void (memif_free_t) (void *ptr);

/* An fd the application must watch (or stop watching, with DEL). Pass
 * private_ctx back to memif_control_fd_handler when the fd is ready. */
typedef struct memif_fd_event
{
  int fd;
  memif_fd_event_type_t type;
  void *private_ctx;
} memif_fd_event_t;

typedef int (memif_control_fd_update_t) (memif_fd_event_t fde,
					 void *private_ctx);
typedef int (memif_connection_update_t) (memif_conn_handle_t conn,
					 void *private_ctx);
typedef int (memif_on_interrupt_t) (memif_conn_handle_t conn,
				    void *private_ctx, uint16_t qid);

#ifndef _MEMIF_H_
typedef enum
{
  MEMIF_INTERFACE_MODE_ETHERNET = 0,
  MEMIF_INTERFACE_MODE_IP = 1,
  MEMIF_INTERFACE_MODE_PUNT_INJECT = 2,
} memif_interface_mode_t;
#endif

/* path: filesystem path, or an abstract name when it starts with '@' (or a
 * NUL byte followed by the name). The slave retries its connection each time
 * connection_request_timer fires; an all-zero timer disables retries. */
typedef struct memif_socket_args
{
  char path[108];
  char app_name[32];
  struct itimerspec connection_request_timer;
  memif_control_fd_update_t *on_control_fd_update;
  memif_alloc_t *alloc;
  memif_realloc_t *realloc;
  memif_free_t *free;
} memif_socket_args_t;

typedef struct
{
  memif_socket_handle_t socket;
  uint8_t secret[24];
  uint8_t num_s2m_rings;	/* 0 = 1 */
  uint8_t num_m2s_rings;	/* 0 = 1 */
  uint16_t buffer_size;		/* 0 = 2048 */
  uint8_t log2_ring_size;	/* 0 = 10 */
  uint8_t is_master;
  uint32_t interface_id;
  uint8_t interface_name[32];
  memif_interface_mode_t mode:8;
} memif_conn_args_t;

typedef enum
{
  MEMIF_RX_MODE_INTERRUPT = 0,
  MEMIF_RX_MODE_POLLING
} memif_rx_mode_t;

/* One descriptor's worth of shared memory, laid out as upstream's (32
 * bytes). data stays valid until the buffer goes back to the engine
 * (memif_tx_burst / memif_refill_queue) or the interface disconnects.
 * desc_index is the free-running ring slot (not masked), as upstream. */
typedef struct
{
  uint16_t desc_index;
  void *queue;
  uint32_t len;
#define MEMIF_BUFFER_FLAG_NEXT (1 << 0)
  uint8_t flags;
  void *data;
} memif_buffer_t;

typedef struct
{
  uint8_t region;
  uint16_t qid;
  uint32_t ring_size;
#define MEMIF_QUEUE_FLAG_POLLING 1
  uint16_t flags;
  uint16_t head;
  uint16_t tail;
  uint16_t buffer_size;
} memif_queue_details_t;

typedef struct
{
  uint8_t index;
  void *addr;
  uint32_t size;
  int fd;
  uint8_t is_external;
} memif_region_details_t;

typedef struct
{
  uint8_t *if_name;
  uint8_t *inst_name;
  uint8_t *remote_if_name;
  uint8_t *remote_inst_name;
  uint32_t id;
  uint8_t *secret;
  uint8_t role;			/* 0 = master, 1 = slave */
  uint8_t mode;
  uint8_t *socket_path;
  uint8_t regions_num;
  memif_region_details_t *regions;
  uint8_t rx_queues_num;
  uint8_t tx_queues_num;
  memif_queue_details_t *rx_queues;
  memif_queue_details_t *tx_queues;
  uint8_t *error;		/* last refusal or disconnect reason */
  uint8_t link_up_down;		/* 1 = up, 0 = down */
} memif_details_t;

uint16_t memif_get_version (void);
const char *memif_get_version_str (void);
char *memif_strerror (int err_code);

int memif_create_socket (memif_socket_handle_t *sock,
			 memif_socket_args_t *args, void *private_ctx);
int memif_delete_socket (memif_socket_handle_t *sock);
const char *memif_get_socket_path (memif_socket_handle_t sock);
int memif_get_listener_fd (memif_socket_handle_t sock);
int memif_set_connection_request_timer (memif_socket_handle_t sock,
					struct itimerspec timer);
memif_socket_handle_t memif_get_socket_handle (memif_conn_handle_t conn);

int memif_create (memif_conn_handle_t *conn, memif_conn_args_t *args,
		  memif_connection_update_t *on_connect,
		  memif_connection_update_t *on_disconnect,
		  memif_on_interrupt_t *on_interrupt, void *private_ctx);
int memif_delete (memif_conn_handle_t *conn);
int memif_request_connection (memif_conn_handle_t conn);

/* timeout in milliseconds: 0 = do not wait, -1 = wait for an event. */
int memif_poll_event (memif_socket_handle_t sock, int timeout);
#define MEMIF_HAVE_CANCEL_POLL_EVENT 1
int memif_cancel_poll_event (memif_socket_handle_t sock);
int memif_control_fd_handler (void *ptr, memif_fd_event_type_t events);

int memif_get_details (memif_conn_handle_t conn, memif_details_t *md,
		       char *buf, ssize_t buflen);
int memif_get_queue_efd (memif_conn_handle_t conn, uint16_t qid, int *fd);
int memif_set_rx_mode (memif_conn_handle_t conn, memif_rx_mode_t rx_mode,
		       uint16_t qid);

/* Data path, with upstream 4.0's contract. A NULL conn answers
 * MEMIF_ERR_NOCONN, an interface that is not connected
 * MEMIF_ERR_DISCONNECTED, a bad qid MEMIF_ERR_QID; on those early returns
 * the count output is not written.
 *
 * memif_buffer_alloc: count is a number of PACKETS of size bytes; a packet
 * larger than one buffer takes several entries of bufs (chained with
 * MEMIF_BUFFER_FLAG_NEXT), so bufs must have room for count packets' chains.
 * *count_out = entries written. MEMIF_ERR_NOBUF_RING when the ring had room
 * for fewer packets (those that fit stay allocated). size 0 allocates
 * nothing. */
int memif_buffer_alloc (memif_conn_handle_t conn, uint16_t qid,
			memif_buffer_t *bufs, uint16_t count,
			uint16_t *count_out, uint16_t size);
/* Sends count allocated buffers in allocation order. A slave sends
 * data - (start of the buffer) as the descriptor's offset, so it may use
 * headroom. On a bad buffer the good prefix is sent, *tx says how many, and
 * MEMIF_ERR_INVAL_ARG is returned. */
int memif_tx_burst (memif_conn_handle_t conn, uint16_t qid,
		    memif_buffer_t *bufs, uint16_t count, uint16_t *tx);
/* Takes up to count received buffers. MEMIF_ERR_NOBUF with *rx == count
 * when more are waiting: the queue's interrupt is then left pending, so the
 * application's event loop calls again. */
int memif_rx_burst (memif_conn_handle_t conn, uint16_t qid,
		    memif_buffer_t *bufs, uint16_t count, uint16_t *rx);
/* Gives count received buffers back (master: releases them; slave: posts
 * that many empty buffers, headroom bytes into each). Nothing is posted at
 * connect: call memif_refill_queue (conn, qid, -1, headroom) for every
 * receive queue in on_connect. */
int memif_refill_queue (memif_conn_handle_t conn, uint16_t qid,
			uint16_t count, uint16_t headroom);
/* Slave only: turns received buffers into allocated transmit buffers of
 * queue qid. This engine copies the payload into its own transmit buffer
 * and repoints bufs (data, desc_index, queue): a slave's buffers are bound
 * to their slots, so a descriptor never aliases two rings. */
int memif_buffer_enq_tx (memif_conn_handle_t conn, uint16_t qid,
			 memif_buffer_t *bufs, uint16_t count,
			 uint16_t *count_out);
/* Slave only: exchanges the two buffers' slots (contents move with them,
 * by copy, see memif_buffer_enq_tx). */
int memif_buffer_requeue (memif_conn_handle_t conn, memif_buffer_t *buf_a,
			  memif_buffer_t *buf_b);
/* Rewinds transmit allocation so buf is the next buffer allocated. */
int memif_set_next_free_buffer (memif_conn_handle_t conn, uint16_t qid,
				memif_buffer_t *buf);
/* Uses fd, a listening unix socket made by the application, as the
 * socket's listener (for masters). */
int memif_set_listener_fd (memif_socket_handle_t sock, int fd);

/* External regions are not supported: registering them is accepted for
 * source compatibility and ignored (the engine allocates its regions). */
typedef uint32_t (memif_get_external_buffer_offset_t) (void *private_ctx);
typedef int (memif_add_external_region_t) (void **addr, uint32_t size,
					   int *fd, void *private_ctx);
typedef void *(memif_get_external_region_addr_t) (uint32_t size, int fd,
						  void *private_ctx);
typedef int (memif_del_external_region_t) (void *addr, uint32_t size, int fd,
					   void *private_ctx);
void memif_register_external_region (memif_socket_handle_t sock,
				     memif_add_external_region_t *ar,
				     memif_get_external_region_addr_t *gr,
				     memif_del_external_region_t *dr,
				     memif_get_external_buffer_offset_t *go);

/* ---- EXTENSIONS (not in upstream libmemif) ---- */

#define MEMIF_HAVE_EXT_BUFFER_SIZE32 1
#define MEMIF_HAVE_EXT_METADATA 1
#define MEMIF_HAVE_EXT_ERROR_CALLBACK 1

/* Buffers larger than 65,535 bytes (so one descriptor can carry a whole
 * video frame): replaces args->buffer_size for the sessions that start
 * after the call; call it right after memif_create. */
int memif_set_buffer_size32 (memif_conn_handle_t conn, uint32_t size);

/* Counted in BUFFERS, unlike memif_buffer_alloc: fills at most count
 * entries of bufs with as many whole packets of size (32-bit) bytes as fit;
 * a packet takes ceil(size / buffer size) entries chained with
 * MEMIF_BUFFER_FLAG_NEXT, size 0 = one whole buffer per packet.
 * MEMIF_ERR_NOBUF when count is too small for even one packet,
 * MEMIF_ERR_NOBUF_RING when the ring is full. */
int memif_buffer_alloc32 (memif_conn_handle_t conn, uint16_t qid,
			  memif_buffer_t *bufs, uint16_t count,
			  uint16_t *count_out, uint32_t size);

/* Like memif_buffer_alloc32, but allocates exactly one packet (its chain
 * takes as many of bufs as it needs): MEMIF_ERR_NOBUF when count is too
 * small for it, MEMIF_ERR_NOBUF_RING when the ring is. */
int memif_buffer_alloc_packet32 (memif_conn_handle_t conn, uint16_t qid,
				 memif_buffer_t *bufs, uint16_t count,
				 uint16_t *count_out, uint32_t size);

/* Descriptor metadata (a 32-bit word per descriptor that upstream's
 * memif_buffer_t does not carry): the bursts with a parallel array, meta[i]
 * for bufs[i]. A NULL meta sends zeros / reads nothing. */
int memif_tx_burst_meta (memif_conn_handle_t conn, uint16_t qid,
			 memif_buffer_t *bufs, const uint32_t *meta,
			 uint16_t count, uint16_t *tx);
int memif_rx_burst_meta (memif_conn_handle_t conn, uint16_t qid,
			 memif_buffer_t *bufs, uint32_t *meta,
			 uint16_t count, uint16_t *rx);
/* memif_rx_burst_meta that also reports, in room[i], how many bytes after
 * bufs[i].data + len lie inside the descriptor's region (at most 65,535):
 * two peers that agree on data past the declared length (a trailer that
 * plain peers never see) read only that far. */
int memif_rx_burst_room (memif_conn_handle_t conn, uint16_t qid,
			 memif_buffer_t *bufs, uint32_t *meta, uint32_t *room,
			 uint16_t count, uint16_t *rx);

/* 1 when the session of conn is up: upstream calls on_disconnect also for
 * a handshake that never came up; this tells the two apart inside it. */
int memif_is_up (memif_conn_handle_t conn);

/* The send path of packets that take one buffer each, written from the
 * buffer's start (no headroom, no chains), with no memif_buffer_t per
 * packet. memif_tx_singles sends the count oldest allocated slots of qid,
 * slot k with len[k] bytes and metadata meta[k] (meta NULL: 0); a length
 * over what alloc gave stops it there (INVAL_ARG), like memif_tx_burst.
 * memif_alloc_singles allocates up to count slots of at least size bytes
 * and writes each one's data address to data[k]; it stops before a slot
 * whose buffer is smaller (*short_slot = 1: such packets need chains) and
 * answers NOBUF_RING when the ring had fewer free slots than count. */
#define MEMIF_HAVE_EXT_TX_SINGLES 1
int memif_tx_singles (memif_conn_handle_t conn, uint16_t qid,
		      const uint32_t *len, const uint32_t *meta,
		      uint16_t count, uint16_t *tx);
int memif_alloc_singles (memif_conn_handle_t conn, uint16_t qid, void **data,
			 uint16_t count, uint32_t size, uint16_t *got,
			 int *short_slot);

/* Transmit flow control. memif 2.0 has no event for "the peer released
 * buffers"; this engine adds one in the rings' unused padding.
 * memif_tx_wait_prepare reports the slots this side may allocate (room) and
 * the slots sent but not yet released by the peer (in_flight), and arms a
 * wait: when the caller needs more room, or a drain, it may sleep with
 * futex(word, FUTEX_WAIT, value, timeout) without holding the interface.
 * *peer_wakes is 1 when the peer's engine FUTEX_WAKEs such waiters (this
 * engine does); other peers never wake them, so poll with short timeouts.
 * memif_tx_wait_done disarms the wait. */
#define MEMIF_HAVE_EXT_TX_WAIT 1
int memif_tx_wait_prepare (memif_conn_handle_t conn, uint16_t qid,
			   uint16_t *room, uint16_t *in_flight,
			   uint32_t **word, uint32_t *value, int *peer_wakes);
int memif_tx_wait_done (memif_conn_handle_t conn, uint16_t qid);
/* Looks at the peer's index for up to ns nanoseconds, without arming a
 * wait, until at least need slots are free; *room is what it last saw. A
 * busy peer frees room within microseconds, and sleeping costs both sides
 * a system call: a sender spins this long before it arms a wait. */
int memif_tx_spin (memif_conn_handle_t conn, uint16_t qid, uint16_t need,
		   uint32_t ns, uint16_t *room);
/* in_flight of transmit queue qid as session `session` ended (numbered as
 * for memif_release_stale): the slots sent in it that the peer never
 * released. Kept for the last session that ended only; MEMIF_ERR_NOCONN
 * for any other. A sender draining before it closes reads the truth even
 * when the receiver released its last slots and left between two looks. */
int memif_tx_in_flight_at_end (memif_conn_handle_t conn, uint64_t session,
			       uint16_t qid, uint16_t *in_flight);
/* Wakes every thread of this process sleeping on queue qid's word, so a
 * waiter the application wants back (a cancelled wait) re-checks. */
int memif_tx_wait_wake (memif_conn_handle_t conn, uint16_t qid);

/* Receiver-driven interrupt suppression. memif 2.0 lets a receiver set
 * MEMIF_RING_FLAG_MASK_INT in its ring's flags to ask the sender not to
 * write the interrupt eventfd (upstream sets it for polling mode). A
 * receiver in interrupt mode that calls memif_rx_wait_prepare before each
 * sleep keeps it set while it is awake: from then on memif_rx_burst masks
 * interrupts whenever it receives something, and memif_rx_wait_prepare
 * clears the mask, drains the eventfd and reports in *ready whether slots
 * are already waiting (then do not sleep: receive). While awake it also
 * sets bit 15 (ours; peers read bit 0 only), which tells this engine's
 * senders to fence between publishing and reading the mask, so no wake-up
 * is lost. A sender that does not (it does not announce it in the ring)
 * might leave one burst unsignalled if it raced the clearing: *was_masked
 * is then 1 (also on the first call of a session), and the caller should
 * look at the ring once more a moment later, before a long sleep. Sleep on the eventfd of
 * memif_get_queue_efd; polling mode leaves the mask alone.
 * memif_get_tx_interrupts counts the interrupts this side sent on transmit
 * queue qid in the current session. */
#define MEMIF_HAVE_EXT_RX_WAIT 1
int memif_rx_wait_prepare (memif_conn_handle_t conn, uint16_t qid,
			   int *ready, int *was_masked);
int memif_get_tx_interrupts (memif_conn_handle_t conn, uint16_t qid,
			     uint64_t *sent);

/* The reason memif_delete sends the peer in its DISCONNECT (at most 96
 * bytes; default "interface deleted"), so a peer can tell a clean end of
 * stream from a crash. */
int memif_set_delete_reason (memif_conn_handle_t conn, const char *reason);

/* Ends the current session because the application found the peer
 * breaking a rule the engine cannot see (e.g. a frame longer than the two
 * sides agreed): as for a peer caught lying on the rings, the DISCONNECT
 * with this reason (at most 96 bytes) goes out from the control path, and
 * data-path calls answer MEMIF_ERR_DISCONNECTED until then. The interface
 * stays: a slave reconnects, a master waits for the next slave. */
#define MEMIF_HAVE_EXT_FAULT 1
int memif_fault (memif_conn_handle_t conn, const char *reason);

/* Buffers held across a disconnect. When the peer goes while the
 * application holds buffers (allocated and not sent, received and not
 * refilled), the pages under exactly those buffers are swapped for private
 * zero pages (a late read sees zeros, a late write lands there, nothing
 * faults) and the rest of the session's memory is unmapped. The placeholders
 * are numbered by the session they come from: 1 for the interface's first
 * session that came up, n for the one that started with the n-th
 * on_connect. memif_release_stale unmaps those of that session, or of every
 * ended session with session 0; the application calls it once it holds no
 * buffer of that session any more (any access after it may fault).
 * memif_delete releases them all. Placeholders of the current session do
 * not exist yet and are never touched. */
#define MEMIF_HAVE_EXT_RELEASE_STALE 1
int memif_release_stale (memif_conn_handle_t conn, uint64_t session);

/* Called whenever a handshake is refused or a connection ends with a reason,
 * on either side: err is the memif_err_t, reason the text sent or received in
 * DISCONNECT. conn is NULL when no interface matched (e.g. unknown id on a
 * master); ctx is then the socket's private_ctx, else the interface's. */
typedef void (memif_on_error_t) (memif_conn_handle_t conn, void *ctx,
				 int err, const char *reason);
int memif_set_error_callback (memif_socket_handle_t sock,
			      memif_on_error_t *on_error);

/* How long a handshake may take, from the connection to CONNECTED, before
 * either side ends it with DISCONNECT "handshake timed out" (a slave then
 * retries). ms = 0 restores the default, 5000. Applies to handshakes
 * already under way. */
#define MEMIF_HAVE_EXT_HANDSHAKE_TIMEOUT 1
int memif_set_handshake_timeout (memif_socket_handle_t sock, uint32_t ms);

/* Pre-faulting: when a session starts, this side maps every page of the
 * buffers its chosen rings use (and the rings themselves), so the first lap
 * over a ring costs no page faults: MEMIF_PREFAULT_TX for the rings it sends
 * on, MEMIF_PREFAULT_RX for those it receives on; 0, the default, as
 * upstream, maps pages on first touch. The cost is memory: those buffers are
 * resident from the connect on, rings x ring size x buffer size per
 * direction chosen, on both sides of the shared memory (the same pages,
 * counted once), and the populate runs in the event handling of the
 * connect. A slave maps its own buffers; a master maps what the slave's
 * descriptors point at, at most its own buffer size per slot, so a slave
 * cannot make it populate more than it would have allocated itself.
 * Best effort: a page the kernel cannot provide is left to fault later.
 * Applies to sessions that start after the call. */
#define MEMIF_HAVE_EXT_PREFAULT 1
#define MEMIF_PREFAULT_TX 1u
#define MEMIF_PREFAULT_RX 2u
int memif_set_prefault (memif_conn_handle_t conn, uint32_t which);

#endif /* _LIBMEMIF_H_ */
