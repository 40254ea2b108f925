/* channel.h - a control channel: one SOCK_SEQPACKET connection carrying one
 * 128-byte memif message per datagram and at most one fd per message. What
 * the messages mean belongs to the layer above (handshake.c), which hears
 * of messages, failures and the close through callbacks it sets. */
#ifndef MEMIF_CHANNEL_H
#define MEMIF_CHANNEL_H

#include <stddef.h>

#include "wire.h"
#include "fdreg.h"

typedef struct channel channel_t;

typedef struct
{
  /* A message other than DISCONNECT. The callback owns fd (-1 if none):
   * it keeps or closes it. */
  void (*on_msg) (channel_t *ch, const mw_msg_t *m, int fd);
  /* Why the channel is about to close: a local refusal (told before the
   * peer hears it), the peer's DISCONNECT, a hang-up or an error. */
  void (*on_error) (channel_t *ch, int err, const char *reason);
  /* The channel is closing, for whatever reason: let go of it. Its fd is
   * still open; its memory goes right after. */
  void (*on_close) (channel_t *ch);
} channel_ops_t;

struct channel
{
  fdreg_t *reg;
  fd_entry_t *ent;
  const channel_ops_t *ops;
};

/* A channel over fd, a connected SEQPACKET socket, in a new zeroed object
 * of size bytes: the owner's struct, which begins with a channel_t. NULL
 * when memory ran out or the event loop refused fd; fd is then the
 * caller's. */
channel_t *channel_open (fdreg_t *reg, int fd, size_t size,
			 const channel_ops_t *ops);

/* Sends m with fd (-1: none); 0 or a memif code. */
int channel_send (channel_t *ch, const mw_msg_t *m, int fd);

/* Refuses or ends the session: the reason goes to on_error, then to the
 * peer in DISCONNECT, then the channel closes. */
void channel_fail (channel_t *ch, int err, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* Says goodbye (DISCONNECT with code 0 and reason, nothing reported
 * locally) and closes. */
void channel_hang_up (channel_t *ch, const char *reason);

/* Closes without a message. */
void channel_close (channel_t *ch);

#endif
