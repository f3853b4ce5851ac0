/* test_cli.c: the ilgraft command line: exit statuses, the error line format, the JSON
 * of every command checked against the library, the image, monodis, objdump and the
 * malformed catalogue's manifest; the precompiled code `methods` lists for a ReadyToRun
 * image against crossgen2's perfmap; `run` with the bundled plugin and the checks it
 * makes before loading a profiler. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ilgraft/metadata.h"
#include "unit/fixture_util.h"

#define DEMO_RULES ILG_SOURCE_DIR "/fixtures/rules/demo.json"

static char calc[4096];
static char tmp[64];      /* a scratch directory per test */
static char plugin_log[128];

static void setup(void)
{
    fx_path(calc, sizeof calc, "calc.exe");
    snprintf(tmp, sizeof tmp, "/tmp/ilg-cli-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    snprintf(plugin_log, sizeof plugin_log, "%s/plugin.log", tmp);
    /* the run cases name their profiler (or none) themselves */
    unsetenv("CORECLR_PROFILER_PATH");
    unsetenv("CORECLR_PROFILER");
    unsetenv("ILGRAFT_RULES");
    setenv("ILGRAFT_LOG", plugin_log, 1);
}

static void teardown(void)
{
    fx_tmpdir_remove(tmp);
    unsetenv("ILGRAFT_LOG");
}

static json_t *run_json(const char *cmd, const char *path, fx_result *r)
{
    const char *argv[] = { ILG_CLI_PATH, cmd, "--json", path, NULL };
    ck_assert(fx_run(argv, r));
    ck_assert_msg(r->exited && r->status == 0, "ilgraft %s: status %d, stderr %s", cmd, r->status,
                  r->err);
    json_error_t err;
    json_t *j = json_loads(r->out, 0, &err);
    ck_assert_msg(j != NULL, "ilgraft %s --json is not JSON: %s", cmd, err.text);
    return j;
}

START_TEST(version_and_usage_statuses)
{
    fx_result r;
    const char *version[] = { ILG_CLI_PATH, "--version", NULL };
    ck_assert(fx_run(version, &r) && r.exited && r.status == 0);
    ck_assert_msg(strncmp(r.out, "ilgraft ", 8) == 0 && strstr(r.out, ilg_version()), "%s", r.out);
    fx_result_free(&r);

    const char *const cases[][5] = {
        { ILG_CLI_PATH, NULL },
        { ILG_CLI_PATH, "frobnicate", NULL },
        { ILG_CLI_PATH, "methods", NULL },
        { ILG_CLI_PATH, "methods", "--bogus", calc, NULL },
        { ILG_CLI_PATH, "map", calc, calc, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert(fx_run(cases[i], &r));
        ck_assert_msg(r.exited && r.status == 2, "case %zu: status %d", i, r.status);
        ck_assert(r.err_len > 0);
        fx_result_free(&r);
    }
    const char *const helps[][4] = {
        { ILG_CLI_PATH, "--help", NULL }, { ILG_CLI_PATH, "info", "--help", NULL },
        { ILG_CLI_PATH, "methods", "--help", NULL }, { ILG_CLI_PATH, "map", "--help", NULL },
    };
    for (size_t i = 0; i < 4; i++) {
        ck_assert(fx_run(helps[i], &r) && r.exited && r.status == 0);
        ck_assert(strstr(r.out, "usage: ilgraft") != NULL);
        fx_result_free(&r);
    }
}
END_TEST

START_TEST(bad_input_is_status_1_with_file_and_message)
{
    char bad[] = "/tmp/ilg-notpe-XXXXXX";
    int fd = mkstemp(bad);
    ck_assert(fd >= 0 && write(fd, "MZ but nothing else", 19) == 19);
    close(fd);
    const char *argv[] = { ILG_CLI_PATH, "methods", bad, NULL };
    fx_result r;
    ck_assert(fx_run(argv, &r) && r.exited);
    ck_assert_int_eq(r.status, 1);
    char prefix[256];
    snprintf(prefix, sizeof prefix, "ilgraft: %s: ", bad);
    ck_assert_msg(strncmp(r.err, prefix, strlen(prefix)) == 0, "%s", r.err);
    ck_assert_msg(strstr(r.err, "E_PE_TRUNCATED_DOS") && strstr(r.err, "19 bytes"), "%s", r.err);
    fx_result_free(&r);
    unlink(bad);

    const char *missing[] = { ILG_CLI_PATH, "info", "/nonexistent.dll", NULL };
    ck_assert(fx_run(missing, &r) && r.exited && r.status == 1);
    ck_assert(strncmp(r.err, "ilgraft: /nonexistent.dll: ", 27) == 0);
    fx_result_free(&r);
}
END_TEST

START_TEST(methods_json_matches_the_library)
{
    fx_result r;
    json_t *j = run_json("methods", calc, &r);
    json_t *list = json_object_get(j, "methods");
    ilg_image *img;
    const ilg_metadata *md;
    ck_assert_int_eq(ilg_image_open(calc, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    ck_assert_uint_eq(json_array_size(list), ilg_md_row_count(md, ILG_TBL_MethodDef));
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *m = json_array_get(list, i);
        ilg_method_body b;
        char name[512];
        ck_assert_int_eq(ilg_md_method_body(md, (uint32_t)i + 1, &b), ILG_OK);
        ck_assert_int_eq(ilg_md_method_name(md, (uint32_t)i + 1, name, sizeof name, NULL), ILG_OK);
        ck_assert_int_eq(json_integer_value(json_object_get(m, "token")), 0x06000001 + (int)i);
        ck_assert_str_eq(json_string_value(json_object_get(m, "name")), name);
        ck_assert_int_eq(json_integer_value(json_object_get(m, "rva")), b.rva);
        ck_assert_str_eq(json_string_value(json_object_get(m, "header")), "tiny");
        ck_assert_int_eq(json_integer_value(json_object_get(m, "code_size")), b.code_size);
        ck_assert_int_eq(json_integer_value(json_object_get(m, "max_stack")), b.max_stack);
        ck_assert_int_eq(json_integer_value(json_object_get(m, "eh_clauses")), b.eh_clauses);
        ck_assert_int_eq(json_integer_value(json_object_get(m, "body_size")), b.body_size);
        ck_assert_ptr_null(json_object_get(m, "native_rva")); /* IL only */
    }
    ck_assert_ptr_null(json_object_get(j, "ready_to_run_summary"));
    ck_assert_ptr_null(json_object_get(j, "instances"));
    ilg_image_close(img);
    json_decref(j);
    fx_result_free(&r);
}
END_TEST

/* The perfmap line at rva, marked used; fails when there is none or it was used. */
static fx_perf_line *perf_at(fx_perf_line *lines, int n, json_int_t rva)
{
    for (int i = 0; i < n; i++)
        if (lines[i].rva == rva) {
            ck_assert_msg(!lines[i].used, "RVA 0x%llx listed twice", (long long)rva);
            lines[i].used = true;
            return &lines[i];
        }
    ck_abort_msg("RVA 0x%llx is no method crossgen2 compiled", (long long)rva);
    return NULL;
}

/* `methods` on the ReadyToRun fixture: each precompiled method, MethodDef rows and
 * instantiations, at the RVA and of the size crossgen2's perfmap gives, every perfmap
 * line listed once; the text rows show the same. */
START_TEST(methods_on_readytorun_match_the_perfmap)
{
    char dll[4096];
    if (!fx_r2r_fixture(dll, sizeof dll))
        return;
    fx_perf_line lines[256];
    int n = fx_read_perfmap(lines, 256);
    ck_assert_int_gt(n, 0);
    fx_result r;
    json_t *j = run_json("methods", dll, &r);
    json_t *methods = json_object_get(j, "methods"), *instances = json_object_get(j, "instances");
    json_t *summary = json_object_get(j, "ready_to_run_summary");
    ck_assert_ptr_nonnull(summary);
    ck_assert_str_eq(json_string_value(json_object_get(summary, "os")), "Linux");
    /* the machine without its OS tag: what the fixture was published for (-r linux-x64 or
     * linux-arm64, fixtures/cs/CMakeLists.txt) */
#if defined(__x86_64__)
    ck_assert_int_eq(json_integer_value(json_object_get(summary, "arch")), 0x8664);
#elif defined(__aarch64__)
    ck_assert_int_eq(json_integer_value(json_object_get(summary, "arch")), 0xAA64);
#endif
    int listed = 0, without = 0;
    for (size_t i = 0; i < json_array_size(methods); i++) {
        json_t *m = json_array_get(methods, i), *rva = json_object_get(m, "native_rva");
        ck_assert_str_eq(json_string_value(json_object_get(m, "status")), "ok");
        ck_assert_ptr_nonnull(rva); /* null or a number, never missing */
        if (json_is_null(rva)) {
            without++;
            continue;
        }
        fx_perf_line *l = perf_at(lines, n, json_integer_value(rva));
        ck_assert_int_eq(json_integer_value(json_object_get(m, "native_size")), l->size);
        ck_assert(json_is_boolean(json_object_get(m, "native_fixups")));
        ck_assert(json_integer_value(json_object_get(m, "native_funclets")) >= 0);
        listed++;
    }
    for (size_t i = 0; i < json_array_size(instances); i++) {
        json_t *m = json_array_get(instances, i);
        ck_assert_str_eq(json_string_value(json_object_get(m, "status")), "ok");
        ck_assert(json_string_length(json_object_get(m, "signature_kind")) > 0);
        fx_perf_line *l = perf_at(lines, n, json_integer_value(json_object_get(m, "native_rva")));
        ck_assert_int_eq(json_integer_value(json_object_get(m, "native_size")), l->size);
        listed++;
    }
    ck_assert_int_eq(listed, n);
    ck_assert_int_eq(json_integer_value(json_object_get(summary, "methoddef_entries")),
                     (json_int_t)json_array_size(methods) - without);
    ck_assert_int_eq(json_integer_value(json_object_get(summary, "instance_entries")),
                     (json_int_t)json_array_size(instances));
    json_decref(j);
    fx_result_free(&r);

    /* Text: every perfmap line's RVA and size on a row. */
    const char *argv[] = { ILG_CLI_PATH, "methods", dll, NULL };
    ck_assert(fx_run(argv, &r) && r.exited && r.status == 0);
    for (int i = 0; i < n; i++) {
        char cell[40];
        snprintf(cell, sizeof cell, "0x%08x %6u ", lines[i].rva, lines[i].size);
        ck_assert_msg(strstr(r.out, cell) != NULL, "no row shows '%s':\n%s", cell, r.out);
    }
    fx_result_free(&r);
}
END_TEST

START_TEST(map_json_puts_the_arena_on_the_page_after_the_image)
{
    fx_result r;
    json_t *j = run_json("map", calc, &r);
    long page = sysconf(_SC_PAGESIZE);
    json_int_t size = json_integer_value(json_object_get(j, "image_size"));
    json_int_t arena = json_integer_value(json_object_get(j, "arena_offset"));
    ck_assert_int_eq(size, 0x6000); /* SizeOfImage of calc.exe, as objdump -p reports it */
    ck_assert_int_eq(arena, (size + page - 1) / page * page);
    ck_assert_int_gt(json_integer_value(json_object_get(j, "arena_size")), 0);
    ck_assert_int_ne(json_integer_value(json_object_get(j, "base")), 0);
    json_t *regions = json_object_get(j, "regions");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(regions, 0), "name")), "headers");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(regions, 1), "name")), ".text");
    json_decref(j);
    fx_result_free(&r);
}
END_TEST

START_TEST(info_json_and_text)
{
    fx_result r;
    json_t *j = run_json("info", calc, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "format")), "PE32");
    json_t *cli = json_object_get(j, "cli");
    ck_assert_ptr_nonnull(cli);
    ck_assert_str_eq(json_string_value(json_object_get(cli, "version")), "v4.0.30319");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(cli, "tables"), "MethodDef")), 5);
    json_decref(j);
    fx_result_free(&r);

    const char *text[] = { ILG_CLI_PATH, "info", "/usr/lib/x86_64-linux-gnu/libz.so.1", NULL };
    ck_assert(fx_run(text, &r) && r.exited && r.status == 0);
    ck_assert(strstr(r.out, "ELF64") && strstr(r.out, "LOAD#0"));
    fx_result_free(&r);
}
END_TEST

static bool have(const char *prog);

/* The acceptance check: as many methods as monodis's method table lists. */
START_TEST(methods_json_on_mscorlib_counts_what_monodis_counts)
{
    if (!have("monodis"))
        return;
    const char *path = "/usr/lib/mono/4.5/mscorlib.dll";
    const char *peer[] = { "monodis", "--method", path, NULL };
    fx_result r, p;
    unsigned n = 0;
    ck_assert(fx_run(peer, &p) && p.exited && p.status == 0);
    ck_assert_int_eq(sscanf(p.out, "Method Table (1..%u)", &n), 1);
    json_t *j = run_json("methods", path, &r);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "methods")), n);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), n);
    json_decref(j);
    fx_result_free(&r);
    fx_result_free(&p);
}
END_TEST


/* ---- helpers for the cases below ------------------------------------------------------ */

/* ilgraft ARGS... (NULL-terminated) into r; it must have exited, not died. */
static void run_cli(fx_result *r, ...)
{
    const char *argv[32];
    int n = 0;
    va_list ap;
    argv[n++] = ILG_CLI_PATH;
    va_start(ap, r);
    for (const char *a; n < 31 && (a = va_arg(ap, const char *)) != NULL;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    ck_assert(fx_run(argv, r));
    ck_assert_msg(r->exited, "ilgraft %s died of signal %d", argv[1], r->status);
}

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    ck_assert_msg(j != NULL, "not JSON (%s): %s", err.text, text);
    return j;
}

/* One line of the malformed catalogue's manifest (fixtures/README.md). */
typedef struct mf_entry {
    char file[128], status[64], stage[16], desc[512];
} mf_entry;

static size_t read_manifest(mf_entry *out, size_t max)
{
    char path[4096], line[1024];
    fx_path(path, sizeof path, "malformed/manifest.txt");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "no manifest at %s", path);
    size_t n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        int used = 0;
        if (sscanf(line, "%127s %63s %15s %n", out[n].file, out[n].status, out[n].stage, &used) != 3)
            continue;
        snprintf(out[n].desc, sizeof out[n].desc, "%s", line + used);
        out[n].desc[strcspn(out[n].desc, "\n")] = 0;
        n++;
    }
    fclose(f);
    ck_assert_uint_gt(n, 0);
    return n;
}

/* SizeOfImage as objdump -p reads it from the PE headers. */
static unsigned long objdump_size_of_image(const char *path)
{
    const char *argv[] = { "objdump", "-p", path, NULL };
    fx_result r;
    unsigned long v = 0;
    ck_assert(fx_run(argv, &r) && r.exited && r.status == 0);
    const char *at = strstr(r.out, "SizeOfImage");
    ck_assert_ptr_nonnull(at);
    ck_assert_int_eq(sscanf(at, "SizeOfImage %lx", &v), 1);
    fx_result_free(&r);
    return v;
}

/* The methods' simple names in MethodDef order, as `monodis --method` lists them
 * ("3: instance default void '.ctor' ()" gives ".ctor"). Returns how many. */
static size_t monodis_names(const char *path, char names[][64], size_t max)
{
    const char *argv[] = { "monodis", "--method", path, NULL };
    fx_result r;
    size_t n = 0;
    ck_assert(fx_run(argv, &r) && r.exited && r.status == 0);
    char *save = NULL;
    for (char *line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned rid;
        int used = 0;
        if (sscanf(line, "%u: %n", &rid, &used) != 1 || !used || rid != n + 1 || n == max)
            continue;
        char *paren = strstr(line, " (");
        ck_assert_ptr_nonnull(paren);
        char *start = paren;
        while (start > line && start[-1] != ' ')
            start--;
        size_t len = (size_t)(paren - start);
        if (len >= 2 && *start == '\'') {
            start++;
            len -= 2;
        }
        snprintf(names[n], sizeof names[n], "%.*s", (int)len, start);
        n++;
    }
    fx_result_free(&r);
    return n;
}

/* Does "int32 Calc::Add(int32, int32)" name the method "Add"? */
static bool full_name_is(const char *full, const char *simple)
{
    char want[80];
    snprintf(want, sizeof want, "::%s(", simple);
    return strstr(full, want) != NULL;
}

/* The method of Type::Name in a report's or listing's "methods" array. */
static json_t *method_named(json_t *methods, const char *simple)
{
    size_t i;
    json_t *m;
    json_array_foreach(methods, i, m) {
        if (full_name_is(json_string_value(json_object_get(m, "name")), simple))
            return m;
    }
    ck_abort_msg("no method %s", simple);
    return NULL;
}

static bool have(const char *prog)
{
    return fx_require(fx_have_program(prog), "%s not found (scripts/setup.sh installs it)", prog);
}

/* ---- run with the bundled plugin ------------------------------------------------------ */

/* `run --rules FILE` with no profiler named loads ilgraft's own plugin from the build
 * tree; the demo's rules mutate Add and put a probe at the entry of the other methods.
 * Truth: SizeOfImage from objdump (every new body lies at or above it), the call
 * encoding (5 bytes more per probed body) and mono running the saved image. */
START_TEST(run_with_rules_uses_the_bundled_plugin)
{
    if (!have("objdump"))
        return;
    char out[128];
    snprintf(out, sizeof out, "%s/out", tmp);
    ck_assert_int_eq(mkdir(out, 0755), 0);
    fx_result r;
    run_cli(&r, "run", "--rules", DEMO_RULES, "--json", "--save", out, calc, NULL);
    ck_assert_msg(r.status == 0, "run: %s", r.err);
    ck_assert_msg(access(plugin_log, R_OK) == 0, "the plugin never logged: %s", r.err);
    json_t *j = parse(r.out);
    json_t *mod = json_array_get(json_object_get(j, "modules"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(mod, "path")), calc);
    json_t *methods = json_object_get(mod, "methods");
    const unsigned long span = objdump_size_of_image(calc);
    static const char *const probed[] = { "Add", "Mul", ".ctor", "Main" };
    for (size_t i = 0; i < 4; i++) {
        json_t *m = method_named(methods, probed[i]);
        ck_assert_str_eq(json_string_value(json_object_get(m, "status")), "rewritten");
        ck_assert_int_ge(json_integer_value(json_object_get(m, "new_rva")), (json_int_t)span);
        ck_assert_int_lt(json_integer_value(json_object_get(m, "new_rva")), 0x80000000LL);
        ck_assert_int_eq(json_integer_value(json_object_get(m, "new_size")),
                         json_integer_value(json_object_get(m, "old_size")) + 5);
    }
    /* the probe itself is never probed */
    ck_assert_str_eq(json_string_value(json_object_get(method_named(methods, "Probe"), "status")),
                     "unchanged");
    json_decref(j);
    fx_result_free(&r);
    if (!have("mono"))
        return;
    char saved[160];
    snprintf(saved, sizeof saved, "%s/calc.exe", out);
    const char *orig_argv[] = { "mono", calc, NULL }, *saved_argv[] = { "mono", saved, NULL };
    ck_assert(fx_run(orig_argv, &r) && r.exited && r.status == 0);
    ck_assert_str_eq(r.out, "5\n");
    fx_result_free(&r);
    ck_assert(fx_run(saved_argv, &r) && r.exited && r.status == 0);
    ck_assert_str_eq(r.out, "probe\nprobe\n6\n"); /* Main's probe, Add's, then 2 * 3 */
    fx_result_free(&r);
}
END_TEST

/* A copy of ilgraft with no plugin beside it says where it looked; naming the plugin
 * with --profiler still works. */
START_TEST(run_without_a_plugin_beside_ilgraft)
{
    char bin[128], copy[160], cmd[512];
    snprintf(bin, sizeof bin, "%s/bin", tmp);
    snprintf(copy, sizeof copy, "%s/ilgraft", bin);
    ck_assert_int_eq(mkdir(bin, 0755), 0);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", ILG_CLI_PATH, copy);
    ck_assert_int_eq(system(cmd), 0);
    const char *alone[] = { copy, "run", "--rules", DEMO_RULES, calc, NULL };
    fx_result r;
    ck_assert(fx_run(alone, &r) && r.exited);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.err, "ilgraft's plugin is not beside ilgraft") &&
                      strstr(r.err, "libilgraft_profiler.so") && strstr(r.err, "(E_NOT_FOUND)"),
                  "%s", r.err);
    ck_assert_int_ne(access(plugin_log, F_OK), 0);
    fx_result_free(&r);
    const char *named[] = { copy,   "run",          "--rules",  DEMO_RULES, "--profiler",
                            ILG_PLUGIN_PATH, "--clsid", "{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}",
                            calc,   NULL };
    ck_assert(fx_run(named, &r) && r.exited);
    ck_assert_msg(r.status == 0, "%s", r.err);
    const char *add = strstr(r.out, " int32 Calc::Add(int32, int32)\n");
    ck_assert_msg(add, "%s", r.out);
    const char *line = add;
    while (line > r.out && line[-1] != '\n')
        line--;
    ck_assert_msg(memmem(line, (size_t)(add - line), " rewritten ", 11), "%s", r.out);
    fx_result_free(&r);
}
END_TEST

/* Every input is checked before the profiler is loaded: an image that does not open or
 * has no metadata, a --save directory that is missing, a file, not writable or the
 * inputs' own, a rules file that cannot be read. Each error names its file and code,
 * nothing is reported on stdout (or, with --json, only {"path", "error"}), and the
 * plugin never starts (it writes its log at Initialize). */
START_TEST(run_checks_everything_before_loading_the_profiler)
{
    mf_entry *mf = calloc(128, sizeof *mf);
    ck_assert_ptr_nonnull(mf);
    const size_t nmf = read_manifest(mf, 128);
    const mf_entry *bad_md = NULL, *bad_r2r = NULL;
    for (size_t i = 0; i < nmf; i++) {
        if (!bad_md && strcmp(mf[i].stage, "metadata") == 0)
            bad_md = &mf[i];
        if (!bad_r2r && strcmp(mf[i].stage, "r2r") == 0)
            bad_r2r = &mf[i];
    }
    ck_assert_ptr_nonnull(bad_md);
    ck_assert_ptr_nonnull(bad_r2r);
    char bad_md_path[4096], bad_r2r_path[4096], missing[128], rodir[128], out[128];
    fx_path(bad_md_path, sizeof bad_md_path, "malformed/");
    strncat(bad_md_path, bad_md->file, sizeof bad_md_path - strlen(bad_md_path) - 1);
    fx_path(bad_r2r_path, sizeof bad_r2r_path, "malformed/");
    strncat(bad_r2r_path, bad_r2r->file, sizeof bad_r2r_path - strlen(bad_r2r_path) - 1);
    snprintf(out, sizeof out, "%s/out", tmp);
    ck_assert_int_eq(mkdir(out, 0755), 0);
    snprintf(missing, sizeof missing, "%s/no-such-dir", tmp);
    snprintf(rodir, sizeof rodir, "%s/read-only", tmp);
    ck_assert_int_eq(mkdir(rodir, 0555), 0);
    const struct {
        const char *rules, *save, *second_image, *named, *code;
    } cases[] = {
        { DEMO_RULES, NULL, "/nonexistent.exe", "/nonexistent.exe", "E_IO" },
        { DEMO_RULES, NULL, bad_md_path, bad_md_path, bad_md->status },
        { DEMO_RULES, missing, NULL, missing, "E_IO" },
        { DEMO_RULES, calc, NULL, calc, "E_IO" },
        { DEMO_RULES, ILG_FIXTURE_DIR, NULL, ILG_FIXTURE_DIR, "E_INVALID_ARG" },
        { DEMO_RULES, rodir, NULL, rodir, "E_IO" },
        /* --save reads a ReadyToRun image's tables: a bad one is named before the run */
        { DEMO_RULES, out, bad_r2r_path, bad_r2r_path, bad_r2r->status },
        { "/nonexistent-rules.json", NULL, NULL, "/nonexistent-rules.json", "E_IO" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        /* root writes anywhere: the read-only case runs as nobody (setpriv, util-linux) */
        const bool as_nobody = cases[i].save == rodir && geteuid() == 0;
        if (as_nobody && !fx_have_program("setpriv")) {
            printf("note: the read-only --save case needs setpriv to run as a user, not root\n");
            continue;
        }
        for (int json = 0; json < 2; json++) {
            const char *argv[20];
            int n = 0;
            if (as_nobody) {
                argv[n++] = "setpriv";
                argv[n++] = "--reuid=65534";
                argv[n++] = "--regid=65534";
                argv[n++] = "--clear-groups";
            }
            argv[n++] = ILG_CLI_PATH;
            argv[n++] = "run";
            argv[n++] = "--rules";
            argv[n++] = cases[i].rules;
            if (json)
                argv[n++] = "--json";
            if (cases[i].save) {
                argv[n++] = "--save";
                argv[n++] = cases[i].save;
            }
            argv[n++] = calc;
            if (cases[i].second_image)
                argv[n++] = cases[i].second_image;
            argv[n] = NULL;
            fx_result r;
            ck_assert(fx_run(argv, &r) && r.exited);
            ck_assert_msg(r.status == 1, "case %zu: status %d: %s", i, r.status, r.err);
            char prefix[4200], code[80];
            snprintf(prefix, sizeof prefix, "ilgraft: %s: ", cases[i].named);
            snprintf(code, sizeof code, "(%s", cases[i].code);
            ck_assert_msg(strncmp(r.err, prefix, strlen(prefix)) == 0 && strstr(r.err, code),
                          "case %zu: want '%s...%s', got %s", i, prefix, code, r.err);
            ck_assert_msg(access(plugin_log, F_OK) != 0, "case %zu: the plugin was loaded", i);
            if (json) {
                json_t *j = parse(r.out);
                ck_assert_str_eq(json_string_value(json_object_get(j, "path")), cases[i].named);
                json_t *e = json_object_get(j, "error");
                ck_assert_str_eq(json_string_value(json_object_get(e, "code")), cases[i].code);
                ck_assert_ptr_nonnull(json_string_value(json_object_get(e, "message")));
                json_decref(j);
            } else {
                ck_assert_msg(r.out_len == 0, "case %zu: stdout %s", i, r.out);
            }
            fx_result_free(&r);
        }
    }
    free(mf);
}
END_TEST

/* ---- methods on malformed bodies ------------------------------------------------------ */

/* Every body image of the catalogue: one row per method (as many as monodis lists, with
 * its names), the one bad body on its row with the manifest's status (the manifest
 * names the method: "Say's tiny header byte ..."), every other row measured; exit 1 and
 * the stderr line. The same with --json, the row carrying an "error" object. */
/* doc: `methods --json` of a body case of the catalogue. When the image is a ReadyToRun
 * one, every row, the bad one too, has the precompiled code's four keys with the values
 * the valid image it was made from (valid_r2r.exe) has on the same row, and so do the
 * instantiations. Returns the text lines the instantiations table adds and puts the
 * error row's native cell ("0x%08x %6u ") into cell; 0 and "" for an IL-only image. */
static size_t r2r_rows_as_in_valid_image(json_t *doc, const char *file, char cell[40])
{
    static const char *const keys[] = { "native_rva", "native_size", "native_funclets",
                                        "native_fixups" };
    json_t *rows = json_object_get(doc, "methods"), *instances = json_object_get(doc, "instances");
    if (!json_object_get(doc, "ready_to_run_summary")) {
        ck_assert_ptr_null(instances);
        return 0;
    }
    char valid[4096];
    fx_path(valid, sizeof valid, "malformed/valid_r2r.exe");
    fx_result v;
    run_cli(&v, "methods", "--json", valid, NULL);
    ck_assert_int_eq(v.status, 0);
    json_t *vdoc = parse(v.out), *vrows = json_object_get(vdoc, "methods");
    ck_assert_uint_eq(json_array_size(rows), json_array_size(vrows));
    unsigned with_code = 0;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *m = json_array_get(rows, i), *vm = json_array_get(vrows, i);
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
            ck_assert_msg(json_object_get(m, keys[k]) &&
                              json_equal(json_object_get(m, keys[k]), json_object_get(vm, keys[k])),
                          "%s row %zu: %s differs from valid_r2r.exe's", file, i, keys[k]);
        if (!json_is_null(json_object_get(m, "native_rva")))
            with_code++;
        if (strcmp(json_string_value(json_object_get(m, "status")), "error") == 0 &&
            !json_is_null(json_object_get(m, "native_rva")))
            snprintf(cell, 40, "0x%08llx %6llu ",
                     (unsigned long long)json_integer_value(json_object_get(m, "native_rva")),
                     (unsigned long long)json_integer_value(json_object_get(m, "native_size")));
    }
    ck_assert_uint_gt(with_code, 0);
    ck_assert_msg(cell[0], "%s: the bad method has no precompiled code to show", file);
    ck_assert(json_equal(instances, json_object_get(vdoc, "instances")));
    const size_t n = json_array_size(instances);
    json_decref(vdoc);
    fx_result_free(&v);
    return n ? 3 + n : 0; /* a blank line, the title, the header, one per entry */
}

START_TEST(methods_reports_a_malformed_body_on_its_row)
{
    if (!have("monodis"))
        return;
    mf_entry *mf = calloc(128, sizeof *mf);
    ck_assert_ptr_nonnull(mf);
    const size_t nmf = read_manifest(mf, 128);
    unsigned images = 0;
    for (size_t k = 0; k < nmf; k++) {
        if (strcmp(mf[k].stage, "body") != 0)
            continue;
        char path[4096], bad[64] = "";
        fx_path(path, sizeof path, "malformed/");
        strncat(path, mf[k].file, sizeof path - strlen(path) - 1);
        ck_assert_int_eq(sscanf(mf[k].desc, "%63[^']'s", bad), 1);
        char names[64][64];
        const size_t n = monodis_names(path, names, 64);
        ck_assert_uint_gt(n, 1);

        fx_result r;
        run_cli(&r, "methods", "--json", path, NULL);
        ck_assert_msg(r.status == 1, "%s: status %d", mf[k].file, r.status);
        json_t *j = parse(r.out);
        json_t *rows = json_object_get(j, "methods");
        ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), (json_int_t)n);
        ck_assert_uint_eq(json_array_size(rows), n);
        unsigned errors = 0;
        for (size_t i = 0; i < n; i++) {
            json_t *m = json_array_get(rows, i);
            const char *name = json_string_value(json_object_get(m, "name"));
            ck_assert_msg(full_name_is(name, names[i]), "%s row %zu: %s, monodis %s", mf[k].file, i,
                          name, names[i]);
            ck_assert_int_eq(json_integer_value(json_object_get(m, "token")), 0x06000001 + (int)i);
            const char *status = json_string_value(json_object_get(m, "status"));
            if (strcmp(status, "error") == 0) {
                errors++;
                ck_assert_msg(strcmp(names[i], bad) == 0, "%s: error on %s, manifest names %s",
                              mf[k].file, names[i], bad);
                json_t *e = json_object_get(m, "error");
                ck_assert_str_eq(json_string_value(json_object_get(e, "code")), mf[k].status);
                ck_assert_ptr_nonnull(json_string_value(json_object_get(e, "message")));
                ck_assert_ptr_null(json_object_get(m, "body_size"));
            } else {
                ck_assert_str_eq(status, "ok");
                ck_assert_ptr_nonnull(json_object_get(m, "body_size"));
            }
        }
        ck_assert_uint_eq(errors, 1);
        char native_cell[40] = "";
        const size_t instance_lines = r2r_rows_as_in_valid_image(j, mf[k].file, native_cell);
        json_decref(j);
        fx_result_free(&r);

        run_cli(&r, "methods", path, NULL);
        ck_assert_int_eq(r.status, 1);
        size_t lines = 0, error_rows = 0;
        char want[96];
        snprintf(want, sizeof want, "  [%s", mf[k].status);
        for (const char *p = r.out; (p = strchr(p, '\n')) != NULL; p++)
            lines++;
        for (const char *p = r.out; (p = strstr(p, " error ")) != NULL; p++) {
            const char *eol = strchr(p, '\n');
            ck_assert_msg(eol && strstr(p, want) && strstr(p, want) < eol, "%s: %s", mf[k].file,
                          r.out);
            /* a ReadyToRun image's bad row still shows the method's precompiled code */
            ck_assert_msg(!native_cell[0] || (strstr(p, native_cell) && strstr(p, native_cell) < eol),
                          "%s: no '%s' on the error row: %s", mf[k].file, native_cell, r.out);
            error_rows++;
        }
        /* the header and one row per method, then a ReadyToRun image's instantiations */
        ck_assert_uint_eq(lines, n + 1 + instance_lines);
        ck_assert_uint_eq(error_rows, 1);
        char prefix[4200];
        snprintf(prefix, sizeof prefix, "ilgraft: %s: ", path);
        ck_assert_msg(strncmp(r.err, prefix, strlen(prefix)) == 0 && strstr(r.err, mf[k].status),
                      "%s", r.err);
        fx_result_free(&r);
        images++;
    }
    ck_assert_uint_ge(images, 10);
    free(mf);
}
END_TEST

/* ---- verify / roundtrip: offsets with their kind, unreadable images ------------------ */

/* No position is printed without its kind. Two are checked against the manifest: the
 * LocalVarSigTok field's file offset, and the RVA the catalogue wrote into Say's row. */
START_TEST(verify_prints_each_offset_with_its_kind)
{
    mf_entry *mf = calloc(128, sizeof *mf);
    ck_assert_ptr_nonnull(mf);
    const size_t nmf = read_manifest(mf, 128);
    unsigned checked = 0;
    for (size_t k = 0; k < nmf; k++) {
        if (strcmp(mf[k].stage, "body") != 0)
            continue;
        char path[4096];
        fx_path(path, sizeof path, "malformed/");
        strncat(path, mf[k].file, sizeof path - strlen(path) - 1);
        fx_result r;
        run_cli(&r, "verify", "--no-progress", path, NULL);
        ck_assert_int_eq(r.status, 1);
        ck_assert_msg(!strstr(r.out, ": IL_"), "%s: a position without its kind: %s", mf[k].file,
                      r.out);
        const char *line = strstr(r.out, mf[k].status);
        ck_assert_msg(line, "%s: no %s in %s", mf[k].file, mf[k].status, r.out);
        ck_assert_msg(strstr(r.out, ": file offset 0x") || strstr(r.out, ": RVA 0x") ||
                          strstr(r.out, ": IL offset 0x"),
                      "%s: %s", mf[k].file, r.out);
        unsigned long off = 0;
        const char *at = strstr(mf[k].desc, "(file offset ");
        if (strcmp(mf[k].file, "body_bad_local_sig.exe") == 0) {
            ck_assert(at && sscanf(at, "(file offset %lx", &off) == 1);
            char want[128];
            snprintf(want, sizeof want, ": locate: file offset 0x%lx: %s", off, mf[k].status);
            ck_assert_msg(strstr(r.out, want), "want '%s' in %s", want, r.out);
            checked++;
        } else if (strcmp(mf[k].file, "body_rva_outside.exe") == 0) {
            const char *arrow = strstr(mf[k].desc, "-> ");
            ck_assert(arrow && sscanf(arrow, "-> %lx", &off) == 1);
            char want[128];
            snprintf(want, sizeof want, ": locate: RVA 0x%lx: %s", off, mf[k].status);
            ck_assert_msg(strstr(r.out, want), "want '%s' in %s", want, r.out);
            fx_result_free(&r);
            run_cli(&r, "roundtrip", "--json", path, NULL);
            json_t *j = parse(r.out);
            json_t *e = json_object_get(json_array_get(json_object_get(j, "failures"), 0), "error");
            ck_assert_str_eq(json_string_value(json_object_get(e, "where")), "rva");
            ck_assert_int_eq(json_integer_value(json_object_get(e, "offset")), (json_int_t)off);
            json_decref(j);
            checked++;
        }
        fx_result_free(&r);
    }
    ck_assert_uint_eq(checked, 2);
    free(mf);
}
END_TEST

/* An image that does not open, among good ones: counted as a failure in the summary and
 * the JSON, exit 1, and the good images' bodies are all still walked. */
START_TEST(an_unreadable_image_is_a_failure_of_the_walk)
{
    char eh[4096];
    fx_path(eh, sizeof eh, "eh.exe");
    fx_result r;
    json_int_t alone = 0;
    const char *singles[] = { calc, eh };
    for (size_t i = 0; i < 2; i++) {
        run_cli(&r, "verify", "--json", singles[i], NULL);
        ck_assert_int_eq(r.status, 0);
        json_t *j = parse(r.out);
        alone += json_integer_value(json_object_get(j, "bodies"));
        json_decref(j);
        fx_result_free(&r);
    }
    for (int json = 0; json < 2; json++) {
        if (json)
            run_cli(&r, "roundtrip", "--json", calc, "/nonexistent.exe", eh, NULL);
        else
            run_cli(&r, "roundtrip", "--no-progress", calc, "/nonexistent.exe", eh, NULL);
        ck_assert_int_eq(r.status, 1);
        ck_assert_msg(strstr(r.err, "ilgraft: /nonexistent.exe: ") && strstr(r.err, "(E_IO)"), "%s",
                      r.err);
        if (!json) {
            ck_assert_msg(strstr(r.out, "images 3 (1 unreadable), ") && strstr(r.out, "failures 1,"),
                          "%s", r.out);
        } else {
            json_t *j = parse(r.out);
            ck_assert_int_eq(json_integer_value(json_object_get(j, "images")), 3);
            ck_assert_int_eq(json_integer_value(json_object_get(j, "images_unreadable")), 1);
            ck_assert_int_eq(json_integer_value(json_object_get(j, "bodies")), alone);
            ck_assert_int_eq(json_integer_value(json_object_get(j, "failure_count")), 1);
            json_t *f = json_array_get(json_object_get(j, "failures"), 0);
            ck_assert_str_eq(json_string_value(json_object_get(f, "path")), "/nonexistent.exe");
            ck_assert_str_eq(json_string_value(json_object_get(f, "stage")), "open");
            ck_assert_str_eq(
                json_string_value(json_object_get(json_object_get(f, "error"), "code")), "E_IO");
            ck_assert_ptr_null(json_object_get(f, "token"));
            json_decref(j);
        }
        fx_result_free(&r);
    }
}
END_TEST

/* ---- one JSON vocabulary --------------------------------------------------------------- */

/* The same key means the same thing in every command: path; token, name, rva and the
 * body's measures in methods, dis and run (old_rva there); rva and virtual_size of a
 * section in info and map; the error object of a bad body in methods, dis and verify. */
START_TEST(one_json_vocabulary_across_commands)
{
    fx_result r;
    json_t *doc[4];
    static const char *const cmds[] = { "info", "map", "methods", "dis" };
    for (size_t i = 0; i < 4; i++) {
        run_cli(&r, cmds[i], "--json", calc, NULL);
        ck_assert_msg(r.status == 0, "%s: %s", cmds[i], r.err);
        doc[i] = parse(r.out);
        ck_assert_str_eq(json_string_value(json_object_get(doc[i], "path")), calc);
        fx_result_free(&r);
    }
    run_cli(&r, "run", "--rules", DEMO_RULES, "--json", calc, NULL);
    ck_assert_msg(r.status == 0, "run: %s", r.err);
    json_t *run = parse(r.out);
    fx_result_free(&r);
    json_t *mod = json_array_get(json_object_get(run, "modules"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(mod, "path")), calc);

    /* sections (info) and regions (map) */
    size_t i, k;
    json_t *sec, *reg;
    unsigned matched = 0;
    json_array_foreach(json_object_get(doc[0], "sections"), i, sec) {
        json_array_foreach(json_object_get(doc[1], "regions"), k, reg) {
            if (!json_equal(json_object_get(sec, "name"), json_object_get(reg, "name")))
                continue;
            ck_assert(json_equal(json_object_get(sec, "rva"), json_object_get(reg, "rva")));
            ck_assert(json_equal(json_object_get(sec, "virtual_size"),
                                 json_object_get(reg, "virtual_size")));
            matched++;
        }
    }
    ck_assert_uint_eq(matched, json_array_size(json_object_get(doc[0], "sections")));
    ck_assert(json_equal(json_object_get(doc[0], "arena_offset"), json_object_get(doc[1], "arena_offset")));
    ck_assert(json_equal(json_object_get(doc[0], "image_size"), json_object_get(mod, "image_size")));

    /* methods, dis and run, method by method */
    json_t *m = json_object_get(doc[2], "methods"), *d = json_object_get(doc[3], "methods"),
           *h = json_object_get(mod, "methods");
    ck_assert_uint_eq(json_array_size(m), json_array_size(d));
    ck_assert_uint_eq(json_array_size(m), json_array_size(h));
    static const char *const same[] = { "token", "name", "rva", "header", "code_size",
                                        "max_stack", "eh_clauses", "body_size", "status" };
    for (i = 0; i < json_array_size(m); i++) {
        json_t *a = json_array_get(m, i), *b = json_array_get(d, i), *c = json_array_get(h, i);
        for (k = 0; k < sizeof same / sizeof *same; k++)
            ck_assert_msg(json_equal(json_object_get(a, same[k]), json_object_get(b, same[k])),
                          "methods and dis differ in %s of method %zu", same[k], i);
        ck_assert(json_equal(json_object_get(a, "token"), json_object_get(c, "token")));
        ck_assert(json_equal(json_object_get(a, "name"), json_object_get(c, "name")));
        ck_assert(json_equal(json_object_get(a, "rva"), json_object_get(c, "old_rva")));
        ck_assert(json_equal(json_object_get(a, "body_size"), json_object_get(c, "old_size")));
    }
    for (i = 0; i < 4; i++)
        json_decref(doc[i]);
    json_decref(run);

    /* one bad body: the same error object in methods, dis and verify */
    char bad[4096];
    fx_path(bad, sizeof bad, "malformed/body_tiny_bad_format.exe");
    json_t *err[3];
    static const char *const walkers[] = { "methods", "dis", "verify" };
    for (i = 0; i < 3; i++) {
        run_cli(&r, walkers[i], "--json", bad, NULL);
        ck_assert_int_eq(r.status, 1);
        json_t *j = parse(r.out);
        json_t *list = json_object_get(j, i < 2 ? "methods" : "failures");
        err[i] = NULL;
        json_array_foreach(list, k, reg) {
            if (json_object_get(reg, "error")) {
                ck_assert_int_eq(json_integer_value(json_object_get(reg, "token")), 0x06000001);
                ck_assert_str_eq(json_string_value(json_object_get(reg, "path") ? json_object_get(reg, "path")
                                                                                : json_object_get(j, "path")),
                                 bad);
                err[i] = json_incref(json_object_get(reg, "error"));
            }
        }
        ck_assert_msg(err[i] != NULL, "%s: no error object", walkers[i]);
        json_decref(j);
        fx_result_free(&r);
    }
    ck_assert_str_eq(json_string_value(json_object_get(err[0], "code")), "E_BODY_BAD_HEADER");
    ck_assert_ptr_nonnull(json_object_get(err[0], "where"));
    ck_assert_ptr_nonnull(json_object_get(err[0], "offset"));
    for (i = 1; i < 3; i++)
        ck_assert_msg(json_equal(err[0], err[i]), "%s's error differs from methods'", walkers[i]);
    for (i = 0; i < 3; i++)
        json_decref(err[i]);
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("commands");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, version_and_usage_statuses);
    tcase_add_test(tc, bad_input_is_status_1_with_file_and_message);
    tcase_add_test(tc, methods_json_matches_the_library);
    tcase_add_test(tc, methods_on_readytorun_match_the_perfmap);
    tcase_add_test(tc, map_json_puts_the_arena_on_the_page_after_the_image);
    tcase_add_test(tc, info_json_and_text);
    tcase_add_test(tc, methods_json_on_mscorlib_counts_what_monodis_counts);
    tcase_add_test(tc, run_with_rules_uses_the_bundled_plugin);
    tcase_add_test(tc, run_without_a_plugin_beside_ilgraft);
    tcase_add_test(tc, run_checks_everything_before_loading_the_profiler);
    tcase_add_test(tc, methods_reports_a_malformed_body_on_its_row);
    tcase_add_test(tc, verify_prints_each_offset_with_its_kind);
    tcase_add_test(tc, an_unreadable_image_is_a_failure_of_the_walk);
    tcase_add_test(tc, one_json_vocabulary_across_commands);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cli_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
