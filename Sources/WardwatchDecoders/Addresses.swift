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

    /// Writes `description`'s bytes at `out` (room for `maxTextLength`); returns how many. Each octet's text comes
    /// from a table of all 256, stored at once with its dot (no division, no branch on how many digits it has).
    @inline(__always)
    public func write(to out: UnsafeMutablePointer<UInt8>) -> Int {
        let raw = UnsafeMutableRawPointer(out)
        return Self.octetTexts.withUnsafeBufferPointer { table in
            var n = 0
            for index in 0..<3 {
                let entry = table[Int(truncatingIfNeeded: (value >> UInt32(24 - 8 * index)) & 0xFF)]
                raw.storeBytes(of: UInt32(truncatingIfNeeded: entry), toByteOffset: n, as: UInt32.self)
                n &+= Int(truncatingIfNeeded: entry >> 32) &+ 1
            }
            // The last octet without its dot, in at most three bytes (the room ends there when all have three digits).
            let entry = table[Int(truncatingIfNeeded: value & 0xFF)]
            raw.storeBytes(of: UInt16(truncatingIfNeeded: entry), toByteOffset: n, as: UInt16.self)
            raw.storeBytes(of: UInt8(truncatingIfNeeded: entry >> 16), toByteOffset: n &+ 2, as: UInt8.self)
            return n &+ Int(truncatingIfNeeded: entry >> 32)
        }
    }

    /// Every octet's text followed by a dot, as the low bytes of a word in order (on a little-endian machine), its
    /// digit count above them.
    static let octetTexts: [UInt64] = (0...255).map { (octet: Int) -> UInt64 in
        let digits = Array(String(octet).utf8) + [UInt8(ascii: ".")]
        var word = UInt64(digits.count - 1) << 32
        for (i, byte) in digits.enumerated() { word |= UInt64(byte) << (8 * UInt64(i)) }
        return word
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

    /// Copies the bytes to `target` with overlapping word copies inside their bounds, not a call to memmove: for
    /// short texts (labels, keys) copied often, where the call costs more than the copy.
    @inline(__always)
    public func copyShort(to target: UnsafeMutableRawPointer) {
        let n = count
        guard let source = baseAddress else { return }
        if n >= 8 {
            var i = 0
            while i < n - 8 {
                target.storeBytes(of: source.loadUnaligned(fromByteOffset: i, as: UInt64.self), toByteOffset: i, as: UInt64.self)
                i += 8
            }
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self), toByteOffset: n - 8, as: UInt64.self)
        } else if n >= 4 {
            target.storeBytes(of: source.loadUnaligned(as: UInt32.self), as: UInt32.self)
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self), toByteOffset: n - 4, as: UInt32.self)
        } else {
            for i in 0..<n { target.storeBytes(of: source.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self) }
        }
    }

    /// The bytes in `offset..<offset+length`, or nil where the range is not inside the buffer.
    @inline(__always)
    public func slice(_ offset: Int, _ length: Int) -> UnsafeRawBufferPointer? {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else { return nil }
        return UnsafeRawBufferPointer(rebasing: self[offset..<(offset + length)])
    }
}
