import WardwatchModel

/// Builds the identity verification findings of one observation. Each finding's uid is a name-based UUID of the
/// device key, the finding kind, the values involved and the observation's event time: a replay gives the same uid.
struct IdentityFindings {
    let state: DeviceIdentityState
    let observation: Observation
    let engine: IdentityEngine
    /// (dedup key, finding).
    private(set) var produced: [(String, DetectionFinding)] = []

    init(state: DeviceIdentityState, observation: Observation, engine: IdentityEngine) {
        self.state = state
        self.observation = observation
        self.engine = engine
    }

    mutating func add(
        key: String, analytic: String, title: String, description: String, types: [String], severity: Int,
        evidence: [[String: String]]
    ) {
        let o = observation
        let finding = DetectionFinding.deviceFinding(
            uidName: "wardwatch:identity:\(key):\(state.deviceKey):\(o.time.microseconds)", analyticUID: "wardwatch.identity.\(analytic)",
            analyticName: title, title: title, description: description, types: types, severityId: severity,
            time: o.time, firstSeen: state.firstSeen, deviceKey: state.deviceKey, mac: state.mac?.description,
            ip: state.ips.last ?? o.source.ip, hostname: state.hostnames.last, site: state.site, sensorId: o.sensorId,
            observationKind: o.kind.rawValue, observationsTopic: engine.configuration.observationsTopic,
            alertsTopic: engine.configuration.alertsTopic,
            evidences: evidence.map { .init(data: $0) })
        produced.append((key, finding))
    }

    mutating func randomisedMAC(vlan: Int) {
        add(
            key: "randomised-mac:\(vlan)", analytic: "randomised-mac", title: "Randomised MAC address in a clinical segment",
            description: "Device \(state.deviceKey) uses a locally administered (randomised) MAC address in clinical VLAN \(vlan); its identity cannot be tied to a registered maker.",
            types: ["Identity", "Randomised MAC"], severity: 3,
            evidence: [["signal": "mac", "value": state.deviceKey, "locally_administered": "true", "vlan": String(vlan)]])
    }

    mutating func attribute(_ signal: String, _ outcome: AttributeTrack.Outcome) {
        switch outcome {
        case .consistent, .first:
            return
        case .changed(let from, let to):
            add(
                key: "changed:\(signal):\(from)>\(to)", analytic: "identity-changed", title: "Device identity changed",
                description: "The \(signal) of device \(state.deviceKey) changed from \(from) to \(to): the device was replaced, re-imaged or is being impersonated.",
                types: ["Identity", "Device Changed"], severity: 3,
                evidence: [["signal": signal, "before": from, "after": to]])
        case .conflicting(let a, let b):
            let pair = [a, b].sorted()
            add(
                key: "clone:\(signal):\(pair[0])|\(pair[1])", analytic: "identity-conflict",
                title: "Two identities behind one device key",
                description: "Device \(state.deviceKey) shows two \(signal) values alternating within \(engine.configuration.concurrencyWindow / 60_000_000) minutes (\(pair[0]) and \(pair[1])): two devices share its address (a clone or spoof).",
                types: ["Identity", "Clone"], severity: 4,
                evidence: [["signal": signal, "value_1": pair[0], "value_2": pair[1]]])
        }
    }

    /// A maker of embedded-only medical devices behind the MAC, yet a desktop OS stack and a desktop browser.
    mutating func vendorContradiction() {
        guard let oui = state.evidence.first(where: { $0.signal == "oui" }), let rule = oui.rule,
            rule.hasPrefix("manufacturer:"),
            let maker = engine.manufacturer(named: String(rule.dropFirst("manufacturer:".count))),
            maker.medical, maker.embeddedOnly ?? false,
            let stack = state.evidence.first(where: { $0.signal == "tcp_stack" }),
            let os = stack.os, os.contains("Windows") || os.contains("Apple") || os.contains("Mac"),
            let ua = state.evidence.first(where: { $0.signal == "user_agent" }), ua.deviceClass == .workstation
        else { return }
        add(
            key: "vendor-contradiction", analytic: "vendor-contradiction",
            title: "Medical vendor MAC with a desktop stack and browser",
            description: "Device \(state.deviceKey) has a MAC registered to \(oui.value) (\(maker.name), embedded medical devices only) but speaks a \(os) TCP stack with a desktop browser: a spoofed MAC or an unexpected host.",
            types: ["Identity", "Vendor Contradiction"], severity: 4,
            evidence: [
                ["signal": "oui", "value": oui.value, "manufacturer": maker.name],
                ["signal": "tcp_stack", "value": stack.value],
                ["signal": "user_agent", "value": ua.value],
            ])
    }
}
