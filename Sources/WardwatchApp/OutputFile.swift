import Foundation

/// Opens an output path for writing the way a shell redirection does: created or truncated in place, so device files
/// (/dev/null), FIFOs and symbolic links keep what they are. (`FileManager.createFile` replaces the path with a new
/// regular file, which would turn /dev/null into one.)
enum OutputFile {
    static func open(_ path: String) -> FileHandle? {
        let fd = path.withCString { Glibc.open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        guard fd >= 0 else { return nil }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }
}
