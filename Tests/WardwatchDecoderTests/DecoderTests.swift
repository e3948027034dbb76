import Foundation
import Testing
import WardwatchCapture
import WardwatchDecoders
import WardwatchModel

@Suite("Decoders and observation extraction")
struct DecoderTests {
    struct ExpectedDevice: Decodable {
        var mac: String
        var ip: String
        var hostname: String?
        var vendor_class: String?
        var parameter_request_list: [Int]?
        var vlans: [Int]
        var client_id: String?
    }

    struct Expected: Decodable {
        var packets: Int
        var malformed_frames: Int
        var devices: [ExpectedDevice]
    }

    @Test("the ward sample yields every expected device's DHCP fingerprint and counts its malformed frame")
    func wardSample() throws {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.wardExpected)))
        let (observations, counters) = try Fixtures.observations(Fixtures.wardSample)
        #expect(counters.packets == expected.packets)
        #expect(counters.malformed == expected.malformed_frames)
        #expect(Set(observations.map(\.deviceKey)) == Set(expected.devices.map(\.mac)))
        for device in expected.devices {
            let mine = observations.filter { $0.deviceKey == device.mac }
            let requests = mine.compactMap(\.dhcp).filter(\.isFromClient)
            if let hostname = device.hostname {
                #expect(requests.contains { $0.hostname == hostname }, "\(device.mac) hostname")
            }
            if let list = device.parameter_request_list {
                #expect(!requests.isEmpty && requests.allSatisfy { $0.parameterRequestList == list }, "\(device.mac) option 55")
            }
            #expect(requests.allSatisfy { $0.vendorClass == device.vendor_class }, "\(device.mac) option 60")
            if let id = device.client_id { #expect(requests.allSatisfy { $0.clientId == id }) }
            let acked = mine.compactMap(\.dhcp).contains { $0.messageType == "ack" && $0.yourIp == device.ip }
            let announced = mine.compactMap(\.arp).contains { $0.senderIp == device.ip }
            #expect(acked || announced, "\(device.mac) address \(device.ip)")
            #expect(Set(mine.compactMap(\.vlan)) == Set(device.vlans), "\(device.mac) VLANs")
        }
    }

    @Test("DHCP on a real capture matches what tshark decodes from the same packets")
    func dhcpAgainstTshark() throws {
        let (observations, counters) = try Fixtures.observations(Fixtures.dhcpDORA)
        #expect(counters.malformed == 0)
        let dhcp = observations.compactMap(\.dhcp)
        #expect(dhcp.map(\.messageType) == ["discover", "offer", "request", "ack"])
        guard let text = try Fixtures.tshark([
            "-r", Fixtures.dhcpDORA, "-Y", "dhcp", "-T", "fields", "-E", "separator=|",
            "-e", "dhcp.hw.mac_addr", "-e", "dhcp.option.request_list_item", "-e", "dhcp.option.dhcp",
            "-e", "dhcp.ip.your", "-e", "dhcp.option.type",
        ]) else {
            Issue.record("tshark is not installed: `make test` installs it")
            return
        }
        let rows = text.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.count == dhcp.count)
        for (row, mine) in zip(rows, dhcp) {
            #expect(row[0].split(separator: ",").first.map(String.init) == mine.clientMac)
            let list = row[1].isEmpty ? nil : row[1].split(separator: ",").compactMap { Int($0) }
            #expect(list == mine.parameterRequestList)
            #expect(Int(row[2]).map { DHCPv4Message.messageTypeName(UInt8($0)) } == mine.messageType)
            #expect((row[3] == "0.0.0.0" ? nil : row[3]) == mine.yourIp)
            let codes = row[4].split(separator: ",").compactMap { Int($0) }.filter { $0 != 0 && $0 != 255 }
            #expect(codes == mine.optionCodes)
        }
    }

    @Test("no decoder crashes on any truncation or byte flip of real packets")
    func robustness() throws {
        var rng = SplitMix64(seed: 42)
        var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "fuzz", site: "fuzz"))
        var sink = ObservationBatch()
        for path in [Fixtures.wardSample, Fixtures.dhcpDORA] {
            let (linkType, packets) = try Fixtures.packets(path)
            for (bytes, _, time) in packets {
                for cut in 0...bytes.count {
                    bytes[0..<cut].withUnsafeBytes {
                        extractor.extract($0, originalLength: cut, linkType: linkType, time: time, into: &sink)
                    }
                }
                for _ in 0..<200 {
                    var mutated = bytes
                    for _ in 0..<3 { mutated[Int(rng.next() % UInt64(mutated.count))] = UInt8(truncatingIfNeeded: rng.next()) }
                    for type in [LinkType.ethernet, .linuxSLL, .linuxSLL2, .null, .raw, .ciscoHDLC] {
                        mutated.withUnsafeBytes {
                            extractor.extract($0, originalLength: mutated.count, linkType: type, time: time, into: &sink)
                        }
                    }
                }
            }
        }
        #expect(extractor.counters.packets > 10_000)
        #expect(extractor.counters.malformed > 0)
        // The reasons are the malformed counter's metric label: case names only, never a value from the packet.
        let reasons = extractor.counters.malformedByReason.keys
        #expect(reasons.contains("dhcp-badOptionLength"))
        #expect(reasons.allSatisfy { $0.range(of: "^[a-z0-9]+(-[A-Za-z0-9]+)*$", options: .regularExpression) != nil }, "\(reasons.sorted())")
        #expect(reasons.count < 40, "\(reasons.sorted())")
    }

    @Test("VLAN tags, QinQ and priority tags")
    func vlanTags() {
        var frame: [UInt8] = [0, 1, 2, 3, 4, 5, 0, 0x1b, 0x21, 1, 2, 3]
        frame += [0x88, 0xA8, 0x00, 0x64, 0x81, 0x00, 0x20, 0x14, 0x08, 0x06]  // S-tag 100, C-tag 20, ARP
        frame += [UInt8](repeating: 0, count: 28)
        let decoded = frame.withUnsafeBytes { LinkDecoder.decode($0, linkType: .ethernet).map { ($0.vlans, $0.etherType, $0.innermostVLAN) } }
        #expect(decoded?.0 == [100, 20])
        #expect(decoded?.1 == EtherType.arp)
        #expect(decoded?.2 == 20)
        let priority: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x81, 0x00, 0xA0, 0x00, 0x08, 0x00]
        #expect(priority.withUnsafeBytes { LinkDecoder.decode($0, linkType: .ethernet)?.innermostVLAN } == nil)
        // Eight stacked tags (ids 4095, 1, 2, ..., 6, then a priority-only tag) are all kept; a ninth is refused.
        func stacked(_ ids: [UInt16]) -> [UInt8] {
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] + ids.flatMap { [0x81, 0x00, UInt8($0 >> 8) | 0xE0, UInt8($0 & 0xFF)] }
                + [0x08, 0x06] + [UInt8](repeating: 0, count: 28)
        }
        let eight: [UInt16] = [4095, 1, 2, 3, 4, 5, 6, 0]
        let deep = stacked(eight).withUnsafeBytes { LinkDecoder.decode($0, linkType: .ethernet).map { ($0.vlans, $0.innermostVLAN, $0.etherType) } }
        #expect(deep?.0 == eight)
        #expect(deep?.1 == 6)
        #expect(deep?.2 == EtherType.arp)
        #expect(stacked(eight + [7]).withUnsafeBytes { LinkDecoder.decode($0, linkType: .ethernet) } == nil)
    }

    @Test("Cisco HDLC: address, control and protocol; other address bytes and short frames refused")
    func ciscoHDLC() {
        let ipv4: [UInt8] = [0x0F, 0x00, 0x08, 0x00, 0x45, 0, 0, 20]
        let decoded = ipv4.withUnsafeBytes { LinkDecoder.decode($0, linkType: .ciscoHDLC).map { ($0.etherType, $0.payload.count, $0.source) } }
        #expect(decoded?.0 == EtherType.ipv4)
        #expect(decoded?.1 == 4)
        #expect(decoded?.2 == nil)
        let cdp: [UInt8] = [0x8F, 0x00, 0x20, 0x00, 2, 180]
        #expect(cdp.withUnsafeBytes { LinkDecoder.decode($0, linkType: .ciscoHDLC)?.etherType } == CDPPacket.ciscoHDLCProtocol)
        let ppp: [UInt8] = [0xFF, 0x03, 0x00, 0x21, 0x45]
        #expect(ppp.withUnsafeBytes { LinkDecoder.decode($0, linkType: .ciscoHDLC) } == nil)
        let short: [UInt8] = [0x0F, 0x00, 0x08]
        #expect(short.withUnsafeBytes { LinkDecoder.decode($0, linkType: .ciscoHDLC) } == nil)
    }

    @Test("MAC address flags and formatting")
    func macAddresses() {
        let random = MACAddress(value: 0x9a3e_51c7_204d)
        #expect(random.description == "9a:3e:51:c7:20:4d")
        #expect(random.isLocallyAdministered)
        #expect(!MACAddress(value: 0x0003_b15e_2107).isLocallyAdministered)
        #expect(MACAddress(value: 0x0100_5e00_0001).isMulticast)
    }
}

@Suite("Byte search")
struct ByteSearchTests {
    @Test("index(of:from:) finds what a byte-by-byte search finds, at every start, in every alignment")
    func indexMatchesNaiveSearch() {
        var random = SplitMix64(seed: 7)
        // Bytes next to the searched one in value, and ones whose borrow could flag a neighbour.
        let alphabet: [UInt8] = [0x0A, 0x0A, 0x0B, 0x09, 0x0D, 0x00, 0x01, 0x8A, 0xFF, 0x41, 0x1C]
        var checked = 0
        for length in 0..<48 {
            for _ in 0..<40 {
                let bytes = (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
                bytes.withUnsafeBytes { buffer in
                    for byte: UInt8 in [0x0A, 0x1C, 0x00] {
                        for start in -1...(length + 1) {
                            let expected = (max(start, 0)..<max(length, max(start, 0))).first { bytes[$0] == byte } ?? length
                            #expect(buffer.index(of: byte, from: start) == expected, "\(bytes) \(byte) from \(start)")
                            checked += 1
                        }
                    }
                }
            }
        }
        #expect(checked > 50_000)
    }
}

/// A small deterministic generator for mutation tests.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("DNS-SD service instances")
struct DNSServiceInstanceTests {
    /// A name in wire form, uncompressed.
    static func wire(_ labels: [String]) -> [UInt8] {
        labels.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    static func record(_ owner: [String], type: UInt16, data: [UInt8]) -> [UInt8] {
        wire(owner) + [UInt8(type >> 8), UInt8(type & 0xFF), 0x80, 0x01, 0, 0, 0x11, 0x94]
            + [UInt8(data.count >> 8), UInt8(data.count & 0xFF)] + data
    }

    @Test("PTR, SRV and TXT records gather into instances; an instance label may hold a dot; names compare case-insensitively")
    func instances() throws {
        let instance = ["Pump 2.1 Bay", "_http", "_tcp", "local"]
        let service = ["_http", "_tcp", "local"]
        let target = ["pump-7", "local"]
        let txt = [UInt8]([8] + Array("md=Plum ".utf8) + [0] + [5] + Array("ty=A+".utf8))
        var bytes: [UInt8] = [0, 0, 0x84, 0, 0, 0, 0, 3, 0, 0, 0, 1]
        bytes += Self.record(service, type: 12, data: Self.wire(instance))
        bytes += Self.record(["PUMP 2.1 BAY", "_HTTP", "_TCP", "local"], type: 33, data: [0, 0, 0, 0, 0x1F, 0x90] + Self.wire(target))
        bytes += Self.record(instance, type: 16, data: txt)
        bytes += Self.record(["printer", "_ipp", "_udpx", "local"], type: 16, data: [3] + Array("a=b".utf8))
        let message = try bytes.withUnsafeBytes { try DNSMessage.decode($0).get() }
        #expect(message.answers.count == 3 && message.additionals.count == 1)
        let found = message.serviceInstances
        #expect(found.count == 1)
        let pump = try #require(found.first)
        #expect(pump.instance == "Pump 2.1 Bay")
        #expect(pump.service == "_http._tcp")
        #expect(pump.domain == "local")
        #expect(pump.target == "pump-7.local")
        #expect(pump.port == 8080)
        #expect(pump.txt == ["md=Plum ", "ty=A+"])
        #expect(message.modelTXTFields.map(\.key) == ["md", "ty"])
    }

    @Test("Names that are not service instances give none")
    func notInstances() {
        for name in ["_http._tcp.local", "host.local", "a._http._tcp", "x.http._tcp.local", "._http._tcp.local", ""] {
            #expect(DNSMessage.serviceInstanceParts(name) == nil, "\(name)")
        }
        #expect(DNSMessage.serviceInstanceParts("a._ipp._UDP.example.org").map { [$0.instance, $0.service, $0.domain] }
            == ["a", "_ipp._UDP", "example.org"])
    }
}
