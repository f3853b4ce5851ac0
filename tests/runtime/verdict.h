/* verdict.h: the differential test's comparison (shared by test_verify_jit.c and
 * bench_verify_jit.c): the JIT's verdict on each mutant (jitrun.c) against ilgraft's
 * `jit`-level verdict on the same bytes, tallied per mutation family. */
#ifndef ILG_VERDICT_H
#define ILG_VERDICT_H

#include <stdio.h>

#include "mutate.h"

/* The documented exceptions: kinds of mutant on which the runtime's verdict is not one
 * ilgraft can give (docs/coreclr-observed.md, "What the JIT rejects"). */
typedef enum vx_doc {
    VX_DOC_VALUE_TYPE, VX_DOC_MISSING_METHODDEF, VX_DOC_JIT_MEMORY, VX_DOC_RETBUF_ARG,
    VX_DOC_NEWOBJ_METHOD, VX_DOC_TYPE_INTRINSIC, VX_DOC_FLOAT_ARG, VX_DOC_METHOD_POINTER,
    VX_DOC_MERGED_PATHS, VX_DOC_FAULT_ORDER, VX_DOC_SPAN_ITEM_OPTIMIZED, VX_DOC_CONSTRAINED_SLOT,
    VX_DOC_CONSTRAINED_STATIC,
    VX_DOC_INSTANTIATION, VX_DOC_OPEN_OWNER, VX_DOC_RETYPED_SPILL, VX_DOC_COUNT
} vx_doc;

typedef struct vx_tally {
    /* mutants compared = agree + documented + disagree (undocumented) */
    unsigned long mutants, agree, documented, disagree, not_installed, baseline_methods, baseline_failed;
    unsigned long family[MX_FAMILY_COUNT][3];          /* [family][0 disagree, 1 agree, 2 documented] */
    unsigned long matrix[MX_OUTCOME_COUNT][MX_OUTCOME_COUNT]; /* [jit][ilgraft] */
    unsigned long doc[VX_DOC_COUNT];
} vx_tally;

const char *vx_doc_name(vx_doc d);
const char *vx_doc_reason(vx_doc d);

/* ilgraft's `jit`-level verdict on a body for MethodDef token of scope's module (the
 * outcome of its first error), and that error in why. */
mx_outcome vx_predict(const ilg_md_scope *scope, uint32_t token, const uint8_t *bytes, uint32_t size,
                      char *why, size_t why_size);
/* The whole run on one assembly: about n mutants from seed; every disagreement (and,
 * with log, every mutant) printed. False when the runtime could not be run. */
bool vx_assembly(mx_runner *r, const char *path, unsigned long n, unsigned long seed,
                 uint32_t max_code, FILE *log, vx_tally *t);
/* When set, only mutants of the family so named are made. */
extern const char *vx_only_family;
/* When set, every disagreement of the family so named ("": all) is disassembled. */
extern const char *vx_show;
void vx_add(vx_tally *to, const vx_tally *from);
void vx_print_tally(FILE *out, const char *title, const vx_tally *t);

#endif
