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
#include <time.h>

#include "ilgraft/corprof.h"
#include "ilg_private.h"
#include "plugin_private.h"

#define PLUGIN_EXPORT __attribute__((visibility("default")))
#define NAME_CAP 1024
#define OFFSETS_CAP 4096 /* the rewrite log's offset map, cut with ",..." past it */
/* A rewrite line: prefix, full name (2 * NAME_CAP + 4), actions (256), positions, offsets. */
#define LOG_LINE_CAP (2 * NAME_CAP + 4 + 256 + 256 + OFFSETS_CAP)
#define LOG_BUF_SIZE (1 << 16)

/* {B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}: the plugin's CLSID (CORECLR_PROFILER). */
static const CLSID CLSID_IlgraftProfiler =
    ILG_GUID_INIT(0xB2E3A7C4, 0x6D15, 0x4F38, 0x9A, 0x21, 0x5C, 0x7E, 0x0D, 0x3F, 0x8B, 0x94);

/* A probe looked up once per module and rule (token 0 when the module has none). */
typedef struct probe_cache {
    ModuleID module;
    size_t rule;
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
    uint32_t *rows[SHAPE_TABLES]; /* call shapes by rid; grown on demand */
    uint32_t caps[SHAPE_TABLES];
} module_state;

typedef struct plugin plugin;

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
    module_state *modules;
    size_t module_count, module_cap, module_last;
    /* The rewrite log's scratch: the body's original IL offsets, and the line. */
    uint32_t *log_offsets;
    size_t log_offsets_cap;
    char *log_line;
    /* Written by the owner only, read by Shutdown: relaxed atomics (plain moves). */
    atomic_ulong jit, matched, rewritten, failed, skipped;
} worker;

#define COUNT(w, field)                                                                    \
    atomic_store_explicit(&(w)->field, atomic_load_explicit(&(w)->field, memory_order_relaxed) + 1, \
                          memory_order_relaxed)

struct plugin {
    ICorProfilerCallback3 ICorProfilerCallback3_iface;
    atomic_ulong refs;
    ICorProfilerInfo3 *info;
    ilg__plugin_rules rules;
    FILE *log;                 /* ILGRAFT_LOG or stderr */
    char *log_buf;             /* ILGRAFT_LOG's stdio buffer (LOG_BUF_SIZE) */
    /* When the log was last flushed; written under the FILE's lock, which ThreadSanitizer
     * cannot see, hence atomic. */
    _Atomic uint64_t log_flushed_ms;
    bool log_rewrites;         /* ILGRAFT_LOG_LEVEL is not "failures" */
    bool names_needed;         /* a rule matches by name, or rewrites are logged */
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
};
static plugin *impl_from_ICorProfilerCallback3(ICorProfilerCallback3 *iface)
{
    return (plugin *)((char *)iface - offsetof(plugin, ICorProfilerCallback3_iface));
}

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* A line of the log, written out at once (failures, set-up, the summary). */
static void plog(plugin *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void plog(plugin *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    flockfile(p->log); /* one line at a time when several threads log */
    fputs("ilgraft-plugin: ", p->log);
    vfprintf(p->log, fmt, ap);
    fputc('\n', p->log);
    fflush(p->log);
    atomic_store_explicit(&p->log_flushed_ms, now_ms(), memory_order_relaxed);
    funlockfile(p->log);
    va_end(ap);
}

/* A rewrite line (line[0..n), its newline included). One write(2) per line cost more
 * than the rewrites themselves over a whole assembly, so these wait in the log's
 * buffer until it fills, until another line is written, or until 50 ms have passed
 * since the last flush: a crash loses at most the last 50 ms of rewrite lines, never a
 * failure line. */
static void plog_rewrite(plugin *p, const char *line, size_t n)
{
    uint64_t now = now_ms();
    flockfile(p->log);
    fwrite(line, 1, n, p->log);
    if (now - atomic_load_explicit(&p->log_flushed_ms, memory_order_relaxed) >= 50) {
        fflush(p->log);
        atomic_store_explicit(&p->log_flushed_ms, now, memory_order_relaxed);
    }
    funlockfile(p->log);
}

/* Lowercase hex of v with at least min digits, as printf's %0*llx. */
static char *put_hex(char *o, uint64_t v, int min)
{
    int n = 1;
    for (uint64_t rest = v >> 4; rest; rest >>= 4)
        n++;
    if (n < min)
        n = min;
    for (int i = n - 1; i >= 0; i--, v >>= 4)
        o[i] = "0123456789abcdef"[v & 0xF];
    return o + n;
}

/* %04x: four digits as two byte pairs for the offsets of all but the largest bodies. */
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

static inline char *put_hex4(char *o, uint32_t v)
{
    if (v > 0xFFFF)
        return put_hex(o, v, 4);
    memcpy(o, hex_pairs + 2 * (v >> 8), 2);
    memcpy(o + 2, hex_pairs + 2 * (v & 0xFF), 2);
    return o + 4;
}

/* Decimal, as printf's %llu. */
static char *put_dec(char *o, uint64_t v)
{
    char d[20];
    int n = 0;
    do
        d[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        *o++ = d[--n];
    return o;
}

static char *put_str(char *o, const char *s)
{
    size_t n = strlen(s);
    memcpy(o, s, n);
    return o + n;
}

/* ---- names -------------------------------------------------------------------------- */

/* UTF-16 (up to n units or a NUL) to UTF-8; characters past the BMP's surrogates are
 * kept as two 3-byte sequences, which is enough for matching names. */
static void to_utf8(const WCHAR *w, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && w[i] && o + 4 < cap; i++) {
        uint32_t c = w[i];
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xC0 | (c >> 6));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (char)(0xE0 | (c >> 12));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[o] = 0;
}

/* ASCII/UTF-8 bytes to UTF-16 for the metadata API (non-ASCII bytes are widened
 * unchanged: probe names are expected to be ASCII). */
static void to_wide(const char *s, WCHAR *out, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        out[i] = (WCHAR)(unsigned char)s[i];
    out[i] = 0;
}

/* "Ns.Type" (nested: "Ns.Outer/Inner") of a TypeDef. The runtime's metadata is
 * trusted no further than 64 levels of nesting (a cycle would recurse for ever). */
static void type_name(IMetaDataImport *md, mdTypeDef td, char *out, size_t cap, int depth)
{
    WCHAR name[NAME_CAP];
    ULONG len = 0;
    char mine[NAME_CAP];
    if (depth > 64) {
        snprintf(out, cap, "?");
        return;
    }
    if (RidFromToken(td) == 1 || md->lpVtbl->GetTypeDefProps(md, td, name, NAME_CAP, &len, NULL,
                                                               NULL) != S_OK) {
        snprintf(out, cap, "<Module>");
        return;
    }
    to_utf8(name, len, mine, sizeof mine);
    mdTypeDef outer = 0;
    if (md->lpVtbl->GetNestedClassProps(md, td, &outer) == S_OK && outer && outer != td) {
        char oname[NAME_CAP];
        type_name(md, outer, oname, sizeof oname, depth + 1);
        size_t n = strlen(oname);
        if (n + 1 < cap) {
            memcpy(out, oname, n);
            out[n] = '/';
            size_t m = strlen(mine);
            if (m > cap - n - 2)
                m = cap - n - 2;
            memcpy(out + n + 1, mine, m);
            out[n + 1 + m] = 0;
        } else {
            snprintf(out, cap, "%s", mine);
        }
    } else {
        snprintf(out, cap, "%s", mine);
    }
}

/* "type::method" into out (cut at cap); the JIT path names every method, so no printf. */
static void join_name(char *out, size_t cap, const char *type, const char *method)
{
    size_t t = strlen(type), m = strlen(method);
    if (t > cap - 1)
        t = cap - 1;
    memcpy(out, type, t);
    size_t o = t;
    for (const char *sep = "::"; *sep && o + 1 < cap; sep++)
        out[o++] = *sep;
    if (m > cap - 1 - o)
        m = cap - 1 - o;
    memcpy(out + o, method, m);
    out[o + m] = 0;
}

/* ---- signatures (ECMA-335 II.23.2) -------------------------------------------------- */

/* End of the type starting at sig[pos] (0 when malformed). */
static size_t skip_type(const uint8_t *sig, size_t len, size_t pos, int depth)
{
    uint32_t v, n;
    size_t k;
    if (pos >= len || depth > 64)
        return 0;
    uint8_t et = sig[pos++];
    switch (et) {
    case 0x01: case 0x02: case 0x03: case 0x04: case 0x05: case 0x06: case 0x07: case 0x08:
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x0E: case 0x16: case 0x18:
    case 0x19: case 0x1C:
        return pos;
    case 0x0F: case 0x10: case 0x1D: case 0x45: /* PTR, BYREF, SZARRAY, PINNED */
        return skip_type(sig, len, pos, depth + 1);
    case 0x1F: case 0x20: /* CMOD_REQD/OPT token, then the type */
        if (!(k = ilg__rd_compressed(sig + pos, len - pos, &v)))
            return 0;
        return skip_type(sig, len, pos + k, depth + 1);
    case 0x11: case 0x12: case 0x13: case 0x1E: /* VALUETYPE, CLASS token; VAR, MVAR number */
        return (k = ilg__rd_compressed(sig + pos, len - pos, &v)) ? pos + k : 0;
    case 0x15: /* GENERICINST (CLASS|VALUETYPE) token count types */
        if (!(pos = skip_type(sig, len, pos, depth + 1)))
            return 0;
        if (!(k = ilg__rd_compressed(sig + pos, len - pos, &n)))
            return 0;
        pos += k;
        for (uint32_t i = 0; i < n && pos; i++)
            pos = skip_type(sig, len, pos, depth + 1);
        return pos;
    case 0x14: /* ARRAY type rank nsizes sizes nlo los */
        if (!(pos = skip_type(sig, len, pos, depth + 1)))
            return 0;
        for (int part = 0; part < 3; part++) {
            if (!(k = ilg__rd_compressed(sig + pos, len - pos, &n)))
                return 0;
            pos += k;
            if (part == 0)
                continue;
            for (uint32_t i = 0; i < n; i++) {
                if (!(k = ilg__rd_compressed(sig + pos, len - pos, &v)))
                    return 0;
                pos += k;
            }
        }
        return pos;
    case 0x1B: { /* FNPTR: a whole method signature */
        if (pos >= len)
            return 0;
        uint8_t conv = sig[pos++];
        if (conv & 0x10) {
            if (!(k = ilg__rd_compressed(sig + pos, len - pos, &v)))
                return 0;
            pos += k;
        }
        if (!(k = ilg__rd_compressed(sig + pos, len - pos, &n)))
            return 0;
        pos += k;
        for (uint32_t i = 0; i <= n && pos; i++) {
            if (pos < len && sig[pos] == 0x41)
                pos++;
            pos = skip_type(sig, len, pos, depth + 1);
        }
        return pos;
    }
    default:
        return 0;
    }
}

/* Method signature: argument count (with `this`), has_this, where the return type
 * lies. False when malformed. */
typedef struct method_shape {
    uint32_t pops;
    bool has_this, returns;
    size_t ret_start, ret_end;
} method_shape;

static bool parse_method_sig(const uint8_t *sig, size_t len, method_shape *m)
{
    uint32_t v, n;
    size_t k, pos = 1;
    if (len < 2)
        return false;
    uint8_t conv = sig[0];
    if ((conv & 0x0F) == 0x06 || (conv & 0x0F) == 0x07) /* FIELD, LOCAL_SIG */
        return false;
    if (conv & 0x10) {
        if (!(k = ilg__rd_compressed(sig + pos, len - pos, &v)))
            return false;
        pos += k;
    }
    if (!(k = ilg__rd_compressed(sig + pos, len - pos, &n)))
        return false;
    pos += k;
    m->has_this = (conv & 0x20) != 0;
    m->pops = n + (m->has_this && !(conv & 0x40) ? 1 : 0);
    m->ret_start = pos;
    size_t t = pos;
    while (t < len && (sig[t] == 0x1F || sig[t] == 0x20)) {
        if (!(k = ilg__rd_compressed(sig + t + 1, len - t - 1, &v)))
            return false;
        t += 1 + k;
    }
    if (t >= len)
        return false;
    m->returns = sig[t] != 0x01;
    m->ret_end = skip_type(sig, len, pos, 0);
    return m->ret_end != 0;
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
    if (w->module_count == w->module_cap) {
        size_t ncap = w->module_cap ? w->module_cap * 2 : 8;
        module_state *n = realloc(w->modules, ncap * sizeof *n);
        if (!n)
            return NULL;
        w->modules = n;
        w->module_cap = ncap;
    }
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
        uint32_t ncap = m->caps[t] ? m->caps[t] : 256;
        while (ncap <= rid && ncap < (1u << 24))
            ncap *= 2;
        if (ncap <= rid)
            return NULL;
        uint32_t *n = realloc(m->rows[t], (size_t)ncap * sizeof *n);
        if (!n)
            return NULL;
        memset(n + m->caps[t], 0, (size_t)(ncap - m->caps[t]) * sizeof *n);
        m->rows[t] = n;
        m->caps[t] = ncap;
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
    size_t k, pos = 1;
    if (!local_sig || md->lpVtbl->GetSigFromToken(md, local_sig, &sig, &len) != S_OK || len < 2 ||
        sig[0] != 0x07)
        return ILG_NO_LOCAL;
    if (!(k = ilg__rd_compressed(sig + pos, len - pos, &n)))
        return ILG_NO_LOCAL;
    pos += k;
    size_t want = m->ret_end - m->ret_start;
    for (uint32_t i = 0; i < n && pos < len; i++) {
        size_t end = skip_type(sig, len, pos, 0);
        if (!end)
            return ILG_NO_LOCAL;
        if (end - pos == want && memcmp(sig + pos, msig + m->ret_start, want) == 0)
            return i;
        pos = end;
    }
    return ILG_NO_LOCAL;
}

/* ---- probes ------------------------------------------------------------------------- */

static const probe_cache *find_probe(worker *w, IMetaDataImport *md, ModuleID mod, size_t ri)
{
    static const probe_cache none = { 0, 0, 0 };
    for (size_t i = 0; i < w->probe_count; i++)
        if (w->probes[i].module == mod && w->probes[i].rule == ri)
            return &w->probes[i];
    const ilg__plugin_rule *r = &w->p->rules.items[ri];
    WCHAR wname[NAME_CAP];
    mdTypeDef td = 0;
    mdMethodDef mb = 0;
    /* static void(): DEFAULT, 0 parameters, VOID. */
    static const COR_SIGNATURE void_sig[] = { 0x00, 0x00, 0x01 };
    to_wide(r->probe_type, wname, NAME_CAP);
    if (md->lpVtbl->FindTypeDefByName(md, wname, 0, &td) == S_OK) {
        to_wide(r->probe_method, wname, NAME_CAP);
        if (md->lpVtbl->FindMethod(md, td, wname, void_sig, sizeof void_sig, &mb) != S_OK)
            mb = 0;
    }
    if (w->probe_count == w->probe_cap) {
        size_t ncap = w->probe_cap ? w->probe_cap * 2 : 16;
        probe_cache *n = realloc(w->probes, ncap * sizeof *n);
        if (!n)
            return &none;
        w->probes = n;
        w->probe_cap = ncap;
    }
    w->probes[w->probe_count] = (probe_cache){ mod, ri, mb };
    return &w->probes[w->probe_count++];
}

/* ---- the rewrite -------------------------------------------------------------------- */

/* "Ns.Type::Method" and "Type::Method" into full and simple (each 2 * NAME_CAP + 4),
 * from the method's name as GetMethodProps gave it (wname, len) and its owner's name,
 * which the worker keeps for the next method of the same type. */
static void method_names(worker *w, IMetaDataImport *md, ModuleID mod, mdTypeDef owner,
                         const WCHAR *wname, ULONG len, char *full, char *simple)
{
    char mname[NAME_CAP];
    to_utf8(wname, len, mname, sizeof mname);
    if (mod != w->name_module || owner != w->name_owner) {
        type_name(md, owner, w->owner_name, sizeof w->owner_name, 0);
        w->name_module = mod;
        w->name_owner = owner;
    }
    const char *dot = strrchr(w->owner_name, '.');
    join_name(full, 2 * NAME_CAP + 4, w->owner_name, mname);
    join_name(simple, 2 * NAME_CAP + 4, dot ? dot + 1 : w->owner_name, mname);
}

/* Appends "[,]NAME(HOW)" to the log's action list at actions[len], cut to its cap as
 * snprintf would cut it; returns the new length. */
static size_t log_action(char *actions, size_t cap, size_t len, const char *name, const char *how)
{
    const char *parts[] = { len ? "," : "", name, "(", how, ")" };
    if (len + 2 >= cap)
        return len;
    for (size_t i = 0; i < ILG_ARRAY_LEN(parts); i++) {
        size_t n = strlen(parts[i]);
        if (n > cap - 1 - len)
            n = cap - 1 - len;
        memcpy(actions + len, parts[i], n);
        len += n;
    }
    actions[len] = 0;
    return len;
}

/* "old->new" IL offsets ("%04x->%04x", comma-separated) of the original instructions
 * that survived, from the tags (instr.reserved = original index + 1) the editor
 * carries along with them; ",..." when cap runs out. Returns the end of the text (not
 * NUL-terminated). Hand-formatted: snprintf here was half of a logged run. */
static char *log_offsets(const worker *w, const uint32_t *old_offsets, uint32_t old_count,
                         char *buf, size_t cap)
{
    char *o = buf;
    for (uint32_t i = 0; i < w->body->count && (size_t)(o - buf) + 24 < cap; i++) {
        uint32_t tag = w->body->instrs[i].reserved;
        if (!tag || tag > old_count)
            continue;
        if (o != buf)
            *o++ = ',';
        o = put_hex4(o, old_offsets[tag - 1]);
        *o++ = '-';
        *o++ = '>';
        o = put_hex4(o, w->body->instrs[i].offset);
    }
    if ((size_t)(o - buf) + 24 >= cap)
        o = put_str(o, ",...");
    return o;
}

/* The rewrite's line, "ilgraft-plugin: rewrite FULL (0x%08x) ACTIONS old=[-]0x%llx+%u
 * new=[-]0x%llx+%zu offsets=...", formatted by hand into the worker's line buffer. */
static void log_rewrite(worker *w, const char *full, mdMethodDef tok, const char *actions,
                        ptrdiff_t old_rel, ULONG old_size, ptrdiff_t new_rel, uint32_t old_count)
{
    char *o = put_str(w->log_line, "ilgraft-plugin: rewrite ");
    o = put_str(o, full);
    o = put_str(o, " (0x");
    o = put_hex(o, (uint32_t)tok, 8);
    *o++ = ')';
    *o++ = ' ';
    o = put_str(o, actions);
    o = put_str(o, old_rel < 0 ? " old=-0x" : " old=0x");
    o = put_hex(o, (uint64_t)(old_rel < 0 ? -old_rel : old_rel), 1);
    *o++ = '+';
    o = put_dec(o, old_size);
    o = put_str(o, new_rel < 0 ? " new=-0x" : " new=0x");
    o = put_hex(o, (uint64_t)(new_rel < 0 ? -new_rel : new_rel), 1);
    *o++ = '+';
    o = put_dec(o, w->out.len);
    o = put_str(o, " offsets=");
    o = log_offsets(w, w->log_offsets, old_count, o, OFFSETS_CAP);
    *o++ = '\n';
    plog_rewrite(w->p, w->log_line, (size_t)(o - w->log_line));
}

/* A failed rewrite: counted and logged with the method's full name, which is made here
 * when the rewrite did not need it (full is ""). The reason is formatted first: naming
 * calls the metadata API, which may replace the diagnostic the reason quotes. */
static void rewrite_fail(worker *w, IMetaDataImport *md, ModuleID mod, mdMethodDef tok,
                         mdTypeDef owner, const char *full, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static void rewrite_fail(worker *w, IMetaDataImport *md, ModuleID mod, mdMethodDef tok,
                         mdTypeDef owner, const char *full, const char *fmt, ...)
{
    char why[512], made[2 * NAME_CAP + 4] = "", simple[2 * NAME_CAP + 4];
    WCHAR wname[NAME_CAP];
    ULONG len = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    COUNT(w, failed);
    if (!full[0] && md->lpVtbl->GetMethodProps(md, tok, NULL, wname, NAME_CAP, &len, NULL, NULL,
                                               NULL, NULL, NULL) == S_OK) {
        method_names(w, md, mod, owner, wname, len, made, simple);
        full = made;
    }
    plog(w->p, "FAIL %s (0x%08x): %s", full, (unsigned)tok, why);
}

static void rewrite(worker *w, FunctionID fid)
{
    plugin *p = w->p;
    ICorProfilerInfo3 *info = p->info;
    ClassID cls = 0;
    ModuleID mod = 0;
    mdToken tok = 0;
    IMetaDataImport *md = NULL;
    IMethodMalloc *alloc = NULL;
    module_state *ms = NULL;
    WCHAR wname[NAME_CAP];
    char full[2 * NAME_CAP + 4] = "", simple[2 * NAME_CAP + 4] = "";
    char actions[256] = "";
    ULONG len = 0, sig_len = 0, size = 0;
    PCCOR_SIGNATURE msig = NULL;
    mdTypeDef owner = 0;
    LPCBYTE header = NULL, base = NULL;
    size_t matched = 0;
    bool edited = false, applied = false, replaced = false;

    COUNT(w, jit);
    if (info->lpVtbl->GetFunctionInfo(info, fid, &cls, &mod, &tok) != S_OK ||
        !(ms = module_state_get(w, mod)))
        return;
    md = ms->md;
    /* When every rule matches "*" and no rewrite is logged, the name is only needed for
     * a failure, and is made then: naming was a sixth of the work of a probe run. */
    const bool named = p->names_needed;
    if (md->lpVtbl->GetMethodProps(md, tok, &owner, named ? wname : NULL, named ? NAME_CAP : 0,
                                   named ? &len : NULL, NULL, &msig, &sig_len, NULL,
                                   NULL) != S_OK)
        goto done;
    if (named) {
        method_names(w, md, mod, owner, wname, len, full, simple);
        for (size_t i = 0; i < p->rules.count; i++)
            matched += ilg__plugin_rule_matches(&p->rules.items[i], full, simple);
    } else {
        matched = p->rules.count;
    }
    if (!matched)
        goto done;
    COUNT(w, matched);
    if (info->lpVtbl->GetILFunctionBody(info, mod, tok, &header, &size) != S_OK || !header)
        goto done; /* no IL (abstract, runtime-implemented, P/Invoke) */
    ilg_status st = ilg_body_decode(w->body, header, size);
    if (st != ILG_OK) {
        rewrite_fail(w, md, mod, tok, owner, full, "decode: %s: %s", ilg_status_name(st),
                     ilg_last_diag()->message);
        goto done;
    }
    uint32_t old_count = w->body->count;
    /* The log's old->new offset map: the original offsets, and tags the editor carries. */
    if (p->log_rewrites) {
        if (old_count >= w->log_offsets_cap) {
            free(w->log_offsets);
            w->log_offsets_cap = (size_t)old_count + 64;
            w->log_offsets = malloc(w->log_offsets_cap * sizeof *w->log_offsets);
        }
        if (!w->log_offsets || (!w->log_line && !(w->log_line = malloc(LOG_LINE_CAP)))) {
            w->log_offsets_cap = 0;
            goto done;
        }
        for (uint32_t i = 0; i < old_count; i++) {
            w->log_offsets[i] = w->body->instrs[i].offset;
            w->body->instrs[i].reserved = (uint16_t)(i < 0xFFFF ? i + 1 : 0);
        }
    }

    method_shape shape = { 0 };
    bool have_shape = msig && parse_method_sig(msig, sig_len, &shape);
    ilg_stack_resolver resolver = { call_shape, ms, have_shape ? (shape.returns ? 1 : 0) : -1 };
    size_t alen = 0;
    bool is_probe = false;
    for (size_t i = 0; i < p->rules.count; i++)
        if (p->rules.items[i].action == ILG__ACT_PROBE_ENTRY ||
            p->rules.items[i].action == ILG__ACT_PROBE_EXIT)
            is_probe |= find_probe(w, md, mod, i)->token == tok;
    for (size_t i = 0; i < p->rules.count; i++) {
        const ilg__plugin_rule *r = &p->rules.items[i];
        if (!ilg__plugin_rule_matches(r, full, simple))
            continue;
        ilg__plugin_env env = { &resolver, 0, ILG_NO_LOCAL, have_shape && shape.returns,
                                w->snippet };
        if (r->action == ILG__ACT_PROBE_ENTRY || r->action == ILG__ACT_PROBE_EXIT) {
            env.probe_token = find_probe(w, md, mod, i)->token;
            if (!env.probe_token || is_probe) {
                /* No probe in this module, or this method is a probe itself (probes
                 * calling probes would recurse): not an error. */
                COUNT(w, skipped);
                continue;
            }
            if (r->action == ILG__ACT_PROBE_EXIT && env.returns_value)
                env.ret_local = local_of_type(md, w->body->local_sig, msig, &shape);
        }
        const char *how = "";
        st = ilg__plugin_apply(w->body, r, &env, &how);
        if (st != ILG_OK) {
            rewrite_fail(w, md, mod, tok, owner, full, "%s: %s: %s",
                         ilg__plugin_action_name(r->action), ilg_status_name(st),
                         ilg_last_diag()->message);
            goto done;
        }
        if (r->action != ILG__ACT_IDENTITY)
            edited = true;
        replaced |= r->action == ILG__ACT_REPLACE;
        applied = true;
        if (p->log_rewrites)
            alen = log_action(actions, sizeof actions, alen, ilg__plugin_action_name(r->action),
                              how);
    }
    if (!applied)
        goto done;

    /* Identity keeps every form (an untouched body comes out byte for byte). Mutations
     * (same stack effect by construction) and probes (a static void() call at depth 0,
     * or before a ret with only the return value on the stack) never deepen the stack,
     * so a fat body keeps its declared maxstack and skips a data flow pass, and so does a
     * tiny body that still fits a tiny header (which records no maxstack). A tiny body
     * that grows past 63 bytes and a replacement (a new body) get their exact maxstack;
     * when a call's shape is unknown there, the old forms and maxstack stay. */
    w->out.len = 0;
    if (edited && !replaced && w->body->header == ILG_HEADER_FAT) {
        st = ilg_body_encode(w->body, ILG_ENCODE_OPTIMIZE_KEEP_MAXSTACK, NULL, &w->out);
        if (st != ILG_OK && st != ILG_E_NOMEM) {
            w->out.len = 0;
            st = ilg_body_encode(w->body, ILG_ENCODE_PRESERVE, NULL, &w->out);
        }
    } else if (edited) {
        /* A tiny body first as it is (maxstack 8, which a tiny header implies and does not
         * record): when the result is still tiny, those are the bytes the data flow would
         * give. */
        bool tiny_done = false;
        if (!replaced) {
            st = ilg_body_encode(w->body, ILG_ENCODE_OPTIMIZE_KEEP_MAXSTACK, NULL, &w->out);
            tiny_done = st == ILG_OK && w->body->header == ILG_HEADER_TINY;
        }
        if (!tiny_done) {
            w->out.len = 0;
            st = ilg_body_encode(w->body, ILG_ENCODE_OPTIMIZE, &resolver, &w->out);
        }
        if (st != ILG_OK && st != ILG_E_NOMEM) {
            w->out.len = 0;
            st = ilg_body_encode(w->body, ILG_ENCODE_PRESERVE, NULL, &w->out);
        }
    } else {
        st = ilg_body_encode(w->body, ILG_ENCODE_PRESERVE, NULL, &w->out);
    }
    if (st != ILG_OK) {
        rewrite_fail(w, md, mod, tok, owner, full, "encode: %s: %s", ilg_status_name(st),
                     ilg_last_diag()->message);
        goto done;
    }
    if (!ms->alloc &&
        (info->lpVtbl->GetILFunctionBodyAllocator(info, mod, &ms->alloc) != S_OK || !ms->alloc))
        ms->alloc = NULL;
    if (!(alloc = ms->alloc)) {
        rewrite_fail(w, md, mod, tok, owner, full, "no IMethodMalloc");
        goto done;
    }
    /* A fat header must be 4-byte aligned; the allocator promises nothing about it. */
    uint8_t *mem = alloc->lpVtbl->Alloc(alloc, (ULONG)w->out.len + 3);
    if (!mem) {
        rewrite_fail(w, md, mod, tok, owner, full, "IMethodMalloc::Alloc(%zu) returned NULL",
                     w->out.len + 3);
        goto done;
    }
    uint8_t *at = (uint8_t *)(((uintptr_t)mem + 3) & ~(uintptr_t)3);
    memcpy(at, w->out.data, w->out.len);
    HRESULT hr = info->lpVtbl->SetILFunctionBody(info, mod, tok, at);
    if (hr != S_OK) {
        rewrite_fail(w, md, mod, tok, owner, full, "SetILFunctionBody returned 0x%08x",
                     (unsigned)hr);
        goto done;
    }
    COUNT(w, rewritten);
    if (!p->log_rewrites)
        goto done;
    info->lpVtbl->GetModuleInfo(info, mod, &base, 0, NULL, NULL, NULL);
    /* Positions relative to the module base: under CoreCLR new bodies lie below it. */
    log_rewrite(w, full, tok, actions, header - base, size, at - base, old_count);
done:
    return;
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
    free(w->log_offsets);
    free(w->log_line);
    free(w);
}

/* Drops what the worker cached for a module id that a new module now has. */
static void worker_forget(worker *w, ModuleID module)
{
    module_state_forget(w, module);
    size_t kept = 0;
    for (size_t i = 0; i < w->probe_count; i++)
        if (w->probes[i].module != module)
            w->probes[kept++] = w->probes[i];
    w->probe_count = kept;
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
        if (p->log && p->log != stderr)
            fclose(p->log);
        free(p->log_buf);
        pthread_mutex_destroy(&p->lock);
        free(p);
    }
    return left;
}

static HRESULT cb_Initialize(ICorProfilerCallback3 *This, IUnknown *unk)
{
    plugin *p = impl_from_ICorProfilerCallback3(This);
    const char *log_path = getenv("ILGRAFT_LOG");
    if (log_path && *log_path && !p->log) {
        p->log = fopen(log_path, "w");
        /* Fully buffered: plog flushes, plog_rewrite may wait. (glibc ignores the size
         * when it allocates the buffer itself: 4 KiB for a file.) */
        if (p->log && (p->log_buf = malloc(LOG_BUF_SIZE)) != NULL)
            setvbuf(p->log, p->log_buf, _IOFBF, LOG_BUF_SIZE);
    }
    if (!p->log)
        p->log = stderr;
    const char *level = getenv("ILGRAFT_LOG_LEVEL");
    p->log_rewrites = !(level && strcmp(level, "failures") == 0);
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
    p->names_needed = p->log_rewrites;
    for (size_t i = 0; i < p->rules.count; i++)
        p->names_needed |= strcmp(p->rules.items[i].match, "*") != 0;
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
    unsigned long jit = 0, matched = 0, rewritten = 0, failed = 0, skipped = 0, threads = 0;
    pthread_mutex_lock(&p->lock);
    for (const worker *w = p->workers; w; w = w->next) {
        threads++;
        jit += atomic_load_explicit(&w->jit, memory_order_relaxed);
        matched += atomic_load_explicit(&w->matched, memory_order_relaxed);
        rewritten += atomic_load_explicit(&w->rewritten, memory_order_relaxed);
        failed += atomic_load_explicit(&w->failed, memory_order_relaxed);
        skipped += atomic_load_explicit(&w->skipped, memory_order_relaxed);
    }
    pthread_mutex_unlock(&p->lock);
    /* threads: workers made, i.e. the most threads that had JIT-compiled at one time and
     * not yet exited (an exited thread's worker goes to the next new one). */
    plog(p, "summary jit=%lu matched=%lu rewritten=%lu failed=%lu skipped=%lu threads=%lu", jit,
         matched, rewritten, failed, skipped, threads);
    return S_OK;
}

/* A ModuleID can be reused once its module is unloaded (collectible assemblies): what
 * is cached under the id belongs to the old module and goes before the new one JITs. */
static HRESULT cb_ModuleLoadFinished(ICorProfilerCallback3 *This, ModuleID moduleId,
                                     HRESULT hrStatus)
{
    plugin *p = impl_from_ICorProfilerCallback3(This);
    HRESULT hr = S_OK;
    pthread_mutex_lock(&p->lock);
    size_t n = atomic_load_explicit(&p->forget_count, memory_order_relaxed);
    if (n == p->forget_cap) {
        size_t cap = p->forget_cap ? p->forget_cap * 2 : 64;
        ModuleID *f = realloc(p->forget, cap * sizeof *f);
        if (!f) {
            hr = E_OUTOFMEMORY;
            goto done;
        }
        p->forget = f;
        p->forget_cap = cap;
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
        rewrite(w, functionId);
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
    if (pthread_key_create(&p->key, worker_retire) != 0) {
        pthread_mutex_destroy(&p->lock);
        free(p);
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
