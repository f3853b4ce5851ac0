/* mutate.c: realistic broken bodies from real methods (see mutate.h). Every mutant is
 * one change to a body as a compiler wrote it, the kind of change an IL rewriter gets
 * wrong: an index off by one, the wrong opcode of a family, a token of another table, a
 * value of another type where one was pushed, a conversion left out, a call inserted
 * with the arguments the author thought right, an instruction too many or too few. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilg_private.h"
#include "ilgraft/loader.h"
#include "mutate.h"

static const char *const family_names[MX_FAMILY_COUNT] = {
    "local-index", "arg-index", "swap", "opcode", "token", "push-type", "drop-conv",
    "insert-call", "insert-op", "structure", "special", "eh", "matrix",
};

const char *mx_family_name(mx_family f)
{
    return f < MX_FAMILY_COUNT ? family_names[f] : "?";
}

uint64_t mx_rand(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static uint32_t rnd(uint64_t *s, uint32_t n)
{
    return n ? (uint32_t)(mx_rand(s) % n) : 0;
}

/* ---- opening a module ------------------------------------------------------------- */

static uint32_t sig_uint(const uint8_t **p, const uint8_t *end)
{
    uint32_t v = 0;
    size_t n = *p < end ? ilg__rd_compressed(*p, (size_t)(end - *p), &v) : 0;
    *p += n ? n : (size_t)(end - *p);
    return v;
}

/* Arguments (with `this`) of a method signature. */
static bool method_args(const uint8_t *sig, uint32_t len, uint32_t *nargs, bool *has_this)
{
    const uint8_t *p = sig, *end = sig + len;
    if (len < 2)
        return false;
    uint8_t conv = *p++;
    if (conv & ILG_SIG_GENERIC)
        sig_uint(&p, end);
    uint32_t count = sig_uint(&p, end);
    *has_this = (conv & ILG_SIG_HASTHIS) && !(conv & ILG_SIG_EXPLICITTHIS);
    *nargs = count + (*has_this ? 1 : 0);
    return true;
}

static uint32_t local_count(const ilg_metadata *md, uint32_t local_sig)
{
    uint32_t blob, len;
    const uint8_t *p;
    if (!local_sig || ilg_md_cell(md, ILG_TBL_StandAloneSig, local_sig & 0xFFFFFF,
                                  ILG_MDC_StandAloneSig_Signature, &blob) != ILG_OK ||
        ilg_md_blob(md, blob, &p, &len) != ILG_OK || len < 2 || p[0] != ILG_SIG_LOCAL)
        return 0;
    const uint8_t *q = p + 1;
    return sig_uint(&q, p + len);
}

/* Marks the TypeDef and MethodDef rows that own generic parameters. */
static void generic_owners(const ilg_metadata *md, uint8_t *types, uint8_t *methods)
{
    uint32_t rows = ilg_md_row_count(md, ILG_TBL_GenericParam), owner;
    for (uint32_t r = 1; r <= rows; r++) {
        if (ilg_md_cell(md, ILG_TBL_GenericParam, r, ILG_MDC_GenericParam_Owner, &owner) != ILG_OK)
            continue;
        if ((owner >> 24) == ILG_TBL_TypeDef)
            types[owner & 0xFFFFFF] = 1;
        else if ((owner >> 24) == ILG_TBL_MethodDef)
            methods[owner & 0xFFFFFF] = 1;
    }
}

static void pool_add(mx_module *m, int pool, uint32_t token)
{
    size_t n = m->pool_count[pool];
    if ((n & (n - 1)) == 0) {
        uint32_t *p = realloc(m->pool[pool], (n ? n * 2 : 16) * sizeof *p);
        if (!p)
            return;
        m->pool[pool] = p;
    }
    m->pool[pool][m->pool_count[pool]++] = token;
}

/* The tokens a body uses, into the pools. */
static void collect_tokens(mx_module *m, const ilg_body *b)
{
    for (uint32_t i = 0; i < b->count; i++) {
        const ilg_instr *in = &b->instrs[i];
        switch (ilg_opcode_get(in->op)->operand) {
        case ILG_OPND_METHOD: pool_add(m, MX_POOL_METHOD, in->arg.token); break;
        case ILG_OPND_FIELD: pool_add(m, MX_POOL_FIELD, in->arg.token); break;
        case ILG_OPND_TYPE: pool_add(m, MX_POOL_TYPE, in->arg.token); break;
        case ILG_OPND_STRING: pool_add(m, MX_POOL_STRING, in->arg.token); break;
        case ILG_OPND_SIG: pool_add(m, MX_POOL_SIG, in->arg.token); break;
        default: break;
        }
    }
}

static bool decode_method(const ilg_metadata *md, uint32_t token, ilg_body *b)
{
    ilg_method_body mb;
    return ilg_md_method_body(md, token & 0xFFFFFF, &mb) == ILG_OK &&
           (mb.kind == ILG_BODY_TINY || mb.kind == ILG_BODY_FAT) &&
           ilg_body_decode(b, mb.header, mb.body_size) == ILG_OK;
}

/* Whether rid is a method the driver can compile alone: IL, not generic, not in a
 * generic type, not a type initializer. */
static bool candidate(const mx_module *m, uint32_t rid, uint32_t max_code, const uint8_t *gtypes,
                      const uint8_t *gmethods, mx_method *out)
{
    ilg_method_info mi;
    ilg_method_body mb;
    if (gmethods[rid] || ilg_md_method(m->md, rid, &mi) != ILG_OK ||
        (mi.owner && gtypes[mi.owner & 0xFFFFFF]) || strcmp(mi.name, ".cctor") == 0 ||
        ilg_md_method_body(m->md, rid, &mb) != ILG_OK ||
        (mb.kind != ILG_BODY_TINY && mb.kind != ILG_BODY_FAT) || mb.code_size > max_code)
        return false;
    out->token = mi.token;
    out->nlocals = local_count(m->md, mb.local_sig);
    return method_args(mi.sig, mi.sig_len, &out->nargs, &out->has_this);
}

static void find_slots(mx_module *m);

bool mx_open(const char *path, uint32_t max_code, mx_module *m)
{
    memset(m, 0, sizeof *m);
    m->path = path;
    if (ilg_image_open(path, NULL, &m->img) != ILG_OK || ilg_image_metadata(m->img, &m->md) != ILG_OK)
        return false;
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    const char *dirs[1] = { dir };
    m->scope.md = m->md;
    if (ilg_md_universe_new(dirs, 1, &m->scope.universe) != ILG_OK ||
        ilg_md_universe_add(m->scope.universe, m->md) != ILG_OK)
        return false;
    uint32_t rows = ilg_md_row_count(m->md, ILG_TBL_MethodDef);
    uint8_t *gtypes = calloc(ilg_md_row_count(m->md, ILG_TBL_TypeDef) + 1, 1);
    uint8_t *gmethods = calloc(rows + 1, 1);
    ilg_body *b = NULL;
    m->methods = calloc(rows + 1, sizeof *m->methods);
    bool ok = gtypes && gmethods && m->methods && ilg_body_new(&b) == ILG_OK;
    if (ok)
        generic_owners(m->md, gtypes, gmethods);
    for (uint32_t rid = 1; ok && rid <= rows; rid++) {
        mx_method c;
        if (!candidate(m, rid, max_code, gtypes, gmethods, &c) || !decode_method(m->md, c.token, b))
            continue;
        m->methods[m->count++] = c;
        collect_tokens(m, b);
    }
    ilg_body_free(b);
    free(gtypes);
    free(gmethods);
    if (ok)
        find_slots(m);
    return ok;
}

/* The token of the member of typedef type named name (a method when method), or 0. */
static uint32_t member_named(const ilg_metadata *md, uint32_t type, const char *name, bool method)
{
    const ilg_table t = method ? ILG_TBL_MethodDef : ILG_TBL_Field;
    const uint32_t name_col = method ? ILG_MDC_MethodDef_Name : ILG_MDC_Field_Name;
    for (uint32_t r = 1; r <= ilg_md_row_count(md, t); r++) {
        uint32_t idx;
        const char *n;
        uint32_t owner = 0;
        if (method) {
            ilg_method_info mi;
            if (ilg_md_method(md, r, &mi) == ILG_OK)
                owner = mi.owner;
        } else {
            /* fields: the owner is the type whose field list holds the row */
            for (uint32_t k = 1; k <= ilg_md_row_count(md, ILG_TBL_TypeDef); k++) {
                uint32_t first, next = UINT32_MAX;
                ilg_md_cell(md, ILG_TBL_TypeDef, k, ILG_MDC_TypeDef_FieldList, &first);
                if (k < ilg_md_row_count(md, ILG_TBL_TypeDef))
                    ilg_md_cell(md, ILG_TBL_TypeDef, k + 1, ILG_MDC_TypeDef_FieldList, &next);
                if (r >= first && r < next) {
                    owner = 0x02000000u | k;
                    break;
                }
            }
        }
        if (owner == type && ilg_md_cell(md, t, r, name_col, &idx) == ILG_OK &&
            ilg_md_string(md, idx, &n) == ILG_OK && strcmp(n, name) == 0)
            return (uint32_t)t << 24 | r;
    }
    return 0;
}

static uint32_t type_named(const ilg_metadata *md, const char *name)
{
    for (uint32_t r = 1; r <= ilg_md_row_count(md, ILG_TBL_TypeDef); r++) {
        uint32_t idx;
        const char *n;
        if (ilg_md_cell(md, ILG_TBL_TypeDef, r, ILG_MDC_TypeDef_TypeName, &idx) == ILG_OK &&
            ilg_md_string(md, idx, &n) == ILG_OK && strcmp(n, name) == 0)
            return 0x02000000u | r;
    }
    return 0;
}

/* The operator matrix's members, when the module is the slots fixture. */
static void find_slots(mx_module *m)
{
    const ilg_metadata *md = m->md;
    if (!type_named(md, "Slots") || !(m->slots.box = type_named(md, "Box")))
        return;
    for (int k = 0; k < 13; k++) {
        char name[16];
        snprintf(name, sizeof name, "Take%d", k);
        m->slots.take[k] = member_named(md, m->slots.box, name, true);
    }
    m->slots.get = member_named(md, m->slots.box, "Get", true);
    m->slots.box_ctor = member_named(md, m->slots.box, ".ctor", true);
    m->slots.pair = type_named(md, "Pair");
    m->slots.color = type_named(md, "Color");
    m->slots.shape = type_named(md, "Shape");
    m->slots.area = member_named(md, m->slots.shape, "Area", true);
    m->slots.value = member_named(md, m->slots.box, "Value", false);
    m->slots.count = member_named(md, m->slots.box, "Count", false);
    m->slots.max = member_named(md, m->slots.box, "Max", false);
    m->slots.small = member_named(md, m->slots.box, "Small", false);
    m->slots.letter = member_named(md, m->slots.box, "Letter", false);
}

void mx_close(mx_module *m)
{
    for (int i = 0; i < 5; i++)
        free(m->pool[i]);
    free(m->methods);
    ilg_md_universe_free(m->scope.universe);
    ilg_image_close(m->img);
    memset(m, 0, sizeof *m);
}

void mx_mutant_free(mx_mutant *mu)
{
    free(mu->bytes);
    mu->bytes = NULL;
}

/* ---- building blocks ------------------------------------------------------------- */

#define OP(x) ILG_OP_##x

static const char *opname(uint16_t op)
{
    return ilg_opcode_get(op)->name;
}

/* A random token of pool, or 0 when it is empty. */
static uint32_t pool_pick(const mx_module *m, int pool, uint64_t *rng)
{
    return m->pool_count[pool] ? m->pool[pool][rnd(rng, (uint32_t)m->pool_count[pool])] : 0;
}

/* Pushes that leave one value of a known kind. */
enum { P_I4, P_I8, P_R4, P_R8, P_NULL, P_STR, P_NINT, P_LOCA, P_ARGA, P_LDARG, P_LDLOC, P_COUNT };
static const char *const push_names[P_COUNT] = { "int32", "int64", "float32", "float64", "null",
                                                  "string", "native int", "ldloca", "ldarga",
                                                  "ldarg", "ldloc" };

/* Appends push kind k to sn (falls back to an int32 when k needs what meth lacks). */
static int push(const mx_module *m, const mx_method *meth, ilg_body *sn, int k, uint64_t *rng)
{
    uint32_t str = pool_pick(m, MX_POOL_STRING, rng);
    if ((k == P_STR && !str) || ((k == P_LOCA || k == P_LDLOC) && !meth->nlocals) ||
        ((k == P_ARGA || k == P_LDARG) && !meth->nargs))
        k = P_I4;
    switch (k) {
    case P_I4: ilg_body_append(sn, OP(LDC_I4_1), 0); break;
    case P_I8: ilg_body_append(sn, OP(LDC_I8), 1); break;
    case P_R4: ilg_body_append_real(sn, OP(LDC_R4), 1.0); break;
    case P_R8: ilg_body_append_real(sn, OP(LDC_R8), 1.0); break;
    case P_NULL: ilg_body_append(sn, OP(LDNULL), 0); break;
    case P_STR: ilg_body_append(sn, OP(LDSTR), str); break;
    case P_NINT:
        ilg_body_append(sn, OP(LDC_I4_0), 0);
        ilg_body_append(sn, OP(CONV_I), 0);
        break;
    case P_LOCA: ilg_body_append(sn, OP(LDLOCA_S), rnd(rng, meth->nlocals)); break;
    case P_ARGA: ilg_body_append(sn, OP(LDARGA_S), rnd(rng, meth->nargs)); break;
    case P_LDARG: ilg_body_append(sn, OP(LDARG_S), rnd(rng, meth->nargs)); break;
    default: ilg_body_append(sn, OP(LDLOC_S), rnd(rng, meth->nlocals)); break;
    }
    return k;
}

/* True when an EH boundary or a branch target lies at instruction i. */
static bool boundary(const ilg_body *b, uint32_t i)
{
    for (uint32_t c = 0; c < b->eh_count; c++) {
        const ilg_eh_clause *e = &b->eh[c];
        if (i == e->try_start || i == e->try_end || i == e->handler_start || i == e->handler_end ||
            (e->kind == ILG_EH_FILTER && i == e->filter_start))
            return true;
    }
    for (uint32_t j = 0; j < b->count; j++) {
        const ilg_instr *in = &b->instrs[j];
        uint8_t k = ilg_opcode_get(in->op)->operand;
        if ((k == ILG_OPND_BR1 || k == ILG_OPND_BR4) && in->arg.target == i)
            return true;
        if (k == ILG_OPND_SWITCH)
            for (uint32_t t = 0; t < in->arg.sw.count; t++)
                if (b->targets[in->arg.sw.first + t] == i)
                    return true;
    }
    return false;
}

/* A random instruction index for which pred holds, or UINT32_MAX. */
static uint32_t pick(const ilg_body *b, bool (*pred)(const ilg_body *, uint32_t), uint64_t *rng)
{
    uint32_t n = 0, chosen = UINT32_MAX;
    for (uint32_t i = 0; i < b->count; i++)
        if (pred(b, i) && rnd(rng, ++n) == 0)
            chosen = i; /* reservoir sampling: each candidate equally likely */
    return chosen;
}

static bool plain(uint16_t op)
{
    const ilg_opcode_info *oi = ilg_opcode_get(op);
    return (oi->flow == ILG_FLOW_NEXT || oi->flow == ILG_FLOW_CALL) && oi->operand != ILG_OPND_BR1 &&
           oi->operand != ILG_OPND_BR4 && oi->operand != ILG_OPND_SWITCH;
}

static bool prefixed(const ilg_body *b, uint32_t i)
{
    return i > 0 && ilg_opcode_get(b->instrs[i - 1].op)->flow == ILG_FLOW_PREFIX;
}

/* ---- families ----------------------------------------------------------------------- */

/* The slot an instruction names: 0 none, 1 load, 2 store, 3 address; *is_arg. */
static int slot_kind(uint16_t op, bool *is_arg, uint32_t *index, const ilg_instr *in)
{
    static const struct { uint16_t op; int kind; bool arg; int fixed; } tab[] = {
        { OP(LDLOC_0), 1, 0, 0 }, { OP(LDLOC_1), 1, 0, 1 }, { OP(LDLOC_2), 1, 0, 2 },
        { OP(LDLOC_3), 1, 0, 3 }, { OP(LDLOC_S), 1, 0, -1 }, { OP(LDLOC), 1, 0, -1 },
        { OP(STLOC_0), 2, 0, 0 }, { OP(STLOC_1), 2, 0, 1 }, { OP(STLOC_2), 2, 0, 2 },
        { OP(STLOC_3), 2, 0, 3 }, { OP(STLOC_S), 2, 0, -1 }, { OP(STLOC), 2, 0, -1 },
        { OP(LDLOCA_S), 3, 0, -1 }, { OP(LDLOCA), 3, 0, -1 },
        { OP(LDARG_0), 1, 1, 0 }, { OP(LDARG_1), 1, 1, 1 }, { OP(LDARG_2), 1, 1, 2 },
        { OP(LDARG_3), 1, 1, 3 }, { OP(LDARG_S), 1, 1, -1 }, { OP(LDARG), 1, 1, -1 },
        { OP(STARG_S), 2, 1, -1 }, { OP(STARG), 2, 1, -1 }, { OP(LDARGA_S), 3, 1, -1 },
        { OP(LDARGA), 3, 1, -1 },
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (tab[i].op == op) {
            *is_arg = tab[i].arg;
            *index = tab[i].fixed >= 0 ? (uint32_t)tab[i].fixed : (uint32_t)in->arg.i;
            return tab[i].kind;
        }
    return 0;
}

static uint16_t slot_op(int kind, bool is_arg, bool wide)
{
    static const uint16_t ops[2][2][3] = {
        { { OP(LDLOC_S), OP(STLOC_S), OP(LDLOCA_S) }, { OP(LDLOC), OP(STLOC), OP(LDLOCA) } },
        { { OP(LDARG_S), OP(STARG_S), OP(LDARGA_S) }, { OP(LDARG), OP(STARG), OP(LDARGA) } },
    };
    return ops[is_arg][wide][kind - 1];
}

static bool is_loc(const ilg_body *b, uint32_t i)
{
    bool arg;
    uint32_t idx;
    return slot_kind(b->instrs[i].op, &arg, &idx, &b->instrs[i]) && !arg;
}

static bool is_arg(const ilg_body *b, uint32_t i)
{
    bool arg;
    uint32_t idx;
    return slot_kind(b->instrs[i].op, &arg, &idx, &b->instrs[i]) && arg;
}

/* An index one or two past the method's locals or arguments. */
static bool mut_index(const mx_method *meth, ilg_body *b, bool args, uint64_t *rng, char *what,
                      size_t size)
{
    const uint32_t limit = args ? meth->nargs : meth->nlocals;
    const uint32_t bad = limit + rnd(rng, 2);
    uint32_t i = pick(b, args ? is_arg : is_loc, rng);
    if (i == UINT32_MAX) {
        ilg_body *sn;
        if (ilg_body_new(&sn) != ILG_OK)
            return false;
        int kind = 1 + (int)rnd(rng, 3);
        ilg_body_append(sn, slot_op(kind, args, false), bad);
        ilg_body_append(sn, kind == 2 ? OP(NOP) : OP(POP), 0);
        if (kind == 2) { /* a store needs a value first */
            ilg_body_reset(sn);
            ilg_body_append(sn, OP(LDC_I4_0), 0);
            ilg_body_append(sn, slot_op(kind, args, false), bad);
        }
        bool ok = ilg_body_insert_entry(b, sn) == ILG_OK;
        snprintf(what, size, "entry: %s %u (of %u)", opname(slot_op(kind, args, false)), bad, limit);
        ilg_body_free(sn);
        return ok;
    }
    ilg_instr *in = &b->instrs[i];
    bool a;
    uint32_t old;
    int kind = slot_kind(in->op, &a, &old, in);
    uint16_t op = slot_op(kind, args, bad > 255 || rnd(rng, 4) == 0);
    snprintf(what, size, "IL_%04x: %s -> %s %u (of %u)", in->offset, opname(in->op), opname(op), bad,
             limit);
    in->op = op;
    in->arg.i = bad;
    return true;
}

static bool swappable(const ilg_body *b, uint32_t i)
{
    return i + 1 < b->count && plain(b->instrs[i].op) && plain(b->instrs[i + 1].op) &&
           ilg_opcode_get(b->instrs[i].op)->flow != ILG_FLOW_PREFIX &&
           ilg_opcode_get(b->instrs[i + 1].op)->flow != ILG_FLOW_PREFIX && !prefixed(b, i) &&
           !boundary(b, i + 1);
}

static bool mut_swap(ilg_body *b, uint64_t *rng, char *what, size_t size)
{
    uint32_t i = pick(b, swappable, rng);
    if (i == UINT32_MAX)
        return false;
    ilg_instr t = b->instrs[i];
    snprintf(what, size, "IL_%04x: %s <-> %s", t.offset, opname(t.op), opname(b->instrs[i + 1].op));
    b->instrs[i] = b->instrs[i + 1];
    b->instrs[i + 1] = t;
    return true;
}

/* Opcode families whose members share an operand kind: one may stand for another. */
static const uint16_t groups[][24] = {
    { OP(ADD), OP(SUB), OP(MUL), OP(DIV), OP(DIV_UN), OP(REM), OP(REM_UN), OP(AND), OP(OR),
      OP(XOR), OP(SHL), OP(SHR), OP(SHR_UN), OP(ADD_OVF), OP(ADD_OVF_UN), OP(SUB_OVF),
      OP(MUL_OVF), OP(CEQ), OP(CGT), OP(CGT_UN), OP(CLT), OP(CLT_UN), 0 },
    { OP(CONV_I1), OP(CONV_I2), OP(CONV_I4), OP(CONV_I8), OP(CONV_R4), OP(CONV_R8), OP(CONV_U4),
      OP(CONV_U8), OP(CONV_R_UN), OP(CONV_OVF_I4), OP(CONV_OVF_U), OP(CONV_U2), OP(CONV_U1),
      OP(CONV_I), OP(CONV_U), OP(NEG), OP(NOT), OP(CKFINITE), OP(LDLEN), 0 },
    { OP(LDIND_I1), OP(LDIND_U1), OP(LDIND_I2), OP(LDIND_U2), OP(LDIND_I4), OP(LDIND_U4),
      OP(LDIND_I8), OP(LDIND_I), OP(LDIND_R4), OP(LDIND_R8), OP(LDIND_REF), 0 },
    { OP(STIND_I1), OP(STIND_I2), OP(STIND_I4), OP(STIND_I8), OP(STIND_R4), OP(STIND_R8),
      OP(STIND_I), OP(STIND_REF), 0 },
    { OP(LDELEM_I1), OP(LDELEM_U1), OP(LDELEM_I2), OP(LDELEM_I4), OP(LDELEM_I8), OP(LDELEM_I),
      OP(LDELEM_R4), OP(LDELEM_R8), OP(LDELEM_REF), 0 },
    { OP(STELEM_I1), OP(STELEM_I2), OP(STELEM_I4), OP(STELEM_I8), OP(STELEM_I), OP(STELEM_R4),
      OP(STELEM_R8), OP(STELEM_REF), 0 },
    { OP(LDNULL), OP(LDC_I4_M1), OP(LDC_I4_0), OP(LDC_I4_1), OP(LDC_I4_8), 0 },
    { OP(BRTRUE_S), OP(BRFALSE_S), 0 },
    { OP(BRTRUE), OP(BRFALSE), 0 },
    { OP(BEQ_S), OP(BGE_S), OP(BGT_S), OP(BLE_S), OP(BLT_S), OP(BNE_UN_S), OP(BGE_UN_S),
      OP(BLT_UN_S), 0 },
    { OP(BEQ), OP(BGE), OP(BGT), OP(BLE), OP(BLT), OP(BNE_UN), OP(BGE_UN), OP(BLT_UN), 0 },
    { OP(CASTCLASS), OP(ISINST), OP(BOX), OP(UNBOX), OP(UNBOX_ANY), OP(LDOBJ), OP(NEWARR),
      OP(REFANYVAL), OP(MKREFANY), 0 },
    { OP(LDFLD), OP(LDFLDA), OP(LDSFLD), OP(LDSFLDA), 0 },
    { OP(STFLD), OP(STSFLD), 0 },
    { OP(CALL), OP(CALLVIRT), OP(NEWOBJ), OP(LDFTN), OP(LDVIRTFTN), 0 },
    { OP(LDLOC_S), OP(LDARG_S), OP(LDLOCA_S), OP(LDARGA_S), OP(STLOC_S), OP(STARG_S), 0 },
    { OP(LDLOC_0), OP(LDLOC_1), OP(LDARG_0), OP(LDARG_1), OP(LDARG_2), OP(DUP), 0 },
    { OP(STLOC_0), OP(STLOC_1), OP(STLOC_2), OP(POP), 0 },
};
#define GROUP_COUNT (sizeof groups / sizeof groups[0])

static int group_of(uint16_t op)
{
    for (size_t g = 0; g < GROUP_COUNT; g++)
        for (int k = 0; groups[g][k]; k++)
            if (groups[g][k] == op)
                return (int)g;
    return -1;
}

static bool in_group(const ilg_body *b, uint32_t i)
{
    return group_of(b->instrs[i].op) >= 0;
}

static bool mut_opcode(ilg_body *b, uint64_t *rng, char *what, size_t size)
{
    uint32_t i = pick(b, in_group, rng);
    if (i == UINT32_MAX)
        return false;
    ilg_instr *in = &b->instrs[i];
    const uint16_t *g = groups[group_of(in->op)];
    int n = 0;
    while (g[n])
        n++;
    int cur = 0;
    while (g[cur] != in->op)
        cur++;
    uint16_t op = g[(cur + 1 + (int)rnd(rng, (uint32_t)n - 1)) % n];
    snprintf(what, size, "IL_%04x: %s -> %s", in->offset, opname(in->op), opname(op));
    in->op = op;
    return true;
}

static bool has_token(const ilg_body *b, uint32_t i)
{
    switch (ilg_opcode_get(b->instrs[i].op)->operand) {
    case ILG_OPND_METHOD: case ILG_OPND_FIELD: case ILG_OPND_TYPE: case ILG_OPND_TOKEN:
    case ILG_OPND_STRING: case ILG_OPND_SIG:
        return true;
    default:
        return false;
    }
}

/* Another token: from another pool, any row of another table, or a row that does not
 * exist. */
static uint32_t other_token(const mx_module *m, uint32_t old, uint64_t *rng)
{
    static const ilg_table tables[] = { ILG_TBL_TypeDef, ILG_TBL_TypeRef, ILG_TBL_TypeSpec,
                                        ILG_TBL_MethodDef, ILG_TBL_MemberRef, ILG_TBL_Field,
                                        ILG_TBL_MethodSpec, ILG_TBL_StandAloneSig, ILG_TBL_Module,
                                        ILG_TBL_Param };
    const uint32_t table = old >> 24;
    switch (rnd(rng, 4)) {
    case 0:
        return pool_pick(m, (int)rnd(rng, 5), rng);
    case 1: {
        ilg_table t = tables[rnd(rng, sizeof tables / sizeof tables[0])];
        uint32_t rows = ilg_md_row_count(m->md, t);
        return rows ? (uint32_t)t << 24 | (1 + rnd(rng, rows)) : 0;
    }
    case 2:
        if (table == 0x70)
            return old + 0x100000;
        return table << 24 | (ilg_md_row_count(m->md, (ilg_table)table) + 1 + rnd(rng, 3));
    default:
        return rnd(rng, 2) ? table << 24 : old ^ 1;
    }
}

static bool mut_token(const mx_module *m, ilg_body *b, uint64_t *rng, char *what, size_t size)
{
    uint32_t i = pick(b, has_token, rng);
    if (i == UINT32_MAX)
        return false;
    ilg_instr *in = &b->instrs[i];
    uint32_t tok = other_token(m, in->arg.token, rng);
    if (tok == in->arg.token)
        return false;
    snprintf(what, size, "IL_%04x: %s 0x%08x -> 0x%08x", in->offset, opname(in->op), in->arg.token,
             tok);
    in->arg.token = tok;
    return true;
}

static bool simple_push(const ilg_body *b, uint32_t i)
{
    uint16_t op = b->instrs[i].op;
    bool a;
    uint32_t idx;
    return !prefixed(b, i) &&
           ((op >= OP(LDNULL) && op <= OP(LDC_R8)) || op == OP(LDSTR) ||
            (slot_kind(op, &a, &idx, &b->instrs[i]) & 1) || op == OP(LDLOCA_S) ||
            op == OP(LDARGA_S) || op == OP(LDLOCA) || op == OP(LDARGA));
}

static bool with_snippet(ilg_body **sn)
{
    return ilg_body_new(sn) == ILG_OK;
}

static bool mut_push(const mx_module *m, const mx_method *meth, ilg_body *b, uint64_t *rng,
                     char *what, size_t size)
{
    uint32_t i = pick(b, simple_push, rng);
    ilg_body *sn;
    if (i == UINT32_MAX || !with_snippet(&sn))
        return false;
    int k = push(m, meth, sn, (int)rnd(rng, P_COUNT), rng);
    snprintf(what, size, "IL_%04x: %s -> %s", b->instrs[i].offset, opname(b->instrs[i].op),
             push_names[k]);
    bool ok = ilg_body_replace(b, i, 1, sn) == ILG_OK;
    ilg_body_free(sn);
    return ok;
}

static bool is_conv(const ilg_body *b, uint32_t i)
{
    const char *n = opname(b->instrs[i].op);
    return strncmp(n, "conv.", 5) == 0 && !prefixed(b, i);
}

static bool mut_drop_conv(ilg_body *b, uint64_t *rng, char *what, size_t size)
{
    uint32_t i = pick(b, is_conv, rng);
    if (i == UINT32_MAX)
        return false;
    snprintf(what, size, "IL_%04x: %s removed", b->instrs[i].offset, opname(b->instrs[i].op));
    return ilg_body_remove(b, i, 1) == ILG_OK;
}

/* Skips one type of a signature; false when it is malformed. */
static bool skip_type(const uint8_t **p, const uint8_t *end, int depth)
{
    if (*p >= end || depth > 32)
        return false;
    uint8_t et = *(*p)++;
    switch (et) {
    case ILG_ET_CMOD_REQD: case ILG_ET_CMOD_OPT:
        sig_uint(p, end);
        return skip_type(p, end, depth + 1);
    case ILG_ET_PTR: case ILG_ET_BYREF: case ILG_ET_SZARRAY: case ILG_ET_PINNED:
        return skip_type(p, end, depth + 1);
    case ILG_ET_VALUETYPE: case ILG_ET_CLASS: case ILG_ET_VAR: case ILG_ET_MVAR:
        sig_uint(p, end);
        return true;
    case ILG_ET_GENERICINST: {
        if (!skip_type(p, end, depth + 1))
            return false;
        uint32_t n = sig_uint(p, end);
        for (uint32_t i = 0; i < n; i++)
            if (!skip_type(p, end, depth + 1))
                return false;
        return true;
    }
    case ILG_ET_ARRAY: {
        if (!skip_type(p, end, depth + 1))
            return false;
        sig_uint(p, end);
        uint32_t n = sig_uint(p, end);
        for (uint32_t i = 0; i < n; i++)
            sig_uint(p, end);
        n = sig_uint(p, end);
        for (uint32_t i = 0; i < n; i++)
            sig_uint(p, end);
        return true;
    }
    case ILG_ET_FNPTR: {
        uint8_t conv = *p < end ? *(*p)++ : 0;
        if (conv & ILG_SIG_GENERIC)
            sig_uint(p, end);
        uint32_t n = sig_uint(p, end);
        for (uint32_t i = 0; i <= n; i++)
            if (!skip_type(p, end, depth + 1))
                return false;
        return true;
    }
    default:
        return *p <= end;
    }
}

/* The push that gives a value of the parameter's type, or -1 when none does simply. */
static int push_for(const uint8_t *p, const uint8_t *end)
{
    while (p < end && (*p == ILG_ET_CMOD_REQD || *p == ILG_ET_CMOD_OPT)) {
        p++;
        sig_uint(&p, end);
    }
    if (p >= end)
        return -1;
    switch (*p) {
    case ILG_ET_BOOLEAN: case ILG_ET_CHAR: case ILG_ET_I1: case ILG_ET_U1: case ILG_ET_I2:
    case ILG_ET_U2: case ILG_ET_I4: case ILG_ET_U4:
        return P_I4;
    case ILG_ET_I8: case ILG_ET_U8: return P_I8;
    case ILG_ET_R4: return P_R4;
    case ILG_ET_R8: return P_R8;
    case ILG_ET_I: case ILG_ET_U: case ILG_ET_PTR: case ILG_ET_FNPTR: return P_NINT;
    case ILG_ET_STRING: return P_STR;
    case ILG_ET_CLASS: case ILG_ET_OBJECT: case ILG_ET_SZARRAY: case ILG_ET_ARRAY: return P_NULL;
    case ILG_ET_GENERICINST: return p + 1 < end && p[1] == ILG_ET_CLASS ? P_NULL : -1;
    case ILG_ET_BYREF: return P_LOCA;
    default: return -1;
    }
}

/* The signature blob of a call target (MethodDef, MemberRef, or a MethodSpec's method). */
static bool target_sig(const ilg_metadata *md, uint32_t tok, const uint8_t **sig, uint32_t *len)
{
    uint32_t blob;
    if ((tok >> 24) == ILG_TBL_MethodSpec &&
        ilg_md_cell(md, ILG_TBL_MethodSpec, tok & 0xFFFFFF, ILG_MDC_MethodSpec_Method, &tok) != ILG_OK)
        return false;
    if ((tok >> 24) == ILG_TBL_MethodDef)
        return ilg_md_cell(md, ILG_TBL_MethodDef, tok & 0xFFFFFF, ILG_MDC_MethodDef_Signature, &blob) ==
                   ILG_OK &&
               ilg_md_blob(md, blob, sig, len) == ILG_OK;
    if ((tok >> 24) == ILG_TBL_MemberRef)
        return ilg_md_cell(md, ILG_TBL_MemberRef, tok & 0xFFFFFF, ILG_MDC_MemberRef_Signature, &blob) ==
                   ILG_OK &&
               ilg_md_blob(md, blob, sig, len) == ILG_OK;
    return false;
}

/* At the entry: `this` and each argument pushed (the right kind half the time), a call,
 * callvirt or newobj of a method the module calls, and a pop of what it returns. */
static bool mut_insert_call(const mx_module *m, const mx_method *meth, ilg_body *b, uint64_t *rng,
                            char *what, size_t size)
{
    uint32_t tok = pool_pick(m, MX_POOL_METHOD, rng);
    const uint8_t *sig;
    uint32_t len;
    ilg_body *sn;
    if (!tok || !target_sig(m->md, tok, &sig, &len) || len < 3 || !with_snippet(&sn))
        return false;
    const uint8_t *p = sig, *end = sig + len;
    uint8_t conv = *p++;
    if (conv & ILG_SIG_GENERIC)
        sig_uint(&p, end);
    uint32_t count = sig_uint(&p, end);
    const bool returns = p < end && *p != ILG_ET_VOID;
    const uint32_t r = rnd(rng, 10);
    const uint16_t op = r < 7 ? OP(CALL) : r < 9 ? OP(CALLVIRT) : OP(NEWOBJ);
    bool ok = skip_type(&p, end, 0) && count < 16;
    char kinds[96] = "";
    if ((conv & ILG_SIG_HASTHIS) && op != OP(NEWOBJ)) {
        int k = push(m, meth, sn, rnd(rng, 2) ? P_NULL : (int)rnd(rng, P_COUNT), rng);
        snprintf(kinds, sizeof kinds, "this=%s", push_names[k]);
    }
    for (uint32_t a = 0; ok && a < count; a++) {
        if (p < end && *p == ILG_ET_SENTINEL)
            p++;
        int want = push_for(p, end);
        int k = push(m, meth, sn, want >= 0 && rnd(rng, 2) ? want : (int)rnd(rng, P_COUNT), rng);
        size_t l = strlen(kinds);
        snprintf(kinds + l, sizeof kinds - l, "%s%s", l ? "," : "", push_names[k]);
        ok = skip_type(&p, end, 0);
    }
    ilg_body_append(sn, op, tok);
    if (returns || op == OP(NEWOBJ))
        ilg_body_append(sn, OP(POP), 0);
    ok = ok && ilg_body_insert_entry(b, sn) == ILG_OK;
    char name[100];
    if (ilg_md_member_name(m->md, tok, name, sizeof name, NULL) != ILG_OK &&
        ilg_last_diag()->status != ILG_E_RANGE)
        snprintf(name, sizeof name, "?");
    snprintf(what, size, "entry: %s 0x%08x (%s) %s", opname(op), tok, kinds, name);
    ilg_body_free(sn);
    return ok;
}

/* What becomes of an operator's result: dropped, branched on, or stored. */
static void consume(const mx_method *meth, ilg_body *sn, uint64_t *rng, const char **use)
{
    switch (rnd(rng, 4)) {
    case 0:
        ilg_body_append(sn, OP(POP), 0);
        *use = "; pop";
        break;
    case 1:
        ilg_body_append(sn, OP(BRTRUE_S), sn->count + 1);
        *use = "; brtrue";
        break;
    case 2:
        if (meth->nlocals) {
            ilg_body_append(sn, OP(STLOC_S), rnd(rng, meth->nlocals));
            *use = "; stloc";
            break;
        }
        /* fall through */
    default:
        if (meth->nargs) {
            ilg_body_append(sn, OP(STARG_S), rnd(rng, meth->nargs));
            *use = "; starg";
        } else {
            ilg_body_append(sn, OP(BRFALSE_S), sn->count + 1);
            *use = "; brfalse";
        }
        break;
    }
}

/* Operators with made-up operands, at the entry. */
static bool mut_insert_op(const mx_module *m, const mx_method *meth, ilg_body *b, uint64_t *rng,
                          char *what, size_t size)
{
    static const uint16_t binops[] = { OP(ADD), OP(SUB), OP(MUL), OP(DIV), OP(REM), OP(AND), OP(OR),
                                       OP(XOR), OP(SHL), OP(SHR), OP(SHR_UN), OP(CEQ), OP(CLT),
                                       OP(CGT_UN), OP(ADD_OVF), OP(DIV_UN) };
    static const uint16_t unops[] = { OP(NEG), OP(NOT), OP(CONV_I4), OP(CONV_I8), OP(CONV_R8),
                                      OP(CONV_U), OP(CONV_OVF_I4), OP(CKFINITE), OP(LDLEN),
                                      OP(LDIND_I4), OP(LDIND_REF), OP(CONV_R_UN), OP(CONV_U2) };
    static const uint16_t typeops[] = { OP(BOX), OP(ISINST), OP(CASTCLASS), OP(UNBOX_ANY),
                                        OP(UNBOX), OP(NEWARR), OP(LDOBJ), OP(INITOBJ),
                                        OP(MKREFANY) };
    ilg_body *sn;
    const char *use = "";
    if (!with_snippet(&sn))
        return false;
    int a = push(m, meth, sn, (int)rnd(rng, P_COUNT), rng), c = -1;
    uint16_t op;
    uint32_t tmpl = rnd(rng, 8), tok = 0;
    switch (tmpl) {
    case 0: case 1:
        c = push(m, meth, sn, (int)rnd(rng, P_COUNT), rng);
        op = binops[rnd(rng, sizeof binops / sizeof binops[0])];
        ilg_body_append(sn, op, 0);
        consume(meth, sn, rng, &use);
        break;
    case 2: case 3:
        op = unops[rnd(rng, sizeof unops / sizeof unops[0])];
        ilg_body_append(sn, op, 0);
        consume(meth, sn, rng, &use);
        break;
    case 4:
        op = rnd(rng, 2) ? OP(BRTRUE_S) : OP(BRFALSE_S);
        ilg_body_append(sn, op, sn->count + 1); /* the instruction after the snippet */
        break;
    case 5:
        c = push(m, meth, sn, (int)rnd(rng, P_COUNT), rng);
        op = rnd(rng, 2) ? OP(BEQ_S) : OP(BLT_UN_S);
        ilg_body_append(sn, op, sn->count + 1);
        break;
    case 6:
        tok = pool_pick(m, MX_POOL_TYPE, rng);
        op = typeops[rnd(rng, sizeof typeops / sizeof typeops[0])];
        if (!tok) {
            ilg_body_free(sn);
            return false;
        }
        ilg_body_append(sn, op, tok);
        if (op != OP(INITOBJ))
            ilg_body_append(sn, OP(POP), 0);
        break;
    default:
        c = push(m, meth, sn, (int)rnd(rng, P_COUNT), rng);
        tok = pool_pick(m, MX_POOL_FIELD, rng);
        op = rnd(rng, 2) && tok ? OP(STFLD) : OP(STIND_I4);
        ilg_body_append(sn, op, tok);
        break;
    }
    bool ok = ilg_body_insert_entry(b, sn) == ILG_OK;
    snprintf(what, size, "entry: %s%s%s %s 0x%08x%s", push_names[a], c >= 0 ? ", " : "",
             c >= 0 ? push_names[c] : "", opname(op), tok, use);
    ilg_body_free(sn);
    return ok;
}

static bool not_prefixed(const ilg_body *b, uint32_t i)
{
    return !prefixed(b, i) && ilg_opcode_get(b->instrs[i].op)->flow != ILG_FLOW_PREFIX;
}

/* An instruction removed, repeated, or a pop, dup or ret inserted. */
static bool mut_structure(ilg_body *b, uint64_t *rng, char *what, size_t size)
{
    uint32_t i = pick(b, not_prefixed, rng);
    ilg_body *sn;
    if (i == UINT32_MAX || !with_snippet(&sn))
        return false;
    const uint32_t off = b->instrs[i].offset;
    const char *name = opname(b->instrs[i].op);
    bool ok;
    switch (rnd(rng, 3)) {
    case 0:
        snprintf(what, size, "IL_%04x: %s removed", off, name);
        ok = ilg_body_remove(b, i, 1) == ILG_OK;
        break;
    case 1: {
        ilg_instr copy = b->instrs[i];
        uint8_t k = ilg_opcode_get(copy.op)->operand;
        ok = k != ILG_OPND_BR1 && k != ILG_OPND_BR4 && k != ILG_OPND_SWITCH &&
             (sn->count = 0, ilg_body_append(sn, (ilg_opcode)copy.op, copy.arg.i) == ILG_OK);
        if (ok)
            sn->instrs[0].arg = copy.arg;
        snprintf(what, size, "IL_%04x: %s repeated", off, name);
        ok = ok && ilg_body_insert_after(b, i, sn, 0) == ILG_OK;
        break;
    }
    default: {
        static const uint16_t ops[] = { OP(POP), OP(DUP), OP(RET), OP(LDNULL) };
        uint16_t op = ops[rnd(rng, 4)];
        ilg_body_append(sn, op, 0);
        snprintf(what, size, "IL_%04x: %s inserted before %s", off, opname(op), name);
        ok = ilg_body_insert_before(b, i, sn, 0) == ILG_OK;
        break;
    }
    }
    ilg_body_free(sn);
    return ok;
}

static bool is_call(const ilg_body *b, uint32_t i)
{
    uint16_t op = b->instrs[i].op;
    return (op == OP(CALL) || op == OP(CALLVIRT) || op == OP(LDFTN) || op == OP(LDELEMA) ||
            op == OP(LDIND_I4) || op == OP(LDFLD) || op == OP(NEWOBJ)) &&
           !prefixed(b, i);
}

/* localloc (on an empty or busy stack, in a handler), arglist, jmp, a prefix before a
 * call or a load, a second ret. */
static bool mut_special(const mx_module *m, const mx_method *meth, ilg_body *b, uint64_t *rng,
                        char *what, size_t size)
{
    ilg_body *sn;
    if (!with_snippet(&sn))
        return false;
    uint32_t at = 0, tmpl = rnd(rng, 7), tok = 0;
    bool ok = true;
    switch (tmpl) {
    case 0: case 1:
        if (tmpl == 1)
            push(m, meth, sn, (int)rnd(rng, P_COUNT), rng);
        ilg_body_append(sn, OP(LDC_I4_S), 16);
        ilg_body_append(sn, OP(LOCALLOC), 0);
        ilg_body_append(sn, OP(POP), 0);
        if (tmpl == 1)
            ilg_body_append(sn, OP(POP), 0);
        if (b->eh_count && rnd(rng, 2)) {
            const ilg_eh_clause *e = &b->eh[rnd(rng, b->eh_count)];
            at = e->handler_start;
            snprintf(what, size, "handler IL_%04x: localloc%s", b->instrs[at].offset,
                     tmpl ? " over a value" : "");
            ok = ilg_body_insert_before(b, at, sn, 0) == ILG_OK;
            ilg_body_free(sn);
            return ok;
        }
        snprintf(what, size, "entry: localloc%s", tmpl ? " over a value" : "");
        break;
    case 2:
        ilg_body_append(sn, OP(ARGLIST), 0);
        ilg_body_append(sn, OP(POP), 0);
        snprintf(what, size, "entry: arglist");
        break;
    case 3:
        tok = rnd(rng, 3) ? pool_pick(m, MX_POOL_METHOD, rng) : meth->token;
        ilg_body_append(sn, OP(JMP), tok);
        snprintf(what, size, "entry: jmp 0x%08x", tok);
        break;
    case 4: {
        uint32_t i = pick(b, is_call, rng);
        static const uint16_t prefixes[] = { OP(TAIL), OP(READONLY), OP(VOLATILE), OP(UNALIGNED),
                                             OP(CONSTRAINED), OP(NO) };
        uint16_t pre = prefixes[rnd(rng, 6)];
        if (i == UINT32_MAX)
            break;
        int64_t arg = pre == OP(UNALIGNED) ? (int64_t)(1u << rnd(rng, 4)) :
                      pre == OP(CONSTRAINED) ? (int64_t)pool_pick(m, MX_POOL_TYPE, rng) : 1;
        ilg_body_append(sn, pre, arg);
        snprintf(what, size, "IL_%04x: %s before %s", b->instrs[i].offset, opname(pre),
                 opname(b->instrs[i].op));
        ok = ilg_body_insert_before(b, i, sn, 0) == ILG_OK;
        ilg_body_free(sn);
        return ok;
    }
    case 5:
        tok = pool_pick(m, (int)rnd(rng, 3), rng);
        ilg_body_append(sn, rnd(rng, 2) ? OP(LDTOKEN) : OP(SIZEOF), tok);
        ilg_body_append(sn, OP(POP), 0);
        snprintf(what, size, "entry: %s 0x%08x", opname(sn->instrs[0].op), tok);
        break;
    default: {
        int k = push(m, meth, sn, (int)rnd(rng, P_COUNT), rng);
        ilg_body_append(sn, OP(RET), 0);
        snprintf(what, size, "entry: ret of %s", push_names[k]);
        break;
    }
    }
    ok = sn->count && ilg_body_insert_entry(b, sn) == ILG_OK;
    ilg_body_free(sn);
    return ok;
}

/* Clauses swapped, a catch type of another kind, a boundary moved by one. */
static bool mut_eh(const mx_module *m, ilg_body *b, uint64_t *rng, char *what, size_t size)
{
    if (!b->eh_count)
        return false;
    ilg_eh_clause *e = &b->eh[rnd(rng, b->eh_count)];
    switch (rnd(rng, 3)) {
    case 0:
        if (b->eh_count < 2)
            return false;
        {
            ilg_eh_clause t = b->eh[0];
            b->eh[0] = b->eh[b->eh_count - 1];
            b->eh[b->eh_count - 1] = t;
        }
        snprintf(what, size, "clauses 0 and %u swapped", b->eh_count - 1);
        return true;
    case 1:
        if (e->kind != ILG_EH_CATCH)
            return false;
        {
            uint32_t tok = other_token(m, e->class_token, rng);
            snprintf(what, size, "catch type 0x%08x -> 0x%08x", e->class_token, tok);
            e->class_token = tok;
        }
        return true;
    default: {
        uint32_t *ends[] = { &e->try_end, &e->handler_end, &e->try_start, &e->handler_start };
        uint32_t k = rnd(rng, 4), *v = ends[k];
        uint32_t nv = rnd(rng, 2) ? *v + 1 : *v - 1;
        if (*v == 0 || nv > b->count)
            return false;
        snprintf(what, size, "clause boundary %u: %u -> %u", k, *v, nv);
        *v = nv;
        return true;
    }
    }
}

/* ---- the operator matrix (the slots fixture) ------------------------------------------ */

/* Values of every kind, from the slot's arguments (not constants: the JIT would fold
 * those before it ever generated the operation), plus two constants. */
enum { K_I4, K_I8, K_NI, K_R4, K_R8, K_NULL, K_OBJ, K_STR, K_BYREF, K_PAIR, K_BOOL, K_ENUM,
       K_LOCA, K_CI4, K_CR8, K_CHAR, K_I2, K_COUNT };
static const char *const kind_names[K_COUNT] = {
    "int32", "int64", "native int", "float32", "float64", "null", "object", "string", "int32&",
    "Pair", "bool", "Color", "ldloca", "ldc.i4", "ldc.r8", "char", "int16" };
/* The kind each Take<k> takes. */
static const int take_kind[13] = { K_I4, K_I8, K_NI, K_R4, K_R8, K_OBJ, K_STR, K_BYREF, K_PAIR, K_BOOL,
                                   K_ENUM, K_CHAR, K_I2 };

static void kpush(ilg_body *sn, int k)
{
    if (k == K_CHAR || k == K_I2)
        ilg_body_append(sn, OP(LDARG_S), k == K_CHAR ? 11 : 12);
    else if (k <= K_R8 || (k >= K_OBJ && k <= K_ENUM))
        ilg_body_append(sn, OP(LDARG_S), k < K_NULL ? k : k - 1);
    else if (k == K_NULL)
        ilg_body_append(sn, OP(LDNULL), 0);
    else if (k == K_LOCA)
        ilg_body_append(sn, OP(LDLOCA_S), 0);
    else if (k == K_CI4)
        ilg_body_append(sn, OP(LDC_I4_1), 0);
    else
        ilg_body_append_real(sn, OP(LDC_R8), 1.0);
}

/* What becomes of a value: dropped, stored to an int32, float64 or object local,
 * branched on, or passed to Take0(int32) or Take5(object). The branch target is the
 * snippet's final ret, patched by the caller. */
static const char *kconsume(const mx_module *m, ilg_body *sn, uint64_t *rng)
{
    switch (rnd(rng, 7)) {
    case 0: ilg_body_append(sn, OP(POP), 0); return "pop";
    case 1: ilg_body_append(sn, OP(STLOC_0), 0); return "stloc int32";
    case 2: ilg_body_append(sn, OP(STLOC_S), 4); return "stloc float64";
    case 3: ilg_body_append(sn, OP(STLOC_S), 5); return "stloc object";
    case 4: ilg_body_append(sn, OP(BRTRUE_S), UINT32_MAX); return "brtrue";
    case 5: ilg_body_append(sn, OP(CALL), m->slots.take[0]); return "Take(int32)";
    default: ilg_body_append(sn, OP(CALL), m->slots.take[5]); return "Take(object)";
    }
}

static const uint16_t mat_bin[] = { OP(ADD), OP(SUB), OP(MUL), OP(DIV), OP(DIV_UN), OP(REM), OP(REM_UN),
                                    OP(AND), OP(OR), OP(XOR), OP(SHL), OP(SHR), OP(SHR_UN), OP(ADD_OVF),
                                    OP(SUB_OVF_UN), OP(MUL_OVF), OP(CEQ), OP(CGT), OP(CLT_UN) };
static const uint16_t mat_un[] = { OP(NEG), OP(NOT), OP(CKFINITE), OP(CONV_I1), OP(CONV_I4), OP(CONV_I8),
                                   OP(CONV_R4), OP(CONV_R8), OP(CONV_U), OP(CONV_R_UN), OP(CONV_OVF_I4),
                                   OP(CONV_OVF_U), OP(CONV_U2), OP(LDLEN), OP(LDIND_I4), OP(LDIND_REF),
                                   OP(LDIND_R8), OP(THROW) };

/* One template: an operator, a call, a store, a field, an object or indirect access of
 * values of random kinds. */
static const char *matrix_body(const mx_module *m, ilg_body *sn, uint64_t *rng, char *what, size_t size)
{
    const int a = (int)rnd(rng, K_COUNT), c = (int)rnd(rng, K_COUNT);
    const char *use = "";
    uint16_t op = OP(NOP);
    uint32_t tok = 0;
    kpush(sn, a);
    switch (rnd(rng, 9)) {
    case 0: case 1:
        kpush(sn, c);
        op = mat_bin[rnd(rng, sizeof mat_bin / sizeof mat_bin[0])];
        ilg_body_append(sn, op, 0);
        use = kconsume(m, sn, rng);
        snprintf(what, size, "matrix: %s, %s %s; %s", kind_names[a], kind_names[c], opname(op), use);
        return what;
    case 2: case 3:
        op = mat_un[rnd(rng, sizeof mat_un / sizeof mat_un[0])];
        ilg_body_append(sn, op, 0);
        if (op != OP(THROW))
            use = kconsume(m, sn, rng);
        snprintf(what, size, "matrix: %s %s; %s", kind_names[a], opname(op), use);
        return what;
    case 4: {
        static const uint16_t br[] = { OP(BRTRUE_S), OP(BRFALSE_S), OP(BEQ_S), OP(BLT_UN_S), OP(BGE_S), OP(SWITCH) };
        op = br[rnd(rng, 6)];
        if (ilg_opcode_get(op)->pops == 2)
            kpush(sn, c);
        if (op == OP(SWITCH)) {
            uint32_t t = UINT32_MAX;
            ilg_body_append_switch(sn, &t, 1);
        } else {
            ilg_body_append(sn, op, UINT32_MAX);
        }
        snprintf(what, size, "matrix: %s%s%s %s", kind_names[a], ilg_opcode_get(op)->pops == 2 ? ", " : "",
                 ilg_opcode_get(op)->pops == 2 ? kind_names[c] : "", opname(op));
        return what;
    }
    case 5: {
        int k = (int)rnd(rng, 13);
        ilg_body_append(sn, OP(CALL), m->slots.take[k]);
        snprintf(what, size, "matrix: %s to Take%d(%s)", kind_names[a], k, kind_names[take_kind[k]]);
        return what;
    }
    case 6: {
        int k = (int)rnd(rng, 8);
        static const char *const how[8] = { "stloc.s", "starg.s", "stsfld Count", "stfld Value",
                                            "stsfld Letter", "stfld Small", "stind.i2", "stelem.i2" };
        if (k == 0) {
            ilg_body_append(sn, OP(STLOC_S), rnd(rng, 12));
        } else if (k == 1) {
            ilg_body_append(sn, OP(STARG_S), rnd(rng, 13));
        } else if (k == 2 || k == 4) {
            ilg_body_append(sn, OP(STSFLD), k == 2 ? m->slots.count : m->slots.letter);
        } else if (k == 3 || k == 5) {
            kpush(sn, c);
            ilg_body_append(sn, OP(STFLD), k == 3 ? m->slots.value : m->slots.small);
        } else { /* an address (the char local) or an array (null) and index below the value */
            ilg_body_reset(sn);
            if (k == 6) {
                ilg_body_append(sn, OP(LDLOCA_S), 10);
            } else {
                ilg_body_append(sn, OP(LDNULL), 0);
                ilg_body_append(sn, OP(LDC_I4_0), 0);
            }
            kpush(sn, a);
            ilg_body_append(sn, k == 6 ? OP(STIND_I2) : OP(STELEM_I2), 0);
        }
        snprintf(what, size, "matrix: %s%s%s %s %lld", kind_names[a], k == 3 || k == 5 ? ", " : "",
                 k == 3 || k == 5 ? kind_names[c] : "", how[k],
                 k < 2 ? (long long)sn->instrs[sn->count - 1].arg.i : 0LL);
        return what;
    }
    default: {
        static const uint16_t obj[] = { OP(CASTCLASS), OP(ISINST), OP(BOX), OP(UNBOX_ANY), OP(UNBOX),
                                        OP(NEWARR), OP(LDOBJ), OP(LDFLD), OP(LDFLDA), OP(CALLVIRT), OP(CALL),
                                        OP(LDVIRTFTN), OP(INITOBJ) };
        const uint32_t types[3] = { m->slots.box, m->slots.pair, m->slots.color };
        op = obj[rnd(rng, sizeof obj / sizeof obj[0])];
        tok = (op == OP(LDFLD) || op == OP(LDFLDA)) ? m->slots.value
              : (op == OP(CALLVIRT) || op == OP(CALL) || op == OP(LDVIRTFTN)) ? m->slots.get
                                                                               : types[rnd(rng, 3)];
        ilg_body_append(sn, op, tok);
        if (op != OP(INITOBJ))
            use = kconsume(m, sn, rng);
        snprintf(what, size, "matrix: %s %s 0x%08x; %s", kind_names[a], opname(op), tok, use);
        return what;
    }
    }
}

static bool mut_matrix(const mx_module *m, ilg_body *b, uint64_t *rng, char *what, size_t size)
{
    ilg_body *sn;
    if (!m->slots.box || !with_snippet(&sn))
        return false;
    matrix_body(m, sn, rng, what, size);
    ilg_body_append(sn, OP(RET), 0);
    for (uint32_t i = 0; i < sn->count; i++) { /* branches go to the final ret */
        ilg_instr *in = &sn->instrs[i];
        uint8_t k = ilg_opcode_get(in->op)->operand;
        if ((k == ILG_OPND_BR1 || k == ILG_OPND_BR4) && in->arg.target == UINT32_MAX)
            in->arg.target = sn->count - 1;
        if (k == ILG_OPND_SWITCH)
            sn->targets[in->arg.sw.first] = sn->count - 1;
    }
    bool ok = ilg_body_replace_all(b, sn) == ILG_OK;
    ilg_body_free(sn);
    return ok;
}

/* ---- making a mutant ---------------------------------------------------------------- */

static bool emit(ilg_body *b, uint16_t extra_stack, mx_mutant *out)
{
    ilg_buffer buf = { 0 };
    uint32_t ms = (uint32_t)b->max_stack + extra_stack;
    b->max_stack = (uint16_t)(ms > 0xFFFF ? 0xFFFF : ms);
    if (ilg_body_layout(b) != ILG_OK ||
        ilg_body_encode(b, ILG_ENCODE_OPTIMIZE_KEEP_MAXSTACK, NULL, &buf) != ILG_OK) {
        free(buf.data);
        return false;
    }
    out->bytes = buf.data;
    out->size = (uint32_t)buf.len;
    return true;
}

bool mx_original(mx_module *m, const mx_method *meth, mx_mutant *out)
{
    ilg_method_body mb;
    memset(out, 0, sizeof *out);
    out->token = meth->token;
    snprintf(out->what, sizeof out->what, "original");
    if (ilg_md_method_body(m->md, meth->token & 0xFFFFFF, &mb) != ILG_OK || !(out->bytes = malloc(mb.body_size)))
        return false;
    memcpy(out->bytes, mb.header, mb.body_size);
    out->size = mb.body_size;
    return true;
}

bool mx_make(mx_module *m, const mx_method *meth, mx_family family, uint64_t *rng, mx_mutant *out)
{
    ilg_body *b;
    memset(out, 0, sizeof *out);
    out->token = meth->token;
    out->family = family;
    if (ilg_body_new(&b) != ILG_OK)
        return false;
    bool ok = decode_method(m->md, meth->token, b);
    char *w = out->what;
    const size_t ws = sizeof out->what;
    if (ok) {
        switch (family) {
        case MX_LOCAL_INDEX: ok = mut_index(meth, b, false, rng, w, ws); break;
        case MX_ARG_INDEX: ok = mut_index(meth, b, true, rng, w, ws); break;
        case MX_SWAP: ok = mut_swap(b, rng, w, ws); break;
        case MX_OPCODE: ok = mut_opcode(b, rng, w, ws); break;
        case MX_TOKEN: ok = mut_token(m, b, rng, w, ws); break;
        case MX_PUSH: ok = mut_push(m, meth, b, rng, w, ws); break;
        case MX_DROP_CONV: ok = mut_drop_conv(b, rng, w, ws); break;
        case MX_INSERT_CALL: ok = mut_insert_call(m, meth, b, rng, w, ws); break;
        case MX_INSERT_OP: ok = mut_insert_op(m, meth, b, rng, w, ws); break;
        case MX_STRUCTURE: ok = mut_structure(b, rng, w, ws); break;
        case MX_SPECIAL: ok = mut_special(m, meth, b, rng, w, ws); break;
        case MX_MATRIX: ok = mut_matrix(m, b, rng, w, ws); break;
        default: ok = mut_eh(m, b, rng, w, ws); break;
        }
    }
    /* Room on the stack for what the insertions push: maxstack is not what is tested. */
    ok = ok && emit(b, 8, out);
    ilg_body_free(b);
    return ok;
}
