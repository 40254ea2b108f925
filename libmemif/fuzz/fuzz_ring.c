/* fuzz_ring.c - the data path against a peer that lies in shared memory.
 *
 * Each input first runs an honest handshake (the harness is the slave of
 * the engine's master, or the master of its slave, by the config byte), so
 * the harness holds its own mapping of the session's regions. Then the
 * input is a list of operations: write a ring's head or tail (absolute or
 * relative), write any bytes into a descriptor or a ring's flags, and call
 * memif_rx_burst, memif_buffer_alloc(32), memif_tx_burst,
 * memif_refill_queue, memif_tx_wait_prepare and memif_rx_wait_prepare on
 * the engine.
 *
 * Properties:
 *  - every buffer the engine hands out lies inside one region of the
 *    session (data and data + len), as the engine reported them at connect
 *    and the harness created or was sent them, and names a slot of the ring;
 *  - a call either succeeds, or fails with an argument or room error, or
 *    answers MEMIF_ERR_DISCONNECTED; then the peer receives a DISCONNECT
 *    with a non-empty reason, the error callback had the same reason,
 *    on_disconnect fires, and buffers the application still held stay
 *    readable and writable (the documented placeholders);
 *  - after teardown no fd is left and none is watched (ASan/LSan check
 *    memory). */
#include "fuzz.h"

#define IFACE_ID 9
#define BUF_SIZE 256
#define MAX_HELD 256

typedef struct
{
  uint8_t *addr;
  uint64_t size;
} map_t;

typedef struct
{
  bool slave;			/* the engine's role */
  int sk;
  unsigned log2;
  map_t mine[2];		/* the harness's mappings: rings, buffers */
  mw_ring_t *ring[2];		/* S2M, M2S, in the harness's mapping */
  memif_region_details_t reg[2];	/* the engine's, at connect */
  int nreg;
  memif_conn_handle_t c;
  memif_buffer_t pend[MAX_HELD];	/* allocated, not sent */
  int npend;
  memif_buffer_t held[MAX_HELD];	/* received, not refilled */
  int nheld;
  int got_rx, got_alloc, sent;	/* for FUZZ_VERBOSE */
} sess_t;

static uint64_t
stride (unsigned log2)
{
  return (mw_ring_bytes (log2) + 63) & ~(uint64_t) 63;
}

/* Pumps the engine until the peer socket has a message; its type. */
static int
expect (sess_t *ss, mw_msg_t *m, int *fd)
{
  for (int i = 0; i < 100; i++)
    {
      uint8_t b[MW_MSG_SIZE];
      int fds[4], nfds;
      loop_pump ();
      ssize_t n = peer_recv (ss->sk, b, sizeof (b), fds, 4, &nfds);
      if (n < 0)
	continue;
      *fd = nfds ? fds[0] : -1;
      for (int k = 1; k < nfds; k++)
	close (fds[k]);
      if (n == 0 || mw_decode (b, (size_t) n, m) != 0)
	return -1;
      return m->type;
    }
  return -1;
}

static void
send_msg (sess_t *ss, const mw_msg_t *m, int fd)
{
  uint8_t b[MW_MSG_SIZE];
  mw_encode (m, b);
  PROP (peer_send (ss->sk, b, sizeof (b), &fd, fd >= 0), "send type %u",
	m->type);
}

static void *
map_fd (int fd, uint64_t size)
{
  void *p = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  PROP (p != MAP_FAILED, "mmap");
  return p;
}

/* The harness as an honest slave: it lays out and sends the session. */
static void
handshake_as_slave (sess_t *ss)
{
  mw_msg_t m, r;
  int fd;
  unsigned n = 1u << ss->log2;
  PROP (expect (ss, &r, &fd) == MW_MSG_HELLO, "no HELLO");
  memset (&m, 0, sizeof (m));
  m.type = MW_MSG_INIT;
  m.init.version = MEMIF_VERSION;
  m.init.id = IFACE_ID;
  send_msg (ss, &m, -1);
  PROP (expect (ss, &r, &fd) == MW_MSG_ACK, "INIT refused");

  uint64_t sizes[2] = { 2 * stride (ss->log2), 2ull * n * BUF_SIZE };
  for (int i = 0; i < 2; i++)
    {
      int mfd = make_memfd (sizes[i], true);
      ss->mine[i] = (map_t) { map_fd (mfd, sizes[i]), sizes[i] };
      memset (&m, 0, sizeof (m));
      m.type = MW_MSG_ADD_REGION;
      m.add_region.index = (uint16_t) i;
      m.add_region.size = sizes[i];
      send_msg (ss, &m, mfd);
      PROP (expect (ss, &r, &fd) == MW_MSG_ACK, "region %d refused", i);
    }
  for (int d = 0; d < 2; d++)	/* 0: S2M, 1: M2S */
    {
      mw_ring_t *rg = (mw_ring_t *) (ss->mine[0].addr + d * stride (ss->log2));
      ss->ring[d] = rg;
      rg->cookie = MW_COOKIE;
      for (unsigned k = 0; k < n; k++)
	rg->desc[k] = (mw_desc_t) {.region = 1,
	  .offset = (d * n + k) * BUF_SIZE,.length = BUF_SIZE };
      if (d == 1)
	rg->head = (uint16_t) n;	/* every M2S buffer posted */
      memset (&m, 0, sizeof (m));
      m.type = MW_MSG_ADD_RING;
      m.add_ring.flags = d == 0 ? MW_ADD_RING_FLAG_S2M : 0;
      m.add_ring.offset = (uint32_t) (d * stride (ss->log2));
      m.add_ring.log2_ring_size = (uint8_t) ss->log2;
      send_msg (ss, &m, eventfd (0, EFD_CLOEXEC));
      PROP (expect (ss, &r, &fd) == MW_MSG_ACK, "ring %d refused", d);
    }
  memset (&m, 0, sizeof (m));
  m.type = MW_MSG_CONNECT;
  send_msg (ss, &m, -1);
  PROP (expect (ss, &r, &fd) == MW_MSG_CONNECTED, "CONNECT refused");
}

/* The harness as an honest master: it maps what the slave sends. */
static void
handshake_as_master (sess_t *ss)
{
  mw_msg_t m, r;
  int fd, nmaps = 0;
  memset (&m, 0, sizeof (m));
  m.type = MW_MSG_HELLO;
  m.hello.min_version = m.hello.max_version = MEMIF_VERSION;
  m.hello.max_region = m.hello.max_m2s_ring = m.hello.max_s2m_ring = 0;
  m.hello.max_region = 1;
  m.hello.max_log2_ring_size = MW_MAX_LOG2_RING;
  send_msg (ss, &m, -1);
  for (int i = 0; i < 16; i++)
    {
      int t = expect (ss, &r, &fd);
      if (t == MW_MSG_ADD_REGION)
	{
	  PROP (fd >= 0 && nmaps < 2, "ADD_REGION");
	  ss->mine[nmaps++] = (map_t) { map_fd (fd, r.add_region.size),
	    r.add_region.size };
	}
      if (t == MW_MSG_ADD_RING)
	{
	  int d = r.add_ring.flags & MW_ADD_RING_FLAG_S2M ? 0 : 1;
	  ss->ring[d] = (mw_ring_t *) (ss->mine[r.add_ring.region].addr
				       + r.add_ring.offset);
	}
      if (fd >= 0)
	close (fd);
      memset (&m, 0, sizeof (m));
      if (t == MW_MSG_CONNECT)
	{
	  m.type = MW_MSG_CONNECTED;
	  send_msg (ss, &m, -1);
	  loop_pump ();
	  return;
	}
      PROP (t == MW_MSG_INIT || t == MW_MSG_ADD_REGION
	    || t == MW_MSG_ADD_RING, "slave sent %d", t);
      m.type = MW_MSG_ACK;
      send_msg (ss, &m, -1);
    }
  PROP (0, "handshake did not end");
}

static void
check_buf (sess_t *ss, const memif_buffer_t *b, const char *call)
{
  /* desc_index is the free-running slot, as upstream's: not checked. */
  uint8_t *p = b->data;
  for (int i = 0; i < ss->nreg; i++)
    {
      uint8_t *lo = ss->reg[i].addr;
      if (p >= lo && p <= lo + ss->reg[i].size
	  && b->len <= (uint64_t) (lo + ss->reg[i].size - p))
	return;
    }
  PROP (0, "%s: buffer %p + %u outside every region", call, b->data,
	b->len);
}

/* A data-path call's result: fine, or the peer was caught and the session
 * must end with a reason. Returns false once it has. */
static bool
check_rc (sess_t *ss, int rc, const char *call)
{
  if (rc == MEMIF_ERR_SUCCESS || rc == MEMIF_ERR_NOBUF_RING
      || rc == MEMIF_ERR_NOBUF || rc == MEMIF_ERR_INVAL_ARG)
    return true;
  PROP (rc == MEMIF_ERR_DISCONNECTED, "%s: rc %d", call, rc);
  /* The fault turns into a DISCONNECT on the control path. */
  int errors = ev_seen.errors;
  mw_msg_t r;
  int fd, t;
  do
    t = expect (ss, &r, &fd);
  while (t >= 0 && t != MW_MSG_DISCONNECT);
  PROP (t == MW_MSG_DISCONNECT && r.disconnect.reason[0],
	"%s: no DISCONNECT with a reason after a fault", call);
  PROP (ev_seen.errors > errors
	&& strcmp (ev_seen.reason, r.disconnect.reason) == 0,
	"%s: DISCONNECT \"%s\", error callback \"%s\"", call,
	r.disconnect.reason, ev_seen.reason);
  PROP (ev_seen.down == 1, "%s: on_disconnect %d", call, ev_seen.down);
  /* What the application still holds stays usable memory. */
  for (int i = 0; i < ss->nheld + ss->npend; i++)
    {
      memif_buffer_t *b = i < ss->nheld ? &ss->held[i]
	: &ss->pend[i - ss->nheld];
      volatile uint8_t *p = b->data;
      if (b->len)
	{
	  p[0] = (uint8_t) (p[0] + 1);
	  p[b->len - 1] = (uint8_t) (p[b->len - 1] + 1);
	}
    }
  uint16_t n;
  memif_buffer_t b;
  PROP (memif_rx_burst (ss->c, 0, &b, 1, &n) == MEMIF_ERR_DISCONNECTED,
	"rx after the disconnect");
  return false;
}

static bool
op (sess_t *ss, in_t *in)
{
  uint8_t o = in_u8 (in);
  int d = (o >> 4) & 1;		/* which ring the peer scribbles on */
  mw_ring_t *rg = ss->ring[d];
  uint16_t n = 0, cnt;
  int rc;
  switch (o & 0x0F)
    {
    case 0:			/* head := v, or head += v */
    case 1:			/* tail */
      {
	uint16_t *ix = (o & 0x0F) == 0 ? &rg->head : &rg->tail;
	uint16_t v = in_u16 (in);
	__atomic_store_n (ix, (uint16_t) (o & 0x20 ? v : *ix + v),
			  __ATOMIC_RELEASE);
	return true;
      }
    case 2:			/* any bytes in a descriptor */
      in_bytes (in, &rg->desc[in_u8 (in) & ((1u << ss->log2) - 1)],
		sizeof (mw_desc_t));
      return true;
    case 3:
      {
	memif_buffer_t b[MAX_HELD];
	cnt = in_u8 (in) % 40;
	rc = memif_rx_burst (ss->c, 0, b, cnt, &n);
	PROP (n <= cnt, "rx %u of %u", n, cnt);
	ss->got_rx += n;
	for (uint16_t i = 0; i < n; i++)
	  {
	    check_buf (ss, &b[i], "rx_burst");
	    if (ss->nheld < MAX_HELD)
	      ss->held[ss->nheld++] = b[i];
	  }
	return check_rc (ss, rc, "rx_burst");
      }
    case 4:
      {
	cnt = in_u8 (in);
	uint16_t headroom = in_u8 (in) & 0x7F;
	rc = memif_refill_queue (ss->c, 0, cnt, headroom);
	int k = cnt < ss->nheld ? cnt : ss->nheld;
	if (rc == 0)
	  {
	    memmove (ss->held, ss->held + k, (ss->nheld - k) * sizeof (*ss->held));
	    ss->nheld -= k;
	  }
	return check_rc (ss, rc, "refill_queue");
      }
    case 5:
    case 6:
      {
	cnt = in_u8 (in) % 40;
	bool packets = (o & 0x0F) == 5;	/* upstream's: counts packets */
	uint32_t size = packets ? in_u16 (in) : in_u32 (in) & 0xFFFFF;
	/* A packet may take a whole ring's worth of entries: room for that. */
	uint32_t per = packets ? 1u << ss->log2 : 1;
	if (cnt > (MAX_HELD - ss->npend) / per)
	  cnt = (uint16_t) ((MAX_HELD - ss->npend) / per);
	memif_buffer_t *b = ss->pend + ss->npend;
	rc = packets
	  ? memif_buffer_alloc (ss->c, 0, b, cnt, &n, (uint16_t) size)
	  : memif_buffer_alloc32 (ss->c, 0, b, cnt, &n, size);
	PROP (n <= cnt * per, "alloc %u entries for %u %s", n, cnt,
	      packets ? "packets" : "buffers");
	ss->got_alloc += n;
	for (uint16_t i = 0; i < n; i++)
	  check_buf (ss, &b[i], "buffer_alloc");
	ss->npend += n;
	return check_rc (ss, rc, "buffer_alloc");
      }
    case 7:
      {
	cnt = in_u8 (in);
	if (cnt > ss->npend)
	  cnt = (uint16_t) ss->npend;
	uint8_t shrink = in_u8 (in);
	for (int i = 0; i < cnt && shrink; i++)	/* the app sends less */
	  ss->pend[i].len -= ss->pend[i].len ? ss->pend[i].len % shrink : 0;
	rc = memif_tx_burst (ss->c, 0, ss->pend, cnt, &n);
	PROP (rc != 0 || n == cnt, "tx %u of %u", n, cnt);
	ss->sent += n;
	if (rc == 0)
	  {
	    memmove (ss->pend, ss->pend + n, (ss->npend - n) * sizeof (*ss->pend));
	    ss->npend -= n;
	  }
	return check_rc (ss, rc, "tx_burst");
      }
    case 8:
      {
	uint16_t room, fl;
	uint32_t *word, val;
	int w;
	rc = memif_tx_wait_prepare (ss->c, 0, &room, &fl, &word, &val, &w);
	if (rc == 0)
	  {
	    PROP (room <= (1u << ss->log2) && fl <= (1u << ss->log2),
		  "room %u, in flight %u", room, fl);
	    memif_tx_wait_done (ss->c, 0);
	  }
	return check_rc (ss, rc, "tx_wait_prepare");
      }
    case 9:			/* a receiver about to sleep; the peer may set the flags */
      {
	int ready = -1, was = -1;
	if (o & 0x20)
	  __atomic_store_n (&rg->flags, in_u16 (in), __ATOMIC_RELAXED);
	rc = memif_rx_wait_prepare (ss->c, 0, &ready, &was);
	PROP (rc != 0 || ((ready == 0 || ready == 1) && (was == 0 || was == 1)),
	      "rx_wait_prepare ready %d was %d", ready, was);
	return check_rc (ss, rc, "rx_wait_prepare");
      }
    default:			/* the control loop runs */
      loop_pump ();
      return true;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  in_t in = {.p = data,.n = size };
  static sess_t ss;
  if (loop_epfd < 0)
    loop_epfd = epoll_create1 (EPOLL_CLOEXEC);
  int fds0 = count_fds ();
  memset (&ev_seen, 0, sizeof (ev_seen));
  memset (&ss, 0, sizeof (ss));
  uint8_t cfg = in_u8 (&in);
  ss.slave = cfg & 1;
  ss.log2 = 1 + ((cfg >> 1) & 3);

  socklen_t alen;
  struct sockaddr_un addr = loop_addr ("ring", &alen);
  int lsk = peer_listen (ss.slave, &addr, alen);
  memif_socket_handle_t s = loop_socket ("ring");
  memif_conn_args_t a;
  memset (&a, 0, sizeof (a));
  a.socket = s;
  a.is_master = !ss.slave;
  a.interface_id = IFACE_ID;
  a.log2_ring_size = (uint8_t) ss.log2;
  a.buffer_size = BUF_SIZE;
  if (memif_create (&ss.c, &a, ev_on_up, ev_on_down, NULL, NULL))
    abort ();
  if (cfg & 8)			/* polling: rx reads no interrupt */
    memif_set_rx_mode (ss.c, MEMIF_RX_MODE_POLLING, 0);
  ss.sk = peer_join (lsk, &addr, alen);
  PROP (ss.sk >= 0, "no connection");
  if (ss.slave)
    handshake_as_master (&ss);
  else
    handshake_as_slave (&ss);
  PROP (ev_seen.up == 1, "honest handshake did not come up: %s",
	ev_seen.reason);

  memif_details_t md;
  char dbuf[4096];
  PROP (memif_get_details (ss.c, &md, dbuf, sizeof (dbuf)) == 0, "details");
  PROP (md.regions_num == 2, "%d regions", md.regions_num);
  for (int i = 0; i < 2; i++)
    {
      ss.reg[i] = md.regions[i];
      PROP (ss.reg[i].size == ss.mine[i].size, "region %d: engine %u, "
	    "harness %llu bytes", i, ss.reg[i].size,
	    (unsigned long long) ss.mine[i].size);
    }
  ss.nreg = 2;

  while (in_left (&in) && op (&ss, &in))
    ;

  if (getenv ("FUZZ_VERBOSE"))	/* what a seed reaches */
    fprintf (stderr, "outcome: %s, rx %d, alloc %d, tx %d, %s \"%s\"\n",
	     ss.slave ? "slave" : "master", ss.got_rx, ss.got_alloc, ss.sent,
	     ev_seen.down ? "disconnected" : "up", ev_seen.reason);
  close (ss.sk);
  loop_pump ();
  PROP (ev_seen.down == 1, "on_disconnect %d", ev_seen.down);
  memif_delete (&ss.c);
  memif_delete_socket (&s);
  for (int i = 0; i < 2; i++)
    if (ss.mine[i].addr)
      munmap (ss.mine[i].addr, ss.mine[i].size);
  if (lsk >= 0)
    close (lsk);
  PROP (loop_watched == 0, "engine still watches %d fds", loop_watched);
  int fds1 = count_fds ();
  if (fds1 != fds0)
    print_fds ();
  PROP (fds1 == fds0, "fds before %d, after %d", fds0, fds1);
  return 0;
}
