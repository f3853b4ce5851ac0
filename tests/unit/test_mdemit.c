/* test_mdemit.c: the metadata writer on ilasm-built fixtures and Mono's mscorlib: rows of
 * each kind defined, read back through the readers (ilgraft/metadata.h), serialized,
 * reopened and read back again; de-duplication as CoreCLR's MDDupDefault; column
 * widening past the 2-byte limits; the errors of bad arguments. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ilgraft/mdemit.h"
#include "ilgraft/metadata.h"
#include "md_private.h" /* ilg__md_raw: the stored value of a sorted key */
#include "unit/fixture_util.h"
#include "unit/test_mdemit.h"

ilg_image *img;
const ilg_metadata *md;
ilg_mdemit *em;

static void open_fixture(const char *name)
{
    char path[4096];
    if (name[0] == '/')
        snprintf(path, sizeof path, "%s", name);
    else
        fx_path(path, sizeof path, name);
    ck_assert_int_eq(ilg_image_open(path, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_open(img, &em), ILG_OK);
    md = ilg_mdemit_metadata(em);
    const ilg_metadata *same;
    ck_assert_int_eq(ilg_image_metadata(img, &same), ILG_OK);
    ck_assert_ptr_eq(same, md);
}

static void setup_calc(void) { open_fixture("calc.exe"); }
static void setup_types(void) { open_fixture("types.exe"); }

static void teardown(void)
{
    ilg_image_close(img);
    img = NULL;
    md = NULL;
    em = NULL;
}

/* Row r of t as text: every cell, strings and blobs by content, coded indices as
 * tokens; what two metadata objects must agree on whatever their heap offsets. */
static void row_text(const ilg_metadata *m, ilg_table t, uint32_t r, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    for (uint32_t c = 0; c < ilg_md_column_count(t); c++) {
        ilg_column_info ci;
        uint32_t v;
        ck_assert_int_eq(ilg_md_column(m, t, c, &ci), ILG_OK);
        ck_assert_int_eq(ilg_md_cell(m, t, r, c, &v), ILG_OK);
        if (ci.kind == ILG_COL_STR) {
            const char *s;
            ck_assert_int_eq(ilg_md_string(m, v, &s), ILG_OK);
            len += (size_t)snprintf(buf + len, size - len, "'%s' ", s);
        } else if (ci.kind == ILG_COL_BLOB) {
            const uint8_t *d;
            uint32_t n;
            ck_assert_int_eq(ilg_md_blob(m, v, &d, &n), ILG_OK);
            len += (size_t)snprintf(buf + len, size - len, "[");
            for (uint32_t i = 0; i < n && len + 4 < size; i++)
                len += (size_t)snprintf(buf + len, size - len, "%02x", d[i]);
            len += (size_t)snprintf(buf + len, size - len, "] ");
        } else if (ci.kind == ILG_COL_GUID) {
            const uint8_t *g;
            len += (size_t)snprintf(buf + len, size - len, "{%02x} ",
                                    v && ilg_md_guid(m, v, &g) == ILG_OK ? g[0] : 0);
        } else {
            len += (size_t)snprintf(buf + len, size - len, "%x ", v);
        }
        if (len >= size)
            break;
    }
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The rows of t in m as sorted texts (malloc'd; free with free_texts). */
static char **sorted_texts(const ilg_metadata *m, ilg_table t, uint32_t n)
{
    char **v = calloc(n + 1, sizeof *v), buf[8192];
    for (uint32_t r = 1; r <= n; r++) {
        row_text(m, t, r, buf, sizeof buf);
        v[r - 1] = strdup(buf);
    }
    qsort(v, n, sizeof *v, str_cmp);
    return v;
}

static void free_texts(char **v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Every row agrees between a and b. With limit (rows of a to compare, b may have more)
 * row by row; without, b is a's serialized form: the tables it marks sorted agree as
 * sets of rows (but for CustomAttribute and GenericParamConstraint when renumbered:
 * their references to re-sorted rows changed numbers), the others row by row. */
void same_rows(const ilg_metadata *a, const ilg_metadata *b, const uint32_t *limit, bool renumbered)
{
    static char x[8192], y[8192];
    ilg_md_info ib;
    ck_assert_int_eq(ilg_md_get_info(b, &ib), ILG_OK);
    for (int t = 0; t < ILG_TBL_COUNT; t++) {
        const uint32_t n = limit ? limit[t] : ilg_md_row_count(a, (ilg_table)t);
        if (!limit)
            ck_assert_uint_eq(ilg_md_row_count(b, (ilg_table)t), n);
        if (!limit && (ib.sorted_mask >> t & 1)) {
            if (renumbered && (t == ILG_TBL_GenericParamConstraint || t == ILG_TBL_CustomAttribute))
                continue;
            char **va = sorted_texts(a, (ilg_table)t, n), **vb = sorted_texts(b, (ilg_table)t, n);
            for (uint32_t i = 0; i < n; i++)
                ck_assert_msg(strcmp(va[i], vb[i]) == 0, "%s: %s vs %s", ilg_md_table_name((ilg_table)t), va[i], vb[i]);
            free_texts(va, n);
            free_texts(vb, n);
            continue;
        }
        for (uint32_t r = 1; r <= n; r++) {
            row_text(a, (ilg_table)t, r, x, sizeof x);
            row_text(b, (ilg_table)t, r, y, sizeof y);
            ck_assert_msg(strcmp(x, y) == 0, "%s[%u]: %s vs %s", ilg_md_table_name((ilg_table)t), r, x, y);
        }
    }
}

/* Serializes the writer's metadata and reopens it: *buf must be freed after *out. */
ilg_metadata *reopen(uint8_t **buf)
{
    size_t size;
    ilg_metadata *out;
    ck_assert_int_eq(ilg_mdemit_serialize(em, buf, &size), ILG_OK);
    ck_assert_uint_eq(size % 4, 0);
    ilg_status st = ilg_md_open_root(*buf, size, &out);
    ck_assert_msg(st == ILG_OK, "reopen: %s", ilg_last_diag()->message);
    return out;
}

uint32_t find_typeref(const ilg_metadata *m, const char *ns, const char *name)
{
    for (uint32_t r = 1; r <= ilg_md_row_count(m, ILG_TBL_TypeRef); r++) {
        uint32_t n, s;
        const char *a, *b;
        ilg_md_cell(m, ILG_TBL_TypeRef, r, ILG_MDC_TypeRef_TypeName, &n);
        ilg_md_cell(m, ILG_TBL_TypeRef, r, ILG_MDC_TypeRef_TypeNamespace, &s);
        ilg_md_string(m, n, &a);
        ilg_md_string(m, s, &b);
        if (strcmp(a, name) == 0 && strcmp(b, ns) == 0)
            return 0x01000000u | r;
    }
    return 0;
}

/* An AssemblyRef [ProbeLib]1.2.3.4 with no key. */
uint32_t define_probe_lib(bool *dup)
{
    uint32_t cells[9] = { 0 }, tok;
    cells[ILG_MDC_AssemblyRef_MajorVersion] = 1;
    cells[ILG_MDC_AssemblyRef_MinorVersion] = 2;
    cells[ILG_MDC_AssemblyRef_BuildNumber] = 3;
    cells[ILG_MDC_AssemblyRef_RevisionNumber] = 4;
    ck_assert_int_eq(ilg_mdemit_string(em, "ProbeLib", &cells[ILG_MDC_AssemblyRef_Name]), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_AssemblyRef, cells, 9, &tok, dup), ILG_OK);
    return tok;
}

const uint8_t sig_void_string[4] = { 0x00, 0x01, 0x01, 0x0E }; /* void (string) */

START_TEST(references_read_back_and_duplicates_answer_the_existing_token)
{
    const uint32_t rows_before = ilg_md_row_count(md, ILG_TBL_TypeRef);
    /* The readers' memos exist before the writes (names, call shapes): the new rows
     * must still read right, the old ones as before. */
    char name[256];
    uint32_t pops;
    bool has_this, pushes;
    ck_assert_int_eq(ilg_md_type_name(md, 0x01000001, name, sizeof name, NULL), ILG_OK);
    ck_assert_str_eq(name, "[mscorlib]System.Object");
    ck_assert_int_eq(ilg_md_call_shape(md, 0x0A000001, &pops, &has_this, &pushes), ILG_OK);
    ck_assert(has_this && !pushes);
    bool dup = true;
    const uint32_t asm_ref = define_probe_lib(&dup);
    ck_assert(!dup);
    ck_assert_uint_eq(asm_ref, 0x23000000u | ilg_md_row_count(md, ILG_TBL_AssemblyRef));
    uint32_t tr, tr2, mr, mr2;
    ck_assert_int_eq(ilg_mdemit_type_ref(em, asm_ref, "Ns", "Probes", &tr, &dup), ILG_OK);
    ck_assert(!dup);
    ck_assert_uint_eq(tr, 0x01000000u | (rows_before + 1));
    ck_assert_int_eq(ilg_mdemit_member_ref(em, tr, "Enter", sig_void_string, sizeof sig_void_string, &mr, &dup), ILG_OK);
    ck_assert(!dup);
    /* Read back through the readers at once. */
    ck_assert_int_eq(ilg_md_type_name(md, tr, name, sizeof name, NULL), ILG_OK);
    ck_assert_str_eq(name, "[ProbeLib]Ns.Probes");
    ck_assert_int_eq(ilg_md_member_name(md, mr, name, sizeof name, NULL), ILG_OK);
    ck_assert_str_eq(name, "void [ProbeLib]Ns.Probes::Enter(string)");
    ck_assert_int_eq(ilg_md_call_shape(md, mr, &pops, &has_this, &pushes), ILG_OK);
    ck_assert_uint_eq(pops, 1);
    ck_assert(!pushes && !has_this);
    ck_assert_int_eq(ilg_md_type_name(md, 0x01000001, name, sizeof name, NULL), ILG_OK);
    ck_assert_str_eq(name, "[mscorlib]System.Object");
    /* MDDupDefault: TypeRef and MemberRef answer the existing row. */
    ck_assert_int_eq(ilg_mdemit_type_ref(em, asm_ref, "Ns", "Probes", &tr2, &dup), ILG_OK);
    ck_assert(dup);
    ck_assert_uint_eq(tr2, tr);
    ck_assert_int_eq(ilg_mdemit_member_ref(em, tr, "Enter", sig_void_string, sizeof sig_void_string, &mr2, &dup), ILG_OK);
    ck_assert(dup);
    ck_assert_uint_eq(mr2, mr);
    /* ... and so does a TypeRef the compiler wrote: [mscorlib]System.Object. */
    const uint32_t object = find_typeref(md, "System", "Object");
    ck_assert_uint_ne(object, 0);
    uint32_t scope;
    ck_assert_int_eq(ilg_md_cell(md, ILG_TBL_TypeRef, object & 0xFFFFFF, ILG_MDC_TypeRef_ResolutionScope, &scope), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_type_ref(em, scope, "System", "Object", &tr2, &dup), ILG_OK);
    ck_assert(dup);
    ck_assert_uint_eq(tr2, object);
    /* A different signature is a different MemberRef. */
    static const uint8_t sig_void[] = { 0x00, 0x00, 0x01 };
    ck_assert_int_eq(ilg_mdemit_member_ref(em, tr, "Enter", sig_void, sizeof sig_void, &mr2, &dup), ILG_OK);
    ck_assert(!dup);
    ck_assert_uint_eq(mr2, mr + 1);
    /* AssemblyRef and ModuleRef are not in MDDupDefault: a second row, until asked. */
    const uint32_t asm2 = define_probe_lib(&dup);
    ck_assert(!dup);
    ck_assert_uint_eq(asm2, asm_ref + 1);
    ck_assert_int_eq(ilg_mdemit_set_dup_checks(em, ILG_MDEMIT_DUP_DEFAULT | (1ull << ILG_TBL_AssemblyRef)), ILG_OK);
    ck_assert_uint_eq(define_probe_lib(&dup), asm_ref);
    ck_assert(dup);
}
END_TEST

START_TEST(signatures_specs_and_user_strings_deduplicate)
{
    static const uint8_t locals[] = { 0x07, 0x02, 0x08, 0x0E };      /* int32, string */
    static const uint8_t spec[] = { 0x1D, 0x08 };                       /* int32[] */
    static const uint8_t inst[] = { 0x0A, 0x01, 0x08 };                 /* <int32> */
    uint32_t a, b;
    bool dup;
    ck_assert_int_eq(ilg_mdemit_standalone_sig(em, locals, sizeof locals, &a, &dup), ILG_OK);
    ck_assert(!dup);
    ck_assert_uint_eq(a >> 24, ILG_TBL_StandAloneSig);
    ck_assert_int_eq(ilg_mdemit_standalone_sig(em, locals, sizeof locals, &b, &dup), ILG_OK);
    ck_assert(dup);
    ck_assert_uint_eq(a, b);
    ck_assert_int_eq(ilg_mdemit_type_spec(em, spec, sizeof spec, &a, &dup), ILG_OK);
    ck_assert(!dup);
    ck_assert_int_eq(ilg_md_type_name(md, a, (char[64]){ 0 }, 64, NULL), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_type_spec(em, spec, sizeof spec, &b, &dup), ILG_OK);
    ck_assert(dup && a == b);
    ck_assert_int_eq(ilg_mdemit_method_spec(em, 0x06000001, inst, sizeof inst, &a, &dup), ILG_OK);
    ck_assert(!dup);
    ck_assert_int_eq(ilg_mdemit_method_spec(em, 0x06000001, inst, sizeof inst, &b, &dup), ILG_OK);
    ck_assert(dup && a == b);
    /* User strings: calc.il's Probe does ldstr "probe", stored by ilasm with a final
     * byte 0; CoreCLR's DefineUserString always writes 1, so the same text is a new
     * entry, and that entry is shared by the next definition. */
    static const uint16_t probe[] = { 'p', 'r', 'o', 'b', 'e' };
    static const uint16_t fresh[] = { 'C', 'a', 'l', 'c', ':', ':', 'A', 'd', 'd', 0x263A };
    ck_assert_int_eq(ilg_mdemit_user_string(em, probe, 5, &a, &dup), ILG_OK);
    ck_assert(!dup);
    ck_assert_int_eq(ilg_mdemit_user_string(em, probe, 5, &b, &dup), ILG_OK);
    ck_assert(dup);
    ck_assert_uint_eq(a, b);
    ck_assert_uint_eq(a >> 24, 0x70);
    const uint8_t *text;
    uint32_t bytes;
    ck_assert_int_eq(ilg_md_user_string(md, a & 0xFFFFFF, &text, &bytes), ILG_OK);
    ck_assert_uint_eq(bytes, 10);
    ck_assert(memcmp(text, "p\0r\0o\0b\0e\0", 10) == 0);
    ck_assert_uint_eq(text[10], 1);
    ck_assert_int_eq(ilg_mdemit_user_string(em, fresh, 10, &b, &dup), ILG_OK);
    ck_assert(!dup);
    ck_assert_int_eq(ilg_md_user_string(md, b & 0xFFFFFF, &text, &bytes), ILG_OK);
    ck_assert_uint_eq(bytes, 20);
    ck_assert_uint_eq(text[18] | text[19] << 8, 0x263A);
    /* Pointers handed out stay valid while the heaps grow many times over. */
    const char *kept;
    uint32_t si;
    ck_assert_int_eq(ilg_mdemit_string(em, "KeptName", &si), ILG_OK);
    ck_assert_int_eq(ilg_md_string(md, si, &kept), ILG_OK);
    for (int i = 0; i < 20000; i++) {
        char s[32];
        snprintf(s, sizeof s, "grow%d", i);
        ck_assert_int_eq(ilg_mdemit_string(em, s, &si), ILG_OK);
        ck_assert_int_eq(ilg_mdemit_user_string(em, fresh, (uint32_t)(i % 10), &a, NULL), ILG_OK);
    }
    ck_assert_str_eq(kept, "KeptName");
    ck_assert_uint_eq(text[18] | text[19] << 8, 0x263A);
    ilg_md_info mi;
    ck_assert_int_eq(ilg_md_get_info(md, &mi), ILG_OK);
    ck_assert(mi.heap_sizes & ILG_HEAPSIZE_STRING); /* #Strings passed 64 KB */
    ck_assert_int_eq(ilg_mdemit_string(em, "grow19999", &b), ILG_OK);
    ck_assert_uint_eq(b, si); /* equal strings share */
    uint8_t *buf;
    ilg_metadata *back = reopen(&buf);
    same_rows(md, back, NULL, false);
    ck_assert_int_eq(ilg_md_string(back, si, &kept), ILG_OK);
    ck_assert_str_eq(kept, "grow19999");
    ilg_md_close(back);
    free(buf);
}
END_TEST

/* #US grows in place up to the 24 bits a user-string token addresses: every entry
 * defined on the way reads back where it was put, pointers taken at the start stay
 * valid, the entry that would pass the limit is refused, and a short one still fits. */
START_TEST(user_strings_fill_their_heap_in_place)
{
    enum { UNITS = 0x7FF0 };
    static uint16_t text[UNITS];
    uint32_t first = 0, tok, prev = 0, n = 0;
    bool dup;
    const uint8_t *p0 = NULL, *p;
    uint32_t bytes;
    ilg_status st;
    for (;; n++) {
        for (uint32_t i = 0; i < UNITS; i++)
            text[i] = (uint16_t)(0x100 + (n * 7 + i) % 0x7000);
        if ((st = ilg_mdemit_user_string(em, text, UNITS, &tok, &dup)) != ILG_OK)
            break;
        ck_assert(!dup);
        ck_assert_uint_gt(tok & 0xFFFFFF, prev);
        prev = tok & 0xFFFFFF;
        if (n == 0) {
            first = tok;
            ck_assert_int_eq(ilg_md_user_string(md, first & 0xFFFFFF, &p0, &bytes), ILG_OK);
        }
        /* Past the first lookups the duplicate set answers: the same text is shared. */
        if (n == 20) {
            uint32_t again;
            ck_assert_int_eq(ilg_mdemit_user_string(em, text, UNITS, &again, &dup), ILG_OK);
            ck_assert(dup && again == tok);
        }
    }
    ck_assert_int_eq(st, ILG_E_MDEMIT_TOO_LARGE);
    ck_assert_uint_gt(n, 250); /* 16 MB of 64 KB entries */
    /* Refused only when it would not fit: the last entry (4-byte length, 2 * UNITS + 1
     * bytes) and this one would pass 0xFFFFFF. */
    ck_assert_uint_gt(prev + 2 * (4 + 2 * UNITS + 1), 0x1000000);
    /* The first entry, through the pointer taken when it was new and read again. */
    ck_assert_int_eq(ilg_md_user_string(md, first & 0xFFFFFF, &p, &bytes), ILG_OK);
    ck_assert_ptr_eq(p, p0);
    ck_assert_uint_eq(bytes, 2 * UNITS);
    for (uint32_t i = 0; i < UNITS; i++)
        ck_assert_uint_eq(p0[2 * i] | p0[2 * i + 1] << 8, 0x100 + i % 0x7000);
    ck_assert_uint_eq(p0[2 * UNITS], 1);
    /* The last one in full, and one more short entry below the limit. */
    ck_assert_int_eq(ilg_md_user_string(md, prev, &p, &bytes), ILG_OK);
    for (uint32_t i = 0; i < UNITS; i++)
        ck_assert_uint_eq(p[2 * i] | p[2 * i + 1] << 8, 0x100 + ((n - 1) * 7 + i) % 0x7000);
    static const uint16_t tail[] = { 'e', 'n', 'd' };
    ck_assert_int_eq(ilg_mdemit_user_string(em, tail, 3, &tok, &dup), ILG_OK);
    ck_assert(!dup);
    ck_assert_int_eq(ilg_md_user_string(md, tok & 0xFFFFFF, &p, &bytes), ILG_OK);
    ck_assert(bytes == 6 && memcmp(p, "e\0n\0d\0", 6) == 0);
}
END_TEST

/* TypeDef row -> its methods' names, "Name|Name|", through the readers. */
static void methods_of(const ilg_metadata *m, uint32_t type, char *out, size_t size)
{
    out[0] = 0;
    for (uint32_t r = 1; r <= ilg_md_row_count(m, ILG_TBL_MethodDef); r++) {
        ilg_method_info mi;
        ck_assert_int_eq(ilg_md_method(m, r, &mi), ILG_OK);
        if (mi.owner == (0x02000000u | type)) {
            strncat(out, mi.name, size - strlen(out) - 2);
            strcat(out, "|");
        }
    }
}

uint32_t define_method(uint32_t type, const char *name, const uint8_t *sig, uint32_t len)
{
    uint32_t cells[6] = { 0 }, tok;
    cells[ILG_MDC_MethodDef_Flags] = 0x0016; /* public static */
    ck_assert_int_eq(ilg_mdemit_string(em, name, &cells[ILG_MDC_MethodDef_Name]), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_blob(em, sig, len, &cells[ILG_MDC_MethodDef_Signature]), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_member(em, 0x02000000u | type, ILG_TBL_MethodDef, cells, 6, &tok), ILG_OK);
    return tok;
}

START_TEST(methods_fields_and_params_keep_every_token)
{
    /* types.exe: <Module>, then Fix.IGreeter (2), Animal, ...: adding to type 2 cannot
     * append, so MethodPtr and FieldPtr come in; every existing method keeps its row and
     * owner. */
    const uint32_t ntypes = ilg_md_row_count(md, ILG_TBL_TypeDef);
    const uint32_t nmethods = ilg_md_row_count(md, ILG_TBL_MethodDef);
    static char before[64][512], after[512];
    ck_assert_uint_lt(ntypes, 64);
    uint32_t owners[256];
    ck_assert_uint_lt(nmethods, 256);
    for (uint32_t t = 1; t <= ntypes; t++)
        methods_of(md, t, before[t], sizeof before[t]);
    for (uint32_t r = 1; r <= nmethods; r++) {
        ilg_method_info mi;
        ilg_md_method(md, r, &mi);
        owners[r] = mi.owner;
    }
    /* The last type appends without indirection. */
    const uint32_t last = define_method(ntypes, "AtTheEnd", sig_void_string, sizeof sig_void_string);
    ck_assert_uint_eq(last, 0x06000000u | (nmethods + 1));
    ck_assert_uint_eq(ilg_md_row_count(md, ILG_TBL_MethodPtr), 0);
    const uint32_t m = define_method(2, "Added", sig_void_string, sizeof sig_void_string);
    ck_assert_uint_eq(m, 0x06000000u | (nmethods + 2));
    ck_assert_uint_eq(ilg_md_row_count(md, ILG_TBL_MethodPtr), nmethods + 2);
    ilg_md_info mi;
    ck_assert_int_eq(ilg_md_get_info(md, &mi), ILG_OK);
    ck_assert(mi.uncompressed);
    char name[256];
    ck_assert_int_eq(ilg_md_method_name(md, m & 0xFFFFFF, name, sizeof name, NULL), ILG_OK);
    ck_assert_str_eq(name, "void Fix.IGreeter::Added(string)");
    for (uint32_t r = 1; r <= nmethods; r++) {
        ilg_method_info x;
        ilg_md_method(md, r, &x);
        ck_assert_uint_eq(x.owner, owners[r]);
    }
    for (uint32_t t = 1; t <= ntypes; t++) {
        methods_of(md, t, after, sizeof after);
        char want[600];
        snprintf(want, sizeof want, "%s%s", before[t], t == 2 ? "Added|" : t == ntypes ? "AtTheEnd|" : "");
        ck_assert_str_eq(after, want);
    }
    /* A field on Fix.IGreeter too (FieldPtr), and parameters in sequence order. */
    uint32_t fcells[3] = { 0x0016, 0, 0 }, f, p1, p2;
    static const uint8_t fsig[] = { 0x06, 0x08 };
    ck_assert_int_eq(ilg_mdemit_string(em, "counter", &fcells[ILG_MDC_Field_Name]), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_blob(em, fsig, 2, &fcells[ILG_MDC_Field_Signature]), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_member(em, 0x02000002, ILG_TBL_Field, fcells, 3, &f), ILG_OK);
    ck_assert_int_eq(ilg_md_member_name(md, f, name, sizeof name, NULL), ILG_OK);
    ck_assert_str_eq(name, "int32 Fix.IGreeter::counter");
    uint32_t pcells[3] = { 0, 2, 0 };
    ck_assert_int_eq(ilg_mdemit_string(em, "second", &pcells[ILG_MDC_Param_Name]), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_member(em, m, ILG_TBL_Param, pcells, 3, &p2), ILG_OK);
    pcells[ILG_MDC_Param_Sequence] = 1;
    ck_assert_int_eq(ilg_mdemit_string(em, "first", &pcells[ILG_MDC_Param_Name]), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_member(em, m, ILG_TBL_Param, pcells, 3, &p1), ILG_OK);
    ck_assert_uint_eq(p1, p2 + 1);
    /* Serialized (#-, with the *Ptr tables) and reopened, everything reads the same. */
    uint8_t *buf;
    ilg_metadata *back = reopen(&buf);
    same_rows(md, back, NULL, false);
    ck_assert_int_eq(ilg_md_get_info(back, &mi), ILG_OK);
    ck_assert(mi.uncompressed);
    for (uint32_t t = 1; t <= ntypes; t++) {
        char a[512];
        methods_of(md, t, a, sizeof a);
        methods_of(back, t, after, sizeof after);
        ck_assert_str_eq(after, a);
    }
    ck_assert_int_eq(ilg_md_member_name(back, f, name, sizeof name, NULL), ILG_OK);
    ck_assert_str_eq(name, "int32 Fix.IGreeter::counter");
    ilg_md_close(back);
    free(buf);
}
END_TEST

/* Every table II.22 wants sorted is sorted by its key (the stored value: coded indices
 * sort by their encoded form) in m. */
static void assert_sorted(const ilg_metadata *m)
{
    static const struct { ilg_table t; uint32_t key; } keys[] = {
        { ILG_TBL_CustomAttribute, ILG_MDC_CustomAttribute_Parent },
        { ILG_TBL_GenericParam, ILG_MDC_GenericParam_Owner },
        { ILG_TBL_GenericParamConstraint, ILG_MDC_GenericParamConstraint_Owner },
        { ILG_TBL_NestedClass, ILG_MDC_NestedClass_NestedClass },
        { ILG_TBL_InterfaceImpl, ILG_MDC_InterfaceImpl_Class },
        { ILG_TBL_ImplMap, ILG_MDC_ImplMap_MemberForwarded },
    };
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        uint32_t prev = 0;
        for (uint32_t r = 1; r <= ilg_md_row_count(m, keys[k].t); r++) {
            /* coded indices sort by their stored (encoded) value */
            const uint32_t enc = ilg__md_raw(m, keys[k].t, r, keys[k].key);
            ck_assert_msg(enc >= prev, "%s row %u out of order", ilg_md_table_name(keys[k].t), r);
            prev = enc;
        }
    }
}

START_TEST(new_types_nesting_generics_and_attributes_sort_on_save)
{
    /* A new type nested in Calc, a generic method with a constraint, custom attributes
     * on an early row (so the table is out of order until the save sorts it), an
     * interface and a P/Invoke. */
    uint32_t cells[9] = { 0 }, type, tok, gp;
    bool dup;
    const uint32_t object = find_typeref(md, "System", "Object");
    cells[ILG_MDC_TypeDef_Flags] = 0x00100002; /* nested public, beforefieldinit */
    ck_assert_int_eq(ilg_mdemit_string(em, "Helper", &cells[ILG_MDC_TypeDef_TypeName]), ILG_OK);
    cells[ILG_MDC_TypeDef_Extends] = object;
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_TypeDef, cells, 6, &type, &dup), ILG_OK);
    uint32_t nest[2] = { type & 0xFFFFFF, 2 };
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_NestedClass, nest, 2, &tok, NULL), ILG_OK);
    char name[256];
    ck_assert_int_eq(ilg_md_type_name(md, type, name, sizeof name, NULL), ILG_OK);
    ck_assert_str_eq(name, "Calc/Helper");
    static const uint8_t gsig[] = { 0x10, 0x01, 0x01, 0x01, 0x1E, 0x00 }; /* void M<T>(!!0) */
    const uint32_t m = define_method(type & 0xFFFFFF, "Generic", gsig, sizeof gsig);
    uint32_t g[4] = { 0, 0, m, 0 };
    ck_assert_int_eq(ilg_mdemit_string(em, "T", &g[ILG_MDC_GenericParam_Name]), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_GenericParam, g, 4, &gp, NULL), ILG_OK);
    ck_assert_int_eq(ilg_md_method_name(md, m & 0xFFFFFF, name, sizeof name, NULL), ILG_OK);
    ck_assert_str_eq(name, "void Calc/Helper::Generic<T>(!!0)");
    uint32_t gc[2] = { gp & 0xFFFFFF, object };
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_GenericParamConstraint, gc, 2, &tok, NULL), ILG_OK);
    /* [Obsolete] (a MemberRef to a ctor) on Calc::Add and on the new type. */
    uint32_t obs, ctor;
    static const uint8_t ctor_sig[] = { 0x20, 0x00, 0x01 };
    static const uint8_t ca_blob[] = { 0x01, 0x00, 0x00, 0x00 };
    const uint32_t asm_ref = 0x23000001;
    ck_assert_int_eq(ilg_mdemit_type_ref(em, asm_ref, "System", "ObsoleteAttribute", &obs, NULL), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_member_ref(em, obs, ".ctor", ctor_sig, sizeof ctor_sig, &ctor, NULL), ILG_OK);
    const uint32_t ncas = ilg_md_row_count(md, ILG_TBL_CustomAttribute);
    uint32_t ca[3] = { type, ctor, 0 }, ca_new, ca_early;
    ck_assert_int_eq(ilg_mdemit_blob(em, ca_blob, 4, &ca[ILG_MDC_CustomAttribute_Value]), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_CustomAttribute, ca, 3, &ca_new, NULL), ILG_OK);
    ca[ILG_MDC_CustomAttribute_Parent] = 0x06000001;
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_CustomAttribute, ca, 3, &ca_early, NULL), ILG_OK);
    ck_assert_uint_eq(ca_early, 0x0C000000u | (ncas + 2)); /* appended, token stable */
    uint32_t v;
    ck_assert_int_eq(ilg_md_cell(md, ILG_TBL_CustomAttribute, ncas + 2, ILG_MDC_CustomAttribute_Parent, &v), ILG_OK);
    ck_assert_uint_eq(v, 0x06000001);
    /* ModuleRef + ImplMap, InterfaceImpl. */
    uint32_t modref, mr_cells[1], im[4] = { 0x0100, 0, 0, 0 }, ii[2];
    ck_assert_int_eq(ilg_mdemit_string(em, "libc", &mr_cells[0]), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_ModuleRef, mr_cells, 1, &modref, NULL), ILG_OK);
    im[ILG_MDC_ImplMap_MemberForwarded] = 0x06000002;
    im[ILG_MDC_ImplMap_ImportScope] = modref & 0xFFFFFF;
    ck_assert_int_eq(ilg_mdemit_string(em, "getpid", &im[ILG_MDC_ImplMap_ImportName]), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_ImplMap, im, 4, &tok, NULL), ILG_OK);
    uint32_t idisp;
    ck_assert_int_eq(ilg_mdemit_type_ref(em, asm_ref, "System", "IDisposable", &idisp, NULL), ILG_OK);
    ii[ILG_MDC_InterfaceImpl_Class] = 2;
    ii[ILG_MDC_InterfaceImpl_Interface] = idisp;
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_InterfaceImpl, ii, 2, &tok, NULL), ILG_OK);

    uint8_t *buf;
    ilg_metadata *back = reopen(&buf);
    same_rows(md, back, NULL, true);
    assert_sorted(back);
    ilg_md_info mi;
    ck_assert_int_eq(ilg_md_get_info(back, &mi), ILG_OK);
    ck_assert_uint_eq(mi.sorted_mask, 0x000016003301FA00ull);
    /* The new custom attribute on Calc::Add moved before the new type's: it is first
     * among them and names the ctor's MemberRef. */
    bool seen = false;
    for (uint32_t r = 1; r <= ilg_md_row_count(back, ILG_TBL_CustomAttribute); r++) {
        ck_assert_int_eq(ilg_md_cell(back, ILG_TBL_CustomAttribute, r, ILG_MDC_CustomAttribute_Parent, &v), ILG_OK);
        if (v == 0x06000001) {
            ck_assert_int_eq(ilg_md_cell(back, ILG_TBL_CustomAttribute, r, ILG_MDC_CustomAttribute_Type, &v), ILG_OK);
            seen |= v == ctor;
        }
    }
    ck_assert(seen);
    ck_assert_int_eq(ilg_md_method_name(back, m & 0xFFFFFF, name, sizeof name, NULL), ILG_OK);
    ck_assert_str_eq(name, "void Calc/Helper::Generic<T>(!!0)");
    /* The constraint still names T's row after the renumbering. */
    for (uint32_t r = 1; r <= ilg_md_row_count(back, ILG_TBL_GenericParamConstraint); r++) {
        ck_assert_int_eq(ilg_md_cell(back, ILG_TBL_GenericParamConstraint, r, ILG_MDC_GenericParamConstraint_Owner, &v), ILG_OK);
        uint32_t owner, nm;
        const char *s;
        ck_assert_int_eq(ilg_md_cell(back, ILG_TBL_GenericParam, v, ILG_MDC_GenericParam_Owner, &owner), ILG_OK);
        ck_assert_int_eq(ilg_md_cell(back, ILG_TBL_GenericParam, v, ILG_MDC_GenericParam_Name, &nm), ILG_OK);
        ck_assert_int_eq(ilg_md_string(back, nm, &s), ILG_OK);
        ck_assert_uint_eq(owner, m);
        ck_assert_str_eq(s, "T");
    }
    ilg_md_close(back);
    free(buf);
}
END_TEST

START_TEST(columns_widen_past_two_bytes)
{
    /* 8,200 TypeRefs pass MemberRefParent's 2-byte limit (2^13 rows with 3 tag bits): the
     * MemberRef.Class column widens, and every row reads as before. */
    uint32_t limit[ILG_TBL_COUNT];
    ilg_column_info ci;
    for (int t = 0; t < ILG_TBL_COUNT; t++)
        limit[t] = ilg_md_row_count(md, (ilg_table)t);
    ck_assert_int_eq(ilg_md_column(md, ILG_TBL_MemberRef, ILG_MDC_MemberRef_Class, &ci), ILG_OK);
    ck_assert_uint_eq(ci.width, 2);
    uint8_t *orig;
    ilg_metadata *before = reopen(&orig);
    uint32_t tok = 0;
    for (int i = 0; i < 8200; i++) {
        char s[32];
        snprintf(s, sizeof s, "T%d", i);
        ck_assert_int_eq(ilg_mdemit_type_ref(em, 0x23000001, "Many", s, &tok, NULL), ILG_OK);
    }
    ck_assert_int_eq(ilg_md_column(md, ILG_TBL_MemberRef, ILG_MDC_MemberRef_Class, &ci), ILG_OK);
    ck_assert_uint_eq(ci.width, 4);
    uint32_t mr;
    ck_assert_int_eq(ilg_mdemit_member_ref(em, tok, "M", sig_void_string, sizeof sig_void_string, &mr, NULL), ILG_OK);
    char name[256];
    ck_assert_int_eq(ilg_md_member_name(md, mr, name, sizeof name, NULL), ILG_OK);
    ck_assert_str_eq(name, "void [mscorlib]Many.T8199::M(string)");
    same_rows(before, md, limit, false);
    uint8_t *buf;
    ilg_metadata *back = reopen(&buf);
    ck_assert_int_eq(ilg_md_column(back, ILG_TBL_MemberRef, ILG_MDC_MemberRef_Class, &ci), ILG_OK);
    ck_assert_uint_eq(ci.width, 4);
    same_rows(md, back, NULL, false);
    ilg_md_close(back);
    ilg_md_close(before);
    free(buf);
    free(orig);
}
END_TEST

START_TEST(mscorlib_round_trips_unchanged_and_grown)
{
    /* Mono's mscorlib serialized as it is reads the same, every cell of every table;
     * then with a new method on System.Object (type 2, far from the end). */
    uint8_t *buf;
    ilg_metadata *back = reopen(&buf);
    same_rows(md, back, NULL, false);
    ilg_md_close(back);
    free(buf);
    char name[256];
    uint32_t object = 0;
    for (uint32_t t = 1; t <= ilg_md_row_count(md, ILG_TBL_TypeDef) && !object; t++) {
        ck_assert_int_eq(ilg_md_type_name(md, 0x02000000u | t, name, sizeof name, NULL), ILG_OK);
        if (strcmp(name, "System.Object") == 0)
            object = t;
    }
    ck_assert_uint_gt(object, 0);
    ck_assert_uint_lt(object, ilg_md_row_count(md, ILG_TBL_TypeDef));
    const uint32_t m = define_method(object, "Probe", sig_void_string, sizeof sig_void_string);
    ck_assert_int_eq(ilg_md_method_name(md, m & 0xFFFFFF, name, sizeof name, NULL), ILG_OK);
    ck_assert_str_eq(name, "void System.Object::Probe(string)");
    back = reopen(&buf);
    same_rows(md, back, NULL, false);
    assert_sorted(back);
    ck_assert_int_eq(ilg_md_method_name(back, m & 0xFFFFFF, name, sizeof name, NULL), ILG_OK);
    ck_assert_str_eq(name, "void System.Object::Probe(string)");
    ilg_md_close(back);
    free(buf);
}
END_TEST

START_TEST(bad_arguments_get_specific_errors)
{
    uint32_t tok, cells[9] = { 0 };
    static const uint8_t sig[] = { 0x00, 0x00, 0x01 };
    /* A parent that does not exist, and one of a table MemberRefParent cannot name. */
    ck_assert_int_eq(ilg_mdemit_member_ref(em, 0x01000999, "M", sig, 3, &tok, NULL), ILG_E_MDEMIT_NO_ROW);
    ck_assert_int_eq(ilg_mdemit_member_ref(em, 0x23000001, "M", sig, 3, &tok, NULL), ILG_E_MDEMIT_WRONG_TABLE);
    ck_assert(strstr(ilg_last_diag()->message, "0x23000001") != NULL);
    ck_assert_int_eq(ilg_mdemit_member(em, 0x01000001, ILG_TBL_MethodDef, cells, 6, &tok), ILG_E_MDEMIT_WRONG_TABLE);
    ck_assert_int_eq(ilg_mdemit_member(em, 0x02000009, ILG_TBL_MethodDef, cells, 6, &tok), ILG_E_MDEMIT_NO_ROW);
    /* A blob past the compressed length's limit, before a byte of it is read. */
    uint32_t idx;
    ck_assert_int_eq(ilg_mdemit_blob(em, sig, 0x20000000, &idx), ILG_E_MDEMIT_TOO_LARGE);
    /* Cells that do not fit: a 16-bit column, a heap index past the heap. */
    cells[ILG_MDC_Param_Sequence] = 0x10000;
    ck_assert_int_eq(ilg_mdemit_member(em, 0x06000001, ILG_TBL_Param, cells, 3, &tok), ILG_E_MDEMIT_BAD_CELL);
    cells[ILG_MDC_Param_Sequence] = 1;
    cells[ILG_MDC_Param_Name] = 0x7FFFFFFF;
    ck_assert_int_eq(ilg_mdemit_member(em, 0x06000001, ILG_TBL_Param, cells, 3, &tok), ILG_E_MDEMIT_BAD_CELL);
    /* A custom attribute without a constructor: CustomAttributeType has no null. */
    uint32_t ca[3] = { 0x02000002, 0, 0 };
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_CustomAttribute, ca, 3, &tok, NULL), ILG_E_MDEMIT_BAD_CELL);
    ca[ILG_MDC_CustomAttribute_Type] = 0x06000000;
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_CustomAttribute, ca, 3, &tok, NULL), ILG_E_MDEMIT_BAD_CELL);
    /* Tables a profiler cannot define into, and list columns. */
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_Module, cells, 5, &tok, NULL), ILG_E_MDEMIT_NOT_DEFINABLE);
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_MethodDef, cells, 6, &tok, NULL), ILG_E_MDEMIT_NOT_DEFINABLE);
    ck_assert_int_eq(ilg_mdemit_set_cell(em, 0x02000001, ILG_MDC_TypeDef_MethodList, 1), ILG_E_MDEMIT_NOT_DEFINABLE);
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_TypeRef, cells, 2, &tok, NULL), ILG_E_INVALID_ARG);
    ck_assert_int_eq(ilg_mdemit_set_dup_checks(em, 1ull << ILG_TBL_TypeDef), ILG_E_INVALID_ARG);
    /* Nesting: a second enclosing class, and a type enclosing itself. */
    uint32_t nest[2] = { 2, 1 };
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_NestedClass, nest, 2, &tok, NULL), ILG_OK);
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_NestedClass, nest, 2, &tok, NULL), ILG_E_MDEMIT_CONFLICT);
    nest[0] = 1;
    nest[1] = 2;
    ck_assert_int_eq(ilg_mdemit_row(em, ILG_TBL_NestedClass, nest, 2, &tok, NULL), ILG_E_MD_NESTING_CYCLE);
    /* Nothing failed half-way: the tables still serialize and read back. */
    uint8_t *buf;
    ilg_metadata *back = reopen(&buf);
    same_rows(md, back, NULL, false);
    ilg_md_close(back);
    free(buf);
    /* A changed cell (SetRVA) is read back. */
    ck_assert_int_eq(ilg_mdemit_set_cell(em, 0x06000001, ILG_MDC_MethodDef_RVA, 0x12345), ILG_OK);
    ilg_method_info mi;
    ck_assert_int_eq(ilg_md_method(md, 1, &mi), ILG_OK);
    ck_assert_uint_eq(mi.rva, 0x12345);
}
END_TEST


static Suite *mdemit_suite(void)
{
    Suite *s = suite_create("mdemit");
    TCase *calc = tcase_create("calc");
    tcase_add_checked_fixture(calc, setup_calc, teardown);
    tcase_add_test(calc, references_read_back_and_duplicates_answer_the_existing_token);
    tcase_add_test(calc, signatures_specs_and_user_strings_deduplicate);
    tcase_add_test(calc, user_strings_fill_their_heap_in_place);
    tcase_add_test(calc, new_types_nesting_generics_and_attributes_sort_on_save);
    tcase_add_test(calc, columns_widen_past_two_bytes);
    tcase_add_test(calc, bad_arguments_get_specific_errors);
    suite_add_tcase(s, calc);
    TCase *types = tcase_create("types");
    tcase_add_checked_fixture(types, setup_types, teardown);
    tcase_add_test(types, methods_fields_and_params_keep_every_token);
    mdemit_saved_tests(calc, types);
    suite_add_tcase(s, types);
    TCase *dotnet = tcase_create("dotnet");
    tcase_set_timeout(dotnet, 300);
    tcase_add_checked_fixture(dotnet, NULL, teardown);
    mdemit_dotnet_tests(dotnet);
    suite_add_tcase(s, dotnet);
    return s;
}

static void setup_mscorlib(void) { open_fixture("/usr/lib/mono/4.5/mscorlib.dll"); }

int main(void)
{
    Suite *s = mdemit_suite();
    TCase *corlib = tcase_create("mscorlib");
    tcase_set_timeout(corlib, 600);
    tcase_add_checked_fixture(corlib, setup_mscorlib, teardown);
    tcase_add_test(corlib, mscorlib_round_trips_unchanged_and_grown);
    mdemit_old_root_tests(corlib);
    suite_add_tcase(s, corlib);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
