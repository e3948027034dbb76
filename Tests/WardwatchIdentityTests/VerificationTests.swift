import Testing
import WardwatchIdentity
import WardwatchModel

/// Identity verification and classification rules on hand-made observations.
@Suite struct VerificationTests {
    static func base(_ kind: Observation.Kind, _ key: String, at seconds: Int64, vlan: Int? = nil) -> Observation {
        Observation(
            kind: kind, deviceKey: key, time: EventTime(microseconds: 1_772_438_400_000_000 + seconds * 1_000_000),
            sensorId: "s1", site: "ward4", vlan: vlan, source: .init(mac: key, ip: "10.20.4.50"))
    }

    static let endpoints = ConnectionEndpoints(transport: "tcp", localIp: "10.20.4.50", localPort: 50000, remoteIp: "93.184.216.34", remotePort: 80)

    static func syn(_ key: String, at s: Int64, signature: String, ttl: Int) -> Observation {
        var o = base(.tcpSyn, key, at: s)
        o.tcpSyn = TCPSynObservation(role: "client", connection: endpoints, signature: signature, ttl: ttl, window: 0, mss: 1460, windowScale: 8, options: [], quirks: [])
        return o
    }

    static func http(_ key: String, at s: Int64, userAgent: String) -> Observation {
        var o = base(.http, key, at: s)
        o.http = HTTPObservation(connection: endpoints, direction: "request", method: "GET", host: "example.org", path: "/", status: nil, userAgent: userAgent, server: nil)
        return o
    }

    @Test(.enabled(if: Fixtures.hasIEEE && Fixtures.hasP0f)) func medicalVendorSpeakingDesktop() throws {
        let key = "00:12:21:aa:bb:cc"  // B. Braun Melsungen AG
        var state = DeviceIdentityState(deviceKey: key, site: "ward4", firstSeen: Self.base(.arp, key, at: 0).time)
        var events = state.apply(Self.syn(key, at: 1, signature: "4:128+0:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0", ttl: 128), engine: Fixtures.engine)
        events += state.apply(Self.http(key, at: 2, userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"), engine: Fixtures.engine)
        let findings = events.compactMap { if case .finding(let f) = $0 { f } else { nil } }
        #expect(findings.map(\.finding_info.analytic.uid) == ["wardwatch.identity.vendor-contradiction"])
        #expect(findings.first?.evidences?.count == 3)
        // Once only.
        let again = state.apply(Self.http(key, at: 3, userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/121.0"), engine: Fixtures.engine)
        #expect(!again.contains { if case .finding = $0 { true } else { false } })
    }

    @Test func replacedDeviceIsAChangeNotAClone() {
        let key = "00:00:aa:00:00:05"
        let linux = "4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0"
        let windows = "4:128+0:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0"
        var state = DeviceIdentityState(deviceKey: key, site: "ward4", firstSeen: Self.base(.arp, key, at: 0).time)
        var findings: [DetectionFinding] = []
        for (i, sig) in [linux, linux, linux, windows, windows].enumerated() {
            findings += state.apply(Self.syn(key, at: Int64(i) * 600, signature: sig, ttl: sig == linux ? 64 : 128), engine: Fixtures.engine)
                .compactMap { if case .finding(let f) = $0 { f } else { nil } }
        }
        #expect(findings.map(\.finding_info.analytic.uid) == ["wardwatch.identity.identity-changed"])
        let data = findings.first?.evidences?.first?.data
        #expect(data?["before"] == "*:64:0:*:mss*20,7:mss,sok,ts,nop,ws:df,id+:0")
        #expect(data?["after"] == "*:128:0:*:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0")
        // A forwarded SYN (hop distance 1) is not the device's own stack.
        let forwarded = state.apply(Self.syn(key, at: 4000, signature: "4:63+1:0:1460:mss*10,7:mss,sok,ts,nop,ws:df,id+:0", ttl: 63), engine: Fixtures.engine)
        #expect(forwarded.isEmpty)
    }

    @Test func randomisedMACInClinicalVLAN() {
        let key = "da:a1:19:00:11:22"
        var clinical = DeviceIdentityState(deviceKey: key, site: "ward4", firstSeen: Self.base(.arp, key, at: 0).time)
        let events = clinical.apply(Self.base(.arp, key, at: 0, vlan: 20), engine: Fixtures.engine)
        #expect(events.contains { if case .finding(let f) = $0 { f.finding_info.analytic.uid == "wardwatch.identity.randomised-mac" } else { false } })
        var office = DeviceIdentityState(deviceKey: key, site: "ward4", firstSeen: Self.base(.arp, key, at: 0).time)
        #expect(!office.apply(Self.base(.arp, key, at: 0, vlan: 30), engine: Fixtures.engine).contains { if case .finding = $0 { true } else { false } })
    }

    @Test func nativeIdentityBehindTwoMACs() throws {
        func rq(_ key: String, at s: Int64) -> Observation {
            var o = Self.base(.dicomAssociation, key, at: s)
            o.dicomAssociation = DICOMAssociationObservation(
                connection: Self.endpoints, pdu: "A-ASSOCIATE-RQ", calledAeTitle: "PACS", callingAeTitle: "CT_SCANNER_1",
                applicationContext: "1.2.840.10008.3.1.1.1", abstractSyntaxes: ["1.2.840.10008.5.1.4.1.1.2"],
                implementationClassUid: "1.2.840.113619.6.94", implementationVersionName: "GE_CT", userIdentityType: nil)
            return o
        }
        let engine = Fixtures.engine
        let first = rq("00:00:aa:00:00:01", at: 0)
        let ids = engine.nativeIdentities(of: first)
        #expect(ids == ["dicom:CT_SCANNER_1|1.2.840.113619.6.94"])
        var native = NativeIdentityState(identity: ids[0])
        #expect(native.apply(first, engine: engine).isEmpty)
        #expect(native.apply(rq("00:00:aa:00:00:01", at: 60), engine: engine).isEmpty)
        let findings = native.apply(rq("00:00:aa:00:00:02", at: 120), engine: engine)
        #expect(findings.count == 1)
        #expect(findings.first?.finding_info.analytic.uid == "wardwatch.identity.native-identity-conflict")
        #expect(try WardwatchJSON.encode(native).count < 1024)
        // The device itself is classed from the association: a CT scanner by GE.
        var state = DeviceIdentityState(deviceKey: "00:00:aa:00:00:01", site: "ward4", firstSeen: first.time)
        _ = state.apply(first, engine: engine)
        #expect(state.classification?.deviceClass == .imagingCT)
        #expect(state.classification?.vendor == "GE Healthcare")
    }

    @Test func classChangesOnlyOnStrongerEvidence() {
        let key = "00:00:aa:00:00:03"
        var state = DeviceIdentityState(deviceKey: key, site: "ward4", firstSeen: Self.base(.arp, key, at: 0).time)
        var dhcp = Self.base(.dhcp, key, at: 0)
        dhcp.dhcp = DHCPObservation(op: "request", messageType: "request", transactionId: 1, clientMac: key, hostname: "PYXIS-4W-01", optionCodes: [12])
        _ = state.apply(dhcp, engine: Fixtures.engine)
        #expect(state.classification?.deviceClass == .medicationDispensing)
        // A weaker, different hint (a printer-like HTTP server) does not move it.
        var http = Self.base(.http, key, at: 10)
        http.http = HTTPObservation(connection: Self.endpoints, direction: "response", method: nil, host: nil, path: nil, status: 200, userAgent: nil, server: "GoAhead-Webs")
        let events = state.apply(http, engine: Fixtures.engine)
        #expect(state.classification?.deviceClass == .medicationDispensing)
        #expect(events.isEmpty)
        // Strong evidence moves it, with before and after.
        var ws = Self.base(.wsdiscovery, key, at: 20)
        ws.wsdiscovery = WSDiscoveryObservation(message: "Hello", endpointReference: "urn:uuid:6f1e2a40-3c55-4b7e-9d1a-0a1b2c3d4e01", types: ["{http://standards.ieee.org/downloads/11073/11073-20702-2016}MedicalDevice"], scopes: ["sdc.cdc.type:///69650"], xaddrs: [], metadataVersion: 1)
        let moved = state.apply(ws, engine: Fixtures.engine)
        let change = moved.compactMap { if case .classificationChanged(let c) = $0 { c } else { nil } }.first
        #expect(change?.before?.deviceClass == .medicationDispensing)
        #expect(change?.after.deviceClass == .infusionPump)
    }

    @Test func operatorOverrideWins() throws {
        let overrides = try OperatorOverrides.parse(yaml: """
            devices:
              "00:00:AA:00:00:04": {class: patient_monitor, vendor: Draeger, model: Infinity Delta, note: asset 4711}
            """)
        let base = Fixtures.engine
        let engine = IdentityEngine(registry: base.registry, knowledgeBase: base.knowledgeBase, stacks: base.stacks, overrides: overrides, configuration: base.configuration)
        let key = "00:00:aa:00:00:04"
        var state = DeviceIdentityState(deviceKey: key, site: "ward4", firstSeen: Self.base(.arp, key, at: 0).time)
        var dhcp = Self.base(.dhcp, key, at: 0)
        dhcp.dhcp = DHCPObservation(op: "request", messageType: "request", transactionId: 1, clientMac: key, hostname: "PYXIS-4W-02", optionCodes: [12])
        _ = state.apply(dhcp, engine: engine)
        let c = try #require(state.classification)
        #expect(c.deviceClass == .patientMonitor && c.vendor == "Draeger" && c.model == "Infinity Delta")
        #expect(c.confidence == 100 && c.overridden)
    }
}
