/* test_host_integration.c: `ilgraft run` with real profiler libraries: the rewriting
 * profiler (new bodies through the module allocator, checked RVAs, metadata lookups),
 * the misbehaving one (foreign memory, corrupt bodies, refused interfaces, crashes and
 * hangs under --isolate) and the ABI probe, whose event kinds and load order under the
 * host are compared with the same probe's log under a real CoreCLR. Expected figures
 * come from the image's own metadata (ilg_md_method_body), not from the host. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit/fixture_util.h"
#include "ilgraft/metadata.h"
#include "tier_expect.h"

#define TEST_CLSID "{1F6E4A2B-3C5D-4E7F-8091-A2B3C4D5E6F7}"
#define PROBE_CLSID "{7C0C5F1E-5A4B-4E55-9C3A-1F2B3C4D5E6F}"

static char log_path[256];
static fx_result res;

static void setup(void)
{
    snprintf(log_path, sizeof log_path, "/tmp/ilg_host_it_%d.log", (int)getpid());
    unlink(log_path);
    setenv("PROF_LOG", log_path, 1);
    unsetenv("PROF_MODE");
    unsetenv("CORECLR_ENABLE_PROFILING");
    unsetenv("CORECLR_PROFILER");
    unsetenv("CORECLR_PROFILER_PATH");
    unsetenv("CORECLR_PROFILER_PATH_64");
    memset(&res, 0, sizeof res);
}

static void teardown(void)
{
    fx_result_free(&res);
    unlink(log_path);
}

/* Runs `ilgraft run` with the given profiler and extra arguments (NULL-terminated). */
static void run_cli(const char *profiler, const char *clsid, const char *const *extra)
{
    const char *argv[24];
    int n = 0;
    argv[n++] = ILG_CLI_PATH;
    argv[n++] = "run";
    if (profiler) {
        argv[n++] = "--profiler";
        argv[n++] = profiler;
    }
    if (clsid) {
        argv[n++] = "--clsid";
        argv[n++] = clsid;
    }
    for (int i = 0; extra[i] && n < 23; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    fx_result_free(&res);
    ck_assert(fx_run(argv, &res));
}

static char *read_log(void)
{
    char *text = fx_read_file(log_path, NULL);
    ck_assert_msg(text != NULL, "profiler log %s missing", log_path);
    return text;
}

static void assert_log_pass(void)
{
    char *text = read_log();
    size_t len = strlen(text);
    ck_assert_msg(len >= 5 && strcmp(text + len - 5, "PASS\n") == 0, "profiler log:\n%s", text);
    free(text);
}

static json_t *parse_report(void)
{
    json_error_t err;
    json_t *root = json_loads(res.out, 0, &err);
    ck_assert_msg(root != NULL, "report is not JSON (%s): %s", err.text, res.out);
    return root;
}

/* Every method of the image: old RVA and size as the metadata has them; with IL, the
 * status must be want (rewritten bodies: RVA inside the arena, below 2^31). */
static void check_module(json_t *mod, const char *fixture, const char *want, const char *diag_part)
{
    char path[512];
    ilg_image *img;
    const ilg_metadata *md;
    ilg_image_info info;

    fx_path(path, sizeof path, fixture);
    ck_assert_int_eq(ilg_image_open(path, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    ck_assert_int_eq(ilg_image_get_info(img, &info), ILG_OK);
    ck_assert_str_eq(json_string_value(json_object_get(mod, "path")), path);
    ck_assert_uint_eq(json_integer_value(json_object_get(mod, "image_size")), info.image_size);
    ck_assert_uint_eq(json_integer_value(json_object_get(mod, "arena_offset")), info.arena_offset);
    json_t *methods = json_object_get(mod, "methods");
    uint32_t rows = ilg_md_row_count(md, ILG_TBL_MethodDef);
    ck_assert_uint_eq(json_array_size(methods), rows);
    uint32_t with_il = 0;
    for (uint32_t rid = 1; rid <= rows; rid++) {
        ilg_method_body b;
        json_t *m = json_array_get(methods, rid - 1);
        ck_assert_int_eq(ilg_md_method_body(md, rid, &b), ILG_OK);
        ck_assert_uint_eq(json_integer_value(json_object_get(m, "token")), 0x06000000u | rid);
        const char *status = json_string_value(json_object_get(m, "status"));
        bool il = b.kind == ILG_BODY_TINY || b.kind == ILG_BODY_FAT;
        ck_assert_uint_eq(json_integer_value(json_object_get(m, "old_rva")), il ? b.rva : 0);
        ck_assert_uint_eq(json_integer_value(json_object_get(m, "old_size")), il ? b.body_size : 0);
        if (!il) {
            ck_assert_str_eq(status, "unchanged");
            continue;
        }
        with_il++;
        ck_assert_msg(strcmp(status, want) == 0, "%s 0x%08x: status %s, expected %s", fixture,
                      0x06000000u | rid, status, want);
        json_int_t new_rva = json_integer_value(json_object_get(m, "new_rva"));
        json_int_t new_size = json_integer_value(json_object_get(m, "new_size"));
        if (strcmp(want, "rewritten") == 0) {
            ck_assert_int_ge(new_rva, (json_int_t)info.arena_offset);
            ck_assert_int_lt(new_rva, 0x80000000LL);
            /* The rewriting profiler puts a nop in front of tiny bodies with room. */
            bool grows = b.kind == ILG_BODY_TINY && b.code_size < 63;
            ck_assert_int_eq(new_size, (json_int_t)b.body_size + (grows ? 1 : 0));
        } else {
            ck_assert_int_eq(new_rva, 0);
            ck_assert_int_eq(new_size, 0);
        }
        if (diag_part) {
            const char *d = json_string_value(json_object_get(m, "diagnostic"));
            ck_assert_msg(d && strstr(d, diag_part), "diagnostic '%s' lacks '%s'", d ? d : "(none)",
                          diag_part);
            char name[512];
            ck_assert_int_eq(ilg_md_method_name(md, rid, name, sizeof name, NULL), ILG_OK);
            ck_assert_msg(strstr(d, name), "diagnostic '%s' does not name the method '%s'", d,
                          name);
        }
    }
    ck_assert_uint_gt(with_il, 0);
    ilg_image_close(img);
}

START_TEST(rewrite_every_fixture)
{
    static const char *const fixtures[] = { "calc.exe",     "bodies.exe", "eh.exe",
                                            "generics.exe", "types.exe",  "big.exe" };
    char paths[6][512];
    const char *extra[10] = { "--json" };
    for (int i = 0; i < 6; i++) {
        fx_path(paths[i], sizeof paths[i], fixtures[i]);
        extra[i + 1] = paths[i];
    }
    extra[7] = NULL;
    run_cli(ILG_PROF_REWRITE, TEST_CLSID, extra);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    assert_log_pass();
    json_t *root = parse_report();
    json_t *mods = json_object_get(root, "modules");
    ck_assert_uint_eq(json_array_size(mods), 6);
    for (int i = 0; i < 6; i++)
        check_module(json_array_get(mods, (size_t)i), fixtures[i], "rewritten", NULL);
    json_decref(root);
}
END_TEST

/* What the rewriting profiler found through IMetaDataImport against the tables. */
START_TEST(metadata_import_matches_tables)
{
    static const char *const fixtures[] = { "calc.exe", "types.exe", "eh.exe", "generics.exe",
                                            "bodies.exe" };
    for (size_t i = 0; i < sizeof fixtures / sizeof *fixtures; i++) {
        char path[512], want[256], us[96] = "";
        ilg_image *img;
        const ilg_metadata *md;
        const uint8_t *utf16;
        uint32_t bytes;
        fx_path(path, sizeof path, fixtures[i]);
        const char *extra[] = { "--json", path, NULL };
        run_cli(ILG_PROF_REWRITE, TEST_CLSID, extra);
        ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
        assert_log_pass();
        /* The report's new RVA and size are where the profiler put the body. */
        json_t *root = parse_report();
        json_t *methods = json_object_get(json_array_get(json_object_get(root, "modules"), 0),
                                          "methods");
        char *plog = read_log();
        int seen = 0;
        for (const char *l = strstr(plog, "rewrote "); l; l = strstr(l + 1, "rewrote ")) {
            unsigned tok, size;
            unsigned long long rva;
            ck_assert_int_eq(sscanf(l, "rewrote 0x%x rva=0x%llx size=%u", &tok, &rva, &size), 3);
            json_t *m = json_array_get(methods, (tok & 0xFFFFFF) - 1);
            ck_assert_uint_eq(json_integer_value(json_object_get(m, "new_rva")), rva);
            ck_assert_uint_eq(json_integer_value(json_object_get(m, "new_size")), size);
            seen++;
        }
        ck_assert_int_gt(seen, 0);
        free(plog);
        json_decref(root);
        ck_assert_int_eq(ilg_image_open(path, NULL, &img), ILG_OK);
        ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
        if (ilg_md_user_string(md, 1, &utf16, &bytes) == ILG_OK) {
            size_t n = bytes / 2 < 64 ? bytes / 2 : 64;
            for (size_t k = 0; k < n; k++)
                us[k] = utf16[2 * k] < 0x80 && utf16[2 * k + 1] == 0 ? (char)utf16[2 * k] : '?';
            us[n] = '\0';
        }
        uint32_t types = ilg_md_row_count(md, ILG_TBL_TypeDef);
        snprintf(want, sizeof want,
                 "metadata typedefs=%u memberrefs=%u standalonesigs=%u us1=\"%s\"\n",
                 types > 0 ? types - 1 : 0, ilg_md_row_count(md, ILG_TBL_MemberRef),
                 ilg_md_row_count(md, ILG_TBL_StandAloneSig), us);
        /* Methods without IL get CORPROF_E_FUNCTION_NOT_IL; the assembly's name is its
         * Assembly row's. */
        uint32_t notil = 0, name_index = 0;
        const char *asm_name = "";
        for (uint32_t rid = 1; rid <= ilg_md_row_count(md, ILG_TBL_MethodDef); rid++) {
            ilg_method_body b;
            ck_assert_int_eq(ilg_md_method_body(md, rid, &b), ILG_OK);
            notil += b.kind != ILG_BODY_TINY && b.kind != ILG_BODY_FAT;
        }
        ck_assert_int_eq(ilg_md_cell(md, ILG_TBL_Assembly, 1, 7, &name_index), ILG_OK);
        ck_assert_int_eq(ilg_md_string(md, name_index, &asm_name), ILG_OK);
        char edges[300];
        snprintf(edges, sizeof edges, "edges notil=%u assembly=\"%s\"\n", notil, asm_name);
        char *log = read_log();
        ck_assert_msg(strstr(log, want), "%s: expected '%s' in:\n%s", fixtures[i], want, log);
        ck_assert_msg(strstr(log, edges), "%s: expected '%s' in:\n%s", fixtures[i], edges, log);
        free(log);
        ilg_image_close(img);
    }
}
END_TEST

START_TEST(methods_pattern_limits_jit)
{
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    const char *extra[] = { "--json", "--methods", "Calc::Add", calc, NULL };
    run_cli(ILG_PROF_REWRITE, TEST_CLSID, extra);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    assert_log_pass();
    json_t *root = parse_report();
    json_t *methods =
        json_object_get(json_array_get(json_object_get(root, "modules"), 0), "methods");
    int rewritten = 0;
    for (size_t i = 0; i < json_array_size(methods); i++) {
        json_t *m = json_array_get(methods, i);
        if (strcmp(json_string_value(json_object_get(m, "status")), "rewritten") == 0) {
            rewritten++;
            ck_assert_ptr_nonnull(
                strstr(json_string_value(json_object_get(m, "name")), "Calc::Add("));
        }
    }
    ck_assert_int_eq(rewritten, 1);
    json_decref(root);
}
END_TEST

/* Under --trace every host method the profiler reaches is traced with its answer, and
 * one the host cannot answer says why on its line (prof_rewrite calls
 * GetClassFromObject, unsupported, and FindAssembliesByName, not implemented, and checks
 * the answers); nothing is traced without --trace. The report counts the unsupported
 * call. */
START_TEST(unimplemented_methods_are_traced)
{
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    const char *extra[] = { "--trace", calc, NULL };
    run_cli(ILG_PROF_REWRITE, TEST_CLSID, extra);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    assert_log_pass();
    ck_assert_msg(strstr(res.err, "ICorProfilerInfo::GetClassFromObject(objectId=0x0) = "
                                  "E_INVALIDARG [no managed heap: no ObjectID names an object]\n"),
                  "no trace of the stub:\n%s", res.err);
    ck_assert_msg(strstr(res.out, "unsupported calls, by name: GetClassFromObject 1\n"),
                  "no count of the unsupported call in the report:\n%s", res.out);
    const char *fab = strstr(res.err, "IMetaDataAssemblyImport::FindAssembliesByName(");
    ck_assert_msg(fab, "no trace of the metadata stub:\n%s", res.err);
    const char *eol = strchr(fab, '\n');
    ck_assert_ptr_nonnull(eol);
    const char *note = strstr(fab, ") = E_NOTIMPL [not implemented]");
    ck_assert_msg(note && note < eol, "the stub's line says nothing of it:\n%.*s", (int)(eol - fab),
                  fab);
    ck_assert_ptr_nonnull(strstr(res.err, "ICorProfilerInfo::SetEventMask(dwEvents=0x"));
    ck_assert_ptr_null(strstr(res.err, "S_OK [not implemented]"));
    const char *quiet[] = { calc, NULL };
    run_cli(ILG_PROF_REWRITE, TEST_CLSID, quiet);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    ck_assert_ptr_null(strstr(res.err, "not implemented"));
    ck_assert_ptr_null(strstr(res.err, "unsupported"));
}
END_TEST

/* --trace shows every call in both directions: prof_trace logs each call it made into the
 * host, with what it passed and got back, as a trace line ("CALL <line>"); each must be
 * in the host's trace, the rule-breaking one with CoreCLR's refusal, and each callback
 * the profiler received with its arguments and its HRESULT. */
START_TEST(trace_shows_every_call)
{
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    const char *extra[] = { "--trace", calc, NULL };
    run_cli(ILG_PROF_TRACE, TEST_CLSID, extra);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    assert_log_pass();
    char *text = read_log();
    unsigned calls = 0;
    for (char *line = strstr(text, "CALL "); line; line = strstr(line, "CALL ")) {
        line += strlen("CALL ");
        char *end = strchr(line, '\n');
        ck_assert_ptr_nonnull(end);
        *end = '\0';
        ck_assert_msg(strstr(res.err, line), "not in the trace: %s\ntrace:\n%.3000s", line,
                      res.err);
        calls++;
        line = end + 1;
    }
    /* Initialize's 2, ModuleLoadFinished's 14, one per JIT event. */
    unsigned jit = 0;
    for (const char *p = res.err; (p = strstr(p, "callback JITCompilationStarted(")); p++)
        jit++;
    ck_assert_uint_gt(jit, 0);
    ck_assert_uint_eq(calls, 16 + jit);
    free(text);
    ck_assert_ptr_nonnull(strstr(res.err, "SetEnterLeaveFunctionHooks3(pFuncEnter3=NULL, "
                                          "pFuncLeave3=NULL, pFuncTailcall3=NULL) = "
                                          "CORPROF_E_CALL_ONLY_FROM_INIT [refused: "));
    ck_assert_ptr_nonnull(strstr(res.err, "callback ModuleLoadFinished = S_OK\n"));
    ck_assert_ptr_nonnull(strstr(res.err, "callback JITCompilationStarted(functionId=0x"));
    ck_assert_ptr_nonnull(strstr(res.err, "callback Initialize = S_OK\n"));
    ck_assert_msg(strstr(res.out, "calls refused by CoreCLR's call rules: 1\n"), "%s", res.out);
}
END_TEST

/* Under --trace the host's LoadAsNotificationOnly call on a Callback11 profiler (the ABI
 * probe answering up to Callback11) is traced as a callback, after the QueryInterface
 * for Callback11 and before Initialize, with the profiler's HRESULT; a notification-only
 * answer is logged as such. */
START_TEST(trace_shows_load_as_notification_only)
{
    if (!fx_require(ILG_ABI_PROBE[0], "the ABI probe was not built"))
        return;
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    setenv("ILG_ABI_PROBE_LOG", log_path, 1);
    setenv("ILG_ABI_PROBE_MAX_CALLBACK", "11", 1);
    for (int only = 0; only < 2; only++) {
        setenv("ILG_ABI_PROBE_NOTIFICATION_ONLY", only ? "1" : "0", 1);
        const char *extra[] = { "--trace", calc, NULL };
        run_cli(ILG_ABI_PROBE, PROBE_CLSID, extra);
        const char *qi = strstr(res.err, "callback QueryInterface(riid=");
        const char *cb11 = strstr(res.err, "(ICorProfilerCallback11)) = S_OK\n");
        const char *ask = strstr(res.err, "callback LoadAsNotificationOnly(pbNotificationOnly=0x");
        const char *ret = strstr(res.err, "callback LoadAsNotificationOnly = S_OK\n");
        const char *init = strstr(res.err, "callback Initialize(");
        ck_assert_msg(qi && cb11 && ask && ret && init && qi < cb11 && cb11 < ask && ask < ret &&
                          ret < init,
                      "notification-only %d: trace out of order:\n%.4000s", only, res.err);
        ck_assert_int_eq(strstr(res.err, "Profiler loads as a notification-only profiler") != NULL,
                         only);
    }
    unsetenv("ILG_ABI_PROBE_LOG");
    unsetenv("ILG_ABI_PROBE_MAX_CALLBACK");
    unsetenv("ILG_ABI_PROBE_NOTIFICATION_ONLY");
}
END_TEST

/* `--jit-threads N` from the command line: prof_threads (thread-safe) on three threads
 * over the IL fixtures; every method with IL comes once, its pair from one thread, and
 * is rewritten. Bad counts are usage errors naming the value. */
START_TEST(jit_threads_from_the_command_line)
{
    static const char *const fixtures[] = { "calc.exe", "bodies.exe", "eh.exe", "generics.exe",
                                            "types.exe" };
    char paths[5][512];
    const char *extra[12] = { "--json", "--trace", "--jit-threads", "3" };
    for (int i = 0; i < 5; i++) {
        fx_path(paths[i], sizeof paths[i], fixtures[i]);
        extra[4 + i] = paths[i];
    }
    run_cli(ILG_PROF_THREADS, TEST_CLSID, extra);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    assert_log_pass();
    json_t *root = parse_report();
    int with_il = 0;
    for (size_t f = 0; f < 5; f++) {
        json_t *methods =
            json_object_get(json_array_get(json_object_get(root, "modules"), f), "methods");
        for (size_t i = 0; i < json_array_size(methods); i++) {
            json_t *m = json_array_get(methods, i);
            if (json_integer_value(json_object_get(m, "old_rva")) == 0)
                continue;
            with_il++;
            ck_assert_str_eq(json_string_value(json_object_get(m, "status")), "rewritten");
        }
    }
    json_decref(root);
    /* The trace names the delivering thread: the loads on the session's (0), each JIT
     * callback on one of the three. */
    const char *load = strstr(res.err, "callback ModuleLoadFinished(");
    ck_assert_ptr_nonnull(load);
    ck_assert_msg(strncmp(strchr(load, '\n') - 11, " (thread 0)", 11) == 0, "%.120s", load);
    int traced = 0;
    for (const char *p = strstr(res.err, "callback JITCompilationStarted("); p;
         p = strstr(p + 1, "callback JITCompilationStarted(")) {
        unsigned t = 9;
        const char *tag = strstr(p, " (thread ");
        ck_assert_msg(tag && tag < strchr(p, '\n'), "untagged: %.120s", p);
        ck_assert_int_eq(sscanf(tag, " (thread %u)", &t), 1);
        ck_assert_uint_lt(t, 3);
        traced++;
    }
    ck_assert_int_eq(traced, with_il);
    char *text = read_log(), want[128];
    /* The session's thread announced once before the first image (never destroyed, as
     * CoreCLR's main thread), and two threads started per image, each announced,
     * assigned and destroyed. */
    snprintf(want, sizeof want,
             "started=%d finished=%d rewritten=%d twice=0 wrong_thread=0 created=11 "
             "destroyed=10 unannounced=0",
             with_il, with_il, with_il);
    ck_assert_msg(strstr(text, want), "want \"%s\" in:\n%s", want, text);
    free(text);
    static const char *const bad[] = { "0", "65", "x" };
    for (int k = 0; k < 3; k++) {
        const char *args[] = { "--jit-threads", bad[k], paths[0], NULL };
        run_cli(ILG_PROF_THREADS, TEST_CLSID, args);
        ck_assert_msg(res.exited && res.status == 2, "--jit-threads %s: exit %d", bad[k],
                      res.status);
        char msg[64];
        snprintf(msg, sizeof msg, "bad --jit-threads '%s' (1 to 64)", bad[k]);
        ck_assert_msg(strstr(res.err, msg), "%s", res.err);
    }
}
END_TEST

/* The variables CoreCLR 10 reads (observed with dotnet, docs/profiler.md): nothing
 * without CORECLR_ENABLE_PROFILING; CORECLR_PROFILER_PATH_64 before
 * CORECLR_PROFILER_PATH, an empty one skipped; the CLSID only with braces. */
START_TEST(environment_names_the_profiler)
{
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    const char *extra[] = { calc, NULL };
    setenv("CORECLR_PROFILER", TEST_CLSID, 1);
    setenv("CORECLR_PROFILER_PATH", ILG_PROF_REWRITE, 1);
    run_cli(NULL, NULL, extra);
    ck_assert_msg(res.exited && res.status == 2, "exit %d: %s", res.status, res.err);
    ck_assert_ptr_nonnull(strstr(res.err, "CORECLR_ENABLE_PROFILING"));
    setenv("CORECLR_ENABLE_PROFILING", "1", 1);
    setenv("CORECLR_PROFILER_PATH_64", "", 1);
    run_cli(NULL, NULL, extra);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    assert_log_pass();
    ck_assert_ptr_nonnull(strstr(res.out, "rewritten"));
    setenv("CORECLR_PROFILER_PATH", "/nonexistent/profiler.so", 1);
    setenv("CORECLR_PROFILER_PATH_64", ILG_PROF_REWRITE, 1);
    run_cli(NULL, NULL, extra);
    ck_assert_msg(res.exited && res.status == 0, "_64 first: exit %d: %s", res.status, res.err);
    setenv("CORECLR_PROFILER", TEST_CLSID + 1, 1);
    run_cli(NULL, NULL, extra);
    ck_assert_msg(res.exited && res.status == 2 && strstr(res.err, "needs braces"),
                  "no braces: exit %d: %s", res.status, res.err);
}
END_TEST

/* A profiler with an undefined function it never calls loads and runs, as under
 * CoreCLR (lazy binding): under the host, and under dotnet when it is there. */
START_TEST(undefined_symbol_never_called_loads)
{
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    const char *extra[] = { calc, NULL };
    run_cli(ILG_PROF_LAZY, TEST_CLSID, extra);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    assert_log_pass();
    if (fx_require(ILG_DOTNET[0] && access(ILG_DOTNET, X_OK) == 0 && access(ILG_HELLO_DLL, R_OK) == 0,
                   "the lazy profiler under dotnet: no dotnet or no Hello fixture (%s)",
                   ILG_HELLO_DLL)) {
        unlink(log_path);
        setenv("CORECLR_ENABLE_PROFILING", "1", 1);
        setenv("CORECLR_PROFILER", TEST_CLSID, 1);
        setenv("CORECLR_PROFILER_PATH", ILG_PROF_LAZY, 1);
        setenv("DOTNET_CLI_TELEMETRY_OPTOUT", "1", 1);
        const char *argv[] = { ILG_DOTNET, ILG_HELLO_DLL, NULL };
        fx_result_free(&res);
        ck_assert(fx_run(argv, &res));
        unsetenv("CORECLR_ENABLE_PROFILING");
        ck_assert_msg(res.exited && res.status == 0, "dotnet exit %d: %s", res.status, res.err);
        assert_log_pass();
    }
}
END_TEST

static void misbehave(const char *mode, const char *status, const char *diag)
{
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    setenv("PROF_MODE", mode, 1);
    const char *extra[] = { "--json", calc, NULL };
    run_cli(ILG_PROF_MISBEHAVE, TEST_CLSID, extra);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    assert_log_pass();
    json_t *root = parse_report();
    check_module(json_array_get(json_object_get(root, "modules"), 0), "calc.exe", status, diag);
    json_decref(root);
}

/* The misbehaving profiler (with no mode) subscribes to module loads and JIT only:
 * no AppDomain or assembly callback may reach it. */
START_TEST(only_subscribed_callbacks_are_delivered)
{
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    setenv("PROF_MODE", "none", 1);
    const char *extra[] = { "--trace", calc, NULL };
    run_cli(ILG_PROF_MISBEHAVE, TEST_CLSID, extra);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    ck_assert_ptr_nonnull(strstr(res.err, "callback ModuleLoadFinished("));
    ck_assert_ptr_nonnull(strstr(res.err, "callback ModuleAttachedToAssembly("));
    ck_assert_ptr_nonnull(strstr(res.err, "callback JITCompilationStarted("));
    ck_assert_ptr_nonnull(strstr(res.err, "callback ModuleUnloadFinished("));
    ck_assert_ptr_nonnull(strstr(res.err, "callback Shutdown()\n"));
    ck_assert_ptr_nonnull(strstr(res.err, "callback Shutdown = S_OK\n"));
    ck_assert_msg(!strstr(res.err, "callback AppDomain") && !strstr(res.err, "callback Assembly"),
                  "unsubscribed callbacks delivered:\n%s", res.err);
}
END_TEST

START_TEST(malloc_memory_is_rejected)
{
    misbehave("malloc", "rejected", "is not inside the module's image");
}
END_TEST

START_TEST(header_at_base_is_rejected)
{
    misbehave("base", "rejected", "is not inside the module's image");
}
END_TEST

START_TEST(corrupt_body_is_rejected_by_the_verifier)
{
    /* ldc.i4.0; pop; nop: the verifier finds control falling off the end. */
    misbehave("corrupt", "rejected", "E_IL_VERIFY_FALL_OFF_END");
    char *text = read_log();
    ck_assert_ptr_nonnull(strstr(text, "attempts=5"));
    free(text);
}
END_TEST

START_TEST(type_errors_are_rejected_as_coreclr_would)
{
    /* structurally sound, but CoreCLR's JIT refuses both: the host verifies at level
     * jit with the module's metadata, and answers with the runtime's exception */
    misbehave("badlocal", "rejected", "IL offset 0x0000: E_IL_VERIFY_LOCAL_INDEX");
    char *text = read_log();
    ck_assert_ptr_nonnull(strstr(text, "attempts=5"));
    free(text);
    misbehave("fieldcall", "rejected", "IL offset 0x0000: E_IL_VERIFY_TOKEN_KIND");
}
END_TEST

START_TEST(undecodable_body_is_rejected_with_offset)
{
    misbehave("undecodable", "rejected", "IL offset 0x0000: E_IL_UNKNOWN_OPCODE");
}
END_TEST

/* The misbehaving profiler in PROF_MODE mode fails to load over calc.exe: exit 1 and
 * stderr naming every one of want (NULL-terminated). */
static void load_fails(const char *mode, const char *const *want)
{
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    setenv("PROF_MODE", mode, 1);
    const char *extra[] = { calc, NULL };
    run_cli(ILG_PROF_MISBEHAVE, TEST_CLSID, extra);
    ck_assert(res.exited);
    ck_assert_int_eq(res.status, 1);
    for (; *want; want++)
        ck_assert_msg(strstr(res.err, *want) != NULL, "mode %s: no '%s' in stderr: %s", mode, *want,
                      res.err);
}

/* CoreCLR 10 initializes a profiler that answers Callback2 and refuses Callback3
 * (docs/coreclr-observed.md, Loading; checked against dotnet in
 * callback_queries_match_coreclr): so does the host. */
START_TEST(refusing_callback3_is_initialized)
{
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    setenv("PROF_MODE", "nocb3", 1);
    const char *extra[] = { calc, NULL };
    run_cli(ILG_PROF_MISBEHAVE, TEST_CLSID, extra);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    assert_log_pass();
}
END_TEST

START_TEST(refusing_callback2_after_creation_is_not_initialized)
{
    const char *want[] = { "does not answer QueryInterface for ICorProfilerCallback2",
                           "E_PROF_NO_CALLBACK2", NULL };
    load_fails("nocb2again", want);
    ck_assert_int_ne(access(log_path, F_OK), 0);
}
END_TEST

/* The loading steps in an ABI probe log, up to Initialize: "CreateInstance <iid>", then
 * one "QI <iid> <hr>" per query the runtime made on the object, a Callback11 profiler's
 * "LoadAsNotificationOnly answer=<0|1>", then "Initialize", and then what SetEventMask
 * answered when it refused the probe's mask (a notification-only profiler's). */
static char *loading_steps(const char *log)
{
    size_t cap = strlen(log) + 1, n = 0;
    char *out = calloc(1, cap);
    ck_assert_ptr_nonnull(out);
    for (const char *line = log; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        char name[64] = "", hr[16] = "";
        if (sscanf(line, "CreateInstance outer=%*s iid=%*s name=%63s", name) == 1)
            n += (size_t)snprintf(out + n, cap - n, "CreateInstance %s\n", name);
        else if (sscanf(line, "CallbackQI iid=%*s name=%63s hr=%15s from=runtime", name, hr) == 2 &&
                 strstr(line, "from=runtime"))
            n += (size_t)snprintf(out + n, cap - n, "QI %s %s\n", name, hr);
        else if (strncmp(line, "LoadAsNotificationOnly ", 23) == 0)
            n += (size_t)snprintf(out + n, cap - n, "%.*s\n", (int)strcspn(line, "\n"), line);
        else if (strncmp(line, "Initialize", 10) == 0)
            n += (size_t)snprintf(out + n, cap - n, "Initialize\n");
        else if (strncmp(line, "FAIL: SetEventMask returned", 27) == 0)
            n += (size_t)snprintf(out + n, cap - n, "%.*s\n", (int)strcspn(line, "\n"), line);
    }
    return out;
}

/* What the ABI probe, answering up to ICorProfilerCallback max_cb, is asked for under
 * the host over calc.exe, or under dotnet over Hello. */
static char *probe_loading(const char *max_cb, bool notification_only, bool dotnet)
{
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    unlink(log_path);
    setenv("ILG_ABI_PROBE_LOG", log_path, 1);
    setenv("ILG_ABI_PROBE_MAX_CALLBACK", max_cb, 1);
    setenv("ILG_ABI_PROBE_NOTIFICATION_ONLY", notification_only ? "1" : "0", 1);
    if (dotnet) {
        setenv("CORECLR_ENABLE_PROFILING", "1", 1);
        setenv("CORECLR_PROFILER", PROBE_CLSID, 1);
        setenv("CORECLR_PROFILER_PATH", ILG_ABI_PROBE, 1);
        setenv("DOTNET_CLI_TELEMETRY_OPTOUT", "1", 1);
        const char *argv[] = { ILG_DOTNET, ILG_HELLO_DLL, NULL };
        fx_result_free(&res);
        ck_assert(fx_run(argv, &res));
        unsetenv("CORECLR_ENABLE_PROFILING");
        unsetenv("CORECLR_PROFILER");
        unsetenv("CORECLR_PROFILER_PATH");
    } else {
        const char *extra[] = { calc, NULL };
        run_cli(ILG_ABI_PROBE, PROBE_CLSID, extra);
    }
    unsetenv("ILG_ABI_PROBE_LOG");
    unsetenv("ILG_ABI_PROBE_MAX_CALLBACK");
    unsetenv("ILG_ABI_PROBE_NOTIFICATION_ONLY");
    char *log = read_log();
    char *steps = loading_steps(log);
    free(log);
    return steps;
}

/* The host asks a profiler for the interfaces CoreCLR 10 asks, in its order, and
 * initializes it whether it answers Callback3 or only Callback2: compared with the same
 * probe under dotnet; without dotnet, with the sequence recorded in
 * docs/coreclr-observed.md (Loading). A Callback11 profiler is asked
 * LoadAsNotificationOnly before Initialize, and when it answers TRUE the probe's event
 * mask is refused as CoreCLR refuses it (compared with dotnet only). */
START_TEST(callback_queries_match_coreclr)
{
    static const char *const max_cb[] = { "3", "2" };
    static const bool notification[] = { false, true };
    bool have_dotnet = ILG_ABI_PROBE[0] && ILG_DOTNET[0] && access(ILG_DOTNET, X_OK) == 0 &&
                       access(ILG_HELLO_DLL, R_OK) == 0;
    if (!fx_require(ILG_ABI_PROBE[0], "the ABI probe was not built"))
        return;
    for (int k = 0; k < 2; k++) {
        char *host = probe_loading(max_cb[k], false, false);
        char *real;
        if (fx_require(have_dotnet, "dotnet or %s missing: comparing with the recorded observation",
                       ILG_HELLO_DLL)) {
            real = probe_loading(max_cb[k], false, true);
        } else {
            static const char *const newer[] = { "11", "10", "9", "8", "7", "6", "5", "4" };
            real = calloc(1, 1024);
            ck_assert_ptr_nonnull(real);
            strcat(real, "CreateInstance ICorProfilerCallback2\nQI ICorProfilerCallback2 0x00000000\n");
            for (int v = 0; v < 8; v++)
                sprintf(real + strlen(real), "QI ICorProfilerCallback%s 0x80004002\n", newer[v]);
            strcat(real, k == 0 ? "QI ICorProfilerCallback3 0x00000000\n"
                                : "QI ICorProfilerCallback3 0x80004002\n");
            strcat(real, "Initialize\n");
        }
        ck_assert_msg(strstr(real, "Initialize\n"), "CoreCLR did not initialize:\n%s", real);
        ck_assert_msg(strcmp(host, real) == 0, "max callback %s: host\n%s\nCoreCLR\n%s", max_cb[k],
                      host, real);
        free(host);
        free(real);
    }
    for (int k = 0; k < 2 && have_dotnet; k++) {
        char *host = probe_loading("11", notification[k], false);
        char *real = probe_loading("11", notification[k], true);
        ck_assert_msg(strstr(real, "LoadAsNotificationOnly answer="), "CoreCLR did not ask:\n%s",
                      real);
        ck_assert_msg(!notification[k] || strstr(real, "FAIL: SetEventMask returned 0x80070057"),
                      "CoreCLR took a notification profiler's full mask:\n%s", real);
        ck_assert_msg(strcmp(host, real) == 0, "Callback11, notification-only %d: host\n%s\nCoreCLR\n%s",
                      (int)notification[k], host, real);
        free(host);
        free(real);
    }
}
END_TEST

START_TEST(failing_initialize_is_reported)
{
    const char *want[] = { "Initialize returned a failure HRESULT", "0x80004005",
                           "(E_PROF_INIT_FAILED)", NULL };
    load_fails("initfail", want);
}
END_TEST

START_TEST(failing_create_instance_is_reported)
{
    const char *want[] = { "CreateInstance(ICorProfilerCallback2) returned 0x80004005",
                           "(E_PROF_CREATE_INSTANCE)", NULL };
    load_fails("createfail", want);
    ck_assert_int_ne(access(log_path, F_OK), 0); /* never initialised */
}
END_TEST

START_TEST(bad_clsid_and_bad_path)
{
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    const char *extra[] = { calc, NULL };
    run_cli(ILG_PROF_REWRITE, "{not-a-guid}", extra);
    ck_assert(res.exited);
    ck_assert_int_eq(res.status, 1);
    ck_assert_ptr_nonnull(strstr(res.err, "is not a valid GUID"));
    run_cli("/nonexistent/profiler.so", TEST_CLSID, extra);
    ck_assert_int_eq(res.status, 1);
    ck_assert_ptr_nonnull(strstr(res.err, "could not be loaded"));
    /* A library with the right entry point but another CLSID. */
    run_cli(ILG_PROF_REWRITE, PROBE_CLSID, extra);
    ck_assert_int_eq(res.status, 1);
    ck_assert_ptr_nonnull(strstr(res.err, "0x80040111"));
    ck_assert_ptr_nonnull(strstr(res.err, "(E_PROF_CLASS_FACTORY)"));
}
END_TEST

START_TEST(isolate_reports_a_crash)
{
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    setenv("PROF_MODE", "crash", 1);
    /* No sanitizer options: under ASan and TSan too (their handle_segv on, as by default)
     * the child must die by the signal for the parent to report it (isolate.c). */
    const char *extra[] = { "--isolate", calc, NULL };
    run_cli(ILG_PROF_MISBEHAVE, TEST_CLSID, extra);
    ck_assert_msg(res.exited, "the host itself died");
    ck_assert_int_eq(res.status, 1);
    ck_assert_msg(strstr(res.err, "profiler crashed: signal 11") &&
                      strstr(res.err, "last callback: JITCompilationStarted"),
                  "stderr: %s", res.err);
}
END_TEST

START_TEST(isolate_reports_a_hang)
{
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    setenv("PROF_MODE", "hang", 1);
    const char *extra[] = { "--isolate", "--timeout", "500", calc, NULL };
    run_cli(ILG_PROF_MISBEHAVE, TEST_CLSID, extra);
    ck_assert(res.exited);
    ck_assert_int_eq(res.status, 1);
    ck_assert_msg(strstr(res.err, "profiler hung") &&
                      strstr(res.err, "last callback: ModuleLoadFinished"),
                  "stderr: %s", res.err);
}
END_TEST

START_TEST(isolate_passes_a_good_run_through)
{
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    const char *extra[] = { "--isolate", calc, NULL };
    run_cli(ILG_PROF_REWRITE, TEST_CLSID, extra);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    ck_assert_ptr_nonnull(strstr(res.out, "rewritten"));
    assert_log_pass();
}
END_TEST

/* ---- the ABI probe under the host and under CoreCLR --------------------------------- */

static const char *const callback_kinds[] = {
    "AppDomainCreationStarted",
    "AppDomainCreationFinished",
    "AssemblyLoadStarted",
    "AssemblyLoadFinished",
    "ModuleLoadStarted",
    "ModuleLoadFinished",
    "ModuleAttachedToAssembly",
    "JITCompilationStarted",
    "JITCompilationFinished",
    "AssemblyUnloadStarted",
    "AssemblyUnloadFinished",
    "ModuleUnloadStarted",
    "ModuleUnloadFinished",
    "AppDomainShutdownStarted",
    "AppDomainShutdownFinished",
    "Initialize",
    "Shutdown",
};

/* Which of callback_kinds start a line of the log, as a bit set. */
static unsigned kinds_in(const char *log)
{
    unsigned set = 0;
    for (const char *line = log; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        for (size_t k = 0; k < sizeof callback_kinds / sizeof *callback_kinds; k++) {
            size_t n = strlen(callback_kinds[k]);
            if (strncmp(line, callback_kinds[k], n) == 0 && (line[n] == ' ' || line[n] == '\n'))
                set |= 1u << k;
        }
    return set;
}

/* Without System.Private.CoreLib among the images (CoreCLR cannot run so; the order is
 * docs/profiler.md's): the probe's START lines (abi_startup.c) give the session's thread
 * announced, the two domains created before the first image, the system domain named
 * after CoreLib, the app's DefaultDomain through its creation and clrhost from the
 * first image's load on, every callback on the announced session thread. */
START_TEST(startup_without_corelib_creates_domains_first)
{
    if (!ILG_ABI_PROBE[0])
        return;
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    setenv("ILG_ABI_PROBE_LOG", log_path, 1);
    const char *extra[] = { calc, NULL };
    run_cli(ILG_ABI_PROBE, PROBE_CLSID, extra);
    unsetenv("ILG_ABI_PROBE_LOG");
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    static const char *const want[] = {
        "START ThreadCreated t0 current=t0 os=self",
        "START ThreadAssignedToOSThread t0 os=self current=t0 os=self",
        "START AppDomainCreationStarted d0 d0=System.Private.CoreLib.dll current=t0 os=self",
        "START AppDomainCreationFinished d0 d0=System.Private.CoreLib.dll current=t0 os=self",
        "START AppDomainCreationStarted d1 d0=System.Private.CoreLib.dll d1=DefaultDomain "
        "current=t0 os=self",
        "START AppDomainCreationFinished d1 d0=System.Private.CoreLib.dll d1=DefaultDomain "
        "current=t0 os=self",
        "START AssemblyLoadStarted d0=System.Private.CoreLib.dll d1=clrhost current=t0 os=self",
        "START ModuleLoadStarted d0=System.Private.CoreLib.dll d1=clrhost current=t0 os=self",
        "START ModuleLoadFinished calc.exe d0=System.Private.CoreLib.dll d1=clrhost current=t0 "
        "os=self",
    };
    char *log = read_log();
    const char *line = strstr(log, "START ");
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        ck_assert_msg(line && strncmp(line, want[i], strlen(want[i])) == 0 &&
                          line[strlen(want[i])] == '\n',
                      "START line %zu: want \"%s\", got \"%.*s\"", i + 1, want[i],
                      line ? (int)strcspn(line, "\n") : 6, line ? line : "(none)");
        line = strstr(line + 1, "\nSTART ");
        line = line ? line + 1 : NULL;
    }
    free(log);
}
END_TEST

START_TEST(abi_probe_sees_coreclr_event_kinds)
{
    if (!ILG_ABI_PROBE[0])
        return;
    char calc[512];
    fx_path(calc, sizeof calc, "calc.exe");
    setenv("ILG_ABI_PROBE_LOG", log_path, 1);
    const char *extra[] = { calc, NULL };
    run_cli(ILG_ABI_PROBE, PROBE_CLSID, extra);
    unsetenv("ILG_ABI_PROBE_LOG");
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    char *log = read_log();
    /* CoreCLR's load order for one assembly. */
    const char *order[] = { "\nAssemblyLoadStarted",    "\nModuleLoadStarted",
                            "\nModuleLoadFinished",     "\nModuleAttachedToAssembly",
                            "\nAssemblyLoadFinished",   "\nJITCompilationStarted",
                            "\nJITCompilationFinished", "\nShutdown" };
    const char *prev = log;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        const char *at = strstr(prev, order[i]);
        ck_assert_msg(at, "%s missing or out of order in:\n%s", order[i] + 1, log);
        prev = at;
    }
    /* Under a real CoreCLR (when dotnet and the Hello fixture are there) the probe must
     * have seen every load/JIT kind the host delivered; the host adds only the unload
     * kinds, which CoreCLR sends for collectible assemblies, not at process exit. */
    unsigned host_kinds = kinds_in(log);
    free(log);
    if (fx_require(ILG_DOTNET[0] && access(ILG_DOTNET, X_OK) == 0 && access(ILG_HELLO_DLL, R_OK) == 0,
                   "the probe under a real CoreCLR: no dotnet (ILG_DOTNET '%s') or no %s (no .NET SDK)",
                   ILG_DOTNET, ILG_HELLO_DLL)) {
        setenv("CORECLR_ENABLE_PROFILING", "1", 1);
        setenv("CORECLR_PROFILER", PROBE_CLSID, 1);
        setenv("CORECLR_PROFILER_PATH", ILG_ABI_PROBE, 1);
        setenv("ILG_ABI_PROBE_LOG", log_path, 1);
        setenv("DOTNET_CLI_TELEMETRY_OPTOUT", "1", 1);
        const char *argv[] = { ILG_DOTNET, ILG_HELLO_DLL, NULL };
        fx_result_free(&res);
        ck_assert(fx_run(argv, &res));
        unsetenv("CORECLR_ENABLE_PROFILING");
        unsetenv("ILG_ABI_PROBE_LOG");
        char *real = read_log();
        unsigned real_kinds = kinds_in(real);
        free(real);
        unsigned unloads = 0;
        for (size_t k = 0; k < sizeof callback_kinds / sizeof *callback_kinds; k++)
            if (strstr(callback_kinds[k], "Unload") ||
                strstr(callback_kinds[k], "AppDomainShutdown"))
                unloads |= 1u << k;
        for (size_t k = 0; k < sizeof callback_kinds / sizeof *callback_kinds; k++)
            ck_assert_msg(!((host_kinds & ~unloads & ~real_kinds) & (1u << k)),
                          "the host delivered %s, CoreCLR did not", callback_kinds[k]);
        ck_assert_uint_eq(host_kinds & ~unloads, real_kinds & host_kinds & ~unloads);
    }
}
END_TEST

/* ---- recompilation (--recompile) ---------------------------------------------------- */

static const char *const recompile_fixtures[] = { "calc.exe",     "bodies.exe", "eh.exe",
                                                  "generics.exe", "types.exe",  "tiers.exe" };
#define RECOMPILE_FIXTURES 6

/* prof_recompile's Shutdown line. */
typedef struct prof_counts {
    int events, fids, tokens, multi, parameterized, max_fid_events, set_ok, set_unsupported,
        set_other;
} prof_counts;

static void read_counts(prof_counts *c)
{
    char *text = read_log();
    const char *line = strstr(text, "events=");
    ck_assert_msg(line, "no counts in the profiler's log:\n%s", text);
    ck_assert_int_eq(sscanf(line,
                            "events=%d fids=%d tokens=%d multi_fid_tokens=%d parameterized=%d "
                            "max_fid_events=%d set_ok=%d set_unsupported=%d set_other=%d",
                            &c->events, &c->fids, &c->tokens, &c->multi, &c->parameterized,
                            &c->max_fid_events, &c->set_ok, &c->set_unsupported, &c->set_other),
                     9);
    free(text);
}

/* `ilgraft run --json OPTS... FIXTURES...` with prof_recompile in PROF_MODE mode (the
 * text report when OPTS name --summary). */
static void run_recompile(const char *mode, const char *const *opts)
{
    static char paths[RECOMPILE_FIXTURES][512];
    const char *extra[24];
    int n = 0;
    bool text = false;
    for (const char *const *o = opts; *o; o++)
        text |= strcmp(*o, "--summary") == 0;
    if (!text)
        extra[n++] = "--json";
    for (; *opts; opts++)
        extra[n++] = *opts;
    for (int i = 0; i < RECOMPILE_FIXTURES; i++) {
        fx_path(paths[i], sizeof paths[i], recompile_fixtures[i]);
        extra[n++] = paths[i];
    }
    extra[n] = NULL;
    setenv("PROF_MODE", mode, 1);
    run_cli(ILG_PROF_RECOMPILE, TEST_CLSID, extra);
}

/* What the images say, summed over the fixtures. */
typedef struct expected_sums {
    uint64_t events, fids, with_il, generic, generic_events, osr, once, parameterized;
} expected_sums;

static int64_t field(json_t *m, const char *key)
{
    json_t *v = json_object_get(m, key);
    ck_assert_msg(json_is_integer(v), "method %s lacks %s",
                  json_string_value(json_object_get(m, "name")), key);
    return (int64_t)json_integer_value(v);
}

/* Every method's jit_events in the report equals what its image says (tier_expect.h);
 * check(m, events) runs on each method with IL for the mode's own checks. */
static void check_events(json_t *root, bool recompile, void (*check)(json_t *m, int64_t events),
                         expected_sums *sum)
{
    json_t *mods = json_object_get(root, "modules");
    memset(sum, 0, sizeof *sum);
    ck_assert_uint_eq(json_array_size(mods), RECOMPILE_FIXTURES);
    for (int i = 0; i < RECOMPILE_FIXTURES; i++) {
        char path[512];
        tier_expect e;
        fx_path(path, sizeof path, recompile_fixtures[i]);
        tier_expect_load(path, recompile, &e);
        json_t *methods = json_object_get(json_array_get(mods, (size_t)i), "methods");
        ck_assert_uint_eq(json_array_size(methods), e.methods);
        for (uint32_t rid = 1; rid <= e.methods; rid++) {
            json_t *m = json_array_get(methods, rid - 1);
            int64_t want = (int64_t)e.fids[rid - 1] * e.per_fid[rid - 1];
            ck_assert_msg(field(m, "jit_events") == want,
                          "%s %s: %lld JIT events, the IL says %lld", recompile_fixtures[i],
                          json_string_value(json_object_get(m, "name")),
                          (long long)field(m, "jit_events"), (long long)want);
            if (e.fids[rid - 1] == 2)
                sum->generic_events += (uint64_t)want;
            if (want && check)
                check(m, want);
        }
        sum->events += e.events;
        sum->fids += e.fid_total;
        sum->with_il += e.with_il;
        sum->generic += e.generic;
        sum->parameterized += e.parameterized;
        sum->osr += e.osr;
        sum->once += e.once;
        tier_expect_free(&e);
    }
}

/* Per fixture tiers.exe method, the events its comment in tiers.il gives. */
static void check_tiers_by_name(json_t *root)
{
    static const struct {
        const char *name;
        int64_t events;
    } want[] = { { "Tiers::Straight(", 2 },     { "Tiers::Loop(", 3 },
                 { "Tiers::SwitchBack(", 3 },   { "Tiers::LoopInTry(", 3 },
                 { "Tiers::LoopInHandler(", 1 }, { "Tiers::LocallocLoop(", 1 },
                 { "Tiers::LocallocStraight(", 2 }, { "Tiers::TailCall(", 1 },
                 { "Tiers::NoOpt(", 1 },        { "Tiers::WritesThis(", 1 },
                 { "Tiers::WritesThisStraight(", 2 }, { "Tiers::GenericLoop<", 6 },
                 { "Cell`1::Get(", 4 } };
    json_t *methods =
        json_object_get(json_array_get(json_object_get(root, "modules"), RECOMPILE_FIXTURES - 1),
                        "methods");
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        json_t *found = NULL, *m;
        size_t i;
        json_array_foreach(methods, i, m)
            if (strstr(json_string_value(json_object_get(m, "name")), want[k].name))
                found = m;
        ck_assert_msg(found, "no method %s in tiers.exe", want[k].name);
        ck_assert_msg(field(found, "jit_events") == want[k].events, "%s: %lld JIT events, not %lld",
                      want[k].name, (long long)field(found, "jit_events"),
                      (long long)want[k].events);
    }
}

static void once_checks(json_t *m, int64_t events)
{
    ck_assert_str_eq(json_string_value(json_object_get(m, "status")), "rewritten");
    ck_assert_int_eq(field(m, "set_body_calls"), events);
    ck_assert_int_eq(field(m, "rewritten_again"), 0);
}

/* A profiler that builds each method's body once and sets it again at every later
 * event: every event the IL calls for comes (tier 0, OSR, tier 1; both FunctionIDs of
 * a generic method), on one thread or three, and nothing is flagged. */
START_TEST(recompile_events_follow_the_il)
{
    for (int threads = 1; threads <= 3; threads += 2) {
        const char *opts[] = { "--recompile", "--jit-threads", threads == 1 ? "1" : "3", NULL };
        run_recompile("once", opts);
        ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
        assert_log_pass();
        json_t *root = parse_report();
        expected_sums sum;
        check_events(root, true, once_checks, &sum);
        check_tiers_by_name(root);
        json_decref(root);
        /* Every category is there to see. */
        ck_assert_uint_gt(sum.generic, 0);
        ck_assert_uint_gt(sum.osr, 0);
        ck_assert_uint_gt(sum.once, 0);
        prof_counts c;
        read_counts(&c);
        ck_assert_int_eq(c.events, (int)sum.events);
        ck_assert_int_eq(c.fids, (int)sum.fids);
        ck_assert_int_eq(c.tokens, (int)sum.with_il);
        ck_assert_int_eq(c.multi, (int)sum.generic);
        /* GetFunctionFromToken: CORPROF_E_FUNCTION_IS_PARAMETERIZED for generic methods. */
        ck_assert_int_eq(c.parameterized, (int)sum.generic_events);
        ck_assert_int_eq(c.max_fid_events, 3);
        ck_assert_int_eq(c.set_ok, (int)sum.events);
        ck_assert_int_eq(c.set_unsupported + c.set_other, 0);
    }
}
END_TEST

static void pile_checks(json_t *m, int64_t events)
{
    ck_assert_str_eq(json_string_value(json_object_get(m, "status")), "rewritten");
    ck_assert_int_eq(field(m, "set_body_calls"), events);
    ck_assert_int_eq(field(m, "rewritten_again"), events - 1);
}

static void pile_strict_checks(json_t *m, int64_t events)
{
    pile_checks(m, events);
    const char *d = json_string_value(json_object_get(m, "diagnostic"));
    if (events == 1) {
        ck_assert_ptr_null(d);
        return;
    }
    ck_assert_msg(d && strstr(d, "rewritten again on recompile") &&
                      strstr(d, json_string_value(json_object_get(m, "name"))),
                  "diagnostic %s", d ? d : "(none)");
}

/* A profiler that rewrites whatever GetILFunctionBody returns (as ilgraft's plugin did)
 * piles a nop on its own output at every later event: each of those bodies is flagged
 * "rewritten again on recompile"; under --recompile-strict each is rejected with
 * CORPROF_E_UNSUPPORTED_CALL_SEQUENCE and the run exits 1. */
START_TEST(recompile_flags_a_profiler_that_rewrites_its_output)
{
    const char *opts[] = { "--recompile", "--jit-threads", "3", NULL };
    run_recompile("pile", opts);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    assert_log_pass();
    json_t *root = parse_report();
    expected_sums sum;
    check_events(root, true, pile_checks, &sum);
    json_decref(root);
    uint64_t again = sum.events - sum.with_il;
    ck_assert_uint_gt(again, 0);
    prof_counts c;
    read_counts(&c);
    ck_assert_int_eq(c.set_ok, (int)sum.events);

    /* The text report lists the flagged methods and counts them per module. */
    const char *summary[] = { "--recompile", "--summary", NULL };
    run_recompile("pile", summary);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    ck_assert_ptr_nonnull(strstr(res.out, "rewritten again on recompile: 2 of its 3 bodies set"));
    char path[512], line[160];
    tier_expect e;
    fx_path(path, sizeof path, "tiers.exe");
    tier_expect_load(path, true, &e);
    snprintf(line, sizeof line,
             "; %llu JIT events, %llu bodies set, %llu rewritten again on recompile\n",
             (unsigned long long)e.events, (unsigned long long)e.events,
             (unsigned long long)(e.events - e.with_il));
    ck_assert_msg(strstr(res.out, line), "no '%s' in:\n%s", line, res.out);
    tier_expect_free(&e);

    const char *strict[] = { "--recompile-strict", NULL };
    run_recompile("pile", strict);
    ck_assert_msg(res.exited && res.status == 1, "exit %d: %s", res.status, res.err);
    char msg[128];
    snprintf(msg, sizeof msg, "ilgraft: run: %llu bodies rejected: ", (unsigned long long)again);
    ck_assert_msg(strstr(res.err, msg) && strstr(res.err, "(E_PROF_REWRITTEN_AGAIN)"), "%s",
                  res.err);
    assert_log_pass();
    root = parse_report();
    check_events(root, true, pile_strict_checks, &sum);
    json_decref(root);
    read_counts(&c);
    ck_assert_int_eq(c.set_ok, (int)sum.with_il);
    ck_assert_int_eq(c.set_unsupported, (int)again);
}
END_TEST

static void once_skip_checks(json_t *m, int64_t events)
{
    ck_assert_str_eq(json_string_value(json_object_get(m, "status")), "rewritten");
    ck_assert_int_eq(field(m, "set_body_calls"), 1);
    ck_assert_int_eq(field(m, "rewritten_again"), 0);
}

/* Setting the same bytes again from a fresh allocation, or nothing, is what a
 * recompilation-safe profiler does: strict mode passes both. */
START_TEST(recompile_passes_profilers_that_build_each_body_once)
{
    const char *opts[] = { "--recompile-strict", "--jit-threads", "3", NULL };
    run_recompile("once-copy", opts);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    assert_log_pass();
    json_t *root = parse_report();
    expected_sums sum;
    check_events(root, true, once_checks, &sum);
    json_decref(root);
    run_recompile("once-skip", opts);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    assert_log_pass();
    root = parse_report();
    check_events(root, true, once_skip_checks, &sum);
    json_decref(root);
    prof_counts c;
    read_counts(&c);
    ck_assert_int_eq(c.set_ok, (int)sum.with_il);
}
END_TEST

static void single_checks(json_t *m, int64_t events)
{
    ck_assert_int_eq(events, 1);
    ck_assert_int_eq(field(m, "set_body_calls"), 1);
    ck_assert_int_eq(field(m, "rewritten_again"), 0);
}

/* Without --recompile every method compiles once, so the same naive profiler looks
 * correct: the reason the option exists. */
START_TEST(without_recompile_each_method_compiles_once)
{
    const char *opts[] = { NULL };
    run_recompile("pile", opts);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    assert_log_pass();
    json_t *root = parse_report();
    expected_sums sum;
    check_events(root, false, single_checks, &sum);
    json_decref(root);
    prof_counts c;
    read_counts(&c);
    ck_assert_int_eq(c.events, (int)sum.with_il);
    ck_assert_int_eq(c.fids, (int)sum.with_il);
    /* A generic method, or a generic type's, has no FunctionID for its token (CoreCLR's
     * GetFunctionFromToken answers CORPROF_E_FUNCTION_IS_PARAMETERIZED, observed). */
    ck_assert_uint_gt(sum.parameterized, 0);
    ck_assert_int_eq(c.parameterized, (int)sum.parameterized);
}
END_TEST

/* prof_recompile under --recompile with its environment variable var set to 1, which
 * takes every method out of tiered compilation: each FunctionID compiles once (a generic
 * method's two still come), as CoreCLR does (coreclr_compiles_once_without_tiering). */
static void check_compiled_once(const char *var)
{
    setenv(var, "1", 1);
    const char *opts[] = { "--recompile", NULL };
    run_recompile("pile", opts);
    unsetenv(var);
    ck_assert_msg(res.exited && res.status == 0, "%s: exit %d: %s", var, res.status, res.err);
    assert_log_pass();
    json_t *root = parse_report();
    json_t *mods = json_object_get(root, "modules");
    uint64_t events = 0, fids = 0;
    for (int i = 0; i < RECOMPILE_FIXTURES; i++) {
        char path[512];
        tier_expect e;
        fx_path(path, sizeof path, recompile_fixtures[i]);
        tier_expect_load(path, true, &e);
        json_t *methods = json_object_get(json_array_get(mods, (size_t)i), "methods");
        for (uint32_t rid = 1; rid <= e.methods; rid++) {
            json_t *m = json_array_get(methods, rid - 1);
            ck_assert_int_eq(field(m, "jit_events"), e.fids[rid - 1]);
            if (e.fids[rid - 1]) /* the naive profiler's second FunctionID is flagged */
                ck_assert_int_eq(field(m, "rewritten_again"), e.fids[rid - 1] - 1);
            events += (uint64_t)field(m, "jit_events");
        }
        fids += e.fid_total;
        tier_expect_free(&e);
    }
    json_decref(root);
    ck_assert_uint_eq(events, fids);
    prof_counts c;
    read_counts(&c);
    ck_assert_int_eq(c.events, (int)fids);
    ck_assert_int_eq(c.max_fid_events, 1);
}

/* COR_PRF_DISABLE_OPTIMIZATIONS. */
START_TEST(disabled_optimizations_stop_recompilation)
{
    check_compiled_once("PROF_DISABLE_OPT");
}
END_TEST

/* COR_PRF_HIGH_DISABLE_TIERED_COMPILATION through SetEventMask2, as New Relic's profiler
 * sets it in Initialize (the host recompiled such a profiler's methods before). */
START_TEST(disabled_tiering_stops_recompilation)
{
    check_compiled_once("PROF_DISABLE_TIERING");
}
END_TEST

/* ILG_HOST_RECOMPILE turns recompilation on for every host (so a suite can run its
 * existing cases that way): "1" as --recompile, "strict" as --recompile-strict. */
START_TEST(recompile_from_the_environment)
{
    const char *opts[] = { NULL };
    setenv("ILG_HOST_RECOMPILE", "1", 1);
    run_recompile("once", opts);
    ck_assert_msg(res.exited && res.status == 0, "exit %d: %s", res.status, res.err);
    json_t *root = parse_report();
    expected_sums sum;
    check_events(root, true, once_checks, &sum);
    json_decref(root);
    setenv("ILG_HOST_RECOMPILE", "strict", 1);
    run_recompile("pile", opts);
    unsetenv("ILG_HOST_RECOMPILE");
    ck_assert_msg(res.exited && res.status == 1 && strstr(res.err, "(E_PROF_REWRITTEN_AGAIN)"),
                  "exit %d: %s", res.status, res.err);
}
END_TEST

/* tiers.exe under a real CoreCLR with the ABI probe, its tiering knobs turned down so
 * that whatever can be recompiled is before the program ends (a call count of 1 and no
 * delay for tier 1, OSR at the first patchpoint, TieredPGO off: its instrumented tier
 * would add an event). Copies the image and a runtimeconfig into dir. */
static void run_tiers_in_coreclr(const char *dir, const char *image)
{
    char exe[128], cfg[128], rtcfg[512];
    snprintf(exe, sizeof exe, "%s/tiers.exe", dir);
    snprintf(cfg, sizeof cfg, "%s/tiers.runtimeconfig.json", dir);
    snprintf(rtcfg, sizeof rtcfg, "%s", ILG_HELLO_DLL);
    strcpy(strrchr(rtcfg, '/'), "/Hello.runtimeconfig.json");
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    const char *copy[][2] = { { image, exe }, { rtcfg, cfg } };
    for (int k = 0; k < 2; k++) {
        size_t len = 0;
        char *bytes = fx_read_file(copy[k][0], &len);
        ck_assert_msg(bytes, "cannot read %s", copy[k][0]);
        FILE *f = fopen(copy[k][1], "wb");
        ck_assert(f && fwrite(bytes, 1, len, f) == len && fclose(f) == 0);
        free(bytes);
    }
    static const char *const env[][2] = {
        { "CORECLR_ENABLE_PROFILING", "1" },
        { "CORECLR_PROFILER", PROBE_CLSID },
        { "CORECLR_PROFILER_PATH", ILG_ABI_PROBE },
        { "DOTNET_CLI_TELEMETRY_OPTOUT", "1" },
        { "DOTNET_TieredPGO", "0" },
        { "DOTNET_TC_CallCountThreshold", "1" },
        { "DOTNET_TC_CallCountingDelayMs", "0" },
        { "DOTNET_OSR_HitLimit", "1" },
        { "DOTNET_TC_OnStackReplacement_InitialCounter", "1" },
        { "ILG_ABI_PROBE_LOG", log_path },
    };
    for (size_t k = 0; k < sizeof env / sizeof *env; k++)
        setenv(env[k][0], env[k][1], 1);
    const char *argv[] = { ILG_DOTNET, exe, NULL };
    fx_result_free(&res);
    ck_assert(fx_run(argv, &res));
    for (size_t k = 0; k < sizeof env / sizeof *env; k++)
        unsetenv(env[k][0]);
    unlink(exe);
    unlink(cfg);
    rmdir(dir);
    ck_assert_msg(res.exited && res.status == 0, "dotnet exit %d: %s", res.status, res.err);
    ck_assert_str_eq(res.out, "2\n5050\n1\n0\n3\n0\n0\n5\n0\n0\n0\n0\n0\n");
}

/* One FunctionID of tiers.exe seen in the probe's log: its JITCompilationStarted count. */
typedef struct tiers_fid {
    unsigned long fid;
    uint32_t rid;
    int events;
    bool is_main;
} tiers_fid;

/* The probe's JITCompilationStarted lines for tiers.exe, grouped by FunctionID. */
static int tiers_fid_events(tiers_fid seen[64])
{
    int nseen = 0;
    char *log = read_log();
    for (const char *l = strstr(log, "\nJITCompilationStarted "); l;
         l = strstr(l + 1, "\nJITCompilationStarted ")) {
        unsigned long fid;
        unsigned token;
        const char *eol = strchr(l + 1, '\n'), *mod = strstr(l, " module=tiers.exe method=");
        if (!mod || !eol || mod > eol)
            continue;
        ck_assert_int_eq(sscanf(l, "\nJITCompilationStarted fid=0x%lx safe=%*d token=0x%X",
                                &fid, &token),
                         2);
        int k = 0;
        while (k < nseen && seen[k].fid != fid)
            k++;
        if (k == nseen) {
            ck_assert_int_lt(nseen, 64);
            seen[k].fid = fid;
            seen[k].rid = token & 0xFFFFFF;
            seen[k].events = 0;
            seen[k].is_main = strncmp(mod + 25, "Tiers::Main\n", 12) == 0;
            nseen++;
        }
        seen[k].events++;
    }
    free(log);
    return nseen;
}

static bool have_dotnet_and_probe(void)
{
    return fx_require(ILG_ABI_PROBE[0] && ILG_DOTNET[0] && access(ILG_DOTNET, X_OK) == 0,
                      "dotnet or the ABI probe not found");
}

/* CoreCLR recompiles tiers.exe as the host's model says (tier_expect.h): each
 * FunctionID of each method gets the events the model gives it, except Main, which is
 * called once and so never reaches tier 1 (tier 0 and OSR only); a generic method gets
 * only the instantiations Main uses, at most the model's two. Without dotnet: SKIP,
 * failing under CI=true. */
START_TEST(coreclr_recompiles_as_the_model_says)
{
    if (!have_dotnet_and_probe())
        return;
    char dir[64], image[512];
    snprintf(dir, sizeof dir, "/tmp/ilg_tiers_%d", (int)getpid());
    fx_path(image, sizeof image, "tiers.exe");
    run_tiers_in_coreclr(dir, image);
    tiers_fid seen[64];
    int nseen = tiers_fid_events(seen);
    tier_expect e;
    tier_expect_load(image, true, &e);
    uint32_t fids_of[64] = { 0 };
    ck_assert_uint_lt(e.methods, 64);
    for (int k = 0; k < nseen; k++) {
        const uint32_t rid = seen[k].rid;
        ck_assert_uint_le(rid, e.methods);
        fids_of[rid]++;
        const int want = e.per_fid[rid - 1] - (seen[k].is_main ? 1 : 0);
        ck_assert_msg(seen[k].events == want,
                      "tiers.exe 0x%08x: CoreCLR compiled a FunctionID %d times, the model "
                      "says %d",
                      0x06000000u | rid, seen[k].events, want);
    }
    for (uint32_t rid = 1; rid <= e.methods; rid++)
        ck_assert_msg(e.fids[rid - 1] ? fids_of[rid] >= 1 && fids_of[rid] <= e.fids[rid - 1]
                                      : fids_of[rid] == 0,
                      "tiers.exe 0x%08x: %u FunctionIDs under CoreCLR, %u in the model",
                      0x06000000u | rid, fids_of[rid], e.fids[rid - 1]);
    tier_expect_free(&e);
}
END_TEST

/* The same run with the probe's mask taking methods out of tiered compilation, once
 * with COR_PRF_HIGH_DISABLE_TIERED_COMPILATION (SetEventMask2, as New Relic's profiler
 * sets it) and once with COR_PRF_DISABLE_OPTIMIZATIONS: every FunctionID CoreCLR
 * compiles, it compiles once, and so does the host under --recompile with the same
 * probe (before, it recompiled under the high flag).
 * With tiering off the JIT optimizes at once and inlines, so fewer methods come (6 of
 * the 18 FunctionIDs in 10.0.12); never more FunctionIDs than the model's. */
START_TEST(coreclr_compiles_once_without_tiering)
{
    if (!have_dotnet_and_probe())
        return;
    static const char *const knobs[][2] = { { "ILG_ABI_PROBE_HIGH", "8" },
                                            { "ILG_ABI_PROBE_NOOPT", "1" } };
    char dir[64], image[512];
    snprintf(dir, sizeof dir, "/tmp/ilg_tiers_%d", (int)getpid());
    fx_path(image, sizeof image, "tiers.exe");
    tier_expect e;
    tier_expect_load(image, true, &e);
    ck_assert_uint_lt(e.methods, 64);
    for (size_t i = 0; i < sizeof knobs / sizeof *knobs; i++) {
        setenv(knobs[i][0], knobs[i][1], 1);
        run_tiers_in_coreclr(dir, image);
        unsetenv(knobs[i][0]);
        tiers_fid seen[64];
        int nseen = tiers_fid_events(seen);
        uint32_t fids_of[64] = { 0 };
        bool main_seen = false;
        for (int k = 0; k < nseen; k++) {
            ck_assert_uint_le(seen[k].rid, e.methods);
            fids_of[seen[k].rid]++;
            main_seen |= seen[k].is_main;
            ck_assert_msg(seen[k].events == 1,
                          "%s=%s: tiers.exe 0x%08x: CoreCLR compiled a FunctionID %d times",
                          knobs[i][0], knobs[i][1], 0x06000000u | seen[k].rid, seen[k].events);
        }
        ck_assert_msg(main_seen, "%s=%s: no JITCompilationStarted for Tiers::Main", knobs[i][0],
                      knobs[i][1]);
        for (uint32_t rid = 1; rid <= e.methods; rid++)
            ck_assert_msg(fids_of[rid] <= e.fids[rid - 1],
                          "%s=%s: tiers.exe 0x%08x: %u FunctionIDs under CoreCLR, %u in the "
                          "model",
                          knobs[i][0], knobs[i][1], 0x06000000u | rid, fids_of[rid],
                          e.fids[rid - 1]);
        /* The same probe and knob under `ilgraft run --recompile`: each FunctionID once
         * too, and every one of the model's. */
        setenv(knobs[i][0], knobs[i][1], 1);
        setenv("ILG_ABI_PROBE_LOG", log_path, 1);
        const char *extra[] = { "--recompile", "--summary", image, NULL };
        run_cli(ILG_ABI_PROBE, PROBE_CLSID, extra);
        unsetenv("ILG_ABI_PROBE_LOG");
        unsetenv(knobs[i][0]);
        ck_assert_msg(res.exited && res.status == 0, "host exit %d: %s", res.status, res.err);
        nseen = tiers_fid_events(seen);
        memset(fids_of, 0, sizeof fids_of);
        for (int k = 0; k < nseen; k++) {
            ck_assert_uint_le(seen[k].rid, e.methods);
            fids_of[seen[k].rid]++;
            ck_assert_msg(seen[k].events == 1,
                          "%s=%s: tiers.exe 0x%08x: the host compiled a FunctionID %d times",
                          knobs[i][0], knobs[i][1], 0x06000000u | seen[k].rid, seen[k].events);
        }
        for (uint32_t rid = 1; rid <= e.methods; rid++)
            ck_assert_uint_eq(fids_of[rid], e.fids[rid - 1]);
    }
    tier_expect_free(&e);
}
END_TEST

/* prof_info checks the Info4..15 answers against each other and the metadata over
 * fixtures with generic and nested types, and calls three unsupported methods once
 * each plus two on every JIT event: the JSON report counts them by name. */
START_TEST(info_answers_agree_with_the_images)
{
    static const char *const fixtures[] = { "calc.exe", "generics.exe", "types.exe" };
    for (size_t i = 0; i < sizeof fixtures / sizeof *fixtures; i++) {
        char path[512];
        fx_path(path, sizeof path, fixtures[i]);
        setenv("PROF_INFO_VAR", "abc", 1);
        const char *extra[] = { "--json", path, NULL };
        run_cli(ILG_PROF_INFO, TEST_CLSID, extra);
        unsetenv("PROF_INFO_VAR");
        ck_assert_msg(res.exited && res.status == 0, "%s: exit %d: %s", fixtures[i], res.status,
                      res.err);
        assert_log_pass();
        json_t *root = parse_report(), *mods = json_object_get(root, "modules");
        json_t *calls = json_object_get(root, "unsupported_calls");
        json_int_t jit = 0;
        json_t *m = json_array_get(mods, 0), *meths = json_object_get(m, "methods");
        for (size_t k = 0; k < json_array_size(meths); k++)
            jit += json_integer_value(json_object_get(json_array_get(meths, k), "jit_events"));
        ck_assert_int_gt(jit, 0);
        ck_assert_int_eq(json_integer_value(json_object_get(calls, "GetClassFromObject")), 1);
        /* ForceGC inside a callback: refused by CoreCLR's rule before it is looked at. */
        ck_assert_int_eq(json_integer_value(json_object_get(root, "refused_calls")), 1);
        ck_assert_ptr_null(json_object_get(calls, "ForceGC"));
        ck_assert_int_eq(json_integer_value(json_object_get(calls, "EventPipeStartSession")), 1);
        ck_assert_int_eq(json_integer_value(json_object_get(calls, "GetCodeInfo2")), jit);
        /* One in Initialize, one per JIT event. */
        ck_assert_int_eq(json_integer_value(json_object_get(calls, "GetFunctionFromIP")), jit + 1);
        ck_assert_int_eq(json_object_size(calls), 4);
        json_decref(root);
    }
}
END_TEST

static Suite *host_integration_suite(void)
{
    Suite *s = suite_create("host_integration");
    TCase *tc = tcase_create("run");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, rewrite_every_fixture);
    tcase_add_test(tc, metadata_import_matches_tables);
    tcase_add_test(tc, methods_pattern_limits_jit);
    tcase_add_test(tc, unimplemented_methods_are_traced);
    tcase_add_test(tc, trace_shows_every_call);
    tcase_add_test(tc, trace_shows_load_as_notification_only);
    tcase_add_test(tc, info_answers_agree_with_the_images);
    tcase_add_test(tc, jit_threads_from_the_command_line);
    tcase_add_test(tc, environment_names_the_profiler);
    tcase_add_test(tc, only_subscribed_callbacks_are_delivered);
    tcase_add_test(tc, malloc_memory_is_rejected);
    tcase_add_test(tc, header_at_base_is_rejected);
    tcase_add_test(tc, corrupt_body_is_rejected_by_the_verifier);
    tcase_add_test(tc, undecodable_body_is_rejected_with_offset);
    tcase_add_test(tc, type_errors_are_rejected_as_coreclr_would);
    tcase_add_test(tc, refusing_callback3_is_initialized);
    tcase_add_test(tc, refusing_callback2_after_creation_is_not_initialized);
    tcase_add_test(tc, callback_queries_match_coreclr);
    tcase_add_test(tc, undefined_symbol_never_called_loads);
    tcase_add_test(tc, failing_initialize_is_reported);
    tcase_add_test(tc, failing_create_instance_is_reported);
    tcase_add_test(tc, bad_clsid_and_bad_path);
    tcase_add_test(tc, isolate_reports_a_crash);
    tcase_add_test(tc, isolate_reports_a_hang);
    tcase_add_test(tc, isolate_passes_a_good_run_through);
    tcase_add_test(tc, abi_probe_sees_coreclr_event_kinds);
    tcase_add_test(tc, startup_without_corelib_creates_domains_first);
    suite_add_tcase(s, tc);
    TCase *rc = tcase_create("recompile");
    tcase_add_checked_fixture(rc, setup, teardown);
    tcase_set_timeout(rc, 120);
    tcase_add_test(rc, recompile_events_follow_the_il);
    tcase_add_test(rc, recompile_flags_a_profiler_that_rewrites_its_output);
    tcase_add_test(rc, recompile_passes_profilers_that_build_each_body_once);
    tcase_add_test(rc, without_recompile_each_method_compiles_once);
    tcase_add_test(rc, disabled_optimizations_stop_recompilation);
    tcase_add_test(rc, disabled_tiering_stops_recompilation);
    tcase_add_test(rc, recompile_from_the_environment);
    tcase_add_test(rc, coreclr_recompiles_as_the_model_says);
    tcase_add_test(rc, coreclr_compiles_once_without_tiering);
    suite_add_tcase(s, rc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(host_integration_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
