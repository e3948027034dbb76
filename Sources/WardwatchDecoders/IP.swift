/// An IPv4 header and its payload (RFC 791).
public struct IPv4Packet {
    public var source: IPv4Address
    public var destination: IPv4Address
    public var protocolNumber: UInt8
    public var ttl: UInt8
    /// True for a fragment other than the first, whose payload does not start with a transport header.
    public var isLaterFragment: Bool
    public var moreFragments: Bool
    public var payload: UnsafeRawBufferPointer

    public enum DecodeError: String, Error, Equatable {
        case truncated, notIPv4, badHeaderLength, lengthExceedsFrame
    }

    /// Decodes the header; the payload ends at the header's total length (trailing link padding is dropped).
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<IPv4Packet, DecodeError> {
        guard let versionIHL = bytes.readUInt8(at: 0), bytes.count >= 20 else { return .failure(.truncated) }
        guard versionIHL >> 4 == 4 else { return .failure(.notIPv4) }
        let headerLength = Int(versionIHL & 0x0F) * 4
        guard headerLength >= 20, headerLength <= bytes.count else { return .failure(.badHeaderLength) }
        let totalLength = Int(bytes.readUInt16(at: 2)!)
        guard totalLength >= headerLength else { return .failure(.badHeaderLength) }
        guard totalLength <= bytes.count else { return .failure(.lengthExceedsFrame) }
        let flagsFragment = bytes.readUInt16(at: 6)!
        return .success(
            IPv4Packet(
                source: IPv4Address(bytes, at: 12)!, destination: IPv4Address(bytes, at: 16)!,
                protocolNumber: bytes[9], ttl: bytes[8], isLaterFragment: flagsFragment & 0x1FFF != 0,
                moreFragments: flagsFragment & 0x2000 != 0,
                payload: bytes.slice(headerLength, totalLength - headerLength)!))
    }
}

/// A UDP header and payload (RFC 768).
public struct UDPDatagram {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var payload: UnsafeRawBufferPointer

    public enum DecodeError: String, Error, Equatable { case truncated, badLength }

    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<UDPDatagram, DecodeError> {
        guard let sp = bytes.readUInt16(at: 0), let dp = bytes.readUInt16(at: 2), let length = bytes.readUInt16(at: 4),
            bytes.count >= 8
        else { return .failure(.truncated) }
        let end = Int(length)
        guard end >= 8, end <= bytes.count else { return .failure(.badLength) }
        return .success(UDPDatagram(sourcePort: sp, destinationPort: dp, payload: bytes.slice(8, end - 8)!))
    }
}
