/// A DHCPv6 message (RFC 8415) with every option kept in wire order. Client and server messages carry a transaction
/// id; relay messages (RELAY-FORW 12, RELAY-REPL 13) carry a hop count, link and peer addresses, and the relayed
/// message in option 9.
public struct DHCPv6Message: Equatable, Sendable {
    public struct Option: Equatable, Sendable {
        public var code: UInt16
        public var value: [UInt8]
    }

    public var messageType: UInt8
    /// The 24-bit transaction id; nil for relay messages.
    public var transactionID: UInt32?
    /// Relay messages only.
    public var hopCount: UInt8?
    public var linkAddress: IPv6Address?
    public var peerAddress: IPv6Address?
    /// Top-level options in the order the message carries them.
    public var options: [Option]

    public enum DecodeError: Error, Equatable {
        case truncated
        case badOptionLength(code: UInt16)
    }

    public static let clientPort: UInt16 = 546
    public static let serverPort: UInt16 = 547

    public var isRelay: Bool { messageType == 12 || messageType == 13 }

    public func option(_ code: UInt16) -> [UInt8]? { options.first { $0.code == code }?.value }

    /// Decodes a DHCPv6 UDP payload.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<DHCPv6Message, DecodeError> {
        guard let type = bytes.readUInt8(at: 0) else { return .failure(.truncated) }
        var message = DHCPv6Message(messageType: type, options: [])
        let optionsStart: Int
        if type == 12 || type == 13 {
            guard let hops = bytes.readUInt8(at: 1), let link = IPv6Address(bytes, at: 2),
                let peer = IPv6Address(bytes, at: 18)
            else { return .failure(.truncated) }
            message.hopCount = hops
            message.linkAddress = link
            message.peerAddress = peer
            optionsStart = 34
        } else {
            guard let word = bytes.readUInt32(at: 0) else { return .failure(.truncated) }
            message.transactionID = word & 0xFF_FFFF
            optionsStart = 4
        }
        switch parseOptions(bytes, from: optionsStart) {
        case .success(let options): message.options = options
        case .failure(let error): return .failure(error)
        }
        return .success(message)
    }

    /// Options (code, length, value) from `offset` to the end of `bytes`.
    static func parseOptions(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> Result<[Option], DecodeError> {
        var options: [Option] = []
        var i = offset
        while i < bytes.count {
            guard let code = bytes.readUInt16(at: i) else { return .failure(.truncated) }
            guard let length = bytes.readUInt16(at: i + 2), let value = bytes.slice(i + 4, Int(length)) else {
                return .failure(.badOptionLength(code: code))
            }
            options.append(Option(code: code, value: Array(value)))
            i += 4 + Int(length)
        }
        return .success(options)
    }

    static func parseOptions(_ bytes: [UInt8], from offset: Int) -> [Option]? {
        bytes.withUnsafeBytes { try? parseOptions($0, from: offset).get() }
    }

    // MARK: Options that identify a client

    /// Option 1.
    public var clientDUID: DHCPv6DUID? { option(1).flatMap(DHCPv6DUID.init) }
    /// Option 2.
    public var serverDUID: DHCPv6DUID? { option(2).flatMap(DHCPv6DUID.init) }

    /// Option 6: the option codes the client asks for, in its order.
    public var optionRequestList: [UInt16]? {
        guard let v = option(6), v.count % 2 == 0 else { return nil }
        return stride(from: 0, to: v.count, by: 2).map { UInt16(v[$0]) << 8 | UInt16(v[$0 + 1]) }
    }

    /// Option 8, in hundredths of a second.
    public var elapsedTime: UInt16? {
        guard let v = option(8), v.count == 2 else { return nil }
        return UInt16(v[0]) << 8 | UInt16(v[1])
    }

    /// Option 15: each user class datum (RFC 8415 section 21.15).
    public var userClass: [[UInt8]]? { option(15).flatMap { Self.lengthPrefixed($0, from: 0) } }

    /// Option 16: the vendor's enterprise number and class data (RFC 8415 section 21.16).
    public var vendorClass: DHCPv6VendorClass? {
        guard let v = option(16), v.count >= 4, let data = Self.lengthPrefixed(v, from: 4) else { return nil }
        return DHCPv6VendorClass(enterpriseNumber: Self.uint32(v, 0), data: data)
    }

    /// Option 17: the vendor's enterprise number and its sub-options (RFC 8415 section 21.17).
    public var vendorOptions: (enterpriseNumber: UInt32, options: [Option])? {
        guard let v = option(17), v.count >= 4, let options = Self.parseOptions(v, from: 4) else { return nil }
        return (Self.uint32(v, 0), options)
    }

    /// Option 39 (RFC 4704): the client's FQDN flags and name.
    public var clientFQDN: DHCPv6FQDN? {
        guard let v = option(39), let flags = v.first else { return nil }
        let names = v.withUnsafeBytes { WireDomainNames.decodeUncompressed($0.slice(1, $0.count - 1)!) }
        return DHCPv6FQDN(flags: flags, name: names.first ?? "")
    }

    /// Option 23 (RFC 3646): recursive DNS servers.
    public var dnsServers: [IPv6Address]? {
        guard let v = option(23), v.count % 16 == 0 else { return nil }
        return v.withUnsafeBytes { b in stride(from: 0, to: v.count, by: 16).compactMap { IPv6Address(b, at: $0) } }
    }

    /// Option 24 (RFC 3646): the domain search list.
    public var domainSearchList: [String]? {
        option(24).map { v in v.withUnsafeBytes { WireDomainNames.decodeUncompressed($0) } }
    }

    /// Addresses of every IA_NA (option 3) and IA_TA (option 4) in the message (their IAADDR options, 5).
    public var assignedAddresses: [IPv6Address] {
        var result: [IPv6Address] = []
        for o in options where o.code == 3 || o.code == 4 {
            let start = o.code == 3 ? 12 : 4
            guard o.value.count >= start, let inner = Self.parseOptions(o.value, from: start) else { continue }
            for address in inner where address.code == 5 && address.value.count >= 24 {
                address.value.withUnsafeBytes { if let a = IPv6Address($0, at: 0) { result.append(a) } }
            }
        }
        return result
    }

    /// The message a relay message carries in option 9, decoded; nil for other messages or where it does not decode.
    public var relayedMessage: DHCPv6Message? {
        guard isRelay, let inner = option(9) else { return nil }
        return inner.withUnsafeBytes { try? Self.decode($0).get() }
    }

    /// The client's own message: this one, or the innermost message of a relay chain (at most 32 relays, the hop
    /// count limit of RFC 8415 section 7.6). Nil when a relay carries no decodable message.
    public var innermostMessage: DHCPv6Message? {
        var message = self
        for _ in 0..<32 {
            guard message.isRelay else { return message }
            guard let inner = message.relayedMessage else { return nil }
            message = inner
        }
        return nil
    }

    static func uint32(_ v: [UInt8], _ i: Int) -> UInt32 {
        UInt32(v[i]) << 24 | UInt32(v[i + 1]) << 16 | UInt32(v[i + 2]) << 8 | UInt32(v[i + 3])
    }

    /// A run of 2-byte-length-prefixed data from `offset` to the end; nil where one runs past the end.
    static func lengthPrefixed(_ v: [UInt8], from offset: Int) -> [[UInt8]]? {
        var result: [[UInt8]] = []
        var i = offset
        while i < v.count {
            guard i + 2 <= v.count else { return nil }
            let length = Int(v[i]) << 8 | Int(v[i + 1])
            guard length <= v.count - i - 2 else { return nil }
            result.append(Array(v[(i + 2)..<(i + 2 + length)]))
            i += 2 + length
        }
        return result
    }

    /// Names of message types (RFC 8415 section 7.3, RFC 5007, RFC 5460, RFC 7341).
    public static func messageTypeName(_ type: UInt8) -> String {
        switch type {
        case 1: "solicit"
        case 2: "advertise"
        case 3: "request"
        case 4: "confirm"
        case 5: "renew"
        case 6: "rebind"
        case 7: "reply"
        case 8: "release"
        case 9: "decline"
        case 10: "reconfigure"
        case 11: "information-request"
        case 12: "relay-forw"
        case 13: "relay-repl"
        case 14: "leasequery"
        case 15: "leasequery-reply"
        case 16: "leasequery-done"
        case 17: "leasequery-data"
        case 20: "bulk-leasequery"
        case 21: "dhcpv4-query"
        case 22: "dhcpv4-response"
        default: "type-\(type)"
        }
    }
}

/// A DHCP unique identifier (RFC 8415 section 11).
public struct DHCPv6DUID: Hashable, Sendable {
    /// The whole DUID, type included.
    public var bytes: [UInt8]

    /// nil for fewer than two bytes.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= 2 else { return nil }
        self.bytes = bytes
    }

    /// 1 link-layer address plus time (LLT), 2 enterprise number (EN), 3 link-layer address (LL), 4 UUID.
    public var type: UInt16 { UInt16(bytes[0]) << 8 | UInt16(bytes[1]) }

    /// The whole DUID as lowercase hex.
    public var hex: String { hexString(bytes) }

    /// The IANA hardware type of an LLT or LL DUID (1 for Ethernet).
    public var hardwareType: UInt16? {
        guard type == 1 || type == 3, bytes.count >= 4 else { return nil }
        return UInt16(bytes[2]) << 8 | UInt16(bytes[3])
    }

    /// The link-layer address of an LLT or LL DUID.
    public var linkLayerAddress: [UInt8]? {
        switch type {
        case 1 where bytes.count >= 8: Array(bytes[8...])
        case 3 where bytes.count >= 4: Array(bytes[4...])
        default: nil
        }
    }

    /// The MAC of an LLT or LL DUID with hardware type Ethernet (1) and a 6-byte address.
    public var mac: MACAddress? {
        guard hardwareType == 1, let address = linkLayerAddress, address.count == 6 else { return nil }
        return address.withUnsafeBytes { MACAddress($0, at: 0) }
    }

    /// Seconds since 2000-01-01 00:00 UTC (mod 2^32) of an LLT DUID.
    public var time: UInt32? {
        guard type == 1, bytes.count >= 8 else { return nil }
        return DHCPv6Message.uint32(bytes, 4)
    }

    /// The vendor's enterprise number of an EN DUID.
    public var enterpriseNumber: UInt32? {
        guard type == 2, bytes.count >= 6 else { return nil }
        return DHCPv6Message.uint32(bytes, 2)
    }

    /// The identifier of an EN DUID, as hex.
    public var enterpriseIdentifierHex: String? {
        guard type == 2, bytes.count >= 6 else { return nil }
        return hexString(bytes[6...])
    }

    /// The UUID of a UUID DUID, as lowercase hex.
    public var uuidHex: String? {
        guard type == 4, bytes.count == 18 else { return nil }
        return hexString(bytes[2...])
    }
}

/// The vendor class option (16).
public struct DHCPv6VendorClass: Hashable, Sendable {
    public var enterpriseNumber: UInt32
    public var data: [[UInt8]]

    /// The class data as text (invalid UTF-8 replaced).
    public var strings: [String] { data.map { String(decoding: $0, as: UTF8.self) } }
}

/// The client FQDN option (39, RFC 4704).
public struct DHCPv6FQDN: Hashable, Sendable {
    /// N (0x04), O (0x02) and S (0x01) flags.
    public var flags: UInt8
    /// The name, dotted; a partial name (no root label) as it is.
    public var name: String
}
