/// A DNS or multicast DNS message (RFC 1035, RFC 6762, DNS-SD RFC 6763): header, questions and the answer, authority
/// and additional records, with compressed names followed safely (bounded jumps, bounded length, no loops).
///
/// Records decoded: A, AAAA, PTR, CNAME, NS, SRV, TXT, HINFO; others keep their type and length. What identifies a
/// device is surfaced: the host names it announces and the names it asks for, DNS-SD service instances (instance,
/// service type, target, port, TXT) and model-like TXT keys.
///
/// The decoder is pure and bounds-checked. A message with a malformed or cut-short record still yields every question
/// and record before it, with `isTruncated` set.
public struct DNSMessage: Equatable, Sendable {
    public struct Question: Equatable, Sendable {
        public var name: String
        public var type: UInt16
        /// The class without the mDNS unicast-response bit.
        public var qclass: UInt16
        /// mDNS "QU": the top bit of the class.
        public var unicastResponse: Bool
    }

    public enum RData: Equatable, Sendable {
        case a(IPv4Address)
        /// The 16 address bytes (see `ResourceRecord.addressText`).
        case aaaa([UInt8])
        case ptr(String)
        case cname(String)
        case ns(String)
        case srv(priority: UInt16, weight: UInt16, port: UInt16, target: String)
        /// The character-strings, each as text (invalid UTF-8 replaced).
        case txt([String])
        case hinfo(cpu: String, os: String)
        /// Any other type, or a known type whose data did not parse: the data length only.
        case other(length: Int)
    }

    public struct ResourceRecord: Equatable, Sendable {
        public var name: String
        public var type: UInt16
        /// The class without the mDNS cache-flush bit.
        public var rrclass: UInt16
        /// mDNS: the top bit of the class.
        public var cacheFlush: Bool
        public var ttl: UInt32
        public var data: RData

        /// The address of an A or AAAA record as text.
        public var addressText: String? {
            switch data {
            case .a(let address): address.description
            case .aaaa(let bytes): DiscoveryText.ipv6(bytes[...])
            default: nil
            }
        }
    }

    /// A DNS-SD service instance: `<instance>.<_service>.<_tcp|_udp>.<domain>`.
    public struct ServiceInstance: Equatable, Sendable {
        /// The instance label, often a model or product name ("Philips hue - 1A2B3C", "HP LaserJet 400").
        public var instance: String
        /// The service type, "_http._tcp".
        public var service: String
        public var domain: String
        /// From the SRV record, where the message carries one.
        public var target: String?
        public var port: UInt16?
        /// The non-empty strings of the TXT record, where the message carries one.
        public var txt: [String]
    }

    /// A TXT `key=value` string (a key alone has an empty value).
    public struct TXTField: Equatable, Sendable {
        public var key: String
        public var value: String
    }

    public var id: UInt16
    public var flags: UInt16
    public var questions: [Question] = []
    public var answers: [ResourceRecord] = []
    public var authorities: [ResourceRecord] = []
    public var additionals: [ResourceRecord] = []
    /// True when a question or record was cut short or malformed; everything before it is decoded.
    public var isTruncated = false

    public var isResponse: Bool { flags & 0x8000 != 0 }
    public var opcode: UInt8 { UInt8((flags >> 11) & 0x0F) }
    public var responseCode: UInt8 { UInt8(flags & 0x0F) }
    /// Answers, authorities and additionals in wire order.
    public var records: [ResourceRecord] { answers + authorities + additionals }

    /// Calls `body` on the answers, authorities and additionals in wire order, in place (`records` makes an array).
    public func forEachRecord(_ body: (borrowing ResourceRecord) -> Void) {
        for record in answers { body(record) }
        for record in authorities { body(record) }
        for record in additionals { body(record) }
    }

    public enum DecodeError: Error, Equatable { case truncated }

    public static let port: UInt16 = 53
    public static let multicastPort: UInt16 = 5353

    public enum RecordType {
        public static let a: UInt16 = 1
        public static let ns: UInt16 = 2
        public static let cname: UInt16 = 5
        public static let ptr: UInt16 = 12
        public static let hinfo: UInt16 = 13
        public static let txt: UInt16 = 16
        public static let aaaa: UInt16 = 28
        public static let srv: UInt16 = 33
        public static let any: UInt16 = 255
    }

    /// TXT keys (compared lowercased, as RFC 6763 keys are case-insensitive) that name a model, a manufacturer or a
    /// hardware/firmware version: DNS-SD printer keys (ty, usb_MDL, usb_MFG), AirPlay/HomeKit (md, model), vendor habits.
    public static let modelTXTKeys: Set<String> = [
        "md", "model", "modelname", "model_name", "modelnumber", "model_number", "modelid", "mdl", "ty", "product",
        "usb_mdl", "usb_mfg", "mfg", "manufacturer", "vendor", "mn", "hw", "hwversion", "hardware_ver", "fw", "fv",
        "firmware", "firmware_ver", "swversion",
    ]

    /// Records and questions decoded at most, over all sections.
    static let maximumEntries = 512

    /// Decodes a DNS or mDNS message: the UDP payload (for DNS over TCP, the bytes after the 2-byte length).
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<DNSMessage, DecodeError> {
        guard bytes.count >= 12, let id = bytes.readUInt16(at: 0), let flags = bytes.readUInt16(at: 2),
            let qd = bytes.readUInt16(at: 4), let an = bytes.readUInt16(at: 6), let ns = bytes.readUInt16(at: 8),
            let ar = bytes.readUInt16(at: 10)
        else { return .failure(.truncated) }
        var message = DNSMessage(id: id, flags: flags)
        var reader = DNSMessageReader(bytes: bytes, offset: 12)
        var budget = maximumEntries

        message.questions.reserveCapacity(min(Int(qd), budget))
        for _ in 0..<qd {
            guard budget > 0, let question = reader.question() else {
                message.isTruncated = true
                return .success(message)
            }
            budget -= 1
            message.questions.append(question)
        }
        /// Reads one section's records; false when the message ends early (or the budget is spent).
        func section(_ count: UInt16, into records: inout [ResourceRecord]) -> Bool {
            guard count > 0 else { return true }
            records.reserveCapacity(min(Int(count), budget))
            for _ in 0..<count {
                guard budget > 0, let record = reader.record() else { return false }
                budget -= 1
                records.append(record)
            }
            return true
        }
        if !(section(an, into: &message.answers) && section(ns, into: &message.authorities)
            && section(ar, into: &message.additionals))
        {
            message.isTruncated = true
        }
        return .success(message)
    }

    /// Splits a TXT string at its first `=`.
    public static func txtField(_ string: String) -> TXTField {
        guard let equals = string.firstIndex(of: "=") else { return TXTField(key: string, value: "") }
        return TXTField(key: String(string[..<equals]), value: String(string[string.index(after: equals)...]))
    }

    /// TXT fields of every TXT record whose key is in `modelTXTKeys`, in wire order, without repeats.
    public var modelTXTFields: [TXTField] {
        var out: [TXTField] = []
        forEachRecord { record in
            guard case .txt(let strings) = record.data else { return }
            for string in strings {
                let field = Self.txtField(string)
                if !field.key.isEmpty, Self.modelTXTKeys.contains(field.key.lowercased()), !out.contains(field) { out.append(field) }
            }
        }
        return out
    }

    /// Service instances named by SRV, TXT or service PTR records, in order of first appearance (at most 64). Made
    /// on demand from the records: decoding a message does not pay for it.
    public var serviceInstances: [ServiceInstance] {
        var instances: [ServiceInstance] = []
        var lowercasedNames: [String] = []  // of `instances`, to compare names case-insensitively
        func index(_ name: String) -> Int? {
            let lowercased = name.lowercased()
            if let i = lowercasedNames.firstIndex(of: lowercased) { return i }
            guard instances.count < 64, let parts = Self.serviceInstanceParts(name) else { return nil }
            instances.append(ServiceInstance(instance: parts.instance, service: parts.service, domain: parts.domain, txt: []))
            lowercasedNames.append(lowercased)
            return instances.count - 1
        }
        forEachRecord { record in
            switch record.data {
            case .ptr(let target): _ = index(target)
            case .srv(_, _, let port, let target):
                if let i = index(record.name) {
                    instances[i].target = target
                    instances[i].port = port
                }
            case .txt(let strings):
                if let i = index(record.name), instances[i].txt.isEmpty { instances[i].txt = strings.filter { !$0.isEmpty } }
            default: break
            }
        }
        return instances
    }

    /// `<instance>.<_service>.<_tcp|_udp>.<domain...>`: the instance, "_service._tcp" and the domain. The protocol
    /// label is the last `_tcp` or `_udp` label with a domain after it, so an instance label may hold dots.
    public static func serviceInstanceParts(_ name: String) -> (instance: String, service: String, domain: String)? {
        let utf8 = Array(name.utf8)
        let dot = UInt8(ascii: ".")
        func isProtocolLabel(_ start: Int) -> Bool {
            guard start + 5 < utf8.count, utf8[start + 4] == dot, utf8[start] == UInt8(ascii: "_") else { return false }
            let p = utf8[(start + 1)..<(start + 4)].map { $0 | 0x20 }
            return p == Array("tcp".utf8) || p == Array("udp".utf8)
        }
        // Scan labels from the end for the protocol label; the service label is the one before it.
        var protocolStart: Int?
        var i = utf8.count - 1
        while i > 0 {
            if utf8[i - 1] == dot, isProtocolLabel(i) {
                protocolStart = i
                break
            }
            i -= 1
        }
        guard let protocolStart, protocolStart >= 2 else { return nil }
        let serviceEnd = protocolStart - 1
        guard let serviceDot = utf8[..<serviceEnd].lastIndex(of: dot), serviceDot > 0,
            utf8[serviceDot + 1] == UInt8(ascii: "_"), serviceDot + 1 < serviceEnd
        else { return nil }
        return (
            String(decoding: utf8[..<serviceDot], as: UTF8.self),
            String(decoding: utf8[(serviceDot + 1)..<(protocolStart + 4)], as: UTF8.self),
            String(decoding: utf8[(protocolStart + 5)...], as: UTF8.self)
        )
    }

    /// Host names in the records: names of A and AAAA records, SRV targets and the targets of reverse (in-addr.arpa,
    /// ip6.arpa) PTR records; in wire order, without repeats (compared case-insensitively). In an mDNS response these
    /// are names the sender claims for itself; in a unicast DNS response, names a server resolved for the asker.
    public var answerHostNames: [String] {
        var names = DNSHostNameList()
        forEachRecord { record in
            switch record.data {
            case .a, .aaaa: names.add(record.name)
            case .srv(_, _, _, let target): names.add(target)
            case .ptr(let target) where Self.isReverseName(record.name): names.add(target)
            default: break
            }
        }
        return names.names
    }

    /// Host names the message asks for: A, AAAA and ANY questions, service names (a label starting with `_`) and
    /// reverse names excluded; in wire order, without repeats. In plain DNS these are names a device talks to; in mDNS
    /// probes they are names the device is about to claim.
    public var queriedHostNames: [String] {
        var names = DNSHostNameList()
        for question in questions
        where question.type == RecordType.a || question.type == RecordType.aaaa || question.type == RecordType.any {
            if Self.isReverseName(question.name) || question.name.hasPrefix("_") || question.name.contains("._") { continue }
            names.add(question.name)
        }
        return names.names
    }

    static func isReverseName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasSuffix(".in-addr.arpa") || lower.hasSuffix(".ip6.arpa")
    }
}

/// A DNS message read in place: the questions and records `DNSMessage.decode` keeps, in wire order and ending where
/// it ends (a cut-short question keeps no record, a cut-short record none after it, at most `maximumEntries` in all),
/// with no names or records made. For writers that copy names straight out of the message.
public struct DNSMessageView {
    /// A question or a record: its type, where its name is, and where its data is (empty for a question).
    public struct Entry {
        public let type: UInt16
        let name: Int
        let data: Range<Int>
    }

    public let bytes: UnsafeRawBufferPointer
    public let flags: UInt16
    let questions: UInt16
    let records: Int

    /// The header; nil exactly where `DNSMessage.decode` fails.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 12, let flags = bytes.readUInt16(at: 2), let qd = bytes.readUInt16(at: 4),
            let an = bytes.readUInt16(at: 6), let ns = bytes.readUInt16(at: 8), let ar = bytes.readUInt16(at: 10)
        else { return nil }
        self.bytes = bytes
        self.flags = flags
        questions = qd
        records = Int(an) + Int(ns) + Int(ar)
    }

    public var isResponse: Bool { flags & 0x8000 != 0 }

    /// Calls `question` on each question `decode` keeps, then `record` on each answer, authority and additional
    /// record.
    private func walk(question: (Entry) -> Void, record: (Entry) -> Void) {
        var reader = DNSMessageReader(bytes: bytes, offset: 12)
        var budget = DNSMessage.maximumEntries
        for _ in 0..<questions {
            let name = reader.offset
            guard budget > 0, reader.skipName(), let (type, _) = reader.questionFields() else { return }
            budget -= 1
            question(Entry(type: type, name: name, data: reader.offset..<reader.offset))
        }
        for _ in 0..<records {
            let name = reader.offset
            guard budget > 0, reader.skipName(), let (type, _, _, data) = reader.recordFields() else { return }
            budget -= 1
            record(Entry(type: type, name: name, data: data))
        }
    }

    /// Hands the questions and the records `decode` keeps to `body`, found in one walk of the message and kept on
    /// the stack (for a writer that goes over them several times).
    public func withEntries<R>(_ body: (_ questions: UnsafeBufferPointer<Entry>, _ records: UnsafeBufferPointer<Entry>) -> R) -> R {
        let capacity = max(1, min(Int(questions) + records, DNSMessage.maximumEntries))
        return withUnsafeTemporaryAllocation(of: Entry.self, capacity: capacity) { buffer in
            var (count, questionCount) = (0, 0)
            walk(
                question: { buffer.initializeElement(at: count, to: $0); count += 1; questionCount += 1 },
                record: { buffer.initializeElement(at: count, to: $0); count += 1 })
            return body(UnsafeBufferPointer(rebasing: buffer[..<questionCount]), UnsafeBufferPointer(rebasing: buffer[questionCount..<count]))
        }
    }

    /// Hands `entry`'s name, as sent (labels joined by dots), to `body`.
    public func withName<R>(_ entry: Entry, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        var reader = DNSMessageReader(bytes: bytes, offset: entry.name)
        return reader.withName(body)
    }

    /// A record's data.
    public func data(_ entry: Entry) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[entry.data]) }

    /// Bytes an AAAA record's address text takes at most.
    public static let ipv6AddressTextLength = DiscoveryText.ipv6TextLength

    /// Writes an AAAA record's address as `ResourceRecord.addressText` writes it at `out` (room for
    /// `ipv6AddressTextLength`); returns how many bytes, nil for any other record.
    public func writeIPv6AddressText(_ entry: Entry, to out: UnsafeMutablePointer<UInt8>) -> Int? {
        guard entry.type == DNSMessage.RecordType.aaaa, entry.data.count == 16 else { return nil }
        return DiscoveryText.writeIPv6(data(entry), to: out)
    }

    /// Calls `body` on each character-string of a TXT (at most 256) or HINFO (at most 2) record's data, as
    /// `decode` reads them; returns how many.
    @discardableResult
    public func forEachCharacterString(_ entry: Entry, _ body: (UnsafeRawBufferPointer) -> Void) -> Int {
        DNSMessageReader.forEachCharacterString(data(entry), limit: entry.type == DNSMessage.RecordType.hinfo ? 2 : 256, body)
    }

    /// Hands the name in a PTR, CNAME or NS record's data, or an SRV record's target, to `body`: nil where `decode`
    /// keeps the record's data as `.other` (the name is malformed or does not end inside the data).
    public func withTarget<R>(_ entry: Entry, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        var reader = DNSMessageReader(bytes: bytes, offset: entry.data.lowerBound)
        if entry.type == DNSMessage.RecordType.srv {
            guard entry.data.count >= 6 else { return nil }
            reader.offset += 6
        }
        return reader.withName(within: entry.data.upperBound, body)
    }
}

/// An ordered, case-insensitively de-duplicated list of names.
struct DNSHostNameList {
    var names: [String] = []
    var seen: Set<String> = []

    mutating func add(_ name: String) {
        guard !name.isEmpty, seen.insert(name.lowercased()).inserted else { return }
        names.append(name)
    }
}

/// A cursor over a DNS message.
struct DNSMessageReader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    /// Compression pointers followed at most per name; a loop ends here at the latest.
    static let maximumJumps = 64
    /// RFC 1035: 255 octets in wire form.
    static let maximumNameLength = 255

    /// Reads a possibly compressed name at `offset`, moving past it.
    mutating func name() -> String? {
        withName { String(decoding: $0, as: UTF8.self) }
    }

    /// Reads a possibly compressed name at `offset`, moving past it, and hands its text (labels joined by dots, as
    /// sent) to `body`. The text is gathered on the stack: no name is made where the caller writes it out at once.
    /// Nil, and `offset` unmoved, for a malformed or cut-short name, or one whose wire form goes past `end`.
    mutating func withName<R>(within end: Int = .max, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maximumNameLength) { scratch in
            guard let count = readName(within: end, into: scratch.baseAddress!) else { return nil }
            return body(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: scratch[0..<count])))
        }
    }

    /// Moves past the name at `offset` as `withName` does, without gathering its text; false where `withName` fails.
    mutating func skipName() -> Bool { readName(within: .max, into: nil) != nil }

    /// Follows the name at `offset` (bounded jumps and length, no loops), copying its text to `scratch` (room for
    /// `maximumNameLength` bytes) when there is one; returns the text's length and moves past the name. Nil, and
    /// `offset` unmoved, for a malformed or cut-short name, or one whose wire form goes past `end`.
    private mutating func readName(within end: Int, into scratch: UnsafeMutablePointer<UInt8>?) -> Int? {
        var count = 0
        var position = offset
        var jumps = 0
        var wireLength = 1
        var resume: Int?
        while true {
            guard let length = bytes.readUInt8(at: position) else { return nil }
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    let next = resume ?? position + 1
                    guard next <= end else { return nil }
                    offset = next
                    return count
                }
                wireLength += 1 + Int(length)
                // Within 255 wire octets the text (labels and dots) never exceeds 254 bytes.
                guard wireLength <= Self.maximumNameLength, let label = bytes.slice(position + 1, Int(length)) else { return nil }
                if let scratch {
                    if count > 0 {
                        scratch[count] = UInt8(ascii: ".")
                        count += 1
                    }
                    label.copyShort(to: UnsafeMutableRawPointer(scratch + count))  // labels are short: no memmove
                    count += label.count
                } else {
                    count += (count > 0 ? 1 : 0) + label.count
                }
                position += 1 + Int(length)
            case 0xC0:
                guard let pointer = bytes.readUInt16(at: position), jumps < Self.maximumJumps else { return nil }
                if resume == nil { resume = position + 2 }
                jumps += 1
                position = Int(pointer & 0x3FFF)
            default:
                return nil  // 0x40 extended and 0x80 reserved label types
            }
        }
    }

    /// A name in record data, which must end inside it.
    mutating func name(within end: Int) -> String? {
        withName(within: end) { String(decoding: $0, as: UTF8.self) }
    }

    mutating func question() -> DNSMessage.Question? {
        guard let name = name(), let (type, qclass) = questionFields() else { return nil }
        return DNSMessage.Question(name: name, type: type, qclass: qclass & 0x7FFF, unicastResponse: qclass & 0x8000 != 0)
    }

    /// The type and class after a question's name; moves past them.
    mutating func questionFields() -> (type: UInt16, qclass: UInt16)? {
        guard let type = bytes.readUInt16(at: offset), let qclass = bytes.readUInt16(at: offset + 2) else { return nil }
        offset += 4
        return (type, qclass)
    }

    /// The fixed fields after a record's owner name, and where its data is; moves past the data.
    mutating func recordFields() -> (type: UInt16, rrclass: UInt16, ttl: UInt32, data: Range<Int>)? {
        guard let type = bytes.readUInt16(at: offset), let rrclass = bytes.readUInt16(at: offset + 2),
            let ttl = bytes.readUInt32(at: offset + 4), let length = bytes.readUInt16(at: offset + 8),
            bytes.slice(offset + 10, Int(length)) != nil
        else { return nil }
        let start = offset + 10
        offset = start + Int(length)
        return (type, rrclass, ttl, start..<offset)
    }

    mutating func record() -> DNSMessage.ResourceRecord? {
        guard let owner = name(), let (type, rrclass, ttl, range) = recordFields() else { return nil }
        let rdata = UnsafeRawBufferPointer(rebasing: bytes[range])
        let (start, end, length) = (range.lowerBound, range.upperBound, range.count)
        var data = DNSMessage.RData.other(length: Int(length))
        var inner = DNSMessageReader(bytes: bytes, offset: start)
        switch type {
        case DNSMessage.RecordType.a where length == 4:
            data = .a(IPv4Address(rdata, at: 0)!)
        case DNSMessage.RecordType.aaaa where length == 16:
            data = .aaaa(Array(rdata))
        case DNSMessage.RecordType.ptr, DNSMessage.RecordType.cname, DNSMessage.RecordType.ns:
            if let target = inner.name(within: end) {
                data = type == DNSMessage.RecordType.ptr ? .ptr(target) : type == DNSMessage.RecordType.cname
                    ? .cname(target) : .ns(target)
            }
        case DNSMessage.RecordType.srv:
            if let priority = rdata.readUInt16(at: 0), let weight = rdata.readUInt16(at: 2), let port = rdata.readUInt16(at: 4) {
                inner.offset = start + 6
                if let target = inner.name(within: end) {
                    data = .srv(priority: priority, weight: weight, port: port, target: target)
                }
            }
        case DNSMessage.RecordType.txt:
            data = .txt(Self.characterStrings(rdata, limit: 256))
        case DNSMessage.RecordType.hinfo:
            let strings = Self.characterStrings(rdata, limit: 2)
            if strings.count == 2 { data = .hinfo(cpu: strings[0], os: strings[1]) }
        default:
            break
        }
        return DNSMessage.ResourceRecord(
            name: owner, type: type, rrclass: rrclass & 0x7FFF, cacheFlush: rrclass & 0x8000 != 0, ttl: ttl, data: data)
    }

    /// Length-prefixed character-strings as sent, as many as fit (at most `limit`); empty ones included (an mDNS TXT
    /// record with no data holds one empty string).
    static func characterStrings(_ data: UnsafeRawBufferPointer, limit: Int) -> [String] {
        var out: [String] = []
        forEachCharacterString(data, limit: limit) { out.append(String(decoding: $0, as: UTF8.self)) }
        return out
    }

    /// Calls `body` on the character-strings `characterStrings` reads, in place; returns how many.
    @discardableResult
    static func forEachCharacterString(_ data: UnsafeRawBufferPointer, limit: Int, _ body: (UnsafeRawBufferPointer) -> Void) -> Int {
        var count = 0
        var i = 0
        while count < limit, let length = data.readUInt8(at: i), let string = data.slice(i + 1, Int(length)) {
            body(string)
            count += 1
            i += 1 + Int(length)
        }
        return count
    }
}
