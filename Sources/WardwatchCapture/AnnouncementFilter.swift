import Foundation
import WardwatchDecoders
import WardwatchModel

/// Drops repeated announcements. Discovery traffic (ARP, DHCP, LLDP, CDP, mDNS, SSDP, WS-Discovery) says the same
/// thing over and over; an observation of one of these kinds is emitted only when its device, kind and content
/// (everything but `time`, and for DHCP the transaction id) have not been emitted within the refresh interval, measured
/// in packet time. The first is always emitted, a change is emitted at once, and an unchanged announcement again once
/// the interval has passed since it was last emitted. Packet time going backwards (a new file) counts as a refresh.
///
/// Two tables: emitted contents, and the raw bytes of packets that yielded them, so a byte-identical repeat is dropped
/// before it is decoded. A raw entry holds the time its content was last emitted (never later), so it never drops
/// what the content table would emit. Both are bounded: when full, expired entries go, then everything (which can
/// only cause an extra emission, never a missed one). The raw table is keyed by a fast digest of the packet and
/// compares the bytes on a hit, so looking a packet up copies and allocates nothing. The content table is keyed by the
/// content's 64-bit hash, seeded at random in each process (Swift's own seed, plus one of ours drawn from the system's
/// generator, so that SWIFT_DETERMINISTIC_HASHING, which fixes Swift's, does not make it predictable): an attacker
/// cannot aim a collision, and a chance one (about one in 10^10 for a full table) would hold back one changed
/// announcement until the refresh interval.
public struct AnnouncementFilter: Sendable {
    /// Microseconds of packet time; 0 emits every announcement.
    public let refreshInterval: Int64
    /// Entries kept at most in each table.
    public let capacity: Int
    /// Raw bytes kept at most.
    public let rawByteLimit: Int

    /// This process's secret for content hashes.
    private static let contentSeed = UInt64.random(in: .min ... .max)

    /// When each content (by its seeded hash) was last emitted.
    private var emitted: [Int: Int64] = [:]
    private var raw: [UInt64: RawEntry] = [:]
    /// Bytes the raw table holds.
    private(set) var rawBytes = 0

    /// Entries in each table.
    var counts: (contents: Int, raw: Int) { (emitted.count, raw.count) }

    public init(refreshInterval: Int64 = 300_000_000, capacity: Int = 65_536, rawByteLimit: Int = 16 << 20) {
        self.refreshInterval = refreshInterval
        self.capacity = capacity
        self.rawByteLimit = rawByteLimit
    }

    public var isEnabled: Bool { refreshInterval > 0 }

    /// What identifies a packet's announcement before decoding: what the decoder reads and what the observation
    /// takes from the headers around it. `payload` points into the packet being extracted: a key lives no longer
    /// than its packet (the raw table copies the bytes when it keeps them).
    struct RawKey {
        var kind: Observation.Kind
        var mac: MACAddress?
        var address: FlowAddress?
        var vlan: UInt16?
        var payload: UnsafeRawBufferPointer
        /// A fast digest of all the above but the kind: the raw table's key.
        var digest: UInt64
    }

    /// A raw table entry: a packet's identity, its bytes, and when its content was last emitted.
    struct RawEntry {
        var kind: Observation.Kind
        var mac: MACAddress?
        var address: FlowAddress?
        var vlan: UInt16?
        var bytes: [UInt8]
        var emittedAt: Int64

        func matches(_ key: RawKey) -> Bool {
            guard kind == key.kind, mac == key.mac, address == key.address, vlan == key.vlan,
                bytes.count == key.payload.count
            else { return false }
            guard !bytes.isEmpty, let base = key.payload.baseAddress else { return true }
            return bytes.withUnsafeBytes { memcmp($0.baseAddress!, base, $0.count) == 0 }
        }
    }

    /// The raw key of a packet, nil when the filter is off. No allocation: repeats are found without copying.
    func rawKey(
        _ kind: Observation.Kind, mac: MACAddress?, address: FlowAddress?, vlan: UInt16?, payload: UnsafeRawBufferPointer
    ) -> RawKey? {
        guard isEnabled else { return nil }
        var h = Self.mix(0x243F_6A88_85A3_08D3, mac.map { $0.value | 1 << 63 } ?? 0)
        if let address { h = Self.mix(Self.mix(h, address.high), address.low ^ 1) }
        h = Self.mix(h, vlan.map { UInt64($0) | 1 << 32 } ?? 0)
        h = Self.mix(h, UInt64(payload.count))
        var offset = 0
        while offset + 8 <= payload.count {
            h = Self.mix(h, payload.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        if offset < payload.count {
            var tail: UInt64 = 0
            while offset < payload.count {
                tail = tail << 8 | UInt64(payload[offset])
                offset += 1
            }
            h = Self.mix(h, tail)
        }
        return RawKey(kind: kind, mac: mac, address: address, vlan: vlan, payload: payload, digest: h)
    }

    /// One multiply-fold step. The digest is not what decides a repeat (the entry's bytes are compared), so a weak
    /// or colliding digest only costs a decode: colliding packets take turns in one slot.
    @inline(__always)
    static func mix(_ h: UInt64, _ v: UInt64) -> UInt64 {
        let m = (h ^ v).multipliedFullWidth(by: 0x9E37_79B9_7F4A_7C15)
        return m.high ^ m.low
    }

    /// True when the same bytes already yielded an announcement emitted within the interval: drop without decoding.
    mutating func isRepeat(_ key: RawKey?, at time: EventTime) -> Bool {
        guard let key, let index = raw.index(forKey: key.digest) else { return false }
        // In place: reading the entry through the getter would copy (retain) its bytes.
        func check(_ entry: inout RawEntry) -> Int64? { entry.matches(key) ? entry.emittedAt : nil }
        guard let last = check(&raw.values[index]) else { return false }
        return isFresh(last, now: time.microseconds)
    }

    /// Decides on a decoded announcement: true to emit it. `key` is its packet's raw key.
    mutating func admit(_ observation: Observation, rawKey key: RawKey?, at time: EventTime) -> Bool {
        guard isEnabled else { return true }
        var hasher = Hasher()
        hasher.combine(Self.contentSeed)
        observation.hashAnnouncement(into: &hasher)
        return admit(content: hasher.finalize(), rawKey: key, at: time)
    }

    /// The content digest of an announcement written straight to JSON (not made as an `Observation`): its kind, its
    /// device, and its payload's JSON, which says all else the record says but its time (the sensor and site are
    /// the extractor's own). Equal contents give equal JSON, so equal digests, as `hashAnnouncement` does.
    func content(
        _ kind: Observation.Kind, mac: MACAddress?, address: FlowAddress, vlan: UInt16?, payloadJSON: UnsafeRawBufferPointer
    ) -> Int {
        var hasher = Hasher()
        hasher.combine(Self.contentSeed)
        hasher.combine(0xFF as UInt8)  // never an `Observation`'s (`hashAnnouncement` starts with the schema version)
        hasher.combine(kind)
        hasher.combine(mac?.value)
        hasher.combine(address)
        hasher.combine(vlan)
        hasher.combine(bytes: payloadJSON)
        return hasher.finalize()
    }

    /// Decides on an announcement by its content digest (`hashAnnouncement`'s, or `content(…)`): true to emit it.
    mutating func admit(content digest: Int, rawKey key: RawKey?, at time: EventTime) -> Bool {
        guard isEnabled else { return true }
        let now = time.microseconds
        let index = emitted.index(forKey: digest)
        if let index {
            let last = emitted.values[index]
            if isFresh(last, now: now) {
                remember(key, emittedAt: last, now: now)
                return false
            }
            if emitted.count < capacity {
                emitted.values[index] = now
                remember(key, emittedAt: now, now: now)
                return true
            }
        }
        if emitted.count >= capacity { expire(now) }
        emitted[digest] = now
        remember(key, emittedAt: now, now: now)
        return true
    }

    private mutating func remember(_ key: RawKey?, emittedAt: Int64, now: Int64) {
        guard let key else { return }
        if raw.count >= capacity || rawBytes + key.payload.count > rawByteLimit { expireRaw(now) }
        let index = raw.index(forKey: key.digest)
        if let index {
            func update(_ entry: inout RawEntry) -> Bool {
                guard entry.matches(key) else { return false }
                entry.emittedAt = emittedAt
                return true
            }
            if update(&raw.values[index]) { return }
        }
        let entry = RawEntry(
            kind: key.kind, mac: key.mac, address: key.address, vlan: key.vlan, bytes: Array(key.payload),
            emittedAt: emittedAt)
        if let index {
            // Another packet with the same digest: this one takes its slot.
            rawBytes -= raw.values[index].bytes.count
            raw.values[index] = entry
        } else {
            raw[key.digest] = entry
        }
        rawBytes += key.payload.count
    }

    /// Drops the contents whose interval has passed; everything when that leaves the table full. What stays is
    /// counted first: a flood of new announcements (all still fresh) empties the table in place, keeping its storage,
    /// instead of copying it whole to throw the copy away and growing it again.
    private mutating func expire(_ now: Int64) {
        let fresh = emitted.values.reduce(0) { isFresh($1, now: now) ? $0 + 1 : $0 }
        if fresh >= capacity {
            emitted.removeAll(keepingCapacity: true)
        } else if fresh < emitted.count {
            emitted = emitted.filter { isFresh($0.value, now: now) }
        }
    }

    /// `expire` for the raw table, which is also emptied when what stays would hold more than half its byte limit.
    private mutating func expireRaw(_ now: Int64) {
        var (fresh, freshBytes) = (0, 0)
        for entry in raw.values where isFresh(entry.emittedAt, now: now) {
            fresh += 1
            freshBytes += entry.bytes.count
        }
        if fresh >= capacity || freshBytes > rawByteLimit / 2 {
            raw.removeAll(keepingCapacity: true)
        } else if fresh < raw.count {
            raw = raw.filter { isFresh($0.value.emittedAt, now: now) }
        }
        rawBytes = raw.isEmpty ? 0 : freshBytes
    }

    private func isFresh(_ last: Int64, now: Int64) -> Bool { now - last >= 0 && now - last < refreshInterval }
}
