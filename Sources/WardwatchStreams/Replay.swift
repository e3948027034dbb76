import Foundation
import Logging
import WardwatchKafka

/// Re-runs a topology over history as one batch job: input partitions are read one after another, in partition
/// order, each from its start to the end it had when the replay began, so every replay of the same input produces
/// the same outputs in the same order (byte for byte). State starts empty and stays in memory (no changelog): a
/// failed replay is simply run again.
public struct Replay: Sendable {
    public enum Start: Sendable, Equatable {
        case beginning
        /// Records with timestamps (milliseconds) at or after this one.
        case timestamp(Int64)
    }

    public var topology: Topology
    public var kafka: KafkaConfiguration
    public var start: Start
    /// Records with timestamps after this one (milliseconds) are skipped.
    public var end: Int64?
    public var deadLetterTopic: String
    /// Topologies that read this one's repartition outputs. They are replayed after it, in memory, over those records
    /// in the order they were produced, so their results are as deterministic as the first topology's.
    public var downstream: [Topology]

    public init(
        topology: Topology, kafka: KafkaConfiguration, start: Start, end: Int64? = nil, deadLetterTopic: String,
        downstream: [Topology] = []
    ) {
        self.downstream = downstream
        self.topology = topology
        self.kafka = kafka
        self.start = start
        self.end = end
        self.deadLetterTopic = deadLetterTopic
    }

    /// What a replay did.
    public struct Summary: Sendable, Equatable {
        public var inputRecords = 0
        public var skippedRecords = 0
        public var outputRecords = 0
        public var deadLetters = 0
    }

    /// Runs the replay, handing each partition's outputs to `emit` in order (partition 0's first).
    public func run(logger: Logger, emit: @escaping @Sendable ([ProducerRecord]) async throws -> Void) async throws -> Summary {
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        let described = try await admin.describeTopics(topology.sourceTopics)
        var partitions: [TopicPartition] = []
        for topic in topology.sourceTopics {
            guard let description = described.first(where: { $0.name == topic }) else {
                throw StreamsError("input topic \(topic) does not exist")
            }
            partitions += description.partitions.map { TopicPartition(topic, $0.id) }
        }
        let engine = StreamEngine(topology: topology, deadLetterTopic: deadLetterTopic)
        let reader = try PartitionReader(configuration: kafka, logger: logger)
        var summary = Summary()
        let repartitionTopics = Set(topology.repartitionTopics)
        var repartitioned: [ProducerRecord] = []
        let from: Int64? = if case .timestamp(let t) = start { t } else { nil }
        let end = self.end
        for partition in partitions.sorted() {
            let collected = UncheckedBox(BatchCollector())
            try await reader.readToEnd([TopicPartitionOffset(partition, TopicPartitionOffset.beginning)]) { batch in
                collected.value.batches.append(batch)
            }
            for batch in collected.value.batches {
                let kept = batch.filter { record in
                    guard let t = record.timestamp else { return from == nil && end == nil }
                    return t >= (from ?? .min) && t <= (end ?? .max)
                }
                summary.inputRecords += kept.count
                summary.skippedRecords += batch.count - kept.count
                guard !kept.isEmpty else { continue }
                let result = engine.process(records: kept)
                summary.outputRecords += result.outputs.count
                summary.deadLetters += result.deadLetters
                repartitioned += result.outputs.filter { repartitionTopics.contains($0.topic) }
                try await emit(result.outputs)
            }
            engine.drop([partition])
        }
        for next in downstream {
            let sources = Set(next.sourceTopics)
            let records = repartitioned.enumerated().compactMap { index, record -> ConsumerRecord? in
                guard sources.contains(record.topic) else { return nil }
                return ConsumerRecord(
                    topic: record.topic, partition: 0, offset: Int64(index), timestamp: record.timestamp,
                    key: record.key.map { $0[...] }, value: record.value.map { $0[...] }, headers: record.headers)
            }
            let nextEngine = StreamEngine(topology: next, deadLetterTopic: deadLetterTopic)
            var start = 0
            while start < records.count {
                let chunk = records[start..<min(records.count, start + 4096)]
                let result = nextEngine.process(records: chunk)
                summary.outputRecords += result.outputs.count
                summary.deadLetters += result.deadLetters
                try await emit(result.outputs)
                start += chunk.count
            }
        }
        return summary
    }
}

final class BatchCollector {
    var batches: [ConsumerBatch] = []
}
