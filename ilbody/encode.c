/* encode.c: ilg_body -> bytes. Lays out offsets, picks branch forms by iterating to a
 * fixed point, computes maxstack by data flow, chooses the header and EH section forms,
 * orders clauses inner before outer, and writes into a buffer sized from the exact
 * encoded size. Preserve mode repeats every form the body already has. */
#include "cil_body.h"
#include "ilbody_private.h"


ilg_status ilg_body_layout(ilg_body *b)
{
    if (!b)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "body is required");
    uint64_t off = 0;
    for (uint32_t i = 0; i < b->count; i++) {
        b->instrs[i].offset = (uint32_t)off;
        off += ilg__instr_size(b, &b->instrs[i]);
        if (off > UINT32_MAX)
            return ilg__fail(ILG_E_LIMIT, ILG_WHERE_NONE, 0, "code exceeds 4 GiB at instruction %u", i);
    }
    b->code_size = (uint32_t)off;
    return ILG_OK;
}

static uint32_t off_of(const ilg_body *b, uint32_t i)
{
    return i < b->count ? b->instrs[i].offset : b->code_size;
}

static ilg_status check_eh(const ilg_body *b)
{
    for (uint32_t c = 0; c < b->eh_count; c++) {
        const ilg_eh_clause *e = &b->eh[c];
        if (e->try_start >= e->try_end || e->try_end > b->count ||
            e->handler_start >= e->handler_end || e->handler_end > b->count ||
            (e->kind == ILG_EH_FILTER && e->filter_start >= e->handler_start))
            return ilg__fail(ILG_E_IL_BAD_EH, ILG_WHERE_NONE, 0,
                             "EH clause %u: try [%u, %u) handler [%u, %u) is empty or outside %u instructions",
                             c, e->try_start, e->try_end, e->handler_start, e->handler_end, b->count);
    }
    return ILG_OK;
}

typedef struct scan {
    bool calls, localloc;
} scan;

/* Branch forms. One pass checks every target, notes what the header choice needs, puts
 * every branch in its short form (optimize; preserve keeps the current forms) and lays
 * out; then every short branch that does not reach grows, until nothing changes. */
static ilg_status fit_branches(ilg_body *b, bool shrink, scan *sc)
{
    ilg_status st;
    uint32_t nshort = 0;
    /* indices of the short branches, so the growing rounds visit only them */
    uint32_t *shorts = NULL;
    uint64_t off = 0;
    unsigned seen = 0;
    for (uint32_t i = 0; i < b->count; i++) {
        ilg_instr *in = &b->instrs[i];
        const unsigned fl = ilg__op_flags[in->op];
        seen |= fl;
        if (!(fl & (ILG__F_TARGET | ILG__F_SWITCH))) {
            in->offset = (uint32_t)off;
            off += ilg__op_len[in->op];
            continue;
        }
        if (fl & ILG__F_TARGET) {
            if (in->arg.target >= b->count)
                return ilg__fail(ILG_E_IL_BAD_TARGET, ILG_WHERE_IL, in->offset,
                                 "%s (instruction %u) targets instruction %u of %u",
                                 ilg__opcodes[in->op].name, i, in->arg.target, b->count);
            if (shrink)
                in->op = ilg__branch_short(in->op);
            if (ilg__op_flags[in->op] & ILG__F_SHORT) {
                if (!shorts && !(shorts = ilg__scratch(b, b->count)))
                    return ILG_E_NOMEM;
                shorts[nshort++] = i;
            }
        } else {
            if ((uint64_t)in->arg.sw.first + in->arg.sw.count > b->target_count)
                return ilg__fail(ILG_E_IL_BAD_TARGET, ILG_WHERE_IL, in->offset,
                                 "switch (instruction %u) table [%u, +%u) outside %u targets", i,
                                 in->arg.sw.first, in->arg.sw.count, b->target_count);
            for (uint32_t j = 0; j < in->arg.sw.count; j++)
                if (b->targets[in->arg.sw.first + j] >= b->count)
                    return ilg__fail(ILG_E_IL_BAD_TARGET, ILG_WHERE_IL, in->offset,
                                     "switch (instruction %u) case %u targets instruction %u of %u",
                                     i, j, b->targets[in->arg.sw.first + j], b->count);
        }
        in->offset = (uint32_t)off;
        off += ilg__instr_size(b, in);
    }
    sc->calls = (seen & ILG__F_CALL) != 0;
    sc->localloc = (seen & ILG__F_LOCALLOC) != 0;
    if (off > UINT32_MAX)
        return ilg__fail(ILG_E_LIMIT, ILG_WHERE_NONE, 0, "code exceeds 4 GiB");
    b->code_size = (uint32_t)off;
    if ((st = check_eh(b)))
        return st;
    /* Grow every short branch that does not reach, lay out again, repeat. Sizes only
     * grow, so this ends; from all-short it ends at the smallest fixed point. */
    while (nshort) {
        uint32_t kept = 0;
        bool changed = false;
        for (uint32_t k = 0; k < nshort; k++) {
            ilg_instr *in = &b->instrs[shorts[k]];
            int64_t d = (int64_t)b->instrs[in->arg.target].offset - ((int64_t)in->offset + 2);
            if (d < -128 || d > 127) {
                in->op = ilg__branch_long(in->op);
                changed = true;
            } else {
                shorts[kept++] = shorts[k];
            }
        }
        if (!changed)
            break;
        nshort = kept;
        if ((st = ilg_body_layout(b)))
            return st;
    }
    return ILG_OK;
}

static bool clause_fits_small(const ilg_body *b, const ilg_eh_clause *e)
{
    uint32_t ts = off_of(b, e->try_start), te = off_of(b, e->try_end);
    uint32_t hs = off_of(b, e->handler_start), he = off_of(b, e->handler_end);
    return ts <= 0xFFFF && te - ts <= 0xFF && hs <= 0xFFFF && he - hs <= 0xFF;
}

/* Inner clauses before the clauses they are nested in. Preserve mode keeps a valid
 * order untouched, and any order of clauses that still sit in the EH sections they were
 * decoded from (the byte-for-byte promise; the verifier reports a wrong order as
 * E_IL_VERIFY_EH_ORDER; found by fuzz_body); otherwise a stable sort by nesting depth
 * (deepest first). */
static ilg_status order_clauses(ilg_body *b, bool preserve)
{
    const uint32_t n = b->eh_count;
    if (n < 2)
        return ILG_OK;
    if (preserve && b->section_count) {
        uint64_t decoded = 0;
        for (uint32_t s = 0; s < b->section_count; s++)
            decoded += b->sections[s].clauses;
        if (decoded == n)
            return ILG_OK;
    }
    bool valid = true;
    for (uint32_t a = 0; a < n && valid; a++)
        for (uint32_t c = a + 1; c < n && valid; c++)
            if (ilg__clause_nested_in(&b->eh[c], &b->eh[a]))
                valid = false;
    if (valid && preserve)
        return ILG_OK;
    uint32_t *depth = ilg__scratch(b, n);
    if (!depth)
        return ILG_E_NOMEM;
    for (uint32_t c = 0; c < n; c++) {
        depth[c] = 0;
        for (uint32_t a = 0; a < n; a++)
            depth[c] += ilg__clause_nested_in(&b->eh[c], &b->eh[a]);
    }
    for (uint32_t i = 1; i < n; i++) {
        ilg_eh_clause e = b->eh[i];
        uint32_t d = depth[i], j = i;
        for (; j > 0 && depth[j - 1] < d; j--) {
            b->eh[j] = b->eh[j - 1];
            depth[j] = depth[j - 1];
        }
        b->eh[j] = e;
        depth[j] = d;
    }
    return ILG_OK;
}

/* Decides the EH sections into b->sections. */
static ilg_status plan_sections(ilg_body *b, bool preserve)
{
    const uint32_t n = b->eh_count;
    ilg_status st;
    /* Preserve mode keeps decoded sections even when they hold no clause at all (a small
     * EH section of DataSize 4 is legal; found by fuzz_body); otherwise no clause, no
     * section. */
    if (n == 0 && !(preserve && b->section_count)) {
        b->section_count = 0;
        return ILG_OK;
    }
    uint64_t sum = 0;
    for (uint32_t s = 0; s < b->section_count; s++)
        sum += b->sections[s].clauses;
    if (!(preserve && b->section_count && sum == n)) {
        if ((st = ilg__grow((void **)&b->sections, &b->sections_cap, 1, sizeof(ilg_eh_section))))
            return st;
        b->sections[0] = (ilg_eh_section){ ILG_CIL_SECT_EHTABLE, 0, n, 0 };
        b->section_count = 1;
    }
    uint32_t first = 0;
    for (uint32_t s = 0; s < b->section_count; s++) {
        ilg_eh_section *sec = &b->sections[s];
        bool small = sec->clauses * ILG_CIL_SMALL_CLAUSE + ILG_CIL_SECT_HEADER <= ILG_CIL_SMALL_MAX_DATA &&
                     (!preserve || !(sec->kind & ILG_CIL_SECT_FAT));
        for (uint32_t c = first; small && c < first + sec->clauses; c++)
            small = clause_fits_small(b, &b->eh[c]);
        if ((uint64_t)sec->clauses * ILG_CIL_FAT_CLAUSE + ILG_CIL_SECT_HEADER > ILG_CIL_FAT_MAX_DATA)
            return ilg__fail(ILG_E_LIMIT, ILG_WHERE_NONE, 0, "%u EH clauses do not fit one section",
                             sec->clauses);
        sec->kind = (uint8_t)(ILG_CIL_SECT_EHTABLE | (small ? 0 : ILG_CIL_SECT_FAT) |
                              (s + 1 < b->section_count ? ILG_CIL_SECT_MORE : 0));
        sec->data_size = sec->clauses * (small ? ILG_CIL_SMALL_CLAUSE : ILG_CIL_FAT_CLAUSE) +
                         ILG_CIL_SECT_HEADER;
        if (!small || !preserve)
            sec->reserved = 0;
        first += sec->clauses;
    }
    return ILG_OK;
}


/* Writes one instruction. Plain operands are the low bytes of arg (little-endian), so
 * one 8-byte store writes them; the output buffer has 8 bytes of slack for it. */
static uint8_t *put_instr(const ilg_body *b, const ilg_instr *in, uint8_t *p)
{
    const uint32_t e = ilg__op_enc[in->op];
    memcpy(p, &e, 2);
    p += (e >> 16) & 0xF;
    const unsigned fl = ilg__op_flags[in->op];
    if (!(fl & (ILG__F_TARGET | ILG__F_SWITCH))) {
        memcpy(p, &in->arg, 8);
        return p + (e >> 20);
    }
    const uint32_t next = in->offset + ilg__instr_size(b, in);
    if (fl & ILG__F_TARGET) {
        const uint32_t d = (uint32_t)((int64_t)b->instrs[in->arg.target].offset - next);
        if (fl & ILG__F_SHORT) {
            *p++ = (uint8_t)d;
        } else {
            ilg__wr32(p, d);
            p += 4;
        }
        return p;
    }
    ilg__wr32(p, in->arg.sw.count);
    p += 4;
    for (uint32_t j = 0; j < in->arg.sw.count; j++, p += 4)
        ilg__wr32(p, (uint32_t)((int64_t)b->instrs[b->targets[in->arg.sw.first + j]].offset - next));
    return p;
}

/* The header's maxstack into *max_stack (b's on entry): preserve mode computes it only
 * with a resolver, and then only raises it; optimize whenever the data flow can be
 * complete (calls: the body calls something, so the flow needs a resolver). */
static ilg_status encode_max_stack(ilg_body *b, ilg_encode_mode mode, const ilg_stack_resolver *r,
                                   bool calls, uint32_t *max_stack)
{
    const bool preserve = mode == ILG_ENCODE_PRESERVE;
    ilg_status st;
    /* preserve: only with a resolver (then raise, never lower); optimize: whenever the
     * data flow can be complete */
    if (mode != ILG_ENCODE_OPTIMIZE_KEEP_MAXSTACK && (r || (!preserve && !calls))) {
        int32_t *depth = (int32_t *)ilg__scratch(b, ((uint64_t)b->count + 1) * 2);
        uint32_t m;
        if (!depth)
            return ILG_E_NOMEM;
        st = ilg__flow_max_stack(b, r, depth, &m);
        if (st == ILG_OK) {
            if (!preserve || m > *max_stack)
                *max_stack = m;
        } else if (!preserve) {
            return ilg__fail_context("cannot compute maxstack");
        }
        if (*max_stack > 0xFFFF)
            return ilg__fail(ILG_E_LIMIT, ILG_WHERE_NONE, 0, "maxstack %u exceeds 65535", *max_stack);
    }
    return ILG_OK;
}

/* The padding after the code and every EH section, from code_end (the code's end
 * offset in the body); returns the end of what was written. */
static uint8_t *put_sections(const ilg_body *b, uint8_t *p, uint64_t code_end, bool preserve)
{
    uint64_t at = code_end;
    const uint8_t *pad = preserve ? b->padding : (const uint8_t[3]){ 0, 0, 0 };
    for (uint32_t k = 0; at & 3; k++, at++)
        *p++ = pad[k];
    uint32_t c = 0;
    for (uint32_t s = 0; s < b->section_count; s++) {
        const ilg_eh_section *sec = &b->sections[s];
        while (at & 3) {
            *p++ = 0;
            at++;
        }
        const bool fat = (sec->kind & ILG_CIL_SECT_FAT) != 0;
        p = ilg__cil_put_section(p, sec->kind, sec->data_size, sec->reserved);
        for (uint32_t k = 0; k < sec->clauses; k++, c++) {
            const ilg_eh_clause *e = &b->eh[c];
            const uint32_t ts = off_of(b, e->try_start), hs = off_of(b, e->handler_start);
            const ilg_cil_clause cl = {
                .flags = e->kind, .try_offset = ts, .try_length = off_of(b, e->try_end) - ts,
                .handler_offset = hs, .handler_length = off_of(b, e->handler_end) - hs,
                .extra = e->kind == ILG_EH_FILTER ? off_of(b, e->filter_start) : e->class_token,
            };
            p = ilg__cil_put_clause(p, fat, &cl);
        }
        at += sec->data_size;
    }
    return p;
}

ilg_status ilg_body_encode(ilg_body *b, ilg_encode_mode mode, const ilg_stack_resolver *r,
                           ilg_buffer *out)
{
    if (!b || !out || (mode != ILG_ENCODE_PRESERVE && mode != ILG_ENCODE_OPTIMIZE &&
                       mode != ILG_ENCODE_OPTIMIZE_KEEP_MAXSTACK))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "body, mode and buffer are required");
    /* The decoder refuses any other locals token, so the encoder never writes one. */
    if (b->local_sig && (b->local_sig >> 24) != ILG_CIL_LOCALS_TABLE)
        return ilg__fail(ILG_E_IL_BAD_HEADER, ILG_WHERE_IL, 0,
                         "LocalVarSigTok 0x%08x is not a StandAloneSig token", b->local_sig);
    const bool preserve = mode == ILG_ENCODE_PRESERVE;
    ilg_status st;
    scan sc = { false, false };
    if ((st = fit_branches(b, !preserve, &sc)) || (st = order_clauses(b, preserve)) ||
        (st = plan_sections(b, preserve)))
        return st;

    uint32_t max_stack = b->max_stack;
    if ((st = encode_max_stack(b, mode, r, sc.calls, &max_stack)))
        return st;

    /* header */
    const bool tiny_ok = b->code_size <= ILG_CIL_TINY_MAX_CODE &&
                         max_stack <= ILG_CIL_TINY_MAX_STACK &&
                         b->local_sig == 0 &&
                         b->eh_count == 0 && b->section_count == 0 &&
                         !(b->init_locals && sc.localloc);
    const bool tiny = tiny_ok && (preserve ? b->header == ILG_HEADER_TINY : true);
    uint16_t fat_flags = preserve && b->header == ILG_HEADER_FAT ? b->fat_flags : ILG_CIL_FAT_DEFAULT_WORD;
    fat_flags = (uint16_t)((fat_flags & ~(ILG_CIL_FAT_MORE_SECTS | ILG_CIL_FAT_INIT_LOCALS)) |
                           (b->section_count ? ILG_CIL_FAT_MORE_SECTS : 0) |
                           (b->init_locals ? ILG_CIL_FAT_INIT_LOCALS : 0));
    if (!tiny && !preserve)
        fat_flags = (uint16_t)(ILG_CIL_FAT_DEFAULT_WORD |
                               (fat_flags & (ILG_CIL_FAT_MORE_SECTS | ILG_CIL_FAT_INIT_LOCALS)));

    const uint64_t hdr = tiny ? 1 : ILG_CIL_FAT_SIZE;
    uint64_t total = hdr + b->code_size;
    const uint64_t code_end = total;
    if (!tiny && b->section_count) {
        total = ilg__align_up(total, 4);
        for (uint32_t s = 0; s < b->section_count; s++) {
            if (s)
                total = ilg__align_up(total, 4);
            total += b->sections[s].data_size;
        }
    }
    if (total > UINT32_MAX)
        return ilg__fail(ILG_E_LIMIT, ILG_WHERE_NONE, 0, "encoded body of %llu bytes",
                         (unsigned long long)total);
    if (total + 8 > out->cap) { /* + 8: slack for put_instr's word stores */
        uint8_t *p = realloc(out->data, (size_t)total + 8);
        if (!p)
            return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for a %llu-byte body",
                             (unsigned long long)total);
        out->data = p;
        out->cap = (size_t)total + 8;
    }
    uint8_t *p = out->data;
    p = tiny ? ilg__cil_put_tiny(p, b->code_size)
             : ilg__cil_put_fat(p, fat_flags, (uint16_t)max_stack, b->code_size, b->local_sig);
    for (uint32_t i = 0; i < b->count; i++)
        p = put_instr(b, &b->instrs[i], p);
    if (!tiny && b->section_count)
        p = put_sections(b, p, code_end, preserve);
    out->len = (size_t)(p - out->data);
    b->header = tiny ? ILG_HEADER_TINY : ILG_HEADER_FAT;
    b->fat_flags = tiny ? 0 : fat_flags;
    b->max_stack = (uint16_t)(tiny ? ILG_CIL_TINY_MAX_STACK : max_stack);
    b->size = (uint32_t)out->len;
    if (!preserve)
        memset(b->padding, 0, sizeof b->padding);
    return ILG_OK;
}
