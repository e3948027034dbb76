/// One piece of evidence about what a device is: the signal it came from, the value seen, and what it suggests.
public struct Evidence: Codable, Sendable, Equatable {
    /// The signal: `oui`, `dhcp_vendor_class`, `dhcp_prl`, `hostname`, `tcp_stack`, `ja4`, `user_agent`, `lldp`,
    /// `cdp`, `mdns`, `ssdp`, `dns_query`, `dicom`, `hl7_application`, `hl7_device`, `sdc`, `port`, `override`.
    public var signal: String
    /// What was seen (shortened to 96 characters).
    public var value: String
    public var deviceClass: DeviceClass?
    public var vendor: String?
    public var model: String?
    public var version: String?
    public var os: String?
    /// How much the evidence weighs, 0 to 100.
    public var weight: Int
    /// The knowledge-base rule that matched, if any.
    public var rule: String?
    /// Event time of the latest sighting, µs.
    public var time: Int64

    public init(
        signal: String, value: String, deviceClass: DeviceClass? = nil, vendor: String? = nil, model: String? = nil,
        version: String? = nil, os: String? = nil, weight: Int, rule: String? = nil, time: Int64
    ) {
        self.signal = signal
        self.value = value.count > 96 ? String(value.prefix(96)) : value
        self.deviceClass = deviceClass
        self.vendor = vendor
        self.model = model
        self.version = version
        self.os = os
        self.weight = max(0, min(100, weight))
        self.rule = rule
        self.time = time
    }

    enum CodingKeys: String, CodingKey {
        case signal = "s", value = "v", deviceClass = "c", vendor = "vn", model = "m", version = "ver", os
        case weight = "w", rule = "r", time = "t"
    }

    /// True when the evidence suggests anything at all.
    public var isInformative: Bool {
        deviceClass != nil || vendor != nil || model != nil || version != nil || os != nil
    }
}
