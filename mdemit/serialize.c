/* serialize.c: the grown metadata as a new root (II.24.2): the tables stream with the
 * column widths and HeapSizes its counts and heaps now need, the tables II.22 wants
 * sorted sorted (references to their rows renumbered), and the four heaps. */
#include <stdlib.h>

#include "mdemit_private.h"

/* The sorted tables (II.22) and their keys, in an order where a table comes after those
 * its key refers to (GenericParamConstraint's owner is a GenericParam; a custom
 * attribute's parent may be a GenericParam, InterfaceImpl, DeclSecurity or
 * GenericParamConstraint). */
typedef struct sort_rule {
    ilg_table table;
    int key, key2; /* columns; key2 -1 for none */
} sort_rule;

static const sort_rule sort_rules[] = {
    { ILG_TBL_GenericParam, ILG_MDC_GenericParam_Owner, ILG_MDC_GenericParam_Number },
    { ILG_TBL_InterfaceImpl, ILG_MDC_InterfaceImpl_Class, ILG_MDC_InterfaceImpl_Interface },
    { ILG_TBL_DeclSecurity, ILG_MDC_DeclSecurity_Parent, -1 },
    { ILG_TBL_GenericParamConstraint, ILG_MDC_GenericParamConstraint_Owner, -1 },
    { ILG_TBL_CustomAttribute, ILG_MDC_CustomAttribute_Parent, -1 },
    { ILG_TBL_ClassLayout, ILG_MDC_ClassLayout_Parent, -1 },
    { ILG_TBL_Constant, ILG_MDC_Constant_Parent, -1 },
    { ILG_TBL_FieldLayout, ILG_MDC_FieldLayout_Field, -1 },
    { ILG_TBL_FieldMarshal, ILG_MDC_FieldMarshal_Parent, -1 },
    { ILG_TBL_FieldRVA, ILG_MDC_FieldRVA_Field, -1 },
    { ILG_TBL_ImplMap, ILG_MDC_ImplMap_MemberForwarded, -1 },
    { ILG_TBL_MethodImpl, ILG_MDC_MethodImpl_Class, -1 },
    { ILG_TBL_MethodSemantics, ILG_MDC_MethodSemantics_Association, -1 },
    { ILG_TBL_NestedClass, ILG_MDC_NestedClass_NestedClass, -1 },
};

/* The Sorted bits written: every table above (what Roslyn and CoreCLR write). */
static uint64_t sorted_mask(void)
{
    uint64_t m = 0;
    for (size_t i = 0; i < sizeof sort_rules / sizeof *sort_rules; i++)
        m |= 1ull << sort_rules[i].table;
    return m;
}

typedef struct ser {
    const ilg_metadata *md;
    uint32_t *order[ILG_TBL_COUNT]; /* new row -> old row (NULL: unchanged) */
    uint32_t *inv[ILG_TBL_COUNT];   /* old row -> new row */
    md_table lay[ILG_TBL_COUNT];
    uint32_t rows[ILG_TBL_COUNT];
    uint32_t *rva;                  /* [MethodDef rid] -> RVA to write (0: the row's) */
} ser;

/* Cell col of old row `row` of t as the serialized metadata holds it: indices and coded
 * indices of re-sorted tables renumbered. */
static uint32_t out_value(const ser *s, ilg_table t, uint32_t row, uint32_t col)
{
    const md_column *c = &s->md->tables[t].cols[col];
    if (t == ILG_TBL_MethodDef && col == ILG_MDC_MethodDef_RVA && s->rva && s->rva[row])
        return s->rva[row];
    uint32_t v = ilg__md_raw(s->md, t, row, col);
    if (c->kind == ILG_COL_INDEX && v && s->inv[c->target] && v <= s->rows[c->target])
        return s->inv[c->target][v];
    if (c->kind == ILG_COL_CODED && v) {
        const uint32_t tok = ilg__md_coded_token((ilg_coded_kind)c->target, v);
        const uint32_t tt = tok >> 24, r = tok & 0xFFFFFF;
        if (tt < ILG_TBL_COUNT && s->inv[tt] && r && r <= s->rows[tt])
            ilg__md_coded_encode((ilg_coded_kind)c->target, tt << 24 | s->inv[tt][r], &v);
    }
    return v;
}

typedef struct sort_item {
    uint32_t k1, k2, row;
} sort_item;

static int item_cmp(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    if (x->k1 != y->k1)
        return x->k1 < y->k1 ? -1 : 1;
    if (x->k2 != y->k2)
        return x->k2 < y->k2 ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Sorts one table by its rule (stable: equal keys keep their order). */
static ilg_status sort_table(ser *s, const sort_rule *rule)
{
    const ilg_table t = rule->table;
    const uint32_t n = s->rows[t];
    if (n < 2)
        return ILG_OK;
    sort_item *items = malloc((size_t)n * sizeof *items);
    if (!items)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "sorting %u %s rows", n, ilg_md_table_name(t));
    bool sorted = true;
    for (uint32_t r = 1; r <= n; r++) {
        items[r - 1] = (sort_item){ out_value(s, t, r, (uint32_t)rule->key),
                                    rule->key2 >= 0 ? out_value(s, t, r, (uint32_t)rule->key2) : 0, r };
        if (r > 1 && item_cmp(&items[r - 2], &items[r - 1]) > 0)
            sorted = false;
    }
    if (sorted) {
        free(items);
        return ILG_OK;
    }
    qsort(items, n, sizeof *items, item_cmp);
    s->order[t] = malloc((size_t)(n + 1) * sizeof(uint32_t));
    s->inv[t] = malloc((size_t)(n + 1) * sizeof(uint32_t));
    if (!s->order[t] || !s->inv[t]) {
        free(items);
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "sorting %u %s rows", n, ilg_md_table_name(t));
    }
    for (uint32_t i = 1; i <= n; i++) {
        s->order[t][i] = items[i - 1].row;
        s->inv[t][items[i - 1].row] = i;
    }
    free(items);
    return ILG_OK;
}

static void put_cell(uint8_t *p, uint8_t width, uint32_t v)
{
    if (width == 2)
        ilg__wr16(p, (uint16_t)v);
    else
        ilg__wr32(p, v);
}

/* Bytes of the tables stream (padded to 4) for the layouts in s. */
static uint64_t tables_size(const ser *s)
{
    uint64_t n = 24;
    for (uint32_t t = 0; t < ILG_TBL_COUNT; t++)
        if (s->rows[t])
            n += 4 + (uint64_t)s->rows[t] * s->lay[t].row_size;
    return ilg__align_up(n, 4);
}

static void write_tables(const ser *s, uint8_t heap_sizes, uint8_t *out)
{
    uint64_t valid = 0;
    for (uint32_t t = 0; t < ILG_TBL_COUNT; t++)
        if (s->rows[t])
            valid |= 1ull << t;
    ilg__wr32(out, 0);
    out[4] = 2; /* version 2.0 */
    out[5] = 0;
    out[6] = heap_sizes;
    out[7] = 1;
    ilg__wr32(out + 8, (uint32_t)valid);
    ilg__wr32(out + 12, (uint32_t)(valid >> 32));
    const uint64_t sorted = sorted_mask();
    ilg__wr32(out + 16, (uint32_t)sorted);
    ilg__wr32(out + 20, (uint32_t)(sorted >> 32));
    uint8_t *p = out + 24;
    for (uint32_t t = 0; t < ILG_TBL_COUNT; t++)
        if (s->rows[t]) {
            ilg__wr32(p, s->rows[t]);
            p += 4;
        }
    for (uint32_t t = 0; t < ILG_TBL_COUNT; t++) {
        const md_table *lay = &s->lay[t];
        for (uint32_t i = 1; i <= s->rows[t]; i++, p += lay->row_size) {
            const uint32_t old = s->order[t] ? s->order[t][i] : i;
            for (uint32_t c = 0; c < lay->ncols; c++)
                put_cell(p + lay->cols[c].offset, lay->cols[c].width, out_value(s, (ilg_table)t, old, c));
        }
    }
}

typedef struct stream_out {
    const char *name;
    const uint8_t *data;
    uint32_t size;   /* bytes of data */
    uint32_t padded; /* the stream's size, a multiple of 4 */
} stream_out;

/* The root header and the stream headers; returns the bytes written. */
static size_t write_root(const char *version, const stream_out *st, uint32_t nst, uint8_t *out,
                         bool measure)
{
    const size_t vlen = ilg__align_up(strlen(version) + 1, 4);
    size_t hdr = 16 + vlen + 4;
    for (uint32_t i = 0; i < nst; i++)
        hdr += 8 + ilg__align_up(strlen(st[i].name) + 1, 4);
    if (measure)
        return hdr;
    memset(out, 0, hdr);
    ilg__wr32(out, 0x424A5342);
    ilg__wr16(out + 4, 1);
    ilg__wr16(out + 6, 1);
    ilg__wr32(out + 12, (uint32_t)vlen);
    memcpy(out + 16, version, strlen(version));
    ilg__wr16(out + 16 + vlen + 2, (uint16_t)nst);
    size_t pos = 16 + vlen + 4, data = hdr;
    for (uint32_t i = 0; i < nst; i++) {
        ilg__wr32(out + pos, (uint32_t)data);
        ilg__wr32(out + pos + 4, st[i].padded);
        memcpy(out + pos + 8, st[i].name, strlen(st[i].name));
        pos += 8 + ilg__align_up(strlen(st[i].name) + 1, 4);
        data += st[i].padded;
    }
    return hdr;
}

static void ser_free(ser *s)
{
    free(s->rva);
    for (uint32_t t = 0; t < ILG_TBL_COUNT; t++) {
        free(s->order[t]);
        free(s->inv[t]);
    }
}

/* The RVA replacements as s->rva. */
static ilg_status ser_rvas(ser *s, const ilg_mdemit_rva *rvas, size_t n)
{
    const uint32_t rows = s->md->tables[ILG_TBL_MethodDef].rows;
    if (!n)
        return ILG_OK;
    if (!(s->rva = calloc((size_t)rows + 1, sizeof *s->rva)))
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "RVAs of %u methods", rows);
    for (size_t i = 0; i < n; i++) {
        if (rvas[i].rid == 0 || rvas[i].rid > rows)
            return ilg__fail(ILG_E_MDEMIT_NO_ROW, ILG_WHERE_NONE, 0, "RVA of MethodDef row %u of %u",
                             rvas[i].rid, rows);
        s->rva[rvas[i].rid] = rvas[i].rva;
    }
    return ILG_OK;
}

ilg_status ilg_mdemit_serialize(ilg_mdemit *em, uint8_t **out, size_t *size)
{
    return ilg_mdemit_serialize_ex(em, NULL, 0, out, size, NULL);
}

ilg_status ilg_mdemit_serialize_ex(ilg_mdemit *em, const ilg_mdemit_rva *rvas, size_t nrvas,
                                   uint8_t **out, size_t *size, uint32_t *guid_offset)
{
    if (!em || !out || !size || (nrvas && !rvas))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "writer, out and size are required");
    const ilg_metadata *md = em->md;
    ser s = { .md = md };
    for (uint32_t t = 0; t < ILG_TBL_COUNT; t++)
        s.rows[t] = md->tables[t].rows;
    /* Uncompressed (#-) when a list goes through a *Ptr table (II.24.2.6 leaves those
     * to #-; CoreCLR writes #- for them). */
    const bool indirect = md->tables[ILG_TBL_FieldPtr].rows || md->tables[ILG_TBL_MethodPtr].rows ||
               md->tables[ILG_TBL_ParamPtr].rows || md->tables[ILG_TBL_EventPtr].rows ||
               md->tables[ILG_TBL_PropertyPtr].rows;
    ilg_status st = ser_rvas(&s, rvas, nrvas);
    for (size_t i = 0; st == ILG_OK && i < sizeof sort_rules / sizeof *sort_rules; i++)
        st = sort_table(&s, &sort_rules[i]);
    if (st != ILG_OK) {
        ser_free(&s);
        return st;
    }
    static const uint8_t empty[4] = { 0 };
    stream_out streams[5] = {
        { indirect ? "#-" : "#~", NULL, 0, 0 },
        { "#Strings", md->strings, md->strings_size, 0 },
        { "#US", md->us ? md->us : empty, md->us ? md->us_size : 1, 0 },
        { "#GUID", md->guid, md->guid_size, 0 },
        { "#Blob", md->blob ? md->blob : empty, md->blob ? md->blob_size : 1, 0 },
    };
    if (!md->strings) {
        streams[1].data = empty;
        streams[1].size = 1;
    }
    for (int i = 1; i < 5; i++)
        streams[i].padded = (uint32_t)ilg__align_up(streams[i].size, 4);
    const uint8_t heap_sizes = (streams[1].padded >= 0x10000 ? ILG_HEAPSIZE_STRING : 0) |
                               (streams[3].padded >= 0x10000 ? ILG_HEAPSIZE_GUID : 0) |
                               (streams[4].padded >= 0x10000 ? ILG_HEAPSIZE_BLOB : 0);
    for (uint32_t t = 0; t < ILG_TBL_COUNT; t++)
        ilg__md_layout(s.rows, heap_sizes, (ilg_table)t, &s.lay[t]);
    const uint64_t tsize = tables_size(&s);
    const char *version = md->info.version ? md->info.version : "v4.0.30319";
    const size_t hdr = write_root(version, streams, 5, NULL, true);
    uint64_t total = hdr + tsize;
    for (int i = 1; i < 5; i++)
        total += streams[i].padded;
    streams[0].padded = (uint32_t)tsize;
    uint8_t *buf = total <= UINT32_MAX ? calloc(1, (size_t)total) : NULL;
    if (!buf) {
        ser_free(&s);
        return total > UINT32_MAX ? ilg__fail(ILG_E_MDEMIT_TOO_LARGE, ILG_WHERE_NONE, 0,
                                              "metadata of %llu bytes", (unsigned long long)total)
                                  : ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "metadata of %llu bytes",
                                              (unsigned long long)total);
    }
    write_root(version, streams, 5, buf, false);
    uint8_t *p = buf + hdr;
    write_tables(&s, heap_sizes, p);
    p += tsize;
    for (int i = 1; i < 5; i++) {
        if (streams[i].size)
            memcpy(p, streams[i].data, streams[i].size);
        p += streams[i].padded;
    }
    ser_free(&s);
    if (guid_offset)
        *guid_offset = (uint32_t)(hdr + tsize + streams[1].padded + streams[2].padded);
    *out = buf;
    *size = (size_t)total;
    return ILG_OK;
}
