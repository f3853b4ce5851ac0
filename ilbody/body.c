/* body.c: the ilg_body container: lifetime, copying, building instruction by
 * instruction, stack effects, and the EH nesting relation shared by encoder and verifier. */
#include "cil_body.h"
#include "ilbody_private.h"

uint32_t *ilg__scratch(ilg_body *b, uint64_t words)
{
    if (ilg__grow((void **)&b->scratch, &b->scratch_cap, words ? words : 1, sizeof(uint32_t)))
        return NULL;
    return b->scratch;
}

ilg_status ilg_body_new(ilg_body **out)
{
    if (!out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "out is required");
    ilg_body *b = calloc(1, sizeof *b);
    if (!b)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "cannot allocate a body");
    ilg_body_reset(b);
    *out = b;
    return ILG_OK;
}

void ilg_body_free(ilg_body *b)
{
    if (!b)
        return;
    free(b->instrs);
    free(b->targets);
    free(b->eh);
    free(b->sections);
    free(b->scratch);
    free(b);
}

void ilg_body_reset(ilg_body *b)
{
    if (!b)
        return;
    b->header = ILG_HEADER_FAT;
    b->fat_flags = ILG_CIL_FAT_DEFAULT_WORD;
    b->max_stack = 8;
    b->init_locals = false;
    b->local_sig = 0;
    b->code_size = 0;
    b->size = 0;
    b->count = 0;
    b->target_count = 0;
    b->eh_count = 0;
    b->section_count = 0;
    memset(b->padding, 0, sizeof b->padding);
}

static ilg_status copy_array(void **dst, uint32_t *dcap, const void *src, uint32_t n, size_t elem)
{
    ilg_status st = ilg__grow(dst, dcap, n, elem);
    if (st == ILG_OK && n)
        memcpy(*dst, src, (size_t)n * elem);
    return st;
}

ilg_status ilg_body_copy(ilg_body *dst, const ilg_body *src)
{
    if (!dst || !src)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "dst and src are required");
    if (dst == src)
        return ILG_OK;
    ilg_status st;
    if ((st = copy_array((void **)&dst->instrs, &dst->instrs_cap, src->instrs, src->count,
                         sizeof(ilg_instr))) ||
        (st = copy_array((void **)&dst->targets, &dst->targets_cap, src->targets,
                         src->target_count, sizeof(uint32_t))) ||
        (st = copy_array((void **)&dst->eh, &dst->eh_cap, src->eh, src->eh_count,
                         sizeof(ilg_eh_clause))) ||
        (st = copy_array((void **)&dst->sections, &dst->sections_cap, src->sections,
                         src->section_count, sizeof(ilg_eh_section))))
        return st;
    dst->header = src->header;
    dst->fat_flags = src->fat_flags;
    dst->max_stack = src->max_stack;
    dst->init_locals = src->init_locals;
    dst->local_sig = src->local_sig;
    dst->code_size = src->code_size;
    dst->size = src->size;
    dst->count = src->count;
    dst->target_count = src->target_count;
    dst->eh_count = src->eh_count;
    dst->section_count = src->section_count;
    memcpy(dst->padding, src->padding, sizeof dst->padding);
    return ILG_OK;
}

static ilg_status append_instr(ilg_body *b, ilg_opcode op, ilg_instr **out)
{
    if (!b || (unsigned)op >= ILG_OP_COUNT)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "opcode %d out of range", (int)op);
    ilg_status st = ilg__grow((void **)&b->instrs, &b->instrs_cap, (uint64_t)b->count + 1,
                              sizeof(ilg_instr));
    if (st)
        return st;
    ilg_instr *in = &b->instrs[b->count++];
    memset(in, 0, sizeof *in);
    in->op = (uint16_t)op;
    *out = in;
    return ILG_OK;
}

ilg_status ilg_body_append(ilg_body *b, ilg_opcode op, int64_t operand)
{
    if ((unsigned)op < ILG_OP_COUNT) {
        uint8_t k = ilg__opcodes[op].operand;
        if (k == ILG_OPND_SWITCH || k == ILG_OPND_R4 || k == ILG_OPND_R8)
            return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                             "%s needs ilg_body_append_%s", ilg__opcodes[op].name,
                             k == ILG_OPND_SWITCH ? "switch" : "real");
    }
    ilg_instr *in = NULL;
    ilg_status st = append_instr(b, op, &in);
    if (st)
        return st;
    switch (ilg__opcodes[op].operand) {
    case ILG_OPND_NONE: break;
    case ILG_OPND_BR1: case ILG_OPND_BR4: in->arg.target = (uint32_t)operand; break;
    case ILG_OPND_METHOD: case ILG_OPND_FIELD: case ILG_OPND_TYPE: case ILG_OPND_TOKEN:
    case ILG_OPND_STRING: case ILG_OPND_SIG: in->arg.token = (uint32_t)operand; break;
    default: in->arg.i = operand; break;
    }
    return ILG_OK;
}

ilg_status ilg_body_append_real(ilg_body *b, ilg_opcode op, double value)
{
    if (op != ILG_OP_LDC_R4 && op != ILG_OP_LDC_R8)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "opcode %d takes no real operand",
                         (int)op);
    ilg_instr *in = NULL;
    ilg_status st = append_instr(b, op, &in);
    if (st)
        return st;
    if (op == ILG_OP_LDC_R4)
        in->arg.r4 = (float)value;
    else
        in->arg.r8 = value;
    return ILG_OK;
}

ilg_status ilg_body_append_switch(ilg_body *b, const uint32_t *targets, uint32_t n)
{
    if (!b || (n && !targets))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "body and targets are required");
    ilg_status st = ilg__grow((void **)&b->targets, &b->targets_cap,
                              (uint64_t)b->target_count + n, sizeof(uint32_t));
    if (st)
        return st;
    ilg_instr *in = NULL;
    if ((st = append_instr(b, ILG_OP_SWITCH, &in)))
        return st;
    in->arg.sw.first = b->target_count;
    in->arg.sw.count = n;
    if (n)
        memcpy(b->targets + b->target_count, targets, n * sizeof *targets);
    b->target_count += n;
    return ILG_OK;
}

ilg_status ilg_body_add_clause(ilg_body *b, const ilg_eh_clause *c)
{
    if (!b || !c)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "body and clause are required");
    if (c->kind != ILG_EH_CATCH && c->kind != ILG_EH_FILTER && c->kind != ILG_EH_FINALLY &&
        c->kind != ILG_EH_FAULT)
        return ilg__fail(ILG_E_IL_BAD_EH, ILG_WHERE_NONE, 0, "clause kind %u is not 0, 1, 2 or 4",
                         c->kind);
    ilg_status st = ilg__grow((void **)&b->eh, &b->eh_cap, (uint64_t)b->eh_count + 1,
                              sizeof(ilg_eh_clause));
    if (st)
        return st;
    b->eh[b->eh_count++] = *c;
    return ILG_OK;
}

void ilg_body_set_locals(ilg_body *b, uint32_t local_sig, bool init_locals)
{
    if (!b)
        return;
    b->local_sig = local_sig;
    b->init_locals = init_locals;
}

bool ilg__stack_effect_var(const ilg_body *b, const ilg_instr *in, const ilg_stack_resolver *r,
                           int *pops, int *pushes)
{
    const ilg_opcode_info *oi = &ilg__opcodes[in->op];
    *pops = oi->pops;
    *pushes = oi->pushes;
    if (in->op == ILG_OP_RET) {
        if (!r || r->ret_pops < 0)
            return false;
        *pops = r->ret_pops;
        return true;
    }
    if (!r || !r->call_shape)
        return false;
    uint32_t n;
    bool has_this, ret;
    if (r->call_shape(r->ctx, in->arg.token, &n, &has_this, &ret) != ILG_OK)
        return false;
    switch (in->op) {
    case ILG_OP_NEWOBJ: /* the new object is not an argument on the stack */
        *pops = (int)n - (has_this ? 1 : 0);
        *pushes = 1;
        break;
    case ILG_OP_CALLI: /* the function pointer comes on top of the arguments */
        *pops = (int)n + 1;
        *pushes = ret ? 1 : 0;
        break;
    default:
        *pops = (int)n;
        *pushes = ret ? 1 : 0;
        break;
    }
    return *pops >= 0;
}

ilg_status ilg_body_stack_effect(const ilg_body *b, uint32_t i, const ilg_stack_resolver *r,
                                 int *pops, int *pushes)
{
    if (!b || !pops || !pushes || i >= b->count)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "instruction %u of %u", i,
                         b ? b->count : 0);
    int po, pu;
    if (!ilg__stack_effect(b, &b->instrs[i], r, &po, &pu))
        return ilg__fail(ILG_E_IL_STACK_UNKNOWN, ILG_WHERE_IL, b->instrs[i].offset,
                         "stack effect of %s 0x%08x is unknown", ilg__opcodes[b->instrs[i].op].name,
                         b->instrs[i].arg.token);
    *pops = po;
    *pushes = pu;
    return ILG_OK;
}

static bool inside(uint32_t s, uint32_t e, uint32_t os, uint32_t oe)
{
    return os <= s && e <= oe;
}

bool ilg__clause_nested_in(const ilg_eh_clause *a, const ilg_eh_clause *c)
{
    if (a == c)
        return false;
    if (inside(a->try_start, a->try_end, c->try_start, c->try_end) &&
        !(a->try_start == c->try_start && a->try_end == c->try_end))
        return true;
    if (inside(a->try_start, a->try_end, c->handler_start, c->handler_end))
        return true;
    if (c->kind == ILG_EH_FILTER && inside(a->try_start, a->try_end, c->filter_start, c->handler_start))
        return true;
    return false;
}
