import Foundation
import Synchronization
import Testing
import WardwatchCapture
import WardwatchModel

@Suite("Capture files")
struct CaptureFileTests {
    /// Every packet of a source: its captured bytes, wire length and time.
    static func packets(of source: PcapSource) throws -> [(bytes: [UInt8], length: Int, time: EventTime)] {
        var packets: [(bytes: [UInt8], length: Int, time: EventTime)] = []
        while try source.next({ bytes, length, time in packets.append((Array(bytes), length, time)) }) == .packet {}
        return packets
    }

    @Test("a regular file is read from memory, a pipe through read calls, and both give the same packets")
    func mappedAndPiped() throws {
        let mapped = try PcapSource(file: Fixtures.wardSample)
        #expect(mapped.isMapped)
        let fromMemory = try Self.packets(of: mapped)
        #expect(fromMemory.count > 50)

        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("capture-fifo-\(getpid())").path
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        let contents = try Data(contentsOf: URL(fileURLWithPath: Fixtures.wardSample))
        let writer = Thread {
            guard let out = FileHandle(forWritingAtPath: fifo) else { return }
            out.write(contents)
            try? out.close()
        }
        writer.start()
        let piped = try PcapSource(file: fifo)
        #expect(!piped.isMapped)
        let fromPipe = try Self.packets(of: piped)
        #expect(fromPipe.count == fromMemory.count)
        #expect(zip(fromPipe, fromMemory).allSatisfy { $0.bytes == $1.bytes && $0.length == $1.length && $0.time == $1.time })
    }

    @Test("a stop ends a capture from a pipe that has gone quiet, without an error")
    func quietPipeStops() async throws {
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("quiet-fifo-\(getpid())").path
        unlink(fifo)
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        let writer = open(fifo, O_RDWR)  // held open: the pipe never ends by itself
        #expect(writer >= 0)
        defer { close(writer) }
        let contents = try Data(contentsOf: URL(fileURLWithPath: Fixtures.wardSample))
        _ = contents.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
        let source = try PcapSource(file: fifo)
        let sink = CollectingSink()
        let runner = CaptureRunner(
            sources: [source], sensor: SensorIdentity(sensorId: "pipe", site: "lab"), sink: sink, batchSize: 1)
        let ended = Mutex<Result<CaptureCounters, any Error>?>(nil)
        Task {
            let result: Result<CaptureCounters, any Error>
            do { result = .success(try await runner.run()) } catch { result = .failure(error) }
            ended.withLock { $0 = result }
        }
        let expected = try Self.packets(of: try PcapSource(file: Fixtures.wardSample)).count
        // Wait until the capture has decoded every packet that makes an observation (one batch each, as the file
        // gives them before its end), and a moment more: it then waits on a quiet pipe. An empty pipe alone says
        // nothing: opening the source already read the whole sample into its stdio buffer.
        let beforeEnd = try Fixtures.observations(Fixtures.wardSample).0.count
        func unread() -> Int32 {
            var count: Int32 = 0
            _ = withUnsafeMutablePointer(to: &count) { ioctl(writer, UInt(FIONREAD), $0) }
            return count
        }
        var deadline = ContinuousClock.now + .seconds(30)
        while sink.observations.withLock({ $0.count }) < beforeEnd && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(sink.observations.withLock { $0.count } == beforeEnd)
        #expect(unread() == 0)
        try await Task.sleep(for: .milliseconds(500))
        #expect(ended.withLock { $0 } == nil, "the capture ended while the pipe was still open")
        runner.stop()
        deadline = ContinuousClock.now + .seconds(10)
        while ended.withLock({ $0 }) == nil && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let outcome = try #require(ended.withLock { $0 }, "the stop did not end a capture waiting on a quiet pipe")
        let counters = try outcome.get()  // no error: a stop is not damage
        #expect(counters.packets > 0 && counters.packets <= expected, "\(counters.packets) of \(expected) packets")
    }

    @Test("a truncated file read from memory ends with an error naming it, after the packets before the cut")
    func truncatedMapped() throws {
        let contents = try Data(contentsOf: URL(fileURLWithPath: Fixtures.wardSample))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("truncated-\(getpid()).pcap").path
        try contents.prefix(contents.count / 2).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        let source = try PcapSource(file: path)
        #expect(source.isMapped)
        var count = 0
        let error = #expect(throws: CaptureError.self) {
            while try source.next({ _, _, _ in count += 1 }) == .packet {}
        }
        #expect(count > 10)
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("truncated") == true)
    }

    @Test("a mapped file truncated by another process while it is read gives every packet before the cut, then an error naming it, not SIGBUS")
    func shrinksWhileRead() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shrinking-\(getpid()).pcap").path
        defer { unlink(path) }
        // 16,000 packets of 1,000 bytes: far more than the stream's 1 MiB buffer, so reading goes on into pages the
        // truncation removes.
        do {
            let writer = try PcapWriter(path: path, linkType: .ethernet)
            for index in 0..<16_000 {
                writer.write([UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 1_000), originalLength: 1_000,
                             time: EventTime(seconds: 1_700_000_000 + Int64(index), microseconds: 0))
            }
        }
        let source = try PcapSource(file: path)
        #expect(source.isMapped)
        var count = 0
        var error: CaptureError?
        // Cut past the first 1 MiB the stream has already copied, inside a page and inside a packet: the bytes of the
        // cut page past the new end read as zeros, the pages after it fault.
        let cut = 5_000_500
        do {
            while try source.next({ _, _, _ in count += 1 }) == .packet {
                if count == 100 { #expect(truncate(path, off_t(cut)) == 0) }
            }
        } catch let caught {
            error = caught
        }
        // A 24-byte file header, then records of a 16-byte header and 1,000 bytes: every whole record before the cut.
        #expect(count == (cut - 24) / 1_016)
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("shrank") == true)
        #expect(error?.description.contains("\n") == false)
    }

    @Test("an empty file and a directory are one-line errors naming them")
    func emptyAndDirectory() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(getpid()).pcap").path
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        defer { unlink(empty) }
        for path in [empty, FileManager.default.temporaryDirectory.path] {
            let error = #expect(throws: CaptureError.self) { _ = try PcapSource(file: path) }
            #expect(error?.description.contains(path) == true)
            #expect(error?.description.contains("\n") == false)
        }
    }
}
