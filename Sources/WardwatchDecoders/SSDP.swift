/// An SSDP message (UPnP Device Architecture, HTTP over UDP port 1900): a NOTIFY announcement, an M-SEARCH query or
/// a search response, with the headers that identify a device (SERVER, USN, LOCATION) and what it offers or seeks
/// (NT, ST), and a control point's USER-AGENT.
///
/// The decoder is pure and bounds-checked; header values are cut to 1024 bytes.
public struct SSDPMessage: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// "NOTIFY * HTTP/1.1": an alive, byebye or update announcement (see `nts`).
        case notify
        /// "M-SEARCH * HTTP/1.1".
        case search
        /// "HTTP/1.1 200 OK": a unicast answer to an M-SEARCH.
        case response(status: Int)
        /// Another request method (GENA SUBSCRIBE and the like).
        case other(method: String)
    }

    public var kind: Kind
    /// "Linux/2.6 UPnP/1.0 Belkin/1.0": operating system, UPnP version, product.
    public var server: String?
    /// Unique service name: "uuid:<device uuid>[::<type>]".
    public var usn: String?
    /// The URL of the device description.
    public var location: String?
    /// Notification type (NOTIFY).
    public var nt: String?
    /// Notification sub-type: "ssdp:alive", "ssdp:byebye", "ssdp:update".
    public var nts: String?
    /// Search target (M-SEARCH and responses).
    public var st: String?
    public var userAgent: String?
    public var cacheControl: String?

    public static let port: UInt16 = 1900
    static let maximumValueBytes = 1024

    /// The device UUID of the USN, without "uuid:" ("2fac1234-31f8-11b4-a222-08002b34c003").
    public var deviceUUID: String? {
        guard let usn else { return nil }
        let bytes = Array(usn.utf8)
        guard bytes.count > 5, bytes[0..<5].map({ $0 | 0x20 }) == Array("uuid:".utf8) else { return nil }
        var end = 5
        while end < bytes.count, !(bytes[end] == UInt8(ascii: ":") && end + 1 < bytes.count && bytes[end + 1] == UInt8(ascii: ":")) {
            end += 1
        }
        return end > 5 ? String(decoding: bytes[5..<end], as: UTF8.self) : nil
    }

    /// Decodes an SSDP datagram (the UDP payload); nil when it does not start with an HTTP/1.x start line.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> SSDPMessage? {
        guard let fields = SSDPFields.decode(bytes) else { return nil }
        let text = DiscoveryText.text
        return SSDPMessage(
            kind: fields.kind, server: text(fields.server), usn: text(fields.usn), location: text(fields.location),
            nt: text(fields.nt), nts: text(fields.nts), st: text(fields.st), userAgent: text(fields.userAgent),
            cacheControl: text(fields.cacheControl))
    }
}

/// An SSDP message's fields where they lie in the datagram: what `SSDPMessage` makes texts of (each value trimmed
/// and cut as there), for a writer that copies them out without making texts. Valid while the datagram's bytes are.
public struct SSDPFields {
    public var kind: SSDPMessage.Kind
    public var server: UnsafeRawBufferPointer?
    public var usn: UnsafeRawBufferPointer?
    public var location: UnsafeRawBufferPointer?
    public var nt: UnsafeRawBufferPointer?
    public var nts: UnsafeRawBufferPointer?
    public var st: UnsafeRawBufferPointer?
    public var userAgent: UnsafeRawBufferPointer?
    public var cacheControl: UnsafeRawBufferPointer?

    /// The fields of an SSDP datagram; nil when it does not start with an HTTP/1.x start line.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> SSDPFields? {
        var scanner = HTTPHeadScanner(bytes, isDatagram: true)
        guard let start = scanner.startLine() else { return nil }
        var fields: SSDPFields
        switch start.kind {
        case .response(let status):
            fields = SSDPFields(kind: .response(status: status))
        case .request(let method, _):
            fields = SSDPFields(kind: method == "NOTIFY" ? .notify : method == "M-SEARCH" ? .search : .other(method: method))
        }
        while let header = scanner.nextHeader() {
            let value = { DiscoveryText.headerValueBytes(header.value, bytes: SSDPMessage.maximumValueBytes) }
            if header.is("server") {
                fields.server = value()
            } else if header.is("usn") {
                fields.usn = value()
            } else if header.is("location") {
                fields.location = value()
            } else if header.is("nt") {
                fields.nt = value()
            } else if header.is("nts") {
                fields.nts = value()
            } else if header.is("st") {
                fields.st = value()
            } else if header.is("user-agent") {
                fields.userAgent = value()
            } else if header.is("cache-control") {
                fields.cacheControl = value()
            }
        }
        return fields
    }
}
