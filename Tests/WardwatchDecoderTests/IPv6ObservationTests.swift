import Foundation
import Testing
import WardwatchCapture
import WardwatchDecoders
import WardwatchModel

/// DHCPv6 and ICMPv6 neighbour discovery observations from the synthetic capture Tests/Fixtures/ipv6 (made by
/// `make_ipv6_capture.py` there): expected values, the repeat filter, and the same values as tshark.
@Suite("IPv6 observations: DHCPv6 and neighbour discovery")
struct IPv6ObservationTests {
    static let capture = Fixtures.path("Tests/Fixtures/ipv6/ipv6-dhcpv6-ndp.pcap")
    static let pump = "00:1b:21:0a:0b:0c"
    static let router = "00:00:5e:00:53:01"

    /// Observations per frame number (1-based), every announcement (refresh 0).
    static func byFrame() throws -> [Int: Observation] {
        let (linkType, packets) = try Fixtures.packets(capture)
        var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "test", site: "test-site"), announcementRefresh: 0)
        var result: [Int: Observation] = [:]
        for (index, (bytes, length, time)) in packets.enumerated() {
            var batch = ObservationBatch()
            bytes.withUnsafeBytes { extractor.extract($0, originalLength: length, linkType: linkType, time: time, into: &batch) }
            let output = try batch.decoded()
            #expect(output.count <= 1, "frame \(index + 1)")
            if let first = output.first { result[index + 1] = first }
        }
        #expect(extractor.counters.malformed == 0)
        return result
    }

    @Test("neighbour discovery: type, target, link-layer options, RA flags, lifetime, MTU, prefixes, DNS servers")
    func ndp() throws {
        let frames = try Self.byFrame()
        #expect(frames.count == 12)

        let rs = try #require(frames[1])
        #expect(rs.kind == .ndp && rs.deviceKey == Self.pump && rs.source.ip == "fe80::21b:21ff:fe0a:b0c")
        #expect(rs.ndp == NDPObservation(type: "router-solicitation", sourceLinkLayerAddress: Self.pump, optionTypes: [1]))

        let ra = try #require(frames[2])
        #expect(ra.deviceKey == Self.router)
        #expect(
            ra.ndp
                == NDPObservation(
                    type: "router-advertisement", sourceLinkLayerAddress: Self.router, flags: ["managed", "other"],
                    hopLimit: 64, routerLifetime: 1800, mtu: 1500,
                    prefixes: [
                        .init(prefix: "2001:db8:20::", length: 64, onLink: true, autonomous: false, validLifetime: 86400, preferredLifetime: 14400)
                    ],
                    dnsServers: ["2001:db8:20::53"], optionTypes: [1, 5, 3, 25]))

        let dad = try #require(frames[3])
        #expect(dad.deviceKey == Self.pump && dad.source.ip == "::")
        #expect(dad.ndp == NDPObservation(type: "neighbor-solicitation", targetAddress: "2001:db8:20::1:2"))

        let ns = try #require(frames[4])
        #expect(ns.deviceKey == Self.router)
        #expect(
            ns.ndp
                == NDPObservation(
                    type: "neighbor-solicitation", targetAddress: "fe80::21b:21ff:fe0a:b0c", sourceLinkLayerAddress: Self.router,
                    optionTypes: [1]))

        let na = try #require(frames[5])
        #expect(na.deviceKey == Self.pump)
        #expect(
            na.ndp
                == NDPObservation(
                    type: "neighbor-advertisement", targetAddress: "fe80::21b:21ff:fe0a:b0c", targetLinkLayerAddress: Self.pump,
                    flags: ["solicited", "override"], optionTypes: [2]))
        #expect(frames[11]?.ndp == ra.ndp)
    }

    @Test("DHCPv6: message type, xid, DUID, ORO, vendor class, FQDN, option order, elapsed time, relay; keyed by the client")
    func dhcpv6() throws {
        let frames = try Self.byFrame()
        let vendor = DHCPv6Observation.VendorClass(enterpriseNumber: 32473, data: ["WardPump-9000", "hex:01fe"])
        func client(_ type: String, _ xid: UInt32, codes: [Int], elapsed: Int) -> DHCPv6Observation {
            DHCPv6Observation(
                messageType: type, fromClient: true, transactionId: xid, clientDuid: "0001000130e03500001b210a0b0c",
                clientDuidType: 1, clientLinkLayerAddress: Self.pump, optionRequestList: [23, 24, 39, 17], vendorClass: vendor,
                clientFqdn: "pump-17.ward4.example.org", clientFqdnFlags: 1, elapsedTime: elapsed, optionCodes: codes)
        }
        let solicit = try #require(frames[6])
        #expect(solicit.kind == .dhcpv6 && solicit.deviceKey == Self.pump && solicit.source.mac == Self.pump)
        #expect(solicit.dhcpv6 == client("solicit", 0x1d2c3b, codes: [1, 6, 8, 16, 39, 3], elapsed: 0))
        #expect(frames[7]?.dhcpv6 == client("solicit", 0x1d2c3b, codes: [1, 6, 8, 16, 39, 3], elapsed: 100))
        #expect(frames[9]?.dhcpv6 == client("request", 0x2e3d4c, codes: [2, 1, 6, 8, 16, 39, 3], elapsed: 0))

        for (frame, type, xid) in [(8, "advertise", UInt32(0x1d2c3b)), (10, "reply", 0x2e3d4c)] {
            let o = try #require(frames[frame])
            // A server message is about the client: keyed by the client DUID's MAC, sent by the server.
            #expect(o.deviceKey == Self.pump && o.source.mac == Self.router, "frame \(frame)")
            #expect(
                o.dhcpv6
                    == DHCPv6Observation(
                        messageType: type, fromClient: false, transactionId: xid, clientDuid: "0001000130e03500001b210a0b0c",
                        clientDuidType: 1, clientLinkLayerAddress: Self.pump, optionCodes: [2, 1, 3]), "frame \(frame)")
        }

        let relayed = try #require(frames[12])
        #expect(relayed.deviceKey == "00:1b:21:0a:0b:0d" && relayed.source.mac == "00:00:5e:00:53:02")
        #expect(
            relayed.dhcpv6
                == DHCPv6Observation(
                    messageType: "solicit", fromClient: true, transactionId: 0x0a0b0d, clientDuid: "00030001001b210a0b0d",
                    clientDuidType: 3, clientLinkLayerAddress: "00:1b:21:0a:0b:0d", optionRequestList: [23, 24], elapsedTime: 0,
                    optionCodes: [1, 6, 8], relayHops: 1, relayLinkAddress: "2001:db8:20::fe",
                    relayPeerAddress: "fe80::21b:21ff:fe0a:b0d"))
    }

    @Test("repeats: a Solicit retransmission (new elapsed time) and an identical RA within the interval are dropped")
    func repeats() throws {
        let (observations, counters) = try Fixtures.observations(Self.capture)
        let kinds = observations.filter { $0.kind == .ndp || $0.kind == .dhcpv6 }
        #expect(kinds.count == 10)
        #expect(counters.repeatedAnnouncements == 2)
        #expect(kinds.filter { $0.dhcpv6?.messageType == "solicit" && $0.deviceKey == Self.pump }.count == 1)
        #expect(kinds.filter { $0.ndp?.type == "router-advertisement" }.count == 1)
    }

    @Test("the same values as tshark, frame by frame")
    func tshark() throws {
        let frames = try Self.byFrame()
        typealias T = TsharkCrossCheckTests
        guard
            let theirs = try T.tsharkFields(
                Self.capture, filter: "dhcpv6 || icmpv6",
                fields: [
                    "dhcpv6.msgtype", "dhcpv6.xid", "dhcpv6.option.type", "dhcpv6.requested_option_code",
                    "dhcpv6.vendorclass.enterprise", "dhcpv6.vendorclass.data", "dhcpv6.elapsed_time", "dhcpv6.duid.type",
                    "dhcpv6.duidllt.link_layer_addr", "dhcpv6.duidll.link_layer_addr", "dhcpv6.client_fqdn_flags",
                    "dhcpv6.client_domain", "dhcpv6.peeraddr", "dhcpv6.linkaddr", "dhcpv6.hopcount",
                    "icmpv6.type", "icmpv6.nd.ns.target_address", "icmpv6.nd.na.target_address", "icmpv6.opt.src_linkaddr",
                    "icmpv6.opt.target_linkaddr", "icmpv6.nd.ra.flag.m", "icmpv6.nd.ra.flag.o", "icmpv6.nd.ra.router_lifetime",
                    "icmpv6.nd.ra.cur_hop_limit", "icmpv6.opt.prefix", "icmpv6.opt.prefix.length", "icmpv6.opt.mtu",
                    "icmpv6.opt.rdnss", "icmpv6.opt.type", "icmpv6.nd.na.flag.r", "icmpv6.nd.na.flag.s", "icmpv6.nd.na.flag.o",
                ])
        else {
            Issue.record("\(T.noTshark)")
            return
        }
        #expect(Set(theirs.keys) == Set(frames.keys))
        var tally = T.Tally()
        for (frame, fields) in theirs.sorted(by: { $0.key < $1.key }) {
            guard let o = frames[frame] else { continue }
            tally.frames += 1
            func all(_ field: String) -> [String] { fields[field] ?? [] }
            func first(_ field: String) -> String? { fields[field]?.first }
            func flag(_ field: String, _ name: String, _ ours: [String]) {
                tally.same(ours.contains(name) ? "1" : "0", first(field), "frame \(frame) \(field)")
            }
            /// A number: tshark's decimal or hex text against ours.
            func number(_ field: String, _ ours: Int?) {
                tally.same(T.number(first(field)).map(String.init), ours.map(String.init), "frame \(frame) \(field)")
            }
            if let d = o.dhcpv6 {
                // A relay message: tshark lists the outer type and options first; ours are the client's message.
                let relayed = d.relayHops != nil
                tally.same(
                    DHCPv6Message.messageTypeName(UInt8(all("dhcpv6.msgtype").last.flatMap { Int($0) } ?? 0)), d.messageType,
                    "frame \(frame) type")
                number("dhcpv6.xid", Int(d.transactionId))
                // tshark also lists the options nested in an IA_NA (IAADDR, 5, in this capture); ours are top-level only.
                tally.same(
                    all("dhcpv6.option.type").dropFirst(relayed ? 1 : 0).compactMap { Int($0) }.filter { $0 != 5 }, d.optionCodes,
                    "frame \(frame) options")
                tally.same(all("dhcpv6.requested_option_code").compactMap { Int($0) }, d.optionRequestList ?? [], "frame \(frame) ORO")
                number("dhcpv6.vendorclass.enterprise", d.vendorClass.map { Int($0.enterpriseNumber) })
                // tshark shows the printable vendor class data only.
                tally.same(all("dhcpv6.vendorclass.data"), d.vendorClass?.data.filter { !$0.hasPrefix("hex:") } ?? [], "frame \(frame) vendor class")
                // tshark shows the elapsed time in milliseconds; the option (and ours) is in hundredths of a second.
                number("dhcpv6.elapsed_time", d.elapsedTime.map { $0 * 10 })
                // tshark lists the DUIDs of options 1 (client) and 2 (server) in wire order: take the client's.
                let duidOptions = all("dhcpv6.option.type").filter { $0 == "1" || $0 == "2" }
                let clientIndex = duidOptions.firstIndex(of: "1")
                let duidTypes = all("dhcpv6.duid.type")
                tally.same(
                    clientIndex.flatMap { $0 < duidTypes.count ? duidTypes[$0] : nil }, d.clientDuidType.map(String.init),
                    "frame \(frame) DUID type")
                let duidAddresses = all("dhcpv6.duidllt.link_layer_addr") + all("dhcpv6.duidll.link_layer_addr")
                tally.same(
                    d.clientLinkLayerAddress.map { duidAddresses.contains($0) ? $0 : "not in tshark's \(duidAddresses)" },
                    d.clientLinkLayerAddress, "frame \(frame) DUID address")
                number("dhcpv6.client_fqdn_flags", d.clientFqdnFlags)
                // tshark keeps the final dot of a fully qualified name.
                tally.same(first("dhcpv6.client_domain").map { String($0.dropLast($0.hasSuffix(".") ? 1 : 0)) }, d.clientFqdn, "frame \(frame) FQDN")
                tally.same(first("dhcpv6.peeraddr"), d.relayPeerAddress, "frame \(frame) peer address")
                tally.same(first("dhcpv6.linkaddr"), d.relayLinkAddress, "frame \(frame) link address")
            } else if let n = o.ndp {
                tally.same(ICMPv6Message.typeName(UInt8(first("icmpv6.type").flatMap { Int($0) } ?? 0)), n.type, "frame \(frame) type")
                tally.same(first("icmpv6.nd.ns.target_address") ?? first("icmpv6.nd.na.target_address"), n.targetAddress, "frame \(frame) target")
                tally.same(first("icmpv6.opt.src_linkaddr"), n.sourceLinkLayerAddress, "frame \(frame) source LLA")
                tally.same(first("icmpv6.opt.target_linkaddr"), n.targetLinkLayerAddress, "frame \(frame) target LLA")
                tally.same(all("icmpv6.opt.type").compactMap { Int($0) }, n.optionTypes, "frame \(frame) option types")
                if n.type == "router-advertisement" {
                    flag("icmpv6.nd.ra.flag.m", "managed", n.flags)
                    flag("icmpv6.nd.ra.flag.o", "other", n.flags)
                    number("icmpv6.nd.ra.router_lifetime", n.routerLifetime)
                    number("icmpv6.nd.ra.cur_hop_limit", n.hopLimit)
                    number("icmpv6.opt.mtu", n.mtu.map(Int.init))
                    tally.same(all("icmpv6.opt.prefix"), n.prefixes.map(\.prefix), "frame \(frame) prefixes")
                    tally.same(all("icmpv6.opt.prefix.length").compactMap { Int($0) }, n.prefixes.map(\.length), "frame \(frame) lengths")
                    tally.same(all("icmpv6.opt.rdnss"), n.dnsServers, "frame \(frame) DNS servers")
                }
                if n.type == "neighbor-advertisement" {
                    flag("icmpv6.nd.na.flag.r", "router", n.flags)
                    flag("icmpv6.nd.na.flag.s", "solicited", n.flags)
                    flag("icmpv6.nd.na.flag.o", "override", n.flags)
                }
            } else {
                Issue.record("frame \(frame): \(o.kind) is neither dhcpv6 nor ndp")
            }
        }
        #expect(tally.frames == 12)
        #expect(tally.compared >= 100, "compared \(tally.compared)")
    }
}
