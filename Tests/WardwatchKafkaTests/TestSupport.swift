import Foundation
import Logging
import Testing
@testable import WardwatchKafka

/// Test helpers: an embedded broker per test and small utilities over the client.
enum TestKafka {
    static let logger: Logger = {
        var logger = Logger(label: "test.kafka")
        logger.logLevel = .error
        return logger
    }()

    static func broker(topics: [String: Int32]) throws -> EmbeddedBroker {
        let broker = try EmbeddedBroker(logger: logger)
        for (topic, partitions) in topics { try broker.createTopic(topic, partitions: partitions) }
        return broker
    }

    static func producer(_ broker: EmbeddedBroker, _ extra: [String: String] = [:]) throws -> KafkaProducer {
        try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: broker.bootstrapServers, properties: extra), logger: logger)
    }

    static func consumer(
        _ broker: EmbeddedBroker, group: String, hooks: RebalanceHooks = RebalanceHooks(), _ extra: [String: String] = [:]
    ) throws -> KafkaConsumer {
        var properties = ["group.id": group, "session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]
        properties.merge(extra) { _, new in new }
        return try KafkaConsumer(
            configuration: KafkaConfiguration(bootstrapServers: broker.bootstrapServers, properties: properties),
            hooks: hooks, logger: logger)
    }

    /// Reads batches until `count` records arrived or `timeout` passed.
    static func collect(_ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(30)) async throws -> [ConsumerRecord] {
        try await withThrowingTaskGroup(of: [ConsumerRecord]?.self) { group in
            group.addTask {
                var records: [ConsumerRecord] = []
                for try await batch in consumer.batches {
                    records.append(contentsOf: batch)
                    if records.count >= count { break }
                }
                return records
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            guard let records = first else {
                throw KafkaError(message: "timed out waiting for \(count) records")
            }
            return records
        }
    }

    /// Polls `condition` every 100 ms until it holds or `timeout` passes.
    static func eventually(timeout: Duration = .seconds(40), _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }
}

/// A thread-safe box tests use to watch what hooks did.
final class Recorder<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: Value
    init(_ value: Value) { storage = value }
    var value: Value { lock.withLock { storage } }
    func update(_ body: (inout Value) -> Void) { lock.withLock { body(&storage) } }
}
