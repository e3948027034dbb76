#!/usr/bin/env python3
"""Generate Wardwatch's bundled sample capture of a small hospital ward.

Usage: python3 make_ward_sample.py OUT.pcap EXPECTED.json

The output is deterministic: fixed timestamps (from 2026-03-02T08:00:00Z), fixed
transaction ids, IP ids and ports, no randomness. Running it twice gives
byte-identical files. Classic pcap, DLT_EN10MB, microsecond timestamps.

See README.md next to this file for what the capture contains.
"""

import json
import sys
from datetime import datetime, timezone
from decimal import Decimal

from scapy.all import (ARP, BOOTP, DHCP, DNS, DNSQR, DNSRR, Dot1Q, Ether,
                       ICMPv6ND_RS, IP, IPv6, Padding, PcapWriter, TCP, UDP)

START = Decimal(int(datetime(2026, 3, 2, 8, 0, 0, tzinfo=timezone.utc).timestamp()))
BROADCAST = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"
VLAN = 20

SUBNET_MASK = "255.255.255.0"
ROUTER_IP = "10.20.4.1"
DNS_SERVERS = ["10.20.0.53", "10.20.0.54"]
DOMAIN = "ward4.general-hospital.local"
LEASE = 28800

ROUTER = {
    "mac": "00:1b:54:c2:4a:01", "ip": ROUTER_IP, "hostname": None, "vendor_class": None,
    "prl": None, "vlan": VLAN, "role": "router/DHCP server",
    "oui": "Cisco Systems, Inc",
}


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def cid_ethernet(mac):
    """Option 61 as most clients send it: hardware type 1 + MAC."""
    return b"\x01" + mac_bytes(mac)


def cid_dhcpcd(mac):
    """Option 61 as dhcpcd sends it (RFC 4361): 0xff, IAID, DUID-LLT."""
    iaid = mac_bytes(mac)[2:]
    duid = b"\x00\x01\x00\x01" + bytes.fromhex("2c5f1e80") + mac_bytes(mac)
    return b"\xff" + iaid + duid


# Clients, in the order they join the ward. "opts" is the client's DISCOVER option
# order (53 first, 55 placement as the real stack does it); REQUEST adds 50 and 54
# after 61 (or after 53 when there is no 61). Vendor classes of medical devices,
# the printer and the phone are illustrative, not captured from real units.
CLIENTS = [
    {
        "key": "pump1", "mac": "00:03:b1:5e:21:07", "ip": "10.20.4.31",
        "hostname": "PUMP-4W-01", "vendor_class": "ICUMedical-Plum360",
        "prl": [1, 3, 6, 15, 28, 42, 51, 58, 59], "maxsize": 576,
        "cid": "eth", "vlan": VLAN, "role": "infusion pump",
        "oui": "ICU Medical, Inc.", "broadcast": True, "ttl": 64,
        "opts": [53, 61, 57, 60, 12, 55], "join": 12, "zero_udp_csum": True,
    },
    {
        "key": "pump2", "mac": "00:03:b1:5e:21:3c", "ip": "10.20.4.32",
        "hostname": "PUMP-4W-02", "vendor_class": "ICUMedical-Plum360",
        "prl": [1, 3, 6, 15, 28, 42, 51, 58, 59], "maxsize": 576,
        "cid": "eth", "vlan": VLAN, "role": "infusion pump",
        "oui": "ICU Medical, Inc.", "broadcast": True, "ttl": 64,
        "opts": [53, 61, 57, 60, 12, 55], "join": 47,
    },
    {
        "key": "monitor", "mac": "00:09:5c:4f:8a:12", "ip": "10.20.4.40",
        "hostname": "MON-4W-BED3", "vendor_class": "Philips-IntelliVue-MX450",
        "prl": [1, 3, 28, 6, 15, 42, 44, 46, 51, 58, 59], "maxsize": 1024,
        "cid": "eth", "vlan": VLAN, "role": "patient monitor",
        "oui": "Philips Medical Systems - Cardiac and Monitoring Systems (CM",
        "broadcast": False, "ttl": 64,
        "opts": [53, 57, 61, 12, 60, 55], "join": 95,
    },
    {
        "key": "ws", "mac": "98:e7:43:1d:6b:20", "ip": "10.20.4.50",
        "hostname": "WS-4W-NURSE", "vendor_class": "MSFT 5.0",
        "prl": [1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252], "maxsize": None,
        "cid": "eth", "vlan": None, "role": "nurse-station workstation",
        "oui": "Dell Inc.", "broadcast": False, "ttl": 128,
        "opts": [53, 61, 12, 60, 55], "fqdn": True, "join": 150,
    },
    {
        "key": "printer", "mac": "04:0e:3c:8e:52:d9", "ip": "10.20.4.70",
        "hostname": "PRN-4W-01", "vendor_class": "Hewlett-Packard JetDirect",
        "prl": [1, 3, 44, 6, 7, 12, 15, 22, 54, 58, 59, 69, 18, 144], "maxsize": 1500,
        "cid": "eth", "vlan": None, "role": "ward printer",
        "oui": "HP Inc.", "broadcast": False, "ttl": 64,
        "opts": [53, 55, 57, 61, 12, 60], "join": 210,
    },
    {
        "key": "ct", "mac": "88:4b:39:0c:71:a5", "ip": "10.20.4.60",
        "hostname": "CT-RAD-01", "vendor_class": "MSFT 5.0",
        "prl": [1, 15, 3, 6, 44, 46, 47, 31, 33, 121, 249, 43, 252], "maxsize": None,
        "cid": "eth", "vlan": VLAN, "role": "CT scanner",
        "oui": "Siemens AG, Healthcare Sector", "broadcast": False, "ttl": 128,
        "opts": [53, 61, 12, 60, 55], "join": 290,
    },
    {
        "key": "cart", "mac": "ac:ed:5c:93:0e:48", "ip": "10.20.4.80",
        "hostname": "TH-4W-CART1", "vendor_class": None,
        "prl": [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42], "maxsize": None,
        "cid": None, "vlan": None, "role": "telehealth cart",
        "oui": "Intel Corporate", "broadcast": False, "ttl": 64,
        "opts": [53, 12, 55], "join": 360,
    },
    {
        "key": "gateway", "mac": "dc:a6:32:7b:19:e4", "ip": "10.20.4.90",
        "hostname": "GW-4W-WEAR1",
        "vendor_class": "dhcpcd-9.4.1:Linux-5.10.103-v7l+:armv7l:BCM2711",
        "prl": [1, 121, 33, 3, 6, 12, 15, 26, 28, 42, 51, 54, 58, 59, 119], "maxsize": 1472,
        "cid": "dhcpcd", "vlan": VLAN, "role": "wearable remote-monitoring gateway",
        "oui": "Raspberry Pi Trading Ltd", "broadcast": False, "ttl": 64,
        "opts": [53, 61, 57, 60, 12, 55], "join": 430,
    },
    {
        "key": "phone", "mac": "00:04:f2:a8:33:17", "ip": "10.20.4.100",
        "hostname": "Polycom_0004f2a83317", "vendor_class": "Polycom-VVX411",
        "prl": [1, 3, 6, 15, 42, 43, 66, 150, 160, 7], "maxsize": 1500,
        "cid": "eth", "vlan": None, "role": "IP phone",
        "oui": "Polycom", "broadcast": False, "ttl": 64,
        "opts": [53, 57, 61, 12, 60, 55], "join": 500,
    },
    {
        "key": "visitor", "mac": "9a:3e:51:c7:20:4d", "ip": "10.20.4.150",
        "hostname": None, "vendor_class": "android-dhcp-13",
        "prl": [1, 3, 6, 15, 26, 28, 51, 58, 59, 43, 114, 108], "maxsize": 1500,
        "cid": "eth", "vlan": None, "role": "visitor phone (randomised MAC)",
        "oui": None, "broadcast": False, "ttl": 64,
        "opts": [53, 61, 57, 60, 55], "join": 610,
    },
]
BY_KEY = {c["key"]: c for c in CLIENTS}

XIDS = {
    "pump1": 0x5A1C09E3, "pump2": 0x5A1C0A41, "monitor": 0x00C4F2A7,
    "ws": 0x7D3E91B2, "printer": 0x0000A3F1, "ct": 0x1E6F4C08,
    "cart": 0x9B2D6E15, "gateway": 0xC03A7F5D, "phone": 0x4F11D2C6,
    "visitor": 0x83E05B9A,
}

frames = []          # list of (time offset in microseconds, scapy packet)
ip_id = [0x1000]


def next_id():
    ip_id[0] += 1
    return ip_id[0]


def l2(src, dst, vlan, ethertype_payload):
    if vlan is None:
        return Ether(src=src, dst=dst) / ethertype_payload
    return Ether(src=src, dst=dst) / Dot1Q(vlan=vlan, prio=0) / ethertype_payload


def emit(t_us, pkt, pad_to_60=True):
    if pad_to_60 and len(pkt) < 60:
        pkt = pkt / Padding(load=b"\x00" * (60 - len(pkt)))
    frames.append((t_us, pkt))


def client_option(c, code, msg_type):
    if code == 53:
        return ("message-type", msg_type)
    if code == 61:
        return ("client_id", cid_ethernet(c["mac"]) if c["cid"] == "eth" else cid_dhcpcd(c["mac"]))
    if code == 57:
        return ("max_dhcp_size", c["maxsize"])
    if code == 60:
        return ("vendor_class_id", c["vendor_class"].encode())
    if code == 12:
        return ("hostname", c["hostname"].encode())
    if code == 55:
        return ("param_req_list", c["prl"])
    raise ValueError(code)


def client_options(c, msg_type):
    opts = []
    for code in c["opts"]:
        if code == 61 and c["cid"] is None:
            continue
        if code == 57 and c["maxsize"] is None:
            continue
        if code == 60 and c["vendor_class"] is None:
            continue
        if code == 12 and c["hostname"] is None:
            continue
        opts.append(client_option(c, code, msg_type))
        if msg_type == "request" and code == (61 if c["cid"] else 53):
            opts.append(("requested_addr", c["ip"]))
            opts.append(("server_id", ROUTER_IP))
        if msg_type == "request" and code == 12 and c.get("fqdn"):
            # option 81: flags 0, rcode1 0, rcode2 0, ASCII name (as Windows sends it)
            opts.append(("client_FQDN", b"\x00\x00\x00" + f"{c['hostname']}.{DOMAIN}".encode()))
    return opts


def bootp_padded(bootp, opts):
    """Options, end, then pad so the BOOTP message is at least 300 bytes (RFC 1542)."""
    msg = bootp / DHCP(options=opts + ["end"])
    short = 300 - len(msg)
    if short > 0:
        msg = bootp / DHCP(options=opts + ["end"] + ["pad"] * short)
    return msg


def dhcp_client(t_us, c, msg_type):
    bootp = BOOTP(op=1, xid=XIDS[c["key"]], secs=0,
                  flags=0x8000 if c["broadcast"] else 0,
                  chaddr=mac_bytes(c["mac"]) + b"\x00" * 10)
    msg = bootp_padded(bootp, client_options(c, msg_type))
    udp = UDP(sport=68, dport=67)
    if c.get("zero_udp_csum"):
        udp.chksum = 0
    ip = IP(src="0.0.0.0", dst="255.255.255.255", ttl=c["ttl"], id=next_id() if c["ttl"] == 128 else 0)
    emit(t_us, l2(c["mac"], BROADCAST, c["vlan"], ip / udp / msg))


def dhcp_server(t_us, c, msg_type):
    bootp = BOOTP(op=2, xid=XIDS[c["key"]], secs=0,
                  flags=0x8000 if c["broadcast"] else 0,
                  yiaddr=c["ip"], chaddr=mac_bytes(c["mac"]) + b"\x00" * 10)
    opts = [("message-type", msg_type), ("server_id", ROUTER_IP), ("lease_time", LEASE),
            ("renewal_time", LEASE // 2), ("rebinding_time", LEASE * 7 // 8),
            ("subnet_mask", SUBNET_MASK), ("router", ROUTER_IP),
            ("name_server", *DNS_SERVERS), ("domain", DOMAIN.encode())]
    msg = bootp_padded(bootp, opts)
    if c["broadcast"]:
        dst_mac, dst_ip = BROADCAST, "255.255.255.255"
    else:
        dst_mac, dst_ip = c["mac"], c["ip"]
    ip = IP(src=ROUTER_IP, dst=dst_ip, ttl=255, id=next_id())
    emit(t_us, l2(ROUTER["mac"], dst_mac, c["vlan"], ip / UDP(sport=67, dport=68) / msg))


def arp(t_us, src_mac, vlan, op, psrc, pdst, hwdst=ZERO_MAC, eth_dst=BROADCAST):
    emit(t_us, l2(src_mac, eth_dst, vlan,
                  ARP(op=op, hwsrc=src_mac, psrc=psrc, hwdst=hwdst, pdst=pdst)))


def arp_exchange(t_us, a, b):
    """a asks who-has b; b replies. a and b are dicts with mac/ip/vlan."""
    arp(t_us, a["mac"], a["vlan"], 1, a["ip"], b["ip"])
    arp(t_us + 412, b["mac"], b["vlan"], 2, b["ip"], a["ip"], hwdst=a["mac"], eth_dst=a["mac"])


def router_view(c):
    """The router as seen on the mirror port of client c: tagged when c is tagged."""
    return {"mac": ROUTER["mac"], "ip": ROUTER_IP, "vlan": c["vlan"]}


def sec(s):
    return int(round(s * 1_000_000))


def build():
    # Router announces itself on the ward VLAN (gratuitous ARP request).
    arp(sec(0.250117), ROUTER["mac"], VLAN, 1, ROUTER_IP, ROUTER_IP)

    for i, c in enumerate(CLIENTS):
        t = sec(c["join"]) + 137 * (i + 1)
        dhcp_client(t, c, "discover")
        dhcp_server(t + sec(0.001843), c, "offer")
        dhcp_client(t + sec(0.004210) + 31 * i, c, "request")
        dhcp_server(t + sec(0.006077), c, "ack")
        # RFC 5227 probe, then an announcement (gratuitous ARP).
        arp(t + sec(0.512004), c["mac"], c["vlan"], 1, "0.0.0.0", c["ip"])
        arp(t + sec(2.513880), c["mac"], c["vlan"], 1, c["ip"], c["ip"])

    # The router ARPs for some clients; they reply.
    for key, at in (("pump1", 640.0), ("monitor", 652.5), ("printer", 671.25), ("phone", 688.75)):
        c = BY_KEY[key]
        arp_exchange(sec(at), router_view(c), c)

    ws, ct, prn, gw, mon = (BY_KEY[k] for k in ("ws", "ct", "printer", "gateway", "monitor"))

    # Device-to-device ARP.
    arp_exchange(sec(705.0), ws, prn)
    arp_exchange(sec(717.3), gw, mon)

    # DNS: the workstation resolves the PACS host through the router.
    qname = "pacs.general-hospital.local"
    emit(sec(722.100), l2(ws["mac"], ROUTER["mac"], None,
                          IP(src=ws["ip"], dst=DNS_SERVERS[0], ttl=128, id=next_id())
                          / UDP(sport=58311, dport=53)
                          / DNS(id=0x4A2F, rd=1, qd=DNSQR(qname=qname, qtype="A"))))
    emit(sec(722.101883), l2(ROUTER["mac"], ws["mac"], None,
                             IP(src=DNS_SERVERS[0], dst=ws["ip"], ttl=126, id=next_id())
                             / UDP(sport=53, dport=58311)
                             / DNS(id=0x4A2F, qr=1, aa=0, rd=1, ra=1,
                                   qd=DNSQR(qname=qname, qtype="A"),
                                   an=DNSRR(rrname=qname, type="A", ttl=300, rdata="10.20.8.15"))))

    # Workstation -> CT: ARP, then a DICOM (port 104) TCP handshake and a reset.
    arp_exchange(sec(730.0), ws, ct)
    t = sec(730.004)
    s_seq, c_seq = 0x2B7E1511, 0x6A09E667
    emit(t, l2(ws["mac"], ct["mac"], None,
               IP(src=ws["ip"], dst=ct["ip"], ttl=128, id=next_id(), flags="DF")
               / TCP(sport=49732, dport=104, flags="S", seq=c_seq, window=64240,
                     options=[("MSS", 1460), ("NOP", None), ("WScale", 8),
                              ("NOP", None), ("NOP", None), ("SAckOK", b"")])))
    emit(t + 388, l2(ct["mac"], ws["mac"], VLAN,
                     IP(src=ct["ip"], dst=ws["ip"], ttl=128, id=next_id(), flags="DF")
                     / TCP(sport=104, dport=49732, flags="SA", seq=s_seq, ack=c_seq + 1,
                           window=8192, options=[("MSS", 1460), ("NOP", None), ("WScale", 8),
                                                 ("NOP", None), ("NOP", None), ("SAckOK", b"")])))
    emit(t + 611, l2(ws["mac"], ct["mac"], None,
                     IP(src=ws["ip"], dst=ct["ip"], ttl=128, id=next_id(), flags="DF")
                     / TCP(sport=49732, dport=104, flags="A", seq=c_seq + 1, ack=s_seq + 1,
                           window=1026)))
    emit(t + sec(1.250342), l2(ws["mac"], ct["mac"], None,
                               IP(src=ws["ip"], dst=ct["ip"], ttl=128, id=next_id(), flags="DF")
                               / TCP(sport=49732, dport=104, flags="RA", seq=c_seq + 1,
                                     ack=s_seq + 1, window=0)))

    # IPv6: the visitor phone sends a router solicitation.
    vis = BY_KEY["visitor"]
    emit(sec(741.9), Ether(src=vis["mac"], dst="33:33:00:00:00:02")
         / IPv6(src="fe80::983e:51ff:fec7:204d", dst="ff02::2", hlim=255)
         / ICMPv6ND_RS())

    # The malformed frame: a DHCPDISCOVER cut short 20 bytes into the BOOTP header
    # (inside ciaddr/yiaddr, well before chaddr). IP and UDP lengths still claim the
    # whole message. Its source MAC appears in no other frame.
    ghost = "00:03:b1:5e:21:55"
    whole = (Ether(src=ghost, dst=BROADCAST)
             / IP(src="0.0.0.0", dst="255.255.255.255", ttl=64, id=0)
             / UDP(sport=68, dport=67)
             / BOOTP(op=1, xid=0x5A1C0B77, flags=0x8000, chaddr=mac_bytes(ghost) + b"\x00" * 10)
             / DHCP(options=[("message-type", "discover"), "end"] + ["pad"] * 57))
    raw = bytes(whole)
    cut = 14 + 20 + 8 + 20
    truncated = Ether(raw[:cut])
    emit(sec(760.5), truncated, pad_to_60=False)

    # The pump ARPs for its default gateway; this closes the capture (~15 min).
    p1 = BY_KEY["pump1"]
    arp_exchange(sec(899.0), p1, router_view(p1))

    frames.sort(key=lambda f: f[0])
    malformed_numbers = [i + 1 for i, (_, p) in enumerate(frames) if p is truncated]
    return malformed_numbers


def vlans_by_device():
    """VLAN ids (sorted) of the frames that a DHCP or ARP decoder attributes to each
    device key: ARP by sender MAC, DHCP by chaddr (so server replies count for the
    client). An untagged frame adds nothing."""
    seen = {}
    for _, p in frames:
        key = None
        if ARP in p:
            key = p[ARP].hwsrc
        elif BOOTP in p and DHCP in p:
            key = ":".join(f"{b:02x}" for b in bytes(p[BOOTP].chaddr)[:6])
        if key is None:
            continue
        ids = seen.setdefault(key, set())
        if Dot1Q in p:
            ids.add(p[Dot1Q].vlan)
    return {k: sorted(v) for k, v in seen.items()}


def expected(n_packets, malformed_numbers):
    devices = []
    vlans = vlans_by_device()

    def entry(d, client):
        org = d["oui"]
        first = int(d["mac"].split(":")[0], 16)
        rec = {
            "mac": d["mac"],
            "ip": d["ip"],
            "hostname": d["hostname"],
            "vendor_class": d["vendor_class"],
            "parameter_request_list": d["prl"],
            "vlan": d["vlan"],
            "vlans": vlans[d["mac"]],
            "role": d["role"],
            "oui_organisation": org,
            "locally_administered": bool(first & 0x02),
        }
        if client:
            cid = None
            if d["cid"] == "eth":
                cid = cid_ethernet(d["mac"]).hex()
            elif d["cid"] == "dhcpcd":
                cid = cid_dhcpcd(d["mac"]).hex()
            rec["client_id"] = cid
            rec["max_message_size"] = d["maxsize"]
        else:
            rec["client_id"] = None
            rec["max_message_size"] = None
        return rec

    devices.append(entry(ROUTER, False))
    for c in CLIENTS:
        devices.append(entry(c, True))
    return {
        "capture": "ward-sample.pcap",
        "packets": n_packets,
        "malformed_frames": len(malformed_numbers),
        "malformed_frame_numbers": malformed_numbers,
        "start": "2026-03-02T08:00:00Z",
        "devices": devices,
    }


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: make_ward_sample.py OUT.pcap EXPECTED.json\n")
        return 2
    out_pcap, out_json = argv[1], argv[2]
    malformed = build()
    writer = PcapWriter(out_pcap, linktype=1, sync=True, nano=False)
    for t_us, pkt in frames:
        pkt.time = START + Decimal(t_us) / Decimal(1_000_000)
        writer.write(pkt)
    writer.close()
    with open(out_json, "w", encoding="utf-8") as f:
        json.dump(expected(len(frames), malformed), f, indent=2, ensure_ascii=False)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
