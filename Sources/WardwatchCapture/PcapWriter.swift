import CPcap
import WardwatchDecoders
import WardwatchModel

/// Writes packets to a classic pcap file (microsecond timestamps). Used to build benchmark and test captures.
public final class PcapWriter {
    private let dead: OpaquePointer
    private let dumper: OpaquePointer

    public init(path: String, linkType: LinkType, snapLength: Int32 = 262_144) throws(CaptureError) {
        guard let dead = pcap_open_dead(linkType.rawValue, snapLength) else { throw CaptureError("cannot create a pcap writer") }
        guard let dumper = pcap_dump_open(dead, path) else {
            let detail = String(cString: pcap_geterr(dead))
            pcap_close(dead)
            throw CaptureError("cannot write capture file \(path): \(detail)")
        }
        self.dead = dead
        self.dumper = dumper
    }

    public func write(_ bytes: [UInt8], originalLength: Int, time: EventTime) {
        var header = pcap_pkthdr()
        let micros = ((time.microseconds % 1_000_000) + 1_000_000) % 1_000_000
        header.ts.tv_sec = Int((time.microseconds - micros) / 1_000_000)
        header.ts.tv_usec = Int(micros)
        header.caplen = UInt32(bytes.count)
        header.len = UInt32(originalLength)
        bytes.withUnsafeBufferPointer { buffer in
            withUnsafePointer(to: &header) { pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), $0, buffer.baseAddress) }
        }
    }

    deinit {
        pcap_dump_close(dumper)
        pcap_close(dead)
    }
}
