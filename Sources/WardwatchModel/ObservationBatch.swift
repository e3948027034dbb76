/// Observations encoded as JSON lines the moment they are made, with what a publisher needs of each (its key and
/// its time). The capture's output: the bytes go to a file or become Kafka records as they are, so no `Observation`
/// value has to outlive its packet, cross to the publishing thread or be freed there.
///
/// Owns raw memory (see `JSONWriter`), so it cannot be copied: hand it over (`consume`) or lend it.
public struct ObservationBatch: ~Copyable, @unchecked Sendable {
    /// Where one observation is in the batch.
    public struct Record: Sendable, Equatable {
        /// Its JSON object (without the newline) in `withLines`' bytes.
        public var value: Range<Int>
        /// Its device key in `withKeys`' bytes.
        public var key: Range<Int>
        /// Its event time, in milliseconds since the epoch (the Kafka record timestamp).
        public var timestampMilliseconds: Int64
    }

    private var lines: JSONWriter
    private var keys: JSONWriter
    public private(set) var records: [Record] = []
    /// Observations counted but not written (`discarding`).
    private var discarded = 0
    private let discarding: Bool

    public init(capacity: Int = 1 << 16) {
        lines = JSONWriter(capacity: capacity)
        keys = JSONWriter(capacity: 64)
        discarding = false
    }

    /// A batch that counts observations but writes none (no JSON, nor the texts only JSON needs): the benchmark's
    /// measure of decoding alone, against what writing the observations costs on top.
    public init(discarding: Bool) {
        lines = JSONWriter(capacity: 64)
        keys = JSONWriter(capacity: 64)
        self.discarding = discarding
    }

    /// Forgets every observation, keeping the memory for the next batch.
    public mutating func removeAll() {
        lines.reset()
        keys.reset()
        records.removeAll(keepingCapacity: true)
        discarded = 0
    }

    public var count: Int { records.count + discarded }
    public var isEmpty: Bool { count == 0 }

    /// Appends one observation.
    public mutating func append(_ observation: Observation) {
        append(key: observation.deviceKey, time: observation.time) { observation.writeJSON(to: &$0) }
    }

    /// Appends one observation written by `write` (one JSON object, keys sorted) with its device key and time.
    public mutating func append<Key: JSONText>(key: Key, time: EventTime, _ write: (inout JSONWriter) -> Void) {
        if discarding {
            discarded += 1
            return
        }
        let start = lines.count
        write(&lines)
        let end = lines.count
        lines.newline()
        let keyStart = keys.count
        key.appendRaw(to: &keys)
        records.append(Record(value: start..<end, key: keyStart..<keys.count, timestampMilliseconds: time.milliseconds))
    }

    /// Every observation as JSON lines: each object followed by a newline.
    public func withLines<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try lines.withBytes(body) }

    /// The device keys, back to back (each record says where its own is).
    public func withKeys<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try keys.withBytes(body) }

    /// The observations decoded back from their JSON (tests and tools; the capture path never decodes).
    public func decoded() throws -> [Observation] {
        try withLines { bytes in
            try records.map { record in
                try WardwatchJSON.decode(Observation.self, from: UnsafeRawBufferPointer(rebasing: bytes[record.value]))
            }
        }
    }
}
