/// An Ethernet/IPv4 ARP message (RFC 826).
public struct ARPMessage: Equatable, Sendable {
    public var operation: UInt16
    public var senderMAC: MACAddress
    public var senderIP: IPv4Address
    public var targetMAC: MACAddress
    public var targetIP: IPv4Address

    /// Sender and target IP equal: an announcement of the sender's own address.
    public var isGratuitous: Bool { senderIP == targetIP }

    /// Decodes Ethernet/IPv4 ARP; nil for anything else or a truncated message.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> ARPMessage? {
        guard bytes.readUInt16(at: 0) == 1, bytes.readUInt16(at: 2) == EtherType.ipv4, bytes.readUInt8(at: 4) == 6,
            bytes.readUInt8(at: 5) == 4, let op = bytes.readUInt16(at: 6), let sha = MACAddress(bytes, at: 8),
            let spa = IPv4Address(bytes, at: 14), let tha = MACAddress(bytes, at: 18), let tpa = IPv4Address(bytes, at: 24)
        else { return nil }
        return ARPMessage(operation: op, senderMAC: sha, senderIP: spa, targetMAC: tha, targetIP: tpa)
    }
}
