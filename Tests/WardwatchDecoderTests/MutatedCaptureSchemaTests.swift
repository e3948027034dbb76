import Foundation
import Testing
@testable import WardwatchCapture
import WardwatchDecoders
import WardwatchModel
import WardwatchTestSupport

/// What the capture publishes from damaged traffic must still match its schema: `wardwatch process` sends a record
/// that does not to the dead-letter topic, so one odd byte in a host name or UID would lose a whole observation.
@Suite("Observations from damaged packets")
struct MutatedCaptureSchemaTests {
    /// Every capture in ../shared/pcaps and Tests/Fixtures, and the ward sample.
    static func captures() -> [String] {
        var paths = [Fixtures.wardSample]
        for root in [AnnouncementFilterTests.sharedPcaps, Fixtures.path("Tests/Fixtures")] {
            let names = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
            paths += names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted().map { root + "/" + $0 }
        }
        return paths
    }

    @Test("observations from every capture, with bytes flipped or packets cut, all match the observation schema")
    func mutatedCapturesMatchSchema() throws {
        var lines = Data()
        var packets = 0
        var files = 0
        for path in Self.captures() {
            guard let (linkType, original) = try? Fixtures.packets(path) else { continue }
            files += 1
            for seed in UInt64(1)...3 {
                var rng = SplitMix64(seed: seed &* 0x1_0000 &+ UInt64(files))
                var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "mutated", site: "test"), announcementRefresh: 0)
                var output = ObservationBatch()
                for (bytes, _, time) in original {
                    var mutated = bytes
                    let roll = rng.next() % 10
                    if !mutated.isEmpty && roll < 6 {
                        for _ in 0...(rng.next() % 4) {
                            mutated[Int(rng.next() % UInt64(mutated.count))] = UInt8(truncatingIfNeeded: rng.next())
                        }
                    } else if !mutated.isEmpty && roll < 8 {
                        mutated.removeLast(Int(rng.next() % UInt64(mutated.count)))
                    }
                    mutated.withUnsafeBytes {
                        extractor.extract($0, originalLength: mutated.count, linkType: linkType, time: time, into: &output)
                    }
                    packets += 1
                }
                extractor.finish(into: &output)
                output.withLines { lines.append(contentsOf: $0) }
            }
        }
        #expect(files >= 6)
        #expect(packets > 1_000)
        let (status, report) = try SchemaValidator.validateRecords(lines, name: "mutated-observations")
        #expect(status == 0, "\(report.prefix(4000))")
    }
}

@Suite("Schema field rules")
struct SchemaFieldTests {
    @Test("DICOM UIDs: digits in dot-separated components, 1 to 64 characters; anything else is left out")
    func dicomUIDs() {
        #expect(SchemaFields.dicomUID("1.2.840.10008.3.1.1.1") == "1.2.840.10008.3.1.1.1")
        #expect(SchemaFields.dicomUID("1") == "1")
        #expect(SchemaFields.dicomUID(String(repeating: "1.", count: 31) + "12") != nil)  // 64 characters
        for bad in ["", ".1", "1.", "1..2", "1.2?.3", "1.2.826.0.1.3680043.9.7133.1Y1", "1 .2",
                    String(repeating: "1.", count: 32) + "1", nil] {
            #expect(SchemaFields.dicomUID(bad) == nil, "\(bad ?? "nil")")
        }
    }

    @Test("short texts, server names and VLAN ids")
    func otherFields() {
        #expect(SchemaFields.dicomShortText("STORESCU") == "STORESCU")
        #expect(SchemaFields.dicomShortText(String(repeating: "A", count: 17)) == nil)
        #expect(SchemaFields.dicomShortText("") == nil)
        #expect(SchemaFields.serverName("www.example.org") == "www.example.org")
        #expect(SchemaFields.serverName("api.x\u{0}cs.net") == "api.x?cs.net")
        #expect(SchemaFields.serverName("a b\u{7F}") == "a?b?")
        #expect(SchemaFields.serverName(String(repeating: "a", count: 256)) == nil)
        #expect(SchemaFields.vlanID(20) == 20)
        #expect(SchemaFields.vlanID(0) == nil && SchemaFields.vlanID(4095) == nil && SchemaFields.vlanID(26189) == nil)
    }
}
