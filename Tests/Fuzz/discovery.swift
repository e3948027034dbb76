// libFuzzer entry for discovery and service protocols: LLDP, CDP, SSDP, WS-Discovery, HTTP heads.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    _ = LLDPDU.decode(bytes)
    _ = CDPPacket.decode(bytes)
    _ = SSDPMessage.decode(bytes)
    _ = WSDiscoveryMessage.decode(bytes)
    _ = HTTPHead.mayStartHead(bytes)
    _ = HTTPHead.decode(bytes)
    return 0
}
