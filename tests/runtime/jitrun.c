/* jitrun.c: mutants into a real CoreCLR (see mutate.h). One dotnet process runs the
 * driver over as many mutants as it survives: the profiler installs each at the
 * method's JITCompilationStarted, the driver compiles the method and prints what
 * happened. A process the JIT brings down (a signal, an abort, a hang past the time
 * limit, memory past the limit) names its victim by the last "begin" without an "end";
 * the mutants after it run again in a new process. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mutate.h"

#define RSS_LIMIT_KB (3ul << 20) /* a JIT that loops allocating is stopped at 3 GiB */

static const char *const outcome_names[MX_OUTCOME_COUNT] = {
    "not-run", "ok", "InvalidProgramException", "BadImageFormatException", "other-exception",
    "crash",
};

const char *mx_outcome_name(mx_outcome o)
{
    return o < MX_OUTCOME_COUNT ? outcome_names[o] : "?";
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long rss_kb(pid_t pid)
{
    char path[64];
    long pages = 0, rss = 0;
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = 0;
    fclose(f);
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void hex_line(FILE *f, const mx_mutant *mu)
{
    fprintf(f, "%08x ", mu->token);
    for (uint32_t i = 0; i < mu->size; i++)
        fprintf(f, "%02x", mu->bytes[i]);
    fputc('\n', f);
}

/* The files one process reads: the mutants (those with bytes) and the tokens. */
static bool write_inputs(const mx_runner *r, const mx_mutant *mus, const size_t *idx, size_t n,
                         char *mut_path, char *tok_path, size_t size)
{
    snprintf(mut_path, size, "%s/mutants.txt", r->work_dir);
    snprintf(tok_path, size, "%s/tokens.txt", r->work_dir);
    FILE *fm = fopen(mut_path, "w"), *ft = fopen(tok_path, "w");
    bool ok = fm && ft;
    for (size_t k = 0; ok && k < n; k++) {
        if (mus[idx[k]].bytes)
            hex_line(fm, &mus[idx[k]]);
        fprintf(ft, "%08x\n", mus[idx[k]].token);
    }
    if (fm)
        ok = fclose(fm) == 0 && ok;
    if (ft)
        ok = fclose(ft) == 0 && ok;
    return ok;
}

typedef struct proc_out {
    char *text;
    size_t len, cap;
    int status;          /* wait status */
    bool killed;         /* by us: time or memory */
    char why[64];
} proc_out;

static void append(proc_out *po, const char *buf, size_t n)
{
    if (po->len + n + 1 > po->cap) {
        size_t cap = (po->len + n + 1) * 2;
        char *p = realloc(po->text, cap);
        if (!p)
            return;
        po->text = p;
        po->cap = cap;
    }
    memcpy(po->text + po->len, buf, n);
    po->len += n;
    po->text[po->len] = 0;
}

/* dotnet DRIVER DLL TOKENS with the profiler, stdout captured, stderr to a file. */
static bool run_process(mx_runner *r, const char *dll, const char *mut_path, const char *tok_path,
                        proc_out *po)
{
    int fds[2];
    char module[4096], log_path[512], err_path[512];
    if (!realpath(dll, module))
        snprintf(module, sizeof module, "%s", dll);
    snprintf(log_path, sizeof log_path, "%s/prof.log", r->work_dir);
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", r->work_dir);
    if (pipe(fds) != 0)
        return false;
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        setpgid(0, 0);
        dup2(fds[1], 1);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (e >= 0)
            dup2(e, 2);
        close(fds[0]);
        setenv("CORECLR_ENABLE_PROFILING", "1", 1);
        setenv("CORECLR_PROFILER", "{1F6E4A2B-3C5D-4E7F-8091-A2B3C4D5E6F7}", 1);
        setenv("CORECLR_PROFILER_PATH", r->profiler, 1);
        setenv("VERIFY_PROF_MUTANTS", mut_path, 1);
        setenv("VERIFY_PROF_MODULE", module, 1);
        setenv("PROF_LOG", log_path, 1);
        setenv("DOTNET_CLI_TELEMETRY_OPTOUT", "1", 1);
        setenv("DOTNET_NOLOGO", "1", 1);
        setenv("DOTNET_DbgEnableMiniDump", "0", 1);
        setenv("DOTNET_EnableCrashReport", "0", 1);
        execl(r->dotnet, r->dotnet, r->driver, dll, tok_path, (char *)NULL);
        _exit(127);
    }
    r->processes++;
    close(fds[1]);
    const double start = now_ms();
    char buf[65536];
    for (;;) {
        struct pollfd p = { fds[0], POLLIN, 0 };
        int k = poll(&p, 1, 100);
        if (k > 0) {
            ssize_t n = read(fds[0], buf, sizeof buf);
            if (n <= 0)
                break;
            append(po, buf, (size_t)n);
        }
        const bool late = now_ms() - start > r->timeout_ms;
        const bool fat = rss_kb(pid) > (long)RSS_LIMIT_KB;
        if ((late || fat) && !po->killed) {
            po->killed = true;
            snprintf(po->why, sizeof po->why, late ? "killed after %u ms" : "killed at 3 GiB",
                     r->timeout_ms);
            kill(-pid, SIGKILL);
        }
    }
    close(fds[0]);
    while (waitpid(pid, &po->status, 0) < 0 && errno == EINTR)
        ;
    return true;
}

static size_t find_token(const mx_mutant *mus, const size_t *idx, size_t n, uint32_t tok)
{
    for (size_t k = 0; k < n; k++)
        if (mus[idx[k]].token == tok)
            return k;
    return SIZE_MAX;
}

static mx_outcome classify(const char *exc)
{
    if (strncmp(exc, "System.InvalidProgramException", 30) == 0)
        return MX_INVALID_PROGRAM;
    if (strncmp(exc, "System.BadImageFormatException", 30) == 0)
        return MX_BAD_IMAGE;
    return MX_OTHER_EXCEPTION;
}

/* Verdicts from the driver's lines; *victim is the method begun and never ended. */
static void parse_output(const proc_out *po, const mx_mutant *mus, const size_t *idx, size_t n,
                         mx_verdict *v, bool *done, size_t *victim)
{
    *victim = SIZE_MAX;
    for (const char *line = po->text; line && *line;) {
        const char *nl = strchr(line, '\n');
        unsigned tok;
        char rest[256] = "";
        if (sscanf(line, "begin %x", &tok) == 1) {
            *victim = find_token(mus, idx, n, tok);
        } else if (sscanf(line, "end %x %255[^\n]", &tok, rest) >= 1) {
            size_t k = find_token(mus, idx, n, tok);
            if (k != SIZE_MAX) {
                mx_verdict *vv = &v[idx[k]];
                vv->outcome = strncmp(rest, "ok", 2) == 0 ? MX_OK : classify(rest + 4);
                snprintf(vv->detail, sizeof vv->detail, "%.199s", rest); /* a message cut short */
                done[k] = true;
            }
            *victim = SIZE_MAX;
        }
        line = nl ? nl + 1 : NULL;
    }
}

static void read_installed(const mx_runner *r, const mx_mutant *mus, const size_t *idx, size_t n,
                           mx_verdict *v)
{
    char path[512], line[256];
    snprintf(path, sizeof path, "%s/prof.log", r->work_dir);
    FILE *f = fopen(path, "r");
    unsigned tok;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "set %x", &tok) == 1) {
            size_t k = find_token(mus, idx, n, tok);
            if (k != SIZE_MAX)
                v[idx[k]].installed = true;
        }
    if (f)
        fclose(f);
}

/* How a process ended, for a crash verdict. */
static void describe_end(const proc_out *po, char *out, size_t size)
{
    if (po->killed)
        snprintf(out, size, "%s", po->why);
    else if (WIFSIGNALED(po->status))
        snprintf(out, size, "signal %d (%s)", WTERMSIG(po->status), strsignal(WTERMSIG(po->status)));
    else
        snprintf(out, size, "exit status %d", WEXITSTATUS(po->status));
}

bool mx_run(mx_runner *r, const char *dll, const mx_mutant *mus, size_t n, mx_verdict *v)
{
    size_t *idx = malloc((n ? n : 1) * sizeof *idx), pending = n;
    bool *done = calloc(n ? n : 1, sizeof *done), ok = idx && done;
    char mut_path[512], tok_path[512];
    for (size_t k = 0; k < n; k++) {
        idx[k] = k;
        v[k] = (mx_verdict){ MX_NOT_RUN, false, "" };
    }
    while (ok && pending) {
        proc_out po = { 0 };
        size_t victim;
        memset(done, 0, pending * sizeof *done);
        if (!write_inputs(r, mus, idx, pending, mut_path, tok_path, sizeof mut_path) ||
            !run_process(r, dll, mut_path, tok_path, &po)) {
            free(po.text);
            ok = false;
            break;
        }
        parse_output(&po, mus, idx, pending, v, done, &victim);
        read_installed(r, mus, idx, pending, v);
        const bool clean = !po.killed && WIFEXITED(po.status) && WEXITSTATUS(po.status) == 0;
        if (!clean && victim != SIZE_MAX) {
            v[idx[victim]].outcome = MX_CRASH;
            describe_end(&po, v[idx[victim]].detail, sizeof v[idx[victim]].detail);
            done[victim] = true;
        }
        size_t left = 0, before = pending;
        for (size_t k = 0; k < pending; k++)
            if (!done[k])
                idx[left++] = idx[k];
        pending = left;
        free(po.text);
        if (pending == before) /* the process did nothing: give up on the rest */
            break;
    }
    free(idx);
    free(done);
    return ok;
}
