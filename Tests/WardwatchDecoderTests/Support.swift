import Foundation
import WardwatchCapture
import WardwatchDecoders
import WardwatchModel

enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
    static let wardSample = path("Sources/WardwatchApp/Resources/ward-sample.pcap")
    static let wardExpected = path("Sources/WardwatchApp/Resources/ward-sample.expected.json")
    static let dhcpDORA = path("Tests/Fixtures/dhcp-dora.pcap")

    /// Every shared and fixture capture file (pcap and pcapng).
    static func allCaptureFiles() -> [String] {
        let roots = [path("Tests/Fixtures"), path("Sources/WardwatchApp/Resources"),
                     root.deletingLastPathComponent().appendingPathComponent("shared/pcaps").path]
        var files: [String] = []
        for root in roots {
            let names = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
            files += names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.map { root + "/" + $0 }
        }
        return files
    }

    /// Every packet of a capture file as (bytes, wire length, time).
    static func packets(_ path: String) throws -> (LinkType, [([UInt8], Int, EventTime)]) {
        let source = try PcapSource(file: path)
        var packets: [([UInt8], Int, EventTime)] = []
        while try source.next({ bytes, length, time in packets.append((Array(bytes), length, time)) }) == .packet {}
        return (source.linkType, packets)
    }

    /// Observations of a capture file, with the extractor's counters.
    static func observations(_ path: String) throws -> ([Observation], CaptureCounters) {
        let (linkType, packets) = try packets(path)
        var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "test", site: "test-site"))
        var output = ObservationBatch()
        for (bytes, length, time) in packets {
            bytes.withUnsafeBytes { extractor.extract($0, originalLength: length, linkType: linkType, time: time, into: &output) }
        }
        return (try output.decoded(), extractor.counters)
    }

    static func tshark(_ arguments: [String]) throws -> String? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark") else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tshark")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
