import CRdKafka
import Foundation
import Logging

/// Reads whole partitions from a start offset to their current end and stops: the way state stores are restored
/// from their changelogs. Not part of any consumer group; with `isolation.level=read_committed` (set by the caller)
/// the end is the last stable offset and aborted records are skipped.
public final class PartitionReader: Sendable {
    private let handle: KafkaClientHandle
    private let logger: Logger

    public init(configuration: KafkaConfiguration, logger: Logger = Logger(label: "wardwatch.kafka.reader")) throws(KafkaError) {
        self.logger = logger
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
        let logger = self.logger
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
            func checkSilence() throws {
                guard ContinuousClock.now - silentSince > idleTimeout else { return }
                throw KafkaError(
                    message: "reading \(pending.sorted().map(\.description).joined(separator: ",")) did not reach the end within \(idleTimeout)")
            }
            while !pending.isEmpty {
                guard let message = rd_kafka_consumer_poll(rk, 100) else {
                    if !builder.isEmpty { try body(builder.take()) }
                    try checkSilence()
                    continue
                }
                defer { rd_kafka_message_destroy(message) }
                let m = message.pointee
                let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
                switch m.err {
                case RD_KAFKA_RESP_ERR_NO_ERROR:
                    silentSince = ContinuousClock.now
                    builder.append(message)
                    if builder.count >= 4096 { try body(builder.take()) }
                case RD_KAFKA_RESP_ERR__PARTITION_EOF:
                    silentSince = ContinuousClock.now
                    pending.remove(TopicPartition(topic, m.partition))
                case _ where m.rkt == nil && m.err != RD_KAFKA_RESP_ERR__FATAL:
                    // A client-level event (a broker connection dropped, all brokers down): librdkafka reconnects
                    // and resumes fetching by itself, so the read goes on, bounded by the idle timeout.
                    logger.warning("reader: \(KafkaError.text(m.err)); reading on", metadata: ["code": "\(m.err.rawValue)"])
                    try checkSilence()
                default:
                    throw KafkaError(code: m.err.rawValue, message: "reading \(topic)[\(m.partition)]: \(KafkaError.text(m.err))")
                }
            }
            if !builder.isEmpty { try body(builder.take()) }
        }
    }
}
