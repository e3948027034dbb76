/// A WS-Discovery 1.1 message (SOAP over UDP, port 3702) as IEEE 11073-20702 SDC devices and consumers send it:
/// Hello, Bye, Probe, ProbeMatches, Resolve, ResolveMatches. Keeps what identifies an SDC participant: the endpoint
/// reference address (a stable `urn:uuid:`), its types (`dpws:Device`, `mdpws:MedicalDevice`), scopes (location
/// context, MDS type codes), transport addresses and metadata version, plus the WS-Addressing header fields.
///
/// Elements are matched by local name, whatever their namespace prefix. The XML is read with a small bounded scanner,
/// not a general parser: no DTDs, no external entities, only the five predefined and numeric character references.
/// The decoder is pure and bounds-checked.
public struct WSDiscoveryMessage: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case hello, bye, probe, probeMatches, resolve, resolveMatches
        /// Another first child of the SOAP Body, by local name.
        case other(String)
    }

    /// A qualified name from a Types list: prefix and local name as written, namespace where the message declares it.
    public struct QName: Equatable, Sendable, CustomStringConvertible {
        public var prefix: String?
        public var localName: String
        public var namespace: String?

        /// As written: "dpws:Device".
        public var description: String { prefix.map { "\($0):\(localName)" } ?? localName }
        /// The namespace and local name, "{http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01}Device", or as written.
        public var expanded: String { namespace.map { "{\($0)}\(localName)" } ?? description }
    }

    /// One endpoint: the Hello or Bye itself, each ProbeMatch or ResolveMatch, the Resolve's reference, or the
    /// types and scopes a Probe searches for.
    public struct Endpoint: Equatable, Sendable {
        /// The endpoint reference address, "urn:uuid:..." for SDC.
        public var address: String?
        public var types: [QName] = []
        public var scopes: [String] = []
        public var xAddrs: [String] = []
        public var metadataVersion: UInt32?

        /// The UUID of a `urn:uuid:` address, lowercased.
        public var uuid: String? {
            guard let address else { return nil }
            let bytes = Array(address.utf8)
            guard bytes.count > 9, bytes[0..<9].map({ $0 | 0x20 }) == Array("urn:uuid:".utf8) else { return nil }
            return String(decoding: bytes[9...], as: UTF8.self).lowercased()
        }
    }

    public var kind: Kind
    /// WS-Addressing header fields.
    public var action: String?
    public var messageID: String?
    public var relatesTo: String?
    public var endpoints: [Endpoint] = []
    /// True when the XML ended before the envelope closed or was malformed; what came before is decoded.
    public var isTruncated = false

    public static let port: UInt16 = 3702
    static let maximumEndpoints = 64
    static let maximumListItems = 64
    static let maximumTextBytes = 4096
    static let maximumDepth = 32
    static let maximumNamespaces = 64

    /// Decodes a SOAP envelope (the UDP payload); nil when the bytes do not hold an Envelope with a Body child.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> WSDiscoveryMessage? {
        var decoder = WSDiscoveryDecoder(bytes)
        return decoder.run()
    }
}

/// Walks the scanner's tokens with a stack of local names.
struct WSDiscoveryDecoder {
    enum Field { case address, types, scopes, xAddrs, metadataVersion, action, messageID, relatesTo }

    var scanner: WSDXMLScanner
    var stack: [Slice<UnsafeRawBufferPointer>] = []
    var namespaces: [(prefix: [UInt8], uri: String)] = []
    var message: WSDiscoveryMessage?
    var current: WSDiscoveryMessage.Endpoint?
    /// Depth of the element that holds the current endpoint.
    var endpointDepth = -1
    var field: Field?
    var fieldDepth = -1
    var text: [UInt8] = []
    var envelopeClosed = false

    init(_ bytes: UnsafeRawBufferPointer) {
        scanner = WSDXMLScanner(bytes)
        stack.reserveCapacity(8)
    }

    mutating func run() -> WSDiscoveryMessage? {
        while let token = scanner.next() {
            switch token {
            case .start(let prefix, let local, let attributes, let selfClosing):
                if !open(prefix: prefix, local: local, attributes: attributes) { return finish(truncated: true) }
                if selfClosing { close() }
            case .end:
                if stack.isEmpty { return finish(truncated: true) }
                close()
                if stack.isEmpty {
                    envelopeClosed = true
                    return finish(truncated: false)
                }
            case .text(let range, let raw):
                if field != nil, stack.count == fieldDepth, text.count < WSDiscoveryMessage.maximumTextBytes {
                    let chunk = Array(scanner.bytes[range].prefix(WSDiscoveryMessage.maximumTextBytes - text.count))
                    text.append(contentsOf: raw ? chunk : WSDXMLScanner.decodeEntities(chunk))
                }
            }
        }
        return finish(truncated: !envelopeClosed || scanner.malformed)
    }

    mutating func finish(truncated: Bool) -> WSDiscoveryMessage? {
        guard var message else { return nil }
        if let current, message.endpoints.count < WSDiscoveryMessage.maximumEndpoints { message.endpoints.append(current) }
        message.isTruncated = truncated || scanner.malformed
        return message
    }

    /// Handles a start tag; false when the document cannot be a WS-Discovery envelope or nests too deep.
    mutating func open(prefix: Range<Int>?, local: Range<Int>, attributes: Range<Int>) -> Bool {
        let name = scanner.bytes[local]
        let depth = stack.count + 1
        guard depth <= WSDiscoveryMessage.maximumDepth else { return false }
        collectNamespaces(attributes)
        if depth == 1 {
            guard name.elementsEqual("Envelope".utf8) else { return false }
        }
        stack.append(name)
        if depth == 3, stack[1].elementsEqual("Body".utf8), message == nil {
            let kind: WSDiscoveryMessage.Kind
            switch String(decoding: name, as: UTF8.self) {
            case "Hello": kind = .hello
            case "Bye": kind = .bye
            case "Probe": kind = .probe
            case "ProbeMatches": kind = .probeMatches
            case "Resolve": kind = .resolve
            case "ResolveMatches": kind = .resolveMatches
            case let other: kind = .other(other)
            }
            message = WSDiscoveryMessage(kind: kind)
            switch kind {
            case .hello, .bye, .probe, .resolve:
                beginEndpoint(depth: depth)
            default:
                break
            }
            flushHeaderFields()
            return true
        }
        if depth == 4, let kind = message?.kind, kind == .probeMatches || kind == .resolveMatches,
            name.elementsEqual("ProbeMatch".utf8) || name.elementsEqual("ResolveMatch".utf8)
        {
            beginEndpoint(depth: depth)
            return true
        }
        if depth == 3, stack[1].elementsEqual("Header".utf8) {
            if name.elementsEqual("Action".utf8) { startField(.action, depth) }
            if name.elementsEqual("MessageID".utf8) { startField(.messageID, depth) }
            if name.elementsEqual("RelatesTo".utf8) { startField(.relatesTo, depth) }
            return true
        }
        guard current != nil, depth > endpointDepth else { return true }
        if depth == endpointDepth + 1 {
            if name.elementsEqual("Types".utf8) { startField(.types, depth) }
            if name.elementsEqual("Scopes".utf8) { startField(.scopes, depth) }
            if name.elementsEqual("XAddrs".utf8) { startField(.xAddrs, depth) }
            if name.elementsEqual("MetadataVersion".utf8) { startField(.metadataVersion, depth) }
        } else if depth == endpointDepth + 2, name.elementsEqual("Address".utf8),
            stack[depth - 2].elementsEqual("EndpointReference".utf8)
        {
            startField(.address, depth)
        }
        return true
    }

    mutating func close() {
        if let field, stack.count == fieldDepth { store(field) }
        if current != nil, stack.count == endpointDepth, let endpoint = current {
            if message != nil, message!.endpoints.count < WSDiscoveryMessage.maximumEndpoints {
                message!.endpoints.append(endpoint)
            }
            current = nil
            endpointDepth = -1
        }
        stack.removeLast()
    }

    mutating func beginEndpoint(depth: Int) {
        current = WSDiscoveryMessage.Endpoint()
        endpointDepth = depth
    }

    mutating func startField(_ f: Field, _ depth: Int) {
        field = f
        fieldDepth = depth
        text.removeAll(keepingCapacity: true)
    }

    // Header fields arrive before the Body creates the message; keep them until then.
    var pendingAction: String?
    var pendingMessageID: String?
    var pendingRelatesTo: String?

    mutating func flushHeaderFields() {
        message?.action = pendingAction
        message?.messageID = pendingMessageID
        message?.relatesTo = pendingRelatesTo
    }

    mutating func store(_ f: Field) {
        field = nil
        fieldDepth = -1
        let value = text
        switch f {
        case .action: pendingAction = Self.trimmed(value)
        case .messageID: pendingMessageID = Self.trimmed(value)
        case .relatesTo: pendingRelatesTo = Self.trimmed(value)
        case .address: current?.address = Self.trimmed(value)
        case .types:
            let types = Self.list(value).map(qname)
            current?.types = types
        case .scopes: current?.scopes = Self.list(value)
        case .xAddrs: current?.xAddrs = Self.list(value)
        case .metadataVersion: current?.metadataVersion = UInt32(Self.trimmed(value))
        }
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    static func trimmed(_ value: [UInt8]) -> String {
        var start = 0
        var end = value.count
        while start < end, isSpace(value[start]) { start += 1 }
        while end > start, isSpace(value[end - 1]) { end -= 1 }
        return String(decoding: value[start..<end], as: UTF8.self)
    }

    /// Whitespace-separated items, at most `maximumListItems`.
    static func list(_ value: [UInt8]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < value.count, out.count < WSDiscoveryMessage.maximumListItems {
            while i < value.count, isSpace(value[i]) { i += 1 }
            let start = i
            while i < value.count, !isSpace(value[i]) { i += 1 }
            if i > start { out.append(String(decoding: value[start..<i], as: UTF8.self)) }
        }
        return out
    }

    func qname(_ item: String) -> WSDiscoveryMessage.QName {
        let bytes = Array(item.utf8)
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            let prefix = Array(bytes[..<colon])
            return WSDiscoveryMessage.QName(
                prefix: String(decoding: prefix, as: UTF8.self), localName: String(decoding: bytes[(colon + 1)...], as: UTF8.self),
                namespace: namespaces.last(where: { $0.prefix == prefix })?.uri)
        }
        return WSDiscoveryMessage.QName(prefix: nil, localName: item, namespace: namespaces.last(where: { $0.prefix.isEmpty })?.uri)
    }

    /// Records `xmlns` and `xmlns:p` declarations. Declarations are kept for the whole message, not per element: enough
    /// to expand the Types of a SOAP-over-UDP message, where they sit on the Envelope or the Types element.
    mutating func collectNamespaces(_ range: Range<Int>) {
        var attributes = WSDXMLScanner.AttributeIterator(bytes: scanner.bytes, range: range)
        while let (name, value) = attributes.next() {
            let n = scanner.bytes[name]
            guard n.starts(with: "xmlns".utf8), namespaces.count < WSDiscoveryMessage.maximumNamespaces else { continue }
            let prefix: [UInt8]
            if n.count == 5 {
                prefix = []
            } else if n.count > 6, n[n.startIndex + 5] == UInt8(ascii: ":") {
                prefix = Array(n.dropFirst(6))
            } else {
                continue
            }
            namespaces.append((prefix, String(decoding: WSDXMLScanner.decodeEntities(Array(scanner.bytes[value])), as: UTF8.self)))
        }
    }
}

/// A bounded, allocation-light XML tokenizer over bytes: start tags (prefix, local name, the attribute bytes,
/// self-closing), end tags and text runs, as index ranges into the input. Skips the XML declaration, processing
/// instructions, comments and DOCTYPE; CDATA is text. Anything malformed ends the token stream with `malformed` set.
struct WSDXMLScanner {
    enum Token {
        case start(prefix: Range<Int>?, local: Range<Int>, attributes: Range<Int>, selfClosing: Bool)
        case end(local: Range<Int>)
        /// `raw` for CDATA content, which takes no entity decoding.
        case text(Range<Int>, raw: Bool)
    }

    let bytes: UnsafeRawBufferPointer
    var offset = 0
    var malformed = false

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        // A UTF-8 byte order mark.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { offset = 3 }
    }

    mutating func next() -> Token? {
        while offset < bytes.count {
            if bytes[offset] != UInt8(ascii: "<") {
                let start = offset
                while offset < bytes.count, bytes[offset] != UInt8(ascii: "<") { offset += 1 }
                return .text(start..<offset, raw: false)
            }
            guard let second = bytes.readUInt8(at: offset + 1) else { return fail() }
            switch second {
            case UInt8(ascii: "?"):
                guard let end = find("?>", from: offset + 2) else { return fail() }
                offset = end + 2
            case UInt8(ascii: "!"):
                if matches("<!--", at: offset) {
                    guard let end = find("-->", from: offset + 4) else { return fail() }
                    offset = end + 3
                } else if matches("<![CDATA[", at: offset) {
                    guard let end = find("]]>", from: offset + 9) else { return fail() }
                    let range = (offset + 9)..<end
                    offset = end + 3
                    return .text(range, raw: true)
                } else {
                    guard let end = find(">", from: offset + 2) else { return fail() }
                    offset = end + 1
                }
            case UInt8(ascii: "/"):
                let nameStart = offset + 2
                var i = nameStart
                while i < bytes.count, isNameByte(bytes[i]) { i += 1 }
                let nameEnd = i
                while i < bytes.count, WSDiscoveryDecoder.isSpace(bytes[i]) { i += 1 }
                guard nameEnd > nameStart, i < bytes.count, bytes[i] == UInt8(ascii: ">") else { return fail() }
                offset = i + 1
                return .end(local: localPart(nameStart..<nameEnd).local)
            default:
                let nameStart = offset + 1
                var i = nameStart
                while i < bytes.count, isNameByte(bytes[i]) { i += 1 }
                let nameEnd = i
                guard nameEnd > nameStart else { return fail() }
                // Attributes run to the first '>' outside quotes.
                var quote: UInt8 = 0
                while i < bytes.count {
                    let b = bytes[i]
                    if quote != 0 {
                        if b == quote { quote = 0 }
                    } else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                        quote = b
                    } else if b == UInt8(ascii: ">") {
                        break
                    } else if b == UInt8(ascii: "<") {
                        return fail()
                    }
                    i += 1
                }
                guard i < bytes.count else { return fail() }
                let selfClosing = bytes[i - 1] == UInt8(ascii: "/") && i - 1 >= nameEnd
                let attributes = nameEnd..<(selfClosing ? i - 1 : i)
                offset = i + 1
                let parts = localPart(nameStart..<nameEnd)
                return .start(prefix: parts.prefix, local: parts.local, attributes: attributes, selfClosing: selfClosing)
            }
        }
        return nil
    }

    mutating func fail() -> Token? {
        malformed = true
        offset = bytes.count
        return nil
    }

    func isNameByte(_ b: UInt8) -> Bool {
        !(b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == UInt8(ascii: ">") || b == UInt8(ascii: "/")
            || b == UInt8(ascii: "<") || b == UInt8(ascii: "=") || b == UInt8(ascii: "\"") || b == UInt8(ascii: "'"))
    }

    func localPart(_ name: Range<Int>) -> (prefix: Range<Int>?, local: Range<Int>) {
        var i = name.lowerBound
        while i < name.upperBound {
            if bytes[i] == UInt8(ascii: ":") { return (name.lowerBound..<i, (i + 1)..<name.upperBound) }
            i += 1
        }
        return (nil, name)
    }

    func matches(_ s: StaticString, at i: Int) -> Bool {
        let n = s.utf8CodeUnitCount
        guard i >= 0, i + n <= bytes.count else { return false }
        for j in 0..<n where bytes[i + j] != s.utf8Start[j] { return false }
        return true
    }

    func find(_ s: StaticString, from start: Int) -> Int? {
        var i = start
        let n = s.utf8CodeUnitCount
        while i + n <= bytes.count {
            if bytes[i] == s.utf8Start[0], matches(s, at: i) { return i }
            i += 1
        }
        return nil
    }

    /// `name="value"` pairs of a start tag's attribute bytes, as ranges; stops at anything malformed.
    struct AttributeIterator {
        let bytes: UnsafeRawBufferPointer
        var i: Int
        let end: Int

        init(bytes: UnsafeRawBufferPointer, range: Range<Int>) {
            self.bytes = bytes
            i = range.lowerBound
            end = range.upperBound
        }

        mutating func next() -> (name: Range<Int>, value: Range<Int>)? {
            while i < end, WSDiscoveryDecoder.isSpace(bytes[i]) { i += 1 }
            let nameStart = i
            while i < end, bytes[i] != UInt8(ascii: "="), !WSDiscoveryDecoder.isSpace(bytes[i]) { i += 1 }
            let nameEnd = i
            while i < end, WSDiscoveryDecoder.isSpace(bytes[i]) { i += 1 }
            guard nameEnd > nameStart, i < end, bytes[i] == UInt8(ascii: "=") else { return nil }
            i += 1
            while i < end, WSDiscoveryDecoder.isSpace(bytes[i]) { i += 1 }
            guard i < end, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") else { return nil }
            let quote = bytes[i]
            i += 1
            let valueStart = i
            while i < end, bytes[i] != quote { i += 1 }
            guard i < end else { return nil }
            let valueEnd = i
            i += 1
            return (nameStart..<nameEnd, valueStart..<valueEnd)
        }
    }

    /// Replaces `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` and `&#N;` `&#xH;`; other `&` sequences are kept as they are.
    static func decodeEntities(_ text: [UInt8]) -> [UInt8] {
        guard text.contains(UInt8(ascii: "&")) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            guard text[i] == UInt8(ascii: "&"), let semicolon = text[i..<min(text.count, i + 12)].firstIndex(of: UInt8(ascii: ";"))
            else {
                out.append(text[i])
                i += 1
                continue
            }
            let entity = text[(i + 1)..<semicolon]
            var replacement: [UInt8]?
            switch String(decoding: entity, as: UTF8.self) {
            case "lt": replacement = [UInt8(ascii: "<")]
            case "gt": replacement = [UInt8(ascii: ">")]
            case "amp": replacement = [UInt8(ascii: "&")]
            case "quot": replacement = [UInt8(ascii: "\"")]
            case "apos": replacement = [UInt8(ascii: "'")]
            case let e where e.hasPrefix("#x") || e.hasPrefix("#X"):
                replacement = UInt32(e.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { Array(String($0).utf8) }
            case let e where e.hasPrefix("#"):
                replacement = UInt32(e.dropFirst(1), radix: 10).flatMap(Unicode.Scalar.init).map { Array(String($0).utf8) }
            default:
                break
            }
            if let replacement {
                out.append(contentsOf: replacement)
                i = semicolon + 1
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    }
}
