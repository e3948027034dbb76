import Logging
import WardwatchIdentity
import WardwatchKafka
import WardwatchStreams

extension NativeIdentityProcessing {
    /// Makes sure `<applicationId>-native-identity-repartition` exists before either topology starts (the second
    /// reads it): creates it with the observations topic's partition count where the cluster allows.
    public static func ensureRepartitionTopic(
        applicationId: String, topics: TopicNames, kafka: KafkaConfiguration, logger: Logger
    ) async throws {
        let name = repartitionTopic(applicationId: applicationId)
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        let described = try await admin.describeTopics([topics.observations, name])
        guard let input = described.first(where: { $0.name == topics.observations }), !input.partitions.isEmpty else {
            throw StreamsError("input topic \(topics.observations) does not exist")
        }
        if let existing = described.first(where: { $0.name == name }), !existing.partitions.isEmpty { return }
        let partitions = repartitionPartitions(inputPartitions: Int32(input.partitions.count))
        do {
            try await admin.createTopics([NewTopic(name: name, partitions: partitions)], timeout: .seconds(5))
            logger.info("created repartition topic", metadata: ["topic": "\(name)", "partitions": "\(partitions)"])
        } catch {
            throw StreamsError(
                "repartition topic \(name) is missing and could not be created (\(error)); create it with \(partitions) "
                    + "partitions, or on the embedded broker pass --application-id \(applicationId) to `wardwatch broker`")
        }
    }
}

extension IdentityEngine {
    /// The same engine naming `topics` in its findings' data sources and log name.
    public func writing(to topics: TopicNames) -> IdentityEngine {
        var configuration = configuration
        configuration.observationsTopic = topics.observations
        configuration.alertsTopic = topics.alerts
        guard configuration != self.configuration else { return self }
        return IdentityEngine(
            registry: registry, knowledgeBase: knowledgeBase, stacks: stacks, overrides: overrides, configuration: configuration)
    }
}
