import Foundation
import WardwatchKafka
import WardwatchModel

/// What the runtime needs of every store: changelog writes, restore, expiry.
public protocol StateStore: AnyObject {
    var name: String { get }
    var count: Int { get }
    /// Sets the coordinates of the record being processed (stamped on every write).
    func setCurrent(offset: Int64, timestamp: Int64)
    /// The changelog records for everything changed since the last call (nil value: deleted), in key order.
    func takeChanges() -> [(key: [UInt8], value: [UInt8]?)]
    /// Applies one changelog record.
    func restore(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>?) throws
    /// Deletes entries whose time-to-live has passed at `streamTime`.
    func expire(streamTime: Int64)
    /// Bytes the encoded entries take (what the changelog holds), for sizing.
    func encodedBytes() -> Int
}

/// How a store's values are written to its changelog.
public struct StoreValueCodec<Value>: Sendable {
    public var encode: @Sendable (Value) -> [UInt8]
    public var decode: @Sendable (ArraySlice<UInt8>) throws -> Value

    public init(encode: @escaping @Sendable (Value) -> [UInt8], decode: @escaping @Sendable (ArraySlice<UInt8>) throws -> Value) {
        self.encode = encode
        self.decode = decode
    }
}

extension StoreValueCodec where Value: Codable & Sendable {
    /// Wardwatch's JSON dialect (sorted keys, so equal values are equal bytes).
    public static var json: StoreValueCodec<Value> {
        StoreValueCodec(
            encode: { (try? WardwatchJSON.encode($0)) ?? [] },
            decode: { try WardwatchJSON.decode(Value.self, from: $0) })
    }
}

extension StoreValueCodec where Value == Int64 {
    /// Eight bytes, big-endian.
    public static var int64: StoreValueCodec<Int64> {
        StoreValueCodec(
            encode: { value in withUnsafeBytes(of: value.bigEndian) { Array($0) } },
            decode: { bytes in
                guard bytes.count == 8 else { throw DeadLetterReason("changelog value is not 8 bytes") }
                return bytes.reduce(0) { $0 << 8 | Int64($1) }
            })
    }
}

/// An in-memory key-value store for one input partition, backed by a compacted changelog. Each entry remembers the
/// input offset and event time of its last write: the offset lets a processor skip a record whose effect the
/// restored state already holds (`hasApplied`), so re-delivery after a crash does not apply a record twice; the
/// event time drives the time-to-live.
public final class KeyValueStore<Value: Sendable>: StateStore {
    struct Entry {
        var value: Value
        var offset: Int64
        var updated: Int64
    }

    public let name: String
    let codec: StoreValueCodec<Value>
    let timeToLive: Int64?
    private var entries: [String: Entry] = [:]
    private var dirty: Set<String> = []
    private var currentOffset: Int64 = -1
    private var currentTimestamp: Int64 = 0
    private var nextSweep: Int64?

    init(name: String, codec: StoreValueCodec<Value>, timeToLive: Int64?) {
        self.name = name
        self.codec = codec
        self.timeToLive = timeToLive
    }

    public var count: Int { entries.count }

    public func get(_ key: String) -> Value? { entries[key]?.value }

    /// Stores `value`, stamped with the current record's offset and timestamp.
    public func put(_ key: String, _ value: Value) {
        entries[key] = Entry(value: value, offset: currentOffset, updated: currentTimestamp)
        dirty.insert(key)
    }

    public func delete(_ key: String) {
        if entries.removeValue(forKey: key) != nil { dirty.insert(key) }
    }

    /// True when the entry under `key` was last written by this record or a later one: the record was already
    /// applied before a restart, and applying it again would count it twice.
    public func hasApplied(_ key: String) -> Bool {
        guard let entry = entries[key] else { return false }
        return entry.offset >= currentOffset
    }

    /// Every key, sorted (a deterministic order for punctuations).
    public func sortedKeys() -> [String] { entries.keys.sorted() }

    public func setCurrent(offset: Int64, timestamp: Int64) {
        currentOffset = offset
        currentTimestamp = timestamp
    }

    public func takeChanges() -> [(key: [UInt8], value: [UInt8]?)] {
        guard !dirty.isEmpty else { return [] }
        let keys = dirty.sorted()
        dirty.removeAll(keepingCapacity: true)
        return keys.map { key in (Array(key.utf8), entries[key].map(encode)) }
    }

    private func encode(_ entry: Entry) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 + 32)
        withUnsafeBytes(of: entry.offset.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: entry.updated.bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: codec.encode(entry.value))
        return bytes
    }

    public func restore(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>?) throws {
        let text = String(decoding: key, as: UTF8.self)
        guard let value else {
            entries.removeValue(forKey: text)
            return
        }
        guard value.count >= 16 else { throw DeadLetterReason("changelog record of \(name) is shorter than its header") }
        let start = value.startIndex
        let offset = value[start..<(start + 8)].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        let updated = value[(start + 8)..<(start + 16)].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        entries[text] = Entry(value: try codec.decode(value[(start + 16)...]), offset: offset, updated: updated)
    }

    /// Sweeps at most once per eighth of the time-to-live of stream time (a deterministic schedule).
    public func expire(streamTime: Int64) {
        guard let timeToLive, streamTime != .min else { return }
        if let nextSweep, streamTime < nextSweep { return }
        nextSweep = streamTime + max(1, timeToLive / 8)
        let cutoff = streamTime - timeToLive
        for (key, entry) in entries where entry.updated < cutoff {
            entries.removeValue(forKey: key)
            dirty.insert(key)
        }
    }

    public func encodedBytes() -> Int {
        entries.reduce(0) { $0 + $1.key.utf8.count + encode($1.value).count }
    }
}
