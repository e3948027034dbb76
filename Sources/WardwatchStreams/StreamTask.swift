import WardwatchKafka

/// One input partition's processors, stores and stream time.
final class StreamTask {
    let partition: TopicPartition
    let context: ProcessorContext
    let stores: [any StateStore]
    private var processors: [any StreamProcessor]
    private let punctuationInterval: Int64?
    private var nextPunctuation: Int64?
    private var initialized = false
    /// The offset after the last record processed (what a commit stores).
    private(set) var nextOffset: Int64?

    init(partition: TopicPartition, topology: Topology) {
        self.partition = partition
        let stores = topology.stores.map { $0.make() }
        self.stores = stores
        self.context = ProcessorContext(
            applicationId: topology.applicationId, partition: partition.partition, outputs: topology.outputs,
            stores: Dictionary(uniqueKeysWithValues: stores.map { ($0.name, $0) }))
        self.processors = topology.makeProcessors()
        self.punctuationInterval = topology.punctuationInterval
    }

    /// Applies a changelog record to the store it belongs to.
    func restore(store index: Int, key: ArraySlice<UInt8>, value: ArraySlice<UInt8>?) throws {
        try stores[index].restore(key: key, value: value)
    }

    /// Runs every processor on `record`; returns the dead-letter reason when one throws.
    func process(_ record: ConsumerRecord) -> String? {
        if !initialized { initialize() }
        nextOffset = record.offset + 1
        let timestamp = record.timestamp ?? context.streamTime
        context.recordOffset = record.offset
        context.recordTimestamp = timestamp
        if timestamp > context.streamTime { context.streamTime = timestamp }
        for store in stores { store.setCurrent(offset: record.offset, timestamp: timestamp) }
        var failure: String?
        for index in processors.indices {
            do {
                try processors[index].process(record, context: context)
            } catch {
                failure = "\(error)"
                break
            }
        }
        advance()
        return failure
    }

    /// Moves stream time forward without a record (an idle partition, or the end of a replay).
    func advanceStreamTime(to time: Int64) {
        guard time > context.streamTime else { return }
        if !initialized { initialize() }
        context.streamTime = time
        for store in stores { store.setCurrent(offset: nextOffset.map { $0 - 1 } ?? -1, timestamp: time) }
        advance()
    }

    private func initialize() {
        initialized = true
        for index in processors.indices { processors[index].initialize(context: context) }
    }

    /// Punctuations due at the new stream time, then expiry.
    private func advance() {
        let now = context.streamTime
        guard now != .min else { return }
        if let interval = punctuationInterval {
            if nextPunctuation == nil { nextPunctuation = (now / interval + 1) * interval }
            while let due = nextPunctuation, due <= now {
                for index in processors.indices { processors[index].punctuate(streamTime: due, context: context) }
                nextPunctuation = due + interval
            }
        }
        for store in stores { store.expire(streamTime: now) }
    }

    /// Takes the records processors forwarded since the last call.
    func takeForwarded() -> [ProducerRecord] {
        defer { context.forwarded.removeAll(keepingCapacity: true) }
        return context.forwarded
    }
}
