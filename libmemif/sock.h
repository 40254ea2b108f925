/* sock.h - a memif socket's own fds: the listener of its masters, the
 * connect timer of its slaves, the deadline timer of its handshakes. The
 * interface calls in api.c and compat.c use them. */
#ifndef MEMIF_SOCK_H
#define MEMIF_SOCK_H

#include "iface.h"

/* Listens on the socket's path for masters' slaves; a memif code. */
int listener_open (memif_socket_t *s);
/* memif_set_listener_fd: listens on the application's fd, owned from here. */
int listener_adopt (memif_socket_t *s, int fd);
void listener_close (memif_socket_t *s);

/* Arms (or, with a zero period, stops) the slaves' connect timer. */
int timer_arm (memif_socket_t *s);
void timer_close (memif_socket_t *s);

/* Starts a slave's handshake under the socket's deadline. */
int sock_connect (memif_conn_t *c);

#endif
