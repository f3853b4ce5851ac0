/* plugin_state.h: the plugin's profiler object, its per-thread workers and the JIT job,
 * shared by plugin.c (the COM object, workers, callbacks), names.c (method and type
 * names, call shapes, probes) and jit.c (one method's rewrite and its log line). Not
 * exported. */
#ifndef ILG_PLUGIN_STATE_H
#define ILG_PLUGIN_STATE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilgraft/corprof.h"
#include "ilg_private.h"
#include "plugin_private.h"
#include "sig.h"

#define NAME_CAP 1024
#define SIG_MAX_DEPTH 64 /* nesting a signature may have */
#define FULL_CAP (2 * NAME_CAP + 4) /* "Ns.Type::Method" */

/* A probe looked up once per module (token 0 when the module has none). probe is the
 * index of the first rule naming it (plugin.probe_of), so rules sharing a probe share
 * the lookup. */
typedef struct probe_cache {
    ModuleID module;
    size_t probe;
    mdToken token; /* MethodDef, or MemberRef of a probe in another assembly */
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
    IMetaDataEmit *emit;          /* asked for when a probe first needs it (NULL: refused) */
    bool emit_asked;
    char *assembly;               /* the module's assembly name ("" for none; NULL: not
                                     asked yet), for probes named [Assembly]... */
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
    /* "mode": "rejit": methods requested, ReJIT versions compiled, ReJITError callbacks. */
    atomic_ulong requested, rejitted, rejit_errors;
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
    /* "mode": "rejit" (rejit.c): Info4 for the requests; with "rejit_at", the modules
     * loaded so far and whether the trigger came (both under lock). */
    ICorProfilerInfo4 *info4;
    atomic_bool rejit_armed;
    ModuleID *loaded;
    size_t loaded_count, loaded_cap;
};
/* Method signature: argument count (with `this`), has_this, where the return type
 * lies. False when malformed. */
typedef struct method_shape {
    uint32_t pops;
    bool has_this, returns;
    size_t ret_start, ret_end;
} method_shape;

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

/* ---- plugin.c ------------------------------------------------------------------------ */

/* "ilgraft-plugin: " and the text as one line of the log, written out now or with the
 * next buffered write (later). */
void ilg__plugin_plog(plugin *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ilg__plugin_plog_later(plugin *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- names.c ------------------------------------------------------------------------- */

/* The worker's state of a module (made on first use; NULL when memory or the metadata
 * importer is missing), and its release. */
module_state *ilg__plugin_module_state_get(worker *w, ModuleID module);
void ilg__plugin_module_state_free(module_state *m);
void ilg__plugin_module_state_forget(worker *w, ModuleID module);
/* The ilg_stack_resolver callback: a call target's shape, cached per module (ctx: the
 * module_state). */
ilg_status ilg__plugin_call_shape(void *ctx, uint32_t token, uint32_t *pops, bool *has_this,
                                  bool *pushes);
/* A method signature's argument count, this and return type span; false when malformed. */
bool ilg__plugin_parse_method_sig(const uint8_t *sig, size_t len, method_shape *m);
/* The first local of the method's return type (ILG_NO_LOCAL when none). */
uint32_t ilg__plugin_local_of_type(IMetaDataImport *md, uint32_t local_sig, const uint8_t *msig,
                                   const method_shape *m);
/* "Ns.Type::Method" and "Type::Method" (see names.c), and a method's full name by token. */
size_t ilg__plugin_method_names(worker *w, IMetaDataImport *md, ModuleID mod, mdTypeDef owner,
                                const WCHAR *wname, ULONG len, char *full, char *simple);
void ilg__plugin_name_method(worker *w, module_state *ms, mdMethodDef tok, char *full);
/* Rule ri's probe in the module (0 when it has none), looked up once per module: a
 * MethodDef, or for a probe in another assembly the MemberRef defined for it. */
mdToken ilg__plugin_find_probe(worker *w, module_state *ms, size_t ri);
/* Drops the cached probes of a module. */
void ilg__plugin_probe_drop(probe_cache *items, size_t *count, ModuleID module);

/* ---- probes.c: what probes with parameters and exit probes define ------------------- */

/* The name of the assembly whose manifest module ms is ("" when none or unknown),
 * asked once. */
const char *ilg__plugin_module_assembly(module_state *ms);
/* True when rule r's probe can be a MethodDef of ms: in-module, or [Assembly] of ms. */
bool ilg__plugin_probe_is_local(module_state *ms, const ilg__plugin_rule *r);
/* The module's IMetaDataEmit (GetModuleMetaData ofRead | ofWrite, asked once), or NULL. */
IMetaDataEmit *ilg__plugin_module_emit(worker *w, module_state *ms);
/* The MemberRef of rule r's probe in another assembly ([Name]Ns.Type::Method), its
 * AssemblyRef (an existing one of that name, else a new one) and TypeRef made through
 * ms's emitter; 0 with why filled when the runtime refuses. */
mdMemberRef ilg__plugin_probe_ref(worker *w, module_state *ms, const ilg__plugin_rule *r,
                                  char *why, size_t cap);
/* The user string of text (UTF-8, n bytes), 0 when refused. */
mdString ilg__plugin_user_string(module_state *ms, const char *text, size_t n);
/* A local of the method's return type for an exit probe: an existing one (reused), else
 * one appended to a new local signature (*new_sig, 0 when reused). False with why filled
 * when neither is possible. */
bool ilg__plugin_return_local(worker *w, module_state *ms, uint32_t local_sig, const uint8_t *msig,
                              const method_shape *m, uint32_t *index, uint32_t *new_sig,
                              char *why, size_t cap);
/* How the return value goes to an `object` parameter: *box the token to box it with (0:
 * a reference already), *null when it cannot be passed (byref, pointer, typedref: null
 * goes instead). False when the runtime refuses the TypeSpec. */
bool ilg__plugin_return_box(module_state *ms, const uint8_t *msig, const method_shape *m,
                            uint32_t *box, bool *null);

/* ---- jit.c --------------------------------------------------------------------------- */

/* JITCompilationStarted's work on the worker's thread. */
void ilg__plugin_on_jit(worker *w, FunctionID fid);
/* At a ReJIT request: the method's body built and dropped (its metadata defined now,
 * in request order); false when there is none (nothing applies, or a failure logged). */
bool ilg__plugin_rejit_prepare(worker *w, module_state *ms, mdMethodDef tok);
/* GetReJITParameters: the method's body built as at JIT time, handed to fc. */
void ilg__plugin_on_rejit_parameters(worker *w, ModuleID mod, mdMethodDef tok,
                                     ICorProfilerFunctionControl *fc);

/* ---- rejit.c: "mode": "rejit" -------------------------------------------------------- */

/* Initialize's part: Info4 asked for (false after logging when refused). */
bool ilg__plugin_rejit_init(plugin *p, IUnknown *unk);
/* ModuleLoadFinished: the module's matching methods requested now, or noted for the
 * "rejit_at" trigger. */
void ilg__plugin_rejit_module_loaded(worker *w, ModuleID module);
/* JITCompilationStarted in rejit mode: the "rejit_at" trigger. */
void ilg__plugin_rejit_on_jit(worker *w, FunctionID fid);
/* ReJITCompilationFinished and ReJITError: logged and counted. */
void ilg__plugin_rejit_finished(worker *w, FunctionID fid, ReJITID id, HRESULT hr);
void ilg__plugin_rejit_error(worker *w, ModuleID mod, mdMethodDef tok, FunctionID fid, HRESULT hr);

#endif
