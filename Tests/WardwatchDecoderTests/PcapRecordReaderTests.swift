import Foundation
import Testing
import WardwatchCapture
import WardwatchModel

/// The records of a classic pcap file, read without libpcap (`PcapRecordReader`), against libpcap's own reading of
/// the same file: the same packets, wire lengths, times and filter, and the same error where the file is damaged.
@Suite("Pcap records read without libpcap")
struct PcapRecordReaderTests {
    /// What reading a file gives: every packet, then the error that ended it (nil at a clean end).
    struct Reading: Equatable {
        var packets: [[UInt8]] = []
        var lengths: [Int] = []
        var times: [Int64] = []
        var error: String?
    }

    static func read(_ path: String, filter: String? = nil, throughLibpcap: Bool) throws -> (Reading, direct: Bool) {
        let source = try PcapSource(file: path, bpfFilter: filter, throughLibpcap: throughLibpcap)
        var reading = Reading()
        do {
            while try source.next({ bytes, length, time in
                reading.packets.append(Array(bytes))
                reading.lengths.append(length)
                reading.times.append(time.microseconds)
            }) == .packet {}
        } catch {
            reading.error = error.description
        }
        return (reading, source.readsRecordsItself)
    }

    /// Reads `path` both ways; expects the same outcome and returns it, with whether the reader took the file.
    @discardableResult
    static func expectSame(_ path: String, filter: String? = nil, sourceLocation: SourceLocation = #_sourceLocation)
        throws -> (Reading, direct: Bool)
    {
        let (own, direct) = try read(path, filter: filter, throughLibpcap: false)
        let (libpcap, _) = try read(path, filter: filter, throughLibpcap: true)
        #expect(own == libpcap, "\(path): \(own.packets.count) packets, error \(own.error ?? "none"); libpcap \(libpcap.packets.count), error \(libpcap.error ?? "none")", sourceLocation: sourceLocation)
        return (own, direct)
    }

    static let temporary = FileManager.default.temporaryDirectory.path

    /// A classic pcap file header: magic, version, snapshot length and link type (Ethernet), in this machine's order
    /// unless `swapped`.
    static func fileHeader(magic: UInt32 = 0xA1B2_C3D4, major: UInt16 = 2, minor: UInt16 = 4, snapLength: UInt32 = 65535,
                           swapped: Bool = false) -> [UInt8] {
        func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: swapped ? value.byteSwapped : value, Array.init) }
        return bytes(magic) + bytes(major) + bytes(minor) + bytes(UInt32(0)) + bytes(UInt32(0)) + bytes(snapLength) + bytes(UInt32(1))
    }

    static func record(seconds: Int32, fraction: Int32, captured: UInt32, length: UInt32, data: [UInt8],
                       swapped: Bool = false) -> [UInt8] {
        func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: swapped ? value.byteSwapped : value, Array.init) }
        return bytes(seconds) + bytes(fraction) + bytes(captured) + bytes(length) + data
    }

    /// An ARP-sized frame whose bytes say which it is.
    static func frame(_ index: Int, count: Int = 60) -> [UInt8] {
        [UInt8](repeating: 0xFF, count: 6) + [2, 0, 0, 0, 0, UInt8(index & 0xFF), 0x08, 0x06]
            + [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: max(0, count - 14))
    }

    static func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = temporary + "/\(name)-\(getpid()).pcap"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("every shared and fixture capture reads the same as through libpcap; classic ones are read without it")
    func everyCapture() throws {
        let files = Fixtures.allCaptureFiles()
        #expect(files.count >= 20)
        var direct = 0, throughLibpcap = 0, packets = 0
        for file in files {
            let (reading, wasDirect) = try Self.expectSame(file)
            #expect(reading.error == nil, "\(file): \(reading.error ?? "")")
            if wasDirect { direct += 1 } else { throughLibpcap += 1 }
            // Classic pcap in this machine's byte order is read here; pcapng by libpcap.
            let magic = try FileHandle(forReadingFrom: URL(fileURLWithPath: file)).read(upToCount: 4).map(Array.init)
            #expect(wasDirect == (magic == [0xD4, 0xC3, 0xB2, 0xA1]), "\(file)")
            packets += reading.packets.count
        }
        #expect(direct >= 10)
        #expect(packets > 1_000)
        // The same with a filter: libpcap's compiled program, applied to the records read here.
        let (arp, _) = try Self.expectSame(Fixtures.wardSample, filter: "arp")
        let (all, _) = try Self.expectSame(Fixtures.wardSample)
        #expect(!arp.packets.isEmpty && arp.packets.count < all.packets.count)
        #expect(arp.packets.allSatisfy { $0.count > 13 && $0[12] == 0x08 && $0[13] == 0x06 })
    }

    @Test("nanosecond timestamps are cut to microseconds and negative times kept, as libpcap reads them")
    func nanosecondsAndSignedTimes() throws {
        var bytes = Self.fileHeader(magic: 0xA1B2_3C4D)
        bytes += Self.record(seconds: 1_700_000_000, fraction: 999_999_999, captured: 60, length: 60, data: Self.frame(1))
        bytes += Self.record(seconds: -5, fraction: 1_500, captured: 60, length: 1514, data: Self.frame(2))
        bytes += Self.record(seconds: 0, fraction: -2_000, captured: 60, length: 60, data: Self.frame(3))
        let path = try Self.write(bytes, "nanoseconds")
        defer { unlink(path) }
        let (reading, direct) = try Self.expectSame(path)
        #expect(direct)
        #expect(reading.times == [1_700_000_000_999_999, -5_000_000 + 1, -2])
        #expect(reading.lengths == [60, 1514, 60])
        #expect(reading.error == nil)
    }

    @Test("damaged records give libpcap's errors after the packets before them")
    func damagedRecords() throws {
        let good = Self.fileHeader(snapLength: 100) + Self.record(seconds: 1, fraction: 0, captured: 60, length: 60, data: Self.frame(1))
        let cases: [(String, [UInt8], String)] = [
            ("cut-header", good + Array(Self.record(seconds: 2, fraction: 0, captured: 60, length: 60, data: []).prefix(7)),
             "tried to read 16 header bytes, only got 7"),
            ("cut-data", good + Self.record(seconds: 2, fraction: 0, captured: 60, length: 60, data: Array(Self.frame(2).prefix(25))),
             "tried to read 60 captured bytes, only got 25"),
            // Longer than the snapshot length (100): cut to it, the rest skipped.
            ("over-snapshot", good + Self.record(seconds: 2, fraction: 0, captured: 150, length: 150, data: Self.frame(2, count: 150))
                + Self.record(seconds: 3, fraction: 0, captured: 60, length: 60, data: Self.frame(3)), ""),
            ("over-snapshot-cut-early", good + Self.record(seconds: 2, fraction: 0, captured: 150, length: 150, data: Array(Self.frame(2, count: 150).prefix(80))),
             "tried to read 100 captured bytes, only got 80"),
            ("over-snapshot-cut-late", good + Self.record(seconds: 2, fraction: 0, captured: 150, length: 150, data: Array(Self.frame(2, count: 150).prefix(120))),
             "tried to read 150 captured bytes, only got 120"),
            ("over-maximum", good + Self.record(seconds: 2, fraction: 0, captured: 300_000, length: 300_000, data: Self.frame(2)),
             "invalid packet capture length 300000"),
            ("captured-over-wire", good + Self.record(seconds: 2, fraction: 0, captured: 60, length: 40, data: Self.frame(2)), ""),
        ]
        for (name, bytes, error) in cases {
            let path = try Self.write(bytes, name)
            defer { unlink(path) }
            let (reading, direct) = try Self.expectSame(path)
            #expect(direct, "\(name)")
            #expect(reading.packets.first == Self.frame(1), "\(name)")
            if error.isEmpty {
                #expect(reading.error == nil, "\(name): \(reading.error ?? "")")
            } else {
                #expect(reading.error?.contains(error) == true, "\(name): \(reading.error ?? "no error")")
                #expect(reading.error?.contains(path) == true, "\(name)")
            }
            if name == "over-snapshot" { #expect(reading.packets.map(\.count) == [60, 100, 60]) }
        }
    }

    @Test("byte-swapped and older-version files are left to libpcap")
    func leftToLibpcap() throws {
        let swapped = Self.fileHeader(swapped: true)
            + Self.record(seconds: 7, fraction: 8, captured: 60, length: 60, data: Self.frame(1), swapped: true)
        let older = Self.fileHeader(minor: 3)
            + Self.record(seconds: 7, fraction: 8, captured: 60, length: 50, data: Self.frame(1))
        for (name, bytes) in [("swapped", swapped), ("version-2.3", older)] {
            let path = try Self.write(bytes, name)
            defer { unlink(path) }
            let (reading, direct) = try Self.expectSame(path)
            #expect(!direct, "\(name)")
            #expect(reading.packets.count == 1 && reading.times == [7_000_008], "\(name)")
        }
    }

    @Test("a mutated capture reads the same as through libpcap: same packets, same error")
    func mutations() throws {
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.dhcpDORA)))
        var generator = SystemRandomNumberGenerator()
        let seed = UInt64.random(in: 0 ... .max, using: &generator)
        var random = SplitMix64(seed: seed)
        let path = Self.temporary + "/mutated-records-\(getpid()).pcap"
        defer { unlink(path) }
        var errors = 0
        for round in 0..<300 {
            var bytes = original
            // Change a few bytes past the file header (record headers most of all), sometimes cut the file.
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let at = 24 + Int(random.next() % UInt64(bytes.count - 24))
                bytes[at] = UInt8(truncatingIfNeeded: random.next())
            }
            if round % 3 == 0 { bytes = Array(bytes.prefix(24 + Int(random.next() % UInt64(bytes.count - 24)))) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let (reading, direct) = try Self.expectSame(path)
            #expect(direct, "seed \(seed), round \(round)")
            if reading.error != nil { errors += 1 }
        }
        #expect(errors > 0, "seed \(seed): no mutation damaged a record")
    }

    @Test("a stop ends reading at the next packet, once")
    func stop() throws {
        let source = try PcapSource(file: Fixtures.wardSample)
        #expect(source.readsRecordsItself)
        #expect(try source.next { _, _, _ in } == .packet)
        source.breakLoop()
        #expect(try source.next { _, _, _ in } == .end)
        #expect(try source.next { _, _, _ in } == .packet)
    }
}
