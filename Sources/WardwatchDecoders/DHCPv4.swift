/// A DHCPv4 message (RFC 2131) with every option kept in wire order (RFC 2132).
public struct DHCPv4Message: Equatable, Sendable {
    public struct Option: Equatable, Sendable {
        public var code: UInt8
        public var value: [UInt8]
    }

    /// 1 = BOOTREQUEST (client to server), 2 = BOOTREPLY.
    public var op: UInt8
    public var transactionID: UInt32
    public var clientIP: IPv4Address
    public var yourIP: IPv4Address
    public var serverIP: IPv4Address
    public var relayIP: IPv4Address
    /// chaddr, where htype is Ethernet and hlen 6.
    public var clientMAC: MACAddress?
    /// Options in the order the packet carries them, pad (0) and end (255) excluded.
    public var options: [Option]

    public enum DecodeError: Error, Equatable {
        case truncated, badMagicCookie, badOptionLength(code: UInt8)
    }

    public static let serverPort: UInt16 = 67
    public static let clientPort: UInt16 = 68

    public func option(_ code: UInt8) -> [UInt8]? { options.first { $0.code == code }?.value }

    /// Option 53.
    public var messageType: UInt8? { option(53)?.first }
    /// Option 55, in the client's order.
    public var parameterRequestList: [UInt8]? { option(55) }
    public var hostname: String? { option(12).map(Self.text) }
    public var vendorClass: String? { option(60).map(Self.text) }
    public var clientIdentifier: [UInt8]? { option(61) }
    public var requestedIP: IPv4Address? { option(50).flatMap(Self.address) }
    public var serverIdentifier: IPv4Address? { option(54).flatMap(Self.address) }
    public var maximumMessageSize: UInt16? {
        guard let v = option(57), v.count == 2 else { return nil }
        return UInt16(v[0]) << 8 | UInt16(v[1])
    }

    /// Text options, with trailing NULs some stacks add removed and invalid UTF-8 replaced.
    static func text(_ bytes: [UInt8]) -> String {
        var end = bytes.count
        while end > 0 && bytes[end - 1] == 0 { end -= 1 }
        return String(decoding: bytes[0..<end], as: UTF8.self)
    }

    static func address(_ bytes: [UInt8]) -> IPv4Address? {
        guard bytes.count == 4 else { return nil }
        return IPv4Address(value: UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3]))
    }

    /// Names of option 53 values (RFC 2132, RFC 4388).
    public static func messageTypeName(_ type: UInt8) -> String {
        switch type {
        case 1: "discover"
        case 2: "offer"
        case 3: "request"
        case 4: "decline"
        case 5: "ack"
        case 6: "nak"
        case 7: "release"
        case 8: "inform"
        case 9: "forcerenew"
        case 10: "leasequery"
        case 11: "leaseunassigned"
        case 12: "leaseunknown"
        case 13: "leaseactive"
        default: "type-\(type)"
        }
    }

    /// Decodes a BOOTP/DHCP payload (the UDP payload).
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<DHCPv4Message, DecodeError> {
        guard bytes.count >= 240, let op = bytes.readUInt8(at: 0), let htype = bytes.readUInt8(at: 1),
            let hlen = bytes.readUInt8(at: 2), let xid = bytes.readUInt32(at: 4)
        else { return .failure(.truncated) }
        guard bytes.readUInt32(at: 236) == 0x6382_5363 else { return .failure(.badMagicCookie) }
        var options: [Option] = []
        var i = 240
        while i < bytes.count {
            let code = bytes[i]
            if code == 0 {
                i += 1
                continue
            }
            if code == 255 { break }
            guard let length = bytes.readUInt8(at: i + 1), let value = bytes.slice(i + 2, Int(length)) else {
                return .failure(.badOptionLength(code: code))
            }
            options.append(Option(code: code, value: Array(value)))
            i += 2 + Int(length)
        }
        return .success(
            DHCPv4Message(
                op: op, transactionID: xid, clientIP: IPv4Address(bytes, at: 12)!, yourIP: IPv4Address(bytes, at: 16)!,
                serverIP: IPv4Address(bytes, at: 20)!, relayIP: IPv4Address(bytes, at: 24)!,
                clientMAC: htype == 1 && hlen == 6 ? MACAddress(bytes, at: 28) : nil, options: options))
    }
}
