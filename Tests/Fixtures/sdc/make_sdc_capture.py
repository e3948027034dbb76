#!/usr/bin/env python3
"""Writes sdc-wsdiscovery.pcap: a SYNTHETIC capture of WS-Discovery 1.1 (SOAP over UDP, port 3702) as IEEE 11073 SDC
participants use it, and sdc-wsdiscovery.expected.json, the values a decoder must find, read back from the written
capture with Python's own XML parser (xml.etree), independently of the message templates.

No public capture of IEEE 11073 SDC exists; every device, UUID, address and location here is made up.

Usage: python3 make_sdc_capture.py [OUTPUT_DIR]   (needs scapy; output is byte-for-byte deterministic)
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

from scapy.all import IP, UDP, Ether, IPv6, Raw, rdpcap, wrpcap

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))

SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
WSD = "http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01"
DPWS = "http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01"
MDPWS = "http://standards.ieee.org/downloads/11073/11073-20702-2016"
TO_MULTICAST = "urn:docs-oasis-open-org:ws-dd:ns:discovery:2009:01"

MONITOR = "urn:uuid:6f1e2a40-3c55-4b7e-9d1a-0a1b2c3d4e01"   # a patient monitor (provider)
PUMP = "urn:uuid:9b2d7c10-8e44-4f0a-a2b3-112233445566"      # an infusion pump (provider)
CENTRAL = "urn:uuid:0c0ffee0-1111-4222-8333-944455566677"    # a central station (consumer)
MONITOR_SCOPES = [
    "sdc.ctxt.loc:/sdc.ctxt.loc.detail/HOSP1%2F%2F%2FICU%2FRoom12%2FBed3?fac=HOSP1&amp;poc=ICU&amp;rm=Room12&amp;bed=Bed3",
    "sdc.mds.pkp:1.2.840.10004.20701.1.1",
    "sdc.cdc.type:///69650",
]
PUMP_SCOPES = [
    "sdc.ctxt.loc:/sdc.ctxt.loc.detail/HOSP1%2F%2F%2FICU%2FRoom12%2FBed3?fac=HOSP1&amp;poc=ICU&amp;rm=Room12&amp;bed=Bed3",
    "sdc.mds.pkp:1.2.840.10004.20701.1.1",
    "sdc.cdc.type:///70958",
]


def envelope(action, message_id, body, relates_to=None, to=TO_MULTICAST, app_seq=None, prefixes=("s12", "wsa", "wsd"),
             declaration=True):
    s, a, d = prefixes
    header = f"<{a}:Action>{action}</{a}:Action><{a}:MessageID>{message_id}</{a}:MessageID>"
    if to:  # optional in a reply: WS-Addressing's default is the anonymous address
        header += f"<{a}:To>{to}</{a}:To>"
    if relates_to:
        header += f"<{a}:RelatesTo>{relates_to}</{a}:RelatesTo>"
    if app_seq:
        header += f'<{d}:AppSequence InstanceId="{app_seq[0]}" MessageNumber="{app_seq[1]}"/>'
    return (
        ('<?xml version="1.0" encoding="UTF-8"?>' if declaration else "")
        + f'<{s}:Envelope xmlns:{s}="{SOAP}" xmlns:{a}="{WSA}" xmlns:{d}="{WSD}" xmlns:dpws="{DPWS}" xmlns:mdpws="{MDPWS}">'
        f"<{s}:Header>{header}</{s}:Header><{s}:Body>{body}</{s}:Body></{s}:Envelope>"
    ).encode()


def endpoint_block(epr, types, scopes, xaddrs, version, d="wsd", a="wsa"):
    out = f"<{a}:EndpointReference><{a}:Address>{epr}</{a}:Address></{a}:EndpointReference>"
    if types:
        out += f"<{d}:Types>{types}</{d}:Types>"
    if scopes:
        out += f"<{d}:Scopes>{' '.join(scopes)}</{d}:Scopes>"
    if xaddrs:
        out += f"<{d}:XAddrs>{xaddrs}</{d}:XAddrs>"
    out += f"<{d}:MetadataVersion>{version}</{d}:MetadataVersion>"
    return out


messages = []  # (src ip, dst ip, sport, dport, payload)
V4_MULTICAST = "239.255.255.250"
MON_IP, PUMP_IP, CENTRAL_IP = "10.20.30.41", "10.20.30.42", "10.20.30.5"

# 1. Hello from the monitor.
messages.append((MON_IP, V4_MULTICAST, 3702, 3702, envelope(
    f"{WSD}/Hello", "urn:uuid:a0000001-0000-4000-8000-000000000001",
    "<wsd:Hello>" + endpoint_block(MONITOR, "dpws:Device mdpws:MedicalDevice", MONITOR_SCOPES,
                                   f"https://{MON_IP}:6464/{MONITOR[9:]}", 3) + "</wsd:Hello>",
    app_seq=(1700000000, 1))))
# 2. Probe from the central station for medical devices at the ICU.
messages.append((CENTRAL_IP, V4_MULTICAST, 50123, 3702, envelope(
    f"{WSD}/Probe", "urn:uuid:a0000002-0000-4000-8000-000000000002",
    "<wsd:Probe><wsd:Types>mdpws:MedicalDevice</wsd:Types>"
    '<wsd:Scopes MatchBy="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/rfc3986">'
    "sdc.ctxt.loc:/sdc.ctxt.loc.detail/HOSP1%2F%2F%2FICU</wsd:Scopes></wsd:Probe>")))
# 3. ProbeMatches from the monitor (unicast reply).
messages.append((MON_IP, CENTRAL_IP, 3702, 50123, envelope(
    f"{WSD}/ProbeMatches", "urn:uuid:a0000003-0000-4000-8000-000000000003",
    "<wsd:ProbeMatches><wsd:ProbeMatch>" + endpoint_block(
        MONITOR, "dpws:Device mdpws:MedicalDevice", MONITOR_SCOPES, f"https://{MON_IP}:6464/{MONITOR[9:]}", 3)
    + "</wsd:ProbeMatch></wsd:ProbeMatches>",
    relates_to="urn:uuid:a0000002-0000-4000-8000-000000000002", to="http://www.w3.org/2005/08/addressing/anonymous",
    app_seq=(1700000000, 2))))
# 4. ProbeMatches from a gateway answering for two devices, written with other prefixes, a comment, CDATA,
#    a default namespace on Types, a character reference, no XML declaration and no wsa:To. (Every message fits one
#    Ethernet frame: no IP fragments.)
body = ("<d:ProbeMatches><!-- gateway --><d:ProbeMatch>"
        + endpoint_block(PUMP, "dpws:Device mdpws:MedicalDevice", PUMP_SCOPES[1:],
                         f"https://{PUMP_IP}:6464/pump http://{PUMP_IP}:6465/pump", 7, d="d", a="a")
        + "</d:ProbeMatch><d:ProbeMatch>"
        + "<a:EndpointReference><a:Address><![CDATA[" + MONITOR + "]]></a:Address></a:EndpointReference>"
        + f'<d:Types xmlns="{DPWS}">Device mdpws:MedicalDevice</d:Types>'
        + "<d:Scopes>&#x73;dc.cdc.type:///69650</d:Scopes>"
        + f"<d:XAddrs>https://{MON_IP}:6464/mon</d:XAddrs><d:MetadataVersion> 3 </d:MetadataVersion>"
        + "</d:ProbeMatch></d:ProbeMatches>")
messages.append((PUMP_IP, CENTRAL_IP, 3702, 50123, envelope(
    f"{WSD}/ProbeMatches", "urn:uuid:a0000004-0000-4000-8000-000000000004", body,
    relates_to="urn:uuid:a0000002-0000-4000-8000-000000000002", to=None, declaration=False,
    prefixes=("soap", "a", "d"))))
# 5. Resolve for the pump, 6. ResolveMatches.
messages.append((CENTRAL_IP, V4_MULTICAST, 50123, 3702, envelope(
    f"{WSD}/Resolve", "urn:uuid:a0000005-0000-4000-8000-000000000005",
    f"<wsd:Resolve><wsa:EndpointReference><wsa:Address>{PUMP}</wsa:Address></wsa:EndpointReference></wsd:Resolve>")))
messages.append((PUMP_IP, CENTRAL_IP, 3702, 50123, envelope(
    f"{WSD}/ResolveMatches", "urn:uuid:a0000006-0000-4000-8000-000000000006",
    "<wsd:ResolveMatches><wsd:ResolveMatch>" + endpoint_block(
        PUMP, "dpws:Device mdpws:MedicalDevice", PUMP_SCOPES, f"https://{PUMP_IP}:6464/pump", 7)
    + "</wsd:ResolveMatch></wsd:ResolveMatches>",
    relates_to="urn:uuid:a0000005-0000-4000-8000-000000000005", to="http://www.w3.org/2005/08/addressing/anonymous")))
# 7. Hello from the pump over IPv6 (ff02::c).
messages.append(("fe80::2a0:45ff:fe00:42", "ff02::c", 3702, 3702, envelope(
    f"{WSD}/Hello", "urn:uuid:a0000007-0000-4000-8000-000000000007",
    "<wsd:Hello>" + endpoint_block(PUMP, "dpws:Device mdpws:MedicalDevice", PUMP_SCOPES,
                                   "https://[fe80::2a0:45ff:fe00:42]:6464/pump", 7) + "</wsd:Hello>",
    app_seq=(1700000100, 1))))
# 8. Bye from the monitor.
messages.append((MON_IP, V4_MULTICAST, 3702, 3702, envelope(
    f"{WSD}/Bye", "urn:uuid:a0000008-0000-4000-8000-000000000008",
    f"<wsd:Bye><wsa:EndpointReference><wsa:Address>{MONITOR}</wsa:Address></wsa:EndpointReference></wsd:Bye>",
    app_seq=(1700000000, 3))))

MACS = {MON_IP: "00:a0:45:00:00:41", PUMP_IP: "00:a0:45:00:00:42", CENTRAL_IP: "00:a0:45:00:00:05",
        "fe80::2a0:45ff:fe00:42": "00:a0:45:00:00:42"}


def multicast_mac(dst):
    if dst == V4_MULTICAST:
        return "01:00:5e:7f:ff:fa"
    if dst == "ff02::c":
        return "33:33:00:00:00:0c"
    return next(m for ip, m in MACS.items() if ip == dst)


frames = []
for i, (src, dst, sport, dport, payload) in enumerate(messages):
    l3 = (IPv6(src=src, dst=dst, hlim=1) if ":" in src else IP(src=src, dst=dst, ttl=1 if dst == V4_MULTICAST else 64, id=i + 1, flags="DF"))
    frame = Ether(src=MACS[src], dst=multicast_mac(dst)) / l3 / UDP(sport=sport, dport=dport) / Raw(payload)
    frame.time = 1700000000 + i  # fixed timestamps: deterministic output
    frames.append(frame)
    assert len(frame) <= 1514, f"message {i + 1} needs IP fragmentation"
pcap_path = os.path.join(OUT, "sdc-wsdiscovery.pcap")
wrpcap(pcap_path, frames)

# Ground truth, read back from the written capture with a real XML parser.
NS = {"s": SOAP, "a": WSA, "d": WSD}
KINDS = {"Hello", "Bye", "Probe", "ProbeMatches", "Resolve", "ResolveMatches"}


def expand(qname, element_ns):
    prefix, _, local = qname.rpartition(":")
    return f"{{{element_ns.get(prefix, '')}}}{local}" if element_ns.get(prefix) else qname


def namespaces(payload):
    """Every xmlns declaration in the document, by prefix ('' for the default)."""
    import io
    found = {}
    for _, (prefix, uri) in ET.iterparse(io.BytesIO(payload), events=["start-ns"]):
        found[prefix] = uri
    return found


def endpoint(el, ns):
    def text(path):
        node = el.find(path, NS)
        return None if node is None or node.text is None else node.text.strip()
    types = text("d:Types")
    return {
        "address": text("a:EndpointReference/a:Address"),
        "types": [expand(t, ns) for t in types.split()] if types else [],
        "scopes": (text("d:Scopes") or "").split(),
        "xaddrs": (text("d:XAddrs") or "").split(),
        "metadata_version": int(text("d:MetadataVersion")) if text("d:MetadataVersion") else None,
    }


expected = []
for number, pkt in enumerate(rdpcap(pcap_path), start=1):
    payload = bytes(pkt[UDP].payload)
    root = ET.fromstring(payload)
    ns = namespaces(payload)
    header, body = root.find("s:Header", NS), root.find("s:Body", NS)
    first = list(body)[0]
    kind = first.tag.split("}")[1]
    assert kind in KINDS
    if kind in ("ProbeMatches", "ResolveMatches"):
        endpoints = [endpoint(m, ns) for m in first]
    else:
        endpoints = [endpoint(first, ns)]
    def header_text(name):
        node = header.find(f"a:{name}", NS)
        return None if node is None else node.text.strip()
    expected.append({
        "frame": number, "kind": kind, "action": header_text("Action"), "message_id": header_text("MessageID"),
        "relates_to": header_text("RelatesTo"), "endpoints": endpoints,
    })
with open(os.path.join(OUT, "sdc-wsdiscovery.expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")
print(f"wrote {pcap_path} ({len(frames)} frames) and sdc-wsdiscovery.expected.json")
