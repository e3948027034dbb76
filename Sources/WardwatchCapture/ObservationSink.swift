import Foundation
import WardwatchKafka
import WardwatchModel

/// Where a capture's observations go.
public protocol ObservationSink: Sendable {
    /// Publishes observations in order; may suspend for backpressure.
    func publish(_ observations: [Observation]) async throws
    /// Waits until everything published is durable (delivered, or written).
    func finish() async throws
}

/// Writes observations as JSON lines (one object per line) to a file handle, such as standard output.
public final class JSONLinesSink: ObservationSink, @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()
    /// Reused for every batch (guarded by `lock`).
    private var writer = JSONWriter(capacity: 1 << 20)

    public init(handle: FileHandle) { self.handle = handle }

    public func publish(_ observations: [Observation]) async throws {
        try lock.withLock {
            // A local writer (the reused buffer moved in and back): the compiler then need not copy each observation
            // to protect it from writes through the object.
            var local = JSONWriter(capacity: 0)
            swap(&local, &writer)
            defer { swap(&local, &writer) }
            local.reset()
            observations.withUnsafeBufferPointer { buffer in
                for index in buffer.indices {
                    buffer[index].writeJSON(to: &local)
                    local.newline()
                }
            }
            try local.withBytes { try handle.write(contentsOf: $0) }
        }
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

    public func publish(_ observations: [Observation]) async throws {
        var writer = JSONWriter(capacity: 2048)
        let records = observations.map { observation in
            writer.reset()
            observation.writeJSON(to: &writer)
            return ProducerRecord(
                topic: topic, key: Array(observation.deviceKey.utf8), value: writer.written,
                headers: Self.headers, timestamp: observation.time.milliseconds)
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
