/* test_rejit.c: ReJIT in the host (issue 17), with prof_rejit over the C# fixture Calc.dll:
 *   coreclr     the same profiler under a real CoreCLR (dotnet) and under `ilgraft run`:
 *               every "rejit:" line (the bad requests' HRESULTs and ReJITError callbacks,
 *               GetReJITParameters and the function control's answers, the ReJIT
 *               callbacks in order, GetReJITIDs before and after a revert) is the same,
 *               in order; the live program shows the new bodies ("add 2 3 = 6");
 *   saved       the image `ilgraft run --save` wrote holds the bodies in force, and prints
 *               under dotnet and mono what the live CoreCLR run printed;
 *   report      the host's JSON report: statuses, ReJITIDs, bodies, the reverted method;
 *   protocol    the checks: Info's SetILFunctionBody in ReJITCompilationStarted, a request
 *               for a module no ModuleLoadFinished announced, a code map that disagrees
 *               with the bodies; warnings, and errors under --strict-rejit;
 *   threads     requests from the profiler's own thread while --jit-threads 2 deliver JIT
 *               events (scripts/test.sh runs this case under ThreadSanitizer).
 * The truth is the real runtime's answers and output, never figures written here. */
#include <check.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit/fixture_util.h"

#define TEST_CLSID "{1F6E4A2B-3C5D-4E7F-8091-A2B3C4D5E6F7}"
/* What Calc prints once the ReJIT bodies are in force (prof_rejit.c says why). */
static const char *const rejit_lines[] = { "add 2 3 = 6\n", "sub total = 33\n", "sum 4 = 10\n",
                                           "square 7 = 50\n" };

static char dir[64];
static json_t *method_json(json_t *root, const char *name);
static json_t *host_json(const char *const *extra);
static const char *rejit_status(json_t *meth);
static fx_result res;

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/ilg_rejit_%d", (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    memset(&res, 0, sizeof res);
    unsetenv("CORECLR_ENABLE_PROFILING");
    unsetenv("PROF_REJIT_MODE");
    unsetenv("PROF_REJIT_REVERT_AT_END");
    setenv("DOTNET_CLI_TELEMETRY_OPTOUT", "1", 1);
}

static void teardown(void)
{
    fx_result_free(&res);
    fx_tmpdir_remove(dir);
}

static bool have_fixture(void)
{
    return fx_require(access(ILG_CALC_DLL, R_OK) == 0, "the C# fixture Calc.dll was not built");
}

/* False (after SKIP and why) without dotnet or the fixture; fails under CI=true. */
static bool have_dotnet(void)
{
    return have_fixture() &&
           fx_require(ILG_DOTNET[0] && access(ILG_DOTNET, X_OK) == 0, "dotnet not found");
}

/* Runs argv; its stdout (malloc'd); it must exit with status 0. */
static char *run_out(const char *const *argv)
{
    fx_result_free(&res);
    memset(&res, 0, sizeof res);
    ck_assert_msg(fx_run(argv, &res), "cannot start %s", argv[0]);
    ck_assert_msg(res.exited && res.status == 0, "%s: status %d: %s", argv[0], res.status,
                  res.err);
    return strdup(res.out);
}

/* The log's lines starting with prefix, in order (malloc'd), after checking it passed. */
static char *log_lines(const char *log, const char *prefix)
{
    size_t n = 0;
    char *text = fx_read_file(log, &n);
    ck_assert_msg(text, "no log %s", log);
    ck_assert_msg(strstr(text, "\nPASS") || strncmp(text, "PASS", 4) == 0, "%s: %s", log, text);
    char *out = calloc(n + 1, 1), *w = out;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (strncmp(line, prefix, strlen(prefix)) == 0)
            w += sprintf(w, "%s\n", line);
    free(text);
    return out;
}

/* prof_rejit under the host (extra options before the image); its log path in log. */
static char *host_run(const char *const *extra, char *log, size_t logsize)
{
    snprintf(log, logsize, "%s/host.log", dir);
    setenv("PROF_LOG", log, 1);
    const char *argv[16] = { ILG_CLI_PATH, "run", "--profiler", ILG_PROF_REJIT, "--clsid", TEST_CLSID };
    size_t n = 6;
    for (; extra && *extra && n < 14; extra++)
        argv[n++] = *extra;
    argv[n++] = ILG_CALC_DLL;
    argv[n] = NULL;
    char *out = run_out(argv);
    unsetenv("PROF_LOG");
    return out;
}

/* prof_rejit under dotnet over Calc.dll: the program's output; its log in log. */
static char *dotnet_run(char *log, size_t logsize)
{
    snprintf(log, logsize, "%s/dotnet.log", dir);
    setenv("PROF_LOG", log, 1);
    setenv("CORECLR_ENABLE_PROFILING", "1", 1);
    setenv("CORECLR_PROFILER", TEST_CLSID, 1);
    setenv("CORECLR_PROFILER_PATH", ILG_PROF_REJIT, 1);
    const char *argv[] = { ILG_DOTNET, ILG_CALC_DLL, NULL };
    char *out = run_out(argv);
    unsetenv("CORECLR_ENABLE_PROFILING");
    unsetenv("PROF_LOG");
    return out;
}

/* The "rejit:" lines of the two logs agree, line by line (a failure names the first). */
static void same_lines(const char *host, const char *live)
{
    ck_assert_msg(strlen(live) > 0, "no rejit lines under dotnet");
    const char *h = host, *l = live;
    while (*h || *l) {
        const char *he = strchr(h, '\n'), *le = strchr(l, '\n');
        ck_assert_msg(he && le, "one log ends early: host '%s' dotnet '%s'", h, l);
        ck_assert_msg(he - h == le - l && memcmp(h, l, (size_t)(he - h)) == 0,
                      "host and CoreCLR differ:\n  host:   %.*s\n  dotnet: %.*s", (int)(he - h), h,
                      (int)(le - l), l);
        h = he + 1;
        l = le + 1;
    }
}

/* Under a sanitizer the profiler cannot load into an uninstrumented dotnet: the plain
 * build compares. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

static void compare_mode(const char *mode)
{
    char hlog[300], dlog[300];
    if (mode)
        setenv("PROF_REJIT_MODE", mode, 1);
    free(host_run(NULL, hlog, sizeof hlog));
    char *host = log_lines(hlog, "rejit: ");
    if (SANITIZED) {
        free(host);
        return;
    }
    char *out = dotnet_run(dlog, sizeof dlog), *live = log_lines(dlog, "rejit: ");
    same_lines(host, live);
    for (size_t i = 0; !mode && i < sizeof rejit_lines / sizeof rejit_lines[0]; i++)
        ck_assert_msg(strstr(out, rejit_lines[i]), "live run under dotnet printed: %s", out);
    if (mode && strcmp(mode, "norejit") == 0)
        ck_assert_msg(strstr(out, "add 2 3 = 5\n"), "live run under dotnet printed: %s", out);
    free(out);
    free(host);
    free(live);
}

START_TEST(test_host_answers_as_coreclr)
{
    if (!have_dotnet())
        return;
    /* With a revert of a served ReJIT at the end, and its GetReJITIDs after. */
    setenv("PROF_REJIT_REVERT_AT_END", "1", 1);
    compare_mode(NULL);
    unsetenv("PROF_REJIT_REVERT_AT_END");
}
END_TEST

START_TEST(test_not_enabled_as_coreclr)
{
    if (!have_dotnet())
        return;
    compare_mode("norejit");
}
END_TEST

/* A request for methods already compiled (Add, Sub) and one not yet (Answer), made at
 * Sum's JIT event. CoreCLR serves each at its next call: Answer at its first, Add and Sub
 * never (not called again). The host serves a compiled method's request at the next
 * service point, as if it were called again (docs/profiler.md, "ReJIT"): Add and Sub
 * right after Sum's JIT pair, then Answer at its first JIT event, as CoreCLR does. */
START_TEST(test_late_request)
{
    if (!have_dotnet())
        return;
    char hlog[300], dlog[300];
    setenv("PROF_REJIT_MODE", "late", 1);
    free(host_run(NULL, hlog, sizeof hlog));
    char *host = log_lines(hlog, "rejit: ");
    const char *add = strstr(host, "GetReJITParameters Add"),
               *sub = strstr(host, "GetReJITParameters Sub"),
               *answer = strstr(host, "GetReJITParameters Answer");
    ck_assert_msg(add && sub && answer && add < sub && sub < answer, "%s", host);
    ck_assert_msg(strstr(host, "GetReJITIDs(Add) at shutdown hr=0x00000000 count=2"), "%s", host);
    if (!SANITIZED) {
        char *out = dotnet_run(dlog, sizeof dlog), *live = log_lines(dlog, "rejit: ");
        ck_assert_msg(!strstr(live, "GetReJITParameters Add") && !strstr(live, "GetReJITParameters Sub"),
                      "%s", live);
        ck_assert_msg(strstr(live, "GetReJITIDs(Add) at shutdown hr=0x00000000 count=1"), "%s", live);
        /* Answer's part is the same in both, from its GetReJITParameters to its IDs. */
        const char *l = strstr(live, "rejit: GetReJITParameters Answer");
        const char *h = strstr(host, "rejit: GetReJITParameters Answer");
        ck_assert_ptr_nonnull(l);
        const char *lend = strstr(l, "GetReJITIDs(Answer) after ReJIT");
        ck_assert_ptr_nonnull(lend);
        lend = strchr(lend, '\n');
        ck_assert_int_eq(strncmp(l, h, (size_t)(lend - l)), 0);
        free(out);
        free(live);
    }
    free(host);
}
END_TEST

/* A request for a method without IL (CoreLib's abstract IEnumerable.GetEnumerator, in
 * CoreLib's ModuleLoadFinished): S_OK, no ReJITError, nothing ever served, as CoreCLR;
 * the host's report says the request stayed pending. */
START_TEST(test_method_without_il)
{
    glob_t g;
    if (!have_dotnet() ||
        glob("/usr/share/dotnet/shared/Microsoft.NETCore.App/*/System.Private.CoreLib.dll", 0, NULL,
             &g) != 0)
        return;
    char hlog[300], dlog[300];
    setenv("PROF_REJIT_MODE", "noil", 1);
    snprintf(hlog, sizeof hlog, "%s/host.log", dir);
    setenv("PROF_LOG", hlog, 1);
    const char *argv[] = { ILG_CLI_PATH, "run", "--json", "--profiler", ILG_PROF_REJIT, "--clsid",
                           TEST_CLSID, g.gl_pathv[g.gl_pathc - 1], ILG_CALC_DLL, NULL };
    char *report = run_out(argv);
    unsetenv("PROF_LOG");
    globfree(&g);
    char *host = log_lines(hlog, "rejit: ");
    ck_assert_msg(strstr(host, "GetILFunctionBody hr=0x80131354) hr=0x00000000"), "%s", host);
    json_error_t err;
    json_t *root = json_loads(report, 0, &err);
    ck_assert_msg(root, "report: %s", err.text);
    json_t *r = json_object_get(method_json(root, "IEnumerable::GetEnumerator("), "rejit");
    ck_assert_ptr_nonnull(r);
    ck_assert(json_is_true(json_object_get(r, "pending")));
    ck_assert_str_eq(json_string_value(json_object_get(r, "status")), "none");
    json_decref(root);
    free(report);
    if (!SANITIZED) {
        char *out = dotnet_run(dlog, sizeof dlog), *live = log_lines(dlog, "rejit: ");
        same_lines(host, live);
        free(out);
        free(live);
    }
    free(host);
}
END_TEST

/* A ReJIT body the JIT refuses (Add's falls off its end). CoreCLR takes it (S_OK), sends
 * ReJITCompilationStarted, then the call throws InvalidProgramException: no Finished.
 * The host refuses it at SetILFunctionBody (COR_E_INVALIDPROGRAM, as for a JIT-time
 * body), sends Started and no Finished, and warns that the method is left in a state
 * the runtime would not run. Both logs agree up to Add's ReJITCompilationStarted. */
START_TEST(test_refused_rejit_body)
{
    if (!have_dotnet())
        return;
    char hlog[300], dlog[300];
    setenv("PROF_REJIT_MODE", "badbody", 1);
    json_t *root = host_json(NULL);
    json_t *r = json_object_get(method_json(root, "Calc::Add("), "rejit");
    ck_assert_str_eq(json_string_value(json_object_get(r, "status")), "rejit-rejected");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r, "diagnostic")),
                                 "E_IL_VERIFY_FALL_OFF_END"));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r, "warning")),
                                 "a state the runtime would not run"));
    ck_assert_str_eq(rejit_status(method_json(root, "Calc::Sub(")), "rejitted");
    json_decref(root);
    snprintf(hlog, sizeof hlog, "%s/host.log", dir);
    char *raw = fx_read_file(hlog, NULL);
    ck_assert_msg(strstr(raw, "jit: SetILFunctionBody(Add, 4 bytes) hr=0x8013153a"), "%s", raw);
    ck_assert_msg(!strstr(raw, "ReJITCompilationFinished Add"), "%s", raw);
    free(raw);
    if (SANITIZED)
        return;
    char *host = log_lines(hlog, "rejit: ");
    snprintf(dlog, sizeof dlog, "%s/dotnet.log", dir);
    setenv("PROF_LOG", dlog, 1);
    setenv("CORECLR_ENABLE_PROFILING", "1", 1);
    setenv("CORECLR_PROFILER", TEST_CLSID, 1);
    setenv("CORECLR_PROFILER_PATH", ILG_PROF_REJIT, 1);
    const char *argv[] = { ILG_DOTNET, ILG_CALC_DLL, NULL };
    fx_result_free(&res);
    memset(&res, 0, sizeof res);
    ck_assert(fx_run(argv, &res));
    unsetenv("CORECLR_ENABLE_PROFILING");
    unsetenv("PROF_LOG");
    ck_assert_msg(!(res.exited && res.status == 0) && strstr(res.err, "InvalidProgramException"),
                  "dotnet: %s", res.err);
    /* The dotnet log stops at the crash (no PASS): its rejit: lines, read raw. */
    char *live = fx_read_file(dlog, NULL);
    ck_assert_ptr_nonnull(live);
    const char *cut = "rejit: ReJITCompilationStarted Add rejitid=nonzero\n";
    const char *lend = strstr(live, cut);
    ck_assert_msg(lend && !strstr(live, "ReJITCompilationFinished Add"), "%s", live);
    lend += strlen(cut);
    char *l = calloc(strlen(live) + 1, 1), *w = l;
    for (const char *p = live; p < lend;) {
        const char *e = strchr(p, '\n');
        if (strncmp(p, "rejit: ", 7) == 0)
            w += sprintf(w, "%.*s\n", (int)(e - p), p);
        p = e + 1;
    }
    ck_assert_msg(strncmp(host, l, strlen(l)) == 0, "host:\n%s\ndotnet:\n%s", host, l);
    free(l);
    free(live);
    free(host);
}
END_TEST

/* The bodies in force, saved: the same program output as the live CoreCLR run. */
START_TEST(test_saved_image_runs)
{
    if (!have_dotnet() || SANITIZED)
        return;
    char hlog[300], dlog[300], saved[300];
    const char *save[] = { "--save", dir, NULL };
    free(host_run(save, hlog, sizeof hlog));
    char *live = dotnet_run(dlog, sizeof dlog);
    snprintf(saved, sizeof saved, "%s/Calc.dll", dir);
    const char *on_dotnet[] = { ILG_DOTNET, saved, NULL };
    char *after = run_out(on_dotnet);
    ck_assert_str_eq(after, live);
    if (fx_have_program("mono")) {
        const char *on_mono[] = { "mono", saved, NULL };
        char *mono = run_out(on_mono);
        ck_assert_str_eq(mono, live);
        free(mono);
    }
    free(live);
    free(after);
}
END_TEST

/* The method named `name` in the JSON report (a borrowed reference). */
static json_t *method_json(json_t *root, const char *name)
{
    json_t *mods = json_object_get(root, "modules"), *m, *meth;
    size_t i, k;
    json_array_foreach(mods, i, m) {
        json_array_foreach(json_object_get(m, "methods"), k, meth) {
            if (strstr(json_string_value(json_object_get(meth, "name")), name))
                return meth;
        }
    }
    ck_abort_msg("no method %s in the report", name);
    return NULL;
}

static json_t *host_json(const char *const *extra)
{
    char log[300];
    const char *argv[8] = { "--json" };
    size_t n = 1;
    for (; extra && *extra && n < 7; extra++)
        argv[n++] = *extra;
    argv[n] = NULL;
    char *out = host_run(argv, log, sizeof log);
    json_error_t err;
    json_t *root = json_loads(out, 0, &err);
    ck_assert_msg(root, "report is not JSON: %s: %s", err.text, out);
    free(out);
    return root;
}

static const char *rejit_status(json_t *meth)
{
    json_t *r = json_object_get(meth, "rejit");
    return r ? json_string_value(json_object_get(r, "status")) : "none";
}

START_TEST(test_report)
{
    if (!have_fixture())
        return;
    setenv("PROF_REJIT_REVERT_AT_END", "1", 1);
    json_t *root = host_json(NULL);
    json_t *add = method_json(root, "Calc::Add("), *sum = method_json(root, "Calc::Sum(");
    json_t *square = method_json(root, "Calc::Square(");
    ck_assert_str_eq(rejit_status(add), "rejitted");
    json_t *r = json_object_get(add, "rejit");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "size")), 5);
    ck_assert_int_ne(json_integer_value(json_object_get(r, "rejit_id")), 0);
    /* CoreCLR compiles a method ReJIT'd before its first call as the new version only:
     * no JITCompilationStarted (the coreclr case shows its log has none either). */
    ck_assert_int_eq(json_integer_value(json_object_get(add, "jit_events")), 0);
    /* Sum: reverted before it ran, compiled once as the original. */
    ck_assert_str_eq(rejit_status(sum), "none");
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "jit_events")), 1);
    ck_assert_str_eq(rejit_status(square), "reverted");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(square, "rejit"), "warnings")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(root, "rejit_warnings")), 0);
    json_decref(root);
    unsetenv("PROF_REJIT_REVERT_AT_END");
}
END_TEST

/* --trace shows the ReJIT calls and callbacks: the requests, ReJITError, the ReJIT
 * callbacks with their ReJITIDs, the function control's calls. */
START_TEST(test_trace)
{
    if (!have_fixture())
        return;
    char log[300];
    const char *trace[] = { "--trace", NULL };
    free(host_run(trace, log, sizeof log));
    static const char *const want[] = {
        "ICorProfilerInfo4::RequestReJIT(cFunctions=0, moduleIds=NULL, methodIds=NULL) = E_INVALIDARG",
        "callback ReJITError(moduleId=0x0, methodId=0x06000003, functionId=0x0, hrStatus=E_INVALIDARG)",
        "ICorProfilerInfo4::RequestRevert(cFunctions=1,",
        "callback GetReJITParameters(moduleId=",
        "ICorProfilerFunctionControl::SetCodegenFlags(flags=0x1) = S_OK",
        "ICorProfilerFunctionControl::SetILFunctionBody(cbNewILMethodHeader=5, pbNewILMethodHeader=",
        "ICorProfilerFunctionControl::SetILInstrumentedCodeMap(cILMapEntries=2,",
        ", rejitId=0x2, fIsSafeToBlock=1)",
        "callback ReJITCompilationFinished(functionId=",
        "ICorProfilerInfo10::RequestReJITWithInliners(dwRejitFlags=0x0,",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(res.err, want[i]), "no '%s' in the trace", want[i]);
}
END_TEST

/* How many times needle occurs in text. */
static unsigned count_of(const char *text, const char *needle)
{
    unsigned n = 0;
    for (const char *at = strstr(text, needle); at; at = strstr(at + 1, needle))
        n++;
    return n;
}

/* With --recompile, the tier-1 recompilation of a method whose ReJIT version is in force
 * is that version's: a ReJIT pair with its ReJITID, no JIT pair (Sum, reverted before it
 * ran, gets JIT pairs: tier 0 and, having a loop, OSR and tier 1). */
START_TEST(test_recompile_of_rejit_version)
{
    if (!have_fixture())
        return;
    char log[300];
    const char *recompile[] = { "--recompile", NULL };
    free(host_run(recompile, log, sizeof log));
    char *text = fx_read_file(log, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(count_of(text, "rejit: ReJITCompilationStarted Add "), 2);
    ck_assert_uint_eq(count_of(text, "rejit: GetReJITParameters Add "), 1);
    ck_assert_uint_eq(count_of(text, "jit: JITCompilationStarted Add "), 0);
    ck_assert_uint_eq(count_of(text, "jit: JITCompilationStarted Sum "), 3);
    ck_assert_uint_eq(count_of(text, "rejit: ReJITCompilationStarted Sum "), 0);
    free(text);
}
END_TEST

/* Info's SetILFunctionBody in ReJITCompilationStarted: a warning per method (CoreCLR
 * takes the body, for the original version: the run still has the ReJIT bodies); an
 * error refused under --strict-rejit. */
START_TEST(test_body_from_wrong_callback)
{
    if (!have_fixture())
        return;
    setenv("PROF_REJIT_MODE", "wrongcb", 1);
    json_t *root = host_json(NULL);
    json_t *add = method_json(root, "Calc::Add(");
    ck_assert_str_eq(rejit_status(add), "rejitted");
    json_t *r = json_object_get(add, "rejit");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "warnings")), 1);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r, "warning")),
                                 "SetILFunctionBody called in ReJITCompilationStarted"));
    ck_assert_int_eq(json_integer_value(json_object_get(root, "rejit_warnings")), 3);
    json_decref(root);
    char log[300];
    const char *strict[] = { "--strict-rejit", NULL };
    free(host_run(strict, log, sizeof log));
    char *raw = fx_read_file(log, NULL);
    ck_assert_msg(strstr(raw, "Info::SetILFunctionBody in ReJITCompilationStarted hr=0x80131363"),
                  "%s", raw);
    free(raw);
}
END_TEST

/* Requests for a module no ModuleLoadFinished announced (the mask has no MODULE_LOADS):
 * warned and served; under --strict-rejit refused with ReJITError. */
START_TEST(test_unannounced_module)
{
    if (!have_fixture())
        return;
    setenv("PROF_REJIT_MODE", "nomodule", 1);
    json_t *root = host_json(NULL);
    json_t *r = json_object_get(method_json(root, "Calc::Add("), "rejit");
    ck_assert_str_eq(json_string_value(json_object_get(r, "status")), "rejitted");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r, "warning")),
                                 "no ModuleLoadFinished announced"));
    json_decref(root);
    char log[300];
    const char *strict[] = { "--strict-rejit", NULL };
    free(host_run(strict, log, sizeof log));
    char *lines = log_lines(log, "rejit: ");
    ck_assert_msg(strstr(lines, "ReJITError token=0x06000003 module=Calc hr=0x80131363"), "%s", lines);
    ck_assert_msg(!strstr(lines, "GetReJITParameters"), "%s", lines);
    free(lines);
}
END_TEST

/* A map whose new offset is no instruction of the new body: a warning naming the entry. */
START_TEST(test_bad_code_map)
{
    if (!have_fixture())
        return;
    setenv("PROF_REJIT_MODE", "badmap", 1);
    json_t *root = host_json(NULL);
    json_t *r = json_object_get(method_json(root, "Calc::Add("), "rejit");
    const char *w = json_string_value(json_object_get(r, "warning"));
    ck_assert_msg(w && strstr(w, "SetILInstrumentedCodeMap entry 1 (old 0x2 -> new 0x5)"), "%s", w);
    /* The good map of the plain mode gives none (test_report). */
    json_decref(root);
    /* Old 1 (ldarg.1, kept in every new body) mapped where ldarg.0 is. */
    setenv("PROF_REJIT_MODE", "wrongmap", 1);
    root = host_json(NULL);
    r = json_object_get(method_json(root, "Calc::Sub("), "rejit");
    w = json_string_value(json_object_get(r, "warning"));
    ck_assert_msg(w && strstr(w, "entry 1 (old 0x1 -> new 0x0): the original ldarg.1 at 0x1 is at "
                                 "new offset 0x1, and 0x0 holds a ldarg.0"), "%s", w);
    json_decref(root);
    setenv("PROF_REJIT_MODE", "unsortedmap", 1);
    root = host_json(NULL);
    r = json_object_get(method_json(root, "Calc::Square("), "rejit");
    w = json_string_value(json_object_get(r, "warning"));
    ck_assert_msg(w && strstr(w, "not in ascending order"), "%s", w);
    json_decref(root);
}
END_TEST

/* Requests from the profiler's own thread while two JIT threads deliver events: the same
 * bodies in force as the single-threaded run. */
START_TEST(test_requests_from_own_thread)
{
    if (!have_fixture())
        return;
    setenv("PROF_REJIT_MODE", "thread", 1);
    const char *threads[] = { "--jit-threads", "2", NULL };
    for (int round = 0; round < 5; round++) {
        json_t *root = host_json(threads);
        ck_assert_str_eq(rejit_status(method_json(root, "Calc::Add(")), "rejitted");
        ck_assert_str_eq(rejit_status(method_json(root, "Calc::Sub(")), "rejitted");
        ck_assert_str_eq(rejit_status(method_json(root, "Calc::Square(")), "rejitted");
        /* Reverted right after the request: served in between or not, depending on
         * whether a JIT thread reached a service point meanwhile (as in CoreCLR, when
         * another thread calls the method); either way its original body is in force. */
        const char *sum = rejit_status(method_json(root, "Calc::Sum("));
        ck_assert_msg(strcmp(sum, "none") == 0 || strcmp(sum, "reverted") == 0, "Sum: %s", sum);
        json_decref(root);
    }
}
END_TEST

static Suite *rejit_suite(void)
{
    Suite *s = suite_create("rejit");
    TCase *tc = tcase_create("coreclr");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_host_answers_as_coreclr);
    tcase_add_test(tc, test_not_enabled_as_coreclr);
    tcase_add_test(tc, test_saved_image_runs);
    tcase_add_test(tc, test_late_request);
    tcase_add_test(tc, test_method_without_il);
    tcase_add_test(tc, test_refused_rejit_body);
    suite_add_tcase(s, tc);
    tc = tcase_create("host");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_report);
    tcase_add_test(tc, test_recompile_of_rejit_version);
    tcase_add_test(tc, test_trace);
    tcase_add_test(tc, test_body_from_wrong_callback);
    tcase_add_test(tc, test_unannounced_module);
    tcase_add_test(tc, test_bad_code_map);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_requests_from_own_thread);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rejit_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
