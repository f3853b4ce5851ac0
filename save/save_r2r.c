/* save_r2r.c: the ReadyToRun part of a save (ilgraft/save.h, docs/save.md): which
 * precompiled code the rewritten methods take with them, and the filtered copies of
 * MethodDefEntryPoints (a NativeFormat sparse array) and InstanceMethodEntryPoints (a
 * NativeFormat hashtable) that leave it out, written the way the runtime's
 * nativeformatreader.h reads them (docs/readytorun.md). The kept entries' data stays
 * where it is: an array element is re-encoded with a 5-byte offset back to its fixup
 * list, a hashtable entry points back at its original signature and entry with a
 * 5-byte signed offset (the only form whose sign the runtime's reader extends). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilgraft/metadata.h"
#include "ilg_private.h"
#include "save_private.h"

#define PAGE 4096u
#define HEADER_SECTIONS 16u        /* READYTORUN_HEADER: the section array's offset */
#define SECTION_ENTRY 12u
#define BLOCK 16u                  /* NativeArray elements per block */
#define EMPTY_LEAF (BLOCK << 2)    /* a leaf no index of a block matches */

/* ---- output buffer and NativeFormat integers ------------------------------------------ */

typedef struct obuf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} obuf;

static void put(obuf *b, const uint8_t *bytes, size_t n)
{
    if (b->oom)
        return;
    if (ilg__grow_size((void **)&b->p, &b->cap, b->len + n, 1) != ILG_OK) {
        b->oom = true;
        return;
    }
    memcpy(b->p + b->len, bytes, n);
    b->len += n;
}

static uint32_t nf_size(uint32_t v)
{
    return v < (1u << 7) ? 1 : v < (1u << 14) ? 2 : v < (1u << 21) ? 3 : v < (1u << 28) ? 4 : 5;
}

/* The shortest form: the low bits say how many bytes follow. */
static void nf_unsigned(obuf *b, uint32_t v)
{
    uint8_t e[5];
    uint32_t n = nf_size(v);
    if (n == 5) {
        e[0] = 0x0F;
        ilg__wr32(e + 1, v);
    } else {
        uint32_t x = (v << n) | ((1u << (n - 1)) - 1);
        for (uint32_t i = 0; i < n; i++)
            e[i] = (uint8_t)(x >> (8 * i));
    }
    put(b, e, n);
}

/* The 5-byte form, whatever the value: unsigned, or signed (read back whole). */
static void nf_fixed5(obuf *b, uint32_t v)
{
    uint8_t e[5] = { 0x0F };
    ilg__wr32(e + 1, v);
    put(b, e, 5);
}

static void put_width(obuf *b, uint32_t v, uint32_t width)
{
    uint8_t e[4];
    ilg__wr32(e, v);
    put(b, e, width);
}

/* ---- which code goes ------------------------------------------------------------------- */

/* A pair both of whose methods are this module's MethodDefs (module index 0). */
static bool local_pair(const ilg_r2r_inline_info *x, uint32_t rows)
{
    return !x->inlinee_cross_module && !x->inlinee_module && !x->inliner_cross_module &&
           !x->inliner_module && (x->inlinee & 0xFFFFFF) <= rows && (x->inliner & 0xFFFFFF) <= rows;
}

/* drop[rid]: the rewritten methods, then whatever inlined a dropped method's code (as
 * the inlining tables record it, this module's methods only), breadth first over the
 * pairs sorted by inlinee (start[rid]..start[rid + 1] in by). */
static ilg_status mark_drops(const ilg_r2r *r2r, uint32_t rows, const ilg_save_method *methods,
                             size_t count, bool *drop)
{
    ilg_r2r_info in;
    ilg_r2r_get_info(r2r, &in);
    uint32_t *start = calloc((size_t)rows + 2, sizeof *start);
    uint32_t *fill = calloc((size_t)rows + 2, sizeof *fill);
    uint32_t *by = calloc(in.inline_count ? in.inline_count : 1, sizeof *by);
    uint32_t *queue = calloc((size_t)rows + 1, sizeof *queue);
    ilg_status st = ILG_OK;
    if (!start || !fill || !by || !queue) {
        st = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "an index of %u inlining pairs",
                       in.inline_count);
        goto out;
    }
    ilg_r2r_inline_info x;
    for (uint32_t i = 0; i < in.inline_count; i++)
        if (ilg_r2r_inline(r2r, i, &x) == ILG_OK && local_pair(&x, rows))
            start[(x.inlinee & 0xFFFFFF) + 1]++;
    for (uint32_t r = 1; r <= rows + 1; r++)
        start[r] += start[r - 1];
    memcpy(fill, start, ((size_t)rows + 2) * sizeof *fill);
    for (uint32_t i = 0; i < in.inline_count; i++)
        if (ilg_r2r_inline(r2r, i, &x) == ILG_OK && local_pair(&x, rows))
            by[fill[x.inlinee & 0xFFFFFF]++] = x.inliner & 0xFFFFFF;
    uint32_t head = 0, tail = 0;
    for (size_t i = 0; i < count; i++)
        if (!drop[methods[i].rid]) {
            drop[methods[i].rid] = true;
            queue[tail++] = methods[i].rid;
        }
    while (head < tail) {
        const uint32_t ee = queue[head++];
        for (uint32_t k = start[ee]; k < start[ee + 1]; k++)
            if (!drop[by[k]]) {
                drop[by[k]] = true;
                queue[tail++] = by[k];
            }
    }
out:
    free(start);
    free(fill);
    free(by);
    free(queue);
    return st;
}

/* nv[rid]: the MethodDefs with [System.Runtime.Versioning.NonVersionable]. crossgen2
 * records no inlining of such a method, neither as inlinee nor as inliner
 * (InliningInfoNode), so the inlining tables cannot say what they inlined or who
 * inlined them. */
static void mark_nonversionable(const ilg_metadata *md, uint32_t rows, bool *nv)
{
    const uint32_t parent = ILG_MDC_CustomAttribute_Parent, type = ILG_MDC_CustomAttribute_Type;
    const char *const attr = " System.Runtime.Versioning.NonVersionableAttribute::";
    for (uint32_t row = 1; row <= ilg_md_row_count(md, ILG_TBL_CustomAttribute); row++) {
        uint32_t p, t;
        char name[512];
        if (ilg_md_cell(md, ILG_TBL_CustomAttribute, row, parent, &p) != ILG_OK ||
            (p >> 24) != ILG_TBL_MethodDef || (p & 0xFFFFFF) > rows ||
            ilg_md_cell(md, ILG_TBL_CustomAttribute, row, type, &t) != ILG_OK)
            continue;
        ilg_status st = ilg_md_member_name(md, t, name, sizeof name, NULL);
        if ((st == ILG_OK || st == ILG_E_RANGE) && strstr(name, attr))
            nv[p & 0xFFFFFF] = true;
    }
}

static bool dropped(const ilg_r2r_method_info *m, const bool *drop, uint32_t rows)
{
    uint32_t rid = m->token & 0xFFFFFF;
    return (m->token >> 24) == ILG_TBL_MethodDef && !m->module_override && rid <= rows && drop[rid];
}

/* ---- MethodDefEntryPoints: a NativeArray of the kept entries -------------------------- */

typedef struct arr_elem {
    uint32_t index;            /* rid - 1 */
    uint32_t rf;               /* runtime function */
    uint32_t fixups_rva;       /* 0: none */
} arr_elem;

static uint32_t elem_id(const arr_elem *e) { return e->fixups_rva ? e->rf << 2 | 3 : e->rf << 1; }
static uint32_t elem_size(const arr_elem *e) { return nf_size(elem_id(e)) + (e->fixups_rva ? 5 : 0); }

/* A tree node with a high child: its value holds its distance to that child, which
 * counts the node's own bytes. */
static uint32_t node_size(uint32_t flags, uint32_t low)
{
    uint32_t s = 1;
    while (nf_size(flags | ((s + low) << 2)) != s)
        s = nf_size(flags | ((s + low) << 2));
    return s;
}

/* The subtree for e[0..n), whose in-block indices lie in [first, first + 2 * bit)
 * (nativeformatreader.h TryGetAt tests bit 8, 4, 2, 1): one element is a leaf (its
 * index << 2, its data after it), more a node (bit 0: a low child right after it, bit
 * 1: a high child at node + value >> 2). With out NULL only the size is computed;
 * otherwise at is the RVA it is written at, for the offsets back to fixup lists. */
static uint32_t subtree(const arr_elem *e, uint32_t n, uint32_t bit, uint32_t first, obuf *out,
                        uint32_t at)
{
    if (bit == 0 || n == 1) {
        uint32_t leaf = bit ? nf_size((e->index % BLOCK) << 2) : 0;
        if (out) {
            if (bit)
                nf_unsigned(out, (e->index % BLOCK) << 2);
            uint32_t id = elem_id(e);
            nf_unsigned(out, id);
            /* runtime: fixups = (the position after id) - this value */
            if (e->fixups_rva)
                nf_fixed5(out, at + leaf + nf_size(id) - e->fixups_rva);
        }
        return leaf + elem_size(e);
    }
    uint32_t nlow = 0;
    while (nlow < n && e[nlow].index % BLOCK < first + bit)
        nlow++;
    const uint32_t low = nlow ? subtree(e, nlow, bit >> 1, first, NULL, 0) : 0;
    const uint32_t flags = (nlow ? 1u : 0u) | (nlow < n ? 2u : 0u);
    const uint32_t node = nlow < n ? node_size(flags, low) : nf_size(flags);
    if (out) {
        nf_unsigned(out, nlow < n ? flags | ((node + low) << 2) : flags);
        if (nlow)
            subtree(e, nlow, bit >> 1, first, out, at + node);
    }
    uint32_t high = nlow < n ? subtree(e + nlow, n - nlow, bit >> 1, first + bit, out,
                                       at + node + low) : 0;
    return node + low + high;
}

/* The array of count elements, e[0..n) present (sorted by index), written for rva:
 * the header (count << 2 | offset width code), one offset per block of 16 (from after
 * the header), the blocks' trees, and one leaf that no index matches for the empty
 * blocks. first[b] is a scratch array of blocks + 1 entries. */
static void write_array(const arr_elem *e, uint32_t n, uint32_t count, uint32_t rva,
                        uint32_t *first, obuf *out)
{
    const uint32_t blocks = (count + BLOCK - 1) / BLOCK;
    uint64_t trees = 0;
    bool any_empty = false;
    for (uint32_t b = 0, k = 0; b <= blocks; b++) {
        first[b] = k;
        while (b < blocks && k < n && e[k].index / BLOCK == b)
            k++;
        if (b < blocks && k == first[b])
            any_empty = true;
        else if (b < blocks)
            trees += subtree(e + first[b], k - first[b], BLOCK / 2, 0, NULL, 0);
    }
    uint32_t code = 0, width = 1;
    while (code < 2 && (uint64_t)blocks * width + trees >= (1ull << (8 * width)))
        code++, width *= 2;
    const uint32_t header = count << 2 | code;
    const uint32_t base = rva + nf_size(header);
    nf_unsigned(out, header);
    uint32_t pos = blocks * width;
    const uint32_t empty_at = blocks * width + (uint32_t)trees;
    for (uint32_t b = 0; b < blocks; b++) {
        const uint32_t k0 = first[b], k1 = first[b + 1];
        put_width(out, k1 > k0 ? pos : empty_at, width);
        if (k1 > k0)
            pos += subtree(e + k0, k1 - k0, BLOCK / 2, 0, NULL, 0);
    }
    pos = blocks * width;
    for (uint32_t b = 0; b < blocks; b++) {
        const uint32_t k0 = first[b], k1 = first[b + 1];
        if (k1 > k0)
            pos += subtree(e + k0, k1 - k0, BLOCK / 2, 0, out, base + pos);
    }
    if (any_empty)
        nf_unsigned(out, EMPTY_LEAF);
}

/* ---- InstanceMethodEntryPoints: a NativeHashtable of the kept entries ------------------- */

typedef struct ht_entry {
    uint32_t bucket;
    uint8_t low;               /* the hash code's low byte */
    uint32_t target;           /* RVA of the entry's signature (and entry) */
} ht_entry;

#define HT_ENTRY 6u            /* low byte + 5-byte relative offset */

/* buckets (a power of two, as the original had, so every entry keeps its bucket and
 * its place in it) with e[0..n) in bucket order, for rva: the header byte (bucket count
 * log2 << 2 | offset width code), bucket count + 1 offsets from after it, the entries. */
static void write_hashtable(const ht_entry *e, uint32_t n, uint32_t buckets, uint32_t rva,
                            obuf *out)
{
    uint32_t code = 0, width = 1, shift = 0;
    while ((1u << shift) < buckets)
        shift++;
    while (code < 2 && ((uint64_t)buckets + 1) * width + (uint64_t)n * HT_ENTRY >= (1ull << (8 * width)))
        code++, width *= 2;
    const uint8_t header = (uint8_t)(shift << 2 | code);
    put(out, &header, 1);
    const uint32_t table = (buckets + 1) * width, base = rva + 1;
    for (uint32_t b = 0, k = 0; b <= buckets; b++) {
        while (k < n && e[k].bucket < b)
            k++;
        put_width(out, table + k * HT_ENTRY, width);
    }
    for (uint32_t k = 0; k < n; k++) {
        put(out, &e[k].low, 1);
        /* GetRelativeOffset: from the offset's own position, signed */
        nf_fixed5(out, e[k].target - (base + table + k * HT_ENTRY + 1));
    }
}

/* ---- the plan ---------------------------------------------------------------------------- */

/* The cells of the header's entry for a section type (the first, as the runtime finds
 * it): its RVA and size. */
static bool section_cells(const ilg_r2r_info *in, uint32_t type, uint32_t *rva_cell)
{
    for (uint32_t i = 0; i < in->section_count; i++)
        if (in->sections[i].type == type) {
            *rva_cell = in->header_rva + HEADER_SECTIONS + SECTION_ENTRY * i + 4;
            return true;
        }
    return false;
}

static void add_cell(save_r2r *p, uint32_t rva, uint32_t value)
{
    p->cells[p->ncells++] = (save_r2r_cell){ rva, value };
}

/* MajorVersion 0 (below every runtime's minimum): "Ready to Run disabled - unsupported
 * header version", and every method is JIT-compiled (docs/coreclr-observed.md). */
static ilg_status plan_disable(ilg_image *img, const ilg_r2r_info *in, const char *why,
                               const char *path, FILE *log, save_r2r *p)
{
    const uint8_t *h;
    ilg_status st = ilg_image_rva_to_ptr(img, in->header_rva + 4, 4, &h);
    if (st != ILG_OK)
        return st;
    add_cell(p, in->header_rva + 4, (uint32_t)in->minor_version << 16);
    p->action = ILG_SAVE_R2R_DISABLED;
    p->methods_dropped = in->methoddef_entries;
    p->instances_dropped = in->instance_entries;
    fprintf(log,
            "ilgraft: warning: %s: ReadyToRun: precompiled code disabled for the whole image "
            "(%s; READYTORUN_HEADER MajorVersion %u -> 0): all %u precompiled methods and %u "
            "instantiations will be JIT-compiled\n",
            path, why, in->major_version, in->methoddef_entries, in->instance_entries);
    return ILG_OK;
}

/* The kept entries, in the two tables' shapes. */
static void collect(const ilg_r2r *r2r, const bool *drop, uint32_t rows, arr_elem *arr,
                    ht_entry *ht, save_r2r *p)
{
    for (uint32_t i = 0; i < ilg_r2r_method_count(r2r); i++) {
        ilg_r2r_method_info m;
        ilg_r2r_method(r2r, i, &m);
        const bool gone = dropped(&m, drop, rows);
        if (!m.instance) {
            p->methods_dropped += gone;
            if (!gone)
                arr[p->methods_kept++] = (arr_elem){ (m.token & 0xFFFFFF) - 1, m.runtime_function,
                                                     m.has_fixups ? m.fixups_rva : 0 };
        } else {
            p->instances_dropped += gone;
            if (!gone)
                ht[p->instances_kept++] = (ht_entry){ m.bucket, m.low_hash, m.sig_rva };
        }
    }
}

/* The filtered tables, at the first 16-byte boundary at or above free_rva. */
static ilg_status plan_filter(const ilg_r2r *r2r, const ilg_r2r_info *in, const bool *drop,
                              uint32_t rows, uint64_t free_rva, save_r2r *p)
{
    arr_elem *arr = calloc(in->methoddef_entries + 1, sizeof *arr);
    ht_entry *ht = calloc(in->instance_entries + 1, sizeof *ht);
    uint32_t *scratch = calloc(in->methoddef_slots / BLOCK + 2, sizeof *scratch);
    obuf out = { 0 };
    ilg_status st = ILG_OK;
    if (!arr || !ht || !scratch) {
        st = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "%u entries to filter",
                       in->methoddef_entries + in->instance_entries);
        goto out;
    }
    collect(r2r, drop, rows, arr, ht, p);
    p->action = ILG_SAVE_R2R_FILTERED;
    if (!p->methods_dropped && !p->instances_dropped)
        goto out; /* nothing to take out: the tables stay as they are */
    const uint64_t rva = ilg__align_up(free_rva, 16);
    uint32_t cell;
    if (section_cells(in, ILG_R2R_METHODDEF_ENTRY_POINTS, &cell)) {
        write_array(arr, p->methods_kept, in->methoddef_slots, (uint32_t)rva, scratch, &out);
        add_cell(p, cell, (uint32_t)rva);
        add_cell(p, cell + 4, (uint32_t)out.len);
    }
    static const uint8_t zeros[4];
    if (out.len % 4)
        put(&out, zeros, 4 - out.len % 4);
    if (section_cells(in, ILG_R2R_INSTANCE_METHOD_ENTRY_POINTS, &cell)) {
        const size_t at = out.len;
        write_hashtable(ht, p->instances_kept, in->instance_buckets, (uint32_t)(rva + at), &out);
        add_cell(p, cell, (uint32_t)(rva + at));
        add_cell(p, cell + 4, (uint32_t)(out.len - at));
    }
    if (out.oom) {
        st = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "filtered ReadyToRun tables");
        goto out;
    }
    if (rva + out.len > UINT32_MAX) {
        st = ilg__fail(ILG_E_LIMIT, ILG_WHERE_NONE, 0, "filtered ReadyToRun tables end past 4 GiB");
        goto out;
    }
    p->blob = out.p;
    out.p = NULL;
    p->blob_rva = (uint32_t)rva;
    p->blob_len = (uint32_t)out.len;
out:
    free(out.p);
    free(arr);
    free(ht);
    free(scratch);
    return st;
}

ilg_status ilg__save_r2r_plan(ilg_image *img, const ilg_save_method *methods, size_t count,
                              uint64_t free_rva, const ilg_save_options *opts, FILE *log,
                              save_r2r *out)
{
    const ilg_metadata *md;
    const ilg_r2r *r2r;
    ilg_r2r_info in;
    ilg_image_info ii;
    memset(out, 0, sizeof *out);
    ilg_status st = ilg_image_metadata(img, &md);
    if (st == ILG_OK)
        st = ilg_image_readytorun(img, &r2r);
    if (st == ILG_E_R2R_ABSENT)
        return ILG_OK;
    if (st != ILG_OK)
        return st;
    out->ready_to_run = true;
    if (!count)
        return ILG_OK;
    ilg_r2r_get_info(r2r, &in);
    ilg_image_get_info(img, &ii);
    if (opts && opts->r2r_disable)
        return plan_disable(img, &in, "as asked", ii.path, log, out);
    if (in.flags & ILG_R2R_FLAG_COMPONENT)
        return plan_disable(img, &in, "a component of a composite image, whose code is elsewhere",
                            ii.path, log, out);
    const uint32_t rows = ilg_md_row_count(md, ILG_TBL_MethodDef);
    bool *drop = calloc((size_t)rows + 1, sizeof *drop), *nv = calloc((size_t)rows + 1, sizeof *nv);
    if (!drop || !nv) {
        free(drop), free(nv);
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "%u MethodDef marks", rows);
    }
    mark_nonversionable(md, rows, nv);
    for (size_t i = 0; i < count; i++)
        if (nv[methods[i].rid]) {
            char why[96];
            snprintf(why, sizeof why, "method 0x%08x is [NonVersionable]: who inlined it is not "
                     "recorded", 0x06000000u | methods[i].rid);
            free(drop), free(nv);
            return plan_disable(img, &in, why, ii.path, log, out);
        }
    if ((st = mark_drops(r2r, rows, methods, count, drop)) == ILG_OK) {
        /* What [NonVersionable] methods inlined is not recorded either: they go too. */
        for (uint32_t rid = 1; rid <= rows; rid++)
            drop[rid] |= nv[rid];
        st = plan_filter(r2r, &in, drop, rows, free_rva, out);
    }
    /* Counted among the MethodDef entries dropped: those not rewritten, by reason. */
    for (size_t i = 0; st == ILG_OK && i < count; i++)
        drop[methods[i].rid] = false;
    for (uint32_t i = 0; st == ILG_OK && i < in.methoddef_entries; i++) {
        ilg_r2r_method_info m;
        ilg_r2r_method(r2r, i, &m);
        const uint32_t rid = m.token & 0xFFFFFF;
        out->nonversionable_dropped += drop[rid] && nv[rid];
        out->inliners_dropped += drop[rid] && !nv[rid];
    }
    free(drop);
    free(nv);
    if (st != ILG_OK)
        return st;
    fprintf(log,
            "ilgraft: warning: %s: ReadyToRun: %u of %u precompiled methods lose their code "
            "(%u rewritten, %u that inlined a rewritten method, %u [NonVersionable] whose "
            "inlining is not recorded) and %u of %u instantiations; the others keep theirs\n",
            ii.path, out->methods_dropped, in.methoddef_entries,
            out->methods_dropped - out->inliners_dropped - out->nonversionable_dropped,
            out->inliners_dropped, out->nonversionable_dropped, out->instances_dropped,
            in.instance_entries);
    return ILG_OK;
}

void ilg__save_r2r_free(save_r2r *p)
{
    free(p->blob);
    memset(p, 0, sizeof *p);
}

ilg_status ilg__save_r2r_place(uint64_t raw_end, uint32_t file_alignment, uint64_t file_size,
                               uint64_t arena_start, uint64_t *va, uint64_t *raw_off)
{
    /* CoreCLR's Unix loader maps SizeOfRawData of each section and rounds its end up to
     * a page; the next section must start at or after that page. */
    uint64_t end = ilg__align_up(raw_end, PAGE);
    if (arena_start % PAGE || end > arena_start)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_RVA, arena_start,
                         "the arena at RVA 0x%llx is not page aligned after the last section's "
                         "raw data (ending in the page before 0x%llx)",
                         (unsigned long long)arena_start, (unsigned long long)end);
    *va = arena_start;
    *raw_off = ilg__align_up(file_size, file_alignment > PAGE ? file_alignment : PAGE);
    return ILG_OK;
}
