#!/usr/bin/env python3
"""Writes a classic pcap of crafted SYN / SYN+ACK pairs that exercise every p0f quirk, window form and options edge
case, for a differential test of the Swift p0f signatures against p0f itself. Usage: gen_p0f.py OUT SEED COUNT"""
import random, struct, sys

out, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)

def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF

def tcp_options(is_synack, mss):
    items = []
    n = rnd.choice([0, 1, 2, 3, 4, 5, 6, 8, 12, 30])
    for _ in range(n):
        k = rnd.random()
        if k < 0.15: items.append(b"\x01")
        elif k < 0.25: items.append(struct.pack("!BBH", 2, rnd.choice([4, 4, 4, 3, 5, 0]), mss))
        elif k < 0.35: items.append(struct.pack("!BBB", 3, rnd.choice([3, 3, 3, 2, 4]), rnd.choice([0, 1, 2, 7, 8, 14, 15, 20, 255])))
        elif k < 0.45: items.append(struct.pack("!BB", 4, rnd.choice([2, 2, 2, 3, 0])))
        elif k < 0.55:
            items.append(struct.pack("!BBII", 8, rnd.choice([10, 10, 10, 9, 11]), rnd.choice([0, 1, rnd.getrandbits(32)]),
                                     rnd.choice([0, 0, rnd.getrandbits(32)])))
        elif k < 0.62:
            l = rnd.choice([10, 18, 26, 34, 9, 35, 12, 2])
            items.append(bytes([5, l]) + bytes(rnd.getrandbits(8) for _ in range(max(0, l - 2))))
        elif k < 0.72:
            kind = rnd.choice([6, 7, 9, 14, 15, 19, 28, 29, 30, 34, 76, 200, 253, 254])
            l = rnd.choice([2, 3, 4, 6, 8, 10, 18, 0, 1, 41, 60])
            items.append(bytes([kind, l]) + bytes(rnd.getrandbits(8) for _ in range(max(0, min(l, 40) - 2))))
        elif k < 0.8:
            pad = rnd.choice([0, 1, 2, 3])
            items.append(b"\x00" + bytes(rnd.choice([0, 0, 0, rnd.getrandbits(8)]) for _ in range(pad)))
        elif k < 0.85:
            items.append(bytes([rnd.choice([2, 3, 4, 5, 8, 99])]))  # a lone kind byte: truncated
        else:
            items.append(b"\x01" * rnd.choice([1, 2, 3]))
    if rnd.random() < 0.4:  # a realistic layout now and then
        items = [rnd.choice([
            struct.pack("!BBH", 2, 4, mss) + b"\x04\x02" + struct.pack("!BBII", 8, 10, rnd.getrandbits(32), 0) + b"\x01\x03\x03\x07",
            struct.pack("!BBH", 2, 4, mss) + b"\x01\x03\x03\x08\x01\x01\x04\x02",
            struct.pack("!BBH", 2, 4, mss) + b"\x01\x01\x04\x02",
            struct.pack("!BBH", 2, 4, mss) + b"\x01\x03\x03\x06\x01\x01" + struct.pack("!BBII", 8, 10, 1234, 0) + b"\x04\x02\x00\x00",
        ])]
    opts = b"".join(items)
    if rnd.random() < 0.9:
        opts = opts[:40]
    else:
        opts = opts[:rnd.choice([0, 4, 8, 12, 20, 40])]
    while len(opts) % 4:
        opts += bytes([rnd.choice([0, 0, 1, rnd.getrandbits(8)])])
    return opts

def window_for(mss, peer, tot_hdr, v6):
    m = rnd.randint(1, 44)
    cands = [mss * m, (mss - 12) * m, 1460 * m, 1448 * m, 1440 * m, 1428 * m, (mss + 40) * m, (mss + tot_hdr) * m,
             (mss + 60) * m, 1500 * m, peer * m, (peer - 12) * m, 0, 65535, 8192, rnd.getrandbits(16), 29200, 28960]
    return [c for c in cands if 0 <= c <= 65535] and rnd.choice([c for c in cands if 0 <= c <= 65535])

def segment(sport, dport, syn_ack, mss, peer, v6, seq, ack):
    opts = tcp_options(syn_ack, mss)
    flags = 0x12 if syn_ack else 0x02
    if rnd.random() < 0.3:
        flags |= rnd.choice([0x08, 0x20, 0x40, 0x80, 0x100, 0x28, 0xC0])
    reserved = rnd.choice([0] * 12 + [1, 2, 4, 7])
    if rnd.random() < 0.1: seq = 0
    if rnd.random() < 0.1: ack = 0
    elif not syn_ack and rnd.random() < 0.15: ack = rnd.getrandbits(32)
    urg = rnd.choice([0] * 8 + [1, rnd.getrandbits(16)])
    payload = b"" if rnd.random() < 0.9 else bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 30)))
    doff = 5 + len(opts) // 4
    hdr_ip = 40 if v6 else 20
    win = window_for(mss, peer, hdr_ip + doff * 4, v6)
    off_flags = (doff << 12) | (reserved << 9) | flags
    tcp = struct.pack("!HHIIHHHH", sport, dport, seq, ack, off_flags, win, 0, urg) + opts + payload
    return tcp

def ipv4(src, dst, tcp):
    ttl = rnd.choice([1, 20, 31, 32, 33, 48, 60, 63, 64, 65, 92, 93, 100, 127, 128, 129, 200, 219, 220, 250, 255])
    tos = rnd.choice([0, 0, 0, 1, 2, 3, 0x10, 0xB8, 0xBB])
    flags = rnd.choice([0x4000] * 6 + [0, 0, 0x8000, 0xC000])
    ident = rnd.choice([0, 0, rnd.getrandbits(16)])
    opts = rnd.choice([b""] * 8 + [b"\x01\x01\x01\x00", b"\x94\x04\x00\x00", b"\x07\x07\x04\x00\x00\x00\x00\x00"])
    ihl = 5 + len(opts) // 4
    total = ihl * 4 + len(tcp)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, total, ident, flags, ttl, 6, 0, src, dst) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return b"\x08\x00", h + tcp

def ipv6(src, dst, tcp):
    hl = rnd.choice([1, 32, 60, 64, 65, 128, 200, 255])
    tc = rnd.choice([0, 0, 1, 2, 3, 0xB8])
    flow = rnd.choice([0, 0, rnd.getrandbits(20)])
    h = struct.pack("!IHBB16s16s", (6 << 28) | (tc << 20) | flow, len(tcp), 6, hl, src, dst)
    return b"\x86\xdd", h + tcp

records = []
t = 1_700_000_000_000_000
for i in range(count):
    v6 = rnd.random() < 0.25
    if v6:
        cli = bytes.fromhex("20010db8000000000000000000") + struct.pack("!H", i) + b"\x01"
        srv = bytes.fromhex("20010db8ffff00000000000000000001")
    else:
        cli = bytes([10, (i >> 8) & 0xFF, i & 0xFF, 1]); srv = bytes([192, 0, 2, 1])
    sport, dport = 10000 + i % 50000, rnd.choice([80, 443, 104, 2575])
    syn_mss = rnd.choice([0, 1, 2, 5, 11, 12, 13, 14, 50, 99, 100, 536, 1331, 1360, 1380, 1440, 1460, 8960, rnd.randint(1, 65535)])
    seq = rnd.getrandbits(32)
    for syn_ack in (False, True):
        mss = syn_mss if not syn_ack else rnd.choice([1331, 1380, 1460, 1440, syn_mss, 100, 99, 5])
        if syn_ack:
            tcp = segment(dport, sport, True, mss, syn_mss, v6, rnd.getrandbits(32), (seq + 1) & 0xFFFFFFFF)
            src, dst = srv, cli
        else:
            tcp = segment(sport, dport, False, mss, syn_mss, v6, seq, 0)
            src, dst = cli, srv
        ethertype, ip = (ipv6 if v6 else ipv4)(src, dst, tcp)
        frame = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + ethertype + ip
        records.append((t, frame)); t += 1000

with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for ts, frame in records:
        f.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(frame), len(frame)) + frame)
print(f"wrote {len(records)} packets to {out}")
