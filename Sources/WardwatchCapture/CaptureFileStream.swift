import Foundation
import WardwatchModel

/// The stream libpcap reads an offline capture from.
///
/// A regular file is mapped into memory and read through a memory stream (`fmemopen`): no `read` calls, and no
/// kernel copy of every byte into the process (the kernel's copy, `_copy_to_iter`, was about a tenth of the capture's
/// CPU). Pages already read are handed back every few megabytes (`releaseRead()`), so a large file does not stay in
/// the process's memory. Anything else (a pipe, a device, an empty file, a failed map) is read through `read` calls.
/// Both go through a 1 MiB stdio buffer (libpcap's own `fopen` would read 4 KiB at a time).
///
/// A mapped file must not shrink while it is read: touching a page past its new end raises SIGBUS. A file that is
/// still growing is read up to the size it had when opened.
final class CaptureFileStream {
    /// The stream; libpcap closes it once `pcap_fopen_offline` has taken it (`handedToLibpcap()`).
    let file: UnsafeMutablePointer<FILE>
    private let mapping: UnsafeMutableRawBufferPointer?
    private let stdioBuffer: UnsafeMutableRawPointer?
    private var ownsFile = true
    /// Bytes at the start of the mapping already handed back.
    private var released = 0
    /// Hand pages back once this many bytes past the last release have been read.
    private static let releaseStep = 8 << 20
    /// Packets between two looks at the read position (asking stdio for it is too dear for every packet).
    private static let releaseInterval = 1 << 14
    private var packetsSinceRelease = 0

    init(path: String) throws(CaptureError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CaptureError("cannot open capture file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var status = stat()
        var stream: UnsafeMutablePointer<FILE>?
        var mapped: UnsafeMutableRawBufferPointer?
        if fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size > 0,
            let base = mmap(nil, Int(status.st_size), PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED
        {
            let size = Int(status.st_size)
            stream = fmemopen(base, size, "rb")
            if stream != nil {
                _ = madvise(base, size, MADV_SEQUENTIAL)
                mapped = UnsafeMutableRawBufferPointer(start: base, count: size)
            } else {
                munmap(base, size)
            }
        }
        if stream == nil {
            let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)  // the stream's own descriptor: `fd` is closed on return
            stream = copy >= 0 ? fdopen(copy, "rb") : nil
            if stream == nil && copy >= 0 { close(copy) }
        }
        guard let stream else {
            throw CaptureError("cannot open capture file \(path): \(String(cString: strerror(errno)))")
        }
        // stdio buffers either stream: glibc reads an unbuffered one a byte at a time.
        let buffer = malloc(Self.bufferSize)
        if let buffer { setvbuf(stream, buffer.assumingMemoryBound(to: CChar.self), _IOFBF, Self.bufferSize) }
        file = stream
        mapping = mapped
        stdioBuffer = buffer
    }

    private static let bufferSize = 1 << 20

    /// libpcap has taken the stream and will close it.
    func handedToLibpcap() { ownsFile = false }

    /// Whether the file is read from memory (tests).
    var isMapped: Bool { mapping != nil }

    /// Counts a packet read; every `releaseInterval` packets, hands back what has been read.
    @inline(__always)
    func packetRead() {
        packetsSinceRelease &+= 1
        guard packetsSinceRelease == Self.releaseInterval else { return }
        packetsSinceRelease = 0
        releaseRead()
    }

    /// Hands back the pages before the read position, every `releaseStep` bytes. libpcap has copied what it read, so
    /// nothing points into them.
    func releaseRead() {
        guard let mapping, let base = mapping.baseAddress else { return }
        let position = ftell(file)
        guard position > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let end = min(Int(position), mapping.count) / page * page
        guard end - released >= Self.releaseStep else { return }
        _ = madvise(base + released, end - released, MADV_DONTNEED)
        released = end
    }

    deinit {
        if ownsFile { fclose(file) }
        if let mapping, let base = mapping.baseAddress { munmap(base, mapping.count) }
        free(stdioBuffer)
    }
}
