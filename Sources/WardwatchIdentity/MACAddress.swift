/// A 48-bit IEEE 802 MAC address.
public struct MACAddress: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The address in its low 48 bits, first octet most significant.
    public var value: UInt64

    public init(value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

    /// Parses `aa:bb:cc:dd:ee:ff`, `aa-bb-cc-dd-ee-ff` or 12 bare hex digits, any case.
    public init?(_ text: some StringProtocol) {
        var v: UInt64 = 0
        var digits = 0
        for c in text.utf8 {
            let n: UInt64
            switch c {
            case 48...57: n = UInt64(c - 48)
            case 97...102: n = UInt64(c - 87)
            case 65...70: n = UInt64(c - 55)
            case 58, 45, 46: continue
            default: return nil
            }
            v = v << 4 | n
            digits += 1
            if digits > 12 { return nil }
        }
        guard digits == 12 else { return nil }
        value = v
    }

    public var firstOctet: UInt8 { UInt8(truncatingIfNeeded: value >> 40) }
    /// The I/G bit: a group (multicast or broadcast) address.
    public var isMulticast: Bool { firstOctet & 0x01 != 0 }
    /// The U/L bit: locally administered, as randomised (private) addresses are.
    public var isLocallyAdministered: Bool { firstOctet & 0x02 != 0 }
    public var isBroadcast: Bool { value == 0xFFFF_FFFF_FFFF }
    /// A unicast, locally administered address: how randomised / private Wi-Fi and Bluetooth MACs appear.
    public var isRandomised: Bool { isLocallyAdministered && !isMulticast }

    /// Lowercase, colon-separated.
    public var description: String {
        let hex = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(17)
        for i in (0..<6).reversed() {
            let b = Int((value >> UInt64(i * 8)) & 0xFF)
            out.append(hex[b >> 4])
            out.append(hex[b & 0x0F])
            if i > 0 { out.append(":") }
        }
        return out
    }
}
