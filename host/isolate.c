/* isolate.c: runs a profiler session in a child process so a profiler that crashes or
 * hangs takes only the child down. The child's hosts write the callback they are
 * entering into a shared page; the parent reads it after the child dies. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host_private.h"

char *ilg__isolate_last_callback;

/* A crash in the child must end it by its signal, which the parent reports with the last
 * callback. A sanitizer's deadly-signal handler (ASan's and TSan's handle_segv, on by
 * default; handle_sigbus, handle_sigfpe) would instead print its report and exit with
 * a status (TSan 66, ASan 1), which the parent passes through as the session's own. The
 * profiler may still install its own handlers: it is loaded after this. */
static void default_crash_signals(void)
{
    static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE };
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        sigaction(fatal[i], &dfl, NULL);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

ILG_API ilg_status ilg_isolate_run(int (*fn)(void *ctx), void *ctx, unsigned timeout_ms,
                                   ilg_isolate_result *out)
{
    ilg_isolate_result res;
    char *page;
    pid_t pid;
    int status = 0;
    uint64_t deadline;

    if (!fn || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "fn and out are required");
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot map the shared page: %s",
                         strerror(errno));
    page[0] = '\0';
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        int e = errno;
        munmap(page, 4096);
        return ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "fork failed: %s", strerror(e));
    }
    if (pid == 0) {
        default_crash_signals();
        ilg__isolate_last_callback = page;
        int rc = fn(ctx);
        fflush(NULL);
        _exit(rc & 0xFF);
    }
    memset(&res, 0, sizeof res);
    deadline = timeout_ms ? now_ms() + timeout_ms : 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            /* Cannot happen for our own child; stop rather than spin. */
            break;
        }
        if (deadline && now_ms() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            res.timed_out = true;
            break;
        }
        poll(NULL, 0, 10);
    }
    if (WIFEXITED(status)) {
        res.exited = !res.timed_out;
        res.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        res.signal = WTERMSIG(status);
    }
    memcpy(res.last_callback, page, sizeof res.last_callback - 1);
    res.last_callback[sizeof res.last_callback - 1] = '\0';
    munmap(page, 4096);
    *out = res;
    return ILG_OK;
}
