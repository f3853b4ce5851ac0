/* fold.c: the conditional branches CoreCLR's JIT decides while it imports a body. Its
 * importer folds the condition of brtrue, brfalse and the two-operand branches when
 * the values are constants of the branch's own basic block (importer.cpp, COND_JUMP:
 * gtFoldExpr, then a constant condition makes the branch unconditional), even at
 * tier 0; the edge not taken is never imported, so nothing in code reached only
 * through it is checked. Observed (docs/coreclr-observed.md): ldc.*, ldnull, ldstr,
 * the constant static fields (BitConverter.IsLittleEndian, IntPtr.Zero), dup, and
 * arithmetic, comparisons and conversions of those fold; a value that crosses a block
 * boundary (the JIT spills it to a temporary), a division by zero and switch do not. */
#include "typeck.h"

enum { CV_UNKNOWN, CV_I4, CV_I8, CV_R4, CV_R8, CV_NULL, CV_STRING };

typedef struct cval {
    uint8_t k;
    int64_t i;   /* CV_I4 (sign-extended), CV_I8 */
    double d;    /* CV_R4, CV_R8 */
} cval;

#define STACK_MAX 32

/* The instructions where the JIT starts a basic block: the entry, every branch and
 * switch target (of live code or dead), the instruction after a branch, switch, return
 * or throw, and the EH boundaries. One bit per instruction. */
static void block_starts(const ilg_body *b, uint8_t *bits)
{
    memset(bits, 0, ((size_t)b->count + 8) / 8);
#define SET(i) do { uint32_t x_ = (i); if (x_ < b->count) bits[x_ >> 3] |= (uint8_t)(1u << (x_ & 7)); } while (0)
    SET(0);
    for (uint32_t i = 0; i < b->count; i++) {
        const ilg_instr *in = &b->instrs[i];
        const unsigned fl = ilg__op_flags[in->op];
        if (fl & ILG__F_TARGET)
            SET(in->arg.target);
        else if (fl & ILG__F_SWITCH)
            for (uint32_t k = 0; k < in->arg.sw.count; k++)
                SET(b->targets[in->arg.sw.first + k]);
        if (fl & (ILG__F_TARGET | ILG__F_SWITCH | ILG__F_NOFALL))
            SET(i + 1);
    }
    for (uint32_t c = 0; c < b->eh_count; c++) {
        const ilg_eh_clause *e = &b->eh[c];
        SET(e->try_start);
        SET(e->try_end);
        SET(e->handler_start);
        SET(e->handler_end);
        if (e->kind == ILG_EH_FILTER)
            SET(e->filter_start);
    }
#undef SET
}

static bool is_start(const uint8_t *bits, uint32_t i) { return bits[i >> 3] >> (i & 7) & 1; }

static cval ci(uint8_t k, int64_t v) { return (cval){ k, k == CV_I4 ? (int64_t)(int32_t)v : v, 0 }; }
static cval cr(uint8_t k, double v) { return (cval){ k, 0, k == CV_R4 ? (double)(float)v : v }; }
static bool is_i(const cval *v) { return v->k == CV_I4 || v->k == CV_I8; }
static bool is_r(const cval *v) { return v->k == CV_R4 || v->k == CV_R8; }

/* A binary operation on two constants of one kind, as gtFoldExprConst folds it
 * (nothing that would raise: a division by zero or an overflow stays unfolded). */
static cval binary(uint16_t op, cval a, cval b)
{
    const cval none = { CV_UNKNOWN, 0, 0 };
    if (is_r(&a) && is_r(&b)) {
        const uint8_t k = a.k == CV_R4 && b.k == CV_R4 ? CV_R4 : CV_R8;
        switch (op) {
        case ILG_OP_ADD: return cr(k, a.d + b.d);
        case ILG_OP_SUB: return cr(k, a.d - b.d);
        case ILG_OP_MUL: return cr(k, a.d * b.d);
        case ILG_OP_DIV: return cr(k, a.d / b.d);
        default: return none;
        }
    }
    if (!is_i(&a) || a.k != b.k)
        return none;
    const bool w = a.k == CV_I8;
    const uint64_t ua = w ? (uint64_t)a.i : (uint32_t)a.i, ub = w ? (uint64_t)b.i : (uint32_t)b.i;
    const int64_t min = w ? INT64_MIN : INT32_MIN;
    const unsigned sh = (unsigned)(b.i & (w ? 63 : 31));
    switch (op) {
    case ILG_OP_ADD: return ci(a.k, (int64_t)(ua + ub));
    case ILG_OP_SUB: return ci(a.k, (int64_t)(ua - ub));
    case ILG_OP_MUL: return ci(a.k, (int64_t)(ua * ub));
    case ILG_OP_AND: return ci(a.k, a.i & b.i);
    case ILG_OP_OR: return ci(a.k, a.i | b.i);
    case ILG_OP_XOR: return ci(a.k, a.i ^ b.i);
    case ILG_OP_SHL: return ci(a.k, (int64_t)(ua << sh));
    case ILG_OP_SHR: return ci(a.k, a.i >> sh);
    case ILG_OP_SHR_UN: return ci(a.k, (int64_t)(ua >> sh));
    case ILG_OP_DIV: case ILG_OP_REM:
        if (b.i == 0 || (a.i == min && b.i == -1))
            return none;
        return ci(a.k, op == ILG_OP_DIV ? a.i / b.i : a.i % b.i);
    case ILG_OP_DIV_UN: case ILG_OP_REM_UN:
        if (ub == 0)
            return none;
        return ci(a.k, (int64_t)(op == ILG_OP_DIV_UN ? ua / ub : ua % ub));
    default: return none;
    }
}

/* A conversion of a constant; out-of-range floats and the checked conversions that
 * would raise stay unfolded. */
static cval convert(uint16_t op, cval a)
{
    const cval none = { CV_UNKNOWN, 0, 0 };
    if (!is_i(&a) && !is_r(&a))
        return none;
    const bool ovf = (op >= ILG_OP_CONV_OVF_I1_UN && op <= ILG_OP_CONV_OVF_U_UN) ||
                     (op >= ILG_OP_CONV_OVF_I1 && op <= ILG_OP_CONV_OVF_U8) || op == ILG_OP_CONV_OVF_I ||
                     op == ILG_OP_CONV_OVF_U;
    if (ovf)
        return none;
    if (op == ILG_OP_CONV_R4 || op == ILG_OP_CONV_R8 || op == ILG_OP_CONV_R_UN) {
        const uint8_t k = op == ILG_OP_CONV_R4 ? CV_R4 : CV_R8;
        if (is_r(&a))
            return op == ILG_OP_CONV_R_UN ? none : cr(k, a.d);
        if (op == ILG_OP_CONV_R_UN)
            return cr(k, a.k == CV_I8 ? (double)(uint64_t)a.i : (double)(uint32_t)a.i);
        return cr(k, (double)a.i);
    }
    int64_t v = a.i;
    if (is_r(&a)) {
        if (!(a.d > -2147483648.0 && a.d < 2147483647.0))
            return none; /* only conversions whose result every rule agrees on */
        v = (int64_t)a.d;
    }
    switch (op) {
    case ILG_OP_CONV_I1: return ci(CV_I4, (int8_t)v);
    case ILG_OP_CONV_U1: return ci(CV_I4, (uint8_t)v);
    case ILG_OP_CONV_I2: return ci(CV_I4, (int16_t)v);
    case ILG_OP_CONV_U2: return ci(CV_I4, (uint16_t)v);
    case ILG_OP_CONV_I4: case ILG_OP_CONV_U4: return ci(CV_I4, (int32_t)v);
    case ILG_OP_CONV_I8: case ILG_OP_CONV_I: return ci(CV_I8, a.k == CV_I4 ? (int64_t)(int32_t)v : v);
    case ILG_OP_CONV_U8: case ILG_OP_CONV_U: return ci(CV_I8, a.k == CV_I4 ? (int64_t)(uint32_t)v : v);
    default: return none;
    }
}

/* The outcome of a comparison of two constants of one kind: 1, 0, or -1 (unknown).
 * rel: 0 eq, 1 ge, 2 gt, 3 le, 4 lt, 5 ne; un: unsigned, or unordered for floats. */
static int compare(int rel, bool un, const cval *a, const cval *b)
{
    if (is_r(a) && is_r(b)) {
        const double x = a->d, y = b->d;
        const bool unordered = x != x || y != y;
        bool r;
        switch (rel) {
        case 0: r = x == y; break;
        case 1: r = x >= y; break;
        case 2: r = x > y; break;
        case 3: r = x <= y; break;
        case 4: r = x < y; break;
        default: r = x != y; break;
        }
        return (un && unordered) || r;
    }
    if (!is_i(a) || a->k != b->k)
        return -1;
    const bool w = a->k == CV_I8;
    const uint64_t ux = w ? (uint64_t)a->i : (uint32_t)a->i, uy = w ? (uint64_t)b->i : (uint32_t)b->i;
    const int64_t x = a->i, y = b->i;
    switch (rel) {
    case 0: return x == y;
    case 1: return un ? ux >= uy : x >= y;
    case 2: return un ? ux > uy : x > y;
    case 3: return un ? ux <= uy : x <= y;
    case 4: return un ? ux < uy : x < y;
    default: return x != y;
    }
}

/* The relation a two-operand branch or comparison tests. */
static int relation(uint16_t op, bool *un)
{
    *un = false;
    switch (op) {
    case ILG_OP_BEQ: case ILG_OP_BEQ_S: case ILG_OP_CEQ: return 0;
    case ILG_OP_BGE_UN: case ILG_OP_BGE_UN_S: *un = true; /* fall through */
    case ILG_OP_BGE: case ILG_OP_BGE_S: return 1;
    case ILG_OP_BGT_UN: case ILG_OP_BGT_UN_S: case ILG_OP_CGT_UN: *un = true; /* fall through */
    case ILG_OP_BGT: case ILG_OP_BGT_S: case ILG_OP_CGT: return 2;
    case ILG_OP_BLE_UN: case ILG_OP_BLE_UN_S: *un = true; /* fall through */
    case ILG_OP_BLE: case ILG_OP_BLE_S: return 3;
    case ILG_OP_BLT_UN: case ILG_OP_BLT_UN_S: case ILG_OP_CLT_UN: *un = true; /* fall through */
    case ILG_OP_BLT: case ILG_OP_BLT_S: case ILG_OP_CLT: return 4;
    default: *un = true; return 5; /* bne.un */
    }
}

/* A static field the JIT reads as a constant (ILG_MEMBER_JIT_CONSTANT), by its type. */
static cval const_field(const folder *fo, uint32_t token)
{
    const cval none = { CV_UNKNOWN, 0, 0 };
    if (!fo->types || !fo->cache)
        return none;
    const mdesc *d = ilg__tc_member(fo->cache, fo->types, token);
    if (!d || d->status != ILG_OK || !(d->facts.flags & ILG_MEMBER_JIT_CONSTANT))
        return none;
    if (d->field.k == VK_I4 && d->field.small == ILG_ET_BOOLEAN)
        return ci(CV_I4, 1); /* BitConverter.IsLittleEndian on a little-endian target */
    if (d->field.k == VK_NI)
        return ci(CV_I8, 0); /* IntPtr.Zero, UIntPtr.Zero */
    if (d->field.k == VK_REF && (d->field.flags & VF_STRING))
        return (cval){ CV_STRING, 0, 0 }; /* String.Empty */
    return none;
}

/* A call the JIT replaces by a constant (ILG_MEMBER_JIT_CONSTANT on a method:
 * Vector128.IsHardwareAccelerated), or none. */
static cval const_call(const folder *fo, uint32_t token)
{
    const cval none = { CV_UNKNOWN, 0, 0 };
    if (!fo->types || !fo->cache)
        return none;
    const mdesc *d = ilg__tc_member(fo->cache, fo->types, token);
    if (!d || d->status != ILG_OK || d->facts.kind != ILG_MEMBER_METHOD || !(d->facts.flags & ILG_MEMBER_JIT_CONSTANT))
        return none;
    return ci(CV_I4, (d->facts.flags & ILG_MEMBER_CONST_ONE) ? 1 : 0);
}

/* An instruction whose result is no constant: its operands off the stack, an unknown
 * value on it if it pushes one; false when its effect is not known. */
static bool effect(const folder *fo, const ilg_instr *in, cval *st, uint32_t *sp)
{
    int pops, pushes;
    if (!ilg__stack_effect(fo->b, in, fo->stack, &pops, &pushes) || pops == ILG_STACK_CLEAR)
        return false;
    *sp = (uint32_t)pops > *sp ? 0 : *sp - (uint32_t)pops;
    if (pushes && *sp < STACK_MAX)
        st[(*sp)++] = (cval){ CV_UNKNOWN, 0, 0 };
    return true;
}

/* One instruction of the block on the constant stack; false when its effect is not known. */
static bool sim(const folder *fo, const ilg_instr *in, cval *st, uint32_t *sp)
{
    const uint16_t op = in->op;
    const cval none = { CV_UNKNOWN, 0, 0 };
    cval a, b, r = none;
#define POP() (*sp ? st[--*sp] : none)
    if (op >= ILG_OP_LDC_I4_M1 && op <= ILG_OP_LDC_I4_8) {
        r = ci(CV_I4, (int)op - ILG_OP_LDC_I4_0);
    } else {
        switch (op) {
        case ILG_OP_LDC_I4_S: case ILG_OP_LDC_I4: r = ci(CV_I4, in->arg.i); break;
        case ILG_OP_LDC_I8: r = ci(CV_I8, in->arg.i); break;
        case ILG_OP_LDC_R4: r = cr(CV_R4, in->arg.r4); break;
        case ILG_OP_LDC_R8: r = cr(CV_R8, in->arg.r8); break;
        case ILG_OP_LDNULL: r.k = CV_NULL; break;
        case ILG_OP_LDSTR: r.k = CV_STRING; break;
        case ILG_OP_LDSFLD: r = const_field(fo, in->arg.token); break;
        case ILG_OP_CALL:
            r = const_call(fo, in->arg.token);
            if (r.k != CV_UNKNOWN)
                break;
            return effect(fo, in, st, sp);
        case ILG_OP_NOP: return true;
        case ILG_OP_DUP: r = POP(); if (*sp < STACK_MAX) st[(*sp)++] = r; break;
        case ILG_OP_NEG: a = POP(); r = is_i(&a) ? ci(a.k, (int64_t)(0 - (uint64_t)a.i)) : is_r(&a) ? cr(a.k, -a.d) : none; break;
        case ILG_OP_NOT: a = POP(); r = is_i(&a) ? ci(a.k, ~a.i) : none; break;
        case ILG_OP_CEQ: case ILG_OP_CGT: case ILG_OP_CGT_UN: case ILG_OP_CLT: case ILG_OP_CLT_UN: {
            bool un;
            const int rel = relation(op, &un);
            b = POP();
            a = POP();
            const int c = compare(rel, un, &a, &b);
            r = c < 0 ? none : ci(CV_I4, c);
            break;
        }
        default:
            if ((op >= ILG_OP_ADD && op <= ILG_OP_SHR_UN)) {
                b = POP();
                a = POP();
                r = binary(op, a, b);
            } else if ((op >= ILG_OP_CONV_I1 && op <= ILG_OP_CONV_U8) || op == ILG_OP_CONV_R_UN ||
                       (op >= ILG_OP_CONV_OVF_I1_UN && op <= ILG_OP_CONV_OVF_U_UN) ||
                       (op >= ILG_OP_CONV_OVF_I1 && op <= ILG_OP_CONV_OVF_U8) ||
                       (op >= ILG_OP_CONV_U2 && op <= ILG_OP_CONV_OVF_U) || op == ILG_OP_CONV_U) {
                r = convert(op, POP());
            } else {
                return effect(fo, in, st, sp);
            }
            break;
        }
    }
#undef POP
    if (*sp < STACK_MAX)
        st[(*sp)++] = r;
    return true;
}

/* Whether the need values on the stack before instruction i could all be constants,
 * judged from the instructions just before it alone (no block boundaries: the cheap
 * test before the exact one, which most branches, on a local or an argument, fail). */
static bool maybe_const(const ilg_body *b, uint32_t i, int need)
{
    while (need > 0 && i-- > 0) {
        const uint16_t op = b->instrs[i].op;
        if ((op >= ILG_OP_LDNULL && op <= ILG_OP_LDC_R8) || op == ILG_OP_LDSTR || op == ILG_OP_LDSFLD ||
            op == ILG_OP_CALL)
            need--;
        else if ((op >= ILG_OP_ADD && op <= ILG_OP_SHR_UN) || (op >= ILG_OP_CEQ && op <= ILG_OP_CLT_UN) ||
                 (op >= ILG_OP_ADD_OVF && op <= ILG_OP_SUB_OVF_UN))
            need++; /* two operands for one value */
        else if (op == ILG_OP_DUP)
            need -= need > 1; /* two values, one below */
        else if (op != ILG_OP_NOP && op != ILG_OP_NEG && op != ILG_OP_NOT &&
                 !((op >= ILG_OP_CONV_I1 && op <= ILG_OP_CONV_U8) || op == ILG_OP_CONV_R_UN ||
                   (op >= ILG_OP_CONV_OVF_I1_UN && op <= ILG_OP_CONV_OVF_U_UN) ||
                   (op >= ILG_OP_CONV_OVF_I1 && op <= ILG_OP_CONV_OVF_U8) ||
                   (op >= ILG_OP_CONV_U2 && op <= ILG_OP_CONV_OVF_U) || op == ILG_OP_CONV_U))
            return false;
    }
    return need <= 0;
}

uint8_t ilg__fold_branch(folder *fo, uint32_t i)
{
    const ilg_body *b = fo->b;
    const uint16_t op = b->instrs[i].op;
    if (ilg__opcodes[op].flow != ILG_FLOW_COND || i == 0 || !maybe_const(b, i, ilg__opcodes[op].pops))
        return FOLD_NONE;
    if (!fo->starts_ready) {
        block_starts(b, fo->starts);
        fo->starts_ready = true;
    }
    if (is_start(fo->starts, i))
        return FOLD_NONE; /* its operands come from another block, through temporaries */
    uint32_t s = i - 1;
    while (s > 0 && !is_start(fo->starts, s))
        s--;
    cval st[STACK_MAX];
    uint32_t sp = 0;
    for (uint32_t k = s; k < i; k++)
        if (!sim(fo, &b->instrs[k], st, &sp))
            return FOLD_NONE;
    const cval none = { CV_UNKNOWN, 0, 0 };
    int taken;
    if (ilg__opcodes[op].pops == 1) {
        const cval v = sp ? st[sp - 1] : none;
        const bool on_true = op == ILG_OP_BRTRUE || op == ILG_OP_BRTRUE_S;
        if (is_i(&v))
            taken = (v.i != 0) == on_true;
        else if (is_r(&v))
            taken = (v.d != 0) == on_true;
        else if (v.k == CV_NULL || v.k == CV_STRING)
            taken = (v.k == CV_STRING) == on_true;
        else
            return FOLD_NONE;
    } else {
        const cval y = sp ? st[sp - 1] : none, x = sp > 1 ? st[sp - 2] : none;
        bool un;
        const int rel = relation(op, &un);
        if ((taken = compare(rel, un, &x, &y)) < 0)
            return FOLD_NONE;
    }
    return taken ? FOLD_ALWAYS : FOLD_NEVER;
}
