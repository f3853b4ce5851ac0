/* test_mdemit_saved.c: test_mdemit's saved images (the writer's metadata in a file
 * save/ wrote), read by monodis and Mono.Cecil and run by mono; properties and events,
 * read by their cells and by monodis. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ilgraft/arena.h"
#include "ilgraft/mdemit.h"
#include "ilgraft/metadata.h"
#include "ilgraft/save.h"
#include "unit/fixture_util.h"
#include "unit/test_mdemit.h"

static char *monodis(const char *what, const char *path);

/* The names of the properties of TypeDef row type, "A|B|", read through the
 * PropertyMap and PropertyPtr cells as ECMA-335 II.22.35 lays them out. */
static void props_of(const ilg_metadata *m, uint32_t type, char *out, size_t size)
{
    const uint32_t maps = ilg_md_row_count(m, ILG_TBL_PropertyMap), nptr = ilg_md_row_count(m, ILG_TBL_PropertyPtr);
    const uint32_t n = nptr ? nptr : ilg_md_row_count(m, ILG_TBL_Property);
    out[0] = 0;
    for (uint32_t r = 1; r <= maps; r++) {
        uint32_t parent, first, last = n + 1;
        ck_assert_int_eq(ilg_md_cell(m, ILG_TBL_PropertyMap, r, ILG_MDC_PropertyMap_Parent, &parent), ILG_OK);
        ck_assert_int_eq(ilg_md_cell(m, ILG_TBL_PropertyMap, r, ILG_MDC_PropertyMap_PropertyList, &first), ILG_OK);
        if (r < maps)
            ck_assert_int_eq(ilg_md_cell(m, ILG_TBL_PropertyMap, r + 1, ILG_MDC_PropertyMap_PropertyList, &last), ILG_OK);
        for (uint32_t pos = first; parent == type && pos < last; pos++) {
            uint32_t row = pos, nm;
            const char *s;
            if (nptr)
                ck_assert_int_eq(ilg_md_cell(m, ILG_TBL_PropertyPtr, pos, ILG_MDC_PropertyPtr_Property, &row), ILG_OK);
            ck_assert_int_eq(ilg_md_cell(m, ILG_TBL_Property, row, ILG_MDC_Property_Name, &nm), ILG_OK);
            ck_assert_int_eq(ilg_md_string(m, nm, &s), ILG_OK);
            strncat(out, s, size - strlen(out) - 2);
            strcat(out, "|");
        }
    }
}

static uint32_t define_property(uint32_t type, const char *name)
{
    static const uint8_t psig[] = { 0x28, 0x00, 0x08 }; /* instance int32 () */
    uint32_t cells[3] = { 0 }, tok;
    ck_assert_int_eq(ilg_mdemit_string(em, name, &cells[ILG_MDC_Property_Name]), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_blob(em, psig, sizeof psig, &cells[ILG_MDC_Property_Type]), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_member(em, 0x02000000u | type, ILG_TBL_Property, cells, 3, &tok), ILG_OK);
    return tok;
}

START_TEST(properties_and_events_join_their_types)
{
    /* types.exe: IGreeter (2) and Inner have PropertyMap rows, Animal (3) none. A new
     * property on Animal makes its map row; one on IGreeter, whose map row is not the
     * last, goes through PropertyPtr. An event on Animal makes its EventMap row. */
    char a[256], b[256], c[256];
    ck_assert_uint_eq(ilg_md_row_count(md, ILG_TBL_PropertyMap), 2);
    const uint32_t inner = 7;
    props_of(md, 2, a, sizeof a);
    ck_assert_str_eq(a, "Count|");
    const uint32_t extra = define_property(3, "Extra");
    ck_assert_uint_eq(ilg_md_row_count(md, ILG_TBL_PropertyMap), 3);
    ck_assert_uint_eq(ilg_md_row_count(md, ILG_TBL_PropertyPtr), 0);
    const uint32_t more = define_property(2, "More");
    ck_assert_uint_eq(more, extra + 1);
    ck_assert_uint_gt(ilg_md_row_count(md, ILG_TBL_PropertyPtr), 0);
    props_of(md, 2, a, sizeof a);
    props_of(md, 3, b, sizeof b);
    props_of(md, inner, c, sizeof c);
    ck_assert_str_eq(a, "Count|More|");
    ck_assert_str_eq(b, "Extra|");
    ck_assert_str_eq(c, "Count|");
    uint32_t ecells[3] = { 0, 0, 0 }, ev;
    ck_assert_int_eq(ilg_mdemit_string(em, "Barked", &ecells[ILG_MDC_Event_Name]), ILG_OK);
    ecells[ILG_MDC_Event_EventType] = 0x02000004; /* Fix.Callback */
    ck_assert_int_eq(ilg_mdemit_member(em, 0x02000003, ILG_TBL_Event, ecells, 3, &ev), ILG_OK);
    ck_assert_uint_eq(ev, 0x14000002);
    /* Through a serialization and a saved image, read by the loader and by monodis. */
    uint8_t *buf;
    ilg_metadata *back = reopen(&buf);
    same_rows(md, back, NULL, false);
    char x[256];
    props_of(back, 2, x, sizeof x);
    ck_assert_str_eq(x, a);
    props_of(back, 3, x, sizeof x);
    ck_assert_str_eq(x, b);
    ilg_md_close(back);
    free(buf);
    if (!fx_require(fx_have_program("monodis"), "monodis not found"))
        return;
    char dir[] = "/tmp/ilg_mdemit_XXXXXX", path[128];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/types.exe", dir);
    ck_assert_int_eq(ilg_save_write(img, NULL, 0, NULL, path, NULL), ILG_OK);
    char *map = monodis("--propertymap", path), *prop = monodis("--property", path), *evs = monodis("--event", path);
    ck_assert_msg(strstr(map, "3: Fix.Animal (3) 4\n"), "%s", map);
    ck_assert_msg(strstr(prop, "int32 More ()") && strstr(prop, "int32 Extra ()"), "%s", prop);
    ck_assert_msg(strstr(evs, "2: Fix.Callback Barked"), "%s", evs);
    free(map);
    free(prop);
    free(evs);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* monodis's line for row r of a table dump ("r: ..." up to the next row), or NULL. */
static const char *monodis_row(const char *out, uint32_t r)
{
    char key[16];
    int n = snprintf(key, sizeof key, "\n%u: ", r);
    const char *at = strstr(out, key);
    return at ? at + n : NULL;
}

static char *monodis(const char *what, const char *path)
{
    const char *argv[] = { "monodis", what, path, NULL };
    fx_result r;
    ck_assert(fx_run(argv, &r));
    ck_assert_msg(r.exited && r.status == 0, "monodis %s %s: %s", what, path, r.err);
    char *out = r.out;
    r.out = NULL;
    fx_result_free(&r);
    return out;
}

/* Every TypeRef, MemberRef and AssemblyRef row of the saved image as monodis reads it
 * agrees with the loader's reading of the same file. */
static void saved_agrees_with_monodis(const char *path)
{
    ilg_image *im;
    const ilg_metadata *m;
    ck_assert_int_eq(ilg_image_open(path, NULL, &im), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(im, &m), ILG_OK);
    char *tr = monodis("--typeref", path), *mr = monodis("--memberref", path),
         *ar = monodis("--assemblyref", path), name[512];
    for (uint32_t r = 1; r <= ilg_md_row_count(m, ILG_TBL_TypeRef); r++) {
        ck_assert_int_eq(ilg_md_type_name(m, 0x01000000u | r, name, sizeof name, NULL), ILG_OK);
        const char *line = monodis_row(tr, r);
        ck_assert_msg(line && strncmp(line, name, strlen(name)) == 0 && line[strlen(name)] == '\n',
                      "TypeRef %u: ilgraft %s, monodis %.60s", r, name, line ? line : "(none)");
    }
    for (uint32_t r = 1; r <= ilg_md_row_count(m, ILG_TBL_MemberRef); r++) {
        uint32_t cls, nm;
        const char *s;
        ilg_md_cell(m, ILG_TBL_MemberRef, r, ILG_MDC_MemberRef_Class, &cls);
        ilg_md_cell(m, ILG_TBL_MemberRef, r, ILG_MDC_MemberRef_Name, &nm);
        ilg_md_string(m, nm, &s);
        snprintf(name, sizeof name, "%s[%u] %s\n", (cls >> 24) == ILG_TBL_TypeRef ? "TypeRef" : "?",
                 cls & 0xFFFFFF, s);
        const char *line = monodis_row(mr, r);
        ck_assert_msg(line && strncmp(line, name, strlen(name)) == 0, "MemberRef %u: ilgraft %s, monodis %.60s",
                      r, name, line ? line : "(none)");
    }
    for (uint32_t r = 1; r <= ilg_md_row_count(m, ILG_TBL_AssemblyRef); r++) {
        uint32_t v[4], nm;
        const char *s;
        for (int k = 0; k < 4; k++)
            ilg_md_cell(m, ILG_TBL_AssemblyRef, r, ILG_MDC_AssemblyRef_MajorVersion + (uint32_t)k, &v[k]);
        ilg_md_cell(m, ILG_TBL_AssemblyRef, r, ILG_MDC_AssemblyRef_Name, &nm);
        ilg_md_string(m, nm, &s);
        snprintf(name, sizeof name, "Version=%u.%u.%u.%u\n\tName=%s\n", v[0], v[1], v[2], v[3], s);
        const char *line = monodis_row(ar, r);
        ck_assert_msg(line && strncmp(line, name, strlen(name)) == 0, "AssemblyRef %u: ilgraft %s, monodis %.60s",
                      r, name, line ? line : "(none)");
    }
    free(tr);
    free(mr);
    free(ar);
    ilg_image_close(im);
}

/* Mono.Cecil's reading of a module, by a program this compiles with mcs into dir: "M
 * token Type::Method" for every method of every type, "T token Ns.Name" for every
 * TypeRef, "R token <full name>" for every MemberRef. */
static const char dump_cs[] =
    "using System; using Mono.Cecil;\n"
    "static class Dump { static void Main(string[] a) {\n"
    "  var m = ModuleDefinition.ReadModule(a[0]);\n"
    "  foreach (var t in m.GetTypes()) foreach (var d in t.Methods)\n"
    "    Console.WriteLine(\"M {0:X8} {1}::{2}\", d.MetadataToken.ToUInt32(), t.FullName, d.Name);\n"
    "  foreach (var r in m.GetTypeReferences())\n"
    "    Console.WriteLine(\"T {0:X8} {1}\", r.MetadataToken.ToUInt32(), r.FullName);\n"
    "  foreach (var r in m.GetMemberReferences())\n"
    "    Console.WriteLine(\"R {0:X8} {1}\", r.MetadataToken.ToUInt32(), r.FullName);\n"
    "} }\n";
#define CECIL_DLL "/usr/lib/mono/gac/Mono.Cecil/0.11.0.0__0738eb9f132ed756/Mono.Cecil.dll"

/* Every method (with its owner), TypeRef and MemberRef Cecil reads in the saved image is
 * the loader's, and there are as many. */
static void saved_agrees_with_cecil(const char *dir, const char *path)
{
    if (!fx_require(fx_have_program("mcs") && access(CECIL_DLL, R_OK) == 0,
                    "mcs or %s not found", CECIL_DLL))
        return;
    char src[256], exe[256], outopt[300];
    snprintf(src, sizeof src, "%s/dump.cs", dir);
    snprintf(exe, sizeof exe, "%s/dump.exe", dir);
    snprintf(outopt, sizeof outopt, "-out:%s", exe);
    FILE *f = fopen(src, "w");
    ck_assert_ptr_nonnull(f);
    fputs(dump_cs, f);
    fclose(f);
    const char *mcs[] = { "mcs", "-nologo", "-r:" CECIL_DLL, outopt, src, NULL }, *run[] = { "mono", exe, path, NULL };
    fx_result r;
    ck_assert(fx_run(mcs, &r));
    ck_assert_msg(r.exited && r.status == 0, "mcs: %s%s", r.out, r.err);
    fx_result_free(&r);
    ck_assert(fx_run(run, &r));
    ck_assert_msg(r.exited && r.status == 0, "Cecil: %s", r.err);
    ilg_image *im;
    const ilg_metadata *m;
    ck_assert_int_eq(ilg_image_open(path, NULL, &im), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(im, &m), ILG_OK);
    uint32_t counts[3] = { 0 };
    char want[600], name[512];
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned tok;
        int used;
        ck_assert_int_eq(sscanf(line + 2, "%8x %n", &tok, &used), 1);
        const char *text = line + 2 + used;
        if (line[0] == 'M') {
            ilg_method_info mi;
            ck_assert_int_eq(ilg_md_method(m, tok & 0xFFFFFF, &mi), ILG_OK);
            ck_assert_int_eq(ilg_md_type_name(m, mi.owner, name, sizeof name, NULL), ILG_OK);
            snprintf(want, sizeof want, "%s::%s", name, mi.name);
            counts[0]++;
        } else if (line[0] == 'T') {
            ck_assert_int_eq(ilg_md_type_name(m, tok, name, sizeof name, NULL), ILG_OK);
            snprintf(want, sizeof want, "%s", name[0] == '[' ? strchr(name, ']') + 1 : name);
            counts[1]++;
        } else {
            uint32_t nm;
            const char *s;
            ck_assert_int_eq(ilg_md_cell(m, ILG_TBL_MemberRef, tok & 0xFFFFFF, ILG_MDC_MemberRef_Name, &nm), ILG_OK);
            ck_assert_int_eq(ilg_md_string(m, nm, &s), ILG_OK);
            const char *sep = strstr(text, "::");
            ck_assert_ptr_nonnull(sep);
            snprintf(want, sizeof want, "%.*s", (int)(strcspn(sep + 2, "(")), sep + 2);
            ck_assert_str_eq(want, s);
            counts[2]++;
            continue;
        }
        ck_assert_msg(strcmp(text, want) == 0, "Cecil %s, ilgraft %s", line, want);
    }
    ck_assert_uint_eq(counts[0], ilg_md_row_count(m, ILG_TBL_MethodDef));
    ck_assert_uint_eq(counts[1], ilg_md_row_count(m, ILG_TBL_TypeRef));
    ck_assert_uint_eq(counts[2], ilg_md_row_count(m, ILG_TBL_MemberRef));
    fx_result_free(&r);
    ilg_image_close(im);
    unlink(src);
    unlink(exe);
}

/* A tiny body (II.25.4.2) of code in the image's arena; *rva its RVA. */
static uint32_t arena_body(const uint8_t *code, uint32_t n)
{
    ilg_arena *arena;
    void *p;
    uint32_t rva;
    ck_assert_uint_lt(n, 64);
    ck_assert_int_eq(ilg_image_arena(img, &arena), ILG_OK);
    ck_assert_int_eq(ilg_arena_alloc(arena, n + 1, &p, &rva), ILG_OK);
    ((uint8_t *)p)[0] = (uint8_t)(n << 2 | 2);
    memcpy((uint8_t *)p + 1, code, n);
    return rva;
}

/* The saved image test below, with Greet added to TypeDef owner (2, Calc, appends; 1,
 * <Module>, needs MethodPtr and saves as #-). */
static void save_and_run(uint32_t owner)
{
    static const char *const tools[] = { "monodis", "mono", NULL };
    const char *missing = fx_missing_program(tools);
    if (!fx_require(!missing, "%s not found", missing))
        return;
    /* New references, a new string and a new method Calc::Greet whose body prints it;
     * Main's new body calls Greet. The saved image carries the grown metadata. */
    bool dup;
    uint32_t tr, mr, writeline, str;
    const uint32_t asm_ref = define_probe_lib(&dup);
    ck_assert_int_eq(ilg_mdemit_type_ref(em, asm_ref, "Ns", "Probes", &tr, NULL), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_member_ref(em, tr, "Enter", sig_void_string, sizeof sig_void_string, &mr, NULL), ILG_OK);
    const uint32_t console = find_typeref(md, "System", "Console");
    ck_assert_int_eq(ilg_mdemit_member_ref(em, console, "WriteLine", sig_void_string, sizeof sig_void_string, &writeline, &dup), ILG_OK);
    ck_assert(dup); /* calc.il's Probe calls it already */
    static const uint16_t hello[] = { 'h', 'e', 'l', 'l', 'o', ' ', 'f', 'r', 'o', 'm', ' ', 'G', 'r', 'e', 'e', 't' };
    ck_assert_int_eq(ilg_mdemit_user_string(em, hello, 16, &str, NULL), ILG_OK);
    static const uint8_t sig_void[] = { 0x00, 0x00, 0x01 };
    const uint32_t greet = define_method(owner, "Greet", sig_void, sizeof sig_void);
    ck_assert_uint_eq(ilg_md_row_count(md, ILG_TBL_MethodPtr) != 0, owner == 1);
    uint8_t body[16] = { 0x72, 0, 0, 0, 0, 0x28, 0, 0, 0, 0, 0x2A };
    memcpy(body + 1, &str, 4);
    memcpy(body + 6, &writeline, 4);
    uint8_t main_body[6] = { 0x28, 0, 0, 0, 0, 0x2A };
    memcpy(main_body + 1, &greet, 4);
    ilg_save_method methods[2] = { { greet & 0xFFFFFF, arena_body(body, 11), 12 },
                                   { 4, arena_body(main_body, 6), 7 } };
    char dir[] = "/tmp/ilg_mdemit_XXXXXX", path[128];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/calc.exe", dir);
    ilg_save_result res;
    ilg_save_options opts = { 0 };
    ck_assert_int_eq(ilg_save_write(img, methods, 2, &opts, path, &res), ILG_OK);
    ck_assert(res.mvid_changed);
    /* Read back by the loader: the references and the method with its body. */
    ilg_image *im;
    const ilg_metadata *m;
    char name[256];
    ck_assert_int_eq(ilg_image_open(path, NULL, &im), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(im, &m), ILG_OK);
    ck_assert_int_eq(ilg_md_member_name(m, mr, name, sizeof name, NULL), ILG_OK);
    ck_assert_str_eq(name, "void [ProbeLib]Ns.Probes::Enter(string)");
    ck_assert_int_eq(ilg_md_method_name(m, greet & 0xFFFFFF, name, sizeof name, NULL), ILG_OK);
    ck_assert_str_eq(name, owner == 1 ? "void <Module>::Greet()" : "void Calc::Greet()");
    ilg_md_info mi;
    ck_assert_int_eq(ilg_md_get_info(m, &mi), ILG_OK);
    ck_assert_int_eq(mi.uncompressed, owner == 1);
    ilg_method_body b;
    ck_assert_int_eq(ilg_md_method_body(m, greet & 0xFFFFFF, &b), ILG_OK);
    ck_assert_uint_eq(b.rva, methods[0].new_rva);
    ck_assert_uint_eq(b.code_size, 11);
    const uint8_t *mvid;
    uint32_t mvid_index;
    ck_assert_int_eq(ilg_md_cell(m, ILG_TBL_Module, 1, ILG_MDC_Module_Mvid, &mvid_index), ILG_OK);
    ck_assert_int_eq(ilg_md_guid(m, mvid_index, &mvid), ILG_OK);
    ck_assert(memcmp(mvid, res.mvid, 16) == 0);
    ilg_image_close(im);
    /* monodis reads every reference row as the loader does and disassembles it whole. */
    saved_agrees_with_monodis(path);
    saved_agrees_with_cecil(dir, path);
    char *dis = monodis("--output=/dev/stdout", path);
    ck_assert_msg(strstr(dis, "Greet") && strstr(dis, "hello from Greet"), "%.2000s", dis);
    free(dis);
    /* Mono runs it: Main calls the new method, which prints the new string. */
    const char *run[] = { "mono", path, NULL };
    fx_result r;
    ck_assert(fx_run(run, &r));
    ck_assert_msg(r.exited && r.status == 0, "mono: %s", r.err);
    ck_assert_str_eq(r.out, "hello from Greet\n");
    fx_result_free(&r);
    unlink(path);
    rmdir(dir);
}

START_TEST(saved_image_reads_in_monodis_and_runs_under_mono)
{
    save_and_run(2);
}
END_TEST

START_TEST(saved_uncompressed_image_reads_in_monodis_and_runs_under_mono)
{
    save_and_run(1);
}
END_TEST


/* The MethodDef row named name (the first), 0 when none. */
static uint32_t method_named(const char *name)
{
    for (uint32_t r = 1; r <= ilg_md_row_count(md, ILG_TBL_MethodDef); r++) {
        ilg_method_info mi;
        ck_assert_int_eq(ilg_md_method(md, r, &mi), ILG_OK);
        if (strcmp(mi.name, name) == 0)
            return r;
    }
    return 0;
}

/* The C# Calc.dll with a new method Greet on Graft.Probes (not the last type: MethodPtr,
 * #-) or on Graft.Program (the last) that prints a new string, and Calc.Answer's new
 * body calling it: saved, CoreCLR runs it and prints the string before the answer. */
static void dotnet_runs_saved(uint32_t owner)
{
    char dll[4096], cfg[4096];
    fx_path(dll, sizeof dll, "cs/Calc/Calc.dll");
    fx_path(cfg, sizeof cfg, "cs/Calc/Calc.runtimeconfig.json");
    if (!fx_require(fx_have_program("dotnet") && access(dll, R_OK) == 0, "dotnet or %s not found",
                    dll))
        return;
    ck_assert_int_eq(ilg_image_open(dll, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_open(img, &em), ILG_OK);
    md = ilg_mdemit_metadata(em);
    const uint32_t console = find_typeref(md, "System", "Console"), answer = method_named("Answer");
    uint32_t writeline, str;
    bool dup;
    ck_assert_uint_ne(answer, 0);
    ck_assert_int_eq(ilg_mdemit_member_ref(em, console, "WriteLine", sig_void_string, 4, &writeline, &dup), ILG_OK);
    ck_assert(dup);
    static const uint16_t hello[] = { 'h', 'e', 'l', 'l', 'o', ' ', 'f', 'r', 'o', 'm', ' ', 'G', 'r', 'e', 'e', 't' };
    ck_assert_int_eq(ilg_mdemit_user_string(em, hello, 16, &str, NULL), ILG_OK);
    static const uint8_t sig_void[] = { 0x00, 0x00, 0x01 };
    const uint32_t greet = define_method(owner, "Greet", sig_void, sizeof sig_void);
    ck_assert_uint_eq(ilg_md_row_count(md, ILG_TBL_MethodPtr) != 0, owner != ilg_md_row_count(md, ILG_TBL_TypeDef));
    uint8_t body[11] = { 0x72, 0, 0, 0, 0, 0x28, 0, 0, 0, 0, 0x2A };
    memcpy(body + 1, &str, 4);
    memcpy(body + 6, &writeline, 4);
    uint8_t answer_body[8] = { 0x28, 0, 0, 0, 0, 0x1F, 42, 0x2A }; /* call Greet; ldc.i4.s 42; ret */
    memcpy(answer_body + 1, &greet, 4);
    ilg_save_method methods[2] = { { greet & 0xFFFFFF, arena_body(body, 11), 12 },
                                   { answer, arena_body(answer_body, 8), 9 } };
    char dir[] = "/tmp/ilg_mdemit_XXXXXX", path[128], cfg_out[160];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/Calc.dll", dir);
    snprintf(cfg_out, sizeof cfg_out, "%s/Calc.runtimeconfig.json", dir);
    ck_assert_int_eq(ilg_save_write(img, methods, 2, NULL, path, NULL), ILG_OK);
    size_t n;
    char *json = fx_read_file(cfg, &n);
    ck_assert_ptr_nonnull(json);
    FILE *f = fopen(cfg_out, "w");
    ck_assert_ptr_nonnull(f);
    fwrite(json, 1, n, f);
    fclose(f);
    free(json);
    setenv("DOTNET_CLI_TELEMETRY_OPTOUT", "1", 1);
    const char *run[] = { "dotnet", path, NULL };
    fx_result r;
    ck_assert(fx_run(run, &r));
    ck_assert_msg(r.exited && r.status == 0, "dotnet: %s%s", r.out, r.err);
    ck_assert_msg(strstr(r.out, "caught risky\nexits after risky = 0\nhello from Greet\nanswer = 42\n"), "%s", r.out);
    fx_result_free(&r);
    saved_agrees_with_monodis(path);
    unlink(path);
    unlink(cfg_out);
    rmdir(dir);
}

START_TEST(saved_assembly_runs_under_dotnet)
{
    dotnet_runs_saved(4); /* Graft.Program, the last type */
}
END_TEST

START_TEST(saved_uncompressed_assembly_runs_under_dotnet)
{
    dotnet_runs_saved(2); /* Graft.Probes: MethodPtr, #- */
}
END_TEST

/* Section header i of the PE file buf: VirtualSize, VirtualAddress, SizeOfRawData,
 * PointerToRawData. */
static void section_of(const uint8_t *buf, uint32_t i, uint32_t v[4])
{
    uint32_t lfanew, opt_size;
    uint16_t n;
    memcpy(&lfanew, buf + 0x3C, 4);
    memcpy(&n, buf + lfanew + 6, 2);
    ck_assert_uint_lt(i, n);
    memcpy(&opt_size, buf + lfanew + 20, 2);
    opt_size &= 0xFFFF;
    memcpy(v, buf + lfanew + 24 + opt_size + 40 * i + 8, 16);
}

static uint16_t sections_in(const uint8_t *buf)
{
    uint32_t lfanew;
    uint16_t n;
    memcpy(&lfanew, buf + 0x3C, 4);
    memcpy(&n, buf + lfanew + 6, 2);
    return n;
}

/* A written module whose old root spans pages (Mono's mscorlib) is saved without the
 * root's whole pages (docs/save.md, "The old root"), with ilg_save_build, and again
 * with keep_old_root; both keep the MVID so that only the layout differs. The pages
 * left out are exactly the whole SectionAlignment pages inside the input's root; the
 * file is smaller by them; every byte at every RVA of the kept save outside them is at
 * the same RVA in the cut one; the section table follows CoreCLR's PEDecoder checks
 * (ascending, contiguous, aligned raw data, raw data no larger than the aligned virtual
 * size); and the saved module opens again with its new metadata. */
START_TEST(old_root_pages_leave_the_file)
{
    static const uint16_t text[] = { 'c', 'u', 't' };
    uint32_t str;
    ck_assert_int_eq(ilg_mdemit_user_string(em, text, 3, &str, NULL), ILG_OK);
    ilg_image_info ii;
    ilg_md_info mi;
    ck_assert_int_eq(ilg_image_get_info(img, &ii), ILG_OK);
    ck_assert_int_eq(ilg_md_get_info(md, &mi), ILG_OK);
    const uint64_t sa = ii.section_alignment;
    const uint64_t first = (mi.metadata_rva + sa - 1) / sa * sa;
    const uint64_t last = (mi.metadata_rva + mi.metadata_size) / sa * sa;
    ck_assert_uint_gt(last, first); /* the fixture's root spans whole pages */
    uint8_t *cut, *kept;
    size_t cut_size, kept_size;
    ilg_save_result rc, rk;
    ilg_save_options o = { .keep_mvid = true };
    ck_assert_int_eq(ilg_save_build(img, NULL, 0, &o, &cut, &cut_size, &rc), ILG_OK);
    o.keep_old_root = true;
    ck_assert_int_eq(ilg_save_build(img, NULL, 0, &o, &kept, &kept_size, &rk), ILG_OK);
    ck_assert_uint_eq(rc.old_root_cut_rva, first);
    ck_assert_uint_eq(rc.old_root_cut_size, last - first);
    ck_assert_uint_eq(rk.old_root_cut_size, 0);
    ck_assert_uint_eq(kept_size - cut_size, last - first);
    ck_assert_uint_eq(sections_in(cut), sections_in(kept) + 1);
    ilg_image *a, *b;
    ck_assert_int_eq(ilg_image_open_memory(kept, kept_size, "kept", NULL, &a), ILG_OK);
    ck_assert_int_eq(ilg_image_open_memory(cut, cut_size, "cut", NULL, &b), ILG_OK);
    ilg_image_info bi;
    ck_assert_int_eq(ilg_image_get_info(b, &bi), ILG_OK);
    ck_assert_uint_eq(bi.region_count, ii.region_count + 2);
    uint64_t compared = 0;
    for (uint32_t i = 0; i < ii.region_count + 1; i++) {
        ilg_region rg;
        ck_assert_int_eq(ilg_image_region(a, i, &rg), ILG_OK);
        /* The region's bytes before the cut and after it, each a run of one section. */
        const uint64_t end = rg.rva + rg.file_size;
        const uint64_t runs[2][2] = { { rg.rva, end < first ? end : first },
                                      { rg.rva > last ? rg.rva : last, end } };
        for (int k = 0; k < 2; k++) {
            const uint64_t lo = runs[k][0], hi = runs[k][1];
            if (lo >= hi)
                continue;
            uint64_t oa, ob, ob_last;
            ck_assert_int_eq(ilg_image_rva_to_offset(a, lo, &oa), ILG_OK);
            ck_assert_msg(ilg_image_rva_to_offset(b, lo, &ob) == ILG_OK &&
                              ilg_image_rva_to_offset(b, hi - 1, &ob_last) == ILG_OK &&
                              ob_last - ob == hi - 1 - lo,
                          "RVAs 0x%llx-0x%llx lost", (unsigned long long)lo,
                          (unsigned long long)hi);
            ck_assert_msg(memcmp(kept + oa, cut + ob, hi - lo) == 0, "RVAs 0x%llx-0x%llx differ",
                          (unsigned long long)lo, (unsigned long long)hi);
            compared += hi - lo;
        }
    }
    ck_assert_uint_gt(compared, kept_size / 2);
    /* CoreCLR's PEDecoder::CheckSection, section by section. */
    uint32_t prev[4] = { 0 };
    for (uint32_t i = 0; i < sections_in(cut); i++) {
        uint32_t v[4];
        section_of(cut, i, v);
        const uint64_t aligned = (v[0] + sa - 1) / sa * sa;
        ck_assert_uint_eq(v[1] % sa, 0);
        ck_assert_uint_eq(v[2] % ii.file_alignment, 0);
        ck_assert_uint_eq(v[3] % ii.file_alignment, 0);
        ck_assert_uint_le(v[2], aligned);
        ck_assert_uint_le(v[3] + v[2], cut_size);
        if (i) {
            ck_assert_uint_eq(v[1], prev[1] + (prev[0] + sa - 1) / sa * sa); /* contiguous */
            ck_assert_uint_ge(v[3], prev[3] + prev[2]);
        }
        memcpy(prev, v, sizeof prev);
    }
    const ilg_metadata *m;
    const uint8_t *back;
    uint32_t len = 0;
    ck_assert_int_eq(ilg_image_metadata(b, &m), ILG_OK);
    ck_assert_int_eq(ilg_md_user_string(m, str & 0xFFFFFF, &back, &len), ILG_OK);
    ck_assert(len >= sizeof text && memcmp(back, text, sizeof text) == 0);
    ilg_image_close(a);
    ilg_image_close(b);
    ilg_save_free(cut);
    ilg_save_free(kept);
}
END_TEST

void mdemit_old_root_tests(TCase *corlib)
{
    tcase_add_test(corlib, old_root_pages_leave_the_file);
}

void mdemit_saved_tests(TCase *calc, TCase *types)
{
    tcase_add_test(calc, saved_image_reads_in_monodis_and_runs_under_mono);
    tcase_add_test(calc, saved_uncompressed_image_reads_in_monodis_and_runs_under_mono);
    tcase_add_test(types, properties_and_events_join_their_types);
}

/* The C# fixture under CoreCLR: each test opens it (the teardown closes it). */
void mdemit_dotnet_tests(TCase *tc)
{
    tcase_add_test(tc, saved_assembly_runs_under_dotnet);
    tcase_add_test(tc, saved_uncompressed_assembly_runs_under_dotnet);
}
