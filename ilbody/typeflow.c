/* typeflow.c: the type-level verifier. The evaluation stack's verification types are
 * followed through every reachable path, from the entry and every handler, and merged
 * where paths meet (as the JIT merges them: int32 and native int give native int,
 * float32 and float64 give float64, an int32 and a managed pointer a managed pointer;
 * what cannot merge becomes unknown); each opcode's operands are then checked against
 * what CoreCLR's JIT and runtime accept. docs/ilbody.md lists the rules, with what the
 * runtime does for each and where it was learned (its sources, and the differential
 * test against a real CoreCLR).
 *
 * Findings are made while the flow runs. When a merge changes a join point's types
 * after its block was checked, the block is checked again with the wider types; the
 * type findings are then dropped and made again in one last pass over the final
 * states, so every finding comes from the types a path really has. */
#include "typeflow_private.h"

/* ---- findings --------------------------------------------------------------------------- */

static void add(tflow *f, uint32_t i, ilg_status rule, uint8_t severity, uint8_t outcome,
                const char *fmt, va_list ap)
{
    ilg_findings *o = f->out;
    if (ilg__grow((void **)&o->items, &o->cap, (uint64_t)o->count + 1, sizeof(ilg_finding)))
        return;
    ilg_finding *x = &o->items[o->count++];
    x->rule = rule;
    x->offset = f->b->instrs[i].offset;
    x->severity = severity;
    x->outcome = outcome;
    int n = snprintf(x->message, sizeof x->message, "IL_%04x: %s: ", x->offset,
                     ilg__opcodes[f->b->instrs[i].op].name);
    vsnprintf(x->message + n, sizeof x->message - (size_t)n, fmt, ap);
    if (severity == ILG_SEVERITY_ERROR)
        o->errors++;
}

void ilg__tf_err(tflow *f, uint32_t i, ilg_status rule, ilg_outcome outcome, const char *fmt, ...)
    ILG_PRINTF(5, 6);
void ilg__tf_err(tflow *f, uint32_t i, ilg_status rule, ilg_outcome outcome, const char *fmt, ...)
{
    if (!f->report)
        return;
    va_list ap;
    va_start(ap, fmt);
    add(f, i, rule, ILG_SEVERITY_ERROR, (uint8_t)outcome, fmt, ap);
    va_end(ap);
}

void ilg__tf_warn(tflow *f, uint32_t i, ilg_status rule, const char *fmt, ...)
{
    if (!f->report || f->level < ILG_VERIFY_STRICT)
        return;
    va_list ap;
    va_start(ap, fmt);
    add(f, i, rule, ILG_SEVERITY_WARNING, ILG_OUTCOME_NONE, fmt, ap);
    va_end(ap);
}

/* ---- the JIT's types (x64) ---------------------------------------------------------- */

bool ilg__tf_coerces(const vt *want, const vt *have);

/* A join's value of several kinds passes only if each of its kinds would (the JIT's
 * spill temporary has the kind of one path, which one is not known). */
static bool coerces_merged(const vt *want, const vt *have)
{
    for (uint8_t k = VK_I4; k < VK_STRUCT; k++) {
        const vt h = vt_of(k);
        if ((have->tok >> k & 1) && !ilg__tf_coerces(want, &h))
            return false;
    }
    return true;
}

/* Whether the JIT passes a value of type have for a parameter of type want. */
bool ilg__tf_coerces(const vt *want, const vt *have)
{
    if (have->k == VK_UNKNOWN && (have->flags & VF_MERGED))
        return coerces_merged(want, have);
    enum jtype w = jtype(want), h = jtype(have);
    if (w == J_ANY || h == J_ANY)
        return true;
    if (want->k == VK_STRUCT && (want->flags & VF_MAYBE_PRIM)) /* an enum, or a struct */
        return h != J_REF && h != J_BYREF;
    if (have->k == VK_STRUCT && (have->flags & VF_MAYBE_PRIM))
        return w != J_REF && w != J_BYREF;
    if (w == h && w != J_SMALL)
        return true;
    switch (w) {
    case J_SMALL: case J_INT: return h == J_SMALL || h == J_INT || h == J_LONG;
    case J_LONG: return h == J_LONG || h == J_INT || h == J_BYREF;
    case J_FLOAT: case J_DOUBLE: return h == J_FLOAT || h == J_DOUBLE;
    case J_BYREF: return h == J_LONG || h == J_REF || h == J_BYREF;
    case J_STRUCT: return h == J_STRUCT;
    default: return false;
    }
}

/* The kinds a value may have after joins (see VF_MERGED); 0 when not known. */
static uint32_t kinds_of(const vt *v)
{
    if (v->k == VK_UNKNOWN)
        return (v->flags & VF_MERGED) ? v->tok : 0;
    return v->k == VK_STRUCT ? 0 : 1u << v->k;
}

/* Two values of kinds that do not merge: unknown, remembering the kinds. */
static vt unmerged(const vt *a, const vt *b)
{
    const uint32_t ka = kinds_of(a), kb = kinds_of(b);
    if (!ka || !kb)
        return vt_of(VK_UNKNOWN);
    return (vt){ VK_UNKNOWN, 0, VF_MERGED, ka | kb };
}


/* The merge of two stack types where paths meet. */
static vt merge(vt a, vt b)
{
    if (a.k == VK_UNKNOWN || b.k == VK_UNKNOWN)
        return unmerged(&a, &b);
    if (a.k == b.k) {
        if (a.k == VK_I4 && a.small != b.small)
            a.small = 0;
        if (a.k == VK_I4 && (a.tok != b.tok || !(a.flags & b.flags & VF_CONST)))
            a.tok = 0; /* a constant's value: not one constant on both paths */
        if (a.k == VK_BYREF && a.small != b.small)
            a.small = LA_OTHER; /* addresses of different locals: no 16-bit store finding */
        if (a.k == VK_STRUCT && (a.tok != b.tok || (a.flags ^ b.flags) & (VF_HANDLE | VF_TYPEDREF)))
            return vt_of(VK_UNKNOWN); /* two value types */
        if (a.k == VK_REF && a.tok != b.tok)
            a.tok = 0;
        a.flags &= b.flags;
        if (a.k == VK_REF && ((a.flags | b.flags) & VF_NULL) && !(a.flags & b.flags & VF_NULL))
            a.flags &= (uint16_t)~VF_NULL;
        return a;
    }
    uint8_t lo = a.k < b.k ? a.k : b.k, hi = a.k < b.k ? b.k : a.k;
    if (lo == VK_I4 && (hi == VK_I8 || hi == VK_NI))
        return vt_of(hi);
    if (lo == VK_I8 && hi == VK_NI)
        return vt_of(VK_NI);
    if ((lo == VK_I4 || lo == VK_I8 || lo == VK_NI) && hi == VK_BYREF)
        return vt_of(VK_BYREF);
    if (lo == VK_R4 && hi == VK_R8)
        return vt_of(VK_R8);
    return unmerged(&a, &b);
}

static bool same_vt(const vt *a, const vt *b)
{
    return a->k == b->k && a->small == b->small && a->flags == b->flags && a->tok == b->tok;
}

/* ---- tokens ---------------------------------------------------------------------------- */

bool ilg__tf_table_in(uint32_t token, const uint8_t *tables, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if ((token >> 24) == tables[k])
            return true;
    return false;
}

static const uint8_t method_tables[] = { ILG_TBL_MethodDef, ILG_TBL_MemberRef, ILG_TBL_MethodSpec };
static const uint8_t field_tables[] = { ILG_TBL_Field, ILG_TBL_MemberRef };

/* A member token that names no row. The runtime looks a Field or MethodDef row up in
 * the type whose list would hold it: row 0 and a Field past its table give a type that
 * does not load or a field that is not found (TypeLoadException, MissingFieldException);
 * a MethodDef past its table mostly "Index not found" (BadImageFormatException) but
 * sometimes a TypeLoadException, by what the process loaded before. Any other table:
 * BadImageFormatException. */
void ilg__tf_missing_member(tflow *f, uint32_t i, uint32_t tok)
{
    const uint32_t t = tok >> 24;
    ilg_outcome o = ILG_OUTCOME_BAD_IMAGE;
    if ((t == ILG_TBL_MethodDef && !(tok & 0xFFFFFF)) || t == ILG_TBL_Field)
        o = ILG_OUTCOME_LOAD_ERROR;
    ilg__tf_err(f, i, ILG_E_IL_VERIFY_TOKEN_ROW, o, "token 0x%08x names no row", tok);
}

/* A token whose instantiation names type parameters the verified method and its type
 * do not have: the runtime cannot instantiate it in this method (BadImageFormatException,
 * 0x8007000B). A generic type's parameter count is not known: only a type without any is
 * held against the token. */
bool ilg__tf_foreign_params(tflow *f, uint32_t i, uint32_t tok, const uint32_t need[2])
{
    if (!f->have_m || ((!need[0] || f->m.generic_type) && need[1] <= f->m.ngeneric))
        return false;
    ilg__tf_err(f, i, ILG_E_IL_VERIFY_TYPE_PARAM, ILG_OUTCOME_BAD_IMAGE,
        "0x%08x uses type parameter %s%u, which the method does not have", tok,
        need[1] > f->m.ngeneric ? "!!" : "!", need[1] > f->m.ngeneric ? need[1] - 1 : need[0] - 1);
    return true;
}

/* The member an instruction names, checked as the runtime resolves it: a token of the
 * table the opcode takes (BadImageFormatException), a row that exists, a reference of
 * the right kind (MissingMethodException, MissingFieldException). NULL when the
 * instruction cannot be typed further. */
const mdesc *ilg__tf_member(tflow *f, uint32_t i, ilg_member_kind want)
{
    const uint32_t tok = f->b->instrs[i].arg.token;
    const bool method = want == ILG_MEMBER_METHOD;
    if (!(method ? ilg__tf_table_in(tok, method_tables, sizeof method_tables)
                 : ilg__tf_table_in(tok, field_tables, sizeof field_tables))) {
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_TOKEN_KIND, ILG_OUTCOME_BAD_IMAGE,
            "token 0x%08x is not a %s", tok,
            method ? "method (MethodDef, MemberRef or MethodSpec)" : "field (Field or MemberRef)");
        return NULL;
    }
    const mdesc *d = ilg__tc_member(f->c, f->r, tok);
    if (!d)
        return NULL;
    if (d->status == ILG_E_NOT_FOUND) {
        ilg__tf_missing_member(f, i, tok);
        return NULL;
    }
    if (d->status != ILG_OK || ilg__tf_foreign_params(f, i, tok, d->need))
        return NULL;
    if (d->facts.kind != want) {
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_BAD_IMAGE, "token 0x%08x is a %s, not a %s",
            tok, method ? "field" : "method", method ? "method" : "field");
        return NULL;
    }
    if (!method && (d->facts.flags & ILG_MEMBER_LITERAL)) {
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_LOAD_ERROR,
            "field 0x%08x is a constant (literal): it has no storage", tok);
        return NULL;
    }
    /* an abstract method called directly is refused before its owner is loaded
     * (BadImageFormat, from ilg__tf_callable()) */
    const uint16_t op = f->b->instrs[i].op;
    const bool direct = (op == ILG_OP_CALL || op == ILG_OP_NEWOBJ || op == ILG_OP_LDFTN) &&
                        !(i > 0 && f->b->instrs[i - 1].op == ILG_OP_CONSTRAINED);
    if (d->owner_open && (tok >> 24) != ILG_TBL_MemberRef && !(method && direct && (d->facts.flags & ILG_MEMBER_ABSTRACT))) {
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_LOAD_ERROR,
            "0x%08x belongs to the generic type definition 0x%08x, which needs an instantiation",
            tok, d->facts.owner);
        return NULL;
    }
    return d;
}

/* The type an instruction names (a TypeDef, TypeRef or TypeSpec that exists). */
const tdesc *ilg__tf_any_type_tok(tflow *f, uint32_t i, uint32_t tok, bool open_ok)
{
    if (!ilg__tf_table_in(tok, type_tables, sizeof type_tables)) {
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_TOKEN_KIND, ILG_OUTCOME_BAD_IMAGE,
            "token 0x%08x is not a type (TypeDef, TypeRef or TypeSpec)", tok);
        return NULL;
    }
    const tdesc *d = ilg__tc_type(f->c, f->r, tok);
    if (!d)
        return NULL;
    if (d->status == ILG_E_NOT_FOUND) {
        /* A TypeDef or TypeRef past its table is a type that does not load; a TypeSpec,
         * an invalid argument (ArgumentException). */
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_TOKEN_ROW,
            (tok >> 24) == ILG_TBL_TypeSpec ? ILG_OUTCOME_OTHER_EXCEPTION : ILG_OUTCOME_LOAD_ERROR,
            "token 0x%08x names no row", tok);
        return NULL;
    }
    if (d->status == ILG_OK && ilg__tf_foreign_params(f, i, tok, d->need))
        return NULL;
    if (d->status == ILG_OK && !open_ok && (d->facts.flags & ILG_TYPE_GENERIC) && (tok >> 24) != ILG_TBL_TypeSpec) {
        /* only ldtoken takes a generic type definition (typeof(List<>)) */
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_TOKEN_KIND, ILG_OUTCOME_LOAD_ERROR,
            "0x%08x is a generic type definition, which needs an instantiation (a TypeSpec)", tok);
        return NULL;
    }
    return d->status == ILG_OK ? d : NULL;
}

static const tdesc *type_tok(tflow *f, uint32_t i, uint32_t tok) { return ilg__tf_any_type_tok(f, i, tok, false); }

/* The stack type of a value of the type an instruction names (unknown when not known). */
vt ilg__tf_type_value(tflow *f, uint32_t i)
{
    const tdesc *d = type_tok(f, i, f->b->instrs[i].arg.token);
    return d ? d->value : vt_of(VK_UNKNOWN);
}

/* ---- one instruction ------------------------------------------------------------------ */

static bool in_range(uint16_t op, uint16_t lo, uint16_t hi) { return op >= lo && op <= hi; }

static bool step_values(tflow *f, uint32_t i, uint16_t op)
{
    switch (op) {
    case ILG_OP_LDNULL: push(f, (vt){ VK_REF, 0, VF_NULL | VF_CONST, 0 }); return true;
    case ILG_OP_LDC_I8: push(f, (vt){ VK_I8, 0, VF_CONST, 0 }); return true;
    case ILG_OP_LDC_R4: push(f, (vt){ VK_R4, 0, VF_CONST, 0 }); return true;
    case ILG_OP_LDC_R8: push(f, (vt){ VK_R8, 0, VF_CONST, 0 }); return true;
    case ILG_OP_LDSTR: ilg__tf_t_ldstr(f, i); return true;
    case ILG_OP_DUP: {
        vt v = pop(f);
        push(f, v);
        push(f, v);
        return true;
    }
    case ILG_OP_POP: pop(f); return true;
    case ILG_OP_SIZEOF: ilg__tf_type_value(f, i); push(f, vt_of(VK_I4)); return true;
    case ILG_OP_LDTOKEN: ilg__tf_t_ldtoken(f, i); return true;
    case ILG_OP_ARGLIST:
        if (f->have_m && !f->m.vararg)
            ilg__tf_err(f, i, ILG_E_IL_VERIFY_ARGLIST, ILG_OUTCOME_INVALID_PROGRAM,
                "the method is not vararg");
        push(f, (vt){ VK_STRUCT, 0, VF_HANDLE, 0 });
        return true;
    case ILG_OP_REFANYTYPE: pop(f); push(f, (vt){ VK_STRUCT, 0, VF_HANDLE, 0 }); return true;
    case ILG_OP_LOCALLOC: ilg__tf_t_localloc(f, i); return true;
    case ILG_OP_THROW: ilg__tf_t_throw(f, i); return true;
    case ILG_OP_RET: ilg__tf_t_ret(f, i); return true;
    case ILG_OP_JMP: ilg__tf_t_jmp(f, i); return true;
    case ILG_OP_ENDFILTER: pop(f); return true;
    case ILG_OP_CONSTRAINED: type_tok(f, i, f->b->instrs[i].arg.token); return true;
    case ILG_OP_NO:
        ilg__tf_err(f, i, ILG_E_IL_VERIFY_PREFIX, ILG_OUTCOME_INVALID_PROGRAM,
            "CoreCLR's JIT does not take the no. prefix");
        return true;
    case ILG_OP_CPBLK: case ILG_OP_INITBLK:
        pop(f), pop(f), pop(f);
        ilg__tf_warn(f, i, ILG_E_IL_VERIFY_UNVERIFIABLE, "%s is not verifiable", ilg__opcodes[op].name);
        return true;
    case ILG_OP_CPOBJ: pop(f), pop(f); ilg__tf_type_value(f, i); return true;
    default:
        if (in_range(op, ILG_OP_LDC_I4_M1, ILG_OP_LDC_I4)) {
            const ilg_instr *in = &f->b->instrs[i];
            const int64_t c = op == ILG_OP_LDC_I4_S || op == ILG_OP_LDC_I4 ? in->arg.i : (int64_t)op - ILG_OP_LDC_I4_0;
            push(f, (vt){ VK_I4, 0, VF_CONST, (uint32_t)c }); /* the value in tok */
            return true;
        }
        return false;
    }
}

/* What each opcode is to the type pass, worked out once from the opcode table. */
enum { C_OTHER, C_SLOT, C_LDARG_N, C_LDLOC_N, C_CALL, C_CALLI, C_FTN, C_FIELD, C_BRANCH, C_INDIRECT,
       C_BINARY, C_UNARY, C_CONV, C_COMPARE, C_ARRAY, C_OBJECT };

static uint8_t op_class_of(uint16_t op)
{
    const ilg_instr in = { .op = op };
    bool arg;
    uint32_t idx;
    if (in_range(op, ILG_OP_LDARG_0, ILG_OP_LDARG_3))
        return C_LDARG_N;
    if (in_range(op, ILG_OP_LDLOC_0, ILG_OP_LDLOC_3))
        return C_LDLOC_N;
    if (ilg__tf_slot_of(&in, &arg, &idx))
        return C_SLOT;
    if (op == ILG_OP_CALL || op == ILG_OP_CALLVIRT || op == ILG_OP_NEWOBJ)
        return C_CALL;
    if (op == ILG_OP_CALLI)
        return C_CALLI;
    if (op == ILG_OP_LDFTN || op == ILG_OP_LDVIRTFTN)
        return C_FTN;
    if (in_range(op, ILG_OP_LDFLD, ILG_OP_STSFLD))
        return C_FIELD;
    if (in_range(op, ILG_OP_BR_S, ILG_OP_SWITCH))
        return C_BRANCH;
    if (in_range(op, ILG_OP_LDIND_I1, ILG_OP_STIND_R8) || op == ILG_OP_STIND_I || op == ILG_OP_LDOBJ ||
        op == ILG_OP_STOBJ)
        return C_INDIRECT;
    if (in_range(op, ILG_OP_ADD, ILG_OP_SHR_UN) || in_range(op, ILG_OP_ADD_OVF, ILG_OP_SUB_OVF_UN))
        return C_BINARY;
    if (op == ILG_OP_NEG || op == ILG_OP_NOT || op == ILG_OP_CKFINITE)
        return C_UNARY;
    if (in_range(op, ILG_OP_CONV_I1, ILG_OP_CONV_U8) || in_range(op, ILG_OP_CONV_OVF_I1_UN, ILG_OP_CONV_OVF_U_UN) ||
        in_range(op, ILG_OP_CONV_OVF_I1, ILG_OP_CONV_OVF_U8) || in_range(op, ILG_OP_CONV_U2, ILG_OP_CONV_OVF_U) ||
        op == ILG_OP_CONV_U || op == ILG_OP_CONV_R_UN)
        return C_CONV;
    if (in_range(op, ILG_OP_CEQ, ILG_OP_CLT_UN))
        return C_COMPARE;
    if (in_range(op, ILG_OP_LDLEN, ILG_OP_STELEM))
        return C_ARRAY;
    if (op == ILG_OP_CASTCLASS || op == ILG_OP_ISINST || op == ILG_OP_BOX || op == ILG_OP_UNBOX ||
        op == ILG_OP_UNBOX_ANY || op == ILG_OP_NEWARR || op == ILG_OP_MKREFANY || op == ILG_OP_REFANYVAL ||
        op == ILG_OP_INITOBJ)
        return C_OBJECT;
    return C_OTHER;
}

static uint8_t op_class[ILG_OP_COUNT];
static pthread_once_t op_class_once = PTHREAD_ONCE_INIT;

static void init_op_class(void)
{
    for (uint16_t op = 0; op < ILG_OP_COUNT; op++)
        op_class[op] = op_class_of(op);
}

/* ldarg.0-3 and ldloc.0-3, the most common instructions, when the slot exists: its type
 * as ilg__tf_t_slot pushes it (locals normalized, `this` only from argument 0). */
static bool load_known(tflow *f, bool is_arg, uint32_t idx)
{
    if (is_arg ? !f->have_m || idx >= f->m.nargs : !f->have_locals || idx >= f->nlocals)
        return false;
    vt t = is_arg ? f->m.args[idx] : f->locals[idx];
    if (!is_arg) {
        if (t.k == VK_I4)
            t.small = 0;
        t.flags &= (uint16_t)~VF_THIS;
    }
    push(f, t);
    return true;
}

static void step(tflow *f, uint32_t i)
{
    const ilg_instr *in = &f->b->instrs[i];
    const uint16_t op = in->op;
    bool arg;
    uint32_t idx;
    switch (op_class[op]) {
    case C_LDARG_N:
        if (!load_known(f, true, (uint32_t)(op - ILG_OP_LDARG_0)))
            ilg__tf_t_slot(f, i, 1, true, (uint32_t)(op - ILG_OP_LDARG_0));
        break;
    case C_LDLOC_N:
        if (!load_known(f, false, (uint32_t)(op - ILG_OP_LDLOC_0)))
            ilg__tf_t_slot(f, i, 1, false, (uint32_t)(op - ILG_OP_LDLOC_0));
        break;
    case C_SLOT: {
        const int kind = ilg__tf_slot_of(in, &arg, &idx);
        ilg__tf_t_slot(f, i, kind, arg, idx);
        break;
    }
    case C_CALL: ilg__tf_t_call(f, i, op); break;
    case C_CALLI: ilg__tf_t_calli(f, i); break;
    case C_FTN: ilg__tf_t_ftn(f, i, op); break;
    case C_FIELD: ilg__tf_t_field(f, i, op); break;
    case C_BRANCH: ilg__tf_t_branch(f, i, op); break;
    case C_INDIRECT: ilg__tf_t_indirect(f, i, op); break;
    case C_BINARY: ilg__tf_t_binary(f, i, op); break;
    case C_UNARY: ilg__tf_t_unary(f, i, op); break;
    case C_CONV: ilg__tf_t_conv(f, i, op); break;
    case C_COMPARE: ilg__tf_t_compare(f, i, op); break;
    case C_ARRAY: ilg__tf_t_array(f, i, op); break;
    case C_OBJECT: ilg__tf_t_object(f, i, op); break;
    default: step_values(f, i, op); break;
    }
}

/* ---- the data flow ---------------------------------------------------------------------- */

/* Stack slot k holds a and b on two paths into join point j, which do not merge: an
 * ECMA-335 fault (III.1.8.1.3). The JIT spills the stack into temporaries and compiles
 * such code (what a later instruction makes of the value is checked there, and the
 * merged type, unknown, is held against nothing). Reported once, while the flow runs
 * (the final pass keeps it). */
static void merge_fault(tflow *f, uint32_t j, uint32_t k, const vt *a, const vt *b)
{
    const bool rep = f->report;
    f->report = true;
    ilg__tf_warn(f, f->jp_at[j], ILG_E_IL_VERIFY_TYPE_MERGE, "stack slot %u is %s on one path and %s on another", k,
         TN(*a), TN(*b));
    f->report = rep;
}

/* The paths into join point j bring the stack in f: set, merge and queue. */
/* A value spilled to a temporary: no longer a constant (nor its value, in an int32's tok). */
static void unconst(vt *v)
{
    if (v->flags & VF_CONST) {
        v->flags &= (uint16_t)~VF_CONST;
        if (v->k == VK_I4)
            v->tok = 0;
    }
}

static void reach(tflow *f, uint32_t j, const vt *stack, uint32_t sp)
{
    vt *st = &f->jp_state[(size_t)j * f->maxd];
    if (f->jp_depth[j] < 0) {
        memcpy(st, stack, sp * sizeof *st);
        for (uint32_t k = 0; k < sp; k++) /* the JIT spills them: no longer constants */
            unconst(&st[k]);
        f->jp_depth[j] = (int32_t)sp;
    } else if ((uint32_t)f->jp_depth[j] != sp) {
        return; /* different depths: E_IL_VERIFY_MERGE, from the structural pass */
    } else {
        bool changed = false;
        for (uint32_t k = 0; k < sp; k++) {
            vt m = merge(st[k], stack[k]);
            if (!same_vt(&m, &st[k])) {
                if (m.k == VK_UNKNOWN && st[k].k != VK_UNKNOWN && stack[k].k != VK_UNKNOWN)
                    merge_fault(f, j, k, &st[k], &stack[k]);
                st[k] = m;
                changed = true;
            }
        }
        if (!changed)
            return;
        if (f->visited[j])
            f->changed = true;
    }
    if (!f->queued[j]) {
        f->queued[j] = 1;
        f->work[f->nwork++] = j;
    }
}

static void reach_at(tflow *f, uint32_t i, bool clear)
{
    if (i < f->b->count && f->jp_of[i] != NONE_JP)
        reach(f, f->jp_of[i], f->stack, clear ? 0 : f->sp);
}

/* Checks the block that starts at join point j; with follow, passes its stacks on. */
static void run_block(tflow *f, uint32_t j, bool follow)
{
    const ilg_body *b = f->b;
    uint32_t i = f->jp_at[j];
    f->sp = (uint32_t)f->jp_depth[j];
    memcpy(f->stack, &f->jp_state[(size_t)j * f->maxd], f->sp * sizeof *f->stack);
    f->visited[j] = 1;
    for (;;) {
        const ilg_instr *in = &b->instrs[i];
        f->dead = false;
        step(f, i);
        if (f->dead)
            return;
        const unsigned fl = ilg__op_flags[in->op];
        const uint8_t fd = (fl & ILG__F_TARGET) && f->fold ? (f->fold[i] & FOLD_DECIDED) : FOLD_NONE;
        if (follow && (fl & ILG__F_TARGET) && fd != FOLD_NEVER)
            reach_at(f, in->arg.target, in->op == ILG_OP_LEAVE || in->op == ILG_OP_LEAVE_S);
        else if (follow && (fl & ILG__F_SWITCH))
            for (uint32_t k = 0; k < in->arg.sw.count; k++)
                reach_at(f, b->targets[in->arg.sw.first + k], false);
        if ((fl & ILG__F_NOFALL) || fd == FOLD_ALWAYS || ++i >= b->count)
            return;
        if (fl & (ILG__F_TARGET | ILG__F_SWITCH)) /* a new block: the stack was spilled */
            for (uint32_t k = 0; k < f->sp; k++)
                unconst(&f->stack[k]);
        if (f->jp_of[i] != NONE_JP) {
            if (follow)
                reach(f, f->jp_of[i], f->stack, f->sp);
            return;
        }
    }
}

static void mark_jp(tflow *f, uint32_t i)
{
    if (i < f->b->count && f->jp_of[i] == NONE_JP) {
        f->jp_of[i] = f->njp;
        f->jp_at[f->njp++] = i;
    }
}

/* Join points: the entry, every branch and switch target, every handler and filter
 * start, and every instruction after one that does not fall through. */
static void find_join_points(tflow *f)
{
    const ilg_body *b = f->b;
    memset(f->jp_of, 0xFF, b->count * sizeof *f->jp_of); /* NONE_JP */
    f->njp = 0;
    mark_jp(f, 0);
    for (uint32_t i = 0; i < b->count; i++) {
        const ilg_instr *in = &b->instrs[i];
        const unsigned fl = ilg__op_flags[in->op];
        if (fl & ILG__F_TARGET)
            mark_jp(f, in->arg.target);
        else if (fl & ILG__F_SWITCH)
            for (uint32_t k = 0; k < in->arg.sw.count; k++)
                mark_jp(f, b->targets[in->arg.sw.first + k]);
        if (fl & ILG__F_NOFALL)
            mark_jp(f, i + 1);
    }
    for (uint32_t c = 0; c < b->eh_count; c++) {
        mark_jp(f, b->eh[c].handler_start);
        if (b->eh[c].kind == ILG_EH_FILTER)
            mark_jp(f, b->eh[c].filter_start);
    }
}

static void seed_handlers(tflow *f)
{
    const ilg_body *b = f->b;
    vt exc = { VK_REF, 0, 0, 0 };
    for (uint32_t c = 0; c < b->eh_count; c++) {
        const ilg_eh_clause *e = &b->eh[c];
        if (e->handler_start >= b->count)
            continue;
        for (uint32_t i = e->handler_start; i < e->handler_end && i < b->count; i++)
            f->region[i] = 1;
        if (e->kind == ILG_EH_FILTER)
            for (uint32_t i = e->filter_start; i < e->handler_start && i < b->count; i++)
                f->region[i] = 1;
        if (f->fold && !(f->fold[e->handler_start] & FOLD_LIVE_HANDLER))
            continue; /* its try block is not reached: the JIT does not import it */
        vt t = exc;
        if (e->kind == ILG_EH_CATCH && ilg__tf_table_in(e->class_token, type_tables, sizeof type_tables))
            t.tok = e->class_token;
        if (e->kind == ILG_EH_FILTER && e->filter_start < b->count)
            reach(f, f->jp_of[e->filter_start], &exc, 1);
        reach(f, f->jp_of[e->handler_start], &t, e->kind == ILG_EH_CATCH || e->kind == ILG_EH_FILTER);
    }
}

/* The catch clauses' types (the runtime resolves them as it compiles the method). */
static void check_catch_types(tflow *f)
{
    for (uint32_t c = 0; c < f->b->eh_count; c++) {
        const ilg_eh_clause *e = &f->b->eh[c];
        if (e->kind != ILG_EH_CATCH || e->handler_start >= f->b->count)
            continue;
        if (e->class_token == 0) /* no type at all: the JIT's own refusal */
            ilg__tf_err(f, e->handler_start, ILG_E_IL_VERIFY_TOKEN_KIND, ILG_OUTCOME_INVALID_PROGRAM,
                "catch clause %u names no type (token 0)", c);
        else
            type_tok(f, e->handler_start, e->class_token);
    }
}

/* The locals, from the body's StandAloneSig. */
static void load_locals(tflow *f)
{
    const ilg_body *b = f->b;
    if (!b->local_sig) {
        f->have_locals = true;
        return;
    }
    const sdesc *s = ilg__tc_sig(f->c, f->r, b->local_sig);
    if (s && s->status == ILG_E_NOT_FOUND)
        ilg__tf_err(f, 0, ILG_E_IL_VERIFY_TOKEN_ROW, ILG_OUTCOME_BAD_IMAGE,
            "the local signature 0x%08x names no row", b->local_sig);
    else if (s && s->status == ILG_OK && !s->locals)
        ilg__tf_err(f, 0, ILG_E_IL_VERIFY_TOKEN_KIND, ILG_OUTCOME_BAD_IMAGE,
            "the local signature 0x%08x is not a LOCAL_SIG", b->local_sig);
    if (s && s->status == ILG_OK && s->locals) {
        f->locals = s->local;
        f->nlocals = s->count;
        f->have_locals = true;
    }
}

/* Working space: the per-instruction arrays, then the join points' stacks. */
static bool lay_out(tflow *f)
{
    const size_t n = f->b->count;
    uint32_t *w = ilg__tc_scratch(f->c, 0, n * 4 * sizeof(uint32_t) + n * 3 + f->maxd * sizeof(vt) + 16);
    if (!w)
        return false;
    f->jp_of = w;
    f->jp_at = w + n;
    f->jp_depth = (int32_t *)(w + 2 * n);
    f->work = w + 3 * n;
    f->stack = (vt *)(w + 4 * n);
    f->queued = (uint8_t *)(f->stack + f->maxd);
    f->visited = f->queued + n;
    f->region = f->visited + n;
    memset(f->queued, 0, n * 3);
    find_join_points(f);
    f->jp_state = ilg__tc_scratch(f->c, 1, (size_t)f->njp * f->maxd * sizeof(vt) + sizeof(vt));
    for (uint32_t j = 0; j < f->njp; j++)
        f->jp_depth[j] = -1;
    return f->jp_state != NULL;
}

/* ldarga and ldloca past the arguments or locals in code the JIT does not import: it
 * checks them as it scans the IL for jump targets, before it imports anything
 * (observed: in code no path reaches, and after a branch it folds, they are
 * InvalidProgram; ldarg, ldloc, starg and stloc there compile). Imported code had
 * them checked by t_slot. */
static void check_address_indexes(tflow *f)
{
    const ilg_body *b = f->b;
    if (!f->fold || !(f->fold[b->count] & FOLD_UNREACHED))
        return;
    f->report = true;
    for (uint32_t i = 0; i < b->count; i++) {
        bool is_arg;
        uint32_t idx;
        if (!(f->fold[i] & FOLD_UNREACHED) || ilg__tf_slot_of(&b->instrs[i], &is_arg, &idx) != 3 ||
            !(is_arg ? f->have_m : f->have_locals))
            continue;
        const uint32_t limit = is_arg ? f->m.nargs : f->nlocals;
        if (idx >= limit)
            ilg__tf_err(f, i, is_arg ? ILG_E_IL_VERIFY_ARG_INDEX : ILG_E_IL_VERIFY_LOCAL_INDEX,
                ILG_OUTCOME_INVALID_PROGRAM, "%s %u, but the method has %u", is_arg ? "argument" : "local",
                idx, limit);
    }
}

void ilg__type_pass(const ilg_body *b, const ilg_verify_options *o, ilg_findings *out,
                    const uint8_t *fold)
{
    if (!o->types || !b->count)
        return;
    pthread_once(&op_class_once, init_op_class);
    tflow f = { .b = b, .r = o->types, .out = out, .fold = fold, .level = o->level, .report = true };
    if (!(f.c = ilg__tc_get(out, o->types)))
        return;
    f.have_m = ilg__tc_method(f.c, f.r, &f.m);
    const uint32_t deepest = out->max_depth > b->max_stack ? out->max_depth : b->max_stack;
    f.maxd = deepest + 8;
    if (!lay_out(&f))
        return;
    const uint32_t first = out->count;
    load_locals(&f);
    reach(&f, 0, f.stack, 0);
    seed_handlers(&f);
    while (f.nwork) {
        uint32_t j = f.work[--f.nwork];
        f.queued[j] = 0;
        run_block(&f, j, true);
    }
    if (!f.changed) {
        check_address_indexes(&f);
        check_catch_types(&f);
        return;
    }
    /* Some block was checked with types that later widened: check every block once
     * more with its final entry types, and keep only those findings. */
    uint32_t keep = first;
    for (uint32_t k = first; k < out->count; k++)
        if (out->items[k].rule == ILG_E_IL_VERIFY_TYPE_MERGE || k < first)
            out->items[keep++] = out->items[k];
    out->count = keep;
    out->errors = 0;
    for (uint32_t k = 0; k < out->count; k++)
        out->errors += out->items[k].severity == ILG_SEVERITY_ERROR;
    load_locals(&f);
    for (uint32_t j = 0; j < f.njp; j++)
        if (f.visited[j])
            run_block(&f, j, false);
    check_address_indexes(&f);
    check_catch_types(&f);
}
