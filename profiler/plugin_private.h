/* plugin_private.h: the rewriting profiler plugin's internals (libilgraft_profiler.so):
 * the rules file model and parser (rules.c), the IL rewrites (rewrite.c) and the
 * profiler object (plugin.c). Nothing here is exported: the library's only public
 * symbol is DllGetClassObject. */
#ifndef ILG_PLUGIN_PRIVATE_H
#define ILG_PLUGIN_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ilgraft/common.h"
#include "ilgraft/ilbody.h"

typedef enum ilg__plugin_action {
    ILG__ACT_IDENTITY, ILG__ACT_MUTATE, ILG__ACT_PROBE_ENTRY, ILG__ACT_PROBE_EXIT, ILG__ACT_REPLACE
} ilg__plugin_action;

/* What a probe's parameter receives (docs/profiler.md, Rules). */
typedef enum ilg__probe_arg {
    ILG__PARG_NAME,   /* string: the instrumented method's "Ns.Type::Method" (ldstr) */
    ILG__PARG_TOKEN,  /* int32: its MethodDef token (ldc.i4) */
    ILG__PARG_RETURN  /* object: probe-exit's return value, boxed (null for void) */
} ilg__probe_arg;
#define ILG__PROBE_ARGS_MAX 4

typedef struct ilg__plugin_rule {
    char *match;               /* fnmatch pattern over "Ns.Type::Method" or "Type::Method" */
    ilg__plugin_action action;
    ilg_opcode from, to;       /* mutate */
    char *probe;               /* probe-*: the text as given, the probe's identity */
    char *probe_type;          /* probe-*: "Ns.Type" (nested: "Ns.Outer/Inner") */
    char *probe_method;
    char *probe_assembly;      /* "[Name]" given: the assembly's name; NULL: this module */
    uint16_t probe_version[4]; /* the AssemblyRef's version ("probe_assembly") */
    uint8_t probe_key_token[8];
    bool probe_has_key;        /* a public key token was given */
    bool probe_meta;           /* "probe_assembly" given here (or by another rule naming
                                  the same assembly: it applies to all of them) */
    uint8_t probe_argc;        /* the parameter list; none: static void() */
    uint8_t probe_args[ILG__PROBE_ARGS_MAX]; /* ilg__probe_arg */
    char *body;                /* replace: ilasm-style text for ilg_body_assemble */
} ilg__plugin_rule;

typedef struct ilg__plugin_rules {
    ilg__plugin_rule *items;   /* owned; freed by ilg__plugin_rules_free */
    size_t count;
    /* Top-level options: "disable_ngen" (default false) makes every method, the
     * framework's precompiled ones included, JIT-compiled; "disable_inlining" (default
     * true) keeps rewritten callees from being inlined past their new bodies. */
    bool disable_ngen, disable_inlining;
    /* "mode": "rejit" (docs/profiler.md, Rules): the matching methods are rewritten
     * through ReJIT, requested at their module's load (or, with "rejit_at", at the first
     * JIT compilation of a method matching that pattern, for every module loaded by then
     * and at each later load), instead of at their first JIT compilation. */
    bool rejit;
    char *rejit_at; /* owned; NULL: requests at module load */
} ilg__plugin_rules;

/* Parses the rules JSON at text[0..len) into out (replacing nothing: out must be
 * empty). E_PROF_RULES naming the rule index and the offending value on any error;
 * out is left empty then. */
ilg_status ilg__plugin_rules_parse(const char *text, size_t len, ilg__plugin_rules *out);
/* Reads and parses the file at path (E_IO when unreadable). */
ilg_status ilg__plugin_rules_load(const char *path, ilg__plugin_rules *out);
void ilg__plugin_rules_free(ilg__plugin_rules *r);
/* True when rule's pattern matches "full" (Ns.Type::Method) or "simple" (Type::Method). */
bool ilg__plugin_rule_matches(const ilg__plugin_rule *rule, const char *full, const char *simple);
const char *ilg__plugin_action_name(ilg__plugin_action a);
/* True when two probe rules name the same probe (text, version and key). */
bool ilg__plugin_same_probe(const ilg__plugin_rule *a, const ilg__plugin_rule *b);
/* The probe's method signature (DEFAULT, its parameters, VOID) into sig (at least
 * 3 + ILG__PROBE_ARGS_MAX bytes); its length. */
size_t ilg__plugin_probe_sig(const ilg__plugin_rule *r, uint8_t *sig);

/* What a rewrite needs from the runtime, supplied by plugin.c. */
typedef struct ilg__plugin_env {
    const ilg_stack_resolver *resolver; /* call shapes and the method's own return */
    uint32_t probe_token;               /* probe-*: MethodDef or MemberRef (0: not found) */
    uint32_t ret_local;                 /* probe-exit: a local of the return type, or ILG_NO_LOCAL */
    bool returns_value;                 /* the method returns something */
    ilg_body *scratch;                  /* reused for snippets (NULL: one is made per call) */
    uint32_t method_token;              /* int32 parameter: the method's token */
    uint32_t name_string;               /* string parameter: its name's user string */
    uint32_t box_token;                 /* object parameter: box with it (0: no box) */
    bool ret_null;                      /* object parameter: ldnull (void, byref, pointer) */
    bool new_local;                     /* ret_local was appended for the probe (log) */
} ilg__plugin_env;

/* Applies one rule's action to b (decoded, instructions tagged). E_PROF_RULES when
 * the rule cannot apply (probe not found); ilbody statuses otherwise. *how names the
 * variant used (static text). */
ilg_status ilg__plugin_apply(ilg_body *b, const ilg__plugin_rule *rule,
                             const ilg__plugin_env *env, const char **how);

/* ---- methods.c: the methods handled so far, shared by every JIT thread ---------- */

/* CoreCLR compiles a method again at tier-up, for on-stack replacement and for each
 * value-type instantiation of a generic method; GetILFunctionBody then returns the body
 * the plugin installed. The table records, per (ModuleID, MethodDef token), the body
 * installed the first time (or none), so that every later compilation gets that body
 * instead of a rewrite of the rewrite. Thread-safe; striped locks, no global one. */
typedef struct ilg__plugin_methods ilg__plugin_methods;

typedef enum ilg__method_claim {
    ILG__CLAIM_MINE,  /* first time: the caller builds, then calls ilg__plugin_methods_finish */
    ILG__CLAIM_DONE,  /* handled before: *body, *size are what was installed (NULL: nothing) */
    ILG__CLAIM_NOMEM
} ilg__method_claim;

ilg_status ilg__plugin_methods_new(ilg__plugin_methods **out);
void ilg__plugin_methods_free(ilg__plugin_methods *t);
/* Claims (module, token). A method another thread is building is waited for (*waited
 * true), then reported DONE. Every MINE claim must be finished, or waiters wait for
 * ever. */
ilg__method_claim ilg__plugin_methods_claim(ilg__plugin_methods *t, uintptr_t module,
                                            uint32_t token, const uint8_t **body,
                                            uint32_t *size, bool *waited);
/* Records the body installed for a claimed method (NULL, 0: left as it was) and wakes
 * the threads waiting for it. The body stays the runtime's (IMethodMalloc memory). */
void ilg__plugin_methods_finish(ilg__plugin_methods *t, uintptr_t module, uint32_t token,
                                const uint8_t *body, uint32_t size);
/* Notes that module has entries (call before its first claim); false when memory is
 * short, and then the module's entries would survive the reuse of its id. */
bool ilg__plugin_methods_note_module(ilg__plugin_methods *t, uintptr_t module);
/* Drops every entry of module (its id now names a newly loaded module); returns how
 * many. Cheap for a module that has none. */
size_t ilg__plugin_methods_forget(ilg__plugin_methods *t, uintptr_t module);

/* ---- log.c: the log (ILGRAFT_LOG, else stderr), shared by every JIT thread ------- */

/* Lines go out whole: each write(2) holds whole lines only, so processes appending to
 * one file interleave lines, never parts of lines. A regular file gets them through a
 * 64 KiB buffer that a flusher thread writes out 50 ms after its first line. */
typedef struct ilg__plugin_log ilg__plugin_log;

/* A log on stderr, each line written at once; NULL when memory is short. Owned by the
 * caller (ilg__plugin_log_free). */
ilg__plugin_log *ilg__plugin_log_new(void);
/* Moves the log to the file at path, opened for append (created 0666 less the umask);
 * a regular file is buffered (and gets the flusher thread) when buffered says lines
 * may wait (the failures level writes each at once). 0, or errno with the log left on
 * stderr. Call once, before any line. */
int ilg__plugin_log_open(ilg__plugin_log *log, const char *path, bool buffered);
/* Logs line[0..n), one or more whole lines, newlines included. now: written out before
 * returning, with every line before it (failures, set-up, the summary); otherwise the
 * line may wait in the buffer for up to 50 ms. Thread-safe. */
void ilg__plugin_log_write(ilg__plugin_log *log, const char *line, size_t n, bool now);
/* Room for n bytes of whole lines straight in the log's buffer, which stays locked
 * until ilg__plugin_log_commit says how many were used (the lines then wait as
 * ilg__plugin_log_write's do); saves a copy per line. NULL, with nothing locked, when
 * the log has no buffer (stderr, a pipe) or n is larger than it. */
char *ilg__plugin_log_reserve(ilg__plugin_log *log, size_t n);
void ilg__plugin_log_commit(ilg__plugin_log *log, size_t used);
/* Writes out what waits, stops the flusher, closes the file. NULL is ignored. */
void ilg__plugin_log_free(ilg__plugin_log *log);

#endif
