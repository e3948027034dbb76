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
/// only cause an extra emission, never a missed one).
public struct AnnouncementFilter: Sendable {
    /// Microseconds of packet time; 0 emits every announcement.
    public let refreshInterval: Int64
    /// Entries kept at most in each table.
    public let capacity: Int
    /// Raw bytes kept at most.
    public let rawByteLimit: Int

    private var emitted: [Observation: Int64] = [:]
    private var raw: [RawKey: Int64] = [:]
    private var rawBytes = 0

    public init(refreshInterval: Int64 = 300_000_000, capacity: Int = 65_536, rawByteLimit: Int = 16 << 20) {
        self.refreshInterval = refreshInterval
        self.capacity = capacity
        self.rawByteLimit = rawByteLimit
    }

    public var isEnabled: Bool { refreshInterval > 0 }

    /// What identifies a packet's announcement before decoding: what the decoder reads and what the observation
    /// takes from the headers around it.
    struct RawKey: Hashable {
        var kind: Observation.Kind
        var mac: MACAddress?
        var address: FlowAddress?
        var vlan: UInt16?
        var bytes: [UInt8]

        /// The bytes in one go (an array of bytes would feed the hasher one element at a time).
        func hash(into hasher: inout Hasher) {
            hasher.combine(kind)
            hasher.combine(mac)
            hasher.combine(address)
            hasher.combine(vlan)
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    /// The raw key of a packet, nil when the filter is off.
    func rawKey(
        _ kind: Observation.Kind, mac: MACAddress?, address: FlowAddress?, vlan: UInt16?, payload: UnsafeRawBufferPointer
    ) -> RawKey? {
        guard isEnabled else { return nil }
        return RawKey(kind: kind, mac: mac, address: address, vlan: vlan, bytes: Array(payload))
    }

    /// True when the same bytes already yielded an announcement emitted within the interval: drop without decoding.
    func isRepeat(_ key: RawKey?, at time: EventTime) -> Bool {
        guard let key, let last = raw[key] else { return false }
        return isFresh(last, at: time)
    }

    /// Decides on a decoded announcement: true to emit it. `key` is its packet's raw key.
    mutating func admit(_ observation: Observation, rawKey key: RawKey?, at time: EventTime) -> Bool {
        guard isEnabled else { return true }
        var content = observation
        content.time = EventTime(microseconds: 0)
        if content.kind == .dhcp, var dhcp = content.dhcp {
            dhcp.transactionId = 0
            content.dhcp = dhcp
        }
        if content.kind == .dhcpv6, var dhcpv6 = content.dhcpv6 {
            // Retransmissions differ in these two alone (RFC 8415 section 15).
            dhcpv6.transactionId = 0
            dhcpv6.elapsedTime = nil
            content.dhcpv6 = dhcpv6
        }
        let now = time.microseconds
        if let last = emitted[content], isFresh(last, at: time) {
            remember(key, emittedAt: last, now: now)
            return false
        }
        if emitted.count >= capacity { expire(now) }
        emitted[content] = now
        remember(key, emittedAt: now, now: now)
        return true
    }

    private func isFresh(_ last: Int64, at time: EventTime) -> Bool {
        let age = time.microseconds - last
        return age >= 0 && age < refreshInterval
    }

    private mutating func remember(_ key: RawKey?, emittedAt: Int64, now: Int64) {
        guard let key else { return }
        if raw.count >= capacity || rawBytes + key.bytes.count > rawByteLimit { expireRaw(now) }
        if raw.updateValue(emittedAt, forKey: key) == nil { rawBytes += key.bytes.count }
    }

    private mutating func expire(_ now: Int64) {
        emitted = emitted.filter { now - $0.value >= 0 && now - $0.value < refreshInterval }
        if emitted.count >= capacity { emitted.removeAll() }
    }

    private mutating func expireRaw(_ now: Int64) {
        raw = raw.filter { now - $0.value >= 0 && now - $0.value < refreshInterval }
        rawBytes = raw.keys.reduce(0) { $0 + $1.bytes.count }
        if raw.count >= capacity || rawBytes > rawByteLimit / 2 {
            raw.removeAll()
            rawBytes = 0
        }
    }
}
