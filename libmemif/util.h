/* util.h - small helpers of every layer: the application's allocator, a
 * prefetch for write, the monotonic clock in ms, errno as a memif code. */
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

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

/* Asks for the line holding p in a state this core may write at once. A
 * ring line the peer's core read last must be taken back before a store to
 * it retires, and a store waiting for that holds every store behind it;
 * asked for early, the lines come back in parallel, off the critical path.
 * A hint: it never faults and changes no memory. */
static inline void
prefetch_for_write (const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
  /* PREFETCHW is in CPUID 0x80000001 ECX (PRFCHW): Intel since Broadwell,
   * AMD since K8. Asked once; 0 unknown, 1 absent, 2 present. */
  static int have;
  int h = __atomic_load_n (&have, __ATOMIC_RELAXED);
  if (!h)
    {
      unsigned a, b, c = 0, d;
      h = __get_cpuid (0x80000001, &a, &b, &c, &d) && (c & bit_PRFCHW)
	? 2 : 1;
      __atomic_store_n (&have, h, __ATOMIC_RELAXED);
    }
  if (h == 2)
    __asm__ volatile ("prefetchw %0"::"m" (*(const char *) p));
#else
  __builtin_prefetch (p, 1, 3);
#endif
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
