import Foundation
import Logging

/// noida-db (PyPI): one binary speaking the Kafka protocol, with topic creation, transactions and read_committed,
/// which librdkafka's mock cluster lacks (shared/docs/test-brokers.md). Started on a free loopback port for the tests
/// and benchmarks that need those features; `make test` installs it.
public final class NoidaBroker: Sendable {
    /// The server binary inside the noida-db wheel (run directly: its Python wrapper does not pass signals on), or nil
    /// when the package is not installed.
    public static let executable: String? = {
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

    public let bootstrapServers: String
    private let process: Process
    private let dataDirectory: URL

    private init(process: Process, bootstrapServers: String, dataDirectory: URL) {
        self.process = process
        self.bootstrapServers = bootstrapServers
        self.dataDirectory = dataDirectory
    }

    /// Starts only its Kafka service on a random free port and waits (up to 20 s) until it answers.
    public static func start(logger: Logger = Logger(label: "wardwatch.noida")) async throws -> NoidaBroker {
        guard let executable else { throw KafkaError(message: "noida-db is not installed (pip install noida-db)") }
        let port = Int.random(in: 41000...49000)
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("noida-\(getpid())-\(port)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["start", "--only", "kafka", "--kafka-port", "\(port)", "--data-dir", dataDirectory.path]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let broker = NoidaBroker(process: process, bootstrapServers: "127.0.0.1:\(port)", dataDirectory: dataDirectory)
        let probe = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: broker.bootstrapServers), logger: logger)
        let deadline = ContinuousClock.now + .seconds(20)
        var up = false
        while !up && ContinuousClock.now < deadline {
            up = (try? await probe.checkConnectivity(timeout: .seconds(1))) != nil
        }
        await probe.shutdown()
        guard up else {
            broker.stop()
            throw KafkaError(message: "noida-db did not start on \(broker.bootstrapServers)")
        }
        return broker
    }

    /// Stops it as its Ctrl-C does (killed after 3 s) and removes its data.
    public func stop() {
        process.interrupt()
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: dataDirectory)
    }
}
