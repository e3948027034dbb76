import WardwatchModel

/// A device inventory record shaped after OCSF 1.3.0 Device Inventory Info (class_uid 5001, category 5 Discovery,
/// activity 2 Collect). OCSF field names, written as they are.
public struct DeviceInventoryRecord: Codable, Sendable, Equatable {
    public var activity_id = 2
    public var activity_name = "Collect"
    public var category_uid = 5
    public var category_name = "Discovery"
    public var class_uid = 5001
    public var class_name = "Device Inventory Info"
    public var type_uid = 500102
    public var type_name = "Device Inventory Info: Collect"
    public var severity_id = 1
    /// Event time of the latest observation, epoch milliseconds.
    public var time: Int64
    public var metadata: Metadata
    public var device: Device
    /// Confidence of the classification, 0 to 100 (OCSF `confidence_score`).
    public var confidence_score: Int
    public var evidences: [EvidenceEntry]
    public var unmapped: Unmapped

    public struct Metadata: Codable, Sendable, Equatable {
        public var version = "1.3.0"
        public var product = Product()
    }

    public struct Product: Codable, Sendable, Equatable {
        public var name = "Wardwatch"
        public var vendor_name = "Wardwatch"
        public var version = WardwatchVersion.current
    }

    public struct Device: Codable, Sendable, Equatable {
        public var uid: String
        public var type_id: Int
        public var type: String
        public var mac: String?
        public var ip: String?
        public var hostname: String?
        public var vendor_name: String?
        public var model: String?
        public var os: OS?
        public var hw_info: HardwareInfo?
        public var first_seen_time: Int64
        public var last_seen_time: Int64
        public var network_interfaces: [NetworkInterface]
        public var vlan_uid: String?
        public var location: Location
    }

    public struct OS: Codable, Sendable, Equatable {
        public var name: String
        public var type_id = 0
        public var type = "Unknown"
    }

    public struct HardwareInfo: Codable, Sendable, Equatable {
        public var vendor_name: String?
        public var version: String?
    }

    public struct NetworkInterface: Codable, Sendable, Equatable {
        public var mac: String?
        public var ip: String?
        public var hostname: String?
        public var type_id = 0
    }

    public struct Location: Codable, Sendable, Equatable {
        public var desc: String
    }

    public struct EvidenceEntry: Codable, Sendable, Equatable {
        public var signal: String
        public var value: String
        public var weight: Int
        public var suggests: String
        public var rule: String?
    }

    public struct Unmapped: Codable, Sendable, Equatable {
        public var device_key: String
        public var site: String
        public var device_class: String
        public var medical: Bool
        public var software_version: String?
        public var vlans: [Int]
        public var fingerprints: [String: String]
        public var overridden: Bool
    }
}

extension DeviceIdentityState {
    /// The device as an OCSF Device Inventory Info record.
    public func inventoryRecord() -> DeviceInventoryRecord {
        let c = classification ?? IdentityClassification(deviceClass: .unknown, confidence: 0)
        let type = c.deviceClass.ocsfType
        let macText = mac?.description
        var interfaces = ips.map { DeviceInventoryRecord.NetworkInterface(mac: macText, ip: $0, hostname: hostnames.last) }
        if interfaces.isEmpty { interfaces = [.init(mac: macText, ip: nil, hostname: hostnames.last)] }
        let evidenceEntries = evidence.filter(\.isInformative).sorted { $0.weight > $1.weight }.map { e in
            DeviceInventoryRecord.EvidenceEntry(
                signal: e.signal, value: e.value, weight: e.weight,
                suggests: [e.deviceClass?.rawValue, e.vendor, e.model, e.version, e.os].compactMap { $0 }.joined(separator: " / "),
                rule: e.rule)
        }
        return DeviceInventoryRecord(
            time: lastSeen.milliseconds, metadata: .init(),
            device: .init(
                uid: deviceKey, type_id: type.id, type: type.name, mac: macText, ip: ips.last, hostname: hostnames.last,
                vendor_name: c.vendor, model: c.model, os: c.os.map { .init(name: $0) },
                hw_info: c.version == nil ? nil : .init(vendor_name: c.vendor, version: c.version),
                first_seen_time: firstSeen.milliseconds, last_seen_time: lastSeen.milliseconds,
                network_interfaces: interfaces, vlan_uid: vlans.last.map(String.init), location: .init(desc: site)),
            confidence_score: c.confidence, evidences: evidenceEntries,
            unmapped: .init(
                device_key: deviceKey, site: site, device_class: c.deviceClass.rawValue, medical: c.deviceClass.isMedical,
                software_version: c.version, vlans: vlans, fingerprints: fingerprints, overridden: c.overridden))
    }
}
