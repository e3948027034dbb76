/// The head of an HTTP/1.x request or response found at the start of a TCP payload: the start line and the Host,
/// User-Agent and Server headers, nothing else. The body is never read, and the request target keeps its path only
/// (no query, no fragment, no user information), cut to 256 bytes: query strings can carry tokens or patient data.
///
/// The decoder is pure and bounds-checked; it reads at most `maximumHeadBytes` and `maximumHeaders` lines.
public struct HTTPHead: Equatable, Sendable {
    /// "HTTP/1.1" or "HTTP/1.0".
    public var version: String
    /// Requests: the method, upper case as sent ("GET", "POST").
    public var method: String?
    /// Requests: the target's path, without query or fragment, at most 256 bytes ("*" and CONNECT's authority kept).
    public var path: String?
    /// Responses: the status code.
    public var statusCode: Int?
    public var host: String?
    public var userAgent: String?
    public var server: String?
    /// True when the head's closing empty line was seen in these bytes.
    public var isComplete: Bool

    public var isRequest: Bool { method != nil }

    /// Host and path ("printer.local/ipp/print"), at most 256 bytes; nil for a response or a request without a host.
    public var hostAndPath: String? {
        guard let host, let path else { return nil }
        return DiscoveryText.truncated(path == "*" || path.hasPrefix("/") ? host + path : host + "/" + path, bytes: Self.maximumPathBytes)
    }

    public static let maximumPathBytes = 256
    static let maximumValueBytes = 1024
    static let maximumHeadBytes = 16384
    static let maximumHeaders = 128

    /// Decodes the head at the start of `bytes`; nil when the bytes do not start with a whole HTTP/1.x start line
    /// (see `mayStartHead`). A head cut short by the segment's end keeps the header lines that arrived whole and has
    /// `isComplete` false: decode again when more of the stream has arrived.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> HTTPHead? {
        guard let fields = HTTPHeadFields.decode(bytes) else { return nil }
        let text = DiscoveryText.text
        return HTTPHead(
            version: String(decoding: fields.version, as: UTF8.self), method: fields.method, path: text(fields.path),
            statusCode: fields.statusCode, host: text(fields.host), userAgent: text(fields.userAgent),
            server: text(fields.server), isComplete: fields.isComplete)
    }

    /// True when `bytes` could be the beginning of an HTTP/1.x head that a later TCP segment completes: an upper-case
    /// method token and a space, or a prefix of "HTTP/1.". A flow table uses it to start buffering a stream's first
    /// bytes, then calls `decode` on the growing prefix until `isComplete` (or a size limit).
    public static func mayStartHead(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !bytes.isEmpty else { return false }
        let version: StaticString = "HTTP/1."
        var i = 0
        while i < bytes.count, i < 7, bytes[i] == version.utf8Start[i] { i += 1 }
        if i == min(bytes.count, 7) { return true }
        i = 0
        while i < bytes.count, i <= 20, (bytes[i] >= UInt8(ascii: "A") && bytes[i] <= UInt8(ascii: "Z")) || bytes[i] == UInt8(ascii: "-") {
            i += 1
        }
        return i >= 1 && i <= 20 && (i == bytes.count || bytes[i] == 0x20)
    }

    /// True when an empty line (the end of a head: LF LF, or LF CR LF) ends at `from` or later in `bytes`. A head
    /// that `decode` found cut short can only be found whole once such a line arrives: a caller feeding a growing
    /// stream decodes again only then, so a head sent in many small segments costs its length once, not once per
    /// segment.
    public static func mayEndHead(_ bytes: UnsafeRawBufferPointer, from: Int) -> Bool {
        var i = bytes.index(of: 0x0A, from: max(from, 1))
        while i < bytes.count {
            if bytes[i - 1] == 0x0A || (i >= 2 && bytes[i - 1] == 0x0D && bytes[i - 2] == 0x0A) { return true }
            i = bytes.index(of: 0x0A, from: i + 1)
        }
        return false
    }

    /// Path (no query, fragment or user information) and, for an absolute-form target, its host: the bytes of
    /// their texts (the path of an absolute-form target with none is "/").
    static func parseTarget(_ target: UnsafeRawBufferPointer) -> (path: UnsafeRawBufferPointer, host: UnsafeRawBufferPointer?) {
        var start = 0
        var host: UnsafeRawBufferPointer?
        // absolute-form: scheme "://" authority path
        var i = 0
        while i < target.count, i < 16, isSchemeByte(target[i]) { i += 1 }
        if i > 0, i + 2 < target.count, target[i] == UInt8(ascii: ":"), target[i + 1] == UInt8(ascii: "/"),
            target[i + 2] == UInt8(ascii: "/")
        {
            var authorityEnd = i + 3
            while authorityEnd < target.count, !"/?#".utf8.contains(target[authorityEnd]) { authorityEnd += 1 }
            var authorityStart = i + 3
            for j in authorityStart..<authorityEnd where target[j] == UInt8(ascii: "@") { authorityStart = j + 1 }
            host = DiscoveryText.headerValueBytes(
                UnsafeRawBufferPointer(rebasing: target[authorityStart..<authorityEnd]), bytes: maximumValueBytes)
            start = authorityEnd
        }
        var end = start
        while end < target.count, target[end] != UInt8(ascii: "?"), target[end] != UInt8(ascii: "#") { end += 1 }
        let path = UnsafeRawBufferPointer(rebasing: target[start..<end])
        return (path.isEmpty && host != nil ? HTTPHeadFields.rootPath : DiscoveryText.truncatedBytes(path, bytes: maximumPathBytes), host)
    }

    static func isSchemeByte(_ b: UInt8) -> Bool {
        (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
            || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
    }
}

/// An HTTP/1.x head's fields where they lie in the bytes decoded: what `HTTPHead` makes texts of (values trimmed and
/// cut as there), for a writer that copies them out without making texts. Valid while those bytes are.
public struct HTTPHeadFields {
    /// "HTTP/1.1" or "HTTP/1.0".
    public var version: UnsafeRawBufferPointer
    public var method: String?
    public var path: UnsafeRawBufferPointer?
    public var statusCode: Int?
    public var host: UnsafeRawBufferPointer?
    public var userAgent: UnsafeRawBufferPointer?
    public var server: UnsafeRawBufferPointer?
    public var isComplete = false

    public var isRequest: Bool { method != nil }

    /// "/" (the path of a request that has none), as bytes that are always there (a constant's).
    public static var rootPath: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: ("/" as StaticString).utf8Start, count: 1) }

    /// The fields of the head at the start of `bytes`, as `HTTPHead.decode` reads it; nil where it finds none.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> HTTPHeadFields? {
        var scanner = HTTPHeadScanner(bytes, isDatagram: false)
        guard let start = scanner.startLine() else { return nil }
        var head = HTTPHeadFields(version: start.version)
        switch start.kind {
        case .request(let method, let target):
            head.method = method
            (head.path, head.host) = HTTPHead.parseTarget(target)
        case .response(let status):
            head.statusCode = status
        }
        while let header = scanner.nextHeader() {
            if header.is("host") {
                head.host = DiscoveryText.headerValueBytes(header.value, bytes: HTTPHead.maximumValueBytes)
            } else if header.is("user-agent") {
                head.userAgent = DiscoveryText.headerValueBytes(header.value, bytes: HTTPHead.maximumValueBytes)
            } else if header.is("server") {
                head.server = DiscoveryText.headerValueBytes(header.value, bytes: HTTPHead.maximumValueBytes)
            }
        }
        head.isComplete = scanner.sawEnd
        return head
    }
}

/// Splits an HTTP/1.x (or SSDP, HTTP over UDP) head into its start line and header lines. Lines end in CRLF or a bare
/// LF; a line folded onto the next (obsolete) is skipped. Shared by `HTTPHead` and `SSDPMessage`.
struct HTTPHeadScanner {
    enum StartKind {
        case request(method: String, target: UnsafeRawBufferPointer)
        case response(status: Int)
    }

    struct Header {
        var name: UnsafeRawBufferPointer
        var value: UnsafeRawBufferPointer

        /// Case-insensitive comparison with a lowercase ASCII name.
        func `is`(_ lowercaseName: StaticString) -> Bool {
            guard name.count == lowercaseName.utf8CodeUnitCount else { return false }
            let expected = UnsafeRawBufferPointer(start: lowercaseName.utf8Start, count: lowercaseName.utf8CodeUnitCount)
            for i in 0..<name.count {
                var b = name[i]
                if b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") { b |= 0x20 }
                if b != expected[i] { return false }
            }
            return true
        }
    }

    let bytes: UnsafeRawBufferPointer
    /// A whole datagram (SSDP): a last line without a line end still counts. In a TCP segment it may be cut short,
    /// so it is left for the segment that completes it.
    let isDatagram: Bool
    var offset = 0
    var headers = 0
    var sawEnd = false

    init(_ bytes: UnsafeRawBufferPointer, isDatagram: Bool) {
        self.bytes = bytes.slice(0, min(bytes.count, HTTPHead.maximumHeadBytes))!
        self.isDatagram = isDatagram
    }

    /// The next line without its line end; nil at the end of the bytes, or at a last line without a line end unless
    /// the bytes are a whole datagram.
    mutating func line() -> UnsafeRawBufferPointer? {
        guard offset < bytes.count else { return nil }
        let end = bytes.index(of: 0x0A, from: offset)
        let hasLF = end < bytes.count
        if !hasLF && !isDatagram { return nil }
        var contentEnd = end
        if contentEnd > offset, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
        let line = UnsafeRawBufferPointer(rebasing: bytes[offset..<contentEnd])
        offset = hasLF ? end + 1 : end
        return line
    }

    /// "METHOD target HTTP/1.x" or "HTTP/1.x status reason"; nil for anything else.
    mutating func startLine() -> (kind: StartKind, version: UnsafeRawBufferPointer)? {
        guard let line = line(), line.count >= 8 else { return nil }
        if Self.isVersion(line, at: 0) {
            // HTTP/1.x SP 3DIGIT [SP reason]
            guard line.count >= 12, line[8] == 0x20, let status = Self.threeDigits(line, at: 9),
                line.count == 12 || line[12] == 0x20
            else { return nil }
            return (.response(status: status), UnsafeRawBufferPointer(rebasing: line[0..<8]))
        }
        // method: 1-20 upper-case letters or '-'
        var m = 0
        while m < line.count, m <= 20, (line[m] >= UInt8(ascii: "A") && line[m] <= UInt8(ascii: "Z")) || line[m] == UInt8(ascii: "-") {
            m += 1
        }
        guard m >= 1, m <= 20, m < line.count, line[m] == 0x20 else { return nil }
        // version: the last 8 bytes, after a space
        guard line.count >= m + 1 + 1 + 9, Self.isVersion(line, at: line.count - 8), line[line.count - 9] == 0x20 else {
            return nil
        }
        var targetStart = m + 1
        var targetEnd = line.count - 9
        while targetStart < targetEnd, line[targetStart] == 0x20 { targetStart += 1 }
        while targetEnd > targetStart, line[targetEnd - 1] == 0x20 { targetEnd -= 1 }
        guard targetStart < targetEnd else { return nil }
        return (
            .request(
                method: String(decoding: UnsafeRawBufferPointer(rebasing: line[0..<m]), as: UTF8.self),
                target: UnsafeRawBufferPointer(rebasing: line[targetStart..<targetEnd])),
            UnsafeRawBufferPointer(rebasing: line[(line.count - 8)...])
        )
    }

    /// The next "Name: value" header; nil at the empty line ending the head, at the end of the bytes, or after
    /// `maximumHeaders`. Lines without a colon and folded lines are skipped.
    mutating func nextHeader() -> Header? {
        while headers < HTTPHead.maximumHeaders, let line = line() {
            if line.isEmpty {
                sawEnd = true
                return nil
            }
            headers += 1
            if line[0] == 0x20 || line[0] == 0x09 { continue }
            let colon = line.index(of: UInt8(ascii: ":"), from: 0)
            guard colon > 0, colon < line.count else { continue }
            return Header(
                name: UnsafeRawBufferPointer(rebasing: line[0..<colon]),
                value: UnsafeRawBufferPointer(rebasing: line[(colon + 1)...]))
        }
        return nil
    }

    static func isVersion(_ line: UnsafeRawBufferPointer, at i: Int) -> Bool {
        guard i >= 0, i + 8 <= line.count else { return false }
        let prefix: StaticString = "HTTP/1."
        for j in 0..<7 where line[i + j] != prefix.utf8Start[j] { return false }
        return line[i + 7] == UInt8(ascii: "0") || line[i + 7] == UInt8(ascii: "1")
    }

    static func threeDigits(_ line: UnsafeRawBufferPointer, at i: Int) -> Int? {
        var value = 0
        for j in i..<(i + 3) {
            guard j < line.count, line[j] >= UInt8(ascii: "0"), line[j] <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(line[j] - UInt8(ascii: "0"))
        }
        return value
    }
}

extension DiscoveryText {
    /// The text of a field found in place, if there is one (invalid UTF-8 replaced).
    static func text(_ bytes: UnsafeRawBufferPointer?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    /// A header value without surrounding spaces and tabs, cut to `bytes` on a UTF-8 boundary.
    static func headerValueBytes(_ value: UnsafeRawBufferPointer, bytes limit: Int) -> UnsafeRawBufferPointer {
        var start = 0
        var end = value.count
        while start < end, value[start] == 0x20 || value[start] == 0x09 { start += 1 }
        while end > start, value[end - 1] == 0x20 || value[end - 1] == 0x09 { end -= 1 }
        return truncatedBytes(UnsafeRawBufferPointer(rebasing: value[start..<end]), bytes: limit)
    }

    /// At most `limit` bytes of UTF-8 text, never cutting a multi-byte sequence in two.
    static func truncated(_ value: UnsafeRawBufferPointer, bytes limit: Int) -> String {
        String(decoding: truncatedBytes(value, bytes: limit), as: UTF8.self)
    }

    /// The bytes of `truncated`'s text.
    static func truncatedBytes(_ value: UnsafeRawBufferPointer, bytes limit: Int) -> UnsafeRawBufferPointer {
        guard value.count > limit else { return value }
        var end = max(limit, 0)
        // Step back over continuation bytes (10xxxxxx) so the cut falls before a lead byte.
        while end > 0, value[end] & 0xC0 == 0x80 { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: value[0..<end])
    }

    static func truncated(_ string: String, bytes limit: Int) -> String {
        var string = string
        if string.utf8.count <= limit { return string }
        return string.withUTF8 { truncated(UnsafeRawBufferPointer($0), bytes: limit) }
    }
}
