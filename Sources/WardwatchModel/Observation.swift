/// One event of interest about a device, as published to `iomt.observations.v1` (schemas/observation.v1.schema.json).
public struct Observation: Codable, Sendable, Hashable {
    /// What the observation is about; exactly the payload of that name is present.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case dhcp, arp
        case tcpSyn = "tcp_syn"
        case tcpTimestamps = "tcp_timestamps"
        case tlsClientHello = "tls_client_hello"
        case tlsCertificate = "tls_certificate"
        case http, dns, mdns, ssdp, lldp, cdp, wsdiscovery
        case dicomAssociation = "dicom_association"
        case hl7Message = "hl7_message"
        case flow
        case dhcpv6, ndp
    }

    public var schemaVersion: Int = 1
    public var kind: Kind
    /// Lowercase MAC address where the sensor sees layer 2.
    public var deviceKey: String
    public var time: EventTime
    public var sensorId: String
    public var site: String
    /// Innermost 802.1Q VLAN id, nil for untagged frames.
    public var vlan: Int?
    public var source: Source

    /// The payload, in one indirect enum: an observation stays a few words to copy and destroy (one reference, where
    /// a stored optional per payload kind cost a retain and a release each on every copy).
    var payload = Payload.none

    /// Which payload an observation carries, boxed by the enum.
    indirect enum Payload: Hashable, Sendable {
        case none
        case dhcp(DHCPObservation)
        case arp(ARPObservation)
        case tcpSyn(TCPSynObservation)
        case tcpTimestamps(TCPTimestampsObservation)
        case tlsClientHello(TLSClientHelloObservation)
        case tlsCertificate(TLSCertificateObservation)
        case http(HTTPObservation)
        case dns(DNSObservation)
        case mdns(DNSObservation)
        case ssdp(SSDPObservation)
        case lldp(NeighborObservation)
        case cdp(NeighborObservation)
        case wsdiscovery(WSDiscoveryObservation)
        case dicomAssociation(DICOMAssociationObservation)
        case hl7Message(HL7MessageObservation)
        case flow(FlowObservation)
        case dhcpv6(DHCPv6Observation)
        case ndp(NDPObservation)
    }

    public var dhcp: DHCPObservation? {
        get { if case .dhcp(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .dhcp(newValue)
            } else if case .dhcp = payload {
                payload = .none
            }
        }
    }
    public var arp: ARPObservation? {
        get { if case .arp(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .arp(newValue)
            } else if case .arp = payload {
                payload = .none
            }
        }
    }
    public var tcpSyn: TCPSynObservation? {
        get { if case .tcpSyn(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .tcpSyn(newValue)
            } else if case .tcpSyn = payload {
                payload = .none
            }
        }
    }
    public var tcpTimestamps: TCPTimestampsObservation? {
        get { if case .tcpTimestamps(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .tcpTimestamps(newValue)
            } else if case .tcpTimestamps = payload {
                payload = .none
            }
        }
    }
    public var tlsClientHello: TLSClientHelloObservation? {
        get { if case .tlsClientHello(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .tlsClientHello(newValue)
            } else if case .tlsClientHello = payload {
                payload = .none
            }
        }
    }
    public var tlsCertificate: TLSCertificateObservation? {
        get { if case .tlsCertificate(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .tlsCertificate(newValue)
            } else if case .tlsCertificate = payload {
                payload = .none
            }
        }
    }
    public var http: HTTPObservation? {
        get { if case .http(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .http(newValue)
            } else if case .http = payload {
                payload = .none
            }
        }
    }
    public var dns: DNSObservation? {
        get { if case .dns(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .dns(newValue)
            } else if case .dns = payload {
                payload = .none
            }
        }
    }
    public var mdns: DNSObservation? {
        get { if case .mdns(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .mdns(newValue)
            } else if case .mdns = payload {
                payload = .none
            }
        }
    }
    public var ssdp: SSDPObservation? {
        get { if case .ssdp(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .ssdp(newValue)
            } else if case .ssdp = payload {
                payload = .none
            }
        }
    }
    public var lldp: NeighborObservation? {
        get { if case .lldp(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .lldp(newValue)
            } else if case .lldp = payload {
                payload = .none
            }
        }
    }
    public var cdp: NeighborObservation? {
        get { if case .cdp(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .cdp(newValue)
            } else if case .cdp = payload {
                payload = .none
            }
        }
    }
    public var wsdiscovery: WSDiscoveryObservation? {
        get { if case .wsdiscovery(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .wsdiscovery(newValue)
            } else if case .wsdiscovery = payload {
                payload = .none
            }
        }
    }
    public var dicomAssociation: DICOMAssociationObservation? {
        get { if case .dicomAssociation(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .dicomAssociation(newValue)
            } else if case .dicomAssociation = payload {
                payload = .none
            }
        }
    }
    public var hl7Message: HL7MessageObservation? {
        get { if case .hl7Message(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .hl7Message(newValue)
            } else if case .hl7Message = payload {
                payload = .none
            }
        }
    }
    public var flow: FlowObservation? {
        get { if case .flow(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .flow(newValue)
            } else if case .flow = payload {
                payload = .none
            }
        }
    }
    public var dhcpv6: DHCPv6Observation? {
        get { if case .dhcpv6(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .dhcpv6(newValue)
            } else if case .dhcpv6 = payload {
                payload = .none
            }
        }
    }
    public var ndp: NDPObservation? {
        get { if case .ndp(let value) = payload { value } else { nil } }
        set {
            if let newValue {
                payload = .ndp(newValue)
            } else if case .ndp = payload {
                payload = .none
            }
        }
    }

    public struct Source: Codable, Sendable, Hashable {
        /// Absent on link types without MAC addresses (NULL/loopback, raw IP, cooked captures without one).
        public var mac: String?
        public var ip: String?
        public init(mac: String?, ip: String?) {
            self.mac = mac
            self.ip = ip
        }
    }

    public init(
        kind: Kind, deviceKey: String, time: EventTime, sensorId: String, site: String, vlan: Int?, source: Source,
        dhcp: DHCPObservation? = nil, arp: ARPObservation? = nil
    ) {
        self.kind = kind
        self.deviceKey = deviceKey
        self.time = time
        self.sensorId = sensorId
        self.site = site
        self.vlan = vlan
        self.source = source
        self.dhcp = dhcp
        self.arp = arp
    }

    // Codable by hand only because the payload is an enum; the keys and their handling are those the compiler would
    // synthesize for plain stored properties (absent optionals are left out, `schema_version` is required).
    enum CodingKeys: String, CodingKey {
        case schemaVersion, kind, deviceKey, time, sensorId, site, vlan, source
        case dhcp, arp, tcpSyn, tcpTimestamps, tlsClientHello, tlsCertificate, http, dns, mdns, ssdp, lldp, cdp, wsdiscovery, dicomAssociation, hl7Message, flow
        case dhcpv6, ndp
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
        kind = try c.decode(Kind.self, forKey: .kind)
        deviceKey = try c.decode(String.self, forKey: .deviceKey)
        time = try c.decode(EventTime.self, forKey: .time)
        sensorId = try c.decode(String.self, forKey: .sensorId)
        site = try c.decode(String.self, forKey: .site)
        vlan = try c.decodeIfPresent(Int.self, forKey: .vlan)
        source = try c.decode(Source.self, forKey: .source)
        // Only the payload the kind names may be present (as the schema says); it may be absent.
        let payloadKey = Self.payloadKey(of: kind)
        if let other = c.allKeys.first(where: { Self.payloadKeys.contains($0) && $0 != payloadKey }) {
            throw DecodingError.dataCorruptedError(
                forKey: other, in: c, debugDescription: "payload \(other.stringValue) on an observation of kind \(kind.rawValue)")
        }
        switch kind {
        case .dhcp: dhcp = try c.decodeIfPresent(DHCPObservation.self, forKey: .dhcp)
        case .arp: arp = try c.decodeIfPresent(ARPObservation.self, forKey: .arp)
        case .tcpSyn: tcpSyn = try c.decodeIfPresent(TCPSynObservation.self, forKey: .tcpSyn)
        case .tcpTimestamps: tcpTimestamps = try c.decodeIfPresent(TCPTimestampsObservation.self, forKey: .tcpTimestamps)
        case .tlsClientHello: tlsClientHello = try c.decodeIfPresent(TLSClientHelloObservation.self, forKey: .tlsClientHello)
        case .tlsCertificate: tlsCertificate = try c.decodeIfPresent(TLSCertificateObservation.self, forKey: .tlsCertificate)
        case .http: http = try c.decodeIfPresent(HTTPObservation.self, forKey: .http)
        case .dns: dns = try c.decodeIfPresent(DNSObservation.self, forKey: .dns)
        case .mdns: mdns = try c.decodeIfPresent(DNSObservation.self, forKey: .mdns)
        case .ssdp: ssdp = try c.decodeIfPresent(SSDPObservation.self, forKey: .ssdp)
        case .lldp: lldp = try c.decodeIfPresent(NeighborObservation.self, forKey: .lldp)
        case .cdp: cdp = try c.decodeIfPresent(NeighborObservation.self, forKey: .cdp)
        case .wsdiscovery: wsdiscovery = try c.decodeIfPresent(WSDiscoveryObservation.self, forKey: .wsdiscovery)
        case .dicomAssociation: dicomAssociation = try c.decodeIfPresent(DICOMAssociationObservation.self, forKey: .dicomAssociation)
        case .hl7Message: hl7Message = try c.decodeIfPresent(HL7MessageObservation.self, forKey: .hl7Message)
        case .flow: flow = try c.decodeIfPresent(FlowObservation.self, forKey: .flow)
        case .dhcpv6: dhcpv6 = try c.decodeIfPresent(DHCPv6Observation.self, forKey: .dhcpv6)
        case .ndp: ndp = try c.decodeIfPresent(NDPObservation.self, forKey: .ndp)
        }
    }

    /// The coding key of the payload a kind names.
    static func payloadKey(of kind: Kind) -> CodingKeys {
        switch kind {
        case .dhcp: .dhcp
        case .arp: .arp
        case .tcpSyn: .tcpSyn
        case .tcpTimestamps: .tcpTimestamps
        case .tlsClientHello: .tlsClientHello
        case .tlsCertificate: .tlsCertificate
        case .http: .http
        case .dns: .dns
        case .mdns: .mdns
        case .ssdp: .ssdp
        case .lldp: .lldp
        case .cdp: .cdp
        case .wsdiscovery: .wsdiscovery
        case .dicomAssociation: .dicomAssociation
        case .hl7Message: .hl7Message
        case .flow: .flow
        case .dhcpv6: .dhcpv6
        case .ndp: .ndp
        }
    }

    static let payloadKeys = Set(Kind.allCases.map(payloadKey(of:)))

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schemaVersion, forKey: .schemaVersion)
        try c.encode(kind, forKey: .kind)
        try c.encode(deviceKey, forKey: .deviceKey)
        try c.encode(time, forKey: .time)
        try c.encode(sensorId, forKey: .sensorId)
        try c.encode(site, forKey: .site)
        try c.encodeIfPresent(vlan, forKey: .vlan)
        try c.encode(source, forKey: .source)
        try c.encodeIfPresent(dhcp, forKey: .dhcp)
        try c.encodeIfPresent(arp, forKey: .arp)
        try c.encodeIfPresent(tcpSyn, forKey: .tcpSyn)
        try c.encodeIfPresent(tcpTimestamps, forKey: .tcpTimestamps)
        try c.encodeIfPresent(tlsClientHello, forKey: .tlsClientHello)
        try c.encodeIfPresent(tlsCertificate, forKey: .tlsCertificate)
        try c.encodeIfPresent(http, forKey: .http)
        try c.encodeIfPresent(dns, forKey: .dns)
        try c.encodeIfPresent(mdns, forKey: .mdns)
        try c.encodeIfPresent(ssdp, forKey: .ssdp)
        try c.encodeIfPresent(lldp, forKey: .lldp)
        try c.encodeIfPresent(cdp, forKey: .cdp)
        try c.encodeIfPresent(wsdiscovery, forKey: .wsdiscovery)
        try c.encodeIfPresent(dicomAssociation, forKey: .dicomAssociation)
        try c.encodeIfPresent(hl7Message, forKey: .hl7Message)
        try c.encodeIfPresent(flow, forKey: .flow)
        try c.encodeIfPresent(dhcpv6, forKey: .dhcpv6)
        try c.encodeIfPresent(ndp, forKey: .ndp)
    }
}

/// A DHCPv4 message, reduced to what identifies the device.
public struct DHCPObservation: Codable, Sendable, Hashable {
    public var op: String
    public var messageType: String?
    public var transactionId: UInt32
    public var clientMac: String
    public var clientIp: String?
    public var yourIp: String?
    public var serverIp: String?
    public var relayIp: String?
    public var requestedIp: String?
    public var serverIdentifier: String?
    public var hostname: String?
    public var vendorClass: String?
    public var clientId: String?
    public var maxMessageSize: Int?
    public var parameterRequestList: [Int]?
    public var optionCodes: [Int]

    public init(
        op: String, messageType: String?, transactionId: UInt32, clientMac: String, clientIp: String? = nil,
        yourIp: String? = nil, serverIp: String? = nil, relayIp: String? = nil, requestedIp: String? = nil,
        serverIdentifier: String? = nil, hostname: String? = nil, vendorClass: String? = nil, clientId: String? = nil,
        maxMessageSize: Int? = nil, parameterRequestList: [Int]? = nil, optionCodes: [Int]
    ) {
        self.op = op
        self.messageType = messageType
        self.transactionId = transactionId
        self.clientMac = clientMac
        self.clientIp = clientIp
        self.yourIp = yourIp
        self.serverIp = serverIp
        self.relayIp = relayIp
        self.requestedIp = requestedIp
        self.serverIdentifier = serverIdentifier
        self.hostname = hostname
        self.vendorClass = vendorClass
        self.clientId = clientId
        self.maxMessageSize = maxMessageSize
        self.parameterRequestList = parameterRequestList
        self.optionCodes = optionCodes
    }

    /// True for messages a client sends (BOOTREQUEST): they carry the client's own fingerprint.
    public var isFromClient: Bool { op == "request" }
}

/// An ARP message.
public struct ARPObservation: Codable, Sendable, Hashable {
    public var operation: String
    public var senderMac: String
    public var senderIp: String
    public var targetMac: String
    public var targetIp: String
    public var gratuitous: Bool

    public init(operation: String, senderMac: String, senderIp: String, targetMac: String, targetIp: String, gratuitous: Bool) {
        self.operation = operation
        self.senderMac = senderMac
        self.senderIp = senderIp
        self.targetMac = targetMac
        self.targetIp = targetIp
        self.gratuitous = gratuitous
    }
}

extension Observation {
    /// Feeds `hasher` what an announcement says: everything but `time`, and for DHCP and DHCPv6 the fields in which
    /// retransmissions of one message differ (the transaction id; DHCPv6's elapsed time, RFC 8415 section 15). Two
    /// observations feed the same values exactly when they are equal once those are set aside. Nothing is copied but a
    /// DHCP payload.
    public func hashAnnouncement(into hasher: inout Hasher) {
        hasher.combine(schemaVersion)
        hasher.combine(kind)
        hasher.combine(deviceKey)
        hasher.combine(sensorId)
        hasher.combine(site)
        hasher.combine(vlan)
        hasher.combine(source)
        switch payload {
        case .dhcp(var dhcp):
            dhcp.transactionId = 0
            hasher.combine(1 as UInt8)
            hasher.combine(dhcp)
        case .dhcpv6(var dhcpv6):
            dhcpv6.transactionId = 0
            dhcpv6.elapsedTime = nil
            hasher.combine(2 as UInt8)
            hasher.combine(dhcpv6)
        default:
            hasher.combine(0 as UInt8)
            hasher.combine(payload)
        }
    }
}
