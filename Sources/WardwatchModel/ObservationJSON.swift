/// Observations written by hand with `JSONWriter`, byte-identical to `WardwatchJSON.encode` (snake_case keys in
/// sorted order, absent optionals left out) and many times faster. The Codable conformances stay: they decode, and
/// tests use them as the reference. A new field must be added here too (the byte-identity test fails until it is).
/// Text written as a JSON string: a `String`, or a value that writes its text straight into the buffer (the
/// capture's addresses), so that no `String` is made for it.
public protocol JSONText {
    /// Writes the text as a JSON string value (quoted, escaped where needed).
    func writeJSONString(to w: inout JSONWriter)
    /// Appends the text's bytes as they are (a Kafka key).
    func appendRaw(to w: inout JSONWriter)
}

extension String: JSONText {
    public func writeJSONString(to w: inout JSONWriter) { w.string(self) }
    public func appendRaw(to w: inout JSONWriter) { w.appendRaw(self) }
}

/// Text where it lies in a packet, read as UTF-8 (ill-formed sequences replaced): written as the `String` of those
/// bytes would be, with no `String` made for ASCII.
public struct UTF8Text: JSONText {
    public let bytes: UnsafeRawBufferPointer

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public func writeJSONString(to w: inout JSONWriter) { w.string(utf8: bytes) }

    public func appendRaw(to w: inout JSONWriter) {
        JSONWriter.isASCII(bytes) ? w.appendRaw(bytes) : w.appendRaw(String(decoding: bytes, as: UTF8.self))
    }
}

/// A value that writes itself as one JSON value: a text as a string, a list of texts as an array, or an
/// `EncodedJSON` as the bytes it was encoded to once.
public protocol JSONValue {
    func writeJSON(to w: inout JSONWriter)
}

extension String: JSONValue {
    public func writeJSON(to w: inout JSONWriter) { w.string(self) }
}

extension Array: JSONValue where Element == String {
    public func writeJSON(to w: inout JSONWriter) { w.stringArray(self) }
}

/// A string or list of strings encoded to JSON once and written as those bytes, for what many observations repeat
/// (the sensor's id and site, TCP flag lists, a SYN signature's texts): no escaping or array walk per observation.
public struct EncodedJSON: JSONValue, Sendable, Hashable {
    public let bytes: [UInt8]

    public init(_ text: String) {
        var w = JSONWriter(capacity: text.utf8.count + 8)
        w.string(text)
        bytes = w.written
    }

    public init(_ texts: [String]) {
        var w = JSONWriter(capacity: 64)
        w.stringArray(texts)
        bytes = w.written
    }

    public func writeJSON(to w: inout JSONWriter) { bytes.withUnsafeBytes { w.encoded($0) } }
}

extension Observation.Kind {
    /// The member the payload is written under, which is also the kind's name (its raw value; tested).
    var payloadKey: StaticString {
        switch self {
        case .dhcp: "dhcp"
        case .arp: "arp"
        case .tcpSyn: "tcp_syn"
        case .tcpTimestamps: "tcp_timestamps"
        case .tlsClientHello: "tls_client_hello"
        case .tlsCertificate: "tls_certificate"
        case .http: "http"
        case .dns: "dns"
        case .mdns: "mdns"
        case .ssdp: "ssdp"
        case .lldp: "lldp"
        case .cdp: "cdp"
        case .wsdiscovery: "wsdiscovery"
        case .dicomAssociation: "dicom_association"
        case .hl7Message: "hl7_message"
        case .flow: "flow"
        case .dhcpv6: "dhcpv6"
        case .ndp: "ndp"
        }
    }

    /// Where the payload member falls among the envelope's, keys being sorted: before `device_key` (0), before
    /// `kind` (1), before `schema_version` (2), before `time` (3), before `vlan` (4), last (5).
    var payloadSlot: Int {
        switch self {
        case .arp, .cdp: 0
        case .dhcp, .dhcpv6, .dicomAssociation, .dns, .flow, .hl7Message, .http: 1
        case .lldp, .mdns, .ndp: 2
        case .ssdp, .tcpSyn, .tcpTimestamps: 3
        case .tlsCertificate, .tlsClientHello: 4
        case .wsdiscovery: 5
        }
    }
}

extension Observation {
    /// The kind whose payload this observation carries (the schema has it match `kind`; decoding enforces that).
    private var payloadKind: Kind? {
        switch payload {
        case .none: nil
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

    /// Appends this observation as one JSON object.
    public func writeJSON(to w: inout JSONWriter) {
        Self.writeEnvelope(
            to: &w, kind: kind, deviceKey: deviceKey, time: time, sensorId: sensorId, site: site, vlan: vlan,
            sourceMAC: source.mac, sourceIP: source.ip, schemaVersion: schemaVersion, payloadKind: payloadKind
        ) { w in
            switch payload {
            case .none: break
            case .dhcp(let value): value.writeJSON(to: &w)
            case .arp(let value): value.writeJSON(to: &w)
            case .tcpSyn(let value): value.writeJSON(to: &w)
            case .tcpTimestamps(let value): value.writeJSON(to: &w)
            case .tlsClientHello(let value): value.writeJSON(to: &w)
            case .tlsCertificate(let value): value.writeJSON(to: &w)
            case .http(let value): value.writeJSON(to: &w)
            case .dns(let value), .mdns(let value): value.writeJSON(to: &w)
            case .ssdp(let value): value.writeJSON(to: &w)
            case .lldp(let value), .cdp(let value): value.writeJSON(to: &w)
            case .wsdiscovery(let value): value.writeJSON(to: &w)
            case .dicomAssociation(let value): value.writeJSON(to: &w)
            case .hl7Message(let value): value.writeJSON(to: &w)
            case .flow(let value): value.writeJSON(to: &w)
            case .dhcpv6(let value): value.writeJSON(to: &w)
            case .ndp(let value): value.writeJSON(to: &w)
            }
        }
    }

    /// Appends an observation from its parts, with no `Observation` value: the envelope's members, and the payload
    /// (of `kind`) as `payload` writes it, placed among them in key order. What `writeJSON(to:)` writes for the same
    /// parts, byte for byte.
    @inline(__always)
    public static func writeJSON<Key: JSONText, MAC: JSONText, IP: JSONText, Sensor: JSONValue, Site: JSONValue>(
        to w: inout JSONWriter, kind: Kind, deviceKey: Key, time: EventTime, sensorId: Sensor, site: Site,
        vlan: Int?, sourceMAC: MAC?, sourceIP: IP?, payload: (inout JSONWriter) -> Void
    ) {
        writeEnvelope(
            to: &w, kind: kind, deviceKey: deviceKey, time: time, sensorId: sensorId, site: site, vlan: vlan,
            sourceMAC: sourceMAC, sourceIP: sourceIP, schemaVersion: 1, payloadKind: kind, payload: payload)
    }

    /// The envelope around a payload of `payloadKind` (none when nil), which `kind` names in a valid observation.
    @inline(__always)
    static func writeEnvelope<Key: JSONText, MAC: JSONText, IP: JSONText, Sensor: JSONValue, Site: JSONValue>(
        to w: inout JSONWriter, kind: Kind, deviceKey: Key, time: EventTime, sensorId: Sensor, site: Site,
        vlan: Int?, sourceMAC: MAC?, sourceIP: IP?, schemaVersion: Int, payloadKind: Kind?,
        payload: (inout JSONWriter) -> Void
    ) {
        writeEnvelope(
            to: &w, kind: kind, time: time, payloadKind: payloadKind,
            deviceKey: { writeDeviceKey(to: &$0, deviceKey) },
            identity: {
                writeIdentity(to: &$0, schemaVersion: schemaVersion, sensorId: sensorId, site: site, sourceMAC: sourceMAC, sourceIP: sourceIP)
            },
            vlan: { $0.member("vlan", vlan) }, payload: payload)
    }

    /// Appends an observation of the device whose envelope members `device` holds (see `DeviceEnvelope`): what
    /// `writeJSON(to:kind:deviceKey:…)` writes for the same parts, byte for byte.
    @inline(__always)
    public static func writeJSON(
        to w: inout JSONWriter, kind: Kind, device: EnvelopeMembers, time: EventTime, payload: (inout JSONWriter) -> Void
    ) {
        writeEnvelope(
            to: &w, kind: kind, time: time, payloadKind: kind, deviceKey: { $0.members(device.deviceKey) },
            identity: { $0.members(device.identity) }, vlan: { if !device.vlan.isEmpty { $0.members(device.vlan) } },
            payload: payload)
    }

    /// The envelope's members in key order, the payload (of `payloadKind`, none when nil) in its place among them;
    /// the members that follow from the device alone are written by `deviceKey`, `identity` and `vlan`.
    @inline(__always)
    private static func writeEnvelope(
        to w: inout JSONWriter, kind: Kind, time: EventTime, payloadKind: Kind?,
        deviceKey: (inout JSONWriter) -> Void, identity: (inout JSONWriter) -> Void, vlan: (inout JSONWriter) -> Void,
        payload: (inout JSONWriter) -> Void
    ) {
        let slot = payloadKind?.payloadSlot ?? -1
        func writePayload(_ w: inout JSONWriter) {
            w.key(payloadKind!.payloadKey)
            payload(&w)
        }
        w.beginObject()
        if slot == 0 { writePayload(&w) }
        deviceKey(&w)
        if slot == 1 { writePayload(&w) }
        w.key("kind"); w.plainString(kind.payloadKey)
        if slot == 2 { writePayload(&w) }
        identity(&w)
        if slot == 3 { writePayload(&w) }
        w.key("time"); w.time(time)
        if slot == 4 { writePayload(&w) }
        vlan(&w)
        if slot == 5 { writePayload(&w) }
        w.endObject()
    }

    /// `"device_key":…`
    @inline(__always)
    static func writeDeviceKey<Key: JSONText>(to w: inout JSONWriter, _ deviceKey: Key) {
        w.key("device_key"); deviceKey.writeJSONString(to: &w)
    }

    /// `"schema_version":…,"sensor_id":…,"site":…,"source":{…}`
    @inline(__always)
    static func writeIdentity<MAC: JSONText, IP: JSONText, Sensor: JSONValue, Site: JSONValue>(
        to w: inout JSONWriter, schemaVersion: Int, sensorId: Sensor, site: Site, sourceMAC: MAC?, sourceIP: IP?
    ) {
        w.key("schema_version"); w.int(schemaVersion)
        w.key("sensor_id"); sensorId.writeJSON(to: &w)
        w.key("site"); site.writeJSON(to: &w)
        w.key("source")
        w.beginObject()
        if let sourceIP { w.key("ip"); sourceIP.writeJSONString(to: &w) }
        if let sourceMAC { w.key("mac"); sourceMAC.writeJSONString(to: &w) }
        w.endObject()
    }
}

/// The members of an observation's envelope that follow from its device alone (its key, source, VLAN, and the
/// sensor), encoded once and copied into each of its observations: a sensor sees a few hundred devices, and most
/// observations would otherwise format the same addresses and keys again.
public struct DeviceEnvelope: Sendable {
    let bytes: [UInt8]
    /// `"device_key":…`
    let deviceKey: Range<Int>
    /// `"schema_version":…` to the end of `"source":{…}`
    let identity: Range<Int>
    /// `"vlan":…`, empty without a VLAN.
    let vlan: Range<Int>
    /// The device key's text as it is (the record key).
    let key: Range<Int>

    /// Encodes the members as `Observation.writeJSON(to:kind:deviceKey:…)` writes them (schema version 1).
    public init<Key: JSONText, MAC: JSONText, IP: JSONText, Sensor: JSONValue, Site: JSONValue>(
        deviceKey: Key, sensorId: Sensor, site: Site, vlan: Int?, sourceMAC: MAC?, sourceIP: IP?
    ) {
        var w = JSONWriter(capacity: 256)
        func member(_ write: (inout JSONWriter) -> Void) -> Range<Int> {
            w.beginMembers()
            let start = w.count
            write(&w)
            return start..<w.count
        }
        self.deviceKey = member { Observation.writeDeviceKey(to: &$0, deviceKey) }
        identity = member {
            Observation.writeIdentity(to: &$0, schemaVersion: 1, sensorId: sensorId, site: site, sourceMAC: sourceMAC, sourceIP: sourceIP)
        }
        self.vlan = member { $0.member("vlan", vlan) }
        let keyStart = w.count
        deviceKey.appendRaw(to: &w)
        key = keyStart..<w.count
        bytes = w.written
    }
}

/// A device's encoded envelope members (see `DeviceEnvelope`), lent from where they are kept.
public struct EnvelopeMembers {
    let deviceKey: UnsafeRawBufferPointer
    let identity: UnsafeRawBufferPointer
    /// Empty without a VLAN.
    let vlan: UnsafeRawBufferPointer
    /// The device key's text as it is (the record key).
    let key: UnsafeRawBufferPointer
}

extension DHCPObservation {
    func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.member("client_id", clientId)
        w.member("client_ip", clientIp)
        w.key("client_mac"); w.string(clientMac)
        w.member("hostname", hostname)
        w.member("max_message_size", maxMessageSize)
        w.member("message_type", messageType)
        w.key("op"); w.string(op)
        w.key("option_codes"); w.intArray(optionCodes)
        if let parameterRequestList { w.key("parameter_request_list"); w.intArray(parameterRequestList) }
        w.member("relay_ip", relayIp)
        w.member("requested_ip", requestedIp)
        w.member("server_identifier", serverIdentifier)
        w.member("server_ip", serverIp)
        w.key("transaction_id"); w.uint32(transactionId)
        w.member("vendor_class", vendorClass)
        w.member("your_ip", yourIp)
        w.endObject()
    }
}

extension ARPObservation {
    func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("gratuitous"); w.bool(gratuitous)
        w.key("operation"); w.string(operation)
        w.key("sender_ip"); w.string(senderIp)
        w.key("sender_mac"); w.string(senderMac)
        w.key("target_ip"); w.string(targetIp)
        w.key("target_mac"); w.string(targetMac)
        w.endObject()
    }
}

extension KeyValue {
    func writeJSON(to w: inout JSONWriter) { Self.writeJSON(to: &w, key: key, value: value) }

    /// Writes a pair from its parts.
    @inline(__always)
    public static func writeJSON(to w: inout JSONWriter, key: String, value: String) {
        w.beginObject()
        w.key("key"); w.string(key)
        w.key("value"); w.string(value)
        w.endObject()
    }

    static func writeJSON(_ pairs: [KeyValue], to w: inout JSONWriter) {
        w.beginArray()
        for pair in pairs { pair.writeJSON(to: &w) }
        w.endArray()
    }
}

extension ConnectionEndpoints {
    func writeJSON(to w: inout JSONWriter) {
        Self.writeJSON(
            to: &w, transport: transport, localIp: localIp, localPort: localPort, remoteIp: remoteIp, remotePort: remotePort)
    }

    /// Writes connection endpoints from their parts.
    @inline(__always)
    public static func writeJSON<IP: JSONText, Transport: JSONValue>(
        to w: inout JSONWriter, transport: Transport, localIp: IP, localPort: Int, remoteIp: IP, remotePort: Int
    ) {
        w.beginObject()
        w.key("local_ip"); localIp.writeJSONString(to: &w)
        w.key("local_port"); w.int(localPort)
        w.key("remote_ip"); remoteIp.writeJSONString(to: &w)
        w.key("remote_port"); w.int(remotePort)
        w.key("transport"); transport.writeJSON(to: &w)
        w.endObject()
    }
}

extension TCPSynObservation {
    func writeJSON(to w: inout JSONWriter) {
        Self.writeJSON(
            to: &w, role: role, signature: signature, ttl: ttl, window: window, mss: mss, windowScale: windowScale,
            options: options, quirks: quirks, connection: connection.writeJSON)
    }

    /// Writes a SYN observation's payload from its parts; `connection` writes its endpoints.
    @inline(__always)
    public static func writeJSON<Role: JSONValue, Text: JSONValue, List: JSONValue>(
        to w: inout JSONWriter, role: Role, signature: Text, ttl: Int, window: Int, mss: Int?, windowScale: Int?,
        options: List, quirks: List, connection: (inout JSONWriter) -> Void
    ) {
        w.beginObject()
        w.key("connection"); connection(&w)
        w.member("mss", mss)
        w.key("options"); options.writeJSON(to: &w)
        w.key("quirks"); quirks.writeJSON(to: &w)
        w.key("role"); role.writeJSON(to: &w)
        w.key("signature"); signature.writeJSON(to: &w)
        w.key("ttl"); w.int(ttl)
        w.key("window"); w.int(window)
        w.member("window_scale", windowScale)
        w.endObject()
    }
}

extension TCPTimestampsObservation {
    func writeJSON(to w: inout JSONWriter) {
        Self.writeJSON(to: &w, sampleCount: samples.count, sample: { (samples[$0].time, samples[$0].tsval) }, connection: connection.writeJSON)
    }

    /// Writes a timestamps observation's payload from its parts: `sample(i)` is the i-th (packet time µs, TSval).
    @inline(__always)
    public static func writeJSON(
        to w: inout JSONWriter, sampleCount: Int, sample: (Int) -> (time: Int64, tsval: Int64),
        connection: (inout JSONWriter) -> Void
    ) {
        w.beginObject()
        w.key("connection"); connection(&w)
        w.key("samples")
        w.beginArray()
        for index in 0..<sampleCount {
            let (time, tsval) = sample(index)
            w.beginArray()
            w.int64(time)
            w.int64(tsval)
            w.endArray()
        }
        w.endArray()
        w.endObject()
    }
}

extension TLSClientHelloObservation {
    func writeJSON(to w: inout JSONWriter) {
        Self.writeJSON(
            to: &w, alpn: alpn, cipherSuites: cipherSuites, extensions: extensions, ja4: ja4, serverName: serverName,
            signatureAlgorithms: signatureAlgorithms, supportedVersions: supportedVersions, connection: connection.writeJSON)
    }

    /// Writes a ClientHello observation's payload from its parts (the code points as the hello holds them);
    /// `connection` writes its endpoints.
    @inline(__always)
    public static func writeJSON<Numbers: Sequence>(
        to w: inout JSONWriter, alpn: [String], cipherSuites: Numbers, extensions: Numbers, ja4: String,
        serverName: String?, signatureAlgorithms: Numbers, supportedVersions: Numbers,
        connection: (inout JSONWriter) -> Void
    ) where Numbers.Element: BinaryInteger {
        w.beginObject()
        w.key("alpn"); w.stringArray(alpn)
        w.key("cipher_suites"); w.integerArray(cipherSuites)
        w.key("connection"); connection(&w)
        w.key("extensions"); w.integerArray(extensions)
        w.key("ja4"); w.string(ja4)
        w.member("server_name", serverName)
        w.key("signature_algorithms"); w.integerArray(signatureAlgorithms)
        w.key("supported_versions"); w.integerArray(supportedVersions)
        w.endObject()
    }
}

extension TLSCertificateObservation {
    func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("connection"); connection.writeJSON(to: &w)
        w.key("issuer"); w.string(issuer)
        w.member("key_bits", keyBits)
        w.key("key_type"); w.string(keyType)
        w.key("not_after"); w.string(notAfter)
        w.key("not_before"); w.string(notBefore)
        w.key("self_signed"); w.bool(selfSigned)
        w.key("serial_number"); w.string(serialNumber)
        w.key("sha256"); w.string(sha256)
        w.key("subject"); w.string(subject)
        w.key("subject_alt_names"); w.stringArray(subjectAltNames)
        w.endObject()
    }
}

extension HTTPObservation {
    func writeJSON(to w: inout JSONWriter) {
        Self.writeJSON(
            to: &w, direction: direction, method: method, host: host, path: path, status: status, userAgent: userAgent,
            server: server, connection: connection.writeJSON)
    }

    /// Writes an HTTP observation's payload from its parts; `connection` writes its endpoints.
    @inline(__always)
    public static func writeJSON<Text: JSONText>(
        to w: inout JSONWriter, direction: String, method: String?, host: Text?, path: Text?, status: Int?,
        userAgent: Text?, server: Text?, connection: (inout JSONWriter) -> Void
    ) {
        w.beginObject()
        w.key("connection"); connection(&w)
        w.key("direction"); w.string(direction)
        w.member("host", host)
        w.member("method", method)
        w.member("path", path)
        w.member("server", server)
        w.member("status", status)
        w.member("user_agent", userAgent)
        w.endObject()
    }
}

extension DNSObservation {
    func writeJSON(to w: inout JSONWriter) {
        Self.writeJSON(
            to: &w, response: response,
            answers: { w in for r in answers { Self.writeRecord(to: &w, name: r.name, type: r.type, value: r.value) } },
            modelFields: { w in for field in modelFields { field.writeJSON(to: &w) } },
            questions: { w in for r in questions { Self.writeRecord(to: &w, name: r.name, type: r.type, value: r.value) } })
    }

    /// Writes a DNS payload from its parts: each closure writes its array's elements (`writeRecord`,
    /// `KeyValue.writeJSON(to:key:value:)`).
    @inline(__always)
    public static func writeJSON(
        to w: inout JSONWriter, response: Bool, answers: (inout JSONWriter) -> Void,
        modelFields: (inout JSONWriter) -> Void, questions: (inout JSONWriter) -> Void
    ) {
        w.beginObject()
        w.key("answers"); w.beginArray(); answers(&w); w.endArray()
        w.key("model_fields"); w.beginArray(); modelFields(&w); w.endArray()
        w.key("questions"); w.beginArray(); questions(&w); w.endArray()
        w.key("response"); w.bool(response)
        w.endObject()
    }

    /// Writes one question or answer record.
    @inline(__always)
    public static func writeRecord<Value: JSONValue>(to w: inout JSONWriter, name: String, type: String, value: Value) {
        writeRecord(to: &w, name: { $0.string(name) }, type: type, value: { value.writeJSON(to: &$0) })
    }

    /// Writes one question or answer record whose name and value the closures write (one JSON string each).
    @inline(__always)
    public static func writeRecord(
        to w: inout JSONWriter, name: (inout JSONWriter) -> Void, type: String, value: (inout JSONWriter) -> Void
    ) {
        w.beginObject()
        w.key("name"); name(&w)
        w.key("type"); w.string(type)
        w.key("value"); value(&w)
        w.endObject()
    }
}

extension SSDPObservation {
    func writeJSON(to w: inout JSONWriter) {
        Self.writeJSON(
            to: &w, location: location, notificationType: notificationType, searchTarget: searchTarget, server: server,
            startLine: startLine, userAgent: userAgent, usn: usn)
    }

    /// Writes an SSDP observation's payload from its parts (absent ones are left out).
    @inline(__always)
    public static func writeJSON<Text: JSONText>(
        to w: inout JSONWriter, location: Text?, notificationType: Text?, searchTarget: Text?, server: Text?,
        startLine: String, userAgent: Text?, usn: Text?
    ) {
        w.beginObject()
        w.member("location", location)
        w.member("notification_type", notificationType)
        w.member("search_target", searchTarget)
        w.member("server", server)
        w.key("start_line"); w.string(startLine)
        w.member("user_agent", userAgent)
        w.member("usn", usn)
        w.endObject()
    }
}

extension NeighborObservation {
    func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("capabilities"); w.stringArray(capabilities)
        w.member("chassis_id", chassisId)
        w.key("civic_location"); KeyValue.writeJSON(civicLocation, to: &w)
        w.key("inventory"); KeyValue.writeJSON(inventory, to: &w)
        w.key("management_addresses"); w.stringArray(managementAddresses)
        w.member("native_vlan", nativeVlan)
        w.member("platform", platform)
        w.member("port_description", portDescription)
        w.member("port_id", portId)
        w.member("software_version", softwareVersion)
        w.member("system_description", systemDescription)
        w.member("system_name", systemName)
        w.endObject()
    }
}

extension WSDiscoveryObservation {
    func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.member("endpoint_reference", endpointReference)
        w.key("message"); w.string(message)
        w.member("metadata_version", metadataVersion)
        w.key("scopes"); w.stringArray(scopes)
        w.key("types"); w.stringArray(types)
        w.key("xaddrs"); w.stringArray(xaddrs)
        w.endObject()
    }
}

extension DICOMAssociationObservation {
    func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("abstract_syntaxes"); w.stringArray(abstractSyntaxes)
        w.member("application_context", applicationContext)
        w.member("called_ae_title", calledAeTitle)
        w.member("calling_ae_title", callingAeTitle)
        w.key("connection"); connection.writeJSON(to: &w)
        w.member("implementation_class_uid", implementationClassUid)
        w.member("implementation_version_name", implementationVersionName)
        w.key("pdu"); w.string(pdu)
        w.member("reject_reason", rejectReason)
        w.member("reject_result", rejectResult)
        w.member("reject_source", rejectSource)
        w.member("user_identity_type", userIdentityType)
        w.endObject()
    }
}

extension HL7MessageObservation {
    func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("connection"); connection.writeJSON(to: &w)
        w.key("device_identifiers")
        w.beginArray()
        for identifier in deviceIdentifiers {
            w.beginObject()
            w.key("field"); w.string(identifier.field)
            w.key("value"); w.string(identifier.value)
            w.endObject()
        }
        w.endArray()
        w.member("message_type", messageType)
        w.member("processing_id", processingId)
        w.member("receiving_application", receivingApplication)
        w.member("receiving_facility", receivingFacility)
        w.member("sending_application", sendingApplication)
        w.member("sending_facility", sendingFacility)
        w.member("version", version)
        w.endObject()
    }
}

extension FlowObservation {
    func writeJSON(to w: inout JSONWriter) {
        Self.writeJSON(
            to: &w, packetsOut: packetsOut, packetsIn: packetsIn, bytesOut: bytesOut, bytesIn: bytesIn,
            firstTime: firstTime, lastTime: lastTime, tcpFlagsOut: tcpFlagsOut, tcpFlagsIn: tcpFlagsIn,
            applicationProtocols: applicationProtocols, endReason: endReason, connection: connection.writeJSON)
    }

    /// Writes a flow observation's payload from its parts; `connection` writes its endpoints.
    @inline(__always)
    public static func writeJSON<Flags: JSONValue, Reason: JSONValue>(
        to w: inout JSONWriter, packetsOut: Int, packetsIn: Int, bytesOut: Int, bytesIn: Int, firstTime: EventTime,
        lastTime: EventTime, tcpFlagsOut: Flags, tcpFlagsIn: Flags, applicationProtocols: [String],
        endReason: Reason, connection: (inout JSONWriter) -> Void
    ) {
        w.beginObject()
        w.key("application_protocols"); w.stringArray(applicationProtocols)
        w.key("bytes_in"); w.int(bytesIn)
        w.key("bytes_out"); w.int(bytesOut)
        w.key("connection"); connection(&w)
        w.key("end_reason"); endReason.writeJSON(to: &w)
        w.key("first_time"); w.time(firstTime)
        w.key("last_time"); w.time(lastTime)
        w.key("packets_in"); w.int(packetsIn)
        w.key("packets_out"); w.int(packetsOut)
        w.key("tcp_flags_in"); tcpFlagsIn.writeJSON(to: &w)
        w.key("tcp_flags_out"); tcpFlagsOut.writeJSON(to: &w)
        w.endObject()
    }
}

extension DHCPv6Observation {
    func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.member("client_duid", clientDuid)
        w.member("client_duid_enterprise_number", clientDuidEnterpriseNumber.map(Int.init))
        w.member("client_duid_type", clientDuidType)
        w.member("client_fqdn", clientFqdn)
        w.member("client_fqdn_flags", clientFqdnFlags)
        w.member("client_link_layer_address", clientLinkLayerAddress)
        w.member("elapsed_time", elapsedTime)
        w.key("from_client"); w.bool(fromClient)
        w.key("message_type"); w.string(messageType)
        w.key("option_codes"); w.intArray(optionCodes)
        if let optionRequestList { w.key("option_request_list"); w.intArray(optionRequestList) }
        w.member("relay_hops", relayHops)
        w.member("relay_link_address", relayLinkAddress)
        w.member("relay_peer_address", relayPeerAddress)
        w.key("transaction_id"); w.uint32(transactionId)
        if let vendorClass {
            w.key("vendor_class")
            w.beginObject()
            w.key("data"); w.stringArray(vendorClass.data)
            w.key("enterprise_number"); w.uint32(vendorClass.enterpriseNumber)
            w.endObject()
        }
        w.endObject()
    }
}

extension NDPObservation {
    func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("dns_servers"); w.stringArray(dnsServers)
        w.key("flags"); w.stringArray(flags)
        w.member("hop_limit", hopLimit)
        w.member("mtu", mtu.map(Int.init))
        w.key("option_types"); w.intArray(optionTypes)
        w.key("prefixes")
        w.beginArray()
        for prefix in prefixes {
            w.beginObject()
            w.key("autonomous"); w.bool(prefix.autonomous)
            w.key("length"); w.int(prefix.length)
            w.key("on_link"); w.bool(prefix.onLink)
            w.key("preferred_lifetime"); w.uint32(prefix.preferredLifetime)
            w.key("prefix"); w.string(prefix.prefix)
            w.key("valid_lifetime"); w.uint32(prefix.validLifetime)
            w.endObject()
        }
        w.endArray()
        w.member("router_lifetime", routerLifetime)
        w.member("source_link_layer_address", sourceLinkLayerAddress)
        w.member("target_address", targetAddress)
        w.member("target_link_layer_address", targetLinkLayerAddress)
        w.key("type"); w.string(type)
        w.endObject()
    }
}
