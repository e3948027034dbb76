import WardwatchIdentity
import WardwatchModel

/// What processing one observation produced.
public enum ProcessorOutput: Sendable, Equatable {
    case device(DeviceRecord)
    case alert(DetectionFinding)
}

/// Decides, per observation, how a device's profile changes and what to publish. A pure function of the stored
/// entry and the observation: the same observations in the same order always give the same outputs, byte for byte
/// (no wall clock, no randomness), so replays reproduce results.
public enum DeviceProfiler {
    /// A profile is re-published when only `last_seen` moved, once this much event time has passed.
    public static let refreshInterval: Int64 = 3_600_000_000

    /// What the profiles store keeps per device.
    public struct Entry: Codable, Sendable, Equatable {
        public var profile: DeviceProfile
        public var publishedLastSeen: EventTime
        /// `InventoryDigest` of the inventory last published (nil: none yet).
        public var publishedInventory: String?
    }

    /// Applies one observation to the device's entry (nil: first sight) and returns the new entry and what to
    /// publish, in order: the new-device finding first, then the device record. `inventory` is the device's identity
    /// after this observation (the identity processor runs first); a change of it re-publishes the record too.
    public static func step(
        _ existing: Entry?, _ observation: Observation, inventory: DeviceInventoryRecord?, observationsTopic: String,
        alertsTopic: String
    ) -> (entry: Entry, outputs: [ProcessorOutput]) {
        var outputs: [ProcessorOutput] = []
        var entry = existing ?? Entry(
            profile: DeviceProfile(deviceKey: observation.deviceKey, site: observation.site, firstSeen: observation.time),
            publishedLastSeen: observation.time)
        let isNew = existing == nil
        let before = entry.profile
        apply(observation, to: &entry.profile)
        if isNew {
            outputs.append(
                .alert(
                    DetectionFinding.newDevice(
                        entry.profile, firstObservation: observation, observationsTopic: observationsTopic,
                        alertsTopic: alertsTopic)))
        }
        let changed = isNew || !sameIdentity(before, entry.profile)
        let stale = entry.profile.lastSeen.microseconds - entry.publishedLastSeen.microseconds >= refreshInterval
        let digest = inventory.map(InventoryDigest.of)
        if changed || stale || digest != entry.publishedInventory {
            entry.publishedLastSeen = entry.profile.lastSeen
            entry.publishedInventory = digest
            outputs.append(.device(DeviceRecord(profile: entry.profile, inventory: inventory)))
        }
        return (entry, outputs)
    }

    /// Folds an observation into a profile.
    static func apply(_ observation: Observation, to profile: inout DeviceProfile) {
        profile.firstSeen = min(profile.firstSeen, observation.time)
        profile.lastSeen = max(profile.lastSeen, observation.time)
        profile.observationCount += 1
        insertSorted(observation.kind.rawValue, into: &profile.observationKinds)
        insertSorted(observation.sensorId, into: &profile.sensors)
        if let vlan = observation.vlan { insertSorted(vlan, into: &profile.vlans) }
        switch observation.kind {
        case .arp:
            if let arp = observation.arp, arp.senderMac == profile.mac, arp.senderIp != "0.0.0.0" {
                insertIP(arp.senderIp, into: &profile.ips)
            }
        case .dhcp:
            guard let dhcp = observation.dhcp else { break }
            if dhcp.isFromClient {
                if let name = dhcp.hostname, !name.isEmpty { insertSorted(name, into: &profile.hostnames) }
                if let ip = dhcp.clientIp { insertIP(ip, into: &profile.ips) }
                if dhcp.parameterRequestList != nil || dhcp.vendorClass != nil || dhcp.clientId != nil {
                    profile.dhcp = DeviceProfile.DHCPFingerprint(
                        parameterRequestList: dhcp.parameterRequestList, vendorClass: dhcp.vendorClass,
                        clientId: dhcp.clientId)
                }
            } else if dhcp.messageType == "ack", let ip = dhcp.yourIp {
                insertIP(ip, into: &profile.ips)
            }
        default:
            // The other kinds feed identity and classification (a later stage); here they only count. Their source
            // IP is not taken as the device's: behind a router, a MAC carries many hosts' addresses.
            break
        }
    }

    /// Equal apart from what changes on every observation.
    static func sameIdentity(_ a: DeviceProfile, _ b: DeviceProfile) -> Bool {
        var a = a
        a.lastSeen = b.lastSeen
        a.observationCount = b.observationCount
        return a == b
    }
}

func insertSorted<T: Comparable>(_ value: T, into array: inout [T]) {
    var low = 0
    var high = array.count
    while low < high {
        let mid = (low + high) / 2
        if array[mid] < value { low = mid + 1 } else { high = mid }
    }
    if low == array.count || array[low] != value { array.insert(value, at: low) }
}

/// IPv4 addresses sorted numerically (10.0.0.9 before 10.0.0.10).
func insertIP(_ ip: String, into array: inout [String]) {
    guard !array.contains(ip) else { return }
    array.append(ip)
    array.sort { numericIPv4($0) < numericIPv4($1) }
}

func numericIPv4(_ text: String) -> UInt64 {
    let parts = text.split(separator: ".").compactMap { UInt64($0) }
    guard parts.count == 4 else { return UInt64.max }
    return parts.reduce(0) { $0 << 8 | $1 }
}
