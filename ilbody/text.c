/* text.c: ilasm-syntax text for method bodies. The disassembler prints .maxstack,
 * .locals, IL_xxxx labels, instructions and the EH clauses in ilasm's label form
 * (.try L to L catch T handler L to L); the assembler reads the same syntax back, with
 * labels of any name and tokens by number or, through a resolver, by name, and also
 * ilasm's block form (.try { } catch T { }, as IL sources and monodis write it). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "cil_body.h"
#include "ilbody_private.h"

/* ---- output --------------------------------------------------------------------------- */

static ilg_status put(ilg_buffer *o, const char *fmt, ...) ILG_PRINTF(2, 3);

static ilg_status put(ilg_buffer *o, const char *fmt, ...)
{
    for (;;) {
        size_t room = o->cap > o->len ? o->cap - o->len : 0;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(room ? (char *)o->data + o->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "cannot format text");
        if ((size_t)n < room) {
            o->len += (size_t)n;
            return ILG_OK;
        }
        ilg_status st = ilg__grow_size((void **)&o->data, &o->cap, o->len + (size_t)n + 1, 1);
        if (st != ILG_OK)
            return st;
    }
}

static uint32_t off_of(const ilg_body *b, uint32_t i)
{
    return i < b->count ? b->instrs[i].offset : b->code_size;
}

static ilg_status put_token(ilg_buffer *o, const ilg_name_resolver *names, uint32_t token)
{
    char name[1024];
    if (names && names->token_name && names->token_name(names->ctx, token, name, sizeof name))
        return put(o, "%s", name);
    return put(o, "0x%08x", token);
}

static ilg_status put_real(ilg_buffer *o, const ilg_instr *in)
{
    uint8_t bytes[8];
    int n;
    char txt[40];
    bool exact;
    if (in->op == ILG_OP_LDC_R4) {
        n = 4;
        memcpy(bytes, &in->arg.r4, 4);
        snprintf(txt, sizeof txt, "%.9g", (double)in->arg.r4);
        float back = strtof(txt, NULL);
        exact = isfinite(in->arg.r4) && memcmp(&back, &in->arg.r4, 4) == 0;
    } else {
        n = 8;
        memcpy(bytes, &in->arg.r8, 8);
        snprintf(txt, sizeof txt, "%.17g", in->arg.r8);
        double back = strtod(txt, NULL);
        exact = isfinite(in->arg.r8) && memcmp(&back, &in->arg.r8, 8) == 0;
    }
    if (exact) {
        /* keep a decimal point or exponent so the text reads as a real */
        return put(o, "%s%s", txt, strpbrk(txt, ".eEn") ? "" : ".0");
    }
    ilg_status st = put(o, "(");
    for (int k = 0; k < n && st == ILG_OK; k++)
        st = put(o, k ? " %02x" : "%02x", bytes[k]);
    return st ? st : put(o, ")");
}

ilg_status ilg_body_disassemble(const ilg_body *b, const ilg_name_resolver *names, ilg_buffer *out)
{
    if (!b || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "body and buffer are required");
    ilg_status st;
    /* EH ends at the code size need a label after the last instruction. */
    bool end_label = false;
    for (uint32_t c = 0; c < b->eh_count; c++)
        end_label |= b->eh[c].try_end >= b->count || b->eh[c].handler_end >= b->count;
    if ((st = put(out, ".maxstack %u\n", b->max_stack)))
        return st;
    if ((b->local_sig || b->init_locals) &&
        (st = put(out, ".locals %s0x%08x\n", b->init_locals ? "init " : "", b->local_sig)))
        return st;
    for (uint32_t i = 0; i < b->count; i++) {
        const ilg_instr *in = &b->instrs[i];
        const ilg_opcode_info *oi = &ilg__opcodes[in->op];
        if ((st = put(out, "IL_%04x: %s", in->offset, oi->name)))
            return st;
        switch (oi->operand) {
        case ILG_OPND_NONE: break;
        case ILG_OPND_I1: case ILG_OPND_I4: case ILG_OPND_I8:
        case ILG_OPND_U1: case ILG_OPND_VAR1: case ILG_OPND_VAR2:
            st = put(out, " %lld", (long long)in->arg.i);
            break;
        case ILG_OPND_R4: case ILG_OPND_R8:
            if (!(st = put(out, " ")))
                st = put_real(out, in);
            break;
        case ILG_OPND_BR1: case ILG_OPND_BR4:
            st = put(out, " IL_%04x", off_of(b, in->arg.target));
            break;
        case ILG_OPND_SWITCH:
            st = put(out, " (");
            for (uint32_t j = 0; j < in->arg.sw.count && !st; j++)
                st = put(out, j ? ", IL_%04x" : "IL_%04x", off_of(b, b->targets[in->arg.sw.first + j]));
            if (!st)
                st = put(out, ")");
            break;
        default:
            if (!(st = put(out, " ")))
                st = put_token(out, names, in->arg.token);
            break;
        }
        if (st || (st = put(out, "\n")))
            return st;
    }
    if (end_label && (st = put(out, "IL_%04x:\n", b->code_size)))
        return st;
    static const char *const kinds[] = { "catch", "filter", "finally", "", "fault" };
    for (uint32_t c = 0; c < b->eh_count; c++) {
        const ilg_eh_clause *e = &b->eh[c];
        if ((st = put(out, ".try IL_%04x to IL_%04x %s", off_of(b, e->try_start),
                      off_of(b, e->try_end), kinds[e->kind])))
            return st;
        if (e->kind == ILG_EH_CATCH) {
            if ((st = put(out, " ")) || (st = put_token(out, names, e->class_token)))
                return st;
        } else if (e->kind == ILG_EH_FILTER) {
            if ((st = put(out, " IL_%04x", off_of(b, e->filter_start))))
                return st;
        }
        if ((st = put(out, " handler IL_%04x to IL_%04x\n", off_of(b, e->handler_start),
                      off_of(b, e->handler_end))))
            return st;
    }
    if (out->len == out->cap && (st = put(out, "%s", "")))
        return st;
    if (!out->data && (st = put(out, "%s", "")))
        return st;
    out->data[out->len] = '\0';
    return ILG_OK;
}

/* ---- input ---------------------------------------------------------------------------- */

typedef struct label {
    const char *name;
    uint32_t len;
    uint32_t index;   /* instruction index the label stands before */
    size_t at;        /* text offset, for duplicate messages */
} label;

typedef struct fixup {
    const char *name;
    uint32_t len;
    uint32_t *slot;   /* resolved after parsing: index into instrs/targets/eh (by offset below) */
    uint8_t where;    /* 0 instr target, 1 switch table, 2 eh field */
    uint32_t idx, field;
    size_t at;
} fixup;

/* The block form: what a '{' opens. */
enum { OPEN_NONE, OPEN_TRY, OPEN_HANDLER, OPEN_FILTER, OPEN_FILTER_HANDLER };

typedef struct block {
    uint8_t type;      /* OPEN_* */
    uint32_t start;    /* instruction index of its first instruction */
    ilg_eh_clause c;   /* the clause it belongs to, as far as known when it opened */
    size_t at;         /* text offset of its '{' */
} block;

typedef struct parser {
    const char *text, *end, *p;
    uint32_t line;
    const ilg_name_resolver *names;
    ilg_body *b;
    label *labels;
    uint32_t nlabels, labels_cap;
    fixup *fix;
    uint32_t nfix, fix_cap;
    /* Block form: the open blocks, innermost last; what the next '{' opens and the
     * clause it builds; the try block just closed, which handlers may follow (more than
     * one catch for the same try). A clause is added when its handler closes, so inner
     * clauses come before outer ones, as ECMA-335 wants them. */
    block *blocks;
    uint32_t nblocks, blocks_cap;
    uint8_t expect;
    ilg_eh_clause next;
    bool after_try, handled; /* a try block just closed; a handler of it has closed */
    ilg_eh_clause tried;
    size_t tried_at;         /* text offset of that try block's '}' */
} parser;

static ilg_status perr(parser *ps, ilg_status st, const char *at, const char *fmt, ...)
    ILG_PRINTF(4, 5);

static ilg_status perr(parser *ps, ilg_status st, const char *at, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ilg__fail(st, ILG_WHERE_FILE, (uint64_t)(at - ps->text), "line %u: %s", ps->line, msg);
}

/* Skips blanks and comments on the current line. */
static void skip_ws(parser *ps)
{
    for (;;) {
        while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r'))
            ps->p++;
        if (ps->p + 1 < ps->end && ps->p[0] == '/' && ps->p[1] == '/') {
            while (ps->p < ps->end && *ps->p != '\n')
                ps->p++;
            continue;
        }
        if (ps->p + 1 < ps->end && ps->p[0] == '/' && ps->p[1] == '*') {
            const char *q = ps->p + 2;
            while (q + 1 < ps->end && !(q[0] == '*' && q[1] == '/') && *q != '\n')
                q++;
            if (q + 1 < ps->end && q[0] == '*')
                ps->p = q + 2;
            else
                return;
            continue;
        }
        return;
    }
}

static bool at_eol(parser *ps)
{
    skip_ws(ps);
    return ps->p >= ps->end || *ps->p == '\n';
}

static bool word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '$' || c == '@' || c == '?' ||
           c == '`';
}

static const char *word(parser *ps, uint32_t *len)
{
    skip_ws(ps);
    const char *s = ps->p;
    while (ps->p < ps->end && word_char(*ps->p))
        ps->p++;
    *len = (uint32_t)(ps->p - s);
    return s;
}

static bool keyword(parser *ps, const char *kw)
{
    skip_ws(ps);
    size_t n = strlen(kw);
    if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, kw, n) == 0 &&
        (ps->p + n == ps->end || !word_char(ps->p[n]))) {
        ps->p += n;
        return true;
    }
    return false;
}

static ilg_status integer(parser *ps, int64_t lo, int64_t hi, int64_t *out)
{
    skip_ws(ps);
    const char *s = ps->p;
    char buf[72];
    size_t n = 0;
    while (s + n < ps->end && n < sizeof buf - 1 && (isalnum((unsigned char)s[n]) || s[n] == '-' || s[n] == '+'))
        n++;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *e;
    errno = 0;
    long long v;
    if (n > 2 && (buf[0] == '0') && (buf[1] == 'x' || buf[1] == 'X')) {
        unsigned long long u = strtoull(buf, &e, 16);
        v = (long long)u; /* hex denotes the bit pattern */
        if (hi <= INT32_MAX && u <= 0xFFFFFFFFull && lo < 0)
            v = (int32_t)(uint32_t)u;
    } else {
        v = strtoll(buf, &e, 10);
    }
    if (n == 0 || *e || errno)
        return perr(ps, ILG_E_IL_SYNTAX, s, "expected an integer, found '%.*s'", (int)(n ? n : 1), s);
    if (v < lo || v > hi)
        return perr(ps, ILG_E_IL_SYNTAX, s, "%lld is outside [%lld, %lld]", v, (long long)lo,
                    (long long)hi);
    ps->p = s + n;
    *out = v;
    return ILG_OK;
}

static ilg_status real(parser *ps, bool is_r4, ilg_instr *in)
{
    skip_ws(ps);
    const char *s = ps->p;
    if (s < ps->end && *s == '(') {
        uint8_t bytes[8];
        int n = is_r4 ? 4 : 8;
        ps->p++;
        for (int k = 0; k < n; k++) {
            skip_ws(ps);
            if (ps->end - ps->p < 2 || !isxdigit((unsigned char)ps->p[0]) || !isxdigit((unsigned char)ps->p[1]))
                return perr(ps, ILG_E_IL_SYNTAX, ps->p, "expected %d hex bytes in ( )", n);
            char hx[3] = { ps->p[0], ps->p[1], 0 };
            bytes[k] = (uint8_t)strtoul(hx, NULL, 16);
            ps->p += 2;
        }
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ')')
            return perr(ps, ILG_E_IL_SYNTAX, ps->p, "expected ')' after %d bytes", n);
        ps->p++;
        if (is_r4)
            memcpy(&in->arg.r4, bytes, 4);
        else
            memcpy(&in->arg.r8, bytes, 8);
        return ILG_OK;
    }
    char buf[72];
    size_t n = 0;
    while (s + n < ps->end && n < sizeof buf - 1 && !isspace((unsigned char)s[n]) && s[n] != '/')
        n++;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *e;
    if (is_r4) {
        in->arg.r4 = strtof(buf, &e);
    } else {
        in->arg.r8 = strtod(buf, &e);
    }
    if (n == 0 || *e)
        return perr(ps, ILG_E_IL_SYNTAX, s, "expected a real number, found '%.*s'", (int)(n ? n : 1), s);
    ps->p = s + n;
    return ILG_OK;
}

static ilg_status add_fixup(parser *ps, uint8_t where, uint32_t idx, uint32_t field)
{
    uint32_t len;
    const char *at = ps->p;
    const char *name = word(ps, &len);
    if (!len)
        return perr(ps, ILG_E_IL_SYNTAX, at, "expected a label");
    ilg_status st = ilg__grow((void **)&ps->fix, &ps->fix_cap, (uint64_t)ps->nfix + 1, sizeof(fixup));
    if (st)
        return st;
    ps->fix[ps->nfix++] = (fixup){ .name = name, .len = len, .where = where, .idx = idx,
                                   .field = field, .at = (size_t)(name - ps->text) };
    return ILG_OK;
}

/* A token operand: a number, or text up to the end of the line (or up to stop_kw)
 * for the name resolver. */
static ilg_status token(parser *ps, ilg_operand_kind kind, const char *stop_kw, uint32_t *out)
{
    skip_ws(ps);
    const char *s = ps->p;
    if (s < ps->end && isdigit((unsigned char)*s)) {
        int64_t v;
        ilg_status st = integer(ps, 0, UINT32_MAX, &v);
        if (st == ILG_OK)
            *out = (uint32_t)v;
        return st;
    }
    const char *e = s;
    bool quoted = false;
    while (e < ps->end && *e != '\n') {
        if (*e == '"' && (e == s || e[-1] != '\\'))
            quoted = !quoted;
        if (!quoted && e + 1 < ps->end && e[0] == '/' && e[1] == '/')
            break;
        if (!quoted && stop_kw && stop_kw[0] == '{' && *e == '{')
            break;
        if (!quoted && stop_kw && stop_kw[0] != '{') {
            size_t n = strlen(stop_kw);
            if (e > s && isspace((unsigned char)e[-1]) && (size_t)(ps->end - e) >= n &&
                memcmp(e, stop_kw, n) == 0 && (e + n == ps->end || !word_char(e[n])))
                break;
        }
        e++;
    }
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    if (e == s)
        return perr(ps, ILG_E_IL_SYNTAX, s, "expected a token");
    if (!ps->names || !ps->names->name_token ||
        !ps->names->name_token(ps->names->ctx, kind, s, (size_t)(e - s), out))
        return perr(ps, ILG_E_IL_UNRESOLVED_NAME, s, "cannot resolve '%.*s' to a token",
                    (int)(e - s), s);
    ps->p = e;
    return ILG_OK;
}

static ilg_status parse_try(parser *ps)
{
    ilg_body *b = ps->b;
    ilg_eh_clause c = { 0 };
    const uint32_t ci = b->eh_count;
    ilg_status st;
    const char *at = ps->p;
    if (at_eol(ps) || *ps->p == '{') {
        ps->expect = OPEN_TRY; /* the block form: the try block's '{' follows */
        return ILG_OK;
    }
    if ((st = add_fixup(ps, 2, ci, 0)))
        return st;
    if (!keyword(ps, "to"))
        return perr(ps, ILG_E_IL_SYNTAX, ps->p, "expected 'to' in .try");
    if ((st = add_fixup(ps, 2, ci, 1)))
        return st;
    if (keyword(ps, "catch")) {
        c.kind = ILG_EH_CATCH;
        if ((st = token(ps, ILG_OPND_TYPE, "handler", &c.class_token)))
            return st;
    } else if (keyword(ps, "filter")) {
        c.kind = ILG_EH_FILTER;
        if ((st = add_fixup(ps, 2, ci, 4)))
            return st;
    } else if (keyword(ps, "finally")) {
        c.kind = ILG_EH_FINALLY;
    } else if (keyword(ps, "fault")) {
        c.kind = ILG_EH_FAULT;
    } else {
        return perr(ps, ILG_E_IL_SYNTAX, ps->p, "expected catch, filter, finally or fault");
    }
    if (!keyword(ps, "handler"))
        return perr(ps, ILG_E_IL_SYNTAX, ps->p, "expected 'handler'");
    if ((st = add_fixup(ps, 2, ci, 2)))
        return st;
    if (!keyword(ps, "to"))
        return perr(ps, ILG_E_IL_SYNTAX, ps->p, "expected 'to' after the handler start");
    if ((st = add_fixup(ps, 2, ci, 3)))
        return st;
    (void)at;
    return ilg_body_add_clause(b, &c);
}

/* `catch T`, `filter`, `finally` or `fault` after a closed try block (block form):
 * sets what the next '{' opens. kw is the keyword already read. */
static ilg_status parse_handler_kw(parser *ps, const char *kw, const char *at)
{
    if (!ps->after_try)
        return perr(ps, ILG_E_IL_SYNTAX, at, "'%s' without a .try { } block before it", kw);
    ps->next = ps->tried;
    ps->next.class_token = 0;
    if (strcmp(kw, "catch") == 0) {
        ps->next.kind = ILG_EH_CATCH;
        ilg_status st = token(ps, ILG_OPND_TYPE, "{", &ps->next.class_token);
        if (st)
            return st;
        ps->expect = OPEN_HANDLER;
    } else if (strcmp(kw, "filter") == 0) {
        ps->next.kind = ILG_EH_FILTER;
        ps->expect = OPEN_FILTER;
    } else {
        ps->next.kind = strcmp(kw, "finally") == 0 ? ILG_EH_FINALLY : ILG_EH_FAULT;
        ps->expect = OPEN_HANDLER;
    }
    ps->after_try = false;
    return ILG_OK;
}

/* Something other than a handler follows: the try block before it must have had one. */
static ilg_status end_handlers(parser *ps)
{
    if (ps->after_try && !ps->handled)
        return ilg__fail(ILG_E_IL_SYNTAX, ILG_WHERE_FILE, ps->tried_at,
                         "a .try { } block needs a catch, filter, finally or fault after it");
    ps->after_try = false;
    return ILG_OK;
}

static ilg_status open_block(parser *ps, const char *at)
{
    if (ps->expect == OPEN_NONE)
        return perr(ps, ILG_E_IL_SYNTAX, at,
                    "'{' opens nothing here (it follows .try, catch T, filter, finally or fault)");
    ilg_status st = ilg__grow((void **)&ps->blocks, &ps->blocks_cap, (uint64_t)ps->nblocks + 1,
                              sizeof(block));
    if (st)
        return st;
    ps->blocks[ps->nblocks++] =
        (block){ ps->expect, ps->b->count, ps->next, (size_t)(at - ps->text) };
    ps->expect = OPEN_NONE;
    ps->after_try = false;
    return ILG_OK;
}

static ilg_status close_block(parser *ps, const char *at)
{
    static const char *const names[] = { "", ".try", "handler", "filter", "handler" };
    if (!ps->nblocks)
        return perr(ps, ILG_E_IL_SYNTAX, at, "'}' closes nothing");
    block k = ps->blocks[--ps->nblocks];
    const uint32_t end = ps->b->count;
    if (k.start == end)
        return perr(ps, ILG_E_IL_SYNTAX, at, "empty %s block", names[k.type]);
    switch (k.type) {
    case OPEN_TRY:
        ps->tried = (ilg_eh_clause){ .try_start = k.start, .try_end = end };
        ps->after_try = true;
        ps->handled = false;
        ps->tried_at = (size_t)(at - ps->text);
        return ILG_OK;
    case OPEN_FILTER:
        ps->next = k.c;
        ps->next.filter_start = k.start;
        ps->expect = OPEN_FILTER_HANDLER; /* the handler's '{' follows at once */
        return ILG_OK;
    default: {
        ilg_eh_clause c = k.c;
        c.handler_start = k.start;
        c.handler_end = end;
        /* another catch may follow for the same try */
        ps->tried = (ilg_eh_clause){ .try_start = c.try_start, .try_end = c.try_end };
        ps->after_try = true;
        ps->handled = true;
        return ilg_body_add_clause(ps->b, &c);
    }
    }
}

static ilg_status parse_instr(parser *ps, const char *name, uint32_t len)
{
    ilg_body *b = ps->b;
    ilg_opcode op;
    if (ilg_opcode_by_name(name, len, &op) != ILG_OK)
        return perr(ps, ILG_E_IL_SYNTAX, name, "unknown opcode '%.*s'", (int)len, name);
    const uint8_t kind = ilg__opcodes[op].operand;
    ilg_status st = ILG_OK;
    const uint32_t idx = b->count;
    int64_t v = 0;
    switch (kind) {
    case ILG_OPND_SWITCH: {
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != '(')
            return perr(ps, ILG_E_IL_SYNTAX, ps->p, "expected '(' after switch");
        ps->p++;
        uint32_t n = 0, first = b->target_count;
        if ((st = ilg_body_append_switch(b, NULL, 0)))
            return st;
        skip_ws(ps);
        while (ps->p < ps->end && *ps->p != ')') {
            if (n && *ps->p++ != ',')
                return perr(ps, ILG_E_IL_SYNTAX, ps->p - 1, "expected ',' or ')' in switch");
            if ((st = ilg__grow((void **)&b->targets, &b->targets_cap, (uint64_t)b->target_count + 1,
                                sizeof(uint32_t))))
                return st;
            b->targets[b->target_count++] = 0;
            if ((st = add_fixup(ps, 1, first + n, 0)))
                return st;
            n++;
            skip_ws(ps);
        }
        if (ps->p >= ps->end)
            return perr(ps, ILG_E_IL_SYNTAX, ps->p, "unterminated switch table");
        ps->p++;
        b->instrs[idx].arg.sw.first = first;
        b->instrs[idx].arg.sw.count = n;
        return ILG_OK;
    }
    case ILG_OPND_R4: case ILG_OPND_R8:
        if ((st = ilg_body_append_real(b, op, 0)))
            return st;
        return real(ps, kind == ILG_OPND_R4, &b->instrs[idx]);
    case ILG_OPND_NONE: break;
    case ILG_OPND_I1: st = integer(ps, INT8_MIN, UINT8_MAX, &v); v = (int8_t)v; break;
    case ILG_OPND_U1: case ILG_OPND_VAR1: st = integer(ps, 0, UINT8_MAX, &v); break;
    case ILG_OPND_VAR2: st = integer(ps, 0, UINT16_MAX, &v); break;
    case ILG_OPND_I4: st = integer(ps, INT32_MIN, UINT32_MAX, &v); v = (int32_t)(uint32_t)v; break;
    case ILG_OPND_I8: st = integer(ps, INT64_MIN, INT64_MAX, &v); break;
    case ILG_OPND_BR1: case ILG_OPND_BR4:
        if ((st = ilg_body_append(b, op, 0)))
            return st;
        return add_fixup(ps, 0, idx, 0);
    default: {
        uint32_t t;
        if ((st = token(ps, (ilg_operand_kind)kind, NULL, &t)))
            return st;
        v = t;
        break;
    }
    }
    if (st)
        return st;
    return ilg_body_append(b, op, v);
}

static ilg_status add_label(parser *ps, const char *name, uint32_t len)
{
    ilg_status st = ilg__grow((void **)&ps->labels, &ps->labels_cap, (uint64_t)ps->nlabels + 1,
                              sizeof(label));
    if (st)
        return st;
    ps->labels[ps->nlabels++] = (label){ name, len, ps->b->count, (size_t)(name - ps->text) };
    return ILG_OK;
}

static int cmp_label(const void *a, const void *b)
{
    const label *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static ilg_status resolve(parser *ps)
{
    ilg_body *b = ps->b;
    if (ps->nlabels)
        qsort(ps->labels, ps->nlabels, sizeof(label), cmp_label);
    for (uint32_t i = 1; i < ps->nlabels; i++)
        if (cmp_label(&ps->labels[i - 1], &ps->labels[i]) == 0) {
            const label *l = &ps->labels[i];
            return ilg__fail(ILG_E_IL_SYNTAX, ILG_WHERE_FILE, l->at, "label '%.*s' defined twice",
                             (int)l->len, l->name);
        }
    for (uint32_t f = 0; f < ps->nfix; f++) {
        const fixup *x = &ps->fix[f];
        label key = { x->name, x->len, 0, 0 };
        const label *l = ps->nlabels ? bsearch(&key, ps->labels, ps->nlabels, sizeof(label), cmp_label) : NULL;
        if (!l)
            return ilg__fail(ILG_E_IL_UNDEFINED_LABEL, ILG_WHERE_FILE, x->at, "undefined label '%.*s'",
                             (int)x->len, x->name);
        /* Only an EH block's end (try_end, handler_end) may be the end of the body; a
         * branch, a switch case or a block start needs an instruction there. */
        const bool end_ok = x->where == 2 && (x->field == 1 || x->field == 3);
        if (l->index >= b->count && !end_ok)
            return ilg__fail(ILG_E_IL_BAD_TARGET, ILG_WHERE_FILE, x->at,
                             "label '%.*s' follows the last instruction; %s needs an instruction there",
                             (int)x->len, x->name, x->where == 2 ? "an EH block start" : "a branch");
        switch (x->where) {
        case 0: b->instrs[x->idx].arg.target = l->index; break;
        case 1: b->targets[x->idx] = l->index; break;
        default: {
            ilg_eh_clause *c = &b->eh[x->idx];
            uint32_t *fields[] = { &c->try_start, &c->try_end, &c->handler_start, &c->handler_end,
                                   &c->filter_start };
            *fields[x->field] = l->index;
            break;
        }
        }
    }
    return ILG_OK;
}

/* One directive (.maxstack, .locals, .try), label, handler keyword or instruction at
 * at; *more when more of the line is to be read before its end is checked. */
static ilg_status parse_statement(parser *ps, const char *at, bool *more)
{
    ilg_status st = ILG_OK;
    if (*ps->p == '.' && keyword(ps, ".maxstack")) {
        int64_t v;
        if ((st = integer(ps, 0, UINT16_MAX, &v)))
            return st;
        ps->b->max_stack = (uint16_t)v;
    } else if (*ps->p == '.' && keyword(ps, ".locals")) {
        bool init = keyword(ps, "init");
        uint32_t t;
        if ((st = token(ps, ILG_OPND_SIG, NULL, &t)))
            return st;
        /* A fat header can only name a StandAloneSig (ECMA-335 II.25.4.3). */
        if (t && (t >> 24) != ILG_CIL_LOCALS_TABLE)
            return perr(ps, ILG_E_IL_SYNTAX, at, ".locals token 0x%08x is not a StandAloneSig token", t);
        ps->b->local_sig = t;
        ps->b->init_locals = init;
    } else if (*ps->p == '.' && keyword(ps, ".try")) {
        if ((st = parse_try(ps)))
            return st;
        *more = ps->expect == OPEN_TRY; /* the block form: its '{' may follow on the line */
    } else {
        uint32_t wl;
        const char *w = word(ps, &wl);
        if (!wl)
            return perr(ps, ILG_E_IL_SYNTAX, at, "unexpected '%c'", *at);
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ':' && !(ps->p + 1 < ps->end && ps->p[1] == ':')) {
            ps->p++;
            if ((st = end_handlers(ps)) || (st = add_label(ps, w, wl)))
                return st;
            *more = true; /* an instruction may follow on the same line */
            return ILG_OK;
        }
        static const char *const handler_kws[] = { "catch", "filter", "finally", "fault" };
        const char *kw = NULL;
        for (size_t k = 0; k < 4 && !kw; k++)
            if (strlen(handler_kws[k]) == wl && memcmp(w, handler_kws[k], wl) == 0)
                kw = handler_kws[k];
        if (kw) {
            if ((st = parse_handler_kw(ps, kw, w)))
                return st;
            *more = true; /* its '{' may follow on the same line */
            return ILG_OK;
        }
        if ((st = end_handlers(ps)) || (st = parse_instr(ps, w, wl)))
            return st;
    }
    return st;
}

/* The end of the text: every block closed, handlers ended, labels resolved, laid out. */
static ilg_status finish_text(parser *ps)
{
    if (ps->nblocks)
        return ilg__fail(ILG_E_IL_SYNTAX, ILG_WHERE_FILE, ps->blocks[ps->nblocks - 1].at,
                         "a '{' is never closed");
    if (ps->expect != OPEN_NONE)
        return perr(ps, ILG_E_IL_SYNTAX, ps->p, "expected '{' before the end of the text");
    ilg_status st;
    if ((st = end_handlers(ps)) || (st = resolve(ps)))
        return st;
    return ilg_body_layout(ps->b);
}

ilg_status ilg_body_assemble(ilg_body *b, const char *text, size_t len, const ilg_name_resolver *names)
{
    if (!b || (!text && len))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "body and text are required");
    parser ps = { .text = text, .end = text + len, .p = text, .line = 1, .names = names, .b = b };
    ilg_status st = ILG_OK;
    ilg_body_reset(b);
    while (ps.p < ps.end) {
        if (at_eol(&ps)) {
            if (ps.p < ps.end) {
                ps.p++;
                ps.line++;
            }
            continue;
        }
        const char *at = ps.p;
        if (*ps.p == '{' || *ps.p == '}') {
            ps.p++;
            if ((st = *at == '{' ? open_block(&ps, at) : close_block(&ps, at)))
                goto done;
            continue; /* more may follow on the line: `} {`, `} catch T {` */
        }
        if (ps.expect != OPEN_NONE) {
            st = perr(&ps, ILG_E_IL_SYNTAX, at, "expected '{'");
            goto done;
        }
        if (*ps.p == '.' && (st = end_handlers(&ps))) /* handlers follow their try at once */
            goto done;
        bool more = false;
        if ((st = parse_statement(&ps, at, &more)))
            goto done;
        if (more)
            continue;
        if (!at_eol(&ps)) {
            if (*ps.p == '{' || *ps.p == '}')
                continue; /* the block form: `leave.s L }` */
            int n = 0;
            while (ps.p + n < ps.end && ps.p[n] != '\n' && n < 32)
                n++;
            st = perr(&ps, ILG_E_IL_SYNTAX, ps.p, "unexpected text '%.*s'", n, ps.p);
            goto done;
        }
    }
    if ((st = finish_text(&ps)))
        goto done;
    b->header = ILG_HEADER_FAT;
    b->fat_flags = ILG_CIL_FAT_DEFAULT_WORD;
done:
    free(ps.labels);
    free(ps.fix);
    free(ps.blocks);
    if (st)
        ilg_body_reset(b);
    return st;
}
