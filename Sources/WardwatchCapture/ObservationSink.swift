import Foundation
import WardwatchKafka
import WardwatchModel

/// Where a capture's observations go.
public protocol ObservationSink: Sendable {
    /// Publishes a batch of observations in order; may suspend for backpressure.
    func publish(_ batch: borrowing ObservationBatch) async throws
    /// Waits until everything published is durable (delivered, or written).
    func finish() async throws
}

/// Writes observations as JSON lines (one object per line) to a file handle, such as standard output.
public final class JSONLinesSink: ObservationSink, @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()

    public init(handle: FileHandle) { self.handle = handle }

    public func publish(_ batch: borrowing ObservationBatch) async throws {
        try lock.withLock { try batch.withLines { try handle.write(contentsOf: $0) } }
    }

    public func finish() async throws {}
}

/// Publishes observations to `iomt.observations.v1`, keyed by device key, stamped with their event time.
public final class KafkaObservationSink: ObservationSink, @unchecked Sendable {
    public static let schemaID = "https://wardwatch.invalid/schemas/observation.v1.schema.json"
    private let producer: KafkaProducer
    private let topic: String
    private let lock = NSLock()
    private var pending: [DeliveryHandle] = []
    public private(set) var published = 0

    public init(producer: KafkaProducer, topic: String) {
        self.producer = producer
        self.topic = topic
    }

    private static let headers = [
        KafkaHeader("content-type", "application/json"), KafkaHeader("wardwatch-schema", schemaID),
    ]

    public func publish(_ batch: borrowing ObservationBatch) async throws {
        let records = batch.withLines { lines in
            batch.withKeys { keys in
                batch.records.map { record in
                    ProducerRecord(
                        topic: topic, key: Array(keys[record.key]), value: Array(lines[record.value]),
                        headers: Self.headers, timestamp: record.timestampMilliseconds)
                }
            }
        }
        let handle = try await producer.enqueue(records)
        lock.withLock {
            pending.append(handle)
            published += records.count
        }
    }

    public func finish() async throws {
        let handles = lock.withLock {
            defer { pending.removeAll() }
            return pending
        }
        for handle in handles { try await handle.delivered() }
    }
}
