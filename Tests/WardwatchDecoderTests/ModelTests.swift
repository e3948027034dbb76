import Foundation
import Testing
import WardwatchModel

@Suite("Record model")
struct ModelTests {
    @Test("event time prints and parses RFC 3339 with microseconds")
    func eventTime() {
        let t = EventTime(seconds: 1_772_438_412, microseconds: 137)
        #expect(t.description == "2026-03-02T08:00:12.000137Z")
        #expect(EventTime(rfc3339: t.description) == t)
        #expect(EventTime(rfc3339: "2026-03-02T09:00:12.000137+01:00") == t)
        #expect(EventTime(rfc3339: "1970-01-01T00:00:00Z")?.microseconds == 0)
        #expect(EventTime(microseconds: -1).description == "1969-12-31T23:59:59.999999Z")
        #expect(EventTime(rfc3339: "2026-13-02T08:00:12Z") == nil)
        #expect(EventTime(rfc3339: "yesterday") == nil)
        #expect(t.milliseconds == 1_772_438_412_000)
    }

    @Test("version 5 UUIDs match RFC 4122's construction")
    func uuidV5() {
        // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org")
        let dns = DeterministicUUIDTestAccess.dnsNamespace
        #expect(DeterministicUUID.v5(namespace: dns, name: "python.org") == "886313e1-3b8a-5372-9b90-0c9aee199e5d")
        #expect(DeterministicUUID.v5(name: "a") == DeterministicUUID.v5(name: "a"))
        #expect(DeterministicUUID.v5(name: "a") != DeterministicUUID.v5(name: "b"))
    }

    @Test("observations round-trip through the topic's JSON with snake_case keys")
    func observationJSON() throws {
        let observation = Observation(
            kind: .arp, deviceKey: "00:03:b1:5e:21:07", time: EventTime(microseconds: 1), sensorId: "s", site: "x",
            vlan: 20, source: .init(mac: "00:03:b1:5e:21:07", ip: nil),
            arp: ARPObservation(
                operation: "request", senderMac: "00:03:b1:5e:21:07", senderIp: "10.0.0.1", targetMac: "00:00:00:00:00:00",
                targetIp: "10.0.0.1", gratuitous: true))
        let bytes = try WardwatchJSON.encode(observation)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"device_key\":\"00:03:b1:5e:21:07\""))
        #expect(text.contains("\"sender_mac\""))
        #expect(try WardwatchJSON.decode(Observation.self, from: bytes) == observation)

        // One payload, the one the kind names: a second one is refused (the schema's rule), naming it.
        var json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        json["dhcp"] = ["op": "request", "transaction_id": 1, "client_mac": "00:03:b1:5e:21:07", "option_codes": [53]]
        let twoPayloads = try JSONSerialization.data(withJSONObject: json)
        #expect {
            try WardwatchJSON.decode(Observation.self, from: [UInt8](twoPayloads))
        } throws: { "\($0)".contains("payload dhcp on an observation of kind arp") }
        // Setting another payload replaces it; clearing one that is not there leaves it.
        var changed = observation
        changed.dhcp = nil
        #expect(changed.arp != nil)
        changed.flow = FlowObservation(
            connection: ConnectionEndpoints(transport: "udp", localIp: "10.0.0.1", localPort: 1, remoteIp: "10.0.0.2", remotePort: 2),
            packetsOut: 1, packetsIn: 0, bytesOut: 60, bytesIn: 0, firstTime: EventTime(microseconds: 1),
            lastTime: EventTime(microseconds: 1), tcpFlagsOut: [], tcpFlagsIn: [], applicationProtocols: [], endReason: "idle")
        #expect(changed.arp == nil && changed.flow != nil)
    }
}

enum DeterministicUUIDTestAccess {
    static let dnsNamespace: [UInt8] = [
        0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
    ]
}
