/// A 128-bit IPv6 address.
public struct IPv6Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The first (most significant) and last 64 bits.
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Reads sixteen bytes at `offset`; nil where they are not all there.
    public init?(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        guard let h1 = bytes.readUInt32(at: offset), let h2 = bytes.readUInt32(at: offset + 4),
            let l1 = bytes.readUInt32(at: offset + 8), let l2 = bytes.readUInt32(at: offset + 12)
        else { return nil }
        high = UInt64(h1) << 32 | UInt64(h2)
        low = UInt64(l1) << 32 | UInt64(l2)
    }

    /// The eight 16-bit groups, most significant first.
    public var groups: [UInt16] {
        (0..<8).map { i in UInt16(truncatingIfNeeded: (i < 4 ? high : low) >> (UInt64(3 - i % 4) * 16)) }
    }

    /// The canonical text form of RFC 5952: lowercase, leading zeros dropped, the longest run of two or more zero
    /// groups (the first of equal runs) written `::`, and an IPv4-mapped address as `::ffff:a.b.c.d`.
    public var description: String {
        let g = groups
        if high == 0 && low >> 32 == 0xFFFF {
            let v4 = UInt32(truncatingIfNeeded: low)
            return "::ffff:\(v4 >> 24).\((v4 >> 16) & 0xFF).\((v4 >> 8) & 0xFF).\(v4 & 0xFF)"
        }
        var bestStart = -1
        var bestLength = 0
        var i = 0
        while i < 8 {
            if g[i] == 0 {
                var j = i
                while j < 8 && g[j] == 0 { j += 1 }
                if j - i > bestLength {
                    bestStart = i
                    bestLength = j - i
                }
                i = j
            } else {
                i += 1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        func hex(_ v: UInt16) -> String { String(v, radix: 16) }
        if bestStart < 0 { return g.map(hex).joined(separator: ":") }
        let head = g[0..<bestStart].map(hex).joined(separator: ":")
        let tail = g[(bestStart + bestLength)...].map(hex).joined(separator: ":")
        return head + "::" + tail
    }

    public static func < (a: IPv6Address, b: IPv6Address) -> Bool { (a.high, a.low) < (b.high, b.low) }

    public var isUnspecified: Bool { high == 0 && low == 0 }
    public var isMulticast: Bool { high >> 56 == 0xFF }
    /// fe80::/10.
    public var isLinkLocal: Bool { high >> 54 == 0x3FA }
    /// The interface identifier (low 64 bits) read as modified EUI-64 (RFC 4291 appendix A): the MAC address it was
    /// built from, where bytes 4 and 5 are ff:fe. Randomised (RFC 7217, RFC 8981) identifiers give nil.
    public var eui64MAC: MACAddress? {
        guard (low >> 24) & 0xFFFF == 0xFFFE else { return nil }
        let upper = (low >> 40) ^ 0x02_0000
        return MACAddress(value: upper << 24 | (low & 0xFF_FFFF))
    }
}

/// Well-known values of the IPv6 next header field and the IPv4 protocol field (IANA protocol numbers).
public enum IPProtocolNumber {
    public static let hopByHop: UInt8 = 0
    public static let icmp: UInt8 = 1
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    public static let routing: UInt8 = 43
    public static let fragment: UInt8 = 44
    public static let esp: UInt8 = 50
    public static let authentication: UInt8 = 51
    public static let icmpv6: UInt8 = 58
    public static let noNextHeader: UInt8 = 59
    public static let destinationOptions: UInt8 = 60
    public static let mobility: UInt8 = 135
    public static let hip: UInt8 = 139
    public static let shim6: UInt8 = 140
}

/// An option inside a hop-by-hop or destination options header (RFC 8200 section 4.2); Pad1 and PadN are left out.
public struct IPv6Option: Hashable, Sendable {
    public var type: UInt8
    public var value: [UInt8]

    /// Router Alert (RFC 2711): 0 for MLD.
    public var routerAlert: UInt16? {
        guard type == 0x05, value.count == 2 else { return nil }
        return UInt16(value[0]) << 8 | UInt16(value[1])
    }
}

/// One extension header of the chain, in wire order.
public struct IPv6ExtensionHeader: Hashable, Sendable {
    /// The protocol number that announced this header: 0 hop-by-hop, 43 routing, 44 fragment, 51 AH, 60 destination
    /// options, 135 mobility, 139 HIP, 140 shim6.
    public var type: UInt8
    /// The next header field inside it.
    public var nextHeader: UInt8
    /// Offset from the start of the IPv6 header, and length in bytes.
    public var offset: Int
    public var length: Int
    /// Options of a hop-by-hop or destination options header, Pad1 and PadN left out.
    public var options: [IPv6Option] = []
    /// Routing header: type and segments left.
    public var routingType: UInt8?
    public var segmentsLeft: UInt8?
    /// Fragment header: offset in 8-byte units, the M flag, the identification.
    public var fragmentOffset: UInt16?
    public var moreFragments: Bool?
    public var fragmentIdentification: UInt32?
    /// Authentication header: the security parameters index.
    public var securityParametersIndex: UInt32?
}

/// An IPv6 packet (RFC 8200): the fixed header, the extension header chain, and the upper-layer payload.
public struct IPv6Packet {
    public var source: IPv6Address
    public var destination: IPv6Address
    /// Traffic class (DSCP in the high 6 bits, ECN in the low 2).
    public var trafficClass: UInt8
    public var flowLabel: UInt32
    public var payloadLength: UInt16
    public var hopLimit: UInt8
    /// The next header field of the fixed header.
    public var firstNextHeader: UInt8
    public var extensionHeaders: [IPv6ExtensionHeader]
    /// The upper-layer protocol after the chain (6 TCP, 17 UDP, 58 ICMPv6, 59 no next header, 50 ESP, ...).
    public var protocolNumber: UInt8
    /// True when a fragment header with a non-zero offset was met: the payload does not start with `protocolNumber`'s
    /// header.
    public var isLaterFragment: Bool
    /// True when a fragment header with the M flag was met.
    public var moreFragments: Bool
    /// What follows the chain, up to the end of the payload length (link padding dropped).
    public var payload: UnsafeRawBufferPointer

    /// Bytes of extension headers between the fixed header and the payload.
    public var extensionHeadersLength: Int { extensionHeaders.reduce(0) { $0 + $1.length } }

    public enum DecodeError: Error, Equatable {
        case truncated, notIPv6, lengthExceedsFrame
        /// An extension header runs past the payload.
        case badExtensionHeader(type: UInt8)
        /// More extension headers than the decoder follows (a crafted chain).
        case tooManyExtensionHeaders
    }

    /// At most this many extension headers are followed.
    public static let maximumExtensionHeaders = 16

    /// Decodes the fixed header and walks the extension header chain. A payload length of zero with a hop-by-hop
    /// header first is a jumbogram (RFC 2675): the payload runs to the end of the bytes.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<IPv6Packet, DecodeError> {
        guard bytes.count >= 40, let word0 = bytes.readUInt32(at: 0), let payloadLength = bytes.readUInt16(at: 4),
            let next = bytes.readUInt8(at: 6), let hopLimit = bytes.readUInt8(at: 7),
            let source = IPv6Address(bytes, at: 8), let destination = IPv6Address(bytes, at: 24)
        else { return .failure(.truncated) }
        guard word0 >> 28 == 6 else { return .failure(.notIPv6) }
        let end: Int
        if payloadLength == 0 && next == IPProtocolNumber.hopByHop {
            end = bytes.count
        } else {
            end = 40 + Int(payloadLength)
            guard end <= bytes.count else { return .failure(.lengthExceedsFrame) }
        }
        var packet = IPv6Packet(
            source: source, destination: destination, trafficClass: UInt8(truncatingIfNeeded: word0 >> 20),
            flowLabel: word0 & 0xF_FFFF, payloadLength: payloadLength, hopLimit: hopLimit, firstNextHeader: next,
            extensionHeaders: [], protocolNumber: next, isLaterFragment: false, moreFragments: false,
            payload: bytes.slice(40, end - 40)!)
        var offset = 40
        var type = next
        while isExtensionHeader(type) && !packet.isLaterFragment {
            guard packet.extensionHeaders.count < maximumExtensionHeaders else {
                return .failure(.tooManyExtensionHeaders)
            }
            guard let nextHeader = bytes.readUInt8(at: offset), let lengthByte = bytes.readUInt8(at: offset + 1),
                offset + 8 <= end
            else { return .failure(.badExtensionHeader(type: type)) }
            let length: Int = switch type {
            case IPProtocolNumber.fragment: 8
            case IPProtocolNumber.authentication: (Int(lengthByte) + 2) * 4
            default: (Int(lengthByte) + 1) * 8
            }
            guard length <= end - offset, let body = bytes.slice(offset, length) else {
                return .failure(.badExtensionHeader(type: type))
            }
            var header = IPv6ExtensionHeader(type: type, nextHeader: nextHeader, offset: offset, length: length)
            switch type {
            case IPProtocolNumber.hopByHop, IPProtocolNumber.destinationOptions:
                header.options = options(body)
            case IPProtocolNumber.routing:
                header.routingType = body[2]
                header.segmentsLeft = body[3]
            case IPProtocolNumber.fragment:
                let field = body.readUInt16(at: 2)!
                header.fragmentOffset = field >> 3
                header.moreFragments = field & 1 != 0
                header.fragmentIdentification = body.readUInt32(at: 4)!
                if field >> 3 != 0 { packet.isLaterFragment = true }
                if field & 1 != 0 { packet.moreFragments = true }
            case IPProtocolNumber.authentication:
                header.securityParametersIndex = body.readUInt32(at: 4)!
            default:
                break
            }
            packet.extensionHeaders.append(header)
            offset += length
            type = nextHeader
        }
        packet.protocolNumber = type
        packet.payload = bytes.slice(offset, end - offset)!
        return .success(packet)
    }

    /// Headers that share the generic next-header/length layout and are walked through.
    public static func isExtensionHeader(_ type: UInt8) -> Bool {
        switch type {
        case IPProtocolNumber.hopByHop, IPProtocolNumber.routing, IPProtocolNumber.fragment,
            IPProtocolNumber.authentication, IPProtocolNumber.destinationOptions, IPProtocolNumber.mobility,
            IPProtocolNumber.hip, IPProtocolNumber.shim6:
            true
        default:
            false
        }
    }

    /// The TLV options of a hop-by-hop or destination options header (`body` includes its 2-byte preamble).
    /// Stops quietly at an option that runs past the header.
    static func options(_ body: UnsafeRawBufferPointer) -> [IPv6Option] {
        var result: [IPv6Option] = []
        var i = 2
        while let type = body.readUInt8(at: i) {
            if type == 0 {
                i += 1
                continue
            }
            guard let length = body.readUInt8(at: i + 1), let value = body.slice(i + 2, Int(length)) else { break }
            if type != 1 { result.append(IPv6Option(type: type, value: Array(value))) }
            i += 2 + Int(length)
        }
        return result
    }
}
