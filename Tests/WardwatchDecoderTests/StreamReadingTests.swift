import Foundation
import Testing
import WardwatchCapture
import WardwatchDecoders
import WardwatchModel

/// Reading a TLS handshake as its stream grows (each record once) finds what reading the whole stream at once finds,
/// however the stream is cut into segments.
@Suite("TLS handshakes read as the stream grows")
struct TLSReassemblyTests {
    /// The payload bytes of each TCP direction of a capture, in sequence order, keyed by "source > destination".
    static func tcpStreams(_ path: String) throws -> [String: [UInt8]] {
        let source = try PcapSource(file: path)
        var prefixes: [String: StreamPrefix] = [:]
        var order: [String] = []
        while try source.next({ bytes, _, _ in
            guard let frame = LinkDecoder.decode(bytes, linkType: source.linkType) else { return }
            let from: String, to: String, transport: UnsafeRawBufferPointer
            if case .success(let ip) = IPv4Packet.decode(frame.payload), ip.protocolNumber == 6 {
                (from, to, transport) = ("\(ip.source)", "\(ip.destination)", ip.payload)
            } else if case .success(let ip) = IPv6Packet.decode(frame.payload), ip.protocolNumber == 6 {
                (from, to, transport) = ("\(ip.source)", "\(ip.destination)", ip.payload)
            } else {
                return
            }
            guard case .success(let tcp) = TCPSegment.decode(transport) else { return }
            let key = "\(from):\(tcp.sourcePort) > \(to):\(tcp.destinationPort)"
            if prefixes[key] == nil { order.append(key) }
            if tcp.flags.contains(.syn) { prefixes[key, default: StreamPrefix(limit: 1 << 20)].start(synSequence: tcp.sequenceNumber) }
            _ = prefixes[key, default: StreamPrefix(limit: 1 << 20)].add(sequence: tcp.sequenceNumber, payload: tcp.payload)
        }) == .packet {}
        return prefixes.filter { !$0.value.bytes.isEmpty }.mapValues(\.bytes)
    }

    /// Every TLS direction of the TLS fixtures (59 Chrome connections with HelloRetryRequests and certificate chains
    /// over several segments, an IPv6 TLS 1.2 handshake, a lone ClientHello).
    static let realStreams: [[UInt8]] = {
        let files = ["tls-handshake.pcapng", "tls-alpn-h2.pcap", "tls12.pcap", "tls-sni.pcapng"]
        return files.flatMap { file -> [[UInt8]] in
            let streams = (try? tcpStreams(Fixtures.path("Tests/Fixtures/tls/\(file)"))) ?? [:]
            return streams.keys.sorted().compactMap { streams[$0] }.filter { $0.first == 0x16 }
        }
    }()

    /// The handshake messages of `stream`, sent again in records of 1 to `maxRecord` bytes, with a change-cipher-spec
    /// record before every second ClientHello or ServerHello, as a HelloRetryRequest exchange has, and at the end a
    /// change-cipher-spec and an encrypted Finished (a handshake record that ends the plaintext).
    static func rerecorded(_ stream: [UInt8], maxRecord: Int, random: inout SplitMix64) -> [UInt8] {
        let scan = stream.withUnsafeBytes { TLSStream.handshakeMessages($0) }
        var out: [UInt8] = []
        var hellos = 0
        for message in scan.messages {
            if message.type == TLS.HandshakeType.clientHello || message.type == TLS.HandshakeType.serverHello {
                hellos += 1
                if hellos > 1 { out += [0x14, 3, 3, 0, 1, 1] }
            }
            var at = 0
            while at < message.bytes.count {
                let n = min(message.bytes.count - at, 1 + Int(random.next() % UInt64(maxRecord)))
                out += [0x16, 3, 3, UInt8(n >> 8), UInt8(n & 0xFF)] + message.bytes[at..<(at + n)]
                at += n
            }
        }
        return out + [0x14, 3, 3, 0, 1, 1] + [0x16, 3, 3, 0, 8, 0x5E, 0, 0, 0x2F, 0x91, 0x0C, 0x77, 0x3A]
            + [0x17, 3, 3, 0, 2, 0xAA, 0xBB]
    }

    /// Feeds `stream` in random cuts (of up to 8, 64 or 700 bytes, so that some fall inside every record header);
    /// after each, what was read so far must equal a one-shot read of the bytes so far.
    static func checkGrowing(_ stream: [UInt8], random: inout SplitMix64, label: String) {
        var reassembler = TLSHandshakeReassembler()
        var messages: [TLSHandshakeMessage] = []
        var client = TLSClientFlight()
        var server = TLSServerFlight()
        var end = 0
        let longest = [8, 64, 700][Int(random.next() % 3)]
        // Compared with a one-shot read at about 60 of the cuts and at the end (a one-shot read at every cut of a
        // long stream cut small would take most of the suite's time).
        let every = max(1, stream.count / longest / 60)
        var cut = 0
        while end < stream.count {
            end = min(stream.count, end + 1 + Int(random.next() % UInt64(longest)))
            cut += 1
            stream[..<end].withUnsafeBytes { bytes in
                messages += reassembler.advance(bytes)
                client.advance(bytes)
                server.advance(bytes)
                guard cut % every == 0 || end == stream.count else { return }
                let whole = TLSStream.handshakeMessages(bytes)
                #expect(messages == whole.messages, "\(label): messages at \(end) bytes")
                #expect(reassembler.status == whole.status, "\(label): status at \(end) bytes")
                var once = TLSClientFlight()
                once.advance(bytes)
                #expect(client.hello == once.hello && client.secondHello == once.secondHello, "\(label): client hellos at \(end)")
                #expect(client.error == once.error && client.isComplete == once.isComplete, "\(label): client state at \(end)")
                let flight = TLSServerFlight.scan(bytes)
                #expect(server.serverHello == flight.serverHello && server.helloRetryRequest == flight.helloRetryRequest,
                        "\(label): server hellos at \(end)")
                #expect(server.certificate == flight.certificate, "\(label): certificate at \(end)")
                #expect(server.error == flight.error && server.isComplete == flight.isComplete, "\(label): server state at \(end)")
            }
        }
    }

    @Test("real handshakes in random segments read as whole streams are")
    func realStreamsInSegments() {
        let streams = Self.realStreams
        // 59 connections in tls-handshake.pcapng, both sides, plus the other captures' clients.
        #expect(streams.count >= 120)
        var random = SplitMix64(seed: 7)
        var certificates = 0, secondHellos = 0
        for (i, stream) in streams.enumerated() {
            Self.checkGrowing(stream, random: &random, label: "stream \(i)")
            let whole = stream.withUnsafeBytes { TLSServerFlight.scan($0) }
            if whole.certificate != nil { certificates += 1 }
            var client = TLSClientFlight()
            stream.withUnsafeBytes { client.advance($0) }
            if client.secondHello != nil { secondHellos += 1 }
        }
        // What the fixtures' README promises: the streams reach the certificate and HelloRetryRequest paths.
        #expect(certificates >= 7)
        #expect(secondHellos >= 5)
    }

    @Test("handshakes in tiny records, with change-cipher-specs and corrupt bytes, read alike however cut")
    func rerecordedAndCorrupted() {
        var random = SplitMix64(seed: 11)
        var corruptedDiffer = 0
        for (i, stream) in Self.realStreams.enumerated() where i % 3 == 0 {
            let small = Self.rerecorded(stream, maxRecord: 1 + i % 9, random: &random)
            Self.checkGrowing(small, random: &random, label: "re-recorded \(i)")
            // The same messages, cut into other records, are the same messages.
            let a = stream.withUnsafeBytes { TLSStream.handshakeMessages($0).messages }
            let b = small.withUnsafeBytes { TLSStream.handshakeMessages($0).messages }
            #expect(a == b, "re-recorded \(i): messages")
            var corrupt = small
            for _ in 0..<3 { corrupt[Int(random.next() % UInt64(corrupt.count))] ^= UInt8(1 + random.next() % 255) }
            if corrupt.withUnsafeBytes({ TLSStream.handshakeMessages($0) }) != small.withUnsafeBytes({ TLSStream.handshakeMessages($0) }) {
                corruptedDiffer += 1
            }
            Self.checkGrowing(corrupt, random: &random, label: "corrupted \(i)")
        }
        #expect(corruptedDiffer > 10)  // the corrupt streams do reach the error paths
    }

    @Test("a hello sent one byte a record is read once, and its bytes are let go when it ends")
    func tinyRecordsHeldAndReleased() {
        // A ClientHello header claiming 60,000 bytes, then 1-byte records: never whole within 64 KiB.
        var stream: [UInt8] = [0x16, 3, 1, 0, 4, 1, 0, 0xEA, 0x60]
        for _ in 0..<10_000 { stream += [0x16, 3, 1, 0, 1, 0] }
        var flight = TLSClientFlight()
        var end = 9
        while end < stream.count {
            end = min(stream.count, end + 1400)
            stream[..<end].withUnsafeBytes { flight.advance($0) }
        }
        #expect(flight.hello == nil && !flight.isComplete)
        #expect(flight.heldBytes >= 10_004)  // the message in the making
        stream += [0x15, 3, 3, 0, 2, 2, 40]  // an alert ends the plaintext
        stream.withUnsafeBytes { flight.advance($0) }
        #expect(flight.isComplete && flight.error == .noMessage)
        #expect(flight.heldBytes == 0)
    }
}

/// An HTTP head is decoded again only once a line that may end it has arrived: that never misses the segment that
/// completes a head, however the stream is cut.
@Suite("HTTP heads read as the stream grows")
struct HTTPHeadEndTests {
    /// Request and response heads of the IoT setup captures (Hue bridges, D-Link cameras), and made-up ones: LF-only
    /// line ends, a lone CR, folded lines, more than the 128 headers read, no end at all.
    static func heads() throws -> [[UInt8]] {
        var heads: [[UInt8]] = []
        if ApplicationDecoderTests.hasShared {
            for file in ["HueBridge/Setup-A-1-STA.pcap", "D-LinkCam/Setup-A-1-STA.pcap", "D-LinkSwitch/Setup-A-1-STA.pcap"] {
                let streams = try TLSReassemblyTests.tcpStreams(Fixtures.path("../shared/pcaps/iot-setup/\(file)"))
                heads += streams.keys.sorted().compactMap { streams[$0] }
                    .filter { stream in stream.withUnsafeBytes { HTTPHead.mayStartHead($0) } }
                    .map { Array($0.prefix(20_000)) }
            }
        }
        let made = [
            "GET /a HTTP/1.1\nHost: x\nUser-Agent: lf-only\n\nbody",
            "HTTP/1.1 200 OK\r\nServer: lone\rcr\r\nX: y\r\n\r\n",
            "POST / HTTP/1.0\r\nX-Folded: a\r\n b\r\nUser-Agent: z\r\n\n",
            "GET / HTTP/1.1\r\n" + String(repeating: "X: 1\r\n", count: 140) + "\r\n",
            "GET / HTTP/1.1\r\nHost: never-ends\r\n" + String(repeating: "Y: 2\r\n", count: 40),
            "HTTP/1.1 204 No Content\r\n\r\n",
        ]
        return heads + made.map { Array($0.utf8) }
    }

    @Test("the cut that completes a head always brings a line that may end it")
    func neverMissesTheEnd() throws {
        let heads = try Self.heads()
        var random = SplitMix64(seed: 3)
        var completed = 0
        for (n, head) in heads.enumerated() {
            var end = 0, searched = 0
            var wasComplete = false
            while end < head.count {
                end = min(head.count, end + 1 + Int(random.next() % [2, 16, 300][n % 3]))
                head[..<end].withUnsafeBytes { bytes in
                    let complete = HTTPHead.decode(bytes)?.isComplete ?? false
                    if complete && !wasComplete {
                        completed += 1
                        #expect(HTTPHead.mayEndHead(bytes, from: searched), "head \(n) completed at \(end) unseen")
                    }
                    wasComplete = complete
                    searched = end
                }
            }
        }
        // The captures' heads and four of the made-up ones end (the 140-header one is never read whole).
        #expect(completed >= (ApplicationDecoderTests.hasShared ? 100 : 4))
    }

    @Test("a head that has not ended is not decoded again")
    func skipsWhileUnended() throws {
        // No empty line anywhere: at no cut may a decode be asked for.
        let unended = Array(("GET / HTTP/1.1\r\nHost: never-ends\r\n" + String(repeating: "Y: 2\r\n", count: 40)).utf8)
        var random = SplitMix64(seed: 5)
        var end = 0, searched = 0, asked = 0
        while end < unended.count {
            end = min(unended.count, end + 1 + Int(random.next() % 9))
            if unended[..<end].withUnsafeBytes({ HTTPHead.mayEndHead($0, from: searched) }) { asked += 1 }
            searched = end
        }
        #expect(asked == 0)
        // With the empty line added, exactly the cut that brings it asks.
        let ended = unended + Array("\r\n".utf8)
        #expect(ended.withUnsafeBytes { HTTPHead.mayEndHead($0, from: unended.count) })
        #expect(ended.withUnsafeBytes { HTTPHead.mayEndHead($0, from: unended.count - 1) })
        #expect(!ended.withUnsafeBytes { HTTPHead.mayEndHead($0, from: ended.count) })
    }
}

/// A connection's TLS client side through the capture's connection analysis, as segments arrive.
@Suite("TLS client hellos through the connection analysis")
struct TLSClientAnalysisTests {
    /// A client stream of the fixtures with a HelloRetryRequest exchange: its bytes up to the end of the first and of
    /// the second ClientHello.
    static func twoHellos() -> (stream: [UInt8], firstEnd: Int, secondEnd: Int)? {
        for stream in TLSReassemblyTests.realStreams {
            var whole = TLSClientFlight()
            stream.withUnsafeBytes { whole.advance($0) }
            guard whole.secondHello != nil else { continue }
            func end(_ found: (TLSClientFlight) -> Bool) -> Int {
                (1...stream.count).first { n in
                    var flight = TLSClientFlight()
                    stream[..<n].withUnsafeBytes { flight.advance($0) }
                    return found(flight)
                }!
            }
            return (stream, end { $0.hello != nil }, end { $0.secondHello != nil })
        }
        return nil
    }

    /// The JA4s of the `tls_client_hello` observations made from client segments `segments` (sequence offset and
    /// bytes, in the order sent) of a connection whose server answered the SYN and then fell silent.
    static func ja4s(_ segments: [(offset: Int, bytes: [UInt8])]) throws -> [String] {
        var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "test", site: "test"))
        var output = ObservationBatch()
        var time: Int64 = 1_700_000_000_000_000
        func feed(_ bytes: [UInt8]) {
            time += 1000
            bytes.withUnsafeBytes {
                extractor.extract($0, originalLength: bytes.count, linkType: .ethernet, time: EventTime(microseconds: time), into: &output)
            }
        }
        feed(StreamBudgetTests.frame(client: 1, port: 443, flags: 0x02, sequence: 1000))
        feed(StreamBudgetTests.frame(client: 1, toServer: false, port: 443, flags: 0x12, sequence: 5000))
        for segment in segments {
            feed(StreamBudgetTests.frame(client: 1, port: 443, flags: 0x18, sequence: 1001 + UInt32(segment.offset), payload: segment.bytes))
        }
        extractor.finish(into: &output)
        return try output.decoded().compactMap { $0.tlsClientHello?.ja4 }
    }

    @Test("both hellos are reported, in order, however the client's bytes are cut into segments")
    func secondHelloInTheSameSegment() throws {
        let found = try #require(Self.twoHellos())
        let first = Array(found.stream[..<found.firstEnd])
        let second = Array(found.stream[found.firstEnd..<found.secondEnd])
        let apart = try Self.ja4s([(0, first), (found.firstEnd, second)])
        #expect(apart.count == 2 && apart[0] != apart[1])
        // Both hellos in one segment; and the second arriving first, held until the first fills the gap: the second
        // is reported at once (reading again only at the next client segment, as before, missed it when none came).
        #expect(try Self.ja4s([(0, first + second)]) == apart)
        #expect(try Self.ja4s([(found.firstEnd, second), (0, first)]) == apart)
    }
}
