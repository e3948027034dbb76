import Foundation
import Testing
import WardwatchCapture
import WardwatchDecoders
import WardwatchModel

/// Issue 3's "Must show": what our decoders put in observations equals what tshark's dissectors decode from the same
/// packets of the shared captures, frame by frame. Each test counts the values it compared (a value counts when either
/// side has it) and requires a minimum, so that it cannot pass on captures where neither side found anything.
///
/// tshark is run with `-T json -e FIELD` (the same field extraction as `-T fields -E occurrence=a`, with each
/// occurrence kept apart: system descriptions and CDP software versions contain commas, so a comma aggregator would
/// be ambiguous), and for HL7 with `-T pdml`, the only output that keeps the HL7 dissector's field numbers. HL7 output
/// holds PID values: it is parsed in memory, only MSH and device-identifier fields are kept, and nothing else from it
/// ever reaches a message.
@Suite(
    "Decoders agree with tshark on the shared captures",
    .enabled(if: ApplicationDecoderTests.hasShared, "needs ../shared/pcaps"))
struct TsharkCrossCheckTests {
    static let shared = ApplicationDecoderTests.sharedPcaps
    static let tsharkPath = "/usr/bin/tshark"
    static let noTshark = "tshark is not installed (`make test` installs it): the tshark cross-check compared nothing"

    // MARK: - Plumbing

    /// The captures of a folder of the shared captures whose name passes `include`, sorted.
    static func captures(_ folder: String, _ include: (String) -> Bool) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: shared + "/" + folder)) ?? []
        return names.filter { ($0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng")) && include($0) }.sorted()
            .map { shared + "/" + folder + "/" + $0 }
    }

    /// Observations by frame number (1-based, as tshark counts): what the extractor emitted while handling that frame.
    /// The end-of-capture flush only reports flows and timestamps, which are not compared here.
    static func observationsByFrame(_ path: String) throws -> [Int: [Observation]] {
        let (linkType, packets) = try Fixtures.packets(path)
        // Every announcement, repeats included (refresh 0): tshark decodes every frame.
        var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "test", site: "test-site"), announcementRefresh: 0)
        var byFrame: [Int: [Observation]] = [:]
        for (index, (bytes, length, time)) in packets.enumerated() {
            var batch = ObservationBatch()
            bytes.withUnsafeBytes { extractor.extract($0, originalLength: length, linkType: linkType, time: time, into: &batch) }
            if !batch.isEmpty { byFrame[index + 1] = try batch.decoded() }
        }
        return byFrame
    }

    /// Runs tshark; nil when it is not installed. A failing run is recorded with tshark's own error text (which holds
    /// no packet content).
    static func runTshark(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> Data? {
        guard FileManager.default.isExecutableFile(atPath: tsharkPath) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tsharkPath)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Drain stderr concurrently so that a chatty tshark cannot block on a full pipe.
        let errorText = ErrorText()
        let errorHandle = errors.fileHandleForReading
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { errorText.set(errorHandle.readDataToEndOfFile()) }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        group.wait()
        if process.terminationStatus != 0 {
            Issue.record(
                "tshark \(arguments.joined(separator: " ")) exited with \(process.terminationStatus): \(errorText.text)",
                sourceLocation: sourceLocation)
        }
        return data
    }

    final class ErrorText: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        func set(_ data: Data) { lock.withLock { self.data = data } }
        var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
    }

    /// tshark's values of `fields` in each frame matching `filter`: frame number -> field -> occurrences in order.
    /// Nil when tshark is not installed.
    static func tsharkFields(
        _ path: String, filter: String, fields: [String], options: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [Int: [String: [String]]]? {
        var arguments = ["-r", path, "-n"] + options + ["-Y", filter, "-T", "json", "-e", "frame.number"]
        for field in fields { arguments += ["-e", field] }
        guard let data = try runTshark(arguments, sourceLocation: sourceLocation) else { return nil }
        let packets = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]], sourceLocation: sourceLocation)
        var frames: [Int: [String: [String]]] = [:]
        for packet in packets {
            let layers = (packet["_source"] as? [String: Any])?["layers"] as? [String: Any] ?? [:]
            var values: [String: [String]] = [:]
            for (field, value) in layers { values[field] = value as? [String] ?? [] }
            let frame = try #require(values["frame.number"]?.first.flatMap { Int($0) }, sourceLocation: sourceLocation)
            frames[frame] = values
        }
        return frames
    }

    /// A tshark number as decimal or `0x` hex.
    static func number(_ text: String?) -> Int? {
        guard let text else { return nil }
        if text.hasPrefix("0x") { return Int(text.dropFirst(2), radix: 16) }
        return Int(text)
    }

    /// Counts the values compared and checks each.
    struct Tally {
        var compared = 0
        /// Frames (messages) compared.
        var frames = 0

        /// One value; counted when either side has it.
        mutating func same(
            _ ours: String?, _ theirs: String?, _ what: @autoclosure () -> String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            if ours != nil || theirs != nil { compared += 1 }
            #expect(ours == theirs, "\(what())", sourceLocation: sourceLocation)
        }

        /// A list, order kept; each element counts.
        mutating func same<T: Equatable>(
            _ ours: [T], _ theirs: [T], _ what: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation
        ) {
            compared += max(ours.count, theirs.count)
            #expect(ours == theirs, "\(what())", sourceLocation: sourceLocation)
        }

        /// A set, order and repetition ignored; each distinct element counts.
        mutating func sameSet(
            _ ours: [String], _ theirs: [String], _ what: @autoclosure () -> String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            compared += Set(ours).union(theirs).count
            #expect(Set(ours) == Set(theirs), "\(what())", sourceLocation: sourceLocation)
        }
    }

    // MARK: - DHCPv4

    @Test("DHCPv4 (tcp-dhcp): message type, option order, option 55 list, options 12, 60 and 61 equal tshark's")
    func dhcp() throws {
        let files = Self.captures("tcp-dhcp") { _ in true }
        #expect(files.count >= 4)
        let tally = try Self.compareDHCP(files)
        // 8 messages: chaddr, type, option codes, the 55 list, 12, 60 and 61 where present.
        #expect(tally.compared >= 100 && tally.frames >= 8, "compared \(tally.compared) values in \(tally.frames) frames")
    }

    @Test("DHCPv4 (iot-setup, 30 captures of 15 devices' setup): the same values as tshark, host names and vendor classes included")
    func dhcpIoTSetup() throws {
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: Self.shared + "/iot-setup")) ?? []
        let files = folders.sorted().flatMap { Self.captures("iot-setup/" + $0) { _ in true } }
        #expect(files.count >= 30)
        let tally = try Self.compareDHCP(files)
        #expect(tally.compared >= 1_763 && tally.frames >= 119, "compared \(tally.compared) values in \(tally.frames) frames")
    }

    static func compareDHCP(_ files: [String]) throws -> Tally {
        var tally = Tally()
        for file in files {
            let name = file.dropFirst(Self.shared.count + 1)
            let ours = try observationsByFrame(file).compactMapValues { $0.compactMap(\.dhcp).first }
            // Not inside ICMP: tshark also dissects the DHCP message an ICMP error quotes (HueBridge's port unreachables),
            // which is not a DHCP message on the wire and yields no observation.
            guard let theirs = try tsharkFields(file, filter: "dhcp and not icmp", fields: [
                "dhcp.hw.mac_addr", "dhcp.option.dhcp", "dhcp.option.type", "dhcp.option.value",
                "dhcp.option.request_list_item", "dhcp.option.hostname", "dhcp.option.vendor_class_id",
            ]) else {
                Issue.record(Comment(rawValue: Self.noTshark))
                return tally
            }
            #expect(ours.keys.sorted() == theirs.keys.sorted(), "\(name): frames with DHCP")
            for (frame, fields) in theirs.sorted(by: { $0.key < $1.key }) {
                guard let mine = ours[frame] else { continue }
                let at = "\(name) frame \(frame)"
                tally.frames += 1
                // The first dhcp.hw.mac_addr is chaddr; a second one is option 61's hardware address.
                tally.same(mine.clientMac, fields["dhcp.hw.mac_addr"]?.first, "\(at): chaddr")
                tally.same(
                    mine.messageType, number(fields["dhcp.option.dhcp"]?.first).map { DHCPv4Message.messageTypeName(UInt8(truncatingIfNeeded: $0)) } ?? "bootp",
                    "\(at): option 53")
                // tshark lists the end option (and pad) as option 0 with no value; we keep neither.
                let codes = (fields["dhcp.option.type"] ?? []).compactMap { Int($0) }.filter { $0 != 0 && $0 != 255 }
                tally.same(mine.optionCodes, codes, "\(at): option codes in order")
                tally.same(
                    mine.parameterRequestList ?? [], (fields["dhcp.option.request_list_item"] ?? []).compactMap { Int($0) },
                    "\(at): option 55 in order")
                tally.same(mine.hostname, fields["dhcp.option.hostname"]?.first, "\(at): option 12")
                tally.same(mine.vendorClass, fields["dhcp.option.vendor_class_id"]?.first, "\(at): option 60")
                // Option 61 as raw bytes: tshark's dhcp.option.value occurrences pair with the option codes.
                let values = fields["dhcp.option.value"] ?? []
                #expect(values.count == codes.count, "\(at): one dhcp.option.value per option")
                let clientID = zip(codes, values).first { $0.0 == 61 }?.1
                tally.same(mine.clientId, clientID, "\(at): option 61")
            }
        }
        return tally
    }

    // MARK: - LLDP

    /// RFC 4776 CAtype of each civic location key our observations use.
    static let civicTypes: [String: Int] = [
        "language": 0, "A1": 1, "A2": 2, "A3": 3, "A4": 4, "A5": 5, "A6": 6, "PRD": 16, "POD": 17, "STS": 18, "HNO": 19,
        "HNS": 20, "LMK": 21, "LOC": 22, "NAM": 23, "PC": 24, "BLD": 25, "UNIT": 26, "FLR": 27, "ROOM": 28, "PLC": 29,
        "PCN": 30, "POBOX": 31, "ADDCODE": 32, "SEAT": 33, "RD": 34, "RDSEC": 35, "RDBR": 36, "RDSUBBR": 37, "PRM": 38,
        "POM": 39, "script": 128,
    ]

    /// IEEE 802.1AB system capability bits, lowest first, by the names the observation schema uses.
    static let lldpCapabilities = [
        "other", "repeater", "bridge", "wlan-access-point", "router", "telephone", "docsis-cable-device", "station-only",
        "c-vlan", "s-vlan", "tpmr",
    ]
    /// CDP capability bits, lowest first.
    static let cdpCapabilities = [
        "router", "transparent-bridge", "source-route-bridge", "switch", "host", "igmp", "repeater", "phone", "remote",
        "cvta", "two-port-mac-relay",
    ]

    /// The names of the bits set in tshark's capability mask, lowest bit first.
    static func capabilityNames(_ bits: Int?, _ names: [String]) -> [String] {
        guard let bits else { return [] }
        return (0..<32).filter { bits & (1 << $0) != 0 }.map { $0 < names.count ? names[$0] : "bit-\($0)" }
    }

    static let inventoryFields: [(key: String, field: String)] = [
        ("hardware_revision", "lldp.media.hardware"), ("firmware_revision", "lldp.media.firmware"),
        ("software_revision", "lldp.media.software"), ("serial_number", "lldp.media.sn"),
        ("manufacturer", "lldp.media.manufacturer"), ("model", "lldp.media.model"), ("asset_id", "lldp.media.asset"),
    ]

    @Test("LLDP: chassis, port, system name and description, management addresses, LLDP-MED inventory and location")
    func lldp() throws {
        var tally = Tally()
        let files = Self.captures("discovery") { $0.contains("lldp") }
        #expect(files.count >= 3)
        for file in files {
            let name = file.dropFirst(Self.shared.count + 1)
            let byFrame = try Self.observationsByFrame(file)
            let ours = byFrame.compactMapValues { $0.first { $0.lldp != nil } }
            guard let theirs = try Self.tsharkFields(file, filter: "lldp", fields: [
                "eth.src", "lldp.chassis.subtype", "lldp.chassis.id", "lldp.chassis.id.mac", "lldp.chassis.id.ip4",
                "lldp.chassis.id.ip6", "lldp.port.subtype", "lldp.port.id", "lldp.port.id.mac", "lldp.port.id.ip4",
                "lldp.port.id.ip6", "lldp.port.desc", "lldp.tlv.system.name", "lldp.tlv.system.desc",
                "lldp.tlv.enable_system_cap", "lldp.mgn.addr.ip4", "lldp.mgn.addr.ip6", "lldp.mgn.addr.hex",
                "lldp.ieee.802_1.port_vlan.id",
                "lldp.media.civic.country", "lldp.media.civic.type", "lldp.media.civic.value",
            ] + Self.inventoryFields.map(\.field)) else {
                Issue.record(Comment(rawValue: Self.noTshark))
                return
            }
            #expect(ours.keys.sorted() == theirs.keys.sorted(), "\(name): frames with LLDP")
            for (frame, fields) in theirs.sorted(by: { $0.key < $1.key }) {
                guard let observation = ours[frame], let mine = observation.lldp else { continue }
                let at = "\(name) frame \(frame)"
                tally.frames += 1
                func first(_ field: String) -> String? { fields[field]?.first }
                tally.same(observation.deviceKey, first("eth.src"), "\(at): device key is the source MAC")
                tally.same(
                    mine.chassisId,
                    Self.identifier(subtype: first("lldp.chassis.subtype"), macSubtype: 4, networkSubtype: 5, fields, "lldp.chassis.id"),
                    "\(at): chassis id")
                tally.same(
                    mine.portId,
                    Self.identifier(subtype: first("lldp.port.subtype"), macSubtype: 3, networkSubtype: 4, fields, "lldp.port.id"),
                    "\(at): port id")
                tally.same(mine.portDescription, first("lldp.port.desc"), "\(at): port description")
                tally.same(mine.systemName, first("lldp.tlv.system.name"), "\(at): system name")
                tally.same(mine.systemDescription, first("lldp.tlv.system.desc"), "\(at): system description")
                tally.same(
                    mine.capabilities, Self.capabilityNames(Self.number(first("lldp.tlv.enable_system_cap")), Self.lldpCapabilities),
                    "\(at): enabled capabilities")
                tally.same(
                    mine.managementAddresses,
                    (fields["lldp.mgn.addr.ip4"] ?? []) + (fields["lldp.mgn.addr.ip6"] ?? []) + (fields["lldp.mgn.addr.hex"] ?? []),
                    "\(at): management addresses")
                tally.same(mine.nativeVlan.map(String.init), first("lldp.ieee.802_1.port_vlan.id"), "\(at): port VLAN")
                for (key, field) in Self.inventoryFields {
                    tally.same(mine.inventory.first { $0.key == key }?.value, first(field), "\(at): LLDP-MED \(key)")
                }
                tally.same(mine.civicLocation.first { $0.key == "country" }?.value, first("lldp.media.civic.country"), "\(at): civic country")
                let elements = mine.civicLocation.filter { $0.key != "country" }
                tally.same(elements.map { Self.civicTypes[$0.key] ?? -1 }, (fields["lldp.media.civic.type"] ?? []).compactMap(Self.number), "\(at): civic CAtypes")
                tally.same(elements.map(\.value), fields["lldp.media.civic.value"] ?? [], "\(at): civic values")
            }
        }
        #expect(tally.compared >= 39 && tally.frames >= 4, "compared \(tally.compared) values in \(tally.frames) frames")
    }

    /// tshark's chassis or port id as our observations write it: a MAC or IP address subtype from its typed field,
    /// any other subtype from the plain field.
    static func identifier(
        subtype: String?, macSubtype: Int, networkSubtype: Int, _ fields: [String: [String]], _ base: String
    ) -> String? {
        switch number(subtype) {
        case macSubtype: fields[base + ".mac"]?.first
        case networkSubtype: fields[base + ".ip4"]?.first ?? fields[base + ".ip6"]?.first
        default: fields[base]?.first
        }
    }

    // MARK: - CDP

    @Test("CDP: device id, port, platform, software version, addresses, native VLAN; on Ethernet and Cisco HDLC")
    func cdp() throws {
        var tally = Tally()
        let files = Self.captures("discovery") { $0.contains("cdp") }
        #expect(files.count >= 6)
        for file in files {
            let name = file.dropFirst(Self.shared.count + 1)
            // Cisco HDLC (link type 104, a router's serial link) has no MAC: the device is keyed by its first address.
            let serial = name.hasSuffix("/cdp_v2_hdlc.pcap")
            let ours = try Self.observationsByFrame(file).compactMapValues { $0.first { $0.cdp != nil } }
            guard let theirs = try Self.tsharkFields(file, filter: "cdp", fields: [
                "eth.src", "cdp.deviceid", "cdp.portid", "cdp.platform", "cdp.software_version", "cdp.native_vlan",
                "cdp.nrgyz.ip_address", "cdp.nrgyz.ipv6_address", "cdp.capabilities",
            ]) else {
                Issue.record(Comment(rawValue: Self.noTshark))
                return
            }
            #expect(ours.keys.sorted() == theirs.keys.sorted(), "\(name): frames with CDP")
            for (frame, fields) in theirs.sorted(by: { $0.key < $1.key }) {
                guard let observation = ours[frame], let mine = observation.cdp else { continue }
                let at = "\(name) frame \(frame)"
                tally.frames += 1
                func first(_ field: String) -> String? { fields[field]?.first }
                if serial {
                    tally.same(observation.deviceKey, first("cdp.nrgyz.ip_address"), "\(at): device key is the first address")
                } else {
                    tally.same(observation.deviceKey, first("eth.src"), "\(at): device key is the source MAC")
                }
                tally.same(mine.chassisId, first("cdp.deviceid"), "\(at): device id")
                tally.same(mine.systemName, first("cdp.deviceid"), "\(at): system name is the device id")
                tally.same(mine.portId, first("cdp.portid"), "\(at): port id")
                tally.same(mine.platform, first("cdp.platform"), "\(at): platform")
                tally.same(
                    mine.capabilities, Self.capabilityNames(Self.number(first("cdp.capabilities")), Self.cdpCapabilities),
                    "\(at): capabilities")
                // tshark shows the software version one line per occurrence; we keep the lines as sent.
                tally.same(
                    mine.softwareVersion.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) } ?? [],
                    fields["cdp.software_version"] ?? [], "\(at): software version lines")
                tally.same(mine.nativeVlan.map(String.init), first("cdp.native_vlan"), "\(at): native VLAN")
                // tshark's address field covers both the addresses TLV (0x02), which we report, and the management
                // addresses TLV (0x16), which repeats it in these captures: compared as sets.
                tally.sameSet(
                    mine.managementAddresses, (fields["cdp.nrgyz.ip_address"] ?? []) + (fields["cdp.nrgyz.ipv6_address"] ?? []),
                    "\(at): addresses")
            }
        }
        #expect(tally.compared >= 124 && tally.frames >= 10, "compared \(tally.compared) values in \(tally.frames) frames")
    }

    // MARK: - ICMP flows

    @Test("ICMP and ICMPv6 flows: every message counted once, with its frame length; replies in their request's flow")
    func icmpFlows() throws {
        let files = [
            "tcp-dhcp/osfingerprinting.pcap", "iot-setup/WeMoSwitch/Setup-A-10-STA.pcap",
            "iot-setup/HueBridge/Setup-A-1-STA.pcap", "iot-setup/WeMoInsightSwitch/Setup-A-1-STA.pcap",
        ].map { Self.shared + "/" + $0 }
        var messages = 0
        for file in files {
            let name = file.dropFirst(Self.shared.count + 1)
            let (linkType, packets) = try Fixtures.packets(file)
            var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "test", site: "test-site"), announcementRefresh: 0)
            var batch = ObservationBatch()
            for (bytes, length, time) in packets {
                bytes.withUnsafeBytes { extractor.extract($0, originalLength: length, linkType: linkType, time: time, into: &batch) }
            }
            extractor.finish(into: &batch)
            let flows = try batch.decoded().compactMap(\.flow).filter { $0.connection.transport.hasPrefix("icmp") }
            // Neighbour discovery is announced, not a flow; later IPv4 fragments carry no ICMP header.
            guard let theirs = try Self.tsharkFields(
                file, filter: "(icmp && !(ip.frag_offset > 0)) || (icmpv6 && !(icmpv6.type >= 133 && icmpv6.type <= 137))",
                fields: ["frame.len", "icmp.type", "icmpv6.type"])
            else {
                Issue.record(Comment(rawValue: Self.noTshark))
                return
            }
            let frameBytes = theirs.values.reduce(0) { $0 + (Int($1["frame.len"]?.first ?? "") ?? 0) }
            #expect(flows.reduce(0) { $0 + $1.packetsOut + $1.packetsIn } == theirs.count, "\(name): ICMP messages")
            #expect(flows.reduce(0) { $0 + $1.bytesOut + $1.bytesIn } == frameBytes, "\(name): ICMP bytes")
            #expect(flows.allSatisfy { $0.connection.localPort <= 255 && $0.connection.remotePort <= 255 && $0.tcpFlagsOut.isEmpty })
            // Echo replies (ICMP type 0, ICMPv6 129) travel back in their request's flow, whose initiator sent type 8 (128).
            let replies = theirs.values.filter { $0["icmp.type"]?.first == "0" || $0["icmpv6.type"]?.first == "129" }.count
            let answered = flows.filter { [8, 128].contains($0.connection.localPort) }.reduce(0) { $0 + $1.packetsIn }
            #expect(answered == replies, "\(name): echo replies in echo flows")
            messages += theirs.count
        }
        #expect(messages >= 70, "\(messages) ICMP messages compared")
    }

    // MARK: - DICOM

    /// The UID of tshark's "Name (UID)" display of a UID it knows; the text itself otherwise.
    static func uid(_ text: String) -> String {
        guard text.hasSuffix(")"), let open = text.lastIndex(of: "(") else { return text }
        let inner = text[text.index(after: open)..<text.index(before: text.endIndex)]
        return inner.allSatisfy({ $0 == "." || $0.isASCII && $0.isNumber }) ? String(inner) : text
    }

    @Test("DICOM: PDU, AE titles, application context, abstract syntaxes, implementation class UID and version name")
    func dicom() throws {
        var tally = Tally()
        let files = Self.captures("medical") { $0.hasPrefix("dicom_") }
        #expect(files.count >= 4)
        let pduNames = [1: "A-ASSOCIATE-RQ", 2: "A-ASSOCIATE-AC", 3: "A-ASSOCIATE-RJ"]
        for file in files {
            let name = file.dropFirst(Self.shared.count + 1)
            let ours = try Self.observationsByFrame(file).compactMapValues { $0.first { $0.dicomAssociation != nil } }
            // tshark dissects DICOM on TCP 104, the port of these captures, without `-d` or its heuristic.
            guard let theirs = try Self.tsharkFields(file, filter: "dicom.assoc.ae.called or dicom.assoc.reject", fields: [
                "dicom.pdu.type", "dicom.assoc.ae.called", "dicom.assoc.ae.calling", "dicom.actx",
                "dicom.pctx.abss.syntax", "dicom.userinfo.uid", "dicom.userinfo.version",
                "dicom.userinfo.user_identify.type", "dicom.assoc.reject.result", "dicom.assoc.reject.source",
                "dicom.assoc.reject.reason",
            ]) else {
                Issue.record(Comment(rawValue: Self.noTshark))
                return
            }
            #expect(ours.keys.sorted() == theirs.keys.sorted(), "\(name): frames completing an association PDU")
            for (frame, fields) in theirs.sorted(by: { $0.key < $1.key }) {
                guard let mine = ours[frame]?.dicomAssociation else { continue }
                let at = "\(name) frame \(frame)"
                tally.frames += 1
                func first(_ field: String) -> String? { fields[field]?.first }
                tally.same(mine.pdu, Self.number(first("dicom.pdu.type")).flatMap { pduNames[$0] }, "\(at): PDU")
                // PS3.8 9.3.2: AE titles are 16 bytes, space padded, and leading and trailing spaces are not
                // significant. tshark shows the raw 16 bytes; we report the title without the padding.
                func title(_ text: String?) -> String? {
                    text.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
                }
                tally.same(mine.calledAeTitle, title(first("dicom.assoc.ae.called")), "\(at): called AE title")
                tally.same(mine.callingAeTitle, title(first("dicom.assoc.ae.calling")), "\(at): calling AE title")
                tally.same(mine.applicationContext, first("dicom.actx").map(Self.uid), "\(at): application context")
                tally.same(mine.abstractSyntaxes, (fields["dicom.pctx.abss.syntax"] ?? []).map(Self.uid), "\(at): abstract syntaxes")
                tally.same(mine.implementationClassUid, first("dicom.userinfo.uid"), "\(at): implementation class UID")
                tally.same(mine.implementationVersionName, first("dicom.userinfo.version"), "\(at): implementation version name")
                tally.same(mine.userIdentityType.map(String.init), first("dicom.userinfo.user_identify.type"), "\(at): user identity type")
                tally.same(mine.rejectResult.map(String.init), first("dicom.assoc.reject.result"), "\(at): reject result")
                tally.same(mine.rejectSource.map(String.init), first("dicom.assoc.reject.source"), "\(at): reject source")
                tally.same(mine.rejectReason.map(String.init), first("dicom.assoc.reject.reason"), "\(at): reject reason")
            }
        }
        // 4 requests: 2 x 4 and 2 x 123 abstract syntaxes, with 6 other values each.
        #expect(tally.compared >= 278 && tally.frames >= 4, "compared \(tally.compared) values in \(tally.frames) frames")
    }

    // MARK: - HL7

    /// One HL7 field as tshark's HL7 dissector numbers it, from its PDML output.
    struct HL7Field {
        var segment: String
        /// The dissector's number: it counts the segment name as field 1, so for MSH (whose MSH-1 is the field
        /// separator itself) it equals the standard's MSH-n, and for other segments it is the standard's n + 1.
        var number: Int
        var value: String

        /// The standard's field name, `MSH-9`, `OBX-18`.
        var standardName: String { "\(segment)-\(segment == "MSH" ? number : number - 1)" }
    }

    /// The HL7 fields tshark decodes, by frame, keeping only `keep` (standard names): nothing else from the output,
    /// which holds patient data, is kept. tshark leaves empty fields out.
    static func tsharkHL7(_ path: String, port: Int, keep: Set<String>) throws -> [Int: [HL7Field]]? {
        guard let data = try runTshark(["-r", path, "-n", "-d", "tcp.port==\(port),hl7", "-Y", "hl7", "-T", "pdml"])
        else { return nil }
        var frames: [Int: [HL7Field]] = [:]
        var frame = 0
        var segment = ""
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            if line.contains("<field name=\"frame.number\""), let show = attribute("show", line) {
                frame = Int(show) ?? 0
            } else if line.contains("<field name=\"hl7.segment\""), let show = attribute("show", line) {
                segment = String(show.prefix(3))
                frames[frame, default: []] += []
            } else if line.contains("<field name=\"hl7.field\""), let label = attribute("showname", line),
                label.hasPrefix("field "), let colon = label.firstIndex(of: ":"),
                let number = Int(label[label.index(label.startIndex, offsetBy: 6)..<colon]), let hex = attribute("value", line)
            {
                let field = HL7Field(segment: segment, number: number, value: "")
                guard keep.contains(field.standardName) else { continue }
                var bytes: [UInt8] = []
                var index = hex.startIndex
                while let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex), index != next {
                    bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0x3F)
                    index = next
                }
                frames[frame, default: []].append(HL7Field(segment: segment, number: number, value: String(decoding: bytes, as: UTF8.self)))
            }
        }
        return frames
    }

    /// The value of `name="..."` in a PDML line, XML entities left as they are (only `value`, hex, is decoded).
    static func attribute(_ name: String, _ line: Substring) -> Substring? {
        guard let start = line.range(of: " \(name)=\"") else { return nil }
        let rest = line[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return rest[..<end]
    }

    @Test("HL7: MSH-3 to MSH-6, MSH-9, MSH-11, MSH-12 and the PRT/OBX device identifier")
    func hl7() throws {
        var tally = Tally()
        var devices: [String] = []
        let files = Self.captures("medical") { $0.hasPrefix("HL7-") }
        #expect(files.count >= 5)
        let msh = ["MSH-3", "MSH-4", "MSH-5", "MSH-6", "MSH-9", "MSH-11", "MSH-12"]
        let deviceFields = ["PRT-10", "PRT-16", "OBX-18"]
        for file in files {
            let name = file.dropFirst(Self.shared.count + 1)
            let ours = try Self.observationsByFrame(file).compactMapValues { $0.first { $0.hl7Message != nil } }
            // MLLP on 6661, the port of these captures; tshark has no heuristic for HL7.
            guard let theirs = try Self.tsharkHL7(file, port: 6661, keep: Set(msh + deviceFields)) else {
                Issue.record(Comment(rawValue: Self.noTshark))
                return
            }
            #expect(ours.keys.sorted() == theirs.keys.sorted(), "\(name): frames with an HL7 message")
            for (frame, fields) in theirs.sorted(by: { $0.key < $1.key }) {
                guard let mine = ours[frame]?.hl7Message else { continue }
                let at = "\(name) frame \(frame)"
                tally.frames += 1
                func field(_ standardName: String) -> String? { fields.first { $0.standardName == standardName }?.value }
                tally.same(mine.sendingApplication, field("MSH-3"), "\(at): MSH-3")
                tally.same(mine.sendingFacility, field("MSH-4"), "\(at): MSH-4")
                tally.same(mine.receivingApplication, field("MSH-5"), "\(at): MSH-5")
                tally.same(mine.receivingFacility, field("MSH-6"), "\(at): MSH-6")
                tally.same(mine.messageType, field("MSH-9"), "\(at): MSH-9")
                tally.same(mine.processingId, field("MSH-11"), "\(at): MSH-11")
                tally.same(mine.version, field("MSH-12"), "\(at): MSH-12")
                // Ours: one identifier per repetition (`~`), duplicates removed, in message order.
                var expected: [String] = []
                for f in fields where deviceFields.contains(f.standardName) {
                    for repetition in f.value.split(separator: "~") where !expected.contains("\(f.standardName)=\(repetition)") {
                        expected.append("\(f.standardName)=\(repetition)")
                    }
                }
                let found = mine.deviceIdentifiers.map { "\($0.field)=\($0.value)" }
                tally.same(found, expected, "\(at): device identifiers")
                devices += found
            }
        }
        #expect(devices.filter { $0.hasSuffix("=Hospira Plum A+") }.count == 2, "the infusion pump, in OBX-18 and in PRT-16")
        // 10 messages x 7 MSH fields, and 2 device identifiers.
        #expect(tally.compared >= 72 && tally.frames >= 10, "compared \(tally.compared) values in \(tally.frames) frames")
    }
}
