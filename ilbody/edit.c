/* edit.c: the editing API. Every edit is one splice (delete del instructions at pos,
 * insert a snippet there) whose rules for existing branch targets and EH boundaries
 * are chosen explicitly by the caller's operation; see ilbody.h and docs/ilbody.md. */
#include "ilbody_private.h"

typedef struct splice {
    uint32_t pos, del, k;   /* k: instructions inserted */
    bool retarget;          /* del == 0: branches to pos go to the new code */
    bool start_joins;       /* del == 0: EH starts at pos stay (the new code joins) */
    bool end_grows;         /* del == 0: EH ends at pos move past the new code */
    bool strict_inside;     /* del > 0: a boundary strictly inside the range is an error */
} splice;

static bool is_target_kind(uint8_t k) { return k == ILG_OPND_BR1 || k == ILG_OPND_BR4; }

static uint32_t map_target(const splice *s, uint32_t t)
{
    if (t < s->pos)
        return t;
    if (s->del == 0)
        return (t == s->pos && s->retarget) ? t : t + s->k;
    if (t < s->pos + s->del)
        return s->pos;
    return t - s->del + s->k;
}

/* UINT32_MAX when the boundary lies strictly inside a range that must not contain one. */
static uint32_t map_start(const splice *s, uint32_t b)
{
    if (b < s->pos)
        return b;
    if (s->del == 0)
        return (b == s->pos && s->start_joins) ? b : b + s->k;
    if (b == s->pos)
        return b;
    if (b < s->pos + s->del)
        return s->strict_inside ? UINT32_MAX : s->pos;
    return b - s->del + s->k;
}

static uint32_t map_end(const splice *s, uint32_t e)
{
    if (e < s->pos)
        return e;
    if (s->del == 0)
        return (e == s->pos && !s->end_grows) ? e : e + s->k;
    if (e == s->pos)
        return e;
    if (e < s->pos + s->del)
        return s->strict_inside ? UINT32_MAX : s->pos;
    return e - s->del + s->k;
}

/* A snippet reference to body instruction j (index before the edit). */
static uint32_t map_body_ref(const splice *s, uint32_t j)
{
    if (j < s->pos)
        return j;
    if (j < s->pos + s->del)
        return UINT32_MAX;
    return j - s->del + s->k;
}

static ilg_status check_snippet(const ilg_body *b, const ilg_body *sn, const splice *s)
{
    for (uint32_t i = 0; i < sn->count; i++) {
        const ilg_instr *in = &sn->instrs[i];
        if ((unsigned)in->op >= ILG_OP_COUNT)
            return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "snippet instruction %u: opcode %u",
                             i, in->op);
        const uint8_t k = ilg__opcodes[in->op].operand;
        uint32_t n = 0;
        const uint32_t *ts = NULL;
        if (is_target_kind(k)) {
            n = 1;
            ts = &in->arg.target;
        } else if (k == ILG_OPND_SWITCH) {
            if ((uint64_t)in->arg.sw.first + in->arg.sw.count > sn->target_count)
                return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                                 "snippet switch %u: table [%u, +%u) outside %u targets", i,
                                 in->arg.sw.first, in->arg.sw.count, sn->target_count);
            n = in->arg.sw.count;
            ts = sn->targets + in->arg.sw.first;
        }
        for (uint32_t j = 0; j < n; j++) {
            uint32_t t = ts[j];
            bool ok = (t & ILG_TARGET_BODY) ? (t & ~ILG_TARGET_BODY) < b->count &&
                                                  map_body_ref(s, t & ~ILG_TARGET_BODY) != UINT32_MAX
                                            : t <= sn->count && (t < sn->count || s->pos + s->k < b->count - s->del + s->k);
            if (!ok)
                return ilg__fail(ILG_E_IL_BAD_EDIT, ILG_WHERE_NONE, 0,
                                 "snippet instruction %u (%s) targets %s%u, which does not exist",
                                 i, ilg__opcodes[in->op].name,
                                 (t & ILG_TARGET_BODY) ? "body instruction " : "snippet instruction ",
                                 t & ~ILG_TARGET_BODY);
        }
    }
    for (uint32_t c = 0; c < sn->eh_count; c++) {
        const ilg_eh_clause *e = &sn->eh[c];
        if (e->try_end > sn->count || e->handler_end > sn->count || e->try_start >= e->try_end ||
            e->handler_start >= e->handler_end ||
            (e->kind == ILG_EH_FILTER && e->filter_start >= e->handler_start))
            return ilg__fail(ILG_E_IL_BAD_EH, ILG_WHERE_NONE, 0,
                             "snippet EH clause %u has an empty or out-of-range block", c);
    }
    return ILG_OK;
}

static uint32_t snippet_target(const splice *s, uint32_t t)
{
    if (t & ILG_TARGET_BODY)
        return map_body_ref(s, t & ~ILG_TARGET_BODY);
    return s->pos + t;
}

/* Validates everything, then applies; on failure b is unchanged. */
static ilg_status do_splice(ilg_body *b, const splice *s, const ilg_body *sn)
{
    ilg_status st;
    const uint32_t end = s->pos + s->del;
    const uint32_t new_count = b->count - s->del + s->k;
    if (sn && (st = check_snippet(b, sn, s)))
        return st;
    /* Existing branches whose target is deleted and nothing follows. A pure insertion
     * (del == 0) maps every target t < count to t or t + k < new_count: nothing to check. */
    for (uint32_t i = 0; s->del && i < b->count; i++) {
        if (i >= s->pos && i < end)
            continue;
        const ilg_instr *in = &b->instrs[i];
        const uint8_t k = ilg__opcodes[in->op].operand;
        const uint32_t *ts = NULL;
        uint32_t n = 0;
        if (is_target_kind(k)) {
            ts = &in->arg.target;
            n = 1;
        } else if (k == ILG_OPND_SWITCH) {
            ts = b->targets + in->arg.sw.first;
            n = in->arg.sw.count;
        }
        for (uint32_t j = 0; j < n; j++)
            if (map_target(s, ts[j]) >= new_count)
                return ilg__fail(ILG_E_IL_BAD_EDIT, ILG_WHERE_IL, in->offset,
                                 "%s at IL_%04x would lose its target: the edit removes the last instructions",
                                 ilg__opcodes[in->op].name, in->offset);
    }
    for (uint32_t c = 0; c < b->eh_count; c++) {
        const ilg_eh_clause *e = &b->eh[c];
        uint32_t ts = map_start(s, e->try_start), te = map_end(s, e->try_end);
        uint32_t hs = map_start(s, e->handler_start), he = map_end(s, e->handler_end);
        uint32_t fs = e->kind == ILG_EH_FILTER ? map_start(s, e->filter_start) : 0;
        if (ts == UINT32_MAX || te == UINT32_MAX || hs == UINT32_MAX || he == UINT32_MAX ||
            fs == UINT32_MAX)
            return ilg__fail(ILG_E_IL_BAD_EDIT, ILG_WHERE_NONE, 0,
                             "EH clause %u has a boundary inside the replaced instructions [%u, %u)",
                             c, s->pos, end);
        if (ts >= te || hs >= he || (e->kind == ILG_EH_FILTER && fs >= hs))
            return ilg__fail(ILG_E_IL_BAD_EDIT, ILG_WHERE_NONE, 0,
                             "EH clause %u would be left with an empty block by removing [%u, %u)",
                             c, s->pos, end);
    }
    const uint32_t nst = sn ? sn->target_count : 0, neh = sn ? sn->eh_count : 0;
    if ((st = ilg__grow((void **)&b->instrs, &b->instrs_cap, (uint64_t)new_count + 1,
                        sizeof(ilg_instr))) ||
        (st = ilg__grow((void **)&b->targets, &b->targets_cap, (uint64_t)b->target_count + nst,
                        sizeof(uint32_t))) ||
        (st = ilg__grow((void **)&b->eh, &b->eh_cap, (uint64_t)b->eh_count + neh,
                        sizeof(ilg_eh_clause))))
        return st;

    /* Existing targets (switch tables of deleted switches are remapped harmlessly). */
    for (uint32_t i = 0; i < b->count; i++) {
        ilg_instr *in = &b->instrs[i];
        if (ilg__op_flags[in->op] & ILG__F_TARGET)
            in->arg.target = map_target(s, in->arg.target);
    }
    for (uint32_t j = 0; j < b->target_count; j++)
        b->targets[j] = map_target(s, b->targets[j]);
    for (uint32_t c = 0; c < b->eh_count; c++) {
        ilg_eh_clause *e = &b->eh[c];
        e->try_start = map_start(s, e->try_start);
        e->try_end = map_end(s, e->try_end);
        e->handler_start = map_start(s, e->handler_start);
        e->handler_end = map_end(s, e->handler_end);
        if (e->kind == ILG_EH_FILTER)
            e->filter_start = map_start(s, e->filter_start);
    }
    memmove(b->instrs + s->pos + s->k, b->instrs + end, (size_t)(b->count - end) * sizeof(ilg_instr));
    if (sn) {
        const uint32_t base = b->target_count;
        for (uint32_t i = 0; i < s->k; i++) {
            ilg_instr *in = &b->instrs[s->pos + i];
            *in = sn->instrs[i];
            const uint8_t k = ilg__opcodes[in->op].operand;
            if (is_target_kind(k))
                in->arg.target = snippet_target(s, in->arg.target);
            else if (k == ILG_OPND_SWITCH)
                in->arg.sw.first += base;
        }
        for (uint32_t j = 0; j < nst; j++)
            b->targets[base + j] = snippet_target(s, sn->targets[j]);
        b->target_count += nst;
        for (uint32_t c = 0; c < neh; c++) {
            ilg_eh_clause e = sn->eh[c];
            e.try_start += s->pos;
            e.try_end += s->pos;
            e.handler_start += s->pos;
            e.handler_end += s->pos;
            if (e.kind == ILG_EH_FILTER)
                e.filter_start += s->pos;
            b->eh[b->eh_count++] = e;
        }
    }
    b->count = new_count;
    return ILG_OK;
}

static ilg_status check_body(const ilg_body *b, const ilg_body *sn)
{
    if (!b || !sn)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "body and snippet are required");
    if (b == sn)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "a body cannot be inserted into itself");
    return ILG_OK;
}

static ilg_status insert_before(ilg_body *b, uint32_t index, const ilg_body *sn, unsigned flags)
{
    while (index > 0 && index <= b->count && ilg__is_prefix(b->instrs[index - 1].op))
        index--;
    const splice s = { .pos = index, .k = sn->count, .retarget = (flags & ILG_EDIT_RETARGET) != 0,
                       .start_joins = !(flags & ILG_EDIT_OUTSIDE) };
    return do_splice(b, &s, sn);
}

ilg_status ilg_body_insert_before(ilg_body *b, uint32_t index, const ilg_body *sn, unsigned flags)
{
    ilg_status st = check_body(b, sn);
    if (st)
        return st;
    if (index > b->count)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "instruction %u of %u", index, b->count);
    if ((st = insert_before(b, index, sn, flags)))
        return st;
    return ilg_body_layout(b);
}

ilg_status ilg_body_insert_after(ilg_body *b, uint32_t index, const ilg_body *sn, unsigned flags)
{
    ilg_status st = check_body(b, sn);
    if (st)
        return st;
    if (index >= b->count)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "instruction %u of %u", index, b->count);
    while (index + 1 < b->count && ilg__is_prefix(b->instrs[index].op))
        index++;
    const splice s = { .pos = index + 1, .k = sn->count,
                       .end_grows = !(flags & ILG_EDIT_OUTSIDE) };
    if ((st = do_splice(b, &s, sn)))
        return st;
    return ilg_body_layout(b);
}

ilg_status ilg_body_insert_entry(ilg_body *b, const ilg_body *sn)
{
    return ilg_body_insert_before(b, 0, sn, ILG_EDIT_OUTSIDE);
}

ilg_status ilg_body_insert_before_rets(ilg_body *b, const ilg_body *sn)
{
    ilg_status st = check_body(b, sn);
    if (st)
        return st;
    /* Back to front so the indices still to visit do not move. */
    for (uint32_t i = b->count; i-- > 0;)
        if (b->instrs[i].op == ILG_OP_RET && (st = insert_before(b, i, sn, ILG_EDIT_RETARGET)))
            return st;
    return ilg_body_layout(b);
}

static ilg_status check_unit_range(const ilg_body *b, uint32_t index, uint32_t count)
{
    if ((uint64_t)index + count > b->count || count == 0)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "range [%u, +%u) of %u instructions",
                         index, count, b->count);
    if (index > 0 && ilg__is_prefix(b->instrs[index - 1].op))
        return ilg__fail(ILG_E_IL_BAD_EDIT, ILG_WHERE_IL, b->instrs[index].offset,
                         "range starting at IL_%04x would separate it from its prefix %s",
                         b->instrs[index].offset, ilg__opcodes[b->instrs[index - 1].op].name);
    if (ilg__is_prefix(b->instrs[index + count - 1].op))
        return ilg__fail(ILG_E_IL_BAD_EDIT, ILG_WHERE_IL, b->instrs[index + count - 1].offset,
                         "range ending with the prefix %s at IL_%04x would separate it from its instruction",
                         ilg__opcodes[b->instrs[index + count - 1].op].name,
                         b->instrs[index + count - 1].offset);
    return ILG_OK;
}

ilg_status ilg_body_remove(ilg_body *b, uint32_t index, uint32_t count)
{
    if (!b)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "body is required");
    ilg_status st = check_unit_range(b, index, count);
    if (st)
        return st;
    const splice s = { .pos = index, .del = count };
    if ((st = do_splice(b, &s, NULL)))
        return st;
    return ilg_body_layout(b);
}

ilg_status ilg_body_replace(ilg_body *b, uint32_t index, uint32_t count, const ilg_body *sn)
{
    ilg_status st = check_body(b, sn);
    if (st || (st = check_unit_range(b, index, count)))
        return st;
    const splice s = { .pos = index, .del = count, .k = sn->count, .strict_inside = true };
    if ((st = do_splice(b, &s, sn)))
        return st;
    return ilg_body_layout(b);
}

ilg_status ilg_body_replace_all(ilg_body *b, const ilg_body *sn)
{
    ilg_status st = check_body(b, sn);
    if (st)
        return st;
    const splice s = { .pos = 0, .k = sn->count };
    ilg_body tmp = { 0 };
    if ((st = check_snippet(&tmp, sn, &s)))
        return st;
    for (uint32_t i = 0; i < sn->count; i++) {
        const ilg_instr *in = &sn->instrs[i];
        if (is_target_kind(ilg__opcodes[in->op].operand) && in->arg.target >= sn->count)
            return ilg__fail(ILG_E_IL_BAD_EDIT, ILG_WHERE_NONE, 0,
                             "snippet instruction %u targets past the end of the new body", i);
    }
    b->count = 0;
    b->target_count = 0;
    b->eh_count = 0;
    if ((st = do_splice(b, &s, sn)))
        return st;
    return ilg_body_layout(b);
}

static void local_op(ilg_instr *in, bool store, uint32_t local)
{
    memset(in, 0, sizeof *in);
    if (local < 4) {
        in->op = (uint16_t)((store ? ILG_OP_STLOC_0 : ILG_OP_LDLOC_0) + local);
    } else {
        in->op = (uint16_t)(local < 256 ? (store ? ILG_OP_STLOC_S : ILG_OP_LDLOC_S)
                                        : (store ? ILG_OP_STLOC : ILG_OP_LDLOC));
        in->arg.i = local;
    }
}

/* wrap's arguments: a finally or fault handler h whose branches stay inside it. */
static ilg_status check_wrap(const ilg_body *b, ilg_eh_kind kind, const ilg_body *h, uint32_t ret_local)
{
    ilg_status st = check_body(b, h);
    if (st)
        return st;
    if (kind != ILG_EH_FINALLY && kind != ILG_EH_FAULT)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                         "wrap needs a finally (2) or fault (4) handler, not kind %u", kind);
    if (ret_local != ILG_NO_LOCAL && ret_local > 0xFFFE)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "local %u out of range", ret_local);
    if (b->count == 0)
        return ilg__fail(ILG_E_IL_BAD_EDIT, ILG_WHERE_NONE, 0, "cannot wrap an empty body");
    for (uint32_t i = 0; i < h->count; i++) {
        const ilg_instr *in = &h->instrs[i];
        const uint8_t k = ilg__opcodes[in->op].operand;
        if ((is_target_kind(k) && in->arg.target >= h->count) ||
            (k == ILG_OPND_SWITCH && (uint64_t)in->arg.sw.first + in->arg.sw.count > h->target_count))
            return ilg__fail(ILG_E_IL_BAD_EDIT, ILG_WHERE_NONE, 0,
                             "handler instruction %u must target inside the handler", i);
    }
    for (uint32_t j = 0; j < h->target_count; j++)
        if (h->targets[j] >= h->count)
            return ilg__fail(ILG_E_IL_BAD_EDIT, ILG_WHERE_NONE, 0,
                             "handler switch case %u must target inside the handler", j);
    return ILG_OK;
}

/* b's branch and switch targets and EH boundaries through map (old index -> new). */
static void remap_targets(ilg_body *b, const uint32_t *map)
{
    for (uint32_t j = 0; j < b->target_count; j++)
        b->targets[j] = map[b->targets[j]];
    for (uint32_t c = 0; c < b->eh_count; c++) {
        ilg_eh_clause *e = &b->eh[c];
        e->try_start = map[e->try_start];
        e->try_end = map[e->try_end];
        e->handler_start = map[e->handler_start];
        e->handler_end = map[e->handler_end];
        if (e->kind == ILG_EH_FILTER)
            e->filter_start = map[e->filter_start];
    }
}

/* h's instructions at out[n...], its switch tables and clauses appended to b's, every
 * index moved by where it lands; returns the new n. b's targets and eh have room. */
static uint32_t append_handler(ilg_body *b, ilg_instr *out, uint32_t n, const ilg_body *h)
{
    const uint32_t hbase = n, tbase = b->target_count;
    for (uint32_t i = 0; i < h->count; i++) {
        ilg_instr *in = &out[n++];
        *in = h->instrs[i];
        const uint8_t k = ilg__opcodes[in->op].operand;
        if (is_target_kind(k))
            in->arg.target += hbase;
        else if (k == ILG_OPND_SWITCH)
            in->arg.sw.first += tbase;
    }
    for (uint32_t j = 0; j < h->target_count; j++)
        b->targets[b->target_count++] = h->targets[j] + hbase;
    for (uint32_t c = 0; c < h->eh_count; c++) {
        ilg_eh_clause e = h->eh[c];
        e.try_start += hbase; e.try_end += hbase;
        e.handler_start += hbase; e.handler_end += hbase;
        if (e.kind == ILG_EH_FILTER)
            e.filter_start += hbase;
        b->eh[b->eh_count++] = e;
    }
    return n;
}

ilg_status ilg_body_wrap(ilg_body *b, ilg_eh_kind kind, const ilg_body *h, uint32_t ret_local)
{
    ilg_status st = check_wrap(b, kind, h, ret_local);
    if (st)
        return st;
    const bool keep = ret_local != ILG_NO_LOCAL;
    uint32_t rets = 0;
    for (uint32_t i = 0; i < b->count; i++)
        rets += b->instrs[i].op == ILG_OP_RET;
    const uint64_t try_len = (uint64_t)b->count + (keep ? rets : 0);
    const uint64_t total = try_len + h->count + 1 + (keep ? 2 : 1);
    uint32_t *map = malloc(((size_t)b->count + 1) * sizeof *map);
    ilg_instr *out = NULL;
    if (!map || total > UINT32_MAX / 2)
        return free(map), ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "cannot wrap %u instructions", b->count);
    out = malloc((size_t)total * sizeof *out);
    if (!out || (st = ilg__grow((void **)&b->targets, &b->targets_cap,
                                (uint64_t)b->target_count + h->target_count, sizeof(uint32_t))) ||
        (st = ilg__grow((void **)&b->eh, &b->eh_cap, (uint64_t)b->eh_count + h->eh_count + 1,
                        sizeof(ilg_eh_clause)))) {
        st = st ? st : ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "cannot wrap %u instructions", b->count);
        goto done;
    }
    const uint32_t end_label = (uint32_t)(try_len + h->count + 1);
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->count; i++) {
        map[i] = n;
        if (b->instrs[i].op != ILG_OP_RET) {
            out[n++] = b->instrs[i];
            continue;
        }
        if (keep)
            local_op(&out[n++], true, ret_local);
        memset(&out[n], 0, sizeof out[n]);
        out[n].op = ILG_OP_LEAVE_S;
        out[n++].arg.target = UINT32_MAX; /* patched below: END */
    }
    map[b->count] = n;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t k = ilg__opcodes[out[i].op].operand;
        if (is_target_kind(k))
            out[i].arg.target = out[i].arg.target == UINT32_MAX ? end_label : map[out[i].arg.target];
    }
    remap_targets(b, map);
    n = append_handler(b, out, n, h);
    memset(&out[n], 0, sizeof out[n]);
    out[n++].op = ILG_OP_ENDFINALLY;
    if (keep)
        local_op(&out[n++], false, ret_local);
    memset(&out[n], 0, sizeof out[n]);
    out[n++].op = ILG_OP_RET;
    b->eh[b->eh_count++] = (ilg_eh_clause){ .kind = kind, .try_start = 0,
                                            .try_end = (uint32_t)try_len,
                                            .handler_start = (uint32_t)try_len,
                                            .handler_end = end_label };
    free(b->instrs);
    b->instrs = out;
    b->instrs_cap = (uint32_t)total;
    b->count = n;
    out = NULL;
    st = ilg_body_layout(b);
done:
    free(map);
    free(out);
    return st;
}
