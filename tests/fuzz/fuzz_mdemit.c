/* fuzz_mdemit.c: libFuzzer target: the input's first byte picks the image (bit 0:
 * wide.exe, whose root spans several pages, else types.exe, whose root is under one), the
 * rest is a program of metadata-writer calls on a fresh copy of it (strings, blobs, user
 * strings, rows of any table with cells drawn near the valid ranges, members of any
 * parent, changed cells, references). Then every row reads back through the readers, the
 * metadata serializes and reopens, the image is saved to a file that opens again and
 * validates, and both copies hold every row of the tables that are not re-sorted cell
 * for cell. The save's old-root cut (docs/save.md, "The old root") is checked against
 * its rule: whole pages inside the input's root, and present exactly when a written
 * module's root spans a page and no method body or field datum starts in it. A failed
 * check aborts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ilgraft/mdemit.h"
#include "ilgraft/metadata.h"
#include "ilgraft/save.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static uint32_t take(input *in, unsigned bytes)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < bytes && in->n; i++, in->p++, in->n--)
        v |= (uint32_t)*in->p << (8 * i);
    return v;
}

/* A cell value for column c of t: mostly in or just past the valid range. */
static uint32_t cell_value(const ilg_metadata *md, ilg_table t, uint32_t c, input *in)
{
    ilg_column_info ci;
    ilg_md_info mi;
    ilg_md_column(md, t, c, &ci);
    ilg_md_get_info(md, &mi);
    const uint32_t r = take(in, 2);
    switch (ci.kind) {
    case ILG_COL_INDEX:
        return r % (ilg_md_row_count(md, (ilg_table)ci.target) + 2);
    case ILG_COL_CODED: {
        const uint32_t table = take(in, 1) % ILG_TBL_COUNT;
        return table << 24 | r % (ilg_md_row_count(md, (ilg_table)table) + 2);
    }
    case ILG_COL_U16:
        return r & 0x8000 ? take(in, 4) : r;
    default:
        return r & 0x8000 ? take(in, 4) : r;
    }
}

static void define_one(ilg_mdemit *em, const ilg_metadata *md, input *in)
{
    uint32_t cells[9], tok, idx;
    char text[64];
    uint16_t wide[32];
    const uint32_t op = take(in, 1) % 8;
    const uint32_t len = take(in, 1) % 32;
    switch (op) {
    case 0:
        for (uint32_t i = 0; i < len; i++)
            text[i] = (char)(take(in, 1) | 1); /* no NUL inside */
        text[len] = 0;
        ilg_mdemit_string(em, text, &idx);
        break;
    case 1:
        for (uint32_t i = 0; i < len; i++)
            text[i] = (char)take(in, 1);
        ilg_mdemit_blob(em, text, len, &idx);
        break;
    case 2:
        for (uint32_t i = 0; i < len; i++)
            wide[i] = (uint16_t)take(in, 2);
        ilg_mdemit_user_string(em, wide, len, &tok, NULL);
        break;
    case 3:
    case 4: {
        static const ilg_table members[5] = { ILG_TBL_MethodDef, ILG_TBL_Field, ILG_TBL_Param,
                                              ILG_TBL_Event, ILG_TBL_Property };
        const ilg_table t = op == 3 ? (ilg_table)(take(in, 1) % ILG_TBL_COUNT) : members[take(in, 1) % 5];
        const uint32_t n = ilg_md_column_count(t);
        for (uint32_t c = 0; c < n; c++)
            cells[c] = cell_value(md, t, c, in);
        if (op == 3) {
            ilg_mdemit_row(em, t, cells, n, &tok, NULL);
        } else {
            const uint32_t pt = t == ILG_TBL_Param ? ILG_TBL_MethodDef : ILG_TBL_TypeDef;
            ilg_mdemit_member(em, pt << 24 | take(in, 2) % (ilg_md_row_count(md, (ilg_table)pt) + 2), t,
                              cells, n, &tok);
        }
        break;
    }
    case 5: {
        const ilg_table t = (ilg_table)(take(in, 1) % ILG_TBL_COUNT);
        const uint32_t rows = ilg_md_row_count(md, t), n = ilg_md_column_count(t);
        const uint32_t c = take(in, 1) % n;
        ilg_mdemit_set_cell(em, (uint32_t)t << 24 | take(in, 2) % (rows + 2), c, cell_value(md, t, c, in));
        break;
    }
    case 6:
        snprintf(text, sizeof text, "N%u", take(in, 1));
        ilg_mdemit_type_ref(em, cell_value(md, ILG_TBL_TypeRef, ILG_MDC_TypeRef_ResolutionScope, in), "Fz", text,
                            &tok, NULL);
        break;
    default:
        for (uint32_t i = 0; i < len; i++)
            text[i] = (char)take(in, 1);
        ilg_mdemit_member_ref(em, cell_value(md, ILG_TBL_MemberRef, ILG_MDC_MemberRef_Class, in), "M",
                              (const uint8_t *)text, len, &tok, NULL);
        break;
    }
}

/* The cell (t, r, c) of md, and its string when col is a #Strings index (else NULL). */
static uint32_t read_cell(const ilg_metadata *md, ilg_table t, uint32_t r, uint32_t c,
                          const ilg_column_info *col, const char **s)
{
    uint32_t v;
    *s = NULL;
    if (ilg_md_cell(md, t, r, c, &v) != ILG_OK ||
        (col->kind == ILG_COL_STR && ilg_md_string(md, v, s) != ILG_OK))
        abort();
    return v;
}

/* Every cell of every row of md and cmp reads, and equals its counterpart but for the
 * tables cmp marks sorted, which the serializer may reorder. */
static void check_rows(const ilg_metadata *md, const ilg_metadata *cmp)
{
    ilg_md_info ci;
    ilg_md_get_info(cmp, &ci);
    for (int t = 0; t < ILG_TBL_COUNT; t++) {
        const uint32_t rows = ilg_md_row_count(md, (ilg_table)t), n = ilg_md_column_count((ilg_table)t);
        ilg_column_info cols[16];
        if (ilg_md_row_count(cmp, (ilg_table)t) != rows || n > 16)
            abort();
        for (uint32_t c = 0; c < n; c++)
            if (ilg_md_column(md, (ilg_table)t, c, &cols[c]) != ILG_OK)
                abort();
        const bool sorted = ci.sorted_mask >> t & 1;
        for (uint32_t r = 1; r <= rows; r++)
            for (uint32_t c = 0; c < n; c++) {
                const char *s, *s2;
                const uint32_t v = read_cell(md, (ilg_table)t, r, c, &cols[c], &s);
                const uint32_t w = read_cell(cmp, (ilg_table)t, r, c, &cols[c], &s2);
                if (!sorted && (v != w || (s && strcmp(s, s2))))
                    abort();
            }
    }
}

/* Does a MethodDef or FieldRVA cell of md point into [at, at + len)? */
static bool rva_cell_in(const ilg_metadata *md, uint64_t at, uint64_t len)
{
    static const struct { ilg_table t; uint32_t col; } cells[2] = {
        { ILG_TBL_MethodDef, ILG_MDC_MethodDef_RVA }, { ILG_TBL_FieldRVA, ILG_MDC_FieldRVA_RVA } };
    for (int k = 0; k < 2; k++)
        for (uint32_t r = 1; r <= ilg_md_row_count(md, cells[k].t); r++) {
            uint32_t v;
            if (ilg_md_cell(md, cells[k].t, r, cells[k].col, &v) != ILG_OK)
                abort();
            if (v >= at && v < at + len)
                return true;
        }
    return false;
}

/* The cut res reports against the input's root (rva, size) and SectionAlignment sa. */
static void check_cut(const ilg_metadata *md, const ilg_save_result *res, uint64_t rva, uint64_t size,
                      uint64_t sa)
{
    const uint64_t first = (rva + sa - 1) / sa * sa, last = (rva + size) / sa * sa;
    const bool want = ilg_md_generation(md) != 0 && last > first && !rva_cell_in(md, rva, size);
    if (!want) {
        if (res->old_root_cut_size)
            abort();
        return;
    }
    if (res->old_root_cut_rva != first || res->old_root_cut_size != last - first)
        abort();
}

/* Saves img to a file, opens that with the loader, validates its metadata, and compares
 * its rows with md's. */
static void save_and_check(ilg_image *img, const ilg_metadata *md, const ilg_md_info *root, uint64_t sa)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/ilg_fuzz_mdemit.%ld.exe", (long)getpid());
    ilg_save_result res;
    /* A changed Module row may share the MVID's #GUID entry, which the save refuses by
     * name (save.h). */
    const ilg_status st = ilg_save_write(img, NULL, 0, NULL, path, &res);
    if (st == ILG_E_SAVE_MVID_SHARED)
        return;
    ilg_image *saved;
    const ilg_metadata *smd;
    if (st != ILG_OK || ilg_image_open(path, NULL, &saved) != ILG_OK ||
        ilg_image_metadata(saved, &smd) != ILG_OK)
        abort();
    check_cut(md, &res, root->metadata_rva, root->metadata_size, sa);
    check_rows(md, smd);
    ilg_image_close(saved);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ilg_image *img;
    ilg_mdemit *em;
    input in = { data, size };
    const ilg_metadata *md;
    ilg_md_info root;
    ilg_image_info ii;
    if (ilg_image_open(take(&in, 1) & 1 ? ILG_FUZZ_WIDE : ILG_FUZZ_IMAGE, NULL, &img) != ILG_OK ||
        ilg_image_get_info(img, &ii) != ILG_OK || ilg_image_metadata(img, &md) != ILG_OK ||
        ilg_md_get_info(md, &root) != ILG_OK)
        abort();
    if (ilg_mdemit_open(img, &em) != ILG_OK)
        abort();
    md = ilg_mdemit_metadata(em);
    for (int i = 0; i < 400 && in.n; i++)
        define_one(em, md, &in);
    uint8_t *buf;
    size_t len;
    ilg_metadata *back;
    if (ilg_mdemit_serialize(em, &buf, &len) != ILG_OK || ilg_md_open_root(buf, len, &back) != ILG_OK)
        abort();
    check_rows(md, back);
    ilg_md_close(back);
    free(buf);
    save_and_check(img, md, &root, ii.section_alignment);
    ilg_image_close(img);
    return 0;
}
