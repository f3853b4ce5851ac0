/* verdict.c: the differential test's comparison (see verdict.h). */
#include <stdlib.h>
#include <string.h>

#include "ilg_private.h"
#include "verdict.h"

#define BATCH_MAX 400

const char *vx_only_family;

static mx_family next_family(const mx_module *m, uint64_t *rng)
{
    if (m->slots.box && !vx_only_family) /* the slots fixture is the operator matrix's */
        return MX_MATRIX;
    if (vx_only_family)
        for (int f = 0; f < MX_FAMILY_COUNT; f++)
            if (!strcmp(vx_only_family, mx_family_name((mx_family)f)))
                return (mx_family)f;
    return (mx_family)(mx_rand(rng) % MX_MATRIX); /* the matrix needs the slots fixture */
}

static ilg_status call_shape(void *ctx, uint32_t token, uint32_t *pops, bool *has_this, bool *pushes)
{
    return ilg_md_call_shape(ctx, token, pops, has_this, pushes);
}

/* One for every prediction (and one for the documented exceptions' strict look): their
 * caches learn the module's tokens once. Freed when the module is closed (another
 * module's scope may then sit at the same address). */
static ilg_findings findings, strict;

static const struct {
    const char *name, *reason;
} docs[VX_DOC_COUNT] = {
    [VX_DOC_VALUE_TYPE] = { "value-type",
        "a value type where the JIT wants a primitive, an object or an address (or the reverse): "
        "whether it throws InvalidProgramException, crashes or compiles the body depends on the "
        "struct's size and layout and on what the value feeds, which the verifier does not compute" },
    [VX_DOC_MISSING_METHODDEF] = { "missing-methoddef",
        "a MethodDef past the end of its table: the runtime looks it up in the last TypeDef, and "
        "when that type is generic the same body gives TypeLoadException or BadImageFormatException "
        "by what the process loaded before" },
    [VX_DOC_JIT_MEMORY] = { "jit-memory",
        "stack depths that do not match: the JIT sometimes exhausts memory (the harness kills it "
        "at 3 GiB) instead of throwing InvalidProgramException (in the probe that reproduces it, a "
        "later, deeper path widened a spill temporary the first path typed: see retyped-spill)" },
    [VX_DOC_RETBUF_ARG] = { "retbuf-arg",
        "ldarg/ldarga of the argument just past the last, in a method that returns a value type: "
        "the JIT counts the hidden return-buffer argument and compiles it (or crashes on it)" },
    [VX_DOC_NEWOBJ_METHOD] = { "newobj-method",
        "newobj of a method that is not a constructor: the JIT's stack effect and verdict depend "
        "on the method (an intrinsic pops its `this` from the stack)" },
    [VX_DOC_FLOAT_ARG] = { "float-arg",
        "a float stored into an integer argument: into an int32 or bool one the JIT compiles it, but "
        "in some methods crashes on it (for 'int32 conv.r.un; starg' 4 times in 16); into a 16-bit "
        "one it crashed in every hand-written probe, which the verifier reports, yet some mutants of "
        "Uri.HexEscape(char) compiled, by what the verifier could not tell" },
    [VX_DOC_METHOD_POINTER] = { "method-pointer",
        "a method's pointer (ldftn, ldvirtftn) stored into an object-reference local: the JIT crashed "
        "on it in every hand-written probe (with and without EH, the local used or not), which the "
        "verifier reports, but compiled it in a mutant of CookieContainer.Add, by what it could not tell" },
    [VX_DOC_MERGED_PATHS] = { "merged-paths",
        "a value of different kinds on the paths that meet, passed to a call: the JIT's spill "
        "temporary takes the type of the path it imports first and only that one is held against the "
        "parameter; the verifier requires every path's to pass" },
    [VX_DOC_FAULT_ORDER] = { "fault-order",
        "a body with several faults, both refusing it: the verifier has one whose outcome is the "
        "runtime's, but takes another for the first, because the JIT meets them in its import order "
        "(a depth mismatch when it imports the later branch) rather than in IL order" },
    [VX_DOC_SPAN_ITEM_OPTIMIZED] = { "span-item-optimized",
        "Span<T>/ReadOnlySpan<T>.get_Item with an int32 or a float as `this`, in a method the JIT compiles "
        "optimized (a loop and localloc: OSR cannot handle localloc, so the method skips tier 0): there the "
        "JIT does not expand the call in place but checks it like any other (a bad index is then "
        "InvalidProgramException); at tier 0, which the verifier follows, it expands it unchecked" },
    [VX_DOC_CONSTRAINED_SLOT] = { "constrained-slot",
        "constrained. to a value type before a call of a class's virtual method: the runtime looks the "
        "method's vtable slot up in the value type's table, where it names an unrelated method of that "
        "type (the JIT imports the call with that method's signature: InvalidProgramException, "
        "BadImageFormatException, or a body that compiles) or lies past the table's end (a crash, or "
        "whatever the memory there holds); the verifier refuses the body with the outcome seen most for "
        "the kind of type, but does not lay out vtables; to an enum the slot is System.Enum's: within its "
        "table the call compiles (the verifier's verdict), past its end the JIT crashes" },
    [VX_DOC_CONSTRAINED_STATIC] = { "constrained-static",
        "constrained. to a class before a call of a plain static method of another type: the JIT crashes "
        "unless the class derives from the method's type, which the verifier does not know (it has no "
        "base types)" },
    [VX_DOC_INSTANTIATION] = { "instantiation",
        "another instantiation of a generic method called where the method returns an instantiated "
        "generic value type (Enumerable.Sum for Nullable<int64> calling Sum<float32, float64>, whose "
        "Nullable<float32> it returns): the JIT refuses a struct of another instantiation, but the "
        "verifier's types keep only a generic value type's definition, not its arguments" },
    [VX_DOC_OPEN_OWNER] = { "open-owner",
        "a member of a generic type definition named by its MethodDef or Field token: the JIT's "
        "TypeLoadException comes from loading the definition as a type, which succeeds once something "
        "else in the process (a ldtoken of the definition, in an earlier mutant) has loaded it; the JIT "
        "then compiles the body or meets its next fault, which the verifier does not look for" },
    [VX_DOC_RETYPED_SPILL] = { "retyped-spill",
        "stack depths that do not match where paths meet, and the JIT compiles the body: it checks the "
        "depth when a predecessor queues an already-imported join, except when that predecessor's spill "
        "widens a spill temporary the first path typed (int32 to a managed pointer, native int or "
        "int64, float32 to float64; not native int to a managed pointer, nor int32 to an object): it "
        "then re-imports the join with the first path's stack and skips the check (a later path "
        "deeper than the first: jit-memory). Which path comes "
        "first is the JIT's import order (a depth-first worklist, a branch's target before its "
        "fall-through), which the verifier does not follow" },
    [VX_DOC_TYPE_INTRINSIC] = { "type-intrinsic",
        "System.Type's op_Equality/op_Inequality, which the JIT may expand in place without "
        "checking the arguments" },
};

const char *vx_doc_name(vx_doc d) { return docs[d].name; }
const char *vx_doc_reason(vx_doc d) { return docs[d].reason; }

static mx_outcome outcome_of(uint8_t o)
{
    switch (o) {
    case ILG_OUTCOME_INVALID_PROGRAM: return MX_INVALID_PROGRAM;
    case ILG_OUTCOME_BAD_IMAGE: return MX_BAD_IMAGE;
    case ILG_OUTCOME_LOAD_ERROR: case ILG_OUTCOME_OTHER_EXCEPTION: return MX_OTHER_EXCEPTION;
    case ILG_OUTCOME_CRASH: return MX_CRASH;
    default: return MX_OK;
    }
}

/* The body's findings at level into f: 1 verified, 0 does not decode (message in why),
 * -1 out of memory. */
static int verify_at(const ilg_md_scope *scope, uint32_t token, const uint8_t *bytes, uint32_t size,
                     ilg_verify_level level, ilg_findings *f, char *why, size_t why_size)
{
    ilg_body *b = NULL;
    int rc = -1;
    if (ilg_body_new(&b) != ILG_OK)
        return -1;
    if (ilg_body_decode(b, bytes, size) != ILG_OK) {
        const ilg_diag *d = ilg_last_diag();
        snprintf(why, why_size, "%s: %s", ilg_status_name(d->status), d->message);
        rc = 0;
        goto done;
    }
    uint32_t pops;
    bool has_this, pushes;
    ilg_stack_resolver r = { call_shape, (void *)scope->md, -1 };
    if (ilg_md_call_shape(scope->md, token, &pops, &has_this, &pushes) == ILG_OK)
        r.ret_pops = pushes;
    ilg_type_resolver tr;
    ilg_md_type_resolver(scope, token, &tr);
    const ilg_verify_options vo = { level, &r, &tr };
    rc = ilg_body_verify_opts(b, &vo, f) == ILG_OK ? 1 : -1;
done:
    ilg_body_free(b);
    return rc;
}

mx_outcome vx_predict(const ilg_md_scope *scope, uint32_t token, const uint8_t *bytes, uint32_t size,
                      char *why, size_t why_size)
{
    why[0] = 0;
    const int rc = verify_at(scope, token, bytes, size, ILG_VERIFY_JIT, &findings, why, why_size);
    if (rc <= 0)
        return rc == 0 ? MX_INVALID_PROGRAM : MX_NOT_RUN;
    mx_outcome o = outcome_of(findings.outcome);
    for (uint32_t k = 0; k < findings.count; k++)
        if (findings.items[k].severity == ILG_SEVERITY_ERROR) {
            size_t n = strlen(why);
            snprintf(why + n, why_size - n, "%s%s %s", n ? " | " : "", ilg_status_name(findings.items[k].rule),
                     findings.items[k].message);
        }
    return o;
}

/* Whether MethodDef token's signature returns a value type (II.23.2.1); with inst_only,
 * an instantiated generic one. */
static bool returns_value_type(const mx_module *m, uint32_t token, bool inst_only)
{
    ilg_member_facts mf;
    if (ilg_md_member_facts(&m->scope, token, &mf) != ILG_OK || mf.sig_len < 3)
        return false;
    size_t k = 1;
    uint32_t n;
    if (mf.sig[0] & ILG_SIG_GENERIC) {
        size_t c = ilg__rd_compressed(mf.sig + k, mf.sig_len - k, &n);
        if (!c)
            return false;
        k += c;
    }
    size_t c = ilg__rd_compressed(mf.sig + k, mf.sig_len - k, &n); /* the parameter count */
    if (!c || k + c >= mf.sig_len)
        return false;
    k += c;
    const uint8_t r = mf.sig[k];
    return (r == ILG_ET_VALUETYPE && !inst_only) ||
           (r == ILG_ET_GENERICINST && k + 1 < mf.sig_len && mf.sig[k + 1] == ILG_ET_VALUETYPE);
}

static bool has_finding(const ilg_findings *f, ilg_status rule, bool errors_only, const char *text)
{
    for (uint32_t k = 0; k < f->count; k++)
        if ((rule == ILG_OK || f->items[k].rule == rule) &&
            (!errors_only || f->items[k].severity == ILG_SEVERITY_ERROR) &&
            (!text || strstr(f->items[k].message, text)))
            return true;
    return false;
}

/* Whether the first error of findings (in IL order) says text. */
static bool first_error_says(const ilg_findings *f, const char *text)
{
    const ilg_finding *first = NULL;
    for (uint32_t k = 0; k < f->count; k++)
        if (f->items[k].severity == ILG_SEVERITY_ERROR && (!first || f->items[k].offset < first->offset))
            first = &f->items[k];
    return first && strstr(first->message, text);
}

/* Whether an error of findings names a call target whose name holds text. */
static bool error_at_call_to(const mx_module *m, const ilg_findings *f, ilg_status rule, const char *text)
{
    for (uint32_t k = 0; k < f->count; k++) {
        const char *of = strstr(f->items[k].message, " of 0x");
        unsigned tok;
        char name[512];
        if (f->items[k].rule == rule && of && sscanf(of, " of 0x%x", &tok) == 1 &&
            ilg_md_member_name(m->md, tok, name, sizeof name, NULL) == ILG_OK && strstr(name, text))
            return true;
    }
    return false;
}

/* Whether the JIT compiles body straight to full optimization: a loop (a backward
 * branch) with localloc, which on-stack replacement cannot handle. */
static bool optimized_at_once(const ilg_body *b)
{
    bool loop = false, alloc = false;
    for (uint32_t i = 0; i < b->count; i++) {
        const ilg_instr *in = &b->instrs[i];
        const uint8_t kind = ilg_opcode_get(in->op)->operand;
        alloc |= in->op == ILG_OP_LOCALLOC;
        if (kind == ILG_OPND_BR1 || kind == ILG_OPND_BR4)
            loop |= in->arg.target <= i;
        else if (kind == ILG_OPND_SWITCH)
            for (uint32_t k = 0; k < in->arg.sw.count; k++)
                loop |= b->targets[in->arg.sw.first + k] <= i;
    }
    return loop && alloc;
}

/* Whether a strict `this` finding of the mutant is an int32 or a float passed to a
 * Span's or ReadOnlySpan's get_Item in a method compiled optimized at once. */
static bool span_item_this_optimized(const mx_module *m, const mx_mutant *mu)
{
    static const char *const kinds[] = { "int32", "bool", "char", "int8", "uint8", "int16", "uint16",
                                         "float32", "float64" };
    ilg_body *b;
    bool found = false;
    if (ilg_body_new(&b) != ILG_OK)
        return false;
    if (ilg_body_decode(b, mu->bytes, mu->size) == ILG_OK && optimized_at_once(b))
        for (uint32_t k = 0; k < strict.count && !found; k++) {
            const ilg_finding *f = &strict.items[k];
            char what[64], name[512];
            bool kind = false;
            for (size_t j = 0; j < sizeof kinds / sizeof *kinds; j++) {
                snprintf(what, sizeof what, "`this` is %s,", kinds[j]);
                kind |= strstr(f->message, what) != NULL;
            }
            for (uint32_t i = 0; kind && i < b->count && !found; i++)
                found = b->instrs[i].offset == f->offset && f->rule == ILG_E_IL_VERIFY_THIS &&
                        b->instrs[i].op == ILG_OP_CALL &&
                        ilg_md_member_name(m->md, b->instrs[i].arg.token, name, sizeof name, NULL) == ILG_OK &&
                        strstr(name, "Span`1<") && strstr(name, "::get_Item(");
        }
    ilg_body_free(b);
    return found;
}

/* The documented exception a disagreement falls under, or -1. Each is a property of the
 * mutant that ilgraft can see (its findings, at level strict too) and, where the
 * runtime's answer is what varies, of that answer. */
static int documented(const mx_module *m, const mx_mutant *mu, const mx_verdict *v)
{
    char why[200];
    if (verify_at(&m->scope, mu->token, mu->bytes, mu->size, ILG_VERIFY_STRICT, &strict, why, sizeof why) <= 0)
        return -1;
    if (v->outcome != MX_OTHER_EXCEPTION && outcome_of(findings.outcome) == MX_OTHER_EXCEPTION &&
        has_finding(&findings, ILG_E_IL_VERIFY_MEMBER, true, "belongs to the generic type definition"))
        return VX_DOC_OPEN_OWNER;
    if (first_error_says(&findings, "looks its vtable slot up in the value type's table") ||
        (v->outcome == MX_CRASH && findings.errors == 0 &&
         has_finding(&strict, ILG_E_IL_VERIFY_PREFIX, false, "looks its vtable slot up in System.Enum's table")))
        return VX_DOC_CONSTRAINED_SLOT;
    if (v->outcome == MX_OK && first_error_says(&findings, "unless it derives from it"))
        return VX_DOC_CONSTRAINED_STATIC;
    if (v->outcome == MX_INVALID_PROGRAM && findings.errors == 0 && mu->family == MX_TOKEN &&
        strstr(mu->what, "-> 0x2b") && returns_value_type(m, mu->token, true))
        return VX_DOC_INSTANTIATION;
    if (v->outcome == MX_INVALID_PROGRAM && findings.errors == 0 && span_item_this_optimized(m, mu))
        return VX_DOC_SPAN_ITEM_OPTIMIZED;
    if (v->outcome == MX_OTHER_EXCEPTION && strstr(v->detail, "TypeLoadException") &&
        has_finding(&findings, ILG_E_IL_VERIFY_TOKEN_ROW, true, "token 0x06"))
        return VX_DOC_MISSING_METHODDEF;
    if (v->outcome == MX_CRASH && strstr(v->detail, "killed at") &&
        (has_finding(&findings, ILG_E_IL_VERIFY_MERGE, true, NULL) ||
         has_finding(&findings, ILG_E_IL_VERIFY_RET, true, NULL)))
        return VX_DOC_JIT_MEMORY;
    /* the first fault a join of unequal depths, and no newobj of an intrinsic (whose stack
     * effect is newobj-method's) */
    if (v->outcome == MX_OK && has_finding(&findings, ILG_E_IL_VERIFY_MERGE, true, NULL) &&
        first_error_says(&findings, "on another path") &&
        !has_finding(&strict, ILG_E_IL_VERIFY_MEMBER, false, "is not a constructor"))
        return VX_DOC_RETYPED_SPILL;
    if ((v->outcome == MX_OK || v->outcome == MX_CRASH) && findings.errors == 1 &&
        has_finding(&findings, ILG_E_IL_VERIFY_ARG_INDEX, true, NULL)) {
        unsigned a, n;
        for (uint32_t k = 0; k < findings.count; k++) {
            const char *p = strstr(findings.items[k].message, "argument ");
            if (findings.items[k].rule == ILG_E_IL_VERIFY_ARG_INDEX && p &&
                sscanf(p, "argument %u, but the method has %u", &a, &n) == 2 && a == n && returns_value_type(m, mu->token, false))
                return VX_DOC_RETBUF_ARG;
        }
    }
    if (v->outcome == MX_CRASH && findings.errors == 0 &&
        (has_finding(&strict, ILG_E_IL_VERIFY_STORE, false, "argument of type int32 stored from float") ||
         has_finding(&strict, ILG_E_IL_VERIFY_STORE, false, "argument of type char stored from float") ||
         has_finding(&strict, ILG_E_IL_VERIFY_STORE, false, "argument of type bool stored from float")))
        return VX_DOC_FLOAT_ARG;
    if (v->outcome == MX_OK && (has_finding(&findings, ILG_E_IL_VERIFY_STORE, true, "argument of 16-bit type")))
        return VX_DOC_FLOAT_ARG;
    if (v->outcome == MX_OK && findings.errors == 1 &&
        has_finding(&findings, ILG_E_IL_VERIFY_STORE, true, "stored from a method pointer"))
        return VX_DOC_METHOD_POINTER;
    if (v->outcome == MX_OK && has_finding(&findings, ILG_E_IL_VERIFY_CALL_ARG, true, " is unknown, the parameter"))
        return VX_DOC_MERGED_PATHS;
    /* a primitive stored into a value-type argument or local: what the JIT does with the
     * operation that made it depends on how it retypes the struct store */
    if (v->outcome == MX_OK && (has_finding(&findings, ILG_E_IL_VERIFY_STORE, true, "argument of value type") ||
                                has_finding(&findings, ILG_E_IL_VERIFY_STORE, true, "local of value type")))
        return VX_DOC_VALUE_TYPE;
    if (v->outcome != MX_OK && v->outcome != MX_CRASH)
        for (uint32_t k = 0; k < findings.count; k++)
            if (findings.items[k].severity == ILG_SEVERITY_ERROR && outcome_of(findings.items[k].outcome) == v->outcome)
                return VX_DOC_FAULT_ORDER;
    if (has_finding(&strict, ILG_E_IL_VERIFY_MEMBER, false, "is not a constructor"))
        return VX_DOC_NEWOBJ_METHOD;
    if (error_at_call_to(m, &findings, ILG_E_IL_VERIFY_CALL_ARG, "System.Type::op_"))
        return VX_DOC_TYPE_INTRINSIC;
    /* the value type is what ilgraft's verdict turned on: its first error, or (when it
     * has none) a strict finding */
    if (findings.errors ? first_error_says(&findings, "value type") : has_finding(&strict, ILG_OK, false, "value type"))
        return VX_DOC_VALUE_TYPE;
    return -1;
}

static void shuffle(mx_method *a, size_t n, uint64_t *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(mx_rand(rng) % i);
        mx_method t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* Runs the originals of the first n methods; keeps those the JIT compiles. */
static bool baseline(mx_runner *r, mx_module *m, size_t n, vx_tally *t)
{
    mx_mutant *mus = calloc(n ? n : 1, sizeof *mus);
    mx_verdict *v = calloc(n ? n : 1, sizeof *v);
    bool ok = mus && v;
    for (size_t i = 0; ok && i < n; i++)
        mus[i].token = m->methods[i].token; /* no bytes: the original body is compiled */
    ok = ok && mx_run(r, m->path, mus, n, v);
    size_t kept = 0;
    for (size_t i = 0; ok && i < n; i++)
        if (v[i].outcome == MX_OK)
            m->methods[kept++] = m->methods[i];
        else
            t->baseline_failed++;
    t->baseline_methods = kept;
    m->count = ok ? kept : 0;
    free(mus);
    free(v);
    return ok;
}

const char *vx_show;

static bool token_name(void *ctx, uint32_t token, char *buf, size_t size)
{
    const uint32_t t = token >> 24;
    ilg_status st = (t == ILG_TBL_TypeDef || t == ILG_TBL_TypeRef || t == ILG_TBL_TypeSpec)
                        ? ilg_md_type_name(ctx, token, buf, size, NULL)
                        : ilg_md_member_name(ctx, token, buf, size, NULL);
    return st == ILG_OK || st == ILG_E_RANGE;
}

/* The mutant as text, for a reader of the disagreements (--show). */
static void show(FILE *out, const mx_module *m, const mx_mutant *mu)
{
    ilg_body *b;
    ilg_buffer text = { 0 };
    ilg_name_resolver names = { token_name, NULL, (void *)m->md };
    if (ilg_body_new(&b) != ILG_OK)
        return;
    if (ilg_body_decode(b, mu->bytes, mu->size) == ILG_OK && ilg_body_disassemble(b, &names, &text) == ILG_OK)
        fprintf(out, "%s", text.data);
    free(text.data);
    ilg_body_free(b);
}

static void report(FILE *out, const mx_module *m, const mx_mutant *mu, const mx_verdict *v,
                   mx_outcome ilg, const char *why, bool same, int doc)
{
    char name[512];
    if (ilg_md_method_name(m->md, mu->token & 0xFFFFFF, name, sizeof name, NULL) != ILG_OK)
        snprintf(name, sizeof name, "?");
    fprintf(out, "%s %-11s 0x%08x %s\n    %s\n    jit: %s (%s)\n    ilgraft: %s%s%s\n",
            same ? "agree   " : doc >= 0 ? docs[doc].name : "DISAGREE", mx_family_name(mu->family), mu->token,
            name, mu->what,
            mx_outcome_name(v->outcome), v->detail, mx_outcome_name(ilg), why[0] ? ": " : "", why);
    if (!same && doc < 0 && vx_show && (!*vx_show || !strcmp(vx_show, mx_family_name(mu->family))))
        show(out, m, mu);
}

static void compare(const mx_module *m, const mx_mutant *mus, const mx_verdict *v, size_t n,
                    FILE *log, vx_tally *t)
{
    for (size_t i = 0; i < n; i++) {
        char why[400];
        if (v[i].outcome == MX_NOT_RUN || !v[i].installed) {
            t->not_installed++;
            continue;
        }
        mx_outcome ilg = vx_predict(&m->scope, mus[i].token, mus[i].bytes, mus[i].size, why, sizeof why);
        const bool same = v[i].outcome == ilg;
        const int doc = same ? -1 : documented(m, &mus[i], &v[i]);
        t->mutants++;
        t->matrix[v[i].outcome][ilg]++;
        t->family[mus[i].family][same ? 1 : doc >= 0 ? 2 : 0]++;
        if (same) {
            t->agree++;
        } else if (doc >= 0) {
            t->documented++;
            t->doc[doc]++;
        } else {
            t->disagree++;
        }
        if ((!same && doc < 0) || log)
            report(same || doc >= 0 ? log : (log ? log : stdout), m, &mus[i], &v[i], ilg, why, same, doc);
    }
}

bool vx_assembly(mx_runner *r, const char *path, unsigned long n, unsigned long seed,
                 uint32_t max_code, FILE *log, vx_tally *t)
{
    mx_module m;
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 1;
    if (!mx_open(path, max_code, &m))
        return false;
    shuffle(m.methods, m.count, &rng);
    bool ok = baseline(r, &m, m.count < n ? m.count : n, t);
    mx_mutant *mus = calloc(BATCH_MAX, sizeof *mus);
    mx_verdict *v = calloc(BATCH_MAX, sizeof *v);
    unsigned long made = 0;
    ok = ok && mus && v && m.count;
    while (ok && made < n) {
        size_t k = 0;
        for (size_t i = 0; i < m.count && k < BATCH_MAX && made + k < n; i++)
            for (int tries = 0; tries < 4; tries++)
                if (mx_make(&m, &m.methods[i], next_family(&m, &rng), &rng,
                            &mus[k])) {
                    k++;
                    break;
                }
        if (!k || !mx_run(r, m.path, mus, k, v)) {
            ok = k == 0 && made > 0;
            break;
        }
        compare(&m, mus, v, k, log, t);
        for (size_t i = 0; i < k; i++)
            mx_mutant_free(&mus[i]);
        made += k;
    }
    free(mus);
    free(v);
    ilg_findings_free(&findings);
    ilg_findings_free(&strict);
    mx_close(&m);
    return ok;
}

void vx_add(vx_tally *to, const vx_tally *from)
{
    unsigned long *d = (unsigned long *)to;
    const unsigned long *s = (const unsigned long *)from;
    for (size_t i = 0; i < sizeof *to / sizeof *d; i++)
        d[i] += s[i];
}

void vx_print_tally(FILE *out, const char *title, const vx_tally *t)
{
    fprintf(out, "== %s: %lu mutants compared, %lu agree, %lu documented exceptions, %lu disagree "
            "(%lu not installed; baseline %lu methods, %lu failed)\n",
            title, t->mutants, t->agree, t->documented, t->disagree, t->not_installed, t->baseline_methods,
            t->baseline_failed);
    for (int f = 0; f < MX_FAMILY_COUNT; f++)
        if (t->family[f][0] + t->family[f][1] + t->family[f][2])
            fprintf(out, "   %-12s %5lu agree %5lu documented %5lu disagree\n", mx_family_name((mx_family)f),
                    t->family[f][1], t->family[f][2], t->family[f][0]);
    for (int d = 0; d < VX_DOC_COUNT; d++)
        if (t->doc[d])
            fprintf(out, "   documented %-18s %5lu\n", docs[d].name, t->doc[d]);
    fprintf(out, "   jit \\ ilgraft:");
    for (int o = 1; o < MX_OUTCOME_COUNT; o++)
        fprintf(out, " %.12s", mx_outcome_name((mx_outcome)o));
    fputc('\n', out);
    for (int j = 1; j < MX_OUTCOME_COUNT; j++) {
        fprintf(out, "   %-14.14s", mx_outcome_name((mx_outcome)j));
        for (int o = 1; o < MX_OUTCOME_COUNT; o++)
            fprintf(out, " %12lu", t->matrix[j][o]);
        fputc('\n', out);
    }
}
