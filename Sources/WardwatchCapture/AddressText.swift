import WardwatchDecoders
import WardwatchModel

/// An address written as JSON text straight from its bits: the device keys and endpoints of the observations the
/// capture writes most (flows, SYN signatures, timestamp samples) make no `String`.
enum AddressText: JSONText {
    case mac(MACAddress)
    case ip(FlowAddress)

    /// A device's key: its MAC address where the link has one, else its IP address.
    static func device(mac: MACAddress?, ip: FlowAddress) -> AddressText { mac.map(AddressText.mac) ?? .ip(ip) }

    func writeJSONString(to w: inout JSONWriter) {
        switch self {
        case .mac(let mac): w.plainString(maxLength: MACAddress.textLength) { mac.write(to: $0) }
        case .ip(let address) where address.isIPv4:
            w.plainString(maxLength: IPv4Address.maxTextLength) { address.ipv4.write(to: $0) }
        case .ip(let address): w.string(address.description)
        }
    }

    func appendRaw(to w: inout JSONWriter) {
        switch self {
        case .mac(let mac): w.appendRaw(maxLength: MACAddress.textLength) { mac.write(to: $0) }
        case .ip(let address) where address.isIPv4:
            w.appendRaw(maxLength: IPv4Address.maxTextLength) { address.ipv4.write(to: $0) }
        case .ip(let address): w.appendRaw(address.description)
        }
    }
}
