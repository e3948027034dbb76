import WardwatchDecoders
import WardwatchModel

/// Turns decoded discovery and service messages into observation payloads: empty texts become absent, numbers
/// become the names the schema documents.
enum DiscoveryObservations {
    static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    /// `nonEmpty` for a text found in place.
    static func nonEmptyText(_ bytes: UnsafeRawBufferPointer?) -> UTF8Text? {
        guard let bytes, !bytes.isEmpty else { return nil }
        return UTF8Text(bytes)
    }

    static let lldpCapabilities = [
        "other", "repeater", "bridge", "wlan-access-point", "router", "telephone", "docsis-cable-device",
        "station-only", "c-vlan", "s-vlan", "tpmr",
    ]
    static let cdpCapabilities = [
        "router", "transparent-bridge", "source-route-bridge", "switch", "host", "igmp", "repeater", "phone", "remote",
        "cvta", "two-port-mac-relay",
    ]

    static func capabilityNames(_ bits: UInt32?, names: [String]) -> [String] {
        guard let bits else { return [] }
        return (0..<32).filter { bits & (1 << UInt32($0)) != 0 }.map { $0 < names.count ? names[$0] : "bit-\($0)" }
    }

    /// RFC 4776 civic address CAtype names.
    static func civicName(_ type: UInt8) -> String {
        switch type {
        case 0: "language"
        case 1...6: "A\(type)"
        case 16: "PRD"
        case 17: "POD"
        case 18: "STS"
        case 19: "HNO"
        case 20: "HNS"
        case 21: "LMK"
        case 22: "LOC"
        case 23: "NAM"
        case 24: "PC"
        case 25: "BLD"
        case 26: "UNIT"
        case 27: "FLR"
        case 28: "ROOM"
        case 29: "PLC"
        case 30: "PCN"
        case 31: "POBOX"
        case 32: "ADDCODE"
        case 33: "SEAT"
        case 34: "RD"
        case 35: "RDSEC"
        case 36: "RDBR"
        case 37: "RDSUBBR"
        case 38: "PRM"
        case 39: "POM"
        case 128: "script"
        default: "catype-\(type)"
        }
    }

    static func lldp(_ du: LLDPDU) -> NeighborObservation {
        var inventory: [KeyValue] = []
        let med = du.med
        for (key, value) in [
            ("hardware_revision", med.hardwareRevision), ("firmware_revision", med.firmwareRevision),
            ("software_revision", med.softwareRevision), ("serial_number", med.serialNumber),
            ("manufacturer", med.manufacturer), ("model", med.modelName), ("asset_id", med.assetID),
        ] {
            if let value = nonEmpty(value) { inventory.append(KeyValue(key, value)) }
        }
        var civic: [KeyValue] = []
        for location in med.locations {
            if case .civic(_, let country, let elements) = location {
                if let country = nonEmpty(country) { civic.append(KeyValue("country", country)) }
                for element in elements {
                    if let value = nonEmpty(element.value) { civic.append(KeyValue(civicName(element.type), value)) }
                }
            }
        }
        return NeighborObservation(
            chassisId: nonEmpty(du.chassisID.value), portId: nonEmpty(du.portID?.value),
            portDescription: nonEmpty(du.portDescription), systemName: nonEmpty(du.systemName),
            systemDescription: nonEmpty(du.systemDescription),
            capabilities: capabilityNames(du.enabledCapabilities.map(UInt32.init), names: lldpCapabilities),
            managementAddresses: du.managementAddresses.map(\.text).filter { !$0.isEmpty },
            nativeVlan: SchemaFields.vlanID(du.portVLAN), inventory: inventory, civicLocation: civic)
    }

    static func cdp(_ packet: CDPPacket) -> NeighborObservation {
        NeighborObservation(
            chassisId: nonEmpty(packet.deviceID), portId: nonEmpty(packet.portID), systemName: nonEmpty(packet.deviceID),
            platform: nonEmpty(packet.platform), softwareVersion: nonEmpty(packet.softwareVersion),
            capabilities: capabilityNames(packet.capabilities, names: cdpCapabilities),
            managementAddresses: packet.addresses.map(\.text).filter { !$0.isEmpty },
            nativeVlan: SchemaFields.vlanID(packet.nativeVLAN))
    }

    static func typeName(_ type: UInt16) -> String {
        switch type {
        case DNSMessage.RecordType.a: "A"
        case DNSMessage.RecordType.ns: "NS"
        case DNSMessage.RecordType.cname: "CNAME"
        case DNSMessage.RecordType.ptr: "PTR"
        case DNSMessage.RecordType.hinfo: "HINFO"
        case DNSMessage.RecordType.txt: "TXT"
        case DNSMessage.RecordType.aaaa: "AAAA"
        case DNSMessage.RecordType.srv: "SRV"
        case DNSMessage.RecordType.any: "ANY"
        default: "TYPE\(type)"
        }
    }

    /// A record's value as the observation shows it: the address, the target name, or the data in words.
    static func dnsValue(_ record: borrowing DNSMessage.ResourceRecord) -> String {
        switch record.data {
        case .a, .aaaa: record.addressText ?? ""
        case .ptr(let name), .cname(let name), .ns(let name): name
        case .srv(let priority, let weight, let port, let target): "\(priority) \(weight) \(port) \(target)"
        case .txt(let strings): strings.joined(separator: " ")
        case .hinfo(let cpu, let os): "\(cpu) \(os)"
        case .other: ""
        }
    }

    static func dns(_ message: DNSMessage) -> DNSObservation {
        var answers: [DNSObservation.Record] = []
        answers.reserveCapacity(message.answers.count + message.authorities.count + message.additionals.count)
        message.forEachRecord { answers.append(.init(name: $0.name, type: typeName($0.type), value: dnsValue($0))) }
        return DNSObservation(
            response: message.isResponse,
            questions: message.questions.map { .init(name: $0.name, type: typeName($0.type), value: "") },
            answers: answers,
            modelFields: message.modelTXTFields.map { KeyValue($0.key, $0.value) })
    }

    /// Writes the payload `dns(_:)` makes, straight from the message: no records in between, and A record
    /// addresses formatted in place (tests compare the bytes with the Codable encoder's on every shared capture).
    static func writeDNS(_ message: DNSMessage, to w: inout JSONWriter) {
        DNSObservation.writeJSON(
            to: &w, response: message.isResponse,
            answers: { w in
                message.forEachRecord { record in
                    if case .a(let address) = record.data {
                        DNSObservation.writeRecord(
                            to: &w, name: record.name, type: typeName(record.type), value: AddressText.ip(FlowAddress(address)))
                    } else {
                        DNSObservation.writeRecord(to: &w, name: record.name, type: typeName(record.type), value: dnsValue(record))
                    }
                }
            },
            modelFields: { w in
                for field in message.modelTXTFields { KeyValue.writeJSON(to: &w, key: field.key, value: field.value) }
            },
            questions: { w in
                for question in message.questions {
                    DNSObservation.writeRecord(to: &w, name: question.name, type: typeName(question.type), value: "")
                }
            })
    }

    /// Whether `writeDNS(_:questions:records:to:)` can write the message: its TXT and HINFO records, the values that
    /// are texts put together (and where model fields are looked for), are ASCII, so their bytes are their texts.
    static func canWriteInPlace(_ view: DNSMessageView, records: UnsafeBufferPointer<DNSMessageView.Entry>) -> Bool {
        records.allSatisfy { record in
            (record.type != DNSMessage.RecordType.txt && record.type != DNSMessage.RecordType.hinfo)
                || JSONWriter.isASCII(view.data(record))
        }
    }

    /// Writes what `writeDNS(_ message:)` writes for the decoded message, straight from its bytes (`questions` and
    /// `records` from `view.withEntries`): no names, records or arrays made. Only for a message `canWriteInPlace`
    /// accepts.
    static func writeDNS(
        _ view: DNSMessageView, questions: UnsafeBufferPointer<DNSMessageView.Entry>,
        records: UnsafeBufferPointer<DNSMessageView.Entry>, to w: inout JSONWriter
    ) {
        DNSObservation.writeJSON(
            to: &w, response: view.isResponse,
            answers: { w in
                for record in records {
                    DNSObservation.writeRecord(
                        to: &w, name: { w in writeName(record, of: view, to: &w) }, type: typeName(record.type),
                        value: { w in writeValue(record, of: view, to: &w) })
                }
            },
            modelFields: { w in writeModelFields(of: view, records: records, to: &w) },
            questions: { w in
                for question in questions {
                    DNSObservation.writeRecord(
                        to: &w, name: { w in writeName(question, of: view, to: &w) }, type: typeName(question.type),
                        value: { $0.plainString("") })
                }
            })
    }

    /// The longest of `DNSMessage.modelTXTKeys`: a longer key is none of them.
    private static let longestModelKey = DNSMessage.modelTXTKeys.map(\.utf8.count).max()!

    /// `DNSMessage.modelTXTFields`, written in place: the TXT strings whose key (before the first `=`) is a model
    /// key, in wire order, without repeats. The message's TXT records are ASCII (`canWriteInPlace`).
    private static func writeModelFields(
        of view: DNSMessageView, records: UnsafeBufferPointer<DNSMessageView.Entry>, to w: inout JSONWriter
    ) {
        var written: [(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)] = []
        for record in records where record.type == DNSMessage.RecordType.txt {
            view.forEachCharacterString(record) { string in
                let equals = string.index(of: UInt8(ascii: "="), from: 0)
                let key = UnsafeRawBufferPointer(rebasing: string[..<equals])
                let value = UnsafeRawBufferPointer(rebasing: string[min(equals + 1, string.count)...])
                guard !key.isEmpty, key.count <= longestModelKey,
                    DNSMessage.modelTXTKeys.contains(String(decoding: key, as: UTF8.self).lowercased()),
                    !written.contains(where: { $0.key.elementsEqual(key) && $0.value.elementsEqual(value) })
                else { return }
                written.append((key, value))
                w.beginObject()
                w.key("key"); w.string(utf8: key)
                w.key("value"); w.string(utf8: value)
                w.endObject()
            }
        }
    }

    private static func writeName(_ entry: DNSMessageView.Entry, of view: DNSMessageView, to w: inout JSONWriter) {
        // The walk has read the name once already, so it reads again.
        if view.withName(entry, { w.string(utf8: $0) }) == nil { w.plainString("") }
    }

    /// `dnsValue` of the record, written in place.
    private static func writeValue(_ record: DNSMessageView.Entry, of view: DNSMessageView, to w: inout JSONWriter) {
        let data = view.data(record)
        switch record.type {
        case DNSMessage.RecordType.a where data.count == 4:
            AddressText.ip(FlowAddress(IPv4Address(data, at: 0)!)).writeJSON(to: &w)
        case DNSMessage.RecordType.aaaa where data.count == 16:
            w.plainString(maxLength: DNSMessageView.ipv6AddressTextLength) { view.writeIPv6AddressText(record, to: $0)! }
        case DNSMessage.RecordType.ptr, DNSMessage.RecordType.cname, DNSMessage.RecordType.ns:
            if view.withTarget(record, { w.string(utf8: $0) }) == nil { w.plainString("") }
        case DNSMessage.RecordType.txt, DNSMessage.RecordType.hinfo:
            // The strings joined by spaces (HINFO: exactly two, else nothing), all ASCII (`canWriteInPlace`).
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(data.count, 1)) { scratch in
                var (count, first) = (0, true)
                let strings = view.forEachCharacterString(record) { string in
                    if !first {
                        scratch[count] = UInt8(ascii: " ")
                        count += 1
                    }
                    first = false
                    UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(scratch)[count...]).copyMemory(from: string)
                    count += string.count
                }
                if record.type == DNSMessage.RecordType.hinfo && strings != 2 { count = 0 }
                w.string(utf8: UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(scratch)[..<count]))
            }
        case DNSMessage.RecordType.srv:
            // Made as `dnsValue` makes it.
            if let target = view.withTarget(record, { String(decoding: $0, as: UTF8.self) }) {
                w.string("\(data.readUInt16(at: 0)!) \(data.readUInt16(at: 2)!) \(data.readUInt16(at: 4)!) \(target)")
            } else {
                w.plainString("")
            }
        default:
            w.plainString("")
        }
    }

    static func ssdp(_ message: SSDPMessage) -> SSDPObservation {
        SSDPObservation(
            startLine: startLine(message.kind), server: nonEmpty(message.server), usn: nonEmpty(message.usn),
            location: nonEmpty(message.location), notificationType: nonEmpty(message.nt),
            searchTarget: nonEmpty(message.st), userAgent: nonEmpty(message.userAgent))
    }

    /// Writes the payload of `ssdp(_:)`'s observation straight from the datagram's fields: no texts made.
    static func writeSSDP(_ fields: SSDPFields, to w: inout JSONWriter) {
        let text = nonEmptyText
        SSDPObservation.writeJSON(
            to: &w, location: text(fields.location), notificationType: text(fields.nt), searchTarget: text(fields.st),
            server: text(fields.server), startLine: startLine(fields.kind), userAgent: text(fields.userAgent),
            usn: text(fields.usn))
    }

    /// An SSDP observation's `start_line`: the two usual ones are constants, made once.
    private static func startLine(_ kind: SSDPMessage.Kind) -> String {
        switch kind {
        case .notify: startLines.notify
        case .search: startLines.search
        case .response(let status): "HTTP/1.1 \(status)"
        case .other(let method): "\(method) * HTTP/1.1"
        }
    }

    private static let startLines = (notify: "NOTIFY * HTTP/1.1", search: "M-SEARCH * HTTP/1.1")

    static func wsDiscovery(_ message: WSDiscoveryMessage) -> WSDiscoveryObservation {
        let name: String = switch message.kind {
        case .hello: "Hello"
        case .bye: "Bye"
        case .probe: "Probe"
        case .probeMatches: "ProbeMatches"
        case .resolve: "Resolve"
        case .resolveMatches: "ResolveMatches"
        case .other(let other): other
        }
        let endpoint = message.endpoints.first
        return WSDiscoveryObservation(
            message: SchemaFields.xmlName(name), endpointReference: nonEmpty(endpoint?.address),
            types: endpoint?.types.map(\.expanded) ?? [], scopes: endpoint?.scopes ?? [],
            xaddrs: endpoint?.xAddrs ?? [], metadataVersion: endpoint?.metadataVersion.map(Int.init))
    }

    /// Writes an `http` payload from a message head's fields; `connection` writes its endpoints.
    static func writeHTTP(_ head: HTTPHeadFields, to w: inout JSONWriter, connection: (inout JSONWriter) -> Void) {
        let text = nonEmptyText
        HTTPObservation.writeJSON(
            to: &w, direction: head.isRequest ? "request" : "response", method: nonEmpty(head.method),
            host: text(head.host), path: head.isRequest ? text(head.path) ?? UTF8Text(HTTPHeadFields.rootPath) : nil,
            status: head.isRequest ? nil : head.statusCode, userAgent: text(head.userAgent), server: text(head.server),
            connection: connection)
    }
}
