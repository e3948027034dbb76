/// An IEEE 802.2 LLC header, with the SNAP extension where DSAP and SSAP are 0xAA: what an 802.3 frame (a length,
/// not an EtherType, in bytes 12-13) carries. CDP, VTP, DTP and STP ride on it.
public struct LLCFrame {
    public var dsap: UInt8
    public var ssap: UInt8
    /// One byte for U-format frames (low two bits 11), two for I- and S-format frames.
    public var control: UInt16
    /// SNAP organisation code and protocol id, when DSAP and SSAP are 0xAA and the control is UI (0x03).
    public var snapOUI: UInt32?
    public var snapProtocol: UInt16?
    /// What follows the LLC (and SNAP) header, ending where the 802.3 length says (link padding dropped).
    public var payload: UnsafeRawBufferPointer

    /// Values at or below this in the EtherType position are 802.3 lengths; 0x0600 (1536) and above are EtherTypes.
    public static let maximumLength: UInt16 = 1500

    /// Decodes the LLC header of an 802.3 frame: `frame.etherType` holds the 802.3 length. Nil when the field is an
    /// EtherType or the header is cut short.
    public static func decode(_ frame: LinkFrame) -> LLCFrame? {
        guard frame.etherType <= maximumLength else { return nil }
        return decode(frame.payload, length: frame.etherType)
    }

    /// Decodes an LLC header at the start of `payload`, which the 802.3 `length` bounds (a length past the captured
    /// bytes, as in a snap-length-cut frame, is bounded by the bytes).
    public static func decode(_ payload: UnsafeRawBufferPointer, length: UInt16) -> LLCFrame? {
        guard let bytes = payload.slice(0, min(Int(length), payload.count)), let dsap = bytes.readUInt8(at: 0),
            let ssap = bytes.readUInt8(at: 1), let control1 = bytes.readUInt8(at: 2)
        else { return nil }
        if control1 & 0x03 != 0x03 {
            guard let control = bytes.readUInt16(at: 2), let rest = bytes.slice(4, bytes.count - 4) else { return nil }
            return LLCFrame(dsap: dsap, ssap: ssap, control: control, payload: rest)
        }
        if dsap == 0xAA, ssap == 0xAA, control1 == 0x03 {
            guard let ouiHigh = bytes.readUInt16(at: 3), let ouiLow = bytes.readUInt8(at: 5), let pid = bytes.readUInt16(at: 6),
                let rest = bytes.slice(8, bytes.count - 8)
            else { return nil }
            return LLCFrame(
                dsap: dsap, ssap: ssap, control: UInt16(control1), snapOUI: UInt32(ouiHigh) << 8 | UInt32(ouiLow),
                snapProtocol: pid, payload: rest)
        }
        return LLCFrame(dsap: dsap, ssap: ssap, control: UInt16(control1), payload: bytes.slice(3, bytes.count - 3)!)
    }

    /// True for SNAP with Cisco's OUI 00-00-0C and protocol 0x2000: the payload is a CDP packet.
    public var isCDP: Bool { snapOUI == CDPPacket.snapOUI && snapProtocol == CDPPacket.snapProtocol }
}

/// A Cisco Discovery Protocol packet, versions 1 and 2: the device id, addresses, port, capabilities, software
/// version, platform, VTP domain, native VLAN and duplex a Cisco switch, router or phone announces.
///
/// The decoder is pure and bounds-checked. A packet cut short by the capture still yields every TLV that arrived
/// whole, with `isTruncated` set.
public struct CDPPacket: Equatable, Sendable {
    /// One entry of an addresses TLV (types 0x0002 and 0x0016).
    public struct Address: Equatable, Sendable {
        /// 1 NLPID, 2 IEEE 802.2.
        public var protocolType: UInt8
        /// NLPID 0xCC for IPv4; for 802.2, an LLC/SNAP header ending in the EtherType (0x86DD for IPv6).
        public var protocolID: [UInt8]
        public var address: [UInt8]

        /// Dotted IPv4 or RFC 5952 IPv6 where the protocol says so, else lowercase hex.
        public var text: String {
            if isIPv4 { return DiscoveryText.ipv4(address[...]) }
            if isIPv6 { return DiscoveryText.ipv6(address[...]) }
            return hexString(address)
        }

        public var isIPv4: Bool { protocolType == 1 && protocolID == [0xCC] && address.count == 4 }
        public var isIPv6: Bool { protocolType == 2 && protocolID.suffix(2) == [0x86, 0xDD] && address.count == 16 }
    }

    /// A TLV as it appeared: type and its length field (the 4-byte TLV header included).
    public struct TLV: Equatable, Sendable {
        public var type: UInt16
        public var length: Int
    }

    public var version: UInt8
    public var ttl: UInt8
    public var checksum: UInt16
    public var deviceID: String?
    public var addresses: [Address] = []
    /// The interface the packet left by ("GigabitEthernet1/0/1").
    public var portID: String?
    /// 0x01 router, 0x02 transparent bridge, 0x04 source-route bridge, 0x08 switch, 0x10 host, 0x20 IGMP,
    /// 0x40 repeater, 0x80 VoIP phone, 0x100 remotely managed, 0x200 CVTA/camera, 0x400 two-port MAC relay.
    public var capabilities: UInt32?
    /// Several lines on IOS, separated by newlines as sent.
    public var softwareVersion: String?
    public var platform: String?
    public var vtpDomain: String?
    public var nativeVLAN: UInt16?
    /// True full duplex, false half.
    public var fullDuplex: Bool?
    /// VoIP VLAN reply (0x000E).
    public var voiceVLAN: UInt16?
    /// Power consumption (0x0010) in milliwatts.
    public var powerConsumption: UInt16?
    public var mtu: UInt32?
    /// System name (0x0014), sent by some NX-OS and IOS-XR devices.
    public var systemName: String?
    public var managementAddresses: [Address] = []
    /// Every TLV in wire order, decoded or not.
    public var tlvs: [TLV] = []
    /// True when a TLV ran past the captured bytes or had a length below its own header; what came before is decoded.
    public var isTruncated = false

    public enum DecodeError: Error, Equatable {
        case truncated
        /// A version other than 1 or 2.
        case badVersion(UInt8)
    }

    /// The multicast destination 01:00:0c:cc:cc:cc.
    public static let multicastAddress = MACAddress(value: 0x0100_0CCC_CCCC)
    public static let snapOUI: UInt32 = 0x00000C
    public static let snapProtocol: UInt16 = 0x2000
    /// Cisco HDLC (and PPP) carry CDP with this protocol value directly.
    public static let ciscoHDLCProtocol: UInt16 = 0x2000

    static let maximumTLVs = 512
    static let maximumAddresses = 64

    /// Decodes the CDP packet that follows the LLC/SNAP header (see `LLCFrame.isCDP`).
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<CDPPacket, DecodeError> {
        guard let version = bytes.readUInt8(at: 0), let ttl = bytes.readUInt8(at: 1), let checksum = bytes.readUInt16(at: 2)
        else { return .failure(.truncated) }
        guard version == 1 || version == 2 else { return .failure(.badVersion(version)) }
        var packet = CDPPacket(version: version, ttl: ttl, checksum: checksum)
        var offset = 4
        while offset < bytes.count, packet.tlvs.count < maximumTLVs {
            guard let type = bytes.readUInt16(at: offset), let length = bytes.readUInt16(at: offset + 2), length >= 4,
                let value = bytes.slice(offset + 4, Int(length) - 4)
            else {
                packet.isTruncated = true
                break
            }
            offset += Int(length)
            packet.tlvs.append(TLV(type: type, length: Int(length)))
            switch type {
            case 0x0001: packet.deviceID = DiscoveryText.string(value)
            case 0x0002: packet.addresses = addresses(value)
            case 0x0003: packet.portID = DiscoveryText.string(value)
            case 0x0004: packet.capabilities = value.readUInt32(at: 0)
            case 0x0005: packet.softwareVersion = DiscoveryText.string(value)
            case 0x0006: packet.platform = DiscoveryText.string(value)
            case 0x0009: packet.vtpDomain = DiscoveryText.string(value)
            case 0x000A: packet.nativeVLAN = value.readUInt16(at: 0)
            case 0x000B: packet.fullDuplex = value.readUInt8(at: 0).map { $0 != 0 }
            case 0x000E: packet.voiceVLAN = value.readUInt16(at: 1)
            case 0x0010: packet.powerConsumption = value.readUInt16(at: 0)
            case 0x0011: packet.mtu = value.readUInt32(at: 0)
            case 0x0014: packet.systemName = DiscoveryText.string(value)
            case 0x0016: packet.managementAddresses = addresses(value)
            default: break
            }
        }
        return .success(packet)
    }

    /// Decodes CDP from an 802.3 frame: LLC/SNAP with OUI 00-00-0C and protocol 0x2000. Nil for any other frame.
    public static func decode(_ frame: LinkFrame) -> Result<CDPPacket, DecodeError>? {
        guard let llc = LLCFrame.decode(frame), llc.isCDP else { return nil }
        return decode(llc.payload)
    }

    static func addresses(_ value: UnsafeRawBufferPointer) -> [Address] {
        guard let count = value.readUInt32(at: 0) else { return [] }
        var out: [Address] = []
        var offset = 4
        for _ in 0..<min(Int(count), maximumAddresses) {
            guard let protocolType = value.readUInt8(at: offset), let protocolLength = value.readUInt8(at: offset + 1),
                let protocolID = value.slice(offset + 2, Int(protocolLength)),
                let addressLength = value.readUInt16(at: offset + 2 + Int(protocolLength)),
                let address = value.slice(offset + 4 + Int(protocolLength), Int(addressLength))
            else { break }
            out.append(Address(protocolType: protocolType, protocolID: Array(protocolID), address: Array(address)))
            offset += 4 + Int(protocolLength) + Int(addressLength)
        }
        return out
    }
}
