import WardwatchKafka

/// A stream-processing application declared in code: its application id (consumer group, transactional id prefix
/// and changelog names derive from it), the topics it reads, its state stores and the processors every input
/// partition runs. Each input partition gets its own processor instances and stores (a task), so a partition and
/// its state move between instances together.
public struct Topology: Sendable {
    public var applicationId: String
    public var sourceTopics: [String]
    public var stores: [StoreSpec]
    /// Logical output names (what processors forward to) and the topics they are written to.
    public var outputs: [String: String]
    /// Outputs that re-key records for another topology (repartition topics): always partitioned by their key, never
    /// kept on the input's partition number, and created with the input's partition count when missing.
    public var repartitionOutputs: Set<String>
    /// Builds one task's processors, in the order each record visits them.
    public var makeProcessors: @Sendable () -> [any StreamProcessor]
    /// How often, in stream time, `punctuate` runs (nil: never).
    public var punctuationInterval: Int64?

    public init(
        applicationId: String, sourceTopics: [String], stores: [StoreSpec], outputs: [String: String],
        repartitionOutputs: Set<String> = [], punctuationInterval: Int64? = nil,
        makeProcessors: @escaping @Sendable () -> [any StreamProcessor]
    ) {
        precondition(repartitionOutputs.isSubset(of: outputs.keys), "a repartition output must be an output")
        self.repartitionOutputs = repartitionOutputs
        self.applicationId = applicationId
        self.sourceTopics = sourceTopics
        self.stores = stores
        self.outputs = outputs
        self.punctuationInterval = punctuationInterval
        self.makeProcessors = makeProcessors
    }

    /// The compacted topic that backs `store`: `APPID-STORE-changelog`, one partition per input partition.
    public func changelogTopic(_ store: String) -> String { "\(applicationId)-\(store)-changelog" }

    public var changelogTopics: [String] { stores.map { changelogTopic($0.name) } }

    /// The topics of the repartition outputs.
    public var repartitionTopics: [String] { repartitionOutputs.sorted().compactMap { outputs[$0] } }

    /// The same processing under another application id, writing to `suffix`-ed output topics (replays).
    public func renamed(applicationId: String, outputSuffix: String) -> Topology {
        var copy = self
        copy.applicationId = applicationId
        copy.outputs = outputs.mapValues { $0 + outputSuffix }
        return copy
    }
}

/// A key-value state store's declaration: its name, value type and codec, and time-to-live.
public struct StoreSpec: Sendable {
    public var name: String
    /// Entries not updated for this long in event time (milliseconds) are deleted (nil: kept forever).
    public var timeToLive: Int64?
    let make: @Sendable () -> any StateStore

    /// A store of `Value`s under string keys, its changelog values written with `codec`.
    public static func keyValue<Value: Sendable>(
        _ name: String, of type: Value.Type, codec: StoreValueCodec<Value>, timeToLive: Int64? = nil
    ) -> StoreSpec {
        StoreSpec(name: name, timeToLive: timeToLive) {
            KeyValueStore<Value>(name: name, codec: codec, timeToLive: timeToLive)
        }
    }

    public static func keyValue<Value: Codable & Sendable>(
        _ name: String, of type: Value.Type, timeToLive: Int64? = nil
    ) -> StoreSpec {
        keyValue(name, of: type, codec: .json, timeToLive: timeToLive)
    }

    init(name: String, timeToLive: Int64?, make: @escaping @Sendable () -> any StateStore) {
        self.name = name
        self.timeToLive = timeToLive
        self.make = make
    }
}
