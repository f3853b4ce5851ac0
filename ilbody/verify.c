/* verify.c: the structural verifier and the stack-depth data flow it shares with the
 * encoder. The data flow follows the reachable code from the entry and every handler
 * (each instruction once, depths compared where paths meet), so dead code that
 * compilers leave behind (mcs emits `throw; br L`) does not produce false findings.
 * Every finding names the rule (an E_IL_VERIFY_* status) and the IL offset. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "typeck.h"

#define UNSET (-1)
#define UNKNOWN (-3) /* depth lost after a call the resolver could not describe */

/* Boundary marks per instruction index (0..count). */
enum { M_TRY_START = 1, M_HANDLER_START = 2, M_FILTER_START = 4, M_BLOCK_END = 8 };

typedef struct vctx {
    const ilg_body *b;
    const ilg_stack_resolver *r;
    ilg_findings *out;     /* NULL: stop at the first stack problem (max_stack mode) */
    ilg_status status;     /* first failure (NOMEM, or the first rule in max_stack mode) */
    bool depth_lost;       /* an unknown effect or a broken stack rule made depths inexact */
    folder *fo;            /* level jit: branches the JIT decides as it imports (else NULL) */
    bool prefix_targets;   /* level jit: a branch into a constrained. or unaligned. instruction */
    uint8_t *fold;         /* [count]: what fo said of each branch reached */
} vctx;

static uint32_t off_of(const ilg_body *b, uint32_t i)
{
    return i < b->count ? b->instrs[i].offset : b->code_size;
}

static void report(vctx *v, ilg_status rule, uint32_t offset, const char *fmt, ...)
    ILG_PRINTF(4, 5);

static void report(vctx *v, ilg_status rule, uint32_t offset, const char *fmt, ...)
{
    char msg[sizeof(((ilg_finding *)0)->message)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!v->out) {
        if (v->status == ILG_OK)
            v->status = ilg__fail(rule, ILG_WHERE_IL, offset, "%s", msg);
        return;
    }
    ilg_findings *f = v->out;
    if (ilg__grow((void **)&f->items, &f->cap, (uint64_t)f->count + 1, sizeof(ilg_finding))) {
        v->status = ILG_E_NOMEM;
        return;
    }
    ilg_finding *x = &f->items[f->count++];
    x->rule = rule;
    x->offset = offset;
    x->severity = ILG_SEVERITY_ERROR;
    x->outcome = ILG_OUTCOME_INVALID_PROGRAM;
    memcpy(x->message, msg, sizeof msg);
    f->errors++;
}

static const char *const kind_names[] = { "catch", "filter", "finally", "?", "fault" };

/* ---- stack data flow ------------------------------------------------------------------ */

static bool falls_through(uint16_t op)
{
    return !(ilg__op_flags[op] & ILG__F_NOFALL);
}

/* Records depth d for target t reached from instruction from; queues t the first time. */
static void set_target(vctx *v, int32_t *depth, uint32_t *work, uint32_t *nwork,
                       const uint8_t *marks, uint32_t from, uint32_t t, int32_t d)
{
    const ilg_body *b = v->b;
    if (t >= b->count || (marks && (marks[t] & (M_HANDLER_START | M_FILTER_START))))
        return; /* reported by the structural pass */
    if (depth[t] == UNSET) {
        depth[t] = d;
        work[(*nwork)++] = t;
        return;
    }
    if (depth[t] == UNKNOWN || d == UNKNOWN)
        return;
    if (depth[t] == d)
        return;
    v->depth_lost = true;
    report(v, ILG_E_IL_VERIFY_MERGE, b->instrs[t].offset,
           "IL_%04x: stack depth %d from %s at IL_%04x, but %d on another path",
           b->instrs[t].offset, d, ilg__opcodes[b->instrs[from].op].name, b->instrs[from].offset,
           depth[t]);
}

/* Data flow over the reachable code: from the entry and every handler and filter start,
 * each instruction is visited once; where paths meet their depths must agree. Code no
 * path reaches is not analysed (the JIT does not import it either). depth and work are
 * working space of count + 1 entries each; marks may be NULL (no EH). check_limits:
 * also report MAXSTACK, RET, JMP and ENDFILTER depth rules. */
static void check_one(vctx *v, uint32_t i, const uint8_t *marks);

typedef struct flow {
    int32_t *depth;
    uint32_t *work, nwork, visited, maxd;
    const uint8_t *marks;
    bool check_limits;
} flow;

/* The stack effect of in at depth cur: the new depth, with the depth rules. */
static int32_t apply(vctx *v, flow *w, const ilg_instr *in, int32_t cur)
{
    const ilg_body *b = v->b;
    int pops, pushes;
    const bool known = ilg__stack_effect(b, in, v->r, &pops, &pushes);
    if (cur != UNKNOWN && !known && in->op != ILG_OP_RET) {
        if (!v->out && v->status == ILG_OK)
            v->status = ilg__fail(ILG_E_IL_STACK_UNKNOWN, ILG_WHERE_IL, in->offset,
                                  "IL_%04x: stack effect of %s 0x%08x is unknown", in->offset,
                                  ilg__opcodes[in->op].name, in->arg.token);
        v->depth_lost = true;
        return UNKNOWN;
    }
    if (cur == UNKNOWN)
        return cur;
    if (in->op == ILG_OP_RET) {
        if (w->check_limits && known && cur != pops)
            report(v, ILG_E_IL_VERIFY_RET, in->offset, "IL_%04x: ret with %d item%s on the stack; the method returns %s",
                   in->offset, cur, cur == 1 ? "" : "s", pops ? "a value" : "void");
        return 0;
    }
    if (pops == ILG_STACK_CLEAR)
        return 0;
    if (w->check_limits && in->op == ILG_OP_JMP && cur != 0)
        report(v, ILG_E_IL_VERIFY_JMP, in->offset, "IL_%04x: jmp with %d item%s on the stack", in->offset, cur,
               cur == 1 ? "" : "s");
    if (w->check_limits && in->op == ILG_OP_ENDFILTER && cur != 1)
        report(v, ILG_E_IL_VERIFY_ENDFILTER, in->offset,
               "IL_%04x: endfilter with %d items on the stack, needs exactly 1", in->offset, cur);
    if (pops > cur) {
        v->depth_lost = true;
        report(v, ILG_E_IL_VERIFY_UNDERFLOW, in->offset, "IL_%04x: %s pops %d, the stack holds %d", in->offset,
               ilg__opcodes[in->op].name, pops, cur);
        cur = 0;
    } else {
        cur -= pops;
    }
    const int32_t before = cur;
    cur += pushes;
    if ((uint32_t)cur > w->maxd)
        w->maxd = (uint32_t)cur;
    /* once per excursion above the limit, where it is crossed */
    if (w->check_limits && cur > b->max_stack && before <= b->max_stack)
        report(v, ILG_E_IL_VERIFY_MAXSTACK, in->offset, "IL_%04x: %s leaves depth %d, above .maxstack %u", in->offset,
               ilg__opcodes[in->op].name, cur, b->max_stack);
    return cur;
}

/* One run of code from work item i: through every fall-through, until an instruction
 * already visited or one that does not fall through. */
static void walk(vctx *v, flow *w, uint32_t i)
{
    const ilg_body *b = v->b;
    int32_t *depth = w->depth;
    const uint8_t *marks = w->marks;
    int32_t cur = depth[i];
    bool consts = false; /* a constant was pushed since this run began */
    for (;;) {
        const ilg_instr *in = &b->instrs[i];
        w->visited++;
        if (v->fo) /* only level jit folds branches */
            consts |= ilg__const_source(in->op);
        /* check_one has nothing to say about most instructions: an ordinary one that
         * falls through to an ordinary next one. Skip the call for those. */
        if (w->check_limits &&
            ((ilg__op_flags[in->op] & (ILG__F_TARGET | ILG__F_SWITCH | ILG__F_PREFIX | ILG__F_SPECIAL)) ||
             i + 1 == b->count || (marks && (marks[i + 1] & (M_BLOCK_END | M_HANDLER_START | M_FILTER_START)))))
            check_one(v, i, marks);
        if (marks && (marks[i] & M_TRY_START) && cur > 0)
            report(v, ILG_E_IL_VERIFY_EH_ENTRY, in->offset, "IL_%04x: try block entered with %d item%s on the stack",
                   in->offset, cur, cur == 1 ? "" : "s");
        const int32_t before = cur;
        cur = apply(v, w, in, cur);
        /* a call that takes nothing and returns a value may be a constant to the JIT
         * (Vector128.IsHardwareAccelerated) */
        consts |= in->op == ILG_OP_CALL && cur == before + 1;
        if (!v->out && v->status != ILG_OK)
            return;
        const unsigned fl = ilg__op_flags[in->op];
        uint8_t fd = FOLD_NONE;
        if (fl & ILG__F_TARGET) {
            /* a branch the JIT decides as it imports: the other edge is not imported */
            if (consts && v->fo && (fd = ilg__fold_branch(v->fo, i)) != FOLD_NONE)
                v->fold[i] |= fd;
            consts = false; /* what follows is another block: its own constants */
            if (fd != FOLD_NEVER)
                set_target(v, depth, w->work, &w->nwork, marks, i, in->arg.target, cur);
        } else if (fl & ILG__F_SWITCH) {
            for (uint32_t j = 0; j < in->arg.sw.count; j++)
                set_target(v, depth, w->work, &w->nwork, marks, i, b->targets[in->arg.sw.first + j], cur);
        }
        if (!falls_through(in->op) || fd == FOLD_ALWAYS || ++i >= b->count)
            return;
        if (marks && (marks[i] & (M_HANDLER_START | M_FILTER_START)))
            return; /* falling into a handler: a structural finding */
        if (depth[i] != UNSET) {
            if (depth[i] != UNKNOWN && cur != UNKNOWN && depth[i] != cur) {
                v->depth_lost = true;
                report(v, ILG_E_IL_VERIFY_MERGE, b->instrs[i].offset,
                       "IL_%04x: stack depth %d on fall-through, but %d on another path", b->instrs[i].offset, cur,
                       depth[i]);
            }
            return;
        }
        depth[i] = cur;
    }
}

/* Queues the handlers (and filters) still to be followed: all of them, or at level jit
 * those whose try block has code the flow reached (the JIT imports a handler only then:
 * one of an unreachable try is not compiled). True when one was queued. */
static bool seed_handlers(vctx *v, flow *w, bool *seeded)
{
    const ilg_body *b = v->b;
    bool any = false;
    for (uint32_t c = 0; c < b->eh_count; c++) {
        const ilg_eh_clause *e = &b->eh[c];
        if (seeded[c])
            continue;
        if (v->fo) {
            uint32_t i = e->try_start;
            while (i < e->try_end && i < b->count && w->depth[i] == UNSET)
                i++;
            if (i >= e->try_end || i >= b->count)
                continue;
        }
        seeded[c] = any = true;
        const uint32_t starts[2] = { e->handler_start, e->kind == ILG_EH_FILTER ? e->filter_start : UINT32_MAX };
        const int32_t d[2] = { (e->kind == ILG_EH_CATCH || e->kind == ILG_EH_FILTER) ? 1 : 0, 1 };
        for (int k = 0; k < 2; k++)
            if (starts[k] < b->count) {
                if (v->fold)
                    v->fold[starts[k]] |= FOLD_LIVE_HANDLER;
                if (w->depth[starts[k]] == UNSET) {
                    w->depth[starts[k]] = d[k];
                    w->work[w->nwork++] = starts[k];
                }
            }
    }
    return any;
}

/* check_limits (verify): also the depth rules and, for every instruction visited, the
 * structural rules, so reachable code takes one pass; returns how many were visited. */
static uint32_t stack_pass(vctx *v, int32_t *depth, uint32_t *work, const uint8_t *marks,
                           bool check_limits, uint32_t *max_out)
{
    const ilg_body *b = v->b;
    flow w = { depth, work, 0, 0, 0, marks, check_limits };
    bool seeded_small[64], *seeded = b->eh_count <= 64 ? seeded_small : calloc(b->eh_count, 1);
    if (!seeded) {
        v->status = ILG_E_NOMEM;
        return 0;
    }
    memset(seeded, 0, b->eh_count <= 64 ? sizeof seeded_small : 0);
    for (uint32_t i = 0; i < b->count; i++)
        depth[i] = UNSET;
    if (b->count) {
        depth[0] = 0;
        work[w.nwork++] = 0;
    }
    if (!v->fo)
        seed_handlers(v, &w, seeded);
    do {
        while (w.nwork && (v->out || v->status == ILG_OK))
            walk(v, &w, work[--w.nwork]);
    } while (v->fo && (v->out || v->status == ILG_OK) && seed_handlers(v, &w, seeded));
    if (seeded != seeded_small)
        free(seeded);
    if (max_out)
        *max_out = w.maxd;
    return w.visited;
}

ilg_status ilg__flow_max_stack(const ilg_body *b, const ilg_stack_resolver *r, int32_t *depth,
                               uint32_t *out)
{
    vctx v = { .b = b, .r = r };
    uint32_t m = 0;
    stack_pass(&v, depth, (uint32_t *)depth + b->count + 1, NULL, false, &m);
    if (v.status == ILG_OK)
        *out = m;
    return v.status;
}

ilg_status ilg_body_max_stack(const ilg_body *b, const ilg_stack_resolver *r, uint32_t *out)
{
    if (!b || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "body and out are required");
    int32_t *depth = malloc(((size_t)b->count + 1) * 2 * sizeof *depth);
    if (!depth)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for %u depths", b->count);
    ilg_status st = ilg__flow_max_stack(b, r, depth, out);
    free(depth);
    return st;
}

/* ---- structural rules ----------------------------------------------------------------- */

typedef struct block {
    uint32_t start, end;   /* instruction indices, end exclusive */
    uint8_t type;          /* 0 try, 1 handler, 2 filter */
    uint32_t clause;
} block;

static const char *const block_names[] = { "try block", "handler", "filter" };

static int clause_blocks(const ilg_body *b, uint32_t c, block out[3])
{
    const ilg_eh_clause *e = &b->eh[c];
    int n = 0;
    out[n++] = (block){ e->try_start, e->try_end, 0, c };
    out[n++] = (block){ e->handler_start, e->handler_end, 1, c };
    if (e->kind == ILG_EH_FILTER)
        out[n++] = (block){ e->filter_start, e->handler_start, 2, c };
    return n;
}

static bool in_block(const block *bl, uint32_t i) { return i >= bl->start && i < bl->end; }

/* The smallest block containing i (handlers and filters only when no_try). */
static bool innermost(const ilg_body *b, uint32_t i, bool no_try, block *out)
{
    bool found = false;
    for (uint32_t c = 0; c < b->eh_count; c++) {
        block bl[3];
        int n = clause_blocks(b, c, bl);
        for (int k = 0; k < n; k++) {
            if ((no_try && bl[k].type == 0) || !in_block(&bl[k], i))
                continue;
            if (!found || bl[k].end - bl[k].start < out->end - out->start) {
                *out = bl[k];
                found = true;
            }
        }
    }
    return found;
}

static bool in_any_block(const ilg_body *b, uint32_t i)
{
    block bl;
    return innermost(b, i, false, &bl);
}

static void report_prefix_target(vctx *v, uint32_t i, uint32_t t)
{
    const ilg_instr *in = &v->b->instrs[i];
    report(v, ILG_E_IL_VERIFY_PREFIX, in->offset, "IL_%04x: %s targets IL_%04x, between a prefix and its instruction",
           in->offset, ilg__opcodes[in->op].name, v->b->instrs[t].offset);
}

/* Level jit: a branch (reached or not) into the instruction after a constrained. or
 * unaligned. prefix is refused only when the JIT imports the prefix; after volatile.,
 * readonly. or tail. it is refused even when no path reaches the prefix (observed with
 * tests/bench/probe_jit; docs/coreclr-observed.md). */
static void check_prefix_targets(vctx *v, const int32_t *depth)
{
    const ilg_body *b = v->b;
    for (uint32_t i = 0; i < b->count; i++) {
        const ilg_instr *in = &b->instrs[i];
        const unsigned fl = ilg__op_flags[in->op];
        if (!(fl & (ILG__F_TARGET | ILG__F_SWITCH)))
            continue;
        const uint32_t n = (fl & ILG__F_SWITCH) ? in->arg.sw.count : 1;
        for (uint32_t k = 0; k < n; k++) {
            const uint32_t t = (fl & ILG__F_SWITCH) ? b->targets[in->arg.sw.first + k] : in->arg.target;
            if (t > 0 && t < b->count && depth[t - 1] != UNSET &&
                (b->instrs[t - 1].op == ILG_OP_CONSTRAINED || b->instrs[t - 1].op == ILG_OP_UNALIGNED))
                report_prefix_target(v, i, t);
        }
    }
}

static void check_branch(vctx *v, uint32_t i, uint32_t t)
{
    const ilg_body *b = v->b;
    const ilg_instr *in = &b->instrs[i];
    const char *name = ilg__opcodes[in->op].name;
    if (t >= b->count) {
        report(v, ILG_E_IL_VERIFY_BRANCH_BLOCK, in->offset,
               "IL_%04x: %s targets instruction %u, past the end of the code", in->offset, name, t);
        return;
    }
    if (t > 0 && ilg__is_prefix(b->instrs[t - 1].op)) {
        const uint16_t p = b->instrs[t - 1].op;
        if (v->fo && (p == ILG_OP_CONSTRAINED || p == ILG_OP_UNALIGNED))
            v->prefix_targets = true; /* level jit: after the flow, check_prefix_targets() */
        else
            report_prefix_target(v, i, t);
    }
    const bool leave = in->op == ILG_OP_LEAVE || in->op == ILG_OP_LEAVE_S;
    for (uint32_t c = 0; c < b->eh_count; c++) {
        block bl[3];
        int n = clause_blocks(b, c, bl);
        for (int k = 0; k < n; k++) {
            const bool from = in_block(&bl[k], i), to = in_block(&bl[k], t);
            if (from && !to) {
                if (!leave)
                    report(v, ILG_E_IL_VERIFY_BRANCH_BLOCK, in->offset,
                           "IL_%04x: %s to IL_%04x leaves the %s of EH clause %u (%s); only leave may",
                           in->offset, name, b->instrs[t].offset, block_names[bl[k].type], c,
                           kind_names[b->eh[c].kind]);
                else if (bl[k].type == 2 || (bl[k].type == 1 && (b->eh[c].kind == ILG_EH_FINALLY ||
                                                                 b->eh[c].kind == ILG_EH_FAULT)))
                    report(v, ILG_E_IL_VERIFY_LEAVE, in->offset,
                           "IL_%04x: %s out of the %s of EH clause %u (%s)", in->offset, name,
                           block_names[bl[k].type], c, kind_names[b->eh[c].kind]);
            } else if (!from && to && !(bl[k].type == 0 && t == bl[k].start)) {
                report(v, leave ? ILG_E_IL_VERIFY_LEAVE : ILG_E_IL_VERIFY_BRANCH_BLOCK, in->offset,
                       "IL_%04x: %s to IL_%04x enters the %s of EH clause %u (%s) other than at a try start",
                       in->offset, name, b->instrs[t].offset, block_names[bl[k].type], c,
                       kind_names[b->eh[c].kind]);
            }
        }
    }
}

static bool prefix_allows(uint16_t prefix, uint16_t op)
{
    switch (prefix) {
    case ILG_OP_TAIL:
        return op == ILG_OP_CALL || op == ILG_OP_CALLVIRT || op == ILG_OP_CALLI;
    case ILG_OP_CONSTRAINED:
        return op == ILG_OP_CALLVIRT || op == ILG_OP_CALL || op == ILG_OP_LDFTN;
    case ILG_OP_READONLY: /* ldelema and an array's Address method, called either way */
        return op == ILG_OP_LDELEMA || op == ILG_OP_CALL || op == ILG_OP_CALLVIRT;
    case ILG_OP_UNALIGNED:
    case ILG_OP_VOLATILE:
        if ((op >= ILG_OP_LDIND_I1 && op <= ILG_OP_STIND_R8) || op == ILG_OP_STIND_I ||
            op == ILG_OP_LDFLD || op == ILG_OP_STFLD || op == ILG_OP_LDOBJ || op == ILG_OP_STOBJ ||
            op == ILG_OP_INITBLK || op == ILG_OP_CPBLK)
            return true;
        return prefix == ILG_OP_VOLATILE && (op == ILG_OP_LDSFLD || op == ILG_OP_STSFLD);
    default: /* no. */
        return true;
    }
}

/* Prefix at i: the instruction after its run must be one it may prefix. */
static void check_prefix(vctx *v, uint32_t i)
{
    const ilg_body *b = v->b;
    {
        uint32_t j = i;
        while (j < b->count && ilg__is_prefix(b->instrs[j].op))
            j++;
        const ilg_instr *p = &b->instrs[i];
        if (j == b->count) {
            report(v, ILG_E_IL_VERIFY_PREFIX, p->offset, "IL_%04x: prefix %s ends the code",
                   p->offset, ilg__opcodes[p->op].name);
            return;
        }
        const uint16_t op = b->instrs[j].op;
        if (p->op == ILG_OP_UNALIGNED && p->arg.i != 1 && p->arg.i != 2 && p->arg.i != 4)
            report(v, ILG_E_IL_VERIFY_PREFIX, p->offset, "IL_%04x: unaligned. %lld: the alignment must be 1, 2 or 4",
                   p->offset, (long long)p->arg.i);
        if (!prefix_allows(p->op, op))
            report(v, ILG_E_IL_VERIFY_PREFIX, p->offset, "IL_%04x: prefix %s cannot prefix %s",
                   p->offset, ilg__opcodes[p->op].name, ilg__opcodes[op].name);
        if (p->op == ILG_OP_TAIL && prefix_allows(p->op, op) &&
            (j + 1 >= b->count || b->instrs[j + 1].op != ILG_OP_RET))
            report(v, ILG_E_IL_VERIFY_PREFIX, p->offset,
                   "IL_%04x: tail. %s is not followed by ret", p->offset, ilg__opcodes[op].name);
    }
}

static bool contains(const block *a, const block *c) { return c->start <= a->start && a->end <= c->end; }
static bool disjoint(const block *a, const block *c) { return a->end <= c->start || c->end <= a->start; }

static void check_eh(vctx *v)
{
    const ilg_body *b = v->b;
    for (uint32_t c = 0; c < b->eh_count; c++) {
        const ilg_eh_clause *e = &b->eh[c];
        block bl[3];
        int n = clause_blocks(b, c, bl);
        bool bad = false;
        for (int k = 0; k < n; k++)
            if (bl[k].start >= bl[k].end || bl[k].end > b->count) {
                report(v, ILG_E_IL_VERIFY_EH_NESTING, off_of(b, bl[k].start),
                       "EH clause %u (%s): %s [%u, %u) is empty or outside the code", c,
                       kind_names[e->kind], block_names[bl[k].type], bl[k].start, bl[k].end);
                bad = true;
            }
        if (bad)
            continue;
        for (int k = 1; k < n; k++)
            if (!disjoint(&bl[0], &bl[k]))
                report(v, ILG_E_IL_VERIFY_EH_NESTING, off_of(b, bl[k].start),
                       "EH clause %u (%s): the %s at IL_%04x overlaps its own try block", c,
                       kind_names[e->kind], block_names[bl[k].type], off_of(b, bl[k].start));
        if (e->kind == ILG_EH_FILTER && e->handler_start > 0 &&
            b->instrs[e->handler_start - 1].op != ILG_OP_ENDFILTER)
            report(v, ILG_E_IL_VERIFY_ENDFILTER, b->instrs[e->handler_start - 1].offset,
                   "EH clause %u: filter at IL_%04x does not end with endfilter", c,
                   off_of(b, e->filter_start));
    }
    for (uint32_t a = 0; a < b->eh_count; a++) {
        block ba[3];
        int na = clause_blocks(b, a, ba);
        for (uint32_t c = a + 1; c < b->eh_count; c++) {
            block bc[3];
            int nc = clause_blocks(b, c, bc);
            for (int x = 0; x < na; x++)
                for (int y = 0; y < nc; y++) {
                    const block *p = &ba[x], *q = &bc[y];
                    if (p->start >= p->end || q->start >= q->end || disjoint(p, q))
                        continue;
                    const bool same = p->start == q->start && p->end == q->end;
                    if (same && p->type == 0 && q->type == 0)
                        continue; /* several handlers protecting one try block */
                    if (same || (!contains(p, q) && !contains(q, p)))
                        report(v, ILG_E_IL_VERIFY_EH_NESTING, off_of(b, q->start),
                               "EH clauses %u and %u: %s [IL_%04x, IL_%04x) and %s [IL_%04x, IL_%04x) %s",
                               a, c, block_names[p->type], off_of(b, p->start), off_of(b, p->end),
                               block_names[q->type], off_of(b, q->start), off_of(b, q->end),
                               same ? "coincide" : "overlap without nesting");
                    else if (p->start == q->start && p->type != 0 && q->type != 0)
                        report(v, ILG_E_IL_VERIFY_EH_NESTING, off_of(b, q->start),
                               "EH clauses %u and %u: two handler blocks start at IL_%04x", a, c,
                               off_of(b, q->start));
                }
            /* A clause nested in a block of another lies there whole. */
            for (int dir = 0; dir < 2; dir++) {
                const uint32_t in_c = dir ? a : c, out_c = dir ? c : a;
                block bi[3], bo[3];
                int ni = clause_blocks(b, in_c, bi), no = clause_blocks(b, out_c, bo);
                for (int y = 0; y < no; y++) {
                    if (!contains(&bi[0], &bo[y]) ||
                        (bo[y].type == 0 && bi[0].start == bo[y].start && bi[0].end == bo[y].end))
                        continue;
                    for (int x = 1; x < ni; x++)
                        if (!contains(&bi[x], &bo[y]) && !disjoint(&bi[x], &bo[y]))
                            continue; /* already reported as an overlap */
                        else if (!contains(&bi[x], &bo[y]))
                            report(v, ILG_E_IL_VERIFY_EH_NESTING, off_of(b, bi[x].start),
                                   "EH clause %u: try block lies in the %s of clause %u but its %s at IL_%04x does not",
                                   in_c, block_names[bo[y].type], out_c, block_names[bi[x].type],
                                   off_of(b, bi[x].start));
                }
            }
            if (ilg__clause_nested_in(&b->eh[c], &b->eh[a]))
                report(v, ILG_E_IL_VERIFY_EH_ORDER, off_of(b, b->eh[c].try_start),
                       "EH clause %u (try at IL_%04x) is nested in clause %u but listed after it",
                       c, off_of(b, b->eh[c].try_start), a);
        }
    }
}

/* The structural rules of instruction i (branches, prefixes, placement, fall-through). */
static void check_one(vctx *v, uint32_t i, const uint8_t *marks)
{
    const ilg_body *b = v->b;
    {
        const ilg_instr *in = &b->instrs[i];
        const unsigned fl = ilg__op_flags[in->op];
        if (fl & ILG__F_TARGET)
            check_branch(v, i, in->arg.target);
        else if (fl & ILG__F_SWITCH)
            for (uint32_t j = 0; j < in->arg.sw.count; j++)
                check_branch(v, i, b->targets[in->arg.sw.first + j]);
        else if (fl & ILG__F_PREFIX)
            check_prefix(v, i);
        if (!(fl & ILG__F_SPECIAL)) {
            if (i + 1 == b->count)
                report(v, ILG_E_IL_VERIFY_FALL_OFF_END, in->offset,
                       "IL_%04x: %s falls through past the end of the code", in->offset,
                       ilg__opcodes[in->op].name);
            else if (marks && (marks[i + 1] & (M_BLOCK_END | M_HANDLER_START | M_FILTER_START)))
                report(v, ILG_E_IL_VERIFY_FALL_BLOCK, in->offset,
                       "IL_%04x: %s falls through %s at IL_%04x", in->offset,
                       ilg__opcodes[in->op].name,
                       (marks[i + 1] & M_BLOCK_END) ? "out of an EH block" : "into a handler or filter",
                       b->instrs[i + 1].offset);
            return;
        }
        block bl;
        switch (in->op) {
        case ILG_OP_RET:
        case ILG_OP_JMP:
            if (b->eh_count && in_any_block(b, i))
                report(v, in->op == ILG_OP_RET ? ILG_E_IL_VERIFY_RET : ILG_E_IL_VERIFY_JMP,
                       in->offset, "IL_%04x: %s inside a try block, handler or filter; use leave",
                       in->offset, ilg__opcodes[in->op].name);
            break;
        case ILG_OP_ENDFINALLY:
            if (!innermost(b, i, false, &bl) || bl.type != 1 ||
                (b->eh[bl.clause].kind != ILG_EH_FINALLY && b->eh[bl.clause].kind != ILG_EH_FAULT))
                report(v, ILG_E_IL_VERIFY_ENDFINALLY, in->offset,
                       "IL_%04x: endfinally outside a finally or fault handler", in->offset);
            break;
        case ILG_OP_ENDFILTER:
            if (!innermost(b, i, false, &bl) || bl.type != 2)
                report(v, ILG_E_IL_VERIFY_ENDFILTER, in->offset,
                       "IL_%04x: endfilter outside a filter block", in->offset);
            break;
        case ILG_OP_RETHROW:
            if (!innermost(b, i, true, &bl) || bl.type != 1 ||
                (b->eh[bl.clause].kind != ILG_EH_CATCH && b->eh[bl.clause].kind != ILG_EH_FILTER))
                report(v, ILG_E_IL_VERIFY_RETHROW, in->offset,
                       "IL_%04x: rethrow outside a catch handler", in->offset);
            break;
        case ILG_OP_LEAVE:
        case ILG_OP_LEAVE_S:
            if (b->eh_count && innermost(b, i, true, &bl) && bl.type == 2)
                report(v, ILG_E_IL_VERIFY_LEAVE, in->offset, "IL_%04x: leave inside a filter",
                       in->offset);
            break;
        default:
            break;
        }
    }
}

/* The order in which CoreCLR meets a body's faults: the structure of blocks and clauses
 * as it builds the flow graph, then instruction by instruction as it imports them,
 * where an instruction's token is resolved before its operands are popped. */
static uint64_t meet_order(const ilg_finding *x)
{
    uint64_t phase = 2;
    switch (x->rule) {
    case ILG_E_IL_VERIFY_EH_NESTING: case ILG_E_IL_VERIFY_EH_ORDER: case ILG_E_IL_VERIFY_FALL_OFF_END:
    case ILG_E_IL_VERIFY_FALL_BLOCK: case ILG_E_IL_VERIFY_BRANCH_BLOCK: case ILG_E_IL_VERIFY_LEAVE:
    case ILG_E_IL_VERIFY_ENDFINALLY: case ILG_E_IL_VERIFY_RETHROW:
        return x->offset;
    case ILG_E_IL_VERIFY_PREFIX: /* a prefix is checked before its instruction's token */
        phase = 0;
        break;
    case ILG_E_IL_VERIFY_TOKEN_KIND: case ILG_E_IL_VERIFY_TOKEN_ROW: case ILG_E_IL_VERIFY_MEMBER:
    case ILG_E_IL_VERIFY_TYPE_PARAM:
        /* a member of a generic type definition fails as its owner loads, after the
         * operands are popped (observed: with a stack underflow the JIT says
         * InvalidProgram) */
        phase = x->rule == ILG_E_IL_VERIFY_MEMBER && strstr(x->message, "generic type definition") ? 3 : 1;
        break;
    default:
        break;
    }
    return (uint64_t)1 << 40 | (uint64_t)x->offset << 2 | phase;
}

static void set_outcome(ilg_findings *out)
{
    const ilg_finding *first = NULL;
    for (uint32_t k = 0; k < out->count; k++) {
        const ilg_finding *x = &out->items[k];
        if (x->severity == ILG_SEVERITY_ERROR && (!first || meet_order(x) < meet_order(first)))
            first = x;
    }
    out->outcome = first ? first->outcome : ILG_OUTCOME_NONE;
}

ilg_status ilg_body_verify(const ilg_body *b, const ilg_stack_resolver *r, ilg_findings *out)
{
    const ilg_verify_options o = { ILG_VERIFY_STRUCTURAL, r, NULL };
    return ilg_body_verify_opts(b, &o, out);
}

ilg_status ilg_body_verify_opts(const ilg_body *b, const ilg_verify_options *opts, ilg_findings *out)
{
    if (!b || !out || !opts)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "body, options and findings are required");
    const ilg_stack_resolver *r = opts->stack;
    out->count = 0;
    out->errors = 0;
    out->max_depth = 0;
    out->depth_complete = false;
    vctx v = { .b = b, .r = r, .out = out };
    /* depths and work list (2 * (count + 1) words), then the EH marks (count + 1 bytes),
     * then at level jit the folded branches (count + 1) and block starts (a bit each) */
    const size_t words = ((size_t)b->count + 1) * 2;
    const size_t nmarks = b->eh_count ? (size_t)b->count + 1 : 0;
    const bool jit = opts->level >= ILG_VERIFY_JIT;
    const size_t need = words * sizeof(int32_t) + nmarks +
                        (jit ? (size_t)b->count + 1 + ((size_t)b->count + 8) / 8 : 0);
    if (need > out->work_cap) {
        void *p = realloc(out->work, need);
        if (!p)
            return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory to verify %u instructions",
                             b->count);
        out->work = p;
        out->work_cap = need;
    }
    int32_t *depth = out->work;
    uint8_t *marks = NULL;
    if (b->eh_count) {
        marks = (uint8_t *)(depth + words);
        memset(marks, 0, (size_t)b->count + 1);
    }
    folder fo;
    if (jit) {
        v.fold = (uint8_t *)(depth + words) + nmarks;
        memset(v.fold, 0, (size_t)b->count + 1);
        fo = (folder){ b, r, opts->types, opts->types ? ilg__tc_get(out, opts->types) : NULL,
                       v.fold + b->count + 1, false };
        v.fo = &fo;
    }
    for (uint32_t c = 0; c < b->eh_count; c++) {
        const ilg_eh_clause *e = &b->eh[c];
        const uint32_t lim = b->count;
        if (e->try_start <= lim) marks[e->try_start] |= M_TRY_START;
        if (e->handler_start <= lim) marks[e->handler_start] |= M_HANDLER_START;
        if (e->try_end <= lim) marks[e->try_end] |= M_BLOCK_END;
        if (e->handler_end <= lim) marks[e->handler_end] |= M_BLOCK_END;
        if (e->kind == ILG_EH_FILTER && e->filter_start <= lim) {
            marks[e->filter_start] |= M_FILTER_START;
            if (e->handler_start <= lim) marks[e->handler_start] |= M_BLOCK_END;
        }
    }
    check_eh(&v);
    uint32_t maxd = 0;
    const uint32_t visited = stack_pass(&v, depth, (uint32_t *)depth + b->count + 1, marks, true, &maxd);
    /* code no path reaches still gets the structural rules */
    for (uint32_t i = 0; visited < b->count && i < b->count; i++)
        if (depth[i] == UNSET) {
            check_one(&v, i, marks);
            if (jit)
                v.fold[i] |= FOLD_UNREACHED, v.fold[b->count] |= FOLD_UNREACHED;
        }
    if (v.prefix_targets)
        check_prefix_targets(&v, depth);
    if (b->count == 0)
        report(&v, ILG_E_IL_VERIFY_FALL_OFF_END, 0, "empty code: control falls off the end at once");
    out->max_depth = maxd;
    out->depth_complete = !v.depth_lost;
    if (v.status != ILG_OK)
        return ilg__fail(v.status, ILG_WHERE_NONE, 0, "out of memory recording findings");
    if (jit)
        ilg__type_pass(b, opts, out, v.fold);
    set_outcome(out);
    return ILG_OK;
}

void ilg_findings_free(ilg_findings *f)
{
    if (!f)
        return;
    free(f->items);
    free(f->work);
    ilg__tc_free(f->cache);
    f->items = NULL;
    f->work = NULL;
    f->cache = NULL;
    f->count = f->cap = 0;
    f->work_cap = 0;
}
