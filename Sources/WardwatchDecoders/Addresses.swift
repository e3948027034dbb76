/// A 48-bit IEEE MAC address.
public struct MACAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let value: UInt64

    public init(value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

    /// Reads six bytes at `offset`; nil where they are not all there.
    public init?(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        guard offset >= 0, offset + 6 <= bytes.count else { return nil }
        var v: UInt64 = 0
        for i in 0..<6 { v = v << 8 | UInt64(bytes[offset + i]) }
        value = v
    }

    /// Lowercase, colon-separated: `00:1b:21:0a:0b:0c`.
    public var description: String {
        String(unsafeUninitializedCapacity: Self.textLength) { write(to: $0.baseAddress!) }
    }

    /// Characters in `description`.
    public static let textLength = 17

    /// Writes `description`'s bytes at `out` (room for `textLength`); returns how many.
    @inline(__always)
    public func write(to out: UnsafeMutablePointer<UInt8>) -> Int {
        for i in 0..<6 {
            let byte = UInt8(truncatingIfNeeded: value >> (UInt64(5 - i) * 8))
            out[i * 3] = hexDigit(byte >> 4)
            out[i * 3 + 1] = hexDigit(byte & 0x0F)
            if i < 5 { out[i * 3 + 2] = 58 }
        }
        return Self.textLength
    }

    public static func < (a: MACAddress, b: MACAddress) -> Bool { a.value < b.value }

    public var isBroadcast: Bool { value == 0xFFFF_FFFF_FFFF }
    public var isZero: Bool { value == 0 }
    /// The group bit: multicast or broadcast.
    public var isMulticast: Bool { (value >> 40) & 0x01 != 0 }
    /// The U/L bit: set on locally administered (often randomised) addresses.
    public var isLocallyAdministered: Bool { (value >> 40) & 0x02 != 0 }
}

/// An IPv4 address.
public struct IPv4Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let value: UInt32

    public init(value: UInt32) { self.value = value }

    public init?(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        guard let v = bytes.readUInt32(at: offset) else { return nil }
        value = v
    }

    /// Dotted quad: `192.0.2.1`.
    public var description: String {
        String(unsafeUninitializedCapacity: Self.maxTextLength) { write(to: $0.baseAddress!) }
    }

    /// Characters in the longest `description`.
    public static let maxTextLength = 15

    /// Writes `description`'s bytes at `out` (room for `maxTextLength`); returns how many. Each octet's digits and
    /// dot are made in a register and stored at once (no branch on how many digits it has).
    @inline(__always)
    public func write(to out: UnsafeMutablePointer<UInt8>) -> Int {
        let raw = UnsafeMutableRawPointer(out)
        var n = 0
        for index in 0..<3 {
            let (text, length) = Self.octetText(UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * index)))
            raw.storeBytes(of: text | UInt32(UInt8(ascii: ".")) << (8 * UInt32(length)), toByteOffset: n, as: UInt32.self)
            n &+= length &+ 1
        }
        // The last octet without a dot, in at most three bytes (the room ends there when all octets have three digits).
        let (text, length) = Self.octetText(UInt8(truncatingIfNeeded: value))
        raw.storeBytes(of: UInt16(truncatingIfNeeded: text), toByteOffset: n, as: UInt16.self)
        raw.storeBytes(of: UInt8(truncatingIfNeeded: text >> 16), toByteOffset: n &+ 2, as: UInt8.self)
        return n &+ length
    }

    /// An octet's decimal digits as the low bytes of a word, in order (on a little-endian machine), and how many.
    @inline(__always)
    static func octetText(_ octet: UInt8) -> (text: UInt32, length: Int) {
        let o = UInt32(octet)
        let (hundreds, rest) = (o / 100, o % 100)
        let (tens, ones) = (rest / 10, rest % 10)
        let length = 1 &+ (o >= 10 ? 1 : 0) &+ (o >= 100 ? 1 : 0)
        let digits = (hundreds | tens << 8 | ones << 16) &+ 0x0030_3030
        return (digits >> (8 * UInt32(3 &- length)), length)
    }

    #if _endian(big)
    #error("IPv4Address.write lays bytes out for a little-endian machine")
    #endif

    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.value < b.value }

    public var isUnspecified: Bool { value == 0 }
}

let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// The lowercase hex digit of a nibble (0 to 15).
@inline(__always)
func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 48 + nibble : 87 + nibble }

/// Lowercase hex of bytes.
public func hexString(_ bytes: some Collection<UInt8>) -> String {
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

extension UnsafeRawBufferPointer {
    /// Big-endian reads that return nil instead of reading past the end.
    @inline(__always)
    public func readUInt8(at offset: Int) -> UInt8? {
        guard offset >= 0, offset < count else { return nil }
        return self[offset]
    }

    @inline(__always)
    public func readUInt16(at offset: Int) -> UInt16? {
        guard offset >= 0, offset + 2 <= count else { return nil }
        return UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    @inline(__always)
    public func readUInt32(at offset: Int) -> UInt32? {
        guard offset >= 0, offset + 4 <= count else { return nil }
        return UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16 | UInt32(self[offset + 2]) << 8
            | UInt32(self[offset + 3])
    }

    /// The index of the first `byte` at `start` or after it, or `count` where there is none: eight bytes at a time
    /// (line ends in HTTP and SSDP heads).
    public func index(of byte: UInt8, from start: Int) -> Int {
        var i = Swift.max(start, 0)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let pattern = ones &* UInt64(byte)
        while i + 8 <= count {
            let word = UInt64(littleEndian: loadUnaligned(fromByteOffset: i, as: UInt64.self)) ^ pattern
            // A zero byte of `word` is a match. The lowest byte flagged is always a true one (a false flag can only
            // sit above a true zero, from its borrow).
            let flagged = (word &- ones) & ~word & (ones &* 0x80)
            if flagged != 0 { return i + flagged.trailingZeroBitCount / 8 }
            i += 8
        }
        while i < count {
            if self[i] == byte { return i }
            i += 1
        }
        return count
    }

    /// The bytes in `offset..<offset+length`, or nil where the range is not inside the buffer.
    @inline(__always)
    public func slice(_ offset: Int, _ length: Int) -> UnsafeRawBufferPointer? {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else { return nil }
        return UnsafeRawBufferPointer(rebasing: self[offset..<(offset + length)])
    }
}
