/// The current profile of one device, as published to the compacted `iomt.devices.v1`
/// (schemas/device.v1.schema.json).
public struct DeviceProfile: Codable, Sendable, Equatable {
    public var schemaVersion: Int = 1
    public var deviceKey: String
    /// The MAC address, where the device is keyed by it (nil for a device known only by its IP address).
    public var mac: String?
    public var ips: [String] = []
    public var hostnames: [String] = []
    public var dhcp: DHCPFingerprint?
    public var vlans: [Int] = []
    public var site: String
    public var sensors: [String] = []
    public var firstSeen: EventTime
    public var lastSeen: EventTime
    public var observationCount: Int = 0
    public var observationKinds: [String] = []

    /// The client's DHCP fingerprint: option 55 in order, option 60 and option 61.
    public struct DHCPFingerprint: Codable, Sendable, Equatable {
        public var parameterRequestList: [Int]?
        public var vendorClass: String?
        public var clientId: String?
        public init(parameterRequestList: [Int]?, vendorClass: String?, clientId: String?) {
            self.parameterRequestList = parameterRequestList
            self.vendorClass = vendorClass
            self.clientId = clientId
        }
    }

    public init(deviceKey: String, site: String, firstSeen: EventTime) {
        self.deviceKey = deviceKey
        self.mac = deviceKey.count == 17 && deviceKey.filter { $0 == ":" }.count == 5 ? deviceKey : nil
        self.site = site
        self.firstSeen = firstSeen
        self.lastSeen = firstSeen
    }
}
