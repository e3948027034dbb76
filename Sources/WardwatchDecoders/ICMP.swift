/// An ICMPv4 message (RFC 792): type, code, the four bytes after the checksum, and the body.
public struct ICMPv4Message {
    public var type: UInt8
    public var code: UInt8
    public var checksum: UInt16
    /// The "rest of header" word: identifier and sequence for echo, timestamp and information messages; the
    /// gateway for a redirect; the next-hop MTU (low 16 bits) for fragmentation needed.
    public var restOfHeader: UInt32
    /// Everything after the first 8 bytes: echo data, or the invoking datagram of an error.
    public var body: UnsafeRawBufferPointer

    public enum DecodeError: Error, Equatable { case truncated }

    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<ICMPv4Message, DecodeError> {
        guard let type = bytes.readUInt8(at: 0), let code = bytes.readUInt8(at: 1), let checksum = bytes.readUInt16(at: 2),
            let rest = bytes.readUInt32(at: 4), let body = bytes.slice(8, bytes.count - 8)
        else { return .failure(.truncated) }
        return .success(ICMPv4Message(type: type, code: code, checksum: checksum, restOfHeader: rest, body: body))
    }

    /// Echo request/reply (8/0), timestamp (13/14), information (15/16) and address mask (17/18) carry an
    /// identifier and a sequence number.
    public var identifier: UInt16? { hasIdentifier ? UInt16(truncatingIfNeeded: restOfHeader >> 16) : nil }
    public var sequenceNumber: UInt16? { hasIdentifier ? UInt16(truncatingIfNeeded: restOfHeader) : nil }
    private var hasIdentifier: Bool { [0, 8, 13, 14, 15, 16, 17, 18].contains(type) }

    /// The gateway of a redirect (type 5).
    public var redirectGateway: IPv4Address? { type == 5 ? IPv4Address(value: restOfHeader) : nil }

    /// Destination unreachable (3), source quench (4), redirect (5), time exceeded (11) and parameter problem (12)
    /// quote the IP header and at least 8 bytes of the datagram that caused them.
    public var isError: Bool { [3, 4, 5, 11, 12].contains(type) }
    public var invokingPacket: UnsafeRawBufferPointer? { isError ? body : nil }

    /// A short name of the type (RFC 792, RFC 950).
    public static func typeName(_ type: UInt8) -> String {
        switch type {
        case 0: "echo-reply"
        case 3: "destination-unreachable"
        case 4: "source-quench"
        case 5: "redirect"
        case 8: "echo-request"
        case 9: "router-advertisement"
        case 10: "router-solicitation"
        case 11: "time-exceeded"
        case 12: "parameter-problem"
        case 13: "timestamp-request"
        case 14: "timestamp-reply"
        case 15: "information-request"
        case 16: "information-reply"
        case 17: "address-mask-request"
        case 18: "address-mask-reply"
        default: "type-\(type)"
        }
    }
}

/// A neighbour discovery option (RFC 4861 section 4.6), in wire order.
public enum NDOption: Hashable, Sendable {
    /// Type 1: the sender's link-layer address (a MAC on Ethernet).
    case sourceLinkLayerAddress([UInt8])
    /// Type 2: the target's link-layer address.
    case targetLinkLayerAddress([UInt8])
    /// Type 3.
    case prefixInformation(NDPrefixInformation)
    /// Type 5.
    case mtu(UInt32)
    /// Type 25 (RFC 8106): lifetime and DNS server addresses.
    case recursiveDNSServers(lifetime: UInt32, servers: [IPv6Address])
    /// Type 31 (RFC 8106): lifetime and the search list, dotted.
    case dnsSearchList(lifetime: UInt32, domains: [String])
    /// Any other type, with its value (the bytes after the type and length bytes).
    case other(type: UInt8, value: [UInt8])

    /// The option's link-layer address read as an Ethernet MAC (source or target), where it has six bytes or more.
    public var mac: MACAddress? {
        switch self {
        case .sourceLinkLayerAddress(let a), .targetLinkLayerAddress(let a):
            guard a.count >= 6 else { return nil }
            return a.withUnsafeBytes { MACAddress($0, at: 0) }
        default:
            return nil
        }
    }
}

/// The prefix information option (RFC 4861 section 4.6.2).
public struct NDPrefixInformation: Hashable, Sendable {
    public var prefixLength: UInt8
    /// The L (on-link) flag.
    public var onLink: Bool
    /// The A (autonomous address configuration) flag.
    public var autonomous: Bool
    public var validLifetime: UInt32
    public var preferredLifetime: UInt32
    public var prefix: IPv6Address
}

/// A neighbour discovery message (RFC 4861 section 4).
public enum NDMessage: Hashable, Sendable {
    /// 133.
    case routerSolicitation(options: [NDOption])
    /// 134.
    case routerAdvertisement(NDRouterAdvertisement)
    /// 135.
    case neighborSolicitation(target: IPv6Address, options: [NDOption])
    /// 136: the R (router), S (solicited) and O (override) flags, the target, options.
    case neighborAdvertisement(router: Bool, solicited: Bool, override: Bool, target: IPv6Address, options: [NDOption])
    /// 137.
    case redirect(target: IPv6Address, destination: IPv6Address, options: [NDOption])

    public var options: [NDOption] {
        switch self {
        case .routerSolicitation(let o), .neighborSolicitation(_, let o), .neighborAdvertisement(_, _, _, _, let o),
            .redirect(_, _, let o):
            o
        case .routerAdvertisement(let ra): ra.options
        }
    }

    /// The target address of a neighbour solicitation, advertisement or redirect.
    public var target: IPv6Address? {
        switch self {
        case .neighborSolicitation(let t, _), .neighborAdvertisement(_, _, _, let t, _), .redirect(let t, _, _): t
        default: nil
        }
    }

    /// The MAC of the first source link-layer address option.
    public var sourceMAC: MACAddress? {
        options.first { if case .sourceLinkLayerAddress = $0 { true } else { false } }?.mac
    }

    /// The MAC of the first target link-layer address option.
    public var targetMAC: MACAddress? {
        options.first { if case .targetLinkLayerAddress = $0 { true } else { false } }?.mac
    }
}

/// The router advertisement body (RFC 4861 section 4.2, RFC 4191 preference, RFC 5175 flags).
public struct NDRouterAdvertisement: Hashable, Sendable {
    public var currentHopLimit: UInt8
    /// The whole flags byte; `managed` and `otherConfiguration` are its two top bits.
    public var flags: UInt8
    public var routerLifetime: UInt16
    public var reachableTime: UInt32
    public var retransmitTimer: UInt32
    public var options: [NDOption]

    public var managed: Bool { flags & 0x80 != 0 }
    public var otherConfiguration: Bool { flags & 0x40 != 0 }
}

/// An MLDv2 multicast address record (RFC 3810 section 5.2.4).
public struct MLDv2Record: Hashable, Sendable {
    public var recordType: UInt8
    public var multicastAddress: IPv6Address
    public var sources: [IPv6Address]
}

/// An ICMPv6 message (RFC 4443), with neighbour discovery (RFC 4861) and multicast listener (RFC 2710, RFC 3810)
/// messages decoded.
public struct ICMPv6Message {
    public var type: UInt8
    public var code: UInt8
    public var checksum: UInt16
    /// Everything after the first 4 bytes.
    public var body: UnsafeRawBufferPointer

    public enum DecodeError: Error, Equatable { case truncated }

    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<ICMPv6Message, DecodeError> {
        guard let type = bytes.readUInt8(at: 0), let code = bytes.readUInt8(at: 1), let checksum = bytes.readUInt16(at: 2),
            let body = bytes.slice(4, bytes.count - 4)
        else { return .failure(.truncated) }
        return .success(ICMPv6Message(type: type, code: code, checksum: checksum, body: body))
    }

    /// Echo request (128) and reply (129) identifier and sequence.
    public var identifier: UInt16? { type == 128 || type == 129 ? body.readUInt16(at: 0) : nil }
    public var sequenceNumber: UInt16? { type == 128 || type == 129 ? body.readUInt16(at: 2) : nil }

    /// Error messages (types below 128) quote as much of the invoking packet as fits.
    public var invokingPacket: UnsafeRawBufferPointer? { type < 128 ? body.slice(4, body.count - 4) : nil }

    /// The neighbour discovery message of types 133 to 137 with code 0 (RFC 4861 section 6.1 and 7.1.1: anything
    /// else is discarded); nil for other types, a body too short for its fixed part, or an option of length zero.
    public var neighborDiscovery: NDMessage? {
        guard code == 0 else { return nil }
        switch type {
        case 133:
            return Self.ndOptions(body, from: 4).map { .routerSolicitation(options: $0) }
        case 134:
            guard let hop = body.readUInt8(at: 0), let flags = body.readUInt8(at: 1),
                let lifetime = body.readUInt16(at: 2), let reachable = body.readUInt32(at: 4),
                let retransmit = body.readUInt32(at: 8), let options = Self.ndOptions(body, from: 12)
            else { return nil }
            return .routerAdvertisement(
                NDRouterAdvertisement(
                    currentHopLimit: hop, flags: flags, routerLifetime: lifetime, reachableTime: reachable,
                    retransmitTimer: retransmit, options: options))
        case 135:
            guard let target = IPv6Address(body, at: 4), let options = Self.ndOptions(body, from: 20) else { return nil }
            return .neighborSolicitation(target: target, options: options)
        case 136:
            guard let flags = body.readUInt8(at: 0), let target = IPv6Address(body, at: 4),
                let options = Self.ndOptions(body, from: 20)
            else { return nil }
            return .neighborAdvertisement(
                router: flags & 0x80 != 0, solicited: flags & 0x40 != 0, override: flags & 0x20 != 0, target: target,
                options: options)
        case 137:
            guard let target = IPv6Address(body, at: 4), let destination = IPv6Address(body, at: 20),
                let options = Self.ndOptions(body, from: 36)
            else { return nil }
            return .redirect(target: target, destination: destination, options: options)
        default:
            return nil
        }
    }

    /// The multicast addresses a listener reports: the address of an MLDv1 report (131) or done (132), or the records
    /// of an MLDv2 report (143). Nil for other types or a truncated message.
    public var multicastListenerRecords: [MLDv2Record]? {
        switch type {
        case 131, 132:
            guard let address = IPv6Address(body, at: 4) else { return nil }
            return [MLDv2Record(recordType: type == 131 ? 2 : 3, multicastAddress: address, sources: [])]
        case 143:
            guard let count = body.readUInt16(at: 2) else { return nil }
            var records: [MLDv2Record] = []
            var i = 4
            for _ in 0..<count {
                guard let recordType = body.readUInt8(at: i), let auxWords = body.readUInt8(at: i + 1),
                    let sourceCount = body.readUInt16(at: i + 2), let address = IPv6Address(body, at: i + 4)
                else { return nil }
                var sources: [IPv6Address] = []
                for s in 0..<Int(sourceCount) {
                    guard let source = IPv6Address(body, at: i + 20 + s * 16) else { return nil }
                    sources.append(source)
                }
                i += 20 + Int(sourceCount) * 16 + Int(auxWords) * 4
                guard i <= body.count else { return nil }
                records.append(MLDv2Record(recordType: recordType, multicastAddress: address, sources: sources))
            }
            return records
        default:
            return nil
        }
    }

    /// Options from `offset` of `body` to its end; nil where one has length zero or runs past the end.
    static func ndOptions(_ body: UnsafeRawBufferPointer, from offset: Int) -> [NDOption]? {
        guard offset <= body.count else { return nil }
        var options: [NDOption] = []
        var i = offset
        while i < body.count {
            guard let type = body.readUInt8(at: i), let units = body.readUInt8(at: i + 1), units > 0,
                let value = body.slice(i + 2, Int(units) * 8 - 2)
            else { return nil }
            i += Int(units) * 8
            switch type {
            case 1:
                options.append(.sourceLinkLayerAddress(Array(value)))
            case 2:
                options.append(.targetLinkLayerAddress(Array(value)))
            case 3 where value.count >= 30:
                let flags = value[1]
                options.append(
                    .prefixInformation(
                        NDPrefixInformation(
                            prefixLength: value[0], onLink: flags & 0x80 != 0, autonomous: flags & 0x40 != 0,
                            validLifetime: value.readUInt32(at: 2)!, preferredLifetime: value.readUInt32(at: 6)!,
                            prefix: IPv6Address(value, at: 14)!)))
            case 5 where value.count >= 6:
                options.append(.mtu(value.readUInt32(at: 2)!))
            case 25 where value.count >= 6:
                var servers: [IPv6Address] = []
                var s = 6
                while let server = IPv6Address(value, at: s) {
                    servers.append(server)
                    s += 16
                }
                options.append(.recursiveDNSServers(lifetime: value.readUInt32(at: 2)!, servers: servers))
            case 31 where value.count >= 6:
                let domains = WireDomainNames.decodeUncompressed(value.slice(6, value.count - 6)!)
                options.append(.dnsSearchList(lifetime: value.readUInt32(at: 2)!, domains: domains))
            default:
                options.append(.other(type: type, value: Array(value)))
            }
        }
        return options
    }

    /// A short name of the type (RFC 4443, RFC 4861, RFC 2710, RFC 3810).
    public static func typeName(_ type: UInt8) -> String {
        switch type {
        case 1: "destination-unreachable"
        case 2: "packet-too-big"
        case 3: "time-exceeded"
        case 4: "parameter-problem"
        case 128: "echo-request"
        case 129: "echo-reply"
        case 130: "mld-query"
        case 131: "mld-report"
        case 132: "mld-done"
        case 133: "router-solicitation"
        case 134: "router-advertisement"
        case 135: "neighbor-solicitation"
        case 136: "neighbor-advertisement"
        case 137: "redirect"
        case 143: "mldv2-report"
        default: "type-\(type)"
        }
    }
}

/// Domain names in DNS wire format without compression (RFC 1035 section 3.1), as used by the ND search list
/// option and the DHCPv6 domain options (RFC 8415 section 10).
enum WireDomainNames {
    /// Every name in `bytes`, dotted, without the final dot; a name cut short by the end is kept as far as it goes;
    /// zero padding after the last name is skipped. Labels are read as UTF-8 with invalid bytes replaced.
    static func decodeUncompressed(_ bytes: UnsafeRawBufferPointer) -> [String] {
        var names: [String] = []
        var labels: [String] = []
        var i = 0
        while let length = bytes.readUInt8(at: i) {
            if length == 0 {
                if !labels.isEmpty { names.append(labels.joined(separator: ".")) }
                labels.removeAll()
                i += 1
                continue
            }
            guard length < 64, let label = bytes.slice(i + 1, Int(length)) else { break }
            labels.append(String(decoding: label, as: UTF8.self))
            i += 1 + Int(length)
        }
        if !labels.isEmpty { names.append(labels.joined(separator: ".")) }
        return names
    }
}
