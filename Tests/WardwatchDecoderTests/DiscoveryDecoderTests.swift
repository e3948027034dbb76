import Foundation
import Testing
import WardwatchCapture
import WardwatchModel

/// LLDP, CDP, mDNS, SSDP, HTTP and WS-Discovery through the capture path, with values tshark shows for the same
/// frames (see the decoders' verification notes in docs/capture.md).
@Suite("Discovery and service decoders on real captures", .enabled(if: ApplicationDecoderTests.hasShared, "needs ../shared/pcaps"))
struct DiscoveryDecoderTests {
    static let shared = ApplicationDecoderTests.sharedPcaps

    @Test("LLDP system name and description, LLDP-MED civic location")
    func lldp() throws {
        let detailed = try ApplicationDecoderTests.observe(Self.shared + "/discovery/lldp.detailed.pcap").compactMap(\.lldp)
        #expect(detailed.contains { $0.systemName == "Summit300-48" && ($0.systemDescription ?? "").contains("Summit300-48") })
        let civic = try ApplicationDecoderTests.observe(Self.shared + "/discovery/lldpmed_civicloc.pcap").compactMap(\.lldp)
        let location = try #require(civic.first?.civicLocation)
        #expect(location.contains(KeyValue("country", "US")))
        #expect(location.contains(KeyValue("A1", "CA")))
        #expect(location.contains(KeyValue("A3", "Roseville")))
        let procurve = try ApplicationDecoderTests.observe(Self.shared + "/discovery/procurve.lldp.pcap").compactMap(\.lldp)
        #expect(procurve.contains { ($0.systemName ?? "").hasPrefix("ProCurve Switch") })
    }

    @Test("CDP device id, platform, software version and VLANs")
    func cdp() throws {
        let packets = try ApplicationDecoderTests.observe(Self.shared + "/discovery/cdp_v2.pcap").compactMap(\.cdp)
        let myswitch = try #require(packets.first { $0.chassisId == "myswitch" })
        #expect(myswitch.platform == "cisco WS-C2950-12")
        #expect((myswitch.softwareVersion ?? "").contains("Cisco Internetwork Operating System"))
        #expect(myswitch.nativeVlan == 1)
        #expect(myswitch.capabilities.contains("switch"))
    }

    @Test("mDNS model fields name the device model")
    func mdnsModels() throws {
        let hue = try ApplicationDecoderTests.observe(Self.shared + "/iot-setup/HueBridge/Setup-A-1-STA.pcap").compactMap(\.mdns)
        #expect(hue.contains { $0.modelFields.contains(KeyValue("md", "BSB002")) })
        let camera = try ApplicationDecoderTests.observe(Self.shared + "/iot-setup/D-LinkCam/Setup-A-1-STA.pcap")
        #expect(camera.compactMap(\.mdns).contains { $0.modelFields.contains { $0.value == "DCS-935L" } })
        #expect(camera.compactMap(\.http).contains { $0.direction == "request" && $0.userAgent != nil })
        #expect(camera.compactMap(\.ssdp).contains { $0.server != nil || $0.usn != nil })
    }

    @Test("WS-Discovery as IEEE 11073 SDC sends it (synthetic capture, generator committed)")
    func wsDiscovery() throws {
        struct Expected: Decodable {
            struct Endpoint: Decodable { var address: String?; var types: [String]; var scopes: [String]; var xaddrs: [String] }
            var kind: String
            var endpoints: [Endpoint]
        }
        let expected = try JSONDecoder().decode(
            [Expected].self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("Tests/Fixtures/sdc/sdc-wsdiscovery.expected.json"))))
        let mine = try ApplicationDecoderTests.observe(Fixtures.path("Tests/Fixtures/sdc/sdc-wsdiscovery.pcap")).compactMap(\.wsdiscovery)
        #expect(mine.count == expected.count)
        for (message, truth) in zip(mine, expected) {
            #expect(message.message == truth.kind)
            #expect(message.endpointReference == truth.endpoints.first?.address)
            #expect(message.types == truth.endpoints.first?.types ?? [])
            #expect(message.scopes == truth.endpoints.first?.scopes ?? [])
            #expect(message.xaddrs == truth.endpoints.first?.xaddrs ?? [])
        }
    }
}
