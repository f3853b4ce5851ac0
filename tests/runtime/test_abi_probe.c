/* test_abi_probe.c: proof that include/ilgraft/corprof.h matches the real runtime. Runs
 * the C# fixture Hello.dll under `dotnet` with abi_probe.so (a profiler built from the
 * header alone) attached, and checks: the process exits 0 with the same output as an
 * unprofiled run; the probe's log ends in PASS (every call it made answered as it
 * should, every expected event came); the runtime loaded CoreLib and Hello; and the
 * IL size and RVA the runtime reported for Hello.Program::Main equal what ilgraft's
 * own reader says (`ilgraft methods --json`, body_size and rva); and that the probe's
 * conformance calls get the same answers from `ilgraft run` as from CoreCLR.
 *
 * Without dotnet: "SKIP: dotnet not found" and pass, except under CI=true, where a
 * missing runtime is a failure. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit/fixture_util.h"

#define PROBE_CLSID "{7C0C5F1E-5A4B-4E55-9C3A-1F2B3C4D5E6F}"

static const char expected_output[] =
    "Hello from ilgraft\n"
    "sum of squares 1..10 = 385\n"
    "parse 12x -> -1\n"
    "answer = 41\n"
    "done\n";

static char log_path[64];

static void setup(void)
{
    snprintf(log_path, sizeof log_path, "/tmp/ilg-abi-probe-XXXXXX");
    int fd = mkstemp(log_path);
    ck_assert_msg(fd >= 0, "mkstemp");
    close(fd);
}

static void teardown(void)
{
    unlink(log_path);
    unsetenv("CORECLR_ENABLE_PROFILING");
    unsetenv("CORECLR_PROFILER");
    unsetenv("CORECLR_PROFILER_PATH");
    unsetenv("ILG_ABI_PROBE_LOG");
    unsetenv("ILG_ABI_PROBE_REWRITE");
    unsetenv("ILG_ABI_PROBE_MAX_CALLBACK");
    unsetenv("ILG_ABI_PROBE_CONFORM");
    unsetenv("ILG_CONF_VAR");
    unsetenv("DOTNET_ReadyToRun");
    unsetenv("ILG_ABI_PROBE_TRANSITIONS");
}

/* False (after printing SKIP) when there is no runtime to test against; fails under CI. */
static bool have_dotnet(void)
{
    return fx_require(ILG_DOTNET[0] && access(ILG_DOTNET, X_OK) == 0 && access(ILG_HELLO_DLL, R_OK) == 0,
                      "dotnet not found (ILG_DOTNET '%s', fixture %s)", ILG_DOTNET, ILG_HELLO_DLL);
}

static void run_hello(bool profiled, fx_result *r)
{
    if (profiled) {
        setenv("CORECLR_ENABLE_PROFILING", "1", 1);
        setenv("CORECLR_PROFILER", PROBE_CLSID, 1);
        setenv("CORECLR_PROFILER_PATH", ILG_ABI_PROBE_PATH, 1);
        setenv("ILG_ABI_PROBE_LOG", log_path, 1);
    }
    setenv("DOTNET_CLI_TELEMETRY_OPTOUT", "1", 1);
    setenv("DOTNET_NOLOGO", "1", 1);
    const char *argv[] = { ILG_DOTNET, ILG_HELLO_DLL, NULL };
    ck_assert(fx_run(argv, r));
}

/* The first line of text that starts with prefix and contains every string in needles
 * (NULL-terminated); its length in *len. NULL when there is none. */
static const char *find_line(const char *text, const char *prefix, const char *const needles[],
                             size_t *len)
{
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            bool all = true;
            for (size_t i = 0; needles && needles[i] && all; i++) {
                const char *hit = strstr(line, needles[i]);
                all = hit && hit < line + n;
            }
            if (all) {
                if (len)
                    *len = n;
                return line;
            }
        }
        if (!end)
            break;
        line = end + 1;
    }
    return NULL;
}

/* The number after " key=" in a line (hex with 0x, else decimal). */
static unsigned long field(const char *line, size_t len, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, " %s=", key);
    const char *hit = strstr(line, pat);
    ck_assert_msg(hit && hit < line + len, "no %s in: %.*s", key, (int)len, line);
    return strtoul(hit + strlen(pat), NULL, 0);
}

/* The log's last non-empty line. */
static const char *last_line(const char *text, size_t *len)
{
    size_t n = strlen(text);
    while (n && text[n - 1] == '\n')
        n--;
    const char *start = text + n;
    while (start > text && start[-1] != '\n')
        start--;
    *len = (size_t)(text + n - start);
    return start;
}

static char *read_log(void)
{
    char *log = fx_read_file(log_path, NULL);
    ck_assert_msg(log != NULL, "no probe log at %s", log_path);
    return log;
}

static void assert_pass(const char *log)
{
    size_t len;
    const char *last = last_line(log, &len);
    if (len != 4 || strncmp(last, "PASS", 4) != 0) {
        /* Show every FAIL line, then the verdict. */
        fprintf(stderr, "probe log %s:\n", log_path);
        for (const char *l = log; (l = strstr(l, "FAIL")); l++) {
            const char *e = strchr(l, '\n');
            fprintf(stderr, "  %.*s\n", (int)(e ? e - l : (long)strlen(l)), l);
            if (!e)
                break;
            l = e;
        }
        ck_abort_msg("probe verdict: %.*s", (int)len, last);
    }
}

START_TEST(hello_runs_unprofiled)
{
    if (!have_dotnet())
        return;
    fx_result r;
    run_hello(false, &r);
    ck_assert_msg(r.exited && r.status == 0, "dotnet Hello.dll: status %d, stderr %s", r.status,
                  r.err);
    ck_assert_str_eq(r.out, expected_output);
    fx_result_free(&r);
}
END_TEST

START_TEST(probe_passes_and_agrees_with_ilgraft)
{
    if (!have_dotnet())
        return;
    fx_result r;
    run_hello(true, &r);
    ck_assert_msg(r.exited && r.status == 0, "profiled run: status %d (exited %d), stderr %s",
                  r.status, r.exited, r.err);
    ck_assert_str_eq(r.out, expected_output);
    fx_result_free(&r);

    char *log = read_log();
    assert_pass(log);
    const char *ok[] = { " hr=0x00000000 ", "/System.Private.CoreLib.dll", NULL };
    ck_assert_msg(find_line(log, "ModuleLoadFinished ", ok, NULL), "no CoreLib load");
    const char *hello[] = { " hr=0x00000000 ", "/Hello.dll", NULL };
    ck_assert_msg(find_line(log, "ModuleLoadFinished ", hello, NULL), "no Hello.dll load");
    const char *cb3[] = { "name=ICorProfilerCallback3 hr=0x00000000", NULL };
    ck_assert_msg(find_line(log, "CallbackQI ", cb3, NULL), "the runtime never got Callback3");
    size_t len;
    const char *hi = find_line(log, "InfoHighest ", NULL, &len);
    ck_assert_msg(hi && field(hi, len, "version") >= 3, "ICorProfilerInfo3 not offered");

    const char *main_needles[] = { " module=Hello.dll ", " method=Hello.Program::Main", NULL };
    ck_assert_msg(find_line(log, "JITCompilationStarted ", main_needles, NULL),
                  "no JITCompilationStarted for Hello.Program::Main");

    /* ilgraft's reading of the same file: every Hello method the runtime compiled has the
     * body size (header, code and EH sections) and RVA the runtime reported. */
    const char *argv[] = { ILG_CLI_PATH, "methods", "--json", ILG_HELLO_DLL, NULL };
    fx_result c;
    ck_assert(fx_run(argv, &c));
    ck_assert_msg(c.exited && c.status == 0, "ilgraft methods: %d %s", c.status, c.err);
    json_error_t err;
    json_t *j = json_loads(c.out, 0, &err);
    ck_assert_msg(j != NULL, "ilgraft methods --json: %s", err.text);
    json_t *methods = json_object_get(j, "methods");
    const char *hello_jit[] = { " module=Hello.dll ", NULL };
    unsigned compared = 0;
    for (const char *jit = log; (jit = find_line(jit, "JITCompilationStarted ", hello_jit, &len));
         jit += len) {
        const unsigned long token = field(jit, len, "token");
        const unsigned long il_size = field(jit, len, "il_size");
        const unsigned long rva = field(jit, len, "rva");
        bool matched = false;
        for (size_t i = 0; i < json_array_size(methods); i++) {
            json_t *m = json_array_get(methods, i);
            if ((unsigned long)json_integer_value(json_object_get(m, "token")) != token)
                continue;
            matched = true;
            ck_assert_msg((unsigned long)json_integer_value(json_object_get(m, "body_size")) ==
                              il_size, "0x%08lx: ilgraft body_size %lld, runtime %lu", token,
                          (long long)json_integer_value(json_object_get(m, "body_size")), il_size);
            ck_assert_msg((unsigned long)json_integer_value(json_object_get(m, "rva")) == rva,
                          "0x%08lx: ilgraft rva %lld, runtime 0x%lx", token,
                          (long long)json_integer_value(json_object_get(m, "rva")), rva);
        }
        ck_assert_msg(matched, "ilgraft lists no method 0x%08lx", token);
        compared++;
    }
    /* Main, Square, SafeParse, Answer, MakeGarbage, Finalizable's .ctor and Finalize. */
    ck_assert_uint_ge(compared, 7);
    json_decref(j);
    fx_result_free(&c);
    free(log);
}
END_TEST

/* Also the run without COR_PRF_MONITOR_CODE_TRANSITIONS, where ReadyToRun code is used
 * and the JITCachedFunctionSearch* slots are exercised. */
START_TEST(probe_rewrites_a_method_body)
{
    if (!have_dotnet())
        return;
    setenv("ILG_ABI_PROBE_REWRITE", "1", 1);
    setenv("ILG_ABI_PROBE_TRANSITIONS", "0", 1);
    fx_result r;
    run_hello(true, &r);
    ck_assert_msg(r.exited && r.status == 0, "status %d, stderr %s", r.status, r.err);
    char want[sizeof expected_output];
    memcpy(want, expected_output, sizeof want);
    char *answer = strstr(want, "answer = 41");
    ck_assert_ptr_nonnull(answer);
    answer[strlen("answer = 4")] = '2';
    ck_assert_str_eq(r.out, want);
    fx_result_free(&r);
    char *log = read_log();
    assert_pass(log);
    const char *rw[] = { " method=Hello.Program::Answer ", NULL };
    ck_assert_msg(find_line(log, "Rewrite ", rw, NULL), "no Rewrite line");
    const char *found[] = { " result=0 ", " module=System.Private.CoreLib.dll ", NULL };
    ck_assert_msg(find_line(log, "JITCachedFunctionSearchFinished ", found, NULL),
                  "no precompiled CoreLib method found through JITCachedFunctionSearch*");
    free(log);
}
END_TEST

/* What CoreCLR does with a profiler that offers less than ICorProfilerCallback3: it
 * creates the object asking for ICorProfilerCallback2; a Callback2-only profiler is
 * initialized; one that refuses Callback2 is dropped and the program runs unprofiled. */
START_TEST(runtime_needs_callback2_not_callback3)
{
    if (!have_dotnet())
        return;
    fx_result r;
    setenv("ILG_ABI_PROBE_MAX_CALLBACK", "2", 1);
    run_hello(true, &r);
    ck_assert_msg(r.exited && r.status == 0, "status %d, stderr %s", r.status, r.err);
    ck_assert_str_eq(r.out, expected_output);
    fx_result_free(&r);
    char *log = read_log();
    const char *refused[] = { "name=ICorProfilerCallback3 hr=0x80004002 from=runtime", NULL };
    ck_assert_msg(find_line(log, "CallbackQI ", refused, NULL), "Callback3 was not asked for");
    ck_assert_msg(find_line(log, "Initialize ", NULL, NULL), "a Callback2 profiler was not started");
    assert_pass(log);
    free(log);

    setenv("ILG_ABI_PROBE_MAX_CALLBACK", "1", 1);
    run_hello(true, &r);
    ck_assert_msg(r.exited && r.status == 0, "status %d, stderr %s", r.status, r.err);
    ck_assert_str_eq(r.out, expected_output);
    fx_result_free(&r);
    log = read_log();
    const char *create[] = { "name=ICorProfilerCallback2", NULL };
    ck_assert_msg(find_line(log, "CreateInstance ", create, NULL),
                  "CreateInstance did not ask for ICorProfilerCallback2");
    ck_assert_msg(!find_line(log, "Initialize ", NULL, NULL),
                  "a profiler without Callback2 was initialized");
    ck_assert_msg(!find_line(log, "PASS", NULL, NULL), "a dropped profiler reached Shutdown");
    free(log);
}
END_TEST

/* The lines of a probe log that start with prefix, in order, as one string. */
static char *prefixed_lines(const char *log, const char *prefix)
{
    size_t cap = strlen(log) + 1, n = 0;
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    for (const char *line = log; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            memcpy(out + n, line, len);
            n += len;
        }
        line += len;
    }
    out[n] = 0;
    return out;
}

static char *conf_lines(const char *log)
{
    return prefixed_lines(log, "CONF ");
}

/* A DIFF line's call, without its answer: "DIFF unsupported <call> hr=...". */
static size_t diff_call_len(const char *line, size_t len)
{
    const char *hr = strstr(line, " hr=");
    return hr && hr < line + len ? (size_t)(hr - line) : len;
}

/* The DIFF lines (abi_unsupported.c: calls about things CoreCLR has and the host does
 * not, docs/coreclr-observed.md): the same calls in both runs, in the same order; the
 * host answering each as its table says is the CONF comparison's business elsewhere.
 * Returns how many. */
static unsigned same_diff_calls(const char *coreclr_log, const char *host_log)
{
    char *a0 = prefixed_lines(coreclr_log, "DIFF "), *b0 = prefixed_lines(host_log, "DIFF ");
    const char *a = a0, *b = b0;
    unsigned n = 0;
    while (*a || *b) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        size_t ca = diff_call_len(a, la), cb = diff_call_len(b, lb);
        ck_assert_msg(ca == cb && memcmp(a, b, ca) == 0, "DIFF call %u differs:\n  %.*s\n  %.*s",
                      n + 1, (int)la, a, (int)lb, b);
        printf("documented difference: CoreCLR %.*s, host%.*s\n", (int)la, a, (int)(lb - cb), b + cb);
        a += la + (a[la] != 0);
        b += lb + (b[lb] != 0);
        n++;
    }
    free(a0);
    free(b0);
    return n;
}

/* The file the runtime loaded CoreLib from (the probe's ModuleLoadFinished line). */
static void corelib_path(const char *log, char *out, size_t size)
{
    static const char file[] = "/System.Private.CoreLib.dll";
    for (const char *line = log; line && *line; line = strchr(line, '\n'), line += line != NULL) {
        size_t len = strcspn(line, "\n");
        const char *name = strstr(line, " name=");
        if (strncmp(line, "ModuleLoadFinished ", 19) != 0 || !name || name > line + len)
            continue;
        name += strlen(" name=");
        size_t n = (size_t)(line + len - name);
        if (n > strlen(file) && n < size && memcmp(name + n - strlen(file), file, strlen(file)) == 0) {
            memcpy(out, name, n);
            out[n] = 0;
            return;
        }
    }
    ck_abort_msg("the runtime never loaded System.Private.CoreLib.dll");
}

/* Proof by difference: the probe's conformance calls (ICorProfilerInfo4..15 methods the
 * host answers, and some it cannot, about things that do not exist) answered by the real
 * CoreCLR and by `ilgraft run` over the same Hello.dll must log the same CONF lines, one
 * by one (IDs and addresses are logged only as whether they name the expected thing). */
START_TEST(host_answers_as_coreclr)
{
    if (!have_dotnet())
        return;
    setenv("ILG_ABI_PROBE_CONFORM", "1", 1);
    setenv("ILG_CONF_VAR", "hello-conf", 1);
    fx_result r;
    run_hello(true, &r);
    ck_assert_msg(r.exited && r.status == 0, "profiled run: status %d, stderr %s", r.status, r.err);
    fx_result_free(&r);
    char *log = read_log();
    assert_pass(log);
    char *coreclr = conf_lines(log);
    char corelib[4096];
    corelib_path(log, corelib, sizeof corelib);
    char *coreclr_log = log;

    /* CoreLib first, as the runtime loads it: the generic calls name its types. */
    unsetenv("CORECLR_ENABLE_PROFILING");
    const char *argv[] = { ILG_CLI_PATH, "run", "--profiler", ILG_ABI_PROBE_PATH, "--clsid",
                           PROBE_CLSID, corelib, ILG_HELLO_DLL, NULL };
    ck_assert(fx_run(argv, &r));
    ck_assert_msg(r.exited && r.status == 0, "ilgraft run: status %d, stderr %s", r.status, r.err);
    fx_result_free(&r);
    log = read_log();
    char *host = conf_lines(log);
    unsigned diffs = same_diff_calls(coreclr_log, log);
    ck_assert_uint_gt(diffs, 0);
    free(log);
    free(coreclr_log);

    ck_assert_msg(strlen(coreclr) > 1000, "too few CONF lines from CoreCLR:\n%s", coreclr);
    const char *a = coreclr, *b = host;
    unsigned line = 1;
    while (*a || *b) {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
        ck_assert_msg(la == lb && memcmp(a, b, la) == 0,
                      "CONF line %u differs:\n  CoreCLR: %.*s\n  host:    %.*s", line, (int)la, a,
                      (int)lb, b);
        a += la + (ea != NULL);
        b += lb + (eb != NULL);
        line++;
    }
    printf("host_answers_as_coreclr: %u CONF lines equal\n", line - 1);
    free(coreclr);
    free(host);
}
END_TEST

/* Proof by difference of the startup: the probe's START lines (abi_startup.c: every load,
 * domain and thread callback on the thread that ran Initialize, up to Hello.dll's
 * ModuleLoadFinished, with GetAppDomainInfo's name for each domain known and the thread
 * GetCurrentThreadID names) under CoreCLR, with CoreLib's ReadyToRun code (the default),
 * without it (DOTNET_ReadyToRun=0) and with code transitions off
 * (ILG_ABI_PROBE_TRANSITIONS=0), must equal the host's over CoreLib and Hello.dll. */
START_TEST(startup_order_as_coreclr)
{
    if (!have_dotnet())
        return;
    static const char *const variants[][2] = {
        { NULL, NULL },
        { "DOTNET_ReadyToRun", "0" },
        { "ILG_ABI_PROBE_TRANSITIONS", "0" },
    };
    char *coreclr[3];
    char corelib[4096];
    fx_result r;
    for (size_t v = 0; v < 3; v++) {
        if (variants[v][0])
            setenv(variants[v][0], variants[v][1], 1);
        run_hello(true, &r);
        if (variants[v][0])
            unsetenv(variants[v][0]);
        ck_assert_msg(r.exited && r.status == 0, "profiled run: status %d, stderr %s", r.status,
                      r.err);
        fx_result_free(&r);
        char *log = read_log();
        assert_pass(log);
        if (v == 0)
            corelib_path(log, corelib, sizeof corelib);
        coreclr[v] = prefixed_lines(log, "START ");
        free(log);
        ck_assert_msg(strstr(coreclr[v], "START ModuleLoadFinished Hello.dll "),
                      "CoreCLR's START lines (%s) stop before Hello.dll:\n%s",
                      variants[v][0] ? variants[v][0] : "default", coreclr[v]);
    }
    unsetenv("CORECLR_ENABLE_PROFILING");
    const char *argv[] = { ILG_CLI_PATH, "run", "--profiler", ILG_ABI_PROBE_PATH, "--clsid",
                           PROBE_CLSID, corelib, ILG_HELLO_DLL, NULL };
    ck_assert(fx_run(argv, &r));
    ck_assert_msg(r.exited && r.status == 0, "ilgraft run: status %d, stderr %s", r.status, r.err);
    fx_result_free(&r);
    char *log = read_log();
    char *host = prefixed_lines(log, "START ");
    free(log);
    for (size_t v = 0; v < 3; v++) {
        ck_assert_msg(strcmp(coreclr[v], host) == 0, "CoreCLR (%s):\n%shost:\n%s",
                      variants[v][0] ? variants[v][0] : "default", coreclr[v], host);
        free(coreclr[v]);
    }
    printf("startup_order_as_coreclr: host equals CoreCLR (3 runs):\n%s", host);
    free(host);
}
END_TEST

/* The call rules inside ThreadAssignedToOSThread, a callback CoreCLR makes where no GC may
 * be triggered: the probe's "RULE" lines (a GC-triggering SYNC method and a plain one,
 * the first time the callback comes) under CoreCLR and under `ilgraft run --jit-threads
 * 2`, which delivers the callback on its second JIT thread, must be equal. */
START_TEST(no_trigger_callback_rules_as_coreclr)
{
    if (!have_dotnet())
        return;
    setenv("ILG_ABI_PROBE_CONFORM", "1", 1);
    fx_result r;
    run_hello(true, &r);
    ck_assert_msg(r.exited && r.status == 0, "profiled run: status %d, stderr %s", r.status, r.err);
    fx_result_free(&r);
    char *log = read_log();
    char *coreclr = prefixed_lines(log, "RULE ");
    free(log);
    unsetenv("CORECLR_ENABLE_PROFILING");
    const char *argv[] = { ILG_CLI_PATH, "run", "--jit-threads", "2", "--profiler",
                           ILG_ABI_PROBE_PATH, "--clsid", PROBE_CLSID, ILG_HELLO_DLL, NULL };
    ck_assert(fx_run(argv, &r));
    ck_assert_msg(r.exited && r.status == 0, "ilgraft run: status %d, stderr %s", r.status, r.err);
    fx_result_free(&r);
    log = read_log();
    char *host = prefixed_lines(log, "RULE ");
    free(log);
    ck_assert_msg(strstr(coreclr, "RULE thread-assigned EnumModules"),
                  "no RULE lines from CoreCLR:\n%s", coreclr);
    ck_assert_msg(strcmp(coreclr, host) == 0, "CoreCLR:\n%shost:\n%s", coreclr, host);
    free(coreclr);
    free(host);
}
END_TEST

static Suite *abi_probe_suite(void)
{
    Suite *s = suite_create("abi_probe");
    TCase *tc = tcase_create("coreclr");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, hello_runs_unprofiled);
    tcase_add_test(tc, probe_passes_and_agrees_with_ilgraft);
    tcase_add_test(tc, probe_rewrites_a_method_body);
    tcase_add_test(tc, runtime_needs_callback2_not_callback3);
    tcase_add_test(tc, host_answers_as_coreclr);
    tcase_add_test(tc, no_trigger_callback_rules_as_coreclr);
    tcase_add_test(tc, startup_order_as_coreclr);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(abi_probe_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
