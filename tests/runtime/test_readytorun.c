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
 * Then the saves (docs/save.md, "ReadyToRun"): the fixture with Calc.Add rewritten to
 * multiply (the plugin's mutate rule, `ilgraft run --save`), run by dotnet with
 * precompiled code allowed (no DOTNET_ReadyToRun=0):
 *   - the output is the original's but for the three lines that use Add;
 *   - every method the original ran precompiled that neither was rewritten nor
 *     inlined a rewritten one runs precompiled again, at ilgraft's RVA with the file's
 *     bytes, and is never JIT-compiled; the rest that runs is JIT-compiled;
 *   - with --save-r2r-off, nothing of the fixture runs precompiled.
 * And System.Private.CoreLib saved with ArgumentNullException.ThrowIfNull rewritten (an
 * identity rewrite; over a thousand methods inlined it), installed in a private copy of
 * the shared framework: the fixture's output is unchanged, CoreLib's untouched methods
 * run precompiled, the dropped ones are JIT-compiled.
 * Without dotnet: "SKIP: dotnet not found" and pass, except under CI=true. */
#include <check.h>
#include <glob.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <unistd.h>

#include "ilgraft/metadata.h"
#include "unit/fixture_util.h"

#define PROBE_CLSID "{1F6E4A2B-3C5D-4E7F-8091-A2B3C4D5E6F7}"
#define PLUGIN_CLSID "{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}"
#define COR_PRF_MODULE_FLAT_LAYOUT 0x20u
#define MAX_MODULES 16

static char log_path[4096];

/* One module the probe named, opened once. */
typedef struct module {
    char path[1024];
    ilg_image *img;
    const ilg_metadata *md;
    const ilg_r2r *r2r;
    bool ignored;              /* MajorVersion 0: the runtime uses none of it (a save's
                                  --save-r2r-off, docs/coreclr-observed.md) */
    unsigned run, rejected, jit_plain, searched;
} module;

static module modules[MAX_MODULES];
static unsigned nmodules;

static void setup(void)
{
    snprintf(log_path, sizeof log_path, "/tmp/ilg-r2r-probe-%d.log", (int)getpid());
    unlink(log_path);
}

static char work[256];

static void teardown(void)
{
    for (unsigned i = 0; i < nmodules; i++)
        ilg_image_close(modules[i].img);
    memset(modules, 0, sizeof modules);
    nmodules = 0;
    unlink(log_path);
    if (work[0]) {
        fx_tmpdir_remove(work);
        work[0] = 0;
    }
    unsetenv("DOTNET_ROOT");
    unsetenv("CORECLR_ENABLE_PROFILING");
    unsetenv("CORECLR_PROFILER");
    unsetenv("CORECLR_PROFILER_PATH");
    unsetenv("PROF_LOG");
}

/* False (after printing SKIP) when there is no runtime to test against; fails under CI. */
static bool have_dotnet(void)
{
    return fx_require(ILG_DOTNET[0] && access(ILG_DOTNET, X_OK) == 0 && access(ILG_R2R_DLL, R_OK) == 0,
                      "dotnet not found (ILG_DOTNET '%s', fixture %s)", ILG_DOTNET, ILG_R2R_DLL);
}

/* dotnet PROGRAM under r2r_probe; the probe's log is read into *log (caller frees). */
static void run_probed_with(const char *dotnet, const char *program, fx_result *r, char **log);
static void run_probed(const char *program, fx_result *r, char **log)
{
    run_probed_with(ILG_DOTNET, program, r, log);
}

static void run_probed_with(const char *dotnet, const char *program, fx_result *r, char **log)
{
    setenv("CORECLR_ENABLE_PROFILING", "1", 1);
    setenv("CORECLR_PROFILER", PROBE_CLSID, 1);
    setenv("CORECLR_PROFILER_PATH", ILG_R2R_PROBE_PATH, 1);
    setenv("PROF_LOG", log_path, 1);
    setenv("DOTNET_CLI_TELEMETRY_OPTOUT", "1", 1);
    unsetenv("DOTNET_ReadyToRun"); /* precompiled code allowed, as by default */
    unlink(log_path);
    const char *argv[] = { dotnet, program, NULL };
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
    ilg_r2r_info in;
    m->ignored = m->r2r && ilg_r2r_get_info(m->r2r, &in) == ILG_OK && in.major_version == 0;
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
    ck_assert_msg(m->r2r != NULL && !m->ignored,
                  "%s: the runtime ran precompiled code, ilgraft reads none it would use", path);
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
        if (!m->r2r || m->ignored) {
            ck_assert_msg(strcmp(kind, "SEARCH") != 0, "%s has no precompiled code the runtime "
                          "uses, yet it found some", path);
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

/* ---- saved images ------------------------------------------------------------------------- */

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

static void make_work(void)
{
    snprintf(work, sizeof work, "/tmp/ilg_r2r_%d", (int)getpid());
    sh("rm -rf '%s' && mkdir -p '%s'", work, work);
}

/* `ilgraft run --save out_dir` of image with the plugin and rules (and extra, an option
 * or NULL); the JSON report (caller frees). */
static json_t *plugin_save(const char *image, const char *rules, const char *extra, const char *out_dir)
{
    sh("mkdir -p '%s'", out_dir);
    const char *argv[16];
    int n = 0;
    argv[n++] = ILG_CLI_PATH, argv[n++] = "run", argv[n++] = "--json";
    argv[n++] = "--profiler", argv[n++] = ILG_PLUGIN, argv[n++] = "--clsid", argv[n++] = PLUGIN_CLSID;
    argv[n++] = "--rules", argv[n++] = rules, argv[n++] = "--save", argv[n++] = out_dir;
    if (extra)
        argv[n++] = extra;
    argv[n++] = image;
    argv[n] = NULL;
    fx_result r;
    ck_assert(fx_run(argv, &r));
    ck_assert_msg(r.exited && r.status == 0, "ilgraft run --save: %s", r.err);
    json_error_t err;
    json_t *report = json_loads(r.out, 0, &err);
    ck_assert_ptr_nonnull(report);
    printf("%s", r.err);
    fx_result_free(&r);
    return report;
}

/* What the probe said of one module's method: run precompiled, looked up, JIT-compiled. */
enum { SEEN_R2R = 1, SEEN_SEARCH = 2, SEEN_JIT = 4 };

static unsigned char *seen_in(const char *log, const char *path, uint32_t rows)
{
    unsigned char *seen = calloc(rows + 1, 1);
    const char *kinds[] = { "R2R", "SEARCH", "JIT" };
    for (const char *line = log; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        char kind[8], mod[1024];
        unsigned token;
        if (sscanf(line, "%7s module=%1023s token=0x%x", kind, mod, &token) != 3 || strcmp(mod, path) ||
            (token & 0xFFFFFF) > rows)
            continue;
        for (int k = 0; k < 3; k++)
            if (strcmp(kind, kinds[k]) == 0)
                seen[token & 0xFFFFFF] |= (unsigned char)(1 << k);
    }
    return seen;
}

/* The fixture's output with Add multiplying: the three lines that use it change. */
static char *with_add_multiplying(const char *out)
{
    static const char *const from[] = { "add 2 3 = 5\n", "twice 7 = 14\n", "plus 41 = 42\n" };
    static const char *const to[] = { "add 2 3 = 6\n", "twice 7 = 49\n", "plus 41 = 41\n" };
    char *text = strdup(out);
    for (int i = 0; i < 3; i++) {
        char *at = strstr(text, from[i]);
        ck_assert_msg(at != NULL, "the original output has no '%s'", from[i]);
        char *next = malloc(strlen(text) + 16);
        snprintf(next, strlen(text) + 16, "%.*s%s%s", (int)(at - text), text, to[i], at + strlen(from[i]));
        free(text);
        text = next;
    }
    return text;
}

static uint32_t rid_named(const ilg_metadata *md, const char *part)
{
    for (uint32_t rid = 1; rid <= ilg_md_row_count(md, ILG_TBL_MethodDef); rid++) {
        char name[512];
        if (ilg_md_method_name(md, rid, name, sizeof name, NULL) == ILG_OK && strstr(name, part))
            return rid;
    }
    ck_abort_msg("no method %s", part);
    return 0;
}

/* DIR/NAME was copied from FROM/NAME byte for byte. */
static void same_file_beside(const char *from, const char *dir, const char *name)
{
    char a[4096], b[4096];
    size_t na, nb;
    snprintf(a, sizeof a, "%s/%s", from, name);
    snprintf(b, sizeof b, "%s/%s", dir, name);
    char *x = fx_read_file(a, &na), *y = fx_read_file(b, &nb);
    ck_assert_msg(x != NULL, "%s is missing", a);
    ck_assert_msg(y != NULL, "the save did not copy %s beside the image", name);
    ck_assert_msg(na == nb && memcmp(x, y, na) == 0, "%s differs from %s", b, a);
    free(x);
    free(y);
}

/* The fixture saved with Add rewritten, both ways, against the original run. */
START_TEST(saved_fixture_runs_what_was_saved)
{
    if (!have_dotnet())
        return;
    make_work();
    fx_result r0;
    char *log0, rules[4096];
    run_probed(ILG_R2R_DLL, &r0, &log0);
    check_log(log0);
    const module *orig = module_for(ILG_R2R_DLL);
    const uint32_t rows = ilg_md_row_count(orig->md, ILG_TBL_MethodDef);
    bool *drop = calloc(rows + 1, 1);
    drop[rid_named(orig->md, "Precompiled.Calc::Add(")] = true;
    fx_r2r_inliner_closure(orig->r2r, drop);
    unsigned char *before = seen_in(log0, ILG_R2R_DLL, rows);
    char *want = with_add_multiplying(r0.out);
    snprintf(rules, sizeof rules, "%s/tests/integration/rules/r2r_mutate_add.json", ILG_SOURCE_DIR);
    for (int off = 0; off < 2; off++) {
        char out_dir[512], saved[600], cfg[4096];
        snprintf(out_dir, sizeof out_dir, "%s/%s", work, off ? "off" : "filtered");
        json_decref(plugin_save(ILG_R2R_DLL, rules, off ? "--save-r2r-off" : NULL, out_dir));
        snprintf(saved, sizeof saved, "%s/ReadyToRun.dll", out_dir);
        snprintf(cfg, sizeof cfg, "%s", ILG_R2R_DLL);
        /* the save copies what dotnet needs beside the image (ilg_host_save) */
        const char *fixture_dir = dirname(cfg);
        same_file_beside(fixture_dir, out_dir, "ReadyToRun.runtimeconfig.json");
        same_file_beside(fixture_dir, out_dir, "ReadyToRun.deps.json");
        fx_result r1;
        char *log1;
        run_probed(saved, &r1, &log1);
        ck_assert_str_eq(r1.out, want);
        check_log(log1);
        unsigned char *after = seen_in(log1, saved, rows);
        unsigned kept = 0, gone = 0;
        for (uint32_t rid = 1; rid <= rows; rid++) {
            const uint32_t token = 0x06000000u | rid;
            if (off || drop[rid]) {
                /* gone: looked up no more, JIT-compiled when it runs */
                ck_assert_msg(!after[rid] || after[rid] == SEEN_JIT, "0x%08x %s after the save%s",
                              token, after[rid] & SEEN_R2R ? "ran precompiled" : "was looked up",
                              off ? " with --save-r2r-off" : "; it was rewritten or inlined Add");
                gone += after[rid] == SEEN_JIT;
                continue;
            }
            if (before[rid] & SEEN_R2R)
                ck_assert_msg((after[rid] & SEEN_R2R) && !(after[rid] & SEEN_JIT),
                              "0x%08x ran precompiled before the save, not after", token);
            ck_assert_msg(!(after[rid] & SEEN_JIT) || !(before[rid] & SEEN_R2R),
                          "0x%08x JIT-compiled after the save", token);
            kept += (after[rid] & SEEN_R2R) != 0;
        }
        printf("readytorun: saved fixture (%s): output as predicted; %u methods run precompiled "
               "(each that did before), %u JIT-compiled (rewritten, inlined a rewritten method, "
               "or all with --save-r2r-off)\n", off ? "--save-r2r-off" : "filtered", kept, gone);
        ck_assert_uint_gt(gone, 0);
        if (off)
            ck_assert_uint_eq(kept, 0);
        else
            ck_assert_uint_gt(kept, 0);
        free(after);
        free(log1);
        fx_result_free(&r1);
    }
    free(want);
    free(before);
    free(drop);
    free(log0);
    fx_result_free(&r0);
}
END_TEST

/* The shared framework ILG_DOTNET runs: its root (dotnet's directory) and the
 * Microsoft.NETCore.App directory holding System.Private.CoreLib.dll. */
static bool framework_dir(char *root, size_t rsize, char *fw, size_t fsize)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", ILG_DOTNET);
    snprintf(root, rsize, "%s", dirname(copy));
    char pattern[4200];
    snprintf(pattern, sizeof pattern, "%s/shared/Microsoft.NETCore.App/*/System.Private.CoreLib.dll", root);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0)
        return false;
    snprintf(fw, fsize, "%s", dirname(g.gl_pathv[g.gl_pathc - 1]));
    globfree(&g);
    return true;
}

/* CoreLib saved with ThrowIfNull rewritten and run in a private copy of the framework:
 * a large image's tables filtered (thousands of entries, 4096 buckets), and the runtime
 * agrees with them. */
START_TEST(saved_corelib_keeps_untouched_code)
{
    if (!have_dotnet())
        return;
    char root[4096], fw[4096], corelib[4200], rules[512], copy[512], saved[700], dotnet[600];
    ck_assert_msg(framework_dir(root, sizeof root, fw, sizeof fw), "no framework beside %s", ILG_DOTNET);
    snprintf(corelib, sizeof corelib, "%s/System.Private.CoreLib.dll", fw);
    make_work();
    fx_result r0;
    char *log0;
    run_probed(ILG_R2R_DLL, &r0, &log0);
    free(log0);

    snprintf(rules, sizeof rules, "%s/rules.json", work);
    FILE *f = fopen(rules, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"rules\": [{\"match\": \"System.ArgumentNullException::ThrowIfNull\", "
          "\"action\": \"identity\"}]}\n", f);
    fclose(f);
    snprintf(copy, sizeof copy, "%s/saved", work);
    json_t *report = plugin_save(corelib, rules, NULL, copy);
    const module *orig = module_for(corelib);
    const uint32_t rows = ilg_md_row_count(orig->md, ILG_TBL_MethodDef);
    bool *drop = calloc(rows + 1, 1);
    json_t *methods = json_object_get(json_array_get(json_object_get(report, "modules"), 0), "methods");
    unsigned rewritten = 0;
    for (size_t k = 0; k < json_array_size(methods) && k < rows; k++)
        if (strcmp(json_string_value(json_object_get(json_array_get(methods, k), "status")), "rewritten") == 0)
            drop[k + 1] = true, rewritten++;
    ck_assert_uint_gt(rewritten, 0);
    fx_r2r_inliner_closure(orig->r2r, drop);

    /* A private framework: dotnet, host, the framework directory, the saved CoreLib. */
    snprintf(dotnet, sizeof dotnet, "%s/dotnet", work);
    sh("mkdir -p '%s/dotnet/shared/Microsoft.NETCore.App' && cp -a '%s/dotnet' '%s/host' '%s/dotnet/' "
       "&& cp -a '%s' '%s/dotnet/shared/Microsoft.NETCore.App/' && cp '%s/System.Private.CoreLib.dll' "
       "'%s/dotnet/shared/Microsoft.NETCore.App/%s/'",
       work, root, root, work, fw, work, copy, work, strrchr(fw, '/') + 1);
    snprintf(saved, sizeof saved, "%s/dotnet/shared/Microsoft.NETCore.App/%s/System.Private.CoreLib.dll",
             work, strrchr(fw, '/') + 1);
    setenv("DOTNET_ROOT", dotnet, 1);
    char exe[700];
    snprintf(exe, sizeof exe, "%s/dotnet", dotnet);
    fx_result r1;
    char *log1;
    run_probed_with(exe, ILG_R2R_DLL, &r1, &log1);
    ck_assert_str_eq(r1.out, r0.out);
    check_log(log1);
    unsigned char *after = seen_in(log1, saved, rows);
    unsigned kept = 0, gone = 0, dropped = 0;
    for (uint32_t rid = 1; rid <= rows; rid++) {
        ilg_r2r_method_info m;
        dropped += drop[rid] && ilg_r2r_method_for_rid(orig->r2r, rid, &m) == ILG_OK;
        if (drop[rid]) {
            ck_assert_msg(!after[rid] || after[rid] == SEEN_JIT, "0x%08x (dropped) seen as %x",
                          0x06000000u | rid, after[rid]);
            gone += after[rid] == SEEN_JIT;
        } else {
            kept += (after[rid] & SEEN_R2R) != 0;
        }
    }
    printf("readytorun: saved CoreLib (%u methods rewritten, %u MethodDef entries dropped with "
           "their inliners): output unchanged; %u methods run precompiled, %u dropped ones "
           "JIT-compiled\n", rewritten, dropped, kept, gone);
    ck_assert_uint_gt(dropped, 100);
    ck_assert_uint_gt(kept, 100);
    ck_assert_uint_gt(gone, 0);
    free(after);
    free(drop);
    free(log1);
    json_decref(report);
    fx_result_free(&r0);
    fx_result_free(&r1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("readytorun");
    TCase *tc = tcase_create("runtime");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, runtime_runs_the_code_ilgraft_reads);
    tcase_add_test(tc, saved_fixture_runs_what_was_saved);
    tcase_add_test(tc, saved_corelib_keeps_untouched_code);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
