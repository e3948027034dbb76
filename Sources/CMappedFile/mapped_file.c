#define _GNU_SOURCE
#include "mapped_file.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio_ext.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// The copy in progress on this thread, if any: the jump back to it and the range it reads, and where it faulted.
// Volatile, and fenced around the copy: the compiler knows memcpy does not read them and would otherwise drop or move
// the stores. Initial-exec TLS: reading it in the handler never allocates.
#define GUARD_TLS static __thread __attribute__((tls_model("initial-exec")))
GUARD_TLS sigjmp_buf *volatile guard_jump;
GUARD_TLS const unsigned char *volatile guard_low;
GUARD_TLS const unsigned char *volatile guard_high;
GUARD_TLS const unsigned char *volatile guard_fault;

static struct sigaction previous_bus;
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;

static void on_bus(int signal, siginfo_t *info, void *context) {
    sigjmp_buf *jump = guard_jump;
    const unsigned char *address = info->si_addr;
    if (jump && info->si_code == BUS_ADRERR && address >= guard_low && address < guard_high) {
        guard_fault = address;
        guard_jump = NULL;
        siglongjmp(*jump, 1);
    }
    // Not a guarded copy (or a hardware memory error): put back whoever handled SIGBUS before (the Swift runtime's
    // backtracer or the default action). A fault then happens again on return and goes there; a sent signal is sent
    // again.
    sigaction(SIGBUS, &previous_bus, NULL);
    if (info->si_code <= 0) raise(signal);
    (void)context;
}

static void install_handler(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_bus;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, NULL, &previous_bus);  // saved before ours can run
    sigaction(SIGBUS, &action, NULL);
}

/// Copies up to `length` bytes from the mapping; returns how many: fewer when a page was gone (the file shrank), all
/// the bytes before the first missing page.
static size_t guarded_copy(void *destination, const unsigned char *source, size_t length) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    while (length > 0) {
        sigjmp_buf jump;
        if (sigsetjmp(jump, 1) != 0) {
            // What memcpy wrote is not trusted (it may copy the tail first): copy again up to the missing page.
            const unsigned char *missing = (const unsigned char *)((uintptr_t)guard_fault & ~(uintptr_t)(page - 1));
            size_t before = missing > source ? (size_t)(missing - source) : 0;
            length = before < length ? before : 0;
            continue;
        }
        guard_low = source;
        guard_high = source + length;
        guard_jump = &jump;
        __asm__ volatile("" ::: "memory");
        memcpy(destination, source, length);
        __asm__ volatile("" ::: "memory");
        guard_jump = NULL;
        return length;
    }
    return 0;
}

static void release_copied(ww_mapped_file *file) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t end = file->position / page * page;
    if (end <= file->released || end - file->released < file->release_step) return;
    madvise((void *)(file->base + file->released), end - file->released, MADV_DONTNEED);
    file->released = end;
}

static ssize_t read_mapped(void *cookie, char *buffer, size_t length) {
    ww_mapped_file *file = cookie;
    if (file->shrank) {
        errno = EIO;
        return -1;
    }
    size_t left = file->size - file->position;
    size_t wanted = length < left ? length : left;
    if (wanted == 0) return 0;
    size_t copied = guarded_copy(buffer, file->base + file->position, wanted);
    // A cut inside a page reads zeros rather than faulting: trust only what the file still holds after the copy.
    struct stat status;
    if (fstat(file->fd, &status) == 0 && (size_t)status.st_size < file->position + copied) {
        copied = (size_t)status.st_size > file->position ? (size_t)status.st_size - file->position : 0;
        file->shrank = 1;
    }
    if (copied < wanted) file->shrank = 1;
    if (copied == 0) {
        errno = EIO;
        return -1;
    }
    file->position += copied;
    release_copied(file);
    return (ssize_t)copied;
}

static int seek_mapped(void *cookie, off64_t *offset, int whence) {
    ww_mapped_file *file = cookie;
    off64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (off64_t)file->position : (off64_t)file->size;
    off64_t target = base + *offset;
    if (target < 0 || target > (off64_t)file->size) {
        errno = EINVAL;
        return -1;
    }
    file->position = (size_t)target;
    *offset = target;
    return 0;
}

ssize_t ww_mapped_file_read(ww_mapped_file *file, void *buffer, size_t length) {
    pthread_once(&handler_once, install_handler);
    return read_mapped(file, buffer, length);
}

FILE *ww_mapped_file_open(ww_mapped_file *file) {
    pthread_once(&handler_once, install_handler);
    cookie_io_functions_t functions = {.read = read_mapped, .write = NULL, .seek = seek_mapped, .close = NULL};
    return fopencookie(file, "rb", functions);
}

void ww_stream_read_by_one_thread(FILE *stream) { __fsetlocking(stream, FSETLOCKING_BYCALLER); }

static ssize_t read_piped(void *cookie, char *buffer, size_t length) {
    ww_piped_file *file = cookie;
    for (;;) {
        if (ww_piped_file_stopped(file)) return 0;  // reads as the end of the stream
        struct pollfd wait = {.fd = file->fd, .events = POLLIN};
        int ready = poll(&wait, 1, 200);
        if (ready < 0 && errno != EINTR) return -1;
        if (ready <= 0) continue;
        ssize_t got = read(file->fd, buffer, length);
        if (got < 0 && errno == EINTR) continue;
        return got;
    }
}

static int close_piped(void *cookie) {
    ww_piped_file *file = cookie;
    return close(file->fd);
}

FILE *ww_piped_file_open(ww_piped_file *file) {
    cookie_io_functions_t functions = {.read = read_piped, .write = NULL, .seek = NULL, .close = close_piped};
    return fopencookie(file, "rb", functions);
}

void ww_piped_file_stop(ww_piped_file *file) { __atomic_store_n(&file->stop, 1, __ATOMIC_RELEASE); }

int ww_piped_file_stopped(const ww_piped_file *file) { return __atomic_load_n(&file->stop, __ATOMIC_ACQUIRE); }
