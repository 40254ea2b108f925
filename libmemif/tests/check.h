/* check.h - a minimal assertion harness for the engine's C tests. */
#ifndef CHECK_H
#define CHECK_H
#include <stdio.h>
#include <stdlib.h>

static int check_failed, check_passed;

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (cond)                                                            \
      check_passed++;                                                    \
    else {                                                               \
      check_failed++;                                                    \
      fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,  \
               #cond);                                                   \
    }                                                                    \
  } while (0)

#define CHECK_EQ(a, b) CHECK ((long long) (a) == (long long) (b))

/* Prints the closing line CI reads: "N passed, N failed". */
static inline int
check_report (const char *name)
{
  printf ("%s: %d passed, %d failed\n", name, check_passed, check_failed);
  return check_failed ? 1 : 0;
}
#endif
