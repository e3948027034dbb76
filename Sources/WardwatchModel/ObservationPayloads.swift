/// Payloads of the observation kinds beyond DHCP and ARP. Each is what identifies a device, never patient data:
/// HL7 carries only MSH header fields and device identifiers, DICOM only association fields.

/// A key and a value. Maps are written as lists of these: the encoder's snake_case conversion would otherwise rewrite
/// keys that come off the wire (a TXT key `usb_MDL` must stay as it is).
public struct KeyValue: Codable, Sendable, Hashable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// The transport endpoints of the connection an observation came from, as the device (the observation's source) sees
/// them: `local` is the device's side.
public struct ConnectionEndpoints: Codable, Sendable, Hashable {
    public var transport: String
    public var localIp: String
    public var localPort: Int
    public var remoteIp: String
    public var remotePort: Int

    public init(transport: String, localIp: String, localPort: Int, remoteIp: String, remotePort: Int) {
        self.transport = transport
        self.localIp = localIp
        self.localPort = localPort
        self.remoteIp = remoteIp
        self.remotePort = remotePort
    }
}

/// A TCP SYN (role client) or SYN+ACK (role server) in p0f v3 form.
public struct TCPSynObservation: Codable, Sendable, Hashable {
    public var role: String
    public var connection: ConnectionEndpoints
    /// `ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass`, as p0f prints raw_sig.
    public var signature: String
    public var ttl: Int
    public var window: Int
    public var mss: Int?
    public var windowScale: Int?
    public var options: [String]
    public var quirks: [String]

    public init(
        role: String, connection: ConnectionEndpoints, signature: String, ttl: Int, window: Int, mss: Int?,
        windowScale: Int?, options: [String], quirks: [String]
    ) {
        self.role = role
        self.connection = connection
        self.signature = signature
        self.ttl = ttl
        self.window = window
        self.mss = mss
        self.windowScale = windowScale
        self.options = options
        self.quirks = quirks
    }
}

/// TCP timestamp samples of one connection, for clock-skew estimation: each `[packet time µs, TSval]`.
public struct TCPTimestampsObservation: Codable, Sendable, Hashable {
    public var connection: ConnectionEndpoints
    public var samples: [TimestampSample]

    public init(connection: ConnectionEndpoints, samples: [TimestampSample]) {
        self.connection = connection
        self.samples = samples
    }
}

/// One TCP timestamp sample: the packet's capture time and the TSval it carried. Encoded as the pair
/// `[packet time µs, TSval]` (a value, not an array per sample, so a batch is one allocation).
public struct TimestampSample: Codable, Sendable, Hashable {
    public var time: Int64
    public var tsval: Int64

    public init(time: Int64, tsval: Int64) {
        self.time = time
        self.tsval = tsval
    }

    public init(from decoder: any Decoder) throws {
        var pair = try decoder.unkeyedContainer()
        time = try pair.decode(Int64.self)
        tsval = try pair.decode(Int64.self)
        guard pair.isAtEnd else {
            throw DecodingError.dataCorruptedError(in: pair, debugDescription: "a timestamp sample is a pair")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var pair = encoder.unkeyedContainer()
        try pair.encode(time)
        try pair.encode(tsval)
    }
}

/// A TLS ClientHello and its JA4 fingerprint.
public struct TLSClientHelloObservation: Codable, Sendable, Hashable {
    public var connection: ConnectionEndpoints
    public var ja4: String
    public var serverName: String?
    public var alpn: [String]
    public var supportedVersions: [Int]
    public var cipherSuites: [Int]
    public var extensions: [Int]
    public var signatureAlgorithms: [Int]

    public init(
        connection: ConnectionEndpoints, ja4: String, serverName: String?, alpn: [String], supportedVersions: [Int],
        cipherSuites: [Int], extensions: [Int], signatureAlgorithms: [Int]
    ) {
        self.connection = connection
        self.ja4 = ja4
        self.serverName = serverName
        self.alpn = alpn
        self.supportedVersions = supportedVersions
        self.cipherSuites = cipherSuites
        self.extensions = extensions
        self.signatureAlgorithms = signatureAlgorithms
    }
}

/// A server certificate seen in a TLS 1.2 handshake (the observation's device is the server).
public struct TLSCertificateObservation: Codable, Sendable, Hashable {
    public var connection: ConnectionEndpoints
    public var subject: String
    public var issuer: String
    public var serialNumber: String
    public var notBefore: String
    public var notAfter: String
    public var keyType: String
    public var keyBits: Int?
    public var selfSigned: Bool
    public var sha256: String
    public var subjectAltNames: [String]

    public init(
        connection: ConnectionEndpoints, subject: String, issuer: String, serialNumber: String, notBefore: String,
        notAfter: String, keyType: String, keyBits: Int?, selfSigned: Bool, sha256: String, subjectAltNames: [String]
    ) {
        self.connection = connection
        self.subject = subject
        self.issuer = issuer
        self.serialNumber = serialNumber
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.keyType = keyType
        self.keyBits = keyBits
        self.selfSigned = selfSigned
        self.sha256 = sha256
        self.subjectAltNames = subjectAltNames
    }
}

/// An HTTP/1.x request or response head.
public struct HTTPObservation: Codable, Sendable, Hashable {
    public var connection: ConnectionEndpoints
    public var direction: String
    public var method: String?
    public var host: String?
    public var path: String?
    public var status: Int?
    public var userAgent: String?
    public var server: String?

    public init(
        connection: ConnectionEndpoints, direction: String, method: String?, host: String?, path: String?, status: Int?,
        userAgent: String?, server: String?
    ) {
        self.connection = connection
        self.direction = direction
        self.method = method
        self.host = host
        self.path = path
        self.status = status
        self.userAgent = userAgent
        self.server = server
    }
}

/// A DNS or mDNS message, reduced to names and the records that describe devices and services.
public struct DNSObservation: Codable, Sendable, Hashable {
    public struct Record: Codable, Sendable, Hashable {
        public var name: String
        public var type: String
        public var value: String
        public init(name: String, type: String, value: String) {
            self.name = name
            self.type = type
            self.value = value
        }
    }

    public var response: Bool
    public var questions: [Record]
    public var answers: [Record]
    /// TXT key=value pairs that name a model or vendor (md, model, ty, usb_MDL, manufacturer, ...).
    public var modelFields: [KeyValue]

    public init(response: Bool, questions: [Record], answers: [Record], modelFields: [KeyValue]) {
        self.response = response
        self.questions = questions
        self.answers = answers
        self.modelFields = modelFields
    }
}

/// An SSDP (UPnP discovery) message.
public struct SSDPObservation: Codable, Sendable, Hashable {
    public var startLine: String
    public var server: String?
    public var usn: String?
    public var location: String?
    public var notificationType: String?
    public var searchTarget: String?
    public var userAgent: String?

    public init(
        startLine: String, server: String?, usn: String?, location: String?, notificationType: String?,
        searchTarget: String?, userAgent: String?
    ) {
        self.startLine = startLine
        self.server = server
        self.usn = usn
        self.location = location
        self.notificationType = notificationType
        self.searchTarget = searchTarget
        self.userAgent = userAgent
    }
}

/// What a switch or device announces over LLDP (with LLDP-MED inventory and location) or CDP.
public struct NeighborObservation: Codable, Sendable, Hashable {
    public var chassisId: String?
    public var portId: String?
    public var portDescription: String?
    public var systemName: String?
    public var systemDescription: String?
    public var platform: String?
    public var softwareVersion: String?
    public var capabilities: [String]
    public var managementAddresses: [String]
    public var nativeVlan: Int?
    /// LLDP-MED inventory: hardware_revision, firmware_revision, software_revision, serial_number, manufacturer,
    /// model, asset_id.
    public var inventory: [KeyValue]
    /// LLDP-MED civic location elements by CA type name.
    public var civicLocation: [KeyValue]

    public init(
        chassisId: String? = nil, portId: String? = nil, portDescription: String? = nil, systemName: String? = nil,
        systemDescription: String? = nil, platform: String? = nil, softwareVersion: String? = nil,
        capabilities: [String] = [], managementAddresses: [String] = [], nativeVlan: Int? = nil,
        inventory: [KeyValue] = [], civicLocation: [KeyValue] = []
    ) {
        self.chassisId = chassisId
        self.portId = portId
        self.portDescription = portDescription
        self.systemName = systemName
        self.systemDescription = systemDescription
        self.platform = platform
        self.softwareVersion = softwareVersion
        self.capabilities = capabilities
        self.managementAddresses = managementAddresses
        self.nativeVlan = nativeVlan
        self.inventory = inventory
        self.civicLocation = civicLocation
    }
}

/// A WS-Discovery message as IEEE 11073 SDC devices send it.
public struct WSDiscoveryObservation: Codable, Sendable, Hashable {
    public var message: String
    public var endpointReference: String?
    public var types: [String]
    public var scopes: [String]
    public var xaddrs: [String]
    public var metadataVersion: Int?

    public init(
        message: String, endpointReference: String?, types: [String], scopes: [String], xaddrs: [String],
        metadataVersion: Int?
    ) {
        self.message = message
        self.endpointReference = endpointReference
        self.types = types
        self.scopes = scopes
        self.xaddrs = xaddrs
        self.metadataVersion = metadataVersion
    }
}

/// A DICOM association request, acceptance or rejection: association fields only.
public struct DICOMAssociationObservation: Codable, Sendable, Hashable {
    public var connection: ConnectionEndpoints
    public var pdu: String
    public var calledAeTitle: String?
    public var callingAeTitle: String?
    public var applicationContext: String?
    public var abstractSyntaxes: [String]
    public var implementationClassUid: String?
    public var implementationVersionName: String?
    public var userIdentityType: Int?
    public var rejectResult: Int?
    public var rejectSource: Int?
    public var rejectReason: Int?

    public init(
        connection: ConnectionEndpoints, pdu: String, calledAeTitle: String?, callingAeTitle: String?,
        applicationContext: String?, abstractSyntaxes: [String], implementationClassUid: String?,
        implementationVersionName: String?, userIdentityType: Int?, rejectResult: Int? = nil, rejectSource: Int? = nil,
        rejectReason: Int? = nil
    ) {
        self.connection = connection
        self.pdu = pdu
        self.calledAeTitle = calledAeTitle
        self.callingAeTitle = callingAeTitle
        self.applicationContext = applicationContext
        self.abstractSyntaxes = abstractSyntaxes
        self.implementationClassUid = implementationClassUid
        self.implementationVersionName = implementationVersionName
        self.userIdentityType = userIdentityType
        self.rejectResult = rejectResult
        self.rejectSource = rejectSource
        self.rejectReason = rejectReason
    }
}

/// An HL7 v2 message over MLLP: MSH header fields and device identifiers only, never patient data.
public struct HL7MessageObservation: Codable, Sendable, Hashable {
    public struct DeviceIdentifier: Codable, Sendable, Hashable {
        /// `PRT-10` (UDI) or `OBX-18` (equipment instance identifier).
        public var field: String
        public var value: String
        public init(field: String, value: String) {
            self.field = field
            self.value = value
        }
    }

    public var connection: ConnectionEndpoints
    public var sendingApplication: String?
    public var sendingFacility: String?
    public var receivingApplication: String?
    public var receivingFacility: String?
    public var messageType: String?
    public var processingId: String?
    public var version: String?
    public var deviceIdentifiers: [DeviceIdentifier]

    public init(
        connection: ConnectionEndpoints, sendingApplication: String?, sendingFacility: String?,
        receivingApplication: String?, receivingFacility: String?, messageType: String?, processingId: String?,
        version: String?, deviceIdentifiers: [DeviceIdentifier]
    ) {
        self.connection = connection
        self.sendingApplication = sendingApplication
        self.sendingFacility = sendingFacility
        self.receivingApplication = receivingApplication
        self.receivingFacility = receivingFacility
        self.messageType = messageType
        self.processingId = processingId
        self.version = version
        self.deviceIdentifiers = deviceIdentifiers
    }
}

/// A flow summary over one reporting interval; `connection.local` is the initiator.
public struct FlowObservation: Codable, Sendable, Hashable {
    public var connection: ConnectionEndpoints
    public var packetsOut: Int
    public var packetsIn: Int
    public var bytesOut: Int
    public var bytesIn: Int
    public var firstTime: EventTime
    public var lastTime: EventTime
    public var tcpFlagsOut: [String]
    public var tcpFlagsIn: [String]
    public var applicationProtocols: [String]
    public var endReason: String

    public init(
        connection: ConnectionEndpoints, packetsOut: Int, packetsIn: Int, bytesOut: Int, bytesIn: Int,
        firstTime: EventTime, lastTime: EventTime, tcpFlagsOut: [String], tcpFlagsIn: [String],
        applicationProtocols: [String], endReason: String
    ) {
        self.connection = connection
        self.packetsOut = packetsOut
        self.packetsIn = packetsIn
        self.bytesOut = bytesOut
        self.bytesIn = bytesIn
        self.firstTime = firstTime
        self.lastTime = lastTime
        self.tcpFlagsOut = tcpFlagsOut
        self.tcpFlagsIn = tcpFlagsIn
        self.applicationProtocols = applicationProtocols
        self.endReason = endReason
    }
}

/// A DHCPv6 message (RFC 8415), reduced to what identifies the client. For a relay message, the client's message
/// inside it (the innermost one), with the addresses of the relay closest to the client.
public struct DHCPv6Observation: Codable, Sendable, Hashable {
    /// The vendor class option (16): the vendor's IANA enterprise number and each class datum, as text when it is
    /// printable ASCII, else `hex:` and its bytes as lowercase hex.
    public struct VendorClass: Codable, Sendable, Hashable {
        public var enterpriseNumber: UInt32
        public var data: [String]
        public init(enterpriseNumber: UInt32, data: [String]) {
            self.enterpriseNumber = enterpriseNumber
            self.data = data
        }
    }

    /// Name of the client's (innermost) message type: solicit, advertise, request, ..., or type-N.
    public var messageType: String
    /// True for messages a client sends (solicit, request, confirm, renew, rebind, release, decline,
    /// information-request): they carry the client's own fingerprint.
    public var fromClient: Bool
    /// The 24-bit transaction id of the client's message.
    public var transactionId: UInt32
    /// Option 1, the whole DUID as lowercase hex.
    public var clientDuid: String?
    /// The DUID type: 1 LLT, 2 EN, 3 LL, 4 UUID.
    public var clientDuidType: Int?
    /// The link-layer address of an LLT or LL DUID: a MAC for Ethernet, else colon-separated hex.
    public var clientLinkLayerAddress: String?
    /// The enterprise number of an EN DUID.
    public var clientDuidEnterpriseNumber: UInt32?
    /// Option 6, in the client's order.
    public var optionRequestList: [Int]?
    /// Option 16.
    public var vendorClass: VendorClass?
    /// Option 39: the name (omitted when empty) and the flags byte (N, O, S).
    public var clientFqdn: String?
    public var clientFqdnFlags: Int?
    /// Option 8, hundredths of a second.
    public var elapsedTime: Int?
    /// Every top-level option code of the client's message, in wire order.
    public var optionCodes: [Int]
    /// For a relayed message: the number of relay layers, and the link and peer address of the relay closest to
    /// the client (the peer address is the client's address).
    public var relayHops: Int?
    public var relayLinkAddress: String?
    public var relayPeerAddress: String?

    public init(
        messageType: String, fromClient: Bool, transactionId: UInt32, clientDuid: String? = nil,
        clientDuidType: Int? = nil, clientLinkLayerAddress: String? = nil, clientDuidEnterpriseNumber: UInt32? = nil,
        optionRequestList: [Int]? = nil, vendorClass: VendorClass? = nil, clientFqdn: String? = nil,
        clientFqdnFlags: Int? = nil, elapsedTime: Int? = nil, optionCodes: [Int], relayHops: Int? = nil,
        relayLinkAddress: String? = nil, relayPeerAddress: String? = nil
    ) {
        self.messageType = messageType
        self.fromClient = fromClient
        self.transactionId = transactionId
        self.clientDuid = clientDuid
        self.clientDuidType = clientDuidType
        self.clientLinkLayerAddress = clientLinkLayerAddress
        self.clientDuidEnterpriseNumber = clientDuidEnterpriseNumber
        self.optionRequestList = optionRequestList
        self.vendorClass = vendorClass
        self.clientFqdn = clientFqdn
        self.clientFqdnFlags = clientFqdnFlags
        self.elapsedTime = elapsedTime
        self.optionCodes = optionCodes
        self.relayHops = relayHops
        self.relayLinkAddress = relayLinkAddress
        self.relayPeerAddress = relayPeerAddress
    }
}

/// An ICMPv6 neighbour discovery message (RFC 4861): router solicitation and advertisement, neighbour solicitation
/// and advertisement, redirect.
public struct NDPObservation: Codable, Sendable, Hashable {
    /// A prefix information option of a router advertisement.
    public struct Prefix: Codable, Sendable, Hashable {
        public var prefix: String
        public var length: Int
        public var onLink: Bool
        public var autonomous: Bool
        public var validLifetime: UInt32
        public var preferredLifetime: UInt32
        public init(prefix: String, length: Int, onLink: Bool, autonomous: Bool, validLifetime: UInt32, preferredLifetime: UInt32) {
            self.prefix = prefix
            self.length = length
            self.onLink = onLink
            self.autonomous = autonomous
            self.validLifetime = validLifetime
            self.preferredLifetime = preferredLifetime
        }
    }

    /// router-solicitation, router-advertisement, neighbor-solicitation, neighbor-advertisement or redirect.
    public var type: String
    /// The target address of a neighbour solicitation, advertisement or redirect.
    public var targetAddress: String?
    /// The first source / target link-layer address option: a MAC when six bytes, else colon-separated hex.
    public var sourceLinkLayerAddress: String?
    public var targetLinkLayerAddress: String?
    /// Flags set: router, solicited, override (neighbour advertisement); managed, other (router advertisement).
    public var flags: [String]
    /// Router advertisement only: hop limit, router lifetime (seconds), MTU option.
    public var hopLimit: Int?
    public var routerLifetime: Int?
    public var mtu: UInt32?
    /// Router advertisement prefix information options, in order (empty for other types).
    public var prefixes: [Prefix]
    /// Router advertisement recursive DNS servers (RFC 8106), in order (empty for other types).
    public var dnsServers: [String]
    /// Every option type in wire order.
    public var optionTypes: [Int]

    public init(
        type: String, targetAddress: String? = nil, sourceLinkLayerAddress: String? = nil,
        targetLinkLayerAddress: String? = nil, flags: [String] = [], hopLimit: Int? = nil, routerLifetime: Int? = nil,
        mtu: UInt32? = nil, prefixes: [Prefix] = [], dnsServers: [String] = [], optionTypes: [Int] = []
    ) {
        self.type = type
        self.targetAddress = targetAddress
        self.sourceLinkLayerAddress = sourceLinkLayerAddress
        self.targetLinkLayerAddress = targetLinkLayerAddress
        self.flags = flags
        self.hopLimit = hopLimit
        self.routerLifetime = routerLifetime
        self.mtu = mtu
        self.prefixes = prefixes
        self.dnsServers = dnsServers
        self.optionTypes = optionTypes
    }
}
