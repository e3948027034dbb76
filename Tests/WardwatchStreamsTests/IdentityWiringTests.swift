import Foundation
import Testing
import WardwatchCapture
import WardwatchIdentity
import WardwatchKafka
import WardwatchModel
import WardwatchProcessing

/// `wardwatch process`'s two topologies on the embedded broker, over observations of real captures (the tapirx HL7
/// captures of a Hospira Plum A+, the cloned-MAC fixture) and two devices claiming one DICOM identity.
@Suite("Identity processors on a broker", .serialized)
struct IdentityWiringTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let medical: String? = ["/work/shared/pcaps/medical", root.appendingPathComponent("../shared/pcaps/medical").path]
        .first { FileManager.default.fileExists(atPath: $0) }
    let topics = TopicNames()
    let partitions: Int32 = 4

    static func observations(_ paths: [String]) throws -> [Observation] {
        var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "test", site: "test-site"))
        return try extractor.observations(ofFiles: paths)
    }

    /// A DICOM association request from `key` as CT_SCANNER_1 with a GE implementation UID.
    static func dicomRequest(_ key: String, at seconds: Int64) -> Observation {
        var o = Observation(
            kind: .dicomAssociation, deviceKey: key, time: EventTime(microseconds: 1_772_438_400_000_000 + seconds * 1_000_000),
            sensorId: "test", site: "test-site", vlan: nil, source: .init(mac: key, ip: "10.30.0.5"))
        o.dicomAssociation = DICOMAssociationObservation(
            connection: ConnectionEndpoints(transport: "tcp", localIp: "10.30.0.5", localPort: 40000, remoteIp: "10.30.0.9", remotePort: 104),
            pdu: "A-ASSOCIATE-RQ", calledAeTitle: "PACS", callingAeTitle: "CT_SCANNER_1",
            applicationContext: "1.2.840.10008.3.1.1.1", abstractSyntaxes: [], implementationClassUid: "1.2.840.113619.6.94",
            implementationVersionName: nil, userIdentityType: nil)
        return o
    }

    @Test(.enabled(if: medical != nil && FileManager.default.fileExists(atPath: OUIRegistry.debianDirectory + "/oui.csv")))
    func pumpCloneAndNativeIdentity() async throws {
        let medical = try #require(Self.medical)
        let hl7 = try FileManager.default.contentsOfDirectory(atPath: medical).filter { $0.hasPrefix("HL7") }.sorted()
            .map { medical + "/" + $0 }
        var observations = try Self.observations(hl7 + [Self.root.appendingPathComponent("Tests/Fixtures/identity/clone.pcap").path])
        observations += [Self.dicomRequest("00:00:aa:00:00:01", at: 0), Self.dicomRequest("00:00:aa:00:00:02", at: 120)]

        let broker = try EmbeddedBroker(logger: StreamsTestKit.logger)
        for topic in topics.all { try broker.createTopic(topic.name, partitions: partitions) }
        for topic in DeviceProcessing.internalTopics(applicationId: "wiring", topics: topics, inputPartitions: partitions) {
            try broker.createTopic(topic.name, partitions: topic.partitions)
        }
        let kafka = KafkaConfiguration(bootstrapServers: broker.bootstrapServers)
        let encoder = WardwatchJSON.makeEncoder()
        let producer = try KafkaProducer(configuration: kafka, logger: StreamsTestKit.logger)
        try await producer.send(
            try observations.map {
                ProducerRecord(
                    topic: topics.observations, key: Array($0.deviceKey.utf8), value: Array(try encoder.encode($0)),
                    timestamp: $0.time.milliseconds)
            })
        await producer.shutdown()

        let service = try DeviceProcessService(
            options: .init(kafka: kafka, engine: StreamsTestKit.engine, applicationId: "wiring", topics: topics, commitInterval: .milliseconds(50)),
            logger: StreamsTestKit.logger)
        let running = Task { try await service.run() }
        let done = await StreamsTestKit.eventually {
            service.processed >= observations.count && service.nativeProcessed >= 2
        }
        await service.shutdown()
        try await running.value
        #expect(done, "processed \(service.processed) of \(observations.count), \(service.nativeProcessed) claims")

        let devices = try StreamsTestKit.lastDevices(try await StreamsTestKit.readAll(kafka, topic: topics.devices, partitions: partitions))
        let pump = try #require(devices["00:03:b1:b5:b6:48"]?.inventory)
        #expect(pump.unmapped.device_class == "infusion_pump")
        #expect(pump.device.vendor_name == "Hospira" && pump.device.model == "Plum A+")
        #expect(pump.class_uid == 5001 && pump.unmapped.medical)
        #expect(devices.values.allSatisfy { $0.inventory?.device.uid == $0.profile.deviceKey })

        let alerts = try await StreamsTestKit.readAll(kafka, topic: topics.alerts, partitions: partitions).values.joined().map {
            (key: String(decoding: $0.key ?? [], as: UTF8.self), finding: try JSONDecoder().decode(DetectionFinding.self, from: Data($0.value ?? [])))
        }
        let analytics = Set(alerts.map { "\($0.key) \($0.finding.finding_info.analytic.uid)" })
        #expect(analytics.contains("00:03:b1:00:00:99 wardwatch.identity.identity-conflict"), "\(analytics.sorted())")
        // The second claim processed raises it; the two devices' records come from different input partitions.
        #expect(
            analytics.contains("00:00:aa:00:00:02 wardwatch.identity.native-identity-conflict")
                || analytics.contains("00:00:aa:00:00:01 wardwatch.identity.native-identity-conflict"), "\(analytics.sorted())")
        #expect(alerts.allSatisfy { $0.key == $0.finding.unmapped.device_key })
        withExtendedLifetime(broker) {}
    }
}
