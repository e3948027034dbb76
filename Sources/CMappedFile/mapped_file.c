#define _GNU_SOURCE
#include "mapped_file.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

// The copy in progress on this thread, if any: the jump back to it and the range it reads. Volatile, and fenced
// around the copy: the compiler knows memcpy does not read them and would otherwise drop or move the stores.
static __thread sigjmp_buf *volatile guard_jump;
static __thread const unsigned char *volatile guard_low;
static __thread const unsigned char *volatile guard_high;

static struct sigaction previous_bus;
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;

static void on_bus(int signal, siginfo_t *info, void *context) {
    sigjmp_buf *jump = guard_jump;
    const unsigned char *address = info->si_addr;
    if (jump && info->si_code > 0 && address >= guard_low && address < guard_high) {
        guard_jump = NULL;
        siglongjmp(*jump, 1);
    }
    // Not a guarded copy: put back whoever handled SIGBUS before (the Swift runtime's backtracer or the default
    // action). A fault then happens again on return and goes there; a sent signal is sent again.
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
    sigaction(SIGBUS, &action, &previous_bus);
}

/// Copies `length` bytes from the mapping; 0 when a page was gone (the file shrank), else 1.
static int guarded_copy(void *destination, const unsigned char *source, size_t length) {
    sigjmp_buf jump;
    if (sigsetjmp(jump, 1) != 0) {
        return 0;
    }
    guard_low = source;
    guard_high = source + length;
    guard_jump = &jump;
    __asm__ volatile("" ::: "memory");
    memcpy(destination, source, length);
    __asm__ volatile("" ::: "memory");
    guard_jump = NULL;
    return 1;
}

static void release_copied(ww_mapped_file *file) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t end = file->position / page * page;
    if (end - file->released < file->release_step) return;
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
    size_t count = length < left ? length : left;
    if (count == 0) return 0;
    if (!guarded_copy(buffer, file->base + file->position, count)) {
        file->shrank = 1;
        errno = EIO;
        return -1;
    }
    file->position += count;
    release_copied(file);
    return (ssize_t)count;
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

FILE *ww_mapped_file_open(ww_mapped_file *file) {
    pthread_once(&handler_once, install_handler);
    cookie_io_functions_t functions = {.read = read_mapped, .write = NULL, .seek = seek_mapped, .close = NULL};
    return fopencookie(file, "rb", functions);
}
