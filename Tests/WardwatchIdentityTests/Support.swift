import Foundation
import Testing
import WardwatchCapture
import WardwatchIdentity
import WardwatchModel

enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
    static func identity(_ name: String) -> String { path("Tests/Fixtures/identity/\(name)") }
    /// ../shared/pcaps beside the repository (or the worktree's shared folder).
    static let shared: String? = {
        for candidate in [path("../shared/pcaps"), "/work/shared/pcaps"] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        return nil
    }()
    static let hasIEEE = FileManager.default.fileExists(atPath: OUIRegistry.debianDirectory + "/oui.csv")
    static let hasP0f = FileManager.default.fileExists(atPath: TCPStackDatabase.debianPath)

    /// Observations of capture files, through the real capture pipeline, in one extractor.
    static func observations(_ paths: [String]) throws -> [Observation] {
        var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "test", site: "test-site"))
        return try extractor.observations(ofFiles: paths)
    }

    static let engine: IdentityEngine = {
        try! IdentityEngine.load(configuration: IdentityConfiguration(clinicalVLANs: [20]))
    }()
}

/// Folds observations into per-device states, collecting events by device.
struct Fold {
    var states: [String: DeviceIdentityState] = [:]
    var events: [String: [IdentityEvent]] = [:]

    init(_ observations: [Observation], engine: IdentityEngine = Fixtures.engine) {
        for o in observations {
            let e = states[o.deviceKey, default: DeviceIdentityState(deviceKey: o.deviceKey, site: o.site, firstSeen: o.time)]
                .apply(o, engine: engine)
            events[o.deviceKey, default: []] += e
        }
    }

    func findings(_ key: String) -> [DetectionFinding] {
        (events[key] ?? []).compactMap { if case .finding(let f) = $0 { f } else { nil } }
    }

    func classChanges(_ key: String) -> [ClassificationChange] {
        (events[key] ?? []).compactMap { if case .classificationChanged(let c) = $0 { c } else { nil } }
    }
}
