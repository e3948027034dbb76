import Foundation
import WardwatchKafka

/// Reads topics from the beginning to their current end, outside any consumer group, sorted by topic, partition and
/// offset.
enum TopicDump {
    static func readToEnd(
        bootstrapServers: String, topics: [String], partitions: Int32, timeout: Duration = .seconds(60)
    ) async throws -> [ConsumerRecord] {
        let reader = try PartitionReader(configuration: KafkaConfiguration(bootstrapServers: bootstrapServers))
        let collected = CollectedRecords()
        let start = topics.flatMap { topic in
            (0..<partitions).map { TopicPartitionOffset(topic, $0, TopicPartitionOffset.beginning) }
        }
        try await reader.readToEnd(start, idleTimeout: timeout) { collected.append($0) }
        return collected.records.sorted { ($0.topic, $0.partition, $0.offset) < ($1.topic, $1.partition, $1.offset) }
    }
}

/// Batches handed over by `PartitionReader`, gathered.
final class CollectedRecords: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [ConsumerRecord] = []
    func append(_ batch: ConsumerBatch) { lock.withLock { stored += batch } }
    var records: [ConsumerRecord] { lock.withLock { stored } }
}
