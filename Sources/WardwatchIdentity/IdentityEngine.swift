import WardwatchModel

/// Everything identity processing reads and never changes, loaded once: the IEEE registries, the knowledge base, the
/// TCP stack database, the operator overrides and the configuration. Share it freely: it is an immutable value.
public struct IdentityEngine: Sendable {
    public let registry: OUIRegistry
    public let knowledgeBase: KnowledgeBase
    public let stacks: TCPStackDatabase
    public let overrides: OperatorOverrides
    public let configuration: IdentityConfiguration
    let rulesBySignal: [String: [KnowledgeBase.Rule]]
    let manufacturersByName: [String: KnowledgeBase.Manufacturer]

    public init(
        registry: OUIRegistry, knowledgeBase: KnowledgeBase, stacks: TCPStackDatabase,
        overrides: OperatorOverrides = .init(), configuration: IdentityConfiguration = .init()
    ) {
        self.registry = registry
        self.knowledgeBase = knowledgeBase
        self.stacks = stacks
        self.overrides = overrides
        self.configuration = configuration
        rulesBySignal = Dictionary(grouping: knowledgeBase.rules, by: \.signal)
        manufacturersByName = Dictionary(knowledgeBase.manufacturers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Loads the standard sources: Debian's ieee-data and p0f.fp where installed, the bundled knowledge base and TCP
    /// signature additions, and an optional operator override file (YAML).
    public static func load(
        ieeeDirectory: String = OUIRegistry.debianDirectory, p0fPath: String? = TCPStackDatabase.debianPath,
        overridesPath: String? = nil, configuration: IdentityConfiguration = .init()
    ) throws -> IdentityEngine {
        let registry = try OUIRegistry(directory: ieeeDirectory)
        var stacks = TCPStackDatabase()
        if let own = KnowledgeBase.bundledTCPSignatures() { stacks.load(text: own, source: "wardwatch") }
        if let p0fPath { stacks.loadDebian(path: p0fPath) }
        let overrides = try overridesPath.map(OperatorOverrides.load(path:)) ?? OperatorOverrides()
        return IdentityEngine(
            registry: registry, knowledgeBase: try KnowledgeBase.bundled(), stacks: stacks, overrides: overrides,
            configuration: configuration)
    }

    /// The knowledge-base manufacturer for an IEEE organisation name.
    public func manufacturer(organization: String) -> KnowledgeBase.Manufacturer? {
        let org = organization.lowercased()
        return knowledgeBase.manufacturers.first { m in
            (m.ieeeNames ?? []).contains { org.hasPrefix($0.lowercased()) }
        }
    }

    public func manufacturer(named name: String) -> KnowledgeBase.Manufacturer? { manufacturersByName[name] }

    /// The manufacturer whose DICOM UID root starts `uid`.
    public func manufacturer(dicomUID uid: String) -> KnowledgeBase.Manufacturer? {
        knowledgeBase.manufacturers.first { m in
            (m.dicomUidRoots ?? []).contains { uid == $0 || uid.hasPrefix($0 + ".") }
        }
    }

    /// Evidence from the MAC address: the registry owner and what the knowledge base knows of it.
    public func macEvidence(_ key: String, time: Int64) -> Evidence? {
        guard let mac = MACAddress(key) else { return nil }
        switch registry.lookup(mac) {
        case .assigned(let a):
            guard a.organization != "Private" else { return nil }
            if let m = manufacturer(organization: a.organization) {
                let module = m.moduleMaker ?? false
                return Evidence(
                    signal: "oui", value: a.organization, deviceClass: m.typicalClass,
                    vendor: module ? a.organization : m.name, weight: module ? 15 : 50, rule: "manufacturer:\(m.name)",
                    time: time)
            }
            return Evidence(signal: "oui", value: a.organization, vendor: a.organization, weight: 40, time: time)
        case .locallyAdministered, .multicast, .unknown:
            return nil
        }
    }

    /// Runs the rules of one signal over a value: one evidence combining every rule that matched, or nil.
    public func evaluate(signal: String, value: String, time: Int64) -> Evidence? {
        guard let rules = rulesBySignal[signal], !value.isEmpty else { return nil }
        var evidence: Evidence?
        let lowered = value.lowercased()
        for rule in rules {
            guard let hit = rule.matched(lowercased: lowered) else { continue }
            var e = evidence ?? Evidence(signal: signal, value: value, weight: 0, rule: rule.id, time: time)
            let stronger = rule.weight > e.weight
            func take<T>(_ current: T?, _ candidate: T?) -> T? {
                guard let candidate else { return current }
                return current == nil || stronger ? candidate : current
            }
            // A more specific class wins over its generic parent whatever the weights.
            if let c = rule.deviceClass, let current = e.deviceClass, Classifier.parents(c).contains(current) {
                e.deviceClass = c
            } else if let c = rule.deviceClass, let current = e.deviceClass, Classifier.parents(current).contains(c) {
                // keep the specific one
            } else {
                e.deviceClass = take(e.deviceClass, rule.deviceClass)
            }
            e.vendor = take(e.vendor, rule.vendor)
            let model = (rule.modelAfterMatch ?? false) ? rule.model(after: hit, in: value) ?? rule.model
                : (rule.modelFromMatch ?? false) ? hit : rule.model
            e.model = take(e.model, model)
            e.os = take(e.os, rule.os)
            if stronger {
                e.weight = rule.weight
                e.rule = rule.id
            }
            evidence = e
        }
        return evidence
    }

    /// The p0f label of a SYN or SYN+ACK signature.
    public func stackLabel(_ syn: TCPSynObservation) -> TCPStackDatabase.Result? {
        stacks.match(signature: syn.signature, observedTTL: syn.ttl, observedWindow: syn.window, isResponse: syn.role == "server")
    }
}
