import Foundation
import Logging
import Testing
import WardwatchCapture
import WardwatchKafka
import WardwatchModel

@Suite("The capture's Kafka sink", .serialized)
struct KafkaSinkTests {
    static let logger: Logger = {
        var logger = Logger(label: "test.sink")
        logger.logLevel = .critical
        return logger
    }()

    /// The ward sample's observations as one batch.
    static func sampleBatch() throws -> ObservationBatch {
        let (linkType, packets) = try Fixtures.packets(Fixtures.wardSample)
        var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "sink", site: "lab"), announcementRefresh: 0)
        var batch = ObservationBatch()
        for (bytes, length, time) in packets {
            bytes.withUnsafeBytes { extractor.extract($0, originalLength: length, linkType: linkType, time: time, into: &batch) }
        }
        return batch
    }

    @Test("delivered batches are let go as later ones are published (a live capture runs for months)")
    func deliveredBatchesLetGo() async throws {
        let broker = try EmbeddedBroker(logger: Self.logger)
        try broker.createTopic("iomt.observations.v1", partitions: 3)
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration(bootstrapServers: broker.bootstrapServers), logger: Self.logger)
        let sink = KafkaObservationSink(producer: producer, topic: "iomt.observations.v1", logger: Self.logger)
        let batch = try Self.sampleBatch()
        #expect(batch.count > 50)
        var most = 0
        for _ in 0..<20 {
            try await sink.publish(batch)
            most = max(most, sink.inDelivery)
            try await Task.sleep(for: .milliseconds(50))  // librdkafka's linger and the mock's round trip
        }
        // Kept until the next publish after their delivery: a few at most, not all twenty.
        #expect(most <= 3, "\(most) batches held")
        try await sink.finish()
        #expect(sink.published == 20 * batch.count && sink.undelivered == 0 && sink.inDelivery == 0)
        await producer.shutdown(timeout: .seconds(5))
    }

    @Test("what the brokers never took fails finish with its count, once the producer gives it up")
    func undeliveredCounted() async throws {
        let broker = try EmbeddedBroker(logger: Self.logger)
        try broker.createTopic("iomt.observations.v1", partitions: 3)
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration(
                bootstrapServers: broker.bootstrapServers, properties: ["message.timeout.ms": "15000"]),  // a regression fails soon
            logger: Self.logger)
        let sink = KafkaObservationSink(producer: producer, topic: "iomt.observations.v1", logger: Self.logger)
        let batch = try Self.sampleBatch()
        try await sink.publish(batch)
        try await sink.finish()  // delivered; the sink goes on after a finish
        try broker.setBroker(1, up: false)
        try await sink.publish(batch)
        try await sink.publish(batch)
        producer.abandonUndelivered()
        let error = await #expect(throws: CaptureError.self) { try await sink.finish() }
        #expect(sink.undelivered == 2 * batch.count, "\(sink.undelivered) undelivered")
        #expect(error?.message == "\(2 * batch.count) of \(3 * batch.count) observations were not delivered to Kafka: given up when the capture stopped, the brokers not taking them in time")
        await producer.shutdown(timeout: .seconds(5))
    }
}
