/// TCP control bits (RFC 9293), with ECE and CWR (RFC 3168) and the former NS bit (RFC 3540, now AE).
public struct TCPFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue & 0x01FF }

    public static let fin = TCPFlags(rawValue: 0x001)
    public static let syn = TCPFlags(rawValue: 0x002)
    public static let rst = TCPFlags(rawValue: 0x004)
    public static let psh = TCPFlags(rawValue: 0x008)
    public static let ack = TCPFlags(rawValue: 0x010)
    public static let urg = TCPFlags(rawValue: 0x020)
    public static let ece = TCPFlags(rawValue: 0x040)
    public static let cwr = TCPFlags(rawValue: 0x080)
    /// The ECN nonce sum bit of RFC 3540 (historic), reused as AE by accurate ECN.
    public static let ns = TCPFlags(rawValue: 0x100)

    /// Names of the bits set, lowercase, in wire order from the low bit: `syn,ack`.
    public var description: String {
        let names = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns"]
        var parts: [String] = []
        for (i, name) in names.enumerated() where rawValue & (1 << UInt16(i)) != 0 { parts.append(name) }
        return parts.joined(separator: ",")
    }
}

/// One SACK block (RFC 2018): the left and right edges of a block of data received.
public struct TCPSACKBlock: Hashable, Sendable {
    public var left: UInt32
    public var right: UInt32
    public init(left: UInt32, right: UInt32) {
        self.left = left
        self.right = right
    }
}

/// A TCP option as carried on the wire, in the order the segment carries them.
public enum TCPOption: Hashable, Sendable {
    /// Kind 0. `padding` is the number of bytes after it up to the end of the header.
    case endOfOptionList(padding: Int)
    /// Kind 1.
    case noOperation
    /// Kind 2 (RFC 9293).
    case maximumSegmentSize(UInt16)
    /// Kind 3 (RFC 7323): the shift count.
    case windowScale(UInt8)
    /// Kind 4 (RFC 2018).
    case sackPermitted
    /// Kind 5 (RFC 2018).
    case sack([TCPSACKBlock])
    /// Kind 8 (RFC 7323): TSval and TSecr.
    case timestamps(value: UInt32, echoReply: UInt32)
    /// Any other kind, with the length byte it carries (kind and length bytes included).
    case other(kind: UInt8, length: UInt8)
    /// A known kind whose length byte is wrong for it (for example an MSS of length 3); skipped by its length.
    case badLength(kind: UInt8, length: UInt8)
    /// An option whose length byte is missing, below 2, or runs past the header. Nothing after it can be read,
    /// so this is always the last element.
    case truncated(kind: UInt8)

    /// The option kind byte.
    public var kind: UInt8 {
        switch self {
        case .endOfOptionList: 0
        case .noOperation: 1
        case .maximumSegmentSize: 2
        case .windowScale: 3
        case .sackPermitted: 4
        case .sack: 5
        case .timestamps: 8
        case .other(let kind, _), .badLength(let kind, _), .truncated(let kind): kind
        }
    }
}

/// The options area of a TCP header, read lazily. Iterating allocates nothing except for SACK blocks.
public struct TCPOptions: Sequence {
    /// The raw option bytes (data offset * 4 - 20 of them).
    public let bytes: UnsafeRawBufferPointer

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public func makeIterator() -> Iterator { Iterator(bytes: bytes) }

    public struct Iterator: IteratorProtocol {
        let bytes: UnsafeRawBufferPointer
        var offset = 0
        var done = false

        public mutating func next() -> TCPOption? {
            guard !done, let kind = bytes.readUInt8(at: offset) else { return nil }
            switch kind {
            case 0:
                done = true
                return .endOfOptionList(padding: bytes.count - offset - 1)
            case 1:
                offset += 1
                return .noOperation
            default:
                break
            }
            guard let length = bytes.readUInt8(at: offset + 1), length >= 2,
                let body = bytes.slice(offset + 2, Int(length) - 2)
            else {
                done = true
                return .truncated(kind: kind)
            }
            offset += Int(length)
            switch (kind, length) {
            case (2, 4): return .maximumSegmentSize(body.readUInt16(at: 0)!)
            case (3, 3): return .windowScale(body[0])
            case (4, 2): return .sackPermitted
            case (5, _) where length >= 10 && (length - 2) % 8 == 0:
                var blocks: [TCPSACKBlock] = []
                blocks.reserveCapacity(Int(length - 2) / 8)
                var i = 0
                while i + 8 <= body.count {
                    blocks.append(TCPSACKBlock(left: body.readUInt32(at: i)!, right: body.readUInt32(at: i + 4)!))
                    i += 8
                }
                return .sack(blocks)
            case (8, 10): return .timestamps(value: body.readUInt32(at: 0)!, echoReply: body.readUInt32(at: 4)!)
            case (2, _), (3, _), (4, _), (5, _), (8, _): return .badLength(kind: kind, length: length)
            default: return .other(kind: kind, length: length)
            }
        }
    }

    /// The value bytes of the first well-formed option of `kind` with exactly `length` bytes (kind and length
    /// included), without building the option list.
    func firstValue(kind: UInt8, length: Int) -> UnsafeRawBufferPointer? {
        var i = 0
        while let k = bytes.readUInt8(at: i) {
            if k == 0 { return nil }
            if k == 1 {
                i += 1
                continue
            }
            guard let l = bytes.readUInt8(at: i + 1), l >= 2, Int(l) <= bytes.count - i else { return nil }
            if k == kind { return Int(l) == length ? bytes.slice(i + 2, length - 2) : nil }
            i += Int(l)
        }
        return nil
    }
}

/// A TCP segment (RFC 9293): the fixed header, the options area and the payload.
public struct TCPSegment {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequenceNumber: UInt32
    public var acknowledgmentNumber: UInt32
    /// Header length in 32-bit words (5 to 15).
    public var dataOffset: UInt8
    /// The three reserved bits between the data offset and the flags (0 to 7); must be zero.
    public var reservedBits: UInt8
    public var flags: TCPFlags
    /// The raw window field, unscaled.
    public var window: UInt16
    public var checksum: UInt16
    public var urgentPointer: UInt16
    /// The options area, `dataOffset * 4 - 20` bytes.
    public var optionBytes: UnsafeRawBufferPointer
    /// The data after the header, up to the end of the IP payload.
    public var payload: UnsafeRawBufferPointer

    public enum DecodeError: String, Error, Equatable {
        /// Fewer than 20 bytes.
        case truncated
        /// A data offset below 5.
        case badDataOffset
        /// The data offset points past the end of the bytes (a cut capture or a corrupt header).
        case optionsExceedSegment
    }

    /// Header length in bytes.
    public var headerLength: Int { Int(dataOffset) * 4 }

    /// The options in wire order.
    public var options: TCPOptions { TCPOptions(optionBytes) }

    /// A SYN without ACK: the client's connection request.
    public var isSYN: Bool { flags.contains(.syn) && !flags.contains(.ack) }
    /// A SYN with ACK: the server's answer.
    public var isSYNACK: Bool { flags.contains(.syn) && flags.contains(.ack) }

    /// The MSS option's value, where a well-formed one is present.
    public var maximumSegmentSize: UInt16? { options.firstValue(kind: 2, length: 4).flatMap { $0.readUInt16(at: 0) } }
    /// The window scale option's shift count, where a well-formed one is present.
    public var windowScale: UInt8? { options.firstValue(kind: 3, length: 3).flatMap { $0.readUInt8(at: 0) } }
    /// TSval and TSecr of a well-formed timestamps option.
    public var timestamps: (value: UInt32, echoReply: UInt32)? {
        guard let v = options.firstValue(kind: 8, length: 10), let tsval = v.readUInt32(at: 0),
            let tsecr = v.readUInt32(at: 4)
        else { return nil }
        return (tsval, tsecr)
    }

    /// Decodes a TCP header from an IP payload. Never reads past `bytes`.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<TCPSegment, DecodeError> {
        guard bytes.count >= 20, let sp = bytes.readUInt16(at: 0), let dp = bytes.readUInt16(at: 2),
            let seq = bytes.readUInt32(at: 4), let ack = bytes.readUInt32(at: 8), let offsetFlags = bytes.readUInt16(at: 12),
            let window = bytes.readUInt16(at: 14), let checksum = bytes.readUInt16(at: 16),
            let urgent = bytes.readUInt16(at: 18)
        else { return .failure(.truncated) }
        let dataOffset = UInt8(offsetFlags >> 12)
        guard dataOffset >= 5 else { return .failure(.badDataOffset) }
        let headerLength = Int(dataOffset) * 4
        guard let optionBytes = bytes.slice(20, headerLength - 20),
            let payload = bytes.slice(headerLength, bytes.count - headerLength)
        else { return .failure(.optionsExceedSegment) }
        return .success(
            TCPSegment(
                sourcePort: sp, destinationPort: dp, sequenceNumber: seq, acknowledgmentNumber: ack,
                dataOffset: dataOffset, reservedBits: UInt8((offsetFlags >> 9) & 0x07),
                flags: TCPFlags(rawValue: offsetFlags & 0x01FF), window: window, checksum: checksum,
                urgentPointer: urgent, optionBytes: optionBytes, payload: payload))
    }
}

/// One TCP timestamps observation for clock-skew estimation (Kohno, Broido and claffy, 2005): the sender's TSval,
/// the TSecr it echoes, and the capture time of the segment. Pure data; the estimator lives elsewhere.
public struct TCPTimestampSample: Hashable, Sendable {
    public var value: UInt32
    public var echoReply: UInt32
    /// Packet (capture) time, microseconds since the Unix epoch, as the caller passed it.
    public var timeMicroseconds: Int64

    public init(value: UInt32, echoReply: UInt32, timeMicroseconds: Int64) {
        self.value = value
        self.echoReply = echoReply
        self.timeMicroseconds = timeMicroseconds
    }
}

extension TCPSegment {
    /// The timestamps sample of this segment at packet time `timeMicroseconds`; nil without a well-formed
    /// timestamps option.
    public func timestampSample(timeMicroseconds: Int64) -> TCPTimestampSample? {
        guard let ts = timestamps else { return nil }
        return TCPTimestampSample(value: ts.value, echoReply: ts.echoReply, timeMicroseconds: timeMicroseconds)
    }
}
