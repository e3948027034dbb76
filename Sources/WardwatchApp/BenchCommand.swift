import ArgumentParser
import Foundation
import Logging
import WardwatchKafka

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks, each against its peer in the same run.",
        subcommands: [KafkaBench.self])
}

/// Produce and consume throughput of the Kafka client against kcat on the same embedded broker, same run.
struct KafkaBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Produce and consume throughput of Wardwatch's Kafka client against kcat on the embedded broker.")

    @Option(help: "Records per run.") var records = 1_000_000
    @Option(help: "Value size in bytes.") var valueSize = 100
    @Option(help: "Partitions per topic (the mock broker keeps about 5 MiB per partition).") var partitions: Int32 = 64
    @Option(help: "Runs; medians are reported.") var runs = 5
    @Option(help: "kcat executable.") var kcat = "kcat"

    struct Sample {
        var ours: Double
        var kcat: Double
    }

    func run() async throws {
        Observability.bootstrapLogging(level: .error)
        let logger = Observability.logger("wardwatch.bench", level: .error)
        guard let kcatPath = which(kcat) else { throw ValidationError("kcat not found (apt-get install kcat)") }
        let broker = try EmbeddedBroker(logger: logger)
        let bootstrap = broker.bootstrapServers
        let common = ["enable.idempotence": "true"]
        let value = [UInt8](repeating: UInt8(ascii: "v"), count: valueSize)
        let keys = (0..<records).map { Array(String(format: "k%08d", $0).utf8) }
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("wardwatch-bench-\(getpid()).txt")
        var text = Data()
        text.reserveCapacity(records * (valueSize + 11))
        for key in keys {
            text.append(contentsOf: key)
            text.append(0x09)
            text.append(contentsOf: value)
            text.append(0x0A)
        }
        try text.write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }

        print("Kafka client benchmark: \(records) records of \(valueSize) bytes, \(partitions) partitions, \(runs) runs")
        print("broker: embedded librdkafka mock cluster at \(bootstrap); peer: \(kcatPath)\n")
        var produce: [Sample] = []
        var consume: [Sample] = []
        for run in 1...runs {
            let oursTopic = "bench-ours-\(run)"
            let kcatTopic = "bench-kcat-\(run)"
            try broker.createTopic(oursTopic, partitions: partitions)
            try broker.createTopic(kcatTopic, partitions: partitions)

            // Produce: ours
            let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, properties: common), logger: logger)
            try await producer.checkConnectivity()
            let start = ContinuousClock.now
            var handles: [DeliveryHandle] = []
            var index = 0
            while index < records {
                let end = min(index + 10_000, records)
                handles.append(try await producer.enqueue((index..<end).map { ProducerRecord(topic: oursTopic, key: keys[$0], value: value) }))
                index = end
            }
            for handle in handles { try await handle.delivered() }
            let oursProduce = seconds(ContinuousClock.now - start)
            await producer.shutdown()

            // Produce: kcat
            let kcatProduce = try timeProcess(
                kcatPath, ["-P", "-b", bootstrap, "-t", kcatTopic, "-K", "\t", "-X", "enable.idempotence=true", "-l", input.path])

            // Consume the same topic with both.
            let consumer = try KafkaConsumer(configuration: KafkaConfiguration(bootstrapServers: bootstrap), logger: logger)
            let consumeStart = ContinuousClock.now
            try await consumer.assign((0..<partitions).map { TopicPartitionOffset(oursTopic, $0, TopicPartitionOffset.beginning) })
            var seen = 0
            var bytes = 0
            var firstRecordAt: Duration?
            var lastAt = ContinuousClock.now
            var maxGap = Duration.zero
            var batchCount = 0
            for try await batch in consumer.batches {
                if firstRecordAt == nil { firstRecordAt = ContinuousClock.now - consumeStart }
                let now = ContinuousClock.now
                if batchCount > 0 { maxGap = max(maxGap, now - lastAt) }
                lastAt = now
                batchCount += 1
                for record in batch { bytes &+= record.value?.count ?? 0 }
                seen += batch.count
                if seen >= records { break }
            }
            let oursConsume = seconds(ContinuousClock.now - consumeStart)

            await consumer.close()
            guard seen == records, bytes == records * valueSize else {
                throw ValidationError("consumed \(seen) records, \(bytes) bytes; expected \(records)")
            }
            let kcatConsume = try timeProcess(
                kcatPath, ["-C", "-b", bootstrap, "-t", oursTopic, "-o", "beginning", "-e", "-q", "-f", "%s\n"])

            let rate = { (s: Double) in Double(records) / s }
            produce.append(Sample(ours: rate(oursProduce), kcat: rate(kcatProduce)))
            consume.append(Sample(ours: rate(oursConsume), kcat: rate(kcatConsume)))
            print(String(format: "run %d: produce ours %.0f/s kcat %.0f/s | consume ours %.0f/s kcat %.0f/s (ours: first record after %.0f ms, %d batches, longest pause %.0f ms)", run,
                         produce.last!.ours, produce.last!.kcat, consume.last!.ours, consume.last!.kcat,
                         seconds(firstRecordAt ?? .zero) * 1000, batchCount, seconds(maxGap) * 1000))
        }
        func median(_ xs: [Double]) -> Double {
            let s = xs.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        print("")
        print("                 wardwatch msg/s    kcat msg/s    ratio (median of per-run ratios; goal >= 0.80)")
        for (name, samples) in [("produce", produce), ("consume", consume)] {
            let figures = String(format: "%14.0f %13.0f    %.2f", median(samples.map(\.ours)), median(samples.map(\.kcat)),
                                 median(samples.map { $0.ours / $0.kcat }))
            print(name.padding(toLength: 14, withPad: " ", startingAt: 0) + " " + figures)
        }
        withExtendedLifetime(broker) {}
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Runs a process to completion with its output discarded and returns the wall time in seconds.
    private func timeProcess(_ path: String, _ arguments: [String]) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        let start = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        let elapsed = seconds(ContinuousClock.now - start)
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(path) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return elapsed
    }

    private func which(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
