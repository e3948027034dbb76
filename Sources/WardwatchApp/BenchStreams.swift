import ArgumentParser
import Foundation
import Logging
import WardwatchKafka
import WardwatchModel
import WardwatchProcessing
import WardwatchStreams

/// Processor throughput and latency: a keyed count per device per one-minute window, at-least-once and exactly-once,
/// against a bare librdkafka consume-and-produce pass-through (kcat piped into kcat: the floor) and Quix Streams
/// running the same windowed count, all on the same broker in the same run.
struct StreamsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streams",
        abstract: "Windowed-count throughput (at-least-once, exactly-once) against a kcat pass-through and Quix Streams.",
        discussion: """
            Needs a broker with transactions and topic creation: noida-db (pip install noida-db) is started on a free
            port unless --brokers is given. Throughput counts from the first to the last input record processed; the
            pass-through is timed as a whole. Latency: input produced at a fixed rate with the wall-clock time as record
            timestamp; each output's delay is the time it is read (read_committed) minus that timestamp.
            """)

    @Option(help: "Input records (observations of 10,000 devices).") var records = 200_000
    @Option(help: "Input partitions.") var partitions: Int32 = 4
    @Option(help: "Runs; medians are reported.") var runs = 3
    @Option(help: "Use this broker instead of starting noida-db.") var brokers: String?
    @Option(help: "Latency test: records per second.") var latencyRate = 2_000
    @Option(help: "Latency test: seconds.") var latencySeconds = 5
    @Option(help: "The Quix Streams peer script.") var quixScript = "Tests/Bench/quix_windowed_count.py"
    @Option(help: "Python with quixstreams installed.") var python = "python3"
    @Option(help: "kcat executable.") var kcat = "/usr/bin/kcat"
    @Flag(help: "Skip Quix Streams.") var skipQuix = false
    @Option(help: "Log level of the runtime under test.") var logLevel = "error"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .error
        Observability.bootstrapLogging(level: level)
        let logger = Observability.logger("wardwatch.bench", level: level)
        var noida: NoidaBroker?
        let bootstrap: String
        if let brokers {
            bootstrap = brokers
        } else {
            guard NoidaBroker.executable != nil else {
                throw ValidationError("noida-db not found (pip install noida-db), or pass --brokers")
            }
            let started = try await NoidaBroker.start(logger: logger)
            noida = started
            bootstrap = started.bootstrapServers
        }
        defer { noida?.stop() }
        let kafka = KafkaConfiguration(bootstrapServers: bootstrap)
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        let windows = TimeWindows.tumbling(size: 60_000)
        let stream = SyntheticObservations(devices: 10_000, rounds: max(1, records / 10_000), topic: "bench-streams-in")
        try await admin.createTopics([NewTopic(name: stream.topic, partitions: partitions, configs: Self.keepForever)])
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        var sent = 0
        while sent < stream.count {
            let end = min(stream.count, sent + 20_000)
            try await producer.send(stream.records(sent..<end))
            sent = end
        }
        print("Stream-processing benchmark: windowed count per device per 1-minute window, \(stream.count) observations "
            + "of 10,000 devices, \(partitions) partitions, \(runs) runs, one instance")
        print("broker: \(noida == nil ? bootstrap : "noida-db at \(bootstrap)"); floor: kcat | kcat; peer: Quix Streams\n")

        var floor: [Double] = []
        var ours: [ProcessingGuarantee: [Double]] = [:]
        var quix: [ProcessingGuarantee: [Double]] = [:]
        for run in 1...runs {
            let out = "bench-floor-out-\(run)"
            try await admin.createTopics([NewTopic(name: out, partitions: partitions, configs: Self.keepForever)])
            floor.append(Double(stream.count) / (try passThrough(bootstrap: bootstrap, input: stream.topic, output: out)))
            for guarantee in ProcessingGuarantee.allCases {
                let tag = guarantee == .atLeastOnce ? "alos" : "eos"
                let rate = try await oursRate(
                    kafka: kafka, input: stream.topic, output: "bench-ours-\(tag)-out-\(run)", appId: "bench-ours-\(tag)-\(run)",
                    guarantee: guarantee, expected: stream.count, windows: windows, logger: logger, admin: admin)
                ours[guarantee, default: []].append(rate)
                if !skipQuix {
                    let q = try quixRate(
                        bootstrap: bootstrap, input: stream.topic, output: "bench-quix-\(tag)-out-\(run)",
                        group: "bench-quix-\(tag)-\(run)", guarantee: guarantee, expected: stream.count)
                    quix[guarantee, default: []].append(q)
                }
            }
            print("run \(run): floor \(Int(floor.last!))/s, ours at-least-once \(Int(ours[.atLeastOnce]!.last!))/s, "
                + "exactly-once \(Int(ours[.exactlyOnce]!.last!))/s"
                + (skipQuix ? "" : ", Quix at-least-once \(Int(quix[.atLeastOnce]!.last!))/s, exactly-once \(Int(quix[.exactlyOnce]!.last!))/s"))
        }
        print("\nmedians (records per second, one instance):")
        print("  pass-through floor (kcat | kcat)   \(Int(median(floor)))")
        for guarantee in ProcessingGuarantee.allCases {
            let o = median(ours[guarantee]!)
            var line = "  wardwatch \(guarantee.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0))       \(Int(o))   ratio to floor \(String(format: "%.2f", o / median(floor))) (goal >= 0.5)"
            if let q = quix[guarantee] {
                line += "; Quix Streams \(Int(median(q))), ratio \(String(format: "%.1f", o / median(q))) (goal >= 5)"
            }
            print(line)
        }
        print("\nlatency at \(latencyRate) records/s for \(latencySeconds) s (arrival to output):")
        for guarantee in ProcessingGuarantee.allCases {
            let tag = guarantee == .atLeastOnce ? "alos" : "eos"
            let (p50, p99, n) = try await latency(
                kafka: kafka, admin: admin, tag: tag, guarantee: guarantee, windows: windows, logger: logger)
            print("  \(guarantee.rawValue): p50 \(p50) ms, p99 \(p99) ms over \(n) outputs")
        }
        await producer.shutdown()
    }

    /// The synthetic observations carry event times in the past: keep them from time-based retention.
    static let keepForever = ["retention.ms": "-1"]

    private func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// kcat reading the input to its end, piped into kcat producing it to `output`: seconds for the whole pipe.
    private func passThrough(bootstrap: String, input: String, output: String) throws -> Double {
        let consume = Process()
        consume.executableURL = URL(fileURLWithPath: kcat)
        consume.arguments = ["-C", "-b", bootstrap, "-t", input, "-o", "beginning", "-e", "-q", "-K", "\t"]
        let produce = Process()
        produce.executableURL = URL(fileURLWithPath: kcat)
        produce.arguments = ["-P", "-b", bootstrap, "-t", output, "-K", "\t"]
        let pipe = Pipe()
        consume.standardOutput = pipe
        produce.standardInput = pipe
        consume.standardError = FileHandle(forWritingAtPath: "/dev/null")
        produce.standardError = FileHandle(forWritingAtPath: "/dev/null")
        let start = ContinuousClock.now
        try produce.run()
        try consume.run()
        consume.waitUntilExit()
        try pipe.fileHandleForWriting.close()
        produce.waitUntilExit()
        guard consume.terminationStatus == 0, produce.terminationStatus == 0 else { throw ValidationError("kcat pass-through failed") }
        return seconds(ContinuousClock.now - start)
    }

    /// Our runtime: records per second from the first to the last input record processed.
    private func oursRate(
        kafka: KafkaConfiguration, input: String, output: String, appId: String, guarantee: ProcessingGuarantee,
        expected: Int, windows: TimeWindows, logger: Logger, admin: KafkaAdmin
    ) async throws -> Double {
        try await admin.createTopics([NewTopic(name: output, partitions: partitions, configs: Self.keepForever)])
        let topology = WindowedCountProcessor.topology(applicationId: appId, input: input, output: output, windows: windows)
        let service = try StreamsService(
            topology: topology,
            options: StreamsOptions(kafka: kafka, guarantee: guarantee, deadLetterTopic: "bench-deadletter"), logger: logger)
        let running = Task { try await service.run() }
        var first: ContinuousClock.Instant?
        let deadline = ContinuousClock.now + .seconds(300)
        while service.processed < expected && ContinuousClock.now < deadline {
            if first == nil && service.processed > 0 { first = .now }
            try await Task.sleep(for: .microseconds(500))
        }
        let last = ContinuousClock.now
        await service.shutdown()
        try await running.value
        guard service.processed >= expected, let first else { throw ValidationError("\(appId) did not finish") }
        return Double(expected) / max(seconds(last - first), 1e-6)
    }

    private func quixRate(
        bootstrap: String, input: String, output: String, group: String, guarantee: ProcessingGuarantee, expected: Int
    ) throws -> Double {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("quix-\(group)-\(getpid())")
        defer { try? FileManager.default.removeItem(at: state) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, quixScript, bootstrap, input, output, "\(expected)", guarantee.rawValue, group, state.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let secs = object["seconds"] as? Double
        else {
            throw ValidationError("Quix Streams run failed (pip install quixstreams?): \(line)")
        }
        return Double(expected) / secs
    }

    /// Produces at a fixed rate with the wall clock as timestamp; reads outputs read_committed and measures delays.
    private func latency(
        kafka: KafkaConfiguration, admin: KafkaAdmin, tag: String, guarantee: ProcessingGuarantee, windows: TimeWindows,
        logger: Logger
    ) async throws -> (p50: Int64, p99: Int64, count: Int) {
        let input = "bench-latency-in-\(tag)"
        let output = "bench-latency-out-\(tag)"
        try await admin.createTopics([NewTopic(name: input, partitions: partitions), NewTopic(name: output, partitions: partitions, configs: Self.keepForever)])
        let topology = WindowedCountProcessor.topology(applicationId: "bench-latency-\(tag)", input: input, output: output, windows: windows)
        let service = try StreamsService(
            topology: topology, options: StreamsOptions(kafka: kafka, guarantee: guarantee, deadLetterTopic: "bench-deadletter"),
            logger: logger)
        let running = Task { try await service.run() }
        var readerConfig = kafka
        readerConfig["isolation.level"] = "read_committed"
        readerConfig["fetch.wait.max.ms"] = "5"
        let reader = try KafkaConsumer(configuration: readerConfig, logger: logger)
        try await reader.assign((0..<partitions).map { TopicPartitionOffset(output, $0, TopicPartitionOffset.beginning) })
        let total = latencyRate * latencySeconds
        let delays = DelayRecorder()
        let readTask = Task {
            for try await batch in reader.batches {
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                delays.add(batch.map { now - ($0.timestamp ?? now) })
                if delays.count >= total { break }
            }
        }
        try await Task.sleep(for: .seconds(3))  // group join and assignment before the clock starts
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        let start = ContinuousClock.now
        let perTick = max(1, latencyRate / 100)
        var sent = 0
        while sent < total {
            let due = start + .milliseconds(sent * 1000 / latencyRate)
            if due > .now { try await Task.sleep(until: due) }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let batch = (sent..<min(total, sent + perTick)).map {
                ProducerRecord(topic: input, key: Array(SyntheticObservations.mac($0 % 10_000).utf8), value: Array("{}".utf8), timestamp: now)
            }
            _ = try await producer.enqueue(batch)
            sent += batch.count
        }
        try await producer.flush()
        let deadline = ContinuousClock.now + .seconds(30)
        while delays.count < total && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        readTask.cancel()
        await reader.close()
        await producer.shutdown()
        await service.shutdown()
        try await running.value
        let sorted = delays.values.sorted()
        guard !sorted.isEmpty else { throw ValidationError("latency: no outputs") }
        return (sorted[sorted.count / 2], sorted[min(sorted.count - 1, sorted.count * 99 / 100)], sorted.count)
    }
}

final class DelayRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Int64] = []
    func add(_ xs: [Int64]) { lock.withLock { stored += xs } }
    var count: Int { lock.withLock { stored.count } }
    var values: [Int64] { lock.withLock { stored } }
}
