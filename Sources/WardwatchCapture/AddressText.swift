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
    /// Writes the endpoints of a connection seen from `local`, addresses straight from their bits. Between IPv4
    /// addresses (nearly every connection) the four address and port members are written in place after one room
    /// check: most observations carry a connection.
    static func writeJSON<Transport: JSONValue>(
        to w: inout JSONWriter, transport: Transport, local: FlowEndpoint, remote: FlowEndpoint
    ) {
        guard local.address.isIPv4, remote.address.isIPv4 else {
            return writeJSON(
                to: &w, transport: transport, localIp: AddressText.ip(local.address), localPort: Int(local.port),
                remoteIp: AddressText.ip(remote.address), remotePort: Int(remote.port))
        }
        w.beginObject()
        w.membersInPlace(maxLength: Self.ipv4MembersLength) { out in
            var n = EndpointText.copy(Self.localIPKey, to: out)
            n += local.address.ipv4.write(to: out + n)
            n += EndpointText.copy(Self.localPortKey, to: out + n)
            n += EndpointText.writePort(local.port, to: out + n)
            n += EndpointText.copy(Self.remoteIPKey, to: out + n)
            n += remote.address.ipv4.write(to: out + n)
            n += EndpointText.copy(Self.remotePortKey, to: out + n)
            n += EndpointText.writePort(remote.port, to: out + n)
            return n
        }
        w.key("transport"); transport.writeJSON(to: &w)
        w.endObject()
    }

    // The members' fixed text, in key order, as `writeJSON(to:transport:localIp:…)` writes it.
    private static let localIPKey: StaticString = "\"local_ip\":\""
    private static let localPortKey: StaticString = "\",\"local_port\":"
    private static let remoteIPKey: StaticString = ",\"remote_ip\":\""
    private static let remotePortKey: StaticString = "\",\"remote_port\":"
    /// The longest the four members can be: the keys, two dotted quads and two five-digit ports.
    private static let ipv4MembersLength = 12 + 15 + 16 + 5 + 14 + 15 + 17 + 5
}

/// Small texts written in place for `ConnectionEndpoints.writeJSON`.
enum EndpointText {
    /// Copies a constant; returns its length.
    @inline(__always)
    static func copy(_ text: StaticString, to out: UnsafeMutablePointer<UInt8>) -> Int {
        let bytes = UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        bytes.copyShort(to: UnsafeMutableRawPointer(out))
        return bytes.count
    }

    /// Writes a port's decimal digits (one to five); returns how many.
    @inline(__always)
    static func writePort(_ port: UInt16, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var value = Int(port)
        let count = value >= 10_000 ? 5 : value >= 1_000 ? 4 : value >= 100 ? 3 : value >= 10 ? 2 : 1
        var i = count - 1
        while i > 0 {
            out[i] = UInt8(truncatingIfNeeded: value % 10) &+ 48
            value /= 10
            i -= 1
        }
        out[0] = UInt8(truncatingIfNeeded: value) &+ 48
        return count
    }
}
