/* handshake.h - the memif 2.0 connection state machines, master and slave,
 * over a control channel, up to a connected session and down again. */
#ifndef MEMIF_HANDSHAKE_H
#define MEMIF_HANDSHAKE_H

#include <stdint.h>

#include "channel.h"
#include "iface.h"

enum channel_state
{
  CH_M_WAIT_INIT = 1,
  CH_M_CONFIG,
  CH_S_WAIT_HELLO,
  CH_S_SETUP,			/* waiting for ACKs while sending setup */
  CH_S_WAIT_CONNECTED,
  CH_UP,
};

struct memif_channel
{
  channel_t link;		/* first: channel.c allocates and frees it all */
  memif_socket_t *sock;
  memif_channel_t *next;	/* pending (unbound) channels on a master */
  memif_conn_t *conn;
  enum channel_state state;
  uint32_t step;		/* slave: setup messages already sent */
  uint64_t started;		/* when the connection was made, ms */
};

/* Master: a channel for fd, just accepted, with HELLO sent, pending on s
 * until INIT names an interface. NULL on failure, fd closed. */
memif_channel_t *handshake_accept (memif_socket_t *s, int fd);

/* Slave: connects c to its master, to wait for HELLO; a memif code. */
int handshake_connect (memif_conn_t *c);

/* Ends with a DISCONNECT every handshake (either role, any state before
 * CONNECTED) that has run for the socket's timeout, and returns when the
 * next one is due, 0 when none is under way. */
uint64_t handshake_expire (memif_socket_t *s, uint64_t now);

#endif
