# mcm-send and mcm-recv in a slim image, and a second target that adds
# DPDK's dpdk-testpmd as a third-party memif peer:
#
#   docker build -t mcm-memif .                              # tools only (default target)
#   docker build --target testpmd -t mcm-memif:testpmd .     # + dpdk-testpmd
#
# See docs/docker.md for running them with compose.yaml and
# compose.testpmd.yaml. Hosts that cannot pull these base images can make
# them locally with docker/base-images.sh.

# Build: the tools with the same Makefile target `make demo` uses. They are
# cgo binaries (the memif engine is C) linked against glibc: build and run
# on bookworm.
FROM golang:1.26-bookworm AS build
ENV CGO_ENABLED=1
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN make tools && ./bin/mcm-send --help >/dev/null && ./bin/mcm-recv --help >/dev/null

# What both runtime targets share: two users in one group, the socket
# directory that group may use, and the entrypoint. The tools are copied in
# last in each target, so a code change does not redo testpmd's packages.
FROM debian:bookworm-slim AS runtime
LABEL org.opencontainers.image.title="mcm-memif" \
      org.opencontainers.image.description="mcm-send and mcm-recv: media frames over memif shared memory" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"
# Two users in group mcm, so a pair of containers can run as different uids
# and still meet at one socket: mcm (10001, the default) and mcm-peer (10002).
RUN groupadd -g 10000 mcm \
 && useradd -u 10001 -g mcm -M -d /nonexistent -s /usr/sbin/nologin mcm \
 && useradd -u 10002 -g mcm -M -d /nonexistent -s /usr/sbin/nologin mcm-peer
# /run/mcm belongs to group mcm with the setgid bit (2770), so sockets made
# in it belong to group mcm. A new named volume mounted here starts as a copy
# of this directory, owner and mode included. The tools keep an existing
# directory's mode, and the entrypoint sets umask 0007 so the socket file is
# group-writable (connecting to a unix socket needs write permission on it).
RUN install -d -o root -g mcm -m 2770 /run/mcm
COPY docker/entrypoint.sh /usr/local/bin/mcm-entrypoint
# Both tools default to $MCM_RUN_DIR/mcm.sock.
ENV MCM_RUN_DIR=/run/mcm
VOLUME /run/mcm
ENTRYPOINT ["/usr/local/bin/mcm-entrypoint"]

# + dpdk-testpmd. In bookworm it ships only in dpdk-dev (the "dpdk" package
# holds just the devbind/hugepages scripts), and the memif PMD is
# librte-net-memif23: the pair `make deps` installs for the interop tests.
# dpdk-dev drags in libdpdk-dev and its -dev dependencies (about 330 MB).
FROM runtime AS testpmd
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends dpdk-dev librte-net-memif23 \
 && rm -rf /var/lib/apt/lists/* \
 && test -x /usr/bin/dpdk-testpmd \
 && ls /usr/lib/*/dpdk/pmds-*/librte_net_memif.so.* >/dev/null
COPY --from=build /src/bin/mcm-send /src/bin/mcm-recv /usr/local/bin/
ARG REVISION=unknown
LABEL org.opencontainers.image.description="mcm-send, mcm-recv and DPDK's dpdk-testpmd with the memif PMD" \
      org.opencontainers.image.revision="${REVISION}"
USER mcm
CMD ["dpdk-testpmd", "--help"]

# The default target (last): the tools only.
FROM runtime AS tools
COPY --from=build /src/bin/mcm-send /src/bin/mcm-recv /usr/local/bin/
ARG REVISION=unknown
LABEL org.opencontainers.image.revision="${REVISION}"
USER mcm
RUN mcm-send --help >/dev/null && mcm-recv --help >/dev/null
CMD ["mcm-recv", "--help"]
