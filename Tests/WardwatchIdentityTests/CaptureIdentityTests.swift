import Foundation
import Testing
import WardwatchIdentity
import WardwatchModel

/// Identity over real and synthetic captures, through the capture pipeline (ObservationExtractor).
@Suite struct CaptureIdentityTests {
    /// IoT Sentinel device labels: the brand a correct answer names (any of), and the plausible classes.
    static let expected: [String: (vendors: [String], classes: Set<DeviceClass>)] = [
        "Aria": (["Fitbit"], [.iot, .wearableMonitor]),
        "D-LinkCam": (["D-Link"], [.iot, .camera]),
        "D-LinkSensor": (["D-Link"], [.iot]),
        "D-LinkSwitch": (["D-Link"], [.iot, .networkEquipment]),
        "EdimaxCam1": (["Edimax"], [.iot, .camera]),
        "EdimaxPlug1101W": (["Edimax"], [.iot]),
        "EdnetCam1": (["ASSMANN", "ednet"], [.iot, .camera]),
        "HomeMaticPlug": (["eQ-3"], [.iot]),
        "HueBridge": (["Philips"], [.iot]),
        "Lightify": (["Osram"], [.iot]),
        "SmarterCoffee": (["Smarter"], [.iot]),
        "TP-LinkPlugHS100": (["TP-Link"], [.iot]),
        "WeMoInsightSwitch": (["Belkin"], [.iot]),
        "WeMoSwitch": (["Belkin"], [.iot]),
        "Withings": (["Withings"], [.iot, .wearableMonitor]),
    ]

    @Test(.enabled(if: Fixtures.shared != nil && Fixtures.hasIEEE)) func iotSentinelVendorsAndClasses() throws {
        let root = Fixtures.shared! + "/iot-setup"
        let labels = try String(contentsOfFile: root + "/labels.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",").map(String.init) }
        var right = 0
        var report: [String] = []
        for label in labels where label.count == 2 {
            let (type, mac) = (label[0], label[1])
            let dir = root + "/" + type
            let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted().map { dir + "/" + $0 }
            let fold = Fold(try Fixtures.observations(files))
            let state = try #require(fold.states[mac], "\(type): no observation of \(mac)")
            let c = try #require(state.classification)
            let want = try #require(Self.expected[type])
            let vendorRight = want.vendors.contains { c.vendor?.lowercased().contains($0.lowercased()) ?? false }
            if vendorRight { right += 1 }
            let findings = fold.findings(mac).map(\.finding_info.analytic.uid)
            report.append("\(type): \(c.vendor ?? "-") / \(c.deviceClass.rawValue) (\(c.confidence))\(vendorRight ? "" : " VENDOR WRONG") findings: \(findings)")
            #expect(want.classes.contains(c.deviceClass), "\(type): class \(c.deviceClass)")
            // Ordinary setup traffic raises no identity finding (the WeMo forwards its setup phone's SYNs: hop 1).
            #expect(findings.isEmpty, "\(type): \(findings)")
        }
        print(report.joined(separator: "\n"))
        #expect(labels.count == 15)
        #expect(Double(right) / Double(labels.count) >= 0.9, "vendor right for \(right) of \(labels.count)")
    }

    /// The IPv6 fixture (Tests/Fixtures/ipv6, scapy generator): a pump that names itself only in its DHCPv6 client
    /// FQDN, and a router that announces itself only by router advertisements.
    @Test(.enabled(if: Fixtures.hasIEEE)) func dhcpv6AndNeighbourDiscoveryAsEvidence() throws {
        let fold = Fold(try Fixtures.observations([Fixtures.path("Tests/Fixtures/ipv6/ipv6-dhcpv6-ndp.pcap")]))
        let pump = try #require(fold.states["00:1b:21:0a:0b:0c"])
        #expect(pump.evidence.contains { $0.signal == "hostname" && $0.value == "pump-17" && $0.deviceClass == .infusionPump })
        #expect(pump.classification?.deviceClass == .infusionPump)
        #expect(pump.fingerprints["dhcpv6"] != nil)
        let router = try #require(fold.states["00:00:5e:00:53:01"])
        #expect(router.evidence.contains { $0.signal == "ndp" && $0.deviceClass == .networkEquipment })
        #expect(router.classification?.deviceClass == .networkEquipment)
        // A host's own neighbour solicitations and advertisements say nothing of its class.
        #expect(!pump.evidence.contains { $0.signal == "ndp" })
    }

    @Test(.enabled(if: Fixtures.shared != nil && Fixtures.hasIEEE)) func hospiraPlumFromHL7() throws {
        let dir = Fixtures.shared! + "/medical"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("HL7") }.sorted().map { dir + "/" + $0 }
        let fold = Fold(try Fixtures.observations(files))
        let pump = try #require(fold.states["00:03:b1:b5:b6:48"]?.classification)
        #expect(pump.deviceClass == .infusionPump)
        #expect(pump.model == "Plum A+")
        #expect(pump.vendor == "Hospira")
        #expect(pump.confidence >= 80)
        let record = fold.states["00:03:b1:b5:b6:48"]!.inventoryRecord()
        #expect(record.class_uid == 5001 && record.device.model == "Plum A+")
        #expect(record.evidences.contains { $0.signal == "hl7_device" })
    }

    @Test func clonedMACDetected() throws {
        let fold = Fold(try Fixtures.observations([Fixtures.identity("clone.pcap")]))
        let findings = fold.findings("00:03:b1:00:00:99")
        let conflicts = findings.filter { $0.finding_info.analytic.uid == "wardwatch.identity.identity-conflict" }
        let signals = Set(conflicts.flatMap { $0.evidences ?? [] }.compactMap { $0.data["signal"] })
        #expect(signals.contains("tcp_stack"))
        #expect(signals.contains("clock_skew"))
        for f in conflicts {
            #expect(f.class_uid == 2004 && f.severity_id == 4)
            #expect(f.finding_info.uid.count == 36)
        }
    }

    @Test func stableHourTwoUnitsNoAlertNoFlapping() throws {
        let observations = try Fixtures.observations([Fixtures.identity("stable-hour.pcap")])
        let fold = Fold(observations)
        for key in ["00:03:b1:00:01:01", "00:03:b1:00:01:02"] {
            #expect(fold.findings(key).isEmpty, "\(key): \(fold.findings(key).map(\.finding_info.title))")
            let changes = fold.classChanges(key)
            let classes = changes.map(\.after.deviceClass)
            // The class only settles (at most one refinement), never returns to an earlier one.
            var seen: [DeviceClass] = []
            for c in classes where seen.last != c {
                #expect(!seen.contains(c), "\(key) flapped: \(classes)")
                seen.append(c)
            }
            #expect(seen.count <= 2, "\(key): \(seen)")
            let c = try #require(fold.states[key]?.classification)
            #expect(c.deviceClass == .infusionPump && c.model == "Plum A+")
        }
        // Two units of one model: two devices, one class.
        #expect(fold.states["00:03:b1:00:01:01"]?.classification?.deviceClass == fold.states["00:03:b1:00:01:02"]?.classification?.deviceClass)
    }

    @Test func replayIsDeterministic() throws {
        let observations = try Fixtures.observations([Fixtures.identity("clone.pcap")])
        let a = Fold(observations)
        let b = Fold(observations)
        #expect(a.events == b.events)
        #expect(a.states == b.states)
    }

    @Test(.enabled(if: Fixtures.shared != nil)) func stateStaysSmall() throws {
        var paths = [Fixtures.identity("stable-hour.pcap"), Fixtures.identity("clone.pcap")]
        let root = Fixtures.shared! + "/iot-setup"
        for d in ["Lightify", "HueBridge", "Aria"] {
            paths += try FileManager.default.contentsOfDirectory(atPath: root + "/" + d).sorted().map { root + "/" + d + "/" + $0 }
        }
        let observations = try Fixtures.observations(paths)
        let result = try IdentityBenchmark.run(observations, engine: Fixtures.engine, rounds: 1)
        print(result)
        #expect(result.maxStateBytes <= 4096)
        let fold = Fold(observations)
        for state in fold.states.values {
            let bytes = try WardwatchJSON.encode(state)
            #expect(try WardwatchJSON.decode(DeviceIdentityState.self, from: bytes) == state)
        }
    }
}
