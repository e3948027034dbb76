import WardwatchModel

/// Cross-device state keyed by a protocol-native identity (a DICOM AE title with its implementation class UID, an SDC
/// endpoint UUID), not by device: it sees which device keys claim the identity. Processors keep it in a separate
/// store, fed through a repartition by `IdentityEngine.nativeIdentities(of:)`, and it raises a finding when two device
/// keys claim one identity within the window. Small and Codable like `DeviceIdentityState`.
public struct NativeIdentityState: Codable, Sendable, Equatable {
    public struct Holder: Codable, Sendable, Equatable {
        public var deviceKey: String
        public var first: Int64
        public var last: Int64
    }

    public static let capacity = 4
    public private(set) var identity: String
    public private(set) var holders: [Holder] = []
    var raised: [String] = []

    public init(identity: String) { self.identity = identity }

    /// Records that `observation`'s device claimed the identity; returns a finding when another device key claimed it
    /// within the window.
    public mutating func apply(_ observation: Observation, engine: IdentityEngine) -> [DetectionFinding] {
        let key = observation.deviceKey
        let t = observation.time.microseconds
        let window = engine.configuration.nativeIdentityWindow
        let others = holders.filter { $0.deviceKey != key && t - $0.last <= window }
        if let i = holders.firstIndex(where: { $0.deviceKey == key }) {
            holders[i].last = max(holders[i].last, t)
        } else {
            holders.append(Holder(deviceKey: key, first: t, last: t))
            if holders.count > Self.capacity, let oldest = holders.indices.min(by: { holders[$0].last < holders[$1].last }) {
                holders.remove(at: oldest)
            }
        }
        guard let other = others.first else { return [] }
        let pair = [other.deviceKey, key].sorted().joined(separator: "|")
        guard !raised.contains(pair) else { return [] }
        raised.append(pair)
        if raised.count > 8 { raised.removeFirst() }
        let finding = DetectionFinding.deviceFinding(
            uidName: "wardwatch:identity:native-conflict:\(identity):\(pair):\(t)",
            analyticUID: "wardwatch.identity.native-identity-conflict",
            analyticName: "One protocol-native identity behind two devices",
            title: "One protocol-native identity behind two devices",
            description: "\(identity) is claimed by \(other.deviceKey) and \(key) within \(window / 60_000_000) minutes: a clone or an impersonation of a medical device.",
            types: ["Identity", "Clone"], severityId: 4, time: observation.time,
            firstSeen: EventTime(microseconds: holders.map(\.first).min() ?? t), deviceKey: key,
            mac: MACAddress(key)?.description, ip: observation.source.ip, hostname: nil, site: observation.site,
            sensorId: observation.sensorId, observationKind: observation.kind.rawValue,
            observationsTopic: engine.configuration.observationsTopic, alertsTopic: engine.configuration.alertsTopic,
            evidences: [.init(data: ["native_identity": identity, "device_key_1": other.deviceKey, "device_key_2": key])])
        return [finding]
    }
}

extension IdentityEngine {
    /// The protocol-native identities an observation claims for its device: `dicom:<calling AE>|<implementation class
    /// UID>` for an association request, `sdc:<endpoint reference>` for a WS-Discovery message with an endpoint.
    public func nativeIdentities(of o: Observation) -> [String] {
        var ids: [String] = []
        if let d = o.dicomAssociation, d.pdu == "A-ASSOCIATE-RQ", let ae = d.callingAeTitle, let uid = d.implementationClassUid {
            ids.append("dicom:\(ae)|\(uid)")
        }
        if let w = o.wsdiscovery, let epr = w.endpointReference, ["Hello", "ProbeMatches", "ResolveMatches", "Bye"].contains(w.message) {
            ids.append("sdc:\(epr)")
        }
        return ids
    }
}
