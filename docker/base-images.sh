#!/usr/bin/env bash
# Makes the two base images the Dockerfile names, debian:bookworm-slim and
# golang:1.26-bookworm, on a Docker host that cannot pull from a registry
# but can reach Debian's package mirror and the Go module proxy. Images
# already present are kept (they are the cache between runs); MCM_BASE_REBUILD=1
# rebuilds both. Needs root (debootstrap) the first time.
#
#   debian:bookworm-slim   debootstrap --variant=minbase bookworm from the
#                          same mirror the host's apt uses, imported with
#                          `docker import`.
#   golang:1.26-bookworm   that image + gcc, libc6-dev, make, pkg-config, git
#                          (what the official image adds) + Go $GO_VERSION in
#                          /usr/local/go: the GOROOT that
#                          `GOTOOLCHAIN=$GO_VERSION go env GOROOT` names, i.e.
#                          the host's own Go when it is that version, else the
#                          toolchain the go command fetches from the module
#                          proxy (golang.org/toolchain@v0.0.1-$GO_VERSION.linux-amd64).
#                          It also trusts the CAs the host added in
#                          /usr/local/share/ca-certificates, so `go mod
#                          download` in the build stage gets through the same
#                          TLS egress the host's go command uses.
#
# A user with a registry never needs this: `docker build` pulls the real ones.
set -euo pipefail

GO_VERSION=${GO_VERSION:-go1.26.8}
DEBIAN_IMAGE=debian:bookworm-slim
GOLANG_IMAGE=golang:1.26-bookworm
MIRROR=${DEBIAN_MIRROR:-}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-}

log() { printf 'base-images: %s\n' "$*" >&2; }
have() { [ "${MCM_BASE_REBUILD:-}" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }

# The host's Debian mirror (deb822 or one-line sources), else deb.debian.org.
host_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
		[ -r "$f" ] || continue
		uri=$(awk -v want="$1" '
			/^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == want) { print u; exit } }
			/^deb / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i+1) == want) { print $i; exit } } }' "$f")
		if [ -n "$uri" ]; then echo "$uri"; return; fi
	done
}
[ -n "$MIRROR" ] || MIRROR=$(host_mirror bookworm)
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
[ -n "$SECURITY_MIRROR" ] || SECURITY_MIRROR=$(host_mirror bookworm-security)
[ -n "$SECURITY_MIRROR" ] || SECURITY_MIRROR=http://deb.debian.org/debian-security

work=$(mktemp -d /tmp/mcm-base.XXXXXX)
trap 'rm -rf "$work"' EXIT

if have "$DEBIAN_IMAGE"; then
	log "$DEBIAN_IMAGE present"
else
	start=$SECONDS
	if [ "$(id -u)" != 0 ]; then
		log "building $DEBIAN_IMAGE needs root (debootstrap); run: sudo $0"
		exit 1
	fi
	if ! command -v debootstrap >/dev/null; then
		log "installing debootstrap"
		apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
	fi
	log "debootstrap --variant=minbase bookworm from $MIRROR"
	root=$work/rootfs
	debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
		{ tail -20 "$work/debootstrap.log" >&2; exit 1; }
	# What the official slim image does: deb822 sources with updates and
	# security, no docs or man pages from later installs, no apt caches.
	rm -f "$root/etc/apt/sources.list"
	cat >"$root/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
	echo 'APT::Install-Recommends "false";' >"$root/etc/apt/apt.conf.d/docker-no-recommends"
	rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
		"$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log
	: >"$root/etc/hostname"
	tar --numeric-owner -C "$root" -c . |
		docker import --change 'CMD ["bash"]' \
			--change 'LABEL org.opencontainers.image.description="debootstrap minbase bookworm, made by docker/base-images.sh"' \
			- "$DEBIAN_IMAGE" >/dev/null
	log "$DEBIAN_IMAGE built in $((SECONDS - start)) s"
fi

if have "$GOLANG_IMAGE"; then
	log "$GOLANG_IMAGE present"
else
	start=$SECONDS
	command -v go >/dev/null || { log "no go command on the host to fetch $GO_VERSION with"; exit 1; }
	goroot=$(GOTOOLCHAIN=$GO_VERSION go env GOROOT)
	got=$("$goroot/bin/go" env GOVERSION)
	[ "$got" = "$GO_VERSION" ] || { log "GOROOT $goroot is $got, want $GO_VERSION"; exit 1; }
	log "Go $got from $goroot"
	ctx=$work/golang
	mkdir -p "$ctx"
	cp -a "$goroot" "$ctx/go"
	chmod -R u+w "$ctx/go"
	rm -rf "$ctx/go/pkg/obj" "$ctx/go/.git"
	mkdir -p "$ctx/local-ca"
	for c in /usr/local/share/ca-certificates/*.crt; do [ -r "$c" ] && cp "$c" "$ctx/local-ca/"; done
	cat >"$ctx/Dockerfile" <<DF
FROM $DEBIAN_IMAGE
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \\
 && apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev make pkg-config git \\
 && rm -rf /var/lib/apt/lists/*
COPY local-ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null
COPY go /usr/local/go
ENV GOLANG_VERSION=${GO_VERSION#go} GOTOOLCHAIN=local GOPATH=/go \\
    PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /go/src /go/bin && chmod -R 1777 /go && go version
WORKDIR /go
DF
	docker build -q -t "$GOLANG_IMAGE" "$ctx" >/dev/null
	log "$GOLANG_IMAGE built in $((SECONDS - start)) s"
fi
