//go:build !libmemif_system

/* channel.c - the control channel's datagrams, fds and end. */
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channel.h"

/* Room for the credentials the master's SO_PASSCRED adds and for a few fds:
 * a peer that sends more than one fd has the extras closed, not leaked. */
#define CMSG_ROOM (CMSG_SPACE (sizeof (struct ucred)) + CMSG_SPACE (8 * sizeof (int)))

int
channel_send (channel_t *ch, const mw_msg_t *m, int fd)
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

void
channel_close (channel_t *ch)
{
  fdreg_t *reg = ch->reg;
  ch->ops->on_close (ch);
  fd_unwatch (reg, ch->ent);
  mem_free (reg->mem, ch);
}

void
channel_fail (channel_t *ch, int err, const char *fmt, ...)
{
  mw_msg_t m = {.type = MW_MSG_DISCONNECT };
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (m.disconnect.reason, sizeof (m.disconnect.reason), fmt, ap);
  va_end (ap);
  m.disconnect.code = (uint32_t) err;
  /* Record locally first: once the peer has the reason, a watcher of both
   * ends may look here. */
  ch->ops->on_error (ch, err, m.disconnect.reason);
  channel_send (ch, &m, -1);
  channel_close (ch);
}

void
channel_hang_up (channel_t *ch, const char *reason)
{
  mw_msg_t m = {.type = MW_MSG_DISCONNECT };
  m.disconnect.code = MEMIF_ERR_SUCCESS;
  snprintf (m.disconnect.reason, sizeof (m.disconnect.reason), "%s", reason);
  channel_send (ch, &m, -1);
  channel_close (ch);
}

/* Reads one datagram with its ancillary data. Returns the payload length, 0
 * when the peer closed, -1 on error; *fd gets the first fd passed, if any. */
static ssize_t
channel_recv (channel_t *ch, uint8_t *buf, size_t len, int *fd,
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

/* The channel ends without a DISCONNECT of ours: err and reason go to
 * on_error, an fd that came along is closed. */
static void
channel_ended (channel_t *ch, int fd, int err, const char *reason)
{
  if (fd >= 0)
    close (fd);
  ch->ops->on_error (ch, err, reason);
  channel_close (ch);
}

static int
channel_on_fd (fd_entry_t *e, uint32_t events)
{
  channel_t *ch = e->data;
  uint8_t buf[MW_MSG_SIZE + 1];
  int fd;
  bool trunc;
  ssize_t n = channel_recv (ch, buf, sizeof (buf), &fd, &trunc);
  if (n < 0)
    {
      if (errno != EAGAIN || (events & MEMIF_FD_EVENT_ERROR))
	channel_ended (ch, fd, MEMIF_ERR_DISCONNECTED,
		       "control channel error");
      return MEMIF_ERR_SUCCESS;
    }
  if (n == 0)			/* SEQPACKET: an empty datagram is a hang-up */
    {
      channel_ended (ch, fd, MEMIF_ERR_DISCONNECTED,
		     "peer closed the control channel");
      return MEMIF_ERR_SUCCESS;
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
    }
  else if (m.type == MW_MSG_DISCONNECT)
    channel_ended (ch, fd, MEMIF_ERR_DISCONNECT, m.disconnect.reason);
  else
    ch->ops->on_msg (ch, &m, fd);	/* it owns fd from here */
  return MEMIF_ERR_SUCCESS;
}

channel_t *
channel_open (fdreg_t *reg, int fd, size_t size, const channel_ops_t *ops)
{
  channel_t *ch = mem_alloc (reg->mem, size);
  if (!ch)
    return NULL;
  ch->reg = reg;
  ch->ops = ops;
  ch->ent = fd_watch (reg, fd, false, channel_on_fd, ch, 0);
  if (!ch->ent)
    {
      mem_free (reg->mem, ch);
      return NULL;
    }
  return ch;
}
