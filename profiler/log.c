/* log.c: the plugin's log (ILGRAFT_LOG, else stderr), shared by every JIT thread.
 *
 * Several processes may append to one file (a process hands ILGRAFT_LOG to the ones it
 * starts), so each write(2) carries whole lines only: on an O_APPEND file a write is
 * placed at the end as one piece, and lines of different processes interleave, never
 * parts of them. A write(2) per line cost more than the rewrites over a whole assembly
 * (24,395 writes for Mono's mscorlib), so a regular file gets its lines through a
 * 64 KiB buffer holding whole lines: a line that does not fit flushes what is there
 * first. Lines that must not be lost (failures, set-up, the summary) flush at once;
 * the others wait until the buffer fills or a flusher thread writes them out 50 ms
 * after the first of them came. stderr, a terminal or a pipe gets each line at once. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plugin_private.h"

#define LOG_BUF (64 * 1024)
#define FLUSH_MS 50

struct ilg__plugin_log {
    pthread_mutex_t lock;      /* guards everything below */
    pthread_cond_t wake;       /* lines waiting, or stop */
    int fd;                    /* 2 (stderr) or the file, O_APPEND */
    char *buf;                 /* whole lines waiting (a regular file only) */
    size_t len;
    bool stop, have_flusher;
    bool idle;                 /* the flusher waits for a first line (no deadline) */
    pthread_t flusher;
};

/* All of data[0..n) in as few write(2) calls as the kernel allows (one, on a regular
 * file, unless it is full or a signal interrupts). Errors drop the rest: the log must
 * not stop the runtime. */
static void write_all(int fd, const char *data, size_t n)
{
    while (n) {
        ssize_t k = write(fd, data, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        data += k;
        n -= (size_t)k;
    }
}

static void flush_locked(ilg__plugin_log *log)
{
    write_all(log->fd, log->buf, log->len);
    log->len = 0;
}

/* A first line waits (log->lock held): the flusher is woken once, not once per line
 * until it runs (each wake-up a futex call). */
static void wake_flusher(ilg__plugin_log *log)
{
    log->idle = false;
    pthread_cond_signal(&log->wake);
}

/* The flusher: sleeps while nothing waits, then gives the lines that came 50 ms to
 * gather and writes out what is there. Only a first line wakes it (a wake-up per
 * buffer filled cost more than the writes). */
static void *flusher(void *v)
{
    ilg__plugin_log *log = v;
    pthread_mutex_lock(&log->lock);
    while (!log->stop) {
        if (!log->len) {
            log->idle = true;
            while (log->idle && !log->stop)
                pthread_cond_wait(&log->wake, &log->lock);
            log->idle = false;
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += FLUSH_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!log->stop && log->len &&
               pthread_cond_timedwait(&log->wake, &log->lock, &until) != ETIMEDOUT)
            ;
        flush_locked(log);
    }
    pthread_mutex_unlock(&log->lock);
    return NULL;
}

ilg__plugin_log *ilg__plugin_log_new(void)
{
    ilg__plugin_log *log = calloc(1, sizeof *log);
    pthread_condattr_t attr;
    if (!log)
        return NULL;
    log->fd = STDERR_FILENO;
    pthread_mutex_init(&log->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&log->wake, &attr);
    pthread_condattr_destroy(&attr);
    return log;
}

int ilg__plugin_log_open(ilg__plugin_log *log, const char *path, bool buffered)
{
    struct stat st;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0)
        return errno;
    log->fd = fd;
    /* Only a regular file is worth buffering: a terminal or a pipe has a reader
     * waiting for each line. Without memory or a thread, each line goes at once. */
    if (!buffered || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        !(log->buf = malloc(LOG_BUF)))
        return 0;
    if (pthread_create(&log->flusher, NULL, flusher, log) != 0) {
        free(log->buf);
        log->buf = NULL;
        return 0;
    }
    log->have_flusher = true;
    return 0;
}

void ilg__plugin_log_write(ilg__plugin_log *log, const char *line, size_t n, bool now)
{
    pthread_mutex_lock(&log->lock);
    if (!log->buf) {
        write_all(log->fd, line, n);
    } else {
        if (log->len + n > LOG_BUF)
            flush_locked(log);
        if (n > LOG_BUF) {
            write_all(log->fd, line, n);
        } else {
            if (log->idle && !now)
                wake_flusher(log);
            memcpy(log->buf + log->len, line, n);
            log->len += n;
            if (now)
                flush_locked(log);
        }
    }
    pthread_mutex_unlock(&log->lock);
}

char *ilg__plugin_log_reserve(ilg__plugin_log *log, size_t n)
{
    if (!log->buf || n > LOG_BUF)
        return NULL;
    pthread_mutex_lock(&log->lock);
    if (log->len + n > LOG_BUF)
        flush_locked(log);
    return log->buf + log->len;
}

void ilg__plugin_log_commit(ilg__plugin_log *log, size_t used)
{
    if (log->idle && used)
        wake_flusher(log);
    log->len += used;
    pthread_mutex_unlock(&log->lock);
}

void ilg__plugin_log_free(ilg__plugin_log *log)
{
    if (!log)
        return;
    if (log->have_flusher) {
        pthread_mutex_lock(&log->lock);
        log->stop = true;
        pthread_cond_signal(&log->wake);
        pthread_mutex_unlock(&log->lock);
        pthread_join(log->flusher, NULL);
    }
    if (log->buf)
        flush_locked(log);
    if (log->fd != STDERR_FILENO)
        close(log->fd);
    free(log->buf);
    pthread_cond_destroy(&log->wake);
    pthread_mutex_destroy(&log->lock);
    free(log);
}
