/// IPv4 header fields that `IPv4Packet` does not expose and a p0f signature needs (RFC 791, RFC 3168).
public struct IPv4HeaderFacts: Hashable, Sendable {
    /// IHL * 4.
    public var headerLength: Int
    /// The whole TOS byte: DSCP in the high 6 bits, ECN in the low 2.
    public var typeOfService: UInt8
    public var totalLength: UInt16
    public var identification: UInt16
    /// The reserved ("evil") flag bit, which must be zero.
    public var reservedFlag: Bool
    public var dontFragment: Bool
    public var moreFragments: Bool
    /// In 8-byte units.
    public var fragmentOffset: UInt16
    public var ttl: UInt8
    public var protocolNumber: UInt8

    /// Bytes of IPv4 options.
    public var optionsLength: Int { headerLength - 20 }
    /// The ECN field (RFC 3168): 0 not ECN-capable, 1 or 2 ECT, 3 CE.
    public var ecn: UInt8 { typeOfService & 0x03 }

    /// Reads the header at the start of `bytes`; nil unless it is a whole IPv4 header.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> IPv4HeaderFacts? {
        guard let versionIHL = bytes.readUInt8(at: 0), versionIHL >> 4 == 4, let tos = bytes.readUInt8(at: 1),
            let totalLength = bytes.readUInt16(at: 2), let id = bytes.readUInt16(at: 4),
            let flagsFragment = bytes.readUInt16(at: 6), let ttl = bytes.readUInt8(at: 8),
            let proto = bytes.readUInt8(at: 9)
        else { return nil }
        let headerLength = Int(versionIHL & 0x0F) * 4
        guard headerLength >= 20, headerLength <= bytes.count else { return nil }
        return IPv4HeaderFacts(
            headerLength: headerLength, typeOfService: tos, totalLength: totalLength, identification: id,
            reservedFlag: flagsFragment & 0x8000 != 0, dontFragment: flagsFragment & 0x4000 != 0,
            moreFragments: flagsFragment & 0x2000 != 0, fragmentOffset: flagsFragment & 0x1FFF, ttl: ttl,
            protocolNumber: proto)
    }
}

/// The network-layer facts a p0f v3 TCP signature reads, from an IPv4 or an IPv6 header.
public struct P0fIPFacts: Hashable, Sendable {
    /// 4 or 6.
    public var version: UInt8
    /// TTL or hop limit as observed.
    public var ttl: UInt8
    /// IPv4 option bytes; 0 for IPv6 (p0f reports no extension headers).
    public var optionsLength: Int
    /// Length of the IP header(s) before the TCP header.
    public var headerLength: Int
    /// The low two bits of the TOS / traffic class byte.
    public var ecn: UInt8
    /// A fragment (IPv4 MF or a non-zero offset; an IPv6 fragment header): p0f signs none.
    public var isFragment: Bool
    // IPv4 only.
    public var dontFragment: Bool = false
    public var identification: UInt16 = 0
    public var reservedFlag: Bool = false
    // IPv6 only.
    public var flowLabel: UInt32 = 0

    public init(ipv4: IPv4HeaderFacts) {
        version = 4
        ttl = ipv4.ttl
        optionsLength = ipv4.optionsLength
        headerLength = ipv4.headerLength
        ecn = ipv4.ecn
        isFragment = ipv4.moreFragments || ipv4.fragmentOffset != 0
        dontFragment = ipv4.dontFragment
        identification = ipv4.identification
        reservedFlag = ipv4.reservedFlag
    }

    /// p0f 3.09b reads only IPv6 packets whose fixed header names TCP; this signs packets behind other extension
    /// headers too (p0f's olen stays 0 for IPv6), and declines fragments as p0f does.
    public init(ipv6: IPv6Packet) {
        version = 6
        ttl = ipv6.hopLimit
        optionsLength = 0
        headerLength = 40 + ipv6.extensionHeadersLength
        ecn = ipv6.trafficClass & 0x03
        isFragment = ipv6.extensionHeaders.contains { $0.type == IPProtocolNumber.fragment }
        flowLabel = ipv6.flowLabel
    }
}

/// p0f v3 quirks, in the order p0f prints them.
public struct P0fQuirks: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// IPv4 don't fragment set.
    public static let df = P0fQuirks(rawValue: 1 << 0)
    /// DF set and IP ID non-zero.
    public static let idNonZero = P0fQuirks(rawValue: 1 << 1)
    /// DF clear and IP ID zero.
    public static let idZero = P0fQuirks(rawValue: 1 << 2)
    /// ECN bits in the IP header, or ECE, CWR or NS in the TCP header (the three reserved bits do not count).
    public static let ecn = P0fQuirks(rawValue: 1 << 3)
    /// The IPv4 reserved flag ("must be zero") set.
    public static let mustBeZeroNonZero = P0fQuirks(rawValue: 1 << 4)
    /// A non-zero IPv6 flow label.
    public static let flow = P0fQuirks(rawValue: 1 << 5)
    /// Sequence number zero.
    public static let seqZero = P0fQuirks(rawValue: 1 << 6)
    /// ACK number non-zero without the ACK flag, as p0f 3.09b tests it: only numbers with bit 24 set (see
    /// `P0fSignature.ackPlusBit`).
    public static let ackNonZero = P0fQuirks(rawValue: 1 << 7)
    /// ACK number zero with the ACK flag.
    public static let ackZero = P0fQuirks(rawValue: 1 << 8)
    /// Urgent pointer non-zero without the URG flag.
    public static let urgentPointerNonZero = P0fQuirks(rawValue: 1 << 9)
    /// URG flag set.
    public static let urgentFlag = P0fQuirks(rawValue: 1 << 10)
    /// PSH flag set.
    public static let pushFlag = P0fQuirks(rawValue: 1 << 11)
    /// Own timestamp (TSval) zero.
    public static let ts1Zero = P0fQuirks(rawValue: 1 << 12)
    /// Peer timestamp (TSecr) non-zero on a SYN.
    public static let ts2NonZero = P0fQuirks(rawValue: 1 << 13)
    /// Non-zero bytes after the end-of-options option.
    public static let optionPaddingNonZero = P0fQuirks(rawValue: 1 << 14)
    /// Window scale above 14.
    public static let excessiveWindowScale = P0fQuirks(rawValue: 1 << 15)
    /// Malformed options.
    public static let badOptions = P0fQuirks(rawValue: 1 << 16)

    static let names: [(P0fQuirks, String)] = [
        (.df, "df"), (.idNonZero, "id+"), (.idZero, "id-"), (.ecn, "ecn"), (.mustBeZeroNonZero, "0+"), (.flow, "flow"),
        (.seqZero, "seq-"), (.ackNonZero, "ack+"), (.ackZero, "ack-"), (.urgentPointerNonZero, "uptr+"),
        (.urgentFlag, "urgf+"), (.pushFlag, "pushf+"), (.ts1Zero, "ts1-"), (.ts2NonZero, "ts2+"),
        (.optionPaddingNonZero, "opt+"), (.excessiveWindowScale, "exws"), (.badOptions, "bad"),
    ]

    /// Comma-separated p0f names: `df,id+`.
    public var description: String { Self.names.filter { contains($0.0) }.map(\.1).joined(separator: ",") }
}

/// An entry of the p0f options layout.
public enum P0fLayoutItem: Hashable, Sendable, CustomStringConvertible {
    /// End of options followed by `padding` bytes.
    case eol(padding: Int)
    case nop, mss, ws, sok, sack, ts
    /// Any other kind.
    case unknown(UInt8)

    public var description: String {
        switch self {
        case .eol(let n): "eol+\(n)"
        case .nop: "nop"
        case .mss: "mss"
        case .ws: "ws"
        case .sok: "sok"
        case .sack: "sack"
        case .ts: "ts"
        case .unknown(let kind): "?\(kind)"
        }
    }
}

/// How p0f writes a window size: the value, or a multiple of the MSS or the MTU it recognises.
public enum P0fWindow: Hashable, Sendable, CustomStringConvertible {
    case value(UInt16)
    case mssMultiple(Int)
    case mtuMultiple(Int)

    public var description: String {
        switch self {
        case .value(let v): "\(v)"
        case .mssMultiple(let m): "mss*\(m)"
        case .mtuMultiple(let m): "mtu*\(m)"
        }
    }
}

/// The p0f v3 TCP signature of a SYN or SYN+ACK, `ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass`, built the
/// way p0f builds the `raw_sig` it prints for an unknown or any observed packet (p0f 3.09b README, section 5).
public struct P0fSignature: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// A SYN: p0f's `request` / client signature.
        case syn
        /// A SYN+ACK: p0f's `response` / server signature.
        case synAck
    }

    public var kind: Kind
    /// 4 or 6.
    public var ipVersion: UInt8
    /// The TTL or hop limit observed.
    public var ttl: UInt8
    /// Hops from the guessed initial TTL (32, 64, 128 or 255, the first at or above the observed TTL); nil where
    /// that is more than 35 and p0f writes `?`.
    public var distance: UInt8?
    /// IPv4 option bytes (0 for IPv6).
    public var ipOptionsLength: Int
    /// The MSS option's value, 0 without one.
    public var mss: UInt16
    /// True for a SYN+ACK whose MSS is 1331: p0f-sendsyn's probe value echoed back, which p0f writes as `*`.
    public var mssEchoed: Bool
    public var window: UInt16
    public var windowForm: P0fWindow
    /// The window scale option's shift, 0 without one.
    public var windowScale: UInt8
    public var layout: [P0fLayoutItem]
    public var quirks: P0fQuirks
    /// The segment carries data (p0f's payload class `+`).
    public var hasPayload: Bool

    /// The guessed initial TTL (observed plus distance), nil where p0f cannot guess it.
    public var initialTTL: Int? { distance.map { Int(ttl) + Int($0) } }

    /// The signature exactly as p0f prints it in `raw_sig`, for example
    /// `4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0`.
    public var description: String {
        var s = "\(ipVersion):\(ttl)+"
        s += distance.map { "\($0)" } ?? "?"
        s += ":\(ipOptionsLength):"
        s += mssEchoed ? "*" : "\(mss)"
        s += ":\(windowForm),\(windowScale):"
        s += layout.map(\.description).joined(separator: ",")
        s += ":\(quirks):"
        s += hasPayload ? "+" : "0"
        return s
    }

    /// Every field packed into four words (the layout folded into one): a host opens many connections with one
    /// stack, so signatures are looked up often, and hashing them field by field (the layout item by item) cost more
    /// than the lookup. Equal signatures hash alike; a fold that collides only costs a comparison.
    public func hash(into hasher: inout Hasher) {
        let window: UInt64 = switch windowForm {
        case .value(let v): UInt64(v)
        case .mssMultiple(let m): 1 << 62 | UInt64(truncatingIfNeeded: m)
        case .mtuMultiple(let m): 2 << 62 | UInt64(truncatingIfNeeded: m)
        }
        var folded: UInt64 = 0xCBF2_9CE4_8422_2325
        for item in layout {
            let code: UInt64 = switch item {
            case .eol(let padding): 1 | UInt64(truncatingIfNeeded: padding) << 8
            case .nop: 2
            case .mss: 3
            case .ws: 4
            case .sok: 5
            case .sack: 6
            case .ts: 7
            case .unknown(let kind): 8 | UInt64(kind) << 8
            }
            folded = (folded ^ code) &* 0x0000_0100_0000_01B3
        }
        var first = UInt64(kind == .syn ? 0 : 1)
        first |= UInt64(ipVersion) << 8
        first |= UInt64(ttl) << 16
        first |= UInt64(distance.map { UInt16($0) } ?? 0x100) << 24
        first |= UInt64(mss) << 40
        if mssEchoed { first |= 1 << 56 }
        if hasPayload { first |= 1 << 57 }
        var second = UInt64(quirks.rawValue)
        second |= UInt64(windowScale) << 32
        second |= UInt64(UInt16(truncatingIfNeeded: ipOptionsLength)) << 40
        hasher.combine(first)
        hasher.combine(second)
        hasher.combine(window)
        hasher.combine(folded ^ UInt64(layout.count))
    }

    /// The MSS that p0f-sendsyn puts in its probes.
    static let probeMSS: UInt16 = 1331
    /// p0f keeps at most this many options in a layout.
    static let maximumLayoutItems = 24
    /// p0f 3.09b tests the ACK number for `ack+` in network byte order against 1 on a little-endian host, so it flags
    /// only numbers with this bit (the low bit of the first byte on the wire) set. Signatures in p0f.fp were taken
    /// that way; this keeps the quirk as p0f prints it. The RFC reading is `acknowledgmentNumber != 0`.
    static let ackPlusBit: UInt32 = 0x0100_0000
    /// Distances above this are written `?`.
    static let maximumDistance = 35

    /// The signature of `tcp`, carried in an IP packet described by `ip`; nil unless it is a SYN or SYN+ACK without
    /// FIN or RST in an unfragmented packet. For a SYN+ACK pass the `mss` of the connection's SYN signature as
    /// `peerSYNMSS` (0 when unknown): p0f also recognises windows that are multiples of it.
    public init?(ip: P0fIPFacts, tcp: TCPSegment, peerSYNMSS: UInt16 = 0) {
        let f = tcp.flags
        guard f.contains(.syn), !f.contains(.fin), !f.contains(.rst), !ip.isFragment else { return nil }
        kind = f.contains(.ack) ? .synAck : .syn
        ipVersion = ip.version
        ttl = ip.ttl
        let initial: Int = switch ip.ttl {
        case ...32: 32
        case ...64: 64
        case ...128: 128
        default: 255
        }
        let d = initial - Int(ip.ttl)
        distance = d <= Self.maximumDistance ? UInt8(d) : nil
        ipOptionsLength = ip.optionsLength
        window = tcp.window
        hasPayload = !tcp.payload.isEmpty

        var q: P0fQuirks = []
        if ip.version == 4 {
            if ip.ecn != 0 { q.insert(.ecn) }
            if ip.reservedFlag { q.insert(.mustBeZeroNonZero) }
            if ip.dontFragment {
                q.insert(.df)
                if ip.identification != 0 { q.insert(.idNonZero) }
            } else if ip.identification == 0 {
                q.insert(.idZero)
            }
        } else {
            if ip.ecn != 0 { q.insert(.ecn) }
            if ip.flowLabel != 0 { q.insert(.flow) }
        }
        // The three reserved bits do not count, only NS, CWR and ECE.
        if f.contains(.ece) || f.contains(.cwr) || f.contains(.ns) { q.insert(.ecn) }
        if tcp.sequenceNumber == 0 { q.insert(.seqZero) }
        if f.contains(.ack) {
            if tcp.acknowledgmentNumber == 0 { q.insert(.ackZero) }
        } else if tcp.acknowledgmentNumber & Self.ackPlusBit != 0 {
            q.insert(.ackNonZero)
        }
        if f.contains(.urg) {
            q.insert(.urgentFlag)
        } else if tcp.urgentPointer != 0 {
            q.insert(.urgentPointerNonZero)
        }
        if f.contains(.psh) { q.insert(.pushFlag) }

        let options = Self.readOptions(tcp.optionBytes, isSYN: kind == .syn)
        q.formUnion(options.quirks)
        quirks = q
        layout = options.layout
        mss = options.mss
        windowScale = options.windowScale
        mssEchoed = kind == .synAck && options.mss == Self.probeMSS
        windowForm = Self.windowForm(
            window: tcp.window, mss: Int(options.mss), timestamp: options.tsval, ipVersion: ip.version,
            totalHeader: ip.headerLength + tcp.headerLength, peerSYNMSS: Int(peerSYNMSS))
    }

    /// The options walk as p0f does it, which differs from the RFC reading in `TCPOptions`: a known option with a
    /// wrong length byte is flagged `bad` but read at its usual size, an unknown or SACK option of an implausible
    /// length ends the walk, and a layout keeps at most 24 entries (more is `bad`).
    static func readOptions(_ bytes: UnsafeRawBufferPointer, isSYN: Bool)
        -> (layout: [P0fLayoutItem], quirks: P0fQuirks, mss: UInt16, windowScale: UInt8, tsval: UInt32)
    {
        var layout: [P0fLayoutItem] = []
        // One allocation: an option takes at least one byte, and the walk stops at the maximum.
        layout.reserveCapacity(min(bytes.count, maximumLayoutItems))
        var quirks: P0fQuirks = []
        var mss: UInt16 = 0
        var scale: UInt8 = 0
        var tsval: UInt32 = 0
        let end = bytes.count
        var i = 0
        walk: while i < end && layout.count < maximumLayoutItems {
            let kind = bytes[i]
            i += 1
            // `i` now points at the length byte; `end - i` bytes follow the kind.
            switch kind {
            case 0:
                layout.append(.eol(padding: end - i))
                // p0f stops at the first non-zero padding byte and flags `opt+` only if bytes remain after it: a
                // non-zero last byte alone goes unflagged.
                while i < end {
                    let byte = bytes[i]
                    i += 1
                    if byte != 0 { break }
                }
                if i != end { quirks.insert(.optionPaddingNonZero) }
                return (layout, quirks, mss, scale, tsval)
            case 1:
                layout.append(.nop)
            case 2:
                layout.append(.mss)
                guard end - i >= 3 else {
                    quirks.insert(.badOptions)
                    break walk
                }
                if bytes[i] != 4 { quirks.insert(.badOptions) }
                mss = bytes.readUInt16(at: i + 1)!
                i += 3
            case 3:
                layout.append(.ws)
                guard end - i >= 2 else {
                    quirks.insert(.badOptions)
                    break walk
                }
                if bytes[i] != 3 { quirks.insert(.badOptions) }
                scale = bytes[i + 1]
                if scale > 14 { quirks.insert(.excessiveWindowScale) }
                i += 2
            case 4:
                layout.append(.sok)
                guard end - i >= 1 else {
                    quirks.insert(.badOptions)
                    break walk
                }
                if bytes[i] != 2 { quirks.insert(.badOptions) }
                i += 1
            case 8:
                layout.append(.ts)
                guard end - i >= 9 else {
                    quirks.insert(.badOptions)
                    break walk
                }
                if bytes[i] != 10 { quirks.insert(.badOptions) }
                tsval = bytes.readUInt32(at: i + 1)!
                let tsecr = bytes.readUInt32(at: i + 5)!
                if tsval == 0 { quirks.insert(.ts1Zero) }
                if isSYN && tsecr != 0 { quirks.insert(.ts2NonZero) }
                i += 9
            default:
                layout.append(kind == 5 ? .sack : .unknown(kind))
                guard end - i >= 1 else {
                    quirks.insert(.badOptions)
                    break walk
                }
                let length = Int(bytes[i])
                let plausible = kind == 5 ? (10...34).contains(length) : (2...40).contains(length)
                guard plausible else {
                    quirks.insert(.badOptions)
                    break walk
                }
                i += length - 1
                if i > end {
                    quirks.insert(.badOptions)
                    break walk
                }
            }
        }
        // A walk that stopped at the 24-entry limit with bytes left is flagged too.
        if i < end && layout.count >= maximumLayoutItems { quirks.insert(.badOptions) }
        return (layout, quirks, mss, scale, tsval)
    }

    /// p0f's window notation: a multiple of the MSS (or of a common MSS or the peer's), of the MTU, or the value.
    static func windowForm(
        window: UInt16, mss: Int, timestamp: UInt32, ipVersion: UInt8, totalHeader: Int, peerSYNMSS: Int
    ) -> P0fWindow {
        let w = Int(window)
        guard w != 0, mss >= 100 else { return .value(window) }
        // Divisors in p0f's order of preference; the first that divides the window decides. p0f keeps the multiple
        // in a signed 16-bit field and writes the plain value unless that is positive: a peer MSS of 1 or 2 (or 13
        // or 14, less 12) can overflow it, and a peer MSS under 12 gives a negative divisor whose quotient wraps
        // (65535 / -1 is written `mss*1`).
        func divides(_ divisor: Int) -> Bool { divisor != 0 && w % divisor == 0 }
        func form(_ divisor: Int, mtu: Bool) -> P0fWindow {
            let multiple = Int(Int16(truncatingIfNeeded: w / divisor))
            guard multiple > 0 else { return .value(window) }
            return mtu ? .mtuMultiple(multiple) : .mssMultiple(multiple)
        }
        let v6 = ipVersion == 6
        if divides(mss) { return form(mss, mtu: false) }
        if timestamp != 0 && divides(mss - 12) { return form(mss - 12, mtu: false) }
        // Common MSS values: 1500 less 40 (IPv4) or 60 (IPv6), with and without 12 bytes of timestamps.
        if divides(1460) { return form(1460, mtu: false) }
        if divides(1448) { return form(1448, mtu: false) }
        if v6 && divides(1440) { return form(1440, mtu: false) }
        if v6 && divides(1428) { return form(1428, mtu: false) }
        if divides(mss + 40) { return form(mss + 40, mtu: true) }
        if divides(mss + totalHeader) { return form(mss + totalHeader, mtu: true) }
        if v6 && divides(mss + 60) { return form(mss + 60, mtu: true) }
        if divides(1500) { return form(1500, mtu: true) }
        if peerSYNMSS != 0 {
            if divides(peerSYNMSS) { return form(peerSYNMSS, mtu: false) }
            if divides(peerSYNMSS - 12) { return form(peerSYNMSS - 12, mtu: false) }
        }
        return .value(window)
    }
}
