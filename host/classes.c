/* classes.c: class emulation for ICorProfilerInfo. A non-generic TypeDef's ClassID is
 * its class record (host_class); an instantiation of a generic type, and a method of
 * an instantiation or a generic method's instantiation, get a record of their own the
 * first time a profiler names them (GetClassFromTokenAndTypeArgs,
 * GetFunctionFromTokenAndTypeArgs, a parent's TypeSpec), kept for the host's life so
 * that the same instantiation is always the same ID, as in CoreCLR. Type arguments
 * are ClassIDs (CoreLib's System.Int32 comes from GetClassFromToken in CoreLib's
 * module, when the host runs CoreLib). What CoreCLR answers is in
 * docs/coreclr-observed.md; test_abi_probe compares. */
#include <string.h>

#include "info_private.h"
#include "md_private.h"
#include "sig.h"

/* A generic type's instantiation, or a function of one / of a generic method. */
enum { GENERIC_CLASS = 1, GENERIC_FUNCTION = 2 };
/* Nested instantiations deeper than this in a parent's TypeSpec are not followed. */
#define SIG_DEPTH 16

typedef struct host_generic {
    uint8_t kind;
    host_class *def;             /* class: the generic TypeDef's record */
    host_method *method;         /* function: the method */
    ClassID cls;                 /* function: its class, as GetFunctionInfo2 answers it */
    uint32_t nargs;              /* the type's, or the method's, type arguments */
    ClassID args[];
} host_generic;

/* What a ClassID names: a TypeDef and, for an instantiation, its arguments. */
typedef struct class_view {
    host_class *def;
    uint32_t nargs;
    const ClassID *args;
} class_view;

/* ---- the records ---------------------------------------------------------------------- */

static host_generic *find_record(ilg_host *h, UINT_PTR id, uint8_t kind)
{
    host_generic *found = NULL;
    pthread_mutex_lock(&h->generics_lock);
    for (uint32_t i = 0; i < h->generic_count && !found; i++)
        if ((UINT_PTR)h->generics[i] == id && h->generics[i]->kind == kind)
            found = h->generics[i];
    pthread_mutex_unlock(&h->generics_lock);
    return found;
}

/* The record with these fields, made when there is none; NULL without memory. */
static host_generic *intern(ilg_host *h, const host_generic *want, const ClassID *args)
{
    host_generic *g = NULL;
    pthread_mutex_lock(&h->generics_lock);
    for (uint32_t i = 0; i < h->generic_count && !g; i++) {
        host_generic *r = h->generics[i];
        if (r->kind == want->kind && r->def == want->def && r->method == want->method &&
            r->cls == want->cls && r->nargs == want->nargs &&
            (!want->nargs || memcmp(r->args, args, want->nargs * sizeof *args) == 0))
            g = r;
    }
    if (!g && h->generic_count == h->generic_cap) {
        uint32_t cap = h->generic_cap ? h->generic_cap * 2 : 16;
        host_generic **grown = ILG_HOST_ZALLOC(h->heap, cap * sizeof *grown);
        if (grown) {
            if (h->generic_count)
                memcpy(grown, h->generics, h->generic_count * sizeof *grown);
            ILG_HOST_FREE(h->heap, h->generics);
            h->generics = grown;
            h->generic_cap = cap;
        }
    }
    if (!g && h->generic_count < h->generic_cap &&
        (g = ILG_HOST_ZALLOC(h->heap, sizeof *g + want->nargs * sizeof *args)) != NULL) {
        *g = *want;
        if (want->nargs)
            memcpy(g->args, args, want->nargs * sizeof *args);
        h->generics[h->generic_count++] = g;
    }
    pthread_mutex_unlock(&h->generics_lock);
    return g;
}

void ilg__host_generics_free(ilg_host *h)
{
    for (uint32_t i = 0; i < h->generic_count; i++)
        ILG_HOST_FREE(h->heap, h->generics[i]);
    ILG_HOST_FREE(h->heap, h->generics);
    h->generics = NULL;
    h->generic_count = h->generic_cap = 0;
}

static ClassID instantiation(ilg_host *h, host_class *def, uint32_t nargs, const ClassID *args)
{
    host_generic want = { .kind = GENERIC_CLASS, .def = def, .nargs = nargs };
    return (ClassID)intern(h, &want, args);
}

/* ---- what a ClassID names ---------------------------------------------------------- */

/* The record of added TypeDef i (0-based), NULL when none yet. */
static host_class *added_class(const host_module *m, uint32_t i)
{
    uint32_t k, j;
    if (i >= atomic_load_explicit(&m->added_class_count, memory_order_acquire) ||
        !ilg__host_added_slot(i, &k, &j))
        return NULL;
    return &atomic_load_explicit(&m->added_classes[k], memory_order_acquire)[j];
}

/* A TypeDef's record: made at load, or when the profiler defined it (ilg__host_class_add,
 * which publishes the count after the record, so a reader that sees the count sees it). */
static host_class *module_class(host_module *m, mdToken token)
{
    uint32_t rid = RidFromToken(token);
    if (TypeFromToken(token) != mdtTypeDef || !rid)
        return NULL;
    return rid <= m->class_count ? &m->classes[rid - 1] : added_class(m, rid - m->class_count - 1);
}

bool ilg__host_class_add(host_module *m, mdToken token)
{
    uint32_t n = atomic_load(&m->added_class_count), k, j;
    host_class *chunk;
    if (RidFromToken(token) != m->class_count + n + 1 || !ilg__host_added_slot(n, &k, &j))
        return false;
    if (!(chunk = atomic_load(&m->added_classes[k]))) {
        chunk = ILG_HOST_ZALLOC(m->host->heap, sizeof *chunk * ((size_t)HOST_ADDED_FIRST << k));
        if (!chunk)
            return false;
        atomic_store_explicit(&m->added_classes[k], chunk, memory_order_release);
    }
    chunk[j].module = m;
    chunk[j].token = token;
    atomic_init(&chunk[j].generic, false);
    atomic_store_explicit(&m->added_class_count, n + 1, memory_order_release);
    return true;
}

/* Only a TypeDef defined after load: the image's own got their flag at load, and a
 * ClassID handed out for one of them stays what it was (CoreCLR's type is loaded). */
void ilg__host_class_generic(host_module *m, mdToken token)
{
    host_class *c = RidFromToken(token) > m->class_count ? module_class(m, token) : NULL;
    if (c)
        atomic_store(&c->generic, true);
}

static const void *class_chunk(const host_module *m, uint32_t c)
{
    return atomic_load_explicit(&m->added_classes[c], memory_order_acquire);
}

/* Whether id is the address of one of m's added TypeDef records. */
static bool is_added_class(const host_module *m, ClassID id)
{
    uint32_t n = atomic_load_explicit(&m->added_class_count, memory_order_acquire);
    return ilg__host_in_added(id, m, n, sizeof(host_class), class_chunk);
}

/* A ClassID the host handed out: a non-generic TypeDef's record or an instantiation. */
static bool view_of(ilg_host *h, ClassID id, class_view *out)
{
    for (uint32_t i = 0; i < h->module_count; i++) {
        host_module *m = h->modules[i];
        if (ilg__host_is_record(id, m->classes, m->class_count, sizeof *m->classes) ||
            is_added_class(m, id)) {
            *out = (class_view){ (host_class *)id, 0, NULL };
            return !out->def->generic;
        }
    }
    host_generic *g = find_record(h, id, GENERIC_CLASS);
    if (g)
        *out = (class_view){ g->def, g->nargs, g->args };
    return g != NULL;
}

static const char *class_str(const host_class *c, uint32_t col)
{
    return ilg__md_str(c->module->md, ILG_TBL_TypeDef, RidFromToken(c->token), col);
}

static bool class_named(const host_class *c, const char *ns, const char *name)
{
    return strcmp(class_str(c, ILG_MDC_TypeDef_TypeName), name) == 0 &&
           strcmp(class_str(c, ILG_MDC_TypeDef_TypeNamespace), ns) == 0;
}

/* A value type: its base is System.ValueType or System.Enum (by name, as ECMA-335
 * II.13 says), System.Enum itself aside. */
bool ilg__host_class_is_value_type(const host_class *c)
{
    MD_READ_LOCKED(&c->module->importer);
    const ilg_metadata *md = c->module->md;
    uint32_t base = ilg__md_cell(md, ILG_TBL_TypeDef, RidFromToken(c->token),
                                 ILG_MDC_TypeDef_Extends);
    const char *ns, *name;
    if (TypeFromToken(base) == mdtTypeRef && ilg__md_row_ok(md, base, ILG_TBL_TypeRef)) {
        ns = ilg__md_str(md, ILG_TBL_TypeRef, RidFromToken(base), ILG_MDC_TypeRef_TypeNamespace);
        name = ilg__md_str(md, ILG_TBL_TypeRef, RidFromToken(base), ILG_MDC_TypeRef_TypeName);
    } else if (TypeFromToken(base) == mdtTypeDef && ilg__md_row_ok(md, base, ILG_TBL_TypeDef)) {
        ns = ilg__md_str(md, ILG_TBL_TypeDef, RidFromToken(base), ILG_MDC_TypeDef_TypeNamespace);
        name = ilg__md_str(md, ILG_TBL_TypeDef, RidFromToken(base), ILG_MDC_TypeDef_TypeName);
    } else {
        return false;
    }
    if (strcmp(ns, "System") != 0)
        return false;
    return strcmp(name, "ValueType") == 0 ||
           (strcmp(name, "Enum") == 0 && !class_named(c, "System", "Enum"));
}

host_class *ilg__host_class_def(ilg_host *h, ClassID id)
{
    class_view v;
    return view_of(h, id, &v) ? v.def : NULL;
}

/* The ClassID of a non-generic type ns.name of a loaded module (CoreLib's primitives,
 * System.__Canon), 0 when no loaded module defines it. */
static ClassID loaded_class(ilg_host *h, const char *ns, const char *name)
{
    for (uint32_t i = 0; i < h->module_count; i++) {
        uint32_t rid = ilg__md_find_typedef(h->modules[i], ns, name, 0);
        host_class *c = rid ? module_class(h->modules[i], TokenFromRid(rid, mdtTypeDef)) : NULL;
        if (c && !c->generic)
            return (ClassID)c;
    }
    return 0;
}

static ClassID canonical(ilg_host *h, ClassID arg, int depth);

/* An instantiation with its arguments in shared form (the class of shared code). */
static ClassID shared_class(ilg_host *h, ClassID cls, int depth)
{
    class_view v;
    if (!view_of(h, cls, &v) || !v.nargs || depth > SIG_DEPTH)
        return cls;
    ClassID args[v.nargs];
    for (uint32_t i = 0; i < v.nargs; i++)
        args[i] = canonical(h, v.args[i], depth + 1);
    ClassID c = instantiation(h, v.def, v.nargs, args);
    return c ? c : cls;
}

/* CoreCLR's shared-code form of a type argument: a reference type is System.__Canon, a
 * value type stays, its own arguments shared in turn. Without CoreLib loaded there is
 * no __Canon to name: the argument stays as it is (docs/profiler.md). */
static ClassID canonical(ilg_host *h, ClassID arg, int depth)
{
    class_view v;
    if (!view_of(h, arg, &v) || ilg__host_class_is_value_type(v.def))
        return shared_class(h, arg, depth);
    ClassID canon = loaded_class(h, "System", "__Canon");
    return canon ? canon : arg;
}

/* ---- a parent named by a token or a signature ----------------------------------------- */

/* The class record a TypeDef or TypeRef of m names (a TypeRef among the loaded modules,
 * as ResolveTypeRef finds it), NULL when it names none loaded. */
static host_class *class_of_token(host_module *m, mdToken tk)
{
    host_module *om;
    uint32_t rid;
    if (TypeFromToken(tk) == mdtTypeDef)
        return module_class(m, tk);
    if (!ilg__host_resolve_typeref(m, tk, &om, &rid))
        return NULL;
    return module_class(om, TokenFromRid(rid, mdtTypeDef));
}

/* The primitive element types as CoreLib's classes. */
static const struct {
    uint8_t et;
    const char *name;
} primitives[] = {
    { ILG_ET_BOOLEAN, "Boolean" }, { ILG_ET_CHAR, "Char" },     { ILG_ET_I1, "SByte" },
    { ILG_ET_U1, "Byte" },         { ILG_ET_I2, "Int16" },      { ILG_ET_U2, "UInt16" },
    { ILG_ET_I4, "Int32" },        { ILG_ET_U4, "UInt32" },     { ILG_ET_I8, "Int64" },
    { ILG_ET_U8, "UInt64" },       { ILG_ET_R4, "Single" },     { ILG_ET_R8, "Double" },
    { ILG_ET_I, "IntPtr" },        { ILG_ET_U, "UIntPtr" },     { ILG_ET_STRING, "String" },
    { ILG_ET_OBJECT, "Object" },
};

static ClassID class_of_sig(ilg_host *h, host_module *m, ilg_sig_cur *c, const class_view *ctx,
                            int depth);

/* GENERICINST's rest: (CLASS | VALUETYPE) token count type*. */
static ClassID generic_inst(ilg_host *h, host_module *m, ilg_sig_cur *c, const class_view *ctx,
                            int depth)
{
    uint8_t kind;
    mdToken tk;
    uint32_t n;
    host_class *def;
    if (!ilg__sig_u8(c, &kind) || !ilg__sig_token(c, &tk) || !ilg__sig_uint(c, &n) ||
        !(def = class_of_token(m, tk)) || !def->generic || n > (uint32_t)(c->end - c->p))
        return 0;
    ClassID args[n ? n : 1];
    for (uint32_t i = 0; i < n; i++)
        if (!(args[i] = class_of_sig(h, m, c, ctx, depth + 1)))
            return 0;
    return instantiation(h, def, n, args);
}

/* The ClassID of the type at c (a type argument of a parent's TypeSpec), !n taken from
 * ctx; 0 for what has no ClassID here (arrays, pointers, a type not loaded). */
static ClassID class_of_sig(ilg_host *h, host_module *m, ilg_sig_cur *c, const class_view *ctx,
                            int depth)
{
    uint8_t et;
    uint32_t n;
    mdToken tk;
    host_class *cls;
    if (depth > SIG_DEPTH || !ilg__sig_u8(c, &et))
        return 0;
    for (size_t i = 0; i < sizeof primitives / sizeof primitives[0]; i++)
        if (primitives[i].et == et)
            return loaded_class(h, "System", primitives[i].name);
    switch (et) {
    case ILG_ET_CLASS:
    case ILG_ET_VALUETYPE:
        return ilg__sig_token(c, &tk) && (cls = class_of_token(m, tk)) && !cls->generic
                   ? (ClassID)cls
                   : 0;
    case ILG_ET_VAR:
        return ilg__sig_uint(c, &n) && n < ctx->nargs ? ctx->args[n] : 0;
    case ILG_ET_GENERICINST:
        return generic_inst(h, m, c, ctx, depth);
    default:
        return 0;
    }
}

/* The parent's ClassID: the base type's class, an instantiation for a generic base
 * (IntBox : Box<int> gives Box<int>'s ClassID), 0 without a base or when the base's
 * module is not loaded. */
static ClassID parent_of(ilg_host *h, const class_view *v)
{
    host_module *m = v->def->module;
    MD_READ_LOCKED(&m->importer);
    mdToken base = ilg__md_cell(m->md, ILG_TBL_TypeDef, RidFromToken(v->def->token),
                                ILG_MDC_TypeDef_Extends);
    if (TypeFromToken(base) != mdtTypeSpec) {
        host_class *c = RidFromToken(base) ? class_of_token(m, base) : NULL;
        return c && !c->generic ? (ClassID)c : 0;
    }
    PCCOR_SIGNATURE sig;
    ULONG len;
    uint8_t et;
    if (ilg__md_blob_of(m->md, base, ILG_TBL_TypeSpec, ILG_MDC_TypeSpec_Signature, &sig, &len) !=
        S_OK)
        return 0;
    ilg_sig_cur c = { sig, sig + len };
    return ilg__sig_u8(&c, &et) && et == ILG_ET_GENERICINST ? generic_inst(h, m, &c, v, 0) : 0;
}

/* ---- ICorProfilerInfo: classes -------------------------------------------------------- */

/* The number of generic parameters owner (a TypeDef or MethodDef token) declares. */
static uint32_t generic_params(host_module *m, mdToken owner)
{
    const uint32_t *rows;
    uint32_t n = 0;
    MD_READ_LOCKED(&m->importer);
    if (!ilg__md_rows_where(&m->importer, ILG_TBL_GenericParam, ILG_MDC_GenericParam_Owner, owner,
                            &rows, &n))
        return 0;
    return n;
}

HRESULT ilg__info_GetClassFromToken(ICorProfilerInfo15 *This, ModuleID moduleId,
                                    mdTypeDef typeDef, ClassID *pClassId)
{
    INFO_ENTRY(This, "GetClassFromToken", SYNC_TRIGGERS);
    host_module *m = ilg__host_find_module(impl_from_ICorProfilerInfo15(This), moduleId);
    host_class *c;
    if (!m || !pClassId || !(c = module_class(m, typeDef)))
        return E_INVALIDARG;
    if (c->generic)
        return CORPROF_E_TYPE_IS_PARAMETERIZED;
    *pClassId = (ClassID)c;
    return S_OK;
}

/* CoreCLR loads the instantiation (observed): a token that is not a TypeDef (a
 * TypeSpec), or a count that is not the type's, is a type load failure; a non-generic
 * type with no arguments is its own class. The ClassID names the exact instantiation. */
HRESULT ilg__info_GetClassFromTokenAndTypeArgs(ICorProfilerInfo15 *This, ModuleID moduleID,
                                               mdTypeDef typeDef, ULONG32 cTypeArgs,
                                               ClassID typeArgs[], ClassID *pClassID)
{
    INFO_ENTRY(This, "GetClassFromTokenAndTypeArgs", SYNC_TRIGGERS);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    host_module *m = ilg__host_find_module(h, moduleID);
    class_view arg;
    if (!moduleID)
        return CORPROF_E_DATAINCOMPLETE;
    if (!m || !pClassID || (cTypeArgs && !typeArgs))
        return E_INVALIDARG;
    for (ULONG32 i = 0; i < cTypeArgs; i++)
        if (!view_of(h, typeArgs[i], &arg))
            return E_INVALIDARG;
    host_class *def = TypeFromToken(typeDef) == mdtTypeRef ? class_of_token(m, typeDef)
                                                           : module_class(m, typeDef);
    if (!def || generic_params(def->module, def->token) != cTypeArgs)
        return COR_E_TYPELOAD;
    ClassID cls = cTypeArgs ? instantiation(h, def, cTypeArgs, typeArgs) : (ClassID)def;
    if (!cls)
        return E_OUTOFMEMORY;
    *pClassID = cls;
    return S_OK;
}

HRESULT ilg__info_GetClassIDInfo(ICorProfilerInfo15 *This, ClassID classId, ModuleID *pModuleId,
                                 mdTypeDef *pTypeDefToken)
{
    INFO_ENTRY(This, "GetClassIDInfo", ASYNC);
    class_view v;
    if (!view_of(impl_from_ICorProfilerInfo15(This), classId, &v))
        return E_INVALIDARG;
    if (pModuleId)
        *pModuleId = (ModuleID)v.def->module;
    if (pTypeDefToken)
        *pTypeDefToken = v.def->token;
    return S_OK;
}

/* The count of type arguments always; as many of them as fit (no room is S_OK,
 * observed). */
HRESULT ilg__info_GetClassIDInfo2(ICorProfilerInfo15 *This, ClassID classId,
                                  ModuleID *pModuleId, mdTypeDef *pTypeDefToken,
                                  ClassID *pParentClassId, ULONG32 cNumTypeArgs,
                                  ULONG32 *pcNumTypeArgs, ClassID typeArgs[])
{
    INFO_ENTRY(This, "GetClassIDInfo2", ASYNC);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    class_view v;
    if (!view_of(h, classId, &v) || (cNumTypeArgs && !typeArgs))
        return E_INVALIDARG;
    if (pParentClassId)
        *pParentClassId = parent_of(h, &v);
    if (pModuleId)
        *pModuleId = (ModuleID)v.def->module;
    if (pTypeDefToken)
        *pTypeDefToken = v.def->token;
    for (uint32_t i = 0; i < v.nargs && i < cNumTypeArgs; i++)
        typeArgs[i] = v.args[i];
    if (pcNumTypeArgs)
        *pcNumTypeArgs = v.nargs;
    return S_OK;
}

/* No emulated class is an array (no ClassID of an array is handed out: CoreCLR's come
 * from objects and type loads): S_FALSE, as CoreCLR answers for a non-array. */
HRESULT ilg__info_IsArrayClass(ICorProfilerInfo15 *This, ClassID classId,
                               CorElementType *pBaseElemType, ClassID *pBaseClassId,
                               ULONG *pcRank)
{
    INFO_ENTRY(This, "IsArrayClass", ASYNC);
    class_view v;
    if (!view_of(impl_from_ICorProfilerInfo15(This), classId, &v))
        return E_INVALIDARG;
    (void)pBaseElemType;
    (void)pBaseClassId;
    (void)pcRank;
    return S_FALSE;
}

/* ---- ICorProfilerInfo: functions of instantiations ---------------------------------- */

host_method *ilg__host_generic_method(ilg_host *h, UINT_PTR id)
{
    host_generic *g = find_record(h, id, GENERIC_FUNCTION);
    return g ? g->method : NULL;
}

/* The ClassID of the type declaring meth, 0 for a generic type or none. */
static ClassID method_class(const host_method *meth)
{
    ilg_method_info mi;
    host_module *m = meth->module;
    host_class *c;
    /* Under the metadata lock: another thread's emit call may grow the tables. */
    pthread_rwlock_rdlock(&m->importer.lock);
    ilg_status st = ilg_md_method(m->md, RidFromToken(meth->token), &mi);
    pthread_rwlock_unlock(&m->importer.lock);
    if (st != ILG_OK || !(c = module_class(m, mi.owner)) || c->generic)
        return 0;
    return (ClassID)c;
}

bool ilg__host_method_parameterized(const host_method *meth)
{
    ilg_method_info mi;
    host_module *m = meth->module;
    host_class *c;
    pthread_rwlock_rdlock(&m->importer.lock);
    ilg_status st = ilg_md_method(m->md, RidFromToken(meth->token), &mi);
    pthread_rwlock_unlock(&m->importer.lock);
    if (st != ILG_OK)
        return false;
    return ((c = module_class(m, mi.owner)) && c->generic) || generic_params(m, meth->token);
}

/* The instantiation record a FunctionID is, given the method it names; NULL for a
 * method record (its own address: the common case, decided without the lock) or a
 * --recompile instantiation. */
static host_generic *instantiation_of(ilg_host *h, host_method *meth, FunctionID id)
{
    return meth && (UINT_PTR)meth != id ? find_record(h, id, GENERIC_FUNCTION) : NULL;
}

HRESULT ilg__info_GetFunctionInfo(ICorProfilerInfo15 *This, FunctionID functionId,
                                  ClassID *pClassId, ModuleID *pModuleId, mdToken *pToken)
{
    INFO_ENTRY(This, "GetFunctionInfo", ASYNC);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    host_method *meth = ilg__host_find_method(h, functionId);
    host_generic *g = instantiation_of(h, meth, functionId);
    if (!meth)
        return E_INVALIDARG;
    /* The declaring type's ClassID; 0 for a generic type's or an instantiation's
     * function (CoreCLR's first version names no instantiation, observed). */
    if (pClassId)
        *pClassId = g ? 0 : method_class(meth);
    if (pModuleId)
        *pModuleId = (ModuleID)meth->module;
    if (pToken)
        *pToken = meth->token;
    return S_OK;
}

HRESULT ilg__info_GetFunctionInfo2(ICorProfilerInfo15 *This, FunctionID funcId,
                                   COR_PRF_FRAME_INFO frameInfo, ClassID *pClassId,
                                   ModuleID *pModuleId, mdToken *pToken, ULONG32 cTypeArgs,
                                   ULONG32 *pcTypeArgs, ClassID typeArgs[])
{
    INFO_ENTRY(This, "GetFunctionInfo2", ASYNC);
    (void)frameInfo; /* no frames: the answer is the function's, shared code's */
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    host_method *meth = ilg__host_find_method(h, funcId);
    host_generic *g = instantiation_of(h, meth, funcId);
    if (!meth || (cTypeArgs && !typeArgs))
        return E_INVALIDARG;
    /* An instantiation's class and the method's own type arguments (shared: __Canon
     * for a reference type); a plain method's declaring class, 0 for a generic type's. */
    if (pClassId)
        *pClassId = g ? g->cls : method_class(meth);
    if (pModuleId)
        *pModuleId = (ModuleID)meth->module;
    if (pToken)
        *pToken = meth->token;
    for (uint32_t i = 0; g && i < g->nargs && i < cTypeArgs; i++)
        typeArgs[i] = g->args[i];
    if (pcTypeArgs)
        *pcTypeArgs = g ? g->nargs : 0;
    return S_OK;
}

/* CoreCLR (observed): ClassID 0 is E_INVALIDARG; a class that does not declare the
 * method a type load failure; a generic method without its type arguments
 * COR_E_BADIMAGEFORMAT. A method of a non-generic class without type arguments is its
 * own FunctionID; anything else the FunctionID of its shared code: the class and the
 * method's arguments in CoreCLR's shared form (Box<string>.Get is Box<__Canon>.Get). */
HRESULT ilg__info_GetFunctionFromTokenAndTypeArgs(ICorProfilerInfo15 *This, ModuleID moduleID,
                                                  mdMethodDef funcDef, ClassID classId,
                                                  ULONG32 cTypeArgs, ClassID typeArgs[],
                                                  FunctionID *pFunctionID)
{
    INFO_ENTRY(This, "GetFunctionFromTokenAndTypeArgs", SYNC_TRIGGERS);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    host_module *m = ilg__host_find_module(h, moduleID);
    uint32_t rid;
    class_view v, arg;
    ilg_method_info mi;
    if (!m || !pFunctionID || !(rid = ilg__host_method_rid(m, funcDef)) ||
        (cTypeArgs && !typeArgs) || !classId || !view_of(h, classId, &v))
        return E_INVALIDARG;
    for (ULONG32 i = 0; i < cTypeArgs; i++)
        if (!view_of(h, typeArgs[i], &arg))
            return E_INVALIDARG;
    host_method *meth = ilg__host_method_at(m, rid);
    pthread_rwlock_rdlock(&m->importer.lock);
    ilg_status st = ilg_md_method(m->md, rid, &mi);
    pthread_rwlock_unlock(&m->importer.lock);
    if (st != ILG_OK || v.def->module != m || v.def->token != mi.owner)
        return COR_E_TYPELOAD;
    if (generic_params(m, funcDef) != cTypeArgs)
        return COR_E_BADIMAGEFORMAT;
    if (!v.nargs && !cTypeArgs) {
        *pFunctionID = (FunctionID)meth;
        return S_OK;
    }
    ClassID shared = shared_class(h, classId, 0);
    ClassID args[cTypeArgs ? cTypeArgs : 1];
    for (ULONG32 i = 0; i < cTypeArgs; i++)
        args[i] = canonical(h, typeArgs[i], 0);
    host_generic want = { .kind = GENERIC_FUNCTION, .method = meth, .cls = shared,
                          .nargs = cTypeArgs };
    host_generic *g = intern(h, &want, args);
    if (!g)
        return E_OUTOFMEMORY;
    *pFunctionID = (FunctionID)g;
    return S_OK;
}

ilg_status ilg__host_make_classes(host_module *m)
{
    const ilg_metadata *md = m->md;
    m->class_count = ilg_md_row_count(md, ILG_TBL_TypeDef);
    if (!m->class_count)
        return ILG_OK;
    m->classes = ILG_HOST_ZALLOC(m->host->heap, (size_t)m->class_count * sizeof *m->classes);
    if (!m->classes)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for %u class records",
                         m->class_count);
    for (uint32_t rid = 1; rid <= m->class_count; rid++) {
        m->classes[rid - 1].module = m;
        m->classes[rid - 1].token = TokenFromRid(rid, mdtTypeDef);
    }
    const uint32_t params = ilg_md_row_count(md, ILG_TBL_GenericParam);
    for (uint32_t r = 1; r <= params; r++) {
        uint32_t owner = 0;
        if (ilg_md_cell(md, ILG_TBL_GenericParam, r, ILG_MDC_GenericParam_Owner, &owner) != ILG_OK)
            continue;
        uint32_t rid = RidFromToken(owner);
        if (TypeFromToken(owner) == mdtTypeDef && rid >= 1 && rid <= m->class_count)
            m->classes[rid - 1].generic = true;
    }
    return ILG_OK;
}
