/// TLS constants and helpers shared by the handshake decoders (RFC 5246, RFC 8446).
public enum TLS {
    /// Record content types.
    public enum ContentType {
        public static let changeCipherSpec: UInt8 = 20
        public static let alert: UInt8 = 21
        public static let handshake: UInt8 = 22
        public static let applicationData: UInt8 = 23
        public static let heartbeat: UInt8 = 24
    }

    /// Handshake message types.
    public enum HandshakeType {
        public static let clientHello: UInt8 = 1
        public static let serverHello: UInt8 = 2
        public static let certificate: UInt8 = 11
        public static let serverHelloDone: UInt8 = 14
    }

    /// Extension types the decoders read.
    public enum ExtensionType {
        public static let serverName: UInt16 = 0x0000
        public static let supportedGroups: UInt16 = 0x000A
        public static let ecPointFormats: UInt16 = 0x000B
        public static let signatureAlgorithms: UInt16 = 0x000D
        public static let alpn: UInt16 = 0x0010
        public static let supportedVersions: UInt16 = 0x002B
    }

    /// The largest record payload a peer may send (2^14 plaintext plus the 2048 bytes RFC 5246 allows for expansion).
    public static let maxRecordLength = 16_384 + 2_048

    /// GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa, used in cipher suites, extensions, groups, versions and
    /// signature algorithms.
    @inlinable
    public static func isGREASE(_ value: UInt16) -> Bool { value & 0x0F0F == 0x0A0A && value >> 8 == value & 0xFF }
}

/// Why TLS bytes could not be decoded. Carries no payload content.
public enum TLSDecodeError: Error, Equatable, Sendable {
    /// The stream does not start with a TLS handshake record.
    case notTLS
    /// A record header that cannot be right: unknown content type, version or length.
    case badRecord
    /// A handshake message of another type than the one asked for.
    case unexpectedHandshakeType(UInt8)
    /// A handshake message longer than the caller's limit.
    case messageTooLong(Int)
    /// The bytes end before a length field says they should.
    case truncated
    /// A length field inconsistent with its container (the name of the field).
    case badLength(String)
    /// The plaintext handshake ended before the message asked for.
    case noMessage
}

/// One extension of a hello message: its type and where its value sits in the message's `bytes`.
public struct TLSExtension: Equatable, Hashable, Sendable {
    /// The IANA extension type, for example 0x0000 for server_name.
    public var type: UInt16
    /// Offsets of the value (without the type and length fields) in the enclosing message's `bytes`.
    public var valueRange: Range<Int>
}

/// A complete handshake message reassembled from the plaintext records of one direction of a TCP stream.
public struct TLSHandshakeMessage: Equatable, Sendable {
    /// The handshake type (`TLS.HandshakeType`).
    public var type: UInt8
    /// The whole message: the 4-byte header (type and 24-bit length), then the body.
    public var bytes: [UInt8]
}

/// The handshake messages found at the start of one direction of a TLS connection.
public struct TLSHandshakeScan: Equatable, Sendable {
    /// How a scan ended.
    public enum Status: Equatable, Sendable {
        /// The bytes end inside a record or message: scan again once more of the stream has arrived.
        case needMoreData
        /// The plaintext handshake is over: an application-data, alert or heartbeat record, or an encrypted record
        /// after a change-cipher-spec.
        case endOfPlaintext
        /// Not TLS, or a record or message header that cannot be right.
        case failed(TLSDecodeError)
    }

    /// Complete messages in stream order.
    public var messages: [TLSHandshakeMessage]
    /// Why the scan stopped.
    public var status: Status
}

/// Reassembly of handshake messages from the TLS records at the start of one direction of a TCP stream, resumable:
/// each call reads only the records that arrived since the last one, so a handshake sent in many small records costs
/// its length once, not once per segment (rescanning from the start cost 3.6 ms of CPU per connection for a hello
/// claiming 60,000 bytes sent in 1-byte records).
///
/// Change-cipher-spec records are skipped. After one, a handshake record continues the scan only when it starts a
/// ClientHello or ServerHello (the second hello after a TLS 1.3 HelloRetryRequest); anything else there is an
/// encrypted Finished and ends the plaintext.
public struct TLSHandshakeReassembler: Equatable, Sendable {
    /// `.needMoreData` while the plaintext handshake may go on; otherwise why reading stopped (for good).
    public private(set) var status = TLSHandshakeScan.Status.needMoreData
    /// The longest handshake message accepted (a longer one fails the scan).
    public let maxMessageLength: Int
    /// Start of the first record not yet read, in the stream.
    private var offset = 0
    /// Handshake bytes read that do not yet form a whole message.
    private var pending: [UInt8] = []
    private var afterChangeCipherSpec = false

    public init(maxMessageLength: Int = 1 << 17) { self.maxMessageLength = maxMessageLength }

    /// Bytes this reassembler holds (a message in the making).
    public var heldBytes: Int { pending.capacity }

    /// Reads the records of `stream` that follow those read before and returns the messages they complete, in
    /// stream order. `stream` is the direction's bytes from the first payload byte: the same bytes as on the last
    /// call, possibly with more after them. Once `status` is no longer `.needMoreData`, returns nothing.
    public mutating func advance(_ stream: UnsafeRawBufferPointer) -> [TLSHandshakeMessage] {
        var messages: [TLSHandshakeMessage] = []
        while case .needMoreData = status, let end = readRecord(stream, into: &messages) {
            offset = end
        }
        return messages
    }

    /// Reads the record at `offset`: returns where the next one starts, or nil when the bytes end inside this one or
    /// reading has stopped (`status` says why).
    private mutating func readRecord(_ stream: UnsafeRawBufferPointer, into messages: inout [TLSHandshakeMessage]) -> Int? {
        guard let type = stream.readUInt8(at: offset) else { return nil }
        if offset == 0 && type != TLS.ContentType.handshake { return stop(.failed(.notTLS)) }
        guard let major = stream.readUInt8(at: offset + 1) else { return nil }
        guard major == 3, TLS.ContentType.changeCipherSpec...TLS.ContentType.heartbeat ~= type else {
            return stop(.failed(offset == 0 ? .notTLS : .badRecord))
        }
        guard let minor = stream.readUInt8(at: offset + 2), let length16 = stream.readUInt16(at: offset + 3) else { return nil }
        let length = Int(length16)
        guard minor <= 4, length <= TLS.maxRecordLength else { return stop(.failed(offset == 0 ? .notTLS : .badRecord)) }
        switch type {
        case TLS.ContentType.handshake:
            guard length > 0 else { return stop(.failed(.badRecord)) }
            if afterChangeCipherSpec && pending.isEmpty {
                guard let first = stream.readUInt8(at: offset + 5) else { return nil }
                if first != TLS.HandshakeType.clientHello && first != TLS.HandshakeType.serverHello {
                    return stop(.endOfPlaintext)
                }
            }
            guard let payload = stream.slice(offset + 5, length) else { return nil }
            afterChangeCipherSpec = false
            pending.append(contentsOf: payload)
            var start = 0
            while pending.count - start >= 4 {
                let bodyLength = Int(pending[start + 1]) << 16 | Int(pending[start + 2]) << 8 | Int(pending[start + 3])
                guard bodyLength <= maxMessageLength else { return stop(.failed(.messageTooLong(bodyLength))) }
                guard pending.count - start >= 4 + bodyLength else { break }
                messages.append(TLSHandshakeMessage(type: pending[start], bytes: Array(pending[start..<(start + 4 + bodyLength)])))
                start += 4 + bodyLength
            }
            if start == pending.count {
                pending = []
            } else if start > 0 {
                pending.removeFirst(start)
            }
        case TLS.ContentType.changeCipherSpec:
            // A handshake message may not be interrupted by another content type.
            guard pending.isEmpty else { return stop(.failed(.badRecord)) }
            guard stream.slice(offset + 5, length) != nil else { return nil }
            afterChangeCipherSpec = true
        default:
            return stop(.endOfPlaintext)
        }
        return offset + 5 + length
    }

    private mutating func stop(_ why: TLSHandshakeScan.Status) -> Int? {
        status = why
        pending = []
        return nil
    }
}

/// Reassembly of handshake messages from the TLS records at the start of one direction of a TCP stream, in one go.
public enum TLSStream {
    /// Walks the records of `stream` (the bytes of one direction, from the first payload byte) and returns the
    /// handshake messages of its plaintext part, which may span several records and segments
    /// (`TLSHandshakeReassembler` over the whole stream; use one to follow a growing stream).
    public static func handshakeMessages(_ stream: UnsafeRawBufferPointer, maxMessageLength: Int = 1 << 17)
        -> TLSHandshakeScan
    {
        var reassembler = TLSHandshakeReassembler(maxMessageLength: maxMessageLength)
        let messages = reassembler.advance(stream)
        return TLSHandshakeScan(messages: messages, status: reassembler.status)
    }
}

/// A bounds-checked reader over a message's bytes.
struct TLSReader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, from offset: Int, to end: Int) {
        self.bytes = bytes
        self.offset = offset
        self.end = min(end, bytes.count)
    }

    var remaining: Int { end - offset }

    mutating func u8() -> UInt8? {
        guard offset < end, let v = bytes.readUInt8(at: offset) else { return nil }
        offset += 1
        return v
    }

    mutating func u16() -> UInt16? {
        guard end - offset >= 2, let v = bytes.readUInt16(at: offset) else { return nil }
        offset += 2
        return v
    }

    mutating func u24() -> Int? {
        guard end - offset >= 3, let hi = bytes.readUInt8(at: offset), let lo = bytes.readUInt16(at: offset + 1) else {
            return nil
        }
        offset += 3
        return Int(hi) << 16 | Int(lo)
    }

    /// Skips `count` bytes; false where they are not there.
    mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, count <= end - offset else { return false }
        offset += count
        return true
    }

    /// The range of the next `count` bytes, consumed; nil where they are not there.
    mutating func range(_ count: Int) -> Range<Int>? {
        guard count >= 0, count <= end - offset else { return nil }
        defer { offset += count }
        return offset..<(offset + count)
    }

    /// A list of 16-bit values filling `range` exactly.
    static func u16List(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> [UInt16]? {
        guard range.count % 2 == 0, range.lowerBound >= 0, range.upperBound <= bytes.count else { return nil }
        var out: [UInt16] = []
        out.reserveCapacity(range.count / 2)
        var i = range.lowerBound
        while i < range.upperBound {
            out.append(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]))
            i += 2
        }
        return out
    }
}

/// Reads the header of a handshake message of `type`; the body's range in `bytes`.
func tlsHandshakeBody(_ bytes: UnsafeRawBufferPointer, type: UInt8) -> Result<Range<Int>, TLSDecodeError> {
    guard let actual = bytes.readUInt8(at: 0), let hi = bytes.readUInt8(at: 1), let lo = bytes.readUInt16(at: 2) else {
        return .failure(.truncated)
    }
    guard actual == type else { return .failure(.unexpectedHandshakeType(actual)) }
    let length = Int(hi) << 16 | Int(lo)
    guard length <= bytes.count - 4 else { return .failure(.truncated) }
    return .success(4..<(4 + length))
}

/// Reads an extensions block (a 16-bit length, then type-length-value entries) that must fill its length exactly.
private func readTLSExtensions(_ reader: inout TLSReader) -> Result<[TLSExtension], TLSDecodeError> {
    // A hello without an extensions block (TLS 1.0-era clients) has none.
    guard reader.remaining > 0 else { return .success([]) }
    guard let length = reader.u16() else { return .failure(.truncated) }
    guard Int(length) <= reader.remaining else { return .failure(.badLength("extensions")) }
    var inner = TLSReader(reader.bytes, from: reader.offset, to: reader.offset + Int(length))
    _ = reader.skip(Int(length))
    var extensions: [TLSExtension] = []
    extensions.reserveCapacity(min(Int(length) / 4, 32))  // each takes 4 bytes at least; browsers send about 16
    while inner.remaining > 0 {
        guard let type = inner.u16(), let valueLength = inner.u16() else { return .failure(.badLength("extension")) }
        guard let range = inner.range(Int(valueLength)) else { return .failure(.badLength("extension")) }
        extensions.append(TLSExtension(type: type, valueRange: range))
    }
    return .success(extensions)
}

/// A TLS ClientHello (RFC 8446 4.1.2, RFC 5246 7.4.1.2), with what identifies the client kept in wire order.
public struct TLSClientHello: Equatable, Sendable {
    /// The whole handshake message (header and body); extension ranges index into it.
    public var bytes: [UInt8]
    /// legacy_version: 0x0303 for TLS 1.2 and 1.3 clients, lower for older ones.
    public var legacyVersion: UInt16
    /// Length of legacy_session_id: 32 from TLS 1.3 clients in middlebox-compatibility mode, 0 or 32 from others.
    public var sessionIDLength: Int
    /// Cipher suites in the client's order, GREASE values included (see `TLS.isGREASE`).
    public var cipherSuites: [UInt16]
    /// Compression methods in the client's order (just null, 0, from modern clients).
    public var compressionMethods: [UInt8]
    /// Extensions in the client's order, GREASE and duplicates included.
    public var extensions: [TLSExtension]
    /// The first host_name of server_name (0x0000); nil when absent or malformed.
    public var serverName: String?
    /// Protocols of application_layer_protocol_negotiation (0x0010), raw, in the client's order.
    public var alpnProtocols: [[UInt8]]
    /// supported_versions (0x002b), in the client's order, GREASE included.
    public var supportedVersions: [UInt16]
    /// signature_algorithms (0x000d), in the client's order, GREASE included.
    public var signatureAlgorithms: [UInt16]
    /// supported_groups (0x000a), in the client's order, GREASE included.
    public var supportedGroups: [UInt16]
    /// ec_point_formats (0x000b).
    public var ecPointFormats: [UInt8]
    /// Types of the extensions above whose value could not be decoded (the fields stay empty); the hello itself is
    /// still well formed.
    public var malformedExtensions: [UInt16]
    /// True for an SSL 2.0-format ClientHello (RFC 5246 E.2), still sent by old embedded stacks: no extensions, and
    /// `bytes` holds the 2-byte SSLv2 header and the message. `cipherSuites` then holds the cipher specs that name a
    /// TLS suite (0x00XXYY), `sslv2CipherSpecs` all of them.
    public var isSSLv2Compatible: Bool = false
    /// The 3-byte cipher specs of an SSL 2.0-format hello, in order; empty otherwise.
    public var sslv2CipherSpecs: [UInt32] = []

    /// Extension types in wire order.
    public var extensionTypes: [UInt16] { extensions.map(\.type) }

    /// True when any cipher suite or extension is a GREASE value.
    public var usesGREASE: Bool {
        cipherSuites.contains(where: TLS.isGREASE) || extensions.contains { TLS.isGREASE($0.type) }
    }

    /// The ALPN protocols as text (invalid UTF-8 replaced).
    public var alpnProtocolNames: [String] { alpnProtocols.map { String(decoding: $0, as: UTF8.self) } }

    /// The value of the first extension of `type`, nil when the hello has none.
    public func extensionValue(_ type: UInt16) -> ArraySlice<UInt8>? {
        guard let range = extensions.first(where: { $0.type == type })?.valueRange, range.upperBound <= bytes.count
        else { return nil }
        return bytes[range]
    }

    /// True when the hello carries an extension of `type` (whether or not its value decoded).
    public func hasExtension(_ type: UInt16) -> Bool { extensions.contains { $0.type == type } }

    /// Decodes a ClientHello handshake message (starting at its 4-byte header). Bytes after the message are ignored.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<TLSClientHello, TLSDecodeError> {
        let body: Range<Int>
        switch tlsHandshakeBody(bytes, type: TLS.HandshakeType.clientHello) {
        case .success(let range): body = range
        case .failure(let error): return .failure(error)
        }
        let message = UnsafeRawBufferPointer(rebasing: bytes[0..<body.upperBound])
        var reader = TLSReader(message, from: body.lowerBound, to: body.upperBound)
        guard let version = reader.u16(), reader.skip(32), let sessionIDLength = reader.u8() else {
            return .failure(.truncated)
        }
        guard sessionIDLength <= 32, reader.skip(Int(sessionIDLength)) else { return .failure(.badLength("session_id")) }
        guard let cipherLength = reader.u16() else { return .failure(.truncated) }
        guard cipherLength % 2 == 0, let cipherRange = reader.range(Int(cipherLength)),
            let cipherSuites = TLSReader.u16List(message, cipherRange)
        else { return .failure(.badLength("cipher_suites")) }
        guard let compressionLength = reader.u8() else { return .failure(.truncated) }
        guard let compressionRange = reader.range(Int(compressionLength)) else {
            return .failure(.badLength("compression_methods"))
        }
        let extensions: [TLSExtension]
        switch readTLSExtensions(&reader) {
        case .success(let list): extensions = list
        case .failure(let error): return .failure(error)
        }
        var hello = TLSClientHello(
            bytes: Array(message), legacyVersion: version, sessionIDLength: Int(sessionIDLength),
            cipherSuites: cipherSuites, compressionMethods: Array(message[compressionRange]), extensions: extensions,
            serverName: nil, alpnProtocols: [], supportedVersions: [], signatureAlgorithms: [], supportedGroups: [],
            ecPointFormats: [], malformedExtensions: [])
        hello.decodeKnownExtensions(message)
        return .success(hello)
    }

    /// Decodes `bytes` as one handshake message; see `decode(_:)`.
    public static func decode(_ bytes: [UInt8]) -> Result<TLSClientHello, TLSDecodeError> {
        bytes.withUnsafeBytes { decode($0) }
    }

    /// Finds the ClientHello at the start of a client-to-server TCP stream: `stream` holds the payload bytes seen so
    /// far, in order, from the first one. The hello may span several records and segments, and may be in the SSL 2.0
    /// format. `.needMoreData` means the bytes end before the hello does: call again with more.
    public static func find(inStream stream: UnsafeRawBufferPointer, maxMessageLength: Int = 1 << 16)
        -> TLSClientHelloSearch
    {
        var flight = TLSClientFlight(maxMessageLength: maxMessageLength)
        flight.advance(stream)
        if let hello = flight.hello { return .found(hello) }
        if let error = flight.error { return .failed(error) }
        return .needMoreData
    }

    /// An SSL 2.0-format ClientHello: a 2-byte header (high bit set, 15-bit length), then type 1, version,
    /// cipher-spec, session-id and challenge lengths, and those fields.
    static func findSSLv2Compatible(_ stream: UnsafeRawBufferPointer) -> TLSClientHelloSearch {
        guard let header = stream.readUInt16(at: 0) else { return .needMoreData }
        let length = Int(header & 0x7FFF)
        if let type = stream.readUInt8(at: 2), type != TLS.HandshakeType.clientHello { return .failed(.notTLS) }
        if let major = stream.readUInt8(at: 3), major != 3 && major != 0 { return .failed(.notTLS) }
        if let version = stream.readUInt16(at: 3), version >> 8 == 0 && version != 0x0002 { return .failed(.notTLS) }
        guard length >= 9 else { return .failed(.notTLS) }
        guard let record = stream.slice(0, 2 + length) else { return .needMoreData }
        switch decodeSSLv2Compatible(record) {
        case .success(let hello): return .found(hello)
        case .failure(let error): return .failed(error)
        }
    }

    /// Decodes an SSL 2.0-format ClientHello record (starting at its 2-byte header).
    public static func decodeSSLv2Compatible(_ record: UnsafeRawBufferPointer) -> Result<TLSClientHello, TLSDecodeError> {
        guard let header = record.readUInt16(at: 0), header & 0x8000 != 0 else { return .failure(.notTLS) }
        let length = Int(header & 0x7FFF)
        guard let message = record.slice(0, 2 + length) else { return .failure(.truncated) }
        var reader = TLSReader(message, from: 2, to: message.count)
        guard let type = reader.u8(), let version = reader.u16(), let specLength = reader.u16(),
            let sessionIDLength = reader.u16(), let challengeLength = reader.u16()
        else { return .failure(.truncated) }
        guard type == TLS.HandshakeType.clientHello else { return .failure(.unexpectedHandshakeType(type)) }
        guard specLength % 3 == 0, sessionIDLength <= 32, challengeLength <= 32,
            Int(specLength) + Int(sessionIDLength) + Int(challengeLength) == reader.remaining,
            let specRange = reader.range(Int(specLength))
        else { return .failure(.badLength("sslv2_client_hello")) }
        var specs: [UInt32] = []
        var suites: [UInt16] = []
        var i = specRange.lowerBound
        while i + 3 <= specRange.upperBound {
            let spec = UInt32(message[i]) << 16 | UInt32(message[i + 1]) << 8 | UInt32(message[i + 2])
            specs.append(spec)
            if spec >> 16 == 0 { suites.append(UInt16(spec)) }
            i += 3
        }
        return .success(
            TLSClientHello(
                bytes: Array(message), legacyVersion: version, sessionIDLength: Int(sessionIDLength),
                cipherSuites: suites, compressionMethods: [], extensions: [], serverName: nil, alpnProtocols: [],
                supportedVersions: [], signatureAlgorithms: [], supportedGroups: [], ecPointFormats: [],
                malformedExtensions: [], isSSLv2Compatible: true, sslv2CipherSpecs: specs))
    }

    private mutating func decodeKnownExtensions(_ message: UnsafeRawBufferPointer) {
        // Only the first of each known type is decoded (others are skipped, as are repeats of unknown types, which
        // are not decoded at all): a bit per known type, no set allocated per hello.
        var decoded: UInt8 = 0
        for ext in extensions {
            let bit: UInt8 = switch ext.type {
            case TLS.ExtensionType.serverName: 1
            case TLS.ExtensionType.alpn: 2
            case TLS.ExtensionType.supportedVersions: 4
            case TLS.ExtensionType.signatureAlgorithms: 8
            case TLS.ExtensionType.supportedGroups: 16
            case TLS.ExtensionType.ecPointFormats: 32
            default: 0
            }
            guard bit != 0, decoded & bit == 0 else { continue }
            decoded |= bit
            let ok: Bool
            switch ext.type {
            case TLS.ExtensionType.serverName:
                ok = decodeServerName(message, ext.valueRange)
            case TLS.ExtensionType.alpn:
                ok = decodeALPN(message, ext.valueRange)
            case TLS.ExtensionType.supportedVersions:
                // A one-byte length, then 16-bit versions.
                guard let n = message.readUInt8(at: ext.valueRange.lowerBound), Int(n) + 1 == ext.valueRange.count,
                    let list = TLSReader.u16List(message, (ext.valueRange.lowerBound + 1)..<ext.valueRange.upperBound)
                else {
                    ok = false
                    break
                }
                supportedVersions = list
                ok = true
            case TLS.ExtensionType.signatureAlgorithms:
                let list = Self.u16Vector(message, ext.valueRange)
                signatureAlgorithms = list ?? []
                ok = list != nil
            case TLS.ExtensionType.supportedGroups:
                let list = Self.u16Vector(message, ext.valueRange)
                supportedGroups = list ?? []
                ok = list != nil
            case TLS.ExtensionType.ecPointFormats:
                guard let n = message.readUInt8(at: ext.valueRange.lowerBound), Int(n) + 1 == ext.valueRange.count else {
                    ok = false
                    break
                }
                ecPointFormats = Array(message[(ext.valueRange.lowerBound + 1)..<ext.valueRange.upperBound])
                ok = true
            default:
                ok = true
            }
            if !ok { malformedExtensions.append(ext.type) }
        }
    }

    /// A 16-bit length that fills the range exactly, then 16-bit values.
    private static func u16Vector(_ message: UnsafeRawBufferPointer, _ range: Range<Int>) -> [UInt16]? {
        guard let n = message.readUInt16(at: range.lowerBound), Int(n) + 2 == range.count else { return nil }
        return TLSReader.u16List(message, (range.lowerBound + 2)..<range.upperBound)
    }

    /// server_name (RFC 6066 3): a list of (type, name); the first host_name (type 0) counts.
    private mutating func decodeServerName(_ message: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        var reader = TLSReader(message, from: range.lowerBound, to: range.upperBound)
        guard let listLength = reader.u16(), Int(listLength) == reader.remaining else { return false }
        while reader.remaining > 0 {
            guard let nameType = reader.u8(), let length = reader.u16(), let nameRange = reader.range(Int(length)) else {
                return false
            }
            if nameType == 0 && serverName == nil {
                serverName = String(decoding: message[nameRange], as: UTF8.self)
            }
        }
        return true
    }

    /// application_layer_protocol_negotiation (RFC 7301 3.1): a list of 8-bit-length protocol names.
    private mutating func decodeALPN(_ message: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        var reader = TLSReader(message, from: range.lowerBound, to: range.upperBound)
        guard let listLength = reader.u16(), Int(listLength) == reader.remaining else { return false }
        var protocols: [[UInt8]] = []
        while reader.remaining > 0 {
            guard let length = reader.u8(), let nameRange = reader.range(Int(length)) else { return false }
            protocols.append(Array(message[nameRange]))
        }
        alpnProtocols = protocols
        return true
    }
}

/// The outcome of looking for a ClientHello at the start of a stream.
public enum TLSClientHelloSearch: Equatable, Sendable {
    case found(TLSClientHello)
    /// The stream so far is a prefix of a TLS handshake record sequence that has not reached the end of the hello.
    case needMoreData
    /// Not a TLS stream, or a malformed hello: stop looking at this stream.
    case failed(TLSDecodeError)
}

/// What the plaintext start of a client-to-server TCP stream reveals, read as the stream grows: the ClientHello (TLS
/// records or the SSL 2.0 format) and the second ClientHello a client sends after a TLS 1.3 HelloRetryRequest
/// (RFC 8446 4.1.4). Each `advance` reads only the records that arrived since the last one.
public struct TLSClientFlight: Equatable, Sendable {
    /// The first ClientHello, once it is whole.
    public private(set) var hello: TLSClientHello?
    /// A second ClientHello later in the plaintext handshake, once it is whole.
    public private(set) var secondHello: TLSClientHello?
    /// Why there is no (second) hello: not TLS, a malformed record, or a hello that did not decode.
    public private(set) var error: TLSDecodeError?
    /// True when more of the stream cannot add anything: both hellos are here, the plaintext ended, or an error.
    public private(set) var isComplete = false
    private var reassembler: TLSHandshakeReassembler

    public init(maxMessageLength: Int = 1 << 16) {
        reassembler = TLSHandshakeReassembler(maxMessageLength: maxMessageLength)
    }

    /// Bytes held for a message in the making.
    public var heldBytes: Int { reassembler.heldBytes }

    /// Reads what `stream` (the direction's payload bytes from the first one: those of the last call, possibly with
    /// more after them) adds.
    public mutating func advance(_ stream: UnsafeRawBufferPointer) {
        guard !isComplete else { return }
        if hello == nil {
            if let first = stream.readUInt8(at: 0), first & 0x80 != 0 {
                switch TLSClientHello.findSSLv2Compatible(stream) {
                case .needMoreData: return
                case .found(let found): hello = found
                case .failed(let why): error = why
                }
                isComplete = true  // the SSL 2.0 format has no second hello
                return
            }
            // Cheap rejection of streams that are not TLS, without reading records (most TCP streams a sensor sees).
            if let first = stream.readUInt8(at: 0), first != TLS.ContentType.handshake { return fail(.notTLS) }
            if let major = stream.readUInt8(at: 1), major != 3 { return fail(.notTLS) }
            if let type = stream.readUInt8(at: 5), type != TLS.HandshakeType.clientHello {
                return fail(.unexpectedHandshakeType(type))
            }
        }
        for message in reassembler.advance(stream) {
            if hello == nil {
                guard message.type == TLS.HandshakeType.clientHello else { return fail(.unexpectedHandshakeType(message.type)) }
                switch TLSClientHello.decode(message.bytes) {
                case .success(let found): hello = found
                case .failure(let why): return fail(why)
                }
            } else if message.type == TLS.HandshakeType.clientHello {
                switch TLSClientHello.decode(message.bytes) {
                case .success(let found): secondHello = found
                case .failure(let why): error = why
                }
                isComplete = true
                return
            }
        }
        switch reassembler.status {
        case .needMoreData: break
        case .endOfPlaintext: if hello == nil { fail(.noMessage) } else { isComplete = true }
        case .failed(let why): fail(why)
        }
    }

    private mutating func fail(_ why: TLSDecodeError) {
        error = why
        isComplete = true
    }
}

/// A TLS ServerHello (RFC 8446 4.1.3, RFC 5246 7.4.1.3), including the TLS 1.3 HelloRetryRequest form.
public struct TLSServerHello: Equatable, Sendable {
    /// The whole handshake message (header and body); extension ranges index into it.
    public var bytes: [UInt8]
    /// legacy_version: 0x0303 in TLS 1.3, the negotiated version before it.
    public var legacyVersion: UInt16
    /// The negotiated version: supported_versions (0x002b) where present (TLS 1.3), else `legacyVersion`.
    public var selectedVersion: UInt16
    /// Length of the echoed or new session id.
    public var sessionIDLength: Int
    /// The chosen cipher suite.
    public var cipherSuite: UInt16
    /// The chosen compression method (0, null, in practice).
    public var compressionMethod: UInt8
    /// Extensions in the server's order.
    public var extensions: [TLSExtension]
    /// The protocol the server chose from the client's ALPN list, raw.
    public var alpnProtocol: [UInt8]?
    /// True for a TLS 1.3 HelloRetryRequest (a ServerHello with the special random of RFC 8446 4.1.3).
    public var isHelloRetryRequest: Bool

    /// Extension types in wire order.
    public var extensionTypes: [UInt16] { extensions.map(\.type) }

    /// The value of the first extension of `type`, nil when the hello has none.
    public func extensionValue(_ type: UInt16) -> ArraySlice<UInt8>? {
        guard let range = extensions.first(where: { $0.type == type })?.valueRange, range.upperBound <= bytes.count
        else { return nil }
        return bytes[range]
    }

    /// SHA-256("HelloRetryRequest").
    static let helloRetryRequestRandom: [UInt8] = [
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
        0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
    ]

    /// Decodes a ServerHello handshake message (starting at its 4-byte header). Bytes after the message are ignored.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<TLSServerHello, TLSDecodeError> {
        let body: Range<Int>
        switch tlsHandshakeBody(bytes, type: TLS.HandshakeType.serverHello) {
        case .success(let range): body = range
        case .failure(let error): return .failure(error)
        }
        let message = UnsafeRawBufferPointer(rebasing: bytes[0..<body.upperBound])
        var reader = TLSReader(message, from: body.lowerBound, to: body.upperBound)
        guard let version = reader.u16(), let randomRange = reader.range(32), let sessionIDLength = reader.u8() else {
            return .failure(.truncated)
        }
        guard sessionIDLength <= 32, reader.skip(Int(sessionIDLength)) else { return .failure(.badLength("session_id")) }
        guard let cipherSuite = reader.u16(), let compression = reader.u8() else { return .failure(.truncated) }
        let extensions: [TLSExtension]
        switch readTLSExtensions(&reader) {
        case .success(let list): extensions = list
        case .failure(let error): return .failure(error)
        }
        var selected = version
        if let ext = extensions.first(where: { $0.type == TLS.ExtensionType.supportedVersions }), ext.valueRange.count == 2,
            let v = message.readUInt16(at: ext.valueRange.lowerBound)
        {
            selected = v
        }
        var alpn: [UInt8]?
        if let ext = extensions.first(where: { $0.type == TLS.ExtensionType.alpn }) {
            // A list holding exactly one protocol name.
            var r = TLSReader(message, from: ext.valueRange.lowerBound, to: ext.valueRange.upperBound)
            if let listLength = r.u16(), Int(listLength) == r.remaining, let n = r.u8(), Int(n) == r.remaining, n > 0,
                let nameRange = r.range(Int(n))
            {
                alpn = Array(message[nameRange])
            }
        }
        return .success(
            TLSServerHello(
                bytes: Array(message), legacyVersion: version, selectedVersion: selected,
                sessionIDLength: Int(sessionIDLength), cipherSuite: cipherSuite, compressionMethod: compression,
                extensions: extensions, alpnProtocol: alpn,
                isHelloRetryRequest: message[randomRange].elementsEqual(helloRetryRequestRandom)))
    }

    /// Decodes `bytes` as one handshake message; see `decode(_:)`.
    public static func decode(_ bytes: [UInt8]) -> Result<TLSServerHello, TLSDecodeError> {
        bytes.withUnsafeBytes { decode($0) }
    }
}
