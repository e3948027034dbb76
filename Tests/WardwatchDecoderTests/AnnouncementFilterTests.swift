import Foundation
import Testing
import WardwatchCapture
import WardwatchDecoders
import WardwatchModel

/// Repeated discovery announcements are emitted once per refresh interval of packet time, changes at once.
@Suite("Repeated announcements")
struct AnnouncementFilterTests {
    static let sharedPcaps = Fixtures.root.deletingLastPathComponent().appendingPathComponent("shared/pcaps").path
    static var hasShared: Bool { FileManager.default.fileExists(atPath: sharedPcaps) }
    static let announcementKinds: Set<Observation.Kind> = [.arp, .dhcp, .dhcpv6, .ndp, .lldp, .cdp, .mdns, .ssdp, .wsdiscovery]

    static func observations(_ path: String, refresh: Int64) throws -> ([Observation], CaptureCounters) {
        var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "test", site: "test-site"), announcementRefresh: refresh)
        let output = try extractor.observations(ofFiles: [path])
        return (output, extractor.counters)
    }

    /// The rule written plainly, applied to every observation: what the extractor must emit.
    static func reference(_ all: [Observation], refresh: Int64) -> [Observation] {
        var last: [Observation: Int64] = [:]
        return all.filter { observation in
            guard announcementKinds.contains(observation.kind) else { return true }
            var content = observation
            content.time = EventTime(microseconds: 0)
            content.dhcp?.transactionId = 0
            content.dhcpv6?.transactionId = 0
            content.dhcpv6?.elapsedTime = nil
            let now = observation.time.microseconds
            if let previous = last[content], now - previous >= 0, now - previous < refresh { return false }
            last[content] = now
            return true
        }
    }

    static func announcement(_ time: Int64, ip: String = "10.0.0.5", xid: UInt32 = 1) -> Observation {
        Observation(
            kind: .dhcp, deviceKey: "00:03:b1:5e:21:07", time: EventTime(microseconds: time), sensorId: "s", site: "x",
            vlan: nil, source: .init(mac: "00:03:b1:5e:21:07", ip: nil),
            dhcp: DHCPObservation(op: "request", messageType: "request", transactionId: xid, clientMac: "00:03:b1:5e:21:07",
                                  requestedIp: ip, optionCodes: [53, 50]))
    }

    @Test("the extractor emits exactly what the rule says, on every shared capture, for several intervals", .enabled(if: hasShared, "needs ../shared/pcaps"))
    func matchesTheRule() throws {
        let files = (FileManager.default.enumerator(atPath: Self.sharedPcaps)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
        var dropped = 0
        for file in files {
            guard let (all, allCounters) = try? Self.observations(Self.sharedPcaps + "/" + file, refresh: 0) else { continue }
            #expect(allCounters.repeatedAnnouncements == 0)
            for refresh: Int64 in [1_000_000, 30_000_000, ObservationExtractor.defaultAnnouncementRefresh] {
                let (filtered, counters) = try Self.observations(Self.sharedPcaps + "/" + file, refresh: refresh)
                let expected = Self.reference(all, refresh: refresh)
                #expect(filtered == expected, "\(file), refresh \(refresh) µs: \(filtered.count) emitted, \(expected.count) expected")
                #expect(counters.repeatedAnnouncements == all.count - filtered.count, "\(file)")
                #expect(counters.observations == filtered.count)
                if refresh == ObservationExtractor.defaultAnnouncementRefresh { dropped += all.count - filtered.count }
            }
        }
        #expect(dropped > 500, "repeats dropped at the default interval: \(dropped)")
    }

    @Test("first always, repeats within the interval dropped, changes at once, refreshed after the interval")
    func rule() throws {
        // Through the extractor's public surface: the same DHCP REQUEST (same bytes) at chosen times.
        let (_, packets) = try Fixtures.packets(Fixtures.dhcpDORA)
        let (linkType, _) = try Fixtures.packets(Fixtures.dhcpDORA)
        var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "t", site: "t"), announcementRefresh: 60_000_000)
        let first = packets[0]
        var output = ObservationBatch()
        func feed(_ packet: ([UInt8], Int, EventTime), at seconds: Int64) {
            packet.0.withUnsafeBytes {
                extractor.extract($0, originalLength: packet.1, linkType: linkType, time: EventTime(microseconds: seconds * 1_000_000), into: &output)
            }
        }
        func dhcpCount() -> Int { ((try? output.decoded()) ?? []).filter { $0.kind == .dhcp }.count }
        feed(first, at: 1000)
        #expect(dhcpCount() == 1)
        feed(first, at: 1010)
        feed(first, at: 1059)
        #expect(dhcpCount() == 1)
        feed(first, at: 1060)  // a full interval after the first emission
        #expect(dhcpCount() == 2)
        feed(first, at: 1061)
        #expect(dhcpCount() == 2)
        feed(packets[1], at: 1062)  // a different message: emitted at once
        #expect(dhcpCount() == 3)
        feed(first, at: 500)  // packet time went backwards (another file): emitted
        #expect(dhcpCount() == 4)
        #expect(extractor.counters.repeatedAnnouncements == 3)
    }

    @Test("DHCP transaction ids do not make a repeated announcement new")
    func dhcpTransactionID() {
        let all = [Self.announcement(0, xid: 1), Self.announcement(1_000_000, xid: 2), Self.announcement(2_000_000, ip: "10.0.0.6", xid: 3)]
        #expect(Self.reference(all, refresh: 300_000_000).map(\.dhcp?.transactionId) == [1, 3])
    }

    @Test("--announcement-refresh 0 emits every announcement")
    func disabled() throws {
        let (all, counters) = try Self.observations(Fixtures.wardSample, refresh: 0)
        let (filtered, _) = try Self.observations(Fixtures.wardSample, refresh: 300_000_000)
        #expect(counters.repeatedAnnouncements == 0)
        #expect(all.count >= filtered.count)
        #expect(Set(all.map(\.deviceKey)) == Set(filtered.map(\.deviceKey)))
    }
}
