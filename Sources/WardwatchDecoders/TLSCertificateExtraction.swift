/// A TLS 1.2 (and earlier) Certificate handshake message (RFC 5246 7.4.2): the sender's chain as DER bytes.
/// X.509 parsing happens elsewhere. TLS 1.3 sends certificates encrypted, so a sensor never sees them.
public struct TLSCertificateMessage: Equatable, Sendable {
    /// DER certificates in the sender's order (the leaf first, by convention), copied out of the message.
    public var certificates: [[UInt8]]

    /// Decodes a Certificate handshake message (starting at its 4-byte header). Bytes after the message are ignored.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<TLSCertificateMessage, TLSDecodeError> {
        let body: Range<Int>
        switch tlsHandshakeBody(bytes, type: TLS.HandshakeType.certificate) {
        case .success(let range): body = range
        case .failure(let error): return .failure(error)
        }
        var reader = TLSReader(bytes, from: body.lowerBound, to: body.upperBound)
        guard let listLength = reader.u24() else { return .failure(.truncated) }
        guard listLength == reader.remaining else { return .failure(.badLength("certificate_list")) }
        var certificates: [[UInt8]] = []
        while reader.remaining > 0 {
            guard let length = reader.u24(), length > 0, let range = reader.range(length) else {
                return .failure(.badLength("certificate"))
            }
            certificates.append(Array(bytes[range]))
        }
        return .success(TLSCertificateMessage(certificates: certificates))
    }

    /// Decodes `bytes` as one handshake message; see `decode(_:)`.
    public static func decode(_ bytes: [UInt8]) -> Result<TLSCertificateMessage, TLSDecodeError> {
        bytes.withUnsafeBytes { decode($0) }
    }
}

/// What the plaintext start of a server-to-client TCP stream reveals: the ServerHello (after a HelloRetryRequest,
/// if any) and, up to TLS 1.2, the certificate chain. Read as the stream grows: each `advance` reads only the records
/// that arrived since the last one.
public struct TLSServerFlight: Equatable, Sendable {
    /// The TLS 1.3 HelloRetryRequest, when the server sent one before its real ServerHello.
    public var helloRetryRequest: TLSServerHello?
    /// The ServerHello: the version and cipher suite the server chose.
    public var serverHello: TLSServerHello?
    /// The certificate chain, sent in the clear up to TLS 1.2.
    public var certificate: TLSCertificateMessage?
    /// The first error met: not TLS, a malformed record, or a ServerHello or Certificate that did not decode.
    public var error: TLSDecodeError?
    /// True when more of the stream cannot add anything: the chain is here, the server chose TLS 1.3 (its chain is
    /// encrypted), the flight ended without one (resumption, anonymous or PSK suites), the plaintext ended, or an
    /// error. False means: advance again with more of the stream.
    public var isComplete = false
    private var reassembler: TLSHandshakeReassembler
    /// Messages read so far.
    private var messageCount = 0
    /// The first message was not a ServerHello: nothing more is read.
    private var rejected = false

    public init(maxMessageLength: Int = 1 << 17) {
        reassembler = TLSHandshakeReassembler(maxMessageLength: maxMessageLength)
    }

    /// Bytes held for a message in the making.
    public var heldBytes: Int { reassembler.heldBytes }

    /// Scans `stream`, the server-to-client payload bytes seen so far, in order, from the first one, in one go.
    public static func scan(_ stream: UnsafeRawBufferPointer, maxMessageLength: Int = 1 << 17) -> TLSServerFlight {
        var flight = TLSServerFlight(maxMessageLength: maxMessageLength)
        flight.advance(stream)
        return flight
    }

    /// Reads what `stream` (the direction's payload bytes from the first one: those of the last call, possibly with
    /// more after them) adds. Messages after the flight is complete are still read, as a scan of the whole stream
    /// would, so the outcome does not depend on how the stream was cut into calls.
    public mutating func advance(_ stream: UnsafeRawBufferPointer) {
        guard !rejected else { return }
        for message in reassembler.advance(stream) {
            messageCount += 1
            if messageCount == 1, message.type != TLS.HandshakeType.serverHello {
                error = .unexpectedHandshakeType(message.type)
                isComplete = true
                rejected = true
                return
            }
            read(message)
        }
        // A record error takes precedence over a message that did not decode.
        if case .failed(let why) = reassembler.status { error = why }
        if reassembler.status != .needMoreData { isComplete = true }
    }

    private mutating func read(_ message: TLSHandshakeMessage) {
        switch message.type {
        case TLS.HandshakeType.serverHello where serverHello == nil:
            switch TLSServerHello.decode(message.bytes) {
            case .success(let hello) where hello.isHelloRetryRequest && helloRetryRequest == nil:
                helloRetryRequest = hello
            case .success(let hello):
                serverHello = hello
                if hello.selectedVersion >= 0x0304 && hello.selectedVersion < 0x0400 { isComplete = true }
            case .failure(let why):
                error = error ?? why
                isComplete = true
            }
        case TLS.HandshakeType.certificate where serverHello != nil && certificate == nil:
            switch TLSCertificateMessage.decode(message.bytes) {
            case .success(let chain): certificate = chain
            case .failure(let why): error = error ?? why
            }
            isComplete = true
        case TLS.HandshakeType.serverHelloDone where serverHello != nil:  // the flight ended without a chain
            isComplete = true
        default:
            break
        }
    }
}
