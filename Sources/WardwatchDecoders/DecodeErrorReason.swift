/// A decoder error's case name without its associated values ("badOptionLength", never "badOptionLength(code: 48)"):
/// the `reason` label of the malformed-packet counter. The names are fixed, so the label stays low-cardinality
/// whatever the packets say, and making one costs no reflection (a flood of malformed packets is common traffic for a
/// sensor, and `"\(error)"` took several microseconds per packet).
public protocol DecodeErrorReason: Error {
    var reason: String { get }
}

extension DecodeErrorReason where Self: RawRepresentable, RawValue == String {
    public var reason: String { rawValue }
}

extension IPv4Packet.DecodeError: DecodeErrorReason {}
extension UDPDatagram.DecodeError: DecodeErrorReason {}
extension TCPSegment.DecodeError: DecodeErrorReason {}

extension IPv6Packet.DecodeError: DecodeErrorReason {
    public var reason: String {
        switch self {
        case .truncated: "truncated"
        case .notIPv6: "notIPv6"
        case .lengthExceedsFrame: "lengthExceedsFrame"
        case .badExtensionHeader: "badExtensionHeader"
        case .tooManyExtensionHeaders: "tooManyExtensionHeaders"
        }
    }
}

extension DHCPv4Message.DecodeError: DecodeErrorReason {
    public var reason: String {
        switch self {
        case .truncated: "truncated"
        case .badMagicCookie: "badMagicCookie"
        case .badOptionLength: "badOptionLength"
        }
    }
}

extension DHCPv6Message.DecodeError: DecodeErrorReason {
    public var reason: String {
        switch self {
        case .truncated: "truncated"
        case .badOptionLength: "badOptionLength"
        }
    }
}
