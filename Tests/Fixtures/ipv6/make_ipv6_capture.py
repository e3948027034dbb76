#!/usr/bin/env python3
"""Writes ipv6-dhcpv6-ndp.pcap: a synthetic IPv6 address set-up of an infusion pump on a ward VLAN.

Deterministic (fixed addresses, transaction ids and packet times). Run `python3 make_ipv6_capture.py .` in this
folder; needs python3 and scapy. Frames, one second apart from 2026-03-02T08:00:00Z:
 1 RS  pump -> ff02::2, source link-layer address option
 2 RA  router -> ff02::1, M and O flags, lifetime 1800, MTU 1500, prefix 2001:db8:20::/64 (L, not A), RDNSS
 3 NS  pump, duplicate address detection (source ::, no link-layer option)
 4 NS  router -> pump, source link-layer address option
 5 NA  pump -> router, solicited and override, target link-layer address option
 6 DHCPv6 Solicit (DUID-LLT, ORO 23 24 39 17, elapsed 0, vendor class 32473 "WardPump-9000" + 2 binary bytes,
   client FQDN pump-17.ward4.example.org with S, IA_NA)
 7 DHCPv6 Solicit retransmission (same xid, elapsed 100): a repeat for the announcement filter
 8 DHCPv6 Advertise (server DUID-LL, the pump's client id, IA_NA 2001:db8:20::1:2)
 9 DHCPv6 Request
10 DHCPv6 Reply
11 RA  identical to frame 2, ten seconds later: a repeat for the announcement filter
12 DHCPv6 Relay-forward from a relay agent carrying a Solicit of a second pump (DUID-LL)
"""
import sys
from pathlib import Path

from scapy.layers.dhcp6 import (
    DHCP6_Advertise, DHCP6_RelayForward, DHCP6_Reply, DHCP6_Request, DHCP6_Solicit, DHCP6OptClientFQDN,
    DHCP6OptClientId, DHCP6OptElapsedTime, DHCP6OptIA_NA, DHCP6OptIAAddress, DHCP6OptOptReq, DHCP6OptRelayMsg,
    DHCP6OptServerId, DHCP6OptVendorClass, DUID_LL, DUID_LLT, VENDOR_CLASS_DATA,
)
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_RS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptMTU, ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptRDNSS, ICMPv6NDOptSrcLLAddr, IPv6,
)
from scapy.layers.l2 import Ether
from scapy.utils import PcapWriter

PUMP_MAC, PUMP_LL = "00:1b:21:0a:0b:0c", "fe80::21b:21ff:fe0a:b0c"
PUMP2_MAC, PUMP2_LL = "00:1b:21:0a:0b:0d", "fe80::21b:21ff:fe0a:b0d"
ROUTER_MAC, ROUTER_LL = "00:00:5e:00:53:01", "fe80::200:5eff:fe00:5301"
RELAY_MAC = "00:00:5e:00:53:02"
START = 1772438400  # 2026-03-02T08:00:00Z


def client_options(elapsed: int):
    return (
        DHCP6OptClientId(duid=DUID_LLT(hwtype=1, timeval=820000000, lladdr=PUMP_MAC))
        / DHCP6OptOptReq(reqopts=[23, 24, 39, 17])
        / DHCP6OptElapsedTime(elapsedtime=elapsed)
        / DHCP6OptVendorClass(enterprisenum=32473, vcdata=[VENDOR_CLASS_DATA(data=b"WardPump-9000"),
                                                           VENDOR_CLASS_DATA(data=b"\x01\xfe")])
        / DHCP6OptClientFQDN(flags=1, fqdn="pump-17.ward4.example.org.")
        / DHCP6OptIA_NA(iaid=1, T1=0, T2=0)
    )


def server_options():
    return (
        DHCP6OptServerId(duid=DUID_LL(hwtype=1, lladdr=ROUTER_MAC))
        / DHCP6OptClientId(duid=DUID_LLT(hwtype=1, timeval=820000000, lladdr=PUMP_MAC))
        / DHCP6OptIA_NA(iaid=1, T1=3600, T2=5400, ianaopts=[
            DHCP6OptIAAddress(addr="2001:db8:20::1:2", preflft=14400, validlft=86400)])
    )


def frames():
    pump, router = Ether(src=PUMP_MAC, dst="33:33:00:00:00:02"), Ether(src=ROUTER_MAC, dst="33:33:00:00:00:01")
    ra = (router / IPv6(src=ROUTER_LL, dst="ff02::1", hlim=255)
          / ICMPv6ND_RA(chlim=64, M=1, O=1, routerlifetime=1800, reachabletime=0, retranstimer=0)
          / ICMPv6NDOptSrcLLAddr(lladdr=ROUTER_MAC) / ICMPv6NDOptMTU(mtu=1500)
          / ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=0, validlifetime=86400, preferredlifetime=14400,
                                  prefix="2001:db8:20::")
          / ICMPv6NDOptRDNSS(lifetime=1800, dns=["2001:db8:20::53"]))
    to_servers = Ether(src=PUMP_MAC, dst="33:33:00:01:00:02") / IPv6(src=PUMP_LL, dst="ff02::1:2") / UDP(sport=546, dport=547)
    to_pump = Ether(src=ROUTER_MAC, dst=PUMP_MAC) / IPv6(src=ROUTER_LL, dst=PUMP_LL) / UDP(sport=547, dport=546)
    relayed = DHCP6_Solicit(trid=0x0a0b0d) / DHCP6OptClientId(duid=DUID_LL(hwtype=1, lladdr=PUMP2_MAC)) \
        / DHCP6OptOptReq(reqopts=[23, 24]) / DHCP6OptElapsedTime(elapsedtime=0)
    return [
        (0, pump / IPv6(src=PUMP_LL, dst="ff02::2", hlim=255) / ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=PUMP_MAC)),
        (1, ra),
        (2, Ether(src=PUMP_MAC, dst="33:33:ff:01:00:02") / IPv6(src="::", dst="ff02::1:ff01:2", hlim=255)
         / ICMPv6ND_NS(tgt="2001:db8:20::1:2")),
        (3, Ether(src=ROUTER_MAC, dst=PUMP_MAC) / IPv6(src=ROUTER_LL, dst=PUMP_LL, hlim=255)
         / ICMPv6ND_NS(tgt=PUMP_LL) / ICMPv6NDOptSrcLLAddr(lladdr=ROUTER_MAC)),
        (4, Ether(src=PUMP_MAC, dst=ROUTER_MAC) / IPv6(src=PUMP_LL, dst=ROUTER_LL, hlim=255)
         / ICMPv6ND_NA(R=0, S=1, O=1, tgt=PUMP_LL) / ICMPv6NDOptDstLLAddr(lladdr=PUMP_MAC)),
        (5, to_servers / DHCP6_Solicit(trid=0x1d2c3b) / client_options(0)),
        (6, to_servers / DHCP6_Solicit(trid=0x1d2c3b) / client_options(100)),
        (7, to_pump / DHCP6_Advertise(trid=0x1d2c3b) / server_options()),
        (8, to_servers / DHCP6_Request(trid=0x2e3d4c) / DHCP6OptServerId(duid=DUID_LL(hwtype=1, lladdr=ROUTER_MAC))
         / client_options(0)),
        (9, to_pump / DHCP6_Reply(trid=0x2e3d4c) / server_options()),
        (11, ra),
        (12, Ether(src=RELAY_MAC, dst="00:00:5e:00:53:03") / IPv6(src="2001:db8:20::fe", dst="2001:db8:ff::547")
         / UDP(sport=547, dport=547)
         / DHCP6_RelayForward(hopcount=0, linkaddr="2001:db8:20::fe", peeraddr=PUMP2_LL)
         / DHCP6OptRelayMsg(message=relayed)),
    ]


def main(folder: str) -> None:
    path = Path(folder) / "ipv6-dhcpv6-ndp.pcap"
    writer = PcapWriter(str(path), linktype=1, sync=True)
    for offset, frame in frames():
        frame.time = START + offset
        writer.write(frame)
    writer.close()
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
