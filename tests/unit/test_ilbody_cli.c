/* test_ilbody_cli.c: `ilgraft dis`, `verify` and `roundtrip` end to end on assemblies
 * that Mono's ilasm builds from IL source at test time. The expected listing is the
 * source's instruction sequence with offsets worked out by hand from the encodings in
 * Partition III; the invalid bodies are ones ilasm assembles without complaint. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ilgraft/metadata.h"
#include "unit/fixture_util.h"

static char dir[256];
static char dll[300];

static const char *source =
    ".assembly extern mscorlib {}\n"
    ".assembly t {}\n"
    ".module t.dll\n"
    ".class public auto ansi T extends [mscorlib]System.Object\n"
    "{\n"
    "  .field static int32 f\n"
    "  .method public static int32 M(int32 x) cil managed\n"
    "  {\n"
    "    .maxstack 3\n"
    "    .locals init (int32 v, float64 d)\n"
    "    ldarg.0\n"
    "    brfalse.s ZERO\n"
    "    ldarg.0\n"
    "    ldc.i4.s 10\n"
    "    bgt LONG\n"
    "    ldarg.0\n"
    "    switch (A, B)\n"
    "    br.s ZERO\n"
    "  A: ldc.r8 1.5\n"
    "    stloc.1\n"
    "    br ZERO\n"
    "  B: volatile.\n"
    "    ldsfld int32 T::f\n"
    "    stloc.0\n"
    "  LONG: nop\n"
    "    .try\n"
    "    {\n"
    "      ldc.i4.1\n"
    "      stloc.0\n"
    "      leave.s AFTER\n"
    "    }\n"
    "    catch [mscorlib]System.Exception\n"
    "    {\n"
    "      pop\n"
    "      leave.s AFTER\n"
    "    }\n"
    "  AFTER: nop\n"
    "  ZERO: ldloc.0\n"
    "    ret\n"
    "  }\n"
    /* underflow at IL_0001 (the stack is then taken as empty), above .maxstack 1 at
     * IL_0002, ret with 2 items at IL_0005 (locals keep the header fat, so .maxstack 1
     * is what the header says) */
    "  .method public static int32 Bad() cil managed\n"
    "  {\n"
    "    .maxstack 1\n"
    "    .locals init (int32 v)\n"
    "    ldc.i4.1\n"
    "    add\n"
    "    ldc.i4.2\n"
    "    ldc.i4.3\n"
    "    pop\n"
    "    ret\n"
    "  }\n"
    /* structurally sound, but CoreCLR's JIT refuses it: a bitwise and of a float64 at
     * IL_000a, a string passed for M's int32 at IL_0012 */
    "  .method public static void J(int32 x) cil managed\n"
    "  {\n"
    "    .maxstack 2\n"
    "    ldc.r8 1.5\n"
    "    ldarg.0\n"
    "    and\n"
    "    starg.s x\n"
    "    ldstr \"s\"\n"
    "    call int32 T::M(int32)\n"
    "    pop\n"
    "    ret\n"
    "  }\n"
    "}\n";

/* Offsets by hand: ldarg.0 1, brfalse.s 2, ldc.i4.s 2, bgt 5, switch 1+4+2*4, br.s 2,
 * ldc.r8 9, br 5, volatile. 2, ldsfld 5, leave.s 2; code size 0x3d = 61; header 12,
 * padding to 76, small EH section 4 + 12: body size 92. */
static const char *expected_m =
    "// 0x06000001 int32 T::M(int32)\n"
    "// RVA 0x2050, fat header, code size 61, body size 92\n"
    ".maxstack 3\n"
    ".locals init 0x11000001\n"
    "IL_0000: ldarg.0\n"
    "IL_0001: brfalse.s IL_003b\n"
    "IL_0003: ldarg.0\n"
    "IL_0004: ldc.i4.s 10\n"
    "IL_0006: bgt IL_0032\n"
    "IL_000b: ldarg.0\n"
    "IL_000c: switch (IL_001b, IL_002a)\n"
    "IL_0019: br.s IL_003b\n"
    "IL_001b: ldc.r8 1.5\n"
    "IL_0024: stloc.1\n"
    "IL_0025: br IL_003b\n"
    "IL_002a: volatile.\n"
    "IL_002c: ldsfld 0x04000001\n"
    "IL_0031: stloc.0\n"
    "IL_0032: nop\n"
    "IL_0033: ldc.i4.1\n"
    "IL_0034: stloc.0\n"
    "IL_0035: leave.s IL_003a\n"
    "IL_0037: pop\n"
    "IL_0038: leave.s IL_003a\n"
    "IL_003a: nop\n"
    "IL_003b: ldloc.0\n"
    "IL_003c: ret\n"
    ".try IL_0033 to IL_0037 catch 0x01000002 handler IL_0037 to IL_003a\n"
    "\n";

static void setup(void)
{
    if (!fx_have_program("ilasm")) {
        dir[0] = 0;
        return;
    }
    snprintf(dir, sizeof dir, "/tmp/ilg-ilbody-cli-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char il[300];
    snprintf(il, sizeof il, "%s/t.il", dir);
    snprintf(dll, sizeof dll, "%s/t.dll", dir);
    FILE *f = fopen(il, "w");
    ck_assert_ptr_nonnull(f);
    fputs(source, f);
    fclose(f);
    char out[320];
    snprintf(out, sizeof out, "/output:%s", dll);
    const char *argv[] = { "ilasm", "/quiet", "/dll", out, il, NULL };
    fx_result r;
    ck_assert(fx_run(argv, &r));
    ck_assert_msg(r.exited && r.status == 0, "ilasm failed: %s%s", r.out, r.err);
    fx_result_free(&r);
}

static void teardown(void)
{
    if (!dir[0])
        return;
    char p[300];
    snprintf(p, sizeof p, "%s/t.il", dir);
    unlink(p);
    unlink(dll);
    rmdir(dir);
}

#define NEED_ILASM()                                                                          \
    do {                                                                                      \
        if (!fx_require(dir[0], "ilasm not found"))                                          \
            return;                                                                           \
    } while (0)

static fx_result run5(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5)
{
    const char *argv[] = { ILG_CLI_PATH, a1, a2, a3, a4, a5, NULL };
    fx_result r;
    ck_assert(fx_run(argv, &r));
    ck_assert(r.exited);
    return r;
}

static fx_result run(const char *a1, const char *a2, const char *a3, const char *a4)
{
    return run5(a1, a2, a3, a4, NULL);
}

START_TEST(dis_matches_the_source)
{
    NEED_ILASM();
    fx_result r = run("dis", "--raw", dll, "T::M");
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, expected_m);
    fx_result_free(&r);
    /* by token, and with names: the field (as the source writes it) and the catch type */
    r = run("dis", dll, "0x06000001", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "IL_002c: ldsfld int32 T::f\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "catch [mscorlib]System.Exception handler IL_0037 to IL_003a\n"));
    fx_result_free(&r);
}
END_TEST

START_TEST(verify_lists_every_finding)
{
    NEED_ILASM();
    fx_result r = run("verify", "--json", dll, NULL);
    ck_assert_int_eq(r.status, 1);
    json_error_t err;
    json_t *o = json_loads(r.out, 0, &err);
    ck_assert_msg(o != NULL, "bad JSON: %s", err.text);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "bodies")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "decoded")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "verified")), 1);
    json_t *fails = json_object_get(o, "failures");
    ck_assert_uint_eq(json_array_size(fails), 5);
    const struct { uint32_t token; const char *name, *rule; int offset; } want[] = {
        { 0x06000002, "int32 T::Bad()", "E_IL_VERIFY_UNDERFLOW", 1 },
        { 0x06000002, "int32 T::Bad()", "E_IL_VERIFY_MAXSTACK", 2 },
        { 0x06000002, "int32 T::Bad()", "E_IL_VERIFY_RET", 5 },
        { 0x06000003, "void T::J(int32)", "E_IL_VERIFY_OPERAND", 0xa },
        { 0x06000003, "void T::J(int32)", "E_IL_VERIFY_CALL_ARG", 0x12 } };
    for (size_t i = 0; i < 5; i++) {
        json_t *f = json_array_get(fails, i), *e = json_object_get(f, "error");
        ck_assert_str_eq(json_string_value(json_object_get(f, "path")), dll);
        ck_assert_int_eq(json_integer_value(json_object_get(f, "token")), want[i].token);
        ck_assert_str_eq(json_string_value(json_object_get(f, "name")), want[i].name);
        ck_assert_str_eq(json_string_value(json_object_get(f, "stage")), "verify");
        ck_assert_str_eq(json_string_value(json_object_get(e, "code")), want[i].rule);
        ck_assert_str_eq(json_string_value(json_object_get(e, "where")), "il");
        ck_assert_int_eq(json_integer_value(json_object_get(e, "offset")), want[i].offset);
    }
    json_decref(o);
    fx_result_free(&r);
    /* structural: J passes; strict: J's float stored to its int32 argument is a warning too */
    r = run5("verify", "--json", "--level", "structural", dll);
    ck_assert_int_eq(r.status, 1);
    o = json_loads(r.out, 0, NULL);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "verified")), 2);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "failures")), 3);
    json_decref(o);
    fx_result_free(&r);
    r = run5("verify", "--no-progress", "--level", "strict", dll);
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "0x06000003: warning: IL offset 0x000b: E_IL_VERIFY_STORE"));
    fx_result_free(&r);
    /* the warning in JSON: stage "warning" and the same error object as a finding */
    r = run5("verify", "--json", "--level", "strict", dll);
    ck_assert_int_eq(r.status, 1);
    o = json_loads(r.out, 0, NULL);
    ck_assert_ptr_nonnull(o);
    size_t i, warnings = 0;
    json_t *f;
    json_array_foreach(json_object_get(o, "failures"), i, f) {
        if (strcmp(json_string_value(json_object_get(f, "stage")), "warning") != 0)
            continue;
        json_t *e = json_object_get(f, "error");
        ck_assert_int_eq(json_integer_value(json_object_get(f, "token")), 0x06000003);
        ck_assert_str_eq(json_string_value(json_object_get(f, "name")), "void T::J(int32)");
        ck_assert_str_eq(json_string_value(json_object_get(e, "code")), "E_IL_VERIFY_STORE");
        ck_assert_str_eq(json_string_value(json_object_get(e, "where")), "il");
        ck_assert_int_eq(json_integer_value(json_object_get(e, "offset")), 0xb);
        warnings++;
    }
    ck_assert_uint_eq(warnings, 1);
    json_decref(o);
    fx_result_free(&r);
    r = run("verify", "--level", "ecma", dll);
    ck_assert_int_eq(r.status, 2);
    fx_result_free(&r);
    /* text: one line per finding naming token, offset and rule */
    r = run("verify", "--no-progress", dll, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "0x06000002: verify: IL offset 0x0002: E_IL_VERIFY_MAXSTACK"));
    fx_result_free(&r);
}
END_TEST

START_TEST(roundtrip_counts)
{
    NEED_ILASM();
    /* M and J are valid (roundtrip verifies at level structural) and re-encode byte for
     * byte; Bad fails verification only */
    fx_result r = run("roundtrip", "--json", "--check", dll);
    ck_assert_int_eq(r.status, 1);
    json_t *o = json_loads(r.out, 0, NULL);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "bodies")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "identical")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "verified")), 2);
    json_decref(o);
    fx_result_free(&r);
    /* the lead's fixtures are all valid: exit 0, every body identical */
    char path[4096];
    fx_path(path, sizeof path, "eh.exe");
    r = run("roundtrip", "--json", "--check", path);
    ck_assert_int_eq(r.status, 0);
    o = json_loads(r.out, 0, NULL);
    ck_assert_ptr_nonnull(o);
    json_int_t bodies = json_integer_value(json_object_get(o, "bodies"));
    ck_assert_int_gt(bodies, 4);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "identical")), bodies);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "optimized_valid")), bodies);
    ck_assert_int_eq(json_array_size(json_object_get(o, "failures")), 0);
    json_decref(o);
    fx_result_free(&r);
}
END_TEST

START_TEST(usage_and_input_errors)
{
    fx_result r = run("dis", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 2);
    fx_result_free(&r);
    r = run("verify", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 2);
    fx_result_free(&r);
    r = run("roundtrip", "/nonexistent/x.dll", NULL, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "/nonexistent/x.dll"));
    fx_result_free(&r);
    char path[4096];
    fx_path(path, sizeof path, "calc.exe");
    r = run("dis", path, "0x06000099", NULL);
    ck_assert_int_eq(r.status, 2);
    fx_result_free(&r);
    r = run("dis", path, "NoSuchMethod", NULL);
    ck_assert_int_eq(r.status, 1);
    fx_result_free(&r);
    r = run("dis", "--native", "main", path);
    ck_assert_int_eq(r.status, 2); /* a PE image has no symbols here: give an RVA */
    fx_result_free(&r);
}
END_TEST

/* `dis --json`: every method's instructions (offset and opcode) are the ones monodis
 * lists for the same image, and its "text" is the listing the text form prints. */
START_TEST(dis_json_matches_monodis)
{
    if (!fx_require(fx_have_program("monodis"), "monodis not found"))
        return;
    static const char *const fixtures[] = { "calc.exe", "eh.exe", "bodies.exe", "generics.exe",
                                            "types.exe" };
    for (size_t f = 0; f < sizeof fixtures / sizeof *fixtures; f++) {
        char path[4096];
        fx_path(path, sizeof path, fixtures[f]);
        const char *margv[] = { "monodis", path, NULL };
        fx_result m;
        ck_assert(fx_run(margv, &m) && m.exited && m.status == 0);
        fx_result r = run("dis", "--json", path, NULL);
        ck_assert_int_eq(r.status, 0);
        json_t *o = json_loads(r.out, 0, NULL);
        ck_assert_ptr_nonnull(o);
        ck_assert_str_eq(json_string_value(json_object_get(o, "path")), path);
        fx_result t = run("dis", path, NULL, NULL);
        ck_assert_int_eq(t.status, 0);
        /* monodis's instruction lines, "IL_0001:  brtrue.s IL_0009", in order (switch
         * targets continue on lines of their own, without an opcode) */
        char *save = NULL, *line = strtok_r(m.out, "\n", &save);
        size_t i, k, count = 0;
        json_t *meth, *ins;
        json_array_foreach(json_object_get(o, "methods"), i, meth) {
            ck_assert_str_eq(json_string_value(json_object_get(meth, "status")), "ok");
            const char *text = json_string_value(json_object_get(meth, "text"));
            if (text)
                ck_assert_msg(strstr(t.out, text), "%s: method %zu's text is not in the listing",
                              fixtures[f], i);
            json_array_foreach(json_object_get(meth, "instructions"), k, ins) {
                unsigned off = 0;
                char op[32] = "";
                for (; line; line = strtok_r(NULL, "\n", &save))
                    if (sscanf(line, " IL_%4x: %31s", &off, op) == 2 && op[0] != 'I')
                        break;
                ck_assert_msg(line, "%s: monodis has fewer instructions than %zu", fixtures[f], count);
                ck_assert_int_eq(json_integer_value(json_object_get(ins, "offset")), off);
                /* 0xDC is endfinally, spelt endfault in a fault handler (III.3.35) */
                ck_assert_str_eq(json_string_value(json_object_get(ins, "opcode")),
                                 strcmp(op, "endfault") == 0 ? "endfinally" : op);
                /* offset, opcode and operand put back together are the listing's line */
                char back[512];
                const char *operand = json_string_value(json_object_get(ins, "operand"));
                snprintf(back, sizeof back, "IL_%04x: %s%s%s\n", off,
                         json_string_value(json_object_get(ins, "opcode")), operand ? " " : "",
                         operand ? operand : "");
                ck_assert_msg(text && strstr(text, back), "%s: '%s' not in:\n%s", fixtures[f], back,
                              text);
                line = strtok_r(NULL, "\n", &save);
                count++;
            }
        }
        for (; line; line = strtok_r(NULL, "\n", &save)) {
            unsigned off;
            char op[32];
            ck_assert_msg(!(sscanf(line, " IL_%4x: %31s", &off, op) == 2 && op[0] != 'I'),
                          "%s: monodis lists more instructions: %s", fixtures[f], line);
        }
        ck_assert_uint_gt(count, 0);
        json_decref(o);
        fx_result_free(&m);
        fx_result_free(&r);
        fx_result_free(&t);
    }
}
END_TEST

/* Native code through Capstone against objdump on the same ELF symbol. */
START_TEST(native_matches_objdump)
{
    char path[4096];
    fx_path(path, sizeof path, "libilgfix.so");
    if (!fx_require(access(path, R_OK) == 0 && fx_have_program("objdump"),
                    "%s or objdump not found", path))
        return;
    fx_result r = run("dis", "--native", "ilgfix_add", path);
    ck_assert_int_eq(r.status, 0);
    const char *oargv[] = { "objdump", "-d", "--no-show-raw-insn", "--disassemble=ilgfix_add", path, NULL };
    fx_result o;
    ck_assert(fx_run(oargv, &o));
    /* every instruction address objdump lists for the symbol appears in our listing */
    unsigned matched = 0;
    char *save = NULL;
    for (char *line = strtok_r(o.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned long addr;
        char colon;
        if (sscanf(line, " %lx%c", &addr, &colon) == 2 && colon == ':' && strchr(line, '\t')) {
            char want[32];
            snprintf(want, sizeof want, "%#lx:", addr);
            ck_assert_msg(strstr(r.out, want) != NULL, "objdump address %s missing in:\n%s", want, r.out);
            matched++;
        }
    }
    ck_assert_uint_ge(matched, 1);
    fx_result_free(&o);
    fx_result_free(&r);
}
END_TEST

/* A method's precompiled code (ReadyToRun fixture), named the three ways `dis` takes a
 * method: the listing starts at the RVA crossgen2's perfmap gives, and its instruction
 * bytes, in order, are the file's bytes of the whole method (main code and funclets,
 * perfmap size), which makes every instruction the right length too. */
START_TEST(native_method_matches_the_perfmap)
{
    char r2r_dll[4096];
    if (!fx_r2r_fixture(r2r_dll, sizeof r2r_dll))
        return;
    fx_perf_line lines[256];
    int n = fx_read_perfmap(lines, 256);
    ck_assert_int_gt(n, 0);
    const fx_perf_line *guarded = NULL;
    for (int i = 0; i < n; i++)
        if (strstr(lines[i].name, "::Guarded("))
            guarded = &lines[i];
    ck_assert_ptr_nonnull(guarded);
    ilg_image *img;
    const ilg_metadata *md;
    ilg_image_info ii;
    const uint8_t *file;
    size_t file_size;
    uint64_t off;
    ck_assert_int_eq(ilg_image_open(r2r_dll, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    ilg_image_get_info(img, &ii);
    ck_assert_int_eq(ilg_image_file_bytes(img, &file, &file_size), ILG_OK);
    ck_assert_int_eq(ilg_image_rva_to_offset(img, guarded->rva, &off), ILG_OK);
    uint32_t rid = 0;
    for (uint32_t r = 1; r <= ilg_md_row_count(md, ILG_TBL_MethodDef) && !rid; r++) {
        char name[512];
        ck_assert_int_eq(ilg_md_method_name(md, r, name, sizeof name, NULL), ILG_OK);
        if (strstr(name, "::Guarded("))
            rid = r;
    }
    char token[16], row[16];
    snprintf(token, sizeof token, "0x%08x", 0x06000000u | rid);
    snprintf(row, sizeof row, "%u", rid);
    const char *const ways[] = { "Calc::Guarded", token, row };
    for (size_t w = 0; w < 3; w++) {
        fx_result r = run("dis", "--native", ways[w], r2r_dll);
        ck_assert_msg(r.status == 0, "dis --native %s: %s", ways[w], r.err);
        char first[32];
        snprintf(first, sizeof first, "%#llx:", (unsigned long long)(ii.preferred_base + guarded->rva));
        ck_assert_msg(strstr(r.out, first) != NULL, "no instruction at %s:\n%s", first, r.out);
        /* The hex column of every instruction line, concatenated. */
        uint32_t got = 0;
        char *save = NULL;
        for (char *line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            unsigned long long addr;
            char hex[64];
            if (sscanf(line, " %llx: %63s", &addr, hex) != 2)
                continue;
            ck_assert_uint_eq(addr, ii.preferred_base + guarded->rva + got);
            for (size_t k = 0; hex[k] && hex[k + 1]; k += 2) {
                unsigned byte;
                ck_assert_int_eq(sscanf(hex + k, "%2x", &byte), 1);
                ck_assert_msg(got < guarded->size && file[off + got] == byte,
                              "byte %u of Guarded: listed 0x%02x, file 0x%02x", got, byte,
                              got < guarded->size ? file[off + got] : 0);
                got++;
            }
        }
        ck_assert_uint_eq(got, guarded->size);
        fx_result_free(&r);
    }
    ilg_image_close(img);
    fx_result r = run("dis", "--native", "NoSuchMethod", r2r_dll);
    ck_assert_int_eq(r.status, 1);
    fx_result_free(&r);
    r = run("dis", "--native", "0x06FFFFFF", r2r_dll);
    ck_assert_int_eq(r.status, 2);
    fx_result_free(&r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ilbody_cli");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, dis_matches_the_source);
    tcase_add_test(tc, dis_json_matches_monodis);
    tcase_add_test(tc, verify_lists_every_finding);
    tcase_add_test(tc, roundtrip_counts);
    tcase_add_test(tc, usage_and_input_errors);
    tcase_add_test(tc, native_matches_objdump);
    tcase_add_test(tc, native_method_matches_the_perfmap);
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
