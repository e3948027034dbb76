import Foundation
import Logging
import Metrics
import WardwatchIdentity
import WardwatchKafka
import WardwatchModel
import WardwatchStreams

/// The device-profile processor: decodes each observation (undecodable or schema-invalid records go to the dead
/// letters), folds it into the device's stored profile and forwards device records (the profile with the identity
/// the identity processor, which runs first, left in its store) and new-device findings.
public struct DeviceProfileProcessor: StreamProcessor {
    public static let store = "profiles"
    let topics: TopicNames
    let decoded: DecodedObservation
    private let decoder = WardwatchJSON.makeDecoder()
    private let encoder = WardwatchJSON.makeEncoder()
    private static let json = KafkaHeader("content-type", "application/json")
    private static let deviceSchema = KafkaHeader("wardwatch-schema", TopicNames.deviceSchemaID)
    private static let alertSchema = KafkaHeader("wardwatch-schema", TopicNames.alertSchemaID)

    public init(topics: TopicNames, decoded: DecodedObservation = DecodedObservation()) {
        self.topics = topics
        self.decoded = decoded
    }

    public mutating func process(_ record: ConsumerRecord, context: ProcessorContext) throws {
        let observation = try decoded.observation(of: record, offset: context.recordOffset, decoder: decoder)
        let key = observation.deviceKey
        let store = context.store(Self.store, of: DeviceProfiler.Entry.self)
        // Already applied before a restart (the restored entry holds it): its outputs were acknowledged then.
        if store.hasApplied(key) { return }
        let identity = context.store(IdentityProcessor.store, of: DeviceIdentityState.self).get(key)
        let (entry, outputs) = DeviceProfiler.step(
            store.get(key), observation, inventory: identity?.inventoryRecord(), observationsTopic: topics.observations,
            alertsTopic: topics.alerts)
        store.put(key, entry)
        let keyBytes = Array(key.utf8)
        let timestamp = observation.time.milliseconds
        for output in outputs {
            switch output {
            case .device(let device):
                context.forward(
                    to: "devices", key: keyBytes, value: Array(try encoder.encode(device)), timestamp: timestamp,
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

    /// Observations in; device records, findings, native-identity claims (and dead letters) out; an identity and a
    /// profiles store per partition. Each record visits the identity processor, then the profile processor.
    public static func topology(applicationId: String = defaultApplicationId, topics: TopicNames, engine: IdentityEngine) -> Topology {
        Topology(
            applicationId: applicationId, sourceTopics: [topics.observations],
            stores: [
                .keyValue(IdentityProcessor.store, of: DeviceIdentityState.self),
                .keyValue(DeviceProfileProcessor.store, of: DeviceProfiler.Entry.self),
            ],
            outputs: [
                "devices": topics.devices, "alerts": topics.alerts,
                NativeIdentityProcessing.repartitionOutput: NativeIdentityProcessing.repartitionTopic(applicationId: applicationId),
            ],
            repartitionOutputs: [NativeIdentityProcessing.repartitionOutput]
        ) {
            let decoded = DecodedObservation()
            return [IdentityProcessor(engine: engine, decoded: decoded), DeviceProfileProcessor(topics: topics, decoded: decoded)]
        }
    }

    /// Both topologies of `wardwatch process`: the device topology and the native-identity one.
    public static func topologies(applicationId: String = defaultApplicationId, topics: TopicNames, engine: IdentityEngine) -> [Topology] {
        [
            topology(applicationId: applicationId, topics: topics, engine: engine),
            NativeIdentityProcessing.topology(applicationId: applicationId, topics: topics, engine: engine),
        ]
    }

    /// The internal topics of both topologies with their partition counts, for an observations topic of
    /// `inputPartitions`: what a cluster that cannot create topics on request (the embedded broker) needs first.
    public static func internalTopics(
        applicationId: String = defaultApplicationId, topics: TopicNames, inputPartitions: Int32
    ) -> [(name: String, partitions: Int32, compacted: Bool)] {
        let repartition = NativeIdentityProcessing.repartitionPartitions(inputPartitions: inputPartitions)
        // Named as `Topology.changelogTopic` names them.
        let device = [IdentityProcessor.store, DeviceProfileProcessor.store].map { "\(applicationId)-\($0)-changelog" }
        return device.map { ($0, inputPartitions, true) } + [
            (NativeIdentityProcessing.repartitionTopic(applicationId: applicationId), repartition, false),
            ("\(applicationId)-native-\(NativeIdentityProcessor.store)-changelog", repartition, true),
        ]
    }
}

/// `wardwatch process`: one member of the processing group of each topology (the device topology, and the
/// native-identity topology under `<applicationId>-native`). At-least-once by default (outputs acknowledged before
/// changelogs, changelogs before offsets; finding ids are deterministic), exactly-once on request.
public final class DeviceProcessService: Sendable {
    public struct Options: Sendable {
        public var kafka: KafkaConfiguration
        /// Loaded once per process and shared by every task.
        public var engine: IdentityEngine
        public var applicationId: String
        public var topics: TopicNames
        public var guarantee: ProcessingGuarantee
        public var maxBatchSize: Int
        public var commitInterval: Duration
        /// Failure injection for tests (see `StreamsOptions.abortTransactionEvery`).
        public var abortTransactionEvery: Int?

        public init(
            kafka: KafkaConfiguration, engine: IdentityEngine, applicationId: String = DeviceProcessing.defaultApplicationId,
            topics: TopicNames = TopicNames(), guarantee: ProcessingGuarantee = .atLeastOnce, maxBatchSize: Int = 2000,
            commitInterval: Duration = .milliseconds(100), abortTransactionEvery: Int? = nil
        ) {
            self.abortTransactionEvery = abortTransactionEvery
            self.kafka = kafka
            self.engine = engine
            self.applicationId = applicationId
            self.topics = topics
            self.guarantee = guarantee
            self.maxBatchSize = maxBatchSize
            self.commitInterval = commitInterval
        }
    }

    private let streams: StreamsService
    private let native: StreamsService
    private let options: Options
    private let logger: Logger

    public init(options: Options, logger: Logger = Logger(label: "wardwatch.process"), metricsFactory: (any MetricsFactory)? = nil) throws {
        self.options = options
        self.logger = logger
        let engine = options.engine.writing(to: options.topics)
        let topologies = DeviceProcessing.topologies(applicationId: options.applicationId, topics: options.topics, engine: engine)
        let streamsOptions = StreamsOptions(
            kafka: options.kafka, guarantee: options.guarantee, deadLetterTopic: options.topics.deadLetter,
            commitInterval: options.commitInterval, maxBatchSize: options.maxBatchSize,
            abortTransactionEvery: options.abortTransactionEvery)
        streams = try StreamsService(
            topology: topologies[0], options: streamsOptions, logger: logger, metricsFactory: metricsFactory)
        native = try StreamsService(
            topology: topologies[1], options: streamsOptions, logger: logger, metricsFactory: metricsFactory)
    }

    /// Input records processed so far by the device topology (dead letters included).
    public var processed: Int { streams.processed }

    /// Native-identity claims processed so far by the second topology.
    public var nativeProcessed: Int { native.processed }

    public func checkConnectivity(timeout: Duration) async throws {
        try await streams.checkConnectivity(timeout: timeout)
    }

    /// Makes sure the repartition topic exists, then runs both topologies until `shutdown()`; when one fails, the
    /// other is stopped and the error rethrown.
    public func run() async throws {
        try await NativeIdentityProcessing.ensureRepartitionTopic(
            applicationId: options.applicationId, topics: options.topics, kafka: options.kafka, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.streams.run() }
            group.addTask { try await self.native.run() }
            do {
                while try await group.next() != nil {}
            } catch {
                await shutdown()
                throw error
            }
        }
    }

    public func shutdown() async {
        async let device: Void = streams.shutdown()
        async let native: Void = self.native.shutdown()
        _ = await (device, native)
    }
}
