/* test_corpus.c: every assembly of the installed Mono 4.5 profile and of the installed
 * .NET shared framework opens, its metadata validates, and every method has a name and
 * a measured body; the MethodDef count equals monodis's "Method Table (1..N)" and a
 * sample of method names matches `monodis --method`. The framework's native .so files
 * open as ELF. Where monodis itself cannot read an assembly, that is listed. The
 * framework's ReadyToRun code reads whole: every entry point is the start of a
 * RUNTIME_FUNCTION in an executable section, and each method's funclets (those its EH
 * clauses start) are the runtime functions up to the next method's, as R2RDump counts. */
#include <check.h>
#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ilgraft/metadata.h"
#include "unit/fixture_util.h"

#define SAMPLE_EVERY 17

typedef struct tally {
    unsigned assemblies, methods, sampled, peer_failures, peer_method_failures;
} tally;

static void add_glob(glob_t *g, const char *pattern, int *flags)
{
    glob(pattern, *flags, NULL, g);
    *flags |= GLOB_APPEND;
}

/* One assembly: ilgraft reads everything; monodis agrees on the count and names. */
static void check_assembly(const char *path, tally *t)
{
    ilg_image *img;
    const ilg_metadata *md;
    ilg_status st = ilg_image_open(path, NULL, &img);
    ck_assert_msg(st == ILG_OK, "%s: open: %s: %s", path, ilg_status_name(st), ilg_last_diag()->message);
    st = ilg_image_metadata(img, &md);
    ck_assert_msg(st == ILG_OK, "%s: metadata: %s: %s", path, ilg_status_name(st),
                  ilg_last_diag()->message);
    const uint32_t n = ilg_md_row_count(md, ILG_TBL_MethodDef);
    char name[8192];
    for (uint32_t rid = 1; rid <= n; rid++) {
        ilg_method_body b;
        st = ilg_md_method_name(md, rid, name, sizeof name, NULL);
        ck_assert_msg(st == ILG_OK, "%s: method 0x%08x name: %s: %s", path, 0x06000000 | rid,
                      ilg_status_name(st), ilg_last_diag()->message);
        st = ilg_md_method_body(md, rid, &b);
        ck_assert_msg(st == ILG_OK, "%s: method 0x%08x body: %s: %s", path, 0x06000000 | rid,
                      ilg_status_name(st), ilg_last_diag()->message);
        if (b.kind == ILG_BODY_TINY || b.kind == ILG_BODY_FAT)
            ck_assert_uint_ge(b.body_size, b.header_size + b.code_size);
    }
    t->assemblies++;
    t->methods += n;

    const char *argv[] = { "monodis", "--method", path, NULL };
    fx_result r;
    ck_assert(fx_run(argv, &r));
    unsigned peer_n;
    if (!r.exited || r.status != 0 || sscanf(r.out, "Method Table (1..%u)", &peer_n) != 1) {
        if (!(n == 0 && r.exited && r.status == 0)) {
            fprintf(stderr, "corpus: monodis cannot read %s (%s %d); ilgraft read %u methods\n",
                    path, r.exited ? "exit" : "signal", r.status, n);
            t->peer_failures++;
        }
        fx_result_free(&r);
        ilg_image_close(img);
        return;
    }
    ck_assert_msg(peer_n == n, "%s: monodis has %u methods, ilgraft %u", path, peer_n, n);
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned rid;
        if (sscanf(line, "%u: ", &rid) != 1 || (rid % SAMPLE_EVERY != 1 && rid != n))
            continue;
        ilg_method_info mi;
        ck_assert_int_eq(ilg_md_method(md, rid, &mi), ILG_OK);
        if (strstr(line, ": failed to parse due to ")) {
            fprintf(stderr, "corpus: monodis cannot read method %u of %s: %.160s\n", rid, path, line);
            t->peer_method_failures++;
            continue;
        }
        ck_assert_msg(strstr(line, mi.name) != NULL, "%s: method %u: ilgraft '%s', monodis '%s'",
                      path, rid, mi.name, line);
        t->sampled++;
    }
    fx_result_free(&r);
    ilg_image_close(img);
}

/* monodis resolves the types an assembly references through MONO_PATH. It must keep
 * Mono's own mscorlib, so the folder links every framework assembly but that one. */
static void make_mono_path(const char *framework_dir, char *out, size_t size)
{
    char tmpl[] = "/tmp/ilg-monopath-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    snprintf(out, size, "%s", tmpl);
    DIR *d = opendir(framework_dir);
    ck_assert_ptr_nonnull(d);
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".dll") != 0 || strcmp(e->d_name, "mscorlib.dll") == 0)
            continue;
        char from[8192], to[8192];
        snprintf(from, sizeof from, "%s/%s", framework_dir, e->d_name);
        snprintf(to, sizeof to, "%s/%s", out, e->d_name);
        ck_assert_int_eq(symlink(from, to), 0);
    }
    closedir(d);
    setenv("MONO_PATH", out, 1);
}

static void remove_mono_path(const char *dir)
{
    fx_tmpdir_remove(dir);
    unsetenv("MONO_PATH");
}

#define IMAGE_SCN_MEM_EXECUTE 0x20000000u

typedef struct r2r_tally {
    unsigned r2r, il_only, methoddefs, instances, runtime_functions, with_fixups, funclets,
             inlines;
} r2r_tally;

/* The RUNTIME_FUNCTION whose code holds rva (binary search: they are sorted), or -1. */
static int64_t function_at(const ilg_r2r *r2r, uint32_t count, uint32_t rva)
{
    uint32_t lo = 0, hi = count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        ilg_r2r_function_info f;
        ck_assert_int_eq(ilg_r2r_runtime_function(r2r, mid, &f), ILG_OK);
        if (rva < f.begin)
            hi = mid;
        else if (rva >= f.end)
            lo = mid + 1;
        else
            return mid;
    }
    return -1;
}

static void check_readytorun(const char *path, r2r_tally *t)
{
    ilg_image *img;
    const ilg_metadata *md;
    const ilg_r2r *r2r;
    ilg_md_info mi;
    ilg_r2r_info in;
    ck_assert_int_eq(ilg_image_open(path, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    ilg_md_get_info(md, &mi);
    ilg_status st = ilg_image_readytorun(img, &r2r);
    if (st == ILG_E_R2R_ABSENT && mi.managed_native_header_size == 0) {
        t->il_only++;
        ilg_image_close(img);
        return;
    }
    ck_assert_msg(st == ILG_OK, "%s: %s: %s", path, ilg_status_name(st), ilg_last_diag()->message);
    ilg_image_info ii;
    ilg_image_get_info(img, &ii);
    ilg_r2r_get_info(r2r, &in);
    ck_assert_uint_gt(in.runtime_function_count, 0);
    /* R2RDump counts a method's funclets up to the next method's runtime function; ilgraft
     * counts those its EH clauses start (docs/readytorun.md): the same in every image
     * crossgen2 wrote. */
    bool *entry = calloc(in.runtime_function_count + 1, 1);
    for (uint32_t i = 0; i < ilg_r2r_method_count(r2r); i++) {
        ilg_r2r_method_info m;
        ck_assert_int_eq(ilg_r2r_method(r2r, i, &m), ILG_OK);
        entry[m.runtime_function] = true;
    }
    for (uint32_t i = 0; i < ilg_r2r_method_count(r2r); i++) {
        ilg_r2r_method_info m;
        ck_assert_int_eq(ilg_r2r_method(r2r, i, &m), ILG_OK);
        uint32_t k = m.runtime_function + 1;
        while (k < in.runtime_function_count && !entry[k])
            k++;
        ck_assert_msg(m.cold_runtime_function_count || k - m.runtime_function == m.runtime_function_count,
                      "%s: method 0x%08x: %u runtime functions up to the next method, %u by its EH "
                      "clauses", path, m.token, k - m.runtime_function, m.runtime_function_count);
    }
    free(entry);
    for (uint32_t i = 0; i < ilg_r2r_method_count(r2r); i++) {
        ilg_r2r_method_info m;
        ck_assert_int_eq(ilg_r2r_method(r2r, i, &m), ILG_OK);
        int64_t f = function_at(r2r, in.runtime_function_count, m.code_rva);
        ck_assert_msg(f == m.runtime_function, "%s: method 0x%08x at RVA 0x%x: runtime function %lld",
                      path, m.token, m.code_rva, (long long)f);
        ilg_r2r_function_info first, last;
        ilg_r2r_runtime_function(r2r, m.runtime_function, &first);
        ilg_r2r_runtime_function(r2r, m.runtime_function + m.runtime_function_count - 1, &last);
        ck_assert_uint_eq(first.begin, m.code_rva);
        bool exec = false;
        for (uint32_t k = 0; k < ii.region_count && !exec; k++) {
            ilg_region r;
            ck_assert_int_eq(ilg_image_region(img, k, &r), ILG_OK);
            exec = m.code_rva >= r.rva && last.end <= r.rva + r.virtual_size &&
                   (r.flags & IMAGE_SCN_MEM_EXECUTE);
        }
        ck_assert_msg(exec, "%s: method 0x%08x code 0x%x..0x%x is not inside an executable section",
                      path, m.token, m.code_rva, last.end);
        t->with_fixups += m.has_fixups;
        t->funclets += m.runtime_function_count - 1;
    }
    t->r2r++;
    t->methoddefs += in.methoddef_entries;
    t->instances += in.instance_entries;
    t->runtime_functions += in.runtime_function_count;
    t->inlines += in.inline_count;
    ilg_image_close(img);
}

START_TEST(every_corpus_assembly)
{
    glob_t g;
    int flags = 0;
    add_glob(&g, "/usr/lib/mono/4.5/*.dll", &flags);
    add_glob(&g, "/usr/lib/mono/4.5/*.exe", &flags);
    add_glob(&g, "/usr/lib/mono/4.5/Facades/*.dll", &flags);
    size_t mono = g.gl_pathc;
    add_glob(&g, "/usr/share/dotnet/shared/Microsoft.NETCore.App/*/*.dll", &flags);
    size_t dotnet = g.gl_pathc - mono;
    if (!fx_require(mono && dotnet, "corpus missing (%zu Mono, %zu .NET assemblies); run "
                                    "scripts/setup.sh (Mono) and install the .NET 10 SDK",
                    mono, dotnet) && mono == 0) {
        globfree(&g);
        return;
    }
    tally t = { 0 };
    for (size_t i = 0; i < mono; i++)
        check_assembly(g.gl_pathv[i], &t);
    if (dotnet) {
        char framework[4096], mono_path[4096];
        snprintf(framework, sizeof framework, "%s", g.gl_pathv[mono]);
        *strrchr(framework, '/') = 0;
        make_mono_path(framework, mono_path, sizeof mono_path);
        for (size_t i = mono; i < g.gl_pathc; i++)
            check_assembly(g.gl_pathv[i], &t);
        remove_mono_path(mono_path);
    }
    printf("corpus: %u assemblies (%zu Mono, %zu .NET), %u methods, %u names compared with monodis, "
           "%u assemblies and %u sampled methods monodis could not read\n",
           t.assemblies, mono, dotnet, t.methods, t.sampled, t.peer_failures,
           t.peer_method_failures);
    ck_assert_uint_eq(t.assemblies, g.gl_pathc);
    ck_assert_uint_gt(t.sampled, 1000);
    globfree(&g);
}
END_TEST

/* What monodis's full disassembly says of one body. */
typedef struct peer_body {
    uint32_t rva, code_size, max_stack, eh;
} peer_body;

static int cmp_rva(const void *a, const void *b)
{
    uint32_t x = ((const peer_body *)a)->rva, y = ((const peer_body *)b)->rva;
    return x < y ? -1 : x > y;
}

/* Every method body of path: code size, maxstack and EH clause count against monodis
 * ("// Method begins at RVA", "// Code size", ".maxstack", one "// end handler" per
 * clause). Returns the number of bodies compared. */
static unsigned compare_bodies_with_monodis(const char *path)
{
    const char *argv[] = { "monodis", path, NULL };
    fx_result r;
    ck_assert(fx_run(argv, &r));
    ck_assert_msg(r.exited && r.status == 0, "monodis %s: status %d", path, r.status);
    size_t cap = 1024, n = 0;
    peer_body *peer = malloc(cap * sizeof *peer), *cur = NULL;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned v;
        char *p;
        if ((p = strstr(line, "// Method begins at RVA 0x")) && sscanf(p + 26, "%x", &v) == 1) {
            if (n == cap)
                peer = realloc(peer, (cap *= 2) * sizeof *peer);
            cur = &peer[n++];
            *cur = (peer_body){ .rva = v };
        } else if (cur && (p = strstr(line, "// Code size ")) && sscanf(p + 13, "%u", &v) == 1) {
            cur->code_size = v;
        } else if (cur && (p = strstr(line, ".maxstack ")) && sscanf(p + 10, "%u", &v) == 1) {
            cur->max_stack = v;
        } else if (cur && strstr(line, "} // end handler ")) {
            cur->eh++;
        }
    }
    qsort(peer, n, sizeof *peer, cmp_rva);

    ilg_image *img;
    const ilg_metadata *md;
    ck_assert_int_eq(ilg_image_open(path, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    unsigned compared = 0, bodies = 0;
    for (uint32_t rid = 1; rid <= ilg_md_row_count(md, ILG_TBL_MethodDef); rid++) {
        ilg_method_body b;
        ck_assert_int_eq(ilg_md_method_body(md, rid, &b), ILG_OK);
        if (b.kind != ILG_BODY_TINY && b.kind != ILG_BODY_FAT)
            continue;
        bodies++;
        peer_body key = { .rva = b.rva };
        peer_body *m = bsearch(&key, peer, n, sizeof *peer, cmp_rva);
        ck_assert_msg(m != NULL, "%s: method 0x%08x at RVA 0x%x: monodis shows no body there", path,
                      0x06000000 | rid, b.rva);
        ck_assert_msg(m->code_size == b.code_size && m->max_stack == b.max_stack && m->eh == b.eh_clauses,
                      "%s: method 0x%08x: ilgraft code %u maxstack %u eh %u, monodis %u %u %u", path,
                      0x06000000 | rid, b.code_size, b.max_stack, b.eh_clauses, m->code_size,
                      m->max_stack, m->eh);
        compared++;
    }
    ck_assert_uint_eq(compared, bodies);
    ilg_image_close(img);
    free(peer);
    fx_result_free(&r);
    return compared;
}

START_TEST(bodies_match_monodis_disassembly)
{
    static const char *const mono[] = {
        "/usr/lib/mono/4.5/mscorlib.dll", "/usr/lib/mono/4.5/System.dll",
        "/usr/lib/mono/4.5/System.Core.dll", "/usr/lib/mono/4.5/System.Xml.dll",
    };
    unsigned total = 0;
    for (size_t i = 0; i < sizeof mono / sizeof mono[0]; i++)
        total += compare_bodies_with_monodis(mono[i]);
    glob_t g;
    int flags = 0;
    add_glob(&g, ILG_FIXTURE_DIR "/*.exe", &flags);
    add_glob(&g, ILG_FIXTURE_DIR "/*.dll", &flags);
    for (size_t i = 0; i < g.gl_pathc; i++)
        total += compare_bodies_with_monodis(g.gl_pathv[i]);
    printf("corpus: %u method bodies (4 Mono assemblies, %zu fixtures) match monodis in code size, "
           "maxstack and EH clause count\n", total, g.gl_pathc);
    ck_assert_uint_gt(g.gl_pathc, 0);
    globfree(&g);
}
END_TEST

START_TEST(framework_native_libraries_open_as_elf)
{
    glob_t g;
    if (!fx_require(glob("/usr/share/dotnet/shared/Microsoft.NETCore.App/*/*.so", 0, NULL, &g) == 0,
                    "no native libraries in the .NET shared framework"))
        return;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        ilg_image *img;
        ilg_image_info in;
        ilg_status st = ilg_image_open(g.gl_pathv[i], NULL, &img);
        ck_assert_msg(st == ILG_OK, "%s: %s: %s", g.gl_pathv[i], ilg_status_name(st),
                      ilg_last_diag()->message);
        ilg_image_get_info(img, &in);
        ck_assert_int_eq(in.format, ILG_FORMAT_ELF64);
        ck_assert_uint_gt(in.region_count, 0);
        ck_assert_uint_gt(ilg_image_symbol_count(img), 0);
        ilg_image_close(img);
    }
    printf("corpus: %zu native libraries opened as ELF\n", g.gl_pathc);
    globfree(&g);
}
END_TEST

START_TEST(framework_readytorun_code)
{
    glob_t g;
    if (!fx_require(glob("/usr/share/dotnet/shared/Microsoft.NETCore.App/*/*.dll", 0, NULL, &g) == 0,
                    "no .NET shared framework"))
        return;
    r2r_tally t = { 0 };
    for (size_t i = 0; i < g.gl_pathc; i++)
        check_readytorun(g.gl_pathv[i], &t);
    printf("corpus: %zu framework assemblies: %u with ReadyToRun code, %u IL only; %u MethodDef "
           "entry points, %u instantiations, %u with fixups, %u runtime functions (%u funclets), "
           "%u inlining pairs\n",
           g.gl_pathc, t.r2r, t.il_only, t.methoddefs, t.instances, t.with_fixups,
           t.runtime_functions, t.funclets, t.inlines);
    ck_assert_uint_eq(t.r2r + t.il_only, g.gl_pathc);
    ck_assert_uint_gt(t.r2r, 0);
    globfree(&g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("corpus");
    TCase *tc = tcase_create("assemblies");
    tcase_set_timeout(tc, 1500);
    tcase_add_test(tc, every_corpus_assembly);
    tcase_add_test(tc, framework_native_libraries_open_as_elf);
    tcase_add_test(tc, framework_readytorun_code);
    tcase_add_test(tc, bodies_match_monodis_disassembly);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
