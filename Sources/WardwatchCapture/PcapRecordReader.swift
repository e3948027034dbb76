import CMappedFile
import WardwatchModel

/// Reads the packet records of a mapped classic pcap file itself, instead of through libpcap and stdio.
///
/// libpcap reads a file with two `fread` calls a packet: each packet's bytes are copied from the mapping into stdio's
/// buffer, then again into libpcap's. Here they are copied once, a megabyte at a time and guarded against the file
/// shrinking (`ww_mapped_file_read`), and each packet is handed over where it lies in that buffer. About 5% of the
/// capture's CPU on the benchmark capture.
///
/// Only what libpcap would read the same way is taken: classic pcap (not pcapng) in this machine's byte order, format
/// version 2.4, microsecond or nanosecond timestamps (nanoseconds are cut to microseconds as libpcap does). libpcap
/// still opens every file and checks its header; it reads anything else itself. Records are read as libpcap 1.10
/// reads them, down to its error messages: a record longer than libpcap's maximum (262,144 bytes) is an error, one
/// longer than the file's snapshot length is cut to it, a cut record is a "truncated dump file" error.
final class PcapRecordReader {
    /// One record: its bytes (valid until the next read), wire length and time.
    struct Record {
        var bytes: UnsafeRawBufferPointer
        var length: Int
        var time: EventTime
    }

    enum ReadError: Error {
        /// The file is damaged; libpcap's words for it.
        case damaged(String)
        /// A copy out of the mapping failed: the file shrank while it was read.
        case unreadable
    }

    /// libpcap's MAXIMUM_SNAPLEN: the longest record it accepts for the link types Wardwatch decodes.
    static let maximumCaptureLength = 262_144
    static let fileHeaderLength = 24
    static let recordHeaderLength = 16
    static let chunk = 1 << 20

    private let mapping: UnsafeMutablePointer<ww_mapped_file>
    private let nanoseconds: Bool
    /// libpcap's snapshot length for the file (`pcap_snapshot`): longer records are cut to it.
    private let snapshot: Int
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    /// The unread bytes are `buffer[start..<end]`.
    private var start = 0
    private var end = 0
    private var atEnd = false

    /// A reader of `mapping` from its first record, or nil when libpcap must read the file (see the type's comment).
    /// On nil, the mapping's read position is as it was.
    init?(mapping: UnsafeMutablePointer<ww_mapped_file>, snapshot: Int32) {
        let position = mapping.pointee.position
        mapping.pointee.position = 0
        var header = (UInt64(0), UInt64(0), UInt64(0))
        let read = withUnsafeMutableBytes(of: &header) { ww_mapped_file_read(mapping, $0.baseAddress, Self.fileHeaderLength) }
        let fields = withUnsafeBytes(of: header) { bytes in
            (magic: bytes.load(as: UInt32.self), major: bytes.load(fromByteOffset: 4, as: UInt16.self),
             minor: bytes.load(fromByteOffset: 6, as: UInt16.self))
        }
        let microMagic: UInt32 = 0xA1B2_C3D4, nanoMagic: UInt32 = 0xA1B2_3C4D
        guard read == Self.fileHeaderLength, fields.magic == microMagic || fields.magic == nanoMagic,
            fields.major == 2, fields.minor == 4, snapshot > 0
        else {
            mapping.pointee.position = position
            return nil
        }
        self.mapping = mapping
        self.nanoseconds = fields.magic == nanoMagic
        self.snapshot = Int(snapshot)
        capacity = Self.chunk
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The next record, nil at the end of the file.
    func next() throws(ReadError) -> Record? {
        guard try fill(Self.recordHeaderLength) else {
            let got = end - start
            if got == 0 { return nil }
            throw .damaged("truncated dump file; tried to read \(Self.recordHeaderLength) header bytes, only got \(got)")
        }
        let header = buffer + start
        // The header's time fields are signed, as libpcap reads them.
        let seconds = Int64(header.loadUnaligned(as: Int32.self))
        var fraction = Int64(header.loadUnaligned(fromByteOffset: 4, as: Int32.self))
        let captured = Int(header.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let length = Int(header.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        if nanoseconds { fraction /= 1000 }
        if captured > Self.maximumCaptureLength {
            throw .damaged(
                captured > snapshot
                    ? "invalid packet capture length \(captured), bigger than snaplen of \(snapshot)"
                    : "invalid packet capture length \(captured), bigger than maximum of \(Self.maximumCaptureLength)")
        }
        let kept = min(captured, snapshot)
        guard try fill(Self.recordHeaderLength + captured) else {
            // libpcap reads a record cut to the snapshot length in two steps, and names the one that came up short.
            let got = end - start - Self.recordHeaderLength
            let tried = got < kept ? kept : captured
            throw .damaged("truncated dump file; tried to read \(tried) captured bytes, only got \(got)")
        }
        let record = Record(
            bytes: UnsafeRawBufferPointer(start: buffer + start + Self.recordHeaderLength, count: kept), length: length,
            time: EventTime(seconds: seconds, microseconds: fraction))
        start += Self.recordHeaderLength + captured
        return record
    }

    /// Makes `count` unread bytes available in the buffer; false when the file ends first.
    @inline(__always)
    private func fill(_ count: Int) throws(ReadError) -> Bool {
        if end - start >= count { return true }
        return try refill(count)
    }

    private func refill(_ count: Int) throws(ReadError) -> Bool {
        if start > 0 {
            if end > start { buffer.copyMemory(from: buffer + start, byteCount: end - start) }
            end -= start
            start = 0
        }
        if count > capacity {
            let bigger = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 16)
            bigger.copyMemory(from: buffer, byteCount: end)
            buffer.deallocate()
            buffer = bigger
            capacity = count
        }
        while end < count && !atEnd {
            let got = ww_mapped_file_read(mapping, buffer + end, capacity - end)
            if got < 0 { throw .unreadable }
            if got == 0 { atEnd = true } else { end += got }
        }
        return end >= count
    }
}
