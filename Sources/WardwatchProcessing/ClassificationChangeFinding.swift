import WardwatchIdentity
import WardwatchModel

extension DetectionFinding {
    /// A device-change event: an Informational OCSF Detection Finding on the alerts topic, its `evidences` holding
    /// the classification before and after. The uid derives from the device key, both classifications and the event
    /// time, so a replay yields the same uid.
    static func classificationChanged(
        _ change: ClassificationChange, state: DeviceIdentityState, observation o: Observation, engine: IdentityEngine
    ) -> DetectionFinding {
        func describe(_ c: IdentityClassification?) -> String {
            guard let c else { return "unclassified" }
            return [c.deviceClass.rawValue, c.vendor, c.model, c.version, c.os].compactMap { $0 }.joined(separator: " / ")
        }
        var data: [String: String] = ["after_class": change.after.deviceClass.rawValue]
        data["after_vendor"] = change.after.vendor
        data["after_model"] = change.after.model
        data["after_version"] = change.after.version
        data["after_os"] = change.after.os
        data["after_confidence"] = String(change.after.confidence)
        if let before = change.before {
            data["before_class"] = before.deviceClass.rawValue
            data["before_vendor"] = before.vendor
            data["before_model"] = before.model
            data["before_version"] = before.version
            data["before_os"] = before.os
            data["before_confidence"] = String(before.confidence)
        }
        let before = describe(change.before)
        let after = describe(change.after)
        return deviceFinding(
            uidName: "wardwatch:identity:classification-changed:\(change.deviceKey):\(before)>\(after):\(change.time.microseconds)",
            analyticUID: "wardwatch.identity.classification-changed", analyticName: "Device classification changed",
            title: "Device classification changed",
            description: "\(change.deviceKey) was classified as \(before) and is now \(after) (confidence \(change.after.confidence)).",
            types: ["Inventory", "Classification Change"], severityId: 1, time: change.time, firstSeen: state.firstSeen,
            deviceKey: change.deviceKey, mac: state.mac?.description, ip: state.ips.last, hostname: state.hostnames.last,
            site: o.site, sensorId: o.sensorId, observationKind: o.kind.rawValue,
            observationsTopic: engine.configuration.observationsTopic, alertsTopic: engine.configuration.alertsTopic,
            evidences: [.init(data: data)])
    }
}
