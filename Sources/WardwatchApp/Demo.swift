import Foundation
import Logging
import WardwatchCapture
import WardwatchIdentity
import WardwatchKafka
import WardwatchModel
import WardwatchProcessing

/// The end-to-end pipeline on the embedded broker: capture a pcap to observations, process them in a consumer
/// group, and read back what was written to the devices and alerts topics. Used by `wardwatch demo` and the tests.
public struct DemoPipeline: Sendable {
    public struct Result: Sendable {
        public var capture: CaptureCounters
        /// Every record of the devices and alerts topics, in topic, partition and offset order.
        public var records: [ConsumerRecord]
        public var topics: TopicNames
    }

    public var pcapPaths: [String]
    public var topics = TopicNames()
    public var partitions: Int32 = 6
    public var sensor = SensorIdentity(sensorId: "demo-sensor", site: "demo-hospital")
    public var logger: Logger
    /// The identity engine (nil: the standard sources, loaded at run).
    public var engine: IdentityEngine?

    public init(pcapPaths: [String], logger: Logger, engine: IdentityEngine? = nil) {
        self.pcapPaths = pcapPaths
        self.logger = logger
        self.engine = engine
    }

    /// The bundled sample capture of a small hospital ward.
    public static var bundledSample: String? {
        Bundle.module.url(forResource: "ward-sample", withExtension: "pcap", subdirectory: "Resources")?.path
    }

    public func run() async throws -> Result {
        let sources = try pcapPaths.map { path throws(CaptureError) in try PcapSource(file: path) }
        let broker = try EmbeddedBroker(logger: logger)
        for topic in topics.all { try broker.createTopic(topic.name, partitions: partitions) }
        let applicationId = "wardwatch-demo"
        for topic in DeviceProcessing.internalTopics(applicationId: applicationId, topics: topics, inputPartitions: partitions) {
            try broker.createTopic(topic.name, partitions: topic.partitions)
        }
        let kafka = KafkaConfiguration(bootstrapServers: broker.bootstrapServers)

        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        let sink = KafkaObservationSink(producer: producer, topic: topics.observations)
        let counters = try await CaptureRunner(sources: sources, sensor: sensor, sink: sink, logger: logger).run()
        await producer.shutdown()

        let service = try DeviceProcessService(
            options: .init(kafka: kafka, engine: try engine ?? IdentityEngine.load(), applicationId: applicationId, topics: topics),
            logger: logger)
        let processing = Task { try await service.run() }
        let deadline = ContinuousClock.now + .seconds(120)
        let repartition = NativeIdentityProcessing.repartitionTopic(applicationId: applicationId)
        var claims: Int?
        // Done when every observation is processed, then every native-identity claim they produced.
        while claims == nil || service.nativeProcessed < claims! {
            if claims == nil, service.processed >= counters.observations {
                // Outputs are confirmed before each commit (every 100 ms): wait for the last ones to land.
                try await Task.sleep(for: .milliseconds(500))
                claims = try await TopicDump.readToEnd(
                    bootstrapServers: broker.bootstrapServers, topics: [repartition],
                    partitions: NativeIdentityProcessing.repartitionPartitions(inputPartitions: partitions)
                ).count
                continue
            }
            if ContinuousClock.now > deadline {
                processing.cancel()
                await service.shutdown()
                throw KafkaError(message: "demo: processing did not finish within 120 s (\(service.processed) of \(counters.observations))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        await service.shutdown()
        try await processing.value

        let records = try await TopicDump.readToEnd(
            bootstrapServers: broker.bootstrapServers, topics: [topics.devices, topics.alerts], partitions: partitions)
        withExtendedLifetime(broker) {}
        return Result(capture: counters, records: records, topics: topics)
    }
}
