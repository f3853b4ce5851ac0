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

static void err(tflow *f, uint32_t i, ilg_status rule, ilg_outcome outcome, const char *fmt, ...)
    ILG_PRINTF(5, 6);
static void err(tflow *f, uint32_t i, ilg_status rule, ilg_outcome outcome, const char *fmt, ...)
{
    if (!f->report)
        return;
    va_list ap;
    va_start(ap, fmt);
    add(f, i, rule, ILG_SEVERITY_ERROR, (uint8_t)outcome, fmt, ap);
    va_end(ap);
}

static void warn(tflow *f, uint32_t i, ilg_status rule, const char *fmt, ...) ILG_PRINTF(4, 5);
static void warn(tflow *f, uint32_t i, ilg_status rule, const char *fmt, ...)
{
    if (!f->report || f->level < ILG_VERIFY_STRICT)
        return;
    va_list ap;
    va_start(ap, fmt);
    add(f, i, rule, ILG_SEVERITY_WARNING, ILG_OUTCOME_NONE, fmt, ap);
    va_end(ap);
}

#define TN(t) ilg__vt_name(&(t), (char[64]){ 0 }, 64)

/* ---- the stack ----------------------------------------------------------------------- */

static vt pop(tflow *f)
{
    if (f->sp == 0) {
        f->dead = true; /* an underflow: the structural pass reports it */
        return vt_of(VK_UNKNOWN);
    }
    return f->stack[--f->sp];
}

static void push(tflow *f, vt t)
{
    if (t.k == VK_NONE)
        return;
    if (f->sp >= f->maxd) {
        f->dead = true; /* past maxstack: reported structurally */
        return;
    }
    f->stack[f->sp++] = t;
}


static bool is_int(uint8_t k) { return k == VK_I4 || k == VK_I8 || k == VK_NI; }
static bool is_float(uint8_t k) { return k == VK_R4 || k == VK_R8; }

/* ---- the JIT's types (x64) ---------------------------------------------------------- */

/* TYP_* classes that impCheckImplicitArgumentCoercion tells apart. */
enum jtype { J_SMALL, J_INT, J_LONG, J_FLOAT, J_DOUBLE, J_REF, J_BYREF, J_STRUCT, J_ANY };

static enum jtype jtype(const vt *t)
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

static bool coerces(const vt *want, const vt *have);

/* A join's value of several kinds passes only if each of its kinds would (the JIT's
 * spill temporary has the kind of one path, which one is not known). */
static bool coerces_merged(const vt *want, const vt *have)
{
    for (uint8_t k = VK_I4; k < VK_STRUCT; k++) {
        const vt h = vt_of(k);
        if ((have->tok >> k & 1) && !coerces(want, &h))
            return false;
    }
    return true;
}

/* Whether the JIT passes a value of type have for a parameter of type want. */
static bool coerces(const vt *want, const vt *have)
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

/* What a BYREF's small records of the local whose address it is (ldloca), for a 16-bit
 * store through it: the JIT stores into a 16-bit local normally (observed: a float
 * through `ldloca` of a char local compiles), but crashes storing a float as 16 bits
 * into an int32 local, an argument (ldarga) or any other location. What it does with
 * other locals was not observed: no finding there. */
enum { LA_NONE = 0, LA_OTHER = 0xff };

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

static bool table_in(uint32_t token, const uint8_t *tables, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if ((token >> 24) == tables[k])
            return true;
    return false;
}

static const uint8_t method_tables[] = { ILG_TBL_MethodDef, ILG_TBL_MemberRef, ILG_TBL_MethodSpec };
static const uint8_t field_tables[] = { ILG_TBL_Field, ILG_TBL_MemberRef };
static const uint8_t type_tables[] = { ILG_TBL_TypeDef, ILG_TBL_TypeRef, ILG_TBL_TypeSpec };

/* A member token that names no row. The runtime looks a Field or MethodDef row up in
 * the type whose list would hold it: row 0 and a Field past its table give a type that
 * does not load or a field that is not found (TypeLoadException, MissingFieldException);
 * a MethodDef past its table mostly "Index not found" (BadImageFormatException) but
 * sometimes a TypeLoadException, by what the process loaded before. Any other table:
 * BadImageFormatException. */
static void missing_member(tflow *f, uint32_t i, uint32_t tok)
{
    const uint32_t t = tok >> 24;
    ilg_outcome o = ILG_OUTCOME_BAD_IMAGE;
    if ((t == ILG_TBL_MethodDef && !(tok & 0xFFFFFF)) || t == ILG_TBL_Field)
        o = ILG_OUTCOME_LOAD_ERROR;
    err(f, i, ILG_E_IL_VERIFY_TOKEN_ROW, o, "token 0x%08x names no row", tok);
}

/* A token whose instantiation names type parameters the verified method and its type
 * do not have: the runtime cannot instantiate it in this method (BadImageFormatException,
 * 0x8007000B). A generic type's parameter count is not known: only a type without any is
 * held against the token. */
static bool foreign_params(tflow *f, uint32_t i, uint32_t tok, const uint32_t need[2])
{
    if (!f->have_m || ((!need[0] || f->m.generic_type) && need[1] <= f->m.ngeneric))
        return false;
    err(f, i, ILG_E_IL_VERIFY_TYPE_PARAM, ILG_OUTCOME_BAD_IMAGE,
        "0x%08x uses type parameter %s%u, which the method does not have", tok,
        need[1] > f->m.ngeneric ? "!!" : "!", need[1] > f->m.ngeneric ? need[1] - 1 : need[0] - 1);
    return true;
}

/* The member an instruction names, checked as the runtime resolves it: a token of the
 * table the opcode takes (BadImageFormatException), a row that exists, a reference of
 * the right kind (MissingMethodException, MissingFieldException). NULL when the
 * instruction cannot be typed further. */
static const mdesc *member(tflow *f, uint32_t i, ilg_member_kind want)
{
    const uint32_t tok = f->b->instrs[i].arg.token;
    const bool method = want == ILG_MEMBER_METHOD;
    if (!(method ? table_in(tok, method_tables, sizeof method_tables)
                 : table_in(tok, field_tables, sizeof field_tables))) {
        err(f, i, ILG_E_IL_VERIFY_TOKEN_KIND, ILG_OUTCOME_BAD_IMAGE,
            "token 0x%08x is not a %s", tok,
            method ? "method (MethodDef, MemberRef or MethodSpec)" : "field (Field or MemberRef)");
        return NULL;
    }
    const mdesc *d = ilg__tc_member(f->c, f->r, tok);
    if (!d)
        return NULL;
    if (d->status == ILG_E_NOT_FOUND) {
        missing_member(f, i, tok);
        return NULL;
    }
    if (d->status != ILG_OK || foreign_params(f, i, tok, d->need))
        return NULL;
    if (d->facts.kind != want) {
        err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_BAD_IMAGE, "token 0x%08x is a %s, not a %s",
            tok, method ? "field" : "method", method ? "method" : "field");
        return NULL;
    }
    if (!method && (d->facts.flags & ILG_MEMBER_LITERAL)) {
        err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_LOAD_ERROR,
            "field 0x%08x is a constant (literal): it has no storage", tok);
        return NULL;
    }
    /* an abstract method called directly is refused before its owner is loaded
     * (BadImageFormat, from callable()) */
    const uint16_t op = f->b->instrs[i].op;
    const bool direct = (op == ILG_OP_CALL || op == ILG_OP_NEWOBJ || op == ILG_OP_LDFTN) &&
                        !(i > 0 && f->b->instrs[i - 1].op == ILG_OP_CONSTRAINED);
    if (d->owner_open && (tok >> 24) != ILG_TBL_MemberRef && !(method && direct && (d->facts.flags & ILG_MEMBER_ABSTRACT))) {
        err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_LOAD_ERROR,
            "0x%08x belongs to the generic type definition 0x%08x, which needs an instantiation",
            tok, d->facts.owner);
        return NULL;
    }
    return d;
}

/* The type an instruction names (a TypeDef, TypeRef or TypeSpec that exists). */
static const tdesc *any_type_tok(tflow *f, uint32_t i, uint32_t tok, bool open_ok)
{
    if (!table_in(tok, type_tables, sizeof type_tables)) {
        err(f, i, ILG_E_IL_VERIFY_TOKEN_KIND, ILG_OUTCOME_BAD_IMAGE,
            "token 0x%08x is not a type (TypeDef, TypeRef or TypeSpec)", tok);
        return NULL;
    }
    const tdesc *d = ilg__tc_type(f->c, f->r, tok);
    if (!d)
        return NULL;
    if (d->status == ILG_E_NOT_FOUND) {
        /* A TypeDef or TypeRef past its table is a type that does not load; a TypeSpec,
         * an invalid argument (ArgumentException). */
        err(f, i, ILG_E_IL_VERIFY_TOKEN_ROW,
            (tok >> 24) == ILG_TBL_TypeSpec ? ILG_OUTCOME_OTHER_EXCEPTION : ILG_OUTCOME_LOAD_ERROR,
            "token 0x%08x names no row", tok);
        return NULL;
    }
    if (d->status == ILG_OK && foreign_params(f, i, tok, d->need))
        return NULL;
    if (d->status == ILG_OK && !open_ok && (d->facts.flags & ILG_TYPE_GENERIC) && (tok >> 24) != ILG_TBL_TypeSpec) {
        /* only ldtoken takes a generic type definition (typeof(List<>)) */
        err(f, i, ILG_E_IL_VERIFY_TOKEN_KIND, ILG_OUTCOME_LOAD_ERROR,
            "0x%08x is a generic type definition, which needs an instantiation (a TypeSpec)", tok);
        return NULL;
    }
    return d->status == ILG_OK ? d : NULL;
}

static const tdesc *type_tok(tflow *f, uint32_t i, uint32_t tok) { return any_type_tok(f, i, tok, false); }

/* The stack type of a value of the type an instruction names (unknown when not known). */
static vt type_value(tflow *f, uint32_t i)
{
    const tdesc *d = type_tok(f, i, f->b->instrs[i].arg.token);
    return d ? d->value : vt_of(VK_UNKNOWN);
}

/* ---- arguments and locals ---------------------------------------------------------- */

/* Index, kind (1 load, 2 store, 3 address) and whether it is an argument, of a slot
 * instruction; 0 for any other opcode. */
static int slot_of(const ilg_instr *in, bool *arg, uint32_t *idx)
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
        err(f, i, ILG_E_IL_VERIFY_STORE, ILG_OUTCOME_INVALID_PROGRAM,
            "%s of type %s stored from a value type (%s) loaded through an address", what, TN(*slot),
            TN(*val));
    else if (slot->k == VK_STRUCT && val->k != VK_STRUCT)
        err(f, i, ILG_E_IL_VERIFY_STORE,
            (val->k == VK_BYREF && (val->flags & VF_LCLADDR)) || (is_float(val->k) && (val->flags & VF_CONST))
                ? ILG_OUTCOME_CRASH
                : ILG_OUTCOME_INVALID_PROGRAM,
            "%s of value type %s stored from %s", what, TN(*slot), TN(*val));
    else if (slot->k == VK_REF && (val->flags & VF_FTN) && !is_arg)
        err(f, i, ILG_E_IL_VERIFY_STORE, ILG_OUTCOME_CRASH,
            "%s of type %s stored from a method pointer: the JIT crashes", what, TN(*slot));
}

static void check_store(tflow *f, uint32_t i, const vt *slot, const vt *val, const char *what)
{
    if (f->level < ILG_VERIFY_STRICT || slot->k == VK_UNKNOWN || val->k == VK_UNKNOWN)
        return; /* warnings only */
    const bool s_struct = slot->k == VK_STRUCT, v_struct = val->k == VK_STRUCT;
    if ((slot->flags | val->flags) & VF_MAYBE_PRIM)
        return;
    if (s_struct != v_struct || !coerces(slot, val) || (slot->k == VK_REF && val->k != VK_REF))
        warn(f, i, ILG_E_IL_VERIFY_STORE, "%s of type %s stored from %s", what, TN(*slot), TN(*val));
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
        err(f, i, ILG_E_IL_VERIFY_STORE, ILG_OUTCOME_CRASH,
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

static void t_slot(tflow *f, uint32_t i, int kind, bool is_arg, uint32_t idx)
{
    const bool known = is_arg ? f->have_m : f->have_locals;
    const uint32_t limit = is_arg ? f->m.nargs : f->nlocals;
    vt t = vt_of(VK_UNKNOWN);
    if (known && is_arg && kind == 2 && idx >= limit && f->have_locals && idx < limit + f->nlocals) {
        /* The JIT checks starg against arguments and locals together, and stores into a
         * local (importer.cpp, VAR_ST). */
        warn(f, i, ILG_E_IL_VERIFY_ARG_INDEX, "argument %u, but the method has %u", idx, limit);
    } else if (known && idx >= limit) {
        err(f, i, is_arg ? ILG_E_IL_VERIFY_ARG_INDEX : ILG_E_IL_VERIFY_LOCAL_INDEX,
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
    return slot_of(&f->b->instrs[i], &arg, &idx) == 2 || op == ILG_OP_STSFLD || op == ILG_OP_STFLD;
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
        err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
            "%s and %s: the JIT has no %s of a floating-point value%s", TN(*a), TN(*b),
            shift ? "shift" : "bitwise operation", "");
    else if ((op == ILG_OP_DIV || op == ILG_OP_REM) &&
             (r->k == VK_I4 || ((r->k == VK_REF || r->k == VK_BYREF) && !dropped(f, i))) &&
             (is_float(b->k) || b->k == VK_STRUCT || b->k == VK_BYREF ||
              (b->k == VK_REF && !(b->flags & VF_NULL) && !((b->flags & VF_CONST) && r->k != VK_I4))))
        err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
            "%s and %s: the JIT's signed int32 division needs an integer divisor", TN(*a), TN(*b));
    else if ((op == ILG_OP_DIV_UN || op == ILG_OP_REM_UN) && is_float(a->k) && pow2_const(b) && !dropped(f, i))
        err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
            "%s and %s: the JIT turns an unsigned division by the constant %u into a shift or mask, "
            "which a floating-point value does not take", TN(*a), TN(*b), b->tok);
    else if (r->k == VK_STRUCT && !gone && (raises || stores(f, i + 1)))
        err(f, i, ILG_E_IL_VERIFY_OPERAND, raises ? ILG_OUTCOME_INVALID_PROGRAM : ILG_OUTCOME_CRASH,
            "%s and %s: arithmetic on a value type%s", TN(*a), TN(*b),
            raises ? "" : ", stored: the JIT crashes");
    else if (a->k != VK_UNKNOWN && b->k != VK_UNKNOWN &&
             (a->k == VK_REF || b->k == VK_REF || a->k == VK_STRUCT || b->k == VK_STRUCT ||
              (is_float(a->k) != is_float(b->k)) || ((bitwise || shift) && is_float(a->k))))
        warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s and %s are not operands of %s (ECMA-335 III.1.5)",
             TN(*a), TN(*b), ilg__opcodes[op].name);
}

static void t_binary(tflow *f, uint32_t i, uint16_t op)
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

static void t_unary(tflow *f, uint32_t i, uint16_t op)
{
    vt a = operand(pop(f));
    if (a.flags & VF_MAYBE_PRIM)
        a = vt_of(VK_UNKNOWN);
    const bool raises = op == ILG_OP_CKFINITE, gone = dropped(f, i) && !raises;
    if (a.k == VK_STRUCT && !(a.flags & VF_MAYBE_PRIM) && !gone && (raises || stores(f, i + 1)))
        err(f, i, ILG_E_IL_VERIFY_OPERAND, raises ? ILG_OUTCOME_INVALID_PROGRAM : ILG_OUTCOME_CRASH,
            "%s: %s of a value type%s", TN(a), ilg__opcodes[op].name, raises ? "" : ", stored: the JIT crashes");
    else if (a.k == VK_REF || a.k == VK_STRUCT || a.k == VK_BYREF || (op == ILG_OP_CKFINITE && is_int(a.k)) ||
             (op == ILG_OP_NOT && is_float(a.k)))
        warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s is not an operand of %s", TN(a), ilg__opcodes[op].name);
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
static void t_conv(tflow *f, uint32_t i, uint16_t op)
{
    vt a = operand(pop(f));
    const vt r = conv_result(op);
    const bool gone = dropped(f, i);
    if (a.k == VK_STRUCT && !(a.flags & VF_MAYBE_PRIM) && is_float(r.k))
        err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
            "%s: a value type cannot be converted to floating point", TN(a));
    else if (a.k == VK_STRUCT && !(a.flags & VF_MAYBE_PRIM) && !gone &&
             (r.k == VK_I8 || op == ILG_OP_CONV_OVF_U || op == ILG_OP_CONV_OVF_I))
        err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
            "%s: a value type cannot be converted to 64 bits", TN(a));
    else if (op == ILG_OP_CONV_R_UN && a.k == VK_REF && !gone)
        err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
            "%s: the JIT cannot convert an object reference to floating point", TN(a));
    else if (op == ILG_OP_CONV_R_UN && a.k == VK_BYREF && !gone)
        err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_CRASH,
            "%s: converting a managed pointer to floating point crashes the JIT", TN(a));
    else if (a.k == VK_REF || a.k == VK_BYREF || a.k == VK_STRUCT)
        warn(f, i, ILG_E_IL_VERIFY_UNVERIFIABLE, "%s converted to a number", TN(a));
    push(f, r);
}

static void t_compare(tflow *f, uint32_t i, uint16_t op)
{
    vt b = pop(f), a = pop(f);
    if (a.k != VK_UNKNOWN && b.k != VK_UNKNOWN && a.k != b.k &&
        !(is_int(a.k) && is_int(b.k)) && !(is_float(a.k) && is_float(b.k)))
        warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s and %s are not comparable (ECMA-335 III.1.5)", TN(a),
             TN(b));
    push(f, vt_of(VK_I4));
}

/* ---- fields ------------------------------------------------------------------------------ */

static void t_field(tflow *f, uint32_t i, uint16_t op)
{
    const bool stat = op == ILG_OP_LDSFLD || op == ILG_OP_LDSFLDA || op == ILG_OP_STSFLD;
    const bool store = op == ILG_OP_STFLD || op == ILG_OP_STSFLD;
    const bool addr = op == ILG_OP_LDFLDA || op == ILG_OP_LDSFLDA;
    const mdesc *d = member(f, i, ILG_MEMBER_FIELD);
    vt val = store ? pop(f) : vt_of(VK_NONE), obj = stat ? vt_of(VK_NONE) : pop(f);
    if (d && stat && (d->facts.flags & ILG_MEMBER_KNOWN) && !(d->facts.flags & ILG_MEMBER_STATIC))
        err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_INVALID_PROGRAM,
            "field 0x%08x is an instance field", f->b->instrs[i].arg.token);
    if (!stat && obj.k == VK_STRUCT && op == ILG_OP_LDFLDA && !(obj.flags & VF_MAYBE_PRIM))
        err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
            "the object is a value type (%s), not its address", TN(obj));
    else if (!stat && obj.k == VK_STRUCT && op == ILG_OP_STFLD && !(obj.flags & VF_MAYBE_PRIM))
        err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_CRASH,
            "the object is a value type (%s), not its address: the JIT crashes", TN(obj));
    else if (!stat && (obj.k == VK_I4 || obj.k == VK_I8 || is_float(obj.k)))
        warn(f, i, ILG_E_IL_VERIFY_OPERAND, "the object is %s", TN(obj));
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
    const bool expanded = expands(f, d, n);
    for (uint32_t k = n; k-- > 0;) {
        vt a = pop(f);
        const vt *p = &s->params[k];
        if (expanded && k + 1 == n && (d->facts.flags & ILG_MEMBER_INTRINSIC_STORE))
            check_store16(f, i, p, &a, "a location");
        if (!expanded && !coerces(p, &a))
            err(f, i, ILG_E_IL_VERIFY_CALL_ARG, ILG_OUTCOME_INVALID_PROGRAM,
                "argument %u of 0x%08x is %s, the parameter is %s", k + 1, token, TN(a), TN(*p));
        else if (a.k == VK_STRUCT && p->k == VK_STRUCT && a.tok && p->tok && a.tok != p->tok &&
                 !((a.flags | p->flags) & VF_MAYBE_PRIM))
            warn(f, i, ILG_E_IL_VERIFY_CALL_ARG, "argument %u of 0x%08x is %s, the parameter is %s", k + 1,
                 token, TN(a), TN(*p));
    }
}

/* `this` of an instance call. */
static void check_this(tflow *f, uint32_t i, const mdesc *d, const vt *t)
{
    const bool value = t->k == VK_STRUCT && !(t->flags & VF_MAYBE_PRIM) && !(d->facts.flags & ILG_MEMBER_STATIC);
    const bool virt = (d->facts.flags & (ILG_MEMBER_KNOWN | ILG_MEMBER_VIRTUAL)) == (ILG_MEMBER_KNOWN | ILG_MEMBER_VIRTUAL);
    if (value && (d->owner_value || (d->owner.k == VK_REF && virt)))
        err(f, i, ILG_E_IL_VERIFY_THIS, ILG_OUTCOME_CRASH,
            "`this` is a value type (%s), not %s: the JIT crashes", TN(*t),
            d->owner_value ? "its address" : "an object (a virtual method)");
    else if (value && d->owner.k == VK_REF)
        err(f, i, ILG_E_IL_VERIFY_THIS, ILG_OUTCOME_INVALID_PROGRAM,
            "`this` is a value type (%s), the method is on the class %s", TN(*t), TN(d->owner));
    else if (t->k != VK_UNKNOWN && d->owner.k != VK_UNKNOWN && !coerces(&d->owner, t))
        warn(f, i, ILG_E_IL_VERIFY_THIS, "`this` is %s, the method is on %s", TN(*t), TN(d->owner));
}

static void t_newobj(tflow *f, uint32_t i, const mdesc *d)
{
    const uint32_t tok = f->b->instrs[i].arg.token;
    const bool known = d->facts.flags & ILG_MEMBER_KNOWN;
    if (!d->sig->has_this || (known && (d->facts.flags & ILG_MEMBER_STATIC)))
        err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_INVALID_PROGRAM, "0x%08x is a static method", tok);
    else if (d->owner_abstract || d->owner_interface)
        err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_OTHER_EXCEPTION,
            "0x%08x is on the %s 0x%08x, which cannot be created", tok,
            d->owner_interface ? "interface" : "abstract class", d->facts.owner);
    else if (!(d->facts.flags & ILG_MEMBER_CTOR) && d->sig->ret.k == VK_STRUCT &&
             !(d->sig->ret.flags & VF_MAYBE_PRIM) && !intrinsic(d))
        err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_CRASH,
            "0x%08x is not a constructor and returns a value type: the JIT crashes", tok);
    else if (!(d->facts.flags & ILG_MEMBER_CTOR))
        warn(f, i, ILG_E_IL_VERIFY_MEMBER, "0x%08x is not a constructor", tok);
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

/* Whether the constrained. prefix at i names a value type (a struct, an enum, a
 * primitive, a generic instantiation of a struct) or an interface: before a call of a
 * plain static method that crashes the JIT; a class there compiles. */
static bool constrained_crashes(tflow *f, uint32_t i)
{
    const uint32_t tok = f->b->instrs[i].arg.token;
    if (!table_in(tok, type_tables, sizeof type_tables))
        return false;
    const tdesc *d = ilg__tc_type(f->c, f->r, tok);
    return d && d->status == ILG_OK &&
           (d->facts.kind == ILG_TYPE_VALUE || d->facts.kind == ILG_TYPE_ENUM || d->facts.kind == ILG_TYPE_INTERFACE ||
            (d->value.k != VK_REF && d->value.k != VK_UNKNOWN)); /* a primitive (UInt32) too */
}

/* What getCallInfo refuses: a virtual call of a static method, a direct call of an
 * abstract one, a generic method named without its instantiation. */
static bool callable(tflow *f, uint32_t i, uint16_t op, const mdesc *d)
{
    const uint32_t tok = f->b->instrs[i].arg.token;
    const bool known = d->facts.flags & ILG_MEMBER_KNOWN;
    if ((op == ILG_OP_CALLVIRT || op == ILG_OP_LDVIRTFTN) && !d->sig->has_this) {
        err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_LOAD_ERROR,
            "0x%08x is a static method: the runtime finds no virtual method (MissingMethodException)", tok);
        return false;
    }
    if ((d->sig->conv & ILG_SIG_GENERIC) && (tok >> 24) != ILG_TBL_MethodSpec) {
        err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_INVALID_PROGRAM,
            "0x%08x is a generic method named without its type arguments (a MethodSpec)", tok);
        return false;
    }
    /* constrained. names the type whose implementation is called (generic code, static
     * abstract interface members). */
    const bool constrained = i > 0 && f->b->instrs[i - 1].op == ILG_OP_CONSTRAINED;
    if (constrained && op == ILG_OP_CALL && known && (d->facts.flags & ILG_MEMBER_STATIC) &&
        !(d->facts.flags & (ILG_MEMBER_VIRTUAL | ILG_MEMBER_ABSTRACT)) && constrained_crashes(f, i - 1)) {
        err(f, i, ILG_E_IL_VERIFY_PREFIX, ILG_OUTCOME_CRASH,
            "constrained. to a value type or interface before a call of 0x%08x, a static method that is not virtual: "
            "the JIT crashes", tok);
        return false;
    }
    if ((op == ILG_OP_CALL || op == ILG_OP_NEWOBJ || op == ILG_OP_LDFTN) && known && !constrained &&
        (d->facts.flags & ILG_MEMBER_ABSTRACT)) {
        err(f, i, ILG_E_IL_VERIFY_MEMBER, ILG_OUTCOME_BAD_IMAGE,
            "0x%08x is an abstract method: it has no code to call directly", tok);
        return false;
    }
    return true;
}

static void t_call(tflow *f, uint32_t i, uint16_t op)
{
    const mdesc *d = member(f, i, ILG_MEMBER_METHOD);
    if (!d || !d->sig || !callable(f, i, op, d)) {
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

static void t_calli(tflow *f, uint32_t i)
{
    const uint32_t tok = f->b->instrs[i].arg.token;
    if ((tok >> 24) != ILG_TBL_StandAloneSig) {
        err(f, i, ILG_E_IL_VERIFY_TOKEN_KIND, ILG_OUTCOME_BAD_IMAGE,
            "token 0x%08x is not a signature (StandAloneSig)", tok);
        f->dead = true;
        return;
    }
    const sdesc *s = ilg__tc_sig(f->c, f->r, tok);
    if (s && s->status == ILG_E_NOT_FOUND)
        err(f, i, ILG_E_IL_VERIFY_TOKEN_ROW, ILG_OUTCOME_BAD_IMAGE, "token 0x%08x names no row", tok);
    if (!s || s->status != ILG_OK || !s->sig) {
        f->dead = true;
        return;
    }
    vt fp = pop(f);
    if (fp.k != VK_UNKNOWN && fp.k != VK_NI && fp.k != VK_I8)
        warn(f, i, ILG_E_IL_VERIFY_OPERAND, "the function pointer is %s", TN(fp));
    const mdesc site = { .status = ILG_OK, .sig = s->sig };
    check_args(f, i, &site, tok);
    if (s->sig->has_this)
        pop(f);
    push(f, s->sig->ret);
}

static void t_ftn(tflow *f, uint32_t i, uint16_t op)
{
    const mdesc *d = member(f, i, ILG_MEMBER_METHOD);
    if (!d || !d->sig || !callable(f, i, op, d)) {
        f->dead = true;
        return;
    }
    vt obj = op == ILG_OP_LDVIRTFTN ? pop(f) : vt_of(VK_NONE);
    if (op == ILG_OP_LDVIRTFTN && obj.k != VK_UNKNOWN && obj.k != VK_REF)
        warn(f, i, ILG_E_IL_VERIFY_OPERAND, "the object is %s", TN(obj));
    push(f, (vt){ VK_NI, 0, VF_PTR | VF_FTN, 0 });
}

/* ---- objects, arrays, indirections --------------------------------------------------- */

static void t_object(tflow *f, uint32_t i, uint16_t op)
{
    vt v = pop(f), t = type_value(f, i);
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
            err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
                "%s is a ref struct, which cannot be boxed", TN(t));
        else if (t.k == VK_STRUCT && v.k != VK_STRUCT && v.k != VK_UNKNOWN && !(t.flags & VF_MAYBE_PRIM))
            warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s boxed as the value type %s", TN(v), TN(t));
        push(f, (vt){ VK_REF, 0, 0, 0 });
        return;
    case ILG_OP_ISINST: case ILG_OP_CASTCLASS:
        if (v.k == VK_STRUCT && !(v.flags & VF_MAYBE_PRIM))
            err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_CRASH,
                "%s is a value type, not an object: the JIT crashes", TN(v));
        else if (v.k != VK_UNKNOWN && v.k != VK_REF)
            warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s is not an object reference", TN(v));
        push(f, (vt){ VK_REF, 0, 0, f->b->instrs[i].arg.token });
        return;
    case ILG_OP_UNBOX: case ILG_OP_UNBOX_ANY:
        if (v.k == VK_STRUCT && !(v.flags & VF_MAYBE_PRIM))
            err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_CRASH,
                "%s is a value type, not an object: the JIT crashes", TN(v));
        else if (v.k != VK_UNKNOWN && v.k != VK_REF)
            warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s is not an object reference", TN(v));
        if (t.k == VK_STRUCT)
            t.flags |= VF_INDIR;
        push(f, op == ILG_OP_UNBOX ? vt_of(VK_BYREF) : t);
        return;
    case ILG_OP_NEWARR:
        if (t.flags & VF_BYREF_LIKE)
            err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_LOAD_ERROR,
                "an array of %s, a ref struct: the runtime cannot create the type", TN(t));
        else if (v.k == VK_STRUCT && !(v.flags & VF_MAYBE_PRIM))
            err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_CRASH,
                "the size is a value type (%s): the JIT crashes", TN(v));
        else if (v.k != VK_UNKNOWN && v.k != VK_I4 && v.k != VK_NI)
            warn(f, i, ILG_E_IL_VERIFY_OPERAND, "the size is %s", TN(v));
        push(f, (vt){ VK_REF, 0, VF_ARRAY, 0 });
        return;
    case ILG_OP_MKREFANY:
        if (v.k != VK_UNKNOWN && v.k != VK_BYREF && v.k != VK_NI)
            warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s is not an address", TN(v));
        push(f, (vt){ VK_STRUCT, 0, VF_TYPEDREF, 0 });
        return;
    case ILG_OP_REFANYVAL:
        if (v.k == VK_REF) /* the JIT passes it to its helper as a TypedReference */
            err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
                "%s is an object reference, not a TypedReference", TN(v));
        else if (v.k != VK_UNKNOWN && !(v.flags & VF_TYPEDREF))
            warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s is not a TypedReference", TN(v));
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

static void t_array(tflow *f, uint32_t i, uint16_t op)
{
    const bool store = op == ILG_OP_STELEM || (op >= ILG_OP_STELEM_I && op <= ILG_OP_STELEM_REF);
    vt val = store ? pop(f) : vt_of(VK_NONE), idx = op == ILG_OP_LDLEN ? vt_of(VK_I4) : pop(f);
    vt arr = pop(f);
    vt t = (op == ILG_OP_LDELEM || op == ILG_OP_STELEM || op == ILG_OP_LDELEMA) ? type_value(f, i)
                                                                                : elem_of(op);
    if (arr.k != VK_UNKNOWN && arr.k != VK_REF)
        warn(f, i, ILG_E_IL_VERIFY_OPERAND, "the array is %s", TN(arr));
    if (idx.k != VK_UNKNOWN && idx.k != VK_I4 && idx.k != VK_NI)
        warn(f, i, ILG_E_IL_VERIFY_OPERAND, "the index is %s", TN(idx));
    if (store)
        check_store16(f, i, op == ILG_OP_STELEM_I2 ? &(vt){ VK_I4, ILG_ET_I2, 0, 0 } : &t, &val, "an element");
    if (op == ILG_OP_LDLEN)
        push(f, vt_of(VK_I4)); /* the JIT's array length is an int32 */
    else if (op == ILG_OP_LDELEMA)
        push(f, vt_of(VK_BYREF));
    else if (!store)
        push(f, t);
}

static void t_indirect(tflow *f, uint32_t i, uint16_t op)
{
    const bool store = (op >= ILG_OP_STIND_REF && op <= ILG_OP_STIND_R8) || op == ILG_OP_STIND_I ||
                       op == ILG_OP_STOBJ;
    vt val = store ? pop(f) : vt_of(VK_NONE), addr = pop(f);
    if (addr.k != VK_UNKNOWN && addr.k != VK_BYREF && addr.k != VK_NI && addr.k != VK_I4 && addr.k != VK_I8)
        warn(f, i, ILG_E_IL_VERIFY_OPERAND, "the address is %s", TN(addr));
    else if (addr.k == VK_NI || addr.k == VK_I4)
        warn(f, i, ILG_E_IL_VERIFY_UNVERIFIABLE, "access through an unmanaged pointer");
    if (op == ILG_OP_STIND_I2)
        check_store16_at(f, i, &addr, &(vt){ VK_I4, ILG_ET_I2, 0, 0 }, &val);
    else if (op == ILG_OP_STOBJ)
        check_store16_at(f, i, &addr, (vt[]){ type_value(f, i) }, &val);
    if (op == ILG_OP_LDOBJ) {
        vt t = type_value(f, i);
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

static void t_ldstr(tflow *f, uint32_t i)
{
    const uint32_t tok = f->b->instrs[i].arg.token;
    /* The runtime reads the token's row number as an offset into #US, whatever the table
     * byte says, when it makes the literal: not for one the JIT drops unused. */
    if (f->r->user_string && f->r->user_string(f->r->ctx, tok) != ILG_OK && !rarely_run(f, i) &&
        !literal_dropped(f, i))
        err(f, i, ILG_E_IL_VERIFY_TOKEN_ROW, ILG_OUTCOME_BAD_IMAGE,
            "0x%08x is not the offset of a user string in the #US heap", tok);
    else if ((tok >> 24) != 0x70u)
        warn(f, i, ILG_E_IL_VERIFY_TOKEN_KIND, "token 0x%08x is not a user string", tok);
    push(f, (vt){ VK_REF, 0, VF_STRING | VF_CONST, 0 }); /* a frozen string: a constant to the JIT */
}

static void t_ldtoken(tflow *f, uint32_t i)
{
    static const uint8_t any[] = { ILG_TBL_TypeDef, ILG_TBL_TypeRef, ILG_TBL_TypeSpec, ILG_TBL_MethodDef,
                                   ILG_TBL_MemberRef, ILG_TBL_MethodSpec, ILG_TBL_Field };
    const uint32_t tok = f->b->instrs[i].arg.token;
    if (!table_in(tok, any, sizeof any))
        err(f, i, ILG_E_IL_VERIFY_TOKEN_KIND, ILG_OUTCOME_BAD_IMAGE,
            "token 0x%08x is not a type, method or field", tok);
    else if (table_in(tok, type_tables, sizeof type_tables))
        any_type_tok(f, i, tok, true);
    else if (ilg__tc_member(f->c, f->r, tok) && ilg__tc_member(f->c, f->r, tok)->status == ILG_E_NOT_FOUND)
        err(f, i, ILG_E_IL_VERIFY_TOKEN_ROW, ILG_OUTCOME_BAD_IMAGE, "token 0x%08x names no row", tok);
    push(f, (vt){ VK_STRUCT, 0, VF_HANDLE, 0 });
}

static void t_jmp(tflow *f, uint32_t i)
{
    const mdesc *d = member(f, i, ILG_MEMBER_METHOD);
    if (!d || !d->sig || !f->have_m || !f->m.desc->sig)
        return;
    const vsig *own = f->m.desc->sig, *to = d->sig;
    if (own->conv != to->conv || own->nparams + own->nextra != to->nparams + to->nextra ||
        jtype(&own->ret) != jtype(&to->ret) || own->ret.k != to->ret.k)
        err(f, i, ILG_E_IL_VERIFY_JMP, ILG_OUTCOME_INVALID_PROGRAM,
            "0x%08x has another signature (%u parameters, returns %s) than the method (%u, %s)",
            f->b->instrs[i].arg.token, (unsigned)(to->nparams + to->nextra), TN(to->ret),
            (unsigned)(own->nparams + own->nextra), TN(own->ret));
}

static void t_localloc(tflow *f, uint32_t i)
{
    vt n = pop(f);
    if (f->region[i])
        err(f, i, ILG_E_IL_VERIFY_LOCALLOC, ILG_OUTCOME_INVALID_PROGRAM,
            "localloc inside a handler or filter");
    else if (f->sp)
        err(f, i, ILG_E_IL_VERIFY_LOCALLOC, ILG_OUTCOME_INVALID_PROGRAM,
            "localloc with %u more item%s on the stack", f->sp, f->sp == 1 ? "" : "s");
    if (n.k != VK_UNKNOWN && n.k != VK_I4 && n.k != VK_NI)
        warn(f, i, ILG_E_IL_VERIFY_OPERAND, "the size is %s", TN(n));
    warn(f, i, ILG_E_IL_VERIFY_UNVERIFIABLE, "localloc is not verifiable");
    push(f, (vt){ VK_NI, 0, VF_PTR, 0 });
}

static void t_branch(tflow *f, uint32_t i, uint16_t op)
{
    const ilg_opcode_info *oi = &ilg__opcodes[op];
    if (op == ILG_OP_SWITCH) {
        vt v = pop(f);
        if (v.k == VK_STRUCT && !(v.flags & VF_MAYBE_PRIM))
            err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_CRASH, "switch on a value type (%s): the JIT crashes",
                TN(v));
    } else if (oi->pops == 1) {
        vt v = pop(f);
        if (v.k == VK_STRUCT && !(v.flags & VF_MAYBE_PRIM))
            err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_INVALID_PROGRAM,
                "%s: a value type is neither true nor false", TN(v));
        else if (is_float(v.k) || v.k == VK_I8)
            warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s is not an operand of %s", TN(v), oi->name);
    } else if (oi->pops == 2) {
        vt b = pop(f), a = pop(f);
        if (a.k != VK_UNKNOWN && b.k != VK_UNKNOWN && a.k != b.k && !(is_int(a.k) && is_int(b.k)) &&
            !(is_float(a.k) && is_float(b.k)))
            warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s and %s are not comparable", TN(a), TN(b));
    }
}

static void t_throw(tflow *f, uint32_t i)
{
    vt v = pop(f);
    if (v.k == VK_STRUCT && !(v.flags & VF_MAYBE_PRIM))
        err(f, i, ILG_E_IL_VERIFY_OPERAND, ILG_OUTCOME_CRASH,
            "%s: a value type is thrown: the JIT crashes", TN(v));
    else if (v.k != VK_UNKNOWN && v.k != VK_REF)
        warn(f, i, ILG_E_IL_VERIFY_OPERAND, "%s is not an object reference", TN(v));
}

static void t_ret(tflow *f, uint32_t i)
{
    if (!f->have_m || !f->m.desc->sig)
        return;
    const vt *want = &f->m.desc->sig->ret;
    if (want->k == VK_NONE)
        return;
    vt v = pop(f);
    if (want->k == VK_STRUCT && v.k != VK_STRUCT && v.k != VK_UNKNOWN && !(want->flags & VF_MAYBE_PRIM))
        err(f, i, ILG_E_IL_VERIFY_RET_TYPE, ILG_OUTCOME_CRASH,
            "returns %s, the method returns a value type (%s): the JIT crashes", TN(v), TN(*want));
    else if (want->k == VK_STRUCT && v.k == VK_STRUCT && (v.flags & VF_HANDLE) && !(want->flags & VF_HANDLE))
        err(f, i, ILG_E_IL_VERIFY_RET_TYPE, ILG_OUTCOME_INVALID_PROGRAM,
            "returns a runtime handle (%s), the method returns the value type %s", TN(v), TN(*want));
    else if (!coerces(want, &v) || (want->k == VK_REF && v.k != VK_REF && v.k != VK_UNKNOWN))
        warn(f, i, ILG_E_IL_VERIFY_RET_TYPE, "returns %s, the method returns %s", TN(v), TN(*want));
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
    case ILG_OP_LDSTR: t_ldstr(f, i); return true;
    case ILG_OP_DUP: {
        vt v = pop(f);
        push(f, v);
        push(f, v);
        return true;
    }
    case ILG_OP_POP: pop(f); return true;
    case ILG_OP_SIZEOF: type_value(f, i); push(f, vt_of(VK_I4)); return true;
    case ILG_OP_LDTOKEN: t_ldtoken(f, i); return true;
    case ILG_OP_ARGLIST:
        if (f->have_m && !f->m.vararg)
            err(f, i, ILG_E_IL_VERIFY_ARGLIST, ILG_OUTCOME_INVALID_PROGRAM,
                "the method is not vararg");
        push(f, (vt){ VK_STRUCT, 0, VF_HANDLE, 0 });
        return true;
    case ILG_OP_REFANYTYPE: pop(f); push(f, (vt){ VK_STRUCT, 0, VF_HANDLE, 0 }); return true;
    case ILG_OP_LOCALLOC: t_localloc(f, i); return true;
    case ILG_OP_THROW: t_throw(f, i); return true;
    case ILG_OP_RET: t_ret(f, i); return true;
    case ILG_OP_JMP: t_jmp(f, i); return true;
    case ILG_OP_ENDFILTER: pop(f); return true;
    case ILG_OP_CONSTRAINED: type_tok(f, i, f->b->instrs[i].arg.token); return true;
    case ILG_OP_NO:
        err(f, i, ILG_E_IL_VERIFY_PREFIX, ILG_OUTCOME_INVALID_PROGRAM,
            "CoreCLR's JIT does not take the no. prefix");
        return true;
    case ILG_OP_CPBLK: case ILG_OP_INITBLK:
        pop(f), pop(f), pop(f);
        warn(f, i, ILG_E_IL_VERIFY_UNVERIFIABLE, "%s is not verifiable", ilg__opcodes[op].name);
        return true;
    case ILG_OP_CPOBJ: pop(f), pop(f); type_value(f, i); return true;
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
enum { C_OTHER, C_SLOT, C_CALL, C_CALLI, C_FTN, C_FIELD, C_BRANCH, C_INDIRECT, C_BINARY, C_UNARY,
       C_CONV, C_COMPARE, C_ARRAY, C_OBJECT };

static uint8_t op_class_of(uint16_t op)
{
    const ilg_instr in = { .op = op };
    bool arg;
    uint32_t idx;
    if (slot_of(&in, &arg, &idx))
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

static void step(tflow *f, uint32_t i)
{
    const ilg_instr *in = &f->b->instrs[i];
    const uint16_t op = in->op;
    bool arg;
    uint32_t idx;
    switch (op_class[op]) {
    case C_SLOT: {
        const int kind = slot_of(in, &arg, &idx);
        t_slot(f, i, kind, arg, idx);
        break;
    }
    case C_CALL: t_call(f, i, op); break;
    case C_CALLI: t_calli(f, i); break;
    case C_FTN: t_ftn(f, i, op); break;
    case C_FIELD: t_field(f, i, op); break;
    case C_BRANCH: t_branch(f, i, op); break;
    case C_INDIRECT: t_indirect(f, i, op); break;
    case C_BINARY: t_binary(f, i, op); break;
    case C_UNARY: t_unary(f, i, op); break;
    case C_CONV: t_conv(f, i, op); break;
    case C_COMPARE: t_compare(f, i, op); break;
    case C_ARRAY: t_array(f, i, op); break;
    case C_OBJECT: t_object(f, i, op); break;
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
    warn(f, f->jp_at[j], ILG_E_IL_VERIFY_TYPE_MERGE, "stack slot %u is %s on one path and %s on another", k,
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
        if (e->kind == ILG_EH_CATCH && table_in(e->class_token, type_tables, sizeof type_tables))
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
            err(f, e->handler_start, ILG_E_IL_VERIFY_TOKEN_KIND, ILG_OUTCOME_INVALID_PROGRAM,
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
        err(f, 0, ILG_E_IL_VERIFY_TOKEN_ROW, ILG_OUTCOME_BAD_IMAGE,
            "the local signature 0x%08x names no row", b->local_sig);
    else if (s && s->status == ILG_OK && !s->locals)
        err(f, 0, ILG_E_IL_VERIFY_TOKEN_KIND, ILG_OUTCOME_BAD_IMAGE,
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
        if (!(f->fold[i] & FOLD_UNREACHED) || slot_of(&b->instrs[i], &is_arg, &idx) != 3 ||
            !(is_arg ? f->have_m : f->have_locals))
            continue;
        const uint32_t limit = is_arg ? f->m.nargs : f->nlocals;
        if (idx >= limit)
            err(f, i, is_arg ? ILG_E_IL_VERIFY_ARG_INDEX : ILG_E_IL_VERIFY_LOCAL_INDEX,
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
