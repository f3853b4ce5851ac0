/* test_md_conformance.c: the host's IMetaDataImport2 and IMetaDataAssemblyImport against
 * a real CoreCLR's. md_probe.so walks Hello.dll, System.Runtime.dll, System.Console.dll
 * and System.Private.CoreLib.dll (every type, member, parameter, generic parameter,
 * property, event, custom attribute, reference and manifest row, in batches, with
 * truncation and not-found cases) once under `dotnet`
 * running Hello and once under `ilgraft run` over the very files the runtime loaded (the
 * probe logs their paths); each module's lines must be identical, one by one. The runtime
 * is the truth: the host's own answers are never the expectation.
 *
 * Without dotnet: "SKIP: dotnet not found" and pass, except under CI=true. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit/fixture_util.h"

#define PROBE_CLSID "{1F6E4A2B-3C5D-4E7F-8091-A2B3C4D5E6F7}"
#define MODULES "Hello.dll,System.Runtime.dll,System.Console.dll,System.Private.CoreLib.dll"

static const char *const modules[] = { "Hello.dll", "System.Runtime.dll", "System.Console.dll",
                                       "System.Private.CoreLib.dll" };
#define NMOD (sizeof modules / sizeof modules[0])

static char clr_log[64], host_log[64];

static void setup(void)
{
    snprintf(clr_log, sizeof clr_log, "/tmp/ilg-md-clr-XXXXXX");
    snprintf(host_log, sizeof host_log, "/tmp/ilg-md-host-XXXXXX");
    int a = mkstemp(clr_log), b = mkstemp(host_log);
    ck_assert_msg(a >= 0 && b >= 0, "mkstemp");
    close(a);
    close(b);
}

static void teardown(void)
{
    unlink(clr_log);
    unlink(host_log);
    unsetenv("CORECLR_ENABLE_PROFILING");
    unsetenv("CORECLR_PROFILER");
    unsetenv("CORECLR_PROFILER_PATH");
    unsetenv("PROF_LOG");
    unsetenv("MD_PROBE_MODULES");
}

static bool have_dotnet(void)
{
    return fx_require(ILG_DOTNET[0] && access(ILG_DOTNET, X_OK) == 0 && access(ILG_HELLO_DLL, R_OK) == 0,
                      "dotnet not found (ILG_DOTNET '%s', fixture %s)", ILG_DOTNET, ILG_HELLO_DLL);
}

/* The next line at or after *pos that starts with prefix (NULL at the end), its length
 * in *len; *pos moves past it. The logs are large (CoreLib gives over a million
 * lines), so they are walked in place. */
static const char *next_line(const char **pos, const char *prefix, size_t *len)
{
    size_t plen = strlen(prefix);
    for (const char *line = *pos; *line;) {
        size_t l = strcspn(line, "\n");
        const char *next = line + l + (line[l] != 0);
        if (strncmp(line, prefix, plen) == 0) {
            *len = l;
            *pos = next;
            return line;
        }
        line = next;
    }
    *pos += strlen(*pos);
    return NULL;
}

/* Where the runtime's log says it loaded module (its PATH line). */
static const char *loaded_at(const char *log, const char *module)
{
    char prefix[256];
    snprintf(prefix, sizeof prefix, "PATH %s ", module);
    const char *p = strstr(log, prefix);
    ck_assert_msg(p, "the runtime never loaded %s (no PATH line)", module);
    return p;
}

/* The path the runtime loaded module from ("PATH <module> <path>" in the CoreCLR log). */
static void loaded_path(const char *log, const char *module, char *out, size_t size)
{
    char prefix[256];
    snprintf(prefix, sizeof prefix, "PATH %s ", module);
    const char *p = strstr(log, prefix);
    ck_assert_msg(p, "the runtime never loaded %s (no PATH line)", module);
    p += strlen(prefix);
    size_t l = strcspn(p, "\n");
    ck_assert_uint_lt(l, size);
    memcpy(out, p, l);
    out[l] = 0;
}

START_TEST(metadata_answers_match_coreclr)
{
    if (!have_dotnet())
        return;
    fx_result r;
    setenv("MD_PROBE_MODULES", MODULES, 1);
    setenv("DOTNET_CLI_TELEMETRY_OPTOUT", "1", 1);
    setenv("CORECLR_ENABLE_PROFILING", "1", 1);
    setenv("CORECLR_PROFILER", PROBE_CLSID, 1);
    setenv("CORECLR_PROFILER_PATH", ILG_MD_PROBE_PATH, 1);
    setenv("PROF_LOG", clr_log, 1);
    const char *dn[] = { ILG_DOTNET, ILG_HELLO_DLL, NULL };
    ck_assert(fx_run(dn, &r));
    ck_assert_msg(r.exited && r.status == 0, "dotnet Hello under md_probe: status %d\n%s",
                  r.status, r.err);
    fx_result_free(&r);
    unsetenv("CORECLR_ENABLE_PROFILING");
    char *clr = fx_read_file(clr_log, NULL);
    ck_assert_ptr_nonnull(clr);

    char paths[NMOD][4096];
    const char *argv[8 + NMOD];
    size_t n = 0;
    argv[n++] = ILG_CLI_PATH, argv[n++] = "run", argv[n++] = "--summary";
    argv[n++] = "--profiler", argv[n++] = ILG_MD_PROBE_PATH, argv[n++] = "--clsid",
    argv[n++] = PROBE_CLSID;
    /* In the runtime's load order: ResolveTypeRef finds what was loaded before. */
    size_t order[NMOD];
    for (size_t i = 0; i < NMOD; i++)
        order[i] = i;
    for (size_t i = 1; i < NMOD; i++)
        for (size_t j = i; j > 0 && loaded_at(clr, modules[order[j]]) <
                                       loaded_at(clr, modules[order[j - 1]]); j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (size_t i = 0; i < NMOD; i++) {
        loaded_path(clr, modules[order[i]], paths[i], sizeof paths[i]);
        argv[n++] = paths[i];
    }
    argv[n] = NULL;
    setenv("PROF_LOG", host_log, 1);
    ck_assert(fx_run(argv, &r));
    ck_assert_msg(r.exited && r.status == 0, "ilgraft run under md_probe: status %d\n%s",
                  r.status, r.err);
    fx_result_free(&r);
    char *host = fx_read_file(host_log, NULL);
    ck_assert_ptr_nonnull(host);

    for (size_t i = 0; i < NMOD; i++) {
        char prefix[256];
        snprintf(prefix, sizeof prefix, "MD %s ", modules[i]);
        const char *pc = clr, *ph = host, *a, *b;
        size_t la, lb, nc = 0, nh = 0;
        bool ended = false;
        for (;;) {
            a = next_line(&pc, prefix, &la);
            b = next_line(&ph, prefix, &lb);
            nc += a != NULL;
            nh += b != NULL;
            if (!a || !b)
                break;
            ck_assert_msg(la == lb && memcmp(a, b, la) == 0,
                          "%s line %zu differs:\n  CoreCLR: %.*s\n  host:    %.*s", modules[i],
                          nc, (int)la, a, (int)lb, b);
            ended = la >= 4 && memcmp(a + la - 4, " END", 4) == 0;
        }
        while (next_line(&pc, prefix, &la))
            nc++;
        while (next_line(&ph, prefix, &lb))
            nh++;
        /* Hello alone has ~380 answers; a walk that stopped early is a failure too. */
        ck_assert_msg(nc > 300 && ended, "%s: %zu lines from CoreCLR, walk %s", modules[i], nc,
                      ended ? "ended" : "did not end");
        ck_assert_msg(nc == nh, "%s: CoreCLR answered %zu calls, the host %zu", modules[i], nc, nh);
        printf("%s: %zu answers identical\n", modules[i], nc);
    }
    free(clr);
    free(host);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("md_conformance");
    TCase *tc = tcase_create("coreclr");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, metadata_answers_match_coreclr);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
