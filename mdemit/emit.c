/* emit.c: rows. Checks every cell, keeps writable copies of the tables it changes
 * (widening columns the grown counts no longer fit), threads new methods, fields and
 * parameters into their parent's list (through a *Ptr table when they cannot simply
 * be appended) and keeps the ownership maps the readers use current. */
#include <stdlib.h>

#include "mdemit_private.h"

/* Where a child row list lives: the parent table and its list column, the child table and
 * the *Ptr table between them. */
typedef struct list_kind {
    ilg_table parent, child, ptr;
    uint32_t col;
} list_kind;

static bool member_list(ilg_table table, list_kind *k, ilg_table *owner);

/* ---- table storage ------------------------------------------------------------------- */

/* A writable copy of t with room for rows rows (same layout). */
static ilg_status table_room(ilg_mdemit *em, ilg_table t, uint32_t rows)
{
    md_table *tb = &em->md->tables[t];
    if (em->tables[t] && em->table_cap[t] >= rows)
        return ILG_OK;
    uint64_t cap = (uint64_t)tb->rows + tb->rows / 2 + 16;
    if (cap < rows)
        cap = rows;
    uint8_t *data = realloc(em->tables[t], (size_t)cap * tb->row_size);
    if (!data)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "%s table of %llu rows",
                         ilg_md_table_name(t), (unsigned long long)cap);
    if (!em->tables[t] && tb->rows)
        memcpy(data, tb->data, (size_t)tb->rows * tb->row_size);
    em->tables[t] = data;
    em->table_cap[t] = (uint32_t)cap;
    tb->data = data;
    return ILG_OK;
}

/* Rewrites t in the layout want (every column at least as wide as now). */
static ilg_status relayout(ilg_mdemit *em, ilg_table t, const md_table *want)
{
    md_table *tb = &em->md->tables[t];
    const uint32_t cap = em->tables[t] ? em->table_cap[t] : tb->rows + 16;
    uint8_t *data = malloc((size_t)cap * want->row_size);
    if (!data)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "%s table of %u rows", ilg_md_table_name(t), cap);
    md_table out = *want;
    out.data = data;
    out.rows = tb->rows;
    for (uint32_t r = 1; r <= tb->rows; r++)
        for (uint32_t c = 0; c < tb->ncols; c++) {
            const uint8_t *p = tb->data + (size_t)(r - 1) * tb->row_size + tb->cols[c].offset;
            uint8_t *q = data + (size_t)(r - 1) * out.row_size + out.cols[c].offset;
            const uint32_t v = tb->cols[c].width == 2 ? ilg__rd16(p) : ilg__rd32(p);
            if (out.cols[c].width == 2)
                ilg__wr16(q, (uint16_t)v);
            else
                ilg__wr32(q, v);
        }
    free(em->tables[t]);
    em->tables[t] = data;
    em->table_cap[t] = cap;
    *tb = out;
    return ILG_OK;
}

ilg_status ilg__emit_widen(ilg_mdemit *em)
{
    ilg_metadata *md = em->md;
    for (uint32_t t = 0; t < ILG_TBL_COUNT; t++) {
        const md_table *tb = &md->tables[t];
        md_table want;
        ilg__md_layout(md->info.rows, md->info.heap_sizes, (ilg_table)t, &want);
        bool wider = false;
        uint32_t off = 0;
        for (uint32_t c = 0; c < want.ncols; c++) {
            if (want.cols[c].width > tb->cols[c].width)
                wider = true;
            else
                want.cols[c].width = tb->cols[c].width; /* never narrower than now */
            want.cols[c].offset = (uint8_t)off;
            off += want.cols[c].width;
        }
        want.row_size = off;
        ilg_status st;
        if (wider && (st = relayout(em, (ilg_table)t, &want)) != ILG_OK)
            return st;
    }
    return ILG_OK;
}

/* One more row in t (cells zero), *rid its number. */
static ilg_status row_new(ilg_mdemit *em, ilg_table t, uint32_t *rid)
{
    ilg_metadata *md = em->md;
    md_table *tb = &md->tables[t];
    if (tb->rows + 1 >= (1u << 24))
        return ilg__fail(ILG_E_MDEMIT_TOO_LARGE, ILG_WHERE_NONE, 0,
                         "%s has %u rows; tokens allow fewer than 2^24", ilg_md_table_name(t), tb->rows);
    ilg_status st = table_room(em, t, tb->rows + 1);
    if (st != ILG_OK)
        return st;
    /* The memos (call shapes, type names and facts) are made from the rows. */
    ilg__md_forget_memos(md, t, false);
    *rid = ++tb->rows;
    md->info.rows[t] = tb->rows;
    md->info.valid_mask |= 1ull << t;
    memset(em->tables[t] + (size_t)(*rid - 1) * tb->row_size, 0, tb->row_size);
    md->generation++;
    /* Column widths change only when a count reaches 2^11 .. 2^16. */
    if (ilg__is_pow2(tb->rows) && tb->rows >= 2048)
        return ilg__emit_widen(em);
    return ILG_OK;
}

/* Makes *map (uint32_t per row, index 0 unused) hold index n. */
static ilg_status map_room(uint32_t **map, uint32_t *cap, uint32_t n)
{
    if (n < *cap)
        return ILG_OK;
    uint32_t want = *cap * 2 > n + 1 ? *cap * 2 : n + 16;
    uint32_t *m = realloc(*map, (size_t)want * sizeof *m);
    if (!m)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "ownership map of %u rows", want);
    memset(m + *cap, 0, (size_t)(want - *cap) * sizeof *m);
    *map = m;
    *cap = want;
    return ILG_OK;
}

/* ---- cells ----------------------------------------------------------------------------- */

/* Value v given for column c of t as the stored value *raw. */
static ilg_status check_cell(const ilg_metadata *md, ilg_table t, uint32_t c, uint32_t v, uint32_t *raw)
{
    const md_column *col = &md->tables[t].cols[c];
    const char *tn = ilg_md_table_name(t);
    ilg_column_info ci;
    ilg_md_column(md, t, c, &ci);
    *raw = v;
    switch ((ilg_column_kind)col->kind) {
    case ILG_COL_U16:
        if (v > 0xFFFF)
            return ilg__fail(ILG_E_MDEMIT_BAD_CELL, ILG_WHERE_NONE, 0, "%s.%s: 0x%x does not fit 16 bits",
                             tn, ci.name, v);
        return ILG_OK;
    case ILG_COL_U32:
        return ILG_OK;
    case ILG_COL_STR:
        if (v && v >= md->strings_end)
            return ilg__fail(ILG_E_MDEMIT_BAD_CELL, ILG_WHERE_NONE, 0,
                             "%s.%s: #Strings index 0x%x, heap is 0x%x bytes", tn, ci.name, v, md->strings_size);
        return ILG_OK;
    case ILG_COL_GUID:
        if ((uint64_t)v * 16 > md->guid_size)
            return ilg__fail(ILG_E_MDEMIT_BAD_CELL, ILG_WHERE_NONE, 0,
                             "%s.%s: #GUID index %u, heap holds %u", tn, ci.name, v, md->guid_size / 16);
        return ILG_OK;
    case ILG_COL_BLOB: {
        const uint8_t *d;
        uint32_t n;
        if (v && ilg_md_blob(md, v, &d, &n) != ILG_OK)
            return ilg__fail(ILG_E_MDEMIT_BAD_CELL, ILG_WHERE_NONE, 0,
                             "%s.%s: #Blob index 0x%x, heap is 0x%x bytes", tn, ci.name, v, md->blob_size);
        return ILG_OK;
    }
    case ILG_COL_INDEX:
        if (v == 0 || v > md->tables[col->target].rows)
            return ilg__fail(ILG_E_MDEMIT_NO_ROW, ILG_WHERE_NONE, 0, "%s.%s: %s row %u of %u", tn,
                             ci.name, ilg_md_table_name(col->target), v, md->tables[col->target].rows);
        return ILG_OK;
    case ILG_COL_CODED:
        if (!ilg__md_coded_encode((ilg_coded_kind)col->target, v, raw))
            return ilg__fail(ILG_E_MDEMIT_WRONG_TABLE, ILG_WHERE_NONE, 0,
                             "%s.%s: token 0x%08x (%s) is not a %s", tn, ci.name, v,
                             (v >> 24) < ILG_TBL_COUNT ? ilg_md_table_name(v >> 24) : "no table",
                             ilg_md_coded_name((ilg_coded_kind)col->target));
        if ((v & 0xFFFFFF) == 0 && !ilg__md_coded_null_ok((ilg_coded_kind)col->target))
            return ilg__fail(ILG_E_MDEMIT_BAD_CELL, ILG_WHERE_NONE, 0,
                             "%s.%s: token 0x%08x is null, which a %s cannot be", tn, ci.name, v,
                             ilg_md_coded_name((ilg_coded_kind)col->target));
        if ((v & 0xFFFFFF) == 0)
            *raw = 0; /* a nil token of an allowed table is the null index */
        else if ((v & 0xFFFFFF) > md->tables[v >> 24].rows)
            return ilg__fail(ILG_E_MDEMIT_NO_ROW, ILG_WHERE_NONE, 0, "%s.%s: token 0x%08x, %s has %u rows",
                             tn, ci.name, v, ilg_md_table_name(v >> 24), md->tables[v >> 24].rows);
        return ILG_OK;
    }
    return ILG_OK;
}

/* The list position one past the end of the rows list column c of t runs over. */
static uint32_t list_end(const ilg_metadata *md, ilg_table t, uint32_t c)
{
    const ilg_table target = (ilg_table)md->tables[t].cols[c].target;
    const ilg_table ptr = ilg__md_ptr_table_of(target);
    return (ptr && md->tables[ptr].rows ? md->tables[ptr].rows : md->tables[target].rows) + 1;
}

/* Every cell of a new row of t as stored values; list columns start empty at the end. */
static ilg_status check_row(const ilg_metadata *md, ilg_table t, const uint32_t *cells,
                            uint32_t *raw)
{
    ilg_status st;
    for (uint32_t c = 0; c < md->tables[t].ncols; c++) {
        if (ilg__md_is_list_column(t, c))
            raw[c] = list_end(md, t, c);
        else if ((st = check_cell(md, t, c, cells[c], &raw[c])) != ILG_OK)
            return st;
    }
    return ILG_OK;
}

static void row_store(ilg_metadata *md, ilg_table t, uint32_t rid, const uint32_t *raw)
{
    for (uint32_t c = 0; c < md->tables[t].ncols; c++)
        ilg__md_put(md, t, rid, c, raw[c]);
}

/* ---- the writer ------------------------------------------------------------------------ */

static void emit_free(ilg_metadata *md)
{
    ilg_mdemit *em = md->emit;
    if (!em)
        return;
    ilg__emit_heaps_free(em);
    for (uint32_t t = 0; t < ILG_TBL_COUNT; t++) {
        free(em->tables[t]);
        free(em->rows[t].slots);
    }
    free(em);
    md->emit = NULL;
}

ilg_status ilg_mdemit_open(ilg_image *img, ilg_mdemit **out)
{
    if (!img || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "image and out are required");
    const ilg_metadata *cmd;
    ilg_status st = ilg_image_metadata(img, &cmd);
    if (st != ILG_OK)
        return st;
    ilg_metadata *md = (ilg_metadata *)cmd; /* the image's own object: the writer may change it */
    pthread_mutex_lock(&img->md_lock);
    if (!md->emit && (md->emit = calloc(1, sizeof *md->emit)) != NULL) {
        md->emit->md = md;
        md->emit->dup_tables = ILG_MDEMIT_DUP_DEFAULT;
        md->emit->owner_cap[0] = md->tables[ILG_TBL_MethodDef].rows + 1;
        md->emit->owner_cap[1] = md->tables[ILG_TBL_Field].rows + 1;
        md->emit->owner_cap[2] = md->tables[ILG_TBL_TypeDef].rows + 1;
        md->emit_free = emit_free;
    }
    ilg_mdemit *em = md->emit;
    pthread_mutex_unlock(&img->md_lock);
    if (!em)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "metadata writer");
    *out = em;
    return ILG_OK;
}

const ilg_metadata *ilg_mdemit_metadata(const ilg_mdemit *em)
{
    return em ? em->md : NULL;
}

ilg_status ilg_mdemit_set_dup_checks(ilg_mdemit *em, uint64_t tables)
{
    if (!em || (tables & ~(uint64_t)ILG_MDEMIT_DUP_POSSIBLE))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                         "duplicate checks 0x%llx: only 0x%llx are possible",
                         (unsigned long long)tables, (unsigned long long)ILG_MDEMIT_DUP_POSSIBLE);
    em->dup_tables = tables;
    return ILG_OK;
}

/* NestedClass nested -> outer: a type has one enclosing class and none encloses itself. */
static ilg_status check_nesting(const ilg_metadata *md, uint32_t nested, uint32_t outer)
{
    if (md->enclosing[nested])
        return ilg__fail(ILG_E_MDEMIT_CONFLICT, ILG_WHERE_NONE, 0,
                         "NestedClass: TypeDef row %u is already nested in %u", nested,
                         md->enclosing[nested]);
    const uint32_t ntypes = md->tables[ILG_TBL_TypeDef].rows;
    for (uint32_t u = outer, n = 0; u && n <= ntypes; u = md->enclosing[u], n++)
        if (u == nested)
            return ilg__fail(ILG_E_MD_NESTING_CYCLE, ILG_WHERE_NONE, 0,
                             "NestedClass: TypeDef row %u would enclose itself through %u", nested, outer);
    return ILG_OK;
}

/* Module has its one row, the *Ptr and ENC tables are the writer's own business, and a
 * module is at most one assembly. */
static bool definable(const ilg_metadata *md, ilg_table t)
{
    return t != ILG_TBL_Module && t != ILG_TBL_FieldPtr && t != ILG_TBL_MethodPtr &&
           t != ILG_TBL_ParamPtr && t != ILG_TBL_EventPtr && t != ILG_TBL_PropertyPtr &&
           t != ILG_TBL_EncLog && t != ILG_TBL_EncMap && !(t == ILG_TBL_Assembly && md->tables[t].rows);
}

ilg_status ilg_mdemit_row(ilg_mdemit *em, ilg_table table, const uint32_t *cells,
                          uint32_t ncells, uint32_t *token, bool *duplicate)
{
    if (!em || !cells || !token || (unsigned)table >= ILG_TBL_COUNT ||
        ncells != ilg_md_column_count(table))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "table 0x%x with %u cells",
                         (unsigned)table, ncells);
    ilg_metadata *md = em->md;
    list_kind k;
    ilg_table owner;
    const bool member = member_list(table, &k, &owner);
    if (member || !definable(md, table))
        return ilg__fail(ILG_E_MDEMIT_NOT_DEFINABLE, ILG_WHERE_NONE, 0, "%s rows cannot be added here%s",
                         ilg_md_table_name(table),
                         member ? " (ilg_mdemit_member adds them to their parent)" : "");
    uint32_t raw[ILG_MD_MAX_COLS], rid;
    ilg_status st = check_row(md, table, cells, raw);
    if (st != ILG_OK)
        return st;
    if (table == ILG_TBL_NestedClass &&
        (st = check_nesting(md, raw[ILG_MDC_NestedClass_NestedClass],
                            raw[ILG_MDC_NestedClass_EnclosingClass])) != ILG_OK)
        return st;
    const bool dedup = em->dup_tables >> table & 1;
    uint64_t hash = 0;
    if (dedup) {
        if (!em->rows[table].cap && (st = ilg__emit_rows_build(em, table)) != ILG_OK)
            return st;
        hash = ilg__emit_row_hash(md, table, raw);
        uint32_t found = ilg__emit_set_find(&em->rows[table], hash, md, table, raw);
        if (found) {
            *token = (uint32_t)table << 24 | found;
            if (duplicate)
                *duplicate = true;
            return ILG_OK;
        }
    }
    if (table == ILG_TBL_TypeDef &&
        (st = map_room(&md->enclosing, &em->owner_cap[2], md->tables[ILG_TBL_TypeDef].rows + 1)) != ILG_OK)
        return st;
    if ((st = row_new(em, table, &rid)) != ILG_OK)
        return st;
    row_store(md, table, rid, raw);
    if (table == ILG_TBL_NestedClass)
        md->enclosing[raw[ILG_MDC_NestedClass_NestedClass]] = raw[ILG_MDC_NestedClass_EnclosingClass];
    if (em->rows[table].cap) {
        if (!dedup)
            hash = ilg__emit_row_hash(md, table, raw);
        if ((st = ilg__emit_set_insert(&em->rows[table], hash, rid)) != ILG_OK)
            return st;
    }
    *token = (uint32_t)table << 24 | rid;
    if (duplicate)
        *duplicate = false;
    return ILG_OK;
}

/* ---- members: methods, fields, parameters ----------------------------------------------- */

/* The *Ptr table of k as identity rows 1..n (every list position stays the same row). */
static ilg_status ptr_create(ilg_mdemit *em, const list_kind *k)
{
    ilg_metadata *md = em->md;
    const uint32_t n = md->tables[k->child].rows;
    ilg_status st = table_room(em, k->ptr, n + 16);
    if (st != ILG_OK)
        return st;
    md->tables[k->ptr].rows = md->info.rows[k->ptr] = n;
    md->info.valid_mask |= 1ull << k->ptr;
    md->info.uncompressed = true;
    for (uint32_t i = 1; i <= n; i++)
        ilg__md_put(md, k->ptr, i, ILG__MDC_PTR_TARGET, i);
    return ilg__emit_widen(em);
}

/* Inserts a *Ptr row naming rid at list position pos. */
static ilg_status ptr_insert(ilg_mdemit *em, const list_kind *k, uint32_t pos, uint32_t rid)
{
    ilg_metadata *md = em->md;
    uint32_t at;
    ilg_status st = row_new(em, k->ptr, &at);
    if (st != ILG_OK)
        return st;
    const md_table *tb = &md->tables[k->ptr];
    uint8_t *base = em->tables[k->ptr];
    memmove(base + (size_t)pos * tb->row_size, base + (size_t)(pos - 1) * tb->row_size,
            (size_t)(at - pos) * tb->row_size);
    ilg__md_put(md, k->ptr, pos, ILG__MDC_PTR_TARGET, rid);
    return ILG_OK;
}

/* The list position a new Param of sequence seq takes among positions [first, last):
 * before the first parameter with a higher sequence number. */
static uint32_t param_position(const ilg_metadata *md, uint32_t first, uint32_t last, uint32_t seq)
{
    for (uint32_t pos = first; pos < last; pos++) {
        const uint32_t r = ilg__md_list_target(md, ILG_TBL_ParamPtr, pos);
        if (r && r <= md->tables[ILG_TBL_Param].rows &&
            ilg__md_raw(md, ILG_TBL_Param, r, ILG_MDC_Param_Sequence) > seq)
            return pos;
    }
    return last;
}

/* Adds the child row raw to parent p's list: appended when it can take the next list
 * position, through the *Ptr table otherwise (CoreCLR's read-write metadata does the
 * same), so that no existing row moves. */
static ilg_status list_add(ilg_mdemit *em, const list_kind *k, uint32_t p, const uint32_t *raw,
                           uint32_t *rid)
{
    ilg_metadata *md = em->md;
    const uint32_t nparents = md->tables[k->parent].rows;
    const uint32_t n = md->tables[k->ptr].rows ? md->tables[k->ptr].rows : md->tables[k->child].rows;
    uint32_t first = ilg__md_raw(md, k->parent, p, k->col);
    uint32_t last = p < nparents ? ilg__md_raw(md, k->parent, p + 1, k->col) : n + 1;
    if (last > n + 1)
        last = n + 1;
    if (first > last)
        first = last;
    const uint32_t pos = k->child == ILG_TBL_Param
                             ? param_position(md, first, last, raw[ILG_MDC_Param_Sequence])
                             : last;
    ilg_status st;
    const bool indirect = md->tables[k->ptr].rows || pos != n + 1;
    if (indirect && !md->tables[k->ptr].rows && (st = ptr_create(em, k)) != ILG_OK)
        return st;
    if ((st = table_room(em, k->parent, nparents)) != ILG_OK || (st = row_new(em, k->child, rid)) != ILG_OK)
        return st;
    row_store(md, k->child, *rid, raw);
    if (indirect && (st = ptr_insert(em, k, pos, *rid)) != ILG_OK)
        return st;
    /* The parents after p start one position later (their lists all start at or past
     * pos). An empty list of p that started at pos now holds the new row. */
    for (uint32_t q = p + 1; q <= nparents; q++)
        ilg__md_put(md, k->parent, q, k->col, ilg__md_raw(md, k->parent, q, k->col) + 1);
    if (first == last && ilg__md_raw(md, k->parent, p, k->col) != pos)
        ilg__md_put(md, k->parent, p, k->col, pos);
    return ILG_OK;
}

/* The lists a member table belongs to (false for other tables). Events and properties
 * hang off their type's EventMap or PropertyMap row. */
static bool member_list(ilg_table table, list_kind *k, ilg_table *owner)
{
    static const struct { ilg_table owner; list_kind k; } lists[] = {
        { ILG_TBL_TypeDef, { ILG_TBL_TypeDef, ILG_TBL_MethodDef, ILG_TBL_MethodPtr, ILG_MDC_TypeDef_MethodList } },
        { ILG_TBL_TypeDef, { ILG_TBL_TypeDef, ILG_TBL_Field, ILG_TBL_FieldPtr, ILG_MDC_TypeDef_FieldList } },
        { ILG_TBL_MethodDef, { ILG_TBL_MethodDef, ILG_TBL_Param, ILG_TBL_ParamPtr, ILG_MDC_MethodDef_ParamList } },
        { ILG_TBL_TypeDef, { ILG_TBL_EventMap, ILG_TBL_Event, ILG_TBL_EventPtr, ILG_MDC_EventMap_EventList } },
        { ILG_TBL_TypeDef, { ILG_TBL_PropertyMap, ILG_TBL_Property, ILG_TBL_PropertyPtr, ILG_MDC_PropertyMap_PropertyList } },
    };
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
        if (lists[i].k.child == table) {
            *k = lists[i].k;
            *owner = lists[i].owner;
            return true;
        }
    return false;
}

/* TypeDef row type's EventMap or PropertyMap row (made at the end when it has none). */
static ilg_status map_row(ilg_mdemit *em, ilg_table map, uint32_t type, uint32_t *row)
{
    ilg_metadata *md = em->md;
    for (uint32_t r = 1; r <= md->tables[map].rows; r++)
        if (ilg__md_raw(md, map, r, 0) == type) {
            *row = r;
            return ILG_OK;
        }
    _Static_assert(ILG_MDC_EventMap_Parent == 0 && ILG_MDC_PropertyMap_Parent == 0, "map parent column");
    uint32_t raw[2] = { type, list_end(md, map, 1) };
    ilg_status st = row_new(em, map, row);
    if (st == ILG_OK)
        row_store(md, map, *row, raw);
    return st;
}

ilg_status ilg_mdemit_member(ilg_mdemit *em, uint32_t parent, ilg_table table,
                             const uint32_t *cells, uint32_t ncells, uint32_t *token)
{
    list_kind k;
    ilg_table owner;
    if (!em || !cells || !token || (unsigned)table >= ILG_TBL_COUNT || !member_list(table, &k, &owner) ||
        ncells != ilg_md_column_count(table))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                         "table 0x%x with %u cells: MethodDef, Field, Param, Event or Property rows",
                         (unsigned)table, ncells);
    ilg_metadata *md = em->md;
    uint32_t p = parent & 0xFFFFFF;
    if ((parent >> 24) != owner)
        return ilg__fail(ILG_E_MDEMIT_WRONG_TABLE, ILG_WHERE_NONE, 0, "a %s belongs to a %s, not token 0x%08x",
                         ilg_md_table_name(table), ilg_md_table_name(owner), parent);
    if (p == 0 || p > md->tables[owner].rows)
        return ilg__fail(ILG_E_MDEMIT_NO_ROW, ILG_WHERE_NONE, 0, "parent 0x%08x: %s has %u rows", parent,
                         ilg_md_table_name(owner), md->tables[owner].rows);
    uint32_t raw[ILG_MD_MAX_COLS], rid;
    ilg_status st = check_row(md, table, cells, raw);
    if (st != ILG_OK || (k.parent != owner && (st = map_row(em, k.parent, p, &p)) != ILG_OK))
        return st;
    if (table == ILG_TBL_MethodDef)
        st = map_room(&md->method_owner, &em->owner_cap[0], md->tables[table].rows + 1);
    else if (table == ILG_TBL_Field)
        st = map_room(&md->field_owner, &em->owner_cap[1], md->tables[table].rows + 1);
    if (st != ILG_OK || (st = list_add(em, &k, p, raw, &rid)) != ILG_OK)
        return st;
    if (table == ILG_TBL_MethodDef)
        md->method_owner[rid] = p;
    else if (table == ILG_TBL_Field)
        md->field_owner[rid] = p;
    *token = (uint32_t)table << 24 | rid;
    return ILG_OK;
}

ilg_status ilg_mdemit_set_cell(ilg_mdemit *em, uint32_t token, uint32_t col, uint32_t value)
{
    const ilg_table t = (ilg_table)(token >> 24);
    const uint32_t rid = token & 0xFFFFFF;
    if (!em || (unsigned)t >= ILG_TBL_COUNT || col >= ilg_md_column_count(t))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "token 0x%08x column %u", token, col);
    ilg_metadata *md = em->md;
    if (rid == 0 || rid > md->tables[t].rows)
        return ilg__fail(ILG_E_MDEMIT_NO_ROW, ILG_WHERE_NONE, 0, "token 0x%08x: %s has %u rows", token,
                         ilg_md_table_name(t), md->tables[t].rows);
    if (ilg__md_is_list_column(t, col) || t == ILG_TBL_NestedClass || t == ILG_TBL_FieldPtr ||
        t == ILG_TBL_MethodPtr || t == ILG_TBL_ParamPtr || t == ILG_TBL_EventPtr ||
        t == ILG_TBL_PropertyPtr || t == ILG_TBL_EncLog || t == ILG_TBL_EncMap)
        return ilg__fail(ILG_E_MDEMIT_NOT_DEFINABLE, ILG_WHERE_NONE, 0,
                         "token 0x%08x: column %u of %s cannot be set", token, col, ilg_md_table_name(t));
    uint32_t raw;
    ilg_status st = check_cell(md, t, col, value, &raw);
    if (st != ILG_OK || (st = table_room(em, t, md->tables[t].rows)) != ILG_OK)
        return st;
    /* An RVA names no row: the memos stay. */
    if (!(t == ILG_TBL_MethodDef && col == ILG_MDC_MethodDef_RVA))
        ilg__md_forget_memos(md, t, true);
    ilg__md_put(md, t, rid, col, raw);
    md->generation++;
    /* The row's content changed: its duplicate set is made again on next use. */
    free(em->rows[t].slots);
    em->rows[t] = (emit_set){ 0 };
    return ILG_OK;
}

/* ---- what profilers call most ------------------------------------------------------- */

ilg_status ilg_mdemit_type_ref(ilg_mdemit *em, uint32_t scope, const char *ns, const char *name,
                               uint32_t *token, bool *duplicate)
{
    uint32_t cells[3];
    ilg_status st;
    if (!name)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "a TypeRef needs a name");
    cells[ILG_MDC_TypeRef_ResolutionScope] = scope;
    if ((st = ilg_mdemit_string(em, name, &cells[ILG_MDC_TypeRef_TypeName])) != ILG_OK ||
        (st = ilg_mdemit_string(em, ns ? ns : "", &cells[ILG_MDC_TypeRef_TypeNamespace])) != ILG_OK)
        return st;
    return ilg_mdemit_row(em, ILG_TBL_TypeRef, cells, 3, token, duplicate);
}

ilg_status ilg_mdemit_member_ref(ilg_mdemit *em, uint32_t parent, const char *name,
                                 const uint8_t *sig, uint32_t sig_len, uint32_t *token,
                                 bool *duplicate)
{
    uint32_t cells[3];
    ilg_status st;
    if (!name || (!sig && sig_len))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "a MemberRef needs a name and signature");
    cells[ILG_MDC_MemberRef_Class] = parent;
    if ((st = ilg_mdemit_string(em, name, &cells[ILG_MDC_MemberRef_Name])) != ILG_OK ||
        (st = ilg_mdemit_blob(em, sig, sig_len, &cells[ILG_MDC_MemberRef_Signature])) != ILG_OK)
        return st;
    return ilg_mdemit_row(em, ILG_TBL_MemberRef, cells, 3, token, duplicate);
}

/* A row of a table whose one column is a blob. */
static ilg_status blob_row(ilg_mdemit *em, ilg_table t, const uint8_t *sig, uint32_t len,
                           uint32_t *token, bool *duplicate)
{
    uint32_t cell;
    ilg_status st;
    if (!sig && len)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "%s without a signature", ilg_md_table_name(t));
    if ((st = ilg_mdemit_blob(em, sig, len, &cell)) != ILG_OK)
        return st;
    return ilg_mdemit_row(em, t, &cell, 1, token, duplicate);
}

ilg_status ilg_mdemit_standalone_sig(ilg_mdemit *em, const uint8_t *sig, uint32_t len,
                                     uint32_t *token, bool *duplicate)
{
    return blob_row(em, ILG_TBL_StandAloneSig, sig, len, token, duplicate);
}

ilg_status ilg_mdemit_type_spec(ilg_mdemit *em, const uint8_t *sig, uint32_t len, uint32_t *token,
                                bool *duplicate)
{
    return blob_row(em, ILG_TBL_TypeSpec, sig, len, token, duplicate);
}

ilg_status ilg_mdemit_method_spec(ilg_mdemit *em, uint32_t method, const uint8_t *inst,
                                  uint32_t len, uint32_t *token, bool *duplicate)
{
    uint32_t cells[2];
    ilg_status st;
    if (!inst && len)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "MethodSpec without an instantiation");
    cells[ILG_MDC_MethodSpec_Method] = method;
    if ((st = ilg_mdemit_blob(em, inst, len, &cells[ILG_MDC_MethodSpec_Instantiation])) != ILG_OK)
        return st;
    return ilg_mdemit_row(em, ILG_TBL_MethodSpec, cells, 2, token, duplicate);
}
