/* mutate.h: the verifier's differential test against CoreCLR's JIT, shared by the CI
 * suite (test_verify_jit.c) and the larger benchmark-style run (bench_verify_jit.c).
 *
 * mutate.c makes realistic broken bodies from real methods: it opens an assembly,
 * picks the methods a driver can compile on their own (not generic, with IL), and
 * applies one mutation of a family to a method's decoded body (a wrong local or
 * argument index, a swapped opcode, a token of the wrong kind, a push of another type,
 * a dropped conversion, an inserted call with made-up arguments, ...). jitrun.c
 * installs mutants in a real CoreCLR through tests/runtime/verify_prof.c, has
 * fixtures/cs/VerifyDriver compile each method, and reads back the runtime's verdict
 * on each: compiled, an exception (which one), or the process killed. */
#ifndef ILG_MUTATE_H
#define ILG_MUTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ilgraft/ilbody.h"
#include "ilgraft/metadata.h"

typedef enum mx_family {
    MX_LOCAL_INDEX, MX_ARG_INDEX, MX_SWAP, MX_OPCODE, MX_TOKEN, MX_PUSH, MX_DROP_CONV,
    MX_INSERT_CALL, MX_INSERT_OP, MX_STRUCTURE, MX_SPECIAL, MX_EH, MX_MATRIX, MX_FAMILY_COUNT
} mx_family;

typedef struct mx_method {
    uint32_t token;
    uint32_t nargs;      /* including `this` */
    uint32_t nlocals;
    bool has_this;
} mx_method;

/* One assembly, its candidate methods and the tokens its bodies use (to make mutants
 * that name real members). */
typedef struct mx_module {
    const char *path;
    ilg_image *img;
    const ilg_metadata *md;
    ilg_md_scope scope;  /* md, with a universe of the assemblies beside it */
    mx_method *methods;
    size_t count;
    uint32_t *pool[5];   /* call targets, fields, types, strings, calli signatures */
    size_t pool_count[5];
    /* fixtures/il/gen_slots_il.c's assembly: the members the operator matrix uses (0
     * when the module is another) */
    struct {
        uint32_t take[13], get, box, pair, color, shape, value, count, max, area, box_ctor, small, letter;
    } slots;
} mx_module;

enum { MX_POOL_METHOD, MX_POOL_FIELD, MX_POOL_TYPE, MX_POOL_STRING, MX_POOL_SIG };

typedef struct mx_mutant {
    uint32_t token;      /* the method */
    mx_family family;
    char what[160];      /* the mutation, e.g. "IL_0004: ldloc.1 -> ldloc.s 3" */
    uint8_t *bytes;      /* the whole body, malloc'd */
    uint32_t size;
} mx_mutant;

/* Opens path and selects methods with max_code bytes of IL at most. */
bool mx_open(const char *path, uint32_t max_code, mx_module *m);
void mx_close(mx_module *m);
/* The original body of meth as bytes (for the baseline run). */
bool mx_original(mx_module *m, const mx_method *meth, mx_mutant *out);
/* A mutant of meth of the family; false when the family does not apply to it. rng is
 * the caller's xorshift state. */
bool mx_make(mx_module *m, const mx_method *meth, mx_family family, uint64_t *rng,
             mx_mutant *out);
void mx_mutant_free(mx_mutant *mu);
const char *mx_family_name(mx_family f);
uint64_t mx_rand(uint64_t *rng);

/* ---- running mutants in CoreCLR (jitrun.c) --------------------------------------- */

typedef enum mx_outcome {
    MX_NOT_RUN, MX_OK, MX_INVALID_PROGRAM, MX_BAD_IMAGE, MX_OTHER_EXCEPTION, MX_CRASH,
    MX_OUTCOME_COUNT
} mx_outcome;

typedef struct mx_verdict {
    mx_outcome outcome;
    bool installed;      /* the profiler set the mutant (else the verdict is the original's) */
    char detail[200];    /* exception type and message, or how the process ended */
} mx_verdict;

typedef struct mx_runner {
    const char *dotnet, *driver, *profiler, *work_dir;
    unsigned timeout_ms;          /* per process */
    unsigned long processes;      /* dotnet processes started so far */
} mx_runner;

/* Runs the n mutants (distinct methods of the module at dll) in as few processes as
 * crashes allow and fills verdicts[i]. False when dotnet could not be run at all. */
bool mx_run(mx_runner *r, const char *dll, const mx_mutant *mutants, size_t n,
            mx_verdict *verdicts);
const char *mx_outcome_name(mx_outcome o);

#endif
