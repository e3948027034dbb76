/// What a device is taken to be: class, vendor, model, version and OS, with a confidence from 0 to 100.
public struct IdentityClassification: Codable, Sendable, Equatable {
    public var deviceClass: DeviceClass
    public var vendor: String?
    public var model: String?
    public var version: String?
    public var os: String?
    public var confidence: Int
    /// Set by an operator override.
    public var overridden: Bool

    public init(
        deviceClass: DeviceClass, vendor: String? = nil, model: String? = nil, version: String? = nil, os: String? = nil,
        confidence: Int, overridden: Bool = false
    ) {
        self.deviceClass = deviceClass
        self.vendor = vendor
        self.model = model
        self.version = version
        self.os = os
        self.confidence = confidence
        self.overridden = overridden
    }

    enum CodingKeys: String, CodingKey {
        case deviceClass = "c", vendor = "vn", model = "m", version = "ver", os, confidence = "cf", overridden = "ov"
    }

    /// Same identity, whatever the confidence.
    func sameIdentity(_ other: IdentityClassification) -> Bool {
        deviceClass == other.deviceClass && vendor == other.vendor && model == other.model && version == other.version
            && os == other.os && overridden == other.overridden
    }
}

/// Combines evidence into a classification. Each candidate value scores the noisy-OR of the weights that support it
/// (independent signals add up, repeats of one signal do not: the state keeps one evidence per signal). A current class
/// or vendor gives way only to a challenger scoring `margin` more (hysteresis); an override always wins.
enum Classifier {
    static func score<T: Hashable>(_ evidence: [Evidence], _ key: (Evidence) -> [T]) -> [T: Int] {
        var miss: [T: Double] = [:]
        for e in evidence where e.weight > 0 {
            for k in key(e) { miss[k, default: 1] *= 1 - Double(e.weight) / 100 }
        }
        return miss.mapValues { Int(((1 - $0) * 100).rounded()) }
    }

    /// The classes an evidence supports: its own and that class's generic parents (a CT scanner is an imaging
    /// modality is a medical device).
    static func classKeys(_ e: Evidence) -> [DeviceClass] {
        guard let c = e.deviceClass else { return [] }
        return [c] + parents(c)
    }

    static func parents(_ c: DeviceClass) -> [DeviceClass] {
        switch c {
        case .imagingCT, .imagingMR, .imagingXRay, .imagingUS, .imagingNM: [.imagingModality, .medicalDevice]
        case .medicalDevice, .unknown: []
        default: c.isMedical ? [.medicalDevice] : []
        }
    }

    /// Specific evidence below this score yields to a stronger generic class.
    static let minimumSpecific = 15

    static func isGeneric(_ c: DeviceClass) -> Bool { c == .medicalDevice || c == .imagingModality }

    static func best<T: Comparable>(_ scores: [T: Int], prefer: (T) -> Int = { _ in 0 }) -> (T, Int)? {
        scores.max { a, b in
            if a.value != b.value { return a.value < b.value }
            if prefer(a.key) != prefer(b.key) { return prefer(a.key) < prefer(b.key) }
            return a.key > b.key
        }.map { ($0.key, $0.value) }
    }

    static func classify(
        _ evidence: [Evidence], current: IdentityClassification?, override: OperatorOverrides.Override?, margin: Int
    ) -> IdentityClassification {
        var classScores = score(evidence, classKeys)
        let generic = classScores.filter { isGeneric($0.key) }
        // A specific class with evidence of its own also draws on the evidence for its generic parents (a medical
        // maker's MAC and a CT- host name support CT more than either alone); never on a sibling's evidence.
        var specific: [DeviceClass: Int] = [:]
        for c in classScores.keys where !isGeneric(c) {
            let ancestors = parents(c)
            var miss = 1.0
            for e in evidence where e.weight > 0 {
                if let own = e.deviceClass, own == c || ancestors.contains(own) { miss *= 1 - Double(e.weight) / 100 }
            }
            specific[c] = Int(((1 - miss) * 100).rounded())
        }
        classScores.merge(specific) { _, inherited in inherited }
        // The best specific class when some specific evidence exists, else the best generic one. A non-medical
        // specific class (a desktop OS says workstation) must also score at least the best generic medical class:
        // medical consoles run desktop operating systems too.
        var deviceClass = DeviceClass.unknown
        var classScore = 0
        let topGeneric = best(generic, prefer: { parents($0).count })
        if let (top, s) = best(specific), s >= minimumSpecific, top.isMedical || s >= (topGeneric?.1 ?? 0) {
            (deviceClass, classScore) = (top, s)
        } else if let (top, s) = topGeneric {
            (deviceClass, classScore) = (top, s)
        }
        // Hysteresis: the current class stays unless the challenger beats it by the margin, or refines it.
        if let cur = current?.deviceClass, cur != deviceClass, cur != .unknown, !(current?.overridden ?? false) {
            let curScore = classScores[cur] ?? 0
            let refinement = parents(deviceClass).contains(cur)
            if !refinement && classScore < curScore + margin {
                (deviceClass, classScore) = (cur, curScore)
            }
        }
        let runnerUp = specific.filter { $0.key != deviceClass && !parents(deviceClass).contains($0.key) }.values.max() ?? 0

        let vendorScores = score(evidence) { $0.vendor.map { [$0] } ?? [] }
        var vendor = best(vendorScores)?.0
        if let cur = current?.vendor, let v = vendor, cur != v, !(current?.overridden ?? false),
            (vendorScores[v] ?? 0) < (vendorScores[cur] ?? 0) + margin, vendorScores[cur] != nil
        {
            vendor = cur
        }
        let model = best(score(evidence) { $0.model.map { [$0] } ?? [] })?.0
        let version = best(score(evidence) { $0.version.map { [$0] } ?? [] })?.0
        let os = best(score(evidence) { $0.os.map { [$0] } ?? [] })?.0
        var result = IdentityClassification(
            deviceClass: deviceClass, vendor: vendor, model: model, version: version, os: os,
            confidence: max(0, min(100, classScore - runnerUp / 2)))
        if let o = override {
            result.deviceClass = o.deviceClass ?? result.deviceClass
            result.vendor = o.vendor ?? result.vendor
            result.model = o.model ?? result.model
            result.version = o.version ?? result.version
            result.confidence = 100
            result.overridden = true
        }
        return result
    }
}
