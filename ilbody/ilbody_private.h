/* ilbody_private.h: what the ilbody sources share: the opcode decode tables, array
 * growth, the prefix-unit and branch-form helpers, and the EH nesting queries that
 * the encoder and verifier both need. Not installed. */
#ifndef ILBODY_PRIVATE_H
#define ILBODY_PRIVATE_H

#include <stdlib.h>

#include "ilg_private.h"
#include "ilgraft/ilbody.h"

#define ILG__NO_OP 0xFFFF

extern const ilg_opcode_info ilg__opcodes[ILG_OP_COUNT];
/* Opcode + 1 by encoding (0: unknown): [byte] for one-byte opcodes, [0x100 + second]
 * for 0xFE-prefixed ones. */
extern const uint8_t ilg__op_lookup[512];

/* Hot-loop facts per opcode. */
enum {
    ILG__F_TARGET = 1,   /* BR1 or BR4 operand */
    ILG__F_SHORT = 2,    /* BR1 */
    ILG__F_SWITCH = 4,
    ILG__F_NOFALL = 8,   /* never falls through: branch, return, throw */
    ILG__F_PREFIX = 16,
    ILG__F_VAR = 32,     /* stack effect from a signature */
    ILG__F_SPECIAL = 64, /* placement rules: leave, ret, jmp, endfinally, endfilter, (re)throw */
    ILG__F_SIGNED = 128, /* signed integer operand */
    ILG__F_CALL = 256,   /* call, callvirt, newobj, calli: maxstack needs a resolver */
    ILG__F_LOCALLOC = 512
};
/* Opcode plus operand bytes (a switch adds 4 per case). */
extern const uint8_t ilg__op_len[ILG_OP_COUNT];
extern const uint16_t ilg__op_flags[ILG_OP_COUNT];
/* Opcode bytes as a little-endian word | opcode length << 16 | operand length << 20. */
extern const uint32_t ilg__op_enc[ILG_OP_COUNT];
/* By encoding index (as ilg__op_lookup): op + 1 | operand bytes << 8 | flags << 16. */
extern const uint32_t ilg__dec[512];

/* Operand bytes of a kind (SWITCH: the count only; the table adds 4 per case). */
extern const uint8_t ilg__operand_size[];

static inline bool ilg__is_prefix(uint16_t op) { return ilg__opcodes[op].flow == ILG_FLOW_PREFIX; }
static inline bool ilg__is_branch(uint16_t op)
{
    uint8_t k = ilg__opcodes[op].operand;
    return k == ILG_OPND_BR1 || k == ILG_OPND_BR4;
}
/* The short form of a long branch and the reverse (op itself when there is none). */
uint16_t ilg__branch_short(uint16_t op);
uint16_t ilg__branch_long(uint16_t op);

/* Encoded size of instruction i of b. */
static inline uint32_t ilg__instr_size(const ilg_body *b, const ilg_instr *in)
{
    if (ilg__op_flags[in->op] & ILG__F_SWITCH)
        return 5 + 4 * in->arg.sw.count;
    return ilg__op_len[in->op];
}

/* Scratch words owned by the body (working space; contents undefined on entry). NULL
 * (with the diagnostic recorded) when out of memory. */
uint32_t *ilg__scratch(ilg_body *b, uint64_t words);

/* True when clause a is nested inside clause c: a's try block lies inside c's try
 * (strictly smaller), handler or filter block. */
bool ilg__clause_nested_in(const ilg_eh_clause *a, const ilg_eh_clause *c);

/* Stack effect with the resolver, as ilg_body_stack_effect without the argument checks.
 * Returns false when unknown. The table answers most instructions inline; signatures
 * are asked only for call, callvirt, newobj, calli and ret. */
bool ilg__stack_effect_var(const ilg_body *b, const ilg_instr *in, const ilg_stack_resolver *r,
                           int *pops, int *pushes);
static inline bool ilg__stack_effect(const ilg_body *b, const ilg_instr *in,
                                     const ilg_stack_resolver *r, int *pops, int *pushes)
{
    const ilg_opcode_info *oi = &ilg__opcodes[in->op];
    if (!(ilg__op_flags[in->op] & ILG__F_VAR)) {
        *pops = oi->pops;
        *pushes = oi->pushes;
        return true;
    }
    return ilg__stack_effect_var(b, in, r, pops, pushes);
}

/* Deepest stack by the verifier's data flow; depth is working space for 2 * (count + 1)
 * entries. Fails with the first stack rule broken or E_IL_STACK_UNKNOWN. */
ilg_status ilg__flow_max_stack(const ilg_body *b, const ilg_stack_resolver *r, int32_t *depth,
                               uint32_t *out);

#endif
