extension DetectionFinding {
    /// The "New device observed" finding for a device's first observation. Its uid is a name-based UUID of the
    /// device key, so a retry or a replay produces the same uid.
    public static func newDevice(
        _ profile: DeviceProfile, firstObservation observation: Observation, observationsTopic: String, alertsTopic: String
    ) -> DetectionFinding {
        let uid = DeterministicUUID.v5(name: "wardwatch:new-device:\(profile.deviceKey)")
        let ip = profile.ips.first
        let hostname = profile.hostnames.first
        var observables: [Observable] = []
        if let mac = profile.mac { observables.append(Observable(name: "device.mac", type_id: 3, type: "MAC Address", value: mac)) }
        if let ip { observables.append(.init(name: "device.ip", type_id: 2, type: "IP Address", value: ip)) }
        if let hostname { observables.append(.init(name: "device.hostname", type_id: 1, type: "Hostname", value: hostname)) }
        let label = hostname.map { "\($0) (\(profile.deviceKey))" } ?? profile.deviceKey
        return DetectionFinding(
            severity_id: 1, severity: severityName(1), time: observation.time.milliseconds,
            message: "New device observed: \(label) at site \(profile.site)",
            finding_info: .init(
                uid: uid, title: "New device observed",
                desc: "First \(observation.kind.rawValue) observation of device \(profile.deviceKey) by sensor \(observation.sensorId).",
                types: ["New Device"], first_seen_time: profile.firstSeen.milliseconds,
                analytic: .init(uid: "wardwatch.new-device", name: "New device observed"),
                data_sources: [observationsTopic]),
            metadata: .init(uid: uid, log_name: alertsTopic, product: .init()),
            device: .init(uid: profile.deviceKey, mac: profile.mac, ip: ip, hostname: hostname),
            observables: observables,
            unmapped: .init(
                device_key: profile.deviceKey, site: profile.site, sensor_id: observation.sensorId,
                observation_kind: observation.kind.rawValue))
    }
}
