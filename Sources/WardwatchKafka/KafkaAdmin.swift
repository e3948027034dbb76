import CRdKafka
import Logging

/// A topic to create.
public struct NewTopic: Sendable, Hashable {
    public var name: String
    public var partitions: Int32
    public var replicationFactor: Int32
    /// Topic configs, such as `cleanup.policy=compact` or `retention.ms`.
    public var configs: [String: String]

    public init(name: String, partitions: Int32, replicationFactor: Int32 = 1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// What the cluster says of a topic.
public struct TopicDescription: Sendable, Hashable {
    public var name: String
    public var partitions: [PartitionDescription]
}

public struct PartitionDescription: Sendable, Hashable {
    public var id: Int32
    public var leader: Int32
    public var replicas: [Int32]
}

/// Administrative operations: create topics, describe topics and their configs.
public final class KafkaAdmin: Sendable {
    private let handle: KafkaClientHandle

    public init(configuration: KafkaConfiguration, logger: Logger = Logger(label: "wardwatch.kafka.admin")) throws(KafkaError) {
        handle = try KafkaClientHandle(
            kind: .producer, configuration: configuration, logger: logger, metricsFactory: nil, clientRole: "admin")
    }

    /// Creates `topics`; a topic that exists already is not an error.
    public func createTopics(_ topics: [NewTopic], timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let handle = self.handle
        try await Blocking.run { () throws(KafkaError) in
            let rk = handle.pointer
            var errbuf = [CChar](repeating: 0, count: 512)
            var natives: [OpaquePointer?] = []
            defer { natives.forEach { rd_kafka_NewTopic_destroy($0) } }
            for topic in topics {
                guard let native = rd_kafka_NewTopic_new(
                    topic.name, topic.partitions, topic.replicationFactor, &errbuf, errbuf.count)
                else {
                    throw KafkaError(message: "create topic \(topic.name): \(String(cBuffer: errbuf))")
                }
                natives.append(native)
                for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                    try KafkaError.check(
                        rd_kafka_NewTopic_set_config(native, key, value), during: "create topic \(topic.name): \(key)")
                }
            }
            let queue = rd_kafka_queue_new(rk)
            defer { rd_kafka_queue_destroy(queue) }
            let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS)
            defer { rd_kafka_AdminOptions_destroy(options) }
            _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeout.kafkaMilliseconds, &errbuf, errbuf.count)
            _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout.kafkaMilliseconds, &errbuf, errbuf.count)
            natives.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_CreateTopics(rk, buffer.baseAddress, buffer.count, options, queue)
            }
            guard let event = rd_kafka_queue_poll(queue, timeout.kafkaMilliseconds + 5000) else {
                throw KafkaError(
                    code: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue, message: "create topics: no answer within \(timeout)")
            }
            defer { rd_kafka_event_destroy(event) }
            try KafkaError.check(rd_kafka_event_error(event), during: "create topics")
            guard let result = rd_kafka_event_CreateTopics_result(event) else { return }
            var count = 0
            guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
            for i in 0..<count {
                let err = rd_kafka_topic_result_error(results[i])
                if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                    let name = String(cString: rd_kafka_topic_result_name(results[i]))
                    let detail = rd_kafka_topic_result_error_string(results[i]).map { String(cString: $0) } ?? KafkaError.text(err)
                    throw KafkaError(code: err.rawValue, message: "create topic \(name): \(detail)")
                }
            }
        }
    }

    /// Describes `topics` (all topics where nil) from the cluster's metadata.
    public func describeTopics(_ topics: [String]? = nil, timeout: Duration = .seconds(10)) async throws(KafkaError)
        -> [TopicDescription]
    {
        let handle = self.handle
        return try await Blocking.run { () throws(KafkaError) in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(handle.pointer, 1, nil, &metadata, timeout.kafkaMilliseconds)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw KafkaError.from(err, during: "describe topics") }
            defer { rd_kafka_metadata_destroy(metadata) }
            var result: [TopicDescription] = []
            for t in 0..<Int(metadata.pointee.topic_cnt) {
                let topic = metadata.pointee.topics[t]
                let name = String(cString: topic.topic)
                if let topics, !topics.contains(name) { continue }
                if topic.err != RD_KAFKA_RESP_ERR_NO_ERROR { continue }
                let partitions = (0..<Int(topic.partition_cnt)).map { p in
                    let part = topic.partitions[p]
                    return PartitionDescription(
                        id: part.id, leader: part.leader,
                        replicas: (0..<Int(part.replica_cnt)).map { part.replicas[$0] })
                }
                result.append(TopicDescription(name: name, partitions: partitions.sorted { $0.id < $1.id }))
            }
            return result.sorted { $0.name < $1.name }
        }
    }

    /// The configuration entries of a topic as the broker reports them.
    public func describeTopicConfig(_ topic: String, timeout: Duration = .seconds(10)) async throws(KafkaError)
        -> [String: String]
    {
        let handle = self.handle
        return try await Blocking.run { () throws(KafkaError) in
            let rk = handle.pointer
            var errbuf = [CChar](repeating: 0, count: 512)
            let resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic)
            defer { rd_kafka_ConfigResource_destroy(resource) }
            let queue = rd_kafka_queue_new(rk)
            defer { rd_kafka_queue_destroy(queue) }
            let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS)
            defer { rd_kafka_AdminOptions_destroy(options) }
            _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout.kafkaMilliseconds, &errbuf, errbuf.count)
            var resources: [OpaquePointer?] = [resource]
            resources.withUnsafeMutableBufferPointer { rd_kafka_DescribeConfigs(rk, $0.baseAddress, 1, options, queue) }
            guard let event = rd_kafka_queue_poll(queue, timeout.kafkaMilliseconds + 5000) else {
                throw KafkaError(code: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue, message: "describe config of \(topic): no answer")
            }
            defer { rd_kafka_event_destroy(event) }
            try KafkaError.check(rd_kafka_event_error(event), during: "describe config of \(topic)")
            var entries: [String: String] = [:]
            guard let result = rd_kafka_event_DescribeConfigs_result(event) else { return entries }
            var count = 0
            guard let described = rd_kafka_DescribeConfigs_result_resources(result, &count) else { return entries }
            for r in 0..<count {
                try KafkaError.check(rd_kafka_ConfigResource_error(described[r]), during: "describe config of \(topic)")
                var n = 0
                guard let configs = rd_kafka_ConfigResource_configs(described[r], &n) else { continue }
                for c in 0..<n {
                    let name = String(cString: rd_kafka_ConfigEntry_name(configs[c]))
                    entries[name] = rd_kafka_ConfigEntry_value(configs[c]).map { String(cString: $0) }
                }
            }
            return entries
        }
    }
}
