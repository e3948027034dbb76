import Foundation
import Testing
@testable import WardwatchKafka

/// noida-db (PyPI) speaks the Kafka protocol and, unlike librdkafka's mock cluster, implements CreateTopics and
/// DescribeConfigs, so the admin API is tested against it. `make test` installs it.
enum NoidaBroker {
    /// The server binary inside the noida-db wheel (run directly: its Python wrapper does not pass signals on).
    static let executable: String? = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import noida_db, os; print(os.path.join(os.path.dirname(noida_db.__file__), 'noida-db'))"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        guard (try? process.run()) != nil else { return nil }
        let path = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        return process.terminationStatus == 0 && FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    /// Starts noida-db with only its Kafka service on a free port; returns the process and its bootstrap address.
    static func start() async throws -> (Process, String, URL) {
        let port = Int.random(in: 41000...49000)
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("noida-\(getpid())-\(port)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable!)
        process.arguments = ["start", "--only", "kafka", "--kafka-port", "\(port)", "--data-dir", dataDir.path]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let bootstrap = "127.0.0.1:\(port)"
        let probe = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap), logger: TestKafka.logger)
        let up = await TestKafka.eventually(timeout: .seconds(20)) {
            (try? await probe.checkConnectivity(timeout: .seconds(1))) != nil
        }
        await probe.shutdown()
        guard up else {
            process.terminate()
            throw KafkaError(message: "noida-db did not start on \(bootstrap)")
        }
        return (process, bootstrap, dataDir)
    }

    /// Stops it as its Ctrl-C does, within a few seconds.
    static func stop(_ process: Process, dataDir: URL) {
        process.interrupt()
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: dataDir)
    }
}

@Suite("Admin API against noida-db", .enabled(if: NoidaBroker.executable != nil, "needs noida-db (pip install noida-db; make test installs it)"))
struct AdminTests {
    @Test("create topics with partitions and configs, then describe them")
    func createAndDescribe() async throws {
        let (process, bootstrap, dataDir) = try await NoidaBroker.start()
        defer { NoidaBroker.stop(process, dataDir: dataDir) }
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(bootstrapServers: bootstrap), logger: TestKafka.logger)
        try await admin.createTopics([
            NewTopic(name: "iomt.devices.v1", partitions: 6, configs: ["cleanup.policy": "compact"]),
            NewTopic(name: "iomt.alerts.v1", partitions: 3, configs: ["retention.ms": "86400000"]),
        ])
        // Creating again is not an error.
        try await admin.createTopics([NewTopic(name: "iomt.alerts.v1", partitions: 3)])
        let topics = try await admin.describeTopics(["iomt.devices.v1", "iomt.alerts.v1"])
        #expect(topics.map(\.name) == ["iomt.alerts.v1", "iomt.devices.v1"])
        #expect(topics.first { $0.name == "iomt.devices.v1" }?.partitions.count == 6)
        #expect(topics.first { $0.name == "iomt.alerts.v1" }?.partitions.map(\.id) == [0, 1, 2])
        let config = try await admin.describeTopicConfig("iomt.devices.v1")
        #expect(config["cleanup.policy"] == "compact")
    }
}
