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
    static func frame(client i: Int, toServer: Bool = true, flags: UInt8, sequence: UInt32, payload: [UInt8] = []) -> [UInt8] {
        let clientMAC: [UInt8] = [0x02, 0, 0, 0, 0x01, UInt8(i)], serverMAC: [UInt8] = [0x02, 0, 0, 0, 0x02, 0]
        let clientIP: [UInt8] = [10, 1, 0, UInt8(i)], serverIP: [UInt8] = [10, 0, 9, 9]
        let (sourcePort, destinationPort): (UInt16, UInt16) = toServer ? (30_000 + UInt16(i), 2575) : (2575, 30_000 + UInt16(i))
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
}
