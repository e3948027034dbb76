import Testing
import WardwatchCapture
import WardwatchDecoders
import WardwatchModel

@Suite("Flow table")
struct FlowTableTests {
    let client = FlowEndpoint(address: FlowAddress(IPv4Address(value: 0x0A14_041F)), port: 51000)
    let server = FlowEndpoint(address: FlowAddress(IPv4Address(value: 0x0A14_043C)), port: 104)
    let clientMAC = MACAddress(value: 0x0003_b15e_2107)
    let serverMAC = MACAddress(value: 0x884b_390c_71a5)

    func packet(_ fromClient: Bool, _ flags: UInt8, _ bytes: Int, _ seconds: Int64) -> FlowPacket {
        FlowPacket(
            source: fromClient ? client : server, destination: fromClient ? server : client, transport: 6, vlan: 20,
            sourceMAC: fromClient ? clientMAC : serverMAC, bytes: bytes, tcpFlags: flags,
            time: EventTime(microseconds: seconds * 1_000_000))
    }

    @Test("a TCP connection is one flow with both directions counted, reported after it closes")
    func tcpConnection() {
        var table = FlowTable()
        var out: [FlowSummary] = []
        let syn: UInt8 = 0x02, ack: UInt8 = 0x10, fin: UInt8 = 0x01, psh: UInt8 = 0x08
        _ = table.record(packet(true, syn, 74, 0), into: &out)
        _ = table.record(packet(false, syn | ack, 74, 0), into: &out)
        let key = table.record(packet(true, ack | psh, 300, 1), into: &out)
        table.tag(key, application: "dicom")
        _ = table.record(packet(false, ack | psh, 200, 1), into: &out)
        _ = table.record(packet(true, fin | ack, 66, 2), into: &out)
        _ = table.record(packet(false, fin | ack, 66, 2), into: &out)
        _ = table.record(packet(true, ack, 66, 2), into: &out)
        #expect(out.isEmpty)
        // Another flow's packet later advances packet time past the linger.
        _ = table.record(FlowPacket(source: server, destination: client, transport: 17, vlan: nil, sourceMAC: nil, bytes: 60, time: EventTime(microseconds: 5_000_000)), into: &out)
        #expect(out.count == 1)
        let flow = out[0]
        #expect(flow.reason == .closed)
        #expect(flow.initiator == client && flow.responder == server)
        #expect(flow.initiatorMAC == clientMAC && flow.responderMAC == serverMAC)
        #expect(flow.packetsOut == 4 && flow.packetsIn == 3)
        #expect(flow.bytesOut == 74 + 300 + 66 + 66 && flow.bytesIn == 74 + 200 + 66)
        #expect(flow.tcpFlagsOut == syn | ack | psh | fin && flow.tcpFlagsIn == syn | ack | psh | fin)
        #expect(flow.applicationProtocols == ["dicom"])
        #expect(flow.vlan == 20)
        #expect(table.count == 1)
    }

    @Test("idle and active timeouts are measured in packet time")
    func timeouts() {
        var table = FlowTable()
        var out: [FlowSummary] = []
        for s in stride(from: Int64(0), through: 600, by: 10) { _ = table.record(packet(true, 0x10, 100, s), into: &out) }
        let active = out.filter { $0.reason == .active }
        #expect(active.count == 2)
        // Packets at 0, 10, ..., 300 s: the one at 300 s is counted, then the interval is reported.
        #expect(active.map(\.packetsOut) == [31, 30])
        out.removeAll()
        _ = table.record(FlowPacket(source: server, destination: client, transport: 17, vlan: nil, sourceMAC: nil, bytes: 60, time: EventTime(microseconds: 700_000_000)), into: &out)
        #expect(out.map(\.reason) == [.idle])
        table.flushAll(into: &out)
        #expect(out.map(\.reason) == [.idle, .end])
        #expect(table.count == 0)
    }

    @Test("DHCP clients with no address yet (0.0.0.0:68 to 255.255.255.255:67) are told apart by MAC")
    func unaddressedClients() {
        var table = FlowTable()
        var out: [FlowSummary] = []
        let unaddressed = FlowEndpoint(address: FlowAddress(IPv4Address(value: 0)), port: 68)
        let broadcast = FlowEndpoint(address: FlowAddress(IPv4Address(value: 0xFFFF_FFFF)), port: 67)
        let macs = [MACAddress(value: 0x0003_b15e_2107), MACAddress(value: 0x884b_390c_71a5)]
        for (index, mac) in [macs[0], macs[1], macs[0]].enumerated() {
            _ = table.record(
                FlowPacket(source: unaddressed, destination: broadcast, transport: 17, vlan: nil, sourceMAC: mac,
                           bytes: 342, time: EventTime(microseconds: Int64(index) * 1_000)),
                into: &out)
        }
        #expect(table.count == 2)
        table.flushAll(into: &out)
        #expect(out.count == 2)
        let byMAC = Dictionary(uniqueKeysWithValues: out.map { ($0.initiatorMAC, $0) })
        #expect(byMAC[macs[0]]?.packetsOut == 2)
        #expect(byMAC[macs[1]]?.packetsOut == 1)
        // An addressed sender is still one flow whatever MAC it comes from (a router, a moved device).
        let addressed = FlowEndpoint(address: FlowAddress(IPv4Address(value: 0x0A00_0001)), port: 68)
        for mac in macs {
            _ = table.record(
                FlowPacket(source: addressed, destination: broadcast, transport: 17, vlan: nil, sourceMAC: mac,
                           bytes: 342, time: EventTime(microseconds: 10_000)),
                into: &out)
        }
        #expect(table.count == 1)
    }

    @Test("a full table evicts the least recently seen flow and counts it")
    func eviction() {
        var configuration = FlowTable.Configuration()
        configuration.capacity = 3
        var table = FlowTable(configuration: configuration)
        var out: [FlowSummary] = []
        for i in 0..<5 {
            let source = FlowEndpoint(address: FlowAddress(IPv4Address(value: 0x0A00_0001 + UInt32(i))), port: 1000)
            _ = table.record(FlowPacket(source: source, destination: server, transport: 17, vlan: nil, sourceMAC: nil, bytes: 1, time: EventTime(microseconds: Int64(i))), into: &out)
        }
        #expect(table.count == 3)
        #expect(table.evictions == 2)
        #expect(out.map(\.reason) == [.evicted, .evicted])
        #expect(out.map(\.initiator.address.description) == ["10.0.0.1", "10.0.0.2"])
    }

    /// Flows come, go quiet, close and are pushed out in a seeded random order; every report (which flow, why, in
    /// which order) and the table's size after each packet must equal a plain model's: a list in arrival order of
    /// each flow's last packet, searched in full. This checks the table's own bookkeeping (slots that move when a flow
    /// leaves, the arrival order kept across them), not only its first eviction.
    @Test("reports and evictions equal a plain model's over many random packets", arguments: [1, 2, 3, 4, 5, 6])
    func evictionModel(seed: UInt64) {
        var configuration = FlowTable.Configuration()
        configuration.capacity = 5
        configuration.idleTimeout = 2_000_000
        configuration.activeTimeout = 1 << 60
        configuration.sweepInterval = 200_000
        configuration.closedLinger = 500_000
        var table = FlowTable(configuration: configuration)
        var random = SplitMix64(seed: seed)

        struct ModelFlow { var key: FlowKey; var last: Int64; var closed: Bool }
        var model: [ModelFlow] = []  // oldest last packet first
        var expected: [(FlowKey, FlowSummary.EndReason)] = []
        var lastSweep: Int64?
        var now: Int64 = 0
        var out: [FlowSummary] = []
        for _ in 0..<3_000 {
            now += Int64(random.next() % 300_000)
            let source = FlowEndpoint(address: FlowAddress(IPv4Address(value: 0x0A00_0001 + UInt32(random.next() % 12))), port: 40000)
            let rst = random.next() % 10 == 0
            let packet = FlowPacket(
                source: source, destination: server, transport: 6, vlan: nil, sourceMAC: nil, bytes: 60,
                tcpFlags: rst ? 0x04 : 0x10, time: EventTime(microseconds: now))
            let key = FlowKey.of(source: source, destination: server, transport: 6, vlan: nil, sourceMAC: nil).key

            // The model: account the packet (a new flow pushes out the front one when full), then sweep when due.
            if let i = model.firstIndex(where: { $0.key == key }) {
                var flow = model.remove(at: i)
                flow.last = now
                flow.closed = flow.closed || rst
                model.append(flow)
            } else {
                if model.count == configuration.capacity { expected.append((model.removeFirst().key, .evicted)) }
                model.append(ModelFlow(key: key, last: now, closed: rst))
            }
            if lastSweep.map({ now - $0 >= configuration.sweepInterval }) ?? true {
                lastSweep = now
                let closed = model.filter { $0.closed && now - $0.last >= configuration.closedLinger }.map(\.key).sorted()
                let idle = model.filter { !($0.closed && now - $0.last >= configuration.closedLinger) && now - $0.last >= configuration.idleTimeout }
                    .map(\.key).sorted()
                expected += closed.map { ($0, .closed) } + idle.map { ($0, .idle) }
                model.removeAll { closed.contains($0.key) || idle.contains($0.key) }
            }

            _ = table.record(packet, into: &out)
            #expect(table.count == model.count)
        }
        let reported = out.map { summary in
            (FlowKey.of(source: summary.initiator, destination: summary.responder, transport: 6, vlan: nil, sourceMAC: nil).key, summary.reason)
        }
        #expect(reported.count == expected.count)
        #expect(reported.elementsEqual(expected) { $0.0 == $1.0 && $0.1 == $1.1 })
        #expect(table.evictions == expected.filter { $0.1 == .evicted }.count)
        #expect(table.evictions > 50 && expected.contains { $0.1 == .closed } && expected.contains { $0.1 == .idle })
    }

    @Test("flow addresses print as RFC 5952 text")
    func addressText() {
        #expect(FlowAddress(IPv4Address(value: 0x0A14_0401)).description == "10.20.4.1")
        #expect(FlowAddress(high: 0xfe80_0000_0000_0000, low: 0x0203_b1ff_fe5e_2107).description == "fe80::203:b1ff:fe5e:2107")
        #expect(FlowAddress(high: 0x2001_0db8_0000_0000, low: 1).description == "2001:db8::1")
        #expect(FlowAddress(high: 0, low: 1).description == "::1")
        #expect(FlowAddress(high: 0, low: 0).description == "::")
    }
}

/// What is still open when a capture ends is reported a batch at a time (the capture hands each batch over before
/// writing the next), and the batches together are what one go writes.
@Suite("End of a capture")
struct CaptureEndingTests {
    /// Ethernet, IPv4 and TCP with a timestamp option (TSval `tsval`), from client `i` to 10.0.9.9:443.
    static func frame(client i: Int, flags: UInt8, sequence: UInt32, tsval: UInt32) -> [UInt8] {
        let port = UInt16(30_000 + i)
        var tcp: [UInt8] = [UInt8(port >> 8), UInt8(port & 0xFF), 0x01, 0xBB] + withUnsafeBytes(of: sequence.bigEndian, Array.init)
        tcp += [0, 0, 0, 1, 0x80, flags, 0xFF, 0xFF, 0, 0, 0, 0] + [1, 1, 8, 10] + withUnsafeBytes(of: tsval.bigEndian, Array.init)
            + [0, 0, 0, 0]
        let length = 20 + tcp.count
        let ip: [UInt8] = [0x45, 0, UInt8(length >> 8), UInt8(length & 0xFF), 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 1, UInt8(i >> 8), UInt8(i & 0xFF), 10, 0, 9, 9]
        return [0x02, 0, 0, 0, 0x02, 0] + [0x02, 0, 0, 0, UInt8(i >> 8), UInt8(i & 0xFF)] + [0x08, 0x00] + ip + tcp
    }

    /// The observations the end of a capture reports (`connections` clients that each sent a SYN and three ACKs with
    /// timestamps, all still open), written into batches of at most `limit` (nil: one go), with the largest batch.
    static func ending(connections: Int, limit: Int?) -> (lines: [UInt8], count: Int, largest: Int) {
        var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "s", site: "w"), announcementRefresh: 0)
        var discard = ObservationBatch()
        var time: Int64 = 1_700_000_000_000_000
        for step in 0..<4 {
            for i in 0..<connections {
                let bytes = frame(client: i, flags: step == 0 ? 0x02 : 0x10, sequence: 1000 + UInt32(step), tsval: UInt32(500 + 10 * step))
                time += 1000
                bytes.withUnsafeBytes {
                    extractor.extract($0, originalLength: bytes.count, linkType: .ethernet, time: EventTime(microseconds: time), into: &discard)
                }
            }
        }
        var lines: [UInt8] = [], count = 0, largest = 0
        guard let limit else {
            var batch = ObservationBatch()
            extractor.finish(into: &batch)
            batch.withLines { lines += $0 }
            return (lines, batch.count, batch.count)
        }
        var ending = extractor.beginEnding()
        while !ending.isDone {
            var batch = ObservationBatch()
            extractor.finish(&ending, into: &batch, upTo: limit)
            batch.withLines { lines += $0 }
            count += batch.count
            largest = max(largest, batch.count)
        }
        return (lines, count, largest)
    }

    @Test("reported in batches of 7, the end of a capture is the same bytes as in one go")
    func batchesEqualOneGo() {
        let whole = Self.ending(connections: 30, limit: nil)
        let parts = Self.ending(connections: 30, limit: 7)
        #expect(whole.count == 60)  // a timestamps observation and a flow for each connection
        #expect(parts.count == whole.count)
        #expect(parts.lines == whole.lines)
        #expect(parts.largest == 7)
        // The connections' last timestamp samples first, then the flows, each in flow key order (client port).
        let lines = String(decoding: parts.lines, as: UTF8.self).split(separator: "\n")
        let kinds = lines.map { $0.contains("\"kind\":\"tcp_timestamps\"") ? "t" : $0.contains("\"kind\":\"flow\"") ? "f" : "?" }
        #expect(kinds == Array(repeating: "t", count: 30) + Array(repeating: "f", count: 30))
        let clients = lines.map { line in (0..<30).first { line.contains(":\(30_000 + $0)") } }
        #expect(clients == Array(0..<30) + Array(0..<30))
    }
}
