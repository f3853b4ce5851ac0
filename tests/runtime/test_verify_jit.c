/* test_verify_jit.c: the verifier's `jit` level against CoreCLR's JIT itself. Broken
 * bodies are made from real methods (tests/runtime/mutate.c: a wrong local or argument
 * index, swapped instructions, a token of another kind, a value of another type, a
 * dropped conversion, a call with made-up arguments, ... and, over the generated
 * fixture slots.dll, every operator on every kind of operand); each is installed in a
 * real CoreCLR by tests/runtime/verify_prof.c (SetILFunctionBody at
 * JITCompilationStarted) and compiled by fixtures/cs/VerifyDriver
 * (RuntimeHelpers.PrepareMethod), many per process; the runtime's verdict
 * (compiled, InvalidProgramException, BadImageFormatException, another exception, the
 * process killed) must be ilgraft's on every mutant, or the mutant must be of a kind
 * listed as a documented exception (verdict.c, docs/coreclr-observed.md).
 *
 * A few hundred mutants here; tests/bench/bench_verify_jit runs thousands. Without
 * dotnet: "SKIP: ..." and pass, except under CI=true, where it fails. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mutate.h"
#include "unit/fixture_util.h"
#include "verdict.h"

#define FRAMEWORK "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/"

static char work_dir[64];

static void setup(void)
{
    snprintf(work_dir, sizeof work_dir, "/tmp/ilg_verify_jit_%d", (int)getpid());
    ck_assert(mkdir(work_dir, 0700) == 0);
    setenv("DOTNET_CLI_TELEMETRY_OPTOUT", "1", 1);
    setenv("DOTNET_NOLOGO", "1", 1);
}

static void teardown(void)
{
    fx_tmpdir_remove(work_dir);
}

/* False (after printing SKIP and why) when there is no runtime; fails under CI=true. */
static bool have_dotnet(void)
{
    const char *why = NULL;
    if (!ILG_DOTNET[0] || access(ILG_DOTNET, X_OK) != 0)
        why = "dotnet not found";
    else if (access(ILG_DRIVER_DLL, R_OK) != 0 || access(ILG_CALC_DLL, R_OK) != 0)
        why = "the C# fixtures were not built (fixtures/cs needs dotnet at configure time)";
    else if (access(FRAMEWORK "System.Private.Uri.dll", R_OK) != 0)
        why = "the .NET 10.0.12 shared framework is not installed";
    return fx_require(!why, "%s (ILG_DOTNET '%s')", why, ILG_DOTNET);
}

/* About n mutants of path from seed: the runtime ran them all, the originals all
 * compiled, and every disagreement is a documented exception. */
static void differential(const char *path, unsigned long n, unsigned long seed, unsigned long min_compared,
                         vx_tally *total)
{
    mx_runner r = { ILG_DOTNET, ILG_DRIVER_DLL, ILG_VERIFY_PROF, work_dir, 120000, 0 };
    vx_tally t = { 0 };
    ck_assert_msg(vx_assembly(&r, path, n, seed, 2000, NULL, &t), "%s: the runtime could not be run", path);
    vx_print_tally(stdout, path, &t);
    fflush(stdout);
    ck_assert_msg(t.baseline_failed == 0, "%s: %lu original bodies did not compile", path, t.baseline_failed);
    ck_assert_msg(t.mutants >= min_compared, "%s: only %lu mutants compared", path, t.mutants);
    ck_assert_msg(t.disagree == 0, "%s: %lu mutants where ilgraft's verdict is not the JIT's and no documented "
                  "exception applies (listed above)", path, t.disagree);
    vx_add(total, &t);
}

static vx_tally all;

START_TEST(realistic_mutants_of_fixture_and_framework_methods)
{
    if (!have_dotnet())
        return;
    differential(ILG_CALC_DLL, 60, 1, 45, &all);
    differential(FRAMEWORK "System.Private.Uri.dll", 300, 1, 225, &all);
    differential(FRAMEWORK "System.Text.RegularExpressions.dll", 300, 2, 225, &all);
    /* the runtime rejects most of them, and in more than one way */
    ck_assert_uint_gt(all.matrix[MX_INVALID_PROGRAM][MX_INVALID_PROGRAM], 50);
    ck_assert_uint_gt(all.matrix[MX_BAD_IMAGE][MX_BAD_IMAGE], 5);
    ck_assert_uint_gt(all.matrix[MX_OK][MX_OK], 50);
}
END_TEST

START_TEST(operator_matrix_over_every_operand_kind)
{
    char slots[4096];
    if (!have_dotnet())
        return;
    fx_path(slots, sizeof slots, "slots.dll");
    ck_assert_msg(access(slots, R_OK) == 0, "%s was not built", slots);
    vx_tally t = { 0 };
    differential(slots, 600, 1, 560, &t);
    ck_assert_uint_gt(t.matrix[MX_CRASH][MX_CRASH], 0); /* the process deaths are predicted too */
}
END_TEST

/* ECMA-335 II.25.4.5 calls a small EH section's bytes 2-3 "Reserved: padding, always 0";
 * CoreCLR's reader never looks at them. Every method of the fixture and of a framework
 * assembly with a small EH section is installed with those bytes set to 0xA5 0x5A: the
 * runtime compiles each, and ilgraft (the loader's measure and ilbody's decode, one walk:
 * common/cil_body.h) reads it, the preserve-mode encoder repeating the bytes exactly. */
START_TEST(small_eh_section_reserved_bytes_as_the_runtime_reads_them)
{
    if (!have_dotnet())
        return;
    const char *paths[] = { ILG_CALC_DLL, FRAMEWORK "System.Private.Uri.dll" };
    unsigned long tried = 0;
    for (size_t a = 0; a < sizeof paths / sizeof paths[0]; a++) {
        mx_module m;
        ck_assert_msg(mx_open(paths[a], 2000, &m), "%s does not open", paths[a]);
        mx_mutant mus[40];
        size_t n = 0;
        for (size_t i = 0; i < m.count && n < 40; i++) {
            ilg_method_body mb;
            if (ilg_md_method_body(m.md, m.methods[i].token & 0xFFFFFF, &mb) != ILG_OK ||
                mb.kind != ILG_BODY_FAT || !mb.eh_clauses)
                continue;
            uint32_t sec = (mb.header_size + mb.code_size + 3u) & ~3u;
            if (mb.header[sec] & 0x40) /* a fat section has no reserved bytes */
                continue;
            mx_mutant *mu = &mus[n];
            ck_assert(mx_original(&m, &m.methods[i], mu));
            mu->bytes[sec + 2] = 0xA5;
            mu->bytes[sec + 3] = 0x5A;
            snprintf(mu->what, sizeof mu->what, "small EH section reserved bytes a5 5a");
            /* ilgraft reads it as the runtime does, and writes it back unchanged */
            ilg_body *b;
            ilg_buffer out = { 0 };
            ck_assert_int_eq(ilg_body_new(&b), ILG_OK);
            ck_assert_msg(ilg_body_decode(b, mu->bytes, mu->size) == ILG_OK, "0x%08x: %s", mu->token,
                          ilg_last_diag()->message);
            ck_assert_int_eq(ilg_body_encode(b, ILG_ENCODE_PRESERVE, NULL, &out), ILG_OK);
            ck_assert_uint_eq(out.len, mu->size);
            ck_assert(memcmp(out.data, mu->bytes, mu->size) == 0);
            free(out.data);
            ilg_body_free(b);
            n++;
        }
        mx_verdict v[40];
        ck_assert(n > 0);
        ck_assert_msg(mx_run(&(mx_runner){ ILG_DOTNET, ILG_DRIVER_DLL, ILG_VERIFY_PROF, work_dir, 120000, 0 },
                             paths[a], mus, n, v), "%s: the runtime could not be run", paths[a]);
        for (size_t i = 0; i < n; i++) {
            ck_assert_msg(v[i].installed, "0x%08x was not installed", mus[i].token);
            ck_assert_msg(v[i].outcome == MX_OK, "0x%08x: the runtime says %s (%s)", mus[i].token,
                          mx_outcome_name(v[i].outcome), v[i].detail);
            mx_mutant_free(&mus[i]);
        }
        tried += n;
        mx_close(&m);
    }
    printf("small EH sections with non-zero reserved bytes: %lu methods, all compiled\n", tried);
}
END_TEST

static Suite *verify_jit_suite(void)
{
    Suite *s = suite_create("verify_jit");
    TCase *tc = tcase_create("differential");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, realistic_mutants_of_fixture_and_framework_methods);
    tcase_add_test(tc, operator_matrix_over_every_operand_kind);
    tcase_add_test(tc, small_eh_section_reserved_bytes_as_the_runtime_reads_them);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(verify_jit_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
