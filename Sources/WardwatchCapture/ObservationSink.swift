import Foundation
import Logging
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
///
/// Batches whose delivery has finished are let go as later ones are published (a live capture runs for months), and
/// their failures counted and logged then; `finish` waits for the rest and fails when any observation was not
/// delivered, with the count.
public final class KafkaObservationSink: ObservationSink, @unchecked Sendable {
    public static let schemaID = "https://wardwatch.invalid/schemas/observation.v1.schema.json"
    private let producer: KafkaProducer
    private let topic: String
    private let logger: Logger
    private let lock = NSLock()
    /// Batches not yet known to be delivered, oldest first.
    private var pending: [DeliveryHandle] = []
    public private(set) var published = 0
    /// Observations the brokers did not take, and the first reason.
    public private(set) var undelivered = 0
    private var firstFailure: KafkaError?

    public init(producer: KafkaProducer, topic: String, logger: Logger = Logger(label: "wardwatch.capture")) {
        self.producer = producer
        self.topic = topic
        self.logger = logger
    }

    /// Batches still in delivery (tests).
    public var inDelivery: Int { lock.withLock { pending.count } }

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
            // Let go of every finished batch (one behind a slow one included), counting its failures.
            pending.removeAll { handle in
                guard handle.isComplete else { return false }
                account(handle)
                return true
            }
        }
    }

    /// Counts a finished batch's failures (under the lock) and, while publishing goes on, logs them (`finish`
    /// reports its total in one error instead).
    private func account(_ handle: DeliveryHandle, log: Bool = true) {
        let (failed, first) = handle.failures
        guard failed > 0 else { return }
        undelivered += failed
        if firstFailure == nil { firstFailure = first }
        guard log else { return }
        logger.error(
            "observations not delivered",
            metadata: ["count": "\(failed)", "error": "\(first.map { "\($0)" } ?? "")"])
    }

    public func finish() async throws {
        let handles = lock.withLock {
            defer { pending.removeAll() }
            return pending
        }
        for handle in handles { await handle.finished() }
        let (failed, total, first) = lock.withLock {
            for handle in handles { account(handle, log: false) }
            return (undelivered, published, firstFailure)
        }
        if let first {
            let reason = first.isGivenUp ? "given up when the capture stopped, the brokers not taking them in time" : "\(first)"
            throw CaptureError("\(failed) of \(total) observations were not delivered to Kafka: \(reason)")
        }
    }
}
