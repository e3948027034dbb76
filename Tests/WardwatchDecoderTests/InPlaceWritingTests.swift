import Foundation
import Testing
@testable import WardwatchCapture
import WardwatchDecoders
import WardwatchModel

/// Unicast DNS observations are written straight from the message (`DNSMessageView`), with no names made. They must
/// be what the decoded message (`DNSMessage`) writes, byte for byte, on real and on damaged messages.
@Suite("DNS written in place")
struct DNSInPlaceTests {
    /// The UDP payloads on port 53 or 5353 of every shared and fixture capture.
    static func dnsPayloads() throws -> [[UInt8]] { try udpPayloads(ports: [53, 5353]) }

    /// The UDP (or, with `tcp`, TCP) payloads to or from `ports` of every shared and fixture capture.
    static func udpPayloads(ports: Set<UInt16>, tcp: Bool = false) throws -> [[UInt8]] {
        var payloads: [[UInt8]] = []
        for file in Fixtures.allCaptureFiles() {
            guard let (linkType, packets) = try? Fixtures.packets(file) else { continue }
            for (bytes, _, _) in packets {
                bytes.withUnsafeBytes { raw in
                    guard let frame = LinkDecoder.decode(raw, linkType: linkType) else { return }
                    var transport: UnsafeRawBufferPointer?
                    let number: UInt8 = tcp ? 6 : 17
                    if frame.etherType == EtherType.ipv4, case .success(let ip) = IPv4Packet.decode(frame.payload), ip.protocolNumber == number {
                        transport = ip.payload
                    } else if frame.etherType == EtherType.ipv6, case .success(let ip) = IPv6Packet.decode(frame.payload),
                        ip.protocolNumber == number
                    {
                        transport = ip.payload
                    }
                    guard let transport else { return }
                    if tcp {
                        guard case .success(let segment) = TCPSegment.decode(transport), !segment.payload.isEmpty,
                            ports.contains(segment.sourcePort) || ports.contains(segment.destinationPort)
                        else { return }
                        payloads.append(Array(segment.payload))
                        return
                    }
                    guard case .success(let udp) = UDPDatagram.decode(transport),
                        ports.contains(udp.sourcePort) || ports.contains(udp.destinationPort)
                    else { return }
                    payloads.append(Array(udp.payload))
                }
            }
        }
        return payloads
    }

    /// Both writers' output for one message: nil for the in-place one where it declines (TXT or HINFO records), and
    /// both nil where the message does not decode at all.
    static func written(_ message: [UInt8]) -> (inPlace: [UInt8]?, decoded: [UInt8]?, declined: Bool) {
        message.withUnsafeBytes { bytes in
            let view = DNSMessageView(bytes)
            var decodedBytes: [UInt8]?
            if case .success(let decoded) = DNSMessage.decode(bytes) {
                var w = JSONWriter()
                DiscoveryObservations.writeDNS(decoded, to: &w)
                decodedBytes = w.written
            }
            guard let view else { return (nil, decodedBytes, false) }
            return view.withEntries { questions, records in
                guard DiscoveryObservations.canWriteInPlace(view, records: records) else { return (nil, decodedBytes, true) }
                var w = JSONWriter()
                DiscoveryObservations.writeDNS(view, questions: questions, records: records, to: &w)
                return (w.written, decodedBytes, false)
            }
        }
    }

    /// Damaged copies of each message: `count`, or `WARDWATCH_DAMAGE_SCALE` times as many (`make fuzz` runs a deeper
    /// check of the writers than `make test` has time for).
    static func damagedCopies(_ count: Int) -> Int {
        let scale = ProcessInfo.processInfo.environment["WARDWATCH_DAMAGE_SCALE"].flatMap { Int($0) } ?? 1
        return count * max(1, scale)
    }

    @Test("every DNS and mDNS message of every capture, and 40 damaged copies of each, are written as when decoded")
    func everyCaptureAndDamage() throws {
        let payloads = try Self.dnsPayloads()
        #expect(payloads.count >= 500, "\(payloads.count) messages")
        var inPlace = 0, declined = 0, undecodable = 0
        var random = SystemRandomNumberGenerator()
        func check(_ message: [UInt8], _ what: @autoclosure () -> String) {
            let result = Self.written(message)
            if result.declined {
                declined += 1
                #expect(result.decoded != nil, "\(what()): declined but does not decode")
            } else if let written = result.inPlace {
                inPlace += 1
                let (a, b) = (String(decoding: written, as: UTF8.self), result.decoded.map { String(decoding: $0, as: UTF8.self) })
                #expect(a == b, "\(what())")
            } else {
                undecodable += 1
                #expect(result.decoded == nil, "\(what()): the view refuses a message that decodes")
            }
        }
        for (n, message) in payloads.enumerated() {
            check(message, "message \(n)")
            for round in 0..<Self.damagedCopies(40) {
                var damaged = message
                switch round % 4 {
                case 0:  // cut short anywhere
                    damaged = Array(message.prefix(Int.random(in: 0...message.count, using: &random)))
                case 1, 2:  // bytes changed past the header: lengths, pointers, counts
                    for _ in 0..<(1 + round % 3) where !damaged.isEmpty {
                        damaged[Int.random(in: 0..<damaged.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                    }
                default:  // record and question counts raised or lowered
                    if damaged.count >= 12 { damaged[4 + 2 * Int.random(in: 0..<4, using: &random) + 1] &+= UInt8.random(in: 1...3, using: &random) }
                }
                check(damaged, "message \(n), damage round \(round): \(damaged)")
            }
        }
        #expect(inPlace > 10_000 && declined > 0 && undecodable > 0, "in place \(inPlace), declined \(declined), undecodable \(undecodable)")
    }

    @Test("names and targets that are not ASCII, or not UTF-8, are written with the same replacements")
    func nonASCIINames() {
        func label(_ bytes: [UInt8]) -> [UInt8] { [UInt8(bytes.count)] + bytes }
        let header: [UInt8] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0]
        // café.example (é as UTF-8), then a label with an invalid byte and a quote.
        let name = label(Array("caf".utf8) + [0xC3, 0xA9]) + label(Array("example".utf8)) + [0]
        let question = name + [0, 1, 0, 1]
        let target: [UInt8] = label([0x66, 0xFF, 0x22, 0x5C]) + [0xC0, 12]
        let cname: [UInt8] = [0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, UInt8(target.count)] + target
        let a: [UInt8] = [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]
        let message = header + question + cname + a
        let result = Self.written(message)
        #expect(result.inPlace != nil && result.inPlace == result.decoded)
        let text = String(decoding: result.inPlace ?? [], as: UTF8.self)
        #expect(text.contains("café.example") && text.contains("f\u{FFFD}\\\"\\\\.café.example") && text.contains("10.0.0.1"), "\(text)")
    }

    @Test("a message of more entries than are decoded is cut where the decoder cuts it")
    func entryBudget() {
        // One question and 600 A records: the decoder keeps 512 entries in all.
        var message: [UInt8] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0x02, 0x58, 0, 0, 0, 0]
        message += [1, 0x68, 0, 0, 1, 0, 1]
        for i in 0..<600 { message += [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, UInt8(i >> 8), UInt8(i & 0xFF)] }
        let result = Self.written(message)
        let text = String(decoding: result.inPlace ?? [], as: UTF8.self)
        #expect(result.inPlace == result.decoded)
        #expect(text.contains("10.0.1.254") && !text.contains("10.0.1.255"), "the 511th record is the last")
    }

    @Test("AAAA addresses are written in RFC 5952 form, the same in place and decoded")
    func ipv6Addresses() {
        func message(_ addresses: [[UInt8]]) -> [UInt8] {
            var bytes: [UInt8] = [0, 1, 0x81, 0x80, 0, 0, 0, UInt8(addresses.count), 0, 0, 0, 0]
            for address in addresses { bytes += [1, 0x68, 0, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16] + address }
            return bytes
        }
        func bytes(_ groups: [UInt16]) -> [UInt8] { groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } }
        let known: [([UInt16], String)] = [
            ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], "2001:db8::1"), ([0, 0, 0, 0, 0, 0, 0, 0], "::"), ([0, 0, 0, 0, 0, 0, 0, 1], "::1"),
            ([0xfe80, 0, 0, 0, 0, 0, 0, 0], "fe80::"), ([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], "2001:db8::1:0:0:1"),
            ([0x2001, 0, 0, 1, 0, 0, 0, 1], "2001:0:0:1::1"), ([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], "2001:db8:0:1:1:1:1:1"),
            ([0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001], "::ffff:a00:1"), ([0xabcd, 0xef01, 0x2345, 0x6789, 0xabcd, 0xef01, 0x2345, 0x6789], "abcd:ef01:2345:6789:abcd:ef01:2345:6789"),
        ]
        var random = SplitMix64(seed: 5)
        var addresses = known.map { bytes($0.0) }
        for _ in 0..<2_000 {
            addresses.append(bytes((0..<8).map { _ in random.next() % 3 == 0 ? UInt16(truncatingIfNeeded: random.next() >> UInt64(random.next() % 16)) : 0 }))
        }
        for chunk in stride(from: 0, to: addresses.count, by: 100) {
            let part = Array(addresses[chunk..<min(chunk + 100, addresses.count)])
            let result = Self.written(message(part))
            #expect(result.inPlace != nil && result.inPlace == result.decoded)
            guard chunk == 0, case .success(let decoded) = message(part).withUnsafeBytes({ DNSMessage.decode($0) }) else { continue }
            for (record, expected) in zip(decoded.answers, known) { #expect(record.addressText == expected.1) }
        }
        // Apart from the IPv4-mapped form, the text is IPv6Address's.
        for address in addresses where !(address[0..<10].allSatisfy { $0 == 0 } && address[10] == 0xFF && address[11] == 0xFF) {
            let decoded = message([address]).withUnsafeBytes { DNSMessage.decode($0) }
            guard case .success(let m) = decoded else { Issue.record("no decode"); continue }
            let expected = address.withUnsafeBytes { IPv6Address($0, at: 0)!.description }
            #expect(m.answers.first?.addressText == expected, "\(address)")
        }
    }
}

/// SSDP observations are written straight from the datagram (`SSDPFields`): byte for byte what the decoded message's
/// observation (`DiscoveryObservations.ssdp`) writes.
@Suite("SSDP written in place")
struct SSDPInPlaceTests {
    static func written(_ datagram: [UInt8]) -> (inPlace: String?, decoded: String?) {
        datagram.withUnsafeBytes { bytes in
            let inPlace = SSDPFields.decode(bytes).map { fields in
                var w = JSONWriter()
                DiscoveryObservations.writeSSDP(fields, to: &w)
                return String(decoding: w.written, as: UTF8.self)
            }
            let decoded = SSDPMessage.decode(bytes).map { message in
                let o = DiscoveryObservations.ssdp(message)
                var w = JSONWriter()
                SSDPObservation.writeJSON(
                    to: &w, location: o.location, notificationType: o.notificationType, searchTarget: o.searchTarget,
                    server: o.server, startLine: o.startLine, userAgent: o.userAgent, usn: o.usn)
                return String(decoding: w.written, as: UTF8.self)
            }
            return (inPlace, decoded)
        }
    }

    @Test("every SSDP datagram of every capture, 40 damaged copies of each, and odd ones are written as when decoded")
    func everyCaptureAndDamage() throws {
        var datagrams = try DNSInPlaceTests.udpPayloads(ports: [1900])
        #expect(datagrams.count >= 100, "\(datagrams.count) datagrams")
        // Other methods and statuses, empty and padded values, non-ASCII and non-UTF-8 values, a value past 1024 bytes
        // cut inside a multi-byte character, quotes and control characters.
        datagrams += [
            "SUBSCRIBE * HTTP/1.1\r\nSERVER:  x \t\r\nUSN:\r\n\r\n", "HTTP/1.1 404 Not Found\r\nST: caf\u{E9}\r\n\r\n",
            "NOTIFY * HTTP/1.1\r\nLOCATION: http://a/\"b\\c\u{1}\r\nNT: " + String(repeating: "\u{E9}", count: 600) + "\r\n\r\n",
            "M-SEARCH * HTTP/1.1\nUSER-AGENT: a\nST: ssdp:all",
        ].map { Array($0.utf8) }
        datagrams.append(Array("NOTIFY * HTTP/1.1\r\nSERVER: ".utf8) + [0xFF, 0xC3, 0x41, 0xE2, 0x82] + Array("\r\n\r\n".utf8))
        let checked = HTTPInPlaceTests.expectWrittenAsDecoded(
            datagrams, damagedCopies: DNSInPlaceTests.damagedCopies(40), seed: 3, Self.written)
        #expect(checked > 2_000)
    }
}

/// HTTP observations are written straight from the head (`HTTPHeadFields`): byte for byte what the texts of the
/// decoded head (`HTTPHead`) write.
@Suite("HTTP written in place")
struct HTTPInPlaceTests {
    static func written(_ bytes: [UInt8]) -> (inPlace: String?, decoded: String?) {
        bytes.withUnsafeBytes { bytes in
            func connection(_ w: inout JSONWriter) { w.plainString("c") }
            let inPlace = HTTPHeadFields.decode(bytes).map { head in
                var w = JSONWriter()
                DiscoveryObservations.writeHTTP(head, to: &w, connection: connection)
                return String(decoding: w.written, as: UTF8.self) + " \(head.isComplete)"
            }
            let decoded = HTTPHead.decode(bytes).map { head in
                var w = JSONWriter()
                let nonEmpty = DiscoveryObservations.nonEmpty
                HTTPObservation.writeJSON(
                    to: &w, direction: head.isRequest ? "request" : "response", method: nonEmpty(head.method),
                    host: nonEmpty(head.host), path: head.isRequest ? nonEmpty(head.path) ?? "/" : nil,
                    status: head.isRequest ? nil : head.statusCode, userAgent: nonEmpty(head.userAgent),
                    server: nonEmpty(head.server), connection: connection)
                return String(decoding: w.written, as: UTF8.self) + " \(head.isComplete)"
            }
            return (inPlace, decoded)
        }
    }

    /// Expects `written` to give the same for each input and `damagedCopies` damaged copies of it (cut short at a
    /// random place, or one to three bytes changed at random); returns how many it wrote at all.
    static func expectWrittenAsDecoded(
        _ inputs: [[UInt8]], damagedCopies: Int, seed: UInt64, _ written: ([UInt8]) -> (inPlace: String?, decoded: String?)
    ) -> Int {
        var random = SplitMix64(seed: seed)
        var checked = 0
        for (n, input) in inputs.enumerated() {
            for round in 0...damagedCopies {
                var damaged = input
                if round > 0 && !damaged.isEmpty {
                    if round % 2 == 0 {
                        damaged = Array(damaged.prefix(Int(random.next() % UInt64(damaged.count + 1))))
                    } else {
                        for _ in 0..<(1 + round % 3) {
                            damaged[Int(random.next() % UInt64(damaged.count))] = UInt8(truncatingIfNeeded: random.next())
                        }
                    }
                }
                let result = written(damaged)
                #expect(result.inPlace == result.decoded, "input \(n), round \(round)")
                if result.inPlace != nil { checked += 1 }
            }
        }
        return checked
    }

    @Test("every HTTP segment of every capture, 20 damaged copies of each, and odd heads are written as when decoded")
    func everyCaptureAndDamage() throws {
        var heads = try DNSInPlaceTests.udpPayloads(ports: [80, 8080], tcp: true)
        #expect(heads.count >= 1_000, "\(heads.count) segments")
        heads += [
            "GET http://user@printer.local:631?x=1 HTTP/1.1\r\nUser-Agent:  \t\r\nHost: a\"b\\\r\n\r\n",
            "GET /" + String(repeating: "\u{E9}", count: 200) + "?q HTTP/1.0\r\nServer: x\r\n\r\n", "HTTP/1.1 204\r\nServer: \u{1}\r\n\r\n",
            "OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n", "GET https://h HTTP/1.1\r\n\r\n", "POST /a#b HTTP/1.1\r\nUser-Agent: cut",
        ].map { Array($0.utf8) }
        heads.append(Array("GET / HTTP/1.1\r\nUser-Agent: ".utf8) + [0xFF, 0xC3, 0x41, 0xE2, 0x82] + Array("\r\n\r\n".utf8))
        let checked = Self.expectWrittenAsDecoded(heads, damagedCopies: DNSInPlaceTests.damagedCopies(20), seed: 9, Self.written)
        #expect(checked > 5_000, "\(checked) heads")
    }
}
