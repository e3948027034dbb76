extension DetectionFinding {
    /// An OCSF Evidence Artifacts entry (`evidences`), carrying what the finding rests on as free-form `data`.
    public struct EvidenceArtifact: Codable, Sendable, Equatable {
        public var data: [String: String]
        public init(data: [String: String]) { self.data = data }
    }

    /// A finding about one device, for analytics outside this module. `uidName` must be derived from the input only
    /// (device key, event time, values), so that a replay yields the same `finding_info.uid`.
    public static func deviceFinding(
        uidName: String, analyticUID: String, analyticName: String, title: String, description: String,
        types: [String], severityId: Int, time: EventTime, firstSeen: EventTime, deviceKey: String, mac: String?,
        ip: String?, hostname: String?, site: String, sensorId: String, observationKind: String,
        observationsTopic: String, alertsTopic: String, evidences: [EvidenceArtifact]
    ) -> DetectionFinding {
        let uid = DeterministicUUID.v5(name: uidName)
        // The alert schema's device.ip is IPv4.
        let ip = ip.flatMap { $0.contains(":") ? nil : $0 }
        var observables: [Observable] = []
        if let mac { observables.append(Observable(name: "device.mac", type_id: 3, type: "MAC Address", value: mac)) }
        if let ip { observables.append(.init(name: "device.ip", type_id: 2, type: "IP Address", value: ip)) }
        if let hostname { observables.append(.init(name: "device.hostname", type_id: 1, type: "Hostname", value: hostname)) }
        var finding = DetectionFinding(
            severity_id: severityId, severity: severityName(severityId), time: time.milliseconds,
            message: "\(title): \(deviceKey) at site \(site)",
            finding_info: .init(
                uid: uid, title: title, desc: description, types: types, first_seen_time: firstSeen.milliseconds,
                analytic: .init(uid: analyticUID, name: analyticName), data_sources: [observationsTopic]),
            metadata: .init(uid: uid, log_name: alertsTopic, product: .init()),
            device: .init(uid: deviceKey, mac: mac, ip: ip, hostname: hostname),
            observables: observables,
            unmapped: .init(device_key: deviceKey, site: site, sensor_id: sensorId, observation_kind: observationKind))
        finding.evidences = evidences.isEmpty ? nil : evidences
        return finding
    }
}
