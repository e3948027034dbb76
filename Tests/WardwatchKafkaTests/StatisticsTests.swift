import MetricsTestKit
import Testing
@testable import WardwatchKafka

@Suite("librdkafka statistics as metrics")
struct StatisticsTests {
    @Test("a producer's statistics arrive as gauges with low-cardinality labels")
    func producerStatistics() async throws {
        let broker = try TestKafka.broker(topics: ["stats": 2])
        let metrics = TestMetrics()
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration(
                bootstrapServers: broker.bootstrapServers, properties: ["statistics.interval.ms": "100"]),
            logger: TestKafka.logger, metricsFactory: metrics)
        try await producer.send((0..<250).map { ProducerRecord(topic: "stats", key: "k\($0)", value: [1, 2, 3]) })
        let seen = await TestKafka.eventually(timeout: .seconds(10)) {
            metrics.recorders(label: "kafka_client_tx_messages").contains { ($0.lastValue ?? 0) >= 250 }
        }
        #expect(seen)
        let rtt = metrics.recorders(label: "kafka_client_broker_rtt_seconds")
        #expect(!rtt.isEmpty)
        #expect(rtt.allSatisfy { recorder in recorder.dimensions.map(\.0).sorted() == ["broker", "role"] })
        await producer.shutdown()
    }
}
