import ArgumentParser
import Foundation
import Logging
import WardwatchKafka
import WardwatchProcessing
import WardwatchStreams

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-run the processors over the observations topic into suffixed topics or a file.",
        discussion: """
            Runs under a new application id (APPID-replay-SUFFIX), as one batch job: partitions are read one after
            another up to the end they had when the replay started, state starts empty, and nothing reads the wall
            clock, so replaying the same input twice gives byte-identical output. Outputs go to the output topics
            with --output-suffix appended (dead letters too), or as JSON lines to --output (- for standard output).
            Timestamps are milliseconds since the epoch or ISO 8601 (2026-03-02T08:00:00Z). The device topology is
            replayed first; its native-identity claims go to the repartition topic with the suffix (or the file) and
            are then replayed, in the order they were produced, through the native-identity topology.
            """)

    @Flag(name: .long, help: "Replay from the beginning of the topic.")
    var fromBeginning = false

    @Option(name: .long, help: "Replay records with timestamps at or after this one.")
    var fromTimestamp: String?

    @Option(name: .long, help: "Skip records with timestamps after this one.")
    var toTimestamp: String?

    @Option(name: .long, help: "Suffix appended to every output topic name (and to the application id).")
    var outputSuffix: String?

    @Option(name: .long, help: "Write outputs as JSON lines to this file instead of topics (- for standard output).")
    var output: String?

    @Option(name: .long, help: "Application id of the processors being replayed.")
    var applicationId: String = DeviceProcessing.defaultApplicationId

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var identity: IdentityOptions
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if kafka.brokers == nil { throw ValidationError("--brokers is required") }
        if fromBeginning == (fromTimestamp != nil) {
            throw ValidationError("give exactly one of --from-beginning and --from-timestamp")
        }
        if (outputSuffix == nil) == (output == nil) { throw ValidationError("give exactly one of --output-suffix and --output") }
        if let outputSuffix, outputSuffix.isEmpty || outputSuffix.contains(where: { !($0.isLetter || $0.isNumber || "._-".contains($0)) }) {
            throw ValidationError("--output-suffix '\(outputSuffix)' must be letters, digits, '.', '_' or '-'")
        }
        if let fromTimestamp { _ = try Self.milliseconds(fromTimestamp, option: "--from-timestamp") }
        if let toTimestamp { _ = try Self.milliseconds(toTimestamp, option: "--to-timestamp") }
        _ = try runtime.level()
    }

    static func milliseconds(_ text: String, option: String) throws -> Int64 {
        if let ms = Int64(text) { return ms }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text) {
            return Int64((date.timeIntervalSince1970 * 1000).rounded())
        }
        throw ValidationError("\(option) '\(text)' is neither milliseconds since the epoch nor an ISO 8601 time")
    }

    func run() async throws {
        Observability.bootstrapLogging(level: try runtime.level())
        let logger = Observability.logger("wardwatch.replay", level: try runtime.level())
        let configuration = try kafka.configuration()
        let suffix = outputSuffix ?? ""
        let topics = kafka.topics
        let engine = try identity.engine().writing(to: topics)
        let topology = DeviceProcessing.topology(applicationId: applicationId, topics: topics, engine: engine)
            .renamed(applicationId: "\(applicationId)-replay-\(outputSuffix ?? "file")", outputSuffix: suffix)
        let replay = Replay(
            topology: topology, kafka: configuration,
            start: try fromTimestamp.map { .timestamp(try Self.milliseconds($0, option: "--from-timestamp")) } ?? .beginning,
            end: try toTimestamp.map { try Self.milliseconds($0, option: "--to-timestamp") },
            deadLetterTopic: topics.deadLetter + suffix,
            downstream: [NativeIdentityProcessing.replayTopology(applicationId: applicationId, topics: topics, engine: engine, outputSuffix: suffix, replayName: outputSuffix ?? "file")])
        let summary: Replay.Summary
        if let output {
            let writer = try JSONLinesRecordWriter(path: output)
            summary = try await replay.run(logger: logger) { records in try writer.write(records) }
            try writer.close()
        } else {
            let producer = try KafkaProducer(configuration: configuration, logger: logger)
            try await producer.checkConnectivity(timeout: .seconds(kafka.connectTimeout))
            summary = try await replay.run(logger: logger) { records in try await producer.send(records) }
            await producer.shutdown()
        }
        logger.info(
            "replay finished", metadata: [
                "application_id": "\(topology.applicationId)", "input_records": "\(summary.inputRecords)",
                "skipped_records": "\(summary.skippedRecords)", "output_records": "\(summary.outputRecords)",
                "dead_letters": "\(summary.deadLetters)",
            ])
    }
}

/// Output records as JSON lines: `{"key":..., "timestamp":..., "topic":..., "value":...}`, the value embedded as JSON
/// where it is JSON, as a string otherwise.
final class JSONLinesRecordWriter: @unchecked Sendable {
    private let handle: FileHandle
    private let closeAtEnd: Bool

    init(path: String) throws {
        if path == "-" {
            handle = .standardOutput
            closeAtEnd = false
        } else {
            guard let opened = OutputFile.open(path) else { throw ValidationError("--output '\(path)' cannot be created") }
            handle = opened
            closeAtEnd = true
        }
    }

    func write(_ records: [ProducerRecord]) throws {
        var out = Data()
        for record in records {
            var line: [String: Any] = ["topic": record.topic]
            line["key"] = record.key.map { String(decoding: $0, as: UTF8.self) } ?? NSNull()
            line["timestamp"] = record.timestamp ?? NSNull()
            if let value = record.value {
                line["value"] = (try? JSONSerialization.jsonObject(with: Data(value))) ?? String(decoding: value, as: UTF8.self)
            } else {
                line["value"] = NSNull()
            }
            out.append(try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes]))
            out.append(0x0A)
        }
        try handle.write(contentsOf: out)
    }

    func close() throws {
        if closeAtEnd { try handle.close() }
    }
}
