/* test_readytorun.c: ilgraft's ReadyToRun reader against the runtime that runs the
 * code. tests/runtime/r2r_probe.c, loaded into a real CoreCLR running the ReadyToRun
 * fixture (fixtures/cs/ReadyToRun), reports every method the runtime runs from
 * precompiled code (its module, token, code address minus the module's base, size and a
 * hash of the bytes in memory), every method it looked up precompiled code for, and
 * every method it JIT-compiled. For the fixture, System.Private.CoreLib and every other
 * framework assembly the program touches:
 *   - each precompiled method run is one ilgraft reads with that token, at that RVA,
 *     of that size (main code and funclets), and the file holds the same bytes there;
 *   - a JIT-compiled method that ilgraft says has precompiled code was looked up by the
 *     runtime and refused (a fixup failed), never silently missed;
 *   - the modules are mapped as images (not flat), so address - base is the RVA.
 * Without dotnet: "SKIP: dotnet not found" and pass, except under CI=true. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ilgraft/metadata.h"
#include "unit/fixture_util.h"

#define PROBE_CLSID "{1F6E4A2B-3C5D-4E7F-8091-A2B3C4D5E6F7}"
#define COR_PRF_MODULE_FLAT_LAYOUT 0x20u
#define MAX_MODULES 16

static char log_path[4096];

/* One module the probe named, opened once. */
typedef struct module {
    char path[1024];
    ilg_image *img;
    const ilg_metadata *md;
    const ilg_r2r *r2r;
    unsigned run, rejected, jit_plain, searched;
} module;

static module modules[MAX_MODULES];
static unsigned nmodules;

static void setup(void)
{
    snprintf(log_path, sizeof log_path, "/tmp/ilg-r2r-probe-%d.log", (int)getpid());
    unlink(log_path);
}

static void teardown(void)
{
    for (unsigned i = 0; i < nmodules; i++)
        ilg_image_close(modules[i].img);
    memset(modules, 0, sizeof modules);
    nmodules = 0;
    unlink(log_path);
    unsetenv("CORECLR_ENABLE_PROFILING");
    unsetenv("CORECLR_PROFILER");
    unsetenv("CORECLR_PROFILER_PATH");
    unsetenv("PROF_LOG");
}

/* False (after printing SKIP) when there is no runtime to test against; fails under CI. */
static bool have_dotnet(void)
{
    if (ILG_DOTNET[0] && access(ILG_DOTNET, X_OK) == 0 && access(ILG_R2R_DLL, R_OK) == 0)
        return true;
    ck_assert_msg(!fx_is_ci(), "dotnet not found (ILG_DOTNET '%s', fixture %s) and CI=true",
                  ILG_DOTNET, ILG_R2R_DLL);
    printf("SKIP: dotnet not found\n");
    return false;
}

/* dotnet PROGRAM under r2r_probe; the probe's log is read into *log (caller frees). */
static void run_probed(const char *program, fx_result *r, char **log)
{
    setenv("CORECLR_ENABLE_PROFILING", "1", 1);
    setenv("CORECLR_PROFILER", PROBE_CLSID, 1);
    setenv("CORECLR_PROFILER_PATH", ILG_R2R_PROBE_PATH, 1);
    setenv("PROF_LOG", log_path, 1);
    setenv("DOTNET_CLI_TELEMETRY_OPTOUT", "1", 1);
    const char *argv[] = { ILG_DOTNET, program, NULL };
    ck_assert(fx_run(argv, r));
    ck_assert_msg(r->exited && r->status == 0, "dotnet %s: status %d: %s", program, r->status, r->err);
    *log = fx_read_file(log_path, NULL);
    ck_assert_msg(*log != NULL, "no probe log at %s", log_path);
    ck_assert_msg(strstr(*log, "\nPASS\n") != NULL, "probe failed: %s", *log);
}

static module *module_for(const char *path)
{
    for (unsigned i = 0; i < nmodules; i++)
        if (strcmp(modules[i].path, path) == 0)
            return &modules[i];
    ck_assert_uint_lt(nmodules, MAX_MODULES);
    module *m = &modules[nmodules++];
    snprintf(m->path, sizeof m->path, "%s", path);
    ilg_status st = ilg_image_open(path, NULL, &m->img);
    ck_assert_msg(st == ILG_OK, "%s: %s", path, ilg_last_diag()->message);
    ck_assert_int_eq(ilg_image_metadata(m->img, &m->md), ILG_OK);
    ilg_md_info mi;
    ilg_md_get_info(m->md, &mi);
    st = ilg_image_readytorun(m->img, &m->r2r);
    if (st == ILG_E_R2R_ABSENT && !mi.managed_native_header_size)
        m->r2r = NULL; /* IL only */
    else
        ck_assert_msg(st == ILG_OK, "%s: ilg_image_readytorun: %s", path, ilg_last_diag()->message);
    return m;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* The file's bytes at an RVA, hashed as the probe hashed the memory. */
static uint64_t file_hash(const module *m, uint32_t rva, uint32_t size)
{
    const uint8_t *file;
    size_t file_size;
    uint64_t off;
    ck_assert_int_eq(ilg_image_file_bytes(m->img, &file, &file_size), ILG_OK);
    ck_assert_int_eq(ilg_image_rva_to_offset(m->img, rva, &off), ILG_OK);
    ck_assert_uint_le(off + size, file_size);
    return fnv1a(file + off, size);
}

/* Does ilgraft list precompiled code for token (a MethodDef entry, or an instance
 * entry of that method), and at rva (when rva is not 0)? */
static bool has_entry(const module *m, uint32_t token, uint32_t rva, ilg_r2r_method_info *out)
{
    ilg_r2r_method_info e;
    ilg_r2r_info in;
    if (!m->r2r)
        return false;
    if (ilg_r2r_method_for_rid(m->r2r, token & 0xFFFFFF, &e) == ILG_OK && (!rva || e.code_rva == rva)) {
        if (out)
            *out = e;
        return true;
    }
    ilg_r2r_get_info(m->r2r, &in);
    for (uint32_t i = in.methoddef_entries; i < ilg_r2r_method_count(m->r2r); i++) {
        ck_assert_int_eq(ilg_r2r_method(m->r2r, i, &e), ILG_OK);
        if (e.token == token && !e.module_override && (!rva || e.code_rva == rva)) {
            if (out)
                *out = e;
            return true;
        }
    }
    return false;
}

/* One "R2R ..." line: the method ilgraft reads there, of that size and those bytes. */
static void check_run(const char *line)
{
    char path[1024];
    unsigned token, flags, size, ranges;
    unsigned long base, rva;
    unsigned long long hash;
    ck_assert_msg(sscanf(line, "R2R module=%1023s token=0x%x base=0x%lx flags=0x%x rva=0x%lx size=%u "
                               "ranges=%u hash=%llx", path, &token, &base, &flags, &rva, &size,
                         &ranges, &hash) == 8, "probe line '%s'", line);
    module *m = module_for(path);
    ck_assert_msg(m->r2r != NULL, "%s: the runtime ran precompiled code, ilgraft reads none", path);
    ck_assert_msg(!(flags & COR_PRF_MODULE_FLAT_LAYOUT), "%s is loaded flat (flags 0x%x)", path, flags);
    ilg_r2r_method_info e;
    ck_assert_msg(has_entry(m, token, (uint32_t)rva, &e),
                  "%s: the runtime ran 0x%08x from RVA 0x%lx, ilgraft has no such entry", path, token,
                  rva);
    ck_assert_msg(e.code_size == size, "%s: 0x%08x at RVA 0x%lx: runtime %u bytes, ilgraft %u", path,
                  token, rva, size, e.code_size);
    ck_assert_msg(file_hash(m, (uint32_t)rva, size) == hash,
                  "%s: 0x%08x: the bytes the runtime runs at RVA 0x%lx are not the file's", path,
                  token, rva);
    m->run++;
}

/* Walks the log: R2R lines checked at once; SEARCH and JIT lines afterwards, since a
 * refused lookup (SEARCH, then JIT) is told from a silent miss only by both. */
static void check_log(const char *log)
{
    char *save = NULL;
    char *runs = strdup(log), *copy = strdup(log);
    ck_assert(runs && copy);
    for (char *line = strtok_r(runs, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strncmp(line, "R2R ", 4) == 0)
            check_run(line);
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char path[1024], kind[8];
        unsigned token;
        if (sscanf(line, "%7s module=%1023s token=0x%x", kind, path, &token) != 3 ||
            (strcmp(kind, "JIT") != 0 && strcmp(kind, "SEARCH") != 0))
            continue;
        module *m = module_for(path);
        if (!m->r2r) {
            ck_assert_msg(strcmp(kind, "SEARCH") != 0, "%s is IL only, the runtime found code", path);
            continue;
        }
        bool listed = has_entry(m, token, 0, NULL);
        if (strcmp(kind, "SEARCH") == 0) {
            ck_assert_msg(listed, "%s: the runtime found precompiled code for 0x%08x, ilgraft none",
                          path, token);
            m->searched++;
            continue;
        }
        char search[1200];
        snprintf(search, sizeof search, "SEARCH module=%s token=0x%08x\n", path, token);
        if (!listed)
            m->jit_plain++;
        else if (strstr(log, search))
            m->rejected++;
        else
            ck_abort_msg("%s: 0x%08x was JIT-compiled without a lookup, ilgraft lists code for it",
                         path, token);
    }
    free(runs);
    free(copy);
}

START_TEST(runtime_runs_the_code_ilgraft_reads)
{
    if (!have_dotnet())
        return;
    fx_result r;
    char *log;
    run_probed(ILG_R2R_DLL, &r, &log);
    check_log(log);
    unsigned fixture_run = 0, corelib_run = 0;
    for (unsigned i = 0; i < nmodules; i++) {
        const module *m = &modules[i];
        if (!m->r2r)
            continue;
        const char *name = strrchr(m->path, '/') ? strrchr(m->path, '/') + 1 : m->path;
        printf("readytorun: %s: %u methods run from precompiled code, each at ilgraft's RVA with "
               "its size and bytes; %u refused by the runtime after lookup, %u JIT-compiled "
               "without precompiled code\n", name, m->run, m->rejected, m->jit_plain);
        if (strcmp(name, "ReadyToRun.dll") == 0) {
            fixture_run = m->run;
            /* Everything in the fixture that runs, runs precompiled. */
            ck_assert_uint_eq(m->rejected + m->jit_plain, 0);
        }
        if (strcmp(name, "System.Private.CoreLib.dll") == 0)
            corelib_run = m->run;
    }
    ck_assert_uint_gt(fixture_run, 0);
    ck_assert_uint_gt(corelib_run, 0);
    free(log);
    fx_result_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("readytorun");
    TCase *tc = tcase_create("runtime");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, runtime_runs_the_code_ilgraft_reads);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
