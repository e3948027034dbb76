/// The current profile of one device, as published to the compacted `iomt.devices.v1`
/// (schemas/device.v1.schema.json).
public struct DeviceProfile: Codable, Sendable, Equatable {
    public var schemaVersion: Int = 1
    public var deviceKey: String
    public var mac: String
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
        self.mac = deviceKey
        self.site = site
        self.firstSeen = firstSeen
        self.lastSeen = firstSeen
    }
}
