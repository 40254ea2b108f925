//go:build !libmemif_system

/* sock.c - memif sockets: create and delete, listener, connect timer,
 * handshake deadlines, deferred faults, the engine's own event loop. */
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "sock.h"
#include "handshake.h"

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

/* The path and the application's name. */
static int
socket_names (memif_socket_t *s, const memif_socket_args_t *args)
{
  memcpy (s->path, args->path, sizeof (s->path));
  s->path[sizeof (s->path) - 1] = 0;
  int err = parse_path (s, args->path);
  if (err)
    return err;
  size_t an = strnlen (args->app_name, sizeof (args->app_name));
  memcpy (s->app_name, an ? args->app_name : MEMIF_DEFAULT_APP_NAME,
	  an ? an : strlen (MEMIF_DEFAULT_APP_NAME));
  return 0;
}

/* Watches fd, just made (or -1 with errno set), for h; closes it when it
 * cannot be watched. */
static fd_entry_t *
watch_new (memif_socket_t *s, int fd, fd_handler_t *h)
{
  if (fd < 0)
    return NULL;
  fd_entry_t *e = fd_watch (&s->reg, fd, false, h, s, 0);
  if (!e)
    close (fd);
  return e;
}

static int on_work (fd_entry_t *e, uint32_t events);
static int on_deadline (fd_entry_t *e, uint32_t events);
static void listener_resume (memif_socket_t *s);
static void channel_closed (memif_socket_t *s);

/* The fds every socket has: its event loop, the work eventfd and the
 * deadline timerfd. The timerfd is made now, not when first needed: the
 * accept back-off needs it exactly when no fd can be had. */
static int
socket_fds (memif_socket_t *s, memif_control_fd_update_t *on_fd_update)
{
  int err = fdreg_open (&s->reg, &s->mem, on_fd_update, s->private_ctx);
  if (err)
    return err;
  s->work = watch_new (s, eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC), on_work);
  if (s->work)
    s->deadline = watch_new (s, timerfd_create (CLOCK_MONOTONIC,
						TFD_NONBLOCK | TFD_CLOEXEC),
			     on_deadline);
  if (s->deadline)
    return 0;
  err = err_from_errno (errno);
  fd_unwatch (&s->reg, s->work);
  fdreg_close (&s->reg);
  return err ? err : MEMIF_ERR_SYSCALL;
}

int
memif_create_socket (memif_socket_handle_t *sock, memif_socket_args_t *args,
		     void *private_ctx)
{
  if (!sock || !args)
    return MEMIF_ERR_INVAL_ARG;
  mem_t mem = {.alloc = args->alloc,.realloc = args->realloc,.free =
      args->free
  };
  memif_socket_t *s = mem_alloc (&mem, sizeof (*s));
  if (!s)
    return MEMIF_ERR_NOMEM;
  s->mem = mem;
  s->private_ctx = private_ctx;
  int err = socket_names (s, args);
  if (!err)
    err = socket_fds (s, args->on_control_fd_update);
  if (err)
    {
      mem_free (&mem, s);
      return err;
    }
  s->timer_spec = args->connection_request_timer;
  s->handshake_ms = HANDSHAKE_TIMEOUT_MS;
  s->on_channel_closed = channel_closed;
  *sock = s;
  return MEMIF_ERR_SUCCESS;
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
    channel_close (&s->pending->link);
  listener_close (s);
  timer_close (s);
  fd_unwatch (&s->reg, s->work);
  fd_unwatch (&s->reg, s->deadline);
  fdreg_close (&s->reg);
  mem_t mem = s->mem;
  mem_free (&mem, s);
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

/* ---- listener ---- */

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

static int on_listener (fd_entry_t *e, uint32_t events);

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
  s->listener = watch_new (s, fd, on_listener);
  if (!s->listener)
    {
      if (!s->abstract)
	unlink (s->path);
      return MEMIF_ERR_CB_FDUPDATE;
    }
  return 0;
}

int
listener_adopt (memif_socket_t *s, int fd)
{
  if (s->listener)
    return MEMIF_ERR_ALREADY;
  s->listener = fd_watch (&s->reg, fd, false, on_listener, s, 0);
  return s->listener ? MEMIF_ERR_SUCCESS : MEMIF_ERR_CB_FDUPDATE;
}

void
listener_close (memif_socket_t *s)
{
  if (!s->listener)
    return;
  fd_unwatch (&s->reg, s->listener);
  s->listener = NULL;
  if (!s->abstract)
    unlink (s->path);
}

static void deadline_arm (memif_socket_t *s, uint64_t at);

static bool
listener_paused (const memif_socket_t *s)
{
  return s->listener && s->listener->paused;
}

/* At the fd limit accept fails while the listener stays readable: rather
 * than spin on it, stop watching it until ACCEPT_BACKOFF_MS pass or a
 * channel closes, whichever comes first. */
static void
listener_pause (memif_socket_t *s, int err)
{
  if (!s->listener || s->listener->paused)
    return;
  fd_pause (&s->reg, s->listener);
  s->listener_resume_at = mono_ms () + ACCEPT_BACKOFF_MS;
  deadline_arm (s, s->listener_resume_at);
  report_error (s, NULL, err, "cannot accept: out of file descriptors");
}

/* An fd came free (a channel closed). */
static void
listener_resume (memif_socket_t *s)
{
  if (!listener_paused (s))
    return;
  if (fd_resume (&s->reg, s->listener) < 0)
    {
      /* Try again later rather than lose the listener. */
      s->listener_resume_at = mono_ms () + ACCEPT_BACKOFF_MS;
      deadline_arm (s, s->listener_resume_at);
    }
}

static int
on_listener (fd_entry_t *e, uint32_t events)
{
  (void) events;
  memif_socket_t *s = e->data;
  int fd = accept4 (e->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS
	  || errno == ENOMEM)
	listener_pause (s, err_from_errno (errno));
      return MEMIF_ERR_SUCCESS;
    }
  memif_channel_t *ch = handshake_accept (s, fd);
  if (ch)
    deadline_arm (s, ch->started + s->handshake_ms);
  return MEMIF_ERR_SUCCESS;
}

/* ---- deadlines ---- */

/* Arms the deadline timer for at (ms on CLOCK_MONOTONIC) unless it is
 * already due earlier. Deadlines are never withdrawn: a handshake that
 * finishes in time leaves a wake-up that finds nothing to do. */
static void
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

static int
on_deadline (fd_entry_t *e, uint32_t events)
{
  (void) events;
  memif_socket_t *s = e->data;
  uint64_t n;
  if (read (e->fd, &n, sizeof (n)) < 0 && errno == EAGAIN)
    return MEMIF_ERR_SUCCESS;
  s->deadline_at = 0;
  uint64_t now = mono_ms ();
  if (listener_paused (s) && now >= s->listener_resume_at)
    listener_resume (s);
  uint64_t next = handshake_expire (s, now);
  if (listener_paused (s) && (!next || s->listener_resume_at < next))
    next = s->listener_resume_at;
  if (next)
    deadline_arm (s, next);
  return MEMIF_ERR_SUCCESS;
}

int
memif_set_handshake_timeout (memif_socket_handle_t sock, uint32_t ms)
{
  memif_socket_t *s = sock;
  if (!s)
    return MEMIF_ERR_INVAL_ARG;
  s->handshake_ms = ms ? ms : HANDSHAKE_TIMEOUT_MS;
  /* Handshakes already under way are held to the new value. */
  uint64_t next = handshake_expire (s, mono_ms ());
  if (next)
    deadline_arm (s, next);
  return MEMIF_ERR_SUCCESS;
}

int
sock_connect (memif_conn_t *c)
{
  int err = handshake_connect (c);
  if (!err)
    deadline_arm (c->sock, c->ch->started + c->sock->handshake_ms);
  return err;
}

/* ---- slaves' connect timer ----
 * It only runs while a slave waits for its master: once every slave is
 * connected or connecting it stops, so idle interfaces cost no wakeups (64
 * slaves on a 50 ms timer spent half a percent of a core). A slave's
 * creation and a channel's close start it again. */

static int on_timer (fd_entry_t *e, uint32_t events);

/* Whether a slave is down with no connection under way. */
static bool
slave_waiting (const memif_socket_t *s)
{
  for (const memif_conn_t * c = s->conns; c; c = c->next)
    if (!c->args.is_master && c->state == CONN_DOWN && !c->ch)
      return true;
  return false;
}

int
timer_arm (memif_socket_t *s)
{
  const struct itimerspec *t = &s->timer_spec;
  if (!t->it_value.tv_sec && !t->it_value.tv_nsec)
    {
      timer_close (s);
      return 0;
    }
  if (!s->timer)
    {
      int fd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
      if (fd < 0)
	return err_from_errno (errno);
      s->timer = watch_new (s, fd, on_timer);
      if (!s->timer)
	return MEMIF_ERR_CB_FDUPDATE;
    }
  if (timerfd_settime (s->timer->fd, 0, t, NULL) < 0)
    return err_from_errno (errno);
  return 0;
}

void
timer_close (memif_socket_t *s)
{
  fd_unwatch (&s->reg, s->timer);
  s->timer = NULL;
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

static int
on_timer (fd_entry_t *e, uint32_t events)
{
  (void) events;
  memif_socket_t *s = e->data;
  uint64_t n;
  if (read (e->fd, &n, sizeof (n)) < 0 && errno == EAGAIN)
    return MEMIF_ERR_SUCCESS;
  /* Handshakes that stall are ended by the deadline timer. */
  for (memif_conn_t * c = s->conns; c; c = c->next)
    if (!c->args.is_master && c->state == CONN_DOWN && !c->ch)
      sock_connect (c);
  if (!slave_waiting (s))
    {
      struct itimerspec stop = { 0 };
      timerfd_settime (e->fd, 0, &stop, NULL);
    }
  return MEMIF_ERR_SUCCESS;
}

/* The socket's on_channel_closed: an fd came free, and the channel's
 * slave, if it had one, waits for its master again. */
static void
channel_closed (memif_socket_t *s)
{
  listener_resume (s);
  if (s->timer && slave_waiting (s))
    timer_arm (s);
}

/* Faults found by the data path are turned into disconnects here, on the
 * control path, so a data-path call never tears down what it is using. */
static int
on_work (fd_entry_t *e, uint32_t events)
{
  (void) events;
  memif_socket_t *s = e->data;
  uint64_t n;
  if (read (e->fd, &n, sizeof (n)) < 0 && errno == EAGAIN)
    return MEMIF_ERR_SUCCESS;
  for (memif_conn_t * c = s->conns; c; c = c->next)
    if (c->fault && c->ch)
      channel_fail (&c->ch->link, c->fault_err, "%s", c->fault_reason);
  return MEMIF_ERR_SUCCESS;
}

/* ---- the engine's own event loop ---- */

int
memif_poll_event (memif_socket_handle_t sock, int timeout)
{
  memif_socket_t *s = sock;
  return s ? fdreg_poll (&s->reg, timeout) : MEMIF_ERR_INVAL_ARG;
}

int
memif_cancel_poll_event (memif_socket_handle_t sock)
{
  memif_socket_t *s = sock;
  return s ? fdreg_cancel (&s->reg) : MEMIF_ERR_INVAL_ARG;
}
