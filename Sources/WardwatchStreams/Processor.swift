import WardwatchKafka

/// A keyed processor. One instance per input partition; it sees that partition's records in offset order and keeps
/// its state only in the context's stores (which are restored from their changelogs when the partition moves), never
/// in its own properties beyond what `initialize` rebuilds. Processing logic must not read the wall clock: event
/// time is the record's timestamp and `context.streamTime`.
public protocol StreamProcessor {
    /// Called once per task after its stores are restored and before its first record.
    mutating func initialize(context: ProcessorContext)
    /// Handles one record. Throwing sends the record to the dead-letter topic with the error as the reason;
    /// processing goes on with the next record.
    mutating func process(_ record: ConsumerRecord, context: ProcessorContext) throws
    /// Called when stream time has advanced by the topology's punctuation interval.
    mutating func punctuate(streamTime: Int64, context: ProcessorContext)
}

extension StreamProcessor {
    public mutating func initialize(context: ProcessorContext) {}
    public mutating func punctuate(streamTime: Int64, context: ProcessorContext) {}
}

/// Why a record was sent to the dead-letter topic.
public struct DeadLetterReason: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What a processor sees of its task: the record in hand, stream time, its stores, and the way out.
public final class ProcessorContext {
    public let applicationId: String
    public let partition: Int32
    /// The largest record timestamp this partition has seen (milliseconds); `Int64.min` before the first record.
    public internal(set) var streamTime: Int64 = .min
    /// Coordinates of the record being processed.
    public internal(set) var recordOffset: Int64 = -1
    public internal(set) var recordTimestamp: Int64 = 0
    private let outputTopics: [String: String]
    private let storesByName: [String: any StateStore]
    var forwarded: [ProducerRecord] = []
    /// Records that arrived for windows already closed (counted by processors through `recordLate`).
    public internal(set) var lateRecords = 0

    init(applicationId: String, partition: Int32, outputs: [String: String], stores: [String: any StateStore]) {
        self.applicationId = applicationId
        self.partition = partition
        self.outputTopics = outputs
        self.storesByName = stores
    }

    /// Sends a record to the output named `output` (a name the topology maps to a topic). Outputs go to the input
    /// partition's number, so each output partition receives one input partition's results in processing order.
    public func forward(
        to output: String, key: [UInt8]?, value: [UInt8]?, timestamp: Int64, headers: [KafkaHeader] = []
    ) {
        guard let topic = outputTopics[output] else {
            preconditionFailure("topology declares no output named \(output)")
        }
        forwarded.append(
            ProducerRecord(topic: topic, partition: partition, key: key, value: value, headers: headers, timestamp: timestamp))
    }

    /// The store named `name`, holding values of type `Value`.
    public func store<Value: Sendable>(_ name: String, of type: Value.Type = Value.self) -> KeyValueStore<Value> {
        guard let store = storesByName[name] as? KeyValueStore<Value> else {
            preconditionFailure("topology declares no store \(name) of \(Value.self)")
        }
        return store
    }

    /// Counts a record that arrived after its window closed.
    public func recordLate() { lateRecords += 1 }
}
