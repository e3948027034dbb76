import Logging
import WardwatchKafka

/// The topics a topology needs and how they relate to its input.
struct TopicLayout {
    var inputPartitions: Int32
    var copartitionedOutputs: Set<String>

    /// Reads the input's partition count, makes sure every changelog topic exists with as many partitions
    /// (creating missing ones, compacted, where the cluster's admin API allows), and notes which output topics have
    /// the input's partition count (their records keep the input's partition number).
    static func prepare(topology: Topology, kafka: KafkaConfiguration, logger: Logger) async throws -> TopicLayout {
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        let described = try await admin.describeTopics()
        let counts = Dictionary(uniqueKeysWithValues: described.map { ($0.name, Int32($0.partitions.count)) })
        let inputCounts = Set(topology.sourceTopics.map { counts[$0] ?? 0 })
        guard let inputPartitions = inputCounts.first, inputCounts.count == 1, inputPartitions > 0 else {
            let missing = topology.sourceTopics.filter { counts[$0] == nil }
            if !missing.isEmpty {
                throw StreamsError("input topic \(missing.joined(separator: ", ")) does not exist")
            }
            throw StreamsError("input topics \(topology.sourceTopics.joined(separator: ", ")) must have equal partition counts")
        }
        let missing = topology.changelogTopics.filter { counts[$0] == nil }
        if !missing.isEmpty {
            do {
                try await admin.createTopics(
                    missing.map {
                        NewTopic(name: $0, partitions: inputPartitions, configs: ["cleanup.policy": "compact"])
                    }, timeout: .seconds(5))
                logger.info("created changelog topics", metadata: ["topics": "\(missing.joined(separator: ","))"])
            } catch {
                throw StreamsError(
                    "changelog topic \(missing.joined(separator: ", ")) is missing and could not be created (\(error)); "
                        + "create it compacted with \(inputPartitions) partitions, or on the embedded broker pass "
                        + "--application-id \(topology.applicationId) to `wardwatch broker`")
            }
        }
        for topic in topology.changelogTopics {
            if let count = counts[topic], count != inputPartitions {
                throw StreamsError("changelog topic \(topic) has \(count) partitions, the input has \(inputPartitions)")
            }
        }
        let repartition = Set(topology.repartitionTopics)
        let missingRepartition = topology.repartitionTopics.filter { counts[$0] == nil }
        if !missingRepartition.isEmpty {
            do {
                try await admin.createTopics(
                    missingRepartition.map { NewTopic(name: $0, partitions: inputPartitions) }, timeout: .seconds(5))
                logger.info("created repartition topics", metadata: ["topics": "\(missingRepartition.joined(separator: ","))"])
            } catch {
                throw StreamsError(
                    "repartition topic \(missingRepartition.joined(separator: ", ")) is missing and could not be created "
                        + "(\(error)); create it with \(inputPartitions) partitions, or on the embedded broker pass "
                        + "--application-id \(topology.applicationId) to `wardwatch broker`")
            }
        }
        let outputs = Set(topology.outputs.values.filter { counts[$0] == inputPartitions && !repartition.contains($0) })
        return TopicLayout(inputPartitions: inputPartitions, copartitionedOutputs: outputs)
    }
}

/// A runtime error with a message meant for the operator.
public struct StreamsError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
