import Foundation
import Testing
import WardwatchCapture
import WardwatchDecoders
import WardwatchModel

/// The hand-written observation JSON must be the Codable encoder's output, byte for byte.
@Suite("Observation JSON writer")
struct JSONWriterTests {
    static let sharedPcaps = Fixtures.root.deletingLastPathComponent().appendingPathComponent("shared/pcaps").path
    static var hasShared: Bool { FileManager.default.fileExists(atPath: sharedPcaps) }

    static func written(_ observation: Observation) -> [UInt8] {
        var writer = JSONWriter()
        observation.writeJSON(to: &writer)
        return writer.written
    }

    /// Every observation of a capture, including what `finish` reports at its end, decoded from what the capture
    /// wrote; and each one's bytes, key and timestamp as written.
    static func captured(_ path: String) throws -> [(observation: Observation, line: [UInt8], key: [UInt8], milliseconds: Int64)] {
        var extractor = ObservationExtractor(
            sensor: SensorIdentity(sensorId: "test \"sensor\"", site: "ward/4\\b"), announcementRefresh: 0)
        var batch = ObservationBatch()
        let source = try PcapSource(file: path)
        while try source.next({ bytes, length, time in
            extractor.extract(bytes, originalLength: length, linkType: source.linkType, time: time, into: &batch)
        }) == .packet {}
        extractor.finish(into: &batch)
        let observations = try batch.decoded()
        return batch.withLines { lines in
            batch.withKeys { keys in
                zip(observations, batch.records).map { observation, record in
                    (observation, Array(lines[record.value]), Array(keys[record.key]), record.timestampMilliseconds)
                }
            }
        }
    }

    static func allObservations(_ path: String) throws -> [Observation] { try captured(path).map(\.observation) }

    /// Each observation written by `writeJSON(to:)`, and as the capture wrote it (where given), equals the Codable
    /// encoder's bytes; the capture's Kafka key and timestamp are the observation's.
    static func expectIdentical(
        _ observations: [Observation], _ label: String,
        captured: [(observation: Observation, line: [UInt8], key: [UInt8], milliseconds: Int64)] = []
    ) throws -> Int {
        var mismatches = 0
        for (index, observation) in observations.enumerated() {
            let reference = try WardwatchJSON.encode(observation)
            var candidates = [written(observation)]
            if index < captured.count {
                candidates.append(captured[index].line)
                #expect(captured[index].key == Array(observation.deviceKey.utf8), "\(label): key")
                #expect(captured[index].milliseconds == observation.time.milliseconds, "\(label): timestamp")
            }
            for ours in candidates where reference != ours {
                mismatches += 1
                if mismatches <= 3 {
                    Issue.record("\(label): \(String(decoding: ours, as: UTF8.self)) != \(String(decoding: reference, as: UTF8.self))")
                }
            }
        }
        #expect(mismatches == 0, "\(label): \(mismatches) of \(observations.count) differ")
        return observations.count
    }

    static func expectIdentical(capturedFrom path: String, _ label: String) throws -> [Observation] {
        let captured = try captured(path)
        let observations = captured.map(\.observation)
        _ = try expectIdentical(observations, label, captured: captured)
        return observations
    }

    @Test("observations written from kept device envelopes equal those written whole: collisions, evictions, a new sensor, members too long to keep")
    func deviceEnvelopes() {
        // 2,000 devices and their twins (four times the table and more), each written three times in interleaved order, under two sensors, a
        // tenth of them with a VLAN, one with a sensor id too long to keep; every kind, so the payload takes each
        // place among the members.
        struct Device { var words: DeviceEnvelopeCache.Words; var key: String; var ip: String; var mac: String?; var vlan: Int? }
        var devices = (0..<2_000).map { i -> Device in
            let mac = i % 7 == 0 ? nil : String(format: "02:00:00:00:%02x:%02x", i >> 8, i & 0xFF)
            let ip = "10.1.\(i >> 8).\(i & 0xFF)"
            return Device(words: (UInt64(i % 7 == 0 ? 0 : i + 1), 0, UInt64(i), i % 10 == 0 ? 21 : 0), key: mac ?? ip, ip: ip, mac: mac,
                          vlan: i % 10 == 0 ? 20 : nil)
        }
        // The same MAC and address on another VLAN whose words share the slot: a device of its own, told apart by
        // the fourth word alone.
        var twins = 0
        for i in stride(from: 1_990, through: 0, by: -10) {
            let slot = DeviceEnvelopeCache.slot(of: devices[i].words)
            guard let vlan = (30..<4_000).first(where: { vlan in
                var words = devices[i].words
                words.3 = UInt64(vlan + 1)
                return DeviceEnvelopeCache.slot(of: words) == slot
            }) else { continue }
            var twin = devices[i]
            twin.words.3 = UInt64(vlan + 1)
            twin.vlan = vlan
            devices.insert(twin, at: i + 1)
            twins += 1
        }
        #expect(twins > 100)
        let sensors = [("ward-4", "general"), ("ward-\"5\"", "north\\b"), (String(repeating: "s", count: 600), "long")]
            .map { (id: EncodedJSON($0.0), site: EncodedJSON($0.1)) }
        var batch = ObservationBatch()
        var expected = JSONWriter()
        var expectedKeys = JSONWriter()
        var n = 0, keptCount = 0
        for round in 0..<3 {
            // One to three observations in a row of each device: kept from the second on.
            for (i, device) in devices.enumerated().flatMap({ pair in Array(repeating: pair, count: 1 + pair.offset % 3) }) {
                let sensor = sensors[(i + round) % 3 == 0 && i % 50 == 0 ? 2 : (round == 2 ? 1 : 0)]
                let kind = Observation.Kind.allCases[n % Observation.Kind.allCases.count]
                let time = EventTime(microseconds: 1_700_000_000_000_000 + Int64(n) * 1_234_567)
                n += 1
                func payload(_ w: inout JSONWriter) { w.beginObject(); w.key("n"); w.int(n); w.endObject() }
                let kept = batch.append(kind, device: device.words, sensorId: sensor.id, site: sensor.site, time: time, envelope: {
                    DeviceEnvelope(deviceKey: device.key, sensorId: sensor.id, site: sensor.site, vlan: device.vlan, sourceMAC: device.mac, sourceIP: device.ip)
                }, payload: payload)
                if kept {
                    keptCount += 1
                } else {
                    // Seen once lately, or members too long to keep: written whole.
                    batch.append(key: device.key, time: time) { w in
                        Observation.writeJSON(
                            to: &w, kind: kind, deviceKey: device.key, time: time, sensorId: sensor.id, site: sensor.site,
                            vlan: device.vlan, sourceMAC: device.mac, sourceIP: device.ip, payload: payload)
                    }
                }
                Observation.writeJSON(
                    to: &expected, kind: kind, deviceKey: device.key, time: time, sensorId: sensor.id, site: sensor.site,
                    vlan: device.vlan, sourceMAC: device.mac, sourceIP: device.ip, payload: payload)
                expected.newline()
                expectedKeys.appendRaw(device.key)
            }
        }
        #expect(batch.count == n)
        #expect(keptCount > n / 10, "\(keptCount) of \(n) written from kept members")
        #expect(batch.withLines { Array($0) } == expected.written)
        #expect(batch.withKeys { Array($0) } == expectedKeys.written)
    }

    @Test("integers are written as Swift prints them: every power of ten and its neighbours, the extremes, random ones")
    func integers() {
        var values: [Int64] = [0, 1, -1, Int64.max, Int64.min, Int64.min + 1]
        var power: Int64 = 1
        for _ in 0..<19 {
            values += [power - 1, power, power + 1, -power, 99 &* (power / 10), 100_000_000 &* (power % 100_000_000) &+ 7]
            if power <= Int64.max / 10 { power *= 10 }
        }
        var random = SplitMix64(seed: 11)
        for _ in 0..<20_000 { values.append(Int64(bitPattern: random.next()) >> Int64(random.next() % 64)) }
        var w = JSONWriter()
        w.beginArray()
        for value in values { w.int64(value) }
        for value in values { w.uint32(UInt32(truncatingIfNeeded: value)) }
        w.endArray()
        let expected = "[" + (values.map { String($0) } + values.map { String(UInt32(truncatingIfNeeded: $0)) }).joined(separator: ",") + "]"
        #expect(String(decoding: w.written, as: UTF8.self) == expected)
    }

    @Test("times are written as EventTime.description, whatever order their seconds come in (the kept seconds swapped, replaced, too long to keep)")
    func times() {
        var values: [Int64] = [0, -1, 1, 999_999, 1_000_000, -1_000_000, -1_000_001, Int64.max, Int64.min + 1_000_000,
                               253_402_300_799_999_999, 253_402_300_800_000_000, -62_135_596_800_000_000, -62_135_596_800_000_001]
        var random = SplitMix64(seed: 5)
        let base: Int64 = 1_700_000_000_000_000
        for _ in 0..<20_000 {
            // Mostly a few seconds apart and out of order (as a flow's first time falls between later ones), some anywhere.
            let r = random.next()
            values.append(r % 8 == 0 ? Int64(bitPattern: random.next()) : base + Int64(r % 4) * 1_000_000 + Int64(random.next() % 1_000_000))
        }
        var w = JSONWriter()
        w.beginArray()
        for value in values { w.time(EventTime(microseconds: value)) }
        w.endArray()
        let expected = "[" + values.map { "\"\(EventTime(microseconds: $0).description)\"" }.joined(separator: ",") + "]"
        #expect(String(decoding: w.written, as: UTF8.self) == expected)
    }

    @Test("a discarding batch (the bench's decoding alone) counts every observation and writes none")
    func discardingBatch() throws {
        func run(_ batch: consuming ObservationBatch) throws -> (count: Int, bytes: Int) {
            var batch = batch
            var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "vm", site: "default"))
            let source = try PcapSource(file: Fixtures.wardSample)
            let linkType = source.linkType
            while try source.next({ bytes, length, time in
                extractor.extract(bytes, originalLength: length, linkType: linkType, time: time, into: &batch)
            }) == .packet {}
            extractor.finish(into: &batch)
            return (batch.count, batch.withLines { $0.count })
        }
        let written = try run(ObservationBatch())
        let discarded = try run(ObservationBatch(discarding: true))
        #expect(written.count > 10 && written.bytes > 1_000)
        #expect(discarded.count == written.count && discarded.bytes == 0)
    }

    @Test("byte-identical to the Codable encoder on the ward sample")
    func wardSample() throws {
        let count = try Self.expectIdentical(capturedFrom: Fixtures.wardSample, "ward-sample").count
        #expect(count > 10)
    }

    @Test("byte-identical to the Codable encoder on every shared capture", .enabled(if: hasShared, "needs ../shared/pcaps"))
    func sharedCaptures() throws {
        let files = (FileManager.default.enumerator(atPath: Self.sharedPcaps)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
        var total = 0
        var kinds = Set<Observation.Kind>()
        for file in files {
            let observations = try Self.expectIdentical(capturedFrom: Self.sharedPcaps + "/" + file, file)
            total += observations.count
            kinds.formUnion(observations.map(\.kind))
        }
        #expect(total > 5_000, "\(total) observations")
        #expect(kinds.count >= 14, "kinds seen: \(kinds.map(\.rawValue).sorted())")
    }

    /// Every field of every payload set, with texts that need escaping and numbers at their limits.
    @Test("byte-identical on synthetic observations with every field, every escape and extreme numbers")
    func synthetic() throws {
        var all = ""
        for byte in UInt8(0)...0x7F { all.unicodeScalars.append(Unicode.Scalar(byte)) }
        let texts = [all, "", "é ü 中文 😀 \u{2028}\u{2029}\u{FEFF}\u{85}\u{FFFD}", "a/b\\c\"d", "plain"]
        let connection = ConnectionEndpoints(transport: texts[3], localIp: "10.0.0.1", localPort: 0, remoteIp: "::1", remotePort: 65535)
        var observations: [Observation] = []
        for (index, text) in texts.enumerated() {
            let number = [Int.min, -1, 0, 9, 10, Int.max][index % 6]
            let times = [EventTime(microseconds: 0), EventTime(microseconds: -1), EventTime(microseconds: 1_772_438_401_123_456),
                         EventTime(microseconds: 400_000_000_000_000_000), EventTime(microseconds: -70_000_000_000_000_000)]
            var o = Observation(
                kind: Observation.Kind.allCases[index % Observation.Kind.allCases.count], deviceKey: text, time: times[index],
                sensorId: text, site: text, vlan: index == 1 ? nil : number, source: .init(mac: index == 2 ? nil : text, ip: text),
                dhcp: DHCPObservation(
                    op: text, messageType: text, transactionId: index == 0 ? UInt32.max : UInt32(index), clientMac: text,
                    clientIp: text, yourIp: text, serverIp: text, relayIp: text, requestedIp: text, serverIdentifier: text,
                    hostname: text, vendorClass: text, clientId: text, maxMessageSize: number,
                    parameterRequestList: [number, 1, 2], optionCodes: [53, number]),
                arp: ARPObservation(operation: text, senderMac: text, senderIp: text, targetMac: text, targetIp: text, gratuitous: index % 2 == 0))
            o.tcpSyn = TCPSynObservation(
                role: text, connection: connection, signature: text, ttl: number, window: number, mss: number, windowScale: number,
                options: [text, text], quirks: [text])
            o.tcpTimestamps = TCPTimestampsObservation(connection: connection, samples: [TimestampSample(time: Int64.min, tsval: Int64.max), TimestampSample(time: 0, tsval: 4_294_967_295)])
            o.tlsClientHello = TLSClientHelloObservation(
                connection: connection, ja4: text, serverName: text, alpn: [text], supportedVersions: [number],
                cipherSuites: [1, 2], extensions: [], signatureAlgorithms: [number])
            o.tlsCertificate = TLSCertificateObservation(
                connection: connection, subject: text, issuer: text, serialNumber: text, notBefore: text, notAfter: text,
                keyType: text, keyBits: number, selfSigned: true, sha256: text, subjectAltNames: [text, ""])
            o.http = HTTPObservation(
                connection: connection, direction: text, method: text, host: text, path: text, status: number, userAgent: text, server: text)
            let dns = DNSObservation(
                response: index % 2 == 1, questions: [.init(name: text, type: text, value: "")],
                answers: [.init(name: text, type: "TXT", value: text), .init(name: "", type: "", value: "")],
                modelFields: [KeyValue(text, text), KeyValue("usb_MDL", "x")])
            o.dns = dns
            o.mdns = dns
            o.ssdp = SSDPObservation(
                startLine: text, server: text, usn: text, location: text, notificationType: text, searchTarget: text, userAgent: text)
            let neighbor = NeighborObservation(
                chassisId: text, portId: text, portDescription: text, systemName: text, systemDescription: text, platform: text,
                softwareVersion: text, capabilities: [text], managementAddresses: [text], nativeVlan: number,
                inventory: [KeyValue(text, text)], civicLocation: [KeyValue("country", text)])
            o.lldp = neighbor
            o.cdp = neighbor
            o.wsdiscovery = WSDiscoveryObservation(
                message: text, endpointReference: text, types: [text], scopes: [text], xaddrs: [text], metadataVersion: number)
            o.dicomAssociation = DICOMAssociationObservation(
                connection: connection, pdu: text, calledAeTitle: text, callingAeTitle: text, applicationContext: text,
                abstractSyntaxes: [text], implementationClassUid: text, implementationVersionName: text, userIdentityType: number,
                rejectResult: number, rejectSource: number, rejectReason: number)
            o.hl7Message = HL7MessageObservation(
                connection: connection, sendingApplication: text, sendingFacility: text, receivingApplication: text,
                receivingFacility: text, messageType: text, processingId: text, version: text,
                deviceIdentifiers: [.init(field: text, value: text)])
            o.flow = FlowObservation(
                connection: connection, packetsOut: number, packetsIn: 0, bytesOut: number, bytesIn: 1, firstTime: times[index],
                lastTime: times[(index + 1) % times.count], tcpFlagsOut: [text], tcpFlagsIn: [], applicationProtocols: [text],
                endReason: text)
            o.dhcpv6 = DHCPv6Observation(
                messageType: text, fromClient: index % 2 == 0, transactionId: index == 0 ? UInt32.max : UInt32(index),
                clientDuid: text, clientDuidType: number, clientLinkLayerAddress: text, clientDuidEnterpriseNumber: UInt32.max,
                optionRequestList: [number, 23], vendorClass: .init(enterpriseNumber: UInt32(index), data: [text, ""]),
                clientFqdn: text, clientFqdnFlags: number, elapsedTime: number, optionCodes: [1, number], relayHops: number,
                relayLinkAddress: text, relayPeerAddress: text)
            o.ndp = NDPObservation(
                type: text, targetAddress: text, sourceLinkLayerAddress: text, targetLinkLayerAddress: text, flags: [text, "other"],
                hopLimit: number, routerLifetime: number, mtu: UInt32.max,
                prefixes: [
                    .init(prefix: text, length: number, onLink: true, autonomous: false, validLifetime: UInt32.max, preferredLifetime: 0),
                    .init(prefix: "", length: 0, onLink: false, autonomous: true, validLifetime: 0, preferredLifetime: UInt32(index)),
                ],
                dnsServers: [text], optionTypes: [number, 1])
            observations.append(o)
            // The same with every optional absent.
            var sparse = Observation(kind: .flow, deviceKey: text, time: times[index], sensorId: "", site: "", vlan: nil, source: .init(mac: nil, ip: nil))
            sparse.dhcp = DHCPObservation(op: "request", messageType: nil, transactionId: 0, clientMac: text, optionCodes: [])
            sparse.dhcpv6 = DHCPv6Observation(messageType: text, fromClient: false, transactionId: 0, optionCodes: [])
            sparse.ndp = NDPObservation(type: text)
            sparse.tcpSyn = TCPSynObservation(
                role: "client", connection: connection, signature: "", ttl: 64, window: 0, mss: nil, windowScale: nil, options: [], quirks: [])
            sparse.tlsClientHello = TLSClientHelloObservation(
                connection: connection, ja4: "", serverName: nil, alpn: [], supportedVersions: [], cipherSuites: [], extensions: [],
                signatureAlgorithms: [])
            sparse.tlsCertificate = TLSCertificateObservation(
                connection: connection, subject: "", issuer: "", serialNumber: "", notBefore: "", notAfter: "", keyType: "",
                keyBits: nil, selfSigned: false, sha256: "", subjectAltNames: [])
            sparse.http = HTTPObservation(
                connection: connection, direction: "", method: nil, host: nil, path: nil, status: nil, userAgent: nil, server: nil)
            sparse.ssdp = SSDPObservation(
                startLine: "", server: nil, usn: nil, location: nil, notificationType: nil, searchTarget: nil, userAgent: nil)
            sparse.lldp = NeighborObservation()
            sparse.wsdiscovery = WSDiscoveryObservation(
                message: "", endpointReference: nil, types: [], scopes: [], xaddrs: [], metadataVersion: nil)
            sparse.dicomAssociation = DICOMAssociationObservation(
                connection: connection, pdu: "", calledAeTitle: nil, callingAeTitle: nil, applicationContext: nil,
                abstractSyntaxes: [], implementationClassUid: nil, implementationVersionName: nil, userIdentityType: nil)
            sparse.hl7Message = HL7MessageObservation(
                connection: connection, sendingApplication: nil, sendingFacility: nil, receivingApplication: nil,
                receivingFacility: nil, messageType: nil, processingId: nil, version: nil, deviceIdentifiers: [])
            observations.append(sparse)
        }
        _ = try Self.expectIdentical(observations, "synthetic")
    }

    @Test("every byte that needs escaping is found at every offset of the eight-byte scan, and no plain byte is escaped")
    func escapeAtEveryOffset() throws {
        let plain = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var special = (UInt8(0)..<0x20).map { $0 } + [0x22, 0x5C]
        special += [0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x1F, 0x20]  // neighbours that must stay as they are
        var observations: [Observation] = []
        for byte in special {
            for offset in 0..<17 {
                var bytes = plain
                bytes.insert(byte, at: offset)
                bytes.insert(byte, at: bytes.count - offset % 9)
                let text = String(decoding: bytes, as: UTF8.self)
                observations.append(Observation(
                    kind: .arp, deviceKey: text, time: EventTime(microseconds: 0), sensorId: "s", site: "x", vlan: nil,
                    source: .init(mac: nil, ip: nil)))
            }
        }
        #expect(try Self.expectIdentical(observations, "escapes") == observations.count)
    }

    @Test("every kind's name, and texts encoded once (EncodedJSON), are written as the Codable encoder writes them")
    func kindsAndEncodedTexts() throws {
        var all = ""
        for byte in UInt8(0)...0x7F { all.unicodeScalars.append(Unicode.Scalar(byte)) }
        let texts = [all, "", "vm", "é 中文 😀", "a/b\\c\"d"]
        var observations: [Observation] = []
        for (index, kind) in Observation.Kind.allCases.enumerated() {
            let text = texts[index % texts.count]
            observations.append(Observation(
                kind: kind, deviceKey: "k", time: EventTime(microseconds: 1), sensorId: text, site: text, vlan: nil,
                source: .init(mac: nil, ip: nil)))
        }
        #expect(try Self.expectIdentical(observations, "kinds") == Observation.Kind.allCases.count)
        // Through the parts writer, the sensor's texts encoded once write what the texts themselves write.
        for observation in observations {
            var encoded = JSONWriter()
            var plain = JSONWriter()
            Observation.writeJSON(
                to: &encoded, kind: observation.kind, deviceKey: observation.deviceKey, time: observation.time,
                sensorId: EncodedJSON(observation.sensorId), site: EncodedJSON(observation.site), vlan: nil,
                sourceMAC: String?.none, sourceIP: String?.none) { w in w.beginObject(); w.endObject() }
            Observation.writeJSON(
                to: &plain, kind: observation.kind, deviceKey: observation.deviceKey, time: observation.time,
                sensorId: observation.sensorId, site: observation.site, vlan: nil,
                sourceMAC: String?.none, sourceIP: String?.none) { w in w.beginObject(); w.endObject() }
            #expect(encoded.written == plain.written, "\(observation.kind)")
            #expect(String(decoding: encoded.written, as: UTF8.self).contains("\"kind\":\"\(observation.kind.rawValue)\""))
        }
        for list in [[], texts, [all, all]] {
            var expected = JSONWriter()
            expected.stringArray(list)
            var encoded = JSONWriter()
            EncodedJSON(list).writeJSON(to: &encoded)
            #expect(encoded.written == expected.written)
            #expect(try JSONDecoder().decode([String].self, from: Data(encoded.written)) == list)
        }
    }

    @Test("the writer's buffer is reused across records")
    func reuse() throws {
        let observations = try Self.allObservations(Fixtures.wardSample)
        var writer = JSONWriter()
        var expected: [UInt8] = []
        for observation in observations {
            observation.writeJSON(to: &writer)
            writer.newline()
            expected += try WardwatchJSON.encode(observation) + [0x0A]
        }
        #expect(writer.written == expected)
        writer.reset()
        #expect(writer.count == 0)
        observations[0].writeJSON(to: &writer)
        #expect(writer.written == (try WardwatchJSON.encode(observations[0])))
        // Past the initial capacity: the buffer grows and keeps what was written.
        var small = JSONWriter(capacity: 1)
        for observation in observations { observation.writeJSON(to: &small); small.newline() }
        #expect(small.written == expected)
    }
}
