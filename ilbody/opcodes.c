/* opcodes.c: the opcode table generated from opcodes.def, the decode lookup by
 * encoding, lookup by name, and the short/long branch pairs. */
#include <pthread.h>

#include "ilbody_private.h"

/* Stack counts by token so that VAR and CLEAR stay plain tokens for the tables below. */
#define STACK_0 0
#define STACK_1 1
#define STACK_2 2
#define STACK_3 3
#define STACK_VAR ILG_STACK_VAR
#define STACK_CLEAR ILG_STACK_CLEAR

const ilg_opcode_info ilg__opcodes[ILG_OP_COUNT] = {
#define ILG_OPCODE(id, nm, enc, opnd, po, pu, fl)                                              \
    [ILG_OP_##id] = { .name = nm, .encoding = enc, .size = (enc) > 0xFF ? 2 : 1,               \
                      .operand = ILG_OPND_##opnd, .pops = STACK_##po, .pushes = STACK_##pu,              \
                      .flow = ILG_FLOW_##fl },
#include "ilgraft/opcodes.def"
#undef ILG_OPCODE
};

#define LOOKUP_INDEX(enc) ((enc) > 0xFF ? 0x100 + ((enc) & 0xFF) : (enc))
/* uint8_t is enough while there are fewer than 255 opcodes. */
_Static_assert(ILG_OP_COUNT < 255, "opcode lookup stores op + 1 in a byte");

const uint8_t ilg__op_lookup[512] = {
#define ILG_OPCODE(id, nm, enc, opnd, po, pu, fl) [LOOKUP_INDEX(enc)] = ILG_OP_##id + 1,
#include "ilgraft/opcodes.def"
#undef ILG_OPCODE
};

const uint8_t ilg__operand_size[] = {
    [ILG_OPND_NONE] = 0, [ILG_OPND_I1] = 1, [ILG_OPND_U1] = 1, [ILG_OPND_I4] = 4,
    [ILG_OPND_I8] = 8, [ILG_OPND_R4] = 4, [ILG_OPND_R8] = 8, [ILG_OPND_BR1] = 1,
    [ILG_OPND_BR4] = 4, [ILG_OPND_SWITCH] = 4, [ILG_OPND_VAR1] = 1, [ILG_OPND_VAR2] = 2,
    [ILG_OPND_METHOD] = 4, [ILG_OPND_FIELD] = 4, [ILG_OPND_TYPE] = 4, [ILG_OPND_TOKEN] = 4,
    [ILG_OPND_STRING] = 4, [ILG_OPND_SIG] = 4,
};

/* Hot-loop tables generated from the same rows: operand bytes, encoded length and flags. */
#define OPSZ_NONE 0
#define OPSZ_I1 1
#define OPSZ_U1 1
#define OPSZ_I4 4
#define OPSZ_I8 8
#define OPSZ_R4 4
#define OPSZ_R8 8
#define OPSZ_BR1 1
#define OPSZ_BR4 4
#define OPSZ_SWITCH 4
#define OPSZ_VAR1 1
#define OPSZ_VAR2 2
#define OPSZ_METHOD 4
#define OPSZ_FIELD 4
#define OPSZ_TYPE 4
#define OPSZ_TOKEN 4
#define OPSZ_STRING 4
#define OPSZ_SIG 4

#define FLK_NONE 0
#define FLK_I1 ILG__F_SIGNED
#define FLK_U1 0
#define FLK_I4 ILG__F_SIGNED
#define FLK_I8 ILG__F_SIGNED
#define FLK_R4 0
#define FLK_R8 0
#define FLK_BR1 (ILG__F_TARGET | ILG__F_SHORT)
#define FLK_BR4 ILG__F_TARGET
#define FLK_SWITCH ILG__F_SWITCH
#define FLK_VAR1 0
#define FLK_VAR2 0
#define FLK_METHOD 0
#define FLK_FIELD 0
#define FLK_TYPE 0
#define FLK_TOKEN 0
#define FLK_STRING 0
#define FLK_SIG 0

#define FLF_NEXT 0
#define FLF_BRANCH (ILG__F_NOFALL | ILG__F_SPECIAL)
#define FLF_COND 0
#define FLF_CALL 0
#define FLF_RETURN (ILG__F_NOFALL | ILG__F_SPECIAL)
#define FLF_THROW (ILG__F_NOFALL | ILG__F_SPECIAL)
#define FLF_PREFIX ILG__F_PREFIX
#define FLF_BREAK 0

/* call, callvirt, newobj and calli (not ret): the encoder needs a resolver for them */
#define FLP_0 0
#define FLP_1 0
#define FLP_2 0
#define FLP_3 0
#define FLP_VAR ILG__F_VAR
#define FLP_CLEAR ILG__F_SPECIAL

#define OP_FLAGS(opnd, po, pu, fl) (FLK_##opnd | FLF_##fl | FLP_##po | FLP_##pu)
#define OP_EXTRA(id, enc, po, fl)                                                               \
    ((STACK_##po == ILG_STACK_VAR && ILG_FLOW_##fl == ILG_FLOW_CALL ? ILG__F_CALL : 0) |        \
     ((enc) == 0xFE0F ? ILG__F_LOCALLOC : 0))

const uint8_t ilg__op_len[ILG_OP_COUNT] = {
#define ILG_OPCODE(id, nm, enc, opnd, po, pu, fl) [ILG_OP_##id] = ((enc) > 0xFF ? 2 : 1) + OPSZ_##opnd,
#include "ilgraft/opcodes.def"
#undef ILG_OPCODE
};

const uint16_t ilg__op_flags[ILG_OP_COUNT] = {
#define ILG_OPCODE(id, nm, enc, opnd, po, pu, fl)                                                \
    [ILG_OP_##id] = OP_FLAGS(opnd, po, pu, fl) | OP_EXTRA(id, enc, po, fl),
#include "ilgraft/opcodes.def"
#undef ILG_OPCODE
};

const uint32_t ilg__op_enc[ILG_OP_COUNT] = {
#define ILG_OPCODE(id, nm, enc, opnd, po, pu, fl)                                                \
    [ILG_OP_##id] = ((enc) > 0xFF ? 0xFEu | ((uint32_t)(enc) & 0xFF) << 8 | 2u << 16             \
                                  : (uint32_t)(enc) | 1u << 16) |                               \
                    (uint32_t)OPSZ_##opnd << 20,
#include "ilgraft/opcodes.def"
#undef ILG_OPCODE
};

const uint32_t ilg__dec[512] = {
#define ILG_OPCODE(id, nm, enc, opnd, po, pu, fl)                                                \
    [LOOKUP_INDEX(enc)] = (uint32_t)(ILG_OP_##id + 1) | (uint32_t)OPSZ_##opnd << 8 |            \
                          (uint32_t)(OP_FLAGS(opnd, po, pu, fl) & 0xFF) << 16,
#include "ilgraft/opcodes.def"
#undef ILG_OPCODE
};

const ilg_opcode_info *ilg_opcode_get(ilg_opcode op)
{
    return (unsigned)op < ILG_OP_COUNT ? &ilg__opcodes[op] : NULL;
}

/* Branch pairs: br.s..blt.un.s (0x2B..0x37) and br..blt.un (0x38..0x44) run in
 * parallel, 13 apart; leave.s/leave stand alone. */
uint16_t ilg__branch_short(uint16_t op)
{
    uint16_t enc = ilg__opcodes[op].encoding;
    if (enc >= 0x38 && enc <= 0x44)
        return (uint16_t)(ilg__op_lookup[enc - 13] - 1);
    if (op == ILG_OP_LEAVE)
        return ILG_OP_LEAVE_S;
    return op;
}

uint16_t ilg__branch_long(uint16_t op)
{
    uint16_t enc = ilg__opcodes[op].encoding;
    if (enc >= 0x2B && enc <= 0x37)
        return (uint16_t)(ilg__op_lookup[enc + 13] - 1);
    if (op == ILG_OP_LEAVE_S)
        return ILG_OP_LEAVE;
    return op;
}

static uint16_t by_name[ILG_OP_COUNT];
static pthread_once_t by_name_once = PTHREAD_ONCE_INIT;

static int cmp_name(const void *a, const void *b)
{
    return strcmp(ilg__opcodes[*(const uint16_t *)a].name, ilg__opcodes[*(const uint16_t *)b].name);
}

static void build_by_name(void)
{
    for (uint16_t i = 0; i < ILG_OP_COUNT; i++)
        by_name[i] = i;
    qsort(by_name, ILG_OP_COUNT, sizeof by_name[0], cmp_name);
}

ilg_status ilg_opcode_by_name(const char *name, size_t len, ilg_opcode *out)
{
    if (!name || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "name and out are required");
    pthread_once(&by_name_once, build_by_name);
    size_t lo = 0, hi = ILG_OP_COUNT;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *n = ilg__opcodes[by_name[mid]].name;
        int c = strncmp(n, name, len);
        if (c == 0 && n[len] != '\0')
            c = 1;
        if (c == 0) {
            *out = (ilg_opcode)by_name[mid];
            return ILG_OK;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return ilg__fail(ILG_E_NOT_FOUND, ILG_WHERE_NONE, 0, "no opcode named '%.*s'", (int)len, name);
}
