/*
 * The input: opened as a regular file only (never blocking), read block by
 * block, and watched for changes while it is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* The path as messages show it: one line whatever bytes it holds (control
   bytes escaped as \xNN) and short enough for a message (middle elided). */
static void path_for_messages(const char *path, char *out, size_t out_len)
{
    char escaped[1024];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p && n + 5 < sizeof escaped; p++) {
        if (*p < 0x20 || *p == 0x7f)
            n += (size_t)snprintf(escaped + n, sizeof escaped - n, "\\x%02x", *p);
        else
            escaped[n++] = (char)*p;
    }
    escaped[n] = 0;
    if (n < out_len) {
        memcpy(out, escaped, n + 1);
        return;
    }
    size_t head = (out_len - 4) / 3, tail = out_len - 4 - head;
    snprintf(out, out_len, "%.*s...%s", (int)head, escaped, escaped + n - tail);
}

static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a file";
}

int input_open(const char *path, char *shown, size_t shown_len, int *fd_out, struct stat *st,
               engine_error *err)
{
    path_for_messages(path, shown, shown_len);
    /* Non-blocking: opening a FIFO must not wait for a writer.  Then only
       regular files go on: a FIFO, /dev/zero or a socket has no size and may
       never end. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        if (err)
            err->sys_errno = e;
        struct stat st;
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) { /* e.g. a socket: ENXIO */
            int code = S_ISDIR(st.st_mode) ? ENGINE_E_IS_DIR : ENGINE_E_NOT_FILE;
            error_set(err, code, "cannot read '%s': it is %s, not a regular file", shown,
                      file_kind(st.st_mode));
            return code;
        }
        error_set(err, ENGINE_E_OPEN, "cannot open '%s': %s", shown, strerror(e));
        return ENGINE_E_OPEN;
    }
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        if (err)
            err->sys_errno = e;
        error_set(err, ENGINE_E_OPEN, "cannot open '%s': fstat failed: %s", shown, strerror(e));
        return ENGINE_E_OPEN;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        int code = S_ISDIR(st->st_mode) ? ENGINE_E_IS_DIR : ENGINE_E_NOT_FILE;
        error_set(err, code, "cannot read '%s': it is %s, not a regular file", shown,
                  file_kind(st->st_mode));
        return code;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    *fd_out = fd;
    return ENGINE_OK;
}

static void fail_input_changed(engine_run *run, uint64_t offset, const char *how)
{
    engine_error err = {0};
    err.block_index = (int64_t)(offset / run->cfg.block_size);
    err.slot = -1;
    error_set(&err, ENGINE_E_INPUT_CHANGED,
              "'%s' %s while being read (it had %llu bytes when the run started): no "
              "signature, run it again on a file that stays put",
              run->path_shown, how, (unsigned long long)run->total_bytes);
    run_fail(run, &err);
}

/* At the announced end: the file must not have grown or been rewritten. */
static bool input_unchanged_at_end(engine_run *run, uint8_t *buf)
{
    ssize_t n;
    do
        n = read(run->fd, buf, 1);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        engine_error err = {.block_index = -1, .slot = -1, .sys_errno = errno};
        error_set(&err, ENGINE_E_READ, "cannot read '%s' at byte %llu: %s", run->path_shown,
                  (unsigned long long)run->total_bytes, strerror(errno));
        run_fail(run, &err);
        return false;
    }
    if (n > 0 && run->total_bytes == 0) {
        /* /proc and /sys files say they are empty and are not. */
        engine_error err = {.block_index = -1, .slot = -1};
        error_set(&err, ENGINE_E_NOT_FILE,
                  "cannot read '%s': it reports a size of 0 bytes but has data (a /proc or "
                  "/sys file?); copy it to a regular file first",
                  run->path_shown);
        run_fail(run, &err);
        return false;
    }
    struct stat st;
    if (n > 0 || (fstat(run->fd, &st) == 0 && (uint64_t)st.st_size > run->total_bytes)) {
        fail_input_changed(run, run->total_bytes, "grew");
        return false;
    }
    if (fstat(run->fd, &st) == 0 && (st.st_mtim.tv_sec != run->input_mtime.tv_sec ||
                                     st.st_mtim.tv_nsec != run->input_mtime.tv_nsec)) {
        fail_input_changed(run, run->total_bytes, "was modified");
        return false;
    }
    return true;
}

/* Reads the next block, never past the size the file had at the start;
   returns its length, 0 at the end, -1 on error (the run has failed). */
int64_t input_read_block(engine_run *run, uint8_t *buf, uint64_t offset)
{
    if (offset >= run->total_bytes)
        return input_unchanged_at_end(run, buf) ? 0 : -1;
    uint64_t want = run->total_bytes - offset, got = 0;
    if (want > run->cfg.block_size)
        want = run->cfg.block_size;
    while (got < want) {
        ssize_t n = read(run->fd, buf + got, want - got);
        if (n == 0) {
            fail_input_changed(run, offset + got, "shrank");
            return -1;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            engine_error err = {0};
            err.block_index = (int64_t)(offset / run->cfg.block_size);
            err.slot = -1;
            err.sys_errno = errno;
            error_set(&err, ENGINE_E_READ, "cannot read '%s' at byte %llu: %s", run->path_shown,
                      (unsigned long long)(offset + got), strerror(errno));
            run_fail(run, &err);
            return -1;
        }
        got += (uint64_t)n;
    }
    return (int64_t)got;
}
