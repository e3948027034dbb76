import WardwatchDecoders
import WardwatchModel

/// An address written as JSON text straight from its bits: the device keys and endpoints of the observations the
/// capture writes most (flows, SYN signatures, timestamp samples) make no `String`.
enum AddressText: JSONText, JSONValue {
    case mac(MACAddress)
    case ip(FlowAddress)

    func writeJSONString(to w: inout JSONWriter) {
        switch self {
        case .mac(let mac): w.plainString(maxLength: MACAddress.textLength) { mac.write(to: $0) }
        case .ip(let address) where address.isIPv4:
            w.plainString(maxLength: IPv4Address.maxTextLength) { address.ipv4.write(to: $0) }
        case .ip(let address): w.string(address.description)
        }
    }

    func writeJSON(to w: inout JSONWriter) { writeJSONString(to: &w) }

    func appendRaw(to w: inout JSONWriter) {
        switch self {
        case .mac(let mac): w.appendRaw(maxLength: MACAddress.textLength) { mac.write(to: $0) }
        case .ip(let address) where address.isIPv4:
            w.appendRaw(maxLength: IPv4Address.maxTextLength) { address.ipv4.write(to: $0) }
        case .ip(let address): w.appendRaw(address.description)
        }
    }
}

extension ObservationBatch {
    /// Appends an observation of the device at `mac` (where the link has one) and `ip`, written straight from these
    /// parts and `payload` (no `Observation` value, no address texts): keyed by the MAC address, else the IP address.
    mutating func append(
        _ kind: Observation.Kind, mac: MACAddress?, ip: FlowAddress, vlan: UInt16?, time: EventTime,
        sensor: SensorIdentity, payload: (inout JSONWriter) -> Void
    ) {
        // The members that follow from the device are written once per device seen more than once
        // (`DeviceEnvelope`), then copied.
        let device = (mac.map { $0.value &+ 1 } ?? 0, ip.high, ip.low, vlan.map { UInt64($0) &+ 1 } ?? 0)
        let key = mac.map(AddressText.mac) ?? .ip(ip)
        let appended = append(kind, device: device, sensorId: sensor.sensorIdJSON, site: sensor.siteJSON, time: time, envelope: {
            DeviceEnvelope(
                deviceKey: key, sensorId: sensor.sensorIdJSON, site: sensor.siteJSON, vlan: vlan.map(Int.init),
                sourceMAC: mac.map(AddressText.mac), sourceIP: AddressText.ip(ip))
        }, payload: payload)
        guard !appended else { return }
        append(key: key, time: time) { w in
            Observation.writeJSON(
                to: &w, kind: kind, deviceKey: key, time: time, sensorId: sensor.sensorIdJSON, site: sensor.siteJSON,
                vlan: vlan.map(Int.init), sourceMAC: mac.map(AddressText.mac), sourceIP: AddressText.ip(ip),
                payload: payload)
        }
    }
}

extension ConnectionEndpoints {
    /// Writes the endpoints of a connection seen from `local`, addresses straight from their bits.
    static func writeJSON<Transport: JSONValue>(
        to w: inout JSONWriter, transport: Transport, local: FlowEndpoint, remote: FlowEndpoint
    ) {
        writeJSON(
            to: &w, transport: transport, localIp: AddressText.ip(local.address), localPort: Int(local.port),
            remoteIp: AddressText.ip(remote.address), remotePort: Int(remote.port))
    }
}
