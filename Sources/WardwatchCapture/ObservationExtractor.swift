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
    /// TCP connections not analysed because the connection table was full (their flows are still counted).
    public var unanalysedConnections = 0
    /// Connection directions whose analysis was given up because the prefixes held their byte limit.
    public var streamsCut = 0
    /// Flows reported early because the flow table was full.
    public var flowsEvicted = 0
    /// Announcements (ARP, DHCP, DHCPv6, NDP, LLDP, CDP, mDNS, SSDP, WS-Discovery) not emitted: unchanged within the refresh interval.
    public var repeatedAnnouncements = 0
    public var malformedByReason: [String: Int] = [:]

    public var malformed: Int { malformedByReason.values.reduce(0, +) }

    mutating func malformed(_ reason: String) { malformedByReason[reason, default: 0] += 1 }
}

/// Identifies the sensor in every observation.
public struct SensorIdentity: Sendable, Equatable {
    public let sensorId: String
    public let site: String
    /// Both as JSON strings, encoded once for every observation the capture writes.
    let sensorIdJSON: EncodedJSON
    let siteJSON: EncodedJSON

    public init(sensorId: String, site: String) {
        self.sensorId = sensorId
        self.site = site
        sensorIdJSON = EncodedJSON(sensorId)
        siteJSON = EncodedJSON(site)
    }
}

/// Turns captured frames into observations. A pure state machine over bytes: no I/O, no clock but the packet's.
/// Layered like Zeek's analyzers: link, network (IPv4, IPv6), transport (UDP, TCP with its flow table), application.
public struct ObservationExtractor: Sendable {
    public let sensor: SensorIdentity
    /// What the extractor counts itself; `counters` adds what the flow table and the stream budget count.
    private var counted = CaptureCounters()
    public private(set) var flows: FlowTable
    private var caches = AnalyzerCaches()
    /// The flow reports of one packet, kept empty between packets for their memory.
    private var reportedScratch: [FlowTable.Reported] = []
    private var announcements: AnnouncementFilter
    /// Connections analysed at most (their first bytes are buffered); beyond it new ones are not analysed (counted).
    public let connectionCapacity: Int

    /// `announcementRefresh`: microseconds of packet time after which an unchanged announcement is emitted again
    /// (0 emits every one); see `AnnouncementFilter`.
    public init(
        sensor: SensorIdentity, flowConfiguration: FlowTable.Configuration = .init(), connectionCapacity: Int = 20_000,
        announcementRefresh: Int64 = ObservationExtractor.defaultAnnouncementRefresh,
        streamByteLimit: Int = ObservationExtractor.defaultStreamByteLimit
    ) {
        self.sensor = sensor
        self.caches.streams = StreamBudget(limit: streamByteLimit)
        self.flows = FlowTable(configuration: flowConfiguration)
        self.connectionCapacity = connectionCapacity
        self.announcements = AnnouncementFilter(refreshInterval: announcementRefresh)
    }

    /// What the extractor saw so far, flow evictions and cut streams included.
    public var counters: CaptureCounters {
        var all = counted
        all.flowsEvicted = flows.evictions
        all.streamsCut = caches.streams.cut
        return all
    }

    /// Five minutes.
    public static let defaultAnnouncementRefresh: Int64 = 300_000_000

    /// Bytes analysed connections hold at most together for the decoders (see `StreamBudget`): 64 MiB.
    public static let defaultStreamByteLimit = StreamBudget.defaultLimit

    /// Bytes the analysed connections hold now for the decoders (at most about `streamByteLimit`).
    public var heldStreamBytes: Int { caches.streams.held }

    /// Appends an announcement unless it repeats one emitted within the refresh interval.
    private mutating func announce(
        _ observation: consuming Observation, rawKey: AnnouncementFilter.RawKey?, time: EventTime,
        into output: inout ObservationBatch
    ) {
        if announcements.admit(observation, rawKey: rawKey, at: time) {
            output.append(observation)
        } else {
            counted.repeatedAnnouncements += 1
        }
    }

    /// `announce` for an announcement written straight to JSON by `payload`: written, then taken back out when the
    /// filter finds its content was emitted within the interval. A discarding batch (decoding alone) writes nothing,
    /// so the payload is written aside for the filter.
    private mutating func announceInPlace(
        _ kind: Observation.Kind, mac: MACAddress?, ip: FlowAddress, vlan: UInt16?, time: EventTime,
        rawKey: AnnouncementFilter.RawKey?, into output: inout ObservationBatch, payload: (inout JSONWriter) -> Void
    ) {
        var payloadJSON = 0..<0
        output.append(kind, mac: mac, ip: ip, vlan: vlan, time: time, sensor: sensor) { w in
            let start = w.count
            payload(&w)
            payloadJSON = start..<w.count
        }
        guard announcements.isEnabled else { return }
        let content: Int
        if output.isDiscarding {
            var aside = JSONWriter()
            payload(&aside)
            content = aside.withBytes { announcements.content(kind, mac: mac, address: ip, vlan: vlan, payloadJSON: $0) }
        } else {
            content = output.withLines {
                announcements.content(kind, mac: mac, address: ip, vlan: vlan, payloadJSON: UnsafeRawBufferPointer(rebasing: $0[payloadJSON]))
            }
        }
        if !announcements.admit(content: content, rawKey: rawKey, at: time) {
            output.removeLast()
            counted.repeatedAnnouncements += 1
        }
    }

    /// The raw key of an announcement packet; counts and returns nil for `repeated` when its bytes were just reported.
    private mutating func announcementKey(
        _ kind: Observation.Kind, mac: MACAddress?, address: FlowAddress? = nil, vlan: UInt16?, payload: UnsafeRawBufferPointer,
        time: EventTime
    ) -> (key: AnnouncementFilter.RawKey?, repeated: Bool) {
        let key = announcements.rawKey(kind, mac: mac, address: address, vlan: vlan, payload: payload)
        if announcements.isRepeat(key, at: time) {
            counted.repeatedAnnouncements += 1
            return (nil, true)
        }
        return (key, false)
    }

    /// Decodes one frame and appends the observations it yields. `originalLength` is the length on the wire
    /// (larger than `bytes.count` when the snap length cut the frame).
    public mutating func extract(
        _ bytes: UnsafeRawBufferPointer, originalLength: Int, linkType: LinkType, time: EventTime,
        into output: inout ObservationBatch
    ) {
        counted.packets += 1
        counted.bytes += originalLength
        let cut = originalLength > bytes.count
        guard let frame = LinkDecoder.decode(bytes, linkType: linkType) else {
            cut ? (counted.snapTruncated += 1) : counted.malformed("link-header")
            return
        }
        let before = output.count
        switch frame.etherType {
        case EtherType.arp:
            extractARP(frame, time: time, cut: cut, into: &output)
        case EtherType.ipv4:
            extractIPv4(frame, wireLength: originalLength, time: time, cut: cut, into: &output)
        case EtherType.ipv6:
            extractIPv6(frame, wireLength: originalLength, time: time, cut: cut, into: &output)
        case LLDPDU.etherType:
            extractLLDP(frame, time: time, cut: cut, into: &output)
        case CDPPacket.ciscoHDLCProtocol where frame.source == nil:
            extractSerialCDP(frame, time: time, cut: cut, into: &output)
        case ..<0x0600:
            // An 802.3 length: LLC, and CDP in SNAP.
            if let llc = LLCFrame.decode(frame), llc.isCDP, let source = frame.source {
                let raw = announcementKey(.cdp, mac: source, vlan: frame.innermostVLAN, payload: frame.payload, time: time)
                if raw.repeated { break }
                switch CDPPacket.decode(llc.payload) {
                case .success(let packet):
                    var o = observation(.cdp, key: source.description, source: .init(mac: source.description, ip: nil), vlan: frame.innermostVLAN, time: time)
                    o.cdp = DiscoveryObservations.cdp(packet)
                    announce(o, rawKey: raw.key, time: time, into: &output)
                case .failure: cut ? (counted.snapTruncated += 1) : counted.malformed("cdp")
                }
            } else {
                counted.ignored += 1
            }
        default:
            counted.ignored += 1
        }
        counted.observations += output.count - before
    }

    /// Reports what is still open at the end of a capture: flows, and timestamp samples not yet sent.
    public mutating func finish(into output: inout ObservationBatch) {
        var ending = beginEnding()
        finish(&ending, into: &output, upTo: .max)
    }

    /// The flows and connections still open when a capture ends, taken out of the table, to be reported by
    /// `finish(_:into:upTo:)` a batch at a time (a full table is 100,000 flows: written in one go, about 55 MB of JSON).
    public struct Ending {
        fileprivate var reported: [FlowTable.Reported]
        /// Reports written so far: the connections' last timestamp samples (the first `reported.count` steps), then
        /// the flows, both in flow key order.
        fileprivate var step = 0
        public var isDone: Bool { step == 2 * reported.count }
    }

    /// Ends every flow and connection; their reports are written by `finish(_:into:upTo:)`.
    public mutating func beginEnding() -> Ending {
        var reported: [FlowTable.Reported] = []
        flows.flushAll(reporting: &reported)
        return Ending(reported: reported)
    }

    /// Writes the reports of `ending` until `output` holds `limit` observations or none are left (`ending.isDone`).
    public mutating func finish(_ ending: inout Ending, into output: inout ObservationBatch, upTo limit: Int) {
        let before = output.count
        let count = ending.reported.count
        while ending.step < 2 * count && output.count < limit {
            let index = ending.step % count
            if ending.step < count {
                if var connection = ending.reported[index].connection {
                    ending.reported[index].connection = nil  // its memory goes as it is written
                    end(&connection, of: ending.reported[index].summary, into: &output)
                }
            } else {
                appendFlow(ending.reported[index].summary, into: &output)
            }
            ending.step += 1
        }
        counted.observations += output.count - before
    }

    /// CDP carried straight in a serial link's frames (Cisco HDLC): there is no MAC address, so the device is keyed by
    /// the first IP address it announces, as a device seen through a router is; without one it cannot be keyed.
    private mutating func extractSerialCDP(_ frame: LinkFrame, time: EventTime, cut: Bool, into output: inout ObservationBatch) {
        switch CDPPacket.decode(frame.payload) {
        case .success(let packet):
            guard let address = (packet.addresses + packet.managementAddresses).first(where: { $0.isIPv4 || $0.isIPv6 }) else {
                counted.malformed("cdp-without-address")
                return
            }
            let ip = address.text
            let raw = announcementKey(.cdp, mac: nil, vlan: nil, payload: frame.payload, time: time)
            if raw.repeated { return }
            var o = observation(.cdp, key: ip, source: .init(mac: nil, ip: ip), vlan: nil, time: time)
            o.cdp = DiscoveryObservations.cdp(packet)
            announce(o, rawKey: raw.key, time: time, into: &output)
        case .failure: cut ? (counted.snapTruncated += 1) : counted.malformed("cdp")
        }
    }

    private func observation(_ kind: Observation.Kind, key: String, source: Observation.Source, vlan: UInt16?, time: EventTime) -> Observation {
        Observation(kind: kind, deviceKey: key, time: time, sensorId: sensor.sensorId, site: sensor.site, vlan: vlan.map(Int.init), source: source)
    }

    private mutating func extractARP(_ frame: LinkFrame, time: EventTime, cut: Bool, into output: inout ObservationBatch) {
        let raw = announcementKey(.arp, mac: frame.source, vlan: frame.innermostVLAN, payload: frame.payload, time: time)
        if raw.repeated { return }
        guard let arp = ARPMessage.decode(frame.payload) else {
            if frame.payload.readUInt16(at: 0) == 1 && frame.payload.readUInt16(at: 2) == EtherType.ipv4 {
                cut ? (counted.snapTruncated += 1) : counted.malformed("arp")
            } else {
                counted.ignored += 1
            }
            return
        }
        guard !arp.senderMAC.isZero, !arp.senderMAC.isMulticast else {
            counted.malformed("arp-sender-address")
            return
        }
        let operation = switch arp.operation {
        case 1: "request"
        case 2: "reply"
        default: "op-\(arp.operation)"
        }
        // The texts first, each its own statement: a cache call (mutating) inside the arguments of a call on `self`
        // made Swift copy the whole extractor for the call, and the cache then copied itself on every new MAC (50 µs a
        // packet in a flood of new MACs).
        let senderText = caches.macTexts.text(arp.senderMAC)
        let sourceText = frame.source.map { caches.macTexts.text($0) } ?? senderText
        let targetText = caches.macTexts.text(arp.targetMAC)
        var o = observation(.arp, key: senderText, source: .init(mac: sourceText, ip: nil), vlan: frame.innermostVLAN, time: time)
        o.arp = ARPObservation(
            operation: operation, senderMac: senderText, senderIp: arp.senderIP.description,
            targetMac: targetText, targetIp: arp.targetIP.description, gratuitous: arp.isGratuitous)
        announce(o, rawKey: raw.key, time: time, into: &output)
    }

    private mutating func extractLLDP(_ frame: LinkFrame, time: EventTime, cut: Bool, into output: inout ObservationBatch) {
        guard let source = frame.source else { counted.ignored += 1; return }
        let raw = announcementKey(.lldp, mac: source, vlan: frame.innermostVLAN, payload: frame.payload, time: time)
        if raw.repeated { return }
        switch LLDPDU.decode(frame.payload) {
        case .success(let du):
            var o = observation(.lldp, key: source.description, source: .init(mac: source.description, ip: nil), vlan: frame.innermostVLAN, time: time)
            o.lldp = DiscoveryObservations.lldp(du)
            announce(o, rawKey: raw.key, time: time, into: &output)
        case .failure:
            cut ? (counted.snapTruncated += 1) : counted.malformed("lldp")
        }
    }

    /// The network-layer facts the transport layer needs, for either IP version.
    struct NetworkPacket {
        var source: FlowAddress
        var destination: FlowAddress
        var sourceText: String { source.description }
        var destinationText: String { destination.description }
        var transport: UInt8
        var payload: UnsafeRawBufferPointer
        var isLaterFragment: Bool
        var moreFragments: Bool
        /// IPv4: the header, for `p0f`; IPv6: the facts themselves.
        var ipv4Header: UnsafeRawBufferPointer?
        var ipv6Facts: P0fIPFacts?
        var ipv4: IPv4Packet?

        /// What a p0f signature takes from the IP header: read again from the header only when asked (for a SYN).
        var p0f: P0fIPFacts? {
            if let ipv4Header { return IPv4HeaderFacts.decode(ipv4Header).map(P0fIPFacts.init(ipv4:)) }
            return ipv6Facts
        }
    }

    private mutating func extractIPv4(_ frame: LinkFrame, wireLength: Int, time: EventTime, cut: Bool, into output: inout ObservationBatch) {
        let ip: IPv4Packet
        switch IPv4Packet.decode(frame.payload) {
        case .success(let packet): ip = packet
        case .failure(.notIPv4): counted.malformed("ipv4-version"); return
        case .failure(let error):
            cut ? (counted.snapTruncated += 1) : counted.malformed("ipv4-\(error.reason)")
            return
        }
        let packet = NetworkPacket(
            source: FlowAddress(ip.source), destination: FlowAddress(ip.destination), transport: ip.protocolNumber,
            payload: ip.payload,
            isLaterFragment: ip.isLaterFragment, moreFragments: ip.moreFragments, ipv4Header: frame.payload, ipv4: ip)
        extractTransport(packet, frame: frame, wireLength: wireLength, time: time, cut: cut, into: &output)
    }

    private mutating func extractIPv6(_ frame: LinkFrame, wireLength: Int, time: EventTime, cut: Bool, into output: inout ObservationBatch) {
        let ip: IPv6Packet
        switch IPv6Packet.decode(frame.payload) {
        case .success(let packet): ip = packet
        case .failure(let error):
            cut ? (counted.snapTruncated += 1) : counted.malformed("ipv6-\(error.reason)")
            return
        }
        let packet = NetworkPacket(
            source: FlowAddress(high: ip.source.high, low: ip.source.low),
            destination: FlowAddress(high: ip.destination.high, low: ip.destination.low),
            transport: ip.protocolNumber,
            payload: ip.payload, isLaterFragment: ip.isLaterFragment, moreFragments: ip.moreFragments,
            ipv6Facts: P0fIPFacts(ipv6: ip), ipv4: nil)
        extractTransport(packet, frame: frame, wireLength: wireLength, time: time, cut: cut, into: &output)
    }

    private mutating func extractTransport(
        _ ip: NetworkPacket, frame: LinkFrame, wireLength: Int, time: EventTime, cut: Bool, into output: inout ObservationBatch
    ) {
        guard !ip.isLaterFragment else {
            counted.ignored += 1
            return
        }
        switch ip.transport {
        case IPProtocolNumber.udp:
            let udp: UDPDatagram
            switch UDPDatagram.decode(ip.payload) {
            case .success(let datagram): udp = datagram
            case .failure(let error):
                cut || ip.moreFragments ? (counted.snapTruncated += 1) : counted.malformed("udp-\(error.reason)")
                return
            }
            _ = recordFlow(ip, frame: frame, sourcePort: udp.sourcePort, destinationPort: udp.destinationPort, flags: 0, wireLength: wireLength, time: time, into: &output)
            extractUDP(udp, ip: ip, frame: frame, time: time, cut: cut, into: &output)
        case IPProtocolNumber.tcp:
            let tcp: TCPSegment
            switch TCPSegment.decode(ip.payload) {
            case .success(let segment): tcp = segment
            case .failure(let error):
                cut || ip.moreFragments ? (counted.snapTruncated += 1) : counted.malformed("tcp-\(error.reason)")
                return
            }
            extractTCP(tcp, ip: ip, frame: frame, wireLength: wireLength, time: time, into: &output)
        case IPProtocolNumber.icmpv6 where ip.ipv4 == nil, IPProtocolNumber.icmp where ip.ipv4 != nil:
            let ipv6 = ip.ipv4 == nil
            guard let type = ip.payload.readUInt8(at: 0), let code = ip.payload.readUInt8(at: 1) else {
                cut || ip.moreFragments ? (counted.snapTruncated += 1) : counted.malformed(ipv6 ? "icmpv6-truncated" : "icmp-truncated")
                return
            }
            if ipv6 && (133...137).contains(type) {
                extractNDP(ip, type: type, frame: frame, time: time, cut: cut, into: &output)
            } else {
                recordICMPFlow(ip, frame: frame, type: type, code: code, wireLength: wireLength, time: time, into: &output)
            }
        default:
            counted.ignored += 1
        }
    }

    /// Accounts the packet in the flow table and turns any flow summaries that became due into observations.
    /// Returns the index of the packet's flow entry (nil when it was reported at once).
    private mutating func recordFlow(
        _ ip: NetworkPacket, frame: LinkFrame, sourcePort: UInt16, destinationPort: UInt16, flags: UInt8, wireLength: Int,
        time: EventTime, into output: inout ObservationBatch
    ) -> FlowTable.Index? {
        // The reports of a packet reuse the last packet's memory (taken out of the extractor while it is changed).
        var reported = reportedScratch
        reportedScratch = []
        defer {
            if !reported.isEmpty { reported.removeAll(keepingCapacity: true) }  // (costs a call even when empty)
            reportedScratch = reported
        }
        let index = flows.record(
            FlowPacket(
                source: FlowEndpoint(address: ip.source, port: sourcePort),
                destination: FlowEndpoint(address: ip.destination, port: destinationPort), transport: ip.transport,
                vlan: frame.innermostVLAN, sourceMAC: frame.source, bytes: wireLength, tcpFlags: flags, time: time),
            reporting: &reported, streams: &caches.streams
        ).index
        for i in reported.indices {
            if reported[i].connection != nil {
                end(&reported[i].connection!, of: reported[i].summary, into: &output)
            }
            appendFlow(reported[i].summary, into: &output)
        }
        return index
    }

    /// Accounts an ICMP or ICMPv6 message in the flow table the way Zeek does: the "ports" are the message type and
    /// code, and a reply (echo, timestamp, information, address mask, node information) is keyed as its request's
    /// reverse, so a ping and its answer make one flow. Neighbour discovery is not a flow (it is announced).
    private mutating func recordICMPFlow(
        _ ip: NetworkPacket, frame: LinkFrame, type: UInt8, code: UInt8, wireLength: Int, time: EventTime,
        into output: inout ObservationBatch
    ) {
        let request = ICMPFlowPorts.request(ofReply: type, ipv6: ip.ipv4 == nil)
        let (sourcePort, destinationPort) = request.map { (UInt16(code), UInt16($0)) } ?? (UInt16(type), UInt16(code))
        _ = recordFlow(ip, frame: frame, sourcePort: sourcePort, destinationPort: destinationPort, flags: 0, wireLength: wireLength, time: time, into: &output)
    }

    private static func key(of summary: FlowSummary) -> FlowKey {
        FlowKey.of(
            source: summary.initiator, destination: summary.responder, transport: summary.transport, vlan: summary.vlan,
            sourceMAC: summary.initiatorMAC
        ).key
    }

    private mutating func extractTCP(
        _ tcp: TCPSegment, ip: NetworkPacket, frame: LinkFrame, wireLength: Int, time: EventTime, into output: inout ObservationBatch
    ) {
        guard
            let index = recordFlow(
                ip, frame: frame, sourcePort: tcp.sourcePort, destinationPort: tcp.destinationPort,
                flags: UInt8(truncatingIfNeeded: tcp.flags.rawValue), wireLength: wireLength, time: time, into: &output)
        else { return }
        let source = FlowEndpoint(address: ip.source, port: tcp.sourcePort)
        if !flows.hasConnection(at: index) {
            guard flows.connectionCount < connectionCapacity else {
                counted.unanalysedConnections += 1
                return
            }
            // The side that sent a bare SYN is the client; otherwise the first sender seen.
            let destination = FlowEndpoint(address: ip.destination, port: tcp.destinationPort)
            let clientIsSource = !(tcp.isSYNACK)
            flows.attach(
                ConnectionAnalyzer(client: clientIsSource ? source : destination, server: clientIsSource ? destination : source),
                at: index)
        }
        // In place: the analyzer is never copied out of the flow table.
        let application = flows.analyze(
            at: index, tcp, from: source, mac: frame.source, ipFacts: tcp.flags.contains(.syn) ? ip.p0f : nil, sensor: sensor,
            context: .init(vlan: frame.innermostVLAN, time: time), caches: &caches, into: &output)
        if let application { flows.tag(at: index, application: application) }
    }

    /// Ends a reported connection: takes the bytes it holds for the decoders off the stream budget, and sends the
    /// timestamp samples it still holds, timed by the last sample.
    private mutating func end(_ analyzer: inout ConnectionAnalyzer, of summary: FlowSummary, into output: inout ObservationBatch) {
        caches.streams.held -= analyzer.heldBytes
        let key = Self.key(of: summary)
        for d in 0..<2 {
            let samples = analyzer.directions[d].timestamps
            guard samples.count >= 2 else { continue }
            let context = ConnectionAnalyzer.PacketContext(
                vlan: key.vlan == 0 ? nil : key.vlan, time: EventTime(microseconds: samples[samples.count - 2]))
            analyzer.flushTimestamps(d, sensor: sensor, context: context, into: &output)
        }
    }

    /// The list of TCP flag names set in each flags byte, as JSON: made once, written into every flow observation.
    static let flagLists: [EncodedJSON] = (0..<256).map { f in
        let names = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"]
        return EncodedJSON((0..<8).filter { f & (1 << $0) != 0 }.map { names[$0] })
    }
    static let noFlags = EncodedJSON([String]())
    static let transports = (tcp: EncodedJSON("tcp"), udp: EncodedJSON("udp"), icmp: EncodedJSON("icmp"), icmpv6: EncodedJSON("icmpv6"))

    /// Appends a flow summary's observation, written straight from the summary.
    private func appendFlow(_ summary: FlowSummary, into output: inout ObservationBatch) {
        let transport = switch summary.transport {
        case IPProtocolNumber.tcp: Self.transports.tcp
        case IPProtocolNumber.icmp: Self.transports.icmp
        case IPProtocolNumber.icmpv6: Self.transports.icmpv6
        default: Self.transports.udp
        }
        let isTCP = summary.transport == IPProtocolNumber.tcp
        output.append(
            .flow, mac: summary.initiatorMAC, ip: summary.initiator.address, vlan: summary.vlan, time: summary.lastTime,
            sensor: sensor
        ) { w in
            FlowObservation.writeJSON(
                to: &w, packetsOut: summary.packetsOut, packetsIn: summary.packetsIn, bytesOut: summary.bytesOut,
                bytesIn: summary.bytesIn, firstTime: summary.firstTime, lastTime: summary.lastTime,
                tcpFlagsOut: isTCP ? Self.flagLists[Int(summary.tcpFlagsOut)] : Self.noFlags,
                tcpFlagsIn: isTCP ? Self.flagLists[Int(summary.tcpFlagsIn)] : Self.noFlags,
                applicationProtocols: summary.applicationProtocols, endReason: summary.reason.rawValue
            ) { w in
                ConnectionEndpoints.writeJSON(to: &w, transport: transport, local: summary.initiator, remote: summary.responder)
            }
        }
    }

    private mutating func extractUDP(
        _ udp: UDPDatagram, ip: NetworkPacket, frame: LinkFrame, time: EventTime, cut: Bool, into output: inout ObservationBatch
    ) {
        let ports = (udp.sourcePort, udp.destinationPort)
        if let ipv4 = ip.ipv4,
            ports == (DHCPv4Message.clientPort, DHCPv4Message.serverPort)
                || ports == (DHCPv4Message.serverPort, DHCPv4Message.clientPort)
                || ports == (DHCPv4Message.serverPort, DHCPv4Message.serverPort)
        {
            extractDHCP(udp.payload, frame: frame, ip: ipv4, time: time, cut: cut, into: &output)
            return
        }
        if ip.ipv4 == nil,
            ports == (DHCPv6Message.clientPort, DHCPv6Message.serverPort)
                || ports == (DHCPv6Message.serverPort, DHCPv6Message.clientPort)
                || ports == (DHCPv6Message.serverPort, DHCPv6Message.serverPort)
        {
            extractDHCPv6(udp.payload, frame: frame, ip: ip, time: time, cut: cut, into: &output)
            return
        }
        func either(_ port: UInt16) -> Bool { udp.sourcePort == port || udp.destinationPort == port }
        // The observation (and its texts) is made only once a decoder has something to say.
        func sourced(_ kind: Observation.Kind) -> Observation {
            let mac = frame.source.map { caches.macTexts.text($0) }
            let ipText = ip.sourceText
            return observation(kind, key: mac ?? ipText, source: .init(mac: mac, ip: ipText), vlan: frame.innermostVLAN, time: time)
        }
        func rawKey(_ kind: Observation.Kind) -> (key: AnnouncementFilter.RawKey?, repeated: Bool) {
            announcementKey(kind, mac: frame.source, address: ip.source, vlan: frame.innermostVLAN, payload: udp.payload, time: time)
        }
        if either(5353) || either(53) {
            let multicast = either(5353)
            let raw = multicast ? rawKey(.mdns) : (key: nil, repeated: false)
            if raw.repeated { return }
            // Written straight from the message where it can be (no names made); mDNS is an announcement, so the
            // filter then decides on what was written.
            if let view = DNSMessageView(udp.payload),
                view.withEntries({ questions, records in
                    guard DiscoveryObservations.canWriteInPlace(view, records: records) else { return false }
                    func write(_ w: inout JSONWriter) { DiscoveryObservations.writeDNS(view, questions: questions, records: records, to: &w) }
                    if multicast {
                        announceInPlace(.mdns, mac: frame.source, ip: ip.source, vlan: frame.innermostVLAN, time: time, rawKey: raw.key, into: &output, payload: write)
                    } else {
                        output.append(.dns, mac: frame.source, ip: ip.source, vlan: frame.innermostVLAN, time: time, sensor: sensor, payload: write)
                    }
                    return true
                })
            {
                return
            }
            switch DNSMessage.decode(udp.payload) {
            case .success(let message):
                if multicast {
                    var o = sourced(.mdns)
                    o.mdns = DiscoveryObservations.dns(message)
                    announce(o, rawKey: raw.key, time: time, into: &output)
                } else {
                    output.append(.dns, mac: frame.source, ip: ip.source, vlan: frame.innermostVLAN, time: time, sensor: sensor) { w in
                        DiscoveryObservations.writeDNS(message, to: &w)
                    }
                }
            case .failure:
                cut ? (counted.snapTruncated += 1) : counted.malformed(either(5353) ? "mdns" : "dns")
            }
        } else if either(1900) {
            let raw = rawKey(.ssdp)
            if raw.repeated { return }
            guard let fields = SSDPFields.decode(udp.payload) else { counted.malformed("ssdp"); return }
            announceInPlace(.ssdp, mac: frame.source, ip: ip.source, vlan: frame.innermostVLAN, time: time, rawKey: raw.key, into: &output) {
                DiscoveryObservations.writeSSDP(fields, to: &$0)
            }
        } else if either(3702) {
            let raw = rawKey(.wsdiscovery)
            if raw.repeated { return }
            guard let message = WSDiscoveryMessage.decode(udp.payload) else { counted.malformed("wsdiscovery"); return }
            var o = sourced(.wsdiscovery)
            o.wsdiscovery = DiscoveryObservations.wsDiscovery(message)
            announce(o, rawKey: raw.key, time: time, into: &output)
        } else {
            counted.ignored += 1
        }
    }

    private mutating func extractDHCP(
        _ payload: UnsafeRawBufferPointer, frame: LinkFrame, ip: IPv4Packet, time: EventTime, cut: Bool,
        into output: inout ObservationBatch
    ) {
        let raw = announcementKey(
            .dhcp, mac: frame.source, address: FlowAddress(ip.source), vlan: frame.innermostVLAN, payload: payload, time: time)
        if raw.repeated { return }
        let message: DHCPv4Message
        switch DHCPv4Message.decode(payload) {
        case .success(let m): message = m
        case .failure(let error):
            cut ? (counted.snapTruncated += 1) : counted.malformed("dhcp-\(error.reason)")
            return
        }
        guard let client = message.clientMAC, !client.isZero, !client.isMulticast else {
            counted.malformed("dhcp-client-address")
            return
        }
        func nonzero(_ a: IPv4Address) -> String? { a.isUnspecified ? nil : a.description }
        let clientText = caches.macTexts.text(client)  // its own statement: see extractARP
        let sourceText = frame.source.map { caches.macTexts.text($0) } ?? clientText
        var o = observation(.dhcp, key: clientText, source: .init(mac: sourceText, ip: nonzero(ip.source)), vlan: frame.innermostVLAN, time: time)
        o.dhcp = DHCPObservation(
            op: message.op == 1 ? "request" : "reply",
            messageType: message.messageType.map(DHCPv4Message.messageTypeName) ?? "bootp",
            transactionId: message.transactionID, clientMac: clientText,
            clientIp: nonzero(message.clientIP), yourIp: nonzero(message.yourIP), serverIp: nonzero(message.serverIP),
            relayIp: nonzero(message.relayIP), requestedIp: message.requestedIP.flatMap(nonzero),
            serverIdentifier: message.serverIdentifier.flatMap(nonzero), hostname: message.hostname,
            vendorClass: message.vendorClass, clientId: message.clientIdentifier.map(hexString),
            maxMessageSize: message.maximumMessageSize.map(Int.init),
            parameterRequestList: message.parameterRequestList.map { $0.map(Int.init) },
            optionCodes: message.options.map { Int($0.code) })
        announce(o, rawKey: raw.key, time: time, into: &output)
    }

    /// DHCPv6 (RFC 8415). The device is the client: the layer-2 source of a client message; for a server message the
    /// MAC of the client's LLT/LL DUID, else the frame's unicast destination; for a relay message the DUID's MAC,
    /// else the peer address of the relay closest to the client (the client's IPv6 address).
    private mutating func extractDHCPv6(
        _ payload: UnsafeRawBufferPointer, frame: LinkFrame, ip: NetworkPacket, time: EventTime, cut: Bool,
        into output: inout ObservationBatch
    ) {
        let raw = announcementKey(
            .dhcpv6, mac: frame.source, address: ip.source, vlan: frame.innermostVLAN, payload: payload, time: time)
        if raw.repeated { return }
        let message: DHCPv6Message
        switch DHCPv6Message.decode(payload) {
        case .success(let m): message = m
        case .failure(let error):
            cut ? (counted.snapTruncated += 1) : counted.malformed("dhcpv6-\(error.reason)")
            return
        }
        guard let built = IPv6Observations.dhcpv6(message) else {
            cut ? (counted.snapTruncated += 1) : counted.malformed("dhcpv6-relayed-message")
            return
        }
        let (dhcpv6, duidMAC) = (built.payload, built.duidMAC)
        let key: String?
        if message.isRelay {
            key = duidMAC?.description ?? dhcpv6.relayPeerAddress
        } else if dhcpv6.fromClient {
            key = frame.source?.description ?? ip.sourceText
        } else if let mac = duidMAC {
            key = mac.description
        } else if let destination = frame.destination, !destination.isMulticast, !destination.isZero {
            key = destination.description
        } else {
            key = nil
        }
        guard let key else {
            counted.malformed("dhcpv6-client-address")
            return
        }
        var o = observation(
            .dhcpv6, key: key, source: .init(mac: frame.source?.description, ip: ip.sourceText), vlan: frame.innermostVLAN,
            time: time)
        o.dhcpv6 = dhcpv6
        announce(o, rawKey: raw.key, time: time, into: &output)
    }

    /// ICMPv6 neighbour discovery (RFC 4861, `type` 133 to 137; other ICMPv6 messages are flows). The device is the
    /// sender: the layer-2 source (the IPv6 source without layer 2).
    private mutating func extractNDP(
        _ ip: NetworkPacket, type: UInt8, frame: LinkFrame, time: EventTime, cut: Bool, into output: inout ObservationBatch
    ) {
        let raw = announcementKey(.ndp, mac: frame.source, address: ip.source, vlan: frame.innermostVLAN, payload: ip.payload, time: time)
        if raw.repeated { return }
        guard case .success(let icmp) = ICMPv6Message.decode(ip.payload), let message = icmp.neighborDiscovery else {
            cut ? (counted.snapTruncated += 1) : counted.malformed("ndp")
            return
        }
        let mac = frame.source?.description
        let ipText = ip.sourceText
        var o = observation(.ndp, key: mac ?? ipText, source: .init(mac: mac, ip: ipText), vlan: frame.innermostVLAN, time: time)
        o.ndp = IPv6Observations.ndp(message, type: type)
        announce(o, rawKey: raw.key, time: time, into: &output)
    }
}

/// Texts of recently seen MAC addresses, direct-mapped: observations of the same devices share one text instead of
/// each making its own.
struct MACTexts {
    private var slots = [(mac: MACAddress, text: String)?](repeating: nil, count: 1024)

    mutating func text(_ mac: MACAddress) -> String {
        let slot = Int(truncatingIfNeeded: (mac.value &* 0x9E37_79B9_7F4A_7C15) >> 54)
        if let cached = slots[slot], cached.mac == mac { return cached.text }
        let text = mac.description
        slots[slot] = (mac, text)
        return text
    }
}

extension ObservationExtractor {
    /// Runs every packet of the capture files at `paths`, in order, through this extractor, then its end-of-capture
    /// flush: the observations of whole files, without a sink (tests, benchmarks).
    public mutating func observations(ofFiles paths: [String]) throws -> [Observation] {
        var output = ObservationBatch()
        for path in paths {
            let source = try PcapSource(file: path)
            let linkType = source.linkType
            while try source.next({ bytes, length, time in
                extract(bytes, originalLength: length, linkType: linkType, time: time, into: &output)
            }) == .packet {}
        }
        finish(into: &output)
        return try output.decoded()
    }
}

/// The request type an ICMP reply answers (RFC 792, RFC 950, RFC 4443, RFC 4620), nil for requests and unpaired types.
enum ICMPFlowPorts {
    static func request(ofReply type: UInt8, ipv6: Bool) -> UInt8? {
        if ipv6 {
            return switch type {
            case 129: 128  // echo
            case 140: 139  // node information
            default: nil
            }
        }
        return switch type {
        case 0: 8  // echo
        case 14: 13  // timestamp
        case 16: 15  // information
        case 18: 17  // address mask
        default: nil
        }
    }
}
