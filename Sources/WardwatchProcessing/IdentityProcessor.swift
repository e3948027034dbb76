import Foundation
import WardwatchIdentity
import WardwatchKafka
import WardwatchModel
import WardwatchStreams

/// The identity processor: folds each observation into the device's `DeviceIdentityState` (store "identity"),
/// forwards identity findings and classification changes to the alerts and each protocol-native identity the
/// device claims to the native-identity repartition topic. Runs before `DeviceProfileProcessor`, which publishes
/// the device record with the identity it finds in this store.
public struct IdentityProcessor: StreamProcessor {
    public static let store = "identity"
    let engine: IdentityEngine
    let decoded: DecodedObservation
    private let decoder = WardwatchJSON.makeDecoder()
    private let encoder = WardwatchJSON.makeEncoder()
    private static let json = KafkaHeader("content-type", "application/json")
    private static let alertSchema = KafkaHeader("wardwatch-schema", TopicNames.alertSchemaID)

    public init(engine: IdentityEngine, decoded: DecodedObservation = DecodedObservation()) {
        self.engine = engine
        self.decoded = decoded
    }

    public mutating func process(_ record: ConsumerRecord, context: ProcessorContext) throws {
        let observation = try decoded.observation(of: record, offset: context.recordOffset, decoder: decoder)
        let key = observation.deviceKey
        let store = context.store(Self.store, of: DeviceIdentityState.self)
        // Already applied before a restart (the restored entry holds it): its outputs were acknowledged then.
        if store.hasApplied(key) { return }
        let (state, outputs) = IdentityStep.step(store.get(key), observation, engine: engine)
        store.put(key, state)
        let timestamp = observation.time.milliseconds
        for output in outputs {
            switch output {
            case .alert(let finding):
                context.forward(
                    to: "alerts", key: Array(key.utf8), value: Array(try encoder.encode(finding)), timestamp: timestamp,
                    headers: [Self.json, Self.alertSchema])
            case .nativeClaim(let claim):
                context.forward(
                    to: NativeIdentityProcessing.repartitionOutput, key: Array(claim.identity.utf8),
                    value: Array(try encoder.encode(claim)), timestamp: timestamp, headers: [Self.json])
            }
        }
    }
}

/// The observation of the record in hand, decoded once for all processors of a task (they share one instance).
public final class DecodedObservation {
    private var offset: Int64 = .min
    private var topic = ""
    private var value: Observation?

    public init() {}

    /// The record's observation, or the dead-letter reason (see `DeviceProfileProcessor.decodeObservation`).
    func observation(of record: ConsumerRecord, offset: Int64, decoder: JSONDecoder) throws -> Observation {
        if let value, self.offset == offset, topic == record.topic { return value }
        value = nil
        let observation = try DeviceProfileProcessor.decodeObservation(record, decoder: decoder)
        (self.offset, topic, value) = (offset, record.topic, observation)
        return observation
    }
}
