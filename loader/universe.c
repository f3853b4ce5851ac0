/* universe.c: references that leave a module, followed into the assemblies they name.
 * A TypeRef's resolution scope names an assembly (opened on demand from the universe's
 * directories as <dir>/<name>.dll, or added by the caller), a module, or the type it
 * is nested in; the assembly either defines the type or forwards it (ExportedType) to
 * another. A MemberRef is found in its type, or a base type, by name and by a
 * signature that means the same (types compared by what they resolve to, or by name
 * when they do not). What cannot be followed stays unknown. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "md_private.h"
#include "ilgraft/ilbody.h"
#include "sig.h"

#define MAX_HOPS 16

typedef struct type_slot {
    const char *ns, *name;
    uint32_t token;           /* TypeDef, or ExportedType, token; 0 for an empty slot */
} type_slot;

typedef struct asm_entry {
    char *name;
    ilg_image *img;           /* opened here (owned), or NULL for an added module */
    const ilg_metadata *md;   /* NULL when it could not be found or opened */
    type_slot *index;         /* top-level TypeDefs and ExportedTypes by name */
    uint32_t index_cap;
} asm_entry;

struct ilg_md_universe {
    pthread_mutex_t lock;
    char **dirs;
    size_t ndirs;
    asm_entry *asms;
    size_t count, cap;
};

ilg_status ilg_md_universe_new(const char *const *dirs, size_t ndirs, ilg_md_universe **out)
{
    if (!out || (ndirs && !dirs))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "out and the directories are required");
    ilg_md_universe *u = calloc(1, sizeof *u);
    if (!u || (ndirs && !(u->dirs = calloc(ndirs, sizeof *u->dirs)))) {
        free(u);
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "universe of %zu directories", ndirs);
    }
    pthread_mutex_init(&u->lock, NULL);
    for (size_t i = 0; i < ndirs; i++)
        if (!(u->dirs[u->ndirs++] = strdup(dirs[i]))) {
            ilg_md_universe_free(u);
            return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "universe directory");
        }
    *out = u;
    return ILG_OK;
}

ilg_status ilg_md_universe_beside(const char *path, const ilg_metadata *md, ilg_md_universe **out)
{
    if (!path || !md || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "path, metadata and out are required");
    /* an image's directory, its Facades, and for a facade the directory it forwards to */
    const char *slash = strrchr(path, '/');
    const int len = slash ? (int)(slash - path) : 1;
    char dir[4096], facades[4200], parent[4096];
    snprintf(dir, sizeof dir, "%.*s", len, slash ? path : ".");
    snprintf(facades, sizeof facades, "%s/Facades", dir);
    const char *base = strrchr(dir, '/');
    const bool facade = base && strcmp(base, "/Facades") == 0;
    snprintf(parent, sizeof parent, "%.*s", facade ? (int)(base - dir) : 0, dir);
    const char *dirs[] = { dir, facades, parent };
    ilg_md_universe *u;
    ilg_status st = ilg_md_universe_new(dirs, facade ? 3 : 2, &u);
    if (st == ILG_OK && (st = ilg_md_universe_add(u, md)) != ILG_OK)
        ilg_md_universe_free(u);
    if (st == ILG_OK)
        *out = u;
    return st;
}

void ilg_md_universe_free(ilg_md_universe *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->count; i++) {
        free(u->asms[i].name);
        free(u->asms[i].index);
        ilg_image_close(u->asms[i].img);
    }
    for (size_t i = 0; i < u->ndirs; i++)
        free(u->dirs[i]);
    free(u->dirs);
    free(u->asms);
    pthread_mutex_destroy(&u->lock);
    free(u);
}

static asm_entry *add_entry(ilg_md_universe *u, const char *name)
{
    if (ilg__grow_size((void **)&u->asms, &u->cap, u->count + 1, sizeof *u->asms) != ILG_OK)
        return NULL;
    asm_entry *e = &u->asms[u->count];
    memset(e, 0, sizeof *e);
    if (!(e->name = strdup(name)))
        return NULL;
    u->count++;
    return e;
}

static const char *assembly_name(const ilg_metadata *md)
{
    if (!md->tables[ILG_TBL_Assembly].rows)
        return "";
    return ilg__md_str(md, ilg__md_raw(md, ILG_TBL_Assembly, 1, ILG_MDC_Assembly_Name));
}

ilg_status ilg_md_universe_add(ilg_md_universe *u, const ilg_metadata *md)
{
    if (!u || !md)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "universe and metadata are required");
    pthread_mutex_lock(&u->lock);
    asm_entry *e = add_entry(u, assembly_name(md));
    if (e)
        e->md = md;
    pthread_mutex_unlock(&u->lock);
    return e ? ILG_OK : ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "universe entry");
}

/* The assembly called name (an index into u->asms, SIZE_MAX when out of memory):
 * known, or opened from a directory; its md is NULL when nothing had it. Under the lock. */
static size_t find_assembly(ilg_md_universe *u, const char *name)
{
    for (size_t i = 0; i < u->count; i++)
        if (strcasecmp(u->asms[i].name, name) == 0)
            return i;
    asm_entry *e = add_entry(u, name);
    if (!e)
        return SIZE_MAX;
    for (size_t d = 0; d < u->ndirs && !e->md; d++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.dll", u->dirs[d], name);
        ilg_image *img;
        const ilg_metadata *md;
        if (ilg_image_open(path, NULL, &img) != ILG_OK)
            continue;
        if (ilg_image_metadata(img, &md) != ILG_OK) {
            ilg_image_close(img);
            continue;
        }
        e->img = img;
        e->md = md;
    }
    return u->count - 1;
}

/* ---- types by name -------------------------------------------------------------------- */

static uint32_t name_hash(const char *ns, const char *name)
{
    uint32_t h = 2166136261u;
    for (const char *p = ns; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    h = (h ^ '.') * 16777619u;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h;
}

static void index_put(asm_entry *e, const char *ns, const char *name, uint32_t token)
{
    for (uint32_t i = name_hash(ns, name) & (e->index_cap - 1);; i = (i + 1) & (e->index_cap - 1))
        if (!e->index[i].token) {
            e->index[i] = (type_slot){ ns, name, token };
            return;
        }
}

/* The top-level TypeDefs and the ExportedTypes of e by name. */
static bool build_index(asm_entry *e)
{
    const ilg_metadata *md = e->md;
    const uint32_t nt = md->tables[ILG_TBL_TypeDef].rows, ne = md->tables[ILG_TBL_ExportedType].rows;
    uint32_t cap = 16;
    while (cap < 2 * (nt + ne) + 2)
        cap *= 2;
    if (!(e->index = calloc(cap, sizeof *e->index)))
        return false;
    e->index_cap = cap;
    for (uint32_t t = 1; t <= nt; t++)
        if (!md->enclosing[t])
            index_put(e, ilg__md_str(md, ilg__md_raw(md, ILG_TBL_TypeDef, t, ILG_MDC_TypeDef_TypeNamespace)),
                      ilg__md_str(md, ilg__md_raw(md, ILG_TBL_TypeDef, t, ILG_MDC_TypeDef_TypeName)),
                      0x02000000u | t);
    for (uint32_t r = 1; r <= ne; r++)
        index_put(e, ilg__md_str(md, ilg__md_raw(md, ILG_TBL_ExportedType, r, ILG_MDC_ExportedType_TypeNamespace)),
                  ilg__md_str(md, ilg__md_raw(md, ILG_TBL_ExportedType, r, ILG_MDC_ExportedType_TypeName)),
                  0x27000000u | r);
    return true;
}

static uint32_t index_get(const asm_entry *e, const char *ns, const char *name)
{
    for (uint32_t i = name_hash(ns, name) & (e->index_cap - 1);; i = (i + 1) & (e->index_cap - 1)) {
        const type_slot *s = &e->index[i];
        if (!s->token)
            return 0;
        if (strcmp(s->name, name) == 0 && strcmp(s->ns, ns) == 0)
            return s->token;
    }
}

typedef struct tref {
    const ilg_metadata *md;
    uint32_t rid;             /* a TypeDef row of md */
} tref;

static bool resolve_scope(ilg_md_universe *u, const ilg_metadata *md, uint32_t scope, const char *ns,
                          const char *name, int hops, tref *out);

/* Type ns.name of the assembly called asm_name, through forwarders. */
static bool in_assembly(ilg_md_universe *u, const char *asm_name, const char *ns, const char *name,
                        int hops, tref *out)
{
    size_t ai = find_assembly(u, asm_name);
    if (ai == SIZE_MAX || !u->asms[ai].md || (!u->asms[ai].index && !build_index(&u->asms[ai])))
        return false;
    const ilg_metadata *md = u->asms[ai].md;
    uint32_t tok = index_get(&u->asms[ai], ns, name);
    if ((tok >> 24) == ILG_TBL_TypeDef) {
        *out = (tref){ md, tok & 0xFFFFFF };
        return true;
    }
    if (!tok)
        return false;
    uint32_t impl = ilg__md_coded_token(ILG_CODED_Implementation,
                                        ilg__md_raw(md, ILG_TBL_ExportedType, tok & 0xFFFFFF,
                                                    ILG_MDC_ExportedType_Implementation));
    return (impl >> 24) == ILG_TBL_AssemblyRef && resolve_scope(u, md, impl, ns, name, hops + 1, out);
}

/* The TypeDef nested in outer called name. */
static bool nested_in(const tref *outer, const char *name, tref *out)
{
    const ilg_metadata *md = outer->md;
    for (uint32_t t = 1; t <= md->tables[ILG_TBL_TypeDef].rows; t++)
        if (md->enclosing[t] == outer->rid &&
            strcmp(ilg__md_str(md, ilg__md_raw(md, ILG_TBL_TypeDef, t, ILG_MDC_TypeDef_TypeName)), name) == 0) {
            *out = (tref){ md, t };
            return true;
        }
    return false;
}

static bool resolve_typeref(ilg_md_universe *u, const ilg_metadata *md, uint32_t rid, int hops, tref *out)
{
    const char *ns = ilg__md_str(md, ilg__md_raw(md, ILG_TBL_TypeRef, rid, ILG_MDC_TypeRef_TypeNamespace));
    const char *name = ilg__md_str(md, ilg__md_raw(md, ILG_TBL_TypeRef, rid, ILG_MDC_TypeRef_TypeName));
    uint32_t scope = ilg__md_coded_token(ILG_CODED_ResolutionScope,
                                         ilg__md_raw(md, ILG_TBL_TypeRef, rid, ILG_MDC_TypeRef_ResolutionScope));
    return resolve_scope(u, md, scope, ns, name, hops, out);
}

static bool resolve_scope(ilg_md_universe *u, const ilg_metadata *md, uint32_t scope, const char *ns,
                          const char *name, int hops, tref *out)
{
    const uint32_t st = scope >> 24, sr = scope & 0xFFFFFF;
    if (hops > MAX_HOPS || !sr || sr > md->tables[st].rows)
        return false;
    if (st == ILG_TBL_AssemblyRef)
        return in_assembly(u, ilg__md_str(md, ilg__md_raw(md, ILG_TBL_AssemblyRef, sr, ILG_MDC_AssemblyRef_Name)),
                           ns, name, hops, out);
    if (st == ILG_TBL_Module)
        return in_assembly(u, assembly_name(md), ns, name, hops, out);
    tref outer;
    if (st == ILG_TBL_TypeRef && resolve_typeref(u, md, sr, hops + 1, &outer))
        return nested_in(&outer, name, out);
    return false; /* a ModuleRef: another module of a multi-module assembly */
}

/* The TypeDef a type token of md stands for (a TypeSpec by its generic type). */
static bool resolve_type(ilg_md_universe *u, const ilg_metadata *md, uint32_t tok, int hops, tref *out)
{
    const uint32_t t = tok >> 24, rid = tok & 0xFFFFFF;
    if (!rid || t >= ILG_TBL_COUNT || rid > md->tables[t].rows || hops > MAX_HOPS)
        return false;
    if (t == ILG_TBL_TypeDef) {
        *out = (tref){ md, rid };
        return true;
    }
    if (t == ILG_TBL_TypeRef)
        return resolve_typeref(u, md, rid, hops, out);
    if (t != ILG_TBL_TypeSpec)
        return false;
    const uint8_t *p;
    uint32_t len, v;
    if (ilg_md_blob(md, ilg__md_raw(md, ILG_TBL_TypeSpec, rid, ILG_MDC_TypeSpec_Signature), &p, &len) != ILG_OK ||
        len < 3 || p[0] != ILG_ET_GENERICINST || !ilg__rd_compressed(p + 2, len - 2, &v) ||
        !ilg__sig_decode_token(v, &v))
        return false;
    return resolve_type(u, md, v, hops + 1, out);
}

/* ---- signatures that mean the same ---------------------------------------------------- */

typedef struct side {
    const ilg_metadata *md;
    ilg_sig_cur c;
} side;

/* Two type tokens name the same type: they resolve to one TypeDef, or (unresolved)
 * have the same namespace and name. */
static bool same_type_token(ilg_md_universe *u, const ilg_metadata *ma, uint32_t ta,
                            const ilg_metadata *mb, uint32_t tb)
{
    tref ra, rb;
    bool a = resolve_type(u, ma, ta, 0, &ra), b = resolve_type(u, mb, tb, 0, &rb);
    if (a && b)
        return ra.md == rb.md && ra.rid == rb.rid;
    const char *nsa = "", *na = "", *nsb = "", *nb = "";
    if ((ta >> 24) == ILG_TBL_TypeRef) {
        nsa = ilg__md_str(ma, ilg__md_raw(ma, ILG_TBL_TypeRef, ta & 0xFFFFFF, ILG_MDC_TypeRef_TypeNamespace));
        na = ilg__md_str(ma, ilg__md_raw(ma, ILG_TBL_TypeRef, ta & 0xFFFFFF, ILG_MDC_TypeRef_TypeName));
    }
    if ((tb >> 24) == ILG_TBL_TypeRef) {
        nsb = ilg__md_str(mb, ilg__md_raw(mb, ILG_TBL_TypeRef, tb & 0xFFFFFF, ILG_MDC_TypeRef_TypeNamespace));
        nb = ilg__md_str(mb, ilg__md_raw(mb, ILG_TBL_TypeRef, tb & 0xFFFFFF, ILG_MDC_TypeRef_TypeName));
    }
    if ((ta >> 24) == ILG_TBL_TypeDef)
        nsa = ilg__md_str(ma, ilg__md_raw(ma, ILG_TBL_TypeDef, ta & 0xFFFFFF, ILG_MDC_TypeDef_TypeNamespace)),
        na = ilg__md_str(ma, ilg__md_raw(ma, ILG_TBL_TypeDef, ta & 0xFFFFFF, ILG_MDC_TypeDef_TypeName));
    if ((tb >> 24) == ILG_TBL_TypeDef)
        nsb = ilg__md_str(mb, ilg__md_raw(mb, ILG_TBL_TypeDef, tb & 0xFFFFFF, ILG_MDC_TypeDef_TypeNamespace)),
        nb = ilg__md_str(mb, ilg__md_raw(mb, ILG_TBL_TypeDef, tb & 0xFFFFFF, ILG_MDC_TypeDef_TypeName));
    return *na && strcmp(na, nb) == 0 && strcmp(nsa, nsb) == 0;
}

static bool same_type(ilg_md_universe *u, side *a, side *b, int depth);

static bool same_types(ilg_md_universe *u, side *a, side *b, uint32_t n, int depth)
{
    for (uint32_t i = 0; i < n; i++)
        if (!same_type(u, a, b, depth + 1))
            return false;
    return true;
}

static bool same_type(ilg_md_universe *u, side *a, side *b, int depth)
{
    if (depth > 32 || a->c.p >= a->c.end || b->c.p >= b->c.end || *a->c.p != *b->c.p)
        return false;
    const uint8_t et = *a->c.p++;
    b->c.p++;
    uint32_t x, y, n, m;
    switch (et) {
    case ILG_ET_CMOD_OPT: case ILG_ET_CMOD_REQD:
        return ilg__sig_token(&a->c, &x) && ilg__sig_token(&b->c, &y) && same_type(u, a, b, depth + 1);
    case ILG_ET_PTR: case ILG_ET_BYREF: case ILG_ET_SZARRAY: case ILG_ET_PINNED:
        return same_type(u, a, b, depth + 1);
    case ILG_ET_CLASS: case ILG_ET_VALUETYPE:
        return ilg__sig_token(&a->c, &x) && ilg__sig_token(&b->c, &y) && same_type_token(u, a->md, x, b->md, y);
    case ILG_ET_VAR: case ILG_ET_MVAR:
        return ilg__sig_uint(&a->c, &x) && ilg__sig_uint(&b->c, &y) && x == y;
    case ILG_ET_GENERICINST:
        return same_type(u, a, b, depth + 1) && ilg__sig_uint(&a->c, &n) && ilg__sig_uint(&b->c, &m) && n == m &&
               same_types(u, a, b, n, depth);
    case ILG_ET_ARRAY: {
        if (!same_type(u, a, b, depth + 1))
            return false;
        /* rank, sizes and bounds: compare the compressed integers as they come */
        for (int part = 0; part < 3; part++) {
            if (!ilg__sig_uint(&a->c, &n) || !ilg__sig_uint(&b->c, &m) || n != m)
                return false;
            for (uint32_t i = 0; part > 0 && i < n; i++)
                if (!ilg__sig_uint(&a->c, &x) || !ilg__sig_uint(&b->c, &y) || x != y)
                    return false;
        }
        return true;
    }
    case ILG_ET_FNPTR:
        return false; /* rare enough not to follow */
    default:
        return true;
    }
}

/* Method or field signatures a (a reference's) and b (a definition's) agree. */
static bool same_sig(ilg_md_universe *u, side a, side b)
{
    uint32_t n, m, g1, g2;
    if (a.c.p >= a.c.end || b.c.p >= b.c.end || *a.c.p != *b.c.p)
        return false;
    const uint8_t conv = *a.c.p++;
    b.c.p++;
    if ((conv & ILG_SIG_KIND_MASK) == ILG_SIG_FIELD)
        return same_type(u, &a, &b, 0);
    if ((conv & ILG_SIG_GENERIC) && (!ilg__sig_uint(&a.c, &g1) || !ilg__sig_uint(&b.c, &g2) || g1 != g2))
        return false;
    if (!ilg__sig_uint(&a.c, &n) || !ilg__sig_uint(&b.c, &m))
        return false;
    if ((conv & ILG_SIG_KIND_MASK) == ILG_SIG_VARARG) /* a call site may add a sentinel and more */
        return same_type(u, &a, &b, 0);
    return n == m && same_types(u, &a, &b, n + 1, 0);
}

/* ---- members and facts ----------------------------------------------------------------- */

/* The member of t (or of a base type) named name whose signature means sig (of md):
 * its definition as a token of the returned md. */
static bool find_member(ilg_md_universe *u, tref t, bool methods, const char *name, side sig,
                        tref *where, uint32_t *token)
{
    const ilg_table table = methods ? ILG_TBL_MethodDef : ILG_TBL_Field;
    const uint32_t name_col = methods ? ILG_MDC_MethodDef_Name : ILG_MDC_Field_Name;
    const uint32_t sig_col = methods ? ILG_MDC_MethodDef_Signature : ILG_MDC_Field_Signature;
    for (int hop = 0; hop < MAX_HOPS; hop++) {
        const ilg_metadata *md = t.md;
        const ilg_table ptr = methods ? ILG_TBL_MethodPtr : ILG_TBL_FieldPtr;
        uint32_t first, last;
        ilg__md_member_list(md, t.rid, methods, &first, &last);
        for (uint32_t pos = first; pos < last; pos++) {
            uint32_t r = ilg__md_list_target(md, ptr, pos), len;
            const uint8_t *p;
            if (!r || r > md->tables[table].rows ||
                strcmp(ilg__md_str(md, ilg__md_raw(md, table, r, name_col)), name) != 0 ||
                ilg_md_blob(md, ilg__md_raw(md, table, r, sig_col), &p, &len) != ILG_OK ||
                !same_sig(u, sig, (side){ md, { p, p + len } }))
                continue;
            *where = t;
            *token = (uint32_t)table << 24 | r;
            return true;
        }
        uint32_t base = ilg__md_coded_token(ILG_CODED_TypeDefOrRef,
                                            ilg__md_raw(md, ILG_TBL_TypeDef, t.rid, ILG_MDC_TypeDef_Extends));
        if (!base || !resolve_type(u, md, base, 0, &t))
            return false;
    }
    return false;
}

void ilg__universe_type_facts(ilg_md_universe *u, const ilg_metadata *md, uint32_t token,
                              ilg_type_facts *out)
{
    tref t;
    pthread_mutex_lock(&u->lock);
    bool ok = (token >> 24) == ILG_TBL_TypeRef && resolve_type(u, md, token, 0, &t);
    pthread_mutex_unlock(&u->lock);
    ilg_type_facts f;
    if (ok && ilg__md_type_facts_local(t.md, 0x02000000u | t.rid, &f) == ILG_OK)
        *out = f;
}

void ilg__universe_member_facts(ilg_md_universe *u, const ilg_metadata *md, uint32_t token,
                                ilg_member_facts *out)
{
    uint32_t tok = token, rid;
    if ((tok >> 24) == ILG_TBL_MethodSpec)
        tok = ilg__md_coded_token(ILG_CODED_MethodDefOrRef,
                                  ilg__md_raw(md, ILG_TBL_MethodSpec, tok & 0xFFFFFF, ILG_MDC_MethodSpec_Method));
    if ((tok >> 24) != ILG_TBL_MemberRef || !(rid = tok & 0xFFFFFF) || rid > md->tables[ILG_TBL_MemberRef].rows)
        return;
    const uint32_t parent = ilg__md_coded_token(ILG_CODED_MemberRefParent,
                                                ilg__md_raw(md, ILG_TBL_MemberRef, rid, ILG_MDC_MemberRef_Class));
    const char *name = ilg__md_str(md, ilg__md_raw(md, ILG_TBL_MemberRef, rid, ILG_MDC_MemberRef_Name));
    const uint8_t *p;
    uint32_t len, def = 0;
    tref t, where;
    if (ilg_md_blob(md, ilg__md_raw(md, ILG_TBL_MemberRef, rid, ILG_MDC_MemberRef_Signature), &p, &len) != ILG_OK)
        return;
    const bool methods = !(len && (p[0] & ILG_SIG_KIND_MASK) == ILG_SIG_FIELD);
    pthread_mutex_lock(&u->lock);
    bool ok = resolve_type(u, md, parent, 0, &t) &&
              find_member(u, t, methods, name, (side){ md, { p, p + len } }, &where, &def);
    pthread_mutex_unlock(&u->lock);
    ilg_member_facts f;
    if (!ok || ilg__md_member_facts_local(where.md, def, &f) != ILG_OK)
        return;
    out->flags = f.flags | (out->flags & ILG_MEMBER_CTOR);
}
