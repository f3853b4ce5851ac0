/* typeflow_private.h: the type-level verifier's state and what its two files share:
 * typeflow.c (findings, the JIT's types and their merge, tokens, one instruction, the
 * data flow) and typeops.c (each opcode family's checks). Not installed. */
#ifndef ILG_TYPEFLOW_PRIVATE_H
#define ILG_TYPEFLOW_PRIVATE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "ilgraft/metadata.h"
#include "typeck.h"

#define NONE_JP UINT32_MAX

typedef struct tflow {
    const ilg_body *b;
    const ilg_type_resolver *r;
    ilg_findings *out;
    tcache *c;
    const uint8_t *fold;   /* branches the JIT decides as it imports (NULL: none) */
    ilg_verify_level level;
    bool report;
    vmethod m;
    bool have_m;
    const vt *locals;
    uint32_t nlocals;
    bool have_locals;
    /* join points: instructions where paths meet, with their entry stacks */
    uint32_t *jp_of;       /* [count]: join point index or NONE_JP */
    uint32_t *jp_at;       /* [njp]: instruction */
    int32_t *jp_depth;     /* [njp]: entry depth, -1 before the first path arrives */
    vt *jp_state;          /* [njp * maxd] */
    uint32_t njp, maxd;
    uint32_t *work;        /* pending join points */
    uint8_t *queued;
    uint32_t nwork;
    uint8_t *region;       /* [count]: 1 inside a handler or filter */
    bool changed;          /* a join point's types widened after its block was checked */
    uint8_t *visited;      /* [njp] */
    vt *stack;
    uint32_t sp;
    bool dead;             /* the path cannot go on (a structural fault) */
} tflow;

/* ---- the stack ----------------------------------------------------------------------- */

static inline vt pop(tflow *f)
{
    if (f->sp == 0) {
        f->dead = true; /* an underflow: the structural pass reports it */
        return vt_of(VK_UNKNOWN);
    }
    return f->stack[--f->sp];
}

static inline void push(tflow *f, vt t)
{
    if (t.k == VK_NONE)
        return;
    if (f->sp >= f->maxd) {
        f->dead = true; /* past maxstack: reported structurally */
        return;
    }
    f->stack[f->sp++] = t;
}


static inline bool is_int(uint8_t k) { return k == VK_I4 || k == VK_I8 || k == VK_NI; }
static inline bool is_float(uint8_t k) { return k == VK_R4 || k == VK_R8; }

/* TYP_* classes that impCheckImplicitArgumentCoercion tells apart. */
enum jtype { J_SMALL, J_INT, J_LONG, J_FLOAT, J_DOUBLE, J_REF, J_BYREF, J_STRUCT, J_ANY };

static inline enum jtype jtype(const vt *t)
{
    switch (t->k) {
    case VK_I4: return t->small ? J_SMALL : J_INT;
    case VK_I8: case VK_NI: return J_LONG; /* native int is TYP_LONG on a 64-bit target */
    case VK_R4: return J_FLOAT;
    case VK_R8: return J_DOUBLE;
    case VK_REF: return J_REF;
    case VK_BYREF: return J_BYREF;
    case VK_STRUCT: return J_STRUCT;
    default: return J_ANY;
    }
}

/* A verification type as text for a finding (a temporary buffer per use). */
#define TN(t) ilg__vt_name(&(t), (char[64]){ 0 }, 64)

/* What a BYREF's small records of the local whose address it is (ldloca), for a 16-bit
 * store through it: the JIT stores into a 16-bit local normally (observed: a float
 * through `ldloca` of a char local compiles), but crashes storing a float as 16 bits
 * into an int32 local, an argument (ldarga) or any other location. What it does with
 * other locals was not observed: no finding there. */
enum { LA_NONE = 0, LA_OTHER = 0xff };

/* The tables a type token may name. */
static const uint8_t type_tables[] = { ILG_TBL_TypeDef, ILG_TBL_TypeRef, ILG_TBL_TypeSpec };

/* ---- typeflow.c ----------------------------------------------------------------------- */

/* A finding at instruction i: an error (with the outcome the runtime gives) or a warning. */
void ilg__tf_err(tflow *f, uint32_t i, ilg_status rule, ilg_outcome outcome, const char *fmt, ...) ILG_PRINTF(5, 6);
void ilg__tf_warn(tflow *f, uint32_t i, ilg_status rule, const char *fmt, ...) ILG_PRINTF(4, 5);
/* want accepts have as the JIT's implicit coercions allow. */
bool ilg__tf_coerces(const vt *want, const vt *have);
/* The member (or type) instruction i's token names, resolved and described; NULL (with
 * a finding) when it does not resolve or is of another kind. */
const mdesc *ilg__tf_member(tflow *f, uint32_t i, ilg_member_kind want);
void ilg__tf_missing_member(tflow *f, uint32_t i, uint32_t tok);
bool ilg__tf_foreign_params(tflow *f, uint32_t i, uint32_t tok, const uint32_t need[2]);
const tdesc *ilg__tf_any_type_tok(tflow *f, uint32_t i, uint32_t tok, bool open_ok);
/* token's table is one of tables[n]. */
bool ilg__tf_table_in(uint32_t token, const uint8_t *tables, size_t n);
/* The value instruction i's type token stands for. */
vt ilg__tf_type_value(tflow *f, uint32_t i);

/* ---- typeops.c ------------------------------------------------------------------------ */

/* Which argument or local an instruction names (kind: load, address, store; -1 none). */
int ilg__tf_slot_of(const ilg_instr *in, bool *arg, uint32_t *idx);
/* A call's target may be called by op (else a finding). */
bool ilg__tf_callable(tflow *f, uint32_t i, uint16_t op, const mdesc *d);
/* Each opcode family's effect on the stack, with its findings. */
void ilg__tf_t_slot(tflow *f, uint32_t i, int kind, bool is_arg, uint32_t idx);
void ilg__tf_t_binary(tflow *f, uint32_t i, uint16_t op);
void ilg__tf_t_unary(tflow *f, uint32_t i, uint16_t op);
void ilg__tf_t_conv(tflow *f, uint32_t i, uint16_t op);
void ilg__tf_t_compare(tflow *f, uint32_t i, uint16_t op);
void ilg__tf_t_field(tflow *f, uint32_t i, uint16_t op);
void ilg__tf_t_call(tflow *f, uint32_t i, uint16_t op);
void ilg__tf_t_calli(tflow *f, uint32_t i);
void ilg__tf_t_ftn(tflow *f, uint32_t i, uint16_t op);
void ilg__tf_t_object(tflow *f, uint32_t i, uint16_t op);
void ilg__tf_t_array(tflow *f, uint32_t i, uint16_t op);
void ilg__tf_t_indirect(tflow *f, uint32_t i, uint16_t op);
void ilg__tf_t_ldstr(tflow *f, uint32_t i);
void ilg__tf_t_ldtoken(tflow *f, uint32_t i);
void ilg__tf_t_jmp(tflow *f, uint32_t i);
void ilg__tf_t_localloc(tflow *f, uint32_t i);
void ilg__tf_t_branch(tflow *f, uint32_t i, uint16_t op);
void ilg__tf_t_throw(tflow *f, uint32_t i);
void ilg__tf_t_ret(tflow *f, uint32_t i);

#endif
