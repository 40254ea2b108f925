# mcm-send and mcm-recv, plus dpdk-testpmd as a third-party memif peer.
#
#   docker build -t mcm-memif .
#
# See docs/docker.md for running it with compose.yaml and compose.testpmd.yaml.

# Stage 1: build the tools with the same Makefile target CI and `make demo`
# use, so the image holds what the tests prove. The tools are cgo binaries
# (the memif engine is C) linked against glibc: build and run on bookworm.
FROM golang:1.24-bookworm AS build
ENV CGO_ENABLED=1
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN make tools && ./bin/mcm-send --help >/dev/null && ./bin/mcm-recv --help >/dev/null

# Stage 2: the runtime. In bookworm dpdk-testpmd ships only in dpdk-dev (the
# "dpdk" package holds just the devbind/hugepages scripts), and the memif PMD
# is librte-net-memif23: the same pair `make deps` installs for the interop
# tests. dpdk-dev drags in libdpdk-dev and its -dev dependencies (about
# 330 MB installed); there is no smaller Debian package with testpmd.
FROM debian:bookworm-slim
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends dpdk-dev librte-net-memif23 \
 && rm -rf /var/lib/apt/lists/* \
 && test -x /usr/bin/dpdk-testpmd \
 && ls /usr/lib/*/dpdk/pmds-*/librte_net_memif.so.* >/dev/null
COPY --from=build /src/bin/mcm-send /src/bin/mcm-recv /usr/local/bin/
# Both tools default to $MCM_RUN_DIR/mcm.sock. Containers meet through this
# directory: mount one volume here in every container of a pair.
ENV MCM_RUN_DIR=/run/mcm
RUN mkdir -p /run/mcm && mcm-send --help >/dev/null && mcm-recv --help >/dev/null
VOLUME /run/mcm
CMD ["mcm-recv", "--help"]
