// libFuzzer entry for DNS and mDNS.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    if case .success(let m) = DNSMessage.decode(bytes) {
        _ = (m.modelTXTFields, m.answerHostNames, m.queriedHostNames, m.serviceInstances)
    }
    return 0
}
