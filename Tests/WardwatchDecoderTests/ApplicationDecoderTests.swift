import Foundation
import Testing
import WardwatchCapture
import WardwatchModel

/// The capture path (link, IP, TCP, stream prefix, application decoders) on real captures with known answers.
@Suite("Application decoders on real captures")
struct ApplicationDecoderTests {
    static let sharedPcaps = Fixtures.root.deletingLastPathComponent().appendingPathComponent("shared/pcaps").path
    static var hasShared: Bool { FileManager.default.fileExists(atPath: sharedPcaps + "/medical") }

    /// Observations of a capture, the end-of-capture flush included.
    static func observe(_ path: String) throws -> [Observation] {
        let (linkType, packets) = try Fixtures.packets(path)
        var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "test", site: "test-site"))
        var output = ObservationBatch()
        for (bytes, length, time) in packets {
            bytes.withUnsafeBytes { extractor.extract($0, originalLength: length, linkType: linkType, time: time, into: &output) }
        }
        extractor.finish(into: &output)
        return try output.decoded()
    }

    @Test("JA4 of every TLS connection equals FoxIO's expected value")
    func ja4MatchesExpected() throws {
        let rows = try String(contentsOfFile: Fixtures.path("Tests/Fixtures/tls/expected-ja4.tsv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        // file -> "ip:port" -> the JA4 of each ClientHello of that connection, in order: a TLS 1.3 HelloRetryRequest
        // makes the client send a second hello with its own JA4.
        var expected: [String: [String: [String]]] = [:]
        for row in rows where row.count == 7 {
            expected[row[0], default: [:]]["\(row[1]):\(row[2])", default: []].append(row[6])
        }
        var compared = 0, retried = 0
        for (file, connections) in expected.sorted(by: { $0.key < $1.key }) {
            let hellos = try Self.observe(Fixtures.path("Tests/Fixtures/tls/\(file)")).compactMap(\.tlsClientHello)
            var mine: [String: [String]] = [:]
            for hello in hellos { mine["\(hello.connection.localIp):\(hello.connection.localPort)", default: []].append(hello.ja4) }
            for (connection, ja4s) in connections {
                #expect(mine[connection] == ja4s, "\(file) \(connection)")
                compared += ja4s.count
                if ja4s.count > 1 { retried += 1 }
            }
            #expect(Set(mine.keys) == Set(connections.keys), "\(file): hellos on connections the expected list lacks")
        }
        #expect(compared >= 130)
        #expect(retried >= 10)
    }

    @Test("DICOM association fields from the medical captures", .enabled(if: hasShared, "needs ../shared/pcaps"))
    func dicomAssociations() throws {
        let find = try Self.observe(Self.sharedPcaps + "/medical/dicom_arq_1_find_testclient.pcap").compactMap(\.dicomAssociation)
        #expect(find.count == 1)
        let request = try #require(find.first)
        #expect(request.pdu == "A-ASSOCIATE-RQ")
        #expect(request.calledAeTitle == "testserver" && request.callingAeTitle == "testclient")
        #expect(request.applicationContext == "1.2.840.10008.3.1.1.1")
        #expect(request.abstractSyntaxes == [
            "1.2.840.10008.5.1.4.1.2.1.1", "1.2.840.10008.5.1.4.1.2.2.1", "1.2.840.10008.5.1.4.1.2.3.1", "1.2.840.10008.5.1.4.31",
        ])
        #expect(request.implementationClassUid == "1.2.826.0.1.3680043.9.7133.1.1")
        #expect(request.implementationVersionName == "GODICOM_1_1")
        // A request split over two segments is reassembled: all 123 presentation contexts.
        let get = try Self.observe(Self.sharedPcaps + "/medical/dicom_arq_2_get_testclient.pcap").compactMap(\.dicomAssociation)
        #expect(get.first?.abstractSyntaxes.count == 123)
        let bogus = try Self.observe(Self.sharedPcaps + "/medical/dicom_arq_3_find_bogus_local.pcap").compactMap(\.dicomAssociation)
        #expect(bogus.first?.calledAeTitle == "bogus_remote" && bogus.first?.callingAeTitle == "bogus_local")
    }

    @Test("HL7 MSH fields and the infusion pump's device identifier", .enabled(if: hasShared, "needs ../shared/pcaps"))
    func hl7Messages() throws {
        for (file, field) in [("HL7-ADT-UDI-OBX.pcap", "OBX-18"), ("HL7-ADT-UDI-PRT.pcap", "PRT-16")] {
            let messages = try Self.observe(Self.sharedPcaps + "/medical/\(file)").compactMap(\.hl7Message)
            let adt = try #require(messages.first { $0.messageType == "ADT^A01" }, "\(file)")
            #expect(adt.sendingApplication == "SENDING_APPLICATION" && adt.sendingFacility == "SENDING_FACILITY")
            #expect(adt.receivingApplication == "RECEIVING_APPLICATION" && adt.receivingFacility == "RECEIVING_FACILITY")
            #expect(adt.processingId == "P" && adt.version == "2.3")
            #expect(adt.deviceIdentifiers == [.init(field: field, value: "Hospira Plum A+")], "\(file)")
            #expect(messages.contains { $0.messageType == "ACK" })
        }
        let oru = try Self.observe(Self.sharedPcaps + "/medical/HL7-ORU.pcap").compactMap(\.hl7Message)
        #expect(oru.contains { $0.messageType == "ORU^R01" && $0.sendingApplication == "SendingApp" })
    }

    @Test("no patient data from any medical capture reaches an observation or a log", .enabled(if: hasShared, "needs ../shared/pcaps"))
    func privacy() async throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.sharedPcaps + "/medical").filter { $0.hasSuffix(".pcap") }
        #expect(files.count == 9)
        // Patient names and identifiers in those captures (PID-3, PID-2), and observation values.
        let phi = ["MOUSE", "MICKEY", "MINNIE", "135769", "12345^^^MIE", "999999999"]
        var allText = ""
        for file in files {
            let path = Self.sharedPcaps + "/medical/" + file
            // Check the bytes really hold patient data, so the test can fail.
            let raw = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
            if file.hasPrefix("HL7") { #expect(raw.contains("MOUSE"), "\(file) should contain the fake patient") }
            for observation in try Self.observe(path) {
                allText += String(decoding: try WardwatchJSON.encode(observation), as: UTF8.self) + "\n"
            }
        }
        #expect(allText.contains("Hospira Plum A+"))
        for marker in phi { #expect(!allText.uppercased().contains(marker), "\(marker) leaked into an observation") }
    }

    @Test("TCP SYN signatures in p0f form and timestamp samples", .enabled(if: hasShared, "needs ../shared/pcaps"))
    func tcpSignatures() throws {
        let observations = try Self.observe(Self.sharedPcaps + "/medical/HL7-ADT.pcap")
        let syns = observations.compactMap(\.tcpSyn)
        #expect(syns.map(\.role).sorted() == ["client", "server"])
        for syn in syns {
            #expect(syn.signature.split(separator: ":", omittingEmptySubsequences: false).count == 8)
        }
        let flows = observations.compactMap(\.flow)
        #expect(flows.count == 1)
        #expect(flows.first?.applicationProtocols == ["hl7"])
        #expect(flows.first?.connection.remotePort == 6661)
    }
}

@Suite("p0f v3 signatures against p0f itself")
struct P0fSignatureTests {
    @Test("every first SYN and SYN+ACK signature equals p0f's raw_sig")
    func againstP0f() throws {
        let text = try String(contentsOfFile: Fixtures.path("Tests/Fixtures/p0f/p0f-raw-sigs.tsv"), encoding: .utf8)
        var byFile: [String: [(client: String, server: String, kind: String, sig: String)]] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 5 else { continue }
            byFile[f[0], default: []].append((f[1], f[2], f[3], f[4]))
        }
        var compared = 0
        for (file, rows) in byFile.sorted(by: { $0.key < $1.key }) {
            let path = file == "p0f-crafted.pcap"
                ? Fixtures.path("Tests/Fixtures/p0f/p0f-crafted.pcap") : ApplicationDecoderTests.sharedPcaps + "/" + file
            guard FileManager.default.fileExists(atPath: path) else { continue }
            var mine: [String: String] = [:]
            for syn in try ApplicationDecoderTests.observe(path).compactMap(\.tcpSyn) {
                let c = syn.connection
                let key = syn.role == "client"
                    ? "\(c.localIp)/\(c.localPort) \(c.remoteIp)/\(c.remotePort) syn"
                    : "\(c.remoteIp)/\(c.remotePort) \(c.localIp)/\(c.localPort) syn+ack"
                if mine[key] == nil { mine[key] = syn.signature }
            }
            for row in rows {
                #expect(mine["\(row.client) \(row.server) \(row.kind)"] == row.sig, "\(file) \(row.client) \(row.kind)")
                compared += 1
            }
        }
        #expect(compared >= 1000)
    }
}
