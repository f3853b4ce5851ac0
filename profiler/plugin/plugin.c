/* plugin.c: libilgraft_profiler.so, the rewriting profiler. A COM object implementing
 * ICorProfilerCallback3, written against ilgraft/corprof.h alone so the same build
 * loads into the ilgraft host and into a real CoreCLR. At JITCompilationStarted it
 * names the method through IMetaDataImport, applies every matching rule of the rules
 * file (ILGRAFT_RULES) to the decoded body, encodes it into memory from the module's
 * IMethodMalloc and installs it with SetILFunctionBody, logging each rewrite (ILGRAFT_LOG,
 * else stderr). The body's address always comes from GetILFunctionBody: CoreCLR loads
 * application assemblies flat, so base + RVA would be wrong (docs/coreclr-observed.md). */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "ilgraft/corprof.h"
#include "ilg_private.h"
#include "plugin_private.h"
#include "sig.h"

#define PLUGIN_EXPORT __attribute__((visibility("default")))
#define NAME_CAP 1024
#define SIG_MAX_DEPTH 64 /* nesting a signature may have */
#define FULL_CAP (2 * NAME_CAP + 4) /* "Ns.Type::Method" */

/* {B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}: the plugin's CLSID (CORECLR_PROFILER). */
static const CLSID CLSID_IlgraftProfiler =
    ILG_GUID_INIT(0xB2E3A7C4, 0x6D15, 0x4F38, 0x9A, 0x21, 0x5C, 0x7E, 0x0D, 0x3F, 0x8B, 0x94);

/* A probe looked up once per module (token 0 when the module has none). probe is the
 * index of the first rule naming it (plugin.probe_of), so rules sharing a probe share
 * the lookup. */
typedef struct probe_cache {
    ModuleID module;
    size_t probe;
    mdMethodDef token;
} probe_cache;

/* Call targets' stack shapes, cached per module and indexed by row: a body calls the
 * same few methods over and over, and each lookup is a metadata call and a signature
 * parse. An entry packs SHAPE_KNOWN | has_this | pushes | pops. */
#define SHAPE_KNOWN 0x80000000u
#define SHAPE_THIS 0x40000000u
#define SHAPE_PUSHES 0x20000000u
#define SHAPE_POPS 0x1FFFFFFFu
enum { SHAPE_METHODDEF, SHAPE_MEMBERREF, SHAPE_METHODSPEC, SHAPE_SIG, SHAPE_TABLES };

/* What a worker keeps per module: the module's metadata importer and IMethodMalloc,
 * asked for once (a reference per method would have every JIT thread count up and down
 * on the same two objects), and the call shapes. */
typedef struct module_state {
    ModuleID module;
    IMetaDataImport *md;
    IMethodMalloc *alloc;         /* NULL until the first rewrite in the module */
    LPCBYTE base;                 /* the module's base, for the log (once asked for) */
    bool have_base;
    uint32_t *rows[SHAPE_TABLES]; /* call shapes by rid; grown on demand */
    uint32_t caps[SHAPE_TABLES];
    bool noted;                   /* the method table knows the module has entries */
} module_state;

typedef struct plugin plugin;

/* A rule's "action(how)" for the log, and the how it was made for. */
typedef struct action_text {
    const char *how;
    size_t len;
    char text[128];
} action_text;

/* One JIT thread's state: scratch bodies, the output buffer, caches and counters. Only
 * its thread touches it, so the JIT path takes no lock: CoreCLR compiles on many
 * threads at once, and one plugin-wide lock would serialise them all. A thread that
 * exits gives its worker back (the key's destructor) for the next new thread. */
typedef struct worker {
    plugin *p;
    struct worker *next;       /* every worker of the plugin (p->lock) */
    struct worker *next_free;  /* workers of exited threads (p->lock) */
    size_t forgotten;          /* entries of p->forget applied to the caches */
    ilg_body *body;
    ilg_body *snippet;         /* the rules' snippets, reused */
    ilg_buffer out;
    probe_cache *probes;
    size_t probe_count, probe_cap;
    /* The JIT tends to compile a type's methods one after another: the last owner's
     * name saves three metadata calls per method. */
    ModuleID name_module;
    mdTypeDef name_owner;
    char owner_name[NAME_CAP];
    size_t owner_len, owner_simple; /* its length, and where it is without the namespace */
    module_state *modules;
    size_t module_count, module_cap, module_last;
    /* The job's scratch (the JIT path fills each before use: zeroing 4.3 KB of names
     * per call was a fifth of rewrite()'s own time): the method's names and actions,
     * and for the rewrite log the original offsets and the line, both grown on demand. */
    char full[FULL_CAP], simple[FULL_CAP], actions[256];
    uint32_t *old_offsets;
    size_t old_offsets_cap;
    char *line;
    size_t line_cap;
    action_text *acts; /* per rule: its last "action(how)" text */
    /* Written by the owner only, read by Shutdown: relaxed atomics (plain moves).
     * jit counts events, methods the distinct methods among them (the first event of
     * each), recompiles the events for methods handled before, restored those that
     * found another body than the one installed and set it again. */
    atomic_ulong jit, methods, matched, rewritten, failed, skipped, recompiles, restored;
} worker;

#define COUNT(w, field)                                                                    \
    atomic_store_explicit(&(w)->field, atomic_load_explicit(&(w)->field, memory_order_relaxed) + 1, \
                          memory_order_relaxed)

struct plugin {
    ICorProfilerCallback3 ICorProfilerCallback3_iface;
    atomic_ulong refs;
    ICorProfilerInfo3 *info;
    ilg__plugin_rules rules;
    ilg__plugin_log *log;      /* ILGRAFT_LOG (appended to) or stderr */
    bool log_opened;
    bool log_rewrites;         /* ILGRAFT_LOG_LEVEL is not "failures" */
    bool names_needed;         /* a rule matches by name, or rewrites are logged */
    bool simple_needed;        /* a rule matches by name: "Type::Method" too */
    pthread_key_t key;         /* this thread's worker */
    bool have_key;
    pthread_mutex_t lock;      /* guards the worker lists and the forget log */
    worker *workers, *free_workers;
    /* ModuleIDs whose caches must go (a loaded module may reuse an unloaded one's id):
     * appended by ModuleLoadFinished, applied by each worker before its next method.
     * forget_count is read without the lock (acquire) on every JIT callback. */
    ModuleID *forget;
    size_t forget_cap;
    _Atomic size_t forget_count;
    ilg__plugin_methods *methods; /* what every method got the first time */
    size_t *probe_of;             /* per rule: the first rule with the same probe */
    /* Probes looked up so far, plugin-wide, so that a missing probe is logged once per
     * module however many threads ask (each worker keeps its own copy in front). */
    pthread_mutex_t probe_lock;
    probe_cache *probes;
    size_t probe_count, probe_cap;
};
static plugin *impl_from_ICorProfilerCallback3(ICorProfilerCallback3 *iface)
{
    return (plugin *)((char *)iface - offsetof(plugin, ICorProfilerCallback3_iface));
}

/* "ilgraft-plugin: " and the formatted text as one line of the log; now: written out
 * at once (log.c). */
static void vplog(plugin *p, bool now, const char *fmt, va_list ap)
{
    static const char prefix[] = "ilgraft-plugin: ";
    const size_t pn = sizeof prefix - 1;
    char small[1024], *line = small;
    va_list again;
    va_copy(again, ap);
    memcpy(small, prefix, pn);
    int n = vsnprintf(small + pn, sizeof small - pn - 1, fmt, ap);
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len >= sizeof small - pn - 1) {
        if ((line = malloc(pn + len + 2)) != NULL) {
            memcpy(line, prefix, pn);
            vsnprintf(line + pn, len + 1, fmt, again);
        } else {
            line = small; /* cut to what fitted */
            len = sizeof small - pn - 2;
        }
    }
    va_end(again);
    line[pn + len] = '\n';
    ilg__plugin_log_write(p->log, line, pn + len + 1, now);
    if (line != small)
        free(line);
}

/* A line written out at once: set-up, failures, missing probes, the summary. */
static void plog(plugin *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void plog(plugin *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vplog(p, true, fmt, ap);
    va_end(ap);
}

/* A line that may wait in the log's buffer (the rewrites level). */
static void plog_later(plugin *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void plog_later(plugin *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vplog(p, false, fmt, ap);
    va_end(ap);
}

/* ---- names -------------------------------------------------------------------------- */

/* UTF-16 (up to n units or a NUL) to UTF-8, cut to cap; returns the length. */
static size_t to_utf8(const WCHAR *w, size_t n, char *out, size_t cap)
{
    return ilg__utf16_to_utf8(w, n, out, cap, NULL);
}

/* The first n bytes of s (UTF-8) to UTF-16 for the metadata API, cut to cap. */
static void to_wide(const char *s, size_t n, WCHAR *out, size_t cap)
{
    ilg__utf8_to_utf16(s, n, out, cap);
}

/* "Ns.Type" (nested: "Ns.Outer/Inner") of a TypeDef. The runtime's metadata is
 * trusted no further than 64 levels of nesting (a cycle would recurse for ever). */
static void type_name(IMetaDataImport *md, mdTypeDef td, char *out, size_t cap, int depth)
{
    WCHAR name[NAME_CAP];
    ULONG len = 0;
    mdTypeDef outer = 0;
    size_t n = 0;
    if (depth > 64) {
        snprintf(out, cap, "?");
        return;
    }
    if (RidFromToken(td) == 1 || md->lpVtbl->GetTypeDefProps(md, td, name, NAME_CAP, &len, NULL,
                                                               NULL) != S_OK) {
        snprintf(out, cap, "<Module>");
        return;
    }
    if (md->lpVtbl->GetNestedClassProps(md, td, &outer) == S_OK && outer && outer != td) {
        type_name(md, outer, out, cap, depth + 1);
        n = strlen(out);
        if (n + 1 < cap)
            out[n++] = '/';
        else
            n = 0; /* no room left: the type's own name alone */
    }
    to_utf8(name, len, out + n, cap - n);
}

/* ---- signatures (ECMA-335 II.23.2) -------------------------------------------------- */

/* Method signature: argument count (with `this`), has_this, where the return type
 * lies. False when malformed. */
typedef struct method_shape {
    uint32_t pops;
    bool has_this, returns;
    size_t ret_start, ret_end;
} method_shape;

static bool parse_method_sig(const uint8_t *sig, size_t len, method_shape *m)
{
    ilg_sig_cur s = { sig, sig + len };
    uint8_t conv = 0;
    uint32_t g, n, tok;
    if (len < 2 || !ilg__sig_u8(&s, &conv) || (conv & ILG_SIG_KIND_MASK) == ILG_SIG_FIELD ||
        (conv & ILG_SIG_KIND_MASK) == ILG_SIG_LOCAL)
        return false;
    if (((conv & ILG_SIG_GENERIC) && !ilg__sig_uint(&s, &g)) || !ilg__sig_uint(&s, &n))
        return false;
    m->has_this = (conv & ILG_SIG_HASTHIS) != 0;
    m->pops = n + (m->has_this && !(conv & ILG_SIG_EXPLICITTHIS) ? 1 : 0);
    m->ret_start = (size_t)(s.p - sig);
    ilg_sig_cur t = s; /* past the return type's modifiers: is it void? */
    while (t.p < t.end && (*t.p == ILG_ET_CMOD_REQD || *t.p == ILG_ET_CMOD_OPT))
        if (t.p++, !ilg__sig_uint(&t, &tok))
            return false;
    if (t.p >= t.end)
        return false;
    m->returns = *t.p != ILG_ET_VOID;
    if (!ilg__sig_skip_type(&s, 0, SIG_MAX_DEPTH, NULL))
        return false;
    m->ret_end = (size_t)(s.p - sig);
    return true;
}

static ilg_status lookup_shape(IMetaDataImport *md, uint32_t token, uint32_t *pops,
                               bool *has_this, bool *pushes)
{
    PCCOR_SIGNATURE sig = NULL;
    ULONG sig_len = 0;
    HRESULT hr = E_FAIL;
    switch (TypeFromToken(token)) {
    case mdtMethodDef:
        hr = md->lpVtbl->GetMethodProps(md, token, NULL, NULL, 0, NULL, NULL, &sig, &sig_len, NULL,
                                        NULL);
        break;
    case mdtMemberRef:
        hr = md->lpVtbl->GetMemberRefProps(md, token, NULL, NULL, 0, NULL, &sig, &sig_len);
        break;
    case mdtSignature:
        hr = md->lpVtbl->GetSigFromToken(md, token, &sig, &sig_len);
        break;
    case mdtMethodSpec: {
        IMetaDataImport2 *md2 = NULL;
        mdToken parent = 0;
        if (md->lpVtbl->QueryInterface(md, &IID_IMetaDataImport2, (void **)&md2) != S_OK || !md2)
            break;
        hr = md2->lpVtbl->GetMethodSpecProps(md2, token, &parent, NULL, NULL);
        md2->lpVtbl->Release(md2);
        if (hr == S_OK && TypeFromToken(parent) != mdtMethodSpec)
            return lookup_shape(md, parent, pops, has_this, pushes);
        hr = E_FAIL;
        break;
    }
    default:
        break;
    }
    method_shape m;
    if (hr != S_OK || !sig || !parse_method_sig(sig, sig_len, &m))
        return ilg__fail(ILG_E_IL_STACK_UNKNOWN, ILG_WHERE_NONE, 0,
                         "no call signature for token 0x%08x (0x%08x)", (unsigned)token,
                         (unsigned)hr);
    *pops = m.pops;
    *has_this = m.has_this;
    *pushes = m.returns;
    return ILG_OK;
}

/* Drops a module's state (its ModuleID may be reused by a later module). */
static void module_state_free(module_state *m)
{
    if (m->md)
        m->md->lpVtbl->Release(m->md);
    if (m->alloc)
        m->alloc->lpVtbl->Release(m->alloc);
    for (int t = 0; t < SHAPE_TABLES; t++)
        free(m->rows[t]);
}

/* The worker's state for module (its importer asked for on first use); NULL when the
 * runtime gives no importer or memory is short. The pointer lasts until the next call. */
static module_state *module_state_get(worker *w, ModuleID module)
{
    if (w->module_last < w->module_count && w->modules[w->module_last].module == module)
        return &w->modules[w->module_last];
    for (size_t i = 0; i < w->module_count; i++)
        if (w->modules[i].module == module) {
            w->module_last = i;
            return &w->modules[i];
        }
    if (ilg__grow_size((void **)&w->modules, &w->module_cap, w->module_count + 1, sizeof *w->modules) != ILG_OK)
        return NULL;
    IUnknown *unk = NULL;
    ICorProfilerInfo3 *info = w->p->info;
    if (info->lpVtbl->GetModuleMetaData(info, module, ofRead, &IID_IMetaDataImport, &unk) != S_OK ||
        !unk)
        return NULL;
    w->module_last = w->module_count;
    module_state *m = &w->modules[w->module_count++];
    memset(m, 0, sizeof *m);
    m->module = module;
    m->md = (IMetaDataImport *)unk;
    return m;
}

static void module_state_forget(worker *w, ModuleID module)
{
    for (size_t i = 0; i < w->module_count; i++)
        if (w->modules[i].module == module) {
            module_state_free(&w->modules[i]);
            w->modules[i] = w->modules[--w->module_count];
            w->module_last = 0;
            return;
        }
}

/* The cache slot of token's shape in module m, grown to hold it; NULL when the token
 * kind is not cached or memory is short (the shape is then looked up every time). */
static uint32_t *shape_slot(module_state *m, uint32_t token)
{
    int t;
    switch (TypeFromToken(token)) {
    case mdtMethodDef: t = SHAPE_METHODDEF; break;
    case mdtMemberRef: t = SHAPE_MEMBERREF; break;
    case mdtMethodSpec: t = SHAPE_METHODSPEC; break;
    case mdtSignature: t = SHAPE_SIG; break;
    default: return NULL;
    }
    uint32_t rid = RidFromToken(token);
    if (rid >= m->caps[t]) {
        const uint32_t old = m->caps[t];
        if (ilg__grow((void **)&m->rows[t], &m->caps[t], rid < 256 ? 256 : (uint64_t)rid + 1,
                      sizeof *m->rows[t]) != ILG_OK)
            return NULL;
        memset(m->rows[t] + old, 0, (size_t)(m->caps[t] - old) * sizeof *m->rows[t]);
    }
    return &m->rows[t][rid];
}

static ilg_status call_shape(void *ctx, uint32_t token, uint32_t *pops, bool *has_this,
                             bool *pushes)
{
    module_state *m = ctx;
    uint32_t *slot = shape_slot(m, token);
    if (slot && (*slot & SHAPE_KNOWN)) {
        *pops = *slot & SHAPE_POPS;
        *has_this = (*slot & SHAPE_THIS) != 0;
        *pushes = (*slot & SHAPE_PUSHES) != 0;
        return ILG_OK;
    }
    ilg_status st = lookup_shape(m->md, token, pops, has_this, pushes);
    if (st == ILG_OK && slot && *pops <= SHAPE_POPS)
        *slot = SHAPE_KNOWN | (*has_this ? SHAPE_THIS : 0) | (*pushes ? SHAPE_PUSHES : 0) | *pops;
    return st;
}

/* Index of the first local whose type is the method's return type (not pinned), or
 * ILG_NO_LOCAL. Overwriting it on the way out is safe: it is never read again. */
static uint32_t local_of_type(IMetaDataImport *md, uint32_t local_sig, const uint8_t *msig,
                              const method_shape *m)
{
    PCCOR_SIGNATURE sig = NULL;
    ULONG len = 0;
    uint32_t n;
    uint8_t conv;
    if (!local_sig || md->lpVtbl->GetSigFromToken(md, local_sig, &sig, &len) != S_OK || len < 2)
        return ILG_NO_LOCAL;
    ilg_sig_cur s = { sig, sig + len };
    if (!ilg__sig_u8(&s, &conv) || conv != ILG_SIG_LOCAL || !ilg__sig_uint(&s, &n))
        return ILG_NO_LOCAL;
    const size_t want = m->ret_end - m->ret_start;
    for (uint32_t i = 0; i < n && s.p < s.end; i++) {
        const uint8_t *start = s.p;
        if (!ilg__sig_skip_type(&s, 0, SIG_MAX_DEPTH, NULL))
            return ILG_NO_LOCAL;
        if ((size_t)(s.p - start) == want && memcmp(start, msig + m->ret_start, want) == 0)
            return i;
    }
    return ILG_NO_LOCAL;
}

/* ---- probes ------------------------------------------------------------------------- */

/* static void(): DEFAULT, 0 parameters, VOID. */
static const COR_SIGNATURE void_sig[] = { ILG_SIG_DEFAULT, 0, ILG_ET_VOID };

/* The TypeDef of "Ns.Outer/Inner" in md: each '/' one level of nesting, looked up by its
 * own name within the enclosing type (a nested type has no namespace of its own). 0,
 * with why saying which level is missing, when there is none. */
static mdTypeDef find_probe_type(IMetaDataImport *md, const char *path, char *why, size_t cap)
{
    WCHAR wname[NAME_CAP];
    mdTypeDef td = 0;
    for (const char *seg = path;;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        mdTypeDef enclosing = td;
        to_wide(seg, n, wname, NAME_CAP);
        if (!n || md->lpVtbl->FindTypeDefByName(md, wname, enclosing, &td) != S_OK) {
            if (enclosing)
                snprintf(why, cap, "no type %.*s nested in %.*s", (int)n, seg,
                         (int)(seg - 1 - path), path);
            else
                snprintf(why, cap, "no type %.*s", (int)n, seg);
            return 0;
        }
        if (!slash)
            return td;
        seg = slash + 1;
    }
}

/* Rule r's probe in md, a static void() method, or 0 with why saying what is missing:
 * the type (or a nesting level), the method, or the signature (the method's is shown). */
static mdMethodDef resolve_probe(IMetaDataImport *md, const ilg__plugin_rule *r, char *why,
                                 size_t cap)
{
    WCHAR wname[NAME_CAP];
    mdMethodDef mb = 0;
    PCCOR_SIGNATURE sig = NULL;
    ULONG len = 0;
    mdTypeDef td = find_probe_type(md, r->probe_type, why, cap);
    if (!td)
        return 0;
    to_wide(r->probe_method, strlen(r->probe_method), wname, NAME_CAP);
    if (md->lpVtbl->FindMethod(md, td, wname, void_sig, sizeof void_sig, &mb) == S_OK)
        return mb;
    if (md->lpVtbl->FindMethod(md, td, wname, NULL, 0, &mb) != S_OK ||
        md->lpVtbl->GetMethodProps(md, mb, NULL, NULL, 0, NULL, NULL, &sig, &len, NULL, NULL) !=
            S_OK ||
        !sig) {
        snprintf(why, cap, "no method %s in %s", r->probe_method, r->probe_type);
        return 0;
    }
    char hex[3 * 16 + 4] = "";
    size_t o = 0;
    for (ULONG i = 0; i < len && i < 16; i++)
        o += (size_t)snprintf(hex + o, sizeof hex - o, "%s%02x", i ? " " : "", sig[i]);
    if (len > 16)
        snprintf(hex + o, sizeof hex - o, " ...");
    snprintf(why, cap, "%s::%s (0x%08x) has signature %s, not static void() (00 00 01)",
             r->probe_type, r->probe_method, (unsigned)mb, hex);
    return 0;
}

/* Drops the module's entries from a list of looked-up probes. */
static void probe_drop(probe_cache *items, size_t *count, ModuleID module)
{
    size_t kept = 0;
    for (size_t i = 0; i < *count; i++)
        if (items[i].module != module)
            items[kept++] = items[i];
    *count = kept;
}

static bool probe_push(probe_cache **items, size_t *count, size_t *cap, probe_cache c)
{
    if (ilg__grow_size((void **)items, cap, *count + 1, sizeof **items) != ILG_OK)
        return false;
    (*items)[(*count)++] = c;
    return true;
}

/* Rule ri's probe in module mod (0: none there). The worker's copy, else the plugin's
 * list, else looked up; a probe that is not there is logged then, once per module, with
 * the reason: its rules skip the module, and the log must say why. */
static mdMethodDef find_probe(worker *w, IMetaDataImport *md, ModuleID mod, size_t ri)
{
    plugin *p = w->p;
    size_t id = p->probe_of[ri];
    for (size_t i = 0; i < w->probe_count; i++)
        if (w->probes[i].module == mod && w->probes[i].probe == id)
            return w->probes[i].token;
    probe_cache found = { mod, id, 0 };
    bool known = false;
    pthread_mutex_lock(&p->probe_lock);
    for (size_t i = 0; i < p->probe_count && !known; i++)
        if (p->probes[i].module == mod && p->probes[i].probe == id) {
            found = p->probes[i];
            known = true;
        }
    if (!known) {
        const ilg__plugin_rule *r = &p->rules.items[id];
        char why[512], name[NAME_CAP] = "";
        WCHAR wname[NAME_CAP];
        ULONG len = 0;
        found.token = resolve_probe(md, r, why, sizeof why);
        if (!found.token) {
            if (p->info->lpVtbl->GetModuleInfo(p->info, mod, NULL, NAME_CAP, &len, wname, NULL) ==
                S_OK)
                to_utf8(wname, len, name, sizeof name);
            plog(p, "probe %s::%s not found in %s%s (module 0x%llx): %s; rules with this probe "
                    "skip the module",
                 r->probe_type, r->probe_method, name, name[0] ? "" : "a module without a name",
                 (unsigned long long)mod, why);
        }
        probe_push(&p->probes, &p->probe_count, &p->probe_cap, found);
    }
    pthread_mutex_unlock(&p->probe_lock);
    probe_push(&w->probes, &w->probe_count, &w->probe_cap, found);
    return found.token;
}

/* ---- the rewrite -------------------------------------------------------------------- */

/* One method's first compilation, from its name to its new body. */
typedef struct job {
    worker *w;
    module_state *ms;
    mdMethodDef tok;
    mdTypeDef owner;
    PCCOR_SIGNATURE msig;
    ULONG sig_len;
    LPCBYTE header;         /* the body GetILFunctionBody gave: the original */
    ULONG size;
    method_shape shape;
    bool have_shape, edited, replaced;
    ilg_stack_resolver resolver;
    uint32_t old_count;
    /* The worker's: "" until named; the actions' list for the log (log_rewrites). */
    char *full, *simple, *actions;
    size_t full_len, actions_len;
    bool in_front; /* the edit only inserts in front: the map needs no tags */
} job;

/* "Ns.Type::Method" and "Type::Method" into full and simple (each FULL_CAP; simple may
 * be NULL), returning full's length,
 * from the method's name as GetMethodProps gave it (wname, len) and its owner's name,
 * which the worker keeps for the next method of the same type. */
static size_t method_names(worker *w, IMetaDataImport *md, ModuleID mod, mdTypeDef owner,
                           const WCHAR *wname, ULONG len, char *full, char *simple)
{
    if (mod != w->name_module || owner != w->name_owner) {
        type_name(md, owner, w->owner_name, sizeof w->owner_name, 0);
        w->owner_len = strlen(w->owner_name);
        const char *dot = strrchr(w->owner_name, '.');
        w->owner_simple = dot ? (size_t)(dot + 1 - w->owner_name) : 0;
        w->name_module = mod;
        w->name_owner = owner;
    }
    /* The owner's name is shorter than NAME_CAP, the method's is cut there. */
    size_t t = w->owner_len;
    memcpy(full, w->owner_name, t);
    full[t] = full[t + 1] = ':';
    size_t n = t + 2 + to_utf8(wname, len, full + t + 2, NAME_CAP);
    if (simple)
        memcpy(simple, full + w->owner_simple, n - w->owner_simple + 1);
    return n;
}

/* The method's full name into full (FULL_CAP), "?" when the metadata has none. */
static void name_method(worker *w, module_state *ms, mdMethodDef tok, char *full)
{
    WCHAR wname[NAME_CAP];
    ULONG len = 0;
    mdTypeDef owner = 0;
    if (ms->md->lpVtbl->GetMethodProps(ms->md, tok, &owner, wname, NAME_CAP, &len, NULL, NULL,
                                       NULL, NULL, NULL) == S_OK)
        method_names(w, ms->md, ms->module, owner, wname, len, full, NULL);
    else
        snprintf(full, FULL_CAP, "?");
}

/* ---- the rewrite line ----------------------------------------------------------- */

/* The rewrite log writes a line per method (24,395 for Mono's mscorlib): formatted by
 * hand, snprintf per field was most of a logged run. */

/* A string literal's bytes, its length known at compile time. */
#define PUT_LIT(o, lit) (memcpy((o), (lit), sizeof(lit) - 1), (o) + sizeof(lit) - 1)

/* Every byte's two lowercase hex digits, so that hex goes out a byte at a time. */
#define HEX_PAIR(x) "0123456789abcdef"[(x) >> 4], "0123456789abcdef"[(x) & 15]
#define HEX_PAIRS16(h) HEX_PAIR(h + 0), HEX_PAIR(h + 1), HEX_PAIR(h + 2), HEX_PAIR(h + 3), \
    HEX_PAIR(h + 4), HEX_PAIR(h + 5), HEX_PAIR(h + 6), HEX_PAIR(h + 7), HEX_PAIR(h + 8),   \
    HEX_PAIR(h + 9), HEX_PAIR(h + 10), HEX_PAIR(h + 11), HEX_PAIR(h + 12),                 \
    HEX_PAIR(h + 13), HEX_PAIR(h + 14), HEX_PAIR(h + 15)
static const char hex_pairs[512] = {
    HEX_PAIRS16(0x00), HEX_PAIRS16(0x10), HEX_PAIRS16(0x20), HEX_PAIRS16(0x30),
    HEX_PAIRS16(0x40), HEX_PAIRS16(0x50), HEX_PAIRS16(0x60), HEX_PAIRS16(0x70),
    HEX_PAIRS16(0x80), HEX_PAIRS16(0x90), HEX_PAIRS16(0xA0), HEX_PAIRS16(0xB0),
    HEX_PAIRS16(0xC0), HEX_PAIRS16(0xD0), HEX_PAIRS16(0xE0), HEX_PAIRS16(0xF0),
};

/* Lowercase hex of v with at least min digits, as printf's %0*llx. */
static char *put_hex(char *o, uint64_t v, int min)
{
    int n = (64 - __builtin_clzll(v | 1) + 3) / 4;
    if (n < min)
        n = min;
    char *end = o + n, *d = end;
    for (; d - o >= 2; v >>= 8) {
        d -= 2;
        memcpy(d, hex_pairs + 2 * (v & 0xFF), 2);
    }
    if (d > o)
        *o = "0123456789abcdef"[v & 0xF];
    return end;
}

/* %04x: the offsets of all but the largest bodies, two table lookups. */
static inline char *put_hex4(char *o, uint32_t v)
{
    if (v > 0xFFFF)
        return put_hex(o, v, 4);
    memcpy(o, hex_pairs + 2 * (v >> 8), 2);
    memcpy(o + 2, hex_pairs + 2 * (v & 0xFF), 2);
    return o + 4;
}

/* %08x: a token. */
static inline char *put_hex8(char *o, uint32_t v)
{
    memcpy(o, hex_pairs + 2 * (v >> 24), 2);
    memcpy(o + 2, hex_pairs + 2 * ((v >> 16) & 0xFF), 2);
    memcpy(o + 4, hex_pairs + 2 * ((v >> 8) & 0xFF), 2);
    memcpy(o + 6, hex_pairs + 2 * (v & 0xFF), 2);
    return o + 8;
}

/* Every number under 100 as its two decimal digits. */
#define DEC_PAIR(x) (char)('0' + (x) / 10), (char)('0' + (x) % 10)
#define DEC_PAIRS10(t) DEC_PAIR(t + 0), DEC_PAIR(t + 1), DEC_PAIR(t + 2), DEC_PAIR(t + 3),    \
    DEC_PAIR(t + 4), DEC_PAIR(t + 5), DEC_PAIR(t + 6), DEC_PAIR(t + 7), DEC_PAIR(t + 8),       \
    DEC_PAIR(t + 9)
static const char dec_pairs[200] = {
    DEC_PAIRS10(0),  DEC_PAIRS10(10), DEC_PAIRS10(20), DEC_PAIRS10(30), DEC_PAIRS10(40),
    DEC_PAIRS10(50), DEC_PAIRS10(60), DEC_PAIRS10(70), DEC_PAIRS10(80), DEC_PAIRS10(90),
};

/* Decimal, as printf's %llu (body sizes: nearly always under 10,000), two digits at a
 * time from the end. */
static char *put_dec(char *o, uint64_t v)
{
    int n = 1;
    for (uint64_t rest = v; rest >= 10; rest /= 10)
        n++;
    char *end = o + n, *d = end;
    for (; v >= 100; v /= 100) {
        d -= 2;
        memcpy(d, dec_pairs + 2 * (v % 100), 2);
    }
    if (v >= 10)
        memcpy(d - 2, dec_pairs + 2 * v, 2);
    else
        d[-1] = (char)('0' + v);
    return end;
}

/* "[-]0xHEX+SIZE": a body's position relative to the module base, and its size. */
static char *put_position(char *o, ptrdiff_t rel, uint64_t size)
{
    if (rel < 0)
        *o++ = '-';
    o = PUT_LIT(o, "0x");
    o = put_hex(o, rel < 0 ? (uint64_t)0 - (uint64_t)rel : (uint64_t)rel, 1);
    *o++ = '+';
    return put_dec(o, size);
}

/* One run of the offset map: "FIRST->NEW" for one instruction, "FIRST-LAST->NEW" for
 * several (docs/profiler.md, Log). */
static char *put_run(char *o, bool comma, uint32_t first, uint32_t last, uint32_t to)
{
    if (comma)
        *o++ = ',';
    o = put_hex4(o, first);
    if (last != first) {
        *o++ = '-';
        o = put_hex4(o, last);
    }
    *o++ = '-';
    *o++ = '>';
    return put_hex4(o, to);
}
#define RUN_MAX 32 /* ",FFFFFFFF-FFFFFFFF->FFFFFFFF" */

#ifdef __SSE2__
_Static_assert(sizeof(ilg_instr) == 16 && offsetof(ilg_instr, offset) == 0,
               "offsets4 reads each instruction's offset as its first word");
/* The offsets of in[0..3] as one vector. */
static inline __m128i offsets4(const ilg_instr *in)
{
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)in);
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(in + 1));
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(in + 2));
    __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(in + 3));
    return _mm_unpacklo_epi64(_mm_unpacklo_epi32(a, b), _mm_unpacklo_epi32(c, d));
}
#endif

/* The offsets of in[0..n) into old (an entry probe's map reads each of the 583,546
 * instructions of mscorlib twice: here, and in run_end). */
static void copy_offsets(uint32_t *restrict old, const ilg_instr *restrict in, uint32_t n)
{
    uint32_t i = 0;
#ifdef __SSE2__
    for (; i + 4 <= n; i += 4)
        _mm_storeu_si128((__m128i *)(void *)(old + i), offsets4(in + i));
#endif
    for (; i < n; i++)
        old[i] = in[i].offset;
}

/* The first i from i on (up to n) at which in[i] no longer starts shift bytes after
 * old[i]: where a run of instructions moved together ends. */
static uint32_t run_end(const ilg_instr *in, const uint32_t *old, uint32_t i, uint32_t n,
                        uint32_t shift)
{
#ifdef __SSE2__
    const __m128i want = _mm_set1_epi32((int)shift);
    for (; i + 4 <= n; i += 4) {
        __m128i moved = _mm_sub_epi32(offsets4(in + i),
                                      _mm_loadu_si128((const __m128i *)(const void *)(old + i)));
        unsigned same = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi32(moved, want));
        if (same != 0xFFFF) /* four mask bits per instruction: the first that moved else */
            return i + (unsigned)__builtin_ctz(~same) / 4;
    }
#endif
    while (i < n && in[i].offset - old[i] == shift)
        i++;
    return i;
}

/* The offset map: where each original instruction that survived now starts, from the
 * tags (instr.reserved = original index + 1) the editor carries along, as runs of
 * instructions that follow each other in the original and moved by the same amount
 * (an entry probe moves them all: one run). Needs RUN_MAX per new instruction, plus 4. */
static __attribute__((noinline)) char *put_offsets(char *o, const ilg_body *b,
                                                    const uint32_t *old, uint32_t old_count)
{
    const char *start = o;
    /* The current run starts at first and moves by shift (mod 2^32); next is the tag that
     * would continue it (NO_RUN: none yet; no tag is that large). */
    enum { NO_RUN = 0xFFFFFFFFu };
    uint32_t first = 0, shift = 0, next = NO_RUN;
    for (const ilg_instr *in = b->instrs, *end = in + b->count; in < end; in++) {
        uint32_t tag = in->reserved;
        if (tag == next && in->offset - old[tag - 1] == shift) {
            next++;
            continue;
        }
        if (tag - 1 >= old_count) /* not an original instruction (tag 0) */
            continue;
        if (next != NO_RUN)
            o = put_run(o, o != start, first, old[next - 2], first + shift);
        first = old[tag - 1];
        shift = in->offset - first;
        next = tag + 1;
    }
    if (next != NO_RUN)
        o = put_run(o, o != start, first, old[next - 2], first + shift);
    /* Tags are 16 bits: the instructions past the 65,535th are not followed. */
    if (old_count > 0xFFFF)
        o = o != start ? PUT_LIT(o, ",...") : PUT_LIT(o, "...");
    return o;
}

/* The offset map when the edit only inserted in front of the original instructions or
 * changed them in place: they are the body's last old_count, in order. */
static __attribute__((noinline)) char *put_offsets_in_front(char *o, const ilg_body *b,
                                                             const uint32_t *old,
                                                             uint32_t old_count)
{
    const char *start = o;
    if (b->count < old_count) /* not an insertion after all: cannot tell */
        return PUT_LIT(o, "?");
    const ilg_instr *in = b->instrs + (b->count - old_count);
    for (uint32_t i = 0; i < old_count;) {
        uint32_t first = i, shift = in[i].offset - old[i];
        i = run_end(in, old, i + 1, old_count, shift);
        o = put_run(o, o != start, old[first], old[i - 1], old[first] + shift);
    }
    return o;
}

/* A failed rewrite: counted and logged with the method's full name, which is made here
 * when the rewrite did not need it. The reason is formatted first: naming calls the
 * metadata API, which may replace the diagnostic the reason quotes. */
static void job_fail(job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void job_fail(job *j, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    COUNT(j->w, failed);
    if (!j->full[0])
        name_method(j->w, j->ms, j->tok, j->full);
    plog(j->w->p, "FAIL %s (0x%08x): %s", j->full, (unsigned)j->tok, why);
}

/* Names the method and counts the rules that match it. When every rule matches "*" and
 * no rewrite is logged, the name is only needed for a failure, and is made then: naming
 * was a sixth of the work of a probe run. */
static size_t job_match(job *j)
{
    plugin *p = j->w->p;
    IMetaDataImport *md = j->ms->md;
    WCHAR wname[NAME_CAP];
    ULONG len = 0;
    const bool named = p->names_needed;
    if (md->lpVtbl->GetMethodProps(md, j->tok, &j->owner, named ? wname : NULL,
                                   named ? NAME_CAP : 0, named ? &len : NULL, NULL, &j->msig,
                                   &j->sig_len, NULL, NULL) != S_OK)
        return 0;
    if (!named)
        return p->rules.count;
    j->full_len = method_names(j->w, md, j->ms->module, j->owner, wname, len, j->full,
                               p->simple_needed ? j->simple : NULL);
    size_t matched = 0;
    for (size_t i = 0; i < p->rules.count; i++)
        matched += ilg__plugin_rule_matches(&p->rules.items[i], j->full, j->simple);
    return matched;
}

/* Appends "[,]NAME(HOW)" for rule ri to the job's action list, cut at its end as
 * snprintf would cut it. The worker keeps each rule's last text ("how" is one of a few
 * static strings): formatting it for every method was 2% of a logged run. */
static void log_action(job *j, size_t ri, const char *how)
{
    worker *w = j->w;
    const size_t cap = sizeof w->actions;
    if (!w->acts && !(w->acts = calloc(w->p->rules.count, sizeof *w->acts)))
        return;
    action_text *t = &w->acts[ri];
    if (t->how != how) {
        const char *parts[] = { ilg__plugin_action_name(w->p->rules.items[ri].action), "(",
                                how, ")" };
        size_t n = 0;
        for (size_t i = 0; i < ILG_ARRAY_LEN(parts); i++)
            for (const char *c = parts[i]; *c && n + 1 < sizeof t->text; c++)
                t->text[n++] = *c;
        t->len = n;
        t->how = how;
    }
    size_t len = j->actions_len;
    if (len && len + 1 < cap)
        j->actions[len++] = ',';
    size_t n = t->len < cap - 1 - len ? t->len : cap - 1 - len;
    memcpy(j->actions + len, t->text, n);
    j->actions_len = len + n;
    j->actions[j->actions_len] = 0;
}

/* Applies rule r to the decoded body; false after logging a failure. A probe rule
 * whose probe the module lacks, or that would go into a probe (probes calling probes
 * would recurse), is skipped: counted, not an error. */
static bool job_rule(job *j, size_t ri, bool is_probe, bool *applied)
{
    worker *w = j->w;
    const ilg__plugin_rule *r = &w->p->rules.items[ri];
    ilg__plugin_env env = { &j->resolver, 0, ILG_NO_LOCAL, j->have_shape && j->shape.returns,
                            w->snippet };
    if (r->action == ILG__ACT_PROBE_ENTRY || r->action == ILG__ACT_PROBE_EXIT) {
        env.probe_token = find_probe(w, j->ms->md, j->ms->module, ri);
        if (!env.probe_token || is_probe) {
            COUNT(w, skipped);
            return true;
        }
        if (r->action == ILG__ACT_PROBE_EXIT && env.returns_value)
            env.ret_local = local_of_type(j->ms->md, w->body->local_sig, j->msig, &j->shape);
    }
    const char *how = "";
    ilg_status st = ilg__plugin_apply(w->body, r, &env, &how);
    if (st != ILG_OK) {
        job_fail(j, "%s: %s: %s", ilg__plugin_action_name(r->action), ilg_status_name(st),
                 ilg_last_diag()->message);
        return false;
    }
    j->edited |= r->action != ILG__ACT_IDENTITY;
    j->replaced |= r->action == ILG__ACT_REPLACE;
    *applied = true;
    if (w->p->log_rewrites)
        log_action(j, ri, how);
    return true;
}

/* Before the edit, what the log's offset map needs: the original offsets, and unless
 * every matching rule only inserts in front (probe-entry) or edits in place (identity,
 * mutate), a tag on each instruction (instr.reserved = original index + 1) that the
 * editor carries along. Without tags the originals are, after the edit, the last
 * old_count instructions in their order: a third of the map's cost, the usual case. */
static bool job_map_begin(job *j)
{
    worker *w = j->w;
    const ilg__plugin_rules *rules = &w->p->rules;
    const uint32_t n = j->old_count;
    if (ilg__grow_size((void **)&w->old_offsets, &w->old_offsets_cap, (size_t)n + 1, sizeof *w->old_offsets) != ILG_OK) {
        job_fail(j, "no memory for the log's offset map of %u instructions", n);
        return false;
    }
    j->in_front = true;
    for (size_t i = 0; i < rules->count && j->in_front; i++)
        j->in_front = rules->items[i].action == ILG__ACT_IDENTITY ||
                      rules->items[i].action == ILG__ACT_MUTATE ||
                      rules->items[i].action == ILG__ACT_PROBE_ENTRY ||
                      !ilg__plugin_rule_matches(&rules->items[i], j->full, j->simple);
    uint32_t *restrict old = w->old_offsets;
    ilg_instr *restrict in = w->body->instrs;
    if (j->in_front) {
        copy_offsets(old, in, n);
        return true;
    }
    const uint32_t tagged = n < 0xFFFF ? n : 0xFFFF;
    for (uint32_t i = 0; i < tagged; i++) {
        old[i] = in[i].offset;
        in[i].reserved = (uint16_t)(i + 1);
    }
    for (uint32_t i = tagged; i < n; i++)
        in[i].reserved = 0; /* 16 bits: the rest are not followed */
    return true;
}

/* Decodes the original body and applies every matching rule to it, in file order.
 * False when no rule applied or a step failed (logged). */
static bool job_apply(job *j)
{
    worker *w = j->w;
    plugin *p = w->p;
    ilg_status st = ilg_body_decode(w->body, j->header, j->size);
    if (st != ILG_OK) {
        job_fail(j, "decode: %s: %s", ilg_status_name(st), ilg_last_diag()->message);
        return false;
    }
    j->old_count = w->body->count;
    if (p->log_rewrites && !job_map_begin(j))
        return false;
    j->have_shape = j->msig && parse_method_sig(j->msig, j->sig_len, &j->shape);
    j->resolver = (ilg_stack_resolver){ call_shape, j->ms,
                                        j->have_shape ? (j->shape.returns ? 1 : 0) : -1 };
    bool is_probe = false, applied = false;
    for (size_t i = 0; i < p->rules.count; i++)
        if (p->rules.items[i].action == ILG__ACT_PROBE_ENTRY ||
            p->rules.items[i].action == ILG__ACT_PROBE_EXIT)
            is_probe |= find_probe(w, j->ms->md, j->ms->module, i) == j->tok;
    for (size_t i = 0; i < p->rules.count; i++)
        if (ilg__plugin_rule_matches(&p->rules.items[i], j->full, j->simple) &&
            !job_rule(j, i, is_probe, &applied))
            return false;
    return applied;
}

/* Encodes the edited body into w->out. Identity keeps every form (an untouched body
 * comes out byte for byte). Mutations (same stack effect by construction) and probes (a
 * static void() call at depth 0, or before a ret with only the return value on the
 * stack) never deepen the stack, so a fat body keeps its declared maxstack and skips a
 * data flow pass, and so does a tiny body that still fits a tiny header (which records
 * no maxstack). A tiny body that grows past 63 bytes and a replacement (a new body) get
 * their exact maxstack; when a call's shape is unknown there, the old forms and
 * maxstack stay. */
static bool job_encode(job *j)
{
    worker *w = j->w;
    ilg_status st;
    w->out.len = 0;
    if (j->edited && !j->replaced && w->body->header == ILG_HEADER_FAT) {
        st = ilg_body_encode(w->body, ILG_ENCODE_OPTIMIZE_KEEP_MAXSTACK, NULL, &w->out);
        if (st != ILG_OK && st != ILG_E_NOMEM) {
            w->out.len = 0;
            st = ilg_body_encode(w->body, ILG_ENCODE_PRESERVE, NULL, &w->out);
        }
    } else if (j->edited) {
        /* A tiny body first as it is (maxstack 8, which a tiny header implies and does not
         * record): when the result is still tiny, those are the bytes the data flow would
         * give. */
        bool tiny_done = false;
        if (!j->replaced) {
            st = ilg_body_encode(w->body, ILG_ENCODE_OPTIMIZE_KEEP_MAXSTACK, NULL, &w->out);
            tiny_done = st == ILG_OK && w->body->header == ILG_HEADER_TINY;
        }
        if (!tiny_done) {
            w->out.len = 0;
            st = ilg_body_encode(w->body, ILG_ENCODE_OPTIMIZE, &j->resolver, &w->out);
        }
        if (st != ILG_OK && st != ILG_E_NOMEM) {
            w->out.len = 0;
            st = ilg_body_encode(w->body, ILG_ENCODE_PRESERVE, NULL, &w->out);
        }
    } else {
        st = ilg_body_encode(w->body, ILG_ENCODE_PRESERVE, NULL, &w->out);
    }
    if (st != ILG_OK) {
        job_fail(j, "encode: %s: %s", ilg_status_name(st), ilg_last_diag()->message);
        return false;
    }
    return true;
}

/* The rewrite's line, "ilgraft-plugin: rewrite FULL (0xTOKEN) ACTIONS old=[-]0xPOS+SIZE
 * new=[-]0xPOS+SIZE offsets=MAP" (docs/profiler.md, Log), composed straight in the log's
 * buffer (in the worker's when the log has none). Positions are relative to the module
 * base: under CoreCLR new bodies lie below it. */
static void log_rewrite(job *j, const uint8_t *at)
{
    worker *w = j->w;
    ICorProfilerInfo3 *info = w->p->info;
    module_state *ms = j->ms;
    size_t need = 96 + j->full_len + j->actions_len + 4 + (size_t)RUN_MAX * w->body->count;
    if (!ms->have_base)
        ms->have_base = info->lpVtbl->GetModuleInfo(info, ms->module, &ms->base, 0, NULL, NULL,
                                                    NULL) == S_OK;
    /* Straight into the log's buffer when it has one, else through the worker's. */
    char *line = ilg__plugin_log_reserve(w->p->log, need);
    if (!line) {
        if (ilg__grow_size((void **)&w->line, &w->line_cap, need, 1) != ILG_OK) {
            plog_later(w->p, "rewrite %s (0x%08x) %s (no memory for the line's offset map)",
                       j->full, (unsigned)j->tok, j->actions);
            return;
        }
        line = w->line;
    }
    char *o = PUT_LIT(line, "ilgraft-plugin: rewrite ");
    memcpy(o, j->full, j->full_len);
    o = PUT_LIT(o + j->full_len, " (0x");
    o = put_hex8(o, j->tok);
    o = PUT_LIT(o, ") ");
    memcpy(o, j->actions, j->actions_len);
    o = PUT_LIT(o + j->actions_len, " old=");
    o = put_position(o, j->header - ms->base, j->size);
    o = PUT_LIT(o, " new=");
    o = put_position(o, at - ms->base, w->out.len);
    o = PUT_LIT(o, " offsets=");
    o = j->in_front ? put_offsets_in_front(o, w->body, w->old_offsets, j->old_count)
                    : put_offsets(o, w->body, w->old_offsets, j->old_count);
    *o++ = '\n';
    if (line == w->line)
        ilg__plugin_log_write(w->p->log, line, (size_t)(o - line), false);
    else
        ilg__plugin_log_commit(w->p->log, (size_t)(o - line));
}

/* Copies w->out into the module's IMethodMalloc and installs it; the new body, or NULL
 * after logging why not. */
static const uint8_t *job_install(job *j)
{
    worker *w = j->w;
    plugin *p = w->p;
    ICorProfilerInfo3 *info = p->info;
    module_state *ms = j->ms;
    if (!ms->alloc && (info->lpVtbl->GetILFunctionBodyAllocator(info, ms->module, &ms->alloc) !=
                           S_OK ||
                       !ms->alloc))
        ms->alloc = NULL;
    if (!ms->alloc) {
        job_fail(j, "no IMethodMalloc");
        return NULL;
    }
    /* A fat header must be 4-byte aligned; the allocator promises nothing about it. */
    uint8_t *mem = ms->alloc->lpVtbl->Alloc(ms->alloc, (ULONG)w->out.len + 3);
    if (!mem) {
        job_fail(j, "IMethodMalloc::Alloc(%zu) returned NULL", w->out.len + 3);
        return NULL;
    }
    uint8_t *at = (uint8_t *)(((uintptr_t)mem + 3) & ~(uintptr_t)3);
    memcpy(at, w->out.data, w->out.len);
    HRESULT hr = info->lpVtbl->SetILFunctionBody(info, ms->module, j->tok, at);
    if (hr != S_OK) {
        job_fail(j, "SetILFunctionBody returned 0x%08x", (unsigned)hr);
        return NULL;
    }
    COUNT(w, rewritten);
    if (p->log_rewrites)
        log_rewrite(j, at);
    return at;
}

/* A method's first compilation: every matching rule applied to the IL GetILFunctionBody
 * gives now (the original) and the result installed. *body, *size: what was installed
 * (NULL, 0 when the method keeps its IL). */
static void rewrite(worker *w, module_state *ms, mdMethodDef tok, const uint8_t **body,
                    uint32_t *size)
{
    ICorProfilerInfo3 *info = w->p->info;
    job j = { .w = w, .ms = ms, .tok = tok, .full = w->full, .simple = w->simple,
              .actions = w->actions };
    w->full[0] = w->simple[0] = w->actions[0] = 0;
    *body = NULL;
    *size = 0;
    if (!job_match(&j))
        return;
    COUNT(w, matched);
    if (info->lpVtbl->GetILFunctionBody(info, ms->module, tok, &j.header, &j.size) != S_OK ||
        !j.header)
        return; /* no IL (abstract, runtime-implemented, P/Invoke) */
    if (job_apply(&j) && job_encode(&j) && (*body = job_install(&j)))
        *size = (uint32_t)w->out.len;
}

/* A later compilation of a method whose body the plugin installed (tier-up, OSR,
 * another instantiation): CoreCLR keeps the body per token, so GetILFunctionBody
 * gives it back and there is nothing to do; any other body is replaced by it again. */
static void recompiled(worker *w, module_state *ms, FunctionID fid, mdMethodDef tok,
                       const uint8_t *body, uint32_t size, bool waited)
{
    plugin *p = w->p;
    ICorProfilerInfo3 *info = p->info;
    LPCBYTE now = NULL;
    ULONG now_size = 0;
    char full[FULL_CAP];
    const char *what = "in place";
    HRESULT hr = S_OK;
    if (info->lpVtbl->GetILFunctionBody(info, ms->module, tok, &now, &now_size) != S_OK ||
        now != body) {
        hr = info->lpVtbl->SetILFunctionBody(info, ms->module, tok, body);
        if (hr == S_OK)
            COUNT(w, restored);
        else
            COUNT(w, failed);
        what = hr == S_OK ? "set again" : "lost";
    }
    if (hr == S_OK && now == body && !p->log_rewrites)
        return;
    name_method(w, ms, tok, full);
    if (hr != S_OK)
        plog(p, "FAIL %s (0x%08x): recompiled, found another body and SetILFunctionBody "
                "returned 0x%08x",
             full, (unsigned)tok, (unsigned)hr);
    else
        plog_later(p, "recompile %s (0x%08x) function 0x%llx: body (%u bytes) %s%s", full,
                   (unsigned)tok, (unsigned long long)fid, (unsigned)size, what,
                   waited ? " after waiting for another thread" : "");
}

/* JITCompilationStarted: the first compilation of a method builds its body, every later
 * one (or one on another thread meanwhile, which waits) reuses it. */
static void on_jit(worker *w, FunctionID fid)
{
    plugin *p = w->p;
    ICorProfilerInfo3 *info = p->info;
    ClassID cls = 0;
    ModuleID mod = 0;
    mdToken tok = 0;
    module_state *ms = NULL;
    const uint8_t *body = NULL;
    uint32_t size = 0;
    bool waited = false;
    COUNT(w, jit);
    if (info->lpVtbl->GetFunctionInfo(info, fid, &cls, &mod, &tok) != S_OK ||
        !(ms = module_state_get(w, mod)))
        return;
    if (!ms->noted)
        ms->noted = ilg__plugin_methods_note_module(p->methods, mod);
    switch (ilg__plugin_methods_claim(p->methods, mod, tok, &body, &size, &waited)) {
    case ILG__CLAIM_DONE:
        COUNT(w, recompiles);
        if (body)
            recompiled(w, ms, fid, tok, body, size, waited);
        break;
    case ILG__CLAIM_MINE:
        COUNT(w, methods);
        rewrite(w, ms, tok, &body, &size);
        ilg__plugin_methods_finish(p->methods, mod, tok, body, size);
        break;
    case ILG__CLAIM_NOMEM:
        /* Without an entry a later compilation would rewrite the rewrite: leave it. */
        COUNT(w, failed);
        plog(p, "FAIL function 0x%llx (0x%08x): no memory for the method table",
             (unsigned long long)fid, (unsigned)tok);
        break;
    }
}

/* ---- workers ------------------------------------------------------------------------ */

static void worker_free(worker *w)
{
    ilg_body_free(w->body);
    ilg_body_free(w->snippet);
    free(w->out.data);
    free(w->probes);
    for (size_t i = 0; i < w->module_count; i++)
        module_state_free(&w->modules[i]);
    free(w->modules);
    free(w->old_offsets);
    free(w->line);
    free(w->acts);
    free(w);
}

/* Drops what the worker cached for a module id that a new module now has. */
static void worker_forget(worker *w, ModuleID module)
{
    module_state_forget(w, module);
    probe_drop(w->probes, &w->probe_count, module);
    if (w->name_module == module)
        w->name_module = 0;
}

/* The key's destructor: the thread is gone, its worker (caches and all) waits for the
 * next new thread. */
static void worker_retire(void *v)
{
    worker *w = v;
    plugin *p = w->p;
    pthread_mutex_lock(&p->lock);
    w->next_free = p->free_workers;
    p->free_workers = w;
    pthread_mutex_unlock(&p->lock);
}

/* This thread's worker with the module ids loaded since its last method forgotten;
 * NULL when memory is short. */
static worker *worker_get(plugin *p)
{
    worker *w = pthread_getspecific(p->key);
    if (!w) {
        pthread_mutex_lock(&p->lock);
        if ((w = p->free_workers))
            p->free_workers = w->next_free;
        pthread_mutex_unlock(&p->lock);
        if (!w) {
            w = calloc(1, sizeof *w);
            if (!w)
                return NULL;
            w->p = p;
            if (ilg_body_new(&w->body) != ILG_OK || ilg_body_new(&w->snippet) != ILG_OK) {
                worker_free(w);
                return NULL;
            }
            pthread_mutex_lock(&p->lock);
            w->next = p->workers;
            p->workers = w;
            /* A new worker has nothing cached: earlier loads do not concern it. */
            w->forgotten = atomic_load(&p->forget_count);
            pthread_mutex_unlock(&p->lock);
        }
        if (pthread_setspecific(p->key, w) != 0) {
            worker_retire(w);
            return NULL;
        }
    }
    size_t n = atomic_load_explicit(&p->forget_count, memory_order_acquire);
    if (w->forgotten != n) {
        pthread_mutex_lock(&p->lock); /* the log may be reallocated by a new entry */
        for (size_t i = w->forgotten; i < n; i++)
            worker_forget(w, p->forget[i]);
        pthread_mutex_unlock(&p->lock);
        w->forgotten = n;
    }
    return w;
}

/* ---- ICorProfilerCallback3 ---------------------------------------------------------- */

static HRESULT cb_QueryInterface(ICorProfilerCallback3 *This, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (ilg_guid_equal(riid, &IID_IUnknown) || ilg_guid_equal(riid, &IID_ICorProfilerCallback) ||
        ilg_guid_equal(riid, &IID_ICorProfilerCallback2) ||
        ilg_guid_equal(riid, &IID_ICorProfilerCallback3)) {
        *ppv = This;
        This->lpVtbl->AddRef(This);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG cb_AddRef(ICorProfilerCallback3 *This)
{
    return (ULONG)atomic_fetch_add(&impl_from_ICorProfilerCallback3(This)->refs, 1) + 1;
}

static ULONG cb_Release(ICorProfilerCallback3 *This)
{
    plugin *p = impl_from_ICorProfilerCallback3(This);
    ULONG left = (ULONG)atomic_fetch_sub(&p->refs, 1) - 1;
    if (!left) {
        if (p->info)
            p->info->lpVtbl->Release(p->info);
        ilg__plugin_rules_free(&p->rules);
        /* No destructor runs for a deleted key: every worker, in use or not, goes here. */
        if (p->have_key)
            pthread_key_delete(p->key);
        for (worker *w = p->workers, *next; w; w = next) {
            next = w->next;
            worker_free(w);
        }
        free(p->forget);
        ilg__plugin_methods_free(p->methods);
        free(p->probe_of);
        free(p->probes);
        ilg__plugin_log_free(p->log);
        pthread_mutex_destroy(&p->probe_lock);
        pthread_mutex_destroy(&p->lock);
        free(p);
    }
    return left;
}

/* The log: ILGRAFT_LOG with each "%p" replaced by the process id ("%%" by "%"), opened
 * for append, else stderr. A process that starts processes (dotnet build, a compiler
 * server) hands them its environment, so each child loads the plugin with the same
 * ILGRAFT_LOG: appending keeps the parent's lines, and "%p" gives each its own file.
 * Every write(2) holds whole lines (log.c), so processes sharing one file interleave
 * whole lines; each starts with a line naming the process. */
static void open_log(plugin *p)
{
    const char *pattern = getenv("ILGRAFT_LOG");
    char path[4096], cmd[512] = "";
    size_t o = 0;
    p->log_opened = true;
    if (!pattern || !*pattern)
        return;
    for (const char *c = pattern; *c && o + 24 < sizeof path; c++) {
        if (c[0] == '%' && c[1] == 'p') {
            o += (size_t)snprintf(path + o, sizeof path - o, "%ld", (long)getpid());
            c++;
        } else {
            path[o++] = *c;
            c += c[0] == '%' && c[1] == '%';
        }
    }
    path[o] = 0;
    int err = ilg__plugin_log_open(p->log, path, p->log_rewrites);
    if (err) {
        plog(p, "cannot open ILGRAFT_LOG %s: %s; logging to stderr", path, strerror(err));
        return;
    }
    /* The program: /proc/self/cmdline, its NUL-separated arguments joined by spaces. */
    FILE *c = fopen("/proc/self/cmdline", "r");
    if (c) {
        size_t n = fread(cmd, 1, sizeof cmd - 1, c);
        fclose(c);
        for (size_t i = 0; i + 1 < n; i++)
            if (!cmd[i])
                cmd[i] = ' ';
        cmd[n] = 0;
    }
    plog(p, "process %ld: %s", (long)getpid(), cmd[0] ? cmd : "?");
}

/* Per rule, the first rule that names the same probe: rules sharing a probe share its
 * lookup and its "not found" line. */
static bool probe_ids(plugin *p)
{
    const ilg__plugin_rules *r = &p->rules;
    if (!(p->probe_of = calloc(r->count ? r->count : 1, sizeof *p->probe_of)))
        return false;
    for (size_t i = 0; i < r->count; i++) {
        p->probe_of[i] = i;
        for (size_t k = 0; k < i && r->items[i].probe_type; k++)
            if (r->items[k].probe_type && strcmp(r->items[k].probe_type, r->items[i].probe_type) == 0 &&
                strcmp(r->items[k].probe_method, r->items[i].probe_method) == 0) {
                p->probe_of[i] = k;
                break;
            }
    }
    return true;
}

static HRESULT cb_Initialize(ICorProfilerCallback3 *This, IUnknown *unk)
{
    plugin *p = impl_from_ICorProfilerCallback3(This);
    const char *level = getenv("ILGRAFT_LOG_LEVEL");
    p->log_rewrites = !(level && strcmp(level, "failures") == 0);
    if (!p->log_opened)
        open_log(p);
    const char *rules = getenv("ILGRAFT_RULES");
    if (!rules || !*rules) {
        plog(p, "ILGRAFT_RULES is not set: nothing to do");
        return E_FAIL;
    }
    ilg_status st = ilg__plugin_rules_load(rules, &p->rules);
    if (st != ILG_OK) {
        plog(p, "rules: %s: %s", ilg_status_name(st), ilg_last_diag()->message);
        return E_FAIL;
    }
    if (!probe_ids(p)) {
        plog(p, "no memory for the rules' probes");
        return E_OUTOFMEMORY;
    }
    for (size_t i = 0; i < p->rules.count; i++)
        p->simple_needed |= strcmp(p->rules.items[i].match, "*") != 0;
    p->names_needed = p->log_rewrites || p->simple_needed;
    HRESULT hr = unk->lpVtbl->QueryInterface(unk, &IID_ICorProfilerInfo3, (void **)&p->info);
    if (FAILED(hr)) {
        plog(p, "QueryInterface(ICorProfilerInfo3) returned 0x%08x", (unsigned)hr);
        return hr;
    }
    DWORD mask = COR_PRF_MONITOR_JIT_COMPILATION | COR_PRF_MONITOR_MODULE_LOADS;
    if (p->rules.disable_inlining)
        mask |= COR_PRF_DISABLE_INLINING;
    /* Code transitions make CoreCLR refuse ReadyToRun code altogether (observed; see
     * docs/coreclr-observed.md); DISABLE_ALL_NGEN_IMAGES alone is the documented flag. */
    if (p->rules.disable_ngen)
        mask |= COR_PRF_DISABLE_ALL_NGEN_IMAGES | COR_PRF_MONITOR_CODE_TRANSITIONS;
    hr = p->info->lpVtbl->SetEventMask(p->info, mask);
    plog(p, "%zu rules from %s, event mask 0x%08x: 0x%08x", p->rules.count, rules,
         (unsigned)mask, (unsigned)hr);
    return hr;
}

static HRESULT cb_Shutdown(ICorProfilerCallback3 *This)
{
    plugin *p = impl_from_ICorProfilerCallback3(This);
    unsigned long jit = 0, methods = 0, matched = 0, rewritten = 0, failed = 0, skipped = 0,
                  recompiles = 0, restored = 0, threads = 0;
    pthread_mutex_lock(&p->lock);
    for (worker *w = p->workers; w; w = w->next) {
        threads++;
        jit += atomic_load_explicit(&w->jit, memory_order_relaxed);
        methods += atomic_load_explicit(&w->methods, memory_order_relaxed);
        matched += atomic_load_explicit(&w->matched, memory_order_relaxed);
        rewritten += atomic_load_explicit(&w->rewritten, memory_order_relaxed);
        failed += atomic_load_explicit(&w->failed, memory_order_relaxed);
        skipped += atomic_load_explicit(&w->skipped, memory_order_relaxed);
        recompiles += atomic_load_explicit(&w->recompiles, memory_order_relaxed);
        restored += atomic_load_explicit(&w->restored, memory_order_relaxed);
    }
    pthread_mutex_unlock(&p->lock);
    /* jit: JITCompilationStarted events; methods: distinct methods among them; matched,
     * rewritten, failed, skipped: per method, at its first compilation; recompiles: the
     * events for methods handled before; restored: recompiles that found another body
     * and set the plugin's again. threads: workers made, i.e. the most threads that had
     * JIT-compiled at one time and not yet exited (an exited thread's worker goes to
     * the next new one). */
    plog(p,
         "summary jit=%lu methods=%lu matched=%lu rewritten=%lu failed=%lu skipped=%lu "
         "recompiles=%lu restored=%lu threads=%lu",
         jit, methods, matched, rewritten, failed, skipped, recompiles, restored, threads);
    return S_OK;
}

/* A ModuleID can be reused once its module is unloaded (collectible assemblies): what
 * is cached or recorded under the id belongs to the old module and goes before the new
 * one JITs: the methods' bodies and the probes here, each worker's caches through the
 * forget log. */
static HRESULT cb_ModuleLoadFinished(ICorProfilerCallback3 *This, ModuleID moduleId,
                                     HRESULT hrStatus)
{
    plugin *p = impl_from_ICorProfilerCallback3(This);
    HRESULT hr = S_OK;
    size_t dropped = ilg__plugin_methods_forget(p->methods, moduleId);
    if (dropped && p->log_rewrites)
        plog(p, "module 0x%llx reused: %zu methods' bodies forgotten", (unsigned long long)moduleId,
             dropped);
    pthread_mutex_lock(&p->probe_lock);
    probe_drop(p->probes, &p->probe_count, moduleId);
    pthread_mutex_unlock(&p->probe_lock);
    pthread_mutex_lock(&p->lock);
    size_t n = atomic_load_explicit(&p->forget_count, memory_order_relaxed);
    if (ilg__grow_size((void **)&p->forget, &p->forget_cap, n + 1, sizeof *p->forget) != ILG_OK) {
        hr = E_OUTOFMEMORY;
        goto done;
    }
    p->forget[n] = moduleId;
    atomic_store_explicit(&p->forget_count, n + 1, memory_order_release);
done:
    pthread_mutex_unlock(&p->lock);
    return hr;
}

static HRESULT cb_JITCompilationStarted(ICorProfilerCallback3 *This, FunctionID functionId,
                                        BOOL fIsSafeToBlock)
{
    plugin *p = impl_from_ICorProfilerCallback3(This);
    worker *w = worker_get(p);
    if (w)
        on_jit(w, functionId);
    else
        plog(p, "FAIL function 0x%llx: no memory for this thread's state",
             (unsigned long long)functionId);
    return S_OK;
}

static HRESULT cb_JITCompilationFinished(ICorProfilerCallback3 *This, FunctionID functionId,
                                         HRESULT hrStatus, BOOL fIsSafeToBlock)
{
    return S_OK;
}

#include "callback_stubs.inc"

static const ICorProfilerCallback3Vtbl plugin_vtbl = {
    .QueryInterface = cb_QueryInterface,
    .AddRef = cb_AddRef,
    .Release = cb_Release,
    .Initialize = cb_Initialize,
    .Shutdown = cb_Shutdown,
    .ModuleLoadFinished = cb_ModuleLoadFinished,
    .JITCompilationStarted = cb_JITCompilationStarted,
    .JITCompilationFinished = cb_JITCompilationFinished,
    ILG_CB3_STUB_SLOTS
};

/* ---- class factory ------------------------------------------------------------------ */

static HRESULT cf_QueryInterface(IClassFactory *This, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (ilg_guid_equal(riid, &IID_IUnknown) || ilg_guid_equal(riid, &IID_IClassFactory)) {
        *ppv = This;
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

/* The factory is a static object: there is nothing to count. */
static ULONG cf_AddRef(IClassFactory *This)
{
    return 1;
}

static ULONG cf_Release(IClassFactory *This)
{
    return 1;
}

static HRESULT cf_CreateInstance(IClassFactory *This, IUnknown *outer, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (outer)
        return CLASS_E_NOAGGREGATION;
    plugin *p = calloc(1, sizeof *p);
    if (!p)
        return E_OUTOFMEMORY;
    p->ICorProfilerCallback3_iface.lpVtbl = &plugin_vtbl;
    atomic_init(&p->refs, 1);
    atomic_init(&p->forget_count, 0);
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->probe_lock, NULL);
    if (ilg__plugin_methods_new(&p->methods) != ILG_OK || !(p->log = ilg__plugin_log_new()) ||
        pthread_key_create(&p->key, worker_retire) != 0) {
        cb_Release(&p->ICorProfilerCallback3_iface);
        return E_OUTOFMEMORY;
    }
    p->have_key = true;
    HRESULT hr = cb_QueryInterface(&p->ICorProfilerCallback3_iface, riid, ppv);
    cb_Release(&p->ICorProfilerCallback3_iface);
    return hr;
}

static HRESULT cf_LockServer(IClassFactory *This, BOOL lock)
{
    return S_OK;
}

static const IClassFactoryVtbl factory_vtbl = {
    cf_QueryInterface, cf_AddRef, cf_Release, cf_CreateInstance, cf_LockServer,
};
static IClassFactory factory = { &factory_vtbl };

PLUGIN_EXPORT HRESULT DllGetClassObject(REFCLSID rclsid, REFIID riid, void **ppv);
PLUGIN_EXPORT HRESULT DllGetClassObject(REFCLSID rclsid, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!ilg_guid_equal(rclsid, &CLSID_IlgraftProfiler))
        return CLASS_E_CLASSNOTAVAILABLE;
    return cf_QueryInterface(&factory, riid, ppv);
}
