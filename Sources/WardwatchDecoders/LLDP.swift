/// An LLDP data unit (IEEE 802.1AB), with the TIA-1057 LLDP-MED extensions a medical device or IP phone sends
/// (capabilities, network policy, location, inventory) and the 802.1 port VLAN id.
///
/// The decoder is pure and bounds-checked. An LLDPDU cut short by the capture's snap length still yields every TLV
/// that arrived whole, with `isTruncated` set.
public struct LLDPDU: Equatable, Sendable {
    /// A chassis or port identifier: its subtype and the value as bytes, with a readable form.
    public struct Identifier: Equatable, Sendable {
        public var subtype: UInt8
        public var raw: [UInt8]
        /// MAC subtypes as `00:1b:21:0a:0b:0c`, network-address subtypes as an IPv4/IPv6 address, text subtypes as
        /// text, anything else as lowercase hex.
        public var value: String
    }

    /// A management address TLV (type 8).
    public struct ManagementAddress: Equatable, Sendable {
        /// IANA address family: 1 IPv4, 2 IPv6, 6 IEEE 802 (MAC).
        public var subtype: UInt8
        public var address: [UInt8]
        /// 1 unknown, 2 ifIndex, 3 system port number.
        public var interfaceSubtype: UInt8
        public var interfaceNumber: UInt32
        /// The object identifier, BER-encoded, possibly empty.
        public var oid: [UInt8]
        /// The address as text: dotted IPv4, RFC 5952 IPv6, else lowercase hex.
        public var text: String { DiscoveryText.networkAddress(family: subtype, address[...]) }
    }

    /// An organisationally specific TLV (type 127), every one kept, decoded or not.
    public struct OrganizationTLV: Equatable, Sendable {
        /// The 24-bit OUI: 0x0012BB TIA (LLDP-MED), 0x0080C2 IEEE 802.1, 0x00120F IEEE 802.3.
        public var oui: UInt32
        public var subtype: UInt8
        /// The TLV's length field: OUI and subtype included.
        public var length: Int
    }

    /// The TIA-1057 LLDP-MED content of the LLDPDU.
    public struct MED: Equatable, Sendable {
        /// LLDP-MED network policy (subtype 2).
        public struct NetworkPolicy: Equatable, Sendable {
            /// 1 voice, 2 voice signalling, 3 guest voice, 4 guest voice signalling, 5 softphone voice,
            /// 6 video conferencing, 7 streaming video, 8 video signalling.
            public var applicationType: UInt8
            /// The U bit: the policy is required by the device but unknown to it.
            public var unknownPolicy: Bool
            public var tagged: Bool
            public var vlanID: UInt16
            public var l2Priority: UInt8
            public var dscp: UInt8
        }

        /// One civic address element (RFC 4776 CAtype, value).
        public struct CivicAddressElement: Equatable, Sendable {
            /// CAtype: 1 state/province, 3 city, 6 street, 19 house number, 26 unit, 27 floor, 28 room, 0 language...
            public var type: UInt8
            public var value: String
        }

        /// A location identification TLV (subtype 3).
        public enum Location: Equatable, Sendable {
            /// Format 1: the 16-byte coordinate-based LCI (RFC 3825), kept raw.
            case coordinate([UInt8])
            /// Format 2: civic address LCI: what (0 DHCP server, 1 network element, 2 client), the two-letter country
            /// code and the civic address elements in wire order.
            case civic(what: UInt8, country: String, elements: [CivicAddressElement])
            /// Format 3: an emergency location identification number.
            case elin(String)
            /// Another format, or a malformed one, kept raw.
            case other(format: UInt8, data: [UInt8])
        }

        /// Capability bits (subtype 1): 0x01 LLDP-MED, 0x02 network policy, 0x04 location, 0x08 PSE, 0x10 PD,
        /// 0x20 inventory.
        public var capabilities: UInt16?
        /// Device type (subtype 1): 1-3 endpoint class I-III, 4 network connectivity.
        public var deviceClass: UInt8?
        public var networkPolicies: [NetworkPolicy] = []
        public var locations: [Location] = []
        /// Extended power via MDI (subtype 4): type, source, priority bits as sent, and power in units of 0.1 W.
        public var powerTypeSourcePriority: UInt8?
        public var powerValue: UInt16?
        // Inventory (subtypes 5 to 11).
        public var hardwareRevision: String?
        public var firmwareRevision: String?
        public var softwareRevision: String?
        public var serialNumber: String?
        public var manufacturer: String?
        public var modelName: String?
        public var assetID: String?

        public init() {}

        /// True when the LLDPDU carried any LLDP-MED TLV.
        public var isPresent: Bool { self != MED() }
    }

    public var chassisID: Identifier
    public var portID: Identifier?
    public var ttl: UInt16?
    public var portDescription: String?
    public var systemName: String?
    public var systemDescription: String?
    /// System capabilities and enabled capabilities (type 7): 0x01 other, 0x02 repeater, 0x04 bridge, 0x08 WLAN AP,
    /// 0x10 router, 0x20 telephone, 0x40 DOCSIS, 0x80 station only, 0x100 C-VLAN, 0x200 S-VLAN, 0x400 TPMR.
    public var systemCapabilities: UInt16?
    public var enabledCapabilities: UInt16?
    public var managementAddresses: [ManagementAddress] = []
    /// IEEE 802.1 port VLAN id (OUI 00-80-C2, subtype 1).
    public var portVLAN: UInt16?
    public var med = MED()
    public var organizationTLVs: [OrganizationTLV] = []
    /// Types of TLVs this decoder does not interpret (9 to 126), in wire order.
    public var otherTLVTypes: [UInt8] = []
    /// True when a TLV ran past the end of the captured bytes; everything before it is decoded.
    public var isTruncated = false

    public enum DecodeError: Error, Equatable {
        /// Not even a whole first TLV.
        case truncated
        /// The first TLV is not a chassis id (an LLDPDU must start with one).
        case missingChassisID
    }

    public static let etherType: UInt16 = 0x88CC
    /// Nearest-bridge multicast address 01:80:c2:00:00:0e.
    public static let multicastAddress = MACAddress(value: 0x0180_C200_000E)

    /// Where the 802.1 and 802.3 standards stop a run of TLVs against crafted frames (a 1500-byte LLDPDU holds at most
    /// 750 empty TLVs).
    static let maximumTLVs = 1024

    /// Decodes an LLDPDU: the payload of an Ethernet frame with EtherType 0x88CC.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<LLDPDU, DecodeError> {
        guard let first = bytes.readUInt16(at: 0), let firstValue = bytes.slice(2, Int(first & 0x1FF)) else {
            return .failure(.truncated)
        }
        guard first >> 9 == 1 else { return .failure(.missingChassisID) }
        var pdu = LLDPDU(chassisID: identifier(firstValue, chassis: true))
        var offset = 2 + firstValue.count
        var count = 1
        while offset < bytes.count, count < maximumTLVs {
            guard let header = bytes.readUInt16(at: offset), let value = bytes.slice(offset + 2, Int(header & 0x1FF)) else {
                pdu.isTruncated = true
                break
            }
            offset += 2 + value.count
            count += 1
            let type = UInt8(header >> 9)
            switch type {
            case 0:
                return .success(pdu)
            case 1:
                break  // a second chassis id is invalid; the first one stands
            case 2:
                if pdu.portID == nil { pdu.portID = identifier(value, chassis: false) }
            case 3:
                if let ttl = value.readUInt16(at: 0) { pdu.ttl = ttl }
            case 4:
                pdu.portDescription = DiscoveryText.string(value)
            case 5:
                pdu.systemName = DiscoveryText.string(value)
            case 6:
                pdu.systemDescription = DiscoveryText.string(value)
            case 7:
                if let caps = value.readUInt16(at: 0), let enabled = value.readUInt16(at: 2) {
                    pdu.systemCapabilities = caps
                    pdu.enabledCapabilities = enabled
                }
            case 8:
                if let address = managementAddress(value) { pdu.managementAddresses.append(address) }
            case 127:
                pdu.decodeOrganizationTLV(value)
            default:
                pdu.otherTLVTypes.append(type)
            }
        }
        return .success(pdu)
    }

    static func identifier(_ value: UnsafeRawBufferPointer, chassis: Bool) -> Identifier {
        guard let subtype = value.readUInt8(at: 0), let body = value.slice(1, value.count - 1) else {
            return Identifier(subtype: 0, raw: [], value: "")
        }
        // Chassis: 4 MAC, 5 network address, 1 2 3 6 7 text. Port: 3 MAC, 4 network address, 6 agent circuit id
        // (binary), 1 2 5 7 text.
        let macSubtype: UInt8 = chassis ? 4 : 3
        let networkSubtype: UInt8 = chassis ? 5 : 4
        let text: String
        if subtype == macSubtype, body.count == 6, let mac = MACAddress(body, at: 0) {
            text = mac.description
        } else if subtype == networkSubtype, let family = body.readUInt8(at: 0) {
            text = DiscoveryText.networkAddress(family: family, Array(body.dropFirst())[...])
        } else if subtype == 0 || subtype > 7 || (!chassis && subtype == 6) {
            text = hexString(body)
        } else {
            text = DiscoveryText.string(body)
        }
        return Identifier(subtype: subtype, raw: Array(body), value: text)
    }

    static func managementAddress(_ value: UnsafeRawBufferPointer) -> ManagementAddress? {
        // address string length (subtype + address), subtype, address, interface subtype, interface number, OID.
        guard let stringLength = value.readUInt8(at: 0), stringLength >= 1, let subtype = value.readUInt8(at: 1),
            let address = value.slice(2, Int(stringLength) - 1)
        else { return nil }
        let next = 1 + Int(stringLength)
        guard let interfaceSubtype = value.readUInt8(at: next), let interfaceNumber = value.readUInt32(at: next + 1)
        else { return nil }
        var oid: [UInt8] = []
        if let oidLength = value.readUInt8(at: next + 5), let bytes = value.slice(next + 6, Int(oidLength)) {
            oid = Array(bytes)
        }
        return ManagementAddress(
            subtype: subtype, address: Array(address), interfaceSubtype: interfaceSubtype,
            interfaceNumber: interfaceNumber, oid: oid)
    }

    mutating func decodeOrganizationTLV(_ value: UnsafeRawBufferPointer) {
        guard let ouiHigh = value.readUInt16(at: 0), let ouiLow = value.readUInt8(at: 2), let subtype = value.readUInt8(at: 3),
            let info = value.slice(4, value.count - 4)
        else { return }
        let oui = UInt32(ouiHigh) << 8 | UInt32(ouiLow)
        organizationTLVs.append(OrganizationTLV(oui: oui, subtype: subtype, length: value.count))
        switch oui {
        case 0x0080C2:
            if subtype == 1, let vlan = info.readUInt16(at: 0) { portVLAN = vlan }
        case 0x0012BB:
            med.decode(subtype: subtype, info)
        default:
            break
        }
    }
}

extension LLDPDU.MED {
    mutating func decode(subtype: UInt8, _ info: UnsafeRawBufferPointer) {
        switch subtype {
        case 1:
            if let caps = info.readUInt16(at: 0), let deviceClass = info.readUInt8(at: 2) {
                capabilities = caps
                self.deviceClass = deviceClass
            }
        case 2:
            guard let application = info.readUInt8(at: 0), let high = info.readUInt16(at: 1), let low = info.readUInt8(at: 3)
            else { return }
            let bits = UInt32(high) << 8 | UInt32(low)
            networkPolicies.append(
                NetworkPolicy(
                    applicationType: application, unknownPolicy: bits & 0x80_0000 != 0, tagged: bits & 0x40_0000 != 0,
                    vlanID: UInt16((bits >> 9) & 0x0FFF), l2Priority: UInt8((bits >> 6) & 0x07), dscp: UInt8(bits & 0x3F)))
        case 3:
            guard let format = info.readUInt8(at: 0), let data = info.slice(1, info.count - 1) else { return }
            locations.append(Self.location(format: format, data))
        case 4:
            if let bits = info.readUInt8(at: 0), let value = info.readUInt16(at: 1) {
                powerTypeSourcePriority = bits
                powerValue = value
            }
        case 5: hardwareRevision = DiscoveryText.string(info)
        case 6: firmwareRevision = DiscoveryText.string(info)
        case 7: softwareRevision = DiscoveryText.string(info)
        case 8: serialNumber = DiscoveryText.string(info)
        case 9: manufacturer = DiscoveryText.string(info)
        case 10: modelName = DiscoveryText.string(info)
        case 11: assetID = DiscoveryText.string(info)
        default: break
        }
    }

    static func location(format: UInt8, _ data: UnsafeRawBufferPointer) -> Location {
        switch format {
        case 1:
            return .coordinate(Array(data))
        case 2:
            // LCI length (what + country + elements), what, country code, then CAtype, CAlength, CAvalue.
            guard let lciLength = data.readUInt8(at: 0), let lci = data.slice(1, min(Int(lciLength), data.count - 1)),
                let what = lci.readUInt8(at: 0), let country = lci.slice(1, 2)
            else { return .other(format: format, data: Array(data)) }
            var elements: [CivicAddressElement] = []
            var offset = 3
            while let type = lci.readUInt8(at: offset), let length = lci.readUInt8(at: offset + 1),
                let value = lci.slice(offset + 2, Int(length))
            {
                elements.append(CivicAddressElement(type: type, value: DiscoveryText.string(value)))
                offset += 2 + Int(length)
            }
            return .civic(what: what, country: DiscoveryText.string(country), elements: elements)
        case 3:
            return .elin(DiscoveryText.string(data))
        default:
            return .other(format: format, data: Array(data))
        }
    }
}

/// Text helpers shared by the discovery decoders (LLDP, CDP, DNS, SSDP, HTTP, WS-Discovery).
enum DiscoveryText {
    /// The bytes as UTF-8 (invalid sequences replaced), cut at the first NUL as C-string fields are.
    static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        var end = 0
        while end < bytes.count && bytes[end] != 0 { end += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self)
    }

    /// An address by IANA address family: 1 IPv4, 2 IPv6, else hex.
    static func networkAddress(family: UInt8, _ address: ArraySlice<UInt8>) -> String {
        if family == 1, address.count == 4 { return ipv4(address) }
        if family == 2, address.count == 16 { return ipv6(address) }
        return hexString(address)
    }

    static func ipv4(_ a: ArraySlice<UInt8>) -> String {
        let s = a.startIndex
        return "\(a[s]).\(a[s + 1]).\(a[s + 2]).\(a[s + 3])"
    }

    /// RFC 5952 text of 16 bytes: lowercase, leading zeros dropped, the longest run of two or more zero groups as `::`.
    static func ipv6(_ a: ArraySlice<UInt8>) -> String {
        guard a.count == 16 else { return hexString(a) }
        return a.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: ipv6TextLength) { writeIPv6(bytes, to: $0.baseAddress!) }
        }
    }

    /// Bytes in the longest `ipv6` text: eight groups of four digits and seven colons.
    static let ipv6TextLength = 39

    /// Writes `ipv6`'s text of the 16 bytes `a` (exactly 16) at `out` (room for `ipv6TextLength`); returns how many.
    static func writeIPv6(_ a: UnsafeRawBufferPointer, to out: UnsafeMutablePointer<UInt8>) -> Int {
        precondition(a.count == 16, "an IPv6 address is 16 bytes")
        func group(_ i: Int) -> UInt16 { UInt16(a[2 * i]) << 8 | UInt16(a[2 * i + 1]) }
        // The first of the longest runs of zero groups, if it is two or more long.
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8 && group(i) == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var n = 0
        var i = 0
        while i < 8 {
            if i == bestStart {
                out[n] = UInt8(ascii: ":")
                out[n + 1] = UInt8(ascii: ":")
                n += 2
                i += bestLength
                continue
            }
            if n > 0 && out[n - 1] != UInt8(ascii: ":") {
                out[n] = UInt8(ascii: ":")
                n += 1
            }
            let value = group(i)
            var shift = 12
            while shift > 0 && value >> UInt16(shift) == 0 { shift -= 4 }
            while shift >= 0 {
                out[n] = hexDigit(UInt8(truncatingIfNeeded: value >> UInt16(shift)) & 0x0F)
                n += 1
                shift -= 4
            }
            i += 1
        }
        return n
    }
}
