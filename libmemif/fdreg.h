/* fdreg.h - the fds a socket asks its event loop to watch. Each entry
 * carries the handler for its fd's events (libuv's style), so the one
 * dispatcher, memif_control_fd_handler, needs no knowledge of the layers
 * that own the fds. */
#ifndef MEMIF_FDREG_H
#define MEMIF_FDREG_H

#include <stdbool.h>
#include <stdint.h>

#include "libmemif.h"
#include "util.h"

typedef struct fd_entry fd_entry_t;

/* Handles events (MEMIF_FD_EVENT_*) on e->fd; returns a memif code, which
 * memif_control_fd_handler hands to the event loop. */
typedef int (fd_handler_t) (fd_entry_t *e, uint32_t events);

struct fd_entry
{
  int fd;
  fd_handler_t *on_event;
  void *data;			/* the handler's object */
  uint16_t arg;			/* the handler's number (a queue id) */
  bool borrowed;		/* someone else closes fd */
  bool paused;			/* not watched for now: fd_pause */
};

/* Whoever runs the event loop: the application's on_fd_update, or the
 * engine's own epoll that memif_poll_event waits on. */
typedef struct
{
  const mem_t *mem;
  memif_control_fd_update_t *on_fd_update;
  void *ctx;			/* for on_fd_update */
  int epfd;			/* own loop, when no on_fd_update */
  int cancel_fd;		/* wakes memif_poll_event: cancelled */
} fdreg_t;

/* Without on_fd_update, makes the engine's own loop. Returns a memif code. */
int fdreg_open (fdreg_t *r, const mem_t *mem,
		memif_control_fd_update_t *on_fd_update, void *ctx);
void fdreg_close (fdreg_t *r);

/* Watches fd, whose events go to on_event; NULL when the loop refused it
 * or memory ran out, and then fd is left to the caller. The entry owns fd
 * (closes it at fd_unwatch) unless borrowed. */
fd_entry_t *fd_watch (fdreg_t *r, int fd, bool borrowed,
		      fd_handler_t *on_event, void *data, uint16_t arg);
/* Stops watching, closes fd unless borrowed, frees e. NULL is a no-op. */
void fd_unwatch (fdreg_t *r, fd_entry_t *e);
/* Stops or starts watching e without closing it; fd_resume returns 0 or
 * -1 (still paused). */
void fd_pause (fdreg_t *r, fd_entry_t *e);
int fd_resume (fdreg_t *r, fd_entry_t *e);

/* Waits up to timeout ms on the engine's own loop and handles one event. */
int fdreg_poll (fdreg_t *r, int timeout);
int fdreg_cancel (fdreg_t *r);

#endif
