import Foundation
import Testing
import WardwatchTestSupport
import WardwatchIdentity
import WardwatchModel

/// Identity findings are valid `iomt.alerts.v1` records (schemas/alert.v1.schema.json and its semantic checks).
@Suite struct AlertSchemaTests {
    static let python: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import jsonschema"]
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    @Test(.enabled(if: python)) func identityFindingsMatchTheAlertSchema() throws {
        var findings = Fold(try Fixtures.observations([Fixtures.identity("clone.pcap")])).findings("00:03:b1:00:00:99")
        let vendor = "00:12:21:aa:bb:cc"
        var state = DeviceIdentityState(deviceKey: vendor, site: "ward4", firstSeen: VerificationTests.base(.arp, vendor, at: 0).time)
        for o in [
            VerificationTests.syn(vendor, at: 1, signature: "4:128+0:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0", ttl: 128),
            VerificationTests.http(vendor, at: 2, userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0"),
        ] {
            findings += state.apply(o, engine: Fixtures.engine).compactMap { if case .finding(let f) = $0 { f } else { nil } }
        }
        #expect(findings.count >= 3)
        let encoder = WardwatchJSON.makeEncoder()
        // WARDWATCH_WRITE_EXAMPLES=DIR writes each finding kind once, for schemas/examples/alerts.v1/valid.
        if let dir = ProcessInfo.processInfo.environment["WARDWATCH_WRITE_EXAMPLES"] {
            let pretty = WardwatchJSON.makeEncoder()
            pretty.outputFormatting.insert(.prettyPrinted)
            for f in Dictionary(findings.map { ($0.finding_info.analytic.uid, $0) }, uniquingKeysWith: { a, _ in a }).values {
                let name = f.finding_info.analytic.uid.replacingOccurrences(of: "wardwatch.identity.", with: "identity-")
                try pretty.encode(f).write(to: URL(fileURLWithPath: dir).appendingPathComponent(name + ".json"))
            }
        }
        var lines = ""
        for f in findings {
            let value = String(decoding: try encoder.encode(f), as: UTF8.self)
            lines += "{\"topic\":\"iomt.alerts.v1\",\"key\":\"\(f.unmapped.device_key)\",\"value\":\(value)}\n"
        }
        let (status, report) = try SchemaValidator.validateRecords(Data(lines.utf8), name: "identity-alerts")
        #expect(status == 0, "\(report)\n\(lines)")
    }
}
