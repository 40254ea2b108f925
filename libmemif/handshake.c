//go:build !libmemif_system

/* handshake.c - the memif 2.0 connection state machines.
 *
 * Master: HELLO (on accept) -> INIT -> ADD_REGION* -> ADD_RING* -> CONNECT,
 * each answered with ACK, CONNECT with CONNECTED.
 * Slave: waits for HELLO, then sends INIT, every region, every ring and
 * CONNECT one at a time, each after the previous one's ACK. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handshake.h"
#include "session.h"

static void
ack (memif_channel_t *ch)
{
  mw_msg_t m = {.type = MW_MSG_ACK };
  if (channel_send (&ch->link, &m, -1))
    channel_fail (&ch->link, MEMIF_ERR_SYSCALL, "cannot send ACK");
}

static void
copy_name (char dst[MW_NAME_LEN + 1], const uint8_t *src)
{
  memcpy (dst, src, MW_NAME_LEN);
  dst[MW_NAME_LEN] = 0;
}

static void
pending_remove (memif_channel_t *ch)
{
  for (memif_channel_t ** p = &ch->sock->pending; *p; p = &(*p)->next)
    if (*p == ch)
      {
	*p = ch->next;
	break;
      }
  ch->next = NULL;
}

static void
connected (memif_conn_t *c)
{
  c->state = CONN_UP;
  c->error[0] = 0;
  c->sessions++;
  if (c->on_connect)
    c->on_connect (c, c->private_ctx);
}

static void
master_on_init (memif_channel_t *ch, const mw_msg_t *m)
{
  memif_socket_t *s = ch->sock;
  if ((m->init.version >> 8) != MEMIF_VERSION_MAJOR)
    {
      channel_fail (&ch->link, MEMIF_ERR_PROTO,
		    "unsupported memif version %u.%u", m->init.version >> 8,
		    m->init.version & 0xff);
      return;
    }
  memif_conn_t *c = s->conns;
  while (c && (c->args.interface_id != m->init.id || !c->args.is_master))
    c = c->next;
  if (!c)
    {
      channel_fail (&ch->link, MEMIF_ERR_ID, "no interface with id %u",
		    m->init.id);
      return;
    }
  if (c->ch)
    {
      channel_fail (&ch->link, MEMIF_ERR_ALRCONN,
		    "interface id %u already in use", m->init.id);
      return;
    }
  /* From here failures are reported on the interface the slave asked for. */
  pending_remove (ch);
  ch->conn = c;
  c->ch = ch;
  c->state = CONN_HANDSHAKE;
  if (m->init.mode != c->args.mode)
    {
      channel_fail (&ch->link, MEMIF_ERR_MODE,
		    "mode mismatch: master %u, slave %u", c->args.mode,
		    m->init.mode);
      return;
    }
  /* Upstream's rule: a master without a secret admits any slave (it asked
   * for none); one with a secret needs the slave's to match exactly. */
  static const uint8_t none[MW_SECRET_LEN];
  if (memcmp (c->args.secret, none, MW_SECRET_LEN) != 0
      && memcmp (m->init.secret, c->args.secret, MW_SECRET_LEN) != 0)
    {
      channel_fail (&ch->link, MEMIF_ERR_SECRET, "secret mismatch");
      return;
    }
  memcpy (c->remote_app_name, m->init.name, sizeof (c->remote_app_name));
  c->announced = true;		/* from here it ends with on_disconnect */
  ch->state = CH_M_CONFIG;
  ack (ch);
}

static void
master_on_connect (memif_channel_t *ch, const mw_msg_t *m)
{
  memif_conn_t *c = ch->conn;
  const char *why = NULL;
  int err = session_start (c, &why);
  if (err)
    {
      channel_fail (&ch->link, err, "%s", why);
      return;
    }
  memcpy (c->remote_if_name, m->connect.if_name, sizeof (c->remote_if_name));
  /* As upstream, on_connect runs before CONNECTED goes out, so the
   * application's refill is in place when the slave starts sending. */
  ch->state = CH_UP;
  connected (c);
  mw_msg_t r = {.type = MW_MSG_CONNECTED };
  copy_name (r.connect.if_name, c->args.interface_name);
  if (channel_send (&ch->link, &r, -1))
    channel_fail (&ch->link, MEMIF_ERR_SYSCALL, "cannot send CONNECTED");
}

/* ADD_REGION or ADD_RING: its fd goes to the session, which keeps it or
 * closes it. */
static void
master_on_add (memif_channel_t *ch, const mw_msg_t *m, int fd)
{
  bool region = m->type == MW_MSG_ADD_REGION;
  const char *why = NULL;
  int err;
  if (fd < 0)
    channel_fail (&ch->link, region ? MEMIF_ERR_NO_SHMFD : MEMIF_ERR_NO_INTFD,
		  "%s without an fd", region ? "ADD_REGION" : "ADD_RING");
  else if ((err = region ? session_add_region (ch->conn, m->add_region.index,
					       m->add_region.size, fd, &why)
	    : session_add_ring (ch->conn, m, fd, &why)))
    channel_fail (&ch->link, err, "%s", why);
  else
    ack (ch);
}

static void
master_on_msg (channel_t *link, const mw_msg_t *m, int fd)
{
  memif_channel_t *ch = (memif_channel_t *) link;
  bool config = ch->state == CH_M_CONFIG;
  if (config && (m->type == MW_MSG_ADD_REGION || m->type == MW_MSG_ADD_RING))
    {
      master_on_add (ch, m, fd);
      return;
    }
  if (ch->state == CH_M_WAIT_INIT && m->type == MW_MSG_INIT)
    master_on_init (ch, m);
  else if (config && m->type == MW_MSG_CONNECT)
    master_on_connect (ch, m);
  else
    channel_fail (&ch->link, MEMIF_ERR_MFMSG, "unexpected message type %u",
		  m->type);
  if (fd >= 0)
    close (fd);
}

/* ---- slave ---- */

static int
slave_send_next (memif_channel_t *ch)
{
  memif_conn_t *c = ch->conn;
  uint32_t step = ch->step++;
  mw_msg_t m = { 0 };
  int fd = -1;
  if (step == 0)
    {
      m.type = MW_MSG_INIT;
      m.init.version = MEMIF_VERSION;
      m.init.id = c->args.interface_id;
      m.init.mode = c->args.mode;
      memcpy (m.init.secret, c->args.secret, MW_SECRET_LEN);
      memcpy (m.init.name, c->sock->app_name, MW_NAME_LEN);
      return channel_send (&ch->link, &m, -1);
    }
  step--;
  if (step < c->nregions)
    {
      m.type = MW_MSG_ADD_REGION;
      m.add_region.index = (uint16_t) step;
      m.add_region.size = c->regions[step].size;
      return channel_send (&ch->link, &m, c->regions[step].fd);
    }
  step -= c->nregions;
  if (step < (uint32_t) c->num_s2m + c->num_m2s)
    {
      bool s2m = step < c->num_s2m;
      queue_t *q = s2m ? &c->s2m[step] : &c->m2s[step - c->num_s2m];
      m.type = MW_MSG_ADD_RING;
      m.add_ring.flags = s2m ? MW_ADD_RING_FLAG_S2M : 0;
      m.add_ring.index = (uint16_t) (s2m ? step : step - c->num_s2m);
      m.add_ring.region = q->region;
      m.add_ring.offset = q->offset;
      m.add_ring.log2_ring_size = (uint8_t) q->log2;
      fd = q->efd;
      return channel_send (&ch->link, &m, fd);
    }
  m.type = MW_MSG_CONNECT;
  copy_name (m.connect.if_name, c->args.interface_name);
  ch->state = CH_S_WAIT_CONNECTED;
  return channel_send (&ch->link, &m, -1);
}

/* Sets c's ring counts and size for the session: the application's, cut
 * to the master's limits; false when they leave none usable. */
static bool
slave_fit_limits (memif_conn_t *c, const mw_msg_t *m)
{
  /* The master's limits are highest indices; ours are counts. */
  uint32_t s2m = c->args.num_s2m_rings ? c->args.num_s2m_rings : 1;
  uint32_t m2s = c->args.num_m2s_rings ? c->args.num_m2s_rings : 1;
  uint32_t lg = c->args.log2_ring_size ? c->args.log2_ring_size
    : DEFAULT_LOG2_RING;
  if (s2m > (uint32_t) m->hello.max_s2m_ring + 1)
    s2m = (uint32_t) m->hello.max_s2m_ring + 1;
  if (m2s > (uint32_t) m->hello.max_m2s_ring + 1)
    m2s = (uint32_t) m->hello.max_m2s_ring + 1;
  if (lg > m->hello.max_log2_ring_size)
    lg = m->hello.max_log2_ring_size;
  if (lg < 1 || s2m > MW_MAX_RINGS || m2s > MW_MAX_RINGS)
    return false;
  c->num_s2m = (uint16_t) s2m;
  c->num_m2s = (uint16_t) m2s;
  c->log2_ring = (uint8_t) lg;
  return true;
}

static void
slave_on_hello (memif_channel_t *ch, const mw_msg_t *m)
{
  memif_conn_t *c = ch->conn;
  if (m->hello.min_version > MEMIF_VERSION
      || m->hello.max_version < MEMIF_VERSION)
    {
      channel_fail (&ch->link, MEMIF_ERR_PROTO,
		    "master speaks memif %u.%u to %u.%u, not 2.0",
		    m->hello.min_version >> 8, m->hello.min_version & 0xff,
		    m->hello.max_version >> 8, m->hello.max_version & 0xff);
      return;
    }
  if (!slave_fit_limits (c, m))
    {
      channel_fail (&ch->link, MEMIF_ERR_MAX_RING,
		    "master limits leave no usable ring");
      return;
    }
  memcpy (c->remote_app_name, m->hello.name, sizeof (c->remote_app_name));
  int err = session_layout (c);
  if (err)
    {
      channel_fail (&ch->link, err, "cannot allocate shared memory");
      return;
    }
  if ((uint32_t) c->nregions > (uint32_t) m->hello.max_region + 1)
    {
      channel_fail (&ch->link, MEMIF_ERR_MAXREG,
		    "master accepts %u regions, need %u",
		    m->hello.max_region + 1, c->nregions);
      return;
    }
  ch->state = CH_S_SETUP;
  if (slave_send_next (ch))
    channel_fail (&ch->link, MEMIF_ERR_SYSCALL, "cannot send INIT");
}

static void
slave_on_msg (channel_t *link, const mw_msg_t *m, int fd)
{
  memif_channel_t *ch = (memif_channel_t *) link;
  memif_conn_t *c = ch->conn;
  const char *why = NULL;
  if (fd >= 0)
    close (fd);			/* a master never passes fds */
  if (ch->state == CH_S_WAIT_HELLO && m->type == MW_MSG_HELLO)
    slave_on_hello (ch, m);
  else if (ch->state == CH_S_SETUP && m->type == MW_MSG_ACK)
    {
      if (slave_send_next (ch))
	channel_fail (&ch->link, MEMIF_ERR_SYSCALL, "cannot send setup message");
    }
  else if (ch->state == CH_S_WAIT_CONNECTED && m->type == MW_MSG_CONNECTED)
    {
      int err = session_start (c, &why);
      if (err)
	{
	  channel_fail (&ch->link, err, "%s", why);
	  return;
	}
      memcpy (c->remote_if_name, m->connect.if_name,
	      sizeof (c->remote_if_name));
      ch->state = CH_UP;
      connected (c);
    }
  else
    channel_fail (&ch->link, MEMIF_ERR_MFMSG, "unexpected message type %u",
		  m->type);
}

/* Ends the session: queues and regions go, the interface is free for the
 * next peer. As upstream, on_disconnect comes first, while the session is
 * still mapped, for every session that was up and for every handshake that
 * had reached the interface (a slave's connection, a master's accepted
 * INIT); memif_is_up inside it tells the two apart. */
static void
conn_teardown (memif_conn_t *c)
{
  bool was_up = c->state == CONN_UP;
  bool notify = was_up || c->announced;
  c->announced = false;
  if (notify && c->on_disconnect)
    c->on_disconnect (c, c->private_ctx);
  if (was_up)
    txwait_note_end (c);	/* the rings are still mapped */
  session_free (c, was_up);
  c->state = CONN_DOWN;
  c->fault = false;
  c->remote_if_name[0] = 0;
  c->remote_app_name[0] = 0;
}

/* ---- the channel's callbacks, and its start ---- */

static void
on_channel_error (channel_t *link, int err, const char *reason)
{
  memif_channel_t *ch = (memif_channel_t *) link;
  report_error (ch->sock, ch->conn, err, reason);
}

/* The bound interface goes down; an unbound channel leaves the pending
 * list. */
static void
on_channel_close (channel_t *link)
{
  memif_channel_t *ch = (memif_channel_t *) link;
  memif_conn_t *c = ch->conn;
  if (c)
    {
      c->ch = NULL;
      conn_teardown (c);
    }
  else
    pending_remove (ch);
  /* Its fd closes next: a listener paused at the fd limit may resume. */
  if (ch->sock->on_channel_closed)
    ch->sock->on_channel_closed (ch->sock);
}

/* Accepted channels carry no interface until INIT: they are a master's. */
static const channel_ops_t master_ops = {
  .on_msg = master_on_msg,
  .on_error = on_channel_error,
  .on_close = on_channel_close,
};

static const channel_ops_t slave_ops = {
  .on_msg = slave_on_msg,
  .on_error = on_channel_error,
  .on_close = on_channel_close,
};

static memif_channel_t *
handshake_new (memif_socket_t *s, int fd, enum channel_state st,
	       const channel_ops_t *ops)
{
  uint64_t now = mono_ms ();
  memif_channel_t *ch = (memif_channel_t *)
    channel_open (&s->reg, fd, sizeof (*ch), ops);
  if (!ch)
    return NULL;
  ch->sock = s;
  ch->state = st;
  ch->started = now;
  return ch;
}

memif_channel_t *
handshake_accept (memif_socket_t *s, int fd)
{
  memif_channel_t *ch = handshake_new (s, fd, CH_M_WAIT_INIT, &master_ops);
  if (!ch)
    {
      close (fd);
      return NULL;
    }
  ch->next = s->pending;
  s->pending = ch;
  mw_msg_t m = {.type = MW_MSG_HELLO };
  memcpy (m.hello.name, s->app_name, sizeof (m.hello.name));
  m.hello.min_version = MEMIF_VERSION;
  m.hello.max_version = MEMIF_VERSION;
  /* HELLO carries the highest valid index, not a count. */
  m.hello.max_region = MW_MAX_REGIONS - 1;
  m.hello.max_m2s_ring = MW_MAX_RINGS - 1;
  m.hello.max_s2m_ring = MW_MAX_RINGS - 1;
  m.hello.max_log2_ring_size = MW_MAX_LOG2_RING;
  if (channel_send (&ch->link, &m, -1))
    {
      channel_close (&ch->link);
      return NULL;
    }
  return ch;
}

int
handshake_connect (memif_conn_t *c)
{
  memif_socket_t *s = c->sock;
  if (c->ch)
    return MEMIF_ERR_ALREADY;
  /* Non-blocking from the start: a master with a full backlog answers
   * EAGAIN instead of stalling the event loop; the timer retries. */
  int fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return err_from_errno (errno);
  if (connect (fd, (struct sockaddr *) &s->addr, s->addrlen) < 0)
    {
      int err = err_from_errno (errno);
      close (fd);
      return err;
    }
  memif_channel_t *ch = handshake_new (s, fd, CH_S_WAIT_HELLO, &slave_ops);
  if (!ch)
    {
      close (fd);
      return MEMIF_ERR_NOMEM;
    }
  ch->conn = c;
  c->ch = ch;
  c->state = CONN_HANDSHAKE;
  c->announced = true;		/* upstream: a slave's channel ends in on_disconnect */
  return MEMIF_ERR_SUCCESS;
}

/* Fails ch if its handshake is overdue; else folds when it will be into
 * *next. */
static void
expire_one (memif_channel_t *ch, uint64_t now, uint64_t *next)
{
  uint64_t at = ch->started + ch->sock->handshake_ms;
  if (now >= at)
    channel_fail (&ch->link, MEMIF_ERR_SYSCALL, "handshake timed out");
  else if (!*next || at < *next)
    *next = at;
}

uint64_t
handshake_expire (memif_socket_t *s, uint64_t now)
{
  uint64_t next = 0;
  memif_channel_t *todo, *following;
  for (todo = s->pending; todo; todo = following)
    {
      following = todo->next;	/* todo may be freed below */
      expire_one (todo, now, &next);
    }
  for (memif_conn_t * c = s->conns; c; c = c->next)
    if (c->ch && c->ch->state != CH_UP)
      expire_one (c->ch, now, &next);
  return next;
}
