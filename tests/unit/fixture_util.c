/* fixture_util.c: process and file helpers for the test suites. */
#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ilgraft/metadata.h"
#include "unit/fixture_util.h"

void fx_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", ILG_FIXTURE_DIR, name);
}

char *fx_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        char *bigger = realloc(buf, cap * 2 + 1);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        if (len)
            *len = n;
    }
    return buf;
}

static int temp_fd(char *tmpl)
{
    int fd = mkstemp(tmpl);
    if (fd >= 0)
        unlink(tmpl);
    return fd;
}

static char *slurp_fd(int fd, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    lseek(fd, 0, SEEK_SET);
    while (buf) {
        ssize_t got = read(fd, buf + n, cap - n);
        if (got <= 0)
            break;
        n += (size_t)got;
        if (n == cap) {
            char *bigger = realloc(buf, cap * 2 + 1);
            if (!bigger) {
                free(buf);
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

bool fx_run(const char *const argv[], fx_result *res)
{
    return fx_run_limited(argv, res, 0);
}

bool fx_run_limited(const char *const argv[], fx_result *res, unsigned cpu_seconds)
{
    char out_t[] = "/tmp/ilg-out-XXXXXX", err_t[] = "/tmp/ilg-err-XXXXXX";
    int out = temp_fd(out_t), err = temp_fd(err_t);
    memset(res, 0, sizeof *res);
    if (out < 0 || err < 0)
        return false;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        if (cpu_seconds) {
            struct rlimit cpu = { cpu_seconds, cpu_seconds + 1 };
            if (setrlimit(RLIMIT_CPU, &cpu) != 0)
                _exit(126);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int ws;
    struct rusage ru;
    while (wait4(pid, &ws, 0, &ru) < 0)
        ;
    res->max_rss_kb = ru.ru_maxrss;
    res->cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    res->exited = WIFEXITED(ws);
    res->status = res->exited ? WEXITSTATUS(ws) : WTERMSIG(ws);
    res->out = slurp_fd(out, &res->out_len);
    res->err = slurp_fd(err, &res->err_len);
    close(out);
    close(err);
    return res->out && res->err;
}

void fx_result_free(fx_result *res)
{
    free(res->out);
    free(res->err);
    memset(res, 0, sizeof *res);
}

void fx_maps_prot(uintptr_t addr, char prot[5], uintptr_t *lo, uintptr_t *hi)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    prot[0] = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long a, b;
        char p[5];
        if (sscanf(line, "%llx-%llx %4s", &a, &b, p) == 3 && addr >= a && addr < b) {
            memcpy(prot, p, 5);
            if (lo)
                *lo = (uintptr_t)a;
            if (hi)
                *hi = (uintptr_t)b;
            break;
        }
    }
    if (f)
        fclose(f);
}

bool fx_is_ci(void)
{
    const char *ci = getenv("CI");
    return ci && strcmp(ci, "true") == 0;
}

bool fx_have_program(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path)
        return false;
    char *copy = strdup(path), *save = NULL;
    bool found = false;
    for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", dir, prog);
        found = access(full, X_OK) == 0;
    }
    free(copy);
    return found;
}

const char *fx_missing_program(const char *const progs[])
{
    for (size_t i = 0; progs[i]; i++)
        if (!fx_have_program(progs[i]))
            return progs[i];
    return NULL;
}

bool fx_require(bool present, const char *fmt, ...)
{
    if (present)
        return true;
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    ck_assert_msg(!fx_is_ci(), "%s and CI=true", why);
    printf("SKIP: %s\n", why);
    return false;
}

void fx_tmpdir_remove(const char *dir)
{
    char cmd[4200];
    ck_assert_msg(!strchr(dir, '\''), "cannot quote %s", dir);
    ck_assert_int_lt(snprintf(cmd, sizeof cmd, "chmod -R u+w -- '%s' 2>/dev/null; rm -rf -- '%s'", dir,
                              dir),
                     (int)sizeof cmd);
    ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
}

bool fx_r2r_fixture(char *buf, size_t size)
{
    fx_path(buf, size, "cs/ReadyToRun/ReadyToRun.dll");
    return fx_require(access(buf, R_OK) == 0, "%s missing (no dotnet at build time)", buf);
}

int fx_read_perfmap(fx_perf_line *lines, size_t cap)
{
    char path[4096], buf[512];
    fx_path(path, sizeof path, "cs/ReadyToRun/ReadyToRun.ni.r2rmap");
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = 0;
    while (fgets(buf, sizeof buf, f)) {
        fx_perf_line l = { 0 };
        if (sscanf(buf, "%x %x %255[^\n]", &l.rva, &l.size, l.name) != 3 || l.rva >= 0xFFFFFF00u)
            continue;
        if ((size_t)n == cap)
            break;
        lines[n++] = l;
    }
    fclose(f);
    return n;
}

void fx_r2r_inliner_closure(const struct ilg_r2r *r2r, bool *drop)
{
    ilg_r2r_info in;
    ilg_r2r_get_info(r2r, &in);
    for (bool grew = true; grew;) {
        grew = false;
        for (uint32_t i = 0; i < in.inline_count; i++) {
            ilg_r2r_inline_info x;
            if (ilg_r2r_inline(r2r, i, &x) != ILG_OK || x.inlinee_cross_module ||
                x.inliner_cross_module || x.inlinee_module || x.inliner_module)
                continue;
            if (drop[x.inlinee & 0xFFFFFF] && !drop[x.inliner & 0xFFFFFF])
                drop[x.inliner & 0xFFFFFF] = grew = true;
        }
    }
}
