import Foundation
import Logging
import Metrics
import WardwatchKafka
import WardwatchModel
import WardwatchStreams

/// The device-profile processor: decodes each observation (undecodable or schema-invalid records go to the dead
/// letters), folds it into the device's stored profile and forwards profiles and new-device findings.
public struct DeviceProfileProcessor: StreamProcessor {
    public static let store = "profiles"
    let topics: TopicNames
    private let decoder = WardwatchJSON.makeDecoder()
    private let encoder = WardwatchJSON.makeEncoder()
    private static let json = KafkaHeader("content-type", "application/json")
    private static let deviceSchema = KafkaHeader("wardwatch-schema", TopicNames.deviceSchemaID)
    private static let alertSchema = KafkaHeader("wardwatch-schema", TopicNames.alertSchemaID)

    public init(topics: TopicNames) { self.topics = topics }

    public mutating func process(_ record: ConsumerRecord, context: ProcessorContext) throws {
        let observation = try Self.decodeObservation(record, decoder: decoder)
        let key = observation.deviceKey
        let store = context.store(Self.store, of: DeviceProfiler.Entry.self)
        // Already applied before a restart (the restored entry holds it): its outputs were acknowledged then.
        if store.hasApplied(key) { return }
        let (entry, outputs) = DeviceProfiler.step(
            store.get(key), observation, observationsTopic: topics.observations, alertsTopic: topics.alerts)
        store.put(key, entry)
        let keyBytes = Array(key.utf8)
        let timestamp = observation.time.milliseconds
        for output in outputs {
            switch output {
            case .device(let profile):
                context.forward(
                    to: "devices", key: keyBytes, value: Array(try encoder.encode(profile)), timestamp: timestamp,
                    headers: [Self.json, Self.deviceSchema])
            case .alert(let finding):
                context.forward(
                    to: "alerts", key: keyBytes, value: Array(try encoder.encode(finding)), timestamp: timestamp,
                    headers: [Self.json, Self.alertSchema])
            }
        }
    }

    /// An observation from a record, or the dead-letter reason: no value, not an observation, or a key that is not
    /// the observation's device key.
    static func decodeObservation(_ record: ConsumerRecord, decoder: JSONDecoder) throws -> Observation {
        guard let value = record.value else { throw DeadLetterReason("record has no value") }
        let observation: Observation
        do {
            observation = try decoder.decode(Observation.self, from: Data(value))
        } catch {
            throw DeadLetterReason("not an iomt.observations.v1 record: \(Self.describe(error))")
        }
        if let key = record.key, String(decoding: key, as: UTF8.self) != observation.deviceKey {
            throw DeadLetterReason("record key does not match device_key \(observation.deviceKey)")
        }
        return observation
    }

    /// A decoding error in one line, naming the field (never the field's content).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context): return "invalid JSON or value at '\(path(context))'"
        case .keyNotFound(let key, let context):
            return "missing field '\([path(context), key.stringValue].filter { !$0.isEmpty }.joined(separator: "."))'"
        case .typeMismatch(_, let context): return "wrong type at '\(path(context))'"
        case .valueNotFound(_, let context): return "null at '\(path(context))'"
        @unknown default: return "undecodable"
        }
    }
}

/// The `wardwatch process` application: its topology, run on the stream-processing runtime.
public enum DeviceProcessing {
    public static let defaultApplicationId = "wardwatch-process"

    /// Observations in; device profiles, findings (and dead letters) out; one profiles store per partition.
    public static func topology(applicationId: String = defaultApplicationId, topics: TopicNames) -> Topology {
        Topology(
            applicationId: applicationId, sourceTopics: [topics.observations],
            stores: [.keyValue(DeviceProfileProcessor.store, of: DeviceProfiler.Entry.self)],
            outputs: ["devices": topics.devices, "alerts": topics.alerts]
        ) {
            [DeviceProfileProcessor(topics: topics)]
        }
    }
}

/// `wardwatch process`: one member of the processing group. At-least-once by default (outputs acknowledged before
/// changelogs, changelogs before offsets; finding ids are deterministic), exactly-once on request.
public final class DeviceProcessService: Sendable {
    public struct Options: Sendable {
        public var kafka: KafkaConfiguration
        public var applicationId: String
        public var topics: TopicNames
        public var guarantee: ProcessingGuarantee
        public var maxBatchSize: Int
        public var commitInterval: Duration
        /// Failure injection for tests (see `StreamsOptions.abortTransactionEvery`).
        public var abortTransactionEvery: Int?

        public init(
            kafka: KafkaConfiguration, applicationId: String = DeviceProcessing.defaultApplicationId,
            topics: TopicNames = TopicNames(), guarantee: ProcessingGuarantee = .atLeastOnce, maxBatchSize: Int = 2000,
            commitInterval: Duration = .milliseconds(100), abortTransactionEvery: Int? = nil
        ) {
            self.abortTransactionEvery = abortTransactionEvery
            self.kafka = kafka
            self.applicationId = applicationId
            self.topics = topics
            self.guarantee = guarantee
            self.maxBatchSize = maxBatchSize
            self.commitInterval = commitInterval
        }
    }

    private let streams: StreamsService

    public init(options: Options, logger: Logger = Logger(label: "wardwatch.process"), metricsFactory: (any MetricsFactory)? = nil) throws {
        streams = try StreamsService(
            topology: DeviceProcessing.topology(applicationId: options.applicationId, topics: options.topics),
            options: StreamsOptions(
                kafka: options.kafka, guarantee: options.guarantee, deadLetterTopic: options.topics.deadLetter,
                commitInterval: options.commitInterval, maxBatchSize: options.maxBatchSize,
                abortTransactionEvery: options.abortTransactionEvery),
            logger: logger, metricsFactory: metricsFactory)
    }

    /// Input records processed so far (dead letters included).
    public var processed: Int { streams.processed }

    public func checkConnectivity(timeout: Duration) async throws {
        try await streams.checkConnectivity(timeout: timeout)
    }

    public func run() async throws { try await streams.run() }

    public func shutdown() async { await streams.shutdown() }
}
