// libFuzzer entry for DHCPv4 and DHCPv6.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    if case .success(let m) = DHCPv4Message.decode(bytes) {
        _ = (m.hostname, m.vendorClass, m.parameterRequestList, m.requestedIP, m.maximumMessageSize)
    }
    if case .success(let m) = DHCPv6Message.decode(bytes) {
        _ = (m.clientDUID, m.optionRequestList, m.vendorClass, m.innermostMessage)
        // What the dhcpv6 observation reads from the client's message.
        if let inner = m.innermostMessage {
            _ = (inner.clientFQDN, inner.elapsedTime, inner.vendorClass?.strings, inner.options.map(\.code))
            if let duid = inner.clientDUID { _ = (duid.hex, duid.type, duid.linkLayerAddress, duid.mac, duid.enterpriseNumber) }
        }
    }
    return 0
}
