/* vsig.c: verification types from signatures (ECMA-335 II.23.2) and the cache of what
 * each token means, kept in the caller's ilg_findings across bodies of one resolver:
 * a module's bodies call the same members again and again, and a signature is parsed
 * once. Type parameters of the callee are substituted from a MethodSpec's
 * instantiation and a generic owner's TypeSpec; those of the verified method stay
 * unknown (the JIT compiles some instantiation of it, not known here). */
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "ilgraft/metadata.h"
#include "sig.h"
#include "typeck.h"

#define MAX_DEPTH 32
#define CHUNK_BYTES 32768
#define HUGE_CHUNK ((size_t)2 << 20)
/* What the entries need (pointers, 32-bit fields): a module's cache holds tens of
 * thousands of them, and every page they fill is one the kernel must clear. */
#define TC_ALIGN alignof(void *)

enum { W_TYPE = 1, W_MEMBER, W_SIG };

typedef struct tc_slot {
    uint32_t token;
    uint32_t what;
    void *desc;
} tc_slot;

typedef struct tc_chunk {
    struct tc_chunk *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
} tc_chunk;

/* Rows of the metadata tables, looked up by index (tokens of a body are dense and close
 * together); a row past DENSE_ROWS, or a table byte past the schema's, goes to the hash
 * table instead. */
#define DENSE_ROWS (1u << 17)

typedef struct tc_dense {
    void **v;               /* [rid] */
    uint32_t cap;
} tc_dense;

struct tcache {
    const void *owner;      /* the resolver context these entries belong to */
    tc_dense dense[3][ILG_TBL_COUNT]; /* [what - 1][table] */
    tc_slot *slots;
    uint32_t cap, used;
    tc_chunk *chunks;
    void *scratch[4];       /* the type pass's working space (0, 1), the method's arguments (2),
                             * the verified method's signature when it is not cached (3) */
    size_t scratch_cap[4];
    uint32_t method;        /* the vmethod below is for this MethodDef */
    bool have_method;
    vmethod m;
    mdesc own;              /* the verified method, when no body of the module calls it (yet) */
};

/* ---- memory --------------------------------------------------------------------------- */

/* A chunk of at least n bytes: each twice the last (a module's cache reaches megabytes;
 * a host verifying one body needs kilobytes), from 2 MiB on aligned and advised as
 * huge pages, so that filling it costs one page fault, not 512. */
static tc_chunk *new_chunk(tcache *c, size_t n)
{
    size_t cap = c->chunks ? c->chunks->cap * 2 : CHUNK_BYTES;
    if (cap > HUGE_CHUNK)
        cap = HUGE_CHUNK;
    if (cap < n)
        cap = n;
    tc_chunk *k = NULL;
    if (cap >= HUGE_CHUNK - sizeof *k) {
        cap = ((sizeof *k + cap + HUGE_CHUNK - 1) & ~(size_t)(HUGE_CHUNK - 1)) - sizeof *k;
        if (posix_memalign((void **)&k, HUGE_CHUNK, sizeof *k + cap) != 0)
            return NULL;
        (void)madvise(k, sizeof *k + cap, MADV_HUGEPAGE);
    } else if (!(k = malloc(sizeof *k + cap))) {
        return NULL;
    }
    k->cap = cap;
    return k;
}

static void *tc_alloc(tcache *c, size_t n)
{
    n = (n + TC_ALIGN - 1) & ~(size_t)(TC_ALIGN - 1);
    if (!c->chunks || c->chunks->cap - c->chunks->used < n) {
        tc_chunk *k = new_chunk(c, n);
        if (!k)
            return NULL;
        k->next = c->chunks;
        k->used = 0;
        c->chunks = k;
    }
    void *p = c->chunks->data + c->chunks->used;
    c->chunks->used += n;
    return p;
}

static void tc_reset(tcache *c)
{
    for (tc_chunk *k = c->chunks, *next; k; k = next) {
        next = k->next;
        free(k);
    }
    c->chunks = NULL;
    for (int w = 0; w < 3; w++)
        for (int t = 0; t < ILG_TBL_COUNT; t++) {
            free(c->dense[w][t].v);
            c->dense[w][t] = (tc_dense){ NULL, 0 };
        }
    if (c->slots)
        memset(c->slots, 0, c->cap * sizeof *c->slots);
    c->used = 0;
    c->have_method = false;
}

void ilg__tc_free(void *cache)
{
    tcache *c = cache;
    if (!c)
        return;
    tc_reset(c);
    free(c->slots);
    for (int i = 0; i < 4; i++)
        free(c->scratch[i]);
    free(c);
}

void *ilg__tc_scratch(tcache *c, int which, size_t bytes)
{
    if (ilg__grow_size(&c->scratch[which], &c->scratch_cap[which], bytes, 1) != ILG_OK)
        return NULL;
    return c->scratch[which];
}

tcache *ilg__tc_get(ilg_findings *f, const ilg_type_resolver *r)
{
    tcache *c = f->cache;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return NULL;
        f->cache = c;
    }
    if (c->owner != r->ctx) {
        tc_reset(c);
        c->owner = r->ctx;
    }
    return c;
}

/* Fibonacci hashing: the product's high bits, where the table byte and the row mix
 * (the low bits of a product see only the row: tokens of different tables collided). */
static uint32_t slot_hash(uint32_t token, uint32_t what, uint32_t cap)
{
    const uint64_t h = ((uint64_t)what << 32 | token) * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32) & (cap - 1);
}

static tc_slot *tc_find(tcache *c, uint32_t token, uint32_t what)
{
    if (!c->cap)
        return NULL;
    for (uint32_t i = slot_hash(token, what, c->cap);; i = (i + 1) & (c->cap - 1)) {
        tc_slot *s = &c->slots[i];
        if (!s->what || (s->token == token && s->what == what))
            return s;
    }
}

/* The slot for (token, what), made when absent; NULL on no memory. */
static tc_slot *tc_slot_for(tcache *c, uint32_t token, uint32_t what)
{
    if (c->used + 1 > c->cap / 2) {
        uint32_t cap = c->cap ? c->cap * 2 : 1024;
        tc_slot *old = c->slots, *ns = calloc(cap, sizeof *ns);
        if (!ns)
            return NULL;
        uint32_t old_cap = c->cap;
        c->slots = ns;
        c->cap = cap;
        for (uint32_t i = 0; i < old_cap; i++)
            if (old[i].what)
                *tc_find(c, old[i].token, old[i].what) = old[i];
        free(old);
    }
    tc_slot *s = tc_find(c, token, what);
    if (!s->what) {
        s->token = token;
        s->what = what;
        s->desc = NULL;
        c->used++;
    }
    return s;
}

/* ---- verification types ----------------------------------------------------------- */

/* The type arguments in scope while a callee's signature is read. */
typedef struct gctx {
    ilg_sig_cur type_args;     /* the owner's GENERICINST arguments (p == NULL: none) */
    uint32_t ntype;
    ilg_sig_cur method_args;   /* a MethodSpec's arguments */
    uint32_t nmethod;
} gctx;

static vt prim(uint8_t elem)
{
    vt t = vt_of(VK_NONE);
    switch (elem) {
    case ILG_ET_BOOLEAN: case ILG_ET_CHAR: case ILG_ET_I1: case ILG_ET_U1: case ILG_ET_I2:
    case ILG_ET_U2:
        t.k = VK_I4;
        t.small = elem;
        break;
    case ILG_ET_I4: case ILG_ET_U4: t.k = VK_I4; break;
    case ILG_ET_I8: case ILG_ET_U8: t.k = VK_I8; break;
    case ILG_ET_I: case ILG_ET_U: t.k = VK_NI; break;
    case ILG_ET_R4: t.k = VK_R4; break;
    case ILG_ET_R8: t.k = VK_R8; break;
    case ILG_ET_STRING: t.k = VK_REF; t.flags = VF_STRING; break;
    case ILG_ET_OBJECT: t.k = VK_REF; break;
    case ILG_ET_TYPEDBYREF: t.k = VK_STRUCT; t.flags = VF_TYPEDREF; break;
    default: break;
    }
    return t;
}

static bool parse_type(tcache *c, const ilg_type_resolver *r, ilg_sig_cur *s, const gctx *g, int depth,
                       vt *out);

/* Argument n of a generic argument list, read as a type (unknown when out of range). */
static bool type_arg(tcache *c, const ilg_type_resolver *r, const ilg_sig_cur *args, uint32_t count,
                     uint32_t n, int depth, vt *out)
{
    ilg_sig_cur s = *args;
    if (!s.p || n >= count) {
        *out = vt_of(VK_UNKNOWN);
        out->flags = VF_GENERIC;
        return true;
    }
    for (uint32_t i = 0; i < n; i++)
        if (!ilg__sig_skip_type(&s, depth + 1, MAX_DEPTH, NULL))
            return false;
    /* The arguments themselves are read without a context of their own. */
    return parse_type(c, r, &s, NULL, depth + 1, out);
}

static bool parse_valuetype(tcache *c, const ilg_type_resolver *r, uint32_t tok, vt *out)
{
    const tdesc *d = ilg__tc_type(c, r, tok);
    if (d && d->status == ILG_OK && d->value.k != VK_UNKNOWN) {
        *out = d->value;
        if (out->k == VK_REF) /* a valuetype that resolves to a class: keep it a struct */
            *out = (vt){ VK_STRUCT, 0, 0, tok };
        return true;
    }
    *out = (vt){ VK_STRUCT, 0, VF_MAYBE_PRIM, tok };
    return true;
}

static bool parse_type(tcache *c, const ilg_type_resolver *r, ilg_sig_cur *s, const gctx *g, int depth,
                       vt *out)
{
    uint8_t et;
    uint32_t u;
    if (depth > MAX_DEPTH || !ilg__sig_u8(s, &et))
        return false;
    switch (et) {
    case ILG_ET_CMOD_REQD: case ILG_ET_CMOD_OPT:
        return ilg__sig_token(s, &u) && parse_type(c, r, s, g, depth + 1, out);
    case ILG_ET_PINNED:
        return parse_type(c, r, s, g, depth + 1, out);
    case ILG_ET_BYREF:
        *out = vt_of(VK_BYREF);
        return ilg__sig_skip_type(s, depth + 1, MAX_DEPTH, NULL);
    case ILG_ET_PTR:
        *out = (vt){ VK_NI, 0, VF_PTR, 0 };
        return ilg__sig_skip_type(s, depth + 1, MAX_DEPTH, NULL);
    case ILG_ET_FNPTR:
        *out = (vt){ VK_NI, 0, VF_PTR, 0 };
        return ilg__sig_u8(s, &et) && ilg__sig_skip_method_tail(s, et, depth, MAX_DEPTH, NULL);
    case ILG_ET_SZARRAY: case ILG_ET_ARRAY:
        s->p--;
        *out = (vt){ VK_REF, 0, VF_ARRAY, 0 };
        return ilg__sig_skip_type(s, depth + 1, MAX_DEPTH, NULL);
    case ILG_ET_CLASS:
        *out = (vt){ VK_REF, 0, 0, 0 };
        return ilg__sig_token(s, &out->tok);
    case ILG_ET_VALUETYPE:
        return ilg__sig_token(s, &u) && parse_valuetype(c, r, u, out);
    case ILG_ET_GENERICINST: {
        uint8_t kind;
        uint32_t n;
        if (!ilg__sig_u8(s, &kind) || !ilg__sig_token(s, &u) || !ilg__sig_uint(s, &n))
            return false;
        for (uint32_t i = 0; i < n; i++)
            if (!ilg__sig_skip_type(s, depth + 1, MAX_DEPTH, NULL))
                return false;
        *out = kind == ILG_ET_VALUETYPE ? (vt){ VK_STRUCT, 0, 0, u } : (vt){ VK_REF, 0, 0, u };
        if (kind == ILG_ET_VALUETYPE) {
            /* An enum nested in a generic type is generic itself: an integer on the stack. */
            const tdesc *d = ilg__tc_type(c, r, u);
            if (!d || d->status != ILG_OK || d->facts.kind == ILG_TYPE_UNKNOWN)
                out->flags |= VF_MAYBE_PRIM;
            else if (d->facts.kind == ILG_TYPE_ENUM || d->facts.kind == ILG_TYPE_PRIMITIVE)
                *out = d->value;
            else
                out->flags |= d->value.flags & (VF_NULLABLE | VF_BYREF_LIKE);
        }
        return true;
    }
    case ILG_ET_VAR: case ILG_ET_MVAR:
        if (!ilg__sig_uint(s, &u))
            return false;
        if (!g)
            return type_arg(c, r, &(ilg_sig_cur){ NULL, NULL }, 0, 0, depth, out);
        return et == ILG_ET_VAR ? type_arg(c, r, &g->type_args, g->ntype, u, depth, out)
                                : type_arg(c, r, &g->method_args, g->nmethod, u, depth, out);
    default:
        if (!((et >= ILG_ET_VOID && et <= ILG_ET_STRING) || et == ILG_ET_TYPEDBYREF ||
              et == ILG_ET_I || et == ILG_ET_U || et == ILG_ET_OBJECT))
            return false;
        *out = prim(et);
        return true;
    }
}

/* A method signature (after nothing: s at the calling convention byte); in the cache,
 * or with own in working space that lasts until the next body's. */
static vsig *parse_method_in(tcache *c, const ilg_type_resolver *r, ilg_sig_cur *s, const gctx *g, bool own)
{
    uint8_t conv;
    uint32_t gcount, count;
    if (!ilg__sig_u8(s, &conv) || ((conv & ILG_SIG_GENERIC) && !ilg__sig_uint(s, &gcount)) || !ilg__sig_uint(s, &count) ||
        count > (uint32_t)(s->end - s->p) || count > 0xFFFF)
        return NULL;
    const size_t size = sizeof(vsig) + (count ? count : 1) * sizeof(vt);
    vsig *v = own ? ilg__tc_scratch(c, 3, size) : tc_alloc(c, size);
    if (!v)
        return NULL;
    v->conv = conv;
    v->has_this = (conv & ILG_SIG_HASTHIS) && !(conv & ILG_SIG_EXPLICITTHIS);
    v->vararg = (conv & ILG_SIG_KIND_MASK) == ILG_SIG_VARARG;
    v->nparams = (uint16_t)count;
    v->nextra = 0;
    if (!parse_type(c, r, s, g, 0, &v->ret))
        return NULL;
    for (uint32_t i = 0; i < count; i++) {
        if (s->p < s->end && *s->p == ILG_ET_SENTINEL) {
            s->p++;
            v->nextra = (uint16_t)(count - i);
            v->nparams = (uint16_t)i;
        }
        if (!parse_type(c, r, s, g, 0, &v->params[i]))
            return NULL;
    }
    return v;
}

static vsig *parse_method(tcache *c, const ilg_type_resolver *r, ilg_sig_cur *s, const gctx *g)
{
    return parse_method_in(c, r, s, g, false);
}

/* ---- what tokens mean ------------------------------------------------------------------ */

/* The descriptor of (token, what): the one known (*fresh false), or a new zeroed one of
 * size bytes, already in its slot so that a token that leads back to itself ends
 * there (*fresh true). NULL when out of memory. */
/* Where the descriptor of (token, what) is kept; NULL on no memory. */
static void **desc_slot(tcache *c, uint32_t token, uint32_t what)
{
    const uint32_t t = token >> 24, rid = token & 0xFFFFFF;
    if (t < ILG_TBL_COUNT && rid < DENSE_ROWS) {
        tc_dense *d = &c->dense[what - 1][t];
        if (rid >= d->cap) {
            /* rows come in ascending order as the bodies do: start with room to spare */
            uint32_t old = d->cap;
            if (ilg__grow((void **)&d->v, &d->cap, rid < 4096 ? 4096 : (uint64_t)rid + 1,
                          sizeof *d->v) != ILG_OK)
                return NULL;
            memset(d->v + old, 0, (d->cap - old) * sizeof *d->v);
        }
        return &d->v[rid];
    }
    tc_slot *slot = tc_slot_for(c, token, what);
    return slot ? &slot->desc : NULL;
}

static void *cached(tcache *c, uint32_t token, uint32_t what, size_t size, bool *fresh)
{
    void **slot = desc_slot(c, token, what);
    *fresh = false;
    if (!slot || *slot)
        return slot ? *slot : NULL;
    void *d = tc_alloc(c, size);
    if (d) {
        memset(d, 0, size);
        *slot = d;
        *fresh = true;
    }
    return d;
}

const tdesc *ilg__tc_type(tcache *c, const ilg_type_resolver *r, uint32_t token)
{
    bool fresh;
    tdesc *d = cached(c, token, W_TYPE, sizeof *d, &fresh);
    if (!fresh)
        return d;
    d->value = vt_of(VK_UNKNOWN);
    d->status = r->type ? r->type(r->ctx, token, &d->facts) : ILG_E_NOT_FOUND;
    if (d->status != ILG_OK)
        return d;
    switch (d->facts.kind) {
    case ILG_TYPE_PRIMITIVE: case ILG_TYPE_ENUM:
        d->value = prim(d->facts.elem);
        if (d->value.k == VK_NONE)
            d->value = vt_of(VK_UNKNOWN);
        break;
    case ILG_TYPE_VALUE:
        d->value = (vt){ VK_STRUCT, 0, 0, token };
        if (d->facts.flags & ILG_TYPE_BYREF_LIKE)
            d->value.flags |= VF_BYREF_LIKE;
        if (d->facts.flags & ILG_TYPE_NULLABLE)
            d->value.flags |= VF_NULLABLE;
        break;
    case ILG_TYPE_CLASS: case ILG_TYPE_INTERFACE:
        d->value = (vt){ VK_REF, 0, 0, token };
        break;
    default:
        if (d->facts.spec) {
            ilg_sig_cur s = { d->facts.spec, d->facts.spec + d->facts.spec_len };
            vt v;
            if (parse_type(c, r, &s, NULL, 0, &v))
                d->value = v;
            s = (ilg_sig_cur){ d->facts.spec, d->facts.spec + d->facts.spec_len };
            ilg__sig_skip_type(&s, 0, MAX_DEPTH, d->need);
        }
        break;
    }
    return d;
}

/* The generic arguments of a GENERICINST TypeSpec into g->type_args. */
static void owner_args(tcache *c, const ilg_type_resolver *r, uint32_t owner, gctx *g)
{
    if ((owner >> 24) != ILG_TBL_TypeSpec)
        return;
    const tdesc *d = ilg__tc_type(c, r, owner);
    if (!d || d->status != ILG_OK || !d->facts.spec)
        return;
    ilg_sig_cur s = { d->facts.spec, d->facts.spec + d->facts.spec_len };
    uint8_t et, kind;
    uint32_t tok, n;
    if (ilg__sig_u8(&s, &et) && et == ILG_ET_GENERICINST && ilg__sig_u8(&s, &kind) && ilg__sig_token(&s, &tok) && ilg__sig_uint(&s, &n)) {
        g->type_args = s;
        g->ntype = n;
    }
}

static void fill_owner(tcache *c, const ilg_type_resolver *r, mdesc *d)
{
    d->owner = (vt){ VK_REF, 0, VF_THIS, d->facts.owner };
    if (!d->facts.owner)
        return;
    const tdesc *t = ilg__tc_type(c, r, d->facts.owner);
    if (!t || t->status != ILG_OK)
        return;
    uint32_t owner_kind = t->facts.kind;
    if (owner_kind == ILG_TYPE_UNKNOWN && t->value.k != VK_UNKNOWN) /* a TypeSpec */
        owner_kind = t->value.k == VK_STRUCT ? ILG_TYPE_VALUE : ILG_TYPE_CLASS;
    d->owner_value = owner_kind == ILG_TYPE_VALUE || owner_kind == ILG_TYPE_ENUM ||
                     (owner_kind == ILG_TYPE_PRIMITIVE && t->value.k != VK_REF);
    uint32_t flags = t->facts.flags;
    if (t->facts.spec && t->facts.spec_len && t->facts.spec[0] == ILG_ET_GENERICINST && t->value.tok) {
        /* an instantiation is abstract or an interface as its definition is */
        const tdesc *def = ilg__tc_type(c, r, t->value.tok);
        if (def && def->status == ILG_OK) {
            flags |= def->facts.flags & ILG_TYPE_ABSTRACT;
            if (def->facts.kind == ILG_TYPE_INTERFACE)
                owner_kind = ILG_TYPE_INTERFACE;
        }
    }
    d->owner_abstract = (flags & ILG_TYPE_ABSTRACT) != 0;
    d->owner_interface = owner_kind == ILG_TYPE_INTERFACE;
    d->owner_open = (t->facts.flags & ILG_TYPE_GENERIC) && (d->facts.owner >> 24) != ILG_TBL_TypeSpec;
    if (d->owner_value)
        d->owner = (vt){ VK_BYREF, 0, VF_THIS, 0 };
    else if (owner_kind == ILG_TYPE_UNKNOWN)
        d->owner = vt_of(VK_UNKNOWN);
}

/* What member token means, into d (zeroed); its signature in the cache, or with own in
 * working space that lasts until the next body's. */
static void fill_member(tcache *c, const ilg_type_resolver *r, uint32_t token, mdesc *d, bool own)
{
    d->status = r->member ? r->member(r->ctx, token, &d->facts) : ILG_E_NOT_FOUND;
    if (d->status != ILG_OK)
        return;
    fill_owner(c, r, d);
    gctx g = { { NULL, NULL }, 0, { NULL, NULL }, 0 };
    owner_args(c, r, d->facts.owner, &g);
    if ((d->facts.owner >> 24) == ILG_TBL_TypeSpec) {
        const tdesc *t = ilg__tc_type(c, r, d->facts.owner);
        if (t && t->status == ILG_OK)
            memcpy(d->need, t->need, sizeof d->need);
    }
    if (d->facts.inst && d->facts.inst_len >= 2) {
        ilg_sig_cur s = { d->facts.inst + 1, d->facts.inst + d->facts.inst_len };
        if (ilg__sig_uint(&s, &g.nmethod)) {
            g.method_args = s;
            for (uint32_t i = 0; i < g.nmethod && ilg__sig_skip_type(&s, 0, MAX_DEPTH, d->need); i++)
                ;
        }
    }
    ilg_sig_cur s = { d->facts.sig, d->facts.sig + d->facts.sig_len };
    if (d->facts.kind == ILG_MEMBER_FIELD) {
        uint8_t conv;
        if (!ilg__sig_u8(&s, &conv) || !parse_type(c, r, &s, &g, 0, &d->field))
            d->field = vt_of(VK_UNKNOWN);
    } else {
        d->sig = parse_method_in(c, r, &s, &g, own);
    }
}

const mdesc *ilg__tc_member(tcache *c, const ilg_type_resolver *r, uint32_t token)
{
    bool fresh;
    mdesc *d = cached(c, token, W_MEMBER, sizeof *d, &fresh);
    if (fresh)
        fill_member(c, r, token, d, false);
    return d;
}

const sdesc *ilg__tc_sig(tcache *c, const ilg_type_resolver *r, uint32_t token)
{
    bool fresh;
    sdesc *d = cached(c, token, W_SIG, sizeof *d, &fresh);
    if (!fresh)
        return d;
    const uint8_t *p = NULL;
    uint32_t len = 0;
    d->status = r->signature ? r->signature(r->ctx, token, &p, &len) : ILG_E_NOT_FOUND;
    if (d->status != ILG_OK)
        return d;
    ilg_sig_cur s = { p, p + len };
    if (len && p[0] == ILG_SIG_LOCAL) {
        uint32_t n;
        s.p++;
        d->locals = true;
        if (!ilg__sig_uint(&s, &n) || n > len || !(d->local = tc_alloc(c, (n ? n : 1) * sizeof(vt)))) {
            d->status = ILG_E_MD_BAD_SIG;
            return d;
        }
        for (uint32_t i = 0; i < n; i++)
            if (!parse_type(c, r, &s, NULL, 0, &d->local[i])) {
                d->status = ILG_E_MD_BAD_SIG;
                return d;
            }
        d->count = n;
    } else if (!(d->sig = parse_method(c, r, &s, NULL))) {
        d->status = ILG_E_MD_BAD_SIG;
    }
    return d;
}

bool ilg__tc_method(tcache *c, const ilg_type_resolver *r, vmethod *out)
{
    if (c->have_method && c->method == r->method) {
        *out = c->m;
        return true;
    }
    /* Most methods of a module are called by none of its bodies, or only after their
     * own: their descriptions go in working space, not the cache (which would hold one
     * per body verified). */
    void **slot = desc_slot(c, r->method, W_MEMBER);
    const mdesc *d = slot && *slot ? *slot : NULL;
    if (!d) {
        memset(&c->own, 0, sizeof c->own);
        fill_member(c, r, r->method, &c->own, true);
        d = &c->own;
    }
    if (d->status != ILG_OK || !d->sig)
        return false;
    /* The method's own type parameters stay unknown: its signature read without a
     * context, which is how a MethodDef's (owned by a TypeDef, no instantiation) was
     * read for the cache already. */
    ilg_sig_cur s = { d->facts.sig, d->facts.sig + d->facts.sig_len };
    vsig *own = (d->facts.owner >> 24) != ILG_TBL_TypeSpec && !d->facts.inst ? d->sig : parse_method(c, r, &s, NULL);
    if (!own)
        return false;
    const uint32_t n = own->nparams + own->nextra + (own->has_this ? 1 : 0);
    vt *args = ilg__tc_scratch(c, 2, (n ? n : 1) * sizeof *args); /* until the next body */
    if (!args)
        return false;
    uint32_t k = 0;
    if (own->has_this)
        args[k++] = d->owner;
    for (uint32_t i = 0; i < (uint32_t)own->nparams + own->nextra; i++)
        args[k++] = own->params[i];
    vmethod m = { d, n, args, own->vararg, !own->has_this, 0, false, 0 };
    const tdesc *t = d->facts.owner ? ilg__tc_type(c, r, d->facts.owner) : NULL;
    m.generic_type = t && t->status == ILG_OK && (t->facts.flags & ILG_TYPE_GENERIC);
    s = (ilg_sig_cur){ d->facts.sig, d->facts.sig + d->facts.sig_len };
    uint8_t conv = 0;
    uint32_t u;
    ilg__sig_u8(&s, &conv);
    if ((conv & ILG_SIG_GENERIC) && ilg__sig_uint(&s, &u))
        m.ngeneric = u;
    ilg__sig_uint(&s, &u);
    while (s.p < s.end && (*s.p == ILG_ET_CMOD_OPT || *s.p == ILG_ET_CMOD_REQD)) {
        s.p++;
        ilg__sig_token(&s, &u);
    }
    if (s.p < s.end)
        m.ret_elem = *s.p;
    c->m = m;
    c->method = r->method;
    c->have_method = true;
    *out = m;
    return true;
}

const char *ilg__vt_name(const vt *t, char *buf, size_t size)
{
    static const char *const small[] = { [ILG_ET_BOOLEAN] = "bool", [ILG_ET_CHAR] = "char",
                                         [ILG_ET_I1] = "int8", [ILG_ET_U1] = "uint8",
                                         [ILG_ET_I2] = "int16", [ILG_ET_U2] = "uint16" };
    switch (t->k) {
    case VK_I4:
        snprintf(buf, size, "%s", t->small && t->small < 8 && small[t->small] ? small[t->small] : "int32");
        break;
    case VK_I8: snprintf(buf, size, "int64"); break;
    case VK_NI: snprintf(buf, size, "%s", (t->flags & VF_PTR) ? "pointer" : "native int"); break;
    case VK_R4: snprintf(buf, size, "float32"); break;
    case VK_R8: snprintf(buf, size, "float64"); break;
    case VK_REF:
        if (t->flags & VF_NULL)
            snprintf(buf, size, "null");
        else if (t->flags & VF_STRING)
            snprintf(buf, size, "string");
        else if (t->tok)
            snprintf(buf, size, "object (class 0x%08x)", t->tok);
        else
            snprintf(buf, size, "%s", (t->flags & VF_ARRAY) ? "array" : "object");
        break;
    case VK_BYREF: snprintf(buf, size, "managed pointer"); break;
    case VK_STRUCT:
        if (t->tok)
            snprintf(buf, size, "value type 0x%08x", t->tok);
        else
            snprintf(buf, size, "%s", (t->flags & VF_TYPEDREF) ? "typedref" : "value type");
        break;
    case VK_NONE: snprintf(buf, size, "nothing"); break;
    default: snprintf(buf, size, "unknown"); break;
    }
    return buf;
}
