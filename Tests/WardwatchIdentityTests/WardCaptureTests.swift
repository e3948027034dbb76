import Foundation
import Testing
import WardwatchIdentity
import WardwatchModel

/// The bundled ward capture (what `wardwatch demo` runs) through the capture pipeline and the identity engine: each
/// device gets a class that fits its ground-truth role, the vendor its MAC registers, and the model its DHCP carries.
@Suite struct WardCaptureTests {
    /// Roles of ward-sample.expected.json and the classes that fit them.
    static let acceptable: [String: Set<DeviceClass>] = [
        "router/DHCP server": [.networkEquipment],
        "infusion pump": [.infusionPump],
        "patient monitor": [.patientMonitor],
        "nurse-station workstation": [.clinicalWorkstation, .workstation],
        "ward printer": [.printer],
        "CT scanner": [.imagingCT],
        "telehealth cart": [.telehealth],
        "wearable remote-monitoring gateway": [.wearableMonitor],
        "IP phone": [.phone],
        "visitor phone (randomised MAC)": [.phone],
    ]

    /// Models the DHCP vendor class carries (option 60).
    static let models: [String: String] = [
        "00:03:b1:5e:21:07": "Plum 360",
        "00:03:b1:5e:21:3c": "Plum 360",
        "00:09:5c:4f:8a:12": "MX450",
        "00:04:f2:a8:33:17": "VVX411",
    ]

    struct Truth: Decodable {
        struct Device: Decodable {
            var mac: String
            var role: String
            var hostname: String?
            var oui_organisation: String?
        }
        var devices: [Device]
    }

    @Test(.enabled(if: Fixtures.hasIEEE)) func eachWardDeviceGetsAPlausibleClass() throws {
        let base = Fixtures.path("Sources/WardwatchApp/Resources/ward-sample")
        let truth = try JSONDecoder().decode(Truth.self, from: Data(contentsOf: URL(fileURLWithPath: base + ".expected.json")))
        let fold = Fold(try Fixtures.observations([base + ".pcap"]))
        #expect(truth.devices.count == 11)
        var report: [String] = []
        for device in truth.devices {
            let state = try #require(fold.states[device.mac], "\(device.role): no observation of \(device.mac)")
            let c = try #require(state.classification, "\(device.role): not classified")
            report.append("\(device.mac) \(device.hostname ?? "-") [\(device.role)]: \(c.deviceClass.rawValue) / \(c.vendor ?? "-") / \(c.model ?? "-") / \(c.os ?? "-") (\(c.confidence))")
            let fits = try #require(Self.acceptable[device.role], "no acceptable classes for role \(device.role)")
            #expect(fits.contains(c.deviceClass), "\(device.mac) \(device.role): class \(c.deviceClass.rawValue)")
            // The vendor the MAC registry names (the knowledge base may spell the maker its own way).
            if let org = device.oui_organisation, let maker = org.split(separator: " ").first {
                let vendor = try #require(c.vendor, "\(device.mac): no vendor, registry says \(org)")
                #expect(vendor.lowercased().contains(maker.lowercased().trimmingCharacters(in: .punctuationCharacters)),
                    "\(device.mac): vendor \(vendor), registry says \(org)")
            }
            if let model = Self.models[device.mac] {
                #expect(c.model == model, "\(device.mac) \(device.role): model \(c.model ?? "nil")")
            }
            // Ordinary ward traffic: the class settles once (at most one refinement), no identity finding beyond the
            // visitor's randomised MAC.
            let classes = fold.classChanges(device.mac).map(\.after.deviceClass)
            var seen: [DeviceClass] = []
            for k in classes where seen.last != k { seen.append(k) }
            #expect(seen.count <= 2, "\(device.mac): \(seen)")
            let findings = fold.findings(device.mac).map(\.finding_info.analytic.uid)
            #expect(findings.allSatisfy { $0 == "wardwatch.identity.randomised-mac" }, "\(device.mac): \(findings)")
        }
        print(report.joined(separator: "\n"))
    }

    /// Host-name conventions are heuristics: they refine what the protocol evidence allows, never overturn it.
    @Test(.enabled(if: Fixtures.hasIEEE)) func hostNameHeuristicsStayBelowProtocolEvidence() {
        func classify(_ key: String, hostname: String?, vendorClass: String?) -> IdentityClassification? {
            var o = VerificationTests.base(.dhcp, key, at: 0)
            o.dhcp = DHCPObservation(
                op: "request", messageType: "discover", transactionId: 7, clientMac: key, hostname: hostname,
                vendorClass: vendorClass, optionCodes: [12, 60])
            var state = DeviceIdentityState(deviceKey: key, site: "ward4", firstSeen: o.time)
            _ = state.apply(o, engine: Fixtures.engine)
            return state.classification
        }
        // A Windows DHCP client on a Dell NIC named like a CT console stays a workstation.
        #expect(classify("98:e7:43:00:00:01", hostname: "CT-RAD-09", vendorClass: "MSFT 5.0")?.deviceClass == .workstation)
        // A JetDirect named like a telehealth cart stays a printer.
        #expect(classify("04:0e:3c:00:00:01", hostname: "TH-4W-CART9", vendorClass: "Hewlett-Packard JetDirect")?.deviceClass == .printer)
        // Windows behind a medical imaging maker's MAC, no host name: an imaging modality (its console), not a desktop.
        #expect(classify("88:4b:39:00:00:01", hostname: nil, vendorClass: "MSFT 5.0")?.deviceClass == .imagingModality)
        // The same with the CT- convention: a CT scanner.
        #expect(classify("88:4b:39:00:00:01", hostname: "CT-RAD-09", vendorClass: "MSFT 5.0")?.deviceClass == .imagingCT)
        // A bare host name on an unremarkable NIC is all there is: the heuristic decides.
        #expect(classify("ac:ed:5c:00:00:01", hostname: "TH-4W-CART9", vendorClass: nil)?.deviceClass == .telehealth)
    }

    @Test func globRules() throws {
        let kb = try KnowledgeBase.parse(manufacturers: "manufacturers: []", rules: """
            rules:
              - {id: g, signal: hostname, match: ["TH-*CART*", "a?c"], mode: glob, weight: 10, source: test}
              - {id: m, signal: dhcp_vendor_class, match: ["Polycom-"], weight: 10, source: test}
            """)
        let (rule, model) = (kb.rules[0], kb.rules[1])
        #expect(rule.matched("th-4w-cart1") == "TH-*CART*")
        #expect(rule.matched("TH-CART") == "TH-*CART*")
        #expect(rule.matched("abc") == "a?c")
        #expect(rule.matched("XTH-4W-CART1") == nil)
        #expect(rule.matched("TH-4W-CAR") == nil)
        #expect(rule.matched("abcd") == nil)
        #expect(model.model(after: "Polycom-", in: "Polycom-VVX411") == "VVX411")
        #expect(model.model(after: "IntelliVue-", in: "Philips-IntelliVue-MX450 x") == "MX450")
        #expect(model.model(after: "Polycom-", in: "Polycom-") == nil)
    }
}
