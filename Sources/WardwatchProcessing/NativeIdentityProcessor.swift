import Foundation
import WardwatchIdentity
import WardwatchKafka
import WardwatchModel
import WardwatchStreams

/// The cross-device check: reads the native-identity repartition topic (keyed by the identity, so every claim of
/// one identity reaches one task), keeps a `NativeIdentityState` per identity (store "native-identities") and
/// forwards a finding when two device keys claim one identity within the window.
public struct NativeIdentityProcessor: StreamProcessor {
    public static let store = "native-identities"
    let engine: IdentityEngine
    private let decoder = WardwatchJSON.makeDecoder()
    private let encoder = WardwatchJSON.makeEncoder()
    private static let headers = [
        KafkaHeader("content-type", "application/json"), KafkaHeader("wardwatch-schema", TopicNames.alertSchemaID),
    ]

    public init(engine: IdentityEngine) { self.engine = engine }

    public mutating func process(_ record: ConsumerRecord, context: ProcessorContext) throws {
        guard let value = record.value else { throw DeadLetterReason("record has no value") }
        let claim: NativeIdentityClaim
        do {
            claim = try decoder.decode(NativeIdentityClaim.self, from: Data(value))
        } catch {
            throw DeadLetterReason("not a native-identity claim: \(DeviceProfileProcessor.describe(error))")
        }
        let store = context.store(Self.store, of: NativeIdentityState.self)
        if store.hasApplied(claim.identity) { return }
        var state = store.get(claim.identity) ?? NativeIdentityState(identity: claim.identity)
        let findings = state.apply(claim.observation, engine: engine)
        store.put(claim.identity, state)
        for finding in findings {
            context.forward(
                to: "alerts", key: Array(claim.deviceKey.utf8), value: Array(try encoder.encode(finding)),
                timestamp: claim.time.milliseconds, headers: Self.headers)
        }
    }
}

/// The second topology of `wardwatch process`: native-identity claims in, cross-device findings out.
public enum NativeIdentityProcessing {
    /// The identity processor's output name for claims.
    public static let repartitionOutput = "native-identity-repartition"

    /// `<applicationId>-native-identity-repartition`: written by the first topology, read by the second.
    public static func repartitionTopic(applicationId: String) -> String { "\(applicationId)-\(repartitionOutput)" }

    /// The repartition topic's partition count for an input of `inputPartitions`: the same (it is a repartition output
    /// of the device topology, so its records are partitioned by their key, the identity, whatever the count).
    public static func repartitionPartitions(inputPartitions: Int32) -> Int32 { inputPartitions }

    /// The topology a replay runs after the device topology, over the claims it replayed (suffixed names).
    public static func replayTopology(
        applicationId: String, topics: TopicNames, engine: IdentityEngine, outputSuffix: String, replayName: String
    ) -> Topology {
        var replay = topology(applicationId: applicationId, topics: topics, engine: engine)
            .renamed(applicationId: "\(applicationId)-native-replay-\(replayName)", outputSuffix: outputSuffix)
        replay.sourceTopics = replay.sourceTopics.map { $0 + outputSuffix }
        return replay
    }

    public static func topology(applicationId: String, topics: TopicNames, engine: IdentityEngine) -> Topology {
        Topology(
            applicationId: "\(applicationId)-native", sourceTopics: [repartitionTopic(applicationId: applicationId)],
            stores: [.keyValue(NativeIdentityProcessor.store, of: NativeIdentityState.self)],
            outputs: ["alerts": topics.alerts]
        ) {
            [NativeIdentityProcessor(engine: engine)]
        }
    }
}
