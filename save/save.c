/* save.c: turns a grafted image (file bytes + the arena's used bytes) into a PE file
 * with one new last section and patched MethodDef RVAs (see ilgraft/save.h). Where the
 * headers and the MethodDef table lie comes from the loader, which parsed and checked
 * them at open (loader_private.h, md_private.h); the table's RVA cells in the file are
 * still compared with the RVAs the metadata reader reports before anything is
 * patched. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>

#include "ilgraft/arena.h"
#include "ilgraft/mdemit.h"
#include "ilgraft/metadata.h"
#include "ilgraft/save.h"

#include "ilg_private.h"
#include "md_private.h"
#include "save_private.h"

#define SECTION_HEADER_SIZE 40u
#define COMIMAGE_FLAGS_STRONGNAMESIGNED 0x8u
#define DOS_HEADER_SIZE 0x40u

/* File offset and row size of the MethodDef table, from the loader's own #~ layout: the
 * mapped table lies as far from the mapped metadata root as it does in the file. */
static ilg_status methoddef_locate(const ilg_metadata *md, uint64_t *table_off,
                                   uint32_t *row_size)
{
    const md_table *t = &md->tables[ILG_TBL_MethodDef];
    if (md->info.uncompressed)
        return ilg__fail(ILG_E_SAVE_METADATA_LAYOUT, ILG_WHERE_FILE, md->root_file_offset,
                         "no compressed #~ table stream (uncompressed #- is not supported)");
    if (!t->data)
        return ilg__fail(ILG_E_SAVE_METADATA_LAYOUT, ILG_WHERE_FILE, md->root_file_offset,
                         "no MethodDef table");
    *table_off = md->root_file_offset + (uint64_t)(t->data - md->root);
    *row_size = t->row_size;
    return ILG_OK;
}

/* The module's MVID: its bytes and the file offset of the #GUID entry Module.Mvid
 * indexes (0 when the index is 0: no MVID), checked against the bytes the reader gives.
 * When it is to change (in place), no other GUID column (EncId, EncBaseId) may index
 * the same entry. */
static ilg_status mvid_locate(const ilg_metadata *md, const ilg_md_info *mi, const uint8_t *f,
                              size_t n, bool change, uint64_t *off, uint8_t old[16])
{
    const uint32_t mvid_col = ILG_MDC_Module_Mvid;
    uint32_t index = 0;
    ilg_column_info ci;
    ilg_status st;
    if ((st = ilg_md_cell(md, ILG_TBL_Module, 1, mvid_col, &index)) != ILG_OK)
        return st;
    *off = 0;
    memset(old, 0, 16);
    if (index == 0)
        return ILG_OK;
    for (uint32_t t = 0; change && t < ILG_TBL_COUNT; t++) {
        uint32_t rows = ilg_md_row_count(md, (ilg_table)t);
        for (uint32_t c = 0; rows && c < ilg_md_column_count((ilg_table)t); c++) {
            if ((st = ilg_md_column(md, (ilg_table)t, c, &ci)) != ILG_OK)
                return st;
            if (ci.kind != ILG_COL_GUID || (t == ILG_TBL_Module && c == mvid_col))
                continue;
            for (uint32_t r = 1; r <= rows; r++) {
                uint32_t v;
                if (ilg_md_cell(md, (ilg_table)t, r, c, &v) == ILG_OK && v == index)
                    return ilg__fail(ILG_E_SAVE_MVID_SHARED, ILG_WHERE_NONE, 0,
                                     "the MVID (#GUID entry %u) is also %s row %u's %s; it "
                                     "cannot change alone (keep it to save)",
                                     index, ilg_md_table_name((ilg_table)t), r, ci.name);
            }
        }
    }
    const uint8_t *guid;
    const ilg_stream_info *heap = NULL;
    for (uint32_t i = 0; i < mi->stream_count; i++)
        if (strcmp(mi->streams[i].name, "#GUID") == 0)
            heap = &mi->streams[i];
    if ((st = ilg_md_guid(md, index, &guid)) != ILG_OK)
        return st;
    uint64_t at = heap ? heap->file_offset + (uint64_t)(index - 1) * 16 : 0;
    if (!heap || !ilg__in_range(at, 16, n) || memcmp(f + at, guid, 16) != 0)
        return ilg__fail(ILG_E_SAVE_METADATA_LAYOUT, ILG_WHERE_FILE, at,
                         "the MVID (#GUID entry %u) is not at file offset 0x%llx", index,
                         (unsigned long long)at);
    *off = at;
    memcpy(old, guid, 16);
    return ILG_OK;
}

/* Whether the size bytes (new section headers) at hdr are zero and end inside
 * SizeOfHeaders, before the first section's raw data and inside the file. */
static bool header_room(const uint8_t *f, size_t n, const ilg__pe_layout *pe,
                        uint32_t size_of_headers, uint32_t hdr, uint32_t size)
{
    uint64_t end = (uint64_t)hdr + size;
    if (end > size_of_headers || end > pe->first_raw || end > n ||
        pe->nsections > 0xFFFF - size / SECTION_HEADER_SIZE)
        return false;
    for (uint32_t i = 0; i < size; i++)
        if (f[hdr + i] != 0)
            return false;
    return true;
}

/* The same after the headers move down by gain bytes: the bytes that become the new
 * headers are the last (size - gain) zero bytes after the table, if gain is short. */
static bool header_room_after_move(const uint8_t *f, size_t n, const ilg__pe_layout *pe,
                                   uint32_t size_of_headers, uint32_t hdr, uint32_t gain,
                                   uint32_t size)
{
    uint64_t end = (uint64_t)hdr + size - (gain < size ? gain : size);
    if (gain == 0 || end > size_of_headers || end > pe->first_raw || end > n ||
        pe->nsections > 0xFFFF - size / SECTION_HEADER_SIZE)
        return false;
    for (uint64_t i = hdr; i < end; i++)
        if (f[i] != 0)
            return false;
    return true;
}

/* ---- the output as a plan ----------------------------------------------------------- */

/* A 4-byte cell past the headers that the output changes. */
typedef struct save_patch {
    uint64_t off;
    size_t order;              /* the later of two patches of one cell wins */
    uint8_t bytes[4];
} save_patch;

/* The output: head (the patched headers) replaces file[0, head_len); then the file with
 * the patches; then zeros up to arena_at, the arena's used bytes, zeros up to total. */
typedef struct save_plan {
    ilg_save_result r;
    const uint8_t *file;
    size_t n;
    uint8_t *head;             /* owned */
    uint64_t head_len;
    save_patch *patches;       /* owned; sorted by offset, disjoint */
    size_t npatches;
    const uint8_t *arena;
    uint64_t arena_at, arena_len, total;
    uint64_t checksum_at;      /* the CheckSum field in head, 0 when left as it was */
    save_r2r r2r;              /* ReadyToRun: its tables follow the arena's bytes */
    uint64_t r2r_at;           /* file offset of r2r.blob */
    uint64_t mvid_at;          /* the MVID's four patched cells, 0 when it is kept */
    /* Written metadata (mdemit.h): the new root follows the other contents; the CLI
     * header's MetaData directory points at it and the MVID changes inside it. */
    uint8_t *md_blob;          /* owned */
    uint64_t md_len, md_at;
    uint32_t md_rva;
    uint32_t md_guid;          /* offset of the #GUID stream in md_blob */
    uint64_t md_mvid;          /* offset of the MVID in md_blob, 0 when kept or none */
    /* Written metadata: the old root's whole pages, left out of the file (save_cut.c). */
    save_cut cut;
} save_plan;

typedef ilg_status (*emit_fn)(void *ctx, const uint8_t *data, uint64_t len);
static ilg_status plan_emit(const save_plan *p, emit_fn fn, void *ctx);

static int patch_cmp(const void *x, const void *y)
{
    const save_patch *a = x, *b = y;
    if (a->off != b->off)
        return a->off < b->off ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

/* Sorts the patches, keeps the last of each cell, and refuses overlapping cells or cells
 * outside [head_len, n) (only a corrupt layout could make them). */
static ilg_status patches_order(save_plan *p)
{
    /* The host lists methods by rid, so the RVA cells usually come sorted already: sort
     * only when they do not. */
    size_t sorted = 1;
    while (sorted < p->npatches && patch_cmp(&p->patches[sorted - 1], &p->patches[sorted]) < 0)
        sorted++;
    if (sorted < p->npatches)
        qsort(p->patches, p->npatches, sizeof *p->patches, patch_cmp);
    size_t kept = 0;
    for (size_t i = 0; i < p->npatches; i++) {
        const save_patch *pt = &p->patches[i];
        if (pt->off < p->head_len || pt->off > p->n - 4)
            return ilg__fail(ILG_E_SAVE_METADATA_LAYOUT, ILG_WHERE_FILE, pt->off,
                             "a cell to patch at 0x%llx lies in the headers (0x%llx bytes) or "
                             "past the file (0x%zx bytes)",
                             (unsigned long long)pt->off, (unsigned long long)p->head_len, p->n);
        if (kept && p->patches[kept - 1].off == pt->off) {
            p->patches[kept - 1] = *pt;
            continue;
        }
        if (kept && pt->off < p->patches[kept - 1].off + 4)
            return ilg__fail(ILG_E_SAVE_METADATA_LAYOUT, ILG_WHERE_FILE, pt->off,
                             "cells to patch at 0x%llx and 0x%llx overlap",
                             (unsigned long long)p->patches[kept - 1].off,
                             (unsigned long long)pt->off);
        p->patches[kept++] = *pt;
    }
    p->npatches = kept;
    return ILG_OK;
}

/* The PE image checksum over a stream of pieces: 16-bit little-endian words summed with
 * the carries folded back in, plus the file length (the CheckSum field is zero in the
 * stream). Pieces may have odd lengths, so a byte can wait for its partner. */
typedef struct checksum_sink {
    uint64_t sum;
    uint64_t pos;
    uint32_t low;              /* the first byte of a word, when pos is odd */
} checksum_sink;

static ilg_status checksum_add(void *ctx, const uint8_t *data, uint64_t len)
{
    checksum_sink *c = ctx;
    uint64_t i = 0;
    if (!len)
        return ILG_OK;
    if (c->pos & 1) {
        c->sum += c->low | (uint32_t)(data ? data[0] : 0) << 8;
        i = 1;
    }
    if (data) {
        for (; i + 1 < len; i += 2)
            c->sum += data[i] | (uint32_t)data[i + 1] << 8;
        if (i < len)
            c->low = data[i];
    } else if (((len - i) & 1)) {
        c->low = 0;
    }
    c->pos += len;
    return ILG_OK;
}

static uint32_t checksum_end(checksum_sink *c, uint64_t total)
{
    uint64_t sum = c->sum + ((c->pos & 1) ? c->low : 0);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint32_t)(sum + total);
}

typedef struct buffer_sink {
    uint8_t *buf;
    uint64_t at;
} buffer_sink;

static ilg_status buffer_add(void *ctx, const uint8_t *data, uint64_t len)
{
    buffer_sink *b = ctx;
    if (data)
        memcpy(b->buf + b->at, data, (size_t)len);
    else
        memset(b->buf + b->at, 0, (size_t)len);
    b->at += len;
    return ILG_OK;
}

/* The new MVID's hash: data NULL is len zero bytes. */
static const uint8_t zero_page[4096];

static ilg_status hash_add(void *ctx, const uint8_t *data, uint64_t len)
{
    while (len) {
        uint64_t part = data ? len : (len < sizeof zero_page ? len : sizeof zero_page);
        XXH3_128bits_update(ctx, data ? data : zero_page, (size_t)part);
        len -= part;
    }
    return ILG_OK;
}

/* Pieces gathered into iovecs and written with writev. */
#define FILE_IOVS 512
typedef struct file_sink {
    int fd;
    const char *path;
    struct iovec iov[FILE_IOVS];
    int niov;
} file_sink;

static ilg_status file_flush(file_sink *f)
{
    int first = 0;
    while (first < f->niov) {
        ssize_t w = writev(f->fd, f->iov + first, f->niov - first);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot write %s: %s", f->path,
                             strerror(errno));
        }
        /* A short write: skip what went out and go on. */
        while (first < f->niov && (size_t)w >= f->iov[first].iov_len)
            w -= (ssize_t)f->iov[first++].iov_len;
        if (first < f->niov) {
            f->iov[first].iov_base = (uint8_t *)f->iov[first].iov_base + w;
            f->iov[first].iov_len -= (size_t)w;
        }
    }
    f->niov = 0;
    return ILG_OK;
}

static ilg_status file_add(void *ctx, const uint8_t *data, uint64_t len)
{
    file_sink *f = ctx;
    while (len) {
        uint64_t part = data ? len : (len < sizeof zero_page ? len : sizeof zero_page);
        if (f->niov == FILE_IOVS) {
            ilg_status st = file_flush(f);
            if (st != ILG_OK)
                return st;
        }
        f->iov[f->niov].iov_base = (void *)(data ? data : zero_page);
        f->iov[f->niov].iov_len = (size_t)part;
        f->niov++;
        len -= part;
        if (data)
            data += part;
    }
    return ILG_OK;
}

/* The ReadyToRun header cells (save_r2r.c) as patches, ordered after the first `order`. */
static ilg_status save_r2r_cells(ilg_image *img, save_plan *plan, size_t order)
{
    for (uint32_t i = 0; i < plan->r2r.ncells; i++) {
        uint64_t off;
        ilg_status st = ilg_image_rva_to_offset(img, plan->r2r.cells[i].rva, &off);
        if (st != ILG_OK)
            return st;
        save_patch *pt = &plan->patches[plan->npatches++];
        pt->off = off;
        pt->order = order + i;
        ilg__wr32(pt->bytes, plan->r2r.cells[i].value);
    }
    return ILG_OK;
}

static void save_r2r_result(const save_r2r *p, ilg_save_result *r)
{
    r->r2r = p->action;
    r->r2r_methods_dropped = p->methods_dropped;
    r->r2r_methods_kept = p->methods_kept;
    r->r2r_instances_dropped = p->instances_dropped;
    r->r2r_instances_kept = p->instances_kept;
    r->r2r_inliners_dropped = p->inliners_dropped;
    r->r2r_nonversionable_dropped = p->nonversionable_dropped;
    r->r2r_tables_rva = p->blob_rva;
    r->r2r_tables_size = p->blob_len;
}

/* The MVID's 16 bytes as four zero cells (filled in by plan_mvid), ordered from order. */
static void plan_mvid_cells(save_plan *p, uint64_t at, size_t order)
{
    p->mvid_at = at;
    for (uint32_t k = 0; k < 4; k++) {
        save_patch *pt = &p->patches[p->npatches++];
        pt->off = at + 4 * k;
        pt->order = order + k;
        memset(pt->bytes, 0, sizeof pt->bytes);
    }
}

/* The new MVID (save.h): XXH3-128 of the old MVID and the output with the MVID's cells
 * and the CheckSum field zero (as they are in the plan when this runs), as a version-4,
 * variant-1 GUID, then stored in those cells. */
static ilg_status plan_mvid(save_plan *p, ilg_save_result *r)
{
    XXH3_state_t *xs = XXH3_createState();
    XXH128_canonical_t digest;
    if (!xs)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for the MVID's hash");
    XXH3_128bits_reset(xs);
    XXH3_128bits_update(xs, r->old_mvid, sizeof r->old_mvid);
    plan_emit(p, hash_add, xs);
    XXH128_canonicalFromHash(&digest, XXH3_128bits_digest(xs));
    XXH3_freeState(xs);
    memcpy(r->mvid, digest.digest, sizeof r->mvid);
    r->mvid[7] = (uint8_t)((r->mvid[7] & 0x0F) | 0x40); /* Data3's high nibble: version 4 */
    r->mvid[8] = (uint8_t)((r->mvid[8] & 0x3F) | 0x80); /* Data4[0]'s top bits: variant 10 */
    for (size_t i = 0; p->mvid_at && i < p->npatches; i++)
        if (p->patches[i].off >= p->mvid_at && p->patches[i].off < p->mvid_at + 16)
            memcpy(p->patches[i].bytes, r->mvid + (p->patches[i].off - p->mvid_at), 4);
    if (p->md_mvid)
        memcpy(p->md_blob + p->md_mvid, r->mvid, sizeof r->mvid);
    r->mvid_changed = memcmp(r->mvid, r->old_mvid, sizeof r->mvid) != 0;
    return ILG_OK;
}

/* ---- making the plan, phase by phase ---------------------------------------------- */

/* What the phases of save_plan_make share: the request, the image's parsed parts, and
 * the new section's geometry as it is decided. */
typedef struct plan_in {
    ilg_image *img;
    const ilg_save_method *methods;
    size_t count;
    const ilg_save_options *opts;
    FILE *log;
    const ilg_metadata *md;
    ilg_arena_stats as;
    ilg_column_info rva_col;   /* MethodDef.RVA */
    ilg__pe_layout pe;         /* a copy: it follows the headers when they move down */
    uint64_t arena_end;        /* RVA after the arena's used bytes */
    uint64_t used_end;         /* RVA after the section's contents (arena, r2r tables) */
    bool md_written;           /* the metadata writer changed the metadata */
    uint32_t hdr;              /* file offset of the new section header, before a move */
    uint64_t va, vsize, raw_off, raw_size, total, new_soi;
} plan_in;

static ilg_status check_methoddef_cells(plan_in *in, ilg_save_result *r, uint32_t rows);
static ilg_status check_methods(plan_in *in, uint32_t rows);

/* The request against the image: a PE image with metadata and an arena, a MethodDef
 * table whose file bytes hold the RVAs the reader reports, and methods whose new
 * bodies lie in the arena's used bytes. */
static ilg_status plan_check(plan_in *in, ilg_save_result *r)
{
    ilg_image *img = in->img;
    ilg_arena *arena;
    ilg_status st;
    if (img->format != ILG_FORMAT_PE32 && img->format != ILG_FORMAT_PE32PLUS) {
        ilg_image_info info;
        if ((st = ilg_image_get_info(img, &info)) != ILG_OK)
            return st;
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "%s is %s, not PE", info.path,
                         info.format_name);
    }
    if ((st = ilg_image_metadata(img, &in->md)) != ILG_OK ||
        (st = ilg_image_arena(img, &arena)) != ILG_OK ||
        (st = ilg_arena_stats_get(arena, &in->as)) != ILG_OK ||
        (st = ilg_md_column(in->md, ILG_TBL_MethodDef, ILG_MDC_MethodDef_RVA, &in->rva_col)) != ILG_OK)
        return st;
    in->pe = img->pe;
    uint32_t rows = ilg_md_row_count(in->md, ILG_TBL_MethodDef);
    /* Written metadata is saved whole (a new root), RVAs included: no cell of the
     * input's tables is patched. */
    in->md_written = ilg_md_generation(in->md) != 0;
    if (!in->md_written && (st = check_methoddef_cells(in, r, rows)) != ILG_OK)
        return st;
    in->arena_end = in->used_end = in->as.high_water;
    return check_methods(in, rows);
}

/* The MethodDef table's RVA cells in the file hold the RVAs the reader reports. */
static ilg_status check_methoddef_cells(plan_in *in, ilg_save_result *r, uint32_t rows)
{
    const ilg_image *img = in->img;
    const uint8_t *f = img->file;
    ilg_status st;
    /* A module without methods (a reference facade such as System.Runtime.dll) has no
     * MethodDef table and nothing to patch. */
    if (!rows)
        return ILG_OK;
    if ((st = methoddef_locate(in->md, &r->methoddef_file_offset, &r->methoddef_row_size)) != ILG_OK)
        return st;
    if (in->rva_col.width != 4 ||
        !ilg__in_range(r->methoddef_file_offset, (uint64_t)rows * r->methoddef_row_size,
                       img->file_size))
        return ilg__fail(ILG_E_SAVE_METADATA_LAYOUT, ILG_WHERE_FILE, r->methoddef_file_offset,
                         "MethodDef table of %u rows x %u bytes does not fit the file", rows,
                         r->methoddef_row_size);
    /* The file's cells must hold the RVAs the reader reports, or the layout is wrong. */
    for (uint32_t rid = 1; rid <= rows; rid++) {
        ilg_method_info m;
        uint64_t at = r->methoddef_file_offset + (uint64_t)(rid - 1) * r->methoddef_row_size +
                      in->rva_col.offset;
        if ((st = ilg_md_method(in->md, rid, &m)) != ILG_OK)
            return st;
        if (ilg__rd32(f + at) != m.rva)
            return ilg__fail(ILG_E_SAVE_METADATA_LAYOUT, ILG_WHERE_FILE, at,
                             "MethodDef row %u RVA reads 0x%x here, the reader has 0x%x", rid,
                             ilg__rd32(f + at), m.rva);
    }
    return ILG_OK;
}

/* The methods to patch: rows that exist, bodies in the arena's used bytes. */
static ilg_status check_methods(plan_in *in, uint32_t rows)
{
    ilg_status st;
    for (size_t i = 0; i < in->count; i++) {
        const ilg_save_method *sm = &in->methods[i];
        if (sm->rid == 0 || sm->rid > rows)
            return ilg__fail(ILG_E_SAVE_BAD_METHOD, ILG_WHERE_NONE, 0,
                             "method rid %u (token 0x%08x) is not a MethodDef row (1..%u)",
                             sm->rid, 0x06000000u | sm->rid, rows);
        if (sm->new_size == 0 || sm->new_rva < in->as.start ||
            (uint64_t)sm->new_rva + sm->new_size > in->used_end)
            return ilg__fail(ILG_E_SAVE_BAD_METHOD, ILG_WHERE_RVA, sm->new_rva,
                             "method 0x%08x: body of %u bytes at RVA 0x%x is outside the "
                             "arena's used bytes [0x%llx, 0x%llx)",
                             0x06000000u | sm->rid, sm->new_size, sm->new_rva,
                             (unsigned long long)in->as.start, (unsigned long long)in->used_end);
        ilg_method_info m;
        if ((st = ilg_md_method(in->md, sm->rid, &m)) != ILG_OK)
            return st;
        if (m.rva == 0 && !in->md_written) /* a defined method gets its first body */
            return ilg__fail(ILG_E_SAVE_BAD_METHOD, ILG_WHERE_NONE, 0,
                             "method 0x%08x has no body in the image to replace",
                             0x06000000u | sm->rid);
    }
    return ILG_OK;
}

/* Where the new section header goes (moving the PE headers down over the DOS stub when
 * the table has no room after it), and where the section lies in the image and the
 * file. */
static ilg_status plan_place(plan_in *in, save_plan *plan, ilg_save_result *r)
{
    const ilg_image *img = in->img;
    const ilg__pe_layout *pe = &in->pe;
    const uint8_t *f = img->file;
    const size_t n = img->file_size;
    const bool no_move = in->opts && in->opts->no_header_move;
    ilg_status st;

    in->hdr = pe->sections + (uint32_t)pe->nsections * SECTION_HEADER_SIZE;
    /* A cut needs a second header, for the split section's tail; without room for it
     * the old root stays. */
    const uint32_t lfanew = pe->coff - 4, gain = lfanew - DOS_HEADER_SIZE;
    const bool can_move = !no_move && lfanew >= DOS_HEADER_SIZE;
    if (plan->cut.len && !header_room(f, n, pe, img->size_of_headers, in->hdr, 2 * SECTION_HEADER_SIZE) &&
        !(can_move && header_room_after_move(f, n, pe, img->size_of_headers, in->hdr, gain,
                                             2 * SECTION_HEADER_SIZE)))
        memset(&plan->cut, 0, sizeof plan->cut);
    const uint32_t need = (plan->cut.len ? 2 : 1) * SECTION_HEADER_SIZE;
    if (!header_room(f, n, pe, img->size_of_headers, in->hdr, need)) {
        /* Compilers leave exactly the room they needed (Roslyn: 3 headers in 0x200
         * bytes). The DOS stub between the DOS header and the PE signature is not used
         * by any CLI loader, so the PE headers can move down over it. */
        if (!can_move ||
            !header_room_after_move(f, n, pe, img->size_of_headers, in->hdr, gain, need))
            return ilg__fail(ILG_E_SAVE_NO_HEADER_ROOM, ILG_WHERE_FILE, in->hdr,
                             "no 40 zero bytes for a new section header at 0x%x (SizeOfHeaders "
                             "0x%x, first section data 0x%x, %u bytes of DOS stub%s)",
                             in->hdr, img->size_of_headers, pe->first_raw, gain,
                             no_move ? ", moving not allowed" : "");
        r->header_moved_by = gain;
    }
    /* The new section follows the last one; the arena must not start below it. */
    uint64_t last_end = 0;
    for (uint32_t i = 0; i < img->region_count; i++) {
        const ilg_region *rg = &img->regions[i];
        uint64_t end = ilg__align_up(rg->rva + rg->virtual_size, img->section_alignment);
        if (end > last_end)
            last_end = end;
    }
    uint64_t va = ilg__align_up(last_end, img->section_alignment);
    if (va < img->image_size)
        va = ilg__align_up(img->image_size, img->section_alignment);
    /* The loader's own checks (SizeOfImage a multiple of SectionAlignment, sections
     * inside it) put the arena at or above va; this guards the arithmetic. */
    if (in->as.start < va)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_RVA, in->as.start,
                         "arena starts at RVA 0x%llx, below the next section address 0x%llx "
                         "(SectionAlignment 0x%x)",
                         (unsigned long long)in->as.start, (unsigned long long)va,
                         img->section_alignment);
    /* The cut is a multiple of SectionAlignment, so of FileAlignment: the offsets after
     * it stay aligned. */
    uint64_t raw_off = ilg__align_up(n, img->file_alignment) - plan->cut.len;
    if (plan->r2r.ready_to_run &&
        (st = ilg__save_r2r_place(pe->raw_end, img->file_alignment, n, in->as.start, &va,
                                  &raw_off)) != ILG_OK)
        return st;
    in->va = va;
    in->raw_off = raw_off;
    in->vsize = in->used_end - va;
    in->raw_size = ilg__align_up(in->vsize, img->file_alignment);
    in->total = raw_off + in->raw_size;
    in->new_soi = ilg__align_up(va + in->vsize, img->section_alignment);
    if (in->total > UINT32_MAX || in->new_soi > UINT32_MAX)
        return ilg__fail(ILG_E_LIMIT, ILG_WHERE_NONE, 0,
                         "saved image of 0x%llx bytes (SizeOfImage 0x%llx) passes 4 GiB",
                         (unsigned long long)in->total, (unsigned long long)in->new_soi);
    return ILG_OK;
}

/* The headers, up to the end of the new section header (or of the old section table,
 * when the headers move down by more than a header), as a patched copy. */
static ilg_status plan_head(plan_in *in, save_plan *plan, ilg_save_result *r)
{
    ilg__pe_layout *pe = &in->pe;
    const uint32_t cut_hdr = plan->cut.len ? SECTION_HEADER_SIZE : 0;
    const uint32_t hdr = in->hdr, new_hdr = hdr - r->header_moved_by + cut_hdr;
    plan->head_len = (uint64_t)new_hdr + SECTION_HEADER_SIZE;
    if (plan->head_len < hdr)
        plan->head_len = hdr;
    uint8_t *head = plan->head = malloc((size_t)plan->head_len);
    if (!head)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for the headers");
    memcpy(head, in->img->file, (size_t)plan->head_len);
    if (r->header_moved_by) {
        uint32_t lfanew = pe->coff - 4;
        memmove(head + DOS_HEADER_SIZE, head + lfanew, hdr - lfanew);
        memset(head + hdr - r->header_moved_by, 0, (size_t)(plan->head_len - (hdr - r->header_moved_by)));
        ilg__wr32(head + 0x3C, DOS_HEADER_SIZE);
        pe->coff -= r->header_moved_by;
        pe->opt -= r->header_moved_by;
        pe->sections -= r->header_moved_by;
    }
    if (plan->cut.len)
        ilg__save_cut_head(head, pe->sections, pe->nsections, pe->opt, &plan->cut);
    uint8_t *sh = head + new_hdr;
    memset(sh, 0, SECTION_HEADER_SIZE);
    memcpy(sh, ILG_SAVE_SECTION_NAME, strlen(ILG_SAVE_SECTION_NAME));
    ilg__wr32(sh + 8, (uint32_t)in->vsize);
    ilg__wr32(sh + 12, (uint32_t)in->va);
    ilg__wr32(sh + 16, (uint32_t)in->raw_size);
    ilg__wr32(sh + 20, (uint32_t)in->raw_off);
    ilg__wr32(sh + 36, ILG_SAVE_SECTION_FLAGS);
    ilg__wr16(head + pe->coff + 2, (uint16_t)(pe->nsections + 1 + (cut_hdr ? 1 : 0)));
    ilg__wr32(head + pe->opt + 56, (uint32_t)in->new_soi);
    r->header_offset = new_hdr;
    return ILG_OK;
}

/* Written metadata: the CLI header's MetaData directory (RVA, size) names the new root,
 * and the MVID to change is the one inside it (zero until plan_mvid). */
static ilg_status plan_metadata_cells(plan_in *in, save_plan *plan, size_t order)
{
    const ilg_md_info *mi = &in->md->info;
    uint64_t cli_off;
    ilg_status st;
    if ((st = ilg_image_rva_to_offset(in->img, mi->cli_rva, &cli_off)) != ILG_OK)
        return st;
    if (!ilg__in_range(cli_off, 16, in->img->file_size))
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_RVA, mi->cli_rva, "CLI header outside the file");
    const uint32_t cells[2] = { plan->md_rva, (uint32_t)plan->md_len };
    for (uint32_t k = 0; k < 2; k++) {
        save_patch *pt = &plan->patches[plan->npatches++];
        pt->off = cli_off + 8 + 4 * k;
        pt->order = order + k;
        ilg__wr32(pt->bytes, cells[k]);
    }
    uint32_t index = 0;
    if (!(in->opts && in->opts->keep_mvid) &&
        ilg_md_cell(in->md, ILG_TBL_Module, 1, ILG_MDC_Module_Mvid, &index) == ILG_OK && index) {
        plan->md_mvid = plan->md_guid + (uint64_t)(index - 1) * 16;
        memset(plan->md_blob + plan->md_mvid, 0, 16);
    }
    return ILG_OK;
}

/* Every other change is a 4-byte cell past the headers: the RVAs, the CLI flags, the
 * MVID (zero until plan_mvid), the ReadyToRun header's cells. */
static ilg_status plan_patches(plan_in *in, save_plan *plan, ilg_save_result *r)
{
    const ilg_md_info *mi = &in->md->info;
    const size_t count = in->count;
    const size_t npatches = count + 7 + plan->r2r.ncells + plan->cut.ndebug;
    ilg_status st;
    plan->patches = malloc(npatches * sizeof *plan->patches);
    if (!plan->patches)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for %zu patches", npatches);
    if ((st = save_r2r_cells(in->img, plan, count + 5)) != ILG_OK)
        return st;
    for (size_t i = 0; i < count && !in->md_written; i++) {
        save_patch *pt = &plan->patches[plan->npatches++];
        pt->off = r->methoddef_file_offset +
                  (uint64_t)(in->methods[i].rid - 1) * r->methoddef_row_size + in->rva_col.offset;
        pt->order = i;
        ilg__wr32(pt->bytes, in->methods[i].new_rva);
    }
    if (mi->cli_flags & COMIMAGE_FLAGS_STRONGNAMESIGNED) {
        uint64_t cli_off;
        if ((st = ilg_image_rva_to_offset(in->img, mi->cli_rva, &cli_off)) != ILG_OK)
            return st;
        if (!ilg__in_range(cli_off, 20, in->img->file_size))
            return ilg__fail(ILG_E_RANGE, ILG_WHERE_RVA, mi->cli_rva, "CLI header outside the file");
        save_patch *pt = &plan->patches[plan->npatches++];
        pt->off = cli_off + 16;
        pt->order = count;
        ilg__wr32(pt->bytes, mi->cli_flags & ~COMIMAGE_FLAGS_STRONGNAMESIGNED);
        r->strong_name_cleared = true;
        fprintf(in->log,
                "ilgraft: warning: %s: strong-name signature no longer matches the rewritten "
                "image; the signed flag is cleared\n",
                in->img->path);
    }
    if (in->md_written && (st = plan_metadata_cells(in, plan, count + 2)) != ILG_OK)
        return st;
    for (uint32_t i = 0; i < plan->cut.ndebug; i++) {
        /* A debug entry's data past the cut: its file offset moves down with it. */
        save_patch *pt = &plan->patches[plan->npatches++];
        pt->off = plan->cut.debug_cells[i];
        pt->order = count + 4;
        ilg__wr32(pt->bytes, ilg__rd32(in->img->file + pt->off) - plan->cut.len);
    }
    if (!(in->opts && in->opts->keep_mvid) && r->mvid_file_offset && !in->md_written)
        plan_mvid_cells(plan, r->mvid_file_offset, count + 1);
    return patches_order(plan);
}

/* The section's contents in the output, then the new MVID and the checksum, which both
 * see the CheckSum field as zero; the checksum, computed last, covers the new MVID. */
static ilg_status plan_seal(plan_in *in, save_plan *plan, ilg_save_result *r)
{
    ilg_status st;
    plan->arena = in->as.base + in->as.start;
    plan->arena_at = in->raw_off + (in->as.start - in->va);
    plan->arena_len = in->arena_end - in->as.start;
    if (plan->r2r.blob_len)
        plan->r2r_at = in->raw_off + (plan->r2r.blob_rva - in->va);
    if (plan->md_len)
        plan->md_at = in->raw_off + (plan->md_rva - in->va);
    plan->total = in->total;
    ilg__wr32(plan->head + in->pe.opt + 64, 0);
    if ((plan->mvid_at || plan->md_mvid) && (st = plan_mvid(plan, r)) != ILG_OK)
        return st;
    if (in->pe.checksum != 0) {
        /* Summed over the output with the field zero, then stored in it. */
        plan->checksum_at = in->pe.opt + 64;
        checksum_sink ck = { 0, 0, 0 };
        plan_emit(plan, checksum_add, &ck);
        r->checksum = checksum_end(&ck, in->total);
        ilg__wr32(plan->head + plan->checksum_at, r->checksum);
    }
    r->section_added = true;
    r->section_rva = (uint32_t)in->va;
    r->section_vsize = (uint32_t)in->vsize;
    r->section_pad = (uint32_t)(in->as.start - in->va);
    r->section_file_offset = (uint32_t)in->raw_off;
    r->section_raw_size = (uint32_t)in->raw_size;
    r->methods_patched = (uint32_t)in->count;
    r->size_of_image = (uint32_t)in->new_soi;
    r->file_size = (size_t)in->total;
    r->old_root_cut_rva = plan->cut.rva;
    r->old_root_cut_size = plan->cut.len;
    save_r2r_result(&plan->r2r, r);
    return ILG_OK;
}

/* Written metadata as a new root after the section's other contents (4-aligned), the
 * methods' new RVAs in its MethodDef table. */
static ilg_status plan_metadata(plan_in *in, save_plan *plan)
{
    ilg_mdemit *em;
    ilg_status st;
    ilg_mdemit_rva *rvas = in->count ? malloc(in->count * sizeof *rvas) : NULL;
    if (in->count && !rvas)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for %zu RVAs", in->count);
    for (size_t i = 0; i < in->count; i++)
        rvas[i] = (ilg_mdemit_rva){ in->methods[i].rid, in->methods[i].new_rva };
    size_t len = 0;
    if ((st = ilg_mdemit_open(in->img, &em)) == ILG_OK)
        st = ilg_mdemit_serialize_ex(em, rvas, in->count, &plan->md_blob, &len, &plan->md_guid);
    free(rvas);
    if (st != ILG_OK)
        return st;
    plan->md_len = len;
    plan->md_rva = (uint32_t)ilg__align_up(in->used_end, 4);
    in->used_end = (uint64_t)plan->md_rva + len;
    return ILG_OK;
}

/* Everything ilg_save_build and ilg_save_write check and compute, as a plan of the
 * output: the patched headers, the patched cells, the new section's bytes. */
static ilg_status save_plan_make(ilg_image *img, const ilg_save_method *methods, size_t count,
                                 const ilg_save_options *opts, save_plan *plan)
{
    plan_in in = { .img = img, .methods = methods, .count = count, .opts = opts,
                   .log = opts && opts->log ? opts->log : stderr };
    ilg_save_result r;
    ilg_status st;

    memset(&r, 0, sizeof r);
    memset(plan, 0, sizeof *plan);
    if (!img || (count && !methods))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "NULL image, methods or output");
    if ((st = plan_check(&in, &r)) != ILG_OK)
        return st;
    plan->file = img->file;
    plan->n = img->file_size;
    bool grafted = count || in.used_end > in.as.start || in.md_written;
    if ((st = mvid_locate(in.md, &in.md->info, img->file, img->file_size,
                          grafted && !(opts && opts->keep_mvid), &r.mvid_file_offset,
                          r.old_mvid)) != ILG_OK)
        return st;
    memcpy(r.mvid, r.old_mvid, sizeof r.mvid);
    if (!grafted) {
        /* Nothing grafted: the file as it was, MVID included. */
        r.file_size = img->file_size;
        r.size_of_image = (uint32_t)img->image_size;
        r.checksum = in.pe.checksum;
        plan->total = img->file_size;
        plan->r = r;
        return ILG_OK;
    }
    /* ReadyToRun: what becomes of the precompiled code (save_r2r.c); filtered tables
     * go into the section after the arena's bytes. */
    if ((st = ilg__save_r2r_plan(img, methods, count, in.used_end, opts, in.log, &plan->r2r)) !=
        ILG_OK)
        return st;
    if (plan->r2r.blob_len)
        in.used_end = (uint64_t)plan->r2r.blob_rva + plan->r2r.blob_len;
    if (in.md_written && (st = plan_metadata(&in, plan)) != ILG_OK)
        return st;
    if (in.md_written && !plan->r2r.ready_to_run && !(opts && opts->keep_old_root))
        ilg__save_cut_plan(img, in.md, &plan->cut);
    if ((st = plan_place(&in, plan, &r)) != ILG_OK || (st = plan_head(&in, plan, &r)) != ILG_OK ||
        (st = plan_patches(&in, plan, &r)) != ILG_OK || (st = plan_seal(&in, plan, &r)) != ILG_OK)
        return st;
    plan->r = r;
    return ILG_OK;
}

/* ---- emitting the plan ------------------------------------------------------------------ */

/* data NULL: len zero bytes. */
typedef ilg_status (*emit_fn)(void *ctx, const uint8_t *data, uint64_t len);

/* The input's bytes [from, to) as the output holds them: without the cut. */
static ilg_status emit_file(const save_plan *p, emit_fn fn, void *ctx, uint64_t from, uint64_t to)
{
    const uint64_t cut_end = p->cut.at + p->cut.len;
    if (p->cut.len && from < cut_end && to > p->cut.at) {
        ilg_status st;
        if (from < p->cut.at && (st = fn(ctx, p->file + from, p->cut.at - from)) != ILG_OK)
            return st;
        from = cut_end < to ? cut_end : to;
    }
    return fn(ctx, p->file + from, to - from);
}

/* The output from its first byte to its last, in pieces. */
static ilg_status plan_emit(const save_plan *p, emit_fn fn, void *ctx)
{
    ilg_status st;
    uint64_t pos = p->head_len;
    if (p->head_len && (st = fn(ctx, p->head, p->head_len)) != ILG_OK)
        return st;
    for (size_t i = 0; i < p->npatches; i++) {
        const save_patch *pt = &p->patches[i];
        if ((st = emit_file(p, fn, ctx, pos, pt->off)) != ILG_OK ||
            (st = fn(ctx, pt->bytes, 4)) != ILG_OK)
            return st;
        pos = pt->off + 4;
    }
    if ((st = emit_file(p, fn, ctx, pos, p->n)) != ILG_OK)
        return st;
    if (!p->arena_len && !p->r2r.blob_len && !p->md_len)
        return ILG_OK;
    if ((st = fn(ctx, NULL, p->arena_at - (p->n - p->cut.len))) != ILG_OK ||
        (st = fn(ctx, p->arena, p->arena_len)) != ILG_OK)
        return st;
    uint64_t at = p->arena_at + p->arena_len;
    if (p->r2r.blob_len) {
        if ((st = fn(ctx, NULL, p->r2r_at - at)) != ILG_OK ||
            (st = fn(ctx, p->r2r.blob, p->r2r.blob_len)) != ILG_OK)
            return st;
        at = p->r2r_at + p->r2r.blob_len;
    }
    if (p->md_len) {
        if ((st = fn(ctx, NULL, p->md_at - at)) != ILG_OK ||
            (st = fn(ctx, p->md_blob, p->md_len)) != ILG_OK)
            return st;
        at = p->md_at + p->md_len;
    }
    return fn(ctx, NULL, p->total - at);
}

static void plan_free(save_plan *p)
{
    free(p->head);
    free(p->patches);
    free(p->md_blob);
    ilg__save_r2r_free(&p->r2r);
    memset(p, 0, sizeof *p);
}

ilg_status ilg_save_build(ilg_image *img, const ilg_save_method *methods, size_t count,
                          const ilg_save_options *opts, uint8_t **out, size_t *out_size,
                          ilg_save_result *res)
{
    save_plan plan;
    if (!out || !out_size)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "NULL output");
    ilg_status st = save_plan_make(img, methods, count, opts, &plan);
    if (st != ILG_OK) {
        plan_free(&plan);
        return st;
    }
    buffer_sink b = { malloc(plan.total ? (size_t)plan.total : 1), 0 };
    if (!b.buf) {
        plan_free(&plan);
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for %llu bytes",
                         (unsigned long long)plan.total);
    }
    plan_emit(&plan, buffer_add, &b);
    *out = b.buf;
    *out_size = (size_t)plan.total;
    if (res)
        *res = plan.r;
    plan_free(&plan);
    return ILG_OK;
}

void ilg_save_free(uint8_t *buf)
{
    free(buf);
}

/* Writes the plan straight from the mapped input and the arena (writev), without an
 * output-sized copy, whose fresh pages cost more than the writing (docs/save.md). */
ilg_status ilg_save_write(ilg_image *img, const ilg_save_method *methods, size_t count,
                          const ilg_save_options *opts, const char *path, ilg_save_result *res)
{
    save_plan plan;
    char tmp[PATH_MAX];
    file_sink fs = { .fd = -1 };
    ilg_status st;

    if (!path)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "NULL path");
    if ((st = save_plan_make(img, methods, count, opts, &plan)) != ILG_OK)
        goto out;
    if (snprintf(tmp, sizeof tmp, "%s.ilgsave.%d", path, (int)getpid()) >= (int)sizeof tmp) {
        st = ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "path too long: %s", path);
        goto out;
    }
    fs.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fs.fd < 0) {
        st = ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    fs.path = tmp;
    if ((st = plan_emit(&plan, file_add, &fs)) != ILG_OK || (st = file_flush(&fs)) != ILG_OK)
        goto out;
    if (close(fs.fd) != 0) {
        fs.fd = -1;
        st = ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    fs.fd = -1;
    /* ext4 flushes a file that is renamed over another (auto_da_alloc), and the save
     * would wait for the disk (docs/save.md). The old file goes first, so the finished
     * one still replaces it whole; only a crash between the two calls leaves neither.
     * When unlink fails, rename says why. */
    (void)unlink(path);
    if (rename(tmp, path) != 0) {
        st = ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot rename %s to %s: %s", tmp, path,
                       strerror(errno));
        goto out;
    }
    fs.path = NULL;
    if (res)
        *res = plan.r;
out:
    if (fs.fd >= 0)
        close(fs.fd);
    if (fs.path)
        unlink(fs.path);
    plan_free(&plan);
    return st;
}
