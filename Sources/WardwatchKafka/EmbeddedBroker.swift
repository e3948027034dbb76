import CRdKafka
import Logging

/// librdkafka's mock cluster: a Kafka-protocol broker inside this process, on loopback, keeping data in memory only.
/// For tests, the demo and `wardwatch broker`; other processes reach it over TCP at `bootstrapServers`.
///
/// It cannot create topics through the admin API (create them with `createTopic`), keeps about 5 MiB per partition,
/// does not hide aborted transactional records from read_committed readers, and loses everything when stopped.
public final class EmbeddedBroker: Sendable {
    private let owner: KafkaClientHandle
    private let cluster: MockClusterPointer
    /// `host:port,...` of the mock brokers.
    public let bootstrapServers: String

    final class MockClusterPointer: @unchecked Sendable {
        let pointer: OpaquePointer
        init(_ pointer: OpaquePointer) { self.pointer = pointer }
    }

    /// Starts a mock cluster of `brokers` brokers.
    public init(brokers: Int = 1, logger: Logger = Logger(label: "wardwatch.broker")) throws(KafkaError) {
        let configuration = KafkaConfiguration(properties: [:])
        owner = try KafkaClientHandle(
            kind: .producer, configuration: configuration, logger: logger, metricsFactory: nil, clientRole: "mock cluster owner")
        guard let pointer = rd_kafka_mock_cluster_new(owner.pointer, Int32(brokers)) else {
            throw KafkaError(message: "cannot start the embedded mock broker")
        }
        cluster = MockClusterPointer(pointer)
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(pointer))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster.pointer)
    }

    /// Creates a topic (a no-op where it exists with the same partition count).
    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 1) throws(KafkaError) {
        try KafkaError.check(
            rd_kafka_mock_topic_create(cluster.pointer, name, partitions, replicationFactor),
            during: "create topic \(name) on the embedded broker")
    }

    /// Takes a broker down (its connections are closed) or brings it back, to test failure handling.
    public func setBroker(_ id: Int32, up: Bool) throws(KafkaError) {
        let err = up ? rd_kafka_mock_broker_set_up(cluster.pointer, id) : rd_kafka_mock_broker_set_down(cluster.pointer, id)
        try KafkaError.check(err, during: "set broker \(id) \(up ? "up" : "down")")
    }
}
