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
        var scanner = HTTPHeadScanner(bytes, isDatagram: true)
        guard let start = scanner.startLine() else { return nil }
        var message: SSDPMessage
        switch start.kind {
        case .response(let status):
            message = SSDPMessage(kind: .response(status: status))
        case .request(let method, _):
            message = SSDPMessage(kind: method == "NOTIFY" ? .notify : method == "M-SEARCH" ? .search : .other(method: method))
        }
        while let header = scanner.nextHeader() {
            let value = { DiscoveryText.headerValue(header.value, bytes: maximumValueBytes) }
            if header.is("server") {
                message.server = value()
            } else if header.is("usn") {
                message.usn = value()
            } else if header.is("location") {
                message.location = value()
            } else if header.is("nt") {
                message.nt = value()
            } else if header.is("nts") {
                message.nts = value()
            } else if header.is("st") {
                message.st = value()
            } else if header.is("user-agent") {
                message.userAgent = value()
            } else if header.is("cache-control") {
                message.cacheControl = value()
            }
        }
        return message
    }
}
