// libFuzzer entry for the link, network and transport decoders: every link type, IPv4/IPv6, UDP, TCP, ICMP, p0f.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    for type in [LinkType.ethernet, .linuxSLL, .linuxSLL2, .null, .loop, .raw, .ciscoHDLC] {
        guard let frame = LinkDecoder.decode(bytes, linkType: type) else { continue }
        _ = ARPMessage.decode(frame.payload)
        if case .success(let ip) = IPv4Packet.decode(frame.payload) {
            _ = UDPDatagram.decode(ip.payload)
            _ = ICMPv4Message.decode(ip.payload)
            if case .success(let tcp) = TCPSegment.decode(ip.payload), let facts = IPv4HeaderFacts.decode(frame.payload) {
                _ = P0fSignature(ip: P0fIPFacts(ipv4: facts), tcp: tcp)?.description
                _ = tcp.timestampSample(timeMicroseconds: 0)
                for _ in tcp.options {}
            }
        }
        if case .success(let ip6) = IPv6Packet.decode(frame.payload) {
            // What the ndp observation reads.
            if case .success(let icmp) = ICMPv6Message.decode(ip6.payload), let nd = icmp.neighborDiscovery {
                _ = (nd.target, nd.sourceMAC, nd.targetMAC, nd.options.count)
            }
            if case .success(let tcp) = TCPSegment.decode(ip6.payload) {
                _ = P0fSignature(ip: P0fIPFacts(ipv6: ip6), tcp: tcp)?.description
            }
        }
        if let llc = LLCFrame.decode(frame), llc.isCDP { _ = CDPPacket.decode(llc.payload) }
    }
    return 0
}
