import CRdKafka

/// A consumed record. Key and value are slices of the batch's one contiguous buffer: no copy per record.
public struct ConsumerRecord: Sendable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    /// Milliseconds since the Unix epoch, where the record carries a timestamp.
    public let timestamp: Int64?
    public let key: ArraySlice<UInt8>?
    public let value: ArraySlice<UInt8>?
    public let headers: [KafkaHeader]

    /// A record built by hand (processor tests, replays from files).
    public init(
        topic: String, partition: Int32, offset: Int64, timestamp: Int64?, key: ArraySlice<UInt8>?,
        value: ArraySlice<UInt8>?, headers: [KafkaHeader]
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
    }

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }

    /// The first header with `name`, if any.
    public func header(_ name: String) -> [UInt8]? { headers.first { $0.name == name }?.value }
}

/// The records one poll round returned, in the order librdkafka delivered them (per-partition order is kept).
/// All keys and values live in one buffer, copied once out of librdkafka.
public struct ConsumerBatch: Sendable, RandomAccessCollection {
    struct Entry: Sendable {
        var topicIndex: Int32
        var partition: Int32
        var offset: Int64
        var timestamp: Int64
        var keyStart: Int
        var keyCount: Int  // -1: no key
        var valueStart: Int
        var valueCount: Int  // -1: no value
        var headers: [KafkaHeader]
    }

    let topics: [String]
    let storage: [UInt8]
    let entries: [Entry]

    public var startIndex: Int { 0 }
    public var endIndex: Int { entries.count }

    public subscript(position: Int) -> ConsumerRecord {
        let e = entries[position]
        return ConsumerRecord(
            topic: topics[Int(e.topicIndex)], partition: e.partition, offset: e.offset,
            timestamp: e.timestamp >= 0 ? e.timestamp : nil,
            key: e.keyCount >= 0 ? storage[e.keyStart..<(e.keyStart + e.keyCount)] : nil,
            value: e.valueCount >= 0 ? storage[e.valueStart..<(e.valueStart + e.valueCount)] : nil,
            headers: e.headers)
    }

    /// The offsets to commit after processing the whole batch: per partition, its last offset + 1.
    public var nextOffsets: [TopicPartitionOffset] {
        var next: [TopicPartition: Int64] = [:]
        for e in entries {
            let tp = TopicPartition(topics[Int(e.topicIndex)], e.partition)
            next[tp] = Swift.max(next[tp] ?? -1, e.offset + 1)
        }
        return next.map { TopicPartitionOffset($0.key, $0.value) }.sorted { $0.topicPartition < $1.topicPartition }
    }

    /// The batch without the records of `partitions` (used when they are revoked before delivery).
    public func removing(_ partitions: Set<TopicPartition>) -> ConsumerBatch {
        let kept = entries.filter { !partitions.contains(TopicPartition(topics[Int($0.topicIndex)], $0.partition)) }
        return ConsumerBatch(topics: topics, storage: storage, entries: kept)
    }
}

extension ConsumerBatch {
    /// A batch built by hand from records (tests of code that takes batches); keys and values are copied once.
    public init(_ records: [ConsumerRecord]) {
        var topics: [String] = []
        var storage: [UInt8] = []
        var entries: [Entry] = []
        for record in records {
            let topicIndex = topics.firstIndex(of: record.topic) ?? topics.count
            if topicIndex == topics.count { topics.append(record.topic) }
            let keyStart = storage.count
            storage += record.key ?? []
            let valueStart = storage.count
            storage += record.value ?? []
            entries.append(
                Entry(
                    topicIndex: Int32(topicIndex), partition: record.partition, offset: record.offset,
                    timestamp: record.timestamp ?? -1, keyStart: keyStart, keyCount: record.key?.count ?? -1,
                    valueStart: valueStart, valueCount: record.value?.count ?? -1, headers: record.headers))
        }
        self.init(topics: topics, storage: storage, entries: entries)
    }
}

/// Builds a batch on the poll thread, copying each message's key and value once into the shared buffer.
struct ConsumerBatchBuilder {
    private var topics: [String] = []
    private var topicIndexByPointer: [OpaquePointer: Int32] = [:]
    private var storage: [UInt8] = []
    private var entries: [ConsumerBatch.Entry] = []

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    init(capacity: Int) {
        entries.reserveCapacity(capacity)
        storage.reserveCapacity(capacity * 128)
    }

    mutating func append(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let m = message.pointee
        let topicIndex: Int32
        if let rkt = m.rkt, let known = topicIndexByPointer[rkt] {
            topicIndex = known
        } else {
            topicIndex = Int32(topics.count)
            topics.append(m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "")
            if let rkt = m.rkt { topicIndexByPointer[rkt] = topicIndex }
        }
        let keyStart = storage.count
        var keyCount = -1
        if let key = m.key {
            storage.append(contentsOf: UnsafeRawBufferPointer(start: key, count: m.key_len))
            keyCount = m.key_len
        }
        let valueStart = storage.count
        var valueCount = -1
        if let payload = m.payload {
            storage.append(contentsOf: UnsafeRawBufferPointer(start: payload, count: m.len))
            valueCount = m.len
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        entries.append(
            ConsumerBatch.Entry(
                topicIndex: topicIndex, partition: m.partition, offset: m.offset,
                timestamp: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : timestamp,
                keyStart: keyStart, keyCount: keyCount, valueStart: valueStart, valueCount: valueCount,
                headers: Self.headers(of: message)))
    }

    private static func headers(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var hdrs: OpaquePointer?
        guard rd_kafka_message_headers(message, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs else { return [] }
        var result: [KafkaHeader] = []
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(hdrs, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            result.append(KafkaHeader(name.map { String(cString: $0) } ?? "", bytes))
            index += 1
        }
        return result
    }

    /// Drops the records of `partitions` already gathered (they were revoked mid-batch).
    mutating func remove(_ partitions: Set<TopicPartition>) {
        entries.removeAll { partitions.contains(TopicPartition(topics[Int($0.topicIndex)], $0.partition)) }
    }

    mutating func take() -> ConsumerBatch {
        let batch = ConsumerBatch(topics: topics, storage: storage, entries: entries)
        self = ConsumerBatchBuilder(capacity: entries.capacity)
        return batch
    }
}
