/* test_metadata.c: the metadata reader on ilasm-built fixtures, with expectations taken
 * from the fixtures' IL source and the spec (body sizes count the instruction bytes the
 * source names), and on mscorlib against monodis; the ReadyToRun reader on the
 * crossgen2-built fixture against crossgen2's own perfmap of it. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ilgraft/metadata.h"
#include "unit/fixture_util.h"


static ilg_image *img;
static const ilg_metadata *md;

static void setup_calc(void)
{
    char path[4096];
    fx_path(path, sizeof path, "calc.exe");
    ck_assert_int_eq(ilg_image_open(path, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
}

static void teardown(void)
{
    ilg_image_close(img);
    img = NULL;
    md = NULL;
}

START_TEST(root_streams_and_tables)
{
    ilg_md_info mi;
    ck_assert_int_eq(ilg_md_get_info(md, &mi), ILG_OK);
    ck_assert_uint_eq(mi.runtime_major, 2);
    /* ECMA-335 II.25.3.3 says 2.0, which Mono's ilasm writes; Microsoft's tools write 2.5. */
    ck_assert(mi.runtime_minor == 0 || mi.runtime_minor == 5);
    ck_assert_str_eq(mi.version, "v4.0.30319");
    ck_assert(!mi.uncompressed);
    ck_assert_uint_eq(mi.entry_point, 0x06000004); /* Main, the fourth method in calc.il */
    ck_assert_uint_eq(mi.rows[ILG_TBL_Module], 1);
    ck_assert_uint_eq(mi.rows[ILG_TBL_MethodDef], 5); /* Add, Mul, .ctor, Main, Probe */
    ck_assert_uint_eq(mi.rows[ILG_TBL_Assembly], 1);
    ck_assert_uint_eq(ilg_md_row_count(md, ILG_TBL_TypeDef), 2); /* <Module> and Calc */
    const char *names[] = { "#~", "#Strings", "#US", "#GUID", "#Blob" };
    for (size_t i = 0; i < 5; i++) {
        bool found = false;
        for (uint32_t k = 0; k < mi.stream_count; k++)
            found |= strcmp(mi.streams[k].name, names[i]) == 0;
        ck_assert_msg(found, "stream %s missing", names[i]);
    }
    /* The Valid mask has a bit for exactly the tables with rows. */
    for (int t = 0; t < ILG_TBL_COUNT; t++)
        ck_assert_int_eq((int)(mi.valid_mask >> t & 1), mi.rows[t] != 0);
}
END_TEST

START_TEST(schema_from_the_def_file)
{
    ilg_column_info c;
    ck_assert_str_eq(ilg_md_table_name(ILG_TBL_MethodDef), "MethodDef");
    ck_assert_uint_eq(ilg_md_column_count(ILG_TBL_MethodDef), 6);
    ck_assert_uint_eq(ilg_md_column_count(ILG_TBL_Assembly), 9);
    ck_assert_uint_eq(ilg_md_column_count(ILG_TBL_GenericParamConstraint), 2);
    ck_assert_int_eq(ilg_md_column(md, ILG_TBL_TypeDef, 3, &c), ILG_OK);
    ck_assert_str_eq(c.name, "Extends");
    ck_assert_int_eq(c.kind, ILG_COL_CODED);
    ck_assert_int_eq(c.target, ILG_CODED_TypeDefOrRef);
    ck_assert_uint_eq(c.width, 2);
    ck_assert_int_eq(ilg_md_column(md, ILG_TBL_MethodDef, 0, &c), ILG_OK);
    ck_assert_str_eq(c.name, "RVA");
    ck_assert_uint_eq(c.width, 4);
    ck_assert_int_eq(ilg_md_column(md, ILG_TBL_MethodDef, 6, &c), ILG_E_INVALID_ARG);
    ck_assert_str_eq(ilg_md_coded_name(ILG_CODED_HasCustomAttribute), "HasCustomAttribute");
}
END_TEST

START_TEST(cells_heaps_and_names)
{
    uint32_t v;
    const char *s;
    ck_assert_int_eq(ilg_md_cell(md, ILG_TBL_Module, 1, 1, &v), ILG_OK);
    ck_assert_int_eq(ilg_md_string(md, v, &s), ILG_OK);
    ck_assert_str_eq(s, "calc.exe");
    ck_assert_int_eq(ilg_md_cell(md, ILG_TBL_Module, 1, 2, &v), ILG_OK);
    const uint8_t *guid;
    ck_assert_int_eq(ilg_md_guid(md, v, &guid), ILG_OK);
    ck_assert_int_eq(ilg_md_cell(md, ILG_TBL_Module, 2, 0, &v), ILG_E_RANGE);
    /* Calc extends [mscorlib]System.Object: a coded index decoded to a TypeRef token. */
    ck_assert_int_eq(ilg_md_cell(md, ILG_TBL_TypeDef, 2, 3, &v), ILG_OK);
    ck_assert_uint_eq(v >> 24, ILG_TBL_TypeRef);
    char buf[256];
    ck_assert_int_eq(ilg_md_type_name(md, v, buf, sizeof buf, NULL), ILG_OK);
    ck_assert_str_eq(buf, "[mscorlib]System.Object");
    ck_assert_int_eq(ilg_md_type_name(md, 0x02000002, buf, sizeof buf, NULL), ILG_OK);
    ck_assert_str_eq(buf, "Calc");
    size_t need = 0;
    ck_assert_int_eq(ilg_md_type_name(md, v, buf, 5, &need), ILG_E_RANGE);
    ck_assert_uint_eq(need, strlen("[mscorlib]System.Object"));
    ck_assert_str_eq(buf, "[msc");
}
END_TEST

START_TEST(methods_names_and_bodies)
{
    /* From calc.il: names, owners, and body sizes = the instruction bytes listed there
     * (ldarg.0/ldarg.1/add/ret are one byte each; call and ldstr are five; ldc.i4.2 one). */
    static const struct {
        const char *name;
        uint32_t code;
    } want[] = {
        { "int32 Calc::Add(int32, int32)", 4 },
        { "int32 Calc::Mul(int32, int32)", 4 },
        { "instance void Calc::.ctor()", 7 },
        { "void Calc::Main()", 13 },
        { "void Calc::Probe()", 11 },
    };
    for (uint32_t rid = 1; rid <= 5; rid++) {
        char buf[256];
        ilg_method_info m;
        ilg_method_body b;
        ck_assert_int_eq(ilg_md_method(md, rid, &m), ILG_OK);
        ck_assert_uint_eq(m.token, 0x06000000 | rid);
        ck_assert_uint_eq(m.owner, 0x02000002);
        ck_assert_int_eq(ilg_md_method_name(md, rid, buf, sizeof buf, NULL), ILG_OK);
        ck_assert_str_eq(buf, want[rid - 1].name);
        ck_assert_int_eq(ilg_md_method_body(md, rid, &b), ILG_OK);
        ck_assert_int_eq(b.kind, ILG_BODY_TINY);
        ck_assert_uint_eq(b.code_size, want[rid - 1].code);
        ck_assert_uint_eq(b.header_size, 1);
        ck_assert_uint_eq(b.body_size, 1 + want[rid - 1].code);
        ck_assert_uint_eq(b.max_stack, 8);
        ck_assert_uint_eq(b.rva, m.rva);
        ck_assert_uint_eq(b.header[0], (want[rid - 1].code << 2) | 2);
        ck_assert_ptr_eq(b.code, b.header + 1);
    }
    ilg_method_info m;
    ck_assert_int_eq(ilg_md_method(md, 6, &m), ILG_E_RANGE);
    ck_assert_int_eq(ilg_md_method(md, 0, &m), ILG_E_RANGE);
}
END_TEST

START_TEST(call_shapes_from_signatures)
{
    /* Main: ldc.i4.2 ldc.i4.3 call Calc::Add call Console::WriteLine(int32) ret. */
    ilg_method_body b;
    ck_assert_int_eq(ilg_md_method_body(md, 4, &b), ILG_OK);
    ck_assert_uint_eq(b.code[2], 0x28);
    uint32_t add = b.code[3] | b.code[4] << 8 | b.code[5] << 16 | (uint32_t)b.code[6] << 24;
    uint32_t wl = b.code[8] | b.code[9] << 8 | b.code[10] << 16 | (uint32_t)b.code[11] << 24;
    ck_assert_uint_eq(add, 0x06000001);
    ck_assert_uint_eq(wl >> 24, 0x0A); /* a MemberRef */
    uint32_t pops;
    bool this_, pushes;
    ck_assert_int_eq(ilg_md_call_shape(md, add, &pops, &this_, &pushes), ILG_OK);
    ck_assert_uint_eq(pops, 2);
    ck_assert(!this_ && pushes);
    ck_assert_int_eq(ilg_md_call_shape(md, wl, &pops, &this_, &pushes), ILG_OK);
    ck_assert_uint_eq(pops, 1);
    ck_assert(!this_ && !pushes);
    ck_assert_int_eq(ilg_md_call_shape(md, 0x06000003, &pops, &this_, &pushes), ILG_OK);
    ck_assert_uint_eq(pops, 1); /* .ctor: this only */
    ck_assert(this_ && !pushes);
    ck_assert_int_eq(ilg_md_call_shape(md, 0x06000009, &pops, &this_, &pushes), ILG_E_NOT_FOUND);
    ck_assert_int_eq(ilg_md_call_shape(md, 0x02000001, &pops, &this_, &pushes), ILG_E_INVALID_ARG);
}
END_TEST

START_TEST(native_image_has_no_metadata)
{
    ilg_image *e;
    const ilg_metadata *m = NULL;
    ck_assert_int_eq(ilg_image_open("/usr/lib/x86_64-linux-gnu/libz.so.1", NULL, &e), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(e, &m), ILG_E_CLI_ABSENT);
    ck_assert_ptr_null(m);
    ilg_image_close(e);
}
END_TEST

/* The monodis method table of mscorlib: same count, and every method's name. */
/* types.exe patched so the NestedClass rows form a cycle (II.22.32 makes nesting a
 * forest): the metadata must be refused at once with the row's file offset, so no walk
 * up the nesting can loop. Case 0: Middle nested in itself; case 1: Middle in Inner,
 * Inner in Middle. */
START_TEST(nesting_cycles_are_refused)
{
    char path[4096];
    size_t len = 0;
    fx_path(path, sizeof path, "types.exe");
    uint8_t *file = (uint8_t *)fx_read_file(path, &len);
    ck_assert_ptr_nonnull(file);
    ck_assert_int_eq(ilg_image_open(path, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    ck_assert_uint_eq(ilg_md_row_count(md, ILG_TBL_NestedClass), 2);
    uint32_t c[2][2]; /* [row][NestedClass, EnclosingClass] */
    for (uint32_t r = 0; r < 2; r++)
        for (uint32_t col = 0; col < 2; col++)
            ck_assert_int_eq(ilg_md_cell(md, ILG_TBL_NestedClass, r + 1, col, &c[r][col]), ILG_OK);
    ilg_image_close(img);
    img = NULL;
    /* Inner's row names Middle as its encloser: row 1 is (Middle, Outer), row 2 is
     * (Inner, Middle), in some order. */
    uint32_t inner_row = c[0][1] == c[1][0] ? 0 : 1, middle_row = 1 - inner_row;
    ck_assert_uint_eq(c[inner_row][1], c[middle_row][0]);
    /* The table's bytes (2-byte TypeDef indexes in an image this small), found once. */
    uint8_t rows[8];
    for (uint32_t r = 0; r < 2; r++)
        for (uint32_t col = 0; col < 2; col++) {
            rows[r * 4 + col * 2] = (uint8_t)c[r][col];
            rows[r * 4 + col * 2 + 1] = (uint8_t)(c[r][col] >> 8);
        }
    uint8_t *at = memmem(file, len, rows, sizeof rows);
    ck_assert_ptr_nonnull(at);
    ck_assert_ptr_null(memmem(at + 1, len - (size_t)(at + 1 - file), rows, sizeof rows));
    const uint64_t table_off = (uint64_t)(at - file);

    const uint32_t middle = c[middle_row][0], inner = c[inner_row][0];
    uint8_t *m = malloc(len);
    ck_assert_ptr_nonnull(m);
    memcpy(m, file, len);
    uint8_t *enc = m + table_off + middle_row * 4 + 2; /* Middle's EnclosingClass */
    enc[0] = (uint8_t)(_i == 0 ? middle : inner);
    enc[1] = (uint8_t)((_i == 0 ? middle : inner) >> 8);
    ck_assert_int_eq(ilg_image_open_memory(m, len, "types-cycle.exe", NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_E_MD_NESTING_CYCLE);
    const ilg_diag *d = ilg_last_diag();
    ck_assert_int_eq(d->where, ILG_WHERE_FILE);
    /* The row the walk closes the cycle at: Middle's (self) or either row (two). */
    ck_assert_msg(d->offset == table_off + middle_row * 4 ||
                      (_i == 1 && d->offset == table_off + inner_row * 4),
                  "offset 0x%llx, table at 0x%llx: %s", (unsigned long long)d->offset,
                  (unsigned long long)table_off, d->message);
    ck_assert_ptr_nonnull(strstr(d->message, "NestedClass["));
    free(m);
    free(file);
}
END_TEST

START_TEST(mscorlib_method_names_match_monodis)
{
    const char *path = "/usr/lib/mono/4.5/mscorlib.dll";
    const char *argv[] = { "monodis", "--method", path, NULL };
    fx_result r;
    ilg_image *im;
    const ilg_metadata *m;
    ck_assert(fx_run(argv, &r) && r.exited && r.status == 0);
    ck_assert_int_eq(ilg_image_open(path, NULL, &im), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(im, &m), ILG_OK);
    unsigned n = 0;
    ck_assert_int_eq(sscanf(r.out, "Method Table (1..%u)", &n), 1);
    ck_assert_uint_eq(n, ilg_md_row_count(m, ILG_TBL_MethodDef));
    /* monodis prints "N: ... Name (params)  (param: ...)"; ".ctor" style names are quoted. */
    unsigned checked = 0;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned rid;
        int used;
        if (sscanf(line, "%u: %n", &rid, &used) != 1)
            continue;
        ilg_method_info mi;
        ck_assert_int_eq(ilg_md_method(m, rid, &mi), ILG_OK);
        ck_assert_msg(strstr(line, mi.name) != NULL, "method %u: ilgraft '%s', monodis '%s'", rid,
                      mi.name, line);
        checked++;
    }
    ck_assert_uint_eq(checked, n);
    ilg_image_close(im);
    fx_result_free(&r);
}
END_TEST

/* ---- names kept by the metadata (type and signature texts, signature.c) ------------ */

/* A type nested DEEP_LEVELS levels (N0/N1/.../N62, owning Inner), a method naming it
 * as a parameter (its text reaches 2 + 62 = 64 levels, the most a signature may) and
 * one naming it as a generic argument (65: refused). Written and assembled by ilasm at
 * test time. */
#define DEEP_LEVELS 62

static bool deep_fixture(char *dir, size_t dir_size, char *dll, size_t dll_size)
{
    if (!fx_require(fx_have_program("ilasm"), "ilasm not found"))
        return false;
    snprintf(dir, dir_size, "/tmp/ilg-metadata-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char il[300], out[320], path[600] = "";
    snprintf(il, sizeof il, "%s/deep.il", dir);
    snprintf(dll, dll_size, "%s/deep.dll", dir);
    FILE *f = fopen(il, "w");
    ck_assert_ptr_nonnull(f);
    fputs(".assembly extern mscorlib {}\n.assembly deep {}\n", f);
    for (int i = 0; i <= DEEP_LEVELS; i++) {
        fprintf(f, ".class %s N%d extends [mscorlib]System.Object {\n", i ? "nested public" : "public", i);
        snprintf(path + strlen(path), sizeof path - strlen(path), "%sN%d", i ? "/" : "", i);
    }
    fputs(".method public static void Inner() { ret }\n", f);
    for (int i = 0; i <= DEEP_LEVELS; i++)
        fputs("}\n", f);
    fprintf(f,
            ".class public G`1<T> extends [mscorlib]System.Object {}\n"
            ".class public User extends [mscorlib]System.Object {\n"
            ".method public static void Shallow(class %s x) { ret }\n"
            ".method public static void Deep(class G`1<class %s> x) { ret }\n}\n",
            path, path);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(out, sizeof out, "/output:%s", dll);
    const char *argv[] = { "ilasm", "/quiet", "/dll", out, il, NULL };
    fx_result r;
    ck_assert(fx_run(argv, &r));
    ck_assert_msg(r.exited && r.status == 0, "ilasm failed: %s%s", r.out, r.err);
    fx_result_free(&r);
    unlink(il);
    return true;
}

/* A type's text is kept once made, but the depth limit applies where it is used: in
 * every order of naming (the deepest type, its method Inner, Shallow, Deep), on a
 * fresh image each time, Inner and Shallow read as the IL source writes them and Deep
 * is refused. A kept text that ignored its depth would let Deep through once Shallow or
 * the type had been named. */
START_TEST(kept_type_names_keep_the_depth_limit)
{
    char dir[64], dll[128];
    if (!deep_fixture(dir, sizeof dir, dll, sizeof dll))
        return;
    char path[600] = "", inner[700], shallow[700];
    for (int i = 0; i <= DEEP_LEVELS; i++)
        snprintf(path + strlen(path), sizeof path - strlen(path), "%sN%d", i ? "/" : "", i);
    snprintf(inner, sizeof inner, "void %s::Inner()", path);
    snprintf(shallow, sizeof shallow, "void User::Shallow(class %s)", path);
    /* The four names in each of the 24 orders: o's digits in base 4 pick them. */
    unsigned orders = 0;
    for (unsigned o = 0; o < 256; o++) {
        unsigned pick[4] = { o & 3, o >> 2 & 3, o >> 4 & 3, o >> 6 & 3 };
        if ((1u << pick[0] | 1u << pick[1] | 1u << pick[2] | 1u << pick[3]) != 15)
            continue;
        orders++;
        ck_assert_int_eq(ilg_image_open(dll, NULL, &img), ILG_OK);
        ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
        uint32_t deepest = 0;
        for (uint32_t r = 1; r <= ilg_md_row_count(md, ILG_TBL_TypeDef) && !deepest; r++) {
            uint32_t ni = 0;
            const char *name;
            ck_assert_int_eq(ilg_md_cell(md, ILG_TBL_TypeDef, r, 1, &ni), ILG_OK);
            ck_assert_int_eq(ilg_md_string(md, ni, &name), ILG_OK);
            if (strcmp(name, "N62") == 0)
                deepest = 0x02000000u | r;
        }
        ck_assert_uint_ne(deepest, 0);
        for (unsigned k = 0; k < 4; k++) {
            char buf[1024];
            switch (pick[k]) {
            case 0:
                ck_assert_int_eq(ilg_md_type_name(md, deepest, buf, sizeof buf, NULL), ILG_OK);
                ck_assert_str_eq(buf, path);
                break;
            case 1:
                ck_assert_int_eq(ilg_md_method_name(md, 1, buf, sizeof buf, NULL), ILG_OK);
                ck_assert_str_eq(buf, inner);
                break;
            case 2: {
                /* Cut to 40 bytes first: the text is cut, the size needed is the whole. */
                size_t need = 0;
                ck_assert_int_eq(ilg_md_method_name(md, 2, buf, 40, &need), ILG_E_RANGE);
                ck_assert_uint_eq(need, strlen(shallow));
                ck_assert_int_eq(strncmp(buf, shallow, 39), 0);
                ck_assert_uint_eq(strlen(buf), 39);
                ck_assert_int_eq(ilg_md_method_name(md, 2, buf, sizeof buf, NULL), ILG_OK);
                ck_assert_str_eq(buf, shallow);
                break;
            }
            default:
                ck_assert_int_eq(ilg_md_method_name(md, 3, buf, sizeof buf, NULL), ILG_E_MD_BAD_SIG);
                ck_assert_ptr_nonnull(strstr(ilg_last_diag()->message, "deeper than 64 levels"));
                break;
            }
        }
        ilg_image_close(img);
        img = NULL;
    }
    ck_assert_uint_eq(orders, 24);
    unlink(dll);
    rmdir(dir);
}
END_TEST

/* Every name of an image: its methods, member references and types, in item order. */
typedef struct name_job {
    const ilg_metadata *md;
    uint32_t start;          /* the item this thread names first (then on, wrapping) */
    pthread_barrier_t *go;
    char **names;            /* [item], malloc'd ("failed: " and the status, when it fails) */
} name_job;

static uint32_t name_items(const ilg_metadata *m)
{
    return ilg_md_row_count(m, ILG_TBL_MethodDef) + ilg_md_row_count(m, ILG_TBL_MemberRef) +
           ilg_md_row_count(m, ILG_TBL_TypeDef) + ilg_md_row_count(m, ILG_TBL_TypeRef);
}

static char *name_item(const ilg_metadata *m, uint32_t item)
{
    static const ilg_table tables[] = { ILG_TBL_MethodDef, ILG_TBL_MemberRef, ILG_TBL_TypeDef,
                                        ILG_TBL_TypeRef };
    char buf[4096];
    ilg_status st = ILG_OK;
    for (size_t t = 0; t < 4; t++) {
        uint32_t rows = ilg_md_row_count(m, tables[t]);
        if (item >= rows) {
            item -= rows;
            continue;
        }
        uint32_t token = (uint32_t)tables[t] << 24 | (item + 1);
        st = t == 0   ? ilg_md_method_name(m, item + 1, buf, sizeof buf, NULL)
             : t == 1 ? ilg_md_member_name(m, token, buf, sizeof buf, NULL)
                      : ilg_md_type_name(m, token, buf, sizeof buf, NULL);
        break;
    }
    if (st != ILG_OK)
        snprintf(buf, sizeof buf, "failed: %s", ilg_status_name(st));
    return strdup(buf);
}

static void *name_all(void *arg)
{
    name_job *j = arg;
    const uint32_t n = name_items(j->md);
    if (j->go)
        pthread_barrier_wait(j->go);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t item = (j->start + k) % n;
        j->names[item] = name_item(j->md, item);
    }
    return NULL;
}

/* Several threads naming everything in mscorlib at once, each starting elsewhere, make
 * and share the kept texts; every name equals the one a single thread gives on its own
 * image, naming backwards (so that other items make the texts first). The threads
 * case of the ThreadSanitizer job may run this too. */
START_TEST(names_from_threads_equal_one_thread)
{
    static const char corlib[] = "/usr/lib/mono/4.5/mscorlib.dll";
    enum { THREADS = 4 };
    if (!fx_require(access(corlib, R_OK) == 0, "%s not found", corlib))
        return;
    ilg_image *one;
    const ilg_metadata *m1;
    ck_assert_int_eq(ilg_image_open(corlib, NULL, &one), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(one, &m1), ILG_OK);
    const uint32_t n = name_items(m1);
    char **want = calloc(n, sizeof *want);
    ck_assert_ptr_nonnull(want);
    for (uint32_t k = n; k-- > 0;)
        want[k] = name_item(m1, k);
    ck_assert_int_eq(ilg_image_open(corlib, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, THREADS);
    pthread_t tid[THREADS];
    name_job jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (name_job){ md, (uint32_t)((uint64_t)n * t / THREADS), &go,
                              calloc(n, sizeof(char *)) };
        ck_assert_ptr_nonnull(jobs[t].names);
        ck_assert_int_eq(pthread_create(&tid[t], NULL, name_all, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
    pthread_barrier_destroy(&go);
    uint32_t failed = 0;
    for (uint32_t k = 0; k < n; k++) {
        failed += strncmp(want[k], "failed: ", 8) == 0;
        for (int t = 0; t < THREADS; t++) {
            ck_assert_msg(strcmp(jobs[t].names[k], want[k]) == 0, "item %u, thread %d: '%s', alone '%s'",
                          k, t, jobs[t].names[k], want[k]);
            free(jobs[t].names[k]);
        }
        free(want[k]);
    }
    /* mscorlib names whole: nothing refused. */
    ck_assert_uint_eq(failed, 0);
    for (int t = 0; t < THREADS; t++)
        free(jobs[t].names);
    free(want);
    ilg_image_close(one);
}
END_TEST

/* True when some row of table in fixture name reads as want through ilg_md_member_name. */
static bool has_member(const char *name, ilg_table table, const char *want)
{
    char path[4096], buf[1024];
    ilg_image *im;
    const ilg_metadata *m;
    fx_path(path, sizeof path, name);
    ck_assert_int_eq(ilg_image_open(path, NULL, &im), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(im, &m), ILG_OK);
    bool found = false;
    for (uint32_t rid = 1; rid <= ilg_md_row_count(m, table) && !found; rid++) {
        ck_assert_int_eq(ilg_md_member_name(m, (uint32_t)table << 24 | rid, buf, sizeof buf, NULL), ILG_OK);
        found = strcmp(buf, want) == 0;
    }
    ilg_image_close(im);
    return found;
}

/* Member references as the IL sources (fixtures/il) write them at their call sites. */
START_TEST(member_names_read_as_in_the_il_source)
{
    static const struct {
        const char *fixture;
        ilg_table table;
        const char *name;
    } cases[] = {
        { "calc.exe", ILG_TBL_MemberRef, "void [mscorlib]System.Console::WriteLine(int32)" },
        { "calc.exe", ILG_TBL_MemberRef, "instance void [mscorlib]System.Object::.ctor()" },
        /* a method instantiation (MethodSpec) on a generic type instance (TypeSpec) */
        { "generics.exe", ILG_TBL_MethodSpec, "instance string class Box`1<int32>::Map<string>(!!0)" },
        { "generics.exe", ILG_TBL_MethodSpec, "!!0 [mscorlib]System.Activator::CreateInstance<!0>()" },
        /* a field through a generic TypeSpec (the source's !T is type parameter 0) */
        { "generics.exe", ILG_TBL_MemberRef, "!0 class Box`1<!0>::item" },
        { "generics.exe", ILG_TBL_MemberRef,
          "instance int32 class [mscorlib]System.IComparable`1<!!0>::CompareTo(!0)" },
        /* field definitions, with their owner */
        { "generics.exe", ILG_TBL_Field, "!0 Box`1::item" },
        { "bodies.exe", ILG_TBL_Field, "int32 Shape::side" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(has_member(cases[i].fixture, cases[i].table, cases[i].name), "%s: no %s reads '%s'",
                      cases[i].fixture, ilg_md_table_name(cases[i].table), cases[i].name);

    /* calc.exe (the fixture of this test case): other tables, bad rows, short buffers */
    char buf[16];
    size_t need = 0;
    ck_assert_int_eq(ilg_md_member_name(md, 0x02000001, buf, sizeof buf, NULL), ILG_E_NOT_FOUND);
    ck_assert_int_eq(ilg_md_member_name(md, 0x0A000000, buf, sizeof buf, NULL), ILG_E_NOT_FOUND);
    ck_assert_int_eq(ilg_md_member_name(md, 0x0A00FFFF, buf, sizeof buf, NULL), ILG_E_NOT_FOUND);
    ilg_status st = ILG_OK;
    for (uint32_t rid = 1; rid <= ilg_md_row_count(md, ILG_TBL_MemberRef) && st == ILG_OK; rid++)
        st = ilg_md_member_name(md, 0x0A000000u | rid, buf, sizeof buf, &need);
    ck_assert_int_eq(st, ILG_E_RANGE);
    ck_assert_uint_ge(need, sizeof buf);
    ck_assert_uint_eq(strlen(buf), sizeof buf - 1);
}
END_TEST

/* ---- ReadyToRun --------------------------------------------------------------------- */

/* "Type::Method" of a name, generic arguments and signature dropped: "System.Int32
 * Precompiled.Box`1[System.Int32]::Get()" and "instance int32 Precompiled.Box`1::Get()"
 * both give "Precompiled.Box`1::Get". */
static void type_and_method(const char *full, char *out, size_t size)
{
    const char *colons = strstr(full, "::");
    ck_assert_ptr_nonnull(colons);
    const char *start = colons;
    while (start > full && start[-1] != ' ')
        start--;
    size_t n = 0;
    int depth = 0;
    for (const char *p = start; *p && *p != '(' && n + 1 < size; p++) {
        if (*p == '[' || *p == '<')
            depth++;
        else if (*p == ']' || *p == '>')
            depth--;
        else if (depth == 0)
            out[n++] = *p;
    }
    out[n] = 0;
}

static uint32_t rid_of(const ilg_metadata *m, const char *type_and_name)
{
    for (uint32_t rid = 1; rid <= ilg_md_row_count(m, ILG_TBL_MethodDef); rid++) {
        char name[512], short_name[256];
        ck_assert_int_eq(ilg_md_method_name(m, rid, name, sizeof name, NULL), ILG_OK);
        type_and_method(name, short_name, sizeof short_name);
        if (strcmp(short_name, type_and_name) == 0)
            return rid;
    }
    ck_abort_msg("no method %s", type_and_name);
    return 0;
}

/* Every method with precompiled code, MethodDef entries and instantiations alike, is at
 * the RVA and of the size crossgen2 wrote in its perfmap (the main code and its
 * funclets), under the same name, and the perfmap lists nothing else. */
START_TEST(readytorun_fixture_matches_crossgen2_perfmap)
{
    char dll[4096];
    if (!fx_r2r_fixture(dll, sizeof dll))
        return;
    fx_perf_line lines[256];
    int read = fx_read_perfmap(lines, 256);
    ck_assert_int_gt(read, 0);
    const size_t nlines = (size_t)read;
    const ilg_r2r *r2r;
    ilg_r2r_info in;
    ck_assert_int_eq(ilg_image_open(dll, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    ck_assert_int_eq(ilg_image_readytorun(img, &r2r), ILG_OK);
    ck_assert_int_eq(ilg_r2r_get_info(r2r, &in), ILG_OK);
    ck_assert_msg(strncmp(in.compiler, "Crossgen2 ", 10) == 0, "compiler '%s'", in.compiler);
    ck_assert_str_eq(in.os_name, "Linux");
    ck_assert(in.machine == 0x8664 || in.machine == 0xAA64);
    ck_assert_uint_eq(in.runtime_function_size, in.machine == 0x8664 ? 12 : 8);
    ck_assert_uint_eq(in.methoddef_slots, ilg_md_row_count(md, ILG_TBL_MethodDef));
    const uint32_t n = ilg_r2r_method_count(r2r);
    ck_assert_uint_eq(n, nlines);
    ck_assert_uint_eq(n, in.methoddef_entries + in.instance_entries);
    for (uint32_t i = 0; i < n; i++) {
        ilg_r2r_method_info m;
        ck_assert_int_eq(ilg_r2r_method(r2r, i, &m), ILG_OK);
        ck_assert_uint_eq(m.instance, i >= in.methoddef_entries);
        fx_perf_line *l = NULL;
        for (size_t k = 0; k < nlines && !l; k++)
            if (lines[k].rva == m.code_rva)
                l = &lines[k];
        ck_assert_msg(l != NULL, "method 0x%08x at RVA 0x%x is not in the perfmap", m.token, m.code_rva);
        ck_assert_msg(!l->used && l->size == m.code_size, "%s: perfmap size %u, read %u (%s)",
                      l->name, l->size, m.code_size, l->used ? "twice" : "once");
        l->used = true;
        char ours[512], a[256], b[256];
        ck_assert_int_eq(ilg_md_method_name(md, m.token & 0xFFFFFF, ours, sizeof ours, NULL), ILG_OK);
        type_and_method(ours, a, sizeof a);
        type_and_method(l->name, b, sizeof b);
        ck_assert_msg(strcmp(a, b) == 0, "RVA 0x%x: %s here, %s in the perfmap", m.code_rva, a, b);
        ilg_r2r_function_info rf;
        ck_assert_int_eq(ilg_r2r_runtime_function(r2r, m.runtime_function, &rf), ILG_OK);
        ck_assert_uint_eq(rf.begin, m.code_rva);
        ck_assert_uint_eq(rf.end - rf.begin, m.main_size);
    }
}
END_TEST

/* What the fixture's source makes of its methods (Program.cs): Guarded's catch and
 * finally are two funclets after its main code; Twice and Box<T>.Plus inline Add; Sum
 * touches nothing outside itself (no fixups), Main calls the console (fixups); generic
 * Pick has no MethodDef entry, only instantiations. */
START_TEST(readytorun_fixture_shapes)
{
    char dll[4096];
    if (!fx_r2r_fixture(dll, sizeof dll))
        return;
    const ilg_r2r *r2r;
    ilg_r2r_info in;
    ilg_r2r_method_info m;
    ck_assert_int_eq(ilg_image_open(dll, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    ck_assert_int_eq(ilg_image_readytorun(img, &r2r), ILG_OK);
    ck_assert_int_eq(ilg_r2r_get_info(r2r, &in), ILG_OK);
    const uint32_t add = rid_of(md, "Precompiled.Calc::Add"), twice = rid_of(md, "Precompiled.Calc::Twice");
    const uint32_t sum = rid_of(md, "Precompiled.Calc::Sum"), guarded = rid_of(md, "Precompiled.Calc::Guarded");
    const uint32_t pick = rid_of(md, "Precompiled.Calc::Pick"), plus = rid_of(md, "Precompiled.Box`1::Plus");
    const uint32_t main_rid = rid_of(md, "Precompiled.Program::Main");

    ck_assert_int_eq(ilg_r2r_method_for_rid(r2r, guarded, &m), ILG_OK);
    ck_assert_uint_eq(m.runtime_function_count, 3);
    ck_assert_uint_lt(m.main_size, m.code_size);
    ck_assert_int_eq(ilg_r2r_method_for_rid(r2r, sum, &m), ILG_OK);
    ck_assert(!m.has_fixups && m.fixups_rva == 0);
    ck_assert_int_eq(ilg_r2r_method_for_rid(r2r, main_rid, &m), ILG_OK);
    ck_assert(m.has_fixups && m.fixups_rva != 0);
    ck_assert_int_eq(ilg_r2r_method_for_rid(r2r, pick, &m), ILG_E_NOT_FOUND);
    unsigned pick_instances = 0, plus_instances = 0;
    for (uint32_t i = in.methoddef_entries; i < ilg_r2r_method_count(r2r); i++) {
        ck_assert_int_eq(ilg_r2r_method(r2r, i, &m), ILG_OK);
        ck_assert(m.instance && m.sig_size > 0 && m.entry_rva == m.sig_rva + m.sig_size);
        ck_assert_uint_lt(m.bucket, in.instance_buckets);
        if (m.token == (0x06000000u | pick)) {
            pick_instances++;
            ck_assert(m.sig_flags & ILG_R2R_SIG_METHOD_INSTANTIATION);
        }
        if (m.token == (0x06000000u | plus)) {
            plus_instances++;
            ck_assert(m.sig_flags & ILG_R2R_SIG_OWNER_TYPE);
        }
    }
    ck_assert_uint_eq(pick_instances, 2);  /* Pick<int32> and the shared Pick<__Canon> */
    ck_assert_uint_eq(plus_instances, 2);
    bool twice_add = false, plus_add = false;
    for (uint32_t i = 0; i < in.inline_count; i++) {
        ilg_r2r_inline_info x;
        ck_assert_int_eq(ilg_r2r_inline(r2r, i, &x), ILG_OK);
        ck_assert(!x.inliner_cross_module && !x.inlinee_cross_module);
        ck_assert_uint_eq(x.inliner_module, 0);
        ck_assert_uint_ne(x.inliner, 0x06000000u | sum);
        twice_add |= x.inliner == (0x06000000u | twice) && x.inlinee == (0x06000000u | add);
        plus_add |= x.inliner == (0x06000000u | plus) && x.inlinee == (0x06000000u | add);
    }
    ck_assert(twice_add && plus_add);
    ck_assert_int_eq(ilg_r2r_method(r2r, ilg_r2r_method_count(r2r), &m), ILG_E_RANGE);
    ck_assert_int_eq(ilg_r2r_runtime_function(r2r, in.runtime_function_count, &(ilg_r2r_function_info){ 0 }),
                     ILG_E_RANGE);
}
END_TEST

/* Images without ReadyToRun code say so, every time; bad arguments are refused. */
START_TEST(readytorun_absent_and_bad_arguments)
{
    const ilg_r2r *r2r = NULL;
    ilg_image *elf;
    char path[4096];
    ck_assert_int_eq(ilg_image_readytorun(img, &r2r), ILG_E_R2R_ABSENT);
    ck_assert_int_eq(ilg_image_readytorun(img, &r2r), ILG_E_R2R_ABSENT);
    ck_assert_ptr_null(r2r);
    ck_assert_int_eq(ilg_image_readytorun(NULL, &r2r), ILG_E_INVALID_ARG);
    ck_assert_int_eq(ilg_image_readytorun(img, NULL), ILG_E_INVALID_ARG);
    ck_assert_int_eq(ilg_r2r_get_info(NULL, &(ilg_r2r_info){ 0 }), ILG_E_INVALID_ARG);
    ck_assert_uint_eq(ilg_r2r_method_count(NULL), 0);
    fx_path(path, sizeof path, "libilgfix.so");
    ck_assert_int_eq(ilg_image_open(path, NULL, &elf), ILG_OK);
    ck_assert_int_eq(ilg_image_readytorun(elf, &r2r), ILG_E_R2R_ABSENT);
    ilg_image_close(elf);
}
END_TEST

static Suite *metadata_suite(void)
{
    Suite *s = suite_create("metadata");
    TCase *tc = tcase_create("calc");
    tcase_add_checked_fixture(tc, setup_calc, teardown);
    tcase_add_test(tc, root_streams_and_tables);
    tcase_add_test(tc, schema_from_the_def_file);
    tcase_add_test(tc, cells_heaps_and_names);
    tcase_add_test(tc, methods_names_and_bodies);
    tcase_add_test(tc, call_shapes_from_signatures);
    tcase_add_test(tc, member_names_read_as_in_the_il_source);
    tcase_add_test(tc, readytorun_absent_and_bad_arguments);
    suite_add_tcase(s, tc);
    TCase *r2r = tcase_create("readytorun");
    tcase_add_checked_fixture(r2r, NULL, teardown);
    tcase_add_test(r2r, readytorun_fixture_matches_crossgen2_perfmap);
    tcase_add_test(r2r, readytorun_fixture_shapes);
    suite_add_tcase(s, r2r);
    TCase *other = tcase_create("other");
    tcase_set_timeout(other, 120);
    tcase_add_test(other, native_image_has_no_metadata);
    tcase_add_loop_test(other, nesting_cycles_are_refused, 0, 2);
    tcase_add_test(other, mscorlib_method_names_match_monodis);
    tcase_add_test(other, kept_type_names_keep_the_depth_limit);
    suite_add_tcase(s, other);
    TCase *threads = tcase_create("threads");
    tcase_set_timeout(threads, 300);
    tcase_add_checked_fixture(threads, NULL, teardown);
    tcase_add_test(threads, names_from_threads_equal_one_thread);
    suite_add_tcase(s, threads);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(metadata_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
