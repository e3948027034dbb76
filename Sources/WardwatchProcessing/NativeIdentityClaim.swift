import WardwatchModel

/// A record of the native-identity repartition topic (internal, keyed by the identity): one device key claimed a
/// protocol-native identity (`dicom:<AE>|<UID>`, `sdc:<endpoint>`) at an event time. Only what
/// `NativeIdentityState` and its findings need.
public struct NativeIdentityClaim: Codable, Sendable, Equatable {
    public var identity: String
    public var deviceKey: String
    public var time: EventTime
    public var site: String
    public var sensorId: String
    public var kind: Observation.Kind
    public var ip: String?

    public init(identity: String, observation o: Observation) {
        self.identity = identity
        deviceKey = o.deviceKey
        time = o.time
        site = o.site
        sensorId = o.sensorId
        kind = o.kind
        ip = o.source.ip
    }

    /// The claim as the (payload-less) observation `NativeIdentityState.apply` reads.
    var observation: Observation {
        Observation(
            kind: kind, deviceKey: deviceKey, time: time, sensorId: sensorId, site: site, vlan: nil,
            source: .init(mac: deviceKey.count == 17 ? deviceKey : nil, ip: ip))
    }
}
