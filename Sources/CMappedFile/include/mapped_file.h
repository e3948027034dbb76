#ifndef WARDWATCH_MAPPED_FILE_H
#define WARDWATCH_MAPPED_FILE_H
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/// A file mapped into memory, read as a stdio stream.
///
/// The stream copies from the mapping into stdio's buffer. If another process truncates the file while it is read, a
/// copy touching a page the file no longer has raises SIGBUS, and a copy of the last, partly cut page reads zeros.
/// Here the stream instead delivers the bytes the file still has, sets `shrank` and then fails with EIO, so the
/// reader gets everything before the cut and an error, not a dead process or made-up bytes. Pages already copied are
/// handed back every `release_step` bytes, so a large file does not stay in memory.
typedef struct ww_mapped_file {
    const unsigned char *base;
    size_t size;
    /// The open file (its current size is checked after each copy); the owner closes it.
    int fd;
    /// Bytes copied out so far.
    size_t position;
    /// Bytes at the start of the mapping already handed back (a multiple of the page size).
    size_t released;
    size_t release_step;
    /// Set once a copy hit a page past the file's end.
    int shrank;
} ww_mapped_file;

/// Opens a read-only stream over `file`, which must stay valid until the stream is closed. NULL on failure (errno).
FILE *ww_mapped_file_open(ww_mapped_file *file);

/// Copies up to `length` bytes from `file` at its read position, as the stream does, without a stream: how many were
/// copied, 0 at the end, -1 (errno EIO) once the file has shrunk. For a reader that takes over from the stream.
ssize_t ww_mapped_file_read(ww_mapped_file *file, void *buffer, size_t length);

/// A file read through `read` calls (a pipe, a device), as a stdio stream that a stop can end: the stream waits for
/// data at most 200 ms at a time and, once `stop` is set, reads as ended. Without it a stop would wait for the next
/// byte of a quiet pipe for ever.
typedef struct ww_piped_file {
    /// The open file; the stream closes it.
    int fd;
    /// Set by `ww_piped_file_stop` (from any thread).
    int stop;
} ww_piped_file;

/// Opens a stream over `file`, which must stay valid until the stream is closed. NULL on failure (errno).
FILE *ww_piped_file_open(ww_piped_file *file);

/// Ends reading: the stream reads as ended within 200 ms, at its next wait for data.
void ww_piped_file_stop(ww_piped_file *file);

/// Whether `ww_piped_file_stop` was called (from any thread).
int ww_piped_file_stopped(const ww_piped_file *file);

/// Stops stdio from locking `stream` on every call: for a stream only ever used by one thread (libpcap reads a capture
/// file with two `fread` calls per packet, each otherwise taking the stream's lock).
void ww_stream_read_by_one_thread(FILE *stream);

#endif
