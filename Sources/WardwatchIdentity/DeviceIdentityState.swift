import Foundation
import WardwatchModel

/// The identity state of one device: a compact Codable value (a few KB encoded) for a per-device state store backed by
/// a compacted changelog. Pure: the same observations in the same order give the same state and events.
public struct DeviceIdentityState: Codable, Sendable, Equatable {
    public static let maxEvidence = 24
    public static let maxAddresses = 4

    public private(set) var deviceKey: String
    public private(set) var site: String
    public private(set) var firstSeen: EventTime
    public private(set) var lastSeen: EventTime
    public private(set) var observations: Int = 0
    public private(set) var ips: [String] = []
    public private(set) var hostnames: [String] = []
    public private(set) var vlans: [Int] = []
    /// One evidence per signal, the latest informative value.
    public private(set) var evidence: [Evidence] = []
    public private(set) var classification: IdentityClassification?
    /// The latest fingerprints: p0f label and raw signature, DHCP fingerprint, JA4.
    public private(set) var fingerprints: [String: String] = [:]
    var stackTrack = AttributeTrack()
    var dhcpTrack = AttributeTrack()
    var skewTrack = AttributeTrack()
    public private(set) var clockSkew = DeviceClockSkew()
    /// Finding kinds raised already (each kind once per value pair).
    var raised: [String] = []

    enum CodingKeys: String, CodingKey {
        case deviceKey = "k", site, firstSeen = "fs", lastSeen = "ls", observations = "n", ips, hostnames = "hn", vlans
        case evidence = "ev", classification = "cl", fingerprints = "fp", stackTrack = "st", dhcpTrack = "dt"
        case skewTrack = "sk", clockSkew = "cs", raised = "r"
    }

    public init(deviceKey: String, site: String, firstSeen: EventTime) {
        self.deviceKey = deviceKey
        self.site = site
        self.firstSeen = firstSeen
        self.lastSeen = firstSeen
    }

    /// The MAC address, where the device is keyed by one.
    public var mac: MACAddress? { MACAddress(deviceKey) }

    /// Folds one observation of this device in and returns the classification changes and findings it caused.
    public mutating func apply(_ o: Observation, engine: IdentityEngine) -> [IdentityEvent] {
        var events: [IdentityEvent] = []
        let t = o.time.microseconds
        let isFirst = observations == 0
        observations += 1
        firstSeen = min(firstSeen, o.time)
        lastSeen = max(lastSeen, o.time)
        if let vlan = o.vlan, !vlans.contains(vlan) { vlans = Array((vlans + [vlan]).sorted().prefix(Self.maxAddresses)) }
        updateAddresses(o)

        var fresh = engine.evidence(for: o)
        if isFirst, let e = engine.macEvidence(deviceKey, time: t) { fresh.append(e) }
        for e in fresh { merge(e) }

        let config = engine.configuration
        var findings = IdentityFindings(state: self, observation: o, engine: engine)
        if isFirst, let mac, mac.isRandomised, let vlan = o.vlan, config.clinicalVLANs.contains(vlan) {
            findings.randomisedMAC(vlan: vlan)
        }
        switch o.kind {
        case .tcpSyn:
            // Only SYNs the device itself sent (hop distance 0): a device that routes or NATs for others (a setup
            // access point, a gateway) forwards SYNs of other stacks under its MAC.
            if let s = o.tcpSyn, s.role == "client", Self.hopDistance(s.signature) == 0 {
                let label = engine.stackLabel(s)?.label.description ?? "unknown"
                let value = Self.stackValue(s.signature)
                fingerprints["tcp_stack"] = label
                fingerprints["tcp_signature"] = value
                let outcome = stackTrack.sight(
                    value, at: t, established: config.establishedSightings, window: config.concurrencyWindow)
                findings.attribute("tcp_stack", outcome)
            }
        case .dhcp:
            // DISCOVER and REQUEST only: some clients ask for other options in INFORM or DECLINE.
            if let d = o.dhcp, d.isFromClient, d.messageType == "discover" || d.messageType == "request",
                d.parameterRequestList != nil || d.vendorClass != nil
            {
                let value = (d.parameterRequestList ?? []).map(String.init).joined(separator: ",") + "|" + (d.vendorClass ?? "")
                fingerprints["dhcp"] = value
                let outcome = dhcpTrack.sight(
                    value, at: t, established: config.establishedSightings, window: config.concurrencyWindow)
                findings.attribute("dhcp_fingerprint", outcome)
            }
        case .tlsClientHello:
            if let h = o.tlsClientHello { fingerprints["ja4"] = h.ja4 }
        case .dhcpv6:
            // The DHCPv6 fingerprint: option request list and vendor enterprise number, as Fingerbank keys it.
            if let d = o.dhcpv6, d.fromClient, d.optionRequestList != nil || d.vendorClass != nil {
                fingerprints["dhcpv6"] = (d.optionRequestList ?? []).map(String.init).joined(separator: ",") + "|"
                    + (d.vendorClass.map { String($0.enterpriseNumber) } ?? "")
            }
        case .tcpTimestamps:
            if let batch = o.tcpTimestamps,
                let s = clockSkew.add(batch, minimumSpan: config.skewMinimumSpan), s.confidenceHalfWidthPPM <= 50
            {
                let value = skewCluster(s, tolerance: config.skewTolerancePPM)
                if let device = clockSkew.estimate(minimumSpan: config.skewMinimumSpan) {
                    fingerprints["clock_skew"] = String(format: "%.1f ppm ±%.1f @ %.0f Hz", device.skewPPM, device.halfWidthPPM, device.nominalHz)
                }
                let outcome = skewTrack.sight(
                    value, at: t, established: config.establishedSightings, window: config.concurrencyWindow)
                findings.attribute("clock_skew", outcome)
            }
        default:
            break
        }
        findings.vendorContradiction()
        for (key, finding) in findings.produced where !raised.contains(key) {
            raised.append(key)
            if raised.count > 16 { raised.removeFirst() }
            events.append(.finding(finding))
        }

        // Only new evidence (or the first observation) can move the classification.
        guard isFirst || !fresh.isEmpty else { return events }
        let next = Classifier.classify(
            evidence, current: classification, override: engine.overrides.override(for: deviceKey),
            margin: config.hysteresisMargin)
        if classification == nil || !classification!.sameIdentity(next) {
            events.append(.classificationChanged(ClassificationChange(deviceKey: deviceKey, time: o.time, before: classification, after: next)))
        }
        classification = next
        return events
    }

    /// The hop distance in a raw signature's TTL field (`64+0` → 0, `128+2` → 2); nil when unknown (`+?`, `-`).
    static func hopDistance(_ signature: String) -> Int? {
        let fields = signature.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count > 1, let plus = fields[1].firstIndex(of: "+") else { return nil }
        return Int(fields[1][fields[1].index(after: plus)...])
    }

    /// The raw p0f signature reduced to the stack, not the path: no IP version, no hop distance (`64+3` → `64`), no
    /// MSS (IPv4 and IPv6, VPNs and VLANs change it), so one host over both IP versions keeps one value.
    static func stackValue(_ signature: String) -> String {
        var fields = signature.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 8 else { return signature }
        fields[0] = "*"
        if let cut = fields[1].firstIndex(where: { $0 == "+" || $0 == "-" }) { fields[1] = String(fields[1][..<cut]) }
        fields[3] = "*"
        return fields.joined(separator: ":")
    }

    /// The track value of a skew: an existing cluster within tolerance, or a new one named by its value.
    func skewCluster(_ s: ClockSkew, tolerance: Double) -> String {
        for v in skewTrack.values {
            if let centre = Double(v.value.split(separator: "@").first ?? ""),
                abs(centre - s.skewPPM) <= max(tolerance, 1.5 * s.confidenceHalfWidthPPM)
            {
                return v.value
            }
        }
        return String(format: "%.1f@%.0f", s.skewPPM, s.nominalHz)
    }

    private mutating func merge(_ e: Evidence) {
        if let i = evidence.firstIndex(where: { $0.signal == e.signal }) {
            evidence[i] = e
        } else {
            evidence.append(e)
            if evidence.count > Self.maxEvidence, let weakest = evidence.indices.min(by: { evidence[$0].weight < evidence[$1].weight }) {
                evidence.remove(at: weakest)
            }
        }
    }

    private mutating func updateAddresses(_ o: Observation) {
        func addIP(_ ip: String) {
            guard ip != "0.0.0.0", !ips.contains(ip) else { return }
            ips.append(ip)
            if ips.count > Self.maxAddresses { ips.removeFirst() }
        }
        switch o.kind {
        case .arp:
            if let a = o.arp, a.senderMac == deviceKey { addIP(a.senderIp) }
        case .dhcp:
            guard let d = o.dhcp else { break }
            if d.isFromClient {
                if let h = d.hostname, !h.isEmpty, !hostnames.contains(h) {
                    hostnames.append(h)
                    if hostnames.count > Self.maxAddresses { hostnames.removeFirst() }
                }
                if let ip = d.clientIp { addIP(ip) }
            } else if d.messageType == "ack", let ip = d.yourIp, d.clientMac == deviceKey {
                addIP(ip)
            }
        default:
            break
        }
    }
}
