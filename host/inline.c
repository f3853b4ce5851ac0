/* inline.c: the host's model of CoreCLR's inlining under `ilgraft run --inline`
 * (docs/profiler.md, "Inlining"): the JITInlining callbacks of a compilation, the
 * profiler's refusals, the inliner -> inlinee records, and the stale inliners a later
 * SetILFunctionBody of the callee leaves (dotnet/runtime#48081). */
#include <string.h>

#include "inline_private.h"
#include "md_private.h"
#include "sig.h"
#include "trace.h"

#define ILG__WANT_CB_TRACE
#include "trace.inc"

/* CoreCLR's JIT takes a callee of at most this many bytes of IL as an "always inline"
 * candidate (DefaultPolicy, CALLEE_BELOW_ALWAYS_INLINE_SIZE; src/coreclr/jit/
 * inlinepolicy.cpp), whatever its profitability; larger ones it weighs, which the host
 * does not model. */
#define HOST_ALWAYS_INLINE_SIZE 16

struct host_inlines {
    pthread_rwlock_t lock;
    host_inline_pair *pairs;     /* host heap, grown under the write lock */
    uint32_t count, cap;
    /* Open addressing over the pairs by (inliner, inlinee), 2 * cap slots of index + 1
     * (0 empty), rebuilt as the pairs grow: a popular callee's chain is thousands long
     * over CoreLib, too long to search at every call site. */
    uint32_t *slots;
    uint32_t lost;               /* call sites delivered but not recorded (no memory) */
    uint32_t *head;              /* [rid - 1]: index + 1 of the callee's first pair */
    uint8_t *generic;            /* [rid - 1]: 1 for a generic method or a generic type's */
};

/* Marks the methods that need an instantiation's dictionary: those with generic
 * parameters of their own or of their type (GenericParam owners, II.22.20). */
static void mark_generics(host_module *m, uint8_t *generic)
{
    const uint32_t rows = ilg_md_row_count(m->md, ILG_TBL_GenericParam);
    for (uint32_t r = 1; r <= rows; r++) {
        uint32_t owner = 0, first = 0, n = 0;
        if (ilg_md_cell(m->md, ILG_TBL_GenericParam, r, ILG_MDC_GenericParam_Owner, &owner) !=
            ILG_OK)
            continue;
        const uint32_t rid = owner & 0xFFFFFF;
        if (owner >> 24 == ILG_TBL_MethodDef && rid >= 1 && rid <= m->method_count) {
            generic[rid - 1] = 1;
        } else if (owner >> 24 == ILG_TBL_TypeDef) {
            ilg__host_methods_of(m->md, rid, &first, &n);
            for (uint32_t k = 0; k < n; k++)
                if (first + k >= 1 && first + k <= m->method_count)
                    generic[first - 1 + k] = 1;
        }
    }
}

ilg_status ilg__inline_module_init(host_module *m)
{
    IHostMalloc *heap = m->host->heap;
    struct host_inlines *in = ILG_HOST_ZALLOC(heap, sizeof *in);
    if (!in)
        goto nomem;
    m->inlines = in;
    pthread_rwlock_init(&in->lock, NULL);
    if (m->method_count) {
        in->head = ILG_HOST_ZALLOC(heap, (size_t)m->method_count * sizeof *in->head);
        in->generic = ILG_HOST_ZALLOC(heap, m->method_count);
        if (!in->head || !in->generic)
            goto nomem;
        mark_generics(m, in->generic);
    }
    return ILG_OK;
nomem:
    return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for the inlining records of %s",
                     m->path);
}

void ilg__inline_module_free(host_module *m)
{
    struct host_inlines *in = m->inlines;
    if (!in)
        return;
    IHostMalloc *heap = m->host->heap;
    pthread_rwlock_destroy(&in->lock);
    ILG_HOST_FREE(heap, in->pairs);
    ILG_HOST_FREE(heap, in->slots);
    ILG_HOST_FREE(heap, in->head);
    ILG_HOST_FREE(heap, in->generic);
    ILG_HOST_FREE(heap, in);
    m->inlines = NULL;
}

/* Whether this compilation of caller is one CoreCLR optimizes, the only kind that
 * inlines: every compilation without --recompile (the host then models one optimized
 * compilation, as with tiered compilation off); with it, the OSR and tier-1 ones, and
 * a first one only for a method that does not tier (or when the profiler turned
 * tiering off, so that no later pass comes). */
static bool optimizing(host_worker *w, host_method *caller, const ilg_method_info *mi)
{
    ilg_host *h = w->host;
    if (mi->impl_flags & ILG_METHODIMPL_NOOPTIMIZATION)
        return false; /* compiled with minopts: no inlining */
    if (!h->recompile || w->pass != HOST_PASS_FIRST)
        return true;
    if (atomic_load(&h->event_mask_high) & COR_PRF_HIGH_DISABLE_TIERED_COMPILATION)
        return true;
    return ilg__host_tiering(caller, &w->inline_callee) == HOST_TIERING_NONE;
}

/* The longest MemberRef name and signature the host resolves for inlining. */
#define REF_NAME_MAX 256
#define REF_SIG_MAX 64

/* A primitive value type: its instantiations are exact code, no dictionary. */
static bool primitive_value(uint8_t e)
{
    return (e >= ILG_ET_BOOLEAN && e <= ILG_ET_R8) || e == ILG_ET_I || e == ILG_ET_U;
}

/* Whether a method signature names no type by token (II.23.2.1): not generic, not
 * vararg, and every type primitive, string, object, a type parameter of the method's
 * type, or a pointer, byref or vector of those. Such a signature has the same bytes in
 * every module, so a MemberRef's can be compared with a MethodDef's as they are. */
static bool plain_sig(const uint8_t *sig, uint32_t len)
{
    ilg_sig_cur c = { sig, sig + len };
    uint8_t conv = 0, e = 0;
    uint32_t count = 0, index = 0;
    if (!ilg__sig_u8(&c, &conv) || (conv & ILG_SIG_GENERIC) ||
        (conv & ILG_SIG_KIND_MASK) != ILG_SIG_DEFAULT || !ilg__sig_uint(&c, &count))
        return false;
    while (ilg__sig_u8(&c, &e)) {
        if (e == ILG_ET_VAR) {
            if (!ilg__sig_uint(&c, &index))
                return false;
        } else if (!primitive_value(e) && e != ILG_ET_VOID && e != ILG_ET_STRING &&
                   e != ILG_ET_OBJECT && e != ILG_ET_PTR && e != ILG_ET_BYREF &&
                   e != ILG_ET_SZARRAY) {
            return false;
        }
    }
    return true;
}

/* Under m's metadata read lock: whether TypeSpec rid of m instantiates a generic type
 * over primitive value types only (GENERICINST, II.23.2.12), whose code is its own and
 * needs no dictionary (Box<int>); the generic type's TypeDef or TypeRef into *type. */
static bool exact_instance(const host_module *m, uint32_t rid, uint32_t *type)
{
    uint32_t idx = 0, len = 0, args = 0;
    const uint8_t *blob = NULL;
    uint8_t e = 0, kind = 0;
    if (rid > ilg_md_row_count(m->md, ILG_TBL_TypeSpec) ||
        ilg_md_cell(m->md, ILG_TBL_TypeSpec, rid, ILG_MDC_TypeSpec_Signature, &idx) != ILG_OK ||
        ilg_md_blob(m->md, idx, &blob, &len) != ILG_OK)
        return false;
    ilg_sig_cur c = { blob, blob + len };
    if (!ilg__sig_u8(&c, &e) || e != ILG_ET_GENERICINST || !ilg__sig_u8(&c, &kind) ||
        (kind != ILG_ET_VALUETYPE && kind != ILG_ET_CLASS) || !ilg__sig_token(&c, type) ||
        *type >> 24 == ILG_TBL_TypeSpec || !ilg__sig_uint(&c, &args) || !args)
        return false;
    for (uint32_t k = 0; k < args; k++)
        if (!ilg__sig_u8(&c, &e) || !primitive_value(e))
            return false;
    return c.p == c.end;
}

/* The MethodDef record a MemberRef of m names: its parent a TypeRef found among the
 * loaded modules by name (as ResolveTypeRef finds it, the way CoreCLR binds
 * [System.Runtime]System.Object to CoreLib's), or a TypeSpec instantiating such a type
 * or one of m's exactly (*exact then set); a method of that TypeDef with the same name
 * and a plain signature of the same bytes; NULL otherwise. */
static host_method *memberref_target(host_module *m, uint32_t rid, bool *exact)
{
    uint32_t parent = 0, name_idx = 0, sig_idx = 0, sig_len = 0, td = 0, first = 0, n = 0;
    const char *name = NULL;
    const uint8_t *sig = NULL;
    char want[REF_NAME_MAX];
    uint8_t want_sig[REF_SIG_MAX];
    host_module *om = NULL;
    ilg_method_info mi;

    /* Copied out: another thread's emit call may move the heaps once the lock is gone. */
    pthread_rwlock_rdlock(&m->importer.lock);
    bool ok = rid <= ilg_md_row_count(m->md, ILG_TBL_MemberRef) &&
              ilg_md_cell(m->md, ILG_TBL_MemberRef, rid, ILG_MDC_MemberRef_Class, &parent) == ILG_OK &&
              ilg_md_cell(m->md, ILG_TBL_MemberRef, rid, ILG_MDC_MemberRef_Name, &name_idx) == ILG_OK &&
              ilg_md_cell(m->md, ILG_TBL_MemberRef, rid, ILG_MDC_MemberRef_Signature, &sig_idx) ==
                  ILG_OK &&
              ilg_md_string(m->md, name_idx, &name) == ILG_OK &&
              ilg_md_blob(m->md, sig_idx, &sig, &sig_len) == ILG_OK && strlen(name) < sizeof want &&
              sig_len <= sizeof want_sig && plain_sig(sig, sig_len);
    *exact = ok && parent >> 24 == ILG_TBL_TypeSpec &&
             exact_instance(m, parent & 0xFFFFFF, &parent);
    if (ok) {
        memcpy(want, name, strlen(name) + 1);
        memcpy(want_sig, sig, sig_len);
    }
    pthread_rwlock_unlock(&m->importer.lock);
    if (!ok)
        return NULL;
    if (parent >> 24 == ILG_TBL_TypeDef) {
        om = m;
        td = parent & 0xFFFFFF;
    } else if (parent >> 24 != ILG_TBL_TypeRef || !ilg__host_resolve_typeref(m, parent, &om, &td)) {
        return NULL;
    }
    uint32_t found = 0;
    pthread_rwlock_rdlock(&om->importer.lock);
    ilg__host_methods_of(om->md, td, &first, &n);
    for (uint32_t k = 0; !found && k < n; k++)
        if (ilg_md_method(om->md, first + k, &mi) == ILG_OK && strcmp(mi.name, want) == 0 &&
            mi.sig_len == sig_len && memcmp(mi.sig, want_sig, sig_len) == 0)
            found = first + k;
    pthread_rwlock_unlock(&om->importer.lock);
    return found && found <= om->method_count && om->inlines ? &om->methods[found - 1] : NULL;
}

/* The rule (docs/profiler.md, "Inlining"), for a call site `op token` (after a tail.
 * prefix when tail) in caller (the method compiled or one inlined into it): the
 * callee's record when the host inlines it, else NULL.
 * Each clause is named after the JIT's observation that stops CoreCLR there. */
static host_method *inlinee(host_worker *w, host_method *caller, uint16_t op, uint32_t token,
                            bool tail, bool *exact)
{
    host_module *cm = caller->module;
    const uint32_t ref = token & 0xFFFFFF;
    host_method *callee = NULL;
    ilg_method_info mi;

    if (op != ILG_OP_CALL && op != ILG_OP_CALLVIRT && op != ILG_OP_NEWOBJ)
        return NULL; /* not a call */
    if (tail)
        return NULL; /* CALLSITE_EXPLICIT_TAIL_PREFIX */
    /* A MethodDef of this module with a record, or a MemberRef resolved to one of a
     * loaded module; a MethodSpec (a generic method's instantiation) is not claimed. */
    if (token >> 24 == ILG_TBL_MethodDef && ref >= 1 && ref <= cm->method_count)
        callee = &cm->methods[ref - 1];
    else if (token >> 24 == ILG_TBL_MemberRef)
        callee = memberref_target(cm, ref, exact);
    if (!callee)
        return NULL;
    host_module *m = callee->module;
    const uint32_t rid = callee->token & 0xFFFFFF;
    if (callee == caller)
        return NULL; /* CALLSITE_IS_RECURSIVE */
    if (ilg__host_rejit_blocks_inlining(callee))
        return NULL; /* the runtime's canInline: a ReJIT version requested or in force */
    if (m->inlines->generic[rid - 1] && !*exact)
        return NULL; /* shared generic code needs its dictionary: not claimed */
    pthread_rwlock_rdlock(&m->importer.lock);
    bool found = ilg_md_method(m->md, rid, &mi) == ILG_OK;
    pthread_rwlock_unlock(&m->importer.lock);
    if (!found || (mi.flags & (ILG_METHODATTR_ABSTRACT | ILG_METHODATTR_PINVOKEIMPL)) ||
        (mi.impl_flags & (ILG_METHODIMPL_CODETYPE_MASK | ILG_METHODIMPL_INTERNALCALL)))
        return NULL; /* CALLEE_NO_METHOD_INFO: no IL body */
    if (mi.impl_flags & ILG_METHODIMPL_NOINLINING)
        return NULL; /* CALLEE_IS_NOINLINE */
    if (mi.impl_flags & ILG_METHODIMPL_SYNCHRONIZED)
        return NULL; /* CALLEE_IS_SYNCHRONIZED */
    if (op == ILG_OP_CALLVIRT && (mi.flags & ILG_METHODATTR_VIRTUAL))
        return NULL; /* CALLSITE_IS_VIRTUAL: devirtualization is not modelled */
    const uint64_t cur = atomic_load_explicit(&callee->current, memory_order_acquire);
    ilg_body **b = &w->inline_callee;
    if (!cur || (!*b && ilg_body_new(b) != ILG_OK) ||
        ilg_body_decode(*b, m->info.base + (cur >> 32), (uint32_t)cur) != ILG_OK)
        return NULL;
    if ((*b)->eh_count)
        return NULL; /* CALLEE_HAS_EH */
    if ((*b)->code_size > HOST_ALWAYS_INLINE_SIZE)
        return NULL; /* not CALLEE_BELOW_ALWAYS_INLINE_SIZE: profitability, not claimed */
    for (uint32_t i = 0; i < (*b)->count; i++) {
        uint16_t o = (*b)->instrs[i].op;
        if (o == ILG_OP_LOCALLOC || o == ILG_OP_JMP || o == ILG_OP_TAIL)
            return NULL; /* CALLEE_HAS_LOCALLOC, CALLEE_HAS_JMP, CALLEE_HAS_TAIL_PREFIX */
    }
    return callee;
}

/* Whether two body words of m (RVA << 32 | size) name different IL: a copy of the same
 * bytes at a new RVA (what a profiler that copies every body sets) leaves an inliner's
 * code what it would be. Bodies in the image and the arena never change once set. */
static bool differs(const host_module *m, uint64_t a, uint64_t b)
{
    if (a == b)
        return false;
    if ((uint32_t)a != (uint32_t)b)
        return true;
    return memcmp(m->info.base + (a >> 32), m->info.base + (b >> 32), (uint32_t)a) != 0;
}

/* The slot of (caller, callee) among n (a power of two): its pair's, or the empty one
 * where it would go. */
static uint32_t *slot_of(uint32_t *slots, uint32_t n, const host_inline_pair *pairs,
                         const host_method *caller, const host_method *callee)
{
    uint64_t key = (uint64_t)(uintptr_t)caller * 0x9E3779B97F4A7C15ull ^ (uintptr_t)callee;
    uint32_t i = (uint32_t)((key * 0xC2B2AE3D27D4EB4Full) >> 40) & (n - 1);
    for (;; i = (i + 1) & (n - 1)) {
        const uint32_t k = slots[i];
        if (!k || (pairs[k - 1].caller == caller && pairs[k - 1].callee == callee))
            return &slots[i];
    }
}

/* Room for one more pair: the pairs and their slots twice as large when full. */
static bool grow(host_module *m, struct host_inlines *in)
{
    if (in->count < in->cap)
        return true;
    IHostMalloc *heap = m->host->heap;
    const uint32_t cap = in->cap ? in->cap * 2 : 64;
    host_inline_pair *p = ILG_HOST_ZALLOC(heap, (size_t)cap * sizeof *p);
    uint32_t *slots = ILG_HOST_ZALLOC(heap, (size_t)cap * 2 * sizeof *slots);
    if (!p || !slots) {
        ILG_HOST_FREE(heap, p);
        ILG_HOST_FREE(heap, slots);
        return false;
    }
    if (in->count)
        memcpy(p, in->pairs, (size_t)in->count * sizeof *p);
    for (uint32_t k = 0; k < in->count; k++)
        *slot_of(slots, cap * 2, p, p[k].caller, p[k].callee) = k + 1;
    ILG_HOST_FREE(heap, in->pairs);
    ILG_HOST_FREE(heap, in->slots);
    in->pairs = p;
    in->slots = slots;
    in->cap = cap;
    return true;
}

/* Under the write lock: the pair (caller, callee), made when absent (NULL without
 * memory). */
static host_inline_pair *pair_of(host_module *m, host_method *caller, host_method *callee)
{
    struct host_inlines *in = m->inlines;
    if (in->cap) {
        const uint32_t k = *slot_of(in->slots, in->cap * 2, in->pairs, caller, callee);
        if (k)
            return &in->pairs[k - 1];
    }
    if (!grow(m, in))
        return NULL;
    uint32_t *head = &in->head[(callee->token & 0xFFFFFF) - 1];
    host_inline_pair *pr = &in->pairs[in->count++];
    memset(pr, 0, sizeof *pr);
    pr->caller = caller;
    pr->callee = callee;
    pr->next = *head;
    *head = in->count;
    *slot_of(in->slots, in->cap * 2, in->pairs, caller, callee) = in->count;
    return pr;
}

/* One call site: JITInlining with *should TRUE first (CoreCLR's ProfControlBlock sets
 * it so), refused when the profiler answers a success HRESULT and FALSE; then recorded,
 * with the callee's body the JIT read before asking. */
static bool deliver(host_worker *w, host_method *root, FunctionID fid, host_method *callee,
                    FunctionID callee_fid)
{
    ilg_host *h = w->host;
    host_module *m = callee->module; /* the records live with the inlinee */
    const uint64_t body = atomic_load_explicit(&callee->current, memory_order_acquire);
    BOOL should = TRUE;

    ilg__host_enter_callback(h, "JITInlining");
    if (h->trace)
        trace_cb_JITInlining(h, fid, callee_fid, &should);
    uint8_t outer = ilg__host_cb_state;
    ilg__host_cb_state = HOST_CB_INSIDE | HOST_CB_TRIGGERS;
    HRESULT hr = h->callback->lpVtbl->JITInlining(h->callback, fid, callee_fid, &should);
    ilg__host_cb_state = outer;
    if (h->trace)
        ilg__trace_cb_return(h, "JITInlining", hr);
    const bool refused = SUCCEEDED(hr) && !should;

    pthread_rwlock_wrlock(&m->inlines->lock);
    host_inline_pair *p = pair_of(m, root, callee);
    if (p) {
        p->sites++;
        p->refused += refused;
        if (!refused) {
            /* The inliner's code in force now holds this body (a later compilation of
             * it, tier 1 or ReJIT, inlines the callee's new IL: no longer stale)... */
            p->inlined_body = body;
            p->stale_body = 0;
            /* ... unless the profiler set another inside the callback: the JIT had read
             * the old one. */
            uint64_t now = atomic_load_explicit(&callee->current, memory_order_acquire);
            if (differs(m, now, body))
                p->stale_body = now;
        }
    } else if (!m->inlines->lost++) {
        /* Said once per module: the report's counts leave these sites out. */
        fprintf(h->log, "ilgraft host: no memory for an inlining record of %s: JITInlining "
                        "delivered, not recorded (the report undercounts)\n", m->path);
    }
    pthread_rwlock_unlock(&m->inlines->lock);
    return !refused;
}

/* CoreCLR's JIT inlines into inlinees too, to a depth of DEFAULT_MAX_INLINE_DEPTH. */
#define HOST_MAX_INLINE_DEPTH 20

/* The JIT's time budget for one compilation (InlineStrategy, src/coreclr/jit/
 * inline.cpp): the root's estimate 60 + 3 * its IL bytes, a budget of 10 times that,
 * each inline adding -14 + 2 * its IL bytes; an inline that would pass the budget is
 * not made (CALLSITE_OVER_BUDGET). It also bounds the host's walk of nested inlines. */
typedef struct inline_budget {
    int estimate, budget;
} inline_budget;

/* The call sites of body b (caller's IL, FunctionID fid, compiled as part of root):
 * JITInlining for each the rule claims, with caller as the inliner, as CoreCLR names the
 * method whose IL holds the call (observed: an inlinee's own calls come with the
 * inlinee as caller); an inlined callee's call sites next, before the caller's next
 * site. stack[0..depth) holds the methods being inlined, none of which is inlined into
 * itself again. An exact instantiation's callee (Box<int>.Get) is named by its
 * value-type instantiation's FunctionID when the host has one (--recompile), else by
 * its method's. */
static void scan_sites(host_worker *w, host_method *root, host_method *caller, FunctionID fid,
                       const ilg_body *b, host_method **stack, unsigned depth,
                       inline_budget *budget)
{
    for (uint32_t i = 0; i < b->count; i++) {
        const ilg_instr *in = &b->instrs[i];
        bool tail = i && b->instrs[i - 1].op == ILG_OP_TAIL, exact = false;
        host_method *callee = inlinee(w, caller, in->op, in->arg.token, tail, &exact);
        bool nested = callee == root;
        for (unsigned k = 0; callee && k < depth; k++)
            nested |= stack[k] == callee;
        if (!callee || nested)
            continue;
        const int delta = -14 + 2 * (int)w->inline_callee->code_size;
        if (budget->estimate + delta > budget->budget)
            continue; /* CALLSITE_OVER_BUDGET */
        /* inlinee() left the callee's body in w->inline_callee: copy it out before the
         * next decode reuses that. */
        ilg_body *inner = NULL;
        if (depth + 1 < HOST_MAX_INLINE_DEPTH && ilg_body_new(&inner) == ILG_OK &&
            ilg_body_copy(inner, w->inline_callee) != ILG_OK) {
            ilg_body_free(inner);
            inner = NULL;
        }
        const FunctionID callee_fid = ilg__host_fid(callee, exact && callee->inst ? 1 : 0);
        if (deliver(w, root, fid, callee, callee_fid)) {
            budget->estimate += delta;
            if (inner) {
                stack[depth] = callee;
                scan_sites(w, root, callee, callee_fid, inner, stack, depth + 1, budget);
            }
        }
        ilg_body_free(inner);
    }
}

/* A compilation of caller from the body word cur (RVA << 32 | size). */
static void compile_body(host_worker *w, host_method *caller, FunctionID fid, uint64_t cur)
{
    ilg_host *h = w->host;
    host_module *m = caller->module;
    ilg_method_info mi;
    if (!m->inlines || !h->callback)
        return;
    /* CoreCLR's canInline: no JITInlining when the profiler disabled inlining, nor in
     * code compiled without optimizations; only to a profiler tracking JIT events. */
    const DWORD mask = atomic_load(&h->event_mask);
    if (!(mask & COR_PRF_MONITOR_JIT_COMPILATION) ||
        (mask & (COR_PRF_DISABLE_INLINING | COR_PRF_DISABLE_OPTIMIZATIONS)))
        return;
    const uint32_t rid = caller->token & 0xFFFFFF;
    if (rid > m->method_count)
        return; /* a method the profiler defined: not modelled */
    pthread_rwlock_rdlock(&m->importer.lock);
    bool found = ilg_md_method(m->md, rid, &mi) == ILG_OK;
    pthread_rwlock_unlock(&m->importer.lock);
    if (!found || !optimizing(w, caller, &mi))
        return;
    ilg_body **b = &w->inline_caller;
    if (!cur || (!*b && ilg_body_new(b) != ILG_OK) ||
        ilg_body_decode(*b, m->info.base + (cur >> 32), (uint32_t)cur) != ILG_OK)
        return;
    host_method *stack[HOST_MAX_INLINE_DEPTH];
    inline_budget budget = { 60 + 3 * (int)(*b)->code_size, 0 };
    budget.budget = 10 * budget.estimate;
    scan_sites(w, caller, caller, fid, *b, stack, 0, &budget);
}

void ilg__inline_compile(host_worker *w, host_method *caller, FunctionID fid)
{
    compile_body(w, caller, fid, atomic_load_explicit(&caller->current, memory_order_acquire));
}

/* Under no lock: the pairs of every module whose inliner is root no longer hold a body
 * (root's new code replaces the code that inlined them; the sites it inlines again
 * record theirs anew). */
static void forget_inliner(ilg_host *h, const host_method *root)
{
    for (uint32_t i = 0; i < h->module_count; i++) {
        struct host_inlines *in = h->modules[i]->inlines;
        if (!in)
            continue;
        pthread_rwlock_wrlock(&in->lock);
        for (uint32_t k = 0; k < in->count; k++)
            if (in->pairs[k].caller == root)
                in->pairs[k].inlined_body = in->pairs[k].stale_body = 0;
        pthread_rwlock_unlock(&in->lock);
    }
}

void ilg__inline_rejit_compile(host_worker *w, host_method *caller, FunctionID fid, uint64_t body)
{
    if (!caller->module->inlines || !w->host->callback)
        return;
    forget_inliner(w->host, caller);
    compile_body(w, caller, fid, body);
}

void ilg__inline_body_changed(host_method *meth)
{
    host_module *m = meth->module;
    struct host_inlines *in = m->inlines;
    const uint32_t rid = meth->token & 0xFFFFFF;
    if (!in || rid < 1 || rid > m->method_count)
        return;
    const uint64_t now = atomic_load_explicit(&meth->current, memory_order_acquire);
    pthread_rwlock_wrlock(&in->lock);
    for (uint32_t k = in->head[rid - 1]; k; k = in->pairs[k - 1].next) {
        host_inline_pair *p = &in->pairs[k - 1];
        if (!p->inlined_body)
            continue;
        if (!differs(m, p->inlined_body, now))
            p->stale_body = 0; /* what it inlined is in force again (a revert) */
        else if (!p->stale_body)
            p->stale_body = now;
    }
    pthread_rwlock_unlock(&in->lock);
}

uint32_t ilg__inline_inliners_of(ilg_host *host, host_module *m, mdMethodDef callee,
                                 ilg__inliner_cb cb, void *ctx)
{
    const uint32_t rid = callee & 0xFFFFFF;
    struct host_inlines *in = m ? m->inlines : NULL;
    uint32_t n = 0;
    if (!host || !in || m->host != host || callee >> 24 != ILG_TBL_MethodDef || rid < 1 ||
        rid > m->method_count)
        return 0;
    pthread_rwlock_rdlock(&in->lock);
    /* The chain runs newest first: walk it into recording order. */
    for (uint32_t i = 0; i < in->count; i++) {
        const host_inline_pair *p = &in->pairs[i];
        if (p->callee != &m->methods[rid - 1] || !p->inlined_body)
            continue;
        n++;
        if (cb)
            cb(ctx, ilg__host_fid(p->caller, 0), p->caller->token, p->stale_body != 0);
    }
    pthread_rwlock_unlock(&in->lock);
    return n;
}

bool ilg__inline_snapshot(host_module *m, host_inline_pair **out, uint32_t *count)
{
    struct host_inlines *in = m->inlines;
    *out = NULL;
    *count = 0;
    if (!in)
        return false;
    pthread_rwlock_rdlock(&in->lock);
    bool ok = true;
    if (in->count) {
        *out = ILG_HOST_ALLOC(m->host->heap, (size_t)in->count * sizeof **out);
        ok = *out != NULL;
        if (ok) {
            memcpy(*out, in->pairs, (size_t)in->count * sizeof **out);
            *count = in->count;
        }
    }
    pthread_rwlock_unlock(&in->lock);
    return ok;
}
