//go:build !libmemif_system

/* fdreg.c - the fd registry and its dispatcher. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fdreg.h"

int
fdreg_open (fdreg_t *r, const mem_t *mem,
	    memif_control_fd_update_t *on_fd_update, void *ctx)
{
  *r = (fdreg_t)
  {
  .mem = mem,.on_fd_update = on_fd_update,.ctx = ctx,.epfd = -1,.cancel_fd =
      -1};
  if (on_fd_update)
    return 0;
  r->epfd = epoll_create1 (EPOLL_CLOEXEC);
  r->cancel_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN,.data.ptr = NULL };
  if (r->epfd >= 0 && r->cancel_fd >= 0
      && epoll_ctl (r->epfd, EPOLL_CTL_ADD, r->cancel_fd, &ev) == 0)
    return 0;
  int err = err_from_errno (errno);
  fdreg_close (r);
  return err ? err : MEMIF_ERR_SYSCALL;
}

void
fdreg_close (fdreg_t *r)
{
  if (r->epfd >= 0)
    close (r->epfd);
  if (r->cancel_fd >= 0)
    close (r->cancel_fd);
  r->epfd = r->cancel_fd = -1;
}

/* Starts (add) or stops telling whoever runs the event loop about e's fd.
 * The entry is the private_ctx handed back to memif_control_fd_handler. */
static int
fd_ctl (fdreg_t *r, fd_entry_t *e, bool add)
{
  if (r->on_fd_update)
    {
      memif_fd_event_t fde = {.fd = e->fd,
	.type = add ? MEMIF_FD_EVENT_READ : MEMIF_FD_EVENT_DEL,
	.private_ctx = e
      };
      return r->on_fd_update (fde, r->ctx) < 0 ? -1 : 0;
    }
  struct epoll_event ev = {.events = EPOLLIN,.data.ptr = e };
  return epoll_ctl (r->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, e->fd,
		    add ? &ev : NULL);
}

fd_entry_t *
fd_watch (fdreg_t *r, int fd, bool borrowed, fd_handler_t *on_event,
	  void *data, uint16_t arg)
{
  fd_entry_t *e = mem_alloc (r->mem, sizeof (*e));
  if (!e)
    return NULL;
  e->fd = fd;
  e->on_event = on_event;
  e->data = data;
  e->arg = arg;
  e->borrowed = borrowed;
  if (fd_ctl (r, e, true) < 0)
    {
      mem_free (r->mem, e);
      return NULL;
    }
  return e;
}

void
fd_unwatch (fdreg_t *r, fd_entry_t *e)
{
  if (!e)
    return;
  if (!e->paused)
    fd_ctl (r, e, false);
  if (!e->borrowed)
    close (e->fd);
  mem_free (r->mem, e);
}

void
fd_pause (fdreg_t *r, fd_entry_t *e)
{
  if (e->paused)
    return;
  fd_ctl (r, e, false);
  e->paused = true;
}

int
fd_resume (fdreg_t *r, fd_entry_t *e)
{
  if (!e->paused)
    return 0;
  if (fd_ctl (r, e, true) < 0)
    return -1;
  e->paused = false;
  return 0;
}

int
memif_control_fd_handler (void *ptr, memif_fd_event_type_t events)
{
  fd_entry_t *e = ptr;
  if (!e)
    return MEMIF_ERR_INVAL_ARG;
  return e->on_event (e, events);
}

int
fdreg_poll (fdreg_t *r, int timeout)
{
  if (r->epfd < 0)
    return MEMIF_ERR_INVAL_ARG;
  struct epoll_event ev;
  int n = epoll_wait (r->epfd, &ev, 1, timeout);
  if (n < 0)
    return errno == EINTR ? MEMIF_ERR_SUCCESS : err_from_errno (errno);
  if (n == 0)
    return MEMIF_ERR_SUCCESS;
  if (!ev.data.ptr)
    {
      uint64_t v;
      if (read (r->cancel_fd, &v, sizeof (v)) < 0)
	(void) 0;
      return MEMIF_ERR_POLL_CANCEL;
    }
  uint32_t events = 0;
  if (ev.events & EPOLLIN)
    events |= MEMIF_FD_EVENT_READ;
  if (ev.events & EPOLLOUT)
    events |= MEMIF_FD_EVENT_WRITE;
  if (ev.events & (EPOLLERR | EPOLLHUP))
    events |= MEMIF_FD_EVENT_ERROR;
  return memif_control_fd_handler (ev.data.ptr, events);
}

int
fdreg_cancel (fdreg_t *r)
{
  uint64_t one = 1;
  if (r->cancel_fd < 0)
    return MEMIF_ERR_INVAL_ARG;
  if (write (r->cancel_fd, &one, sizeof (one)) != sizeof (one))
    return err_from_errno (errno);
  return MEMIF_ERR_SUCCESS;
}
