import Foundation
import Logging
import Metrics
import Synchronization
import WardwatchKafka
import WardwatchModel

/// `wardwatch process`: consumes observations in a consumer group, keeps a device profile per device (per input
/// partition, so state moves with its partition), publishes profiles and new-device findings, and commits input
/// offsets only after its outputs are acknowledged (at-least-once; finding ids are deterministic, so a repeat carries
/// the same uid). Undecodable input goes to the dead-letter topic and processing goes on.
public final class DeviceProcessService: Sendable {
    public struct Options: Sendable {
        public var kafka: KafkaConfiguration
        public var groupId: String
        public var topics: TopicNames
        public var maxBatchSize: Int

        public init(kafka: KafkaConfiguration, groupId: String = "wardwatch-process", topics: TopicNames = TopicNames(), maxBatchSize: Int = 2000) {
            self.kafka = kafka
            self.groupId = groupId
            self.topics = topics
            self.maxBatchSize = maxBatchSize
        }
    }

    private let options: Options
    private let logger: Logger
    private let metricsFactory: (any MetricsFactory)?
    private let core: ProcessorCore
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let processedCount = Atomic<Int>(0)

    public init(options: Options, logger: Logger = Logger(label: "wardwatch.process"), metricsFactory: (any MetricsFactory)? = nil) throws {
        self.options = options
        self.logger = logger
        self.metricsFactory = metricsFactory
        let core = ProcessorCore(topics: options.topics, logger: logger)
        self.core = core
        var consumerConfig = options.kafka
        consumerConfig["group.id"] = options.groupId
        self.consumer = try KafkaConsumer(
            configuration: consumerConfig,
            hooks: RebalanceHooks(
                onAssigned: { parts in await core.assigned(parts) },
                onRevoked: { parts in await core.revoked(parts, lost: false) },
                onLost: { parts in await core.revoked(parts, lost: true) }),
            maxBatchSize: options.maxBatchSize, logger: logger, metricsFactory: metricsFactory)
        var producerConfig = options.kafka
        producerConfig.setDefault("linger.ms", "5")
        self.producer = try KafkaProducer(configuration: producerConfig, logger: logger, metricsFactory: metricsFactory)
    }

    /// Input records processed and committed so far (dead letters included).
    public var processed: Int { processedCount.load(ordering: .acquiring) }

    /// Fails within `timeout` when no broker answers.
    public func checkConnectivity(timeout: Duration) async throws {
        try await consumer.checkConnectivity(timeout: timeout)
    }

    /// Runs until `shutdown()` or task cancellation: consume, process, publish, wait for acknowledgement, commit.
    public func run() async throws {
        try consumer.subscribe([options.topics.observations])
        let metrics = metricsFactory.map(ProcessMetrics.init)
        do {
            for try await batch in consumer.batches {
                await core.beginBatch()
                do {
                    let started = ContinuousClock.now
                    let (records, deadLetters) = await core.process(batch)
                    try await producer.send(records)
                    try await consumer.commit(after: batch)
                    processedCount.add(batch.count, ordering: .releasing)
                    metrics?.batch(in: batch.count, out: records.count, deadLetters: deadLetters, latency: ContinuousClock.now - started)
                    await core.endBatch()
                } catch {
                    await core.endBatch()
                    throw error
                }
                if Task.isCancelled { break }
            }
        } catch {
            logger.error("processing stopped", metadata: ["error": "\(error)"])
            await shutdown()
            throw error
        }
        await shutdown()
    }

    /// Leaves the group (committing what was processed) and flushes the producer; safe to call more than once.
    public func shutdown() async {
        await consumer.close()
        await producer.shutdown()
    }
}

/// The processor's state, shared by the processing loop and the rebalance hooks. The hooks wait for the batch in
/// hand to be finished (published and committed) before the group takes partitions away.
actor ProcessorCore {
    private let topics: TopicNames
    private let logger: Logger
    private var profilers: [TopicPartition: DeviceProfiler] = [:]
    private var busy = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    init(topics: TopicNames, logger: Logger) {
        self.topics = topics
        self.logger = logger
    }

    func beginBatch() async {
        while busy { await withCheckedContinuation { idleWaiters.append($0) } }
        busy = true
    }

    func endBatch() {
        busy = false
        let waiters = idleWaiters
        idleWaiters.removeAll()
        waiters.forEach { $0.resume() }
    }

    func assigned(_ partitions: [TopicPartition]) {
        for tp in partitions where profilers[tp] == nil {
            profilers[tp] = DeviceProfiler(observationsTopic: topics.observations, alertsTopic: topics.alerts)
        }
    }

    /// Waits for the batch in hand, then drops the partitions' state.
    func revoked(_ partitions: [TopicPartition], lost: Bool) async {
        await beginBatch()
        for tp in partitions { profilers[tp] = nil }
        if lost { logger.warning("dropped state of lost partitions", metadata: ["partitions": "\(partitions.count)"]) }
        endBatch()
    }

    /// Processes a batch into output records (profiles, findings, dead letters) in input order.
    func process(_ batch: ConsumerBatch) -> (records: [ProducerRecord], deadLetters: Int) {
        let decoder = WardwatchJSON.makeDecoder()
        let encoder = WardwatchJSON.makeEncoder()
        var records: [ProducerRecord] = []
        var deadLetters = 0
        let json = KafkaHeader("content-type", "application/json")
        for record in batch {
            let observation: Observation
            do {
                guard let value = record.value else { throw DeadLetterReason("record has no value") }
                observation = try decoder.decode(Observation.self, from: Data(value))
                if let key = record.key, String(decoding: key, as: UTF8.self) != observation.deviceKey {
                    throw DeadLetterReason("record key does not match device_key \(observation.deviceKey)")
                }
            } catch {
                deadLetters += 1
                records.append(DeadLetter.record(for: record, reason: "\(error)", topic: topics.deadLetter))
                continue
            }
            let tp = record.topicPartition
            var profiler = profilers[tp] ?? DeviceProfiler(observationsTopic: topics.observations, alertsTopic: topics.alerts)
            let outputs = profiler.process(observation)
            profilers[tp] = profiler
            let key = Array(observation.deviceKey.utf8)
            for output in outputs {
                switch output {
                case .device(let profile):
                    records.append(
                        ProducerRecord(
                            topic: topics.devices, key: key, value: (try? encoder.encode(profile)).map(Array.init),
                            headers: [json, KafkaHeader("wardwatch-schema", TopicNames.deviceSchemaID)],
                            timestamp: observation.time.milliseconds))
                case .alert(let finding):
                    records.append(
                        ProducerRecord(
                            topic: topics.alerts, key: key, value: (try? encoder.encode(finding)).map(Array.init),
                            headers: [json, KafkaHeader("wardwatch-schema", TopicNames.alertSchemaID)],
                            timestamp: observation.time.milliseconds))
                }
            }
        }
        return (records, deadLetters)
    }
}

struct DeadLetterReason: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
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

    static func record(for record: ConsumerRecord, reason: String, topic: String) -> ProducerRecord {
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

struct ProcessMetrics: Sendable {
    let factory: any MetricsFactory

    func batch(in records: Int, out outputs: Int, deadLetters: Int, latency: Duration) {
        Counter(label: "wardwatch_process_records_in_total", factory: factory).increment(by: records)
        Counter(label: "wardwatch_process_records_out_total", factory: factory).increment(by: outputs)
        Counter(label: "wardwatch_process_dead_letters_total", factory: factory).increment(by: deadLetters)
        Timer(label: "wardwatch_process_batch_seconds", factory: factory).record(duration: latency)
    }
}
