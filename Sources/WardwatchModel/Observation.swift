/// One event of interest about a device, as published to `iomt.observations.v1` (schemas/observation.v1.schema.json).
public struct Observation: Codable, Sendable, Equatable {
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
    public var dhcp: DHCPObservation?
    public var arp: ARPObservation?
    public var tcpSyn: TCPSynObservation?
    public var tcpTimestamps: TCPTimestampsObservation?
    public var tlsClientHello: TLSClientHelloObservation?
    public var tlsCertificate: TLSCertificateObservation?
    public var http: HTTPObservation?
    public var dns: DNSObservation?
    public var mdns: DNSObservation?
    public var ssdp: SSDPObservation?
    public var lldp: NeighborObservation?
    public var cdp: NeighborObservation?
    public var wsdiscovery: WSDiscoveryObservation?
    public var dicomAssociation: DICOMAssociationObservation?
    public var hl7Message: HL7MessageObservation?
    public var flow: FlowObservation?

    public struct Source: Codable, Sendable, Equatable {
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
}

/// A DHCPv4 message, reduced to what identifies the device.
public struct DHCPObservation: Codable, Sendable, Equatable {
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
public struct ARPObservation: Codable, Sendable, Equatable {
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
