//go:build !libmemif_system

/* channel.c - the control channel: one SOCK_SEQPACKET connection, one
 * 128-byte message per datagram, at most one fd per message. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "private.h"

/* Room for the credentials the master's SO_PASSCRED adds and for a few fds:
 * a peer that sends more than one fd has the extras closed, not leaked. */
#define CMSG_ROOM (CMSG_SPACE (sizeof (struct ucred)) + CMSG_SPACE (8 * sizeof (int)))

int
channel_send (memif_channel_t *ch, const mw_msg_t *m, int fd)
{
  uint8_t buf[MW_MSG_SIZE];
  if (mw_encode (m, buf) < 0)
    return MEMIF_ERR_INVAL_ARG;
  struct iovec iov = {.iov_base = buf,.iov_len = sizeof (buf) };
  union
  {
    struct cmsghdr align;
    char room[CMSG_SPACE (sizeof (int))];
  } ctl;
  struct msghdr mh = {.msg_iov = &iov,.msg_iovlen = 1 };
  if (fd >= 0)
    {
      memset (&ctl, 0, sizeof (ctl));
      mh.msg_control = ctl.room;
      mh.msg_controllen = sizeof (ctl.room);
      struct cmsghdr *cm = CMSG_FIRSTHDR (&mh);
      cm->cmsg_level = SOL_SOCKET;
      cm->cmsg_type = SCM_RIGHTS;
      cm->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (cm), &fd, sizeof (int));
    }
  ssize_t n;
  do
    n = sendmsg (ch->ent->fd, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t) sizeof (buf) ? 0 : err_from_errno (errno);
}

static memif_channel_t *
channel_new (memif_socket_t *s, int fd, enum channel_state st)
{
  memif_channel_t *ch = mem_alloc (s, sizeof (*ch));
  if (!ch)
    return NULL;
  ch->sock = s;
  ch->state = st;
  ch->started = mono_ms ();
  ch->ent = fd_watch (s, fd, FD_CONTROL, ch, 0);
  if (!ch->ent)
    {
      mem_free (s, ch);
      return NULL;
    }
  deadline_arm (s, ch->started + s->handshake_ms);
  return ch;
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

void
channel_accept (memif_socket_t *s)
{
  int fd = accept4 (s->listener->fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS
	  || errno == ENOMEM)
	listener_pause (s, err_from_errno (errno));
      return;
    }
  memif_channel_t *ch = channel_new (s, fd, CH_M_WAIT_INIT);
  if (!ch)
    {
      close (fd);
      return;
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
  if (channel_send (ch, &m, -1))
    channel_close (ch);
}

int
channel_connect (memif_conn_t *c)
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
  memif_channel_t *ch = channel_new (s, fd, CH_S_WAIT_HELLO);
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

uint64_t
mono_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

void
report_error (memif_socket_t *s, memif_conn_t *c, int err, const char *reason)
{
  char *dst = c ? c->error : s->last_error;
  snprintf (dst, MW_REASON_LEN + 1, "%s", reason);
  if (s->on_error)
    s->on_error (c, c ? c->private_ctx : s->private_ctx, err, reason);
}

/* Closes the channel without a message; the bound interface goes down. */
void
channel_close (memif_channel_t *ch)
{
  memif_socket_t *s = ch->sock;
  memif_conn_t *c = ch->conn;
  if (c)
    {
      c->ch = NULL;
      conn_teardown (c);
    }
  else
    pending_remove (ch);
  fd_unwatch (s, ch->ent);
  mem_free (s, ch);
  /* An fd came free: a listener paused at the fd limit may accept again. */
  listener_resume (s);
}

/* Ends with a DISCONNECT every handshake (either role, any state before
 * CONNECTED) that has run for the socket's timeout, and returns when the
 * next one is due, 0 when none is under way. */
uint64_t
channel_expire (memif_socket_t *s, uint64_t now)
{
  uint64_t next = 0;
  memif_channel_t *todo, *following;
  for (todo = s->pending; todo; todo = following)
    {
      following = todo->next;	/* todo may be freed below */
      uint64_t at = todo->started + s->handshake_ms;
      if (now >= at)
	channel_fail (todo, MEMIF_ERR_SYSCALL, "handshake timed out");
      else if (!next || at < next)
	next = at;
    }
  for (memif_conn_t * c = s->conns; c; c = c->next)
    {
      if (!c->ch || c->ch->state == CH_UP)
	continue;
      uint64_t at = c->ch->started + s->handshake_ms;
      if (now >= at)
	channel_fail (c->ch, MEMIF_ERR_SYSCALL, "handshake timed out");
      else if (!next || at < next)
	next = at;
    }
  return next;
}

/* Refuses or ends the session: the reason goes to the peer in DISCONNECT
 * and to the local error callback, then the channel closes. */
void
channel_fail (memif_channel_t *ch, int err, const char *fmt, ...)
{
  mw_msg_t m = {.type = MW_MSG_DISCONNECT };
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (m.disconnect.reason, sizeof (m.disconnect.reason), fmt, ap);
  va_end (ap);
  m.disconnect.code = (uint32_t) err;
  /* Record locally first: once the peer has the reason, a watcher of both
   * ends may look here. */
  report_error (ch->sock, ch->conn, err, m.disconnect.reason);
  channel_send (ch, &m, -1);
  channel_close (ch);
}

/* Reads one datagram with its ancillary data. Returns the payload length, 0
 * when the peer closed, -1 on error; *fd gets the first fd passed, if any. */
static ssize_t
channel_recv (memif_channel_t *ch, uint8_t *buf, size_t len, int *fd,
	      bool *truncated)
{
  union
  {
    struct cmsghdr align;
    char room[CMSG_ROOM];
  } ctl;
  struct iovec iov = {.iov_base = buf,.iov_len = len };
  struct msghdr mh = {.msg_iov = &iov,.msg_iovlen = 1,
    .msg_control = ctl.room,.msg_controllen = sizeof (ctl.room)
  };
  ssize_t n;
  do
    n = recvmsg (ch->ent->fd, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  *fd = -1;
  *truncated = n >= 0 && (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC));
  if (n < 0)
    return -1;
  /* Walk every control message: credentials come first on a master. */
  for (struct cmsghdr * cm = CMSG_FIRSTHDR (&mh); cm;
       cm = CMSG_NXTHDR (&mh, cm))
    {
      if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
	continue;
      size_t nfd = (cm->cmsg_len - CMSG_LEN (0)) / sizeof (int);
      for (size_t i = 0; i < nfd; i++)
	{
	  int f;
	  memcpy (&f, CMSG_DATA (cm) + i * sizeof (int), sizeof (int));
	  if (*fd < 0)
	    *fd = f;
	  else
	    {
	      close (f);
	      *truncated = true;
	    }
	}
    }
  return n;
}

void
channel_on_event (memif_channel_t *ch, uint32_t events)
{
  uint8_t buf[MW_MSG_SIZE + 1];
  int fd;
  bool trunc;
  ssize_t n = channel_recv (ch, buf, sizeof (buf), &fd, &trunc);
  if (n < 0)
    {
      if (errno == EAGAIN && !(events & MEMIF_FD_EVENT_ERROR))
	return;
      report_error (ch->sock, ch->conn, MEMIF_ERR_DISCONNECTED,
		    "control channel error");
      channel_close (ch);
      return;
    }
  if (n == 0)
    {
      /* SEQPACKET: an empty datagram reads as a hang-up, and may still
       * carry an fd. */
      if (fd >= 0)
	close (fd);
      report_error (ch->sock, ch->conn, MEMIF_ERR_DISCONNECTED,
		    "peer closed the control channel");
      channel_close (ch);
      return;
    }
  mw_msg_t m;
  int err = trunc ? MEMIF_ERR_MFMSG : mw_decode (buf, (size_t) n, &m);
  if (err)
    {
      if (fd >= 0)
	close (fd);
      if (err == MEMIF_ERR_UNKNOWN_MSG)
	channel_fail (ch, err, "unknown message type %u",
		      (unsigned) (buf[0] | (buf[1] << 8)));
      else
	channel_fail (ch, err, "malformed control message (%zd bytes)", n);
      return;
    }
  if (m.type == MW_MSG_DISCONNECT)
    {
      if (fd >= 0)
	close (fd);
      report_error (ch->sock, ch->conn, MEMIF_ERR_DISCONNECT,
		    m.disconnect.reason);
      channel_close (ch);
      return;
    }
  /* The handlers own fd from here: they keep it or close it. */
  /* Accepted channels carry no interface until INIT: they are a master's. */
  if (!ch->conn || ch->conn->args.is_master)
    master_on_msg (ch, &m, fd);
  else
    slave_on_msg (ch, &m, fd);
}
