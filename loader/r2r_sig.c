/* r2r_sig.c: the ReadyToRun tables keyed by hashtables: InstanceMethodEntryPoints
 * (each entry a method signature in ReadyToRun's encoding, followed by the entry point)
 * and the inlining tables (InliningInfo2, CrossModuleInlineInfo). Signatures are
 * decoded as far as the MethodDef token and skipped past otherwise, type by type as
 * the runtime's SigParser::SkipExactlyOne does, with nesting bounded. */
#include <stdio.h>
#include <stdlib.h>

#include "r2r_private.h"

/* The element types a ReadyToRun type signature adds to ECMA-335's (ILG_ET_*,
 * elemtypes.def): the runtime's ZapSig additions (corcompile.h). */
enum {
    ET_VAR_ZAPSIG = 0x3B, ET_NATIVE_VALUETYPE_ZAPSIG = 0x3D, ET_CANON_ZAPSIG = 0x3E,
    ET_MODULE_ZAPSIG = 0x3F,
};

#define SIG_MAX_DEPTH 64

typedef struct sig_cursor {
    r2r_ctx *c;
    uint32_t start, pos;
    uint32_t token;            /* the method's, for messages */
} sig_cursor;

static ilg_status sig_fail(const sig_cursor *s, const char *what)
{
    if (!s->c->budget)
        what = "the table's signatures read more bytes than it holds";
    return ilg__r2r_fail(s->c, ILG_E_R2R_BAD_SIGNATURE, s->start,
                         "instance entry signature at RVA 0x%x, byte %u: %s", s->start,
                         s->pos - s->start, what);
}

/* Room in the table's budget for one more read; false (a failed read) when spent. */
static bool spend(r2r_ctx *c)
{
    if (!c->budget)
        return false;
    c->budget--;
    return true;
}

static bool sig_byte(sig_cursor *s, uint8_t *out)
{
    const uint8_t *p = spend(s->c) ? ilg__r2r_bytes(s->c, s->pos, 1) : NULL;
    if (!p)
        return false;
    *out = *p;
    s->pos++;
    return true;
}

/* An ECMA-335 compressed unsigned (the signature's own integers are not NativeFormat). */
static bool sig_uint(sig_cursor *s, uint32_t *out)
{
    const uint8_t *p = spend(s->c) ? ilg__r2r_bytes(s->c, s->pos, 1) : NULL;
    if (!p)
        return false;
    uint64_t avail = s->c->hi - s->pos;
    size_t n = ilg__rd_compressed(p, avail < 4 ? (size_t)avail : 4, out);
    s->pos += (uint32_t)n;
    return n != 0;
}

static ilg_status skip_type(sig_cursor *s, int depth);

/* A function pointer's method signature (SigParser::SkipSignature). */
static ilg_status skip_method_sig(sig_cursor *s, int depth)
{
    uint32_t cc, n, ignored;
    if (!sig_uint(s, &cc))
        return sig_fail(s, "function pointer calling convention unreadable");
    if ((cc & ILG_SIG_KIND_MASK) == ILG_SIG_FIELD || (cc & ILG_SIG_KIND_MASK) == ILG_SIG_LOCAL)
        return sig_fail(s, "function pointer with a field or locals signature");
    if ((cc & ILG_SIG_GENERIC) && !sig_uint(s, &ignored))
        return sig_fail(s, "generic parameter count unreadable");
    if (!sig_uint(s, &n))
        return sig_fail(s, "parameter count unreadable");
    ilg_status st = skip_type(s, depth + 1);
    for (uint32_t i = 0; st == ILG_OK && i < n; i++)
        st = skip_type(s, depth + 1);
    return st;
}

static ilg_status skip_array_shape(sig_cursor *s)
{
    uint32_t rank, n, v;
    if (!sig_uint(s, &rank))
        return sig_fail(s, "array rank unreadable");
    if (!rank)
        return ILG_OK;
    for (int list = 0; list < 2; list++) {  /* sizes, then lower bounds */
        if (!sig_uint(s, &n))
            return sig_fail(s, "array bound count unreadable");
        for (uint32_t i = 0; i < n; i++)
            if (!sig_uint(s, &v))
                return sig_fail(s, "array bound unreadable");
    }
    return ILG_OK;
}

/* One type (SigParser::SkipExactlyOne): what it accepts, this accepts. */
static ilg_status skip_type(sig_cursor *s, int depth)
{
    uint8_t et;
    uint32_t v;
    if (depth > SIG_MAX_DEPTH)
        return sig_fail(s, "types nested too deep");
    if (!sig_byte(s, &et))
        return sig_fail(s, "truncated");
    if (et < ILG_ET_PTR || et == ILG_ET_I || et == ILG_ET_U)
        return ILG_OK;
    switch (et) {
    case ILG_ET_OBJECT: case ILG_ET_TYPEDBYREF: case ET_CANON_ZAPSIG: case ILG_ET_SENTINEL:
        return ILG_OK;
    case ILG_ET_VAR: case ILG_ET_MVAR: case ET_VAR_ZAPSIG: case ILG_ET_VALUETYPE: case ILG_ET_CLASS:
        return sig_uint(s, &v) ? ILG_OK : sig_fail(s, "number or token unreadable");
    case ILG_ET_BYREF: case ILG_ET_PTR: case ILG_ET_PINNED: case ILG_ET_SZARRAY: case ET_NATIVE_VALUETYPE_ZAPSIG:
        return skip_type(s, depth + 1);
    case ET_MODULE_ZAPSIG:
        return sig_uint(s, &v) ? skip_type(s, depth + 1) : sig_fail(s, "module index unreadable");
    case ILG_ET_FNPTR:
        return skip_method_sig(s, depth);
    case ILG_ET_ARRAY: {
        ilg_status st = skip_type(s, depth + 1);
        return st == ILG_OK ? skip_array_shape(s) : st;
    }
    case ILG_ET_GENERICINST: {
        ilg_status st = skip_type(s, depth + 1);
        if (st == ILG_OK && !sig_uint(s, &v))
            return sig_fail(s, "type argument count unreadable");
        for (uint32_t i = 0; st == ILG_OK && i < v; i++)
            st = skip_type(s, depth + 1);
        return st;
    }
    default: {
        char what[48];
        snprintf(what, sizeof what, "element type 0x%02x", et);
        s->pos--;
        return sig_fail(s, what);
    }
    }
}

/* The method signature of an instance entry (readytoruninfo.cpp SigMatchesMethodDesc
 * and MethodIterator; R2RDump also skips a constrained type): flags, a module index
 * with UpdateContext, the owner type, the token's row, the method's type arguments. */
static ilg_status parse_method_sig(r2r_ctx *c, uint32_t at, ilg_r2r_method_info *m)
{
    sig_cursor s = { c, at, at, 0 };
    uint32_t flags, rid, n;
    ilg_status st = ILG_OK;
    if (!sig_uint(&s, &flags))
        return sig_fail(&s, "flags unreadable");
    if ((flags & ILG_R2R_SIG_UPDATE_CONTEXT) && !sig_uint(&s, &m->module_override))
        return sig_fail(&s, "module index unreadable");
    if (flags & ILG_R2R_SIG_OWNER_TYPE)
        st = skip_type(&s, 0);
    if (st != ILG_OK)
        return st;
    if (flags & ILG_R2R_SIG_SLOT_INSTEAD_OF_TOKEN)
        return sig_fail(&s, "a slot number where an instance entry needs a method token");
    if (!sig_uint(&s, &rid))
        return sig_fail(&s, "method row unreadable");
    m->token = ((flags & ILG_R2R_SIG_MEMBERREF_TOKEN) ? 0x0A000000u : 0x06000000u) | rid;
    if ((flags & ILG_R2R_SIG_METHOD_INSTANTIATION) && !sig_uint(&s, &n))
        return sig_fail(&s, "type argument count unreadable");
    for (uint32_t i = 0; (flags & ILG_R2R_SIG_METHOD_INSTANTIATION) && st == ILG_OK && i < n; i++)
        st = skip_type(&s, 0);
    if (st == ILG_OK && (flags & ILG_R2R_SIG_CONSTRAINED))
        st = skip_type(&s, 0);
    if (st != ILG_OK)
        return st;
    bool local = !(flags & (ILG_R2R_SIG_UPDATE_CONTEXT | ILG_R2R_SIG_MEMBERREF_TOKEN));
    if (local && (rid == 0 || rid > c->methoddef_rows))
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_ENTRY_POINT, at,
                             "instance entry names MethodDef row %u of %u", rid, c->methoddef_rows);
    m->sig_flags = flags;
    m->sig_rva = at;
    m->sig_size = s.pos - at;
    return ILG_OK;
}

/* ---- hashtables -------------------------------------------------------------------- */

ilg_status ilg__nf_hashtable(r2r_ctx *c, const ilg_r2r_section *s, const char *what,
                             nf_hashtable *out)
{
    const uint8_t *p = s->size ? ilg__r2r_bytes(c, s->rva, 1) : NULL;
    if (!p || (p[0] & 3) == 3)
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_NATIVE_FORMAT, s->rva,
                             "%s hashtable header %s", what,
                             p ? "has offset size code 3" : "is missing");
    const uint32_t shift = p[0] >> 2, esize = 1u << (p[0] & 3);
    const uint64_t buckets = (uint64_t)1 << shift;
    if (!ilg__r2r_bytes(c, s->rva + 1ull, (buckets + 1) * esize))
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_NATIVE_FORMAT, s->rva,
                             "%s hashtable: %llu buckets of %u-byte offsets run past its section",
                             what, (unsigned long long)buckets, esize);
    *out = (nf_hashtable){ s->rva + 1, (uint32_t)buckets, esize };
    return ILG_OK;
}

ilg_status ilg__nf_bucket(r2r_ctx *c, const nf_hashtable *h, uint32_t b, const char *what,
                          uint32_t *first, uint32_t *end)
{
    const uint8_t *p = ilg__r2r_bytes(c, h->base + (uint64_t)b * h->esize, 2ull * h->esize);
    if (!p)
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_NATIVE_FORMAT, h->base, "%s bucket %u unreadable",
                             what, b);
    uint32_t lo = h->esize == 1 ? p[0] : h->esize == 2 ? ilg__rd16(p) : ilg__rd32(p);
    uint32_t hi = h->esize == 1 ? p[1] : h->esize == 2 ? ilg__rd16(p + 2) : ilg__rd32(p + 4);
    /* Offsets that never decrease keep the buckets disjoint, so the entries of all
     * buckets together fit in the section once. */
    if (hi < lo || !ilg__r2r_bytes(c, (uint64_t)h->base + lo, hi - lo))
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_NATIVE_FORMAT, h->base + b * h->esize,
                             "%s bucket %u: entries 0x%x..0x%x are reversed or leave the section",
                             what, b, lo, hi);
    *first = h->base + lo;
    *end = h->base + hi;
    return ILG_OK;
}

/* Calls fn for every entry: its bucket, low hash byte and the RVA its relative offset
 * leads to (GetRelativeOffset: a signed delta from the delta's own position, not
 * sign-extended in its short forms, as the runtime reads it). */
static ilg_status each_entry(r2r_ctx *c, const ilg_r2r_section *s, const char *what,
                             ilg_status (*fn)(r2r_ctx *, uint32_t, uint8_t, uint32_t),
                             uint32_t *buckets)
{
    nf_hashtable h;
    ilg_status st = ilg__nf_hashtable(c, s, what, &h);
    *buckets = h.buckets;
    c->budget = 4ull * s->size + 65536;
    for (uint32_t b = 0; st == ILG_OK && b < h.buckets; b++) {
        uint32_t pos, end;
        if ((st = ilg__nf_bucket(c, &h, b, what, &pos, &end)) != ILG_OK)
            break;
        while (st == ILG_OK && pos < end) {
            const uint8_t low = *ilg__r2r_bytes(c, pos, 1);
            uint32_t rel = pos + 1, target, delta;
            if (!ilg__nf_unsigned(c, &rel, &delta))
                return ilg__r2r_fail(c, ILG_E_R2R_BAD_NATIVE_FORMAT, pos + 1,
                                     "%s bucket %u: entry offset unreadable", what, b);
            target = pos + 1 + delta;
            st = fn(c, b, low, target);
            pos = rel;
        }
    }
    return st;
}

static ilg_status instance_entry(r2r_ctx *c, uint32_t bucket, uint8_t low, uint32_t at)
{
    ilg_r2r_method_info m = { .instance = true, .bucket = bucket, .low_hash = low };
    ilg_status st = parse_method_sig(c, at, &m);
    if (st == ILG_OK)
        st = ilg__r2r_decode_entry(c, at + m.sig_size, &m);
    return st == ILG_OK ? ilg__r2r_add_method(c, &m) : st;
}

ilg_status ilg__r2r_parse_instances(r2r_ctx *c)
{
    const ilg_r2r_section *s = ilg__r2r_section(c->r, ILG_R2R_INSTANCE_METHOD_ENTRY_POINTS);
    if (!s)
        return ILG_OK;
    uint32_t before = c->r->method_count, buckets = 0;
    ilg_status st = each_entry(c, s, "InstanceMethodEntryPoints", instance_entry, &buckets);
    c->r->info.instance_buckets = buckets;
    c->r->info.instance_entries = c->r->method_count - before;
    return st;
}

/* ---- inlining ------------------------------------------------------------------------ */

/* A counted sequence of NativeFormat unsigneds: each read uses up one of the count. */
typedef struct seq {
    r2r_ctx *c;
    uint32_t pos, left, at;
    const char *what;
} seq;

static ilg_status seq_next(seq *q, uint32_t *v)
{
    if (q->left == 0)
        return ilg__r2r_fail(q->c, ILG_E_R2R_BAD_INLINING, q->at,
                             "%s entry at RVA 0x%x: its count ends inside a record", q->what, q->at);
    if (!spend(q->c))
        return ilg__r2r_fail(q->c, ILG_E_R2R_BAD_INLINING, q->at,
                             "%s entry at RVA 0x%x: the table's entries read more values than "
                             "its bytes could hold", q->what, q->at);
    if (!ilg__nf_unsigned(q->c, &q->pos, v))
        return ilg__r2r_fail(q->c, ILG_E_R2R_BAD_INLINING, q->pos,
                             "%s entry at RVA 0x%x: value unreadable", q->what, q->at);
    q->left--;
    return ILG_OK;
}

static ilg_status add_inline(r2r_ctx *c, const ilg_r2r_inline_info *in, uint32_t at)
{
    struct ilg_r2r *r = c->r;
    const uint32_t rows = c->methoddef_rows;
    const uint32_t rids[2] = { in->inliner & 0xFFFFFF, in->inlinee & 0xFFFFFF };
    const bool local[2] = { !in->inliner_cross_module && in->inliner_module == 0,
                            !in->inlinee_cross_module && in->inlinee_module == 0 };
    for (int i = 0; i < 2; i++)
        if (local[i] && (rids[i] == 0 || rids[i] > rows))
            return ilg__r2r_fail(c, ILG_E_R2R_BAD_INLINING, at,
                                 "inlining entry at RVA 0x%x names MethodDef row %u of %u", at,
                                 rids[i], rows);
    ilg_status st = ilg__grow((void **)&r->inlines, &r->inline_cap, (uint64_t)r->inline_count + 1,
                              sizeof *r->inlines);
    if (st != ILG_OK)
        return st;
    r->inlines[r->inline_count++] = *in;
    return ILG_OK;
}

/* A sequence starts with the number of values after the count. */
static ilg_status seq_open(seq *q, r2r_ctx *c, uint32_t at, const char *what)
{
    *q = (seq){ c, at, 0, at, what };
    if (!ilg__nf_unsigned(c, &q->pos, &q->left))
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_INLINING, at, "%s entry at RVA 0x%x: count unreadable",
                             what, at);
    return ILG_OK;
}

/* InliningInfo2 (inlinetracking.cpp, R2RDump's InliningInfoSection2): the inlinee's
 * row << 1 | foreign [module index], then the inliners' row deltas << 1 | foreign
 * [module index]. Not foreign: this module (index 0). */
static ilg_status inlining2_entry(r2r_ctx *c, uint32_t bucket, uint8_t low, uint32_t at)
{
    (void)bucket, (void)low;
    seq q;
    uint32_t v = 0, rid = 0;
    ilg_r2r_inline_info in = { .section = ILG_R2R_INLINING_INFO2 };
    ilg_status st = seq_open(&q, c, at, "InliningInfo2");
    if (st == ILG_OK)
        st = seq_next(&q, &v);
    if (st != ILG_OK)
        return st;
    if (v & 1)
        st = seq_next(&q, &in.inlinee_module);
    in.inlinee = 0x06000000u | (v >> 1);
    while (st == ILG_OK && q.left) {
        in.inliner_module = 0;
        if ((st = seq_next(&q, &v)) == ILG_OK && (v & 1))
            st = seq_next(&q, &in.inliner_module);
        rid += v >> 1;
        in.inliner = 0x06000000u | rid;
        if (st == ILG_OK)
            st = add_inline(c, &in, at);
    }
    return st;
}

/* CrossModuleInlineInfo (inlinetracking.cpp, crossgen2's InliningInfoNode): the
 * inlinee's index << 2 | has cross-module inliners << 1 | cross-module inlinee, its
 * module index (multi-module version bubbles, local inlinees), the cross-module
 * inliners' ILBody import indices (count first, not delta coded), then the local
 * inliners' row deltas (<< 1 | has module [module index] in multi-module bubbles). */
static ilg_status cross_module_entry(r2r_ctx *c, uint32_t bucket, uint8_t low, uint32_t at)
{
    (void)bucket, (void)low;
    const bool multi = (c->r->info.flags & ILG_R2R_FLAG_MULTIMODULE_VERSION_BUBBLE) != 0;
    seq q;
    uint32_t v = 0, n = 0, rid = 0;
    ilg_r2r_inline_info in = { .section = ILG_R2R_CROSS_MODULE_INLINE_INFO };
    ilg_status st = seq_open(&q, c, at, "CrossModuleInlineInfo");
    if (st == ILG_OK)
        st = seq_next(&q, &v);
    if (st != ILG_OK)
        return st;
    in.inlinee_cross_module = (v & 1) != 0;
    in.inlinee = in.inlinee_cross_module ? v >> 2 : 0x06000000u | (v >> 2);
    /* A cross-module inlinee's own module is known only through its import. */
    in.inlinee_module = in.inlinee_cross_module ? ILG_R2R_MODULE_OF_IMPORT : 0;
    if (st == ILG_OK && !in.inlinee_cross_module && multi)
        st = seq_next(&q, &in.inlinee_module);
    if (st == ILG_OK && (v & 2))
        st = seq_next(&q, &n);
    in.inliner_cross_module = true;
    for (uint32_t i = 0; st == ILG_OK && i < n; i++)
        if ((st = seq_next(&q, &in.inliner)) == ILG_OK)
            st = add_inline(c, &in, at);
    in.inliner_cross_module = false;
    while (st == ILG_OK && q.left) {
        in.inliner_module = in.inlinee_module;
        if ((st = seq_next(&q, &v)) != ILG_OK)
            break;
        if (multi && (v & 1))
            st = seq_next(&q, &in.inliner_module);
        rid += multi ? v >> 1 : v;
        in.inliner = 0x06000000u | rid;
        if (st == ILG_OK)
            st = add_inline(c, &in, at);
    }
    return st;
}

ilg_status ilg__r2r_parse_inlining(r2r_ctx *c)
{
    uint32_t buckets;
    ilg_status st = ILG_OK;
    const ilg_r2r_section *s = ilg__r2r_section(c->r, ILG_R2R_INLINING_INFO2);
    if (s)
        st = each_entry(c, s, "InliningInfo2", inlining2_entry, &buckets);
    s = ilg__r2r_section(c->r, ILG_R2R_CROSS_MODULE_INLINE_INFO);
    if (st == ILG_OK && s)
        st = each_entry(c, s, "CrossModuleInlineInfo", cross_module_entry, &buckets);
    c->r->info.inline_count = c->r->inline_count;
    return st;
}
