#!/bin/sh
# umask 0007: a memif socket this container creates in the shared, group-mcm
# run directory is group-writable, so a peer running as another user of
# group mcm can connect to it. Then run the command as PID 1.
umask 0007
exec "$@"
