#!/usr/bin/env python3
"""Writes the harnesses' seed corpora (libmemif/fuzz/corpus/<harness>/).

Run once after changing an input format; the fuzzers' own finds that are
worth keeping (regressions) are added to the corpus by hand, under names
saying what they hit.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
V2 = 0x0200
ACK, HELLO, INIT, ADD_REGION, ADD_RING, CONNECT, CONNECTED, DISCONNECT = range(1, 9)


def name(s, n=32):
    return s.encode().ljust(n, b"\0")[:n]


def hello_body(minv=V2, maxv=V2, regions=255, m2s=255, s2m=255, log2=14, nm="master"):
    return name(nm) + struct.pack("<HHHHHB", minv, maxv, regions, m2s, s2m, log2)


def init_body(version=V2, iid=7, mode=0, secret=b"", nm="slave"):
    return struct.pack("<HIB", version, iid, mode) + secret.ljust(24, b"\0") + name(nm)


def region_body(index, size):
    return struct.pack("<HQ", index, size)


def ring_body(s2m, index, region, offset, log2, priv=0):
    return struct.pack("<HHHIBH", 1 if s2m else 0, index, region, offset, log2, priv)


def disc_body(code, reason):
    return struct.pack("<I", code) + name(reason, 96)


def wire(typ, body):
    return (struct.pack("<H", typ) + body).ljust(128, b"\0")


def stride(log2):
    return (128 + 16 * (1 << log2) + 63) & ~63


# ---- handshake: cfg byte, then steps (op, fd params, body) ----

SEL_NONE, SEL_MEMFD, SEL_MEMFD_UNSEALABLE, SEL_EVENTFD, SEL_PIPE, SEL_BOTH, SEL_SOCKET = range(7)


def step(kind, body=b"", sel=SEL_NONE, size=0, fill_log2=None):
    out = bytes([kind | (sel << 4)])
    if sel in (SEL_MEMFD, SEL_MEMFD_UNSEALABLE, SEL_BOTH):
        fill = 0 if fill_log2 is None else 0x80 | (fill_log2 - 1)
        out += struct.pack("<IB", size, fill)
    return out + body


def raw(data, sel=SEL_NONE):
    return step(0, bytes([len(data)]) + data, sel)


def master_session(log2=4, rings=1, secret=b"", size=None, connect=True):
    """The steps of an honest slave talking to the engine's master."""
    st = stride(log2)
    size = size or 2 * rings * st + 4096
    s = [step(INIT, init_body(secret=secret)),
         step(ADD_REGION, region_body(0, size), SEL_MEMFD, size, log2)]
    for d in (1, 0):
        for i in range(rings):
            g = i if d else rings + i
            s.append(step(ADD_RING, ring_body(d, i, 0, g * st, log2), SEL_EVENTFD))
    if connect:
        s.append(step(CONNECT, name("peer-if")))
    return s


def slave_session(rings=1, hello=None):
    """The steps of an honest master talking to the engine's slave: HELLO,
    an ACK for INIT, both regions and every ring, then CONNECTED."""
    s = [step(HELLO, hello or hello_body())]
    s += [step(ACK)] * (1 + 2 + 2 * rings)
    s.append(step(CONNECTED, name("master-if")))
    return s


def handshake_seeds():
    m, sl = 0x00, 0x01
    cfg_slave = lambda log2, rings: sl | ((log2 - 1) << 2) | (rings << 4)
    seeds = {
        "master-ok": [m] + master_session(),
        "master-ok-2rings": [m] + master_session(rings=2),
        "master-ok-secret": [m | 2] + master_session(secret=b"fuzz-secret"),
        "master-bad-secret": [m | 2] + master_session(secret=b"wrong"),
        "master-no-connect": [m] + master_session(connect=False),
        "master-ok-then-junk": [m] + master_session() + [step(ACK)],
        "master-ok-then-disconnect": [m] + master_session() + [step(DISCONNECT, disc_body(0, "bye"))],
        "master-unknown-id": [m, step(INIT, init_body(iid=8))],
        "master-bad-version": [m, step(INIT, init_body(version=0x0100))],
        "master-region-unsealable": [m, step(INIT, init_body()),
                                     step(ADD_REGION, region_body(0, 8192), SEL_MEMFD_UNSEALABLE, 8192, 4)],
        "master-region-no-fd": [m, step(INIT, init_body()), step(ADD_REGION, region_body(0, 8192))],
        "master-region-too-big": [m, step(INIT, init_body()),
                                  step(ADD_REGION, region_body(0, 1 << 20), SEL_MEMFD, 4096, 4)],
        "master-ring-pipe": [m] + master_session(connect=False)[:2]
        + [step(ADD_RING, ring_body(1, 0, 0, 0, 4), SEL_PIPE)],
        "master-ring-two-fds": [m] + master_session(connect=False)[:2]
        + [step(ADD_RING, ring_body(1, 0, 0, 0, 4), SEL_BOTH, 4096, 4)],
        "master-ring-outside": [m] + master_session(connect=False)[:2]
        + [step(ADD_RING, ring_body(1, 0, 0, 8000, 4), SEL_EVENTFD)],
        "master-no-cookie": [m, step(INIT, init_body()),
                             step(ADD_REGION, region_body(0, 8192), SEL_MEMFD, 8192),
                             step(ADD_RING, ring_body(1, 0, 0, 0, 4), SEL_EVENTFD),
                             step(ADD_RING, ring_body(0, 0, 0, 384, 4), SEL_EVENTFD),
                             step(CONNECT, name("x"))],
        "master-hello-to-master": [m, step(HELLO, hello_body())],
        "master-short": [m, raw(wire(INIT, init_body())[:100])],
        "master-long": [m, raw(wire(INIT, init_body()) + b"\1" * 20)],
        "master-empty": [m, raw(b"")],
        "master-unknown-type": [m, raw(wire(0x77, b""))],
        "master-hangup": [m, step(INIT, init_body()), bytes([9])],
        "slave-ok": [cfg_slave(4, 1)] + slave_session(),
        "slave-ok-2rings": [cfg_slave(2, 2)] + slave_session(rings=2),
        "slave-ok-then-junk": [cfg_slave(4, 1)] + slave_session() + [step(ACK)],
        "slave-ok-then-disconnect": [cfg_slave(4, 1)] + slave_session()
        + [step(DISCONNECT, disc_body(3, "master leaves"))],
        "slave-old-master": [cfg_slave(4, 1), step(HELLO, hello_body(minv=0x100, maxv=0x100))],
        "slave-no-ring-size": [cfg_slave(4, 1), step(HELLO, hello_body(log2=0))],
        "slave-one-region": [cfg_slave(4, 1), step(HELLO, hello_body(regions=0))],
        "slave-early-connected": [cfg_slave(4, 1), step(HELLO, hello_body()), step(CONNECTED, name("m"))],
        "slave-extra-ack": [cfg_slave(4, 1)] + slave_session()[:-1] + [step(ACK)],
        "slave-fd-from-master": [cfg_slave(4, 1), step(HELLO, hello_body(), SEL_EVENTFD)],
        "slave-refused": [cfg_slave(4, 1), step(HELLO, hello_body()),
                          step(DISCONNECT, disc_body(29, "secret mismatch"))],
    }
    return {k: b"".join(x if isinstance(x, bytes) else bytes([x]) for x in v)
            for k, v in seeds.items()}


def decode_seeds():
    seeds = {
        "ack": wire(ACK, b""),
        "hello": wire(HELLO, hello_body()),
        "hello-long-name": wire(HELLO, b"N" * 32 + struct.pack("<HHHHHB", 1, 0xFFFF, 2, 3, 4, 5)),
        "init": wire(INIT, init_body(secret=b"s" * 24, nm="x" * 32)),
        "add-region": wire(ADD_REGION, region_body(3, 0x123456789A)),
        "add-ring": wire(ADD_RING, ring_body(1, 2, 3, 0x10203040, 10, 7)),
        "connect": wire(CONNECT, name("if")),
        "connected": wire(CONNECTED, b"C" * 32),
        "disconnect": wire(DISCONNECT, disc_body(22, "R" * 96)),
        "junk-after-fields": wire(ADD_REGION, region_body(1, 2) + b"\xff" * 100),
        "type-0": wire(0, b""),
        "type-9": wire(9, b""),
        "short": wire(ACK, b"")[:127],
        "long": wire(ACK, b"") + b"\0",
    }
    return seeds


# ---- ring: cfg byte (bit 0 engine is slave, bits 1-2 log2 - 1, bit 3
# polling), then ops (low nibble op, bit 4 ring M2S, bit 5 absolute) ----

HEAD, TAIL, DESC, RX, REFILL, ALLOC, ALLOC32, TX, TXWAIT, PUMP = range(10)
S2M, M2S, ABS = 0, 0x10, 0x20


def idx(which, ring, v, absolute=False):
    return bytes([which | ring | (ABS if absolute else 0)]) + struct.pack("<H", v & 0xFFFF)


def desc(ring, slot, region, offset, length, flags=0, meta=0):
    return bytes([DESC | ring, slot]) + struct.pack("<HHIII", flags, region, length, offset, meta)


def rx(n):
    return bytes([RX, n])


def refill(n, headroom=0):
    return bytes([REFILL, n, headroom])


def alloc(n, size):
    return bytes([ALLOC, n]) + struct.pack("<H", size)


def alloc32(n, size):
    return bytes([ALLOC32, n]) + struct.pack("<I", size)


def tx(n, shrink=0):
    return bytes([TX, n, shrink])


def ring_seeds():
    master, slave = 0x06, 0x07  # log2 4: 16 slots
    seeds = {
        # engine master: sends on M2S into posted buffers, receives on S2M
        "master-tx": [master, alloc(5, 100), tx(5), bytes([TXWAIT])],
        "master-tx-chain": [master, alloc32(4, 600), tx(4, 7)],
        "master-rx": [master, idx(HEAD, S2M, 3), rx(8), refill(3)],
        "master-rx-polling": [master | 8, idx(HEAD, S2M, 2), rx(8), refill(1), refill(1)],
        "master-rx-refill-rx": [master, idx(HEAD, S2M, 16), rx(16), refill(16), idx(HEAD, S2M, 5), rx(8)],
        "master-lie-head": [master, idx(HEAD, S2M, 100), rx(8)],
        "master-lie-region": [master, desc(S2M, 0, 7, 0, 64), idx(HEAD, S2M, 1), rx(1)],
        "master-lie-offset": [master, desc(S2M, 0, 1, 0xFFFFFF00, 0x200), idx(HEAD, S2M, 1), rx(1)],
        "master-lie-length": [master, desc(S2M, 0, 1, 0, 0xFFFFFFFF), idx(HEAD, S2M, 1), rx(1)],
        "master-lie-posted": [master, desc(M2S, 0, 3, 0, 64), alloc(1, 10)],
        "master-lie-post-count": [master, idx(HEAD, M2S, 60, True), alloc(8, 10)],
        "master-shrunk-posted": [master, alloc(2, 200), desc(M2S, 0, 1, 0, 1), tx(2)],
        "master-held-then-lie": [master, idx(HEAD, S2M, 4), rx(4), alloc(3, 50), idx(HEAD, S2M, 60), rx(4)],
        # engine slave: sends on S2M, receives on M2S into its own buffers
        "slave-tx": [slave, alloc(6, 100), tx(6), idx(TAIL, S2M, 6), alloc(16, 0), tx(16)],
        "slave-rx": [slave, idx(TAIL, M2S, 3), rx(8), refill(3, 16), bytes([PUMP])],
        "slave-rx-polling": [slave | 8, idx(TAIL, M2S, 1), rx(1), refill(1)],
        "slave-lie-tail": [slave, idx(TAIL, M2S, 40), rx(8)],
        "slave-lie-length": [slave, desc(M2S, 0, 1, 0, 4096), idx(TAIL, M2S, 1), rx(1)],
        "slave-lie-rings-region": [slave, desc(M2S, 0, 0, 0, 64), idx(TAIL, M2S, 1), rx(1)],
        "slave-lie-release": [slave, alloc(2, 10), tx(2), idx(TAIL, S2M, 9), alloc(1, 1)],
        "slave-held-then-lie": [slave, idx(TAIL, M2S, 2), rx(2), alloc(3, 9), idx(TAIL, M2S, 300), rx(2)],
        "slave-tx-wait": [slave, alloc(16, 1), tx(16), bytes([TXWAIT]), idx(TAIL, S2M, 16), bytes([TXWAIT])],
    }
    return {k: b"".join(x if isinstance(x, bytes) else bytes([x]) for x in v)
            for k, v in seeds.items()}


def write(harness, seeds):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    for k, v in seeds.items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(v)


if __name__ == "__main__":
    write("decode", decode_seeds())
    write("handshake", handshake_seeds())
    write("ring", ring_seeds())
