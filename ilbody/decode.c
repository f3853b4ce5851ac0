/* decode.c: bytes -> ilg_body. Reads the tiny or fat header, every instruction with its
 * operand, binds branch and switch targets to instruction indices, and reads the EH
 * sections (small and fat) with every boundary bound to an instruction. Stops at the
 * first structural error, naming the value and its IL offset. */
#include "cil_body.h"
#include "ilbody_private.h"

typedef unsigned long long ull;

/* Index of the instruction starting at offset off, or UINT32_MAX. off == code size maps
 * to count (an exclusive end). */
static uint32_t index_at(const ilg_body *b, uint64_t off)
{
    if (off == b->code_size)
        return b->count;
    uint32_t lo = 0, hi = b->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t o = b->instrs[mid].offset;
        if (o == off)
            return mid;
        if (o < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return UINT32_MAX;
}

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "decode_code loads operands as little-endian words"
#endif

static const uint64_t operand_mask[9] = { 0, 0xFF, 0xFFFF, 0, 0xFFFFFFFFu, 0, 0, 0, ~(uint64_t)0 };

/* A branch's target or a switch's table, at *pos past the opcode and its first operand
 * (raw); stored as code offsets until bind_targets. */
static ilg_status decode_jump(ilg_body *b, const uint8_t *c, uint32_t n, ilg_instr *in, uint8_t fl,
                              uint64_t raw, uint32_t start, uint32_t *pos)
{
    ilg_status st;
    const uint16_t op = in->op;
    if (fl & ILG__F_TARGET) {
        int64_t t = (int64_t)*pos + ((fl & ILG__F_SHORT) ? (int8_t)raw : (int32_t)(uint32_t)raw);
        if (t < 0 || t >= n)
            return ilg__fail(ILG_E_IL_BAD_TARGET, ILG_WHERE_IL, start,
                             "%s at IL_%04x targets offset %lld outside the code (size %u)",
                             ilg__opcodes[op].name, start, (long long)t, n);
        in->arg.i = 0;
        in->arg.target = (uint32_t)t; /* an offset until bound below */
    } else {
        const uint32_t cnt = (uint32_t)raw;
        if ((uint64_t)cnt * 4 > n - *pos)
            return ilg__fail(ILG_E_IL_OPERAND_TRUNCATED, ILG_WHERE_IL, start,
                             "switch at IL_%04x has %u cases, needing %llu bytes; %u left",
                             start, cnt, (ull)cnt * 4, n - *pos);
        if ((st = ilg__grow((void **)&b->targets, &b->targets_cap,
                            (uint64_t)b->target_count + cnt, sizeof(uint32_t))))
            return st;
        const uint32_t end = *pos + cnt * 4;
        in->arg.sw.first = b->target_count;
        in->arg.sw.count = cnt;
        for (uint32_t k = 0; k < cnt; k++) {
            int64_t t = (int64_t)end + (int32_t)ilg__rd32(c + *pos + 4 * k);
            if (t < 0 || t >= n)
                return ilg__fail(ILG_E_IL_BAD_TARGET, ILG_WHERE_IL, start,
                                 "switch at IL_%04x case %u targets offset %lld outside the code (size %u)",
                                 start, k, (long long)t, n);
            b->targets[b->target_count++] = (uint32_t)t;
        }
        *pos = end;
    }
    return ILG_OK;
}

/* Offsets to instruction indices for every branch and switch (branches[]: their indices;
 * at[]: the instruction starting at each code offset, UINT32_MAX inside one). */
static ilg_status bind_targets(ilg_body *b, const uint32_t *branches, uint32_t nbranch, const uint32_t *at)
{
    for (uint32_t k = 0; k < nbranch; k++) {
        ilg_instr *in = &b->instrs[branches[k]];
        if (ilg__op_flags[in->op] & ILG__F_TARGET) {
            uint32_t t = at[in->arg.target]; /* < n: checked when decoded */
            if (t == UINT32_MAX)
                return ilg__fail(ILG_E_IL_BAD_TARGET, ILG_WHERE_IL, in->offset,
                                 "%s at IL_%04x targets offset 0x%x inside an instruction",
                                 ilg__opcodes[in->op].name, in->offset, in->arg.target);
            in->arg.target = t;
        } else {
            for (uint32_t j = 0; j < in->arg.sw.count; j++) {
                uint32_t *tp = &b->targets[in->arg.sw.first + j];
                uint32_t t = at[*tp];
                if (t == UINT32_MAX)
                    return ilg__fail(ILG_E_IL_BAD_TARGET, ILG_WHERE_IL, in->offset,
                                     "switch at IL_%04x case %u targets offset 0x%x inside an instruction",
                                     in->offset, j, *tp);
                *tp = t;
            }
        }
    }
    return ILG_OK;
}

static ilg_status decode_code(ilg_body *b, const uint8_t *c, uint32_t n)
{
    ilg_status st;
    uint32_t pos = 0;
    /* Most instructions take 1-3 bytes; this usually avoids regrowing. */
    if ((st = ilg__grow((void **)&b->instrs, &b->instrs_cap, n / 2 + 8, sizeof(ilg_instr))))
        return st;
    /* scratch: the indices of the branches and switches (bound after the loop), then
     * offset -> instruction index for every code byte (UINT32_MAX inside an instruction) */
    uint32_t *branches = ilg__scratch(b, (uint64_t)n / 2 + 1 + n);
    if (!branches)
        return ILG_E_NOMEM;
    uint32_t *at = branches + n / 2 + 1;
    memset(at, 0xFF, (size_t)n * sizeof *at);
    uint32_t nbranch = 0;
    ilg_instr *instrs = b->instrs;
    uint32_t count = 0;
    while (pos < n) {
        const uint32_t start = pos;
        unsigned idx = c[pos++];
        if (idx == 0xFE) {
            if (pos >= n)
                return ilg__fail(ILG_E_IL_TRUNCATED, ILG_WHERE_IL, start,
                                 "two-byte opcode 0xFE at IL_%04x has no second byte", start);
            idx = 0x100 + c[pos++];
        }
        const uint32_t e = ilg__dec[idx];
        if (!e)
            return ilg__fail(ILG_E_IL_UNKNOWN_OPCODE, ILG_WHERE_IL, start,
                             "unknown opcode 0x%s%02x at IL_%04x", idx > 0xFF ? "fe" : "",
                             idx & 0xFF, start);
        const uint16_t op = (uint16_t)((e & 0xFF) - 1);
        const uint32_t osz = (e >> 8) & 0xFF;
        const uint8_t fl = (uint8_t)(e >> 16);
        if (osz > n - pos)
            return ilg__fail(ILG_E_IL_OPERAND_TRUNCATED, ILG_WHERE_IL, start,
                             "%s at IL_%04x needs %u operand bytes, %u left", ilg__opcodes[op].name,
                             start, osz, n - pos);
        if (count == b->instrs_cap) {
            b->count = count;
            if ((st = ilg__grow((void **)&b->instrs, &b->instrs_cap, (uint64_t)count + 1,
                                sizeof(ilg_instr))))
                return st;
            instrs = b->instrs;
        }
        at[start] = count;
        ilg_instr *in = &instrs[count++];
        in->offset = start;
        in->op = op;
        in->reserved = 0;
        /* Every operand but branches and switch is its little-endian bytes: one load. */
        uint64_t raw = 0;
        if (n - pos >= 8)
            memcpy(&raw, c + pos, 8);
        else
            memcpy(&raw, c + pos, osz);
        raw &= operand_mask[osz];
        if (fl & ILG__F_SIGNED) {
            const unsigned shift = 64 - 8 * osz;
            raw = (uint64_t)((int64_t)(raw << shift) >> shift);
        }
        in->arg.i = (int64_t)raw;
        pos += osz;
        if (!(fl & (ILG__F_TARGET | ILG__F_SWITCH)))
            continue;
        b->count = count;
        branches[nbranch++] = count - 1;
        if ((st = decode_jump(b, c, n, in, fl, raw, start, &pos)))
            return st;
    }
    b->count = count;
    return bind_targets(b, branches, nbranch, at);
}

static const char *const kind_names[] = { "catch", "filter", "finally", "?", "fault" };

/* Binds one EH boundary; a start must be an instruction start, an end may also be the
 * code size. */
static ilg_status bind_eh(ilg_body *b, uint32_t clause, const char *what, uint64_t off,
                          bool is_end, uint32_t *out)
{
    if (off > b->code_size || (!is_end && off == b->code_size))
        return ilg__fail(ILG_E_IL_BAD_EH, ILG_WHERE_IL, off,
                         "EH clause %u: %s 0x%llx lies outside the code (size 0x%x)", clause, what,
                         (ull)off, b->code_size);
    uint32_t i = index_at(b, off);
    if (i == UINT32_MAX)
        return ilg__fail(ILG_E_IL_BAD_EH, ILG_WHERE_IL, off,
                         "EH clause %u: %s 0x%llx is inside an instruction", clause, what, (ull)off);
    *out = i;
    return ILG_OK;
}

/* rel: the section's offset from the code's start; len: the body's size. */
static ilg_status section_error(ilg_cil_issue issue, const ilg_cil_section *s, uint64_t rel, size_t len)
{
    switch (issue) {
    case ILG_CIL_BAD_KIND:
        return ilg__fail(ILG_E_IL_BAD_SECTION, ILG_WHERE_IL, rel,
                         "data section kind 0x%02x at code+0x%llx is not an EH table", s->kind,
                         (ull)rel);
    case ILG_CIL_BAD_DATA_SIZE:
        return ilg__fail(ILG_E_IL_BAD_SECTION, ILG_WHERE_IL, rel,
                         "%s EH section DataSize %u at code+0x%llx is not %u*n+4",
                         s->fat ? "fat" : "small", s->data_size, (ull)rel, s->clause_size);
    case ILG_CIL_SECT_TRUNCATED:
        return ilg__fail(ILG_E_IL_TRUNCATED, ILG_WHERE_IL, rel,
                         "EH section of %u bytes at code+0x%llx runs past the body (0x%zx bytes)",
                         s->data_size, (ull)rel, len);
    default:
        return ilg__fail(ILG_E_IL_TRUNCATED, ILG_WHERE_IL, rel,
                         "data section header at code+0x%llx runs past the body (0x%zx bytes)",
                         (ull)rel, len);
    }
}

static ilg_status decode_sections(ilg_body *b, const uint8_t *data, size_t len, uint64_t code_end)
{
    ilg_status st;
    uint64_t off = ilg__align_up(code_end, 4);
    const uint64_t code_start = ILG_CIL_FAT_SIZE;
    if (off > len)
        return ilg__fail(ILG_E_IL_TRUNCATED, ILG_WHERE_IL, code_end - code_start,
                         "MoreSects is set but the body ends with the code");
    memcpy(b->padding, data + code_end, off - code_end);
    for (;;) {
        const uint64_t rel = off - code_start;
        ilg_cil_section sec;
        ilg_cil_issue issue = ilg__cil_section(data, len, off, &sec);
        if (issue != ILG_CIL_OK)
            return section_error(issue, &sec, rel, len);
        const uint8_t kind = sec.kind;
        const uint32_t ds = sec.data_size;
        const uint32_t n = sec.clauses;
        if ((st = ilg__grow((void **)&b->eh, &b->eh_cap, (uint64_t)b->eh_count + n,
                            sizeof(ilg_eh_clause))) ||
            (st = ilg__grow((void **)&b->sections, &b->sections_cap,
                            (uint64_t)b->section_count + 1, sizeof(ilg_eh_section))))
            return st;
        b->sections[b->section_count++] = (ilg_eh_section){ kind, ds, n, sec.reserved };
        for (uint32_t k = 0; k < n; k++) {
            const ilg_cil_clause cl = ilg__cil_clause(data + off, &sec, k);
            const uint32_t flags = cl.flags, ts = cl.try_offset, tl = cl.try_length;
            const uint32_t hs = cl.handler_offset, hl = cl.handler_length, extra = cl.extra;
            const uint32_t ci = b->eh_count;
            if (flags != ILG_EH_CATCH && flags != ILG_EH_FILTER && flags != ILG_EH_FINALLY &&
                flags != ILG_EH_FAULT)
                return ilg__fail(ILG_E_IL_BAD_EH, ILG_WHERE_IL, ts,
                                 "EH clause %u: flags 0x%x are not catch, filter, finally or fault",
                                 ci, flags);
            ilg_eh_clause c = { .kind = flags };
            if ((st = bind_eh(b, ci, "try start", ts, false, &c.try_start)) ||
                (st = bind_eh(b, ci, "try end", (uint64_t)ts + tl, true, &c.try_end)) ||
                (st = bind_eh(b, ci, "handler start", hs, false, &c.handler_start)) ||
                (st = bind_eh(b, ci, "handler end", (uint64_t)hs + hl, true, &c.handler_end)))
                return st;
            if (flags == ILG_EH_FILTER) {
                if ((st = bind_eh(b, ci, "filter start", extra, false, &c.filter_start)))
                    return st;
                if (c.filter_start >= c.handler_start)
                    return ilg__fail(ILG_E_IL_BAD_EH, ILG_WHERE_IL, extra,
                                     "EH clause %u: filter at 0x%x does not precede its handler at 0x%x",
                                     ci, extra, hs);
            } else {
                c.class_token = extra;
            }
            if (c.try_start >= c.try_end || c.handler_start >= c.handler_end)
                return ilg__fail(ILG_E_IL_BAD_EH, ILG_WHERE_IL, tl ? hs : ts,
                                 "EH clause %u (%s): empty %s block at 0x%x", ci,
                                 kind_names[flags], tl ? "handler" : "try", tl ? hs : ts);
            b->eh[b->eh_count++] = c;
        }
        off += ds;
        if (!sec.more)
            break;
        off = ilg__align_up(off, 4);
    }
    b->size = (uint32_t)off;
    return ILG_OK;
}

static ilg_status header_error(ilg_cil_issue issue, const uint8_t *data, const ilg_cil_header *h,
                               size_t len)
{
    switch (issue) {
    case ILG_CIL_TRUNCATED:
        return ilg__fail(ILG_E_IL_TRUNCATED, ILG_WHERE_IL, 0,
                         "fat header needs 12 bytes, the body has %zu", len);
    case ILG_CIL_BAD_FAT_SIZE:
        return ilg__fail(ILG_E_IL_BAD_HEADER, ILG_WHERE_IL, 0,
                         "fat header size is %u dwords, must be 3", data[1] >> 4);
    case ILG_CIL_BAD_LOCALS:
        return ilg__fail(ILG_E_IL_BAD_HEADER, ILG_WHERE_IL, 0,
                         "LocalVarSigTok 0x%08x is not a StandAloneSig token", h->local_sig);
    case ILG_CIL_CODE_TRUNCATED:
        return ilg__fail(ILG_E_IL_TRUNCATED, ILG_WHERE_IL, 0,
                         "code size 0x%x runs past the body (0x%zx bytes after the header)",
                         h->code_size, len - h->size);
    default:
        return ilg__fail(ILG_E_IL_BAD_HEADER, ILG_WHERE_IL, 0,
                         "header byte 0x%02x is neither tiny (..10) nor fat (..11)", data[0]);
    }
}

ilg_status ilg_body_decode(ilg_body *b, const uint8_t *data, size_t len)
{
    if (!b || (!data && len))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "body and data are required");
    ilg_body_reset(b);
    if (len < 1)
        return ilg__fail(ILG_E_IL_TRUNCATED, ILG_WHERE_IL, 0, "empty method body");
    ilg_cil_header h;
    ilg_cil_issue issue = ilg__cil_header(data, len, &h);
    if (issue != ILG_CIL_OK)
        return header_error(issue, data, &h, len);
    const uint32_t hdr = h.size;
    b->header = h.fat ? ILG_HEADER_FAT : ILG_HEADER_TINY;
    b->fat_flags = h.word;
    b->max_stack = h.max_stack;
    b->code_size = h.code_size;
    b->local_sig = h.local_sig;
    b->init_locals = ilg__cil_init_locals(&h);
    ilg_status st = decode_code(b, data + hdr, b->code_size);
    if (st)
        goto fail;
    b->size = hdr + b->code_size;
    if (ilg__cil_more_sects(&h)) {
        if ((st = decode_sections(b, data, len, (uint64_t)hdr + b->code_size)))
            goto fail;
    }
    return ILG_OK;
fail:
    ilg_body_reset(b);
    return st;
}
