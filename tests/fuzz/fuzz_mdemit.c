/* fuzz_mdemit.c: libFuzzer target: the input is a program of metadata-writer calls on
 * a fresh copy of types.exe (strings, blobs, user strings, rows of any table with cells
 * drawn near the valid ranges, members of any parent, changed cells, references).
 * Then every row reads back through the readers, the metadata serializes and reopens,
 * the image saves and the saved image opens, and both copies hold every row of the
 * tables that are not re-sorted cell for cell. A failed check aborts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Every cell of every row reads, and (cmp set) equals cmp's, but for the tables cmp
 * marks sorted, which the serializer may reorder. */
static void check_rows(const ilg_metadata *md, const ilg_metadata *cmp)
{
    ilg_md_info ci;
    if (cmp)
        ilg_md_get_info(cmp, &ci);
    for (int t = 0; t < ILG_TBL_COUNT; t++) {
        const uint32_t rows = ilg_md_row_count(md, (ilg_table)t);
        if (cmp && ilg_md_row_count(cmp, (ilg_table)t) != rows)
            abort();
        for (uint32_t r = 1; r <= rows; r++)
            for (uint32_t c = 0; c < ilg_md_column_count((ilg_table)t); c++) {
                ilg_column_info col;
                uint32_t v, w;
                const char *s, *s2;
                if (ilg_md_cell(md, (ilg_table)t, r, c, &v) != ILG_OK ||
                    ilg_md_column(md, (ilg_table)t, c, &col) != ILG_OK)
                    abort();
                if (col.kind == ILG_COL_STR && ilg_md_string(md, v, &s) != ILG_OK)
                    abort();
                if (!cmp || (ci.sorted_mask >> t & 1))
                    continue;
                if (ilg_md_cell(cmp, (ilg_table)t, r, c, &w) != ILG_OK || v != w)
                    abort();
                if (col.kind == ILG_COL_STR && (ilg_md_string(cmp, w, &s2) != ILG_OK || strcmp(s, s2)))
                    abort();
            }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ilg_image *img;
    ilg_mdemit *em;
    if (ilg_image_open(ILG_FUZZ_IMAGE, NULL, &img) != ILG_OK)
        abort();
    if (ilg_mdemit_open(img, &em) != ILG_OK)
        abort();
    const ilg_metadata *md = ilg_mdemit_metadata(em);
    input in = { data, size };
    for (int i = 0; i < 400 && in.n; i++)
        define_one(em, md, &in);
    check_rows(md, NULL);
    uint8_t *buf;
    size_t len;
    ilg_metadata *back;
    if (ilg_mdemit_serialize(em, &buf, &len) != ILG_OK || ilg_md_open_root(buf, len, &back) != ILG_OK)
        abort();
    check_rows(md, back);
    check_rows(back, NULL);
    ilg_md_close(back);
    free(buf);
    /* The saved image carries the same metadata. A changed Module row may share the
     * MVID's #GUID entry, which the save refuses by name (save.h). */
    ilg_image *saved;
    const ilg_metadata *smd;
    const ilg_status st = ilg_save_build(img, NULL, 0, NULL, &buf, &len, NULL);
    if (st == ILG_E_SAVE_MVID_SHARED) {
        ilg_image_close(img);
        return 0;
    }
    if (st != ILG_OK || ilg_image_open_memory(buf, len, "saved", NULL, &saved) != ILG_OK ||
        ilg_image_metadata(saved, &smd) != ILG_OK)
        abort();
    check_rows(md, smd);
    ilg_image_close(saved);
    ilg_save_free(buf);
    ilg_image_close(img);
    return 0;
}
