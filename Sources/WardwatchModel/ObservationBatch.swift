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
    /// Envelope members of the devices this batch wrote lately (see `append(_:device:…)`).
    private var devices = DeviceEnvelopeCache()
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

    /// Takes the last observation appended back out.
    public mutating func removeLast() {
        if discarding {
            discarded -= 1
            return
        }
        let last = records.removeLast()
        lines.truncate(to: last.value.lowerBound)
        keys.truncate(to: last.key.lowerBound)
    }

    /// True for a batch that counts observations but writes none.
    public var isDiscarding: Bool { discarding }

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

    /// Appends an observation of the device that `device` (four words that tell devices apart) names, written by
    /// `Observation.writeJSON(to:kind:device:…)` from the device's kept envelope members, and returns true; or, the
    /// first time the device is seen (lately), appends nothing and returns false: the caller then writes the
    /// observation whole. The members come from `envelope` the second time (so a flood of devices seen once each costs
    /// no more than writing them whole), and must follow from `device`, `sensorId` and `site` alone.
    public mutating func append(
        _ kind: Observation.Kind, device: DeviceEnvelopeCache.Words, sensorId: EncodedJSON, site: EncodedJSON,
        time: EventTime, envelope: () -> DeviceEnvelope, payload: (inout JSONWriter) -> Void
    ) -> Bool {
        if discarding {
            discarded += 1
            return true
        }
        guard let members = devices.members(of: device, sensorId: sensorId, site: site, envelope) else { return false }
        append(key: UTF8Text(members.key), time: time) {
            Observation.writeJSON(to: &$0, kind: kind, device: members, time: time, payload: payload)
        }
        return true
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

/// The envelope members of recently seen devices, one device per slot of a small table indexed by the device's
/// words: a sensor's observations come from a few hundred devices, so nearly every lookup finds its device. The
/// members are kept in raw memory the cache owns, so a lookup retains nothing.
public struct DeviceEnvelopeCache: ~Copyable {
    /// Four words that tell devices apart (the capture uses the MAC, the IP address and the VLAN).
    public typealias Words = (UInt64, UInt64, UInt64, UInt64)

    static let slots = 512
    /// Bytes a slot keeps: four words, five offsets, a state, then the members' text.
    static let slotBytes = 512
    static let textStart = 48
    private let memory: UnsafeMutableRawPointer
    /// The sensor and site the slots were made for; a different one empties them.
    private var sensor: (id: EncodedJSON, site: EncodedJSON)?

    init() {
        memory = .allocate(byteCount: Self.slots * Self.slotBytes, alignment: 8)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: Self.slots * Self.slotBytes)
    }

    deinit { memory.deallocate() }

    /// The members of `words` (for this sensor and site): kept, or made by `make` on the second lookup of `words`
    /// in a row in their slot. Nil on the first (the slot then notes the words), and for members too long to keep:
    /// the caller writes them itself.
    mutating func members(
        of words: Words, sensorId: EncodedJSON, site: EncodedJSON, _ make: () -> DeviceEnvelope
    ) -> EnvelopeMembers? {
        if sensor?.id != sensorId || sensor?.site != site {
            memory.initializeMemory(as: UInt8.self, repeating: 0, count: Self.slots * Self.slotBytes)
            sensor = (sensorId, site)
        }
        let slot = memory + Self.slot(of: words) * Self.slotBytes
        let state = slot.load(fromByteOffset: 42, as: UInt8.self)  // 0 empty, 1 words seen once, 2 members kept
        let same = state != 0 && slot.load(as: UInt64.self) == words.0 && slot.load(fromByteOffset: 8, as: UInt64.self) == words.1
            && slot.load(fromByteOffset: 16, as: UInt64.self) == words.2 && slot.load(fromByteOffset: 24, as: UInt64.self) == words.3
        if !same {
            for (i, word) in [words.0, words.1, words.2, words.3].enumerated() { slot.storeBytes(of: word, toByteOffset: 8 * i, as: UInt64.self) }
            slot.storeBytes(of: 1, toByteOffset: 42, as: UInt8.self)
            return nil
        }
        if state == 1 {
            guard Self.store(make(), in: slot) else { return nil }
        }
        func part(_ index: Int) -> UnsafeRawBufferPointer {
            let start = Int(slot.load(fromByteOffset: 32 + 2 * index, as: UInt16.self))
            let end = Int(slot.load(fromByteOffset: 34 + 2 * index, as: UInt16.self))
            return UnsafeRawBufferPointer(start: slot + start, count: end - start)
        }
        return EnvelopeMembers(deviceKey: part(0), identity: part(1), vlan: part(2), key: part(3))
    }

    /// The slot that keeps the members of `words` (shared with other devices: the last one made holds it).
    public static func slot(of words: Words) -> Int {
        var mixed = words.0 &* 0x9E37_79B9_7F4A_7C15 ^ words.1 &* 0xC2B2_AE3D_27D4_EB4F
        mixed ^= words.2 &* 0x1656_67B1_9E37_79F9 ^ words.3 &* 0x27D4_EB2F_1656_67C5
        return Int(truncatingIfNeeded: (mixed ^ mixed >> 29) % UInt64(slots))
    }

    /// Keeps `envelope` in `slot`, whose words are noted: the five offsets that bound its four parts, the text, and
    /// the state "kept". False (the state left at "seen once") when the text does not fit.
    private static func store(_ envelope: DeviceEnvelope, in slot: UnsafeMutableRawPointer) -> Bool {
        let ranges = [envelope.deviceKey, envelope.identity, envelope.vlan, envelope.key]
        precondition(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "parts not back to back")
        guard textStart + envelope.bytes.count <= slotBytes else { return false }
        for (i, range) in ranges.enumerated() {
            slot.storeBytes(of: UInt16(textStart + range.lowerBound), toByteOffset: 32 + 2 * i, as: UInt16.self)
        }
        slot.storeBytes(of: UInt16(textStart + envelope.key.upperBound), toByteOffset: 40, as: UInt16.self)
        envelope.bytes.withUnsafeBytes { (slot + textStart).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        slot.storeBytes(of: 2, toByteOffset: 42, as: UInt8.self)
        return true
    }
}
