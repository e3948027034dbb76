import WardwatchIdentity
import WardwatchKafka
import WardwatchModel

/// A deterministic stream of observations for many devices, for the scaling and replay tests and the processing
/// benchmark: per device, DHCP discovers and requests (a host name that changes once for every seventh device, so
/// profiles are re-published) and ARP announcements, spread over rounds a minute of event time apart.
public struct SyntheticObservations: Sendable {
    public var devices: Int
    public var rounds: Int
    public var startMicroseconds: Int64
    public var topic: String

    public init(devices: Int, rounds: Int = 3, startMicroseconds: Int64 = 1_772_438_400_000_000, topic: String = TopicNames().observations) {
        self.devices = devices
        self.rounds = rounds
        self.startMicroseconds = startMicroseconds
        self.topic = topic
    }

    public var count: Int { devices * rounds }

    public static func mac(_ device: Int) -> String {
        let b = [0x00, 0x1b, 0x54, (device >> 16) & 0xff, (device >> 8) & 0xff, device & 0xff]
        return b.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
    }

    /// The observation number `index` (round-major: every device's first observation, then every second one, ...).
    public func observation(_ index: Int) -> Observation {
        let round = index / devices
        let device = index % devices
        let mac = Self.mac(device)
        let ip = "10.\(20 + device / 65536).\((device / 256) % 256).\(device % 256)"
        let time = EventTime(microseconds: startMicroseconds + Int64(round) * 60_000_000 + Int64(device) * 1_000)
        let source = Observation.Source(mac: mac, ip: round == 0 ? nil : ip)
        if round % 2 == 0 {
            let renamed = device % 7 == 0 && round >= 2
            let dhcp = DHCPObservation(
                op: "request", messageType: round == 0 ? "discover" : "request", transactionId: UInt32(device),
                clientMac: mac, clientIp: round == 0 ? nil : ip, hostname: renamed ? "renamed-\(device)" : "device-\(device)",
                vendorClass: device % 3 == 0 ? "ICUMedical-Plum360" : "MSFT 5.0", parameterRequestList: [1, 3, 6, 15, 28, 42],
                optionCodes: [53, 61, 12, 60, 55])
            return Observation(
                kind: .dhcp, deviceKey: mac, time: time, sensorId: "synthetic", site: "bench", vlan: 20 + device % 4,
                source: source, dhcp: dhcp)
        }
        let arp = ARPObservation(
            operation: "request", senderMac: mac, senderIp: ip, targetMac: "00:00:00:00:00:00", targetIp: ip, gratuitous: true)
        return Observation(
            kind: .arp, deviceKey: mac, time: time, sensorId: "synthetic", site: "bench", vlan: 20 + device % 4,
            source: source, arp: arp)
    }

    /// The records to produce, keyed by device, timestamped with the observation time.
    public func records(_ range: Range<Int>) -> [ProducerRecord] {
        let encoder = WardwatchJSON.makeEncoder()
        return range.map { index in
            let observation = observation(index)
            return ProducerRecord(
                topic: topic, key: Array(observation.deviceKey.utf8), value: (try? encoder.encode(observation)).map { Array($0) } ?? [],
                headers: [KafkaHeader("content-type", "application/json")], timestamp: observation.time.milliseconds)
        }
    }

    /// What a single instance publishes for this stream, computed without Kafka: the last device record per device
    /// and every finding uid, using the processors' own pure step functions in their order (identity, then profile).
    /// Native-identity findings are not included: these observations claim no native identity.
    public func expectedResults(topics: TopicNames, engine: IdentityEngine) -> (devices: [String: DeviceRecord], findingUIDs: Set<String>) {
        let engine = engine.writing(to: topics)
        var identities: [String: DeviceIdentityState] = [:]
        var entries: [String: DeviceProfiler.Entry] = [:]
        var devices: [String: DeviceRecord] = [:]
        var uids: Set<String> = []
        for index in 0..<count {
            let observation = observation(index)
            let key = observation.deviceKey
            let (identity, identityOutputs) = IdentityStep.step(identities[key], observation, engine: engine)
            identities[key] = identity
            for case .alert(let finding) in identityOutputs { uids.insert(finding.finding_info.uid) }
            let (entry, outputs) = DeviceProfiler.step(
                entries[key], observation, inventory: identity.inventoryRecord(), observationsTopic: topics.observations,
                alertsTopic: topics.alerts)
            entries[key] = entry
            for output in outputs {
                switch output {
                case .device(let record): devices[record.profile.deviceKey] = record
                case .alert(let finding): uids.insert(finding.finding_info.uid)
                }
            }
        }
        return (devices, uids)
    }
}
