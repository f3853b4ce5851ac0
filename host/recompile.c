/* recompile.c: what the host needs to recompile methods as CoreCLR does (`ilgraft run
 * --recompile`, docs/profiler.md): which methods are generic (a second FunctionID for a
 * value-type instantiation) and how CoreCLR tiers each method, read from its original
 * IL the way the JIT decides at tier 0. */
#include "host_private.h"

/* Marks meth generic by giving it the next instantiation index (1-based). */
static void mark_generic(host_module *m, host_method *meth, uint32_t *count)
{
    if (!meth->inst && (meth->kind == ILG_BODY_TINY || meth->kind == ILG_BODY_FAT))
        meth->inst = ++*count;
}

ilg_status ilg__host_make_insts(host_module *m)
{
    const ilg_metadata *md = m->md;
    const uint32_t params = ilg_md_row_count(md, ILG_TBL_GenericParam);
    const uint32_t owner_col = ILG_MDC_GenericParam_Owner;
    uint32_t count = 0;

    /* A GenericParam row's owner is a TypeDef (every method of the type is shared by
     * its instantiations) or a MethodDef (the method has parameters of its own). */
    for (uint32_t r = 1; r <= params; r++) {
        uint32_t owner = 0, rid;
        if (ilg_md_cell(md, ILG_TBL_GenericParam, r, owner_col, &owner) != ILG_OK)
            continue;
        rid = owner & 0xFFFFFF;
        if (owner >> 24 == ILG_TBL_MethodDef && rid >= 1 && rid <= m->method_count) {
            mark_generic(m, &m->methods[rid - 1], &count);
        } else if (owner >> 24 == ILG_TBL_TypeDef) {
            uint32_t first = 0, n = 0;
            ilg__host_methods_of(md, rid, &first, &n);
            for (uint32_t k = 0; k < n; k++)
                mark_generic(m, &m->methods[first - 1 + k], &count);
        }
    }
    if (!count)
        return ILG_OK;
    m->insts = ILG_HOST_ZALLOC(m->host->heap, (size_t)count * sizeof *m->insts);
    if (!m->insts)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0,
                         "no memory for %u generic instantiations of %s", count, m->path);
    m->inst_count = count;
    for (uint32_t i = 0; i < m->method_count; i++)
        if (m->methods[i].inst)
            m->insts[m->methods[i].inst - 1].method = &m->methods[i];
    return ILG_OK;
}

/* Whether instruction i lies in a handler (catch, finally, fault) or a filter. */
static bool in_handler(const ilg_body *b, uint32_t i)
{
    for (uint32_t k = 0; k < b->eh_count; k++) {
        const ilg_eh_clause *c = &b->eh[k];
        if (i >= c->handler_start && i < c->handler_end)
            return true;
        if (c->kind == ILG_EH_FILTER && i >= c->filter_start && i < c->handler_start)
            return true;
    }
    return false;
}

/* What the JIT's first look at the IL finds (CoreCLR's importer: compHasBackwardJump,
 * compHasBackwardJumpInHandler, compLocallocSeen, compTailPrefixSeen, and whether
 * `this` may be written: starg 0 or ldarga 0 in an instance method). */
typedef struct il_scan {
    bool backward, backward_in_handler, localloc, tail, this_written;
} il_scan;

static bool branches_back(const ilg_body *b, uint32_t i)
{
    const ilg_instr *in = &b->instrs[i];
    const ilg_opcode_info *op = ilg_opcode_get((ilg_opcode)in->op);
    if (op->operand == ILG_OPND_BR1 || op->operand == ILG_OPND_BR4)
        return in->arg.target < b->count && b->instrs[in->arg.target].offset <= in->offset;
    if (op->operand != ILG_OPND_SWITCH)
        return false;
    for (uint32_t k = 0; k < in->arg.sw.count; k++) {
        uint32_t t = b->targets[in->arg.sw.first + k];
        if (t < b->count && b->instrs[t].offset <= in->offset)
            return true;
    }
    return false;
}

static il_scan scan_il(const ilg_body *b, bool is_static)
{
    il_scan s = { false, false, false, false, false };
    for (uint32_t i = 0; i < b->count; i++) {
        const ilg_instr *in = &b->instrs[i];
        switch (in->op) {
        case ILG_OP_LOCALLOC: s.localloc = true; break;
        case ILG_OP_TAIL: s.tail = true; break;
        case ILG_OP_STARG_S:
        case ILG_OP_STARG:
        case ILG_OP_LDARGA_S:
        case ILG_OP_LDARGA:
            s.this_written |= !is_static && in->arg.i == 0;
            break;
        default:
            if (branches_back(b, i)) {
                s.backward = true;
                s.backward_in_handler |= in_handler(b, i);
            }
        }
    }
    return s;
}

host_tiering ilg__host_tiering(const host_method *meth, ilg_body **scratch)
{
    const ilg_metadata *md = meth->module->md;
    const uint32_t rid = meth->token & 0xFFFFFF;
    ilg_method_info mi;
    ilg_method_body mb;

    /* A JIT worker: a profiler's thread may be growing the tables meanwhile. */
    pthread_rwlock_rdlock(&meth->module->importer.lock);
    bool read = ilg_md_method(md, rid, &mi) == ILG_OK && ilg_md_method_body(md, rid, &mb) == ILG_OK;
    pthread_rwlock_unlock(&meth->module->importer.lock);
    if (!read || (mb.kind != ILG_BODY_TINY && mb.kind != ILG_BODY_FAT))
        return HOST_TIERING_NONE;
    /* Not eligible for tiered compilation: compiled optimized (or not at all) once. */
    if (mi.impl_flags & (ILG_METHODIMPL_NOOPTIMIZATION | ILG_METHODIMPL_AGGRESSIVEOPTIMIZATION))
        return HOST_TIERING_NONE;
    /* The runtime's JIT would reject an undecodable body at the first compilation. */
    if ((!*scratch && ilg_body_new(scratch) != ILG_OK) ||
        ilg_body_decode(*scratch, mb.header, mb.body_size) != ILG_OK)
        return HOST_TIERING_NONE;
    il_scan s = scan_il(*scratch, (mi.flags & ILG_METHODATTR_STATIC) != 0);
    /* The JIT switches a tier-0 request to optimized code, and the method leaves
     * tiering, for an explicit tail call (tier 0 is not instrumented by default) and
     * for a loop that OSR cannot handle. */
    if (s.tail)
        return HOST_TIERING_NONE;
    if (!s.backward)
        return HOST_TIERING_UP;
    if (s.localloc || s.backward_in_handler || s.this_written)
        return HOST_TIERING_NONE;
    return HOST_TIERING_OSR;
}
