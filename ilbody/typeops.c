/* typeops.c: the type-level verifier's checks, opcode family by opcode family: arguments
 * and locals, arithmetic, conversions and comparisons, fields, calls, objects, arrays and
 * indirections, and the rest. Each pops and pushes verification types on the flow's
 * stack (typeflow.c) and records what CoreCLR's JIT would refuse (docs/ilbody.md). */
#include "typeflow_private.h"

/* ---- arguments and locals ---------------------------------------------------------- */

/* Index, kind (1 load, 2 store, 3 address) and whether it is an argument, of a slot
 * instruction; 0 for any other opcode. */
int ilg__tf_slot_of(const ilg_instr *in, bool *arg, uint32_t *idx)
{
    const uint16_t op = in->op;
    *arg = false;
    if (op >= ILG_OP_LDARG_0 && op <= ILG_OP_LDARG_3) {
        *arg = true;
        *idx = (uint32_t)(op - ILG_OP_LDARG_0);
        return 1;
    }
    if (op >= ILG_OP_LDLOC_0 && op <= ILG_OP_LDLOC_3) {
        *idx = (uint32_t)(op - ILG_OP_LDLOC_0);
        return 1;
    }
    if (op >= ILG_OP_STLOC_0 && op <= ILG_OP_STLOC_3) {
        *idx = (uint32_t)(op - ILG_OP_STLOC_0);
        return 2;
    }
    *idx = (uint32_t)in->arg.i;
    switch (op) {
    case ILG_OP_LDARG_S: case ILG_OP_LDARG: *arg = true; return 1;
    case ILG_OP_STARG_S: case ILG_OP_STARG: *arg = true; return 2;
    case ILG_OP_LDARGA_S: case ILG_OP_LDARGA: *arg = true; return 3;
    case ILG_OP_LDLOC_S: case ILG_OP_LDLOC: return 1;
    case ILG_OP_STLOC_S: case ILG_OP_STLOC: return 2;
    case ILG_OP_LDLOCA_S: case ILG_OP_LDLOCA: return 3;
    default: return 0;
    }
}

/* A stored value's type against the slot's. The JIT stores what it is given, but a
 * value type loaded through an address does not fit a local of another type, nor
 * anything but a value type a value-type local (a float constant or a local's address
 * crashes it there), and a method's pointer (ldftn, ldvirtftn) in an object reference
 * local crashes it (in an argument it compiles). */
static void check_slot_store(tflow *f, uint32_t i, const vt *slot, const vt *val, bool is_arg)
{
    const char *what = is_arg ? "argument" : "local";
    if (slot->k == VK_UNKNOWN || val->k == VK_UNKNOWN || ((slot->flags | val->flags) & VF_MAYBE_PRIM))
        return;
    if (slot->k != VK_STRUCT && val->k == VK_STRUCT && (val->flags & VF_INDIR))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_STORE, ILG_OUTCOME_INVALID_PROGRAM,
            "%s of type %s stored from a value type (%s) loaded through an address", what, TN(*slot),
            TN(*val));
    else if (slot->k == VK_STRUCT && val->k != VK_STRUCT)
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_STORE,
            (val->k == VK_BYREF && (val->flags & VF_LCLADDR)) || (is_float(val->k) && (val->flags & VF_CONST))
                ? ILG_OUTCOME_CRASH
                : ILG_OUTCOME_INVALID_PROGRAM,
            "%s of value type %s stored from %s", what, TN(*slot), TN(*val));
    else if (slot->k == VK_REF && (val->flags & VF_FTN) && !is_arg)
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_STORE, ILG_OUTCOME_CRASH,
            "%s of type %s stored from a method pointer: the JIT crashes", what, TN(*slot));
}

static void check_store(tflow *f, uint32_t i, const vt *slot, const vt *val, const char *what)
{
    if (f->level < ILG_VERIFY_STRICT || slot->k == VK_UNKNOWN || val->k == VK_UNKNOWN)
        return; /* warnings only */
    const bool s_struct = slot->k == VK_STRUCT, v_struct = val->k == VK_STRUCT;
    if ((slot->flags | val->flags) & VF_MAYBE_PRIM)
        return;
    if (s_struct != v_struct || !ilg__tf_coerces(slot, val) || (slot->k == VK_REF && val->k != VK_REF))
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_STORE, "%s of type %s stored from %s", what, TN(*slot), TN(*val));
}

/* A 16-bit integer (char, int16, uint16): a floating-point value stored to one crashes
 * the JIT, in an argument, a field, an element or through an address (observed with
 * tests/bench/probe_jit); in a local it compiles (the JIT normalizes locals as it
 * stores them), and so do the 8-bit types and int32. */
static bool is16(const vt *t)
{
    return t->k == VK_I4 && (t->small == ILG_ET_CHAR || t->small == ILG_ET_I2 || t->small == ILG_ET_U2);
}

static void check_store16(tflow *f, uint32_t i, const vt *slot, const vt *val, const char *what)
{
    if (is16(slot) && is_float(val->k))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_STORE, ILG_OUTCOME_CRASH,
            "%s of 16-bit type %s stored from %s: the JIT crashes", what, TN(*slot), TN(*val));
}

static uint8_t lcladdr_kind(const vt *t, bool is_arg)
{
    if (is_arg)
        return LA_NONE;
    if (t->k == VK_I4 && (t->small == ILG_ET_CHAR || t->small == ILG_ET_I2 || t->small == ILG_ET_U2))
        return t->small;
    return t->k == VK_I4 && !t->small ? ILG_ET_I4 : LA_OTHER;
}

/* A 16-bit store of val through addr: a float there crashes the JIT unless addr is a
 * 16-bit local's (above); through an unmanaged pointer it was not observed. */
static void check_store16_at(tflow *f, uint32_t i, const vt *addr, const vt *slot, const vt *val)
{
    if (addr->k != VK_BYREF || addr->small == LA_OTHER ||
        (addr->small != LA_NONE && addr->small != ILG_ET_I4))
        return;
    check_store16(f, i, slot, val, "a location");
}

void ilg__tf_t_slot(tflow *f, uint32_t i, int kind, bool is_arg, uint32_t idx)
{
    const bool known = is_arg ? f->have_m : f->have_locals;
    const uint32_t limit = is_arg ? f->m.nargs : f->nlocals;
    vt t = vt_of(VK_UNKNOWN);
    if (known && is_arg && kind == 2 && idx >= limit && f->have_locals && idx < limit + f->nlocals) {
        /* The JIT checks starg against arguments and locals together, and stores into a
         * local (importer.cpp, VAR_ST). */
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_ARG_INDEX, "argument %u, but the method has %u", idx, limit);
    } else if (known && idx >= limit) {
        ilg__tf_err(f, i, is_arg ? ILG_E_IL_VERIFY_ARG_INDEX : ILG_E_IL_VERIFY_LOCAL_INDEX,
            ILG_OUTCOME_INVALID_PROGRAM, "%s %u, but the method has %u", is_arg ? "argument" : "local",
            idx, limit);
    } else if (known) {
        t = is_arg ? f->m.args[idx] : f->locals[idx];
    }
    switch (kind) {
    case 1:
        if (!is_arg && t.k == VK_I4)
            t.small = 0; /* locals are normalized when stored, arguments when loaded */
        t.flags &= (uint16_t)~VF_THIS | (is_arg ? VF_THIS : 0);
        push(f, t);
        break;
    case 2: {
        vt v = pop(f);
        if (known && idx < limit) {
            if (is_arg)
                check_store16(f, i, &t, &v, "argument");
            check_slot_store(f, i, &t, &v, is_arg);
            check_store(f, i, &t, &v, is_arg ? "argument" : "local");
        }
        break;
    }
    default:
        push(f, (vt){ VK_BYREF, lcladdr_kind(&t, is_arg), VF_LCLADDR, 0 });
        break;
    }
}

/* ---- arithmetic, conversions, comparisons ------------------------------------------ */


/* True when the value at i is dropped at once by a pop that follows it in its block:
 * the JIT then never generates the operation. */
static bool dropped(tflow *f, uint32_t i)
{
    return i + 1 < f->b->count && f->b->instrs[i + 1].op == ILG_OP_POP && f->jp_of[i + 1] == NONE_JP;
}

/* An operand as the JIT's arithmetic sees it: the address of a local is a native int. */
static vt operand(vt v)
{
    if (v.k == VK_BYREF && (v.flags & VF_LCLADDR))
        return vt_of(VK_NI);
    if (v.k == VK_I4)
        v.small = 0;
    return v;
}

/* The JIT's result type of a binary numeric operation (importer.cpp,
 * impGetByRefResultType): a managed pointer added to or subtracted from (native int
 * from the difference of two), else native int when either side is one (int64 and
 * native int are one type on a 64-bit target), else the first operand's type, float32
 * widened to float64 unless both are float32. */
static vt arith_result(const vt *a, const vt *b, bool add, bool sub)
{
    if (a->k == VK_UNKNOWN || b->k == VK_UNKNOWN || ((a->flags | b->flags) & VF_MAYBE_PRIM))
        return vt_of(VK_UNKNOWN);
    if ((add || sub) && (a->k == VK_BYREF || b->k == VK_BYREF)) {
        if (sub && (b->k == VK_BYREF) && (a->k == VK_BYREF || is_int(a->k)))
            return vt_of(VK_NI);
        return vt_of(VK_BYREF);
    }
    if (a->k == VK_NI || b->k == VK_NI)
        return vt_of(VK_NI);
    if (a->k == VK_I8 || b->k == VK_I8)
        return vt_of(VK_I8);
    if (a->k == VK_R4 && b->k != VK_R4)
        return vt_of(VK_R8);
    vt r = *a;
    r.flags &= (uint16_t)(VF_STRING | VF_ARRAY);
    return r.k == VK_REF || r.k == VK_STRUCT ? (vt){ r.k, 0, 0, r.tok } : vt_of(r.k);
}

/* Whether instruction i stores what it is given (where a value type the JIT made of
 * arithmetic crashes its code generator). */
static bool stores(tflow *f, uint32_t i)
{
    if (i >= f->b->count || f->jp_of[i] != NONE_JP)
        return false;
    bool arg;
    uint32_t idx;
    const uint16_t op = f->b->instrs[i].op;
    return ilg__tf_slot_of(&f->b->instrs[i], &arg, &idx) == 2 || op == ILG_OP_STSFLD || op == ILG_OP_STFLD;
}

static bool is_div(uint16_t op)
{
    return op == ILG_OP_DIV || op == ILG_OP_DIV_UN || op == ILG_OP_REM || op == ILG_OP_REM_UN;
}

/* What the JIT's back end cannot generate: a bitwise operation or shift of a float
 * (but for xor of a non-constant with zero, which it folds away), an unsigned division of a float by a
 * power of two (it makes that a shift or mask), a signed int32 division by anything but
 * an integer, arithmetic
 * whose result is a value type and is stored. An operation it drops unused (a pop right
 * after, and nothing to raise) is never generated. */
/* An int32 constant that is a power of two (its value is in tok). */
static bool pow2_const(const vt *v)
{
    return v->k == VK_I4 && (v->flags & VF_CONST) && v->tok && !(v->tok & (v->tok - 1));
}

static bool null_const(const vt *v) { return v->k == VK_REF && (v->flags & VF_NULL) && (v->flags & VF_CONST); }

/* A zero constant (ldc.i4.0, ldnull): x ^ 0 is x to the JIT when x is no constant (a
 * float constant there it tries to fold, and refuses). */
static bool zero_const(const vt *v) { return null_const(v) || (v->k == VK_I4 && (v->flags & VF_CONST) && !v->tok); }

static void check_arith(tflow *f, uint32_t i, uint16_t op, const vt *a, const vt *b, const vt *r)
{
    const bool bitwise = op == ILG_OP_AND || op == ILG_OP_OR || op == ILG_OP_XOR;
    const bool shift = op == ILG_OP_SHL || op == ILG_OP_SHR || op == ILG_OP_SHR_UN;
    const bool raises = is_div(op) || op >= ILG_OP_ADD_OVF;
    const bool gone = dropped(f, i) && !raises;
    if ((bitwise || shift) && is_float(r->k) && !gone && !(op == ILG_OP_XOR && zero_const(b) && !(a->flags & VF_CONST)))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
            "%s and %s: the JIT has no %s of a floating-point value%s", TN(*a), TN(*b),
            shift ? "shift" : "bitwise operation", "");
    else if ((op == ILG_OP_DIV || op == ILG_OP_REM) &&
             (r->k == VK_I4 || ((r->k == VK_REF || r->k == VK_BYREF) && !dropped(f, i))) &&
             (is_float(b->k) || b->k == VK_STRUCT || b->k == VK_BYREF ||
              (b->k == VK_REF && !(b->flags & VF_NULL) && !((b->flags & VF_CONST) && r->k != VK_I4))))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
            "%s and %s: the JIT's signed int32 division needs an integer divisor", TN(*a), TN(*b));
    else if ((op == ILG_OP_DIV_UN || op == ILG_OP_REM_UN) && is_float(a->k) && pow2_const(b) && !dropped(f, i))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
            "%s and %s: the JIT turns an unsigned division by the constant %u into a shift or mask, "
            "which a floating-point value does not take", TN(*a), TN(*b), b->tok);
    else if (r->k == VK_STRUCT && !gone && (raises || stores(f, i + 1)))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, raises ? ILG_OUTCOME_INVALID_PROGRAM : ILG_OUTCOME_CRASH,
            "%s and %s: arithmetic on a value type%s", TN(*a), TN(*b),
            raises ? "" : ", stored: the JIT crashes");
    else if (a->k != VK_UNKNOWN && b->k != VK_UNKNOWN &&
             (a->k == VK_REF || b->k == VK_REF || a->k == VK_STRUCT || b->k == VK_STRUCT ||
              (is_float(a->k) != is_float(b->k)) || ((bitwise || shift) && is_float(a->k))))
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s and %s are not operands of %s (ECMA-335 III.1.5)",
             TN(*a), TN(*b), ilg__opcodes[op].name);
}

void ilg__tf_t_binary(tflow *f, uint32_t i, uint16_t op)
{
    vt b = operand(pop(f)), a = operand(pop(f));
    const bool shift = op == ILG_OP_SHL || op == ILG_OP_SHR || op == ILG_OP_SHR_UN;
    const bool add = op == ILG_OP_ADD || op == ILG_OP_ADD_OVF || op == ILG_OP_ADD_OVF_UN;
    const bool sub = op == ILG_OP_SUB || op == ILG_OP_SUB_OVF || op == ILG_OP_SUB_OVF_UN;
    vt r = shift ? (a.k == VK_UNKNOWN ? a : arith_result(&a, &a, false, false))
                 : arith_result(&a, &b, add, sub);
    /* null plus an integer constant the JIT folds into a managed pointer constant
     * (observed: an object or int32 parameter refuses it, where an object plus a
     * constant passes for an object) */
    if (add && ((null_const(&a) && b.k == VK_I4 && (b.flags & VF_CONST)) ||
                (null_const(&b) && a.k == VK_I4 && (a.flags & VF_CONST))))
        r = vt_of(VK_BYREF);
    check_arith(f, i, op, &a, &b, &r);
    push(f, r);
}

void ilg__tf_t_unary(tflow *f, uint32_t i, uint16_t op)
{
    vt a = operand(pop(f));
    if (a.flags & VF_MAYBE_PRIM)
        a = vt_of(VK_UNKNOWN);
    const bool raises = op == ILG_OP_CKFINITE, gone = dropped(f, i) && !raises;
    if (a.k == VK_STRUCT && !(a.flags & VF_MAYBE_PRIM) && !gone && (raises || stores(f, i + 1)))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, raises ? ILG_OUTCOME_INVALID_PROGRAM : ILG_OUTCOME_CRASH,
            "%s: %s of a value type%s", TN(a), ilg__opcodes[op].name, raises ? "" : ", stored: the JIT crashes");
    else if (a.k == VK_REF || a.k == VK_STRUCT || a.k == VK_BYREF || (op == ILG_OP_CKFINITE && is_int(a.k)) ||
             (op == ILG_OP_NOT && is_float(a.k)))
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s is not an operand of %s", TN(a), ilg__opcodes[op].name);
    push(f, a.k == VK_REF || a.k == VK_STRUCT ? (vt){ a.k, 0, 0, a.tok } : vt_of(a.k));
}

/* The type a conversion opcode produces. */
static vt conv_result(uint16_t op)
{
    switch (op) {
    case ILG_OP_CONV_I8: case ILG_OP_CONV_U8: case ILG_OP_CONV_OVF_I8: case ILG_OP_CONV_OVF_U8:
    case ILG_OP_CONV_OVF_I8_UN: case ILG_OP_CONV_OVF_U8_UN:
        return vt_of(VK_I8);
    case ILG_OP_CONV_I: case ILG_OP_CONV_U: case ILG_OP_CONV_OVF_I: case ILG_OP_CONV_OVF_U:
    case ILG_OP_CONV_OVF_I_UN: case ILG_OP_CONV_OVF_U_UN:
        return vt_of(VK_NI);
    case ILG_OP_CONV_R4:
        return vt_of(VK_R4);
    case ILG_OP_CONV_R8: case ILG_OP_CONV_R_UN:
        return vt_of(VK_R8);
    default:
        return vt_of(VK_I4);
    }
}

/* Conversions the JIT's back end cannot generate: from a value type to floating point
 * or to 64 bits, an object reference to floating point (unsigned); a managed pointer to
 * floating point crashes it. */
void ilg__tf_t_conv(tflow *f, uint32_t i, uint16_t op)
{
    vt a = operand(pop(f));
    const vt r = conv_result(op);
    const bool gone = dropped(f, i);
    if (a.k == VK_STRUCT && !(a.flags & VF_MAYBE_PRIM) && is_float(r.k))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
            "%s: a value type cannot be converted to floating point", TN(a));
    else if (a.k == VK_STRUCT && !(a.flags & VF_MAYBE_PRIM) && !gone &&
             (r.k == VK_I8 || op == ILG_OP_CONV_OVF_U || op == ILG_OP_CONV_OVF_I))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
            "%s: a value type cannot be converted to 64 bits", TN(a));
    else if (op == ILG_OP_CONV_R_UN && a.k == VK_REF && !gone)
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
            "%s: the JIT cannot convert an object reference to floating point", TN(a));
    else if (op == ILG_OP_CONV_R_UN && a.k == VK_BYREF && !gone)
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_CRASH,
            "%s: converting a managed pointer to floating point crashes the JIT", TN(a));
    else if (a.k == VK_REF || a.k == VK_BYREF || a.k == VK_STRUCT)
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_UNVERIFIABLE, "%s converted to a number", TN(a));
    push(f, r);
}

void ilg__tf_t_compare(tflow *f, uint32_t i, uint16_t op)
{
    vt b = pop(f), a = pop(f);
    if (a.k != VK_UNKNOWN && b.k != VK_UNKNOWN && a.k != b.k &&
        !(is_int(a.k) && is_int(b.k)) && !(is_float(a.k) && is_float(b.k)))
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s and %s are not comparable (ECMA-335 III.1.5)", TN(a),
             TN(b));
    push(f, vt_of(VK_I4));
}

/* ---- fields ------------------------------------------------------------------------------ */

void ilg__tf_t_field(tflow *f, uint32_t i, uint16_t op)
{
    const bool stat = op == ILG_OP_LDSFLD || op == ILG_OP_LDSFLDA || op == ILG_OP_STSFLD;
    const bool store = op == ILG_OP_STFLD || op == ILG_OP_STSFLD;
    const bool addr = op == ILG_OP_LDFLDA || op == ILG_OP_LDSFLDA;
    const mdesc *d = ilg__tf_member(f, i, ILG_MEMBER_FIELD);
    vt val = store ? pop(f) : vt_of(VK_NONE), obj = stat ? vt_of(VK_NONE) : pop(f);
    if (d && stat && (d->facts.flags & ILG_MEMBER_KNOWN) && !(d->facts.flags & ILG_MEMBER_STATIC))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_INVALID_PROGRAM,
            "field 0x%08x is an instance field", f->b->instrs[i].arg.token);
    if (!stat && obj.k == VK_STRUCT && op == ILG_OP_LDFLDA && !(obj.flags & VF_MAYBE_PRIM))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
            "the object is a value type (%s), not its address", TN(obj));
    else if (!stat && obj.k == VK_STRUCT && op == ILG_OP_STFLD && !(obj.flags & VF_MAYBE_PRIM))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_CRASH,
            "the object is a value type (%s), not its address: the JIT crashes", TN(obj));
    else if (!stat && (obj.k == VK_I4 || obj.k == VK_I8 || is_float(obj.k)))
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "the object is %s", TN(obj));
    if (store && d) {
        check_store16(f, i, &d->field, &val, "field");
        check_store(f, i, &d->field, &val, "field");
    }
    vt t = d ? d->field : vt_of(VK_UNKNOWN);
    if (t.k == VK_STRUCT)
        t.flags |= VF_INDIR;
    /* A field's address is a managed pointer off an object or a pointer, else a native
     * int; so is a static field's with an RVA (data in the image, not on the heap). */
    const bool rva = stat && d && (d->facts.flags & ILG_MEMBER_RVA);
    const bool managed = (stat && !rva) || obj.k == VK_REF || obj.k == VK_BYREF || obj.k == VK_UNKNOWN;
    if (!store)
        push(f, addr ? (managed ? vt_of(VK_BYREF) : vt_of(VK_NI)) : t);
}

/* ---- calls ---------------------------------------------------------------------------------- */

/* An [Intrinsic] method's call may be expanded by the JIT in place, without the
 * argument checks of a call: its arguments are not held against the body. */
static bool intrinsic(const mdesc *d) { return (d->facts.flags & ILG_MEMBER_INTRINSIC) != 0; }

/* Whether the JIT expands this call of d in place, given the n arguments on the stack
 * (importercalls.cpp: a rotation only by a constant; Interlocked when it returns an
 * integer, or stores null). */
static bool expands(const tflow *f, const mdesc *d, uint32_t n)
{
    const uint16_t fl = d->facts.flags;
    if (fl & ILG_MEMBER_INTRINSIC)
        return true;
    if (!n || f->sp < n)
        return false;
    const vt *arg = &f->stack[f->sp - n];
    if (fl & ILG_MEMBER_INTRINSIC_IF_CONST)
        return (arg[n - 1].k == VK_I4 || arg[n - 1].k == VK_I8) && (arg[n - 1].flags & VF_CONST);
    if (fl & ILG_MEMBER_INTRINSIC_ATOMIC) {
        const uint8_t r = d->sig->ret.k;
        if (r == VK_I4 || r == VK_I8 || r == VK_NI)
            return true;
        return r == VK_REF && n >= 2 && arg[1].k == VK_REF && (arg[1].flags & VF_NULL) && (arg[1].flags & VF_CONST);
    }
    return false;
}

static void check_args(tflow *f, uint32_t i, const mdesc *d, uint32_t token)
{
    const vsig *s = d->sig;
    const uint32_t n = (uint32_t)s->nparams + s->nextra;
    /* a value type's method by callvirt (Span's get_Item) is not expanded with a float
     * `this`, and is checked like any call (seed-41 mutants; an int32, null or address
     * `this` is expanded: seed 13 and 41) */
    const vt *self = s->has_this && f->sp > n ? &f->stack[f->sp - n - 1] : NULL;
    const bool float_this = self && is_float(self->k);
    const bool expanded = !(f->b->instrs[i].op == ILG_OP_CALLVIRT && d->owner_value && float_this) && expands(f, d, n);
    for (uint32_t k = n; k-- > 0;) {
        vt a = pop(f);
        const vt *p = &s->params[k];
        if (expanded && k + 1 == n && (d->facts.flags & ILG_MEMBER_INTRINSIC_STORE))
            check_store16(f, i, p, &a, "a location");
        if (!expanded && !ilg__tf_coerces(p, &a))
            ilg__tf_err(f, i, ILG_E_IL_VERIFY_CALL_ARG, ILG_OUTCOME_INVALID_PROGRAM,
                "argument %u of 0x%08x is %s, the parameter is %s", k + 1, token, TN(a), TN(*p));
        else if (a.k == VK_STRUCT && p->k == VK_STRUCT && a.tok && p->tok && a.tok != p->tok &&
                 !((a.flags | p->flags) & VF_MAYBE_PRIM))
            ilg__tf_warn(f, i, ILG_E_IL_VERIFY_CALL_ARG, "argument %u of 0x%08x is %s, the parameter is %s", k + 1,
                 token, TN(a), TN(*p));
    }
}

/* `this` of an instance call. */
static void check_this(tflow *f, uint32_t i, const mdesc *d, const vt *t)
{
    const bool value = t->k == VK_STRUCT && !(t->flags & VF_MAYBE_PRIM) && !(d->facts.flags & ILG_MEMBER_STATIC);
    const bool virt = (d->facts.flags & (ILG_MEMBER_KNOWN | ILG_MEMBER_VIRTUAL)) == (ILG_MEMBER_KNOWN | ILG_MEMBER_VIRTUAL);
    if (value && (d->owner_value || (d->owner.k == VK_REF && virt)))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_THIS, ILG_OUTCOME_CRASH,
            "`this` is a value type (%s), not %s: the JIT crashes", TN(*t),
            d->owner_value ? "its address" : "an object (a virtual method)");
    else if (value && d->owner.k == VK_REF)
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_THIS, ILG_OUTCOME_INVALID_PROGRAM,
            "`this` is a value type (%s), the method is on the class %s", TN(*t), TN(d->owner));
    else if (t->k != VK_UNKNOWN && d->owner.k != VK_UNKNOWN && !ilg__tf_coerces(&d->owner, t))
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_THIS, "`this` is %s, the method is on %s", TN(*t), TN(d->owner));
}

static void t_newobj(tflow *f, uint32_t i, const mdesc *d)
{
    const uint32_t tok = f->b->instrs[i].arg.token;
    const bool known = d->facts.flags & ILG_MEMBER_KNOWN;
    if (!d->sig->has_this || (known && (d->facts.flags & ILG_MEMBER_STATIC)))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_INVALID_PROGRAM, "0x%08x is a static method", tok);
    else if (d->owner_abstract || d->owner_interface)
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_OTHER_EXCEPTION,
            "0x%08x is on the %s 0x%08x, which cannot be created", tok,
            d->owner_interface ? "interface" : "abstract class", d->facts.owner);
    else if (!(d->facts.flags & ILG_MEMBER_CTOR) && d->sig->ret.k == VK_STRUCT &&
             !(d->sig->ret.flags & VF_MAYBE_PRIM) && !intrinsic(d))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_CRASH,
            "0x%08x is not a constructor and returns a value type: the JIT crashes", tok);
    else if (!(d->facts.flags & ILG_MEMBER_CTOR))
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_MEMBER, "0x%08x is not a constructor", tok);
    check_args(f, i, d, tok);
    vt obj = d->owner;
    if (d->owner_value) {
        const tdesc *t = ilg__tc_type(f->c, f->r, d->facts.owner);
        obj = t && t->status == ILG_OK ? t->value : vt_of(VK_UNKNOWN);
    } else if (obj.k == VK_REF) {
        obj.flags = 0;
    }
    push(f, obj);
}

/* Whether the constrained. prefix at i, before a call of a plain static method of type
 * owner, crashes the JIT: the runtime resolves the call as a static virtual one and finds
 * no implementation. It names a value type (a struct, an enum, a primitive, a generic
 * instantiation of a struct), an interface, or a class other than owner (System.Object
 * too); owner itself compiles, and so does a class derived from it (probes, in
 * docs/coreclr-observed.md), which is not known here: *other_class says that case. */
static bool constrained_crashes(tflow *f, uint32_t i, uint32_t owner, bool *other_class)
{
    const uint32_t tok = f->b->instrs[i].arg.token;
    *other_class = false;
    if (!ilg__tf_table_in(tok, type_tables, sizeof type_tables) || tok == owner)
        return false;
    const tdesc *d = ilg__tc_type(f->c, f->r, tok);
    if (!d || d->status != ILG_OK || d->value.k == VK_UNKNOWN)
        return false;
    *other_class = d->value.k == VK_REF && d->facts.kind != ILG_TYPE_INTERFACE;
    return true;
}

/* The value type (not an enum) the constrained. prefix at i names, or NULL: a struct, a
 * primitive such as Int32, an instantiation of a generic struct. */
static const tdesc *constrained_struct(tflow *f, uint32_t i)
{
    const uint32_t tok = f->b->instrs[i].arg.token;
    if (!ilg__tf_table_in(tok, type_tables, sizeof type_tables))
        return NULL;
    const tdesc *d = ilg__tc_type(f->c, f->r, tok);
    if (!d || d->status != ILG_OK || d->facts.kind == ILG_TYPE_ENUM || d->facts.kind == ILG_TYPE_INTERFACE ||
        d->facts.kind == ILG_TYPE_CLASS)
        return NULL;
    return d->facts.kind == ILG_TYPE_VALUE || (d->value.k != VK_REF && d->value.k != VK_UNKNOWN) ? d : NULL;
}

/* constrained. to a value type (an enum too) other than the owner of a value type's
 * virtual method: its slot in the other type's table is that type's method or one of
 * System.Enum's, and the JIT crashes (SequencePosition.Equals after constrained. to an
 * enum, seed-41 mutant). */
static bool constrained_other_value(tflow *f, uint32_t i, const mdesc *d)
{
    const uint32_t tok = f->b->instrs[i - 1].arg.token;
    if (tok == d->facts.owner || !ilg__tf_table_in(tok, type_tables, sizeof type_tables))
        return false;
    const tdesc *t = ilg__tc_type(f->c, f->r, tok);
    if (!t || t->status != ILG_OK || t->value.k == VK_REF || t->value.k == VK_UNKNOWN ||
        t->facts.kind == ILG_TYPE_INTERFACE || t->facts.kind == ILG_TYPE_CLASS)
        return false;
    ilg__tf_err(f, i, ILG_E_IL_VERIFY_PREFIX, ILG_OUTCOME_CRASH,
        "constrained. to %s before a call of 0x%08x, a virtual method of another value type: the runtime "
        "looks its vtable slot up in the wrong table and the JIT crashes", TN(t->value), f->b->instrs[i].arg.token);
    return true;
}

/* constrained. to an enum before a call of a class's virtual instance method: the slot is
 * looked up in System.Enum's table; within it the call falls back to boxing and compiles,
 * past its end the JIT crashes (Encoding.GetEncoder after constrained. to an enum). The
 * verifier does not lay out vtables: a warning, the differential test's `constrained-slot`. */
static void constrained_enum_slot(tflow *f, uint32_t i)
{
    const uint32_t tok = f->b->instrs[i - 1].arg.token;
    if (!ilg__tf_table_in(tok, type_tables, sizeof type_tables))
        return;
    const tdesc *t = ilg__tc_type(f->c, f->r, tok);
    if (t && t->status == ILG_OK && t->facts.kind == ILG_TYPE_ENUM)
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_PREFIX,
            "constrained. to enum 0x%08x before a call of 0x%08x, a virtual method of a class: the runtime "
            "looks its vtable slot up in System.Enum's table (past its end the JIT crashes)", tok,
            f->b->instrs[i].arg.token);
}

/* constrained. to a value type before a call of a class's virtual instance method: the
 * runtime (TryResolveConstraintMethodApprox) looks the method's vtable slot number up in
 * the value type's own table, where it names an unrelated method of that type (whose
 * signature the JIT then imports the call with) or lies past the table's end. What follows
 * depends on that table (probes in docs/coreclr-observed.md): InvalidProgramException most
 * often, else BadImageFormatException, a crash, or a call of the unrelated method. An
 * enum's slots are System.Enum's, a class's, so the call falls back to boxing and
 * compiles; so does a slot of System.Object's (ILG_MEMBER_BASE_SLOT) and a method that is
 * not virtual. */
static bool constrained_slot(tflow *f, uint32_t i, uint16_t op, const mdesc *d)
{
    const uint16_t fl = d->facts.flags;
    if ((op != ILG_OP_CALL && op != ILG_OP_CALLVIRT) ||
        (fl & (ILG_MEMBER_KNOWN | ILG_MEMBER_VIRTUAL | ILG_MEMBER_STATIC | ILG_MEMBER_BASE_SLOT)) !=
            (ILG_MEMBER_KNOWN | ILG_MEMBER_VIRTUAL) || d->owner_interface || !d->sig->has_this)
        return false;
    if (d->owner_value)
        return constrained_other_value(f, i, d);
    if (d->owner.k != VK_REF)
        return false;
    const tdesc *t = constrained_struct(f, i - 1);
    if (!t) {
        constrained_enum_slot(f, i);
        return false;
    }
    ilg__tf_err(f, i, ILG_E_IL_VERIFY_PREFIX, ILG_OUTCOME_INVALID_PROGRAM,
        "constrained. to %s, a value type, before a call of 0x%08x, a virtual method of a class: the runtime "
        "looks its vtable slot up in the value type's table, an unrelated method or none "
        "(InvalidProgramException, BadImageFormatException or a crash by that table)",
        TN(t->value), f->b->instrs[i].arg.token);
    return true;
}

/* constrained. to a ref struct before a call of a class's instance method outside
 * System.Object's slots (which the struct may override), or of another value type's
 * method that is not virtual: the runtime boxes `this` for it and refuses ("Cannot create boxed ByRef-like values", System.Formats.Asn1
 * mutants). */
static bool constrained_byref_like(tflow *f, uint32_t i, uint16_t op, const mdesc *d)
{
    const uint32_t tok = f->b->instrs[i - 1].arg.token;
    /* a class's method, or another value type's that is not virtual (Asn1Tag.AsPrimitive) */
    const bool boxes = d->owner_value ? !(d->facts.flags & ILG_MEMBER_VIRTUAL) && tok != d->facts.owner
                                      : d->owner.k == VK_REF && !d->owner_interface;
    if ((op != ILG_OP_CALL && op != ILG_OP_CALLVIRT) || !(d->facts.flags & ILG_MEMBER_KNOWN) ||
        (d->facts.flags & (ILG_MEMBER_STATIC | ILG_MEMBER_BASE_SLOT)) || !d->sig->has_this || !boxes ||
        !ilg__tf_table_in(tok, type_tables, sizeof type_tables))
        return false;
    const tdesc *t = ilg__tc_type(f->c, f->r, tok);
    if (!t || t->status != ILG_OK || !(t->value.flags & VF_BYREF_LIKE))
        return false;
    ilg__tf_err(f, i, ILG_E_IL_VERIFY_PREFIX, ILG_OUTCOME_INVALID_PROGRAM,
        "constrained. to %s, a ref struct, before a call of 0x%08x, another type's method: the runtime would box "
        "`this`, which a ref struct cannot be", TN(t->value), f->b->instrs[i].arg.token);
    return true;
}

/* What getCallInfo refuses: a virtual call of a static method, a direct call of an
 * abstract one, a generic method named without its instantiation. */
bool ilg__tf_callable(tflow *f, uint32_t i, uint16_t op, const mdesc *d)
{
    const uint32_t tok = f->b->instrs[i].arg.token;
    const bool known = d->facts.flags & ILG_MEMBER_KNOWN;
    if ((op == ILG_OP_CALLVIRT || op == ILG_OP_LDVIRTFTN) && !d->sig->has_this) {
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_LOAD_ERROR,
            "0x%08x is a static method: the runtime finds no virtual method (MissingMethodException)", tok);
        return false;
    }
    if ((d->sig->conv & ILG_SIG_GENERIC) && (tok >> 24) != ILG_TBL_MethodSpec) {
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_INVALID_PROGRAM,
            "0x%08x is a generic method named without its type arguments (a MethodSpec)", tok);
        return false;
    }
    /* constrained. names the type whose implementation is called (generic code, static
     * abstract interface members). */
    const bool constrained = i > 0 && f->b->instrs[i - 1].op == ILG_OP_CONSTRAINED;
    bool other_class;
    if (constrained && op == ILG_OP_CALL && known && (d->facts.flags & ILG_MEMBER_STATIC) &&
        !(d->facts.flags & (ILG_MEMBER_VIRTUAL | ILG_MEMBER_ABSTRACT)) &&
        constrained_crashes(f, i - 1, d->facts.owner, &other_class)) {
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_PREFIX, ILG_OUTCOME_CRASH,
            "constrained. to %s before a call of 0x%08x, a static method that is not virtual: the JIT crashes",
            other_class ? "a class not the method's own (unless it derives from it)" : "a value type or interface",
            tok);
        return false;
    }
    if (constrained && constrained_byref_like(f, i, op, d))
        return false;
    if (constrained && constrained_slot(f, i, op, d))
        return false;
    if ((op == ILG_OP_CALL || op == ILG_OP_NEWOBJ || op == ILG_OP_LDFTN) && known && !constrained &&
        (d->facts.flags & ILG_MEMBER_ABSTRACT)) {
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_BAD_IMAGE,
            "0x%08x is an abstract method: it has no code to call directly", tok);
        return false;
    }
    return true;
}

void ilg__tf_t_call(tflow *f, uint32_t i, uint16_t op)
{
    const mdesc *d = ilg__tf_member(f, i, ILG_MEMBER_METHOD);
    if (!d || !d->sig || !ilg__tf_callable(f, i, op, d)) {
        f->dead = true; /* its stack effect is not known, or the JIT stops here */
        return;
    }
    if (op == ILG_OP_NEWOBJ) {
        t_newobj(f, i, d);
        return;
    }
    const uint32_t tok = f->b->instrs[i].arg.token;
    check_args(f, i, d, tok);
    if (d->sig->has_this) {
        vt t = pop(f);
        check_this(f, i, d, &t);
    }
    vt ret = d->sig->ret;
    if (ret.k == VK_REF)
        ret.flags &= (uint16_t)~VF_THIS;
    push(f, ret);
}

void ilg__tf_t_calli(tflow *f, uint32_t i)
{
    const uint32_t tok = f->b->instrs[i].arg.token;
    if ((tok >> 24) != ILG_TBL_StandAloneSig) {
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_TOKEN_KIND, ILG_OUTCOME_BAD_IMAGE,
            "token 0x%08x is not a signature (StandAloneSig)", tok);
        f->dead = true;
        return;
    }
    const sdesc *s = ilg__tc_sig(f->c, f->r, tok);
    if (s && s->status == ILG_E_NOT_FOUND)
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_TOKEN_ROW, ILG_OUTCOME_BAD_IMAGE, "token 0x%08x names no row", tok);
    if (!s || s->status != ILG_OK || !s->sig) {
        f->dead = true;
        return;
    }
    vt fp = pop(f);
    if (fp.k != VK_UNKNOWN && fp.k != VK_NI && fp.k != VK_I8)
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "the function pointer is %s", TN(fp));
    const mdesc site = { .status = ILG_OK, .sig = s->sig };
    check_args(f, i, &site, tok);
    if (s->sig->has_this)
        pop(f);
    push(f, s->sig->ret);
}

void ilg__tf_t_ftn(tflow *f, uint32_t i, uint16_t op)
{
    const mdesc *d = ilg__tf_member(f, i, ILG_MEMBER_METHOD);
    if (!d || !d->sig || !ilg__tf_callable(f, i, op, d)) {
        f->dead = true;
        return;
    }
    vt obj = op == ILG_OP_LDVIRTFTN ? pop(f) : vt_of(VK_NONE);
    if (op == ILG_OP_LDVIRTFTN && obj.k != VK_UNKNOWN && obj.k != VK_REF)
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "the object is %s", TN(obj));
    push(f, (vt){ VK_NI, 0, VF_PTR | VF_FTN, 0 });
}

/* ---- objects, arrays, indirections --------------------------------------------------- */

void ilg__tf_t_object(tflow *f, uint32_t i, uint16_t op)
{
    vt v = pop(f), t = ilg__tf_type_value(f, i);
    switch (op) {
    case ILG_OP_BOX:
        if (t.k == VK_REF) { /* boxing a reference type changes nothing */
            push(f, v);
            return;
        }
        if ((t.flags & VF_BYREF_LIKE) && !(i + 1 < f->b->count &&
                                          (f->b->instrs[i + 1].op == ILG_OP_UNBOX_ANY ||
                                           f->b->instrs[i + 1].op == ILG_OP_BRTRUE ||
                                           f->b->instrs[i + 1].op == ILG_OP_BRTRUE_S ||
                                           f->b->instrs[i + 1].op == ILG_OP_BRFALSE ||
                                           f->b->instrs[i + 1].op == ILG_OP_BRFALSE_S ||
                                           f->b->instrs[i + 1].op == ILG_OP_ISINST)))
            ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
                "%s is a ref struct, which cannot be boxed", TN(t));
        else if (t.k == VK_STRUCT && v.k != VK_STRUCT && v.k != VK_UNKNOWN && !(t.flags & VF_MAYBE_PRIM))
            ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s boxed as the value type %s", TN(v), TN(t));
        push(f, (vt){ VK_REF, 0, 0, 0 });
        return;
    case ILG_OP_ISINST: case ILG_OP_CASTCLASS:
        if (v.k == VK_STRUCT && !(v.flags & VF_MAYBE_PRIM))
            ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_CRASH,
                "%s is a value type, not an object: the JIT crashes", TN(v));
        else if (v.k != VK_UNKNOWN && v.k != VK_REF)
            ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s is not an object reference", TN(v));
        push(f, (vt){ VK_REF, 0, 0, f->b->instrs[i].arg.token });
        return;
    case ILG_OP_UNBOX: case ILG_OP_UNBOX_ANY:
        if (v.k == VK_STRUCT && !(v.flags & VF_MAYBE_PRIM))
            ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_CRASH,
                "%s is a value type, not an object: the JIT crashes", TN(v));
        else if (v.k != VK_UNKNOWN && v.k != VK_REF)
            ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s is not an object reference", TN(v));
        if (t.k == VK_STRUCT)
            t.flags |= VF_INDIR;
        push(f, op == ILG_OP_UNBOX ? vt_of(VK_BYREF) : t);
        return;
    case ILG_OP_NEWARR:
        if (t.flags & VF_BYREF_LIKE)
            ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_LOAD_ERROR,
                "an array of %s, a ref struct: the runtime cannot create the type", TN(t));
        else if (v.k == VK_STRUCT && !(v.flags & VF_MAYBE_PRIM))
            ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_CRASH,
                "the size is a value type (%s): the JIT crashes", TN(v));
        else if (v.k != VK_UNKNOWN && v.k != VK_I4 && v.k != VK_NI)
            ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "the size is %s", TN(v));
        push(f, (vt){ VK_REF, 0, VF_ARRAY, 0 });
        return;
    case ILG_OP_MKREFANY:
        if (v.k != VK_UNKNOWN && v.k != VK_BYREF && v.k != VK_NI)
            ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s is not an address", TN(v));
        push(f, (vt){ VK_STRUCT, 0, VF_TYPEDREF, 0 });
        return;
    case ILG_OP_REFANYVAL:
        if (v.k == VK_REF) /* the JIT passes it to its helper as a TypedReference */
            ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
                "%s is an object reference, not a TypedReference", TN(v));
        else if (v.k != VK_UNKNOWN && !(v.flags & VF_TYPEDREF))
            ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s is not a TypedReference", TN(v));
        push(f, vt_of(VK_BYREF));
        return;
    default: /* initobj */
        return;
    }
}

static vt elem_of(uint16_t op)
{
    switch (op) {
    case ILG_OP_LDELEM_I1: case ILG_OP_LDIND_I1: return (vt){ VK_I4, ILG_ET_I1, 0, 0 };
    case ILG_OP_LDELEM_U1: case ILG_OP_LDIND_U1: return (vt){ VK_I4, ILG_ET_U1, 0, 0 };
    case ILG_OP_LDELEM_I2: case ILG_OP_LDIND_I2: return (vt){ VK_I4, ILG_ET_I2, 0, 0 };
    case ILG_OP_LDELEM_U2: case ILG_OP_LDIND_U2: return (vt){ VK_I4, ILG_ET_U2, 0, 0 };
    case ILG_OP_LDELEM_I8: case ILG_OP_LDIND_I8: return vt_of(VK_I8);
    case ILG_OP_LDELEM_I: case ILG_OP_LDIND_I: return vt_of(VK_NI);
    case ILG_OP_LDELEM_R4: case ILG_OP_LDIND_R4: return vt_of(VK_R4);
    case ILG_OP_LDELEM_R8: case ILG_OP_LDIND_R8: return vt_of(VK_R8);
    case ILG_OP_LDELEM_REF: case ILG_OP_LDIND_REF: return vt_of(VK_REF);
    default: return vt_of(VK_I4);
    }
}

void ilg__tf_t_array(tflow *f, uint32_t i, uint16_t op)
{
    const bool store = op == ILG_OP_STELEM || (op >= ILG_OP_STELEM_I && op <= ILG_OP_STELEM_REF);
    vt val = store ? pop(f) : vt_of(VK_NONE), idx = op == ILG_OP_LDLEN ? vt_of(VK_I4) : pop(f);
    vt arr = pop(f);
    vt t = (op == ILG_OP_LDELEM || op == ILG_OP_STELEM || op == ILG_OP_LDELEMA) ? ilg__tf_type_value(f, i)
                                                                                : elem_of(op);
    if (arr.k != VK_UNKNOWN && arr.k != VK_REF)
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "the array is %s", TN(arr));
    if (idx.k != VK_UNKNOWN && idx.k != VK_I4 && idx.k != VK_NI)
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "the index is %s", TN(idx));
    if (store)
        check_store16(f, i, op == ILG_OP_STELEM_I2 ? &(vt){ VK_I4, ILG_ET_I2, 0, 0 } : &t, &val, "an element");
    if (op == ILG_OP_STELEM_REF && val.k == VK_STRUCT && !(val.flags & VF_MAYBE_PRIM))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_CRASH,
            "the element is a value type (%s), stored as an object reference: the JIT crashes", TN(val));
    if (op == ILG_OP_LDLEN)
        push(f, vt_of(VK_I4)); /* the JIT's array length is an int32 */
    else if (op == ILG_OP_LDELEMA)
        push(f, vt_of(VK_BYREF));
    else if (!store)
        push(f, t);
}

void ilg__tf_t_indirect(tflow *f, uint32_t i, uint16_t op)
{
    const bool store = (op >= ILG_OP_STIND_REF && op <= ILG_OP_STIND_R8) || op == ILG_OP_STIND_I ||
                       op == ILG_OP_STOBJ;
    vt val = store ? pop(f) : vt_of(VK_NONE), addr = pop(f);
    if (addr.k != VK_UNKNOWN && addr.k != VK_BYREF && addr.k != VK_NI && addr.k != VK_I4 && addr.k != VK_I8)
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "the address is %s", TN(addr));
    else if (addr.k == VK_NI || addr.k == VK_I4)
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_UNVERIFIABLE, "access through an unmanaged pointer");
    if (op == ILG_OP_STIND_I2)
        check_store16_at(f, i, &addr, &(vt){ VK_I4, ILG_ET_I2, 0, 0 }, &val);
    else if (op == ILG_OP_STOBJ)
        check_store16_at(f, i, &addr, (vt[]){ ilg__tf_type_value(f, i) }, &val);
    /* stind.ref stores the value as what it is (the JIT takes its type for the store's)
     * and refuses a struct; stind.i4 and its kin retype one and compile */
    if (op == ILG_OP_STIND_REF && val.k == VK_STRUCT && !(val.flags & VF_MAYBE_PRIM))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
            "the value is a value type (%s), stored through the address as an object reference", TN(val));
    if (op == ILG_OP_LDOBJ) {
        vt t = ilg__tf_type_value(f, i);
        if (t.k == VK_STRUCT)
            t.flags |= VF_INDIR;
        push(f, t);
    }
    else if (!store)
        push(f, elem_of(op));
    (void)val;
}

/* ---- the rest ---------------------------------------------------------------------------- */

/* Whether the JIT takes the block of instruction i for rarely run: it ends in a throw
 * or rethrow (a handler is not: a literal there is looked up as it compiles). There a
 * string literal is looked up lazily, when it runs. */
static bool rarely_run(tflow *f, uint32_t i)
{
    for (uint32_t k = i; k < f->b->count; k++) {
        const uint16_t op = f->b->instrs[k].op;
        if (op == ILG_OP_THROW || op == ILG_OP_RETHROW)
            return true;
        if ((ilg__op_flags[op] & (ILG__F_NOFALL | ILG__F_TARGET | ILG__F_SWITCH)) ||
            (k + 1 < f->b->count && f->jp_of[k + 1] != NONE_JP))
            return false;
    }
    return false;
}

/* Whether the JIT drops the literal pushed at i before anything uses it: a pop right
 * after it, or a branch on it that the JIT decides as it imports. */
static bool literal_dropped(tflow *f, uint32_t i)
{
    return dropped(f, i) ||
           (i + 1 < f->b->count && f->fold && (f->fold[i + 1] & FOLD_DECIDED) && f->jp_of[i + 1] == NONE_JP);
}

void ilg__tf_t_ldstr(tflow *f, uint32_t i)
{
    const uint32_t tok = f->b->instrs[i].arg.token;
    /* The runtime reads the token's row number as an offset into #US, whatever the table
     * byte says, when it makes the literal: not for one the JIT drops unused. */
    if (f->r->user_string && f->r->user_string(f->r->ctx, tok) != ILG_OK && !rarely_run(f, i) &&
        !literal_dropped(f, i))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_TOKEN_ROW, ILG_OUTCOME_BAD_IMAGE,
            "0x%08x is not the offset of a user string in the #US heap", tok);
    else if ((tok >> 24) != 0x70u)
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_TOKEN_KIND, "token 0x%08x is not a user string", tok);
    push(f, (vt){ VK_REF, 0, VF_STRING | VF_CONST, 0 }); /* a frozen string: a constant to the JIT */
}

void ilg__tf_t_ldtoken(tflow *f, uint32_t i)
{
    static const uint8_t any[] = { ILG_TBL_TypeDef, ILG_TBL_TypeRef, ILG_TBL_TypeSpec, ILG_TBL_MethodDef,
                                   ILG_TBL_MemberRef, ILG_TBL_MethodSpec, ILG_TBL_Field };
    const uint32_t tok = f->b->instrs[i].arg.token;
    if (!ilg__tf_table_in(tok, any, sizeof any))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_TOKEN_KIND, ILG_OUTCOME_BAD_IMAGE,
            "token 0x%08x is not a type, method or field", tok);
    else if (ilg__tf_table_in(tok, type_tables, sizeof type_tables))
        ilg__tf_any_type_tok(f, i, tok, true);
    else {
        /* looked up as a call or field access looks it up (differential run, seed 29) */
        const mdesc *d = ilg__tc_member(f->c, f->r, tok);
        if (d && d->status == ILG_E_NOT_FOUND)
            ilg__tf_missing_member(f, i, tok);
        else if (d && d->status == ILG_OK)
            ilg__tf_foreign_params(f, i, tok, d->need);
    }
    push(f, (vt){ VK_STRUCT, 0, VF_HANDLE, 0 });
}

void ilg__tf_t_jmp(tflow *f, uint32_t i)
{
    const mdesc *d = ilg__tf_member(f, i, ILG_MEMBER_METHOD);
    if (!d || !d->sig || !f->have_m || !f->m.desc->sig)
        return;
    const vsig *own = f->m.desc->sig, *to = d->sig;
    if (own->conv != to->conv || own->nparams + own->nextra != to->nparams + to->nextra ||
        jtype(&own->ret) != jtype(&to->ret) || own->ret.k != to->ret.k)
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_JMP, ILG_OUTCOME_INVALID_PROGRAM,
            "0x%08x has another signature (%u parameters, returns %s) than the method (%u, %s)",
            f->b->instrs[i].arg.token, (unsigned)(to->nparams + to->nextra), TN(to->ret),
            (unsigned)(own->nparams + own->nextra), TN(own->ret));
}

void ilg__tf_t_localloc(tflow *f, uint32_t i)
{
    vt n = pop(f);
    if (f->region[i])
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_LOCALLOC, ILG_OUTCOME_INVALID_PROGRAM,
            "localloc inside a handler or filter");
    else if (f->sp)
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_LOCALLOC, ILG_OUTCOME_INVALID_PROGRAM,
            "localloc with %u more item%s on the stack", f->sp, f->sp == 1 ? "" : "s");
    if (n.k != VK_UNKNOWN && n.k != VK_I4 && n.k != VK_NI)
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "the size is %s", TN(n));
    ilg__tf_warn(f, i, ILG_E_IL_VERIFY_UNVERIFIABLE, "localloc is not verifiable");
    push(f, (vt){ VK_NI, 0, VF_PTR, 0 });
}

void ilg__tf_t_branch(tflow *f, uint32_t i, uint16_t op)
{
    const ilg_opcode_info *oi = &ilg__opcodes[op];
    if (op == ILG_OP_SWITCH) {
        vt v = pop(f);
        if (v.k == VK_STRUCT && !(v.flags & VF_MAYBE_PRIM))
            ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_CRASH, "switch on a value type (%s): the JIT crashes",
                TN(v));
    } else if (oi->pops == 1) {
        vt v = pop(f);
        if (v.k == VK_STRUCT && !(v.flags & VF_MAYBE_PRIM))
            ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
                "%s: a value type is neither true nor false", TN(v));
        else if (is_float(v.k) || v.k == VK_I8)
            ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s is not an operand of %s", TN(v), oi->name);
    } else if (oi->pops == 2) {
        vt b = pop(f), a = pop(f);
        if (a.k != VK_UNKNOWN && b.k != VK_UNKNOWN && a.k != b.k && !(is_int(a.k) && is_int(b.k)) &&
            !(is_float(a.k) && is_float(b.k)))
            ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s and %s are not comparable", TN(a), TN(b));
    }
}

void ilg__tf_t_throw(tflow *f, uint32_t i)
{
    vt v = pop(f);
    if (v.k == VK_STRUCT && !(v.flags & VF_MAYBE_PRIM))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_CRASH,
            "%s: a value type is thrown: the JIT crashes", TN(v));
    else if (v.k != VK_UNKNOWN && v.k != VK_REF)
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s is not an object reference", TN(v));
}

void ilg__tf_t_ret(tflow *f, uint32_t i)
{
    if (!f->have_m || !f->m.desc->sig)
        return;
    const vt *want = &f->m.desc->sig->ret;
    if (want->k == VK_NONE)
        return;
    vt v = pop(f);
    if (want->k == VK_STRUCT && v.k != VK_STRUCT && v.k != VK_UNKNOWN && !(want->flags & VF_MAYBE_PRIM))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_RET_TYPE, ILG_OUTCOME_CRASH,
            "returns %s, the method returns a value type (%s): the JIT crashes", TN(v), TN(*want));
    else if (want->k == VK_STRUCT && v.k == VK_STRUCT && (v.flags & VF_HANDLE) && !(want->flags & VF_HANDLE))
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_RET_TYPE, ILG_OUTCOME_INVALID_PROGRAM,
            "returns a runtime handle (%s), the method returns the value type %s", TN(v), TN(*want));
    else if (!ilg__tf_coerces(want, &v) || (want->k == VK_REF && v.k != VK_REF && v.k != VK_UNKNOWN))
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_RET_TYPE, "returns %s, the method returns %s", TN(v), TN(*want));
}
