import Testing
import WardwatchDecoders
import WardwatchModel

@testable import WardwatchCapture

/// The announcement filter's two tables stay within their limits: what has expired goes first, and a table still full
/// of fresh entries is emptied (an extra emission later, never a missed one).
@Suite("Announcement filter limits")
struct AnnouncementFilterLimitTests {
    static let second: Int64 = 1_000_000

    static func arp(_ n: Int, at seconds: Int64) -> Observation {
        let mac = "02:00:00:00:00:\(String(n, radix: 16))"
        return Observation(
            kind: .arp, deviceKey: mac, time: EventTime(microseconds: seconds * second), sensorId: "s", site: "x", vlan: nil,
            source: .init(mac: mac, ip: nil),
            arp: ARPObservation(operation: "request", senderMac: mac, senderIp: "10.0.0.\(n)", targetMac: "00:00:00:00:00:00",
                                targetIp: "10.0.0.1", gratuitous: false))
    }

    /// Offers ARP announcement `n` at `seconds` to the content table alone; true when emitted.
    static func admit(_ filter: inout AnnouncementFilter, _ n: Int, at seconds: Int64) -> Bool {
        filter.admit(arp(n, at: seconds), rawKey: nil, at: EventTime(microseconds: seconds * second))
    }

    @Test("a full content table lets go of expired contents and keeps fresh ones")
    func contentsExpire() {
        var filter = AnnouncementFilter(refreshInterval: 10 * Self.second, capacity: 8)
        let first = (0..<4).map { Self.admit(&filter, $0, at: 0) } + (4..<8).map { Self.admit(&filter, $0, at: 20) }
        #expect(first == Array(repeating: true, count: 8))
        #expect(filter.counts.contents == 8)
        // The table is full: the four from second 0 have expired and go, the four from second 20 stay.
        let ninth = Self.admit(&filter, 8, at: 21)
        #expect(ninth)
        #expect(filter.counts.contents == 5)
        let fresh = Self.admit(&filter, 5, at: 22), expired = Self.admit(&filter, 1, at: 22)
        #expect(!fresh, "still fresh: a repeat")
        #expect(expired, "expired: emitted again")
    }

    @Test("a content table full of fresh contents is emptied, and what it held is emitted again")
    func freshFloodClears() {
        var filter = AnnouncementFilter(refreshInterval: 300 * Self.second, capacity: 8)
        let first = (0..<8).map { Self.admit(&filter, $0, at: Int64($0)) }
        #expect(first == Array(repeating: true, count: 8))
        let repeated = Self.admit(&filter, 3, at: 8)
        #expect(!repeated)
        let ninth = Self.admit(&filter, 8, at: 9)
        #expect(ninth)
        #expect(filter.counts.contents == 1)
        let again = Self.admit(&filter, 3, at: 10)
        #expect(again, "forgotten when the table emptied: emitted again")
        // Many rounds of new contents: the table never holds more than its capacity.
        var largest = 0
        for n in 100..<1_000 {
            _ = Self.admit(&filter, n, at: 11)
            largest = max(largest, filter.counts.contents)
        }
        #expect(largest == 8)
    }

    @Test("the raw table keeps to its byte limit and counts its bytes exactly")
    func rawBytes() {
        var filter = AnnouncementFilter(refreshInterval: 10 * Self.second, capacity: 100, rawByteLimit: 100)
        let payloads = (0..<6).map { n in [UInt8](repeating: UInt8(n), count: 30) }
        func offer(_ n: Int, at seconds: Int64) -> (admitted: Bool, wasRepeat: Bool) {
            payloads[n].withUnsafeBytes { payload in
                let time = EventTime(microseconds: seconds * Self.second)
                let key = filter.rawKey(.arp, mac: nil, address: nil, vlan: nil, payload: payload)
                if filter.isRepeat(key, at: time) { return (false, true) }
                return (filter.admit(Self.arp(n, at: seconds), rawKey: key, at: time), false)
            }
        }
        for n in 0..<3 { let result = offer(n, at: 0).admitted; #expect(result) }
        #expect(filter.rawBytes == 90)
        let r7 = offer(1, at: 1).wasRepeat
        #expect(r7)
        // 90 + 30 is over 100, and the 90 still fresh are over half the limit: the raw table is emptied.
        let r8 = offer(3, at: 2).admitted
        #expect(r8)
        #expect(filter.rawBytes == 30 && filter.counts.raw == 1)
        let again = offer(1, at: 3)
        #expect(!again.wasRepeat && !again.admitted, "forgotten by the raw table, still dropped by the content table")
        #expect(filter.rawBytes == 60 && filter.counts.raw == 2)
        let r9 = offer(4, at: 20).admitted
        #expect(r9)
        #expect(filter.rawBytes == 90 && filter.counts.raw == 3)
        // 90 + 30 is over 100 again; now the entries of packets 3 and 1 (emitted at seconds 2 and 0) have expired and
        // go, packet 4's stays: the bytes counted are exactly those kept.
        let r10 = offer(5, at: 20).admitted
        #expect(r10)
        #expect(filter.rawBytes == 60 && filter.counts.raw == 2)
        let (five, four) = (offer(5, at: 21), offer(4, at: 21))
        #expect(five.wasRepeat && four.wasRepeat)
        let r11 = offer(3, at: 21).wasRepeat
        #expect(!r11)
    }
}

/// What an announcement says, hashed without copying it: equal exactly when the observations are equal but for their
/// time and DHCP retransmission fields.
@Suite("Announcement content hash")
struct AnnouncementHashTests {
    static func digest(_ o: Observation) -> Int {
        var hasher = Hasher()
        o.hashAnnouncement(into: &hasher)
        return hasher.finalize()
    }

    @Test("time and DHCP transaction ids are left out; every other field counts")
    func fields() {
        let base = AnnouncementFilterTests.announcement(1_000_000, xid: 7)
        // Observation's stored properties: a new one must be hashed too (then update this count).
        #expect(Mirror(reflecting: base).children.count == 9)
        var later = base
        later.time = EventTime(microseconds: 9_000_000)
        later.dhcp?.transactionId = 8
        #expect(Self.digest(later) == Self.digest(base))
        var changes: [Observation] = []
        for change in 0..<8 {
            var o = base
            switch change {
            case 0: o.deviceKey = "00:03:b1:5e:21:08"
            case 1: o.sensorId = "other"
            case 2: o.site = "other"
            case 3: o.vlan = 12
            case 4: o.source.ip = "10.0.0.9"
            case 5: o.dhcp?.requestedIp = "10.0.0.99"
            case 6: o.schemaVersion = 2
            default: o.kind = .dhcpv6
            }
            changes.append(o)
        }
        for (n, o) in changes.enumerated() { #expect(Self.digest(o) != Self.digest(base), "change \(n)") }

        var v6 = Observation(
            kind: .dhcpv6, deviceKey: "k", time: EventTime(microseconds: 0), sensorId: "s", site: "x", vlan: nil,
            source: .init(mac: nil, ip: "fe80::1"))
        v6.dhcpv6 = DHCPv6Observation(messageType: "solicit", fromClient: true, transactionId: 1, elapsedTime: 0, optionCodes: [1, 8])
        var retransmitted = v6
        retransmitted.dhcpv6?.transactionId = 2
        retransmitted.dhcpv6?.elapsedTime = 300
        #expect(Self.digest(retransmitted) == Self.digest(v6))
        retransmitted.dhcpv6?.optionCodes = [1, 8, 6]
        #expect(Self.digest(retransmitted) != Self.digest(v6))
    }
}
