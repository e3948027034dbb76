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

    // The payloads, each boxed: an observation stays a few words to move and copy, whichever payload it carries.
    var _dhcp: Box<DHCPObservation>?
    var _arp: Box<ARPObservation>?
    var _tcpSyn: Box<TCPSynObservation>?
    var _tcpTimestamps: Box<TCPTimestampsObservation>?
    var _tlsClientHello: Box<TLSClientHelloObservation>?
    var _tlsCertificate: Box<TLSCertificateObservation>?
    var _http: Box<HTTPObservation>?
    var _dns: Box<DNSObservation>?
    var _mdns: Box<DNSObservation>?
    var _ssdp: Box<SSDPObservation>?
    var _lldp: Box<NeighborObservation>?
    var _cdp: Box<NeighborObservation>?
    var _wsdiscovery: Box<WSDiscoveryObservation>?
    var _dicomAssociation: Box<DICOMAssociationObservation>?
    var _hl7Message: Box<HL7MessageObservation>?
    var _flow: Box<FlowObservation>?
    var _dhcpv6: Box<DHCPv6Observation>?
    var _ndp: Box<NDPObservation>?

    public var dhcp: DHCPObservation? {
        get { _dhcp?.value }
        set { _dhcp = newValue.map(Box.init) }
    }
    public var arp: ARPObservation? {
        get { _arp?.value }
        set { _arp = newValue.map(Box.init) }
    }
    public var tcpSyn: TCPSynObservation? {
        get { _tcpSyn?.value }
        set { _tcpSyn = newValue.map(Box.init) }
    }
    public var tcpTimestamps: TCPTimestampsObservation? {
        get { _tcpTimestamps?.value }
        set { _tcpTimestamps = newValue.map(Box.init) }
    }
    public var tlsClientHello: TLSClientHelloObservation? {
        get { _tlsClientHello?.value }
        set { _tlsClientHello = newValue.map(Box.init) }
    }
    public var tlsCertificate: TLSCertificateObservation? {
        get { _tlsCertificate?.value }
        set { _tlsCertificate = newValue.map(Box.init) }
    }
    public var http: HTTPObservation? {
        get { _http?.value }
        set { _http = newValue.map(Box.init) }
    }
    public var dns: DNSObservation? {
        get { _dns?.value }
        set { _dns = newValue.map(Box.init) }
    }
    public var mdns: DNSObservation? {
        get { _mdns?.value }
        set { _mdns = newValue.map(Box.init) }
    }
    public var ssdp: SSDPObservation? {
        get { _ssdp?.value }
        set { _ssdp = newValue.map(Box.init) }
    }
    public var lldp: NeighborObservation? {
        get { _lldp?.value }
        set { _lldp = newValue.map(Box.init) }
    }
    public var cdp: NeighborObservation? {
        get { _cdp?.value }
        set { _cdp = newValue.map(Box.init) }
    }
    public var wsdiscovery: WSDiscoveryObservation? {
        get { _wsdiscovery?.value }
        set { _wsdiscovery = newValue.map(Box.init) }
    }
    public var dicomAssociation: DICOMAssociationObservation? {
        get { _dicomAssociation?.value }
        set { _dicomAssociation = newValue.map(Box.init) }
    }
    public var hl7Message: HL7MessageObservation? {
        get { _hl7Message?.value }
        set { _hl7Message = newValue.map(Box.init) }
    }
    public var flow: FlowObservation? {
        get { _flow?.value }
        set { _flow = newValue.map(Box.init) }
    }
    public var dhcpv6: DHCPv6Observation? {
        get { _dhcpv6?.value }
        set { _dhcpv6 = newValue.map(Box.init) }
    }
    public var ndp: NDPObservation? {
        get { _ndp?.value }
        set { _ndp = newValue.map(Box.init) }
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

    // Codable by hand only because the payloads are boxed; the keys and their handling are those the compiler would
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
        dhcp = try c.decodeIfPresent(DHCPObservation.self, forKey: .dhcp)
        arp = try c.decodeIfPresent(ARPObservation.self, forKey: .arp)
        tcpSyn = try c.decodeIfPresent(TCPSynObservation.self, forKey: .tcpSyn)
        tcpTimestamps = try c.decodeIfPresent(TCPTimestampsObservation.self, forKey: .tcpTimestamps)
        tlsClientHello = try c.decodeIfPresent(TLSClientHelloObservation.self, forKey: .tlsClientHello)
        tlsCertificate = try c.decodeIfPresent(TLSCertificateObservation.self, forKey: .tlsCertificate)
        http = try c.decodeIfPresent(HTTPObservation.self, forKey: .http)
        dns = try c.decodeIfPresent(DNSObservation.self, forKey: .dns)
        mdns = try c.decodeIfPresent(DNSObservation.self, forKey: .mdns)
        ssdp = try c.decodeIfPresent(SSDPObservation.self, forKey: .ssdp)
        lldp = try c.decodeIfPresent(NeighborObservation.self, forKey: .lldp)
        cdp = try c.decodeIfPresent(NeighborObservation.self, forKey: .cdp)
        wsdiscovery = try c.decodeIfPresent(WSDiscoveryObservation.self, forKey: .wsdiscovery)
        dicomAssociation = try c.decodeIfPresent(DICOMAssociationObservation.self, forKey: .dicomAssociation)
        hl7Message = try c.decodeIfPresent(HL7MessageObservation.self, forKey: .hl7Message)
        flow = try c.decodeIfPresent(FlowObservation.self, forKey: .flow)
        dhcpv6 = try c.decodeIfPresent(DHCPv6Observation.self, forKey: .dhcpv6)
        ndp = try c.decodeIfPresent(NDPObservation.self, forKey: .ndp)
    }

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

/// An immutable heap box for a payload; equal and hashed by its value.
final class Box<Value: Hashable & Sendable>: Hashable, Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
    static func == (a: Box, b: Box) -> Bool { a === b || a.value == b.value }
    func hash(into hasher: inout Hasher) { value.hash(into: &hasher) }
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
