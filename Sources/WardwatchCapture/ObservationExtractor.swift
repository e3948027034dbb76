import WardwatchDecoders
import WardwatchModel

/// Counts of what the extractor saw; malformed packets are counted by reason and skipped, never fatal.
public struct CaptureCounters: Sendable, Equatable {
    public var packets = 0
    public var bytes = 0
    public var observations = 0
    /// Packets of no interest to any decoder (not an error).
    public var ignored = 0
    /// Packets cut short by the capture's snap length before a decoder could finish.
    public var snapTruncated = 0
    public var malformedByReason: [String: Int] = [:]

    public var malformed: Int { malformedByReason.values.reduce(0, +) }

    mutating func malformed(_ reason: String) { malformedByReason[reason, default: 0] += 1 }
}

/// Identifies the sensor in every observation.
public struct SensorIdentity: Sendable, Equatable {
    public var sensorId: String
    public var site: String
    public init(sensorId: String, site: String) {
        self.sensorId = sensorId
        self.site = site
    }
}

/// Turns captured frames into observations. A pure state machine over bytes: no I/O, no clock but the packet's.
public struct ObservationExtractor: Sendable {
    public let sensor: SensorIdentity
    public private(set) var counters = CaptureCounters()

    public init(sensor: SensorIdentity) { self.sensor = sensor }

    /// Decodes one frame and appends the observations it yields. `originalLength` is the length on the wire
    /// (larger than `bytes.count` when the snap length cut the frame).
    public mutating func extract(
        _ bytes: UnsafeRawBufferPointer, originalLength: Int, linkType: LinkType, time: EventTime,
        into output: inout [Observation]
    ) {
        counters.packets += 1
        counters.bytes += originalLength
        let cut = originalLength > bytes.count
        guard let frame = LinkDecoder.decode(bytes, linkType: linkType) else {
            cut ? (counters.snapTruncated += 1) : counters.malformed("link-header")
            return
        }
        let before = output.count
        switch frame.etherType {
        case EtherType.arp:
            extractARP(frame, time: time, cut: cut, into: &output)
        case EtherType.ipv4:
            extractIPv4(frame, time: time, cut: cut, into: &output)
        default:
            counters.ignored += 1
        }
        counters.observations += output.count - before
    }

    private mutating func extractARP(_ frame: LinkFrame, time: EventTime, cut: Bool, into output: inout [Observation]) {
        guard let arp = ARPMessage.decode(frame.payload) else {
            if frame.payload.readUInt16(at: 0) == 1 && frame.payload.readUInt16(at: 2) == EtherType.ipv4 {
                cut ? (counters.snapTruncated += 1) : counters.malformed("arp")
            } else {
                counters.ignored += 1
            }
            return
        }
        guard !arp.senderMAC.isZero, !arp.senderMAC.isMulticast else {
            counters.malformed("arp-sender-address")
            return
        }
        let operation = switch arp.operation {
        case 1: "request"
        case 2: "reply"
        default: "op-\(arp.operation)"
        }
        output.append(
            Observation(
                kind: .arp, deviceKey: arp.senderMAC.description, time: time, sensorId: sensor.sensorId,
                site: sensor.site, vlan: frame.innermostVLAN.map(Int.init),
                source: .init(mac: (frame.source ?? arp.senderMAC).description, ip: nil),
                arp: ARPObservation(
                    operation: operation, senderMac: arp.senderMAC.description, senderIp: arp.senderIP.description,
                    targetMac: arp.targetMAC.description, targetIp: arp.targetIP.description,
                    gratuitous: arp.isGratuitous)))
    }

    private mutating func extractIPv4(_ frame: LinkFrame, time: EventTime, cut: Bool, into output: inout [Observation]) {
        let ip: IPv4Packet
        switch IPv4Packet.decode(frame.payload) {
        case .success(let packet): ip = packet
        case .failure(.notIPv4): counters.malformed("ipv4-version"); return
        case .failure(let error):
            cut ? (counters.snapTruncated += 1) : counters.malformed("ipv4-\(error)")
            return
        }
        guard ip.protocolNumber == 17, !ip.isLaterFragment else {
            counters.ignored += 1
            return
        }
        let udp: UDPDatagram
        switch UDPDatagram.decode(ip.payload) {
        case .success(let datagram): udp = datagram
        case .failure(let error):
            cut || ip.moreFragments ? (counters.snapTruncated += 1) : counters.malformed("udp-\(error)")
            return
        }
        let ports = (udp.sourcePort, udp.destinationPort)
        if ports == (DHCPv4Message.clientPort, DHCPv4Message.serverPort)
            || ports == (DHCPv4Message.serverPort, DHCPv4Message.clientPort)
            || ports == (DHCPv4Message.serverPort, DHCPv4Message.serverPort)
        {
            extractDHCP(udp.payload, frame: frame, ip: ip, time: time, cut: cut, into: &output)
        } else {
            counters.ignored += 1
        }
    }

    private mutating func extractDHCP(
        _ payload: UnsafeRawBufferPointer, frame: LinkFrame, ip: IPv4Packet, time: EventTime, cut: Bool,
        into output: inout [Observation]
    ) {
        let message: DHCPv4Message
        switch DHCPv4Message.decode(payload) {
        case .success(let m): message = m
        case .failure(let error):
            cut ? (counters.snapTruncated += 1) : counters.malformed("dhcp-\(error)")
            return
        }
        guard let client = message.clientMAC, !client.isZero, !client.isMulticast else {
            counters.malformed("dhcp-client-address")
            return
        }
        func nonzero(_ a: IPv4Address) -> String? { a.isUnspecified ? nil : a.description }
        let dhcp = DHCPObservation(
            op: message.op == 1 ? "request" : "reply",
            messageType: message.messageType.map(DHCPv4Message.messageTypeName) ?? "bootp",
            transactionId: message.transactionID, clientMac: client.description,
            clientIp: nonzero(message.clientIP), yourIp: nonzero(message.yourIP), serverIp: nonzero(message.serverIP),
            relayIp: nonzero(message.relayIP), requestedIp: message.requestedIP.flatMap(nonzero),
            serverIdentifier: message.serverIdentifier.flatMap(nonzero), hostname: message.hostname,
            vendorClass: message.vendorClass, clientId: message.clientIdentifier.map(hexString),
            maxMessageSize: message.maximumMessageSize.map(Int.init),
            parameterRequestList: message.parameterRequestList.map { $0.map(Int.init) },
            optionCodes: message.options.map { Int($0.code) })
        output.append(
            Observation(
                kind: .dhcp, deviceKey: client.description, time: time, sensorId: sensor.sensorId, site: sensor.site,
                vlan: frame.innermostVLAN.map(Int.init),
                source: .init(mac: (frame.source ?? client).description, ip: nonzero(ip.source)), dhcp: dhcp))
    }
}
