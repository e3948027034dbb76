/// Link-layer types (libpcap DLT/LINKTYPE values) the decoders understand.
public enum LinkType: Int32, Sendable {
    case null = 0
    case ethernet = 1
    case raw = 101
    case rawAlt12 = 12
    case rawAlt14 = 14
    case linuxSLL = 113
    case loop = 108
    case linuxSLL2 = 276
    /// Cisco HDLC, as captured on a router's serial WAN interface: no MAC addresses.
    case ciscoHDLC = 104
}

/// What the link layer says about a frame: addresses where the link has them, the VLAN tags, and the network-layer
/// protocol with its payload.
public struct LinkFrame {
    public var source: MACAddress?
    public var destination: MACAddress?
    /// The VLAN ids, 16 bits each, outermost in the low bits (held inline: a frame makes no allocation and needs no
    /// reference counting on the per-packet path).
    private var tags: (UInt64, UInt64) = (0, 0)
    /// How many VLAN tags the frame had (at most `maxVLANs`).
    public private(set) var vlanCount = 0
    public var etherType: UInt16
    public var payload: UnsafeRawBufferPointer

    /// Tags peeled at most, against crafted frames.
    public static let maxVLANs = 8

    init(
        source: MACAddress? = nil, destination: MACAddress? = nil, etherType: UInt16, payload: UnsafeRawBufferPointer
    ) {
        self.source = source
        self.destination = destination
        self.etherType = etherType
        self.payload = payload
    }

    /// The `i`th VLAN id from the outside.
    private func vlan(_ i: Int) -> UInt16 {
        UInt16(truncatingIfNeeded: (i < 4 ? tags.0 : tags.1) >> (16 * UInt64(i & 3)))
    }

    /// Adds an inner VLAN id (the caller keeps to `maxVLANs`).
    mutating func appendVLAN(_ id: UInt16) {
        let shift = 16 * UInt64(vlanCount & 3)
        if vlanCount < 4 { tags.0 |= UInt64(id) << shift } else { tags.1 |= UInt64(id) << shift }
        vlanCount += 1
    }

    /// 802.1Q / 802.1ad VLAN ids, outermost first.
    public var vlans: [UInt16] { (0..<vlanCount).map(vlan) }

    /// The innermost VLAN id, nil when untagged (priority-only tags with id 0 count as untagged).
    public var innermostVLAN: UInt16? {
        var i = vlanCount - 1
        while i >= 0 {
            let id = vlan(i)
            if id != 0 { return id }
            i -= 1
        }
        return nil
    }
}

public enum EtherType {
    public static let ipv4: UInt16 = 0x0800
    public static let arp: UInt16 = 0x0806
    public static let ipv6: UInt16 = 0x86DD
    public static let vlan: UInt16 = 0x8100
    public static let qinq: UInt16 = 0x88A8
    public static let qinqOld: UInt16 = 0x9100
}

/// Decodes the link layer of a captured frame. Pure and bounds-checked: nil for a frame too short for its headers.
public enum LinkDecoder {
    public static func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType) -> LinkFrame? {
        switch linkType {
        case .ethernet:
            return decodeEthernet(bytes)
        case .null, .loop:
            // A 4-byte address family in host (NULL) or network (LOOP) order.
            guard let family = bytes.readUInt32(at: 0), let payload = bytes.slice(4, bytes.count - 4) else { return nil }
            let af = linkType == .null && family > 0xFFFF ? family.byteSwapped : family
            let etherType: UInt16 = switch af {
            case 2: EtherType.ipv4
            case 10, 24, 28, 30: EtherType.ipv6
            default: 0
            }
            return LinkFrame(etherType: etherType, payload: payload)
        case .raw, .rawAlt12, .rawAlt14:
            guard let first = bytes.readUInt8(at: 0) else { return nil }
            return LinkFrame(etherType: first >> 4 == 6 ? EtherType.ipv6 : EtherType.ipv4, payload: bytes)
        case .linuxSLL:
            guard let proto = bytes.readUInt16(at: 14), let payload = bytes.slice(16, bytes.count - 16) else { return nil }
            let addressLength = Int(bytes.readUInt16(at: 4) ?? 0)
            let source = addressLength == 6 ? MACAddress(bytes, at: 6) : nil
            return decodeVLANs(LinkFrame(source: source, etherType: proto, payload: payload))
        case .ciscoHDLC:
            // Address (0x0F unicast, 0x8F broadcast), control (0), then an EtherType-like protocol (0x2000 is CDP).
            guard let address = bytes.readUInt8(at: 0), address & 0x7F == 0x0F, let proto = bytes.readUInt16(at: 2),
                let payload = bytes.slice(4, bytes.count - 4)
            else { return nil }
            return LinkFrame(etherType: proto, payload: payload)
        case .linuxSLL2:
            guard let proto = bytes.readUInt16(at: 0), let payload = bytes.slice(20, bytes.count - 20) else { return nil }
            let addressLength = Int(bytes.readUInt8(at: 11) ?? 0)
            let source = addressLength == 6 ? MACAddress(bytes, at: 12) : nil
            return decodeVLANs(LinkFrame(source: source, etherType: proto, payload: payload))
        }
    }

    static func decodeEthernet(_ bytes: UnsafeRawBufferPointer) -> LinkFrame? {
        guard let destination = MACAddress(bytes, at: 0), let source = MACAddress(bytes, at: 6),
            let etherType = bytes.readUInt16(at: 12), let payload = bytes.slice(14, bytes.count - 14)
        else { return nil }
        return decodeVLANs(LinkFrame(source: source, destination: destination, etherType: etherType, payload: payload))
    }

    /// Peels 802.1Q and 802.1ad tags (at most `LinkFrame.maxVLANs`).
    static func decodeVLANs(_ frame: LinkFrame) -> LinkFrame? {
        var frame = frame
        while frame.etherType == EtherType.vlan || frame.etherType == EtherType.qinq || frame.etherType == EtherType.qinqOld {
            guard frame.vlanCount < LinkFrame.maxVLANs, let tci = frame.payload.readUInt16(at: 0),
                let inner = frame.payload.readUInt16(at: 2), let rest = frame.payload.slice(4, frame.payload.count - 4)
            else { return nil }
            frame.appendVLAN(tci & 0x0FFF)
            frame.etherType = inner
            frame.payload = rest
        }
        return frame
    }
}
