import Foundation
import Testing
import WardwatchCapture
import WardwatchDecoders
import WardwatchModel

/// The bytes analysed connections hold together are bounded, and come back as connections end.
@Suite("Connection prefix budget")
struct StreamBudgetTests {
    static let connections = 40
    static let segments = 60
    static let segmentSize = 1400
    /// Connections pushed out of the table early, which then fall silent.
    static let silenced = 5

    /// Ethernet, IPv4 and TCP (no options) around `payload`, from client `i` to 10.0.9.9:2575.
    static func frame(
        client i: Int, toServer: Bool = true, port: UInt16 = 2575, flags: UInt8, sequence: UInt32, payload: [UInt8] = []
    ) -> [UInt8] {
        let clientMAC: [UInt8] = [0x02, 0, 0, 0, 0x01, UInt8(i)], serverMAC: [UInt8] = [0x02, 0, 0, 0, 0x02, 0]
        let clientIP: [UInt8] = [10, 1, 0, UInt8(i)], serverIP: [UInt8] = [10, 0, 9, 9]
        let (sourcePort, destinationPort): (UInt16, UInt16) = toServer ? (30_000 + UInt16(i), port) : (port, 30_000 + UInt16(i))
        var tcp: [UInt8] = [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xFF), UInt8(destinationPort >> 8), UInt8(destinationPort & 0xFF)]
        tcp += withUnsafeBytes(of: sequence.bigEndian, Array.init) + [0, 0, 0, 1, 0x50, flags, 0xFF, 0xFF, 0, 0, 0, 0]
        let length = 40 + payload.count
        let ip: [UInt8] = [0x45, 0, UInt8(length >> 8), UInt8(length & 0xFF), 0, 0, 0x40, 0, 64, 6, 0, 0]
            + (toServer ? clientIP + serverIP : serverIP + clientIP)
        return (toServer ? serverMAC + clientMAC : clientMAC + serverMAC) + [0x08, 0x00] + ip + tcp + payload
    }

    /// Every connection opens, then each client sends `segments` segments of an MLLP frame that never ends, the
    /// connections taking turns (all of them open at once). After the third segment, 10 more clients open connections,
    /// which pushes the 5 oldest (each holding three segments) out of a table of 45 flows; those 5 then fall silent. The largest `heldStreamBytes` seen after a packet, the extractor after
    /// its end-of-capture flush, and the observations.
    static func run(_ extractor: inout ObservationExtractor) throws -> (maxHeld: Int, observations: [Observation]) {
        var output = ObservationBatch()
        var time: Int64 = 1_700_000_000_000_000
        var maxHeld = 0
        func feed(_ bytes: [UInt8]) {
            time += 10
            bytes.withUnsafeBytes {
                extractor.extract($0, originalLength: bytes.count, linkType: .ethernet, time: EventTime(microseconds: time), into: &output)
            }
            maxHeld = max(maxHeld, extractor.heldStreamBytes)
        }
        for i in 0..<connections {
            feed(frame(client: i, flags: 0x02, sequence: 1000))
            feed(frame(client: i, toServer: false, flags: 0x12, sequence: 5000))
        }
        let start = [0x0B] + Array("MSH|^~\\&|".utf8)
        for s in 0..<segments {
            let payload = (s == 0 ? start : []) + [UInt8](repeating: 0x41, count: segmentSize - (s == 0 ? start.count : 0))
            for i in 0..<connections where s <= 2 || i >= silenced {
                feed(frame(client: i, flags: 0x18, sequence: 1001 + UInt32(s * segmentSize), payload: payload))
            }
            if s == 2 { for i in 100..<110 { feed(frame(client: i, flags: 0x02, sequence: 1000)) } }
        }
        extractor.finish(into: &output)
        return (maxHeld, try output.decoded())
    }

    @Test("a small budget holds its limit, cuts directions, and is whole again once the flows end")
    func bounded() throws {
        let limit = 200_000
        var configuration = FlowTable.Configuration()
        configuration.capacity = 45  // the last connections push some out: their bytes come back that way too
        var extractor = ObservationExtractor(
            sensor: SensorIdentity(sensorId: "test", site: "test"), flowConfiguration: configuration, streamByteLimit: limit)
        let (maxHeld, observations) = try Self.run(&extractor)
        #expect(maxHeld >= limit && maxHeld <= limit + Self.segmentSize)
        #expect(extractor.counters.streamsCut > 0)
        #expect(extractor.counters.flowsEvicted > 0)
        #expect(extractor.heldStreamBytes == 0)
        #expect(observations.filter { $0.kind == .hl7Message }.count < Self.connections - Self.silenced)
    }

    @Test("a capture runner passes its budget on (wardwatch capture --stream-budget)")
    func runnerBudget() async throws {
        // The same traffic as `run`, written to a capture file.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("budget-\(getpid()).pcap").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let writer = try PcapWriter(path: path, linkType: .ethernet)
            var time: Int64 = 1_700_000_000_000_000
            func write(_ bytes: [UInt8]) {
                time += 10
                writer.write(bytes, originalLength: bytes.count, time: EventTime(microseconds: time))
            }
            for i in 0..<Self.connections { write(Self.frame(client: i, flags: 0x02, sequence: 1000)) }
            let start = [0x0B] + Array("MSH|^~\\&|".utf8)
            for s in 0..<Self.segments {
                let payload = (s == 0 ? start : []) + [UInt8](repeating: 0x41, count: Self.segmentSize - (s == 0 ? start.count : 0))
                for i in 0..<Self.connections {
                    write(Self.frame(client: i, flags: 0x18, sequence: 1001 + UInt32(s * Self.segmentSize), payload: payload))
                }
            }
        }
        func cut(_ limit: Int?) async throws -> Int {
            let source = try PcapSource(file: path)
            let sensor = SensorIdentity(sensorId: "test", site: "test")
            let runner = if let limit {
                CaptureRunner(sources: [source], sensor: sensor, sink: CollectingSink(), streamByteLimit: limit)
            } else {
                CaptureRunner(sources: [source], sensor: sensor, sink: CollectingSink())
            }
            return try await runner.run().streamsCut
        }
        #expect(try await cut(1 << 20) > 0)  // 40 connections of 64 KiB do not fit in 1 MiB
        #expect(try await cut(nil) == 0)
    }

    @Test("with the default budget the same connections are all decoded and nothing is cut")
    func unbounded() throws {
        var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "test", site: "test"))
        let (maxHeld, observations) = try Self.run(&extractor)
        // Each direction is let go as its prefix fills (65,536 bytes) and decodes: just before, nearly all are full.
        #expect(maxHeld > (Self.connections - Self.silenced - 1) * (65536 - Self.segmentSize))
        #expect(extractor.counters.streamsCut == 0)
        #expect(extractor.heldStreamBytes == 0)
        let messages = observations.compactMap(\.hl7Message)
        #expect(messages.count == Self.connections - Self.silenced)
        #expect(messages.allSatisfy { $0.sendingApplication == nil })  // MSH-3 is cut by the prefix's end
    }

    @Test("connections that fill the budget and then go quiet (ACKs only) are given up, so new connections are decoded")
    func quietHoldersLetGo() throws {
        var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "test", site: "test"), streamByteLimit: 200_000)
        var output = ObservationBatch()
        var time: Int64 = 1_700_000_000_000_000
        func feed(_ bytes: [UInt8], after step: Int64 = 10) {
            time += step
            bytes.withUnsafeBytes {
                extractor.extract($0, originalLength: bytes.count, linkType: .ethernet, time: EventTime(microseconds: time), into: &output)
            }
        }
        // Four holders send 50,000 bytes each of an MLLP frame that never ends: the budget is spent, exactly.
        let start = [0x0B] + Array("MSH|^~\\&|".utf8)
        for i in 0..<4 {
            feed(Self.frame(client: i, flags: 0x02, sequence: 1000))
            for s in 0..<50 {
                let payload = (s == 0 ? start : []) + [UInt8](repeating: 0x41, count: 1000 - (s == 0 ? start.count : 0))
                feed(Self.frame(client: i, flags: 0x18, sequence: 1001 + UInt32(s * 1000), payload: payload))
            }
        }
        #expect(extractor.heldStreamBytes == 200_000)
        #expect(extractor.counters.streamsCut == 0)
        // Then only empty ACKs, one a second from each for 20 s (well inside the idle timeout); then ten HTTP clients.
        for _ in 0..<20 {
            for i in 0..<4 { feed(Self.frame(client: i, flags: 0x10, sequence: 51_001), after: 250_000) }
        }
        let request = Array("GET /status HTTP/1.1\r\nHost: pump.example\r\nUser-Agent: Pump/1.0\r\n\r\n".utf8)
        for i in 10..<20 {
            feed(Self.frame(client: i, port: 80, flags: 0x02, sequence: 1000))
            feed(Self.frame(client: i, port: 80, flags: 0x18, sequence: 1001, payload: request))
        }
        // Holders were given up only until the budget had room again (the last one, a little younger, keeps its bytes).
        #expect(extractor.counters.streamsCut > 0 && extractor.counters.streamsCut < 4)
        #expect(extractor.heldStreamBytes < 200_000)
        extractor.finish(into: &output)
        #expect(extractor.heldStreamBytes == 0)
        #expect(try output.decoded().compactMap(\.http).count == 10)
    }
}
