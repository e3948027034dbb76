import Foundation
import WardwatchKafka
import WardwatchModel

/// The tasks of one instance and what they produced since the last commit. Pure bookkeeping: no I/O, no clock.
/// Only the processing loop and the rebalance hooks touch it, one at a time (under the service's lock).
final class StreamEngine: @unchecked Sendable {
    let topology: Topology
    let deadLetterTopic: String
    private(set) var tasks: [TopicPartition: StreamTask] = [:]
    /// Output topics whose partition count equals the input's, so results can stay on the input's partition number.
    var copartitioned: Set<String> = []
    private(set) var processedSinceCommit = 0
    private(set) var lateRecordsTotal = 0

    init(topology: Topology, deadLetterTopic: String) {
        self.topology = topology
        self.deadLetterTopic = deadLetterTopic
    }

    var assigned: [TopicPartition] { tasks.keys.sorted() }

    func task(for partition: TopicPartition) -> StreamTask {
        if let task = tasks[partition] { return task }
        let task = StreamTask(partition: partition, topology: topology)
        tasks[partition] = task
        return task
    }

    func drop(_ partitions: [TopicPartition]) {
        for partition in partitions { tasks[partition] = nil }
    }

    func dropAll() { tasks.removeAll() }

    /// What one batch produced: output records (in processing order per partition) and how many went to dead letters.
    struct Result {
        var outputs: [ProducerRecord] = []
        var deadLetters = 0
        var late = 0
    }

    func process(_ batch: ConsumerBatch) -> Result {
        process(records: batch)
    }

    func process<Records: Collection<ConsumerRecord>>(records batch: Records) -> Result {
        var result = Result()
        result.outputs.reserveCapacity(batch.count)
        for record in batch {
            let task = task(for: record.topicPartition)
            let lateBefore = task.context.lateRecords
            if let reason = task.process(record) {
                result.deadLetters += 1
                _ = task.takeForwarded()  // a failed record's partial outputs are not published
                result.outputs.append(DeadLetter.record(for: record, reason: reason, topic: deadLetterTopic))
            } else {
                append(task.takeForwarded(), to: &result.outputs)
            }
            result.late += task.context.lateRecords - lateBefore
        }
        processedSinceCommit += batch.count
        lateRecordsTotal += result.late
        return result
    }

    /// Moves every task's stream time to at least `time` (idle partitions; the end of a replay).
    func advanceAll(to time: Int64) -> [ProducerRecord] {
        var outputs: [ProducerRecord] = []
        for partition in tasks.keys.sorted() {
            let task = tasks[partition]!
            task.advanceStreamTime(to: time)
            append(task.takeForwarded(), to: &outputs)
        }
        return outputs
    }

    /// The largest stream time of any task (the instance's event-time high mark).
    var maxStreamTime: Int64 { tasks.values.map(\.context.streamTime).max() ?? .min }

    private func append(_ records: [ProducerRecord], to outputs: inout [ProducerRecord]) {
        for var record in records {
            if !copartitioned.contains(record.topic) { record.partition = nil }
            outputs.append(record)
        }
    }

    /// Changelog records of every store changed since the last call: partition = the input partition.
    func takeChangelog() -> [ProducerRecord] {
        var records: [ProducerRecord] = []
        for partition in tasks.keys.sorted() {
            let task = tasks[partition]!
            for store in task.stores {
                let topic = topology.changelogTopic(store.name)
                for change in store.takeChanges() {
                    records.append(
                        ProducerRecord(
                            topic: topic, partition: partition.partition, key: change.key, value: change.value,
                            headers: [], timestamp: task.context.streamTime == .min ? nil : task.context.streamTime))
                }
            }
        }
        return records
    }

    /// The offsets to commit: per task, the offset after its last processed record.
    func commitOffsets(of partitions: [TopicPartition]? = nil) -> [TopicPartitionOffset] {
        let chosen = partitions ?? Array(tasks.keys)
        processedSinceCommit = 0
        return chosen.sorted().compactMap { tp in tasks[tp]?.nextOffset.map { TopicPartitionOffset(tp, $0) } }
    }

    /// Total encoded state bytes and entries (for sizing figures).
    func stateSize() -> (entries: Int, bytes: Int) {
        var entries = 0
        var bytes = 0
        for task in tasks.values {
            for store in task.stores {
                entries += store.count
                bytes += store.encodedBytes()
            }
        }
        return (entries, bytes)
    }
}

/// Dead-letter records: the original key and bytes with the reason and source coordinates.
public enum DeadLetter {
    struct Value: Encodable {
        var reason: String
        var sourceTopic: String
        var sourcePartition: Int32
        var sourceOffset: Int64
        var sourceTimestamp: Int64?
        var originalValueBase64: String?
    }

    /// The dead-letter record for `record`: JSON with the reason (at most 500 characters) and the source
    /// coordinates, the original value in base64, the original key as key, and the coordinates as headers too.
    public static func record(for record: ConsumerRecord, reason: String, topic: String) -> ProducerRecord {
        let value = Value(
            reason: String(reason.prefix(500)), sourceTopic: record.topic, sourcePartition: record.partition,
            sourceOffset: record.offset, sourceTimestamp: record.timestamp,
            originalValueBase64: record.value.map { Data($0).base64EncodedString() })
        return ProducerRecord(
            topic: topic, key: record.key.map(Array.init), value: (try? WardwatchJSON.encode(value)) ?? [],
            headers: [
                KafkaHeader("content-type", "application/json"), KafkaHeader("source-topic", record.topic),
                KafkaHeader("source-partition", "\(record.partition)"), KafkaHeader("source-offset", "\(record.offset)"),
            ],
            timestamp: record.timestamp)
    }
}
