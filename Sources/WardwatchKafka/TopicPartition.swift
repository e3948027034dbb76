import CRdKafka

/// A topic and partition.
public struct TopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }

    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }
}

/// A topic, partition and offset: for commits, seeks and committed-offset queries. The offset to commit is the
/// offset of the next record to read (last processed + 1), as Kafka defines it.
public struct TopicPartitionOffset: Hashable, Sendable, CustomStringConvertible {
    public var topicPartition: TopicPartition
    public var offset: Int64

    public init(_ topic: String, _ partition: Int32, _ offset: Int64) {
        self.topicPartition = TopicPartition(topic, partition)
        self.offset = offset
    }

    public init(_ topicPartition: TopicPartition, _ offset: Int64) {
        self.topicPartition = topicPartition
        self.offset = offset
    }

    public var topic: String { topicPartition.topic }
    public var partition: Int32 { topicPartition.partition }
    public var description: String { "\(topicPartition)@\(offset)" }

    /// Special offsets understood by librdkafka.
    public static let beginning = ww_offset_beginning()
    public static let end = ww_offset_end()
    public static let stored = ww_offset_stored()
    public static let invalid = ww_offset_invalid()
}

/// Conversions to and from `rd_kafka_topic_partition_list_t`.
enum NativePartitionList {
    static func make(_ partitions: [TopicPartition]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        for tp in partitions { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition) }
        return list
    }

    static func make(_ offsets: [TopicPartitionOffset]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
        for tpo in offsets { rd_kafka_topic_partition_list_add(list, tpo.topic, tpo.partition)!.pointee.offset = tpo.offset }
        return list
    }

    static func offsets(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartitionOffset] {
        guard let elems = list.pointee.elems else { return [] }
        return (0..<Int(list.pointee.cnt)).map { i in
            TopicPartitionOffset(String(cString: elems[i].topic), elems[i].partition, elems[i].offset)
        }
    }

    static func partitions(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
        offsets(list).map(\.topicPartition)
    }

    /// The first per-partition error in a list, if any.
    static func firstError(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>, during operation: String) -> KafkaError? {
        guard let elems = list.pointee.elems else { return nil }
        for i in 0..<Int(list.pointee.cnt) where elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let tp = TopicPartition(String(cString: elems[i].topic), elems[i].partition)
            return KafkaError.from(elems[i].err, during: "\(operation) \(tp)")
        }
        return nil
    }
}
