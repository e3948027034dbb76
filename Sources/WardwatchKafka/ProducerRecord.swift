/// A record header: a name and bytes.
public struct KafkaHeader: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]

    public init(_ name: String, _ value: [UInt8]) {
        self.name = name
        self.value = value
    }

    public init(_ name: String, _ value: String) {
        self.init(name, Array(value.utf8))
    }
}

/// A record to produce.
public struct ProducerRecord: Sendable {
    public var topic: String
    /// The partition, or nil to let the partitioner choose from the key.
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// Milliseconds since the Unix epoch; nil lets librdkafka stamp the current time.
    public var timestamp: Int64?

    public init(
        topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader] = [],
        timestamp: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    public init(topic: String, key: String, value: [UInt8], headers: [KafkaHeader] = [], timestamp: Int64? = nil) {
        self.init(topic: topic, key: Array(key.utf8), value: value, headers: headers, timestamp: timestamp)
    }
}

/// The broker's acknowledgement of one record, or the reason it was not written.
public struct DeliveryReport: Sendable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    public let error: KafkaError?
}
