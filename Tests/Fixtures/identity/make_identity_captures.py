#!/usr/bin/env python3
"""Generate Wardwatch's synthetic identity captures (deterministic: fixed seeds, fixed start time).

Usage: python3 make_identity_captures.py OUT_DIR

skew-37ppm.pcap    one device (Linux-like stack, TCP timestamps at 1000 Hz, clock +37 ppm, network jitter) on one
                   connection for 20 minutes.
clone.pcap         the same MAC used by two hosts at once for 20 minutes: the original (Linux-like, 1000 Hz, +37 ppm)
                   and a clone (different stack, 1000 Hz, -80 ppm), connections interleaved.
stable-hour.pcap   two units of one infusion pump model (MACs in ICU Medical's block) over an hour: DHCP at start and
                   renewal, HL7 ORU^R01 messages naming the pump model in OBX-18 (no patient segments), TCP
                   connections with timestamps. Identity never changes.
"""

import random
import sys
from decimal import Decimal

from scapy.all import BOOTP, DHCP, IP, TCP, UDP, Ether, PcapWriter, Raw

START = Decimal(1772438400)  # 2026-03-02T08:00:00Z
SERVER_MAC = "00:1b:54:c2:4a:01"
SERVER_IP = "10.20.4.10"

LINUX = dict(ttl=64, window=64240, options=lambda ts: [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (ts, 0)), ("NOP", None), ("WScale", 7)])
OTHER = dict(ttl=128, window=65535, options=lambda ts: [("MSS", 1460), ("NOP", None), ("WScale", 8), ("SAckOK", b""), ("Timestamp", (ts, 0))])


class Host:
    """A host whose TCP timestamp clock runs at `hz` with `ppm` skew and a random per-connection offset."""

    def __init__(self, mac, ip, stack, hz, ppm, rng):
        self.mac, self.ip, self.stack, self.hz, self.ppm, self.rng = mac, ip, stack, hz, ppm, rng
        self.ip_id = rng.randrange(1, 60000)

    def tsval(self, send_time, offset):
        return (offset + int(send_time * self.hz * (1 + self.ppm * 1e-6))) & 0xFFFFFFFF

    def delay(self):
        # Queueing jitter: mostly small, sometimes large (exponential, mean 2 ms) plus 0.2 ms fixed.
        return 0.0002 + self.rng.expovariate(500)

    def next_id(self):
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        return self.ip_id


def connection(host, start, duration, interval, sport, dport=6661):
    """Packets of one connection: SYN, SYN+ACK, then device data segments every `interval` seconds."""
    rng = host.rng
    offset = rng.randrange(0, 1 << 32)
    seq = rng.randrange(0, 1 << 32)
    pkts = []
    t = start
    d = host.delay()
    syn = Ether(src=host.mac, dst=SERVER_MAC) / IP(src=host.ip, dst=SERVER_IP, ttl=host.stack["ttl"], id=host.next_id(), flags="DF") / TCP(
        sport=sport, dport=dport, flags="S", seq=seq, window=host.stack["window"], options=host.stack["options"](host.tsval(t, offset)))
    pkts.append((t + d, syn))
    synack = Ether(src=SERVER_MAC, dst=host.mac) / IP(src=SERVER_IP, dst=host.ip, ttl=64, id=0, flags="DF") / TCP(
        sport=dport, dport=sport, flags="SA", seq=1000, ack=seq + 1, window=65160,
        options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (7, host.tsval(t, offset))), ("NOP", None), ("WScale", 7)])
    pkts.append((t + d + 0.0003, synack))
    seq += 1
    t += interval
    while t < start + duration:
        d = host.delay()
        payload = b"x" * 8
        seg = Ether(src=host.mac, dst=SERVER_MAC) / IP(src=host.ip, dst=SERVER_IP, ttl=host.stack["ttl"], id=host.next_id(), flags="DF") / TCP(
            sport=sport, dport=dport, flags="PA", seq=seq, ack=1001, window=502,
            options=[("NOP", None), ("NOP", None), ("Timestamp", (host.tsval(t, offset), 7))]) / Raw(payload)
        pkts.append((t + d, seg))
        seq += len(payload)
        t += interval + rng.uniform(-0.3, 0.3)
    return pkts


def dhcp_request(mac, ip, hostname, t, xid):
    mac_bytes = bytes(int(x, 16) for x in mac.split(":"))
    p = Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255", ttl=64, id=0) / UDP(sport=68, dport=67) / BOOTP(
        chaddr=mac_bytes + b"\x00" * 10, xid=xid, flags=0) / DHCP(options=[
            ("message-type", "request"), ("client_id", b"\x01" + mac_bytes), ("requested_addr", ip), ("hostname", hostname),
            ("param_req_list", [1, 3, 6, 15, 28, 42]), "end"])
    return (t, p)


def hl7(host, t, sport, model):
    msh = "MSH|^~\\&|PUMPGW|WARD4|EMR|HOSP|20260302080000||ORU^R01|MSG0001|P|2.6"
    fields = ["OBX", "1", "NM"] + [""] * 16
    fields[11] = "F"
    fields[18] = model  # OBX-18 equipment instance identifier
    obx = "|".join(fields)
    payload = b"\x0b" + (msh + "\r" + obx + "\r").encode() + b"\x1c\r"
    pkts = connection(host, t, 0.1, 0.2, sport, dport=2575)  # handshake only
    mac, ip = host.mac, host.ip
    last_seq = pkts[0][1][TCP].seq + 1
    seg = Ether(src=mac, dst=SERVER_MAC) / IP(src=ip, dst=SERVER_IP, ttl=host.stack["ttl"], id=host.next_id(), flags="DF") / TCP(
        sport=sport, dport=2575, flags="PA", seq=last_seq, ack=1001, window=502) / Raw(payload)
    pkts.append((t + 0.6, seg))
    return pkts


def write(path, pkts):
    pkts.sort(key=lambda p: p[0])
    w = PcapWriter(path, linktype=1, sync=True)
    for t, p in pkts:
        p.time = START + Decimal(repr(round(t, 6)))
        w.write(p)
    w.close()


def main(out):
    # 1. Known skew.
    rng = random.Random(37)
    dev = Host("00:03:b1:00:00:37", "10.20.4.37", LINUX, 1000, 37.0, rng)
    write(f"{out}/skew-37ppm.pcap", connection(dev, 0.0, 1200.0, 2.0, 40001))

    # 2. Clone: the original and a clone on one MAC, interleaved connections.
    rng = random.Random(99)
    orig = Host("00:03:b1:00:00:99", "10.20.4.99", LINUX, 1000, 37.0, rng)
    clone = Host("00:03:b1:00:00:99", "10.20.4.99", OTHER, 1000, -80.0, rng)
    pkts = []
    for i in range(4):
        pkts += connection(orig, i * 300.0, 240.0, 2.0, 41000 + i)
        pkts += connection(clone, i * 300.0 + 60.0, 240.0, 2.0, 42000 + i)
    write(f"{out}/clone.pcap", pkts)

    # 3. Two units of one pump model, stable for an hour.
    rng = random.Random(7)
    pkts = []
    for n, (mac, ip) in enumerate([("00:03:b1:00:01:01", "10.20.4.101"), ("00:03:b1:00:01:02", "10.20.4.102")]):
        pump = Host(mac, ip, LINUX, 1000, 12.0 - 30 * n, rng)
        pkts.append(dhcp_request(mac, ip, f"PLUM-{n + 1:04d}", 1.0 + n, 0x1000 + n))
        pkts.append(dhcp_request(mac, ip, f"PLUM-{n + 1:04d}", 1800.0 + n, 0x2000 + n))
        for k in range(6):
            pkts += connection(pump, 10.0 + k * 600.0 + n, 480.0, 4.0, 43000 + 10 * n + k)
            pkts += hl7(pump, 300.0 + k * 600.0 + n, 44000 + 10 * n + k, "Hospira Plum A+")
    write(f"{out}/stable-hour.pcap", pkts)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
