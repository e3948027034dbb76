import Foundation
import Testing
@testable import WardwatchKafka

@Suite("Admin API against noida-db", .enabled(if: NoidaBroker.executable != nil, "needs noida-db (pip install noida-db; make test installs it)"))
struct AdminTests {
    @Test("create topics with partitions and configs, then describe them")
    func createAndDescribe() async throws {
        // noida-db, unlike librdkafka's mock cluster, implements CreateTopics and DescribeConfigs.
        let noida = try await NoidaBroker.start(logger: TestKafka.logger)
        defer { noida.stop() }
        let bootstrap = noida.bootstrapServers
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(bootstrapServers: bootstrap), logger: TestKafka.logger)
        try await admin.createTopics([
            NewTopic(name: "iomt.devices.v1", partitions: 6, configs: ["cleanup.policy": "compact"]),
            NewTopic(name: "iomt.alerts.v1", partitions: 3, configs: ["retention.ms": "86400000"]),
        ])
        // Creating again is not an error.
        try await admin.createTopics([NewTopic(name: "iomt.alerts.v1", partitions: 3)])
        let topics = try await admin.describeTopics(["iomt.devices.v1", "iomt.alerts.v1"])
        #expect(topics.map(\.name) == ["iomt.alerts.v1", "iomt.devices.v1"])
        #expect(topics.first { $0.name == "iomt.devices.v1" }?.partitions.count == 6)
        #expect(topics.first { $0.name == "iomt.alerts.v1" }?.partitions.map(\.id) == [0, 1, 2])
        let config = try await admin.describeTopicConfig("iomt.devices.v1")
        #expect(config["cleanup.policy"] == "compact")
    }
}
