import CMappedFile
import Foundation
import WardwatchModel

/// The stream libpcap reads an offline capture from.
///
/// A regular file is mapped into memory and read through a stream that copies from the mapping (`CMappedFile`): no
/// `read` calls, and no kernel copy of every byte into the process (the kernel's copy, `_copy_to_iter`, was about a
/// tenth of the capture's CPU). Pages already copied are handed back every few megabytes, so a large file does not stay
/// in the process's memory. A file that another process truncates while it is read gives its packets up to the cut
/// and then a read error (`shrank`): not SIGBUS, and not the zeros a partly cut page reads as. A file that is still
/// growing is read up to the size it had when opened. Anything else (a pipe, a device, an empty file, a failed map) is
/// read through `read` calls, waiting for data a little at a time so that a stop ends a quiet pipe (`stopReading`).
/// Both go through a 1 MiB stdio buffer (libpcap's own `fopen` would read 4 KiB at a time).
final class CaptureFileStream {
    /// The stream; libpcap closes it once `pcap_fopen_offline` has taken it (`handedToLibpcap()`).
    let file: UnsafeMutablePointer<FILE>
    /// The mapped file the stream reads, while it is open; freed (and unmapped) with this object, after libpcap closed
    /// the stream.
    private let mapping: UnsafeMutablePointer<ww_mapped_file>?
    /// The read-call stream's state, when the file is not mapped; freed with this object, after the stream closed.
    private let piped: UnsafeMutablePointer<ww_piped_file>?
    private let stdioBuffer: UnsafeMutableRawPointer?
    private var ownsFile = true
    /// Hand pages back once this many bytes past the last release have been copied.
    private static let releaseStep = 8 << 20

    init(path: String) throws(CaptureError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CaptureError("cannot open capture file \(path): \(String(cString: strerror(errno)))") }
        var keepsDescriptor = false  // a mapped file's stream checks its size through it
        defer { if !keepsDescriptor { close(fd) } }
        var status = stat()
        var stream: UnsafeMutablePointer<FILE>?
        var mapped: UnsafeMutablePointer<ww_mapped_file>?
        if fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size > 0,
            let base = mmap(nil, Int(status.st_size), PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED
        {
            let size = Int(status.st_size)
            let state = UnsafeMutablePointer<ww_mapped_file>.allocate(capacity: 1)
            state.initialize(to: ww_mapped_file(
                base: base.assumingMemoryBound(to: UInt8.self), size: size, fd: fd, position: 0, released: 0,
                release_step: Self.releaseStep, shrank: 0))
            stream = ww_mapped_file_open(state)
            if stream != nil {
                _ = madvise(base, size, MADV_SEQUENTIAL)
                mapped = state
                keepsDescriptor = true
            } else {
                state.deallocate()
                munmap(base, size)
            }
        }
        var piped: UnsafeMutablePointer<ww_piped_file>?
        if stream == nil {
            let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)  // the stream's own descriptor: `fd` is closed on return
            if copy >= 0 {
                let state = UnsafeMutablePointer<ww_piped_file>.allocate(capacity: 1)
                state.initialize(to: ww_piped_file(fd: copy, stop: 0))
                stream = ww_piped_file_open(state)
                if stream != nil {
                    piped = state
                } else {
                    state.deallocate()
                    close(copy)
                }
            }
        }
        guard let stream else {
            throw CaptureError("cannot open capture file \(path): \(String(cString: strerror(errno)))")
        }
        // stdio buffers either stream: glibc reads an unbuffered one a byte at a time.
        let buffer = malloc(Self.bufferSize)
        if let buffer { setvbuf(stream, buffer.assumingMemoryBound(to: CChar.self), _IOFBF, Self.bufferSize) }
        ww_stream_read_by_one_thread(stream)  // only the capture thread reads it
        file = stream
        mapping = mapped
        self.piped = piped
        stdioBuffer = buffer
    }

    private static let bufferSize = 1 << 20

    /// libpcap has taken the stream and will close it.
    func handedToLibpcap() { ownsFile = false }

    /// The mapped file, for a reader that takes over from libpcap's stream (`PcapRecordReader`): the stream is then
    /// not read again.
    var mappedFile: UnsafeMutablePointer<ww_mapped_file>? { mapping }

    /// Whether the file is read from memory (tests).
    var isMapped: Bool { mapping != nil }

    /// Ends reading a pipe (from any thread): the stream reads as ended within 200 ms even if no more data comes.
    /// A mapped file needs nothing: libpcap's break flag is seen at the next packet.
    func stopReading() {
        if let piped { ww_piped_file_stop(piped) }
    }

    /// Whether `stopReading` was called on a pipe: an error after it is the cut it made, not damage.
    var stopRequested: Bool { piped.map { ww_piped_file_stopped($0) != 0 } ?? false }

    /// Whether the mapped file lost pages while it was read: another process truncated it.
    var shrank: Bool { mapping?.pointee.shrank ?? 0 != 0 }

    deinit {
        if ownsFile { fclose(file) }
        if let mapping {
            munmap(UnsafeMutableRawPointer(mutating: mapping.pointee.base), mapping.pointee.size)
            close(mapping.pointee.fd)
            mapping.deallocate()
        }
        piped?.deallocate()
        free(stdioBuffer)
    }
}
