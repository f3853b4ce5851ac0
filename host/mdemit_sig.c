/* mdemit_sig.c: IMetaDataEmit::TranslateSigWithScope, which instrumentation engines use
 * to copy a signature from another module's scope into the one they emit into: every
 * TypeDef, TypeRef and TypeSpec token of the signature becomes the token naming the same
 * type in the emit scope (a TypeRef with the AssemblyRef, ModuleRef or enclosing
 * TypeRef it needs, found or made), the rest is copied byte for byte.
 *
 * The rules are RegMeta's (ImportHelper::MergeUpdateTokenInSig, ImportTypeDef,
 * ImportTypeRef in CoreCLR's md/compiler/importhelper.cpp): scopes compare by module
 * (CoreCLR compares MVIDs; an absent assembly scope is the null MVID); an AssemblyRef is
 * looked up by name, culture, version and key (full key and token compare through the
 * key's SHA-1) before one is made; TypeRefs and TypeSpecs are always looked up first.
 * docs/profiler.md ("Writable metadata") lists where the host answers differently. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "md_private.h"
#include "sig.h"

#define XL_MAX_DEPTH 64    /* nested types in a signature, as the verifier allows */
#define XL_MAX_NEST 64     /* enclosing types of one type */
#define AF_PUBLIC_KEY 0x0001u  /* CorAssemblyFlags afPublicKey: the blob is a full key */
#define TD_VISIBILITY_MASK 0x7u
#define TD_NESTED_FIRST 0x2u   /* tdNestedPublic: visibilities from here on are nested */

/* An assembly's identity as an AssemblyRef names it. */
typedef struct xl_assembly {
    uint16_t ver[4];
    uint32_t flags;
    const uint8_t *key;
    uint32_t key_len;
    const char *name, *culture;
    uint8_t token[8];           /* key's token when the assembly has a full key */
} xl_assembly;

typedef struct xl_ctx {
    ilg_mdemit *em;
    host_mdimport *src, *dst;
    bool same_module, same_assembly;
    bool have_asm_import, have_asm_emit;
    bool return_td;             /* a TypeDef of the emit scope itself stays (signatures) */
    xl_assembly asm_import;     /* valid with have_asm_import */
    const void *hash;
    uint32_t hash_len;
    uint8_t *out;
    size_t n, cap;
    HRESULT hr;                 /* the first failure */
    ilg_status st;
} xl_ctx;

/* ---- output --------------------------------------------------------------------------- */

static bool put(xl_ctx *x, const uint8_t *p, size_t len)
{
    if (x->n + len > x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 64;
        while (cap < x->n + len)
            cap *= 2;
        uint8_t *g = realloc(x->out, cap);
        if (!g) {
            x->hr = E_OUTOFMEMORY;
            return false;
        }
        x->out = g;
        x->cap = cap;
    }
    memcpy(x->out + x->n, p, len);
    x->n += len;
    return true;
}

static bool put_uint(xl_ctx *x, uint32_t v)
{
    uint8_t b[4];
    return put(x, b, ilg__wr_compressed(b, v));
}

/* A TypeDefOrRefOrSpecEncoded token (II.23.2.8). */
static bool put_token(xl_ctx *x, uint32_t tok)
{
    uint32_t tag = TypeFromToken(tok) == mdtTypeDef ? 0 : TypeFromToken(tok) == mdtTypeRef ? 1 : 2;
    return put_uint(x, RidFromToken(tok) << 2 | tag);
}

static bool fail(xl_ctx *x, HRESULT hr)
{
    if (x->hr == S_OK)
        x->hr = hr;
    return false;
}

static bool writer(xl_ctx *x, ilg_status st)
{
    if (st == ILG_OK)
        return true;
    x->st = st;
    return fail(x, st == ILG_E_NOMEM ? E_OUTOFMEMORY : E_INVALIDARG);
}

/* ---- assemblies and modules ------------------------------------------------------------- */

static const ilg_metadata *md_of(host_mdimport *imp)
{
    return imp->module->md;
}

/* The Assembly row of md as an AssemblyRef would name it (a full key as its token, as
 * CreateAssemblyRefFromAssembly does); false when md has none. */
static bool assembly_of(const ilg_metadata *md, xl_assembly *a)
{
    const mdToken tk = TokenFromRid(1, mdtAssembly);
    PCCOR_SIGNATURE key = NULL;
    ULONG key_len = 0;
    if (!ilg__md_row_ok(md, tk, ILG_TBL_Assembly))
        return false;
    a->ver[0] = (uint16_t)ilg__md_cell(md, ILG_TBL_Assembly, 1, ILG_MDC_Assembly_MajorVersion);
    a->ver[1] = (uint16_t)ilg__md_cell(md, ILG_TBL_Assembly, 1, ILG_MDC_Assembly_MinorVersion);
    a->ver[2] = (uint16_t)ilg__md_cell(md, ILG_TBL_Assembly, 1, ILG_MDC_Assembly_BuildNumber);
    a->ver[3] = (uint16_t)ilg__md_cell(md, ILG_TBL_Assembly, 1, ILG_MDC_Assembly_RevisionNumber);
    a->flags = ilg__md_cell(md, ILG_TBL_Assembly, 1, ILG_MDC_Assembly_Flags);
    a->name = ilg__md_str(md, ILG_TBL_Assembly, 1, ILG_MDC_Assembly_Name);
    a->culture = ilg__md_str(md, ILG_TBL_Assembly, 1, ILG_MDC_Assembly_Culture);
    if (ilg__md_blob_of(md, tk, ILG_TBL_Assembly, ILG_MDC_Assembly_PublicKey, &key, &key_len) != S_OK)
        key_len = 0;
    a->key = key;
    a->key_len = key_len;
    return true;
}

static void tokenize(xl_assembly *a)
{
    if (a->key_len) {
        ilg__public_key_token(a->key, a->key_len, a->token);
        a->key = a->token;
        a->key_len = sizeof a->token;
    }
    a->flags &= ~AF_PUBLIC_KEY;
}

/* Whether a stored key or token (flags tell which) names the same key as a's. */
static bool key_matches(const uint8_t *k, uint32_t len, uint32_t flags, const xl_assembly *a)
{
    uint8_t t[8];
    if (!len || !a->key_len)
        return !len && !a->key_len;
    if ((flags & AF_PUBLIC_KEY) == (a->flags & AF_PUBLIC_KEY))
        return len == a->key_len && memcmp(k, a->key, len) == 0;
    if (flags & AF_PUBLIC_KEY) {
        ilg__public_key_token(k, len, t);
        return a->key_len == sizeof t && memcmp(t, a->key, sizeof t) == 0;
    }
    ilg__public_key_token(a->key, a->key_len, t);
    return len == sizeof t && memcmp(t, k, sizeof t) == 0;
}

/* The AssemblyRef of md that names a (FindAssemblyRef's rules: build and revision are
 * not compared for mscorlib and Microsoft.VisualC), 0 when none. */
static uint32_t find_assembly_ref(const ilg_metadata *md, const xl_assembly *a)
{
    static const uint32_t ver_col[4] = { ILG_MDC_AssemblyRef_MajorVersion, ILG_MDC_AssemblyRef_MinorVersion,
                                         ILG_MDC_AssemblyRef_BuildNumber, ILG_MDC_AssemblyRef_RevisionNumber };
    const uint32_t n = ilg_md_row_count(md, ILG_TBL_AssemblyRef);
    for (uint32_t r = 1; r <= n; r++) {
        const char *name = ilg__md_str(md, ILG_TBL_AssemblyRef, r, ILG_MDC_AssemblyRef_Name);
        if (strcmp(name, a->name) != 0 ||
            strcmp(ilg__md_str(md, ILG_TBL_AssemblyRef, r, ILG_MDC_AssemblyRef_Culture), a->culture ? a->culture : "") != 0)
            continue;
        bool unified = strcasecmp(name, "mscorlib") == 0 || strcasecmp(name, "microsoft.visualc") == 0;
        bool same = true;
        for (int i = 0; i < (unified ? 2 : 4); i++)
            same = same && ilg__md_cell(md, ILG_TBL_AssemblyRef, r, ver_col[i]) == a->ver[i];
        PCCOR_SIGNATURE k = NULL;
        ULONG len = 0;
        if (ilg__md_blob_of(md, TokenFromRid(r, mdtAssemblyRef), ILG_TBL_AssemblyRef,
                            ILG_MDC_AssemblyRef_PublicKeyOrToken, &k, &len) != S_OK)
            len = 0;
        if (same && key_matches(k, len, ilg__md_cell(md, ILG_TBL_AssemblyRef, r, ILG_MDC_AssemblyRef_Flags), a))
            return r;
    }
    return 0;
}

/* The emit scope's AssemblyRef naming a, found or made (with hash, the caller's). */
static bool assembly_ref(xl_ctx *x, const xl_assembly *a, const void *hash, uint32_t hash_len,
                         uint32_t *tok)
{
    uint32_t r = find_assembly_ref(md_of(x->dst), a);
    if (r) {
        *tok = TokenFromRid(r, mdtAssemblyRef);
        return true;
    }
    uint32_t c[ILG_MDC_AssemblyRef_HashValue + 1] = { 0 };
    c[ILG_MDC_AssemblyRef_MajorVersion] = a->ver[0];
    c[ILG_MDC_AssemblyRef_MinorVersion] = a->ver[1];
    c[ILG_MDC_AssemblyRef_BuildNumber] = a->ver[2];
    c[ILG_MDC_AssemblyRef_RevisionNumber] = a->ver[3];
    c[ILG_MDC_AssemblyRef_Flags] = a->flags;
    return writer(x, ilg_mdemit_blob(x->em, a->key, a->key_len, &c[ILG_MDC_AssemblyRef_PublicKeyOrToken])) &&
           writer(x, ilg_mdemit_string(x->em, a->name, &c[ILG_MDC_AssemblyRef_Name])) &&
           writer(x, ilg_mdemit_string(x->em, a->culture ? a->culture : "", &c[ILG_MDC_AssemblyRef_Culture])) &&
           writer(x, ilg_mdemit_blob(x->em, hash, hash_len, &c[ILG_MDC_AssemblyRef_HashValue])) &&
           writer(x, ilg_mdemit_row(x->em, ILG_TBL_AssemblyRef, c, ILG_ARRAY_LEN(c), tok, NULL));
}

/* The import scope's AssemblyRef rid as an identity (its key or token as stored). */
static void assembly_ref_of(const ilg_metadata *md, uint32_t rid, xl_assembly *a,
                            PCCOR_SIGNATURE *hash, ULONG *hash_len)
{
    const mdToken tk = TokenFromRid(rid, mdtAssemblyRef);
    PCCOR_SIGNATURE key = NULL;
    ULONG key_len = 0;
    a->ver[0] = (uint16_t)ilg__md_cell(md, ILG_TBL_AssemblyRef, rid, ILG_MDC_AssemblyRef_MajorVersion);
    a->ver[1] = (uint16_t)ilg__md_cell(md, ILG_TBL_AssemblyRef, rid, ILG_MDC_AssemblyRef_MinorVersion);
    a->ver[2] = (uint16_t)ilg__md_cell(md, ILG_TBL_AssemblyRef, rid, ILG_MDC_AssemblyRef_BuildNumber);
    a->ver[3] = (uint16_t)ilg__md_cell(md, ILG_TBL_AssemblyRef, rid, ILG_MDC_AssemblyRef_RevisionNumber);
    a->flags = ilg__md_cell(md, ILG_TBL_AssemblyRef, rid, ILG_MDC_AssemblyRef_Flags);
    a->name = ilg__md_str(md, ILG_TBL_AssemblyRef, rid, ILG_MDC_AssemblyRef_Name);
    a->culture = ilg__md_str(md, ILG_TBL_AssemblyRef, rid, ILG_MDC_AssemblyRef_Culture);
    if (ilg__md_blob_of(md, tk, ILG_TBL_AssemblyRef, ILG_MDC_AssemblyRef_PublicKeyOrToken, &key, &key_len) != S_OK)
        key_len = 0;
    a->key = key;
    a->key_len = key_len;
    if (ilg__md_blob_of(md, tk, ILG_TBL_AssemblyRef, ILG_MDC_AssemblyRef_HashValue, hash, hash_len) != S_OK)
        *hash_len = 0;
}

/* Whether the AssemblyRef identity ref names assembly def (CompareAssemblyRefToAssembly:
 * the def's full key against the ref's key or token). */
static bool ref_names_assembly(const xl_assembly *ref, const xl_assembly *def)
{
    if (memcmp(ref->ver, def->ver, sizeof ref->ver) != 0 || strcmp(ref->name, def->name) != 0 ||
        strcmp(ref->culture, def->culture) != 0)
        return false;
    xl_assembly full = *def;
    full.flags |= AF_PUBLIC_KEY;
    return key_matches(ref->key, ref->key_len, ref->flags, &full);
}

/* The emit scope's ModuleRef called name, found or made; "" gives the nil token. */
static bool module_ref(xl_ctx *x, const char *name, uint32_t *tok)
{
    const ilg_metadata *md = md_of(x->dst);
    const uint32_t n = ilg_md_row_count(md, ILG_TBL_ModuleRef);
    *tok = 0;
    if (!*name)
        return true;
    for (uint32_t r = 1; r <= n; r++)
        if (strcmp(ilg__md_str(md, ILG_TBL_ModuleRef, r, ILG_MDC_ModuleRef_Name), name) == 0) {
            *tok = TokenFromRid(r, mdtModuleRef);
            return true;
        }
    uint32_t c[ILG_MDC_ModuleRef_Name + 1] = { 0 };
    return writer(x, ilg_mdemit_string(x->em, name, &c[ILG_MDC_ModuleRef_Name])) &&
           writer(x, ilg_mdemit_row(x->em, ILG_TBL_ModuleRef, c, ILG_ARRAY_LEN(c), tok, NULL));
}

static const char *module_name(host_mdimport *imp)
{
    return ilg__md_str(md_of(imp), ILG_TBL_Module, 1, ILG_MDC_Module_Name);
}

/* ---- types ----------------------------------------------------------------------------- */

/* A type and its enclosing types, innermost first. */
typedef struct xl_nest {
    const char *ns[XL_MAX_NEST], *name[XL_MAX_NEST];
    uint32_t n;
} xl_nest;

/* TypeRefs for the chain in the emit scope, outermost under scope (looked up first:
 * CreateNesterHierarchy), the innermost one's token in *tok. */
static bool typeref_chain(xl_ctx *x, const xl_nest *c, uint32_t scope, uint32_t *tok)
{
    for (uint32_t i = c->n; i-- > 0;)
        if (!writer(x, ilg_mdemit_type_ref(x->em, scope, c->ns[i], c->name[i], &scope, NULL)))
            return false;
    *tok = scope;
    return true;
}

/* The emit scope's TypeDef for the chain, 0 when it has none (FindNestedTypeDef). */
static uint32_t find_typedef_chain(host_mdimport *imp, const xl_nest *c)
{
    const ilg_metadata *md = md_of(imp);
    const uint32_t n = ilg_md_row_count(md, ILG_TBL_TypeDef);
    uint32_t outer = 0;
    for (uint32_t i = c->n; i-- > 0;) {
        uint32_t found = 0;
        for (uint32_t r = 1; r <= n && !found; r++)
            if (strcmp(ilg__md_str(md, ILG_TBL_TypeDef, r, ILG_MDC_TypeDef_TypeName), c->name[i]) == 0 &&
                strcmp(ilg__md_str(md, ILG_TBL_TypeDef, r, ILG_MDC_TypeDef_TypeNamespace), c->ns[i]) == 0 &&
                ilg__md_enclosing_of(imp, r) == outer)
                found = r;
        if (!found)
            return 0;
        outer = found;
    }
    return TokenFromRid(outer, mdtTypeDef);
}

/* TypeDef td of the import scope in the emit scope (ImportTypeDef, the TypeDef itself
 * when both scopes are one module). */
static bool import_typedef(xl_ctx *x, uint32_t td, uint32_t *tok)
{
    const ilg_metadata *md = md_of(x->src);
    uint32_t scope = 0;
    xl_nest c = { .n = 0 };
    if (!ilg__md_row_ok(md, td, ILG_TBL_TypeDef))
        return fail(x, CLDB_E_RECORD_NOTFOUND);
    if (x->same_assembly && x->same_module && x->return_td) {
        *tok = td;
        return true;
    }
    if (x->same_assembly && x->same_module) {
        scope = TokenFromRid(1, mdtModule); /* DefineImportType: a TypeRef to itself */
    } else if (x->same_assembly) {
        if (!module_ref(x, module_name(x->src), &scope))
            return false;
    } else if (x->have_asm_import) {
        if (!assembly_ref(x, &x->asm_import, x->hash, x->hash_len, &scope))
            return false;
    }
    for (uint32_t rid = RidFromToken(td);;) {
        if (c.n == XL_MAX_NEST)
            return fail(x, META_E_BAD_SIGNATURE);
        uint32_t flags = ilg__md_cell(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_Flags);
        c.ns[c.n] = ilg__md_str(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_TypeNamespace);
        c.name[c.n++] = ilg__md_str(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_TypeName);
        if ((flags & TD_VISIBILITY_MASK) < TD_NESTED_FIRST)
            break;
        if (!(rid = ilg__md_enclosing_of(x->src, rid)))
            return fail(x, CLDB_E_RECORD_NOTFOUND);
    }
    return typeref_chain(x, &c, scope, tok);
}

/* The emit scope's resolution scope for a TypeRef of another assembly whose outermost
 * scope in the import scope is outer (an AssemblyRef there). *is_self: it names the
 * emit scope's own assembly. */
static bool foreign_scope(xl_ctx *x, uint32_t outer, uint32_t *scope)
{
    const ilg_metadata *md = md_of(x->src);
    xl_assembly ref, self;
    PCCOR_SIGNATURE hash = NULL;
    ULONG hash_len = 0;
    switch (TypeFromToken(outer)) {
    case mdtModule:
    case mdtModuleRef:
        *scope = 0;
        return !x->have_asm_import || assembly_ref(x, &x->asm_import, x->hash, x->hash_len, scope);
    case mdtAssemblyRef:
        if (!ilg__md_row_ok(md, outer, ILG_TBL_AssemblyRef))
            return fail(x, CLDB_E_RECORD_NOTFOUND);
        assembly_ref_of(md, RidFromToken(outer), &ref, &hash, &hash_len);
        if (x->have_asm_emit && assembly_of(md_of(x->dst), &self) && ref_names_assembly(&ref, &self)) {
            *scope = TokenFromRid(1, mdtModule);
            return true;
        }
        return assembly_ref(x, &ref, hash, hash_len, scope);
    default:
        /* Nil: CoreCLR looks the type up among the import assembly's ExportedTypes
         * first; the host keeps the nil scope. */
        *scope = 0;
        return true;
    }
}

/* TypeRef tr of the import scope in the emit scope (ImportTypeRef). */
static bool import_typeref(xl_ctx *x, uint32_t tr, uint32_t *tok)
{
    const ilg_metadata *md = md_of(x->src);
    xl_nest c = { .n = 0 };
    uint32_t outer = tr, scope = 0;
    if (!ilg__md_row_ok(md, tr, ILG_TBL_TypeRef))
        return fail(x, CLDB_E_RECORD_NOTFOUND);
    if (x->same_assembly && x->same_module) {
        *tok = tr;
        return true;
    }
    while (TypeFromToken(outer) == mdtTypeRef && RidFromToken(outer)) {
        if (c.n == XL_MAX_NEST || !ilg__md_row_ok(md, outer, ILG_TBL_TypeRef))
            return fail(x, META_E_BAD_SIGNATURE);
        c.ns[c.n] = ilg__md_str(md, ILG_TBL_TypeRef, RidFromToken(outer), ILG_MDC_TypeRef_TypeNamespace);
        c.name[c.n++] = ilg__md_str(md, ILG_TBL_TypeRef, RidFromToken(outer), ILG_MDC_TypeRef_TypeName);
        outer = ilg__md_cell(md, ILG_TBL_TypeRef, RidFromToken(outer), ILG_MDC_TypeRef_ResolutionScope);
    }
    if (x->same_assembly) {
        xl_assembly ref;
        PCCOR_SIGNATURE hash = NULL;
        ULONG hash_len = 0;
        if (TypeFromToken(outer) == mdtModule && RidFromToken(outer))
            scope = !x->have_asm_import && !x->have_asm_emit ? TokenFromRid(1, mdtModule) : 0;
        if (TypeFromToken(outer) == mdtModule && RidFromToken(outer) && !scope &&
            !module_ref(x, module_name(x->src), &scope))
            return false;
        if (TypeFromToken(outer) == mdtAssemblyRef && RidFromToken(outer)) {
            if (!ilg__md_row_ok(md, outer, ILG_TBL_AssemblyRef))
                return fail(x, CLDB_E_RECORD_NOTFOUND);
            assembly_ref_of(md, RidFromToken(outer), &ref, &hash, &hash_len);
            if (!assembly_ref(x, &ref, hash, hash_len, &scope))
                return false;
        }
        if (TypeFromToken(outer) == mdtModuleRef && RidFromToken(outer)) {
            const char *name = ilg__md_str(md, ILG_TBL_ModuleRef, RidFromToken(outer), ILG_MDC_ModuleRef_Name);
            if (strcmp(name, module_name(x->dst)) == 0)
                scope = TokenFromRid(1, mdtModule);
            else if (!module_ref(x, name, &scope))
                return false;
        }
    } else if (RidFromToken(outer) && !foreign_scope(x, outer, &scope)) {
        return false;
    }
    if (TypeFromToken(scope) == mdtModule && RidFromToken(scope) && (*tok = find_typedef_chain(x->dst, &c)))
        return true;
    return typeref_chain(x, &c, scope, tok);
}

static bool xl_type(xl_ctx *x, ilg_sig_cur *s, int depth);
static bool xl_method(xl_ctx *x, ilg_sig_cur *s, int depth);

/* A TypeSpec's blob translated, then found or made in the emit scope. */
static bool import_typespec(xl_ctx *x, uint32_t ts, uint32_t *tok, int depth)
{
    PCCOR_SIGNATURE blob = NULL;
    ULONG len = 0;
    if (ilg__md_blob_of(md_of(x->src), ts, ILG_TBL_TypeSpec, ILG_MDC_TypeSpec_Signature, &blob, &len) != S_OK)
        return fail(x, CLDB_E_RECORD_NOTFOUND);
    xl_ctx sub = *x;
    sub.out = NULL;
    sub.n = sub.cap = 0;
    ilg_sig_cur c = { blob, blob + len };
    bool ok = xl_type(&sub, &c, depth + 1) &&
              writer(&sub, ilg_mdemit_type_spec(sub.em, sub.out, (uint32_t)sub.n, tok, NULL));
    x->hr = sub.hr;
    x->st = sub.st;
    free(sub.out);
    return ok;
}

static bool xl_token(xl_ctx *x, ilg_sig_cur *s, int depth)
{
    uint32_t from, to = 0;
    if (!ilg__sig_token(s, &from))
        return fail(x, META_E_BAD_SIGNATURE);
    bool ok = TypeFromToken(from) == mdtTypeDef   ? import_typedef(x, from, &to)
              : TypeFromToken(from) == mdtTypeRef ? import_typeref(x, from, &to)
                                                   : import_typespec(x, from, &to, depth);
    return ok && put_token(x, to);
}

/* Copies a compressed integer. */
static bool xl_uint(xl_ctx *x, ilg_sig_cur *s)
{
    uint32_t v;
    return ilg__sig_uint(s, &v) ? put_uint(x, v) : fail(x, META_E_BAD_SIGNATURE);
}

/* An array shape (II.23.2.13) after its element type: copied. */
static bool xl_shape(xl_ctx *x, ilg_sig_cur *s)
{
    uint32_t rank, n;
    const uint8_t *start = s->p;
    if (!ilg__sig_uint(s, &rank))
        return fail(x, META_E_BAD_SIGNATURE);
    for (int part = 0; rank && part < 2; part++) {
        if (!ilg__sig_uint(s, &n))
            return fail(x, META_E_BAD_SIGNATURE);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t v;
            if (!ilg__sig_uint(s, &v)) /* a signed one has the same length */
                return fail(x, META_E_BAD_SIGNATURE);
        }
    }
    return put(x, start, (size_t)(s->p - start));
}

/* One type (MergeUpdateTokenInFieldSig): its modifiers and element type copied, its
 * tokens translated. */
static bool xl_type(xl_ctx *x, ilg_sig_cur *s, int depth)
{
    uint8_t et;
    uint32_t n;
    if (depth > XL_MAX_DEPTH)
        return fail(x, META_E_BAD_SIGNATURE);
    do {
        if (!ilg__sig_u8(s, &et) || !put(x, &et, 1))
            return fail(x, META_E_BAD_SIGNATURE);
    } while (et == ILG_ET_PTR || et == ILG_ET_BYREF || et == ILG_ET_SENTINEL || et == ILG_ET_PINNED);
    switch (et) {
    case ILG_ET_SZARRAY:
        return xl_type(x, s, depth + 1);
    case ILG_ET_GENERICINST:
        if (!xl_type(x, s, depth + 1) || !ilg__sig_uint(s, &n) || !put_uint(x, n))
            return fail(x, META_E_BAD_SIGNATURE);
        for (uint32_t i = 0; i < n; i++)
            if (!xl_type(x, s, depth + 1))
                return false;
        return true;
    case ILG_ET_VAR:
    case ILG_ET_MVAR:
        return xl_uint(x, s);
    case ILG_ET_ARRAY:
        return xl_type(x, s, depth + 1) && xl_shape(x, s);
    case ILG_ET_FNPTR:
        return xl_method(x, s, depth + 1);
    case ILG_ET_VALUETYPE:
    case ILG_ET_CLASS:
        return xl_token(x, s, depth);
    case ILG_ET_CMOD_REQD:
    case ILG_ET_CMOD_OPT:
        return xl_token(x, s, depth) && xl_type(x, s, depth + 1);
    default:
        /* ELEMENT_TYPE_MAX (0x22) and above: META_E_BAD_SIGNATURE, as RegMeta. */
        return et < 0x22 ? true : fail(x, META_E_BAD_SIGNATURE);
    }
}

/* A whole signature (MergeUpdateTokenInSig): a field's, a method's, a property's or a
 * local variables' one; a method instantiation has no return type. */
static bool xl_method(xl_ctx *x, ilg_sig_cur *s, int depth)
{
    uint32_t conv, n;
    if (!ilg__sig_uint(s, &conv) || !put_uint(x, conv))
        return fail(x, META_E_BAD_SIGNATURE);
    if ((conv & ILG_SIG_KIND_MASK) == ILG_SIG_FIELD)
        return xl_type(x, s, depth);
    if ((conv & ILG_SIG_GENERIC) && !xl_uint(x, s))
        return false;
    if (!ilg__sig_uint(s, &n) || !put_uint(x, n))
        return fail(x, META_E_BAD_SIGNATURE);
    if ((conv & ILG_SIG_KIND_MASK) != ILG_SIG_LOCAL && (conv & ILG_SIG_KIND_MASK) != ILG_SIG_GENERICINST &&
        !xl_type(x, s, depth))
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (!xl_type(x, s, depth))
            return false;
    return true;
}

/* ---- the method --------------------------------------------------------------------------- */

/* The scopes: each argument must be one of the host's metadata objects (CoreCLR reaches
 * into its own objects too: another implementation's is E_NOINTERFACE there). */
static HRESULT xl_scopes(xl_ctx *x, IMetaDataAssemblyImport *aimp, IMetaDataImport *import,
                         IMetaDataAssemblyEmit *aemit, IMetaDataEmit *emit)
{
    host_mdimport *asm_src = aimp ? ilg__mda_ours(aimp) : NULL;
    host_mdimport *asm_dst = aemit ? ilg__mdae_ours(aemit) : NULL;
    x->src = ilg__md_ours(import);
    x->dst = ilg__mde_ours(emit);
    if (!x->src || !x->dst || (aimp && !asm_src) || (aemit && !asm_dst))
        return E_NOINTERFACE;
    /* The emit assembly scope is where CoreCLR also writes the AssemblyRefs: one module
     * here, so it must be the emit scope's own. */
    if (asm_dst && asm_dst != x->dst)
        return E_INVALIDARG;
    x->same_module = x->src == x->dst;
    x->same_assembly = (asm_src ? asm_src->module : NULL) == (asm_dst ? asm_dst->module : NULL);
    x->have_asm_import = asm_src != NULL;
    x->have_asm_emit = asm_dst != NULL;
    if (asm_src) {
        md_read_guard g = ilg__md_read_enter(asm_src);
        if (!assembly_of(md_of(asm_src), &x->asm_import))
            x->have_asm_import = false;
        ilg__md_read_leave(&g);
        if (x->have_asm_import)
            tokenize(&x->asm_import);
    }
    return S_OK;
}

/* The import scope's read lock and the emit scope's write lock, in address order, so
 * that two calls in opposite directions cannot wait on each other. */
static HRESULT xl_lock(xl_ctx *x, uint64_t *gen)
{
    const bool two = x->src != x->dst;
    HRESULT hr;
    if (two && x->src < x->dst)
        pthread_rwlock_rdlock(&x->src->lock);
    if (FAILED(hr = ilg__mde_write_begin(x->dst, &x->em, gen))) {
        if (two && x->src < x->dst)
            pthread_rwlock_unlock(&x->src->lock);
        return hr;
    }
    if (two && x->src > x->dst)
        pthread_rwlock_rdlock(&x->src->lock);
    return S_OK;
}

/* Releases both; the writer's status's HRESULT, or x's first failure. */
static HRESULT xl_unlock(xl_ctx *x, uint64_t gen, bool ok, bool duplicate)
{
    if (x->src != x->dst)
        pthread_rwlock_unlock(&x->src->lock);
    free(x->out);
    x->out = NULL;
    HRESULT hr = ilg__mde_write_end(x->dst, gen, x->st, duplicate);
    return ok ? hr : x->hr;
}

HRESULT ilg__mde_TranslateSigWithScope(IMetaDataEmit2 *This, IMetaDataAssemblyImport *pAssemImport,
                                       const void *pbHashValue, ULONG cbHashValue,
                                       IMetaDataImport *import, PCCOR_SIGNATURE pbSigBlob,
                                       ULONG cbSigBlob, IMetaDataAssemblyEmit *pAssemEmit,
                                       IMetaDataEmit *emit, PCOR_SIGNATURE pvTranslatedSig,
                                       ULONG cbTranslatedSigMax, ULONG *pcbTranslatedSig)
{
    MDE_ENTRY(This, "TranslateSigWithScope");
    xl_ctx x = { .hash = pbHashValue, .hash_len = cbHashValue, .hr = S_OK, .st = ILG_OK,
                 .return_td = true };
    uint64_t gen;
    HRESULT hr;
    if (!pbSigBlob || !cbSigBlob || !pcbTranslatedSig || (cbTranslatedSigMax && !pvTranslatedSig) ||
        (cbHashValue && !pbHashValue))
        return E_INVALIDARG;
    if (FAILED(hr = xl_scopes(&x, pAssemImport, import, pAssemEmit, emit)) || FAILED(hr = xl_lock(&x, &gen)))
        return hr;
    ilg_sig_cur s = { pbSigBlob, pbSigBlob + cbSigBlob };
    bool ok = xl_method(&x, &s, 0);
    size_t n = x.n;
    if (ok && cbTranslatedSigMax && n)
        memcpy(pvTranslatedSig, x.out, n < cbTranslatedSigMax ? n : cbTranslatedSigMax);
    if (ok)
        *pcbTranslatedSig = (ULONG)n;
    hr = xl_unlock(&x, gen, ok, false);
    return hr == S_OK && n > cbTranslatedSigMax ? CLDB_S_TRUNCATION : hr;
}

/* A TypeRef in this scope for TypeDef tdImport of another (ImportTypeDef without the
 * TypeDef shortcut: from this very module, a TypeRef under the Module token). */
HRESULT ilg__mde_DefineImportType(IMetaDataEmit2 *This, IMetaDataAssemblyImport *pAssemImport,
                                  const void *pbHashValue, ULONG cbHashValue, IMetaDataImport *pImport,
                                  mdTypeDef tdImport, IMetaDataAssemblyEmit *pAssemEmit, mdTypeRef *ptr)
{
    MDE_ENTRY(This, "DefineImportType");
    xl_ctx x = { .hash = pbHashValue, .hash_len = cbHashValue, .hr = S_OK, .st = ILG_OK };
    uint64_t gen;
    HRESULT hr;
    if (!ptr || TypeFromToken(tdImport) != mdtTypeDef || (cbHashValue && !pbHashValue))
        return E_INVALIDARG;
    if (FAILED(hr = xl_scopes(&x, pAssemImport, pImport, pAssemEmit, (IMetaDataEmit *)This)) ||
        FAILED(hr = xl_lock(&x, &gen)))
        return hr;
    uint32_t tok = 0;
    bool ok = import_typedef(&x, tdImport, &tok);
    if (ok)
        *ptr = tok;
    return xl_unlock(&x, gen, ok, false);
}

/* A MemberRef under tkParent for MethodDef or FieldDef mbMember of another scope, its
 * signature translated (DefineImportMember); a nil parent from another module is a
 * ModuleRef to it (a global member). A duplicate MemberRef: META_S_DUPLICATE. */
HRESULT ilg__mde_DefineImportMember(IMetaDataEmit2 *This, IMetaDataAssemblyImport *pAssemImport,
                                    const void *pbHashValue, ULONG cbHashValue, IMetaDataImport *pImport,
                                    mdToken mbMember, IMetaDataAssemblyEmit *pAssemEmit, mdToken tkParent,
                                    mdMemberRef *pmr)
{
    MDE_ENTRY(This, "DefineImportMember");
    xl_ctx x = { .hash = pbHashValue, .hash_len = cbHashValue, .hr = S_OK, .st = ILG_OK,
                 .return_td = true };
    const bool method = TypeFromToken(mbMember) == mdtMethodDef;
    const ilg_table t = method ? ILG_TBL_MethodDef : ILG_TBL_Field;
    uint64_t gen;
    HRESULT hr;
    if (!pmr || (!method && TypeFromToken(mbMember) != mdtFieldDef) || (cbHashValue && !pbHashValue))
        return E_INVALIDARG;
    if (FAILED(hr = xl_scopes(&x, pAssemImport, pImport, pAssemEmit, (IMetaDataEmit *)This)) ||
        FAILED(hr = xl_lock(&x, &gen)))
        return hr;
    const ilg_metadata *md = md_of(x.src);
    PCCOR_SIGNATURE sig = NULL;
    ULONG len = 0;
    bool ok = ilg__md_row_ok(md, mbMember, t) ||
              fail(&x, CLDB_E_RECORD_NOTFOUND);
    ok = ok && (ilg__md_blob_of(md, mbMember, t, method ? ILG_MDC_MethodDef_Signature : ILG_MDC_Field_Signature,
                                &sig, &len) == S_OK || fail(&x, CLDB_E_RECORD_NOTFOUND));
    ilg_sig_cur s = { sig, sig + len };
    ok = ok && xl_method(&x, &s, 0);
    if (ok && IsNilToken(tkParent))
        ok = x.same_module ? fail(&x, E_INVALIDARG) : module_ref(&x, module_name(x.src), &tkParent);
    const char *name = ok ? ilg__md_str(md, t, RidFromToken(mbMember), method ? ILG_MDC_MethodDef_Name
                                                                          : ILG_MDC_Field_Name) : "";
    bool dup = false;
    uint32_t tok = 0;
    ok = ok && writer(&x, ilg_mdemit_member_ref(x.em, tkParent, name, x.out, (uint32_t)x.n, &tok, &dup));
    if (ok)
        *pmr = tok;
    return xl_unlock(&x, gen, ok, dup);
}
