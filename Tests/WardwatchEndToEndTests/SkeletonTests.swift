import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import WardwatchTestSupport
import WardwatchApp
import WardwatchKafka
import WardwatchModel

struct ExpectedWard: Decodable {
    struct Device: Decodable {
        var mac: String
        var ip: String
        var hostname: String?
        var vendor_class: String?
        var parameter_request_list: [Int]?
        var vlans: [Int]
    }
    var devices: [Device]

    static func load() throws -> ExpectedWard {
        try JSONDecoder().decode(ExpectedWard.self, from: Data(contentsOf: URL(fileURLWithPath: Repo.wardExpected)))
    }
}

@Suite("Walking skeleton, capture to alerts", .serialized)
struct SkeletonTests {
    @Test("the demo pipeline on the embedded broker yields the ward's devices and one finding each")
    func pipelineInProcess() async throws {
        let expected = try ExpectedWard.load()
        let result = try await DemoPipeline(pcapPaths: [Repo.wardSample], logger: Repo.quietLogger).run()
        #expect(result.capture.malformed == 1)

        var profiles: [String: DeviceProfile] = [:]
        var findings: [DetectionFinding] = []
        for record in result.records {
            let key = String(decoding: record.key ?? [], as: UTF8.self)
            if record.topic == result.topics.devices {
                let profile = try WardwatchJSON.decode(DeviceProfile.self, from: record.value!)
                #expect(profile.deviceKey == key)
                profiles[key] = profile
            } else {
                let finding = try JSONDecoder().decode(DetectionFinding.self, from: Data(record.value!))
                #expect(finding.unmapped.device_key == key)
                findings.append(finding)
            }
        }
        #expect(Set(profiles.keys) == Set(expected.devices.map(\.mac)))
        for device in expected.devices {
            let profile = try #require(profiles[device.mac])
            #expect(profile.ips == [device.ip], "\(device.mac)")
            #expect(profile.hostnames == (device.hostname.map { [$0] } ?? []), "\(device.mac)")
            #expect(profile.dhcp?.parameterRequestList == device.parameter_request_list, "\(device.mac)")
            #expect(profile.dhcp?.vendorClass == device.vendor_class, "\(device.mac)")
            #expect(profile.vlans == device.vlans, "\(device.mac)")
        }
        let newDevices = findings.filter { $0.finding_info.analytic.uid == "wardwatch.new-device" }
        #expect(newDevices.count == expected.devices.count)
        #expect(Set(newDevices.compactMap(\.device.mac)) == Set(expected.devices.map(\.mac)))
        for finding in newDevices {
            #expect(finding.class_uid == 2004 && finding.type_uid == 200401 && finding.category_uid == 2)
            #expect(finding.finding_info.uid == DeterministicUUID.v5(name: "wardwatch:new-device:\(finding.unmapped.device_key)"))
            #expect(finding.finding_info.title == "New device observed")
        }
    }

    @Test("two runs over the same capture write byte-identical devices and alerts")
    func deterministic() async throws {
        func run() async throws -> [String] {
            let result = try await DemoPipeline(pcapPaths: [Repo.wardSample], logger: Repo.quietLogger).run()
            return result.records.map { "\($0.topic)|\($0.partition)|\(String(decoding: $0.key ?? [], as: UTF8.self))|\(String(decoding: $0.value ?? [], as: UTF8.self))" }
        }
        let first = try await run()
        let second = try await run()
        #expect(!first.isEmpty)
        #expect(first == second)
    }

    @Test("demo --json prints only envelope lines, and they satisfy the topic schemas")
    func demoJSONValidates() async throws {
        let (status, out, err) = try await Child.run(["demo", "--json"])
        #expect(status == 0, "\(err)")
        let lines = out.split(separator: "\n")
        #expect(lines.count > 11)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object.map { Set($0.keys) } == ["topic", "key", "value"])
        }
        let (validity, report) = try SchemaValidator.validateRecords(Data(out.utf8), name: "demo")
        #expect(validity == 0, "schemas/validate.py rejected demo --json output: \(report.prefix(4000))")
    }

    @Test("separate broker, capture and process processes: capture to alerts over loopback")
    func realProcesses() async throws {
        let (broker, port) = try await Child.broker(partitions: 4)
        defer { broker.signal(SIGKILL) }
        #expect(broker.stderr.contains("in-memory"))
        let brokers = "127.0.0.1:\(port)"

        let (captureStatus, _, captureErr) = try await Child.run(
            ["capture", "--pcap", Repo.wardSample, "--brokers", brokers, "--sensor-id", "ward4", "--site", "general"])
        #expect(captureStatus == 0, "\(captureErr)")

        let metricsPort = port + 1
        let process = try Child([
            "process", "--brokers", brokers, "--log-level", "warning", "--metrics-port", "\(metricsPort)",
            "--metrics-host", "127.0.0.1",
        ])
        let expected = try ExpectedWard.load()
        var records: [ConsumerRecord] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            records = try await readAll(brokers: brokers, topic: "iomt.alerts.v1", partitions: 4)
            if records.count >= expected.devices.count { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        // Alerts can arrive before the first commit or client statistics are recorded: scrape until they are there.
        var metrics = ""
        let metricsDeadline = ContinuousClock.now + .seconds(20)
        repeat {
            metrics = try await httpGet("http://127.0.0.1:\(metricsPort)/metrics")
            if metrics.contains("wardwatch_streams_records_in_total")
                && (metrics.contains("kafka_client_") || metrics.contains("wardwatch_streams_commit_seconds"))
            {
                break
            }
            try await Task.sleep(for: .milliseconds(250))
        } while ContinuousClock.now < metricsDeadline
        #expect(metrics.contains("wardwatch_streams_records_in_total"))
        #expect(metrics.contains("kafka_client_") || metrics.contains("wardwatch_streams_commit_seconds"))
        process.signal(SIGTERM)
        let processStatus = try await process.wait(timeout: .seconds(30))
        #expect(processStatus == 0, "process exit: \(process.stderr)")
        let keys = Set(records.map { String(decoding: $0.key ?? [], as: UTF8.self) })
        #expect(keys == Set(expected.devices.map(\.mac)))
        #expect(records.count == expected.devices.count)

        broker.signal(SIGTERM)
        #expect(try await broker.wait(timeout: .seconds(10)) == 0)
    }

    private func httpGet(_ url: String) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url)!)
        return String(decoding: data, as: UTF8.self)
    }

    private func readAll(brokers: String, topic: String, partitions: Int32) async throws -> [ConsumerRecord] {
        let consumer = try KafkaConsumer(configuration: KafkaConfiguration(bootstrapServers: brokers), logger: Repo.quietLogger)
        var ends: [TopicPartition: Int64] = [:]
        for p in 0..<partitions {
            let high = try await consumer.watermarks(TopicPartition(topic, p)).high
            if high > 0 { ends[TopicPartition(topic, p)] = high }
        }
        guard !ends.isEmpty else { await consumer.close(); return [] }
        try await consumer.assign(ends.keys.map { TopicPartitionOffset($0, TopicPartitionOffset.beginning) })
        var records: [ConsumerRecord] = []
        for try await batch in consumer.batches {
            records += batch
            if records.count >= Int(ends.values.reduce(0, +)) { break }
        }
        await consumer.close()
        return records
    }
}

@Suite("Command-line errors: one line naming the cause, non-zero exit")
struct CommandLineErrorTests {
    @Test("--output writes through a symbolic link (or a device such as /dev/null) instead of replacing it")
    func outputKeepsWhatThePathIs() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ww-out-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("target.jsonl")
        let link = dir.appendingPathComponent("link.jsonl")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        let (status, _, err) = try await Child.run(["capture", "--pcap", Repo.wardSample, "--output", link.path, "--log-level", "error"])
        #expect(status == 0, "\(err)")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link.path)) == target.path, "the link was replaced")
        let lines = try String(contentsOf: target, encoding: .utf8).split(separator: "\n")
        #expect(lines.count > 50)
    }

    @Test("a bad flag")
    func badFlag() async throws {
        let (status, out, err) = try await Child.run(["capture", "--bogus", "--pcap", Repo.wardSample, "--output", "-"])
        #expect(status != 0)
        #expect(out.isEmpty)
        #expect(err.split(separator: "\n").count == 1)
        #expect(err.contains("--bogus"))
    }

    @Test("a BPF filter on capture files decodes only what it accepts; a bad one, or a live-only flag, is a one-line error")
    func fileFilter() async throws {
        func kinds(_ text: String) -> [String: Int] {
            var counts: [String: Int] = [:]
            for line in text.split(separator: "\n") {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                counts[object?["kind"] as? String ?? "?", default: 0] += 1
            }
            return counts
        }
        let (_, whole, _) = try await Child.run(["capture", "--pcap", Repo.wardSample, "--output", "-", "--log-level", "error"])
        let all = kinds(whole)
        #expect(all.count > 2 && (all["arp"] ?? 0) > 0)
        // As in tcpdump, a VLAN-tagged frame matches only after `vlan`: the sample has tagged and untagged ARP.
        let (status, tagged, err) = try await Child.run(
            ["capture", "--pcap", Repo.wardSample, "--filter", "arp or (vlan and arp)", "--output", "-", "--log-level", "error"])
        #expect(status == 0, "\(err)")
        #expect(kinds(tagged) == ["arp": all["arp"]!])
        let (_, untagged, _) = try await Child.run(
            ["capture", "--pcap", Repo.wardSample, "--filter", "arp", "--output", "-", "--log-level", "error"])
        let untaggedCount = kinds(untagged)["arp"] ?? 0
        #expect(kinds(untagged).keys.sorted() == ["arp"] && untaggedCount > 0 && untaggedCount < all["arp"]!)
        #expect(!untagged.contains("\"vlan\":"))

        let failures: [([String], String)] = [
            (["--filter", "tcp port"], "invalid capture filter 'tcp port'"),
            (["--snaplen", "128"], "--snaplen applies to live capture (--interface) only"),
            (["--buffer-size", "64"], "--buffer-size applies to live capture (--interface) only"),
            (["--no-promiscuous"], "--no-promiscuous applies to live capture (--interface) only"),
            (["--immediate"], "--immediate applies to live capture (--interface) only"),
            (["--fanout-group", "7"], "--fanout-group applies to live capture (--interface) only"),
            (["--stop-timeout", "5"], "--stop-timeout applies to publishing to Kafka (--brokers) only"),
        ]
        for (flags, message) in failures {
            let (status, out, err) = try await Child.run(["capture", "--pcap", Repo.wardSample, "--output", "-"] + flags)
            #expect(status != 0, "\(flags)")
            #expect(out.isEmpty, "\(flags)")
            #expect(err.split(separator: "\n").count == 1 && err.contains(message), "\(flags): \(err)")
        }
        let (budgetStatus, _, budgetErr) = try await Child.run(["capture", "--pcap", Repo.wardSample, "--stream-budget", "0", "--output", "-"])
        #expect(budgetStatus != 0 && budgetErr.split(separator: "\n").count == 1 && budgetErr.contains("--stream-budget must be 1 to 65536 MiB"))
        let (bufferStatus, _, bufferErr) = try await Child.run(["capture", "--interface", "lo", "--buffer-size", "0", "--output", "-"])
        #expect(bufferStatus != 0 && bufferErr.split(separator: "\n").count == 1 && bufferErr.contains("--buffer-size must be 1 to 2047 MiB"))
        let (fanoutStatus, _, fanoutErr) = try await Child.run(["capture", "--interface", "lo", "--fanout-group", "65536", "--output", "-"])
        #expect(fanoutStatus != 0 && fanoutErr.split(separator: "\n").count == 1 && fanoutErr.contains("--fanout-group must be 0 to 65535"))
    }

    @Test("a missing capture file")
    func missingFile() async throws {
        let (status, _, err) = try await Child.run(["capture", "--pcap", "/nonexistent/ward.pcap", "--output", "-"])
        #expect(status != 0)
        #expect(err.split(separator: "\n").count == 1)
        #expect(err.contains("/nonexistent/ward.pcap") && err.contains("no such file"))
    }

    @Test("a corrupt capture file: what came before the damage is still written")
    func corruptFile() async throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Repo.wardSample))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("corrupt-\(getpid()).pcap")
        try bytes.prefix(bytes.count / 2).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let (status, out, err) = try await Child.run(["capture", "--pcap", file.path, "--output", "-", "--log-level", "error"])
        #expect(status != 0)
        #expect(lastLine(err).hasPrefix("wardwatch: error reading capture file \(file.path)"))
        #expect(lastLine(err).contains("truncated"))
        #expect(out.split(separator: "\n").count > 10)

        // A damaged file among several: the files after it are still read, then the command fails naming it.
        let (statusBoth, outBoth, errBoth) = try await Child.run(
            ["capture", "--pcap", file.path, Repo.wardSample, "--output", "-", "--log-level", "error"])
        #expect(statusBoth != 0)
        #expect(lastLine(errBoth).hasPrefix("wardwatch: error reading capture file \(file.path)"))
        #expect(errBoth.contains("source ended early"))
        let linesBoth = outBoth.split(separator: "\n")
        #expect(linesBoth.count > out.split(separator: "\n").count)
        let (_, outWhole, _) = try await Child.run(["capture", "--pcap", Repo.wardSample, "--output", "-", "--log-level", "error"])
        // Every device of the undamaged file is in the output (its repeated announcements may be held back).
        func devices(_ text: String) -> Set<String> {
            Set(text.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["device_key"] as? String
            })
        }
        #expect(devices(outWhole).isSubset(of: devices(outBoth)))

        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("garbage-\(getpid()).pcap")
        try Data("this is not a capture".utf8).write(to: garbage)
        defer { try? FileManager.default.removeItem(at: garbage) }
        let (status2, _, err2) = try await Child.run(["capture", "--pcap", garbage.path, "--output", "-"])
        #expect(status2 != 0)
        #expect(err2.split(separator: "\n").count == 1 && err2.contains(garbage.path))
    }

    @Test("brokers that vanish mid-capture: SIGTERM still stops it within --stop-timeout, failing with the count")
    func brokersVanish() async throws {
        let (broker, port) = try await Child.broker(partitions: 3)
        defer { broker.signal(SIGKILL) }
        // A FIFO, so the capture is reading (past its connectivity check) before any packet exists.
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("ww-fifo-\(getpid())").path
        unlink(fifo)
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        let writer = open(fifo, O_RDWR)  // does not wait for a reader; keeps the FIFO open until closed below
        #expect(writer >= 0)
        let sample = try Data(contentsOf: URL(fileURLWithPath: Repo.wardSample))
        func write(_ bytes: Data) { _ = bytes.withUnsafeBytes { Glibc.write(writer, $0.baseAddress, $0.count) } }
        write(sample.prefix(24))  // the file header: libpcap's open reads it
        let capture = try Child(
            ["capture", "--pcap", fifo, "--brokers", "127.0.0.1:\(port)", "--stop-timeout", "2", "--log-level", "info"])
        let deadline = ContinuousClock.now + .seconds(30)
        while !capture.stderr.contains("reading"), capture.process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(capture.stderr.contains("reading"), "\(capture.stderr)")
        broker.signal(SIGKILL)
        _ = try await broker.wait(timeout: .seconds(10))
        write(sample.dropFirst(24))
        close(writer)
        // The whole file is read; its observations wait for a cluster that is gone (librdkafka would wait 300 s).
        try await Task.sleep(for: .seconds(2))
        #expect(capture.process.isRunning, "the capture ended before the stop: \(capture.stderr)")
        let stoppedAt = ContinuousClock.now
        capture.signal(SIGTERM)
        let status = try await capture.wait(timeout: .seconds(30))
        #expect(ContinuousClock.now - stoppedAt < .seconds(12))
        #expect(status != 0)
        let last = lastLine(capture.stderr)
        #expect(last.hasPrefix("wardwatch: ") && last.contains("observations were not delivered to Kafka: given up"), "\(last)")
    }

    @Test("an unreachable broker, within a bounded time")
    func unreachableBroker() async throws {
        // The command's own run time: the test pool may be slow to notice the exit while other suites run.
        let (status, _, err, runTime) = try await Child.runTimed(
            ["capture", "--pcap", Repo.wardSample, "--brokers", "127.0.0.1:1", "--connect-timeout", "3", "--log-level", "critical"],
            timeout: .seconds(30))
        #expect(runTime < .seconds(15))
        #expect(status != 0)
        #expect(err.split(separator: "\n").count == 1)
        #expect(err.contains("cannot reach Kafka brokers at 127.0.0.1:1"))
        let (status2, _, err2) = try await Child.run(
            ["process", "--brokers", "127.0.0.1:1", "--connect-timeout", "3", "--log-level", "critical"], timeout: .seconds(30))
        #expect(status2 != 0)
        #expect(lastLine(err2).contains("cannot reach Kafka brokers at 127.0.0.1:1"))
    }
}
