import WardwatchIdentity
import WardwatchModel

/// What the identity processor publishes for one observation.
public enum IdentityOutput: Sendable, Equatable {
    /// An identity finding or a classification change, for the alerts topic.
    case alert(DetectionFinding)
    /// A protocol-native identity the device claimed, for the native-identity repartition topic.
    case nativeClaim(NativeIdentityClaim)
}

/// The identity processor's decision, as a pure function of the stored state and the observation (no Kafka, no
/// clock), shared by the processor and `SyntheticObservations.expectedResults`.
public enum IdentityStep {
    public static func step(
        _ existing: DeviceIdentityState?, _ o: Observation, engine: IdentityEngine
    ) -> (state: DeviceIdentityState, outputs: [IdentityOutput]) {
        var state = existing ?? DeviceIdentityState(deviceKey: o.deviceKey, site: o.site, firstSeen: o.time)
        var outputs: [IdentityOutput] = []
        for event in state.apply(o, engine: engine) {
            switch event {
            case .finding(let finding):
                outputs.append(.alert(finding))
            case .classificationChanged(let change):
                // A device's first classification is in its device record (and "New device observed" announces
                // it); only a change of an established one is an event.
                if change.before != nil {
                    outputs.append(.alert(.classificationChanged(change, state: state, observation: o, engine: engine)))
                }
            }
        }
        for identity in engine.nativeIdentities(of: o) {
            outputs.append(.nativeClaim(NativeIdentityClaim(identity: identity, observation: o)))
        }
        return (state, outputs)
    }
}
