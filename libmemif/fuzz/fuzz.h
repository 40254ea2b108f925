/* fuzz.h - what the libFuzzer harnesses share: reading the input as a
 * stream of choices, an application event loop around the engine, a peer
 * end of the control channel, and fd counting for leak checks.
 *
 * A broken property aborts, so libFuzzer saves the input that broke it. */
#ifndef MEMIF_FUZZ_H
#define MEMIF_FUZZ_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../libmemif.h"
#include "../wire.h"

#define PROP(cond, ...)                                             \
  do {                                                              \
    if (!(cond)) {                                                  \
      fprintf (stderr, "%s:%d: property broken: %s: ", __FILE__,    \
               __LINE__, #cond);                                    \
      fprintf (stderr, __VA_ARGS__);                                \
      fputc ('\n', stderr);                                         \
      abort ();                                                     \
    }                                                               \
  } while (0)

/* ---- the input, consumed as choices; zeros once it runs out ---- */

typedef struct
{
  const uint8_t *p;
  size_t n;
} in_t;

static inline bool
in_left (const in_t *in)
{
  return in->n > 0;
}

static inline uint8_t
in_u8 (in_t *in)
{
  if (!in->n)
    return 0;
  in->n--;
  return *in->p++;
}

static inline uint16_t
in_u16 (in_t *in)
{
  uint16_t lo = in_u8 (in);
  return (uint16_t) (lo | (in_u8 (in) << 8));
}

static inline uint32_t
in_u32 (in_t *in)
{
  uint32_t lo = in_u16 (in);
  return lo | ((uint32_t) in_u16 (in) << 16);
}

static inline void
in_bytes (in_t *in, void *dst, size_t n)
{
  size_t k = n < in->n ? n : in->n;
  memcpy (dst, in->p, k);
  memset ((uint8_t *) dst + k, 0, n - k);
  in->p += k;
  in->n -= k;
}

/* ---- fds ---- */

static inline int
count_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  int n = 0;
  if (!d)
    abort ();
  while (readdir (d))
    n++;
  closedir (d);
  return n;
}

/* Lists the open fds, for a failed fd-count property. */
static inline void
print_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *e;
  while (d && (e = readdir (d)))
    {
      char l[300], t[256];
      snprintf (l, sizeof (l), "/proc/self/fd/%s", e->d_name);
      ssize_t n = readlink (l, t, sizeof (t) - 1);
      t[n > 0 ? n : 0] = 0;
      fprintf (stderr, "  fd %s -> %s\n", e->d_name, t);
    }
  if (d)
    closedir (d);
}

/* ---- the application's event loop: epoll fed by on_control_fd_update ---- */

static int loop_epfd = -1;
static int loop_watched;	/* fds the engine asked us to watch */

static inline int
loop_fd_update (memif_fd_event_t fde, void *ctx)
{
  (void) ctx;
  if (fde.type & MEMIF_FD_EVENT_DEL)
    {
      loop_watched--;
      return epoll_ctl (loop_epfd, EPOLL_CTL_DEL, fde.fd, NULL);
    }
  struct epoll_event ev = {.events = EPOLLIN,.data.ptr = fde.private_ctx };
  loop_watched++;
  return epoll_ctl (loop_epfd, EPOLL_CTL_ADD, fde.fd, &ev);
}

/* Hands every ready fd to the engine until none is ready (bounded: a
 * misbehaving engine must not hang the fuzzer). */
static inline void
loop_pump (void)
{
  for (int i = 0; i < 256; i++)
    {
      struct epoll_event ev[1];
      /* One at a time: handling one fd may close another that was
       * ready too, and epoll reports only fds still registered. */
      int n = epoll_wait (loop_epfd, ev, 1, 0);
      if (n <= 0)
	return;
      for (int k = 0; k < n; k++)
	{
	  uint32_t e = 0;
	  if (ev[k].events & EPOLLIN)
	    e |= MEMIF_FD_EVENT_READ;
	  if (ev[k].events & (EPOLLERR | EPOLLHUP))
	    e |= MEMIF_FD_EVENT_ERROR;
	  memif_control_fd_handler (ev[k].data.ptr, e);
	}
    }
}

/* ---- what the engine told the application ---- */

typedef struct
{
  int up, down;
  int down_up;			/* on_disconnect of a session that was up */
  int errors;			/* error callbacks */
  int last_err;
  char reason[MW_REASON_LEN + 1];	/* last error callback's reason */
} events_t;

static events_t ev_seen;

static inline int
ev_on_up (memif_conn_handle_t c, void *ctx)
{
  (void) c;
  (void) ctx;
  ev_seen.up++;
  return 0;
}

/* As upstream libmemif does, the engine also calls on_disconnect for a
 * handshake that reached the interface and never came up; memif_is_up
 * tells the two apart inside the callback. */
static inline int
ev_on_down (memif_conn_handle_t c, void *ctx)
{
  (void) ctx;
  ev_seen.down++;
  if (memif_is_up (c))
    ev_seen.down_up++;
  return 0;
}

static inline void
ev_on_error (memif_conn_handle_t c, void *ctx, int err, const char *why)
{
  (void) c;
  (void) ctx;
  ev_seen.errors++;
  ev_seen.last_err = err;
  PROP (why != NULL && strnlen (why, MW_REASON_LEN + 1) <= MW_REASON_LEN,
	"error callback reason missing or too long (err %d)", err);
  snprintf (ev_seen.reason, sizeof (ev_seen.reason), "%s", why);
}

/* A socket served by our loop; the path is abstract and per process, so
 * parallel fuzzing jobs do not meet. */
static inline memif_socket_handle_t
loop_socket (const char *tag)
{
  memif_socket_args_t a;
  memif_socket_handle_t s = NULL;
  memset (&a, 0, sizeof (a));
  snprintf (a.path, sizeof (a.path), "@memif-fuzz-%s-%d", tag, (int) getpid ());
  strcpy (a.app_name, "fuzz");
  a.on_control_fd_update = loop_fd_update;	/* no retry timer: one try */
  if (loop_epfd < 0)
    loop_epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (memif_create_socket (&s, &a, NULL) != MEMIF_ERR_SUCCESS)
    abort ();
  memif_set_error_callback (s, ev_on_error);
  return s;
}

static inline struct sockaddr_un
loop_addr (const char *tag, socklen_t *len)
{
  struct sockaddr_un a = {.sun_family = AF_UNIX };
  int n = snprintf (a.sun_path + 1, sizeof (a.sun_path) - 1,
		    "memif-fuzz-%s-%d", tag, (int) getpid ());
  *len = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + 1 + n);
  return a;
}

/* ---- the peer's end of the control channel ---- */

/* Playing master, the harness listens before the engine (a slave)
 * connects; playing slave it has nothing to listen on (-1). */
static inline int
peer_listen (bool master, const struct sockaddr_un *addr, socklen_t alen)
{
  if (!master)
    return -1;
  int lsk = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (bind (lsk, (const struct sockaddr *) addr, alen) < 0
      || listen (lsk, 4) < 0)
    abort ();
  return lsk;
}

/* The harness's connection to the engine: accepted from its listener, or
 * made to the engine's (a master's) socket. */
static inline int
peer_join (int lsk, const struct sockaddr_un *addr, socklen_t alen)
{
  if (lsk >= 0)
    return accept4 (lsk, NULL, NULL, SOCK_CLOEXEC);
  int sk = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (connect (sk, (const struct sockaddr *) addr, alen) < 0)
    abort ();
  return sk;
}

/* Sends one datagram with up to two fds; our copies of the fds are closed
 * (the engine got its own). Returns false when the engine is gone. */
static inline bool
peer_send (int sk, const void *buf, size_t len, const int *fds, int nfds)
{
  struct iovec iov = {.iov_base = (void *) buf,.iov_len = len };
  union
  {
    struct cmsghdr align;
    char room[CMSG_SPACE (2 * sizeof (int))];
  } ctl;
  struct msghdr mh = {.msg_iov = &iov,.msg_iovlen = 1 };
  if (nfds > 0)
    {
      memset (&ctl, 0, sizeof (ctl));
      mh.msg_control = ctl.room;
      mh.msg_controllen = CMSG_SPACE (nfds * sizeof (int));
      struct cmsghdr *cm = CMSG_FIRSTHDR (&mh);
      cm->cmsg_level = SOL_SOCKET;
      cm->cmsg_type = SCM_RIGHTS;
      cm->cmsg_len = CMSG_LEN (nfds * sizeof (int));
      memcpy (CMSG_DATA (cm), fds, nfds * sizeof (int));
    }
  ssize_t n = sendmsg (sk, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
  for (int i = 0; i < nfds; i++)
    close (fds[i]);
  return n == (ssize_t) len;
}

/* Receives one datagram; fds that came with it go to fds (up to max, the
 * rest closed). Returns its length, 0 at EOF, -1 when nothing is queued. */
static inline ssize_t
peer_recv (int sk, uint8_t *buf, size_t len, int *fds, int max, int *nfds)
{
  union
  {
    struct cmsghdr align;
    char room[CMSG_SPACE (8 * sizeof (int))];
  } ctl;
  struct iovec iov = {.iov_base = buf,.iov_len = len };
  struct msghdr mh = {.msg_iov = &iov,.msg_iovlen = 1,
    .msg_control = ctl.room,.msg_controllen = sizeof (ctl.room)
  };
  *nfds = 0;
  ssize_t n = recvmsg (sk, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0)
    return errno == EAGAIN ? -1 : 0;	/* ECONNRESET: as EOF */
  for (struct cmsghdr * cm = CMSG_FIRSTHDR (&mh); cm;
       cm = CMSG_NXTHDR (&mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
      for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN (0)) / sizeof (int);
	   i++)
	{
	  int f;
	  memcpy (&f, CMSG_DATA (cm) + i * sizeof (int), sizeof (int));
	  if (*nfds < max)
	    fds[(*nfds)++] = f;
	  else
	    close (f);
	}
  return n;
}

/* A memfd of size bytes, optionally sealable; -1 if it cannot be made. */
static inline int
make_memfd (uint64_t size, bool sealable)
{
  int fd = memfd_create ("fuzz region",
			 MFD_CLOEXEC | (sealable ? MFD_ALLOW_SEALING : 0));
  if (fd >= 0 && ftruncate (fd, (off_t) size) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

#endif
