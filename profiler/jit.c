/* jit.c: one method's first compilation, from its name to its new body (match the rules,
 * apply them, encode, install with SetILFunctionBody), and the rewrite line of the log,
 * formatted by hand. */
#include "plugin_state.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- the rewrite line ----------------------------------------------------------- */

/* The rewrite log writes a line per method (24,395 for Mono's mscorlib): formatted by
 * hand, snprintf per field was most of a logged run. */

/* A string literal's bytes, its length known at compile time. */
#define PUT_LIT(o, lit) (memcpy((o), (lit), sizeof(lit) - 1), (o) + sizeof(lit) - 1)

/* Every byte's two lowercase hex digits, so that hex goes out a byte at a time. */
#define HEX_PAIR(x) "0123456789abcdef"[(x) >> 4], "0123456789abcdef"[(x) & 15]
#define HEX_PAIRS16(h) HEX_PAIR(h + 0), HEX_PAIR(h + 1), HEX_PAIR(h + 2), HEX_PAIR(h + 3), \
    HEX_PAIR(h + 4), HEX_PAIR(h + 5), HEX_PAIR(h + 6), HEX_PAIR(h + 7), HEX_PAIR(h + 8),   \
    HEX_PAIR(h + 9), HEX_PAIR(h + 10), HEX_PAIR(h + 11), HEX_PAIR(h + 12),                 \
    HEX_PAIR(h + 13), HEX_PAIR(h + 14), HEX_PAIR(h + 15)
static const char hex_pairs[512] = {
    HEX_PAIRS16(0x00), HEX_PAIRS16(0x10), HEX_PAIRS16(0x20), HEX_PAIRS16(0x30),
    HEX_PAIRS16(0x40), HEX_PAIRS16(0x50), HEX_PAIRS16(0x60), HEX_PAIRS16(0x70),
    HEX_PAIRS16(0x80), HEX_PAIRS16(0x90), HEX_PAIRS16(0xA0), HEX_PAIRS16(0xB0),
    HEX_PAIRS16(0xC0), HEX_PAIRS16(0xD0), HEX_PAIRS16(0xE0), HEX_PAIRS16(0xF0),
};

/* Lowercase hex of v with at least min digits, as printf's %0*llx. */
static char *put_hex(char *o, uint64_t v, int min)
{
    int n = (64 - __builtin_clzll(v | 1) + 3) / 4;
    if (n < min)
        n = min;
    char *end = o + n, *d = end;
    for (; d - o >= 2; v >>= 8) {
        d -= 2;
        memcpy(d, hex_pairs + 2 * (v & 0xFF), 2);
    }
    if (d > o)
        *o = "0123456789abcdef"[v & 0xF];
    return end;
}

/* %04x: the offsets of all but the largest bodies, two table lookups. */
static inline char *put_hex4(char *o, uint32_t v)
{
    if (v > 0xFFFF)
        return put_hex(o, v, 4);
    memcpy(o, hex_pairs + 2 * (v >> 8), 2);
    memcpy(o + 2, hex_pairs + 2 * (v & 0xFF), 2);
    return o + 4;
}

/* %08x: a token. */
static inline char *put_hex8(char *o, uint32_t v)
{
    memcpy(o, hex_pairs + 2 * (v >> 24), 2);
    memcpy(o + 2, hex_pairs + 2 * ((v >> 16) & 0xFF), 2);
    memcpy(o + 4, hex_pairs + 2 * ((v >> 8) & 0xFF), 2);
    memcpy(o + 6, hex_pairs + 2 * (v & 0xFF), 2);
    return o + 8;
}

/* Every number under 100 as its two decimal digits. */
#define DEC_PAIR(x) (char)('0' + (x) / 10), (char)('0' + (x) % 10)
#define DEC_PAIRS10(t) DEC_PAIR(t + 0), DEC_PAIR(t + 1), DEC_PAIR(t + 2), DEC_PAIR(t + 3),    \
    DEC_PAIR(t + 4), DEC_PAIR(t + 5), DEC_PAIR(t + 6), DEC_PAIR(t + 7), DEC_PAIR(t + 8),       \
    DEC_PAIR(t + 9)
static const char dec_pairs[200] = {
    DEC_PAIRS10(0),  DEC_PAIRS10(10), DEC_PAIRS10(20), DEC_PAIRS10(30), DEC_PAIRS10(40),
    DEC_PAIRS10(50), DEC_PAIRS10(60), DEC_PAIRS10(70), DEC_PAIRS10(80), DEC_PAIRS10(90),
};

/* Decimal, as printf's %llu (body sizes: nearly always under 10,000), two digits at a
 * time from the end. */
static char *put_dec(char *o, uint64_t v)
{
    int n = 1;
    for (uint64_t rest = v; rest >= 10; rest /= 10)
        n++;
    char *end = o + n, *d = end;
    for (; v >= 100; v /= 100) {
        d -= 2;
        memcpy(d, dec_pairs + 2 * (v % 100), 2);
    }
    if (v >= 10)
        memcpy(d - 2, dec_pairs + 2 * v, 2);
    else
        d[-1] = (char)('0' + v);
    return end;
}

/* "[-]0xHEX+SIZE": a body's position relative to the module base, and its size. */
static char *put_position(char *o, ptrdiff_t rel, uint64_t size)
{
    if (rel < 0)
        *o++ = '-';
    o = PUT_LIT(o, "0x");
    o = put_hex(o, rel < 0 ? (uint64_t)0 - (uint64_t)rel : (uint64_t)rel, 1);
    *o++ = '+';
    return put_dec(o, size);
}

/* One run of the offset map: "FIRST->NEW" for one instruction, "FIRST-LAST->NEW" for
 * several (docs/profiler.md, Log). */
static char *put_run(char *o, bool comma, uint32_t first, uint32_t last, uint32_t to)
{
    if (comma)
        *o++ = ',';
    o = put_hex4(o, first);
    if (last != first) {
        *o++ = '-';
        o = put_hex4(o, last);
    }
    *o++ = '-';
    *o++ = '>';
    return put_hex4(o, to);
}
#define RUN_MAX 32 /* ",FFFFFFFF-FFFFFFFF->FFFFFFFF" */

#ifdef __SSE2__
_Static_assert(sizeof(ilg_instr) == 16 && offsetof(ilg_instr, offset) == 0,
               "offsets4 reads each instruction's offset as its first word");
/* The offsets of in[0..3] as one vector. */
static inline __m128i offsets4(const ilg_instr *in)
{
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)in);
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(in + 1));
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(in + 2));
    __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(in + 3));
    return _mm_unpacklo_epi64(_mm_unpacklo_epi32(a, b), _mm_unpacklo_epi32(c, d));
}
#endif

/* The offsets of in[0..n) into old (an entry probe's map reads each of the 583,546
 * instructions of mscorlib twice: here, and in run_end). */
static void copy_offsets(uint32_t *restrict old, const ilg_instr *restrict in, uint32_t n)
{
    uint32_t i = 0;
#ifdef __SSE2__
    for (; i + 4 <= n; i += 4)
        _mm_storeu_si128((__m128i *)(void *)(old + i), offsets4(in + i));
#endif
    for (; i < n; i++)
        old[i] = in[i].offset;
}

/* The first i from i on (up to n) at which in[i] no longer starts shift bytes after
 * old[i]: where a run of instructions moved together ends. */
static uint32_t run_end(const ilg_instr *in, const uint32_t *old, uint32_t i, uint32_t n,
                        uint32_t shift)
{
#ifdef __SSE2__
    const __m128i want = _mm_set1_epi32((int)shift);
    for (; i + 4 <= n; i += 4) {
        __m128i moved = _mm_sub_epi32(offsets4(in + i),
                                      _mm_loadu_si128((const __m128i *)(const void *)(old + i)));
        unsigned same = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi32(moved, want));
        if (same != 0xFFFF) /* four mask bits per instruction: the first that moved else */
            return i + (unsigned)__builtin_ctz(~same) / 4;
    }
#endif
    while (i < n && in[i].offset - old[i] == shift)
        i++;
    return i;
}

/* The offset map: where each original instruction that survived now starts, from the
 * tags (instr.reserved = original index + 1) the editor carries along, as runs of
 * instructions that follow each other in the original and moved by the same amount
 * (an entry probe moves them all: one run). Needs RUN_MAX per new instruction, plus 4. */
static __attribute__((noinline)) char *put_offsets(char *o, const ilg_body *b,
                                                    const uint32_t *old, uint32_t old_count)
{
    const char *start = o;
    /* The current run starts at first and moves by shift (mod 2^32); next is the tag that
     * would continue it (NO_RUN: none yet; no tag is that large). */
    enum { NO_RUN = 0xFFFFFFFFu };
    uint32_t first = 0, shift = 0, next = NO_RUN;
    for (const ilg_instr *in = b->instrs, *end = in + b->count; in < end; in++) {
        uint32_t tag = in->reserved;
        if (tag == next && in->offset - old[tag - 1] == shift) {
            next++;
            continue;
        }
        if (tag - 1 >= old_count) /* not an original instruction (tag 0) */
            continue;
        if (next != NO_RUN)
            o = put_run(o, o != start, first, old[next - 2], first + shift);
        first = old[tag - 1];
        shift = in->offset - first;
        next = tag + 1;
    }
    if (next != NO_RUN)
        o = put_run(o, o != start, first, old[next - 2], first + shift);
    /* Tags are 16 bits: the instructions past the 65,535th are not followed. */
    if (old_count > 0xFFFF)
        o = o != start ? PUT_LIT(o, ",...") : PUT_LIT(o, "...");
    return o;
}

/* The offset map when the edit only inserted in front of the original instructions or
 * changed them in place: they are the body's last old_count, in order. */
static __attribute__((noinline)) char *put_offsets_in_front(char *o, const ilg_body *b,
                                                             const uint32_t *old,
                                                             uint32_t old_count)
{
    const char *start = o;
    if (b->count < old_count) /* not an insertion after all: cannot tell */
        return PUT_LIT(o, "?");
    const ilg_instr *in = b->instrs + (b->count - old_count);
    for (uint32_t i = 0; i < old_count;) {
        uint32_t first = i, shift = in[i].offset - old[i];
        i = run_end(in, old, i + 1, old_count, shift);
        o = put_run(o, o != start, old[first], old[i - 1], old[first] + shift);
    }
    return o;
}

/* A failed rewrite: counted and logged with the method's full name, which is made here
 * when the rewrite did not need it. The reason is formatted first: naming calls the
 * metadata API, which may replace the diagnostic the reason quotes. */
static void job_fail(job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void job_fail(job *j, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    COUNT(j->w, failed);
    if (!j->full[0])
        ilg__plugin_name_method(j->w, j->ms, j->tok, j->full);
    ilg__plugin_plog(j->w->p, "FAIL %s (0x%08x): %s", j->full, (unsigned)j->tok, why);
}

/* Names the method and counts the rules that match it. When every rule matches "*" and
 * no rewrite is logged, the name is only needed for a failure, and is made then: naming
 * was a sixth of the work of a probe run. */
static size_t job_match(job *j)
{
    plugin *p = j->w->p;
    IMetaDataImport *md = j->ms->md;
    WCHAR wname[NAME_CAP];
    ULONG len = 0;
    const bool named = p->names_needed;
    if (md->lpVtbl->GetMethodProps(md, j->tok, &j->owner, named ? wname : NULL,
                                   named ? NAME_CAP : 0, named ? &len : NULL, NULL, &j->msig,
                                   &j->sig_len, NULL, NULL) != S_OK)
        return 0;
    if (!named)
        return p->rules.count;
    j->full_len = ilg__plugin_method_names(j->w, md, j->ms->module, j->owner, wname, len, j->full,
                               p->simple_needed ? j->simple : NULL);
    size_t matched = 0;
    for (size_t i = 0; i < p->rules.count; i++)
        matched += ilg__plugin_rule_matches(&p->rules.items[i], j->full, j->simple);
    return matched;
}

/* Appends "[,]NAME(HOW)" for rule ri to the job's action list, cut at its end as
 * snprintf would cut it. The worker keeps each rule's last text ("how" is one of a few
 * static strings): formatting it for every method showed in a logged run's profile. */
static void log_action(job *j, size_t ri, const char *how)
{
    worker *w = j->w;
    const size_t cap = sizeof w->actions;
    if (!w->acts && !(w->acts = calloc(w->p->rules.count, sizeof *w->acts)))
        return;
    action_text *t = &w->acts[ri];
    if (t->how != how) {
        const char *parts[] = { ilg__plugin_action_name(w->p->rules.items[ri].action), "(",
                                how, ")" };
        size_t n = 0;
        for (size_t i = 0; i < ILG_ARRAY_LEN(parts); i++)
            for (const char *c = parts[i]; *c && n + 1 < sizeof t->text; c++)
                t->text[n++] = *c;
        t->len = n;
        t->how = how;
    }
    size_t len = j->actions_len;
    if (len && len + 1 < cap)
        j->actions[len++] = ',';
    size_t n = t->len < cap - 1 - len ? t->len : cap - 1 - len;
    memcpy(j->actions + len, t->text, n);
    j->actions_len = len + n;
    j->actions[j->actions_len] = 0;
}

/* What rule r's probe needs besides its token: the method's name as a user string, its
 * token, a local of the return type (exit probes of methods returning a value: an
 * existing one, else a new local signature, installed in the body) and how the return
 * value is boxed. False after logging a failure. */
static bool job_probe_env(job *j, const ilg__plugin_rule *r, ilg__plugin_env *env)
{
    worker *w = j->w;
    char why[256];
    bool name = false, ret = false;
    for (uint8_t i = 0; i < r->probe_argc; i++) {
        name |= r->probe_args[i] == ILG__PARG_NAME;
        ret |= r->probe_args[i] == ILG__PARG_RETURN;
    }
    env->method_token = j->tok;
    if ((name || ret) && !ilg__plugin_module_emit(w, j->ms)) {
        job_fail(j, "%s: GetModuleMetaData(ofRead | ofWrite, IID_IMetaDataEmit) refused",
                 r->probe);
        return false;
    }
    if (name) {
        if (!j->full[0]) {
            ilg__plugin_name_method(w, j->ms, j->tok, j->full);
            j->full_len = strlen(j->full);
        }
        if (!(env->name_string = ilg__plugin_user_string(j->ms, j->full, j->full_len))) {
            job_fail(j, "%s: DefineUserString refused the method's name", r->probe);
            return false;
        }
    }
    if (r->action != ILG__ACT_PROBE_EXIT || !env->returns_value)
        return true;
    uint32_t new_sig = 0;
    if (!ilg__plugin_return_local(w, j->ms, w->body->local_sig, j->msig, &j->shape,
                                  &env->ret_local, &new_sig, why, sizeof why)) {
        job_fail(j, "probe-exit %s: %s", r->probe, why);
        return false;
    }
    if (new_sig) {
        /* A body without locals gets them zeroed, so that the probe sees a null or zero
         * when an exception leaves before a return stored the value. */
        ilg_body_set_locals(w->body, new_sig, w->body->init_locals || !w->body->local_sig);
        env->new_local = true;
    }
    if (ret && !ilg__plugin_return_box(j->ms, j->msig, &j->shape, &env->box_token, &env->ret_null)) {
        job_fail(j, "probe-exit %s: GetTokenFromTypeSpec refused the return type", r->probe);
        return false;
    }
    return true;
}

/* Applies rule r to the decoded body; false after logging a failure. A probe rule
 * whose probe the module lacks, or that would go into a probe (probes calling probes
 * would recurse), is skipped: counted, not an error. */
static bool job_rule(job *j, size_t ri, bool is_probe, bool *applied)
{
    worker *w = j->w;
    const ilg__plugin_rule *r = &w->p->rules.items[ri];
    ilg__plugin_env env = { &j->resolver, 0, ILG_NO_LOCAL, j->have_shape && j->shape.returns,
                            w->snippet, 0, 0, 0, false, false };
    if (r->action == ILG__ACT_PROBE_ENTRY || r->action == ILG__ACT_PROBE_EXIT) {
        env.probe_token = ilg__plugin_find_probe(w, j->ms, ri);
        if (!env.probe_token || is_probe) {
            COUNT(w, skipped);
            return true;
        }
        if (r->action == ILG__ACT_PROBE_EXIT && !j->have_shape) {
            job_fail(j, "probe-exit %s: the method's signature is malformed", r->probe);
            return false;
        }
        if (!job_probe_env(j, r, &env))
            return false;
    }
    const char *how = "";
    ilg_status st = ilg__plugin_apply(w->body, r, &env, &how);
    if (st != ILG_OK) {
        job_fail(j, "%s: %s: %s", ilg__plugin_action_name(r->action), ilg_status_name(st),
                 ilg_last_diag()->message);
        return false;
    }
    j->edited |= r->action != ILG__ACT_IDENTITY;
    j->replaced |= r->action == ILG__ACT_REPLACE;
    *applied = true;
    if (w->p->log_rewrites)
        log_action(j, ri, how);
    return true;
}

/* Before the edit, what the log's offset map needs: the original offsets, and unless
 * every matching rule only inserts in front (probe-entry) or edits in place (identity,
 * mutate), a tag on each instruction (instr.reserved = original index + 1) that the
 * editor carries along. Without tags the originals are, after the edit, the last
 * old_count instructions in their order: a third of the map's cost, the usual case. */
static bool job_map_begin(job *j)
{
    worker *w = j->w;
    const ilg__plugin_rules *rules = &w->p->rules;
    const uint32_t n = j->old_count;
    if (ilg__grow_size((void **)&w->old_offsets, &w->old_offsets_cap, (size_t)n + 1, sizeof *w->old_offsets) != ILG_OK) {
        job_fail(j, "no memory for the log's offset map of %u instructions", n);
        return false;
    }
    j->in_front = true;
    for (size_t i = 0; i < rules->count && j->in_front; i++)
        j->in_front = rules->items[i].action == ILG__ACT_IDENTITY ||
                      rules->items[i].action == ILG__ACT_MUTATE ||
                      rules->items[i].action == ILG__ACT_PROBE_ENTRY ||
                      !ilg__plugin_rule_matches(&rules->items[i], j->full, j->simple);
    uint32_t *restrict old = w->old_offsets;
    ilg_instr *restrict in = w->body->instrs;
    if (j->in_front) {
        copy_offsets(old, in, n);
        return true;
    }
    const uint32_t tagged = n < 0xFFFF ? n : 0xFFFF;
    for (uint32_t i = 0; i < tagged; i++) {
        old[i] = in[i].offset;
        in[i].reserved = (uint16_t)(i + 1);
    }
    for (uint32_t i = tagged; i < n; i++)
        in[i].reserved = 0; /* 16 bits: the rest are not followed */
    return true;
}

/* Decodes the original body and applies every matching rule to it, in file order.
 * False when no rule applied or a step failed (logged). */
static bool job_apply(job *j)
{
    worker *w = j->w;
    plugin *p = w->p;
    ilg_status st = ilg_body_decode(w->body, j->header, j->size);
    if (st != ILG_OK) {
        job_fail(j, "decode: %s: %s", ilg_status_name(st), ilg_last_diag()->message);
        return false;
    }
    j->old_count = w->body->count;
    if (p->log_rewrites && !job_map_begin(j))
        return false;
    j->have_shape = j->msig && ilg__plugin_parse_method_sig(j->msig, j->sig_len, &j->shape);
    j->resolver = (ilg_stack_resolver){ ilg__plugin_call_shape, j->ms,
                                        j->have_shape ? (j->shape.returns ? 1 : 0) : -1 };
    /* Is the method some rule's probe? Only a probe of this module can be: a probe in
     * another assembly is not looked up (nor its references defined) for this. */
    bool is_probe = false, applied = false;
    for (size_t i = 0; i < p->rules.count; i++)
        if ((p->rules.items[i].action == ILG__ACT_PROBE_ENTRY ||
             p->rules.items[i].action == ILG__ACT_PROBE_EXIT) &&
            ilg__plugin_probe_is_local(j->ms, &p->rules.items[i]))
            is_probe |= ilg__plugin_find_probe(w, j->ms, i) == j->tok;
    for (size_t i = 0; i < p->rules.count; i++)
        if (ilg__plugin_rule_matches(&p->rules.items[i], j->full, j->simple) &&
            !job_rule(j, i, is_probe, &applied))
            return false;
    return applied;
}

/* Encodes the edited body into w->out. Identity keeps every form (an untouched body
 * comes out byte for byte). Mutations (same stack effect by construction) and probes (a
 * static void() call at depth 0, or before a ret with only the return value on the
 * stack) never deepen the stack, so a fat body keeps its declared maxstack and skips a
 * data flow pass, and so does a tiny body that still fits a tiny header (which records
 * no maxstack). A tiny body that grows past 63 bytes and a replacement (a new body) get
 * their exact maxstack; when a call's shape is unknown there, the old forms and
 * maxstack stay. */
static bool job_encode(job *j)
{
    worker *w = j->w;
    ilg_status st;
    w->out.len = 0;
    if (j->edited && !j->replaced && w->body->header == ILG_HEADER_FAT) {
        st = ilg_body_encode(w->body, ILG_ENCODE_OPTIMIZE_KEEP_MAXSTACK, NULL, &w->out);
        if (st != ILG_OK && st != ILG_E_NOMEM) {
            w->out.len = 0;
            st = ilg_body_encode(w->body, ILG_ENCODE_PRESERVE, NULL, &w->out);
        }
    } else if (j->edited) {
        /* A tiny body first as it is (maxstack 8, which a tiny header implies and does not
         * record): when the result is still tiny, those are the bytes the data flow would
         * give. */
        bool tiny_done = false;
        if (!j->replaced) {
            st = ilg_body_encode(w->body, ILG_ENCODE_OPTIMIZE_KEEP_MAXSTACK, NULL, &w->out);
            tiny_done = st == ILG_OK && w->body->header == ILG_HEADER_TINY;
        }
        if (!tiny_done) {
            w->out.len = 0;
            st = ilg_body_encode(w->body, ILG_ENCODE_OPTIMIZE, &j->resolver, &w->out);
        }
        if (st != ILG_OK && st != ILG_E_NOMEM) {
            w->out.len = 0;
            st = ilg_body_encode(w->body, ILG_ENCODE_PRESERVE, NULL, &w->out);
        }
    } else {
        st = ilg_body_encode(w->body, ILG_ENCODE_PRESERVE, NULL, &w->out);
    }
    if (st != ILG_OK) {
        job_fail(j, "encode: %s: %s", ilg_status_name(st), ilg_last_diag()->message);
        return false;
    }
    return true;
}

/* FNV-1a (64 bits) of a ReJIT body, for the log: the host's and CoreCLR's runs of one
 * rules file compare their bodies by it. */
static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* The rewrite's line, "ilgraft-plugin: rewrite FULL (0xTOKEN) ACTIONS old=[-]0xPOS+SIZE
 * new=[-]0xPOS+SIZE offsets=MAP" (docs/profiler.md, Log), composed straight in the log's
 * buffer (in the worker's when the log has none). Positions are relative to the module
 * base: under CoreCLR new bodies lie below it. A ReJIT body (at NULL: the function
 * control copied it) gets "ilgraft-plugin: rejit FULL (0xTOKEN) ACTIONS old=[-]0xPOS+SIZE
 * new=+SIZE fnv=HASH offsets=MAP". */
static void log_rewrite(job *j, const uint8_t *at)
{
    worker *w = j->w;
    ICorProfilerInfo3 *info = w->p->info;
    module_state *ms = j->ms;
    size_t need = 144 + j->full_len + j->actions_len + 4 + (size_t)RUN_MAX * w->body->count;
    if (!ms->have_base)
        ms->have_base = info->lpVtbl->GetModuleInfo(info, ms->module, &ms->base, 0, NULL, NULL,
                                                    NULL) == S_OK;
    /* Straight into the log's buffer when it has one, else through the worker's. */
    char *line = ilg__plugin_log_reserve(w->p->log, need);
    if (!line) {
        if (ilg__grow_size((void **)&w->line, &w->line_cap, need, 1) != ILG_OK) {
            ilg__plugin_plog_later(w->p, "rewrite %s (0x%08x) %s (no memory for the line's offset map)",
                       j->full, (unsigned)j->tok, j->actions);
            return;
        }
        line = w->line;
    }
    char *o = at ? PUT_LIT(line, "ilgraft-plugin: rewrite ")
                 : PUT_LIT(line, "ilgraft-plugin: rejit ");
    memcpy(o, j->full, j->full_len);
    o = PUT_LIT(o + j->full_len, " (0x");
    o = put_hex8(o, j->tok);
    o = PUT_LIT(o, ") ");
    memcpy(o, j->actions, j->actions_len);
    o = PUT_LIT(o + j->actions_len, " old=");
    o = put_position(o, j->header - ms->base, j->size);
    o = PUT_LIT(o, " new=");
    if (at) {
        o = put_position(o, at - ms->base, w->out.len);
    } else { /* copied by the function control: no position; the bytes' hash instead */
        *o++ = '+';
        o = put_dec(o, w->out.len);
        o = PUT_LIT(o, " fnv=");
        o = put_hex(o, fnv1a64(w->out.data, w->out.len), 16);
    }
    o = PUT_LIT(o, " offsets=");
    o = j->in_front ? put_offsets_in_front(o, w->body, w->old_offsets, j->old_count)
                    : put_offsets(o, w->body, w->old_offsets, j->old_count);
    *o++ = '\n';
    if (line == w->line)
        ilg__plugin_log_write(w->p->log, line, (size_t)(o - line), false);
    else
        ilg__plugin_log_commit(w->p->log, (size_t)(o - line));
}

/* Copies w->out into the module's IMethodMalloc and installs it; the new body, or NULL
 * after logging why not. */
static const uint8_t *job_install(job *j)
{
    worker *w = j->w;
    plugin *p = w->p;
    ICorProfilerInfo3 *info = p->info;
    module_state *ms = j->ms;
    if (!ms->alloc && (info->lpVtbl->GetILFunctionBodyAllocator(info, ms->module, &ms->alloc) !=
                           S_OK ||
                       !ms->alloc))
        ms->alloc = NULL;
    if (!ms->alloc) {
        job_fail(j, "no IMethodMalloc");
        return NULL;
    }
    /* A fat header must be 4-byte aligned; the allocator promises nothing about it. */
    uint8_t *mem = ms->alloc->lpVtbl->Alloc(ms->alloc, (ULONG)w->out.len + 3);
    if (!mem) {
        job_fail(j, "IMethodMalloc::Alloc(%zu) returned NULL", w->out.len + 3);
        return NULL;
    }
    uint8_t *at = (uint8_t *)(((uintptr_t)mem + 3) & ~(uintptr_t)3);
    memcpy(at, w->out.data, w->out.len);
    HRESULT hr = info->lpVtbl->SetILFunctionBody(info, ms->module, j->tok, at);
    if (hr != S_OK) {
        job_fail(j, "SetILFunctionBody returned 0x%08x", (unsigned)hr);
        return NULL;
    }
    COUNT(w, rewritten);
    if (p->log_rewrites)
        log_rewrite(j, at);
    return at;
}

/* Names the method, matches the rules and builds the new body into w->out from the IL
 * GetILFunctionBody gives (the original: under ReJIT too, observed): true when there is
 * one. The JIT-time and the ReJIT paths share it, so both give the same bytes. */
static bool job_build(job *j, worker *w, module_state *ms, mdMethodDef tok)
{
    ICorProfilerInfo3 *info = w->p->info;
    *j = (job){ .w = w, .ms = ms, .tok = tok, .full = w->full, .simple = w->simple,
                .actions = w->actions };
    w->full[0] = w->simple[0] = w->actions[0] = 0;
    if (!job_match(j))
        return false;
    COUNT(w, matched);
    if (info->lpVtbl->GetILFunctionBody(info, ms->module, tok, &j->header, &j->size) != S_OK ||
        !j->header)
        return false; /* no IL (abstract, runtime-implemented, P/Invoke) */
    return job_apply(j) && job_encode(j);
}

/* A method's first compilation: every matching rule applied to the IL GetILFunctionBody
 * gives now (the original) and the result installed. *body, *size: what was installed
 * (NULL, 0 when the method keeps its IL). */
static void rewrite(worker *w, module_state *ms, mdMethodDef tok, const uint8_t **body,
                    uint32_t *size)
{
    job j;
    *body = NULL;
    *size = 0;
    if (job_build(&j, w, ms, tok) && (*body = job_install(&j)))
        *size = (uint32_t)w->out.len;
}

/* At the request: the body built once and dropped, so that what it defines in the
 * metadata (probe references, name strings, local signatures) is defined now, in
 * MethodDef order, as the host and CoreCLR both see it, rather than in the order the
 * runtime asks for the bodies (its call order); GetReJITParameters' build then finds
 * them defined and gets the same tokens (the emitters return an existing user string,
 * signature and reference). False when there is no body to hand over (no IL, no rule
 * applies, a failure logged): the method is not requested, and what the build counted
 * stays counted; otherwise GetReJITParameters counts it. */
bool ilg__plugin_rejit_prepare(worker *w, module_state *ms, mdMethodDef tok)
{
    unsigned long matched = atomic_load_explicit(&w->matched, memory_order_relaxed);
    unsigned long skipped = atomic_load_explicit(&w->skipped, memory_order_relaxed);
    job j;
    if (!job_build(&j, w, ms, tok))
        return false;
    atomic_store_explicit(&w->matched, matched, memory_order_relaxed);
    atomic_store_explicit(&w->skipped, skipped, memory_order_relaxed);
    return true;
}

/* GetReJITParameters: the body job_build makes, handed to the function control, which
 * copies it (w->out stays the worker's). */
void ilg__plugin_on_rejit_parameters(worker *w, ModuleID mod, mdMethodDef tok,
                                     ICorProfilerFunctionControl *fc)
{
    module_state *ms = ilg__plugin_module_state_get(w, mod);
    job j;
    COUNT(w, methods);
    if (!ms) {
        COUNT(w, failed);
        ilg__plugin_plog(w->p, "FAIL module 0x%llx (0x%08x): GetReJITParameters: no metadata "
                         "importer", (unsigned long long)mod, (unsigned)tok);
        return;
    }
    if (!job_build(&j, w, ms, tok))
        return;
    HRESULT hr = fc->lpVtbl->SetILFunctionBody(fc, (ULONG)w->out.len, w->out.data);
    if (hr != S_OK) {
        job_fail(&j, "ICorProfilerFunctionControl::SetILFunctionBody returned 0x%08x",
                 (unsigned)hr);
        return;
    }
    COUNT(w, rewritten);
    if (w->p->log_rewrites)
        log_rewrite(&j, NULL);
}

/* A later compilation of a method whose body the plugin installed (tier-up, OSR,
 * another instantiation): CoreCLR keeps the body per token, so GetILFunctionBody
 * gives it back and there is nothing to do; any other body is replaced by it again. */
static void recompiled(worker *w, module_state *ms, FunctionID fid, mdMethodDef tok,
                       const uint8_t *body, uint32_t size, bool waited)
{
    plugin *p = w->p;
    ICorProfilerInfo3 *info = p->info;
    LPCBYTE now = NULL;
    ULONG now_size = 0;
    char full[FULL_CAP];
    const char *what = "in place";
    HRESULT hr = S_OK;
    if (info->lpVtbl->GetILFunctionBody(info, ms->module, tok, &now, &now_size) != S_OK ||
        now != body) {
        hr = info->lpVtbl->SetILFunctionBody(info, ms->module, tok, body);
        if (hr == S_OK)
            COUNT(w, restored);
        else
            COUNT(w, failed);
        what = hr == S_OK ? "set again" : "lost";
    }
    if (hr == S_OK && now == body && !p->log_rewrites)
        return;
    ilg__plugin_name_method(w, ms, tok, full);
    if (hr != S_OK)
        ilg__plugin_plog(p, "FAIL %s (0x%08x): recompiled, found another body and SetILFunctionBody "
                "returned 0x%08x",
             full, (unsigned)tok, (unsigned)hr);
    else
        ilg__plugin_plog_later(p, "recompile %s (0x%08x) function 0x%llx: body (%u bytes) %s%s", full,
                   (unsigned)tok, (unsigned long long)fid, (unsigned)size, what,
                   waited ? " after waiting for another thread" : "");
}

/* JITCompilationStarted: the first compilation of a method builds its body, every later
 * one (or one on another thread meanwhile, which waits) reuses it. */
void ilg__plugin_on_jit(worker *w, FunctionID fid)
{
    plugin *p = w->p;
    ICorProfilerInfo3 *info = p->info;
    ClassID cls = 0;
    ModuleID mod = 0;
    mdToken tok = 0;
    module_state *ms = NULL;
    const uint8_t *body = NULL;
    uint32_t size = 0;
    bool waited = false;
    COUNT(w, jit);
    if (info->lpVtbl->GetFunctionInfo(info, fid, &cls, &mod, &tok) != S_OK ||
        !(ms = ilg__plugin_module_state_get(w, mod)))
        return;
    if (!ms->noted)
        ms->noted = ilg__plugin_methods_note_module(p->methods, mod);
    switch (ilg__plugin_methods_claim(p->methods, mod, tok, &body, &size, &waited)) {
    case ILG__CLAIM_DONE:
        COUNT(w, recompiles);
        if (body)
            recompiled(w, ms, fid, tok, body, size, waited);
        break;
    case ILG__CLAIM_MINE:
        COUNT(w, methods);
        rewrite(w, ms, tok, &body, &size);
        ilg__plugin_methods_finish(p->methods, mod, tok, body, size);
        break;
    case ILG__CLAIM_NOMEM:
        /* Without an entry a later compilation would rewrite the rewrite: leave it. */
        COUNT(w, failed);
        ilg__plugin_plog(p, "FAIL function 0x%llx (0x%08x): no memory for the method table",
             (unsigned long long)fid, (unsigned)tok);
        break;
    }
}
