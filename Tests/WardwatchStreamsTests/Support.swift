import Foundation
import Logging
import WardwatchIdentity
import WardwatchKafka
import WardwatchModel
import WardwatchProcessing

enum StreamsTestKit {
    static let logger: Logger = {
        var logger = Logger(label: "wardwatch.streams.tests")
        logger.logLevel = ProcessInfo.processInfo.environment["WARDWATCH_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    /// The identity engine, loaded once for the tests (immutable and Sendable, as in a process).
    static let engine: IdentityEngine = try! IdentityEngine.load()

    /// Polls `condition` until it holds or `timeout` passes.
    static func eventually(timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    /// Every record of every partition of `topic`, per partition in offset order.
    static func readAll(_ kafka: KafkaConfiguration, topic: String, partitions: Int32) async throws -> [Int32: [ConsumerRecord]] {
        let reader = try PartitionReader(configuration: kafka, logger: logger)
        let collected = Collected()
        try await reader.readToEnd((0..<partitions).map { TopicPartitionOffset(topic, $0, TopicPartitionOffset.beginning) }) { batch in
            collected.add(batch)
        }
        return collected.byPartition
    }

    /// The last value per key, decoded.
    static func lastPerKey<T: Decodable>(_ records: [Int32: [ConsumerRecord]], as type: T.Type) throws -> [String: T] {
        var result: [String: T] = [:]
        for (_, list) in records {
            for record in list {
                guard let key = record.key, let value = record.value else { continue }
                result[String(decoding: key, as: UTF8.self)] = try WardwatchJSON.decode(T.self, from: value)
            }
        }
        return result
    }

    /// The last device record per key.
    static func lastDevices(_ records: [Int32: [ConsumerRecord]]) throws -> [String: DeviceRecord] {
        var result: [String: DeviceRecord] = [:]
        for record in records.values.joined() {
            guard let key = record.key, let value = record.value else { continue }
            result[String(decoding: key, as: UTF8.self)] = try DeviceRecord.decode(value)
        }
        return result
    }

    /// The keys whose device records differ (at most five, for a readable failure).
    static func differences(_ actual: [String: DeviceRecord], _ expected: [String: DeviceRecord]) -> [String] {
        Array(Set(actual.keys).union(expected.keys).filter { actual[$0] != expected[$0] }.sorted().prefix(5))
    }

    static func findingUIDs(_ records: [Int32: [ConsumerRecord]]) throws -> [String] {
        try records.values.flatMap { $0 }.compactMap { record in
            guard let value = record.value else { return nil }
            let object = try JSONSerialization.jsonObject(with: Data(value)) as? [String: Any]
            return (object?["finding_info"] as? [String: Any])?["uid"] as? String
        }
    }
}

final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var byPartition: [Int32: [ConsumerRecord]] = [:]

    func touch() {}

    func add(_ batch: ConsumerBatch) {
        lock.withLock {
            for record in batch { byPartition[record.partition, default: []].append(record) }
        }
    }
}
