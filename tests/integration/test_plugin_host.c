/* test_plugin_host.c: libilgraft_profiler.so in the ilgraft host (`ilgraft run`) over the
 * IL fixtures. The truth is outside ilgraft: each rewritten image is written out with
 * `--save` and listed by monodis, and compared with the listing of an image ilasm built
 * from hand-written expected IL (rules/calc_expected.il), or with the original's listing
 * (identity); Mono then runs the rewritten images, so the probes and mutations are seen
 * to take effect in a real JIT. Bad rules files must stop the plugin with a message
 * naming the bad value.
 *
 * Needs Mono's ilasm, monodis and mono: without them "SKIP: ..." and pass, except under
 * CI=true, where it fails. */
#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ilgraft/host.h"
#include "ilgraft/hostmem.h"
#include "ilgraft/loader.h"
#include "ilgraft/metadata.h"
#include "ilgraft/save.h"
#include "plugin_private.h"
#include "unit/fixture_util.h"

#define PLUGIN_CLSID "{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}"
#define RULES_DIR ILG_SOURCE_DIR "/tests/integration/rules/"

static char log_path[80], save_dir[64];
static fx_result res;

static void setup(void)
{
    /* A fresh directory whatever an earlier killed run left behind (a pid-named one
     * collided when the pid came round again). */
    snprintf(save_dir, sizeof save_dir, "/tmp/ilg_plugin_it_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(save_dir));
    snprintf(log_path, sizeof log_path, "%s.log", save_dir);
    unlink(log_path);
    setenv("ILGRAFT_LOG", log_path, 1);
    /* Every host run recompiles as CoreCLR does (OSR, tier 1, instantiations), strictly:
     * a body rewritten again from the plugin's own output fails the run. */
    setenv("ILG_HOST_RECOMPILE", "strict", 1);
    unsetenv("CORECLR_PROFILER");
    unsetenv("CORECLR_PROFILER_PATH");
    memset(&res, 0, sizeof res);
}

static void teardown(void)
{
    fx_result_free(&res);
    unlink(log_path);
    fx_tmpdir_remove(save_dir);
    unsetenv("ILGRAFT_RULES");
    unsetenv("ILGRAFT_LOG");
    unsetenv("ILG_HOST_RECOMPILE");
}

static bool have_mono(void)
{
    static const char *const tools[] = { "ilasm", "monodis", "mono", NULL };
    const char *missing = fx_missing_program(tools);
    return fx_require(!missing, "Mono's %s not found", missing);
}

/* `ilgraft run` with the plugin, `--rules FILE` (NULL: no rules anywhere), --json --save,
 * and the fixtures (NULL-terminated names). The CoreCLR tests pass ILGRAFT_RULES instead. */
/* Rules through ILGRAFT_RULES instead of --rules (which ilgraft checks itself before
 * loading the plugin): the plugin's own handling, as under CoreCLR. */
static bool rules_by_env;

static void run_host(const char *rules, const char *const *fixtures)
{
    static char paths[8][256];
    const char *argv[26];
    int n = 0;
    unsetenv("ILGRAFT_RULES");
    argv[n++] = ILG_CLI_PATH;
    argv[n++] = "run";
    if (rules && rules_by_env) {
        setenv("ILGRAFT_RULES", rules, 1);
    } else if (rules) {
        argv[n++] = "--rules";
        argv[n++] = rules;
    }
    argv[n++] = "--profiler";
    argv[n++] = ILG_PLUGIN_PATH;
    argv[n++] = "--clsid";
    argv[n++] = PLUGIN_CLSID;
    argv[n++] = "--json";
    argv[n++] = "--save";
    argv[n++] = save_dir;
    for (int i = 0; fixtures[i] && i < 8; i++) {
        fx_path(paths[i], sizeof paths[i], fixtures[i]);
        argv[n++] = paths[i];
    }
    argv[n] = NULL;
    fx_result_free(&res);
    ck_assert(fx_run(argv, &res));
}

static char *read_log(void)
{
    char *text = fx_read_file(log_path, NULL);
    ck_assert_msg(text != NULL, "no plugin log at %s", log_path);
    return text;
}

/* What `prog args...` prints (asserting it exits 0). */
static char *output_of(const char *const argv[])
{
    fx_result r = { 0 };
    ck_assert(fx_run(argv, &r));
    ck_assert_msg(r.exited && r.status == 0, "%s %s exited %d/%d: %s", argv[0], argv[1],
                  r.exited, r.status, r.err);
    char *out = r.out;
    r.out = NULL;
    fx_result_free(&r);
    return out;
}

/* monodis listing without the lines that name RVAs and the MVID (those change by
 * design: docs/save.md). */
static char *listing(const char *image)
{
    const char *argv[] = { "monodis", image, NULL };
    char *text = output_of(argv);
    char *w = text;
    for (char *line = text; *line;) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line + 1) : strlen(line);
        if (!memmem(line, len, "// Method begins at RVA", 23) &&
            !memmem(line, len, "// GUID = {", 11)) {
            memmove(w, line, len);
            w += len;
        }
        line += len;
    }
    *w = 0;
    return text;
}

/* The listing of one method: from its ".method" line to "// end of method TYPE::NAME". */
static char *method_block(const char *text, const char *qualified)
{
    char end_marker[160];
    snprintf(end_marker, sizeof end_marker, "} // end of method %s\n", qualified);
    const char *end = strstr(text, end_marker);
    ck_assert_msg(end, "no method %s in the listing", qualified);
    const char *start = end;
    while (start > text && !(strncmp(start, ".method", 7) == 0))
        start--;
    return strndup(start, (size_t)(end - start) + strlen(end_marker));
}

static char *saved_path(const char *fixture)
{
    char *p = malloc(256);
    ck_assert_ptr_nonnull(p);
    snprintf(p, 256, "%s/%s", save_dir, fixture);
    return p;
}

/* The report's methods of module i, by short name ("Calc::Add") to status. */
static const char *method_status(json_t *report, size_t mod, const char *needle)
{
    json_t *methods = json_object_get(json_array_get(json_object_get(report, "modules"), mod),
                                      "methods");
    size_t i;
    json_t *m;
    json_array_foreach(methods, i, m) {
        const char *name = json_string_value(json_object_get(m, "name"));
        if (name && strstr(name, needle))
            return json_string_value(json_object_get(m, "status"));
    }
    ck_abort_msg("no method %s in the report", needle);
    return NULL;
}

/* "jit=E methods=M" and the recompiles R = E - M that the plugin's summary must show,
 * counted from the host's report: E the JIT events it delivered, M the methods that
 * had any. */
static void expected_events(json_t *report, char *jit_methods, size_t cap, unsigned *recompiles)
{
    unsigned events = 0, methods = 0;
    size_t i, k;
    json_t *mod, *m;
    json_array_foreach(json_object_get(report, "modules"), i, mod) {
        json_array_foreach(json_object_get(mod, "methods"), k, m) {
            json_int_t e = json_integer_value(json_object_get(m, "jit_events"));
            events += (unsigned)e;
            methods += e > 0;
        }
    }
    ck_assert_uint_gt(events, methods); /* the host did recompile */
    snprintf(jit_methods, cap, "jit=%u methods=%u", events, methods);
    *recompiles = events - methods;
}

static json_t *report(void)
{
    json_error_t err;
    json_t *r = json_loads(res.out, 0, &err);
    ck_assert_msg(r, "report is not JSON (%s): %s", err.text, res.out);
    return r;
}

START_TEST(identity_keeps_every_fixture)
{
    if (!have_mono())
        return;
    static const char *const fixtures[] = { "calc.exe", "bodies.exe", "eh.exe", "generics.exe",
                                            "types.exe", "big.exe", NULL };
    run_host(RULES_DIR "identity.json", fixtures);
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    json_t *r = report();
    size_t total = 0; /* methods with IL */
    for (size_t f = 0; fixtures[f]; f++) {
        json_t *methods =
            json_object_get(json_array_get(json_object_get(r, "modules"), f), "methods");
        size_t i;
        json_t *m;
        json_array_foreach(methods, i, m) {
            const char *st = json_string_value(json_object_get(m, "status"));
            if (json_integer_value(json_object_get(m, "old_rva")) == 0) {
                /* Abstract: no IL, nothing to rewrite. */
                ck_assert_str_eq(st, "unchanged");
                continue;
            }
            ck_assert_msg(strcmp(st, "rewritten") == 0, "%s %s: %s", fixtures[f],
                          json_string_value(json_object_get(m, "name")), st);
            ck_assert_int_eq(json_integer_value(json_object_get(m, "old_size")),
                             json_integer_value(json_object_get(m, "new_size")));
            total++;
        }
        /* Byte-identical bodies list identically, header fields and EH layout included. */
        char orig[256];
        fx_path(orig, sizeof orig, fixtures[f]);
        char *saved = saved_path(fixtures[f]);
        char *want = listing(orig), *got = listing(saved);
        ck_assert_msg(strcmp(want, got) == 0, "%s: listings differ after identity", fixtures[f]);
        free(want);
        free(got);
        free(saved);
    }
    json_decref(r);
    char *log = read_log();
    char summary[96];
    snprintf(summary, sizeof summary, "matched=%zu rewritten=%zu failed=0", total, total);
    ck_assert_msg(strstr(log, summary), "want \"%s\" in the log:\n%s", summary, log);
    free(log);
    /* Mono runs the rewritten images as it runs the originals. */
    static const char *const runnable[] = { "calc.exe", "eh.exe", "bodies.exe", NULL };
    for (size_t f = 0; runnable[f]; f++) {
        char orig[256];
        fx_path(orig, sizeof orig, runnable[f]);
        char *saved = saved_path(runnable[f]);
        const char *a1[] = { "mono", orig, NULL }, *a2[] = { "mono", saved, NULL };
        char *want = output_of(a1), *got = output_of(a2);
        ck_assert_str_eq(got, want);
        free(want);
        free(got);
        free(saved);
    }
}
END_TEST

START_TEST(each_action_matches_the_assembled_expectation)
{
    if (!have_mono())
        return;
    static const char *const fixtures[] = { "calc.exe", NULL };
    run_host(RULES_DIR "host_calc.json", fixtures);
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    char expected[128];
    snprintf(expected, sizeof expected, "%s/expected.exe", save_dir);
    char outarg[160];
    snprintf(outarg, sizeof outarg, "/output:%s", expected);
    const char *ilasm[] = { "ilasm", "/quiet", outarg, RULES_DIR "calc_expected.il", NULL };
    free(output_of(ilasm));
    char *saved = saved_path("calc.exe");
    char *want = listing(expected), *got = listing(saved);
    static const char *const methods[] = { "Calc::Add", "Calc::Mul", "Calc::.ctor", "Calc::Main" };
    for (size_t i = 0; i < 4; i++) {
        char *w = method_block(want, methods[i]), *g = method_block(got, methods[i]);
        ck_assert_msg(strcmp(w, g) == 0, "%s:\n--- expected\n%s--- rewritten\n%s", methods[i], w,
                      g);
        free(w);
        free(g);
    }
    free(want);
    free(got);
    free(saved);
    /* The log: one line per rewrite, with where the original instructions went: Mul's
     * four (at 0000 to 0003) moved together by the 5 bytes of the probe call in front
     * (opcode and token). */
    char *log = read_log();
    ck_assert_ptr_nonnull(strstr(log, "rewrite Calc::Mul (0x06000002) probe-entry(entry) "));
    ck_assert_ptr_nonnull(strstr(log, " offsets=0000-0003->0005\n"));
    ck_assert_ptr_nonnull(strstr(log, "rewrite Calc::Add (0x06000001) mutate(substituted) "));
    ck_assert_ptr_nonnull(strstr(log, "rewrite Calc::.ctor (0x06000003) probe-exit(try/finally) "));
    ck_assert_ptr_nonnull(strstr(log, "rewrite Calc::Main (0x06000004) replace(body) "));
    free(log);
}
END_TEST

START_TEST(mutation_runs_in_mono)
{
    if (!have_mono())
        return;
    static const char *const fixtures[] = { "calc.exe", NULL };
    run_host(RULES_DIR "mutate_add.json", fixtures);
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    char *saved = saved_path("calc.exe");
    const char *argv[] = { "mono", saved, NULL };
    char *out = output_of(argv);
    ck_assert_str_eq(out, "6\n"); /* Main prints Add(2, 3), now 2 * 3 */
    free(out);
    free(saved);
}
END_TEST

/* Probes around methods that have EH of their own: Nested's exit probe through an outer
 * try/finally that keeps the result in its int32 local, FatClause's entry probe in
 * front of a fat EH section. Mono shows each probe (EH::Finally prints two lines) where
 * it should run. */
START_TEST(probes_run_in_mono_around_eh)
{
    if (!have_mono())
        return;
    static const char *const fixtures[] = { "eh.exe", NULL };
    run_host(RULES_DIR "host_eh.json", fixtures);
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    char orig[256];
    fx_path(orig, sizeof orig, "eh.exe");
    char *saved = saved_path("eh.exe");
    const char *a1[] = { "mono", orig, NULL }, *a2[] = { "mono", saved, NULL };
    char *plain = output_of(a1), *got = output_of(a2);
    /* Expected: the original output with the probe's two lines after "nested: ..." (the
     * exit probe runs when Nested returns; its own Say call comes first) and before
     * "fatclause: ..." (the entry probe). */
    char *nested = strstr(plain, "nested: ");
    char *fat = strstr(plain, "fatclause: ");
    ck_assert(nested && fat && nested < fat);
    static const char probe[] = "finally: try\nfinally: handler\n";
    char want[4096];
    size_t head = (size_t)(fat - plain);
    ck_assert(head + 2 * strlen(probe) + strlen(fat) < sizeof want);
    snprintf(want, sizeof want, "%.*s%s%s%s", (int)head, plain, probe, probe, fat);
    ck_assert_str_eq(got, want);
    char *log = read_log();
    ck_assert_ptr_nonnull(
        strstr(log, "rewrite EH::Nested (0x06000006) probe-exit(try/finally (reusing a local"));
    ck_assert_ptr_nonnull(strstr(log, "rewrite EH::FatClause (0x06000007) probe-entry(entry)"));
    free(log);
    free(plain);
    free(got);
    free(saved);
}
END_TEST

/* Batch mode (`--summary`, ILGRAFT_LOG_LEVEL=failures) changes what is said, never what is
 * saved: the same bytes, the counts instead of the method list, no line per rewrite. */
START_TEST(batch_mode_saves_the_same_bytes)
{
    static const char *const fixtures[] = { "eh.exe", NULL };
    run_host(RULES_DIR "host_eh.json", fixtures);
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    json_t *r = report();
    size_t rewritten = 0, i;
    json_t *m;
    json_array_foreach(json_object_get(json_array_get(json_object_get(r, "modules"), 0),
                                       "methods"), i, m)
        rewritten += strcmp(json_string_value(json_object_get(m, "status")), "rewritten") == 0;
    json_decref(r);
    ck_assert_uint_gt(rewritten, 0);
    char *saved = saved_path("eh.exe");
    size_t full_len = 0, batch_len = 0;
    char *full = fx_read_file(saved, &full_len);
    ck_assert_ptr_nonnull(full);
    char *log = read_log();
    ck_assert_ptr_nonnull(strstr(log, "rewrite EH::FatClause"));
    free(log);

    unlink(saved);
    unlink(log_path);
    char image[256], expect[96];
    fx_path(image, sizeof image, "eh.exe");
    setenv("ILGRAFT_LOG_LEVEL", "failures", 1);
    const char *argv[] = { ILG_CLI_PATH, "run", "--rules", RULES_DIR "host_eh.json",
                           "--profiler", ILG_PLUGIN_PATH, "--clsid", PLUGIN_CLSID, "--summary",
                           "--save", save_dir, image, NULL };
    fx_result_free(&res);
    ck_assert(fx_run(argv, &res));
    unsetenv("ILGRAFT_LOG_LEVEL");
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    char *batch = fx_read_file(saved, &batch_len);
    ck_assert_ptr_nonnull(batch);
    ck_assert_uint_eq(batch_len, full_len);
    ck_assert_msg(memcmp(batch, full, full_len) == 0, "batch mode saved different bytes");
    snprintf(expect, sizeof expect, "JIT-compiled: %zu rewritten, 0 rejected", rewritten);
    ck_assert_msg(strstr(res.out, expect), "no '%s' in: %s", expect, res.out);
    ck_assert_msg(!strstr(res.out, "0x0600"), "summary lists methods: %s", res.out);
    log = read_log();
    ck_assert_msg(!strstr(log, "rewrite "), "failures level logged a rewrite: %s", log);
    char counts[64];
    snprintf(counts, sizeof counts, "rewritten=%zu failed=0", rewritten);
    ck_assert_msg(strstr(log, counts), "no '%s' in the log: %s", counts, log);
    free(log);
    free(full);
    free(batch);
    free(saved);
}
END_TEST

/* One in-process host run of the plugin over calc.exe and eh.exe (all four actions and
 * both probe kinds) with the host heap from mem; the status of the first step that
 * failed. The leak report of the host heap goes to log. */
static ilg_status plugin_run(IHostMemoryManager *mem, FILE *log)
{
    char calc[256], eh[256];
    fx_path(calc, sizeof calc, "calc.exe");
    fx_path(eh, sizeof eh, "eh.exe");
    const char *images[] = { calc, eh };
    ilg_host_options o = { .log = log, .memory = mem };
    ilg_host *h = NULL;
    ilg_status s = ilg_host_new(&o, &h);
    if (s != ILG_OK)
        return s;
    s = ilg_host_load_profiler(h, ILG_PLUGIN_PATH, PLUGIN_CLSID);
    if (s == ILG_OK)
        s = ilg_host_run(h, images, 2);
    ilg_host_free(h);
    return s;
}

/* Fault injection over a whole run with the plugin: allocation N of the host heap fails,
 * for every N from 1 to the number a clean run makes. Each run must end in success (the
 * fault absorbed: a name falls back, the profiler is told E_OUTOFMEMORY and goes on) or
 * a clean E_NOMEM, with exactly that one fault injected, every heap released, no leak
 * reported, and no crash (ASan runs this too). */
START_TEST(every_host_allocation_fault_with_the_plugin)
{
    setenv("ILGRAFT_RULES", RULES_DIR "host_calc.json", 1);
    setenv("ILGRAFT_LOG_LEVEL", "failures", 1);
    char *text = NULL;
    size_t len = 0;
    FILE *log = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(log);
    IHostMemoryManager *mem = NULL;
    ilg_hostmem_stats st;
    ck_assert_int_eq(ilg_hostmem_create(NULL, &mem), ILG_OK);
    ilg_fault_policy none = { 0 };
    ck_assert_int_eq(ilg_hostmem_set_fault_policy(mem, &none), ILG_OK);
    ck_assert_int_eq(plugin_run(mem, log), ILG_OK);
    ck_assert_int_eq(ilg_hostmem_stats_get(mem, &st), ILG_OK);
    const uint64_t total = st.allocations;
    mem->lpVtbl->Release(mem);
    ck_assert_uint_gt(total, 0);

    uint64_t absorbed = 0, failed = 0;
    for (uint64_t nth = 1; nth <= total; nth++) {
        ilg_fault_policy pol = { .fail_nth = nth };
        ck_assert_int_eq(ilg_hostmem_create(NULL, &mem), ILG_OK);
        ck_assert_int_eq(ilg_hostmem_set_fault_policy(mem, &pol), ILG_OK);
        ilg_status s = plugin_run(mem, log);
        ck_assert_int_eq(ilg_hostmem_stats_get(mem, &st), ILG_OK);
        ck_assert_msg(s == ILG_OK || s == ILG_E_NOMEM, "fault %llu of %llu gave %s",
                      (unsigned long long)nth, (unsigned long long)total, ilg_status_name(s));
        ck_assert_msg(st.injected_faults == 1, "fault %llu: %llu faults injected",
                      (unsigned long long)nth, (unsigned long long)st.injected_faults);
        ck_assert_msg(st.heaps == 0, "fault %llu: %llu heaps left alive",
                      (unsigned long long)nth, (unsigned long long)st.heaps);
        if (s == ILG_OK)
            absorbed++;
        else
            failed++;
        mem->lpVtbl->Release(mem);
    }
    fclose(log);
    ck_assert_msg(!strstr(text, "leaked"), "%s", text);
    printf("fault sweep with the plugin: %llu allocations, %llu faults absorbed, %llu runs "
           "stopped with E_NOMEM\n",
           (unsigned long long)total, (unsigned long long)absorbed, (unsigned long long)failed);
    ck_assert_uint_gt(failed, 0);
    free(text);
    unsetenv("ILGRAFT_LOG_LEVEL");
}
END_TEST

/* One in-process run of the plugin over image with `threads` JIT threads, saved into
 * dir; the host's records of its methods (names and diagnostics dropped) in *out. */
static uint32_t threaded_run(const char *image, unsigned threads, const char *dir,
                             ilg_host_method **out)
{
    ilg_host_options o = { .log = stderr, .jit_threads = threads };
    ilg_save_options so = { .log = fopen("/dev/null", "w") };
    ilg_host *h = NULL;
    ilg_host_module hm;
    ck_assert_ptr_nonnull(so.log);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(ilg_host_new(&o, &h), ILG_OK);
    ck_assert_int_eq(ilg_host_load_profiler(h, ILG_PLUGIN_PATH, PLUGIN_CLSID), ILG_OK);
    ck_assert_int_eq(ilg_host_run(h, &image, 1), ILG_OK);
    ck_assert_int_eq(ilg_host_save(h, dir, &so, NULL), ILG_OK);
    ck_assert_int_eq(ilg_host_module_get(h, 0, &hm), ILG_OK);
    *out = calloc(hm.method_count, sizeof **out);
    ck_assert_ptr_nonnull(*out);
    for (uint32_t rid = 1; rid <= hm.method_count; rid++) {
        ck_assert_int_eq(ilg_host_method_get(h, 0, rid, &(*out)[rid - 1]), ILG_OK);
        (*out)[rid - 1].name = (*out)[rid - 1].diagnostic = NULL;
    }
    ilg_host_free(h);
    fclose(so.log);
    return hm.method_count;
}

/* The local signature blob of a fat body's LocalVarSigTok (bytes 8..11), or NULL. */
static const uint8_t *local_sig_blob(ilg_image *img, const uint8_t *body, uint32_t *len)
{
    const ilg_metadata *md = NULL;
    uint32_t tok = (uint32_t)body[8] | (uint32_t)body[9] << 8 | (uint32_t)body[10] << 16 |
                   (uint32_t)body[11] << 24, blob = 0;
    const uint8_t *p = NULL;
    if (ilg_image_metadata(img, &md) != ILG_OK || (tok >> 24) != ILG_TBL_StandAloneSig ||
        ilg_md_cell(md, ILG_TBL_StandAloneSig, tok & 0xFFFFFF, ILG_MDC_StandAloneSig_Signature,
                    &blob) != ILG_OK ||
        ilg_md_blob(md, blob, &p, len) != ILG_OK)
        return NULL;
    return p;
}

/* Bodies the same but for the local signature's token, each naming the same locals: an
 * exit probe's new local signature (GetTokenFromSig) gets the next StandAloneSig row,
 * and which method's comes first depends on the threads' order. */
static bool same_but_local_token(ilg_image *img1, const uint8_t *p1, ilg_image *img4,
                                 const uint8_t *p4, uint32_t size)
{
    uint32_t len1 = 0, len4 = 0;
    if (size < 12 || (p1[0] & 3) != 3 || memcmp(p1, p4, 8) != 0 ||
        memcmp(p1 + 12, p4 + 12, size - 12) != 0)
        return false;
    const uint8_t *s1 = local_sig_blob(img1, p1, &len1), *s4 = local_sig_blob(img4, p4, &len4);
    return s1 && s4 && len1 == len4 && memcmp(s1, s4, len1) == 0;
}

/* The plugin on four JIT threads at once (as CoreCLR runs it) rewrites Mono's mscorlib
 * exactly as on one: probes at every entry, probes at the exits of a namespace's
 * methods (try/finally, data flow for bodies that grow past a tiny header) and a
 * mutation, into bodies that are byte for byte the same, wherever in the arena each
 * thread put them, but for the token of an exit probe's new local signature (the same
 * locals, another row: the threads define them in another order). The plugin's per-thread state and the host's concurrent
 * SetILFunctionBody are what this exercises (the TSan job runs it too). */
START_TEST(jit_threads_rewrite_as_one_thread_does)
{
    static const char corlib[] = "/usr/lib/mono/4.5/mscorlib.dll";
    if (!fx_require(access(corlib, R_OK) == 0, "%s not found", corlib))
        return;
    char rules[96], log1[96], dir1[96], dir4[96];
    snprintf(rules, sizeof rules, "%s/rules.json", save_dir);
    snprintf(dir1, sizeof dir1, "%s/one", save_dir);
    snprintf(dir4, sizeof dir4, "%s/four", save_dir);
    FILE *f = fopen(rules, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"rules\": [\n"
          " {\"match\": \"*\", \"action\": \"probe-entry\",\n"
          "  \"probe\": \"System.Threading.Thread::MemoryBarrier\"},\n"
          " {\"match\": \"System.Collections.*\", \"action\": \"probe-exit\",\n"
          "  \"probe\": \"System.Threading.Thread::MemoryBarrier\"},\n"
          " {\"match\": \"System.String::*\", \"action\": \"mutate\", \"from\": \"add\","
          " \"to\": \"sub\"}]}\n",
          f);
    ck_assert_int_eq(fclose(f), 0);
    setenv("ILGRAFT_RULES", rules, 1);
    setenv("ILGRAFT_LOG_LEVEL", "failures", 1);
    ilg_host_method *one = NULL, *four = NULL;
    uint32_t n = threaded_run(corlib, 1, dir1, &one);
    char *log_one = read_log();
    snprintf(log1, sizeof log1, "%s.one", log_path);
    ck_assert_int_eq(rename(log_path, log1), 0);
    ck_assert_uint_eq(threaded_run(corlib, 4, dir4, &four), n);
    char *log_four = read_log();
    unlink(log1);
    unsetenv("ILGRAFT_LOG_LEVEL");
    const char *sum1 = strstr(log_one, "summary "), *sum4 = strstr(log_four, "summary ");
    ck_assert_ptr_nonnull(sum1);
    ck_assert_ptr_nonnull(sum4);
    ck_assert_msg(strstr(sum1, "failed=0"), "%s", sum1);
    /* The counts agree; the worker count says how many threads the plugin served. */
    const char *t1 = strstr(sum1, " threads="), *t4 = strstr(sum4, " threads=");
    ck_assert_ptr_nonnull(t1);
    ck_assert_ptr_nonnull(t4);
    ck_assert_uint_eq((size_t)(t1 - sum1), (size_t)(t4 - sum4));
    ck_assert(strncmp(sum1, sum4, (size_t)(t1 - sum1)) == 0);
    ck_assert_int_eq(atoi(t1 + 9), 1);
    ck_assert_int_ge(atoi(t4 + 9), 2);
    ck_assert_int_le(atoi(t4 + 9), 4);

    char path1[128], path4[128];
    snprintf(path1, sizeof path1, "%s/mscorlib.dll", dir1);
    snprintf(path4, sizeof path4, "%s/mscorlib.dll", dir4);
    ilg_image *img1 = NULL, *img4 = NULL;
    ck_assert_int_eq(ilg_image_open(path1, NULL, &img1), ILG_OK);
    ck_assert_int_eq(ilg_image_open(path4, NULL, &img4), ILG_OK);
    uint32_t rewritten = 0, moved = 0, resigned = 0;
    for (uint32_t r = 0; r < n; r++) {
        const ilg_host_method *a = &one[r], *b = &four[r];
        ck_assert_msg(a->status == b->status && a->jitted == b->jitted &&
                          a->new_size == b->new_size,
                      "rid %u: status %d, %u bytes on one thread; %d, %u bytes on four", r + 1,
                      a->status, a->new_size, b->status, b->new_size);
        if (a->status != ILG_HOST_REWRITTEN)
            continue;
        const uint8_t *p1 = NULL, *p4 = NULL;
        ck_assert_int_eq(ilg_image_rva_to_ptr(img1, a->new_rva, a->new_size, &p1), ILG_OK);
        ck_assert_int_eq(ilg_image_rva_to_ptr(img4, b->new_rva, b->new_size, &p4), ILG_OK);
        bool same = memcmp(p1, p4, a->new_size) == 0;
        if (!same && same_but_local_token(img1, p1, img4, p4, a->new_size)) {
            same = true;
            resigned++;
        }
        ck_assert_msg(same, "rid %u: the saved bodies differ", r + 1);
        rewritten++;
        moved += a->new_rva != b->new_rva;
    }
    ck_assert_uint_gt(rewritten, 24000);
    printf("jit threads: %u bodies the same, %u of them elsewhere in the arena, %u with the "
           "same new locals under another StandAloneSig token\n", rewritten, moved, resigned);
    ilg_image_close(img1);
    ilg_image_close(img4);
    free(one);
    free(four);
    free(log_one);
    free(log_four);
}
END_TEST

/* A monodis listing indexed by method: each body (by the RVA monodis says it begins at)
 * and its instructions' IL offsets and opcodes, sorted by RVA. */
typedef struct listed_method {
    uint32_t rva, first, count;
} listed_method;

typedef struct listed_body {
    listed_method *methods;
    size_t method_count;
    uint32_t *offsets;
    char (*ops)[24];
    size_t count, cap;
} listed_body;

static int by_rva(const void *a, const void *b)
{
    uint32_t x = ((const listed_method *)a)->rva, y = ((const listed_method *)b)->rva;
    return x < y ? -1 : x > y;
}

static void index_listing(const char *text, listed_body *ix)
{
    size_t mcap = 0;
    const char *stop = text + strlen(text);
    memset(ix, 0, sizeof *ix);
    /* memchr, not strchr: ASan's strchr measures the whole rest of text every time. */
    for (const char *line = text; line < stop;) {
        const char *end = memchr(line, '\n', (size_t)(stop - line));
        size_t len = end ? (size_t)(end - line) : (size_t)(stop - line);
        const char *at = memmem(line, len, "// Method begins at RVA 0x", 26);
        const char *il = line;
        while (il < line + len && (*il == ' ' || *il == '\t'))
            il++;
        char op[24] = "", *after = NULL;
        unsigned long off = 0;
        /* "IL_xxxx:  opcode ..." (not sscanf: glibc's measures the whole rest of text). */
        if (!at && strncmp(il, "IL_", 3) == 0) {
            off = strtoul(il + 3, &after, 16);
            if (*after == ':') {
                const char *c = after + 1;
                size_t k = 0;
                while (c < line + len && *c == ' ')
                    c++;
                while (c < line + len && *c != ' ' && k + 1 < sizeof op)
                    op[k++] = *c++;
                op[k] = 0;
            }
        }
        if (at) {
            if (ix->method_count == mcap) {
                mcap = mcap ? 2 * mcap : 4096;
                ix->methods = realloc(ix->methods, mcap * sizeof *ix->methods);
                ck_assert_ptr_nonnull(ix->methods);
            }
            listed_method *m = &ix->methods[ix->method_count++];
            m->rva = (uint32_t)strtoul(at + 26, NULL, 16);
            m->first = (uint32_t)ix->count;
            m->count = 0;
        } else if (ix->method_count && op[0]) {
            if (ix->count == ix->cap) {
                ix->cap = ix->cap ? 2 * ix->cap : 65536;
                ix->offsets = realloc(ix->offsets, ix->cap * sizeof *ix->offsets);
                ix->ops = realloc(ix->ops, ix->cap * sizeof *ix->ops);
                ck_assert(ix->offsets && ix->ops);
            }
            ix->offsets[ix->count] = (uint32_t)off;
            memcpy(ix->ops[ix->count], op, sizeof op);
            ix->count++;
            ix->methods[ix->method_count - 1].count++;
        }
        line += len + (end != NULL);
    }
    qsort(ix->methods, ix->method_count, sizeof *ix->methods, by_rva);
}

static const listed_method *listed_at(const listed_body *ix, uint32_t rva)
{
    listed_method key = { rva, 0, 0 };
    return bsearch(&key, ix->methods, ix->method_count, sizeof key, by_rva);
}

static void listed_free(listed_body *ix)
{
    free(ix->methods);
    free(ix->offsets);
    free(ix->ops);
}

/* The same opcode, but for the branch form the encoder chooses (br.s or br) and the
 * one mutation the rules make. */
static bool same_op(const char *was, const char *now, bool mutated)
{
    size_t a = strlen(was), b = strlen(now);
    if (a > 2 && strcmp(was + a - 2, ".s") == 0)
        a -= 2;
    if (b > 2 && strcmp(now + b - 2, ".s") == 0)
        b -= 2;
    if (a == b && strncmp(was, now, a) == 0)
        return true;
    return mutated && strcmp(was, "add") == 0 && strcmp(now, "sub") == 0;
}

/* Checks one rewrite line's offset map (docs/profiler.md, Log) against the listings of
 * the original and the saved image; returns the instructions it maps. Every run must
 * start and end on an original instruction; every original instruction in it must be
 * in the saved body at its offset plus the run's shift, with the same opcode; and an
 * original instruction the map leaves out must be one the rules replace (a ret, when
 * a try/finally wraps the body). */
static size_t check_map(const char *line, const char *eol, const listed_body *orig,
                        const listed_body *saved)
{
    unsigned long old_rva, new_rva;
    const size_t len = (size_t)(eol - line);
    const char *o = memmem(line, len, " old=0x", 7), *n = memmem(line, len, " new=0x", 7);
    const char *map = memmem(line, len, " offsets=", 9);
    ck_assert_msg(o && n && map, "bad line: %.300s", line);
    old_rva = strtoul(o + 7, NULL, 16);
    new_rva = strtoul(n + 7, NULL, 16);
    const bool wrapped = memmem(line, len, "probe-exit(try/finally", 22) != NULL;
    const bool mutated = memmem(line, len, "mutate(substituted)", 19) != NULL;
    const listed_method *a = listed_at(orig, (uint32_t)old_rva);
    const listed_method *b = listed_at(saved, (uint32_t)new_rva);
    ck_assert_msg(a && b, "no body at RVA 0x%lx or 0x%lx: %.300s", old_rva, new_rva, line);
    bool *covered = calloc(a->count + 1, 1);
    ck_assert_ptr_nonnull(covered);
    /* i, k: where the last run ended in the original and the saved body; runs come in
     * order, so each is looked for from there (from the start when one does not). */
    size_t mapped = 0, k = 0;
    uint32_t i = 0;
    for (const char *r = map + 9; r < eol;) {
        char *e;
        unsigned long first = strtoul(r, &e, 16), last = first, to;
        if (*e == '-' && e[1] != '>')
            last = strtoul(e + 1, &e, 16);
        ck_assert_msg(e[0] == '-' && e[1] == '>', "bad run at %.40s in %.300s", r, line);
        to = strtoul(e + 2, &e, 16);
        ck_assert_msg(*e == ',' || e == eol, "bad run end at %.40s in %.300s", e, line);
        r = e + (*e == ',');
        /* The run's instructions, first to last, in the original. */
        if (i >= a->count || orig->offsets[a->first + i] > first)
            i = 0;
        if (k >= b->count || saved->offsets[b->first + k] > (uint32_t)to)
            k = 0;
        while (i < a->count && orig->offsets[a->first + i] < first)
            i++;
        ck_assert_msg(i < a->count && orig->offsets[a->first + i] == first,
                      "run starts at %04lx, not an instruction of the original: %.300s", first,
                      line);
        for (; i < a->count && orig->offsets[a->first + i] <= last; i++) {
            uint32_t was = orig->offsets[a->first + i];
            uint32_t now = (uint32_t)(was + (to - first));
            ck_assert_msg(!covered[i], "IL_%04x mapped twice: %.300s", was, line);
            covered[i] = true;
            while (k < b->count && saved->offsets[b->first + k] < now)
                k++;
            ck_assert_msg(k < b->count && saved->offsets[b->first + k] == now &&
                              same_op(orig->ops[a->first + i], saved->ops[b->first + k], mutated),
                          "IL_%04x (%s) should be at IL_%04x in the saved body: %.300s", was,
                          orig->ops[a->first + i], now, line);
            mapped++;
            if (was == last)
                break;
        }
        ck_assert_msg(i < a->count && orig->offsets[a->first + i] == last,
                      "run ends at %04lx, not an instruction of the original: %.300s", last,
                      line);
    }
    for (uint32_t c = 0; c < a->count; c++)
        ck_assert_msg(covered[c] || (wrapped && strcmp(orig->ops[a->first + c], "ret") == 0),
                      "IL_%04x (%s) left out of the map: %.300s", orig->offsets[a->first + c],
                      orig->ops[a->first + c], line);
    free(covered);
    return mapped;
}

/* The log's offset map is true: over Mono's mscorlib, with probes at every entry, exit
 * probes (a try/finally that replaces each ret) in a namespace and a mutation, every
 * rewrite line's map is checked against monodis's listings of the original image and
 * of the saved one, each body found by its RVA (the line's old= and new=, relative to
 * the module base, are RVAs under the host). */
START_TEST(offset_map_matches_monodis)
{
    static const char corlib[] = "/usr/lib/mono/4.5/mscorlib.dll";
    if (!have_mono())
        return;
    if (!fx_require(access(corlib, R_OK) == 0, "%s not found", corlib))
        return;
    char rules[96];
    snprintf(rules, sizeof rules, "%s/rules.json", save_dir);
    FILE *f = fopen(rules, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"rules\": [\n"
          " {\"match\": \"*\", \"action\": \"probe-entry\",\n"
          "  \"probe\": \"System.Threading.Thread::MemoryBarrier\"},\n"
          " {\"match\": \"System.Collections.*\", \"action\": \"probe-exit\",\n"
          "  \"probe\": \"System.Threading.Thread::MemoryBarrier\"},\n"
          " {\"match\": \"System.String::*\", \"action\": \"mutate\", \"from\": \"add\","
          " \"to\": \"sub\"}]}\n",
          f);
    ck_assert_int_eq(fclose(f), 0);
    const char *argv[] = { ILG_CLI_PATH, "run", "--rules", rules, "--summary", "--save",
                           save_dir, corlib, NULL };
    fx_result_free(&res);
    ck_assert(fx_run(argv, &res));
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    char *saved = saved_path("mscorlib.dll");
    const char *list_orig[] = { "monodis", corlib, NULL }, *list_saved[] = { "monodis", saved,
                                                                              NULL };
    char *text = output_of(list_orig);
    listed_body orig, now;
    index_listing(text, &orig);
    free(text);
    text = output_of(list_saved);
    index_listing(text, &now);
    free(text);
    size_t log_len = 0, lines = 0, mapped = 0, runs = 0;
    char *log = fx_read_file(log_path, &log_len);
    ck_assert_ptr_nonnull(log);
    for (const char *l = log, *eol; l < log + log_len; l = eol + 1) {
        eol = memchr(l, '\n', (size_t)(log + log_len - l));
        ck_assert_ptr_nonnull(eol);
        if (strncmp(l, "ilgraft-plugin: rewrite ", 24) != 0)
            continue;
        mapped += check_map(l, eol, &orig, &now);
        lines++;
        for (const char *c = l; c < eol; c++)
            runs += *c == '>';
    }
    /* All of it: each method a line (summary: rewritten=), most instructions mapped. */
    char want[64];
    snprintf(want, sizeof want, " rewritten=%zu failed=0 ", lines);
    ck_assert_msg(strstr(log, want), "want \"%s\" in the summary", want);
    ck_assert_uint_gt(lines, 24000);
    ck_assert_uint_gt(mapped, 500000);
    printf("offset maps: %zu lines, %zu instructions in %zu runs, as monodis lists them\n",
           lines, mapped, runs);
    free(log);
    free(saved);
    listed_free(&orig);
    listed_free(&now);
}
END_TEST

START_TEST(wildcards_choose_the_methods)
{
    if (!have_mono())
        return;
    static const char *const fixtures[] = { "calc.exe", NULL };
    run_host(RULES_DIR "wildcard.json", fixtures);
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    json_t *r = report();
    ck_assert_str_eq(method_status(r, 0, "Calc::Add"), "unchanged");
    ck_assert_str_eq(method_status(r, 0, "Calc::Mul"), "rewritten");
    ck_assert_str_eq(method_status(r, 0, "Calc::Main"), "rewritten");
    ck_assert_str_eq(method_status(r, 0, "Calc::.ctor"), "rewritten");
    json_decref(r);
    char *saved = saved_path("calc.exe");
    char *got = listing(saved);
    char *ctor = method_block(got, "Calc::.ctor");
    ck_assert_msg(strstr(ctor, "IL_0000:  call void class Calc::Main()"), "%s", ctor);
    free(ctor);
    free(got);
    free(saved);
}
END_TEST

static unsigned count_in(const char *text, const char *needle)
{
    unsigned n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* A probe the module does not have: the rule is skipped, nothing rewritten, and the log
 * says which probe is missing where and why. */
START_TEST(missing_probe_skips_the_rule)
{
    static const char *const fixtures[] = { "calc.exe", NULL };
    run_host(RULES_DIR "missing_probe.json", fixtures);
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    json_t *r = report();
    ck_assert_str_eq(method_status(r, 0, "Calc::Add"), "unchanged");
    char events[64], summary[256];
    unsigned recompiles;
    expected_events(r, events, sizeof events, &recompiles);
    json_decref(r);
    char *log = read_log();
    snprintf(summary, sizeof summary,
             "summary %s matched=1 rewritten=0 failed=0 skipped=1 recompiles=%u restored=0 "
             "threads=1", events, recompiles);
    ck_assert_msg(strstr(log, summary), "want '%s' in %s", summary, log);
    char image[256], want[400];
    fx_path(image, sizeof image, "calc.exe");
    snprintf(want, sizeof want, "probe Nowhere::Probe not found in %s (module 0x", image);
    ck_assert_msg(strstr(log, want), "want \"%s\" in the log:\n%s", want, log);
    ck_assert_uint_eq(count_in(log, "probe Nowhere::Probe not found in "), 1);
    ck_assert_ptr_nonnull(strstr(log, "): no type Nowhere; rules with this probe skip the module\n"));
    free(log);
}
END_TEST

/* Every way a probe can be missing, over two modules on three JIT threads: one line per
 * module and probe (rules sharing a probe share it), however many threads looked, with
 * the reason: the type, a nesting level, the method, or its signature (Calc::Add is
 * int32(int32, int32): 00 02 08 08 08). */
START_TEST(missing_probes_are_logged_once_per_module_with_the_reason)
{
    char calc[256], eh[256], want[512];
    fx_path(calc, sizeof calc, "calc.exe");
    fx_path(eh, sizeof eh, "eh.exe");
    const char *argv[] = { ILG_CLI_PATH, "run", "--rules", RULES_DIR "missing_probes.json",
                           "--profiler", ILG_PLUGIN_PATH, "--clsid", PLUGIN_CLSID,
                           "--jit-threads", "3", calc, eh, NULL };
    fx_result_free(&res);
    ck_assert(fx_run(argv, &res));
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    char *log = read_log();
    static const struct {
        const char *probe, *calc_why, *eh_why;
    } want_lines[] = {
        { "Nowhere::Probe", "no type Nowhere", "no type Nowhere" },
        { "Calc::Nothing", "no method Nothing in Calc", "no type Calc" },
        { "Calc::Add", "Calc::Add (0x06000001) has signature 00 02 08 08 08, not static void() "
                       "(00 00 01)", "no type Calc" },
        { "Calc/Inner::Probe", "no type Inner nested in Calc", "no type Calc" },
    };
    for (size_t i = 0; i < sizeof want_lines / sizeof want_lines[0]; i++) {
        char head[128];
        snprintf(head, sizeof head, "probe %s not found in ", want_lines[i].probe);
        ck_assert_msg(count_in(log, head) == 2, "want 2 \"%s\" lines:\n%s", head, log);
        for (int m = 0; m < 2; m++) {
            snprintf(want, sizeof want, "%s%s (module 0x", head, m ? eh : calc);
            const char *line = strstr(log, want);
            ck_assert_msg(line, "want \"%s\" in the log:\n%s", want, log);
            snprintf(want, sizeof want, "): %s; rules with this probe skip the module\n",
                     m ? want_lines[i].eh_why : want_lines[i].calc_why);
            const char *end = strchr(line, '\n');
            ck_assert_msg(end && strstr(line, want) && strstr(line, want) < end,
                          "want \"%s\" in the line: %.*s", want, (int)(end - line), line);
        }
    }
    ck_assert_uint_eq(count_in(log, " not found in "), 8);
    ck_assert_ptr_null(strstr(log, "rewrite "));
    free(log);
}
END_TEST

/* A probe in a nested type, "Ns.Outer/Mid/Probes::Enter": each level looked up within
 * the one before. The image's decoys (Outer::Enter, a top-level Probes::Enter, the
 * nested Enter(int32)) print other lines, so Mono's output shows which one Work calls. */
START_TEST(probe_in_a_nested_type_is_found)
{
    if (!have_mono())
        return;
    char image[128], outarg[160];
    snprintf(image, sizeof image, "%s/nested_probe.exe", save_dir);
    snprintf(outarg, sizeof outarg, "/output:%s", image);
    const char *ilasm[] = { "ilasm", "/quiet", outarg, RULES_DIR "nested_probe.il", NULL };
    free(output_of(ilasm));
    char out_dir[128];
    snprintf(out_dir, sizeof out_dir, "%s/out", save_dir);
    ck_assert_int_eq(mkdir(out_dir, 0700), 0);
    const char *argv[] = { ILG_CLI_PATH, "run", "--rules", RULES_DIR "nested_probe.json",
                           "--profiler", ILG_PLUGIN_PATH, "--clsid", PLUGIN_CLSID, "--save",
                           out_dir, image, NULL };
    fx_result_free(&res);
    ck_assert(fx_run(argv, &res));
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    char saved[160];
    snprintf(saved, sizeof saved, "%s/nested_probe.exe", out_dir);
    const char *a1[] = { "mono", image, NULL }, *a2[] = { "mono", saved, NULL };
    char *plain = output_of(a1), *got = output_of(a2);
    ck_assert_str_eq(plain, "work\nwork\n");
    ck_assert_str_eq(got, "nested Enter()\nwork\nnested Enter()\nwork\n");
    char *log = read_log();
    ck_assert_msg(strstr(log, "rewrite Ns.Program::Work (0x06000005) probe-entry(entry) "), "%s",
                  log);
    ck_assert_msg(!strstr(log, " not found in "), "%s", log);
    free(log);
    free(plain);
    free(got);
}
END_TEST

/* Method and type names of every length around the plugin's blocks of eight UTF-16
 * units, ASCII and not (two- and three-byte UTF-8), reach the rewrite log as the IL
 * source spells them: the names go from the metadata to UTF-16 in the host's
 * GetMethodProps/GetTypeDefProps and back to UTF-8 in the plugin, a block at a time
 * where they are ASCII. Written and assembled by ilasm at test time. */
START_TEST(log_names_methods_as_the_source_spells_them)
{
    static const char *const names[] = {
        "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh", "abcdefghi",
        "abcdefghijklmno", "abcdefghijklmnop", "abcdefghijklmnopq",
        "abcdefghijklmnopqrstuvwxyz0123456789", "\xc3\xa9", "Caf\xc3\xa9",
        "abcdefg\xc3\xa9", "abcdefgh\xc3\xa9ijklmnopq", "\xc3\xa9" "abcdefghijklmnop",
        "na\xc3\xafve_and_longer_than_sixteen", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
        "x\xe6\x97\xa5" "abcdefghijklmnop\xe6\x9c\xac",
    };
    enum { N = sizeof names / sizeof *names };
    if (!have_mono())
        return;
    char il[128], image[128], outarg[160], rules[128], out_dir[128], want[256];
    snprintf(il, sizeof il, "%s/names.il", save_dir);
    snprintf(image, sizeof image, "%s/names.dll", save_dir);
    snprintf(rules, sizeof rules, "%s/names.json", save_dir);
    snprintf(out_dir, sizeof out_dir, "%s/out", save_dir);
    FILE *f = fopen(il, "w");
    ck_assert_ptr_nonnull(f);
    fputs(".assembly extern mscorlib {}\n.assembly names {}\n"
          ".class public Names extends [mscorlib]System.Object {\n", f);
    for (size_t i = 0; i < N; i++)
        fprintf(f, ".method public static void '%s'() { nop\nret }\n", names[i]);
    fputs(".method public static void Probe() { ret }\n}\n"
          ".class public 'Ns.T\xc3\xbdp\xc3\xa9_\xe6\x97\xa5' extends [mscorlib]System.Object {\n"
          ".method public static void 'M\xc3\xa9thode'() { nop\nret }\n}\n", f);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(outarg, sizeof outarg, "/output:%s", image);
    const char *ilasm[] = { "ilasm", "/quiet", "/dll", outarg, il, NULL };
    free(output_of(ilasm));
    f = fopen(rules, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"rules\": [{\"match\": \"*\", \"action\": \"probe-entry\", \"probe\": "
          "\"Names::Probe\"}]}\n", f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(mkdir(out_dir, 0700), 0);
    const char *argv[] = { ILG_CLI_PATH, "run", "--rules", rules, "--profiler", ILG_PLUGIN_PATH,
                           "--clsid", PLUGIN_CLSID, "--save", out_dir, image, NULL };
    fx_result_free(&res);
    ck_assert(fx_run(argv, &res));
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    char *log = read_log();
    for (size_t i = 0; i < N; i++) {
        snprintf(want, sizeof want, "ilgraft-plugin: rewrite Names::%s (0x%08zx) probe-entry(entry) ",
                 names[i], 0x06000001 + i);
        ck_assert_msg(strstr(log, want), "no line '%s' in\n%s", want, log);
    }
    snprintf(want, sizeof want,
             "ilgraft-plugin: rewrite Ns.T\xc3\xbdp\xc3\xa9_\xe6\x97\xa5::M\xc3\xa9thode "
             "(0x%08x) probe-entry(entry) ", 0x06000001u + N + 1);
    ck_assert_msg(strstr(log, want), "no line '%s' in\n%s", want, log);
    ck_assert_uint_eq(count_in(log, " rewrite "), N + 1); /* all but the probe */
    free(log);
}
END_TEST

/* ILGRAFT_LOG is appended to, each process's lines after a line naming it, and "%p"
 * in it is the process id ("%%" a percent sign): processes that start processes hand
 * the variable on, and no child may wipe its parent's log. */
START_TEST(log_is_appended_per_process_and_percent_p_is_the_pid)
{
    static const char *const fixtures[] = { "calc.exe", NULL };
    /* Two sessions, one file: both headers and both summaries, in order. */
    run_host(RULES_DIR "mutate_add.json", fixtures);
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    run_host(RULES_DIR "identity.json", fixtures);
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    char *log = read_log();
    ck_assert_uint_eq(count_in(log, "ilgraft-plugin: process "), 2);
    ck_assert_uint_eq(count_in(log, "ilgraft-plugin: summary "), 2);
    const char *first = strstr(log, "rules/mutate_add.json, event mask");
    const char *second = strstr(log, "rules/identity.json, event mask");
    ck_assert(first && second && first < second);
    ck_assert_msg(strncmp(log, "ilgraft-plugin: process ", 24) == 0, "%s", log);
    ck_assert_ptr_nonnull(strstr(log, " run --rules " RULES_DIR "mutate_add.json --profiler "));
    free(log);

    /* %p: one file per process, named by the pid its header gives; %% is a '%'. */
    char pattern[160], dir[96];
    snprintf(dir, sizeof dir, "%s/logs", save_dir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    snprintf(pattern, sizeof pattern, "%s/plugin-%%p-100%%%%.log", dir);
    setenv("ILGRAFT_LOG", pattern, 1);
    run_host(RULES_DIR "mutate_add.json", fixtures);
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    run_host(RULES_DIR "mutate_add.json", fixtures);
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    setenv("ILGRAFT_LOG", log_path, 1);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    unsigned files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        long pid = 0;
        char tail[16] = "", path[400], header[64];
        if (e->d_name[0] == '.')
            continue;
        ck_assert_msg(sscanf(e->d_name, "plugin-%ld-100%15s", &pid, tail) == 2 &&
                          strcmp(tail, "%.log") == 0,
                      "unexpected log file %s", e->d_name);
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *text = fx_read_file(path, NULL);
        ck_assert_ptr_nonnull(text);
        snprintf(header, sizeof header, "ilgraft-plugin: process %ld: ", pid);
        ck_assert_msg(strncmp(text, header, strlen(header)) == 0, "%s: %s", e->d_name, text);
        ck_assert_uint_eq(count_in(text, "ilgraft-plugin: summary "), 1);
        free(text);
        files++;
    }
    closedir(d);
    ck_assert_uint_eq(files, 2);
}
END_TEST

/* Rules that all match "*", logging only failures: the plugin names no method up front,
 * but a failure still names its method. `ret` as every body is refused by the host's
 * verifier where the method returns a value. */
START_TEST(failures_name_the_method_when_no_rule_needs_names)
{
    static const char *const fixtures[] = { "calc.exe", NULL };
    setenv("ILGRAFT_LOG_LEVEL", "failures", 1);
    run_host(RULES_DIR "replace_all_ret.json", fixtures);
    unsetenv("ILGRAFT_LOG_LEVEL");
    ck_assert_msg(res.exited && res.status == 0, "host failed: %s", res.err);
    json_t *r = report();
    ck_assert_str_eq(method_status(r, 0, "Calc::Add"), "rejected");
    ck_assert_str_eq(method_status(r, 0, "Calc::Main"), "rewritten");
    char events[64], summary[256];
    unsigned recompiles;
    expected_events(r, events, sizeof events, &recompiles);
    json_decref(r);
    char *log = read_log();
    ck_assert_msg(strstr(log, "FAIL Calc::Add (0x06000001): SetILFunctionBody returned 0x8013153a"),
                  "%s", log);
    ck_assert_msg(strstr(log, "FAIL Calc::Mul (0x06000002): SetILFunctionBody returned 0x8013153a"),
                  "%s", log);
    ck_assert_msg(!strstr(log, "rewrite "), "%s", log);
    snprintf(summary, sizeof summary,
             "summary %s matched=5 rewritten=3 failed=2 skipped=0 recompiles=%u", events,
             recompiles);
    ck_assert_msg(strstr(log, summary), "want '%s' in %s", summary, log);
    free(log);
}
END_TEST

/* Each bad rules file: the status the plugin logs and the message naming the value. */
static const struct {
    const char *rules, *status, *message;
} bad_rules[] = {
    { "bad_json.json", "E_PROF_RULES", "rules JSON line 1: " },
    { "bad_action.json", "E_PROF_RULES", "rule 0: unknown action \"frobnicate\"" },
    { "bad_mutate.json", "E_PROF_RULES",
      "rule 0: mutate add -> ldc.i4.0 changes the operand or stack effect" },
    { "bad_replace.json", "E_IL_", "rule 0: replace body" },
    { "bad_probe_param.json", "E_PROF_RULES",
      "rule 0: probe parameter \"float64\" is not supported (string: the method's name, "
      "int32: its token, object: probe-exit's return value)" },
    { "bad_probe_entry_object.json", "E_PROF_RULES",
      "rule 0: probe parameter \"object\" (the return value) is for probe-exit only" },
    { "bad_probe_version.json", "E_PROF_RULES",
      "rule 0: probe_assembly version \"1.0\" is not A.B.C.D" },
    { "bad_probe_key.json", "E_PROF_RULES",
      "rule 0: probe_assembly public_key_token \"b77a5c56\" is not 16 hex digits" },
    { "bad_probe_assembly.json", "E_PROF_RULES",
      "rule 0: \"probe_assembly\" without a probe in another assembly ([Name]...)" },
    { "bad_probe_assembly_conflict.json", "E_PROF_RULES",
      "rules 0 and 1: probe_assembly of ProbeLib differs" },
    { "bad_probe_bracket.json", "E_PROF_RULES",
      "rule 0: probe \"[ProbeLib Ns.Probes::Hit()\": want [Assembly]Type::Method" },
    { "bad_probe_parens.json", "E_PROF_RULES",
      "rule 0: probe \"[ProbeLib]Ns.Probes::Hit(int32\": the parameter list does not end the "
      "name" },
    { "bad_mode.json", "E_PROF_RULES", "\"mode\" is later, want \"jit\" or \"rejit\"" },
    { "bad_rejit_at.json", "E_PROF_RULES",
      "\"rejit_at\" (Calc::Main) without \"mode\": \"rejit\"" },
    { "does_not_exist.json", "E_IO", "does_not_exist.json: No such file or directory" },
    { NULL, NULL, "ILGRAFT_RULES is not set" },
};

START_TEST(bad_rules_stop_the_plugin)
{
    static const char *const fixtures[] = { "calc.exe", NULL };
    char path[256];
    if (bad_rules[_i].rules)
        snprintf(path, sizeof path, "%s%s", RULES_DIR, bad_rules[_i].rules);
    rules_by_env = true;
    run_host(bad_rules[_i].rules ? path : NULL, fixtures);
    rules_by_env = false;
    unsetenv("ILGRAFT_RULES");
    ck_assert_msg(res.exited && res.status == 1, "host exited %d/%d", res.exited, res.status);
    ck_assert_msg(strstr(res.err, "E_PROF_INIT_FAILED"), "%s", res.err);
    char *log = read_log();
    ck_assert_msg(strstr(log, bad_rules[_i].message), "want \"%s\" in the log:\n%s",
                  bad_rules[_i].message, log);
    if (bad_rules[_i].status) {
        char want[64];
        snprintf(want, sizeof want, "rules: %s", bad_rules[_i].status);
        ck_assert_msg(strstr(log, want), "want \"%s\" in the log:\n%s", want, log);
    }
    ck_assert_ptr_null(strstr(log, "rewrite "));
    free(log);
}
END_TEST

/* The plugin exports DllGetClassObject only: ilbody and common are inside it, hidden. */
START_TEST(only_dllgetclassobject_is_exported)
{
    void *h = dlopen(ILG_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(h, "dlopen: %s", dlerror());
    ck_assert_ptr_nonnull(dlsym(h, "DllGetClassObject"));
    static const char *const hidden[] = { "ilg_body_decode", "ilg_body_encode", "ilg_status_name",
                                          "ilg__fail", "ilg__plugin_rules_parse" };
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++)
        ck_assert_msg(dlsym(h, hidden[i]) == NULL, "%s is exported", hidden[i]);
    dlclose(h);
}
END_TEST

/* ---- the plugin's method table (profiler/methods.c), driven directly -------- */

enum { TABLE_THREADS = 6, TABLE_KEYS = 3000 };

typedef struct table_run {
    ilg__plugin_methods *t;
    atomic_uint mine[TABLE_KEYS]; /* MINE claims per key: must end at 1 each */
    atomic_uint waits, done;
} table_run;

/* Key k: module 0x1000 or 0x2000, a MethodDef token; its "body" a value made from k. */
static uintptr_t key_module(unsigned k) { return k & 1 ? 0x2000 : 0x1000; }
static uint32_t key_token(unsigned k) { return 0x06000001u + k / 2; }
static const uint8_t *key_body(unsigned k) { return (const uint8_t *)(uintptr_t)(0x10000u + 16 * k); }

static void *table_worker(void *arg)
{
    table_run *r = arg;
    /* All in the same order, so that they meet on the methods being built. */
    for (unsigned k = 0; k < TABLE_KEYS; k++) {
        const uint8_t *body = NULL;
        uint32_t size = 0;
        bool waited = false;
        ilg__method_claim c =
            ilg__plugin_methods_claim(r->t, key_module(k), key_token(k), &body, &size, &waited);
        if (c == ILG__CLAIM_MINE) {
            atomic_fetch_add(&r->mine[k], 1);
            if (k % 64 == 0) /* a slow build now and then, so that others wait */
                usleep(200);
            /* Every third key is "left as it was": no body. */
            ilg__plugin_methods_finish(r->t, key_module(k), key_token(k),
                                       k % 3 ? key_body(k) : NULL, k % 3 ? k : 0);
        } else {
            ck_assert_int_eq(c, ILG__CLAIM_DONE);
            ck_assert_ptr_eq(body, k % 3 ? key_body(k) : NULL);
            ck_assert_uint_eq(size, k % 3 ? k : 0);
            atomic_fetch_add(&r->done, 1);
            if (waited)
                atomic_fetch_add(&r->waits, 1);
        }
    }
    return NULL;
}

typedef struct blocked_claim {
    ilg__plugin_methods *t;
    atomic_int started, finished; /* finished: set by the builder just before finishing */
    const uint8_t *body;
    bool waited, saw_finished;
    ilg__method_claim claim;
} blocked_claim;

static void *second_claimer(void *arg)
{
    blocked_claim *b = arg;
    uint32_t size = 0;
    atomic_store(&b->started, 1);
    b->claim = ilg__plugin_methods_claim(b->t, 0x3000, 0x06000007, &b->body, &size, &b->waited);
    b->saw_finished = atomic_load(&b->finished) == 1;
    return NULL;
}

/* What CoreCLR does to the plugin, without CoreCLR: six threads claim the same 3,000
 * methods of two modules, as the JIT's threads do when they compile one method's
 * instantiations, its tier-up and its OSR at once. Each method is built by exactly one
 * thread; every other claim gets that thread's body (or none), waiting while it is
 * built; a thread that claims a method being built returns only after the builder
 * finished; a reused module id forgets its methods and only those. */
START_TEST(method_table_builds_each_method_once)
{
    static table_run r;
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(ilg__plugin_methods_new(&r.t), ILG_OK);
    ck_assert(ilg__plugin_methods_note_module(r.t, 0x1000));
    ck_assert(ilg__plugin_methods_note_module(r.t, 0x2000));
    pthread_t th[TABLE_THREADS];
    for (int i = 0; i < TABLE_THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, table_worker, &r), 0);
    for (int i = 0; i < TABLE_THREADS; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (unsigned k = 0; k < TABLE_KEYS; k++)
        ck_assert_msg(atomic_load(&r.mine[k]) == 1, "key %u built %u times", k,
                      atomic_load(&r.mine[k]));
    ck_assert_uint_eq(atomic_load(&r.done), (TABLE_THREADS - 1) * TABLE_KEYS);
    printf("method table: %u methods built once each on %d threads, %u later claims, %u of "
           "them waited for the builder\n",
           TABLE_KEYS, TABLE_THREADS, atomic_load(&r.done), atomic_load(&r.waits));

    /* A claim while another thread builds returns after the build, with its body. */
    static blocked_claim b;
    memset(&b, 0, sizeof b);
    b.t = r.t;
    const uint8_t *body = NULL;
    uint32_t size = 0;
    bool waited = false;
    ck_assert(ilg__plugin_methods_note_module(r.t, 0x3000));
    ck_assert_int_eq(ilg__plugin_methods_claim(r.t, 0x3000, 0x06000007, &body, &size, &waited),
                     ILG__CLAIM_MINE);
    pthread_t second;
    ck_assert_int_eq(pthread_create(&second, NULL, second_claimer, &b), 0);
    while (!atomic_load(&b.started))
        usleep(100);
    usleep(20000);
    atomic_store(&b.finished, 1);
    ilg__plugin_methods_finish(r.t, 0x3000, 0x06000007, (const uint8_t *)"body", 4);
    ck_assert_int_eq(pthread_join(second, NULL), 0);
    ck_assert_int_eq(b.claim, ILG__CLAIM_DONE);
    ck_assert_ptr_eq(b.body, (const uint8_t *)"body");
    ck_assert_msg(b.saw_finished, "the second claim returned before the build finished");
    printf("method table: the second claim %s\n", b.waited ? "waited" : "came after the build");

    /* Module 0x1000 reloaded under the same id: its 1,500 methods go, 0x2000's stay. */
    ck_assert_uint_eq(ilg__plugin_methods_forget(r.t, 0x1000), TABLE_KEYS / 2);
    ck_assert_uint_eq(ilg__plugin_methods_forget(r.t, 0x1000), 0);
    ck_assert_uint_eq(ilg__plugin_methods_forget(r.t, 0x4000), 0);
    ck_assert_int_eq(ilg__plugin_methods_claim(r.t, key_module(0), key_token(0), &body, &size,
                                               &waited),
                     ILG__CLAIM_MINE);
    ilg__plugin_methods_finish(r.t, key_module(0), key_token(0), NULL, 0);
    ck_assert_int_eq(ilg__plugin_methods_claim(r.t, key_module(1), key_token(1), &body, &size,
                                               &waited),
                     ILG__CLAIM_DONE);
    ck_assert_ptr_eq(body, key_body(1));
    ilg__plugin_methods_free(r.t);
}
END_TEST

/* The log from several processes and threads at once (a process hands ILGRAFT_LOG to
 * the processes it starts; CoreCLR logs from every JIT thread). */
enum { LOG_PROCS = 2, LOG_THREADS = 3, LOG_LINES = 1500 };

typedef struct log_writer {
    ilg__plugin_log *log;
    int proc, thread;
} log_writer;

/* Line n of writer (proc, thread): "P T N LEN FILL\n", LEN its length and FILL a letter
 * repeated, from 20 bytes to 3 KB and every 500th line past the 64 KiB buffer. */
static size_t log_test_line(char *buf, size_t cap, int proc, int thread, int n)
{
    size_t len = n % 500 == 499 ? 70000 : 20 + (size_t)(n * 7919 % 3000);
    ck_assert_uint_lt(len, cap);
    int head = snprintf(buf, cap, "%d %d %d %zu ", proc, thread, n, len);
    memset(buf + head, 'a' + (proc * 7 + thread * 3 + n) % 26, len - (size_t)head - 1);
    buf[len - 1] = '\n';
    return len;
}

static void *log_writer_thread(void *arg)
{
    log_writer *w = arg;
    char *buf = malloc(80000);
    ck_assert_ptr_nonnull(buf);
    for (int n = 0; n < LOG_LINES; n++) {
        size_t len = log_test_line(buf, 80000, w->proc, w->thread, n);
        ilg__plugin_log_write(w->log, buf, len, n % 97 == 0); /* now and then a failure */
    }
    free(buf);
    return NULL;
}

/* One process's share: LOG_THREADS threads writing to the file at path at once. */
static void log_writer_process(const char *path, int proc)
{
    ilg__plugin_log *log = ilg__plugin_log_new();
    pthread_t t[LOG_THREADS];
    log_writer w[LOG_THREADS];
    if (!log || ilg__plugin_log_open(log, path, true) != 0)
        _exit(2);
    for (int i = 0; i < LOG_THREADS; i++) {
        w[i] = (log_writer){ log, proc, i };
        if (pthread_create(&t[i], NULL, log_writer_thread, &w[i]) != 0)
            _exit(3);
    }
    for (int i = 0; i < LOG_THREADS; i++)
        pthread_join(t[i], NULL);
    ilg__plugin_log_free(log);
}

/* Two processes, three threads each, appending to one file through the plugin's log:
 * every line arrives whole (none split by another's bytes), once, and each thread's
 * lines in the order it wrote them; lines longer than the buffer too. */
START_TEST(log_lines_stay_whole_across_processes_and_threads)
{
    pid_t pids[LOG_PROCS];
    for (int p = 0; p < LOG_PROCS; p++) {
        fflush(NULL);
        pids[p] = fork();
        ck_assert_int_ge(pids[p], 0);
        if (pids[p] == 0) {
            log_writer_process(log_path, p);
            _exit(0);
        }
    }
    for (int p = 0; p < LOG_PROCS; p++) {
        int st = 0;
        ck_assert_int_eq(waitpid(pids[p], &st, 0), pids[p]);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer %d: status %d", p, st);
    }
    size_t size = 0;
    char *text = fx_read_file(log_path, &size), *want = malloc(80000);
    ck_assert(text && want);
    int next[LOG_PROCS][LOG_THREADS] = { { 0 } };
    size_t lines = 0;
    for (char *line = text; line < text + size; lines++) {
        /* "P T N LEN " (strtoul: glibc's sscanf measures the whole rest of text). */
        char *c = line;
        unsigned long f[4];
        for (int i = 0; i < 4; i++) {
            char *e;
            f[i] = strtoul(c, &e, 10);
            ck_assert_msg(e > c && *e == ' ', "line %zu starts with %.40s", lines, line);
            c = e + 1;
        }
        int p = (int)f[0], t = (int)f[1], n = (int)f[2];
        size_t len = f[3];
        ck_assert_msg(p < LOG_PROCS && t < LOG_THREADS, "line %zu starts with %.40s", lines,
                      line);
        ck_assert_msg(n == next[p][t], "process %d thread %d: line %d after %d", p, t, n,
                      next[p][t] - 1);
        next[p][t]++;
        ck_assert_uint_eq(log_test_line(want, 80000, p, t, n), len);
        ck_assert_msg(len <= (size_t)(text + size - line) && memcmp(line, want, len) == 0,
                      "process %d thread %d line %d is not whole", p, t, n);
        line += len;
    }
    ck_assert_uint_eq(lines, LOG_PROCS * LOG_THREADS * LOG_LINES);
    free(text);
    free(want);
}
END_TEST

/* A line that may wait is written out by the flusher without any other line or the
 * log's end (the process goes on); one that may not is in the file when the call
 * returns, with the lines before it; an unbuffered log writes every line at once. */
START_TEST(log_flushes_waiting_lines_by_itself)
{
    ilg__plugin_log *log = ilg__plugin_log_new();
    ck_assert_ptr_nonnull(log);
    ck_assert_int_eq(ilg__plugin_log_open(log, log_path, true), 0);
    ilg__plugin_log_write(log, "one\n", 4, false);
    ilg__plugin_log_write(log, "two\n", 4, false);
    ilg__plugin_log_write(log, "FAIL three\n", 11, true);
    char *text = read_log();
    ck_assert_str_eq(text, "one\ntwo\nFAIL three\n");
    free(text);
    ilg__plugin_log_write(log, "four\n", 5, false);
    /* Polled for up to 20 s (the flusher waits 50 ms; a loaded machine is slow). */
    struct stat st = { 0 };
    for (int i = 0; i < 2000 && (stat(log_path, &st) != 0 || st.st_size < 24); i++)
        usleep(10000);
    ck_assert_int_eq(st.st_size, 24);
    ilg__plugin_log_free(log);
    text = read_log();
    ck_assert_str_eq(text, "one\ntwo\nFAIL three\nfour\n");
    free(text);
    /* Unbuffered (the failures level): each line is in the file when the call returns,
     * after what the file had (appended to). */
    ck_assert_ptr_nonnull(log = ilg__plugin_log_new());
    ck_assert_int_eq(ilg__plugin_log_open(log, log_path, false), 0);
    ilg__plugin_log_write(log, "five\n", 5, false);
    text = read_log();
    ck_assert_str_eq(text, "one\ntwo\nFAIL three\nfour\nfive\n");
    free(text);
    ilg__plugin_log_free(log);
}
END_TEST

static Suite *plugin_host_suite(void)
{
    Suite *s = suite_create("plugin_host");
    TCase *tc = tcase_create("host");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, only_dllgetclassobject_is_exported);
    tcase_add_test(tc, identity_keeps_every_fixture);
    tcase_add_test(tc, each_action_matches_the_assembled_expectation);
    tcase_add_test(tc, mutation_runs_in_mono);
    tcase_add_test(tc, probes_run_in_mono_around_eh);
    tcase_add_test(tc, wildcards_choose_the_methods);
    tcase_add_test(tc, offset_map_matches_monodis);
    tcase_add_test(tc, batch_mode_saves_the_same_bytes);
    tcase_add_test(tc, every_host_allocation_fault_with_the_plugin);
    tcase_add_test(tc, missing_probe_skips_the_rule);
    tcase_add_test(tc, missing_probes_are_logged_once_per_module_with_the_reason);
    tcase_add_test(tc, probe_in_a_nested_type_is_found);
    tcase_add_test(tc, log_names_methods_as_the_source_spells_them);
    tcase_add_test(tc, log_is_appended_per_process_and_percent_p_is_the_pid);
    tcase_add_test(tc, failures_name_the_method_when_no_rule_needs_names);
    tcase_add_loop_test(tc, bad_rules_stop_the_plugin, 0,
                        (int)(sizeof bad_rules / sizeof bad_rules[0]));
    suite_add_tcase(s, tc);
    /* Its own case so that the ThreadSanitizer job can run it alone (CK_RUN_CASE). */
    TCase *threads = tcase_create("threads");
    tcase_add_checked_fixture(threads, setup, teardown);
    tcase_set_timeout(threads, 300);
    tcase_add_test(threads, jit_threads_rewrite_as_one_thread_does);
    tcase_add_test(threads, method_table_builds_each_method_once);
    tcase_add_test(threads, log_lines_stay_whole_across_processes_and_threads);
    tcase_add_test(threads, log_flushes_waiting_lines_by_itself);
    suite_add_tcase(s, threads);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(plugin_host_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
