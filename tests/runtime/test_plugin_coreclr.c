/* test_plugin_coreclr.c: libilgraft_profiler.so in a real CoreCLR (the installed
 * dotnet), loaded through CORECLR_ENABLE_PROFILING / CORECLR_PROFILER /
 * CORECLR_PROFILER_PATH exactly as built for the host. The programs' own output is the
 * truth: the C# fixture fixtures/cs/Calc prints one line per rewritten method, whose
 * values under each action follow from C# semantics (worked out in the comments); the
 * ilasm-built calc.exe prints Add(2, 3); identity over every method of a program, the
 * framework's included, must leave the output unchanged; fixtures/cs/Recompile counts
 * its own calls, which an entry probe on every method must match hit for hit however
 * often the runtime compiles each method.
 *
 * Without dotnet: "SKIP: ..." and pass, except under CI=true, where it fails. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "integration/probes_expect.h"
#include "unit/fixture_util.h"

#define PLUGIN_CLSID "{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}"
#define RULES_DIR ILG_SOURCE_DIR "/tests/integration/rules/"

static const char calc_plain[] = "add 2 3 = 5\n"
                                 "sub total = 27\n"
                                 "entries after sub = 0\n"
                                 "sum 4 = 10\n"
                                 "exits after sum = 0\n"
                                 "square 7 = 49\n"
                                 "exits after square = 0\n"
                                 "caught risky\n"
                                 "exits after risky = 0\n"
                                 "answer = 41\n";

/* Under rules/calc_cs.json: Add multiplies (2*3); Sub's three calls enter the probe
 * three times but return the same values (10+9+8); Sum's exit probe runs once, Square's
 * once more; Risky's runs on the normal return and, through the finally, on the throw
 * (2 more: 4); Answer's body is replaced by `ldc.i4.s 42; ret`. */
static const char calc_rewritten[] = "add 2 3 = 6\n"
                                     "sub total = 27\n"
                                     "entries after sub = 3\n"
                                     "sum 4 = 10\n"
                                     "exits after sum = 1\n"
                                     "square 7 = 49\n"
                                     "exits after square = 2\n"
                                     "caught risky\n"
                                     "exits after risky = 4\n"
                                     "answer = 42\n";

static char log_path[64], work_dir[64];
static fx_result res;

static void setup(void)
{
    snprintf(log_path, sizeof log_path, "/tmp/ilg_plugin_rt_%d.log", (int)getpid());
    snprintf(work_dir, sizeof work_dir, "/tmp/ilg_plugin_rt_%d.d", (int)getpid());
    unlink(log_path);
    memset(&res, 0, sizeof res);
    setenv("DOTNET_CLI_TELEMETRY_OPTOUT", "1", 1);
    setenv("DOTNET_NOLOGO", "1", 1);
}

static void teardown(void)
{
    fx_result_free(&res);
    unlink(log_path);
    fx_tmpdir_remove(work_dir);
    unsetenv("CORECLR_ENABLE_PROFILING");
    unsetenv("CORECLR_PROFILER");
    unsetenv("CORECLR_PROFILER_PATH");
    unsetenv("ILGRAFT_RULES");
    unsetenv("ILGRAFT_LOG");
    unsetenv("DOTNET_TC_CallCountingDelayMs");
    unsetenv("DOTNET_TC_OnStackReplacement_InitialCounter");
    unsetenv("DOTNET_OSR_HitLimit");
}

/* False (after printing SKIP and why) when there is no runtime; fails under CI=true. */
static bool have_dotnet(void)
{
    const char *why = NULL;
    if (!ILG_DOTNET[0] || access(ILG_DOTNET, X_OK) != 0)
        why = "dotnet not found";
    else if (access(ILG_CALC_DLL, R_OK) != 0 || access(ILG_HELLO_DLL, R_OK) != 0 ||
             access(ILG_THREADS_DLL, R_OK) != 0 || access(ILG_RECOMPILE_DLL, R_OK) != 0)
        why = "the C# fixtures were not built (fixtures/cs needs dotnet at configure time)";
    return fx_require(!why, "%s (ILG_DOTNET '%s')", why, ILG_DOTNET);
}

/* dotnet PROGRAM, with the plugin and rules when rules is not NULL (and a fresh log:
 * the plugin appends to it). */
static void run(const char *program, const char *rules)
{
    if (rules) {
        unlink(log_path);
        setenv("CORECLR_ENABLE_PROFILING", "1", 1);
        setenv("CORECLR_PROFILER", PLUGIN_CLSID, 1);
        setenv("CORECLR_PROFILER_PATH", ILG_PLUGIN_PATH, 1);
        setenv("ILGRAFT_RULES", rules, 1);
        setenv("ILGRAFT_LOG", log_path, 1);
    } else {
        unsetenv("CORECLR_ENABLE_PROFILING");
    }
    const char *argv[] = { ILG_DOTNET, program, NULL };
    fx_result_free(&res);
    ck_assert(fx_run(argv, &res));
    ck_assert_msg(res.exited && res.status == 0, "dotnet %s exited %d/%d: %s", program,
                  res.exited, res.status, res.err);
    ck_assert_msg(!strstr(res.err, "InvalidProgramException") &&
                      !strstr(res.out, "InvalidProgramException"),
                  "InvalidProgramException: %s", res.err);
}

/* The plugin's summary counts from its log. */
typedef struct summary {
    unsigned long jit, methods, matched, rewritten, failed, skipped, recompiles, restored, threads;
    char *log;
} summary;

static void read_summary(summary *s)
{
    s->log = fx_read_file(log_path, NULL);
    ck_assert_msg(s->log != NULL, "no plugin log at %s", log_path);
    const char *line = strstr(s->log, "ilgraft-plugin: summary ");
    ck_assert_msg(line, "no summary line in the log:\n%s", s->log);
    ck_assert_int_eq(sscanf(line, "ilgraft-plugin: summary jit=%lu methods=%lu matched=%lu "
                                  "rewritten=%lu failed=%lu skipped=%lu recompiles=%lu "
                                  "restored=%lu threads=%lu",
                            &s->jit, &s->methods, &s->matched, &s->rewritten, &s->failed,
                            &s->skipped, &s->recompiles, &s->restored, &s->threads),
                     9);
    /* Every event is a method's first compilation or a recompilation. */
    ck_assert_uint_eq(s->jit, s->methods + s->recompiles);
}

static unsigned count_lines(const char *text, const char *prefix)
{
    unsigned n = 0;
    size_t len = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        n += strncmp(p, prefix, len) == 0;
    return n;
}

START_TEST(calc_runs_unprofiled)
{
    if (!have_dotnet())
        return;
    run(ILG_CALC_DLL, NULL);
    ck_assert_str_eq(res.out, calc_plain);
}
END_TEST

START_TEST(every_action_takes_effect_in_csharp)
{
    if (!have_dotnet())
        return;
    run(ILG_CALC_DLL, RULES_DIR "calc_cs.json");
    ck_assert_str_eq(res.out, calc_rewritten);
    summary s;
    read_summary(&s);
    ck_assert_uint_eq(s.failed, 0);
    ck_assert_uint_eq(s.rewritten, 6);
    /* One log line per rewrite, naming the action and how it was applied. */
    ck_assert_ptr_nonnull(strstr(s.log, "rewrite Graft.Calc::Add (0x"));
    ck_assert_ptr_nonnull(strstr(s.log, "mutate(substituted)"));
    ck_assert_ptr_nonnull(strstr(s.log, "probe-entry(entry)"));
    ck_assert_ptr_nonnull(strstr(s.log, "probe-exit(try/finally (reusing a local"));
    ck_assert_ptr_nonnull(strstr(s.log, "rewrite Graft.Calc::Square (0x06000006) "
                                        "probe-exit(try/finally (a new local of the return type))"));
    ck_assert_ptr_nonnull(strstr(s.log, "replace(body)"));
    ck_assert_uint_eq(count_lines(s.log, "ilgraft-plugin: rewrite "), 6);
    free(s.log);
}
END_TEST

/* Entry and exit probes on every method of the fixture's namespace: the probes
 * themselves are left alone (Enter's exit probe calling Exit, whose entry probe calls
 * Enter, would recurse). Entries: Main, Add,
 * three Subs (5); exits: Add, three Subs, Sum (5), Square (6), two Riskys (8). */
START_TEST(probes_on_every_method_skip_the_probes)
{
    if (!have_dotnet())
        return;
    run(ILG_CALC_DLL, RULES_DIR "calc_cs_all_probes.json");
    ck_assert_str_eq(res.out, "add 2 3 = 5\n"
                              "sub total = 27\n"
                              "entries after sub = 5\n"
                              "sum 4 = 10\n"
                              "exits after sum = 5\n"
                              "square 7 = 49\n"
                              "exits after square = 6\n"
                              "caught risky\n"
                              "exits after risky = 8\n"
                              "answer = 41\n");
    summary s;
    read_summary(&s);
    ck_assert_uint_eq(s.failed, 0);
    ck_assert_ptr_null(strstr(s.log, "rewrite Graft.Probes::"));
    ck_assert_ptr_nonnull(strstr(s.log, "rewrite Graft.Program::Main (0x"));
    free(s.log);
}
END_TEST

/* Copies from into the work directory as name. */
static void put_file(const char *from, const char *name)
{
    char to[160];
    size_t len = 0;
    snprintf(to, sizeof to, "%s/%s", work_dir, name);
    char *data = fx_read_file(from, &len);
    ck_assert_msg(data, "cannot read %s", from);
    FILE *f = fopen(to, "wb");
    ck_assert(f && fwrite(data, 1, len, f) == len && fclose(f) == 0);
    free(data);
}

/* The ilasm-built calc.exe under CoreCLR: it needs a runtimeconfig beside it, which the
 * SDK wrote for the C# fixture. */
START_TEST(mutation_takes_effect_in_ilasm_program)
{
    if (!have_dotnet())
        return;
    char exe[128], src[256];
    ck_assert_int_eq(mkdir(work_dir, 0700), 0);
    snprintf(exe, sizeof exe, "%s/calc.exe", work_dir);
    fx_path(src, sizeof src, "calc.exe");
    put_file(src, "calc.exe");
    put_file(ILG_CALC_RUNTIMECONFIG, "calc.runtimeconfig.json");
    run(exe, NULL);
    ck_assert_str_eq(res.out, "5\n"); /* Add(2, 3) */
    run(exe, RULES_DIR "mutate_add.json");
    ck_assert_str_eq(res.out, "6\n"); /* 2 * 3 */
    summary s;
    read_summary(&s);
    ck_assert_uint_eq(s.rewritten, 1);
    ck_assert_ptr_nonnull(strstr(s.log, "rewrite Calc::Add (0x06000001) mutate"));
    free(s.log);
}
END_TEST

/* Identity on every method, with ReadyToRun code refused and inlining off, so the
 * framework's methods are JIT-compiled from (rewritten) IL too. */
static void identity_everywhere(const char *program)
{
    run(program, NULL);
    char *plain = strdup(res.out);
    ck_assert_ptr_nonnull(plain);
    run(program, RULES_DIR "identity_all_r2r.json");
    ck_assert_str_eq(res.out, plain);
    summary r2r;
    read_summary(&r2r);
    run(program, RULES_DIR "identity_all.json");
    ck_assert_str_eq(res.out, plain);
    summary all;
    read_summary(&all);
    printf("%s: identity rewrote %lu methods (%lu JIT events, %lu of them recompilations; "
           "%lu methods with ReadyToRun code)\n",
           program, all.rewritten, all.jit, all.recompiles, r2r.rewritten);
    ck_assert_uint_eq(all.failed, 0);
    ck_assert_uint_eq(r2r.failed, 0);
    /* Every JIT-compiled method that has IL was rewritten; the framework's are there. */
    ck_assert_uint_eq(all.rewritten, all.matched);
    ck_assert_ptr_nonnull(strstr(all.log, "rewrite System.String::"));
    ck_assert_ptr_null(strstr(r2r.log, "rewrite System.String::"));
    ck_assert_msg(all.rewritten > 10 * r2r.rewritten,
                  "refusing ReadyToRun code JIT-compiled %lu methods, with it %lu", all.rewritten,
                  r2r.rewritten);
    free(plain);
    free(all.log);
    free(r2r.log);
}

START_TEST(identity_on_the_whole_framework_calc)
{
    if (!have_dotnet())
        return;
    identity_everywhere(ILG_CALC_DLL);
}
END_TEST

START_TEST(identity_on_the_whole_framework_hello)
{
    if (!have_dotnet())
        return;
    identity_everywhere(ILG_HELLO_DLL);
}
END_TEST

/* Entry and exit probes (Thread.MemoryBarrier, a static void() of CoreLib) on every
 * method of every module that has the probe, i.e. all of CoreLib, JIT-compiled from IL:
 * the real JIT accepts every wrapped body and the program behaves as before. */
START_TEST(probes_on_every_framework_method)
{
    if (!have_dotnet())
        return;
    run(ILG_HELLO_DLL, NULL);
    char *plain = strdup(res.out);
    ck_assert_ptr_nonnull(plain);
    run(ILG_HELLO_DLL, RULES_DIR "framework_probes.json");
    ck_assert_str_eq(res.out, plain);
    summary s;
    read_summary(&s);
    unsigned system_lines = count_lines(s.log, "ilgraft-plugin: rewrite System.");
    /* Methods returning a value without a local of that type get one: a new local
     * signature in CoreLib's metadata (GetTokenFromSig), which the runtime compiles. */
    unsigned new_locals = 0;
    for (const char *p = s.log; (p = strstr(p, "(a new local of the return type)")); p++)
        new_locals++;
    printf("probes: %lu methods rewritten, %u of them in System.*, %u with a new local; %lu "
           "skipped\n", s.rewritten, system_lines, new_locals, s.skipped);
    ck_assert_uint_eq(s.failed, 0);
    ck_assert_uint_gt(system_lines, 100);
    ck_assert_uint_gt(new_locals, 100);
    ck_assert_ptr_null(strstr(s.log, "before each ret"));
    ck_assert_ptr_nonnull(strstr(s.log, "probe-entry(entry),probe-exit(try/finally)"));
    ck_assert_ptr_nonnull(
        strstr(s.log, "probe-entry(entry),probe-exit(try/finally (reusing a local"));
    free(s.log);
    free(plain);
}
END_TEST

/* fixtures/cs/Threads: six threads start together at a barrier and each JIT-compiles its
 * own part of the framework (ReadyToRun refused, so CoreLib's methods are compiled too)
 * while the others compile theirs. With identity everywhere, then entry and exit probes
 * everywhere, the output is the unprofiled one, nothing fails, every matched method is
 * rewritten, and the plugin kept state for several threads at once. */
START_TEST(threads_compiling_at_once)
{
    if (!have_dotnet())
        return;
    run(ILG_THREADS_DLL, NULL);
    char *plain = strdup(res.out);
    ck_assert_ptr_nonnull(plain);
    ck_assert_ptr_nonnull(strstr(plain, "patterns alpha+beta+gamma+eps 4800"));
    static const char *const rules[] = { RULES_DIR "identity_all.json",
                                         RULES_DIR "framework_probes.json" };
    for (int k = 0; k < 2; k++) {
        run(ILG_THREADS_DLL, rules[k]);
        ck_assert_str_eq(res.out, plain);
        summary s;
        read_summary(&s);
        printf("threads (%s): %lu methods rewritten on %lu threads, %lu skipped\n",
               k ? "probes" : "identity", s.rewritten, s.threads, s.skipped);
        ck_assert_uint_eq(s.failed, 0);
        /* Identity rewrites every method it matches; the probes skip the modules that
         * have no Thread.MemoryBarrier (each rule counts its own skips). */
        if (k == 0)
            ck_assert_uint_eq(s.rewritten, s.matched);
        else
            ck_assert_uint_le(s.rewritten, s.matched);
        ck_assert_uint_gt(s.rewritten, 1000);
        /* The six workers and the main thread compiled; at least three at one time. */
        ck_assert_uint_ge(s.threads, 3);
        free(s.log);
    }
    free(plain);
}
END_TEST

/* fixtures/cs/Recompile prints its results, then "calls=N hits=H": N counts the calls of
 * its own methods, H the hits of its probe. Each is read from the last line. */
static void calls_and_hits(const char *out, unsigned long *calls, unsigned long *hits,
                           size_t *head)
{
    const char *last = strstr(out, "calls=");
    ck_assert_msg(last, "no calls= line in: %s", out);
    ck_assert_int_eq(sscanf(last, "calls=%lu hits=%lu", calls, hits), 2);
    *head = (size_t)(last - out);
}

/* Distinct FunctionIDs among the log's "recompile NAME (" lines. */
static unsigned recompiled_functions(const char *log, const char *name)
{
    char prefix[160];
    unsigned long ids[64];
    unsigned n = 0;
    snprintf(prefix, sizeof prefix, "ilgraft-plugin: recompile %s (", name);
    for (const char *p = strstr(log, prefix); p; p = strstr(p + 1, prefix)) {
        const char *f = strstr(p, " function 0x");
        unsigned long id = 0;
        ck_assert(f && sscanf(f, " function 0x%lx", &id) == 1);
        unsigned i = 0;
        while (i < n && ids[i] != id)
            i++;
        if (i == n && n < 64)
            ids[n++] = id;
    }
    return n;
}

/* CoreCLR compiles fixtures/cs/Recompile's methods more than once: Work.Mix at tier-up
 * (called 200,000 times; no loop, not generic), Work.Loop for on-stack replacement
 * (called once), Work.Pick and Holder<T> per value-type instantiation, Work.Echo's
 * instantiations on four threads at once; the runtime knobs make tier-up start at once
 * and OSR at a loop's first iterations. An entry probe on every method (ReadyToRun code
 * kept, then refused; the probe in a top-level type, then in a nested one) must be
 * hit once per call: each method's body is built once from its original IL and every
 * later compilation gets that body. The summary and the log show the recompilations
 * happened (else this would prove nothing). */
START_TEST(recompiled_methods_hit_their_probe_once_per_call)
{
    if (!have_dotnet())
        return;
    setenv("DOTNET_TC_CallCountingDelayMs", "0", 1);
    setenv("DOTNET_TC_OnStackReplacement_InitialCounter", "1", 1);
    setenv("DOTNET_OSR_HitLimit", "1", 1);
    run(ILG_RECOMPILE_DLL, NULL);
    char *plain = strdup(res.out);
    ck_assert_ptr_nonnull(plain);
    unsigned long calls = 0, hits = 0;
    size_t head = 0;
    calls_and_hits(plain, &calls, &hits, &head);
    ck_assert_uint_eq(hits, 0);
    ck_assert_uint_gt(calls, 200000);
    static const char *const rules[] = { RULES_DIR "recompile_probes_r2r.json",
                                         RULES_DIR "recompile_probes.json",
                                         RULES_DIR "recompile_probes_nested.json" };
    for (int k = 0; k < 3; k++) {
        run(ILG_RECOMPILE_DLL, rules[k]);
        unsigned long c = 0, h = 0;
        size_t hd = 0;
        calls_and_hits(res.out, &c, &h, &hd);
        ck_assert_msg(hd == head && strncmp(res.out, plain, head) == 0,
                      "%s: output differs:\n%s---\n%s", rules[k], res.out, plain);
        summary s;
        read_summary(&s);
        unsigned pick = recompiled_functions(s.log, "Recompile.Work::Pick");
        printf("recompile (%s): calls=%lu hits=%lu; jit=%lu methods=%lu recompiles=%lu "
               "rewritten=%lu; Pick recompiled as %u functions\n",
               rules[k] + strlen(RULES_DIR), c, h, s.jit, s.methods, s.recompiles, s.rewritten,
               pick);
        ck_assert_uint_eq(c, calls);
        ck_assert_uint_eq(h, c);
        ck_assert_uint_eq(s.failed, 0);
        ck_assert_uint_gt(s.recompiles, 0);
        /* Tier-up, OSR and instantiations each happened, and each method was rewritten
         * once. */
        static const char *const kinds[] = { "Recompile.Work::Mix", "Recompile.Work::Loop",
                                             "Recompile.Holder`1::Get" };
        for (int i = 0; i < 3; i++) {
            char line[160];
            snprintf(line, sizeof line, "ilgraft-plugin: recompile %s (", kinds[i]);
            ck_assert_msg(strstr(s.log, line), "%s was not recompiled:\n%s", kinds[i], s.log);
            snprintf(line, sizeof line, "ilgraft-plugin: rewrite %s (", kinds[i]);
            ck_assert_uint_eq(count_lines(s.log, line), 1);
        }
        ck_assert_uint_ge(pick, 2);
        ck_assert_uint_eq(count_lines(s.log, "ilgraft-plugin: rewrite Recompile.Work::Pick ("), 1);
        free(s.log);
    }
    free(plain);
}
END_TEST

/* Calc.dll under rules/probes_xasm_cs.json with the plugin in CoreCLR: each Graft.Calc
 * method enters [ProbeLib]Ns.Probes::Enter(string, int32) with its name and token and
 * leaves through Exit(string, object) with its return value (calc_probed, the lines
 * the host-saved image prints). ProbeLib's own methods match the third rule, but in
 * ProbeLib the plugin finds "[ProbeLib]..." probes as its own MethodDefs (no
 * AssemblyRef to itself), so Enter and Exit are recognised as probes and skipped: with
 * a MemberRef instead, Enter would get a call to itself at its entry and recurse until
 * the stack overflows. The probe assembly copied into the app's directory is found
 * when the app has no deps.json or one that lists it; with the SDK's deps.json (which
 * does not) the first probe call throws FileNotFoundException
 * (docs/coreclr-observed.md). */
START_TEST(cross_assembly_probes_find_their_assembly)
{
    if (!have_dotnet())
        return;
    char exe[128], probelib[256], deps[160];
    ck_assert_int_eq(mkdir(work_dir, 0700), 0);
    snprintf(exe, sizeof exe, "%s/Calc.dll", work_dir);
    snprintf(deps, sizeof deps, "%s/Calc.deps.json", work_dir);
    fx_path(probelib, sizeof probelib, "ProbeLib.dll");
    put_file(ILG_CALC_DLL, "Calc.dll");
    put_file(ILG_CALC_RUNTIMECONFIG, "Calc.runtimeconfig.json");
    put_file(probelib, "ProbeLib.dll");

    /* The SDK's deps.json: ProbeLib is not in the app's list. */
    put_file(ILG_CALC_DEPS, "Calc.deps.json");
    setenv("CORECLR_ENABLE_PROFILING", "1", 1);
    setenv("CORECLR_PROFILER", PLUGIN_CLSID, 1);
    setenv("CORECLR_PROFILER_PATH", ILG_PLUGIN_PATH, 1);
    setenv("ILGRAFT_RULES", RULES_DIR "probes_xasm_cs.json", 1);
    setenv("ILGRAFT_LOG", log_path, 1);
    const char *argv[] = { ILG_DOTNET, exe, NULL };
    fx_result_free(&res);
    ck_assert(fx_run(argv, &res));
    ck_assert_msg((!res.exited || res.status != 0) &&
                      strstr(res.err, "Could not load file or assembly 'ProbeLib, "
                                      "Version=0.0.0.0, Culture=neutral, PublicKeyToken=null'"),
                  "with the SDK's deps.json: %d/%d\n%s%s", res.exited, res.status, res.out,
                  res.err);

    /* A deps.json that lists it (a project library with ProbeLib.dll as its runtime
     * file), then none at all. */
    FILE *f = fopen(deps, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"runtimeTarget\": {\"name\": \".NETCoreApp,Version=v10.0\", \"signature\": \"\"},\n"
          " \"compilationOptions\": {},\n"
          " \"targets\": {\".NETCoreApp,Version=v10.0\": {\n"
          "   \"Calc/1.0.0\": {\"dependencies\": {\"ProbeLib\": \"1.0.0.0\"},"
          " \"runtime\": {\"Calc.dll\": {}}},\n"
          "   \"ProbeLib/1.0.0.0\": {\"runtime\": {\"ProbeLib.dll\": {}}}}},\n"
          " \"libraries\": {\n"
          "   \"Calc/1.0.0\": {\"type\": \"project\", \"serviceable\": false, \"sha512\": \"\"},\n"
          "   \"ProbeLib/1.0.0.0\": {\"type\": \"project\", \"serviceable\": false,"
          " \"sha512\": \"\"}}}\n",
          f);
    ck_assert_int_eq(fclose(f), 0);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            ck_assert_int_eq(unlink(deps), 0);
        run(exe, RULES_DIR "probes_xasm_cs.json");
        ck_assert_str_eq(res.out, calc_probed);
        summary s;
        read_summary(&s);
        ck_assert_uint_eq(s.failed, 0);
        /* Six Calc methods; ProbeLib's Enter and Exit match too, and are skipped. */
        ck_assert_uint_eq(s.rewritten, 6);
        ck_assert_uint_eq(s.matched, 8);
        ck_assert_uint_eq(s.skipped, 2);
        ck_assert_ptr_nonnull(strstr(s.log, "rewrite Graft.Calc::Square (0x06000006) "
                                            "probe-entry(entry),probe-exit(try/finally (a new "
                                            "local of the return type))"));
        ck_assert_ptr_null(strstr(s.log, "rewrite Ns.Probes::"));
        ck_assert_ptr_null(strstr(s.log, "not found"));
        free(s.log);
    }
}
END_TEST

static Suite *plugin_coreclr_suite(void)
{
    Suite *s = suite_create("plugin_coreclr");
    TCase *tc = tcase_create("coreclr");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, calc_runs_unprofiled);
    tcase_add_test(tc, every_action_takes_effect_in_csharp);
    tcase_add_test(tc, probes_on_every_method_skip_the_probes);
    tcase_add_test(tc, mutation_takes_effect_in_ilasm_program);
    tcase_add_test(tc, cross_assembly_probes_find_their_assembly);
    tcase_add_test(tc, identity_on_the_whole_framework_calc);
    tcase_add_test(tc, identity_on_the_whole_framework_hello);
    tcase_add_test(tc, probes_on_every_framework_method);
    tcase_add_test(tc, threads_compiling_at_once);
    tcase_add_test(tc, recompiled_methods_hit_their_probe_once_per_call);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(plugin_coreclr_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
