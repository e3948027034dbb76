import CPcap
import Foundation
import Synchronization
import WardwatchDecoders
import WardwatchModel

/// An error opening or reading a capture: one line naming the file or interface and the cause.
public struct CaptureError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Live capture settings.
public struct LiveCaptureOptions: Sendable {
    public var interface: String
    /// Receive frames addressed to other hosts (a SPAN port's traffic).
    public var promiscuous = true
    /// Bytes kept of each packet.
    public var snapLength: Int32 = 65535
    /// The kernel's ring buffer: what absorbs a burst while the reader is busy.
    public var bufferSizeBytes: Int32 = 16 << 20
    /// Hand each packet over as it arrives. Off by default: the kernel then fills blocks of packets back to back
    /// (at most the 100 ms read timeout late), where in immediate mode libpcap gives each packet a ring slot sized for
    /// the snap length. With the 65,535-byte snap length a 16 MiB buffer then holds about 255 packets of 1,400 bytes
    /// instead of about 11,000 (measured on a veth pair), so a burst while the reader is busy is dropped 40 times
    /// sooner. A sensor publishes in batches anyway; immediate mode is for watching a quiet link by hand.
    public var immediateMode = false
    /// A BPF filter in tcpdump syntax.
    public var bpfFilter: String?
    /// A Linux packet fanout group to join (0 to 65535): the kernel splits the interface's traffic among the captures
    /// in the group by a flow hash that is the same both ways, so each connection, both directions, reaches one
    /// capture. One capture per core then keeps up with a link one core cannot. Every member must use the same
    /// interface and filter.
    public var fanoutGroup: UInt16?

    public init(interface: String) { self.interface = interface }

    /// The largest snap length libpcap accepts for Ethernet (its MAXIMUM_SNAPLEN).
    public static let maxSnapLength: Int32 = 262_144
    /// The largest capture buffer, MiB (the size is a 32-bit count of bytes).
    public static let maxBufferMiB = 2047
}

/// A libpcap handle on a file or an interface. Not thread-safe: one reading thread owns it.
public final class PcapSource {
    private let handle: OpaquePointer
    /// The stream an offline file is read from (closed by `pcap_close`, then unmapped and freed with this source).
    private let stream: CaptureFileStream?
    /// The file's records when they are read without libpcap (see `PcapRecordReader`), and the filter compiled for
    /// them.
    private let records: PcapRecordReader?
    /// `records` without a reference count, for the per-packet path (a counted load cost a retain and a release
    /// a packet); `records` keeps the reader alive as long as the source.
    private let unretainedRecords: Unmanaged<PcapRecordReader>?
    private let recordFilter: UnsafeMutablePointer<bpf_program>?
    /// Set by `breakLoop` for `records` (libpcap's own flag for anything it reads).
    private let breakRequested = Atomic<Bool>(false)
    public let name: String
    public let linkType: LinkType
    public let isLive: Bool
    /// The packet fanout group a live capture joined, if any.
    public let fanoutGroup: UInt16?

    /// Opens a pcap or pcapng file with microsecond timestamps; with `bpfFilter` (tcpdump syntax, compiled for the
    /// file's link type) only the packets it accepts are read. A mapped classic pcap file's records are read without
    /// libpcap (`PcapRecordReader`, the same packets and errors) unless `throughLibpcap`.
    public init(file path: String, bpfFilter: String? = nil, throughLibpcap: Bool = false) throws(CaptureError) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CaptureError("cannot open capture file \(path): no such file")
        }
        // Opened here rather than by libpcap: mapped, or with a larger stdio buffer (see CaptureFileStream).
        let stream = try CaptureFileStream(path: path)
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard
            let handle = pcap_fopen_offline_with_tstamp_precision(stream.file, UInt32(PCAP_TSTAMP_PRECISION_MICRO), &errbuf)
        else {
            throw CaptureError("cannot open capture file \(path): \(Self.text(errbuf))")
        }
        stream.handedToLibpcap()
        let dlt = pcap_datalink(handle)
        guard let linkType = LinkType(rawValue: dlt) else {
            pcap_close(handle)
            throw CaptureError("capture file \(path) has link type \(dlt), which Wardwatch does not decode")
        }
        var program: UnsafeMutablePointer<bpf_program>?
        if let bpfFilter { program = try Self.apply(bpfFilter, to: handle, naming: path) }
        let records = throughLibpcap ? nil : stream.mappedFile.flatMap { PcapRecordReader(mapping: $0, snapshot: pcap_snapshot(handle)) }
        // Records read here are filtered here, with the program libpcap was given; libpcap filters what it reads.
        let recordFilter = records == nil ? nil : program
        if records == nil, let program { Self.free(program) }
        self.handle = handle
        self.stream = stream
        self.records = records
        self.unretainedRecords = records.map(Unmanaged.passUnretained)
        self.recordFilter = recordFilter
        self.name = path
        self.linkType = linkType
        self.isLive = false
        self.fanoutGroup = nil
    }

    /// Opens a live interface.
    public init(live options: LiveCaptureOptions) throws(CaptureError) {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_create(options.interface, &errbuf) else {
            throw CaptureError("cannot open interface \(options.interface): \(Self.text(errbuf))")
        }
        pcap_set_snaplen(handle, options.snapLength)
        pcap_set_promisc(handle, options.promiscuous ? 1 : 0)
        pcap_set_timeout(handle, 100)
        pcap_set_immediate_mode(handle, options.immediateMode ? 1 : 0)
        pcap_set_buffer_size(handle, options.bufferSizeBytes)
        _ = pcap_set_tstamp_precision(handle, Int32(PCAP_TSTAMP_PRECISION_MICRO))
        let status = pcap_activate(handle)
        if status < 0 {
            let detail = String(cString: pcap_geterr(handle))
            pcap_close(handle)
            throw CaptureError("cannot capture on interface \(options.interface): \(detail)")
        }
        // Joined first: until then the socket gets every packet, not its share.
        if let group = options.fanoutGroup { try Self.joinFanout(group, handle: handle, interface: options.interface) }
        if let filter = options.bpfFilter { Self.free(try Self.apply(filter, to: handle, naming: options.interface)) }
        let dlt = pcap_datalink(handle)
        guard let linkType = LinkType(rawValue: dlt) else {
            pcap_close(handle)
            throw CaptureError("interface \(options.interface) has link type \(dlt), which Wardwatch does not decode")
        }
        self.handle = handle
        self.stream = nil
        self.records = nil
        self.unretainedRecords = nil
        self.recordFilter = nil
        self.name = options.interface
        self.linkType = linkType
        self.isLive = true
        self.fanoutGroup = options.fanoutGroup
    }

    deinit {
        if let recordFilter { Self.free(recordFilter) }
        pcap_close(handle)
    }

    /// Whether an offline file is read from memory.
    public var isMapped: Bool { stream?.isMapped ?? false }

    /// Whether an offline file's records are read without libpcap (`PcapRecordReader`).
    public var readsRecordsItself: Bool { records != nil }

    public enum ReadResult {
        case packet
        case timeout
        case end
    }

    /// Reads the next packet and calls `body` with its bytes, wire length and time. Throws for a corrupt file.
    public func next(_ body: (UnsafeRawBufferPointer, Int, EventTime) -> Void) throws(CaptureError) -> ReadResult {
        if unretainedRecords != nil { return try nextRecord(body) }
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        switch pcap_next_ex(handle, &header, &data) {
        case 1:
            guard let header, let data else { return .timeout }
            let h = header.pointee
            let time = EventTime(seconds: Int64(h.ts.tv_sec), microseconds: Int64(h.ts.tv_usec))
            body(UnsafeRawBufferPointer(start: data, count: Int(h.caplen)), Int(h.len), time)
            return .packet
        case 0:
            return .timeout
        case PCAP_ERROR_BREAK:
            return .end
        default:
            if stream?.stopRequested == true { return .end }  // a stop cut a pipe mid-record: not damage
            if stream?.shrank == true { throw shrankError }
            throw readError(String(cString: pcap_geterr(handle)))
        }
    }

    /// A read error of this source, with its cause.
    private func readError(_ cause: String) -> CaptureError {
        CaptureError("error reading \(isLive ? "interface" : "capture file") \(name): \(cause)")
    }

    private var shrankError: CaptureError {
        CaptureError("capture file \(name) shrank while it was read (truncated by another process); read stopped there")
    }

    /// `next` for a file whose records are read without libpcap: the same packets, filter, stop and errors.
    private func nextRecord(_ body: (UnsafeRawBufferPointer, Int, EventTime) -> Void) throws(CaptureError) -> ReadResult {
        while true {
            if breakRequested.load(ordering: .relaxed) {
                breakRequested.store(false, ordering: .relaxed)  // seen once, as libpcap's flag is
                return .end
            }
            let record: PcapRecordReader.Record
            do {
                let read = unretainedRecords.unsafelyUnwrapped._withUnsafeGuaranteedRef { reader in
                    Result { () throws(PcapRecordReader.ReadError) in try reader.next() }
                }
                guard let next = try read.get() else { return .end }
                record = next
            } catch {
                switch error {
                case .damaged(let cause): throw readError(cause)
                case .unreadable:
                    if stream?.shrank == true { throw shrankError }
                    throw readError("error reading dump file: \(String(cString: strerror(errno)))")
                }
            }
            if let recordFilter {
                var header = pcap_pkthdr()
                header.caplen = UInt32(record.bytes.count)
                header.len = UInt32(truncatingIfNeeded: record.length)
                let data = record.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
                guard let data, pcap_offline_filter(recordFilter, &header, data) != 0 else { continue }
            }
            body(record.bytes, record.length, record.time)
            return .packet
        }
    }

    /// Makes a blocked `next` return `.end` (from another thread).
    public func breakLoop() {
        breakRequested.store(true, ordering: .relaxed)
        pcap_breakloop(handle)
        stream?.stopReading()  // a quiet pipe: libpcap's flag is only seen after the next packet
    }

    /// Makes reads of a live source return `.timeout` at once when no packet is waiting (after a stop, to drain the
    /// ring: a blocking read of a quiet interface waits for the next packet however long it takes).
    func stopBlocking() {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        _ = pcap_setnonblock(handle, 1, &errbuf)
    }

    /// Kernel and interface drop counts of a live capture.
    public func statistics() -> (received: UInt32, dropped: UInt32, interfaceDropped: UInt32)? {
        var stats = pcap_stat()
        guard isLive, pcap_stats(handle, &stats) == 0 else { return nil }
        return (stats.ps_recv, stats.ps_drop, stats.ps_ifdrop)
    }

    /// Compiles `filter` for the handle's link type and sets it; returns the compiled program, which the caller owns
    /// (`free`): a file whose records are read without libpcap applies it itself. On failure the handle is closed
    /// (the caller is still opening it) and the error names the filter (and `source`).
    private static func apply(
        _ filter: String, to handle: OpaquePointer, naming source: String
    ) throws(CaptureError) -> UnsafeMutablePointer<bpf_program> {
        let program = UnsafeMutablePointer<bpf_program>.allocate(capacity: 1)
        program.initialize(to: bpf_program())
        guard pcap_compile(handle, program, filter, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            let error = CaptureError("invalid capture filter '\(filter)': \(String(cString: pcap_geterr(handle)))")
            program.deallocate()
            pcap_close(handle)
            throw error
        }
        guard pcap_setfilter(handle, program) == 0 else {
            let error = CaptureError("cannot set capture filter '\(filter)' on \(source): \(String(cString: pcap_geterr(handle)))")
            Self.free(program)
            pcap_close(handle)
            throw error
        }
        return program
    }

    /// Frees a program `apply` returned.
    private static func free(_ program: UnsafeMutablePointer<bpf_program>) {
        pcap_freecode(program)
        program.deallocate()
    }

    /// Constants of linux/if_packet.h and linux/socket.h, which Swift's Glibc module does not import.
    private enum PacketSocket {
        static let level: Int32 = 263  // SOL_PACKET
        static let fanout: Int32 = 18  // PACKET_FANOUT
        static let fanoutByHash: UInt32 = 0  // PACKET_FANOUT_HASH
    }

    /// Joins the live handle's packet socket to fanout group `group` in hash mode (packet(7)), without the defragment
    /// flag: the capture sees packets as they were on the wire. On failure the handle is closed (the caller is still
    /// opening it) and the error names the group and the interface.
    private static func joinFanout(_ group: UInt16, handle: OpaquePointer, interface: String) throws(CaptureError) {
        var setting = UInt32(group) | PacketSocket.fanoutByHash << 16
        let fd = pcap_fileno(handle)
        guard fd >= 0, setsockopt(fd, PacketSocket.level, PacketSocket.fanout, &setting, socklen_t(MemoryLayout<UInt32>.size)) == 0 else {
            let cause = fd < 0 ? "no packet socket" : String(cString: strerror(errno))
            pcap_close(handle)
            throw CaptureError("cannot join fanout group \(group) on interface \(interface): \(cause)")
        }
    }

    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension PcapSource: @unchecked Sendable {}
