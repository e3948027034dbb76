import Foundation
import Yams

/// Operator overrides, by device key, from a YAML file. An override always wins over what the evidence says.
///
/// ```yaml
/// devices:
///   "00:03:b1:b5:b6:48": {class: infusion_pump, vendor: ICU Medical, model: Plum 360, note: "asset 4711"}
/// ```
public struct OperatorOverrides: Sendable, Codable, Equatable {
    public struct Override: Sendable, Codable, Equatable {
        public var deviceClass: DeviceClass?
        public var vendor: String?
        public var model: String?
        public var version: String?
        public var note: String?

        public init(deviceClass: DeviceClass? = nil, vendor: String? = nil, model: String? = nil, version: String? = nil, note: String? = nil) {
            self.deviceClass = deviceClass
            self.vendor = vendor
            self.model = model
            self.version = version
            self.note = note
        }

        enum CodingKeys: String, CodingKey {
            case deviceClass = "class", vendor, model, version, note
        }
    }

    public var devices: [String: Override]

    public init(devices: [String: Override] = [:]) {
        self.devices = Dictionary(devices.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    public static func parse(yaml: String) throws -> OperatorOverrides {
        let parsed = try YAMLDecoder().decode(OperatorOverrides.self, from: yaml)
        return OperatorOverrides(devices: parsed.devices)
    }

    public static func load(path: String) throws -> OperatorOverrides {
        try parse(yaml: String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8))
    }

    public func override(for deviceKey: String) -> Override? { devices[deviceKey.lowercased()] }
}
