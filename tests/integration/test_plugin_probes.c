/* test_plugin_probes.c: the plugin's probes in another assembly, with arguments, in the
 * ilgraft host (`ilgraft run --save`). The plugin defines the AssemblyRef, TypeRef and
 * MemberRef of each probe, the user strings of the methods' names and, for exit probes
 * of methods without a local of their return type, a new local signature. The truth
 * is outside ilgraft: the saved images are checked by `ilgraft verify` and monodis, and
 * run under mono and under dotnet with fixtures/ProbeLib.dll beside them, whose probes
 * print each call with its arguments: every probe line must appear where the runtime
 * calls it, with the values the program itself prints, and the program's own lines
 * must be those of the original. wide.exe, whose metadata root spans several pages, is
 * also saved with that root's pages left out, the cut checked against the input's own
 * headers and objdump's reading of the output.
 * The plugin's rejit mode ("mode": "rejit") is checked here too: the same rules in both
 * modes give the same bodies in the host, the plugin inside dotnet hands CoreCLR the
 * bodies it hands the host, and a method run before its ReJIT request runs instrumented
 * after it (fixtures/again.exe).
 *
 * Needs Mono's monodis and mono (and dotnet for the dotnet runs, objdump for wide.exe):
 * without them "SKIP: ..." and pass, except under CI=true, where it fails. */
#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "integration/probes_expect.h"
#include "unit/fixture_util.h"

#define PLUGIN_CLSID "{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}"
#define RULES_DIR ILG_SOURCE_DIR "/tests/integration/rules/"

/* probed.exe under rules/probes_xasm.json: Greet's entry gets its name, Big's its token
 * (0x06000003), Half's both, IsEven's a probe without parameters; every method's exit
 * gets its name and its return value boxed (a struct through ToString, a generic
 * method's !!T per instantiation, Throws' default 0 when it throws, null for the byref
 * of Slot, the ref struct of MakeRef and the void Main). */
static const char probed_plain[] =
    "hello world\n3000000000000\n3\nTrue\n(1, 2)\n7\nboom\n5\ns\n9\n11\n";
static const char probed_probed[] = "enter Probed::Greet\n"
                                    "exit Probed::Greet = hello world\n"
                                    "hello world\n"
                                    "enter token 0x06000003\n"
                                    "exit Probed::Big = 3000000000000\n"
                                    "3000000000000\n"
                                    "enter Probed::Half 0x06000004\n"
                                    "exit Probed::Half = 3\n"
                                    "3\n"
                                    "hit\n"
                                    "exit Probed::IsEven = True\n"
                                    "True\n"
                                    "exit Probed::MakePair = (1, 2)\n"
                                    "(1, 2)\n"
                                    "exit Probed::Throws = 7\n"
                                    "7\n"
                                    "exit Probed::Throws = 0\n"
                                    "boom\n"
                                    "exit Probed::Echo = 5\n"
                                    "5\n"
                                    "exit Probed::Echo = s\n"
                                    "s\n"
                                    "exit Probed::Slot = null\n"
                                    "9\n"
                                    "exit Probed::MakeRef = null\n"
                                    "11\n"
                                    "exit Probed::Main = null\n";

#define FULL_LINE 256

static char log_path[80], save_dir[64];
static fx_result res;

static void setup(void)
{
    snprintf(save_dir, sizeof save_dir, "/tmp/ilg_plugin_pb_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(save_dir));
    snprintf(log_path, sizeof log_path, "%s.log", save_dir);
    unlink(log_path);
    setenv("ILGRAFT_LOG", log_path, 1);
    setenv("DOTNET_CLI_TELEMETRY_OPTOUT", "1", 1);
    setenv("DOTNET_NOLOGO", "1", 1);
    unsetenv("CORECLR_ENABLE_PROFILING");
    unsetenv("DOTNET_TieredCompilation");
    memset(&res, 0, sizeof res);
}

static void teardown(void)
{
    fx_result_free(&res);
    unlink(log_path);
    fx_tmpdir_remove(save_dir);
    unsetenv("ILGRAFT_LOG");
}

static bool have_mono(void)
{
    static const char *const tools[] = { "monodis", "mono", NULL };
    const char *missing = fx_missing_program(tools);
    return fx_require(!missing, "Mono's %s not found", missing);
}

static bool have_dotnet(void)
{
    const char *why = NULL;
    if (!ILG_DOTNET[0] || access(ILG_DOTNET, X_OK) != 0)
        why = "dotnet not found";
    else if (access(ILG_CALC_DLL, R_OK) != 0 || access(ILG_CALC_RUNTIMECONFIG, R_OK) != 0)
        why = "the C# fixtures were not built (fixtures/cs needs dotnet at configure time)";
    return fx_require(!why, "%s (ILG_DOTNET '%s')", why, ILG_DOTNET);
}

/* `ilgraft run` with the plugin and rules over image, saved into save_dir; asserts the
 * run succeeded and the plugin failed nowhere. */
static void run_host_into(const char *dir, const char *opt, const char *rules, const char *image,
                          const char *image2)
{
    const char *argv[14] = { ILG_CLI_PATH, "run", "--rules", rules, "--profiler", ILG_PLUGIN_PATH,
                             "--clsid", PLUGIN_CLSID, "--save", dir };
    size_t n = 10;
    if (opt)
        argv[n++] = opt;
    if (opt && !strcmp(opt, "--jit-threads"))
        argv[n++] = "2";
    argv[n++] = image;
    argv[n] = image2;
    unlink(log_path);
    fx_result_free(&res);
    ck_assert(fx_run(argv, &res));
    ck_assert_msg(res.exited && res.status == 0, "host exited %d/%d: %s", res.exited, res.status,
                  res.err);
    char *log = fx_read_file(log_path, NULL);
    ck_assert_msg(log && strstr(log, " failed=0 "), "plugin log:\n%s", log ? log : "(none)");
    free(log);
}

static void run_host2(const char *rules, const char *image, const char *image2)
{
    run_host_into(save_dir, NULL, rules, image, image2);
}

static void run_host(const char *rules, const char *image)
{
    run_host2(rules, image, NULL);
}

/* What argv prints on stdout, asserting a clean exit and nothing on stderr. */
static char *output_of(const char *const argv[])
{
    fx_result r = { 0 };
    ck_assert(fx_run(argv, &r));
    ck_assert_msg(r.exited && r.status == 0 && !r.err[0], "%s %s exited %d/%d: %s", argv[0],
                  argv[1], r.exited, r.status, r.err);
    char *out = r.out;
    r.out = NULL;
    fx_result_free(&r);
    return out;
}

static void copy_file(const char *from, const char *to)
{
    size_t len = 0;
    char *data = fx_read_file(from, &len);
    ck_assert_msg(data, "cannot read %s", from);
    FILE *f = fopen(to, "wb");
    ck_assert(f && fwrite(data, 1, len, f) == len && fclose(f) == 0);
    free(data);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* ProbeLib.dll into the saved directory, beside the saved program. */
static void probe_lib_beside(void)
{
    char from[256], to[128];
    fx_path(from, sizeof from, "ProbeLib.dll");
    snprintf(to, sizeof to, "%s/ProbeLib.dll", save_dir);
    copy_file(from, to);
}

/* The lines of text that are not the probes' ("enter ", "exit ", "hit"). */
static char *without_probe_lines(const char *text)
{
    char *out = calloc(1, strlen(text) + 1), *o = out;
    ck_assert_ptr_nonnull(out);
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
        if (strncmp(p, "enter ", 6) != 0 && strncmp(p, "exit ", 5) != 0 &&
            strncmp(p, "hit\n", 4) != 0) {
            memcpy(o, p, n);
            o += n;
        }
        p += n;
    }
    return out;
}

/* probed.exe: saved, verified, listed with the new references and run under mono (and
 * dotnet, with a runtimeconfig beside it) printing the probes' lines. */
START_TEST(cross_assembly_probes_run_under_mono_and_dotnet)
{
    if (!have_mono())
        return;
    char image[256], saved[128], cfg[128];
    fx_path(image, sizeof image, "probed.exe");
    run_host(RULES_DIR "probes_xasm.json", image);
    char *log = fx_read_file(log_path, NULL);
    ck_assert_ptr_nonnull(log);
    /* Exit probes always wrap: a new local where there is none to reuse. */
    ck_assert_ptr_nonnull(strstr(log, "rewrite Probed::Big (0x06000003) probe-exit(try/finally "
                                      "(a new local of the return type)),probe-entry(entry)"));
    ck_assert_ptr_nonnull(strstr(log, "rewrite Probed::MakePair (0x06000006) probe-exit("
                                      "try/finally (reusing a local of the return type))"));
    ck_assert_ptr_null(strstr(log, "before each ret"));
    free(log);
    snprintf(saved, sizeof saved, "%s/probed.exe", save_dir);

    const char *verify[] = { ILG_CLI_PATH, "verify", saved, NULL };
    char *out = output_of(verify);
    ck_assert_msg(strstr(out, "verified 11, failures 0"), "%s", out);
    free(out);
    const char *dis[] = { "monodis", saved, NULL };
    out = output_of(dis);
    static const char *const listed[] = {
        "ldstr \"Probed::Greet\"",
        "call void [ProbeLib]Ns.Probes::Enter(string)",
        "ldc.i4 100663299",
        "call void [ProbeLib]Ns.Probes::Enter(int32)",
        "call void [ProbeLib]Ns.Probes::Enter(string, int32)",
        "call void [ProbeLib]Ns.Probes::Hit()",
        "call void [ProbeLib]Ns.Probes::Exit(string, object)",
        "box int64",
        "box Pair",
        "box !!0",
        "finally",
        ".assembly extern ProbeLib",
    };
    for (size_t i = 0; i < sizeof listed / sizeof listed[0]; i++)
        ck_assert_msg(strstr(out, listed[i]), "monodis lists no \"%s\":\n%s", listed[i], out);
    free(out);
    const char *refs[] = { "monodis", "--assemblyref", saved, NULL };
    out = output_of(refs);
    ck_assert_msg(strstr(out, "Version=1.0.0.0\n\tName=ProbeLib\n"), "%s", out);
    free(out);

    const char *plain[] = { "mono", image, NULL };
    out = output_of(plain);
    ck_assert_str_eq(out, probed_plain);
    free(out);
    probe_lib_beside();
    const char *mono[] = { "mono", saved, NULL };
    out = output_of(mono);
    ck_assert_str_eq(out, probed_probed);
    char *own = without_probe_lines(out);
    ck_assert_str_eq(own, probed_plain);
    free(own);
    free(out);

    if (!have_dotnet())
        return;
    snprintf(cfg, sizeof cfg, "%s/probed.runtimeconfig.json", save_dir);
    copy_file(ILG_CALC_RUNTIMECONFIG, cfg);
    const char *dotnet[] = { ILG_DOTNET, saved, NULL };
    out = output_of(dotnet);
    ck_assert_str_eq(out, probed_probed);
    free(out);
}
END_TEST

/* Roslyn's Calc.dll (references System.Runtime, no usable probe of its own) saved by the
 * host with the probes of rules/probes_xasm_cs.json and run under dotnet: it fails to
 * find ProbeLib while the saved directory has the app's deps.json (which does not list
 * it), and runs without one. The rule on Ns.Probes changes nothing here (the host runs
 * Calc.dll only; ProbeLib is not rewritten).
 * It prints calc_probed (probes_expect.h). */
START_TEST(roslyn_program_saved_runs_under_dotnet)
{
    if (!have_dotnet())
        return;
    char saved[128], cfg[128];
    run_host(RULES_DIR "probes_xasm_cs.json", ILG_CALC_DLL);
    snprintf(saved, sizeof saved, "%s/Calc.dll", save_dir);
    snprintf(cfg, sizeof cfg, "%s/Calc.runtimeconfig.json", save_dir);
    copy_file(ILG_CALC_RUNTIMECONFIG, cfg);
    probe_lib_beside();
    const char *verify[] = { ILG_CLI_PATH, "verify", saved, NULL };
    char *out = output_of(verify);
    ck_assert_msg(strstr(out, "failures 0"), "%s", out);
    free(out);
    /* --save copied Calc.deps.json, which does not list ProbeLib: the runtime then looks
     * nowhere else (observed, docs/coreclr-observed.md). Without it, the app's
     * directory is the list. */
    const char *dotnet[] = { ILG_DOTNET, saved, NULL };
    fx_result_free(&res);
    ck_assert(fx_run(dotnet, &res));
    ck_assert_msg((!res.exited || res.status != 0) &&
                      strstr(res.err, "Could not load file or assembly 'ProbeLib, "
                                      "Version=0.0.0.0"),
                  "with the original deps.json: %d/%d\n%s%s", res.exited, res.status, res.out,
                  res.err);
    char deps[128];
    snprintf(deps, sizeof deps, "%s/Calc.deps.json", save_dir);
    ck_assert_int_eq(unlink(deps), 0);
    out = output_of(dotnet);
    ck_assert_str_eq(out, calc_probed);
    free(out);
}
END_TEST

/* The rule's version and public key token reach the AssemblyRef, one per assembly for
 * both rules (the second gives none: the first's applies), and a nested probe type
 * becomes a TypeRef scoped by its enclosing TypeRef. Nothing runs: no such assembly. */
START_TEST(version_key_and_nesting_reach_the_references)
{
    if (!have_mono())
        return;
    char image[256], saved[128];
    fx_path(image, sizeof image, "calc.exe");
    run_host(RULES_DIR "probes_key.json", image);
    snprintf(saved, sizeof saved, "%s/calc.exe", save_dir);
    const char *refs[] = { "monodis", "--assemblyref", saved, NULL };
    char *out = output_of(refs);
    ck_assert_msg(strstr(out, "2: Version=1.2.3.4\n\tName=Signed.Probes\n"), "%s", out);
    ck_assert_msg(strstr(out, "Public Key:\n0x00000000: B7 7A 5C 56 19 34 E0 89"), "%s", out);
    ck_assert_msg(!strstr(out, "3: "), "one AssemblyRef per assembly:\n%s", out);
    free(out);
    const char *dis[] = { "monodis", saved, NULL };
    out = output_of(dis);
    ck_assert_msg(strstr(out, "call void [Signed.Probes]Ns.Outer/Inner::Enter(int32)") &&
                      strstr(out, "call void [Signed.Probes]Ns.Outer/Inner::Enter(string)"),
                  "%s", out);
    free(out);
}
END_TEST

/* A module whose methods only match rules without probes gets no reference to the
 * probe assembly: calc.exe (identity on every method) saved beside probed.exe (whose
 * Greet calls [ProbeLib]Ns.Probes::Hit) keeps its one AssemblyRef. */
START_TEST(modules_without_the_probe_get_no_references)
{
    if (!have_mono())
        return;
    char calc[256], probed[256], saved[128];
    fx_path(calc, sizeof calc, "calc.exe");
    fx_path(probed, sizeof probed, "probed.exe");
    run_host2(RULES_DIR "probes_one_module.json", calc, probed);
    snprintf(saved, sizeof saved, "%s/calc.exe", save_dir);
    const char *refs[] = { "monodis", "--assemblyref", saved, NULL };
    char *out = output_of(refs);
    ck_assert_msg(strstr(out, "Name=mscorlib") && !strstr(out, "ProbeLib"), "%s", out);
    free(out);
    snprintf(saved, sizeof saved, "%s/probed.exe", save_dir);
    out = output_of(refs);
    ck_assert_msg(strstr(out, "Name=ProbeLib"), "%s", out);
    free(out);
}
END_TEST

/* ---- "mode": "rejit" (docs/profiler.md, Rules) ----------------------------------- */

/* `ilgraft run --json` with the plugin and rules over image, saved into save_dir; the
 * report, after asserting the run succeeded and the plugin failed nowhere. The save
 * line's .graft section (RVA and file offset) into *sec_rva, *sec_off (NULL: none
 * expected). */
static json_t *run_host_json(const char *rules, const char *image, uint32_t *sec_rva,
                             uint32_t *sec_off)
{
    const char *argv[] = { ILG_CLI_PATH, "run", "--json", "--rules", rules, "--profiler",
                           ILG_PLUGIN_PATH, "--clsid", PLUGIN_CLSID, "--save", save_dir, image,
                           NULL };
    unlink(log_path);
    fx_result_free(&res);
    ck_assert(fx_run(argv, &res));
    ck_assert_msg(res.exited && res.status == 0, "host exited %d/%d: %s", res.exited, res.status,
                  res.err);
    char *log = fx_read_file(log_path, NULL);
    ck_assert_msg(log && strstr(log, " failed=0 "), "plugin log:\n%s", log ? log : "(none)");
    free(log);
    const char *at = strstr(res.err, "section .graft at RVA 0x");
    unsigned rva = 0, off = 0;
    if (sec_rva) {
        ck_assert_msg(at && sscanf(at, "section .graft at RVA 0x%x (%*s bytes, file offset "
                                       "0x%x)", &rva, &off) == 2,
                      "no save line: %s", res.err);
        *sec_rva = rva;
        *sec_off = off;
    }
    json_error_t err;
    json_t *root = json_loads(res.out, 0, &err);
    ck_assert_msg(root, "report is not JSON: %s: %s", err.text, res.out);
    return root;
}

/* The report's method whose name has `name` in it (borrowed). */
static json_t *report_method(json_t *root, const char *name)
{
    json_t *m, *meth;
    size_t i, k;
    json_array_foreach(json_object_get(root, "modules"), i, m) {
        json_array_foreach(json_object_get(m, "methods"), k, meth) {
            if (strstr(json_string_value(json_object_get(meth, "name")), name))
                return meth;
        }
    }
    ck_abort_msg("no method %s in the report", name);
    return NULL;
}

static json_int_t report_int(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_integer(v), "no integer \"%s\" in the report", key);
    return json_integer_value(v);
}

/* monodis' listing of path without the lines that differ by layout alone (the MVID,
 * each body's RVA). */
static char *listing(const char *path)
{
    const char *dis[] = { "monodis", path, NULL };
    char *out = output_of(dis), *o = out;
    for (const char *p = out; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
        if (!memmem(p, n, "// Method begins at RVA", 23) && !memmem(p, n, "// GUID =", 9)) {
            memmove(o, p, n);
            o += n;
        }
        p += n;
    }
    *o = 0;
    return out;
}

/* The log's "rejit NAME (0xTOKEN) ... fnv=HASH" lines as "NAME HASH\n", sorted. */
static char *rejit_hashes(const char *log)
{
    char *lines[64], *out = calloc(1, 64 * FULL_LINE), *o = out;
    size_t n = 0;
    ck_assert_ptr_nonnull(out);
    for (const char *p = strstr(log, "ilgraft-plugin: rejit "); p && n < 64;
         p = strstr(p + 1, "ilgraft-plugin: rejit ")) {
        char name[200];
        const char *h = strstr(p, " fnv="), *nl = strchr(p, '\n');
        ck_assert_msg(h && (!nl || h < nl) && sscanf(p, "ilgraft-plugin: rejit %199s", name) == 1,
                      "a rejit line without its hash: %.200s", p);
        ck_assert_ptr_nonnull(lines[n] = malloc(FULL_LINE));
        snprintf(lines[n++], FULL_LINE, "%s %.16s\n", name, h + 5);
    }
    qsort(lines, n, sizeof *lines, cmp_str);
    for (size_t i = 0; i < n; i++) {
        o = stpcpy(o, lines[i]);
        free(lines[i]);
    }
    return out;
}

/* The same rules in jit mode and in rejit mode (probes_xasm.json and
 * probes_xasm_rejit.json, which differ by "mode" alone) over probed.exe give the same
 * bodies: byte for byte in the saved images (each at its report RVA), and in monodis'
 * listing. In rejit mode the host reports each method rejitted with its ReJIT id, none
 * JIT-compiled as the original (CoreCLR compiles a method requested before its first
 * call as the ReJIT version only), and the saved image runs under mono and dotnet. */
START_TEST(rejit_mode_gives_the_jit_mode_bodies)
{
    if (!have_mono())
        return;
    char image[256], saved[128], jit_saved[128];
    uint32_t jrva, joff, rrva, roff;
    fx_path(image, sizeof image, "probed.exe");
    json_t *jit = run_host_json(RULES_DIR "probes_xasm.json", image, &jrva, &joff);
    snprintf(saved, sizeof saved, "%s/probed.exe", save_dir);
    snprintf(jit_saved, sizeof jit_saved, "%s/jit.exe", save_dir);
    ck_assert_int_eq(rename(saved, jit_saved), 0);
    json_t *rj = run_host_json(RULES_DIR "probes_xasm_rejit.json", image, &rrva, &roff);
    char *log = fx_read_file(log_path, NULL);
    ck_assert_msg(strstr(log, " failed=0 skipped=0 recompiles=0 restored=0 threads=1 "
                              "requested=10 rejit=10 rejit_errors=0\n"), "%s", log);
    free(log);
    size_t jlen = 0, rlen = 0;
    uint8_t *jbytes = (uint8_t *)fx_read_file(jit_saved, &jlen);
    uint8_t *rbytes = (uint8_t *)fx_read_file(saved, &rlen);
    ck_assert(jbytes && rbytes);
    static const char *const methods[] = { "Probed::Greet(", "Probed::Big(", "Probed::Half(",
                                           "Probed::IsEven(", "Probed::MakePair(",
                                           "Probed::Throws(", "Probed::Echo",
                                           "Probed::Slot(", "Probed::MakeRef(", "Probed::Main(" };
    json_int_t last_id = 1;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        json_t *jm = report_method(jit, methods[i]), *rm = report_method(rj, methods[i]);
        json_t *r = json_object_get(rm, "rejit");
        ck_assert_str_eq(json_string_value(json_object_get(jm, "status")), "rewritten");
        ck_assert_msg(r, "%s: no rejit in the report", methods[i]);
        ck_assert_str_eq(json_string_value(json_object_get(r, "status")), "rejitted");
        ck_assert_int_eq(report_int(rm, "jit_events"), 0);
        /* One request per module in MethodDef order: ids from 2 on, in that order. */
        ck_assert_int_gt(report_int(r, "rejit_id"), last_id);
        last_id = report_int(r, "rejit_id");
        json_int_t size = report_int(jm, "new_size");
        ck_assert_int_eq(report_int(r, "size"), size);
        uint64_t jo = (uint64_t)report_int(jm, "new_rva") - jrva + joff;
        uint64_t ro = (uint64_t)report_int(r, "rva") - rrva + roff;
        ck_assert(jo + (uint64_t)size <= jlen && ro + (uint64_t)size <= rlen);
        ck_assert_msg(memcmp(jbytes + jo, rbytes + ro, (size_t)size) == 0,
                      "%s: the rejit body differs from the jit one", methods[i]);
    }
    free(jbytes);
    free(rbytes);
    json_decref(jit);
    json_decref(rj);
    char *a = listing(jit_saved), *b = listing(saved);
    ck_assert_str_eq(b, a);
    free(a);
    free(b);
    probe_lib_beside();
    const char *mono[] = { "mono", saved, NULL };
    char *out = output_of(mono);
    ck_assert_str_eq(out, probed_probed);
    free(out);
    if (!have_dotnet())
        return;
    char cfg[128];
    snprintf(cfg, sizeof cfg, "%s/probed.runtimeconfig.json", save_dir);
    copy_file(ILG_CALC_RUNTIMECONFIG, cfg);
    const char *dotnet[] = { ILG_DOTNET, saved, NULL };
    out = output_of(dotnet);
    ck_assert_str_eq(out, probed_probed);
    free(out);
}
END_TEST

/* image (a fixture) and ProbeLib.dll copied into save_dir/run, with Calc's
 * runtimeconfig, and run there under dotnet with the plugin and rules loaded through
 * CORECLR_*; its stdout, the plugin's log in *log. */
static char *dotnet_with_plugin(const char *rules, const char *image, char **log)
{
    char dir[96], from[256], to[160];
    snprintf(dir, sizeof dir, "%s/run", save_dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    fx_path(from, sizeof from, image);
    snprintf(to, sizeof to, "%s/%s", dir, image);
    copy_file(from, to);
    fx_path(from, sizeof from, "ProbeLib.dll");
    snprintf(to, sizeof to, "%s/ProbeLib.dll", dir);
    copy_file(from, to);
    snprintf(to, sizeof to, "%s/%.*s.runtimeconfig.json", dir, (int)(strlen(image) - 4), image);
    copy_file(ILG_CALC_RUNTIMECONFIG, to);
    snprintf(to, sizeof to, "%s/%s", dir, image);
    unlink(log_path);
    setenv("CORECLR_ENABLE_PROFILING", "1", 1);
    setenv("CORECLR_PROFILER", PLUGIN_CLSID, 1);
    setenv("CORECLR_PROFILER_PATH", ILG_PLUGIN_PATH, 1);
    setenv("ILGRAFT_RULES", rules, 1);
    const char *dotnet[] = { ILG_DOTNET, to, NULL };
    fx_result r = { 0 };
    bool ran = fx_run(dotnet, &r);
    unsetenv("CORECLR_ENABLE_PROFILING");
    unsetenv("CORECLR_PROFILER");
    unsetenv("CORECLR_PROFILER_PATH");
    unsetenv("ILGRAFT_RULES");
    ck_assert(ran);
    *log = fx_read_file(log_path, NULL);
    ck_assert_msg(*log, "no plugin log");
    ck_assert_msg(r.exited && r.status == 0 && !r.err[0], "dotnet exited %d/%d: %s\n%s",
                  r.exited, r.status, r.err, *log);
    char *out = r.out;
    r.out = NULL;
    fx_result_free(&r);
    return out;
}

/* The plugin in rejit mode inside dotnet: probes_xasm_rejit.json's requests at
 * probed.exe's load, each method's first compilation the ReJIT version; the program
 * prints what the host's saved image prints, and every body the plugin handed to
 * CoreCLR's function control has the hash (FNV-1a of the bytes) of the one it handed to
 * the host's. */
START_TEST(rejit_mode_in_coreclr_gives_the_host_bodies)
{
    if (!have_dotnet())
        return;
    char image[256];
    uint32_t rva, off;
    fx_path(image, sizeof image, "probed.exe");
    json_decref(run_host_json(RULES_DIR "probes_xasm_rejit.json", image, &rva, &off));
    char *host_log = fx_read_file(log_path, NULL), *log = NULL;
    char *host = rejit_hashes(host_log);
    char *out = dotnet_with_plugin(RULES_DIR "probes_xasm_rejit.json", "probed.exe", &log);
    ck_assert_str_eq(out, probed_probed);
    char *clr = rejit_hashes(log);
    ck_assert_uint_eq(count_lines(host), 10);
    ck_assert_str_eq(clr, host);
    /* Echo<T> is compiled for two instantiations: CoreCLR compiles its ReJIT version
     * twice (one GetReJITParameters, two ReJITCompilationFinished). */
    ck_assert_msg(strstr(log, " failed=0 ") && strstr(log, " requested=10 rejit=11 "
                                                           "rejit_errors=0\n"), "%s", log);
    free(out);
    free(clr);
    free(host);
    free(log);
    free(host_log);
}
END_TEST

/* again.exe calls Add, Arm, Add; rules/rejit_at.json requests ReJIT of Add (probe-entry
 * and add -> mul) at Arm's first JIT compilation. Under dotnet with the plugin the first
 * call runs the original (5, no probe line), the second the ReJIT version ("enter
 * Again::Add", 6). In the host Add is JIT-compiled (MethodDef order: before Arm), then
 * rejitted after Arm's JIT pair; the saved image holds that body (both calls probed) and
 * the body's hash is the one CoreCLR got. */
START_TEST(a_method_run_before_the_request_runs_rejitted_after_it)
{
    if (!have_mono())
        return;
    char image[256], saved[128];
    uint32_t rva, off;
    fx_path(image, sizeof image, "again.exe");
    json_t *rj = run_host_json(RULES_DIR "rejit_at.json", image, &rva, &off);
    json_t *add = report_method(rj, "Again::Add(");
    json_t *r = json_object_get(add, "rejit");
    ck_assert_int_eq(report_int(add, "jit_events"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(add, "status")), "unchanged");
    ck_assert_msg(r, "Add: no rejit in the report");
    ck_assert_str_eq(json_string_value(json_object_get(r, "status")), "rejitted");
    ck_assert_int_eq(report_int(r, "rejit_id"), 2);
    ck_assert_ptr_null(json_object_get(report_method(rj, "Again::Arm("), "rejit"));
    json_decref(rj);
    char *host_log = fx_read_file(log_path, NULL);
    const char *arm = strstr(host_log, "rejit_at Again::Arm (0x06000002): requesting the "
                                       "matching methods of 1 modules");
    const char *done = strstr(host_log, "rejit-compiled Again::Add (0x06000001) function 0x");
    ck_assert_msg(arm && done && arm < done, "%s", host_log);
    ck_assert_msg(strstr(host_log, " requested=1 rejit=1 rejit_errors=0\n"), "%s", host_log);
    char *host = rejit_hashes(host_log);
    ck_assert_uint_eq(count_lines(host), 1);

    const char *plain[] = { "mono", image, NULL };
    char *out = output_of(plain);
    ck_assert_str_eq(out, "5\narm\n5\n");
    free(out);
    probe_lib_beside();
    snprintf(saved, sizeof saved, "%s/again.exe", save_dir);
    const char *mono[] = { "mono", saved, NULL };
    out = output_of(mono);
    ck_assert_str_eq(out, "enter Again::Add\n6\narm\nenter Again::Add\n6\n");
    free(out);

    if (!have_dotnet())
        goto done;
    /* With tiered compilation (the default: Add's first code is tier 0) and without. */
    for (int tiered = 1; tiered >= 0; tiered--) {
        char *log = NULL, run[96];
        if (!tiered)
            setenv("DOTNET_TieredCompilation", "0", 1);
        snprintf(run, sizeof run, "%s/run", save_dir);
        fx_tmpdir_remove(run);
        out = dotnet_with_plugin(RULES_DIR "rejit_at.json", "again.exe", &log);
        unsetenv("DOTNET_TieredCompilation");
        ck_assert_str_eq(out, "5\narm\nenter Again::Add\n6\n");
        char *clr = rejit_hashes(log);
        ck_assert_str_eq(clr, host);
        ck_assert_msg(strstr(log, " failed=0 ") && strstr(log, " requested=1 rejit=1 "
                                                               "rejit_errors=0\n"), "%s", log);
        free(clr);
        free(log);
        free(out);
    }
done:
    free(host);
    free(host_log);
}
END_TEST

/* A method none of whose rules applies (its probe is missing) is not requested: the
 * build at the request finds nothing to hand over; its rule is counted skipped, as in
 * jit mode, and the method is compiled as the original. */
START_TEST(rejit_mode_requests_only_methods_with_a_body)
{
    char image[256];
    fx_path(image, sizeof image, "calc.exe");
    json_t *rj = run_host_json(RULES_DIR "missing_probe_rejit.json", image, NULL, NULL);
    json_t *add = report_method(rj, "Calc::Add(");
    ck_assert_ptr_null(json_object_get(add, "rejit"));
    ck_assert_int_eq(report_int(add, "jit_events"), 1);
    json_decref(rj);
    char *log = fx_read_file(log_path, NULL);
    ck_assert_msg(strstr(log, " matched=1 rewritten=0 failed=0 skipped=1 ") &&
                      strstr(log, " requested=0 rejit=0 rejit_errors=0\n") &&
                      !strstr(log, "rejit-request"),
                  "%s", log);
    free(log);
}
END_TEST

/* wide.exe (fixtures/il/gen_wide_il.c: 1,001 methods, a metadata root of several
 * pages) under rules/probes_wide.json: every method's entry gets its name and token,
 * its exit its name and return value; Main calls every 37th type's M_1 (tokens: row
 * 5 * I + 2), threading a sum through them. */
static const char wide_plain[] = "sum = 5556 ok\n";
static const char wide_probed[] = "enter Wide.Main::Main 0x060003e9\n"
                                  "enter Wide.Type0::M0_1 0x06000002\n"
                                  "exit Wide.Type0::M0_1 = 1\n"
                                  "enter Wide.Type37::M37_1 0x060000bb\n"
                                  "exit Wide.Type37::M37_1 = 372\n"
                                  "enter Wide.Type74::M74_1 0x06000174\n"
                                  "exit Wide.Type74::M74_1 = 1113\n"
                                  "enter Wide.Type111::M111_1 0x0600022d\n"
                                  "exit Wide.Type111::M111_1 = 2224\n"
                                  "enter Wide.Type148::M148_1 0x060002e6\n"
                                  "exit Wide.Type148::M148_1 = 3705\n"
                                  "enter Wide.Type185::M185_1 0x0600039f\n"
                                  "exit Wide.Type185::M185_1 = 5556\n"
                                  "sum = 5556 ok\n"
                                  "exit Wide.Main::Main = null\n";

static uint32_t le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }

/* What the test reads from an ilasm image (PE32) itself: the file's size, the
 * alignments and the CLI header's MetaData directory (RVA, size). */
typedef struct {
    size_t size;
    uint32_t sa, fa, md_rva, md_size;
} pe_facts;

static pe_facts pe_facts_of(const char *path)
{
    pe_facts f = { 0 };
    uint8_t *d = (uint8_t *)fx_read_file(path, &f.size);
    ck_assert_msg(d && f.size >= 0x40, "cannot read %s", path);
    const uint32_t pe = le32(d + 0x3C), opt = pe + 24;
    ck_assert(opt + 96 + 16 * 8 <= f.size && (d[opt] | d[opt + 1] << 8) == 0x10B);
    const uint32_t nsec = d[pe + 6] | d[pe + 7] << 8, optsz = d[pe + 20] | d[pe + 21] << 8;
    const uint32_t cli = le32(d + opt + 96 + 14 * 8); /* data directory 14 */
    f.sa = le32(d + opt + 32);
    f.fa = le32(d + opt + 36);
    uint64_t at = 0;
    for (uint32_t i = 0; i < nsec; i++) {
        const uint64_t sh = opt + optsz + 40ull * i;
        ck_assert(sh + 40 <= f.size);
        const uint32_t va = le32(d + sh + 12), raw = le32(d + sh + 16), ptr = le32(d + sh + 20);
        if (cli >= va && cli - va + 16 <= raw)
            at = ptr + (uint64_t)(cli - va);
    }
    ck_assert_msg(at && at + 16 <= f.size, "%s: no CLI header in a section", path);
    f.md_rva = le32(d + at + 8);
    f.md_size = le32(d + at + 12);
    free(d);
    return f;
}

/* A section as `objdump -h` lists it (for PE: VMA with the image base; Size is the
 * smaller of VirtualSize and SizeOfRawData) and the image base `objdump -p` gives. */
typedef struct {
    char name[16];
    unsigned long size, vma, off;
} od_section;

static size_t objdump_sections(const char *path, od_section *sec, size_t cap,
                               unsigned long *base)
{
    const char *head[] = { "objdump", "-p", path, NULL };
    char *out = output_of(head);
    const char *b = strstr(out, "\nImageBase");
    ck_assert_msg(b && sscanf(b, "\nImageBase %lx", base) == 1, "%s", out);
    free(out);
    const char *argv[] = { "objdump", "-h", path, NULL };
    out = output_of(argv);
    size_t n = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned idx;
        od_section x;
        if (sscanf(line, " %u %15s %lx %lx %*x %lx", &idx, x.name, &x.size, &x.vma, &x.off) == 5) {
            ck_assert(n < cap && idx == n);
            sec[n++] = x;
        }
    }
    free(out);
    ck_assert_msg(n > 0, "objdump -h %s lists no section", path);
    return n;
}

/* The figures of `ilgraft run --save`'s line for path: the new section's VirtualSize,
 * the old root's pages left out (0 when none) and the file's size. */
typedef struct {
    unsigned vsize, cut, cut_rva;
    size_t size;
} saved_line;

static saved_line saved_line_of(const char *err, const char *path)
{
    char head[600];
    saved_line l = { 0 };
    snprintf(head, sizeof head, "ilgraft: saved %.500s: ", path);
    const char *at = strstr(err, head), *eol = at ? strchr(at, '\n') : NULL;
    ck_assert_msg(at && eol, "no saved line for %s: %s", path, err);
    const char *sec = strstr(at, "bytes, file offset"), *cut = strstr(at, "left out: ");
    while (sec > at && sec[-1] != '(')
        sec--;
    ck_assert_msg(sec > at && sscanf(sec, "0x%x", &l.vsize) == 1, "%.*s", (int)(eol - at), at);
    if (cut && cut < eol)
        ck_assert(sscanf(cut, "left out: %u bytes at RVA 0x%x", &l.cut, &l.cut_rva) == 2);
    const char *last = eol;
    while (last > at && last[-1] != ',')
        last--;
    ck_assert_msg(sscanf(last, " %zu bytes", &l.size) == 1, "%.*s", (int)(eol - at), at);
    return l;
}

static size_t count_of(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

/* The saved wide.exe in dir: verified, whole in monodis with both probes in each of
 * the 1,001 bodies, printing wide_probed under mono and dotnet with ProbeLib.dll
 * beside it (a runtimeconfig too). */
static void wide_saved_runs(const char *dir)
{
    char saved[128], lib[256], to[128];
    snprintf(saved, sizeof saved, "%s/wide.exe", dir);
    const char *verify[] = { ILG_CLI_PATH, "verify", saved, NULL };
    char *out = output_of(verify);
    ck_assert_msg(strstr(out, "verified 1001, failures 0"), "%s", out);
    free(out);
    const char *dis[] = { "monodis", saved, NULL };
    out = output_of(dis);
    ck_assert_uint_eq(count_of(out, ".maxstack"), 1001);
    ck_assert_uint_eq(count_of(out, "call void [ProbeLib]Ns.Probes::Enter(string, int32)"), 1001);
    ck_assert_uint_eq(count_of(out, "call void [ProbeLib]Ns.Probes::Exit(string, object)"), 1001);
    free(out);
    fx_path(lib, sizeof lib, "ProbeLib.dll");
    snprintf(to, sizeof to, "%s/ProbeLib.dll", dir);
    copy_file(lib, to);
    const char *mono[] = { "mono", saved, NULL };
    out = output_of(mono);
    ck_assert_str_eq(out, wide_probed);
    char *own = without_probe_lines(out);
    ck_assert_str_eq(own, wide_plain);
    free(own);
    free(out);
    if (!have_dotnet())
        return;
    snprintf(to, sizeof to, "%s/wide.runtimeconfig.json", dir);
    copy_file(ILG_CALC_RUNTIMECONFIG, to);
    const char *dotnet[] = { ILG_DOTNET, saved, NULL };
    out = output_of(dotnet);
    ck_assert_str_eq(out, wide_probed);
    free(out);
}

/* A copy of wide.exe in save_dir/in declaring SectionAlignment 0x1000 (ilasm wrote
 * 0x2000; every section starts on a 0x1000 page either way); image becomes its path. */
static void wide_with_page_size(char *image, size_t size)
{
    size_t n = 0;
    uint8_t *d = (uint8_t *)fx_read_file(image, &n);
    ck_assert(d && n > 0x40 && le32(d + 0x3C) + 24 + 36 <= n);
    const uint32_t sa_at = le32(d + 0x3C) + 24 + 32;
    ck_assert_uint_eq(le32(d + sa_at), 0x2000);
    d[sa_at + 1] = 0x10;
    char dir[96];
    snprintf(dir, sizeof dir, "%.64s/in", save_dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(image, size, "%s/wide.exe", dir);
    FILE *f = fopen(image, "wb");
    ck_assert(f && fwrite(d, 1, n, f) == n && fclose(f) == 0);
    free(d);
}

/* `ilgraft run --save` of wide.exe with entry and exit probes everywhere: its metadata
 * grows (a user string per method, the references), the new root goes into the new
 * section and the old root's whole pages leave the file (docs/save.md, "The old
 * root"). The expected cut comes from the input's own MetaData directory and
 * SectionAlignment, the file's layout from objdump; --keep-old-root gives a file larger
 * by exactly the cut; a second run gives the same bytes, two JIT threads the same
 * program. Twice: as ilasm wrote it (SectionAlignment 0x2000) and declaring 0x1000. */
START_TEST(wide_image_saved_with_its_old_root_cut)
{
    if (!have_mono())
        return;
    if (!fx_require(fx_have_program("objdump"), "objdump not found"))
        return;
    char image[256], dir[4][80], saved[4][96];
    static const char *const sub[4] = { "cut", "again", "kept", "threads" };
    static const char *const opt[4] = { NULL, NULL, "--keep-old-root", "--jit-threads" };
    fx_path(image, sizeof image, "wide.exe");
    if (_i == 1)
        wide_with_page_size(image, sizeof image);
    const char *plain_argv[] = { "mono", image, NULL };
    char *out = output_of(plain_argv);
    ck_assert_str_eq(out, wide_plain);
    free(out);

    /* The pages the old root covers whole, from the input's headers. */
    const pe_facts in = pe_facts_of(image);
    const uint32_t cut_lo = align_up(in.md_rva, in.sa),
                   cut_hi = (in.md_rva + in.md_size) / in.sa * in.sa;
    ck_assert_msg(cut_hi >= cut_lo + 2 * in.sa, "wide.exe's root (0x%x bytes at 0x%x) spans "
                  "fewer than 2 whole pages of 0x%x", in.md_size, in.md_rva, in.sa);
    saved_line line[4];
    for (int i = 0; i < 4; i++) {
        snprintf(dir[i], sizeof dir[i], "%.64s/%.8s", save_dir, sub[i]);
        ck_assert_int_eq(mkdir(dir[i], 0755), 0);
        snprintf(saved[i], sizeof saved[i], "%.80s/wide.exe", dir[i]);
        run_host_into(dir[i], opt[i], RULES_DIR "probes_wide.json", image, NULL);
        line[i] = saved_line_of(res.err, saved[i]);
        size_t size = 0;
        free(fx_read_file(saved[i], &size));
        ck_assert_uint_eq(line[i].size, size);
        /* input + the new section (in.size is FileAlignment-aligned) - the cut */
        ck_assert_uint_eq(size, align_up((uint32_t)in.size, in.fa) + align_up(line[i].vsize, in.fa)
                                    - line[i].cut);
    }
    ck_assert_uint_eq(line[0].cut, cut_hi - cut_lo);
    ck_assert_uint_eq(line[0].cut_rva, cut_lo);
    ck_assert_uint_eq(line[3].cut, cut_hi - cut_lo);
    ck_assert_uint_eq(line[2].cut, 0);
    ck_assert_uint_eq(line[2].size, line[0].size + line[0].cut);

    /* The layout, read by objdump: the root's section split around the cut pages (the
     * first part's raw data ending where they start, the second starting where they
     * end, its raw data right after the first's), then .graft ending the file. */
    od_section a[8], b[8], k[8];
    unsigned long base_in, base_out, base_kept;
    const size_t na = objdump_sections(image, a, 8, &base_in),
                 nb = objdump_sections(saved[0], b, 8, &base_out),
                 nk = objdump_sections(saved[2], k, 8, &base_kept);
    ck_assert_uint_eq(nb, na + 2);
    ck_assert_uint_eq(nk, na + 1);
    size_t split = nb;
    for (size_t i = 0; i + 1 < nb; i++)
        if (!strcmp(b[i].name, b[i + 1].name))
            split = i;
    ck_assert_msg(split < nb, "objdump -h %s: no section split in two", saved[0]);
    ck_assert_uint_eq(b[split].vma + b[split].size, base_out + cut_lo);
    ck_assert_uint_eq(b[split + 1].vma, base_out + cut_hi);
    ck_assert_uint_eq(b[split + 1].off, b[split].off + b[split].size);
    ck_assert_str_eq(b[nb - 1].name, ".graft");
    ck_assert_str_eq(k[nk - 1].name, ".graft");
    ck_assert_uint_eq(b[nb - 1].off + align_up((uint32_t)b[nb - 1].size, in.fa), line[0].size);
    ck_assert_uint_eq(k[nk - 1].off + align_up((uint32_t)k[nk - 1].size, in.fa), line[2].size);
    ck_assert_uint_eq(k[nk - 1].off - b[nb - 1].off, line[0].cut);

    /* Two runs, the same bytes. (Two JIT threads define the user strings and lay out
     * the arena in the order the threads run, so only the program is the same.) */
    size_t n0 = 0, n1 = 0;
    char *f0 = fx_read_file(saved[0], &n0), *f1 = fx_read_file(saved[1], &n1);
    ck_assert(f0 && f1 && n0 == n1 && memcmp(f0, f1, n0) == 0);
    free(f0);
    free(f1);
    wide_saved_runs(dir[0]);
    wide_saved_runs(dir[2]);
    wide_saved_runs(dir[3]);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("plugin_probes");
    TCase *tc = tcase_create("host");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, cross_assembly_probes_run_under_mono_and_dotnet);
    tcase_add_test(tc, roslyn_program_saved_runs_under_dotnet);
    tcase_add_test(tc, version_key_and_nesting_reach_the_references);
    tcase_add_test(tc, modules_without_the_probe_get_no_references);
    tcase_add_test(tc, rejit_mode_gives_the_jit_mode_bodies);
    tcase_add_test(tc, rejit_mode_in_coreclr_gives_the_host_bodies);
    tcase_add_test(tc, a_method_run_before_the_request_runs_rejitted_after_it);
    tcase_add_test(tc, rejit_mode_requests_only_methods_with_a_body);
    tcase_add_loop_test(tc, wide_image_saved_with_its_old_root_cut, 0, 2);
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
