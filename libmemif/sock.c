//go:build !libmemif_system

/* sock.c - memif sockets: fd registry, event loop, listener, retry and
 * deadline timers. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "private.h"

void *
mem_alloc (memif_socket_t *s, size_t n)
{
  void *p = s && s->alloc ? s->alloc (n) : malloc (n);
  if (p)
    memset (p, 0, n);
  return p;
}

void
mem_free (memif_socket_t *s, void *p)
{
  if (!p)
    return;
  if (s && s->free)
    s->free (p);
  else
    free (p);
}

int
err_from_errno (int e)
{
  switch (e)
    {
    case 0:
      return MEMIF_ERR_SUCCESS;
    case EACCES:
    case EPERM:
      return MEMIF_ERR_ACCES;
    case ENOENT:
      return MEMIF_ERR_NO_FILE;
    case ECONNREFUSED:
      return MEMIF_ERR_CONNREFUSED;
    case ENFILE:
      return MEMIF_ERR_FILE_LIMIT;
    case EMFILE:
      return MEMIF_ERR_PROC_FILE_LIMIT;
    case ENOMEM:
      return MEMIF_ERR_NOMEM;
    case EALREADY:
    case EADDRINUSE:
      return MEMIF_ERR_ALREADY;
    case EAGAIN:
      return MEMIF_ERR_AGAIN;
    case EBADF:
      return MEMIF_ERR_BAD_FD;
    case ENOTSOCK:
      return MEMIF_ERR_FILE_NOT_SOCK;
    default:
      return MEMIF_ERR_SYSCALL;
    }
}

/* Starts (add) or stops telling whoever runs the event loop about e's fd.
 * The entry is the private_ctx handed back to memif_control_fd_handler. */
static int
fd_ctl (memif_socket_t *s, fd_entry_t *e, bool add)
{
  if (s->on_fd_update)
    {
      memif_fd_event_t fde = {.fd = e->fd,
	.type = add ? MEMIF_FD_EVENT_READ : MEMIF_FD_EVENT_DEL,
	.private_ctx = e
      };
      return s->on_fd_update (fde, s->private_ctx) < 0 ? -1 : 0;
    }
  struct epoll_event ev = {.events = EPOLLIN,.data.ptr = e };
  return epoll_ctl (s->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, e->fd,
		    add ? &ev : NULL);
}

/* Tells whoever runs the event loop to watch fd. */
fd_entry_t *
fd_watch (memif_socket_t *s, int fd, int kind, void *owner, uint16_t qid)
{
  fd_entry_t *e = mem_alloc (s, sizeof (*e));
  if (!e)
    return NULL;
  e->fd = fd;
  e->kind = kind;
  e->owner = owner;
  e->qid = qid;
  if (fd_ctl (s, e, true) < 0)
    {
      mem_free (s, e);
      return NULL;
    }
  return e;
}

/* Stops watching and closes the fd, then frees the entry. */
void
fd_unwatch (memif_socket_t *s, fd_entry_t *e)
{
  if (!e)
    return;
  fd_ctl (s, e, false);
  if (e->kind != FD_INTERRUPT)	/* interrupt fds belong to their queue */
    close (e->fd);
  mem_free (s, e);
}

static int
parse_path (memif_socket_t *s, const char *path)
{
  const char *name = path;
  size_t max = sizeof (s->addr.sun_path);
  memset (&s->addr, 0, sizeof (s->addr));
  s->addr.sun_family = AF_UNIX;
  s->abstract = path[0] == '@' || path[0] == 0;
  if (s->abstract)
    {
      /* Abstract names: a leading NUL and exactly the name's bytes, no
       * padding, as DPDK and libmemif bind them. */
      name = path + 1;
      size_t n = strnlen (name, max - 1);
      if (n == 0 || n >= max - 1)
	return MEMIF_ERR_INVAL_ARG;
      memcpy (s->addr.sun_path + 1, name, n);
      s->addrlen = offsetof (struct sockaddr_un, sun_path) + 1 + n;
    }
  else
    {
      size_t n = strnlen (name, max);
      if (n == 0 || n >= max)
	return MEMIF_ERR_INVAL_ARG;
      memcpy (s->addr.sun_path, name, n);
      s->addrlen = offsetof (struct sockaddr_un, sun_path) + n + 1;
    }
  return 0;
}

int
memif_create_socket (memif_socket_handle_t *sock, memif_socket_args_t *args,
		     void *private_ctx)
{
  if (!sock || !args)
    return MEMIF_ERR_INVAL_ARG;
  memif_socket_t tmp = {.alloc = args->alloc,.free = args->free };
  memif_socket_t *s = mem_alloc (&tmp, sizeof (*s));
  if (!s)
    return MEMIF_ERR_NOMEM;
  s->alloc = args->alloc;
  s->realloc = args->realloc;
  s->free = args->free;
  memcpy (s->path, args->path, sizeof (s->path));
  s->path[sizeof (s->path) - 1] = 0;
  int err = parse_path (s, args->path);
  if (err)
    {
      mem_free (&tmp, s);
      return err;
    }
  size_t an = strnlen (args->app_name, sizeof (args->app_name));
  memcpy (s->app_name, an ? args->app_name : MEMIF_DEFAULT_APP_NAME,
	  an ? an : strlen (MEMIF_DEFAULT_APP_NAME));
  s->timer_spec = args->connection_request_timer;
  s->on_fd_update = args->on_control_fd_update;
  s->private_ctx = private_ctx;
  s->epfd = -1;
  s->cancel_fd = -1;

  if (!s->on_fd_update)
    {
      s->epfd = epoll_create1 (EPOLL_CLOEXEC);
      s->cancel_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
      struct epoll_event ev = {.events = EPOLLIN,.data.ptr = NULL };
      if (s->epfd < 0 || s->cancel_fd < 0
	  || epoll_ctl (s->epfd, EPOLL_CTL_ADD, s->cancel_fd, &ev) < 0)
	goto fail;
    }
  int wfd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wfd < 0)
    goto fail;
  s->work = fd_watch (s, wfd, FD_WORK, s, 0);
  if (!s->work)
    {
      close (wfd);
      goto fail;
    }
  /* Made now, not when first needed: the accept back-off needs it exactly
   * when no fd can be had. */
  int dfd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (dfd < 0)
    goto fail;
  s->deadline = fd_watch (s, dfd, FD_DEADLINE, s, 0);
  if (!s->deadline)
    {
      close (dfd);
      goto fail;
    }
  s->handshake_ms = HANDSHAKE_TIMEOUT_MS;
  *sock = s;
  return MEMIF_ERR_SUCCESS;

fail:
  err = err_from_errno (errno);
  if (s->work)
    fd_unwatch (s, s->work);
  fd_unwatch (s, s->deadline);
  if (s->epfd >= 0)
    close (s->epfd);
  if (s->cancel_fd >= 0)
    close (s->cancel_fd);
  mem_free (&tmp, s);
  return err ? err : MEMIF_ERR_SYSCALL;
}

int
memif_delete_socket (memif_socket_handle_t *sock)
{
  if (!sock || !*sock)
    return MEMIF_ERR_INVAL_ARG;
  memif_socket_t *s = *sock;
  if (s->conns)
    return MEMIF_ERR_INVAL_ARG;	/* interfaces still use it */
  while (s->pending)
    channel_close (s->pending);
  listener_close (s);
  if (s->timer)
    fd_unwatch (s, s->timer);
  fd_unwatch (s, s->work);
  fd_unwatch (s, s->deadline);
  if (s->epfd >= 0)
    close (s->epfd);
  if (s->cancel_fd >= 0)
    close (s->cancel_fd);
  mem_free (s, s);
  *sock = NULL;
  return MEMIF_ERR_SUCCESS;
}

const char *
memif_get_socket_path (memif_socket_handle_t sock)
{
  return sock ? ((memif_socket_t *) sock)->path : NULL;
}

int
memif_get_listener_fd (memif_socket_handle_t sock)
{
  memif_socket_t *s = sock;
  return s && s->listener ? s->listener->fd : -1;
}

int
memif_set_error_callback (memif_socket_handle_t sock,
			  memif_on_error_t *on_error)
{
  if (!sock)
    return MEMIF_ERR_INVAL_ARG;
  ((memif_socket_t *) sock)->on_error = on_error;
  return MEMIF_ERR_SUCCESS;
}

/* A socket file left by a dead master is removed; a live one, or a file that
 * is not a socket, is an error. */
static int
clear_stale_path (memif_socket_t *s)
{
  struct stat st;
  if (s->abstract || stat (s->path, &st) < 0)
    return 0;
  if (!S_ISSOCK (st.st_mode))
    return MEMIF_ERR_FILE_NOT_SOCK;
  int fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return err_from_errno (errno);
  int r = connect (fd, (struct sockaddr *) &s->addr, s->addrlen);
  int e = errno;
  close (fd);
  if (r == 0)
    return MEMIF_ERR_ALREADY;
  if (e == ECONNREFUSED)
    unlink (s->path);
  return 0;
}

int
listener_open (memif_socket_t *s)
{
  if (s->listener)
    return 0;
  int err = clear_stale_path (s);
  if (err)
    return err;
  int fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return err_from_errno (errno);
  int on = 1;
  if (setsockopt (fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof (on)) < 0
      || bind (fd, (struct sockaddr *) &s->addr, s->addrlen) < 0
      || listen (fd, 16) < 0)
    {
      err = err_from_errno (errno);
      close (fd);
      return err;
    }
  s->listener = fd_watch (s, fd, FD_LISTENER, s, 0);
  if (!s->listener)
    {
      close (fd);
      if (!s->abstract)
	unlink (s->path);
      return MEMIF_ERR_CB_FDUPDATE;
    }
  return 0;
}

void
listener_close (memif_socket_t *s)
{
  if (!s->listener)
    return;
  if (s->listener_paused)	/* not watched: only closed */
    {
      close (s->listener->fd);
      mem_free (s, s->listener);
    }
  else
    fd_unwatch (s, s->listener);
  s->listener = NULL;
  s->listener_paused = false;
  if (!s->abstract)
    unlink (s->path);
}

/* At the fd limit accept fails while the listener stays readable: rather
 * than spin on it, stop watching it until ACCEPT_BACKOFF_MS pass or a
 * channel closes, whichever comes first. */
void
listener_pause (memif_socket_t *s, int err)
{
  if (!s->listener || s->listener_paused)
    return;
  fd_ctl (s, s->listener, false);
  s->listener_paused = true;
  s->listener_resume_at = mono_ms () + ACCEPT_BACKOFF_MS;
  deadline_arm (s, s->listener_resume_at);
  report_error (s, NULL, err, "cannot accept: out of file descriptors");
}

void
listener_resume (memif_socket_t *s)
{
  if (!s->listener || !s->listener_paused)
    return;
  if (fd_ctl (s, s->listener, true) < 0)
    {
      /* Try again later rather than lose the listener. */
      s->listener_resume_at = mono_ms () + ACCEPT_BACKOFF_MS;
      deadline_arm (s, s->listener_resume_at);
      return;
    }
  s->listener_paused = false;
}

/* Arms the deadline timer for at (ms on CLOCK_MONOTONIC) unless it is
 * already due earlier. Deadlines are never withdrawn: a handshake that
 * finishes in time leaves a wake-up that finds nothing to do. */
void
deadline_arm (memif_socket_t *s, uint64_t at)
{
  if (!s->deadline || (s->deadline_at && s->deadline_at <= at))
    return;
  if (!at)
    at = 1;			/* an all-zero it_value would disarm */
  struct itimerspec t = {.it_value = {.tv_sec = (time_t) (at / 1000),
				      .tv_nsec = (long) (at % 1000) * 1000000}
  };
  if (timerfd_settime (s->deadline->fd, TFD_TIMER_ABSTIME, &t, NULL) == 0)
    s->deadline_at = at;
}

static void
on_deadline (memif_socket_t *s)
{
  uint64_t n;
  if (read (s->deadline->fd, &n, sizeof (n)) < 0 && errno == EAGAIN)
    return;
  s->deadline_at = 0;
  uint64_t now = mono_ms ();
  if (s->listener_paused && now >= s->listener_resume_at)
    listener_resume (s);
  uint64_t next = channel_expire (s, now);
  if (s->listener_paused && (!next || s->listener_resume_at < next))
    next = s->listener_resume_at;
  if (next)
    deadline_arm (s, next);
}

int
memif_set_handshake_timeout (memif_socket_handle_t sock, uint32_t ms)
{
  memif_socket_t *s = sock;
  if (!s)
    return MEMIF_ERR_INVAL_ARG;
  s->handshake_ms = ms ? ms : HANDSHAKE_TIMEOUT_MS;
  /* Handshakes already under way are held to the new value. */
  uint64_t next = channel_expire (s, mono_ms ());
  if (next)
    deadline_arm (s, next);
  return MEMIF_ERR_SUCCESS;
}

int
timer_arm (memif_socket_t *s)
{
  const struct itimerspec *t = &s->timer_spec;
  bool off = !t->it_value.tv_sec && !t->it_value.tv_nsec;
  if (off)
    {
      if (s->timer)
	fd_unwatch (s, s->timer);
      s->timer = NULL;
      return 0;
    }
  if (!s->timer)
    {
      int fd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
      if (fd < 0)
	return err_from_errno (errno);
      s->timer = fd_watch (s, fd, FD_TIMER, s, 0);
      if (!s->timer)
	{
	  close (fd);
	  return MEMIF_ERR_CB_FDUPDATE;
	}
    }
  if (timerfd_settime (s->timer->fd, 0, t, NULL) < 0)
    return err_from_errno (errno);
  return 0;
}

int
memif_set_connection_request_timer (memif_socket_handle_t sock,
				    struct itimerspec timer)
{
  memif_socket_t *s = sock;
  if (!s)
    return MEMIF_ERR_INVAL_ARG;
  s->timer_spec = timer;
  return socket_serves (s, false) ? timer_arm (s) : 0;
}

static void
on_timer (memif_socket_t *s)
{
  uint64_t n;
  if (read (s->timer->fd, &n, sizeof (n)) < 0 && errno == EAGAIN)
    return;
  /* Handshakes that stall are ended by the deadline timer. */
  for (memif_conn_t * c = s->conns; c; c = c->next)
    if (!c->args.is_master && c->state == CONN_DOWN && !c->ch)
      channel_connect (c);
}

/* Faults found by the data path are turned into disconnects here, on the
 * control path, so a data-path call never tears down what it is using. */
static void
on_work (memif_socket_t *s)
{
  uint64_t n;
  if (read (s->work->fd, &n, sizeof (n)) < 0 && errno == EAGAIN)
    return;
  for (memif_conn_t * c = s->conns; c; c = c->next)
    if (c->fault && c->ch)
      channel_fail (c->ch, c->fault_err, "%s", c->fault_reason);
}

int
memif_control_fd_handler (void *ptr, memif_fd_event_type_t events)
{
  fd_entry_t *e = ptr;
  if (!e)
    return MEMIF_ERR_INVAL_ARG;
  switch (e->kind)
    {
    case FD_LISTENER:
      channel_accept (e->owner);
      break;
    case FD_CONTROL:
      channel_on_event (e->owner, events);
      break;
    case FD_TIMER:
      on_timer (e->owner);
      break;
    case FD_WORK:
      on_work (e->owner);
      break;
    case FD_DEADLINE:
      on_deadline (e->owner);
      break;
    case FD_INTERRUPT:
      {
	/* Upstream hands the application's return back to its loop. */
	memif_conn_t *c = e->owner;
	return c->on_interrupt ? c->on_interrupt (c, c->private_ctx, e->qid)
	  : MEMIF_ERR_SUCCESS;
      }
    default:
      return MEMIF_ERR_INVAL_ARG;
    }
  return MEMIF_ERR_SUCCESS;
}

int
memif_poll_event (memif_socket_handle_t sock, int timeout)
{
  memif_socket_t *s = sock;
  if (!s || s->epfd < 0)
    return MEMIF_ERR_INVAL_ARG;
  struct epoll_event ev;
  int n = epoll_wait (s->epfd, &ev, 1, timeout);
  if (n < 0)
    return errno == EINTR ? MEMIF_ERR_SUCCESS : err_from_errno (errno);
  if (n == 0)
    return MEMIF_ERR_SUCCESS;
  if (!ev.data.ptr)
    {
      uint64_t v;
      if (read (s->cancel_fd, &v, sizeof (v)) < 0)
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
memif_cancel_poll_event (memif_socket_handle_t sock)
{
  memif_socket_t *s = sock;
  uint64_t one = 1;
  if (!s || s->cancel_fd < 0)
    return MEMIF_ERR_INVAL_ARG;
  if (write (s->cancel_fd, &one, sizeof (one)) != sizeof (one))
    return err_from_errno (errno);
  return MEMIF_ERR_SUCCESS;
}
