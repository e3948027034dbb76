import WardwatchDecoders
import WardwatchModel

/// What one TCP connection's first bytes reveal, per direction: the application decoders that identify a device
/// (TLS, DICOM association, HL7 over MLLP) and the TCP timestamp samples for clock-skew estimation.
/// A pure state machine owned by the capture thread.
struct ConnectionAnalyzer {
    enum Application: Equatable {
        case undecided, tls, dicom, hl7, http, done
    }

    struct Direction {
        var prefix = StreamPrefix(limit: 65536)
        var application = Application.undecided
        var timestamps: [[Int64]] = []
        var mac: MACAddress?
        var deviceKey: String = ""
        var endpoints: ConnectionEndpoints?
    }

    /// Direction 0 is the connection's initiator (client), 1 the responder.
    var directions = [Direction(), Direction()]
    /// The initiator's endpoint: packets from it travel in direction 0.
    var client: FlowEndpoint?
    /// The client SYN's MSS, which p0f needs to sign the SYN+ACK.
    var synMSS: UInt16 = 0

    static let timestampBatch = 64

    /// Feeds a segment's payload; appends what the decoders recognised.
    mutating func payload(
        _ segment: TCPSegment, direction d: Int, time: EventTime, base: () -> Observation, tag: (String) -> Void,
        into output: inout [Observation]
    ) {
        guard directions[d].application != .done, !segment.payload.isEmpty else { return }
        guard directions[d].prefix.add(sequence: segment.sequenceNumber, payload: segment.payload) else { return }
        let bytes = directions[d].prefix.bytes
        bytes.withUnsafeBytes { buffer in
            if directions[d].application == .undecided {
                directions[d].application = Self.classify(buffer, fromClient: d == 0)
                if directions[d].application == .done { directions[d].prefix.finish() }
            }
            let endpoints = directions[d].endpoints!
            switch directions[d].application {
            case .tls where d == 0:
                switch TLSClientHello.find(inStream: buffer) {
                case .found(let hello):
                    tag("tls")
                    var observation = base()
                    observation.kind = .tlsClientHello
                    observation.tlsClientHello = Self.clientHello(hello, endpoints)
                    output.append(observation)
                    finish(d)
                case .failed: finish(d)
                case .needMoreData: if directions[d].prefix.isFinished { finish(d) }
                }
            case .tls:
                let flight = TLSServerFlight.scan(buffer)
                if flight.isComplete || directions[d].prefix.isFinished {
                    if let certificates = flight.certificate?.certificates, let leaf = certificates.first,
                        let certificate = CertificateSummary.summarise(der: leaf, endpoints: endpoints)
                    {
                        var observation = base()
                        observation.kind = .tlsCertificate
                        observation.tlsCertificate = certificate
                        output.append(observation)
                    }
                    finish(d)
                }
            case .dicom:
                if case .success(let pdu) = DICOMUpperLayer.decode(buffer) {
                    let complete: Bool
                    switch pdu {
                    case .associateRequest(let n), .associateAccept(let n): complete = n.isComplete
                    case .associateReject: complete = true
                    }
                    if complete || directions[d].prefix.isFinished {
                        tag("dicom")
                        var observation = base()
                        observation.kind = .dicomAssociation
                        observation.dicomAssociation = Self.dicom(pdu, endpoints)
                        output.append(observation)
                        finish(d)
                    }
                } else {
                    finish(d)
                }
            case .hl7:
                let messages = HL7Message.decodeAll(buffer)
                if let first = messages.first, first.isComplete || directions[d].prefix.isFinished {
                    tag("hl7")
                    var observation = base()
                    observation.kind = .hl7Message
                    observation.hl7Message = Self.hl7(first, endpoints)
                    output.append(observation)
                    finish(d)
                } else if messages.isEmpty && directions[d].prefix.isFinished {
                    finish(d)
                }
            case .http:
                if let head = HTTPHead.decode(buffer), head.isComplete || directions[d].prefix.isFinished {
                    tag("http")
                    var observation = base()
                    observation.kind = .http
                    observation.http = DiscoveryObservations.http(head, endpoints)
                    output.append(observation)
                    finish(d)
                } else if buffer.count >= 16384 {
                    finish(d)
                }
            case .undecided, .done:
                break
            }
        }
    }

    mutating func finish(_ d: Int) {
        directions[d].application = .done
        directions[d].prefix.finish()
    }

    /// Keeps a TCP timestamp sample; appends a batch observation every `timestampBatch` samples.
    mutating func timestamp(
        _ sample: TCPTimestampSample, direction d: Int, base: () -> Observation, into output: inout [Observation]
    ) {
        directions[d].timestamps.append([sample.timeMicroseconds, Int64(sample.value)])
        if directions[d].timestamps.count >= Self.timestampBatch { flushTimestamps(d, base: base(), into: &output) }
    }

    /// Emits the samples held for a direction (at least two make a slope).
    mutating func flushTimestamps(_ d: Int, base: Observation, into output: inout [Observation]) {
        defer { directions[d].timestamps.removeAll(keepingCapacity: true) }
        guard directions[d].timestamps.count >= 2, let endpoints = directions[d].endpoints else { return }
        var observation = base
        observation.kind = .tcpTimestamps
        observation.tcpTimestamps = TCPTimestampsObservation(connection: endpoints, samples: directions[d].timestamps)
        output.append(observation)
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

    static func clientHello(_ hello: TLSClientHello, _ endpoints: ConnectionEndpoints) -> TLSClientHelloObservation {
        TLSClientHelloObservation(
            connection: endpoints, ja4: JA4.fingerprint(of: hello), serverName: hello.serverName.flatMap { $0.isEmpty ? nil : $0 },
            alpn: hello.alpnProtocolNames, supportedVersions: hello.supportedVersions.map(Int.init),
            cipherSuites: hello.cipherSuites.map(Int.init), extensions: hello.extensionTypes.map(Int.init),
            signatureAlgorithms: hello.signatureAlgorithms.map(Int.init))
    }

    static func dicom(_ pdu: DICOMUpperLayer.PDU, _ endpoints: ConnectionEndpoints) -> DICOMAssociationObservation {
        switch pdu {
        case .associateRequest(let n), .associateAccept(let n):
            let isRequest = if case .associateRequest = pdu { true } else { false }
            return DICOMAssociationObservation(
                connection: endpoints, pdu: isRequest ? "A-ASSOCIATE-RQ" : "A-ASSOCIATE-AC",
                calledAeTitle: DiscoveryObservations.nonEmpty(n.calledAETitle), callingAeTitle: DiscoveryObservations.nonEmpty(n.callingAETitle),
                applicationContext: DiscoveryObservations.nonEmpty(n.applicationContextName),
                abstractSyntaxes: isRequest ? n.abstractSyntaxes : [],
                implementationClassUid: DiscoveryObservations.nonEmpty(n.userInformation?.implementationClassUID),
                implementationVersionName: DiscoveryObservations.nonEmpty(n.userInformation?.implementationVersionName),
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
