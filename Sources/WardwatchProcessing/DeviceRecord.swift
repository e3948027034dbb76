import Foundation
import WardwatchIdentity
import WardwatchModel

/// The value of one `iomt.devices.v1` record (schemas/device.v1.schema.json): the device profile's fields, flat as
/// before, plus `inventory`, the device's identity as an OCSF Device Inventory Info (5001) record. One shape for the
/// compacted topic: the latest record of a key says everything Wardwatch knows of the device.
public struct DeviceRecord: Encodable, Sendable, Equatable {
    public var profile: DeviceProfile
    /// Absent only for a device the identity processor has not seen (a record of an older version).
    public var inventory: DeviceInventoryRecord?

    public init(profile: DeviceProfile, inventory: DeviceInventoryRecord?) {
        self.profile = profile
        self.inventory = inventory
    }

    enum CodingKeys: String, CodingKey { case inventory }

    public func encode(to encoder: any Encoder) throws {
        try profile.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(inventory, forKey: .inventory)
    }

    /// Decodes a record's value. The profile's fields use Wardwatch's snake_case mapping; the inventory carries OCSF
    /// names verbatim, which that mapping cannot read back, so it is decoded without one.
    public static func decode(_ bytes: some Collection<UInt8>) throws -> DeviceRecord {
        let data = Data(bytes)
        return DeviceRecord(
            profile: try WardwatchJSON.makeDecoder().decode(DeviceProfile.self, from: data),
            inventory: try JSONDecoder().decode(InventoryEnvelope.self, from: data).inventory)
    }

    private struct InventoryEnvelope: Decodable { var inventory: DeviceInventoryRecord? }
}

/// A deterministic digest (FNV-1a, 64 bits, hex) of what an inventory record says apart from what moves on every
/// observation (times) or on every clock-skew sample (the skew's text): equal digests, nothing worth publishing.
enum InventoryDigest {
    static func of(_ r: DeviceInventoryRecord) -> String {
        var h = FNV1a()
        let d = r.device
        h.add(d.type_id, d.type, d.mac, d.ip, d.hostname, d.vendor_name, d.model, d.os?.name, d.hw_info?.version)
        h.add(d.vlan_uid, d.location.desc, r.confidence_score)
        for i in d.network_interfaces { h.add(i.mac, i.ip, i.hostname) }
        for e in r.evidences { h.add(e.signal, e.value, e.weight, e.suggests, e.rule) }
        let u = r.unmapped
        h.add(u.site, u.device_class, u.medical, u.software_version, u.overridden)
        for v in u.vlans { h.add(v) }
        for (k, v) in u.fingerprints.sorted(by: { $0.key < $1.key }) where k != "clock_skew" { h.add(k, v) }
        return String(h.value, radix: 16)
    }
}

struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ parts: (any CustomStringConvertible)?...) {
        for part in parts {
            for byte in (part.map { "\($0)" } ?? "\u{0}").utf8 { mix(byte) }
            mix(0x1f)  // separator, so ("ab", "c") and ("a", "bc") differ
        }
    }

    private mutating func mix(_ byte: UInt8) {
        value ^= UInt64(byte)
        value &*= 0x0000_0100_0000_01b3
    }
}
