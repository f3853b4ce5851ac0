/* metadata.c: the CLI header, the metadata root and its streams, the tables stream
 * with its schema (from md_tables.def), one full validation pass over every cell, and
 * the cell, heap and method accessors. */
#include <stdlib.h>

#include "md_private.h"

typedef unsigned long long ull;

typedef struct col_schema {
    uint8_t kind;
    uint8_t target;
    const char *name;
} col_schema;

typedef struct table_schema {
    const char *name;
    col_schema cols[ILG_MD_MAX_COLS];
} table_schema;

static const table_schema schema[ILG_TBL_COUNT] = {
#define ILG_COL(k, n) { ILG_COL_##k, 0, #n },
#define ILG_IDX(t, n) { ILG_COL_INDEX, ILG_TBL_##t, #n },
#define ILG_CDX(c, n) { ILG_COL_CODED, ILG_CODED_##c, #n },
#define ILG_TABLE(id, name, cols) [id] = { #name, { cols } },
#include "ilgraft/md_tables.def"
#undef ILG_COL
#undef ILG_IDX
#undef ILG_CDX
};

#define CT_END 0xFE
#define CT_UNUSED 0xFF
typedef struct coded_schema {
    const char *name;
    uint8_t bits;
    uint8_t tables[32];
} coded_schema;

static const coded_schema coded[ILG_CODED_COUNT] = {
#define ILG_CT(t) ILG_TBL_##t,
#define ILG_CT_UNUSED CT_UNUSED,
#define ILG_CODED(name, bits, tables) { #name, bits, { tables CT_END } },
#include "ilgraft/md_tables.def"
#undef ILG_CT
#undef ILG_CT_UNUSED
};

static uint32_t schema_ncols(ilg_table t)
{
    uint32_t n = 0;
    while (n < ILG_MD_MAX_COLS && schema[t].cols[n].name)
        n++;
    return n;
}

static uint32_t coded_count(ilg_coded_kind k)
{
    uint32_t n = 0;
    while (coded[k].tables[n] != CT_END)
        n++;
    return n;
}

/* List columns run to the next row's value, so they may equal rows + 1. */
static bool is_list_column(ilg_table t, uint32_t col)
{
    return (t == ILG_TBL_TypeDef && (col == ILG_MDC_TypeDef_FieldList || col == ILG_MDC_TypeDef_MethodList)) ||
           (t == ILG_TBL_MethodDef && col == ILG_MDC_MethodDef_ParamList) ||
           (t == ILG_TBL_EventMap && col == ILG_MDC_EventMap_EventList) ||
           (t == ILG_TBL_PropertyMap && col == ILG_MDC_PropertyMap_PropertyList);
}

uint32_t ilg__md_coded_token(ilg_coded_kind kind, uint32_t value)
{
    const coded_schema *c = &coded[kind];
    uint32_t tag = value & ((1u << c->bits) - 1), row = value >> c->bits;
    if (row == 0)
        return 0;
    return ((uint32_t)c->tables[tag] << 24) | row;
}

/* Column widths and offsets of table t for the given row counts and HeapSizes bits
 * (II.24.2.6): what the tables stream of those counts holds. */
void ilg__md_layout(const uint32_t rows[ILG_TBL_COUNT], uint8_t heap_sizes, ilg_table t,
                    md_table *tb)
{
    const uint8_t str_w = heap_sizes & ILG_HEAPSIZE_STRING ? 4 : 2;
    const uint8_t guid_w = heap_sizes & ILG_HEAPSIZE_GUID ? 4 : 2;
    const uint8_t blob_w = heap_sizes & ILG_HEAPSIZE_BLOB ? 4 : 2;
    tb->ncols = (uint8_t)schema_ncols(t);
    uint32_t off = 0;
    for (uint32_t c = 0; c < tb->ncols; c++) {
        const col_schema *cs = &schema[t].cols[c];
        md_column *col = &tb->cols[c];
        col->kind = cs->kind;
        col->target = cs->target;
        switch (cs->kind) {
        case ILG_COL_U16: col->width = 2; break;
        case ILG_COL_U32: col->width = 4; break;
        case ILG_COL_STR: col->width = str_w; break;
        case ILG_COL_GUID: col->width = guid_w; break;
        case ILG_COL_BLOB: col->width = blob_w; break;
        case ILG_COL_INDEX: col->width = rows[cs->target] < 65536 ? 2 : 4; break;
        case ILG_COL_CODED: {
            const coded_schema *k = &coded[cs->target];
            uint32_t max = 0;
            for (uint32_t i = 0; k->tables[i] != CT_END; i++)
                if (k->tables[i] != CT_UNUSED && rows[k->tables[i]] > max)
                    max = rows[k->tables[i]];
            col->width = max < (1u << (16 - k->bits)) ? 2 : 4;
            break;
        }
        }
        col->offset = (uint8_t)off;
        off += col->width;
    }
    tb->row_size = off;
}

bool ilg__md_coded_encode(ilg_coded_kind kind, uint32_t token, uint32_t *value)
{
    const coded_schema *c = &coded[kind];
    if (token == 0) {
        *value = 0;
        return true;
    }
    for (uint32_t tag = 0; c->tables[tag] != CT_END; tag++)
        if (c->tables[tag] == token >> 24) {
            *value = (token & 0xFFFFFF) << c->bits | tag;
            return true;
        }
    return false;
}

bool ilg__md_coded_null_ok(ilg_coded_kind kind)
{
    return coded[kind].tables[0] != CT_UNUSED;
}

bool ilg__md_is_list_column(ilg_table t, uint32_t col)
{
    return is_list_column(t, col);
}

/* The CLI header (II.25.3.3) into md->info; *cli_off its file offset. */
static ilg_status parse_cli_header(ilg_metadata *md, uint64_t *cli_off)
{
    ilg_image *img = md->img;
    ilg_md_info *info = &md->info;
    uint32_t cli_rva = img->dirs[ILG__DIR_CLI][0], cli_size = img->dirs[ILG__DIR_CLI][1];
    const uint8_t *cli;

    *cli_off = 0;
    ilg_image_rva_to_offset(img, cli_rva, cli_off);
    if (cli_size < 72 || ilg_image_rva_to_ptr(img, cli_rva, 72, &cli) != ILG_OK)
        return ilg__fail(ILG_E_CLI_BAD_HEADER, ILG_WHERE_FILE, *cli_off,
                         "CLI header directory size %u is below 72 bytes", cli_size);
    uint32_t cb = ilg__rd32(cli);
    if (cb < 72)
        return ilg__fail(ILG_E_CLI_BAD_HEADER, ILG_WHERE_FILE, *cli_off,
                         "CLI header cb %u, expected 72", cb);
    info->cli_rva = cli_rva;
    info->runtime_major = ilg__rd16(cli + 4);
    info->runtime_minor = ilg__rd16(cli + 6);
    info->metadata_rva = ilg__rd32(cli + 8);
    info->metadata_size = ilg__rd32(cli + 12);
    info->cli_flags = ilg__rd32(cli + 16);
    info->entry_point = ilg__rd32(cli + 20);
    info->resources_rva = ilg__rd32(cli + 24);
    info->resources_size = ilg__rd32(cli + 28);
    info->strong_name_rva = ilg__rd32(cli + 32);
    info->strong_name_size = ilg__rd32(cli + 36);
    info->managed_native_header_rva = ilg__rd32(cli + 64);
    info->managed_native_header_size = ilg__rd32(cli + 68);
    return ILG_OK;
}

/* The metadata root's fixed part (II.24.2.1) up to the stream count: *pos is then the
 * offset of the first stream header, *streams_at the stream count's. */
static ilg_status parse_root_header(ilg_metadata *md, uint64_t cli_off, uint32_t *pos,
                                    uint32_t *streams_at, uint16_t *nstreams)
{
    ilg_image *img = md->img;
    ilg_md_info *info = &md->info;
    const uint8_t *root = md->root; /* preset for a bare root (ilg_md_open_root) */
    if (img && (info->metadata_size < 16 ||
                ilg_image_rva_to_ptr(img, info->metadata_rva, info->metadata_size, &root) != ILG_OK ||
                ilg_image_rva_to_offset(img, info->metadata_rva, &md->root_file_offset) != ILG_OK ||
                !ilg__in_range(md->root_file_offset, info->metadata_size, img->file_size)))
        return ilg__fail(ILG_E_CLI_BAD_METADATA_DIR, ILG_WHERE_FILE, cli_off + 8,
                         "metadata RVA 0x%x size 0x%x does not lie inside one section's file data",
                         info->metadata_rva, info->metadata_size);
    if (!img && info->metadata_size < 16)
        return ilg__fail(ILG_E_MD_TRUNCATED_ROOT, ILG_WHERE_FILE, 0,
                         "metadata of %u bytes is shorter than a root header", info->metadata_size);
    md->root = root;
    info->metadata_file_offset = md->root_file_offset;
    const uint64_t fo = md->root_file_offset;
    const uint32_t msize = info->metadata_size;

    if (ilg__rd32(root) != 0x424A5342)
        return ilg__fail(ILG_E_MD_BAD_SIGNATURE, ILG_WHERE_FILE, fo,
                         "metadata signature 0x%08x, expected 0x424a5342 (BSJB)", ilg__rd32(root));
    info->md_major = ilg__rd16(root + 4);
    info->md_minor = ilg__rd16(root + 6);
    uint32_t vlen = ilg__rd32(root + 12);
    if (vlen % 4 != 0 || vlen > 255 + 1)
        return ilg__fail(ILG_E_MD_BAD_VERSION_LENGTH, ILG_WHERE_FILE, fo + 12,
                         "version length %u (must be a multiple of 4, at most 256)", vlen);
    if (!ilg__in_range(16, (uint64_t)vlen + 4, msize))
        return ilg__fail(ILG_E_MD_TRUNCATED_ROOT, ILG_WHERE_FILE, fo + 12,
                         "version length %u runs past the 0x%x-byte metadata", vlen, msize);
    if (vlen == 0 || memchr(root + 16, 0, vlen) == NULL)
        return ilg__fail(ILG_E_MD_BAD_VERSION_LENGTH, ILG_WHERE_FILE, fo + 16,
                         "version string of %u bytes is not NUL-terminated", vlen);
    info->version = (const char *)root + 16;
    *streams_at = 16 + vlen + 2;
    *nstreams = ilg__rd16(root + *streams_at);
    *pos = *streams_at + 2;
    return ILG_OK;
}

/* Stream header i at *pos (II.24.2.2), checked against the ones before it; *pos moves
 * past it. */
static ilg_status parse_stream_header(ilg_metadata *md, uint32_t i, uint16_t nstreams,
                                      uint32_t streams_at, uint32_t *pos)
{
    const uint8_t *root = md->root;
    const uint64_t fo = md->root_file_offset, hdr = fo + *pos;
    const uint32_t msize = md->info.metadata_size;
    if (!ilg__in_range(*pos, 8, msize))
        return ilg__fail(ILG_E_MD_TRUNCATED_ROOT, ILG_WHERE_FILE, hdr,
                         "stream header %u of %u runs past the 0x%x-byte metadata", i, nstreams,
                         msize);
    if (i >= ILG_MD_MAX_STREAMS)
        return ilg__fail(ILG_E_MD_BAD_STREAM_HEADER, ILG_WHERE_FILE, fo + streams_at,
                         "%u streams, at most %d are supported", nstreams, ILG_MD_MAX_STREAMS);
    uint32_t off = ilg__rd32(root + *pos), size = ilg__rd32(root + *pos + 4);
    uint32_t name_at = *pos + 8, avail = msize - name_at, n = 0;
    while (n < avail && n < 32 && root[name_at + n])
        n++;
    if (n >= avail || n == 32)
        return ilg__fail(ILG_E_MD_BAD_STREAM_HEADER, ILG_WHERE_FILE, fo + name_at,
                         "stream %u name is not NUL-terminated within %u bytes", i,
                         avail < 32 ? avail : 32);
    char *name = md->stream_names[i];
    memcpy(name, root + name_at, n);
    name[n] = 0;
    *pos = name_at + (uint32_t)ilg__align_up(n + 1, 4);
    if (!ilg__in_range(off, size, msize))
        return ilg__fail(ILG_E_MD_STREAM_OUTSIDE, ILG_WHERE_FILE, hdr,
                         "stream '%s' at 0x%x size 0x%x lies outside the 0x%x-byte metadata",
                         name, off, size, msize);
    for (uint32_t j = 0; j < i; j++) {
        const ilg_stream_info *o = &md->streams[j];
        if (strcmp(o->name, name) == 0)
            return ilg__fail(ILG_E_MD_DUPLICATE_STREAM, ILG_WHERE_FILE, hdr,
                             "stream '%s' appears twice", name);
        if (size && o->size && off < o->offset + o->size && o->offset < off + size)
            return ilg__fail(ILG_E_MD_STREAM_OVERLAP, ILG_WHERE_FILE, hdr,
                             "stream '%s' 0x%x+0x%x overlaps '%s' 0x%x+0x%x", name, off, size,
                             o->name, o->offset, o->size);
    }
    md->streams[i] = (ilg_stream_info){ name, off, size, fo + off };
    md->info.stream_count = i + 1;
    return ILG_OK;
}

/* Remembers stream i if it is one the reader uses; false for a second tables stream. */
static bool use_stream(ilg_metadata *md, const ilg_stream_info *st, bool *have_tables)
{
    const char *name = st->name;
    const uint8_t *data = md->root + st->offset;
    if (strcmp(name, "#~") == 0 || strcmp(name, "#-") == 0) {
        if (*have_tables)
            return false;
        *have_tables = true;
        md->tables_stream = data;
        md->tables_size = st->size;
        md->tables_offset = st->offset;
        md->info.uncompressed = name[1] == '-';
    } else if (strcmp(name, "#Strings") == 0) {
        md->strings = data;
        md->strings_size = st->size;
    } else if (strcmp(name, "#Blob") == 0) {
        md->blob = data;
        md->blob_size = st->size;
    } else if (strcmp(name, "#GUID") == 0) {
        md->guid = data;
        md->guid_size = st->size;
    } else if (strcmp(name, "#US") == 0) {
        md->us = data;
        md->us_size = st->size;
    }
    return true;
}

static ilg_status parse_root(ilg_metadata *md)
{
    uint64_t cli_off = 0;
    uint32_t pos = 0, streams_at = 0;
    uint16_t nstreams = 0;
    ilg_status st;
    if ((md->img && (st = parse_cli_header(md, &cli_off)) != ILG_OK) ||
        (st = parse_root_header(md, cli_off, &pos, &streams_at, &nstreams)) != ILG_OK)
        return st;
    bool have_tables = false;
    for (uint32_t i = 0; i < nstreams; i++) {
        const uint64_t hdr = md->root_file_offset + pos;
        if ((st = parse_stream_header(md, i, nstreams, streams_at, &pos)) != ILG_OK)
            return st;
        if (!use_stream(md, &md->streams[i], &have_tables))
            return ilg__fail(ILG_E_MD_DUPLICATE_STREAM, ILG_WHERE_FILE, hdr,
                             "both #~ and #- are present");
    }
    md->info.streams = md->streams;
    if (!have_tables)
        return ilg__fail(ILG_E_MD_NO_TABLES, ILG_WHERE_FILE, md->root_file_offset + streams_at,
                         "none of the %u streams is #~ or #-", nstreams);
    /* Any index below the last NUL names a terminated string. */
    md->strings_end = md->strings_size;
    while (md->strings_end && md->strings[md->strings_end - 1] != 0)
        md->strings_end--;
    return ILG_OK;
}

static ilg_status parse_tables(ilg_metadata *md)
{
    const uint8_t *ts = md->tables_stream;
    const uint32_t tsize = md->tables_size;
    const uint64_t fo = md->root_file_offset + md->tables_offset;
    ilg_md_info *info = &md->info;

    if (tsize < 24)
        return ilg__fail(ILG_E_MD_BAD_TABLES_HEADER, ILG_WHERE_FILE, fo,
                         "tables stream of %u bytes is shorter than its 24-byte header", tsize);
    info->tables_major = ts[4];
    info->tables_minor = ts[5];
    info->heap_sizes = ts[6];
    /* ECMA-335 II.24.2.6 says 2.0; images from the .NET Framework 1.x carry 1.x. */
    if (!(info->tables_major == 1 || (info->tables_major == 2 && info->tables_minor == 0)))
        return ilg__fail(ILG_E_MD_BAD_TABLES_HEADER, ILG_WHERE_FILE, fo + 4,
                         "tables stream version %u.%u (known: 1.x and 2.0)", info->tables_major,
                         info->tables_minor);
    info->valid_mask = ilg__rd64(ts + 8);
    info->sorted_mask = ilg__rd64(ts + 16);
    if (info->valid_mask >> ILG_TBL_COUNT)
        return ilg__fail(ILG_E_MD_UNKNOWN_TABLE, ILG_WHERE_FILE, fo + 8,
                         "Valid mask 0x%016llx names table 0x%02x; tables end at 0x%02x",
                         (ull)info->valid_mask, 63 - __builtin_clzll(info->valid_mask),
                         ILG_TBL_COUNT - 1);

    uint32_t pos = 24;
    for (uint32_t t = 0; t < ILG_TBL_COUNT; t++) {
        if (!(info->valid_mask >> t & 1))
            continue;
        if (!ilg__in_range(pos, 4, tsize))
            return ilg__fail(ILG_E_MD_BAD_TABLES_HEADER, ILG_WHERE_FILE, fo + pos,
                             "row count of table 0x%02x runs past the %u-byte stream", t, tsize);
        uint32_t rows = ilg__rd32(ts + pos);
        if (rows >= (1u << 24))
            return ilg__fail(ILG_E_MD_BAD_ROW_COUNT, ILG_WHERE_FILE, fo + pos,
                             "table 0x%02x (%s) has %u rows; tokens allow fewer than 2^24", t,
                             schema[t].name, rows);
        md->tables[t].rows = rows;
        info->rows[t] = rows;
        pos += 4;
    }
    if (info->heap_sizes & ILG_HEAPSIZE_EXTRA_DATA)
        pos += 4;

    uint64_t data_pos = pos;
    for (uint32_t t = 0; t < ILG_TBL_COUNT; t++) {
        md_table *tb = &md->tables[t];
        ilg__md_layout(info->rows, info->heap_sizes, (ilg_table)t, tb);
        if (!tb->rows)
            continue;
        uint64_t bytes = (uint64_t)tb->rows * tb->row_size;
        if (!ilg__in_range(data_pos, bytes, tsize))
            return ilg__fail(ILG_E_MD_TABLES_TRUNCATED, ILG_WHERE_FILE, fo + data_pos,
                             "table 0x%02x (%s): %u rows of %u bytes at 0x%llx run past the %u-byte stream",
                             t, schema[t].name, tb->rows, tb->row_size, (ull)data_pos, tsize);
        tb->data = ts + data_pos;
        data_pos += bytes;
    }
    return ILG_OK;
}

/* Every cell of every table, once: after this the accessors can trust the data. */
/* The *Ptr table that stands between a list column and its target table (0: none). */
ilg_table ilg__md_ptr_table_of(ilg_table target)
{
    switch (target) {
    case ILG_TBL_Field: return ILG_TBL_FieldPtr;
    case ILG_TBL_MethodDef: return ILG_TBL_MethodPtr;
    case ILG_TBL_Param: return ILG_TBL_ParamPtr;
    case ILG_TBL_Event: return ILG_TBL_EventPtr;
    case ILG_TBL_Property: return ILG_TBL_PropertyPtr;
    default: return 0;
    }
}

static ilg_status validate_cells(ilg_metadata *md)
{
    const uint64_t fo = md->root_file_offset + md->tables_offset;
    for (uint32_t t = 0; t < ILG_TBL_COUNT; t++) {
        const md_table *tb = &md->tables[t];
        for (uint32_t c = 0; c < tb->ncols; c++) {
            const md_column *col = &tb->cols[c];
            const bool list = is_list_column((ilg_table)t, c);
            uint32_t limit = 0, prev = 0, mask = 0, bits = 0, ntags = 0;
            if (col->kind == ILG_COL_INDEX) {
                limit = md->tables[col->target].rows;
                /* With a *Ptr table the list indexes it instead. */
                const ilg_table ptr = ilg__md_ptr_table_of((ilg_table)col->target);
                if (list && ptr && md->tables[ptr].rows > limit)
                    limit = md->tables[ptr].rows;
                if (list)
                    limit++;
            } else if (col->kind == ILG_COL_CODED) {
                bits = coded[col->target].bits;
                mask = (1u << bits) - 1;
                ntags = coded_count((ilg_coded_kind)col->target);
            }
            for (uint32_t r = 1; r <= tb->rows; r++) {
                const uint8_t *p = tb->data + (size_t)(r - 1) * tb->row_size + col->offset;
                uint32_t v = col->width == 2 ? ilg__rd16(p) : ilg__rd32(p);
                uint64_t at = fo + (uint64_t)(p - md->tables_stream);
                switch (col->kind) {
                case ILG_COL_U16:
                case ILG_COL_U32:
                    break;
                case ILG_COL_STR:
                    if (v && v >= md->strings_end)
                        return ilg__fail(v < md->strings_size ? ILG_E_MD_BAD_STRING : ILG_E_MD_BAD_HEAP_INDEX,
                                         ILG_WHERE_FILE, at,
                                         "%s[%u].%s: #Strings index 0x%x, heap is 0x%x bytes (terminated below 0x%x)",
                                         schema[t].name, r, schema[t].cols[c].name, v,
                                         md->strings_size, md->strings_end);
                    break;
                case ILG_COL_GUID:
                    if (v && (uint64_t)v * 16 > md->guid_size)
                        return ilg__fail(ILG_E_MD_BAD_HEAP_INDEX, ILG_WHERE_FILE, at,
                                         "%s[%u].%s: #GUID index %u, heap holds %u GUIDs",
                                         schema[t].name, r, schema[t].cols[c].name, v,
                                         md->guid_size / 16);
                    break;
                case ILG_COL_BLOB:
                    if (v) {
                        uint32_t len;
                        size_t h;
                        if (v >= md->blob_size)
                            return ilg__fail(ILG_E_MD_BAD_HEAP_INDEX, ILG_WHERE_FILE, at,
                                             "%s[%u].%s: #Blob index 0x%x, heap is 0x%x bytes",
                                             schema[t].name, r, schema[t].cols[c].name, v,
                                             md->blob_size);
                        h = ilg__rd_compressed(md->blob + v, md->blob_size - v, &len);
                        if (!h || len > md->blob_size - v - h)
                            return ilg__fail(ILG_E_MD_BAD_BLOB, ILG_WHERE_FILE, at,
                                             "%s[%u].%s: blob at 0x%x declares %u bytes, heap is 0x%x bytes",
                                             schema[t].name, r, schema[t].cols[c].name, v,
                                             h ? len : 0, md->blob_size);
                    }
                    break;
                case ILG_COL_INDEX:
                    if (v > limit)
                        return ilg__fail(ILG_E_MD_BAD_TABLE_INDEX, ILG_WHERE_FILE, at,
                                         "%s[%u].%s: row %u, %s has %u rows", schema[t].name, r,
                                         schema[t].cols[c].name, v, schema[col->target].name,
                                         md->tables[col->target].rows);
                    if (list && v < prev)
                        return ilg__fail(ILG_E_MD_BAD_LIST, ILG_WHERE_FILE, at,
                                         "%s[%u].%s: %u is below the previous row's %u",
                                         schema[t].name, r, schema[t].cols[c].name, v, prev);
                    prev = v;
                    break;
                case ILG_COL_CODED: {
                    uint32_t tag = v & mask, row = v >> bits;
                    uint8_t target = tag < ntags ? coded[col->target].tables[tag] : CT_UNUSED;
                    if (target == CT_UNUSED)
                        return ilg__fail(ILG_E_MD_BAD_CODED_INDEX, ILG_WHERE_FILE, at,
                                         "%s[%u].%s: tag %u is not valid for %s", schema[t].name,
                                         r, schema[t].cols[c].name, tag, coded[col->target].name);
                    if (row > md->tables[target].rows)
                        return ilg__fail(ILG_E_MD_BAD_TABLE_INDEX, ILG_WHERE_FILE, at,
                                         "%s[%u].%s: %s row %u, the table has %u rows",
                                         schema[t].name, r, schema[t].cols[c].name,
                                         schema[target].name, row, md->tables[target].rows);
                    break;
                }
                }
            }
        }
    }
    if (md->tables[ILG_TBL_Module].rows != 1)
        return ilg__fail(ILG_E_MD_BAD_MODULE_COUNT, ILG_WHERE_FILE, fo + 24,
                         "Module table has %u rows", md->tables[ILG_TBL_Module].rows);
    return ILG_OK;
}

/* [row of table] -> the TypeDef whose list column col holds it (0 none), through ptr. */
static uint32_t *owner_map(const ilg_metadata *md, ilg_table table, ilg_table ptr, uint32_t col)
{
    const uint32_t ntypes = md->tables[ILG_TBL_TypeDef].rows;
    const uint32_t nrows = md->tables[table].rows, nptr = md->tables[ptr].rows;
    const uint32_t list_end = (nptr ? nptr : nrows) + 1;
    uint32_t *owner = calloc((size_t)nrows + 1, sizeof *owner);
    if (!owner)
        return NULL;
    for (uint32_t t = 1; t <= ntypes; t++) {
        uint32_t first = ilg__md_raw(md, ILG_TBL_TypeDef, t, col);
        uint32_t last = t < ntypes ? ilg__md_raw(md, ILG_TBL_TypeDef, t + 1, col) : list_end;
        for (uint32_t pos = first; pos < last && pos < list_end; pos++) {
            uint32_t r = ilg__md_list_target(md, ptr, pos);
            if (r >= 1 && r <= nrows)
                owner[r] = t;
        }
    }
    return owner;
}

static ilg_status build_maps(ilg_metadata *md)
{
    const uint32_t ntypes = md->tables[ILG_TBL_TypeDef].rows;

    md->method_owner = owner_map(md, ILG_TBL_MethodDef, ILG_TBL_MethodPtr, 5);
    md->field_owner = owner_map(md, ILG_TBL_Field, ILG_TBL_FieldPtr, 4);
    md->enclosing = calloc((size_t)ntypes + 1, sizeof *md->enclosing);
    if (!md->method_owner || !md->field_owner || !md->enclosing)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "ownership maps");
    const md_table *nc = &md->tables[ILG_TBL_NestedClass];
    uint32_t *row_of = NULL;
    if (nc->rows && !(row_of = calloc((size_t)ntypes + 1, sizeof *row_of)))
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "nesting map");
    for (uint32_t r = 1; r <= nc->rows; r++) {
        uint32_t nested = ilg__md_raw(md, ILG_TBL_NestedClass, r, ILG_MDC_NestedClass_NestedClass);
        uint32_t outer = ilg__md_raw(md, ILG_TBL_NestedClass, r, ILG_MDC_NestedClass_EnclosingClass);
        if (nested && nested <= ntypes) {
            md->enclosing[nested] = outer;
            row_of[nested] = r;
        }
    }
    /* The enclosing relation must be a forest (II.22.32): a cycle would send every walk
     * up the nesting (type names, the profiler's GetNestedClassProps loops) round for
     * ever. Each type is walked at most once: mark 1 while on the current path, 2 when
     * known to reach a root. */
    ilg_status st = ILG_OK;
    uint8_t *mark = nc->rows ? calloc((size_t)ntypes + 1, 1) : NULL;
    if (nc->rows && !mark)
        st = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "nesting marks");
    for (uint32_t t = 1; st == ILG_OK && mark && t <= ntypes; t++) {
        uint32_t u = t;
        while (u && u <= ntypes && !mark[u]) {
            mark[u] = 1;
            u = md->enclosing[u];
        }
        if (u && u <= ntypes && mark[u] == 1) {
            uint32_t r = row_of[u];
            const uint8_t *p = nc->data + (size_t)(r - 1) * nc->row_size;
            st = ilg__fail(ILG_E_MD_NESTING_CYCLE, ILG_WHERE_FILE,
                           md->root_file_offset + md->tables_offset +
                               (uint64_t)(p - md->tables_stream),
                           "NestedClass[%u]: TypeDef row %u is nested in %u, which encloses it "
                           "again",
                           r, u, md->enclosing[u]);
        }
        for (u = t; u && u <= ntypes && mark[u] == 1; u = md->enclosing[u])
            mark[u] = 2;
    }
    free(mark);
    free(row_of);
    return st;
}

/* Parses the metadata of img, or (img NULL) the bare root already in md->root. */
static ilg_status parse_all(ilg_metadata *md)
{
    md->own_scope.md = md;
    ilg_status status;
    if ((status = parse_root(md)) != ILG_OK || (status = parse_tables(md)) != ILG_OK ||
        (status = validate_cells(md)) != ILG_OK || (status = build_maps(md)) != ILG_OK)
        return status;
    memcpy(md->parsed_rows, md->info.rows, sizeof md->parsed_rows);
    return ILG_OK;
}

ilg_status ilg__md_parse(ilg_image *img, struct ilg_metadata **out)
{
    if (img->dir_count <= ILG__DIR_CLI || img->dirs[ILG__DIR_CLI][0] == 0)
        return ilg__fail(ILG_E_CLI_ABSENT, ILG_WHERE_NONE, 0,
                         "no CLI header directory (a native image)");
    ilg_metadata *md = calloc(1, sizeof *md);
    if (!md)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "metadata object");
    md->img = img;
    ilg_status status = parse_all(md);
    if (status != ILG_OK) {
        ilg__md_free(md);
        return status;
    }
    *out = md;
    return ILG_OK;
}

ilg_status ilg_md_open_root(const uint8_t *root, size_t size, ilg_metadata **out)
{
    if (!root || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "root and out are required");
    if (size > UINT32_MAX)
        return ilg__fail(ILG_E_LIMIT, ILG_WHERE_NONE, 0, "metadata of %zu bytes", size);
    ilg_metadata *md = calloc(1, sizeof *md);
    if (!md)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "metadata object");
    md->root = root;
    md->info.metadata_size = (uint32_t)size;
    ilg_status status = parse_all(md);
    if (status != ILG_OK) {
        ilg__md_free(md);
        return status;
    }
    *out = md;
    return ILG_OK;
}

void ilg_md_close(ilg_metadata *md)
{
    if (md && !md->img)
        ilg__md_free(md);
}

void ilg__md_forget_memos(ilg_metadata *md, ilg_table table, bool cell_changed)
{
    /* Call shapes and type names keep the row counts they were made for (later rows
     * are not memoised): only a changed cell outdates them, or for names a type that
     * became nested. Type facts are sized by TypeDef and MethodDef and read from the
     * tables below. */
    const bool shapes = cell_changed && (table == ILG_TBL_MethodDef || table == ILG_TBL_MemberRef ||
                                         table == ILG_TBL_MethodSpec || table == ILG_TBL_StandAloneSig);
    const bool texts = cell_changed || table == ILG_TBL_NestedClass;
    const bool facts = cell_changed || table == ILG_TBL_TypeDef || table == ILG_TBL_MethodDef ||
                       table == ILG_TBL_Field || table == ILG_TBL_CustomAttribute ||
                       table == ILG_TBL_GenericParam || table == ILG_TBL_NestedClass;
    if (shapes) {
        free((void *)atomic_load(&md->shapes));
        atomic_store(&md->shapes, 0);
    }
    if (texts) {
        ilg__md_free_names(md);
        atomic_store(&md->type_texts, 0);
    }
    if (facts) {
        free((void *)atomic_load(&md->type_facts));
        atomic_store(&md->type_facts, 0);
    }
}

void ilg__md_free(struct ilg_metadata *md)
{
    if (!md)
        return;
    if (md->emit_free)
        md->emit_free(md);
    free(md->method_owner);
    free(md->field_owner);
    free(md->enclosing);
    free((void *)atomic_load(&md->shapes));
    ilg__md_free_names(md);
    free((void *)atomic_load(&md->type_facts));
    free(md);
}

uint64_t ilg_md_generation(const ilg_metadata *md)
{
    return md ? md->generation : 0;
}

ilg_status ilg_image_metadata(ilg_image *img, const ilg_metadata **out)
{
    if (!img || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "image and out are required");
    pthread_mutex_lock(&img->md_lock);
    if (!img->md_done) {
        img->md_status = ilg__md_parse(img, &img->md);
        if (img->md_status != ILG_OK)
            img->md_diag = *ilg_last_diag();
        img->md_done = true;
    }
    ilg_status status = img->md_status;
    if (status == ILG_OK)
        *out = img->md;
    else
        ilg__fail(status, img->md_diag.where, img->md_diag.offset, "%s", img->md_diag.message);
    pthread_mutex_unlock(&img->md_lock);
    return status;
}

ilg_status ilg_md_get_info(const ilg_metadata *md, ilg_md_info *out)
{
    if (!md || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "metadata and out are required");
    *out = md->info;
    return ILG_OK;
}

const char *ilg_md_table_name(ilg_table table)
{
    return (unsigned)table < ILG_TBL_COUNT ? schema[table].name : NULL;
}

uint32_t ilg_md_column_count(ilg_table table)
{
    return (unsigned)table < ILG_TBL_COUNT ? schema_ncols(table) : 0;
}

const char *ilg_md_coded_name(ilg_coded_kind kind)
{
    return (unsigned)kind < ILG_CODED_COUNT ? coded[kind].name : NULL;
}

ilg_status ilg_md_column(const ilg_metadata *md, ilg_table table, uint32_t col,
                         ilg_column_info *out)
{
    if (!md || !out || (unsigned)table >= ILG_TBL_COUNT || col >= md->tables[table].ncols)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "table 0x%x column %u", table, col);
    const md_column *c = &md->tables[table].cols[col];
    *out = (ilg_column_info){ schema[table].cols[col].name, (ilg_column_kind)c->kind, c->target,
                              c->width, c->offset };
    return ILG_OK;
}

uint32_t ilg_md_row_count(const ilg_metadata *md, ilg_table table)
{
    return md && (unsigned)table < ILG_TBL_COUNT ? md->tables[table].rows : 0;
}

ilg_status ilg_md_cell(const ilg_metadata *md, ilg_table table, uint32_t row, uint32_t col,
                       uint32_t *out)
{
    if (!md || !out || (unsigned)table >= ILG_TBL_COUNT || col >= md->tables[table].ncols)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "table 0x%x column %u", table, col);
    if (row == 0 || row > md->tables[table].rows)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_NONE, 0, "%s row %u of %u", schema[table].name,
                         row, md->tables[table].rows);
    uint32_t v = ilg__md_raw(md, table, row, col);
    if (md->tables[table].cols[col].kind == ILG_COL_CODED)
        v = ilg__md_coded_token((ilg_coded_kind)md->tables[table].cols[col].target, v);
    *out = v;
    return ILG_OK;
}

ilg_status ilg_md_string(const ilg_metadata *md, uint32_t index, const char **out)
{
    if (!md || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "metadata and out are required");
    if (index && index >= md->strings_end)
        return ilg__fail(ILG_E_MD_BAD_HEAP_INDEX, ILG_WHERE_NONE, 0,
                         "#Strings index 0x%x, heap is 0x%x bytes", index, md->strings_size);
    *out = ilg__md_str(md, index);
    return ILG_OK;
}

ilg_status ilg_md_blob(const ilg_metadata *md, uint32_t index, const uint8_t **data, uint32_t *len)
{
    if (!md || !data || !len)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "metadata, data and len are required");
    if (index == 0) { /* the null blob, whatever byte the heap starts with */
        *data = (const uint8_t *)"";
        *len = 0;
        return ILG_OK;
    }
    uint32_t n;
    size_t h;
    if (index >= md->blob_size || !(h = ilg__rd_compressed(md->blob + index, md->blob_size - index, &n)) ||
        n > md->blob_size - index - h)
        return ilg__fail(ILG_E_MD_BAD_BLOB, ILG_WHERE_NONE, 0, "#Blob index 0x%x, heap is 0x%x bytes",
                         index, md->blob_size);
    *data = md->blob + index + h;
    *len = n;
    return ILG_OK;
}

ilg_status ilg_md_guid(const ilg_metadata *md, uint32_t index, const uint8_t **out16)
{
    if (!md || !out16)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "metadata and out are required");
    if (index == 0 || (uint64_t)index * 16 > md->guid_size)
        return ilg__fail(ILG_E_MD_BAD_HEAP_INDEX, ILG_WHERE_NONE, 0,
                         "#GUID index %u, heap holds %u GUIDs", index, md->guid_size / 16);
    *out16 = md->guid + (size_t)(index - 1) * 16;
    return ILG_OK;
}

ilg_status ilg_md_user_string(const ilg_metadata *md, uint32_t index, const uint8_t **utf16,
                              uint32_t *bytes)
{
    if (!md || !utf16 || !bytes)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "metadata and outputs are required");
    uint32_t n;
    size_t h;
    if (index >= md->us_size || !(h = ilg__rd_compressed(md->us + index, md->us_size - index, &n)) ||
        n > md->us_size - index - h)
        return ilg__fail(ILG_E_MD_BAD_HEAP_INDEX, ILG_WHERE_NONE, 0,
                         "#US index 0x%x, heap is 0x%x bytes", index, md->us_size);
    /* The length counts a trailing flag byte after the UTF-16 text. */
    *utf16 = md->us + index + h;
    *bytes = n ? n - 1 : 0;
    return ILG_OK;
}

ilg_status ilg_md_method(const ilg_metadata *md, uint32_t rid, ilg_method_info *out)
{
    if (!md || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "metadata and out are required");
    if (rid == 0 || rid > md->tables[ILG_TBL_MethodDef].rows)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_NONE, 0, "MethodDef row %u of %u", rid,
                         md->tables[ILG_TBL_MethodDef].rows);
    ilg_method_info m = {
        .token = 0x06000000u | rid,
        .rva = ilg__md_raw(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_RVA),
        .impl_flags = (uint16_t)ilg__md_raw(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_ImplFlags),
        .flags = (uint16_t)ilg__md_raw(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_Flags),
        .name = ilg__md_str(md, ilg__md_raw(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_Name)),
        .owner = md->method_owner[rid] ? 0x02000000u | md->method_owner[rid] : 0,
        .param_list = ilg__md_raw(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_ParamList),
    };
    ilg_status status = ilg_md_blob(md, ilg__md_raw(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_Signature), &m.sig, &m.sig_len);
    if (status != ILG_OK)
        return status;
    *out = m;
    return ILG_OK;
}
