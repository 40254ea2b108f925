/* util.h - small helpers of every layer: the application's allocator, the
 * monotonic clock in ms, errno as a memif code. */
#ifndef MEMIF_UTIL_H
#define MEMIF_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libmemif.h"

/* The allocator a socket was created with (memif_socket_args_t); NULL
 * members mean the C library's. */
typedef struct
{
  memif_alloc_t *alloc;
  memif_realloc_t *realloc;
  memif_free_t *free;
} mem_t;

/* Zeroed memory, or NULL. */
static inline void *
mem_alloc (const mem_t *m, size_t n)
{
  void *p = m->alloc ? m->alloc (n) : malloc (n);
  if (p)
    memset (p, 0, n);
  return p;
}

static inline void
mem_free (const mem_t *m, void *p)
{
  if (!p)
    return;
  if (m->free)
    m->free (p);
  else
    free (p);
}

static inline uint64_t
mono_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static inline int
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

#endif
