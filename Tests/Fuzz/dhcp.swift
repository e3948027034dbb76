// libFuzzer entry for DHCPv4 and DHCPv6.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    if case .success(let m) = DHCPv4Message.decode(bytes) {
        _ = (m.hostname, m.vendorClass, m.parameterRequestList, m.requestedIP, m.maximumMessageSize)
    }
    if case .success(let m) = DHCPv6Message.decode(bytes) {
        _ = (m.clientDUID, m.optionRequestList, m.vendorClass, m.innermostMessage)
    }
    return 0
}
