// libFuzzer entry for TLS: stream scanning, ClientHello and JA4, ServerHello and certificates.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    if case .found(let hello) = TLSClientHello.find(inStream: bytes) { _ = JA4.fingerprint(of: hello) }
    if case .success(let hello) = TLSClientHello.decode(bytes) { _ = JA4.fingerprint(of: hello) }
    _ = TLSStream.handshakeMessages(bytes)
    _ = TLSServerFlight.scan(bytes)
    _ = TLSServerHello.decode(bytes)
    _ = TLSCertificateMessage.decode(bytes)
    return 0
}
