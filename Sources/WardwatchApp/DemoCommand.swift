import ArgumentParser
import Foundation
import Logging
import WardwatchKafka
import WardwatchModel
import WardwatchProcessing

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run capture and process end to end on the embedded broker and print the inventory and alerts.",
        discussion: """
            Starts the in-memory broker in this process, captures the bundled sample of a small hospital ward (or
            --pcap FILE), processes it in a consumer group and prints what reached the devices and alerts topics.
            With --json, standard output carries only one line per record: {"topic": ..., "key": ..., "value": {...}}.
            Exits when the capture is fully processed.
            """)

    @Option(name: .long, parsing: .upToNextOption, help: "Capture files to use instead of the bundled ward sample.")
    var pcap: [String] = []

    @Flag(name: .long, help: "Print every record of the devices and alerts topics as JSON lines, and nothing else.")
    var json = false

    @Option(name: .long, help: "Log level (logs go to standard error).")
    var logLevel: String = "warning"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("--log-level '\(logLevel)' is not a log level") }
        Observability.bootstrapLogging(level: level)
        let logger = Observability.logger("wardwatch.demo", level: level)
        var paths = pcap
        if paths.isEmpty {
            guard let sample = DemoPipeline.bundledSample else { throw ValidationError("the bundled sample capture is missing") }
            paths = [sample]
        }
        let result = try await DemoPipeline(pcapPaths: paths, logger: logger).run()
        if json {
            try printJSON(result)
        } else {
            try printTables(result)
        }
    }

    private func printJSON(_ result: DemoPipeline.Result) throws {
        var out = Data()
        for record in result.records {
            let key = record.key.map { String(decoding: $0, as: UTF8.self) } ?? ""
            let topic = try JSONSerialization.data(withJSONObject: record.topic, options: [.fragmentsAllowed])
            let keyJSON = try JSONSerialization.data(withJSONObject: key, options: [.fragmentsAllowed])
            out.append(Data("{\"topic\": ".utf8) + topic + Data(", \"key\": ".utf8) + keyJSON + Data(", \"value\": ".utf8))
            out.append(Data(record.value ?? []))
            out.append(Data("}\n".utf8))
        }
        FileHandle.standardOutput.write(out)
    }

    private func printTables(_ result: DemoPipeline.Result) throws {
        var latest: [String: DeviceRecord] = [:]
        var alerts: [DetectionFinding] = []
        for record in result.records {
            guard let value = record.value else { continue }
            if record.topic == result.topics.devices {
                let device = try DeviceRecord.decode(value)
                latest[device.profile.deviceKey] = device
            } else if record.topic == result.topics.alerts {
                alerts.append(try JSONDecoder().decode(DetectionFinding.self, from: Data(value)))
            }
        }
        let c = result.capture
        print("Wardwatch demo: \(c.packets) packets, \(c.observations) observations, \(c.malformed) malformed packets skipped")
        print("(embedded in-memory broker; nothing is kept after exit)\n")
        print("Inventory (\(result.topics.devices)): \(latest.count) devices")
        let rows = latest.values.sorted { $0.profile.deviceKey < $1.profile.deviceKey }.map { d -> [String] in
            let p = d.profile
            let identity = d.inventory
            return [
                p.deviceKey, identity?.unmapped.device_class ?? "", identity?.device.vendor_name ?? "",
                identity?.device.model ?? "", p.ips.joined(separator: ","), p.hostnames.joined(separator: ","),
                p.vlans.map(String.init).joined(separator: ","), p.dhcp?.vendorClass ?? "",
                p.dhcp?.parameterRequestList.map { $0.map(String.init).joined(separator: ",") } ?? "",
                p.firstSeen.description, String(p.observationCount),
            ]
        }
        printTable(header: ["MAC", "CLASS", "VENDOR", "MODEL", "IP", "HOSTNAME", "VLAN", "DHCP VENDOR CLASS", "DHCP OPTION 55", "FIRST SEEN", "OBS"], rows: rows)
        print("\nAlerts (\(result.topics.alerts)): \(alerts.count) OCSF Detection Findings")
        let alertRows = alerts.sorted { ($0.time, $0.finding_info.uid) < ($1.time, $1.finding_info.uid) }.map { a in
            [
                EventTime(microseconds: a.time * 1000).description, a.severity, a.finding_info.title, a.unmapped.device_key,
                a.finding_info.uid,
            ]
        }
        printTable(header: ["TIME", "SEVERITY", "FINDING", "DEVICE", "FINDING UID"], rows: alertRows)
    }

    private func printTable(header: [String], rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], min(cell.count, 48)) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let text = cell.count > 48 ? String(cell.prefix(47)) + "…" : cell
                return text.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }
}
