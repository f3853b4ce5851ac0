/* fixture_util.h: what the Check suites share: fixture paths, running a program and
 * capturing its output and status, reading files, and the CI switch. */
#ifndef ILG_FIXTURE_UTIL_H
#define ILG_FIXTURE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ILG_FIXTURE_DIR "/" name into buf. */
void fx_path(char *buf, size_t size, const char *name);

typedef struct fx_result {
    int exited;       /* 1 if the child exited normally */
    int status;       /* exit status, or the signal number when !exited */
    char *out;        /* captured stdout (NUL-terminated, caller frees) */
    size_t out_len;
    char *err;        /* captured stderr */
    size_t err_len;
    long max_rss_kb;  /* the child's peak resident set */
    double cpu_s;     /* the child's user + system time */
} fx_result;

/* Runs argv[0] (searched in PATH) with argv, stdin from /dev/null, capturing both
 * outputs. Returns false if it could not be started. */
bool fx_run(const char *const argv[], fx_result *res);
/* fx_run with the child's CPU time limited to cpu_seconds (RLIMIT_CPU: SIGXCPU, then
 * SIGKILL, past it), so a run that would loop ends as a signal the caller sees. */
bool fx_run_limited(const char *const argv[], fx_result *res, unsigned cpu_seconds);
void fx_result_free(fx_result *res);

/* Whole file into a malloc'd buffer (NUL-terminated); NULL on failure. */
char *fx_read_file(const char *path, size_t *len);

/* The permissions ("r-xp") of the /proc/self/maps line that covers addr, and that
 * line's range (lo, hi may be NULL). prot is "" when nothing is mapped there. */
void fx_maps_prot(uintptr_t addr, char prot[5], uintptr_t *lo, uintptr_t *hi);

/* True when the environment says CI=true. */
bool fx_is_ci(void);

/* True when an executable named prog is found in PATH. */
bool fx_have_program(const char *prog);

/* The first of progs (NULL-terminated) that is not in PATH, or NULL when all are. */
const char *fx_missing_program(const char *const progs[]);

/* What a test that needs a real runtime, tool or fixture does when it lacks it (the
 * guide: SKIP outside CI, fail under CI=true). Returns true when present; otherwise,
 * with the reason printf-formatted from fmt: under CI=true a failed check
 * "<reason> and CI=true" (it does not return), else "SKIP: <reason>" on stdout and
 * false. Only from inside a Check test. */
bool fx_require(bool present, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Removes the directory tree at dir if there is one (made writable first: some tests
 * leave read-only files or folders), failing the check when rm does not succeed. */
void fx_tmpdir_remove(const char *dir);

/* The ReadyToRun fixture (cs/ReadyToRun/ReadyToRun.dll) into buf: true when it was
 * built; false after printing SKIP when it was not (no dotnet at build time), and a
 * failed check under CI=true. */
bool fx_r2r_fixture(char *buf, size_t size);

/* crossgen2's perfmap of the ReadyToRun fixture (ReadyToRun.ni.r2rmap): "RVA SIZE NAME"
 * in hex, one compiled method a line, its header lines (RVA 0xFFFFFFxx) left out. */
typedef struct fx_perf_line {
    uint32_t rva, size;
    char name[256];
    bool used;                /* for the caller's matching */
} fx_perf_line;

/* Up to cap lines into lines; the count, or -1 when the file cannot be read. */
int fx_read_perfmap(fx_perf_line *lines, size_t cap);

/* What a save must take the precompiled code of: drop (MethodDef rows + 1 flags) has
 * the rewritten methods set; every method of the image whose precompiled code inlined
 * a flagged one, as the image's own inlining pairs say, is flagged too, transitively
 * (docs/save.md, "ReadyToRun"). */
struct ilg_r2r;
void fx_r2r_inliner_closure(const struct ilg_r2r *r2r, bool *drop);

#endif
