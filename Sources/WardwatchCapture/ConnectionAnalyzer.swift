import WardwatchDecoders
import WardwatchModel

/// What one TCP connection's first bytes reveal, per direction: the application decoders that identify a device
/// (TLS, DICOM association, HL7 over MLLP) and the TCP timestamp samples for clock-skew estimation.
/// A pure state machine owned by the capture thread.
struct ConnectionAnalyzer {
    enum Application: Equatable {
        case undecided, tls, dicom, hl7, http, done
        /// Client side: the ClientHello is sent. A second one follows when the server answers with a TLS 1.3
        /// HelloRetryRequest (RFC 8446 4.1.4); it has its own JA4. Watched for in the client's own stream (a capture
        /// may hold only the client side) until the plaintext handshake ends or the server's real ServerHello is seen.
        case tlsHelloSent
    }

    /// Client bytes kept at most while watching for a second ClientHello: a change-cipher-spec and the second hello
    /// are all a client may send before the server's answer.
    static let helloRetryWindow = 16384
    /// Bytes of an HTTP head read at most: a head not whole by then is given up.
    static let httpHeadWindow = 16384

    struct Direction {
        var prefix = StreamPrefix(limit: 65536)
        var application = Application.undecided
        /// TCP timestamp samples not yet sent, as flat pairs: packet time µs, TSval.
        var timestamps: [Int64] = []
        /// The sender's MAC address, from its first frame that has one.
        var mac: MACAddress?
        /// `mac` as text, from the capture's shared cache (every observation of the sender shares one string).
        var macText: String?
        /// HL7 and HTTP: bytes of the prefix already searched for the end of a message (an MLLP end block) or head.
        var searched = 0
        /// Packet time (µs) of this direction's last payload.
        var lastPayload: Int64 = 0
        /// TLS: the handshake read so far, kept between segments so each record is read once.
        var tls: TLSReading?

        /// Bytes held for the decoders: the prefix and a TLS message in the making.
        var heldBytes: Int { prefix.heldBytes + (tls?.heldBytes ?? 0) }
    }

    /// One direction's TLS handshake reading, boxed (`indirect`): few directions carry TLS and the flights are large.
    enum TLSReading {
        indirect case client(TLSClientFlight)
        indirect case server(TLSServerFlight)

        var heldBytes: Int {
            switch self {
            case .client(let flight): flight.heldBytes
            case .server(let flight): flight.heldBytes
            }
        }
    }

    /// Direction 0 is the connection's initiator (client), 1 the responder.
    /// (An array: copying the analyzer, as reading it out of the flow table does, then retains one buffer, not every
    /// array and string of both directions.)
    var directions = [Direction(), Direction()]
    /// The initiator's endpoint: packets from it travel in direction 0.
    let client: FlowEndpoint
    let server: FlowEndpoint
    /// The client SYN's MSS, which p0f needs to sign the SYN+ACK.
    var synMSS: UInt16 = 0

    static let timestampBatch = 64
    /// The SYN sender's role, as JSON.
    static let roles = (client: EncodedJSON("client"), server: EncodedJSON("server"))

    init(client: FlowEndpoint, server: FlowEndpoint) {
        self.client = client
        self.server = server
    }

    /// What every observation of one packet shares (the sensor is passed along, not copied).
    struct PacketContext {
        var vlan: UInt16?
        var time: EventTime
    }

    /// Analyses one segment of this connection in place: the SYN signature, a timestamp sample, and the payload's
    /// application decoders. Appends what they yield; returns the application protocol recognised, if any.
    mutating func segment(
        _ tcp: TCPSegment, from source: FlowEndpoint, mac: MACAddress?, ipFacts: P0fIPFacts?, sensor: SensorIdentity,
        context: PacketContext, caches: inout AnalyzerCaches, into output: inout ObservationBatch
    ) -> String? {
        let d = direction(from: source)
        if directions[d].mac == nil, let mac {
            directions[d].mac = mac
            directions[d].macText = caches.macTexts.text(mac)
        }
        if tcp.flags.contains(.syn) {
            directions[d].prefix.start(synSequence: tcp.sequenceNumber)
            if let facts = ipFacts, let signature = P0fSignature(ip: facts, tcp: tcp, peerSYNMSS: synMSS) {
                if signature.kind == .syn { synMSS = signature.mss }
                let texts = caches.signatures.texts(signature)
                appendObservation(.tcpSyn, d, sensor: sensor, context: context, into: &output) { w, connection in
                    TCPSynObservation.writeJSON(
                        to: &w, role: signature.kind == .syn ? Self.roles.client : Self.roles.server, signature: texts.signature,
                        ttl: Int(signature.ttl), window: Int(signature.window), mss: tcp.maximumSegmentSize.map(Int.init),
                        windowScale: tcp.windowScale.map(Int.init), options: texts.options, quirks: texts.quirks,
                        connection: connection)
                }
            }
        }
        if let ts = tcp.timestamps {
            // Room for eight samples at first (most connections send fewer); a long one grows to a batch's worth.
            if directions[d].timestamps.capacity == 0 { directions[d].timestamps.reserveCapacity(16) }
            directions[d].timestamps.append(context.time.microseconds)
            directions[d].timestamps.append(Int64(ts.value))
            if directions[d].timestamps.count >= 2 * Self.timestampBatch {
                flushTimestamps(d, sensor: sensor, context: context, into: &output)
            }
        }
        return payload(tcp, direction: d, sensor: sensor, context: context, caches: &caches, into: &output)
    }

    /// Whether `segment` may change `heldBytes`: only a payload for a direction whose decoders are not done does
    /// (`payload` returns at once for the others).
    func mayHoldMore(_ tcp: TCPSegment, from source: FlowEndpoint) -> Bool {
        !tcp.payload.isEmpty && directions[direction(from: source)].application != .done
    }

    /// The direction a segment from `source` travels in: 0 from the client, 1 from the server.
    func direction(from source: FlowEndpoint) -> Int { source == client ? 0 : 1 }

    /// Bytes both directions hold for the decoders: prefixes and TLS messages in the making (see `StreamBudget`).
    var heldBytes: Int { directions[0].heldBytes + directions[1].heldBytes }

    /// Gives up each direction that holds bytes but has sent no payload since `before` (packet time, µs); returns how
    /// many it gave up.
    mutating func giveUpStalled(before: Int64) -> Int {
        var given = 0
        for d in 0..<2 where directions[d].application != .done && directions[d].heldBytes > 0
            && directions[d].lastPayload < before
        {
            finish(d)
            given += 1
        }
        return given
    }

    /// This direction's endpoints, the device's (the sender's) side local: made each time (only the rare observations
    /// written from values need them; the others write the endpoints straight from their bits).
    func endpoints(_ d: Int) -> ConnectionEndpoints {
        let (local, remote) = d == 0 ? (client, server) : (server, client)
        return ConnectionEndpoints(
            transport: "tcp", localIp: local.address.description, localPort: Int(local.port),
            remoteIp: remote.address.description, remotePort: Int(remote.port))
    }

    /// Appends an observation of direction `d`'s sender written straight from the connection (no `Observation`
    /// value, no address texts): the same bytes `base(_:sensor:context:)` with that payload would give.
    /// `payload` writes the payload object; the function it is given writes the connection's endpoints.
    func appendObservation(
        _ kind: Observation.Kind, _ d: Int, sensor: SensorIdentity, context: PacketContext,
        into output: inout ObservationBatch, payload: (inout JSONWriter, (inout JSONWriter) -> Void) -> Void
    ) {
        let (local, remote) = d == 0 ? (client, server) : (server, client)
        func connection(_ w: inout JSONWriter) {
            ConnectionEndpoints.writeJSON(to: &w, transport: ObservationExtractor.transports.tcp, local: local, remote: remote)
        }
        output.append(
            kind, mac: directions[d].mac, ip: local.address, vlan: context.vlan, time: context.time, sensor: sensor
        ) { payload(&$0, connection) }
    }

    /// An observation carrying the identity of one side (kind and payload are set by the caller): keyed by its MAC
    /// address, or by its IP address where the link has none.
    mutating func base(_ d: Int, sensor: SensorIdentity, context: PacketContext) -> Observation {
        let localIp = endpoints(d).localIp
        let mac = directions[d].macText
        return Observation(
            kind: .flow, deviceKey: mac ?? localIp, time: context.time, sensorId: sensor.sensorId, site: sensor.site,
            vlan: context.vlan.map(Int.init), source: .init(mac: mac, ip: localIp))
    }

    /// Feeds a segment's payload; appends what the decoders recognised and returns its protocol name.
    mutating func payload(
        _ segment: TCPSegment, direction d: Int, sensor: SensorIdentity, context: PacketContext,
        caches: inout AnalyzerCaches, into output: inout ObservationBatch
    ) -> String? {
        guard directions[d].application != .done, !segment.payload.isEmpty else { return nil }
        directions[d].lastPayload = context.time.microseconds
        if caches.streams.isSpent {
            finish(d)
            caches.streams.cut += 1
            return nil
        }
        // A segment that starts the stream is decoded where it lies: most directions need no more (an HTTP head, a
        // DICOM or HL7 message, a protocol the classifier gives up on), so their bytes are never copied. The prefix
        // keeps them only when the decoders want more.
        if let first = directions[d].prefix.takeFirst(sequence: segment.sequenceNumber, payload: segment.payload) {
            let application = decodePrefix(first, d, sensor: sensor, context: context, caches: &caches, into: &output)
            directions[d].prefix.keep(first)
            return application
        }
        guard directions[d].prefix.add(sequence: segment.sequenceNumber, payload: segment.payload) else { return nil }
        let bytes = directions[d].prefix.bytes
        return bytes.withUnsafeBytes { decodePrefix($0, d, sensor: sensor, context: context, caches: &caches, into: &output) }
    }

    /// Runs direction `d`'s decoders over `buffer`, the direction's stream from its first byte so far; appends what
    /// they recognised and returns its protocol name.
    private mutating func decodePrefix(
        _ buffer: UnsafeRawBufferPointer, _ d: Int, sensor: SensorIdentity, context: PacketContext,
        caches: inout AnalyzerCaches, into output: inout ObservationBatch
    ) -> String? {
        if directions[d].application == .undecided {
            directions[d].application = Self.classify(buffer, fromClient: d == 0)
            if directions[d].application == .done { directions[d].prefix.finish() }
        }
        switch directions[d].application {
        case .tls where d == 0, .tlsHelloSent:
            return clientHandshake(buffer, d, sensor: sensor, context: context, ja4: &caches.ja4, into: &output)
        case .tls:
            var flight: TLSServerFlight
            if case .server(let sofar) = directions[d].tls { flight = sofar } else { flight = TLSServerFlight() }
            directions[d].tls = nil  // the flight's buffers are then its own, and grow in place
            flight.advance(buffer)
            directions[d].tls = .server(flight)
            // A ServerHello that is not a HelloRetryRequest: the client sends no second hello.
            if directions[0].application == .tlsHelloSent, flight.serverHello != nil { finish(0) }
            if flight.isComplete || directions[d].prefix.isFinished {
                if let chain = flight.certificate?.certificates, let leaf = chain.first,
                    let certificate = caches.certificates.summary(der: leaf, endpoints: endpoints(d))
                {
                    var observation = base(d, sensor: sensor, context: context)
                    observation.kind = .tlsCertificate
                    observation.tlsCertificate = certificate
                    output.append(observation)
                }
                finish(d)
            }
        case .dicom:
            // The PDU says its length: it is decoded once it is all here (or the prefix is full), not again at
            // every segment. Same observations: a part is only ever reported once the prefix is full, and a part
            // that fails would fail whole too (it is now held until then, within the stream budget).
            if let length = buffer.readUInt32(at: 2), buffer.count < 6 + Int(length), !directions[d].prefix.isFinished {
                return nil
            }
            if case .success(let pdu) = DICOMUpperLayer.decode(buffer) {
                let complete: Bool
                switch pdu {
                case .associateRequest(let n), .associateAccept(let n): complete = n.isComplete
                case .associateReject: complete = true
                }
                if complete || directions[d].prefix.isFinished {
                    let association = Self.dicom(pdu, endpoints(d))
                    reportAndFinish(d, sensor: sensor, context: context, into: &output) {
                        $0.kind = .dicomAssociation
                        $0.dicomAssociation = association
                    }
                    return "dicom"
                }
            } else {
                finish(d)
            }
        case .hl7:
            // Until an end block comes (or the prefix is full) a decode can only find the same cut message again:
            // only the new bytes are looked at, so a long message costs its length once, not once per segment
            // (decoding it whole at every segment made 5,000 connections of unended 64 KiB messages cost 20 s).
            let searched = directions[d].searched
            directions[d].searched = buffer.count
            guard directions[d].prefix.isFinished || buffer.index(of: MLLP.endBlock, from: searched) < buffer.count else {
                return nil
            }
            let messages = HL7Message.decodeAll(buffer)
            if let first = messages.first, first.isComplete || directions[d].prefix.isFinished {
                let message = Self.hl7(first, endpoints(d))
                reportAndFinish(d, sensor: sensor, context: context, into: &output) {
                    $0.kind = .hl7Message
                    $0.hl7Message = message
                }
                return "hl7"
            } else if messages.isEmpty && directions[d].prefix.isFinished {
                finish(d)
            }
        case .http:
            // As for HL7: decoded again only when a line that may end the head has arrived (a head sent a byte a
            // segment cost 130 ms of CPU a connection when decoded at every segment), or when the prefix is full.
            let searched = directions[d].searched
            directions[d].searched = buffer.count
            if !directions[d].prefix.isFinished && !HTTPHead.mayEndHead(buffer, from: searched) {
                if buffer.count >= Self.httpHeadWindow { finish(d) }
                return nil
            }
            if let head = HTTPHeadFields.decode(buffer), head.isComplete || directions[d].prefix.isFinished {
                appendObservation(.http, d, sensor: sensor, context: context, into: &output) { w, connection in
                    DiscoveryObservations.writeHTTP(head, to: &w, connection: connection)
                }
                finish(d)
                return "http"
            } else if buffer.count >= Self.httpHeadWindow {
                finish(d)
            }
        case .undecided, .done:
            break
        }
        return nil
    }

    /// The client's side of a TLS handshake: its ClientHello, then a second one should the server answer with a
    /// HelloRetryRequest. Reports "tls" on the segment that completes the first hello. Both hellos may complete in one
    /// segment (a gap in the stream filled late): both are reported then.
    mutating func clientHandshake(
        _ buffer: UnsafeRawBufferPointer, _ d: Int, sensor: SensorIdentity, context: PacketContext, ja4: inout JA4Cache,
        into output: inout ObservationBatch
    ) -> String? {
        var flight: TLSClientFlight
        if case .client(let sofar) = directions[d].tls { flight = sofar } else { flight = TLSClientFlight() }
        directions[d].tls = nil  // the flight's buffers are then its own, and grow in place
        let hadHello = flight.hello != nil
        flight.advance(buffer)
        directions[d].tls = .client(flight)
        var recognised: String?
        if !hadHello {
            guard let hello = flight.hello else {
                if flight.isComplete || directions[d].prefix.isFinished { finish(d) }
                return nil
            }
            observeClientHello(hello, d, sensor: sensor, context: context, ja4: &ja4, into: &output)
            recognised = "tls"
            if directions[1].application == .done || directions[d].prefix.isFinished {
                finish(d)
                return recognised
            }
            directions[d].application = .tlsHelloSent
        }
        if let second = flight.secondHello {
            observeClientHello(second, d, sensor: sensor, context: context, ja4: &ja4, into: &output)
            finish(d)
        } else if flight.isComplete || directions[d].prefix.isFinished || buffer.count >= Self.helloRetryWindow {
            finish(d)
        }
        return recognised
    }

    /// Appends a `tls_client_hello` observation of a hello direction `d` sent, written from the hello.
    mutating func observeClientHello(
        _ hello: TLSClientHello, _ d: Int, sensor: SensorIdentity, context: PacketContext, ja4: inout JA4Cache,
        into output: inout ObservationBatch
    ) {
        let extensionTypes = hello.extensionTypes
        let fingerprint = ja4.fingerprint(hello, extensionTypes: extensionTypes)
        appendObservation(.tlsClientHello, d, sensor: sensor, context: context, into: &output) { w, connection in
            TLSClientHelloObservation.writeJSON(
                to: &w, alpn: hello.alpnProtocolNames, cipherSuites: hello.cipherSuites, extensions: extensionTypes,
                ja4: fingerprint, serverName: SchemaFields.serverName(hello.serverName),
                signatureAlgorithms: hello.signatureAlgorithms, supportedVersions: hello.supportedVersions,
                connection: connection)
        }
    }

    /// Appends an observation of direction `d`'s sender written from values (`fill` sets its kind and payload), and
    /// stops reading that direction.
    private mutating func reportAndFinish(
        _ d: Int, sensor: SensorIdentity, context: PacketContext, into output: inout ObservationBatch,
        _ fill: (inout Observation) -> Void
    ) {
        var observation = base(d, sensor: sensor, context: context)
        fill(&observation)
        output.append(observation)
        finish(d)
    }

    mutating func finish(_ d: Int) {
        directions[d].application = .done
        directions[d].prefix.finish()
        directions[d].tls = nil
    }

    /// Emits the samples held for a direction (at least two make a slope).
    mutating func flushTimestamps(_ d: Int, sensor: SensorIdentity, context: PacketContext, into output: inout ObservationBatch) {
        defer { directions[d].timestamps.removeAll(keepingCapacity: true) }
        let flat = directions[d].timestamps
        guard flat.count >= 4 else { return }
        appendObservation(.tcpTimestamps, d, sensor: sensor, context: context, into: &output) { w, connection in
            TCPTimestampsObservation.writeJSON(
                to: &w, sampleCount: flat.count / 2, sample: { (flat[2 * $0], flat[2 * $0 + 1]) }, connection: connection)
        }
    }

    static func classify(_ buffer: UnsafeRawBufferPointer, fromClient: Bool) -> Application {
        guard let first = buffer.readUInt8(at: 0) else { return .undecided }
        if first == 0x16, buffer.readUInt8(at: 1) == 3 { return .tls }
        if first == 0x0B {
            if buffer.count < 4 { return .undecided }
            return HL7Message.detect(buffer) ? .hl7 : .done
        }
        if HTTPHead.mayStartHead(buffer) { return .http }
        if first <= 0x03 {
            if buffer.count < 74 { return .undecided }
            return DICOMUpperLayer.detect(buffer) ? .dicom : .done
        }
        return .done
    }

    static func dicom(_ pdu: DICOMUpperLayer.PDU, _ endpoints: ConnectionEndpoints) -> DICOMAssociationObservation {
        switch pdu {
        case .associateRequest(let n), .associateAccept(let n):
            let isRequest = if case .associateRequest = pdu { true } else { false }
            return DICOMAssociationObservation(
                connection: endpoints, pdu: isRequest ? "A-ASSOCIATE-RQ" : "A-ASSOCIATE-AC",
                calledAeTitle: SchemaFields.dicomShortText(n.calledAETitle),
                callingAeTitle: SchemaFields.dicomShortText(n.callingAETitle),
                applicationContext: SchemaFields.dicomUID(n.applicationContextName),
                abstractSyntaxes: isRequest ? n.abstractSyntaxes.compactMap(SchemaFields.dicomUID) : [],
                implementationClassUid: SchemaFields.dicomUID(n.userInformation?.implementationClassUID),
                implementationVersionName: SchemaFields.dicomShortText(n.userInformation?.implementationVersionName),
                userIdentityType: n.userInformation?.userIdentityType.map(Int.init))
        case .associateReject(let r):
            return DICOMAssociationObservation(
                connection: endpoints, pdu: "A-ASSOCIATE-RJ", calledAeTitle: nil, callingAeTitle: nil,
                applicationContext: nil, abstractSyntaxes: [], implementationClassUid: nil,
                implementationVersionName: nil, userIdentityType: nil, rejectResult: Int(r.result),
                rejectSource: Int(r.source), rejectReason: Int(r.reason))
        }
    }

    static func hl7(_ message: HL7Message, _ endpoints: ConnectionEndpoints) -> HL7MessageObservation {
        return HL7MessageObservation(
            connection: endpoints, sendingApplication: DiscoveryObservations.nonEmpty(message.sendingApplication),
            sendingFacility: DiscoveryObservations.nonEmpty(message.sendingFacility), receivingApplication: DiscoveryObservations.nonEmpty(message.receivingApplication),
            receivingFacility: DiscoveryObservations.nonEmpty(message.receivingFacility), messageType: DiscoveryObservations.nonEmpty(message.messageType),
            processingId: DiscoveryObservations.nonEmpty(message.processingID), version: DiscoveryObservations.nonEmpty(message.versionID),
            deviceIdentifiers: message.deviceIdentifiers.map {
                HL7MessageObservation.DeviceIdentifier(field: $0.field.rawValue, value: $0.value)
            })
    }
}
