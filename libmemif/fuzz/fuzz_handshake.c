/* fuzz_handshake.c - whole handshakes against the engine, as master or as
 * slave, with the fuzzer playing the peer: it chooses every message, its
 * length and the fds riding with it (memfds of its chosen size, eventfds,
 * pipes, several at once, or none), over a real AF_UNIX SEQPACKET
 * connection, while an application loop pumps memif_control_fd_handler.
 *
 * Input: one config byte (bit 0: the engine is the slave; bit 1: the
 * interface has a secret; bits 2-3: log2 ring size - 1; bits 4-5: rings
 * per direction), then steps: an op byte (low nibble: message type, 0 for
 * a raw datagram, 9 to hang up; high nibble: fds), fd parameters, and the
 * message body in wire order.
 *
 * Properties:
 *  - everything the engine sends is a well-formed 128-byte message of a
 *    type its role may send, in order (a master opens with HELLO);
 *  - every message the peer sends gets an answer (ACK, the next setup
 *    message, CONNECTED, or DISCONNECT), except those that end or finish
 *    the handshake: a DISCONNECT (the engine closes) and, to a slave, the
 *    CONNECTED it was waiting for (it comes up);
 *  - a DISCONNECT from the engine has a non-empty reason, the same one its
 *    error callback got, and is the last thing before it closes;
 *  - on_connect fires at most once and on_disconnect pairs it at the end;
 *  - after teardown the engine watches no fd and the process holds exactly
 *    the fds it held before (ASan/LSan check memory). */
#include "fuzz.h"

#define SECRET "fuzz-secret"
#define IFACE_ID 7

enum
{
  OP_RAW = 0, OP_HANGUP = 9,
};

/* Body bytes after the type, per type: what the wire defines. */
static const uint8_t body_len[9] = {
  [MW_MSG_ACK] = 0,[MW_MSG_HELLO] = 43,[MW_MSG_INIT] = 63,
  [MW_MSG_ADD_REGION] = 10,[MW_MSG_ADD_RING] = 13,[MW_MSG_CONNECT] = 32,
  [MW_MSG_CONNECTED] = 32,[MW_MSG_DISCONNECT] = 100,
};

typedef struct
{
  bool slave;			/* the engine's role */
  int sk;
  bool eof;			/* the engine closed the channel */
  bool disconnected;		/* ...after sending DISCONNECT */
  int msgs;			/* messages received from the engine */
  int last_type;
  bool connected_sent;		/* slave engine sent CONNECT */
} peer_t;

/* Ring headers with the cookie every stride bytes, so that rings the
 * fuzzer places at multiples of a ring's size pass the cookie check. */
static void
fill_rings (int fd, uint64_t size, unsigned log2)
{
  uint64_t stride = (mw_ring_bytes (log2) + 63) & ~(uint64_t) 63;
  uint32_t cookie = MW_COOKIE;
  for (uint64_t off = 0, i = 0; i < 64 && off + 128 <= size;
       off += stride, i++)
    if (pwrite (fd, &cookie, sizeof (cookie), (off_t) off) < 0)
      break;
}

/* The fds a step sends, chosen by sel; returns how many. */
static int
make_fds (in_t *in, unsigned sel, int fds[2])
{
  int n = 0, p[2];
  if (sel == 1 || sel == 2 || sel == 5)
    {
      /* Up to 16 MiB: sparse, only the ring pages are ever touched. */
      uint64_t size = in_u32 (in) & 0xFFFFFF;
      uint8_t fill = in_u8 (in);
      int fd = make_memfd (size, sel != 2);
      if (fd >= 0 && (fill & 0x80))
	fill_rings (fd, size, 1 + (fill & 0x0F) % MW_MAX_LOG2_RING);
      if (fd >= 0)
	fds[n++] = fd;
    }
  if (sel == 3 || sel == 5)
    {
      int fd = eventfd (0, EFD_CLOEXEC);
      if (fd >= 0)
	fds[n++] = fd;
    }
  if (sel == 4 && pipe2 (p, O_CLOEXEC) == 0)
    {
      close (p[1]);
      fds[n++] = p[0];
    }
  if (sel == 6)
    {
      int fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
      if (fd >= 0)
	fds[n++] = fd;
    }
  return n;
}

/* Reads everything the engine sent, checking each message. */
static int
drain (peer_t *pr)
{
  int got = 0;
  for (;;)
    {
      uint8_t b[MW_MSG_SIZE + 1];
      int fds[8], nfds;
      ssize_t n = peer_recv (pr->sk, b, sizeof (b), fds, 8, &nfds);
      for (int i = 0; i < nfds; i++)
	close (fds[i]);
      if (n < 0)
	return got;
      if (n == 0)
	{
	  pr->eof = true;
	  return got;
	}
      PROP (!pr->disconnected, "message after DISCONNECT");
      mw_msg_t m;
      PROP (mw_decode (b, (size_t) n, &m) == 0, "engine sent %zd bytes, "
	    "type %u", n, b[0] | (b[1] << 8));
      if (pr->msgs == 0 && !pr->slave)
	PROP (m.type == MW_MSG_HELLO && m.hello.min_version <= MEMIF_VERSION
	      && m.hello.max_version >= MEMIF_VERSION,
	      "master opened with type %u", m.type);
      else if (pr->slave)
	PROP (m.type == MW_MSG_INIT || m.type == MW_MSG_ADD_REGION
	      || m.type == MW_MSG_ADD_RING || m.type == MW_MSG_CONNECT
	      || m.type == MW_MSG_DISCONNECT, "slave sent type %u", m.type);
      else
	PROP (m.type == MW_MSG_ACK || m.type == MW_MSG_CONNECTED
	      || m.type == MW_MSG_DISCONNECT, "master sent type %u", m.type);
      if (pr->slave && m.type == MW_MSG_ADD_REGION)
	PROP (nfds == 1, "ADD_REGION with %d fds", nfds);
      if (pr->slave && m.type == MW_MSG_CONNECT)
	pr->connected_sent = true;
      if (m.type == MW_MSG_DISCONNECT)
	{
	  PROP (m.disconnect.reason[0], "DISCONNECT without a reason");
	  PROP (ev_seen.errors
		&& strcmp (ev_seen.reason, m.disconnect.reason) == 0,
		"DISCONNECT \"%s\" but the error callback had \"%s\"",
		m.disconnect.reason, ev_seen.reason);
	  pr->disconnected = true;
	}
      pr->msgs++;
      pr->last_type = m.type;
      got++;
    }
}

/* One step of the peer; false once the channel is over. */
static bool
step (peer_t *pr, in_t *in)
{
  uint8_t op = in_u8 (in);
  unsigned kind = op & 0x0F, sel = (op >> 4) & 7;
  if (kind == OP_HANGUP)
    return false;
  uint8_t b[256] = { 0 };
  size_t len = MW_MSG_SIZE;
  int fds[2], nfds = make_fds (in, sel, fds);
  if (kind == OP_RAW || kind > MW_MSG_DISCONNECT)
    {
      len = in_u8 (in);		/* any length, 128 among them */
      in_bytes (in, b, len);
    }
  else
    {
      b[0] = (uint8_t) kind;
      in_bytes (in, b + 2, body_len[kind]);
    }
  int up0 = ev_seen.up;
  if (!peer_send (pr->sk, b, len, fds, nfds))
    return false;
  loop_pump ();
  int got = drain (pr);
  mw_msg_t m;
  bool valid = mw_decode (b, len, &m) == 0;
  if (len == 0)			/* SEQPACKET cannot tell it from a hang-up */
    PROP (pr->eof, "empty datagram: engine still open");
  else if (nfds > 1)		/* one fd per message at most */
    PROP (pr->disconnected, "%d fds accepted", nfds);
  else if (valid && m.type == MW_MSG_DISCONNECT)
    PROP (pr->eof && got == 0, "DISCONNECT answered (%d) or not closed",
	  got);
  else if (pr->slave && valid && m.type == MW_MSG_CONNECTED
	   && ev_seen.up > up0)
    PROP (got == 0 && !pr->eof && pr->connected_sent,
	  "slave came up wrongly");
  else
    PROP (got > 0, "message type %u (%zu bytes) got no answer",
	  b[0] | (b[1] << 8), len);
  if (pr->disconnected)
    PROP (pr->eof, "DISCONNECT sent but the channel stays open");
  PROP (ev_seen.up <= 1, "on_connect %d times", ev_seen.up);
  return !pr->eof;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  in_t in = {.p = data,.n = size };
  if (loop_epfd < 0)
    loop_epfd = epoll_create1 (EPOLL_CLOEXEC);
  int fds0 = count_fds ();
  memset (&ev_seen, 0, sizeof (ev_seen));
  uint8_t cfg = in_u8 (&in);
  peer_t pr = {.slave = cfg & 1,.sk = -1 };

  socklen_t alen;
  struct sockaddr_un addr = loop_addr ("hs", &alen);
  int lsk = peer_listen (pr.slave, &addr, alen);
  memif_socket_handle_t s = loop_socket ("hs");
  memif_conn_args_t a;
  memset (&a, 0, sizeof (a));
  a.socket = s;
  a.is_master = !pr.slave;
  a.interface_id = IFACE_ID;
  a.log2_ring_size = (uint8_t) (1 + ((cfg >> 2) & 3));
  a.num_s2m_rings = a.num_m2s_rings = (uint8_t) ((cfg >> 4) & 3);
  a.buffer_size = 128;
  strcpy ((char *) a.interface_name, "fuzzed");
  if (cfg & 2)
    strcpy ((char *) a.secret, SECRET);
  memif_conn_handle_t c = NULL;
  if (memif_create (&c, &a, ev_on_up, ev_on_down, NULL, NULL))
    abort ();
  pr.sk = peer_join (lsk, &addr, alen);
  PROP (pr.sk >= 0, "no connection");
  loop_pump ();
  drain (&pr);
  PROP (pr.slave || pr.msgs == 1, "master greeted with %d messages",
	pr.msgs);

  while (in_left (&in) && step (&pr, &in))
    ;

  if (getenv ("FUZZ_VERBOSE"))	/* what a seed reaches */
    fprintf (stderr, "outcome: %s, up %d, %d messages, %s, last error "
	     "\"%s\"\n", pr.slave ? "slave" : "master", ev_seen.up, pr.msgs,
	     pr.eof ? "closed" : "open", ev_seen.reason);
  /* Hang up: the engine must notice and go down. */
  close (pr.sk);
  loop_pump ();
  PROP (ev_seen.down_up == ev_seen.up && ev_seen.down <= ev_seen.up + 1,
	"on_connect %d, on_disconnect %d (%d of an up session)", ev_seen.up,
	ev_seen.down, ev_seen.down_up);
  memif_details_t md;
  char dbuf[4096];
  if (memif_get_details (c, &md, dbuf, sizeof (dbuf)) == 0)
    PROP (md.link_up_down == 0 && md.regions_num == 0,
	  "after hang-up: link %d, %d regions", md.link_up_down,
	  md.regions_num);
  memif_delete (&c);
  memif_delete_socket (&s);
  if (lsk >= 0)
    close (lsk);
  PROP (loop_watched == 0, "engine still watches %d fds", loop_watched);
  int fds1 = count_fds ();
  if (fds1 != fds0)
    print_fds ();
  PROP (fds1 == fds0, "fds before %d, after %d", fds0, fds1);
  return 0;
}
