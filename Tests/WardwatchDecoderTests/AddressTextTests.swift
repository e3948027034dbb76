import Testing
import WardwatchDecoders

/// Address texts are written byte by byte for speed; they must read as the plain formulas do.
@Suite("Address texts")
struct AddressTextTests {
    @Test("IPv4 dotted quads equal the interpolated form, every octet value in every position")
    func ipv4() {
        for octet in UInt32(0)...255 {
            for shift in [0, 8, 16, 24] as [UInt32] {
                let value = (octet << shift) | (UInt32(7) << ((shift + 8) % 32))
                let expected = "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
                #expect(IPv4Address(value: value).description == expected)
            }
        }
        #expect(IPv4Address(value: 0).description == "0.0.0.0")
        #expect(IPv4Address(value: .max).description == "255.255.255.255")
    }

    @Test("MAC addresses are lowercase, colon-separated, with leading zeros")
    func mac() {
        #expect(MACAddress(value: 0).description == "00:00:00:00:00:00")
        #expect(MACAddress(value: 0xFFFF_FFFF_FFFF).description == "ff:ff:ff:ff:ff:ff")
        #expect(MACAddress(value: 0x001B_210A_0B0C).description == "00:1b:21:0a:0b:0c")
        var value: UInt64 = 0x0123_4567_89AB
        for _ in 0..<1000 {
            value = (value &* 6364136223846793005 &+ 1442695040888963407) & 0xFFFF_FFFF_FFFF
            let expected = (0..<6).map { i in
                let byte = (value >> (UInt64(5 - i) * 8)) & 0xFF
                return (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }.joined(separator: ":")
            #expect(MACAddress(value: value).description == expected)
        }
    }
}
