import CRdKafka
import Foundation
import Logging

/// Reads whole partitions from a start offset to their current end and stops: the way state stores are restored
/// from their changelogs. Not part of any consumer group; with `isolation.level=read_committed` (set by the caller)
/// the end is the last stable offset and aborted records are skipped.
public final class PartitionReader: Sendable {
    private let handle: KafkaClientHandle

    public init(configuration: KafkaConfiguration, logger: Logger = Logger(label: "wardwatch.kafka.reader")) throws(KafkaError) {
        var configuration = configuration
        configuration["group.id"] = "wardwatch-reader-\(UUID().uuidString)"
        configuration["enable.auto.commit"] = "false"
        configuration["enable.auto.offset.store"] = "false"
        configuration["enable.partition.eof"] = "true"
        configuration.setDefault("fetch.wait.max.ms", "10")
        self.handle = try KafkaClientHandle(
            kind: .consumer, configuration: configuration, logger: logger, metricsFactory: nil, clientRole: "reader")
        rd_kafka_poll_set_consumer(handle.pointer)
    }

    deinit { rd_kafka_consumer_close(handle.pointer) }

    /// Reads each partition from its given offset (or `TopicPartitionOffset.beginning`) until its end, handing
    /// batches to `body` in the order fetched (per-partition order kept). Fails when the end is not reached within
    /// `timeout` of silence.
    public func readToEnd(
        _ start: [TopicPartitionOffset], idleTimeout: Duration = .seconds(30),
        _ body: @escaping @Sendable (ConsumerBatch) throws -> Void
    ) async throws {
        guard !start.isEmpty else { return }
        let handle = self.handle
        try await Blocking.runThrowing {
            let rk = handle.pointer
            for topic in Set(start.map(\.topic)) {
                let rkt = rd_kafka_topic_new(rk, topic, nil)
                defer { rd_kafka_topic_destroy(rkt) }
                var metadata: UnsafePointer<rd_kafka_metadata>?
                let err = rd_kafka_metadata(rk, 0, rkt, &metadata, idleTimeout.kafkaMilliseconds)
                if let metadata { rd_kafka_metadata_destroy(metadata) }
                try KafkaError.check(err, during: "metadata of \(topic)")
            }
            let list = NativePartitionList.make(start)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try KafkaError.check(rd_kafka_assign(rk, list), during: "assign partitions to read")
            defer { _ = rd_kafka_assign(rk, nil) }
            var pending = Set(start.map(\.topicPartition))
            var builder = ConsumerBatchBuilder(capacity: 4096)
            var silentSince = ContinuousClock.now
            while !pending.isEmpty {
                guard let message = rd_kafka_consumer_poll(rk, 100) else {
                    if !builder.isEmpty { try body(builder.take()) }
                    if ContinuousClock.now - silentSince > idleTimeout {
                        throw KafkaError(
                            message: "reading \(pending.sorted().map(\.description).joined(separator: ",")) did not reach the end within \(idleTimeout)")
                    }
                    continue
                }
                defer { rd_kafka_message_destroy(message) }
                silentSince = ContinuousClock.now
                let m = message.pointee
                let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
                switch m.err {
                case RD_KAFKA_RESP_ERR_NO_ERROR:
                    builder.append(message)
                    if builder.count >= 4096 { try body(builder.take()) }
                case RD_KAFKA_RESP_ERR__PARTITION_EOF:
                    pending.remove(TopicPartition(topic, m.partition))
                default:
                    throw KafkaError(code: m.err.rawValue, message: "reading \(topic)[\(m.partition)]: \(KafkaError.text(m.err))")
                }
            }
            if !builder.isEmpty { try body(builder.take()) }
        }
    }
}
