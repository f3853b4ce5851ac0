/* test_ilbody_corpus.c: every method body of every installed Mono 4.5 and .NET
 * shared-framework assembly decodes, verifies (stack effects from the metadata's
 * signatures), re-encodes byte for byte in preserve mode, and re-encodes in optimize mode
 * to a body that decodes and verifies again; and every body verifies at level jit (the
 * type-level rules CoreCLR's JIT applies), Mono's Facades and .exe files included. Bodies that cannot are listed below with
 * the reason; anything else fails the test. A cross-check against monodis: for every
 * method monodis disassembles in the sampled assemblies, the instruction offsets and
 * opcode names match ours. */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilgraft/ilbody.h"
#include "ilgraft/metadata.h"
#include "unit/fixture_util.h"

/* Known exceptions: (assembly file name, method token, stage, why). An entry that stops
 * failing is reported too, so the list cannot go stale. Every installed body passes the
 * round-trip stages; at level jit two Mono bodies fail, and CoreCLR agrees with us. */
static const struct exception {
    const char *file;
    uint32_t token;
    const char *stage;
    const char *reason;
} exceptions[] = {
    /* mcs compiles `stackalloc` inside an expression as `dup; localloc` with the count
     * still below it on the stack; Mono runs it, CoreCLR's JIT refuses localloc on a
     * stack that is not empty: InvalidProgramException from RuntimeHelpers.PrepareMethod
     * under CoreCLR 10.0.12 (docs/coreclr-observed.md) */
    { "System.Net.Http.dll", 0x0600044b, "jit", "localloc with a non-empty stack (mcs); CoreCLR rejects it" },
    { "System.Security.dll", 0x060000be, "jit", "localloc with a non-empty stack (mcs); CoreCLR rejects it" },
    { NULL, 0, NULL, NULL },
};

typedef struct tally {
    unsigned long assemblies, bodies, decoded, verified, identical, optimized, excepted;
    unsigned long unexpected;
    char first[1024];
} tally;

static unsigned exception_hits[sizeof exceptions / sizeof exceptions[0]];

static const struct exception *find_exception(const char *path, uint32_t token, const char *stage)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (const struct exception *e = exceptions; e->file; e++)
        if (e->token == token && strcmp(e->file, base) == 0 && strcmp(e->stage, stage) == 0) {
            exception_hits[e - exceptions]++;
            return e;
        }
    return NULL;
}

static void record_failure(tally *t, const char *path, uint32_t token, const char *stage, const char *why)
{
    if (find_exception(path, token, stage)) {
        t->excepted++;
        return;
    }
    if (t->unexpected++ == 0)
        snprintf(t->first, sizeof t->first, "%s: 0x%08x: %s: %s", path, token, stage, why);
    fprintf(stderr, "%s: 0x%08x: %s: %s\n", path, token, stage, why);
}

/* Every listed exception of one stage was met. */
static void assert_exceptions_hit(const char *stage)
{
    for (const struct exception *e = exceptions; e->file; e++)
        ck_assert_msg(strcmp(e->stage, stage) != 0 || exception_hits[e - exceptions] > 0,
                      "listed exception %s 0x%08x %s no longer fails", e->file, e->token, e->stage);
}

static ilg_status shape(void *ctx, uint32_t token, uint32_t *pops, bool *has_this, bool *pushes)
{
    return ilg_md_call_shape(ctx, token, pops, has_this, pushes);
}

static void add_glob(glob_t *g, const char *pattern, int *flags)
{
    glob(pattern, *flags, NULL, g);
    *flags |= GLOB_APPEND;
}

static void check_assembly(const char *path, tally *t, ilg_body *b, ilg_body *d, ilg_buffer *buf,
                           ilg_findings *f)
{
    ilg_image *img;
    const ilg_metadata *md;
    ck_assert_msg(ilg_image_open(path, NULL, &img) == ILG_OK, "%s: %s", path, ilg_last_diag()->message);
    ck_assert_msg(ilg_image_metadata(img, &md) == ILG_OK, "%s: %s", path, ilg_last_diag()->message);
    t->assemblies++;
    char why[512];
    const uint32_t n = ilg_md_row_count(md, ILG_TBL_MethodDef);
    for (uint32_t rid = 1; rid <= n; rid++) {
        const uint32_t token = 0x06000000u | rid;
        ilg_method_body mb;
        ck_assert_int_eq(ilg_md_method_body(md, rid, &mb), ILG_OK);
        if (mb.kind != ILG_BODY_TINY && mb.kind != ILG_BODY_FAT)
            continue;
        t->bodies++;
        ilg_status st = ilg_body_decode(b, mb.header, mb.body_size);
        if (st != ILG_OK) {
            snprintf(why, sizeof why, "%s: %s", ilg_status_name(st), ilg_last_diag()->message);
            record_failure(t, path, token, "decode", why);
            continue;
        }
        t->decoded++;
        ck_assert_uint_eq(b->size, mb.body_size);
        uint32_t pops;
        bool has_this, pushes;
        ilg_stack_resolver r = { shape, (void *)md, -1 };
        if (ilg_md_call_shape(md, token, &pops, &has_this, &pushes) == ILG_OK)
            r.ret_pops = pushes;
        ck_assert_int_eq(ilg_body_verify(b, &r, f), ILG_OK);
        if (f->count) {
            snprintf(why, sizeof why, "%u findings, first %s: %s", f->count,
                     ilg_status_name(f->items[0].rule), f->items[0].message);
            record_failure(t, path, token, "verify", why);
        } else {
            t->verified++;
        }
        ck_assert_int_eq(ilg_body_copy(d, b), ILG_OK);
        st = ilg_body_encode(d, ILG_ENCODE_PRESERVE, NULL, buf);
        if (st != ILG_OK || buf->len != mb.body_size || memcmp(buf->data, mb.header, buf->len) != 0) {
            snprintf(why, sizeof why, "preserve: %s, %zu bytes for %u", ilg_status_name(st), buf->len,
                     mb.body_size);
            record_failure(t, path, token, "preserve", why);
        } else {
            t->identical++;
        }
        st = ilg_body_encode(b, ILG_ENCODE_OPTIMIZE, &r, buf);
        if (st == ILG_OK)
            st = ilg_body_decode(d, buf->data, buf->len);
        if (st == ILG_OK)
            st = ilg_body_verify(d, &r, f);
        if (st != ILG_OK || f->count) {
            snprintf(why, sizeof why, "optimize: %s %s", ilg_status_name(st ? st : f->items[0].rule),
                     st ? ilg_last_diag()->message : f->items[0].message);
            record_failure(t, path, token, "optimize", why);
        } else {
            t->optimized++;
            /* optimize never writes a bigger body than the one we read */
            ck_assert_msg(buf->len <= mb.body_size, "%s: 0x%08x: optimize grew %u to %zu bytes", path,
                          token, mb.body_size, buf->len);
        }
    }
    ilg_image_close(img);
}

START_TEST(every_installed_body_round_trips)
{
    glob_t g = { 0 };
    int flags = 0;
    add_glob(&g, "/usr/lib/mono/4.5/*.dll", &flags);
    const size_t mono = g.gl_pathc;
    add_glob(&g, "/usr/share/dotnet/shared/Microsoft.NETCore.App/*/*.dll", &flags);
    if (!fx_require(g.gl_pathc > 0, "every_installed_body_round_trips: no Mono or .NET "
                                    "assemblies installed")) {
        globfree(&g);
        return;
    }
    fx_require(g.gl_pathc > mono, "every_installed_body_round_trips' .NET part: no .NET shared "
                                  "framework in /usr/share/dotnet (install the .NET 10 SDK); "
                                  "Mono's assemblies only");
    ilg_body *b, *d;
    ck_assert_int_eq(ilg_body_new(&b), ILG_OK);
    ck_assert_int_eq(ilg_body_new(&d), ILG_OK);
    ilg_buffer buf = { 0 };
    ilg_findings f = { 0 };
    tally t = { 0 };
    for (size_t i = 0; i < g.gl_pathc; i++) {
        /* the shared framework also holds native .so files and a few non-CLI dlls */
        ilg_image *img;
        const ilg_metadata *md;
        if (ilg_image_open(g.gl_pathv[i], NULL, &img) != ILG_OK)
            continue;
        bool cli = ilg_image_metadata(img, &md) == ILG_OK;
        ilg_image_close(img);
        if (cli)
            check_assembly(g.gl_pathv[i], &t, b, d, &buf, &f);
    }
    printf("ilbody corpus: %lu assemblies, %lu bodies: %lu decoded, %lu verified, %lu identical "
           "(preserve), %lu optimized and valid, %lu listed exceptions\n",
           t.assemblies, t.bodies, t.decoded, t.verified, t.identical, t.optimized, t.excepted);
    ck_assert_msg(t.unexpected == 0, "%lu unexpected failures; first: %s", t.unexpected, t.first);
    static const char *const stages[] = { "decode", "verify", "preserve", "optimize" };
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++)
        assert_exceptions_hit(stages[i]);
    ck_assert_uint_gt(t.bodies, 100000);
    ilg_body_free(b);
    ilg_body_free(d);
    free(buf.data);
    ilg_findings_free(&f);
    globfree(&g);
}
END_TEST

/* ---- level jit: no false alarms ------------------------------------------------------
 * The installed assemblies were built by real compilers and run: at level jit (what
 * CoreCLR's JIT rejects, docs/ilbody.md) every body must verify, with references into
 * other assemblies followed through the universe beside the image (ilg_md_universe_beside).
 * The resolver's reach is counted too (member references whose member was found), so a
 * pass cannot come from a verifier that resolved nothing; the references it cannot
 * follow lead to assemblies that are not installed beside the image (Mono.Cecil and
 * Mono.Profiler.Log, referenced by Mono's tools). */

typedef struct jit_tally {
    unsigned long assemblies, bodies, clean, excepted, unexpected, warnings;
    unsigned long refs, refs_known;
    char first[1024];
} jit_tally;

static void jit_assembly(const char *path, jit_tally *t, ilg_body *b, ilg_findings *f)
{
    ilg_image *img;
    const ilg_metadata *md;
    if (ilg_image_open(path, NULL, &img) != ILG_OK)
        return;
    if (ilg_image_metadata(img, &md) != ILG_OK) { /* native .so files, non-CLI dlls */
        ilg_image_close(img);
        return;
    }
    t->assemblies++;
    ilg_md_scope scope = { md, NULL };
    ck_assert_int_eq(ilg_md_universe_beside(path, md, &scope.universe), ILG_OK);
    const uint32_t refs = ilg_md_row_count(md, ILG_TBL_MemberRef);
    for (uint32_t rid = 1; rid <= refs; rid++) {
        ilg_member_facts mf;
        t->refs++;
        if (ilg_md_member_facts(&scope, 0x0A000000u | rid, &mf) == ILG_OK && (mf.flags & ILG_MEMBER_KNOWN))
            t->refs_known++;
    }
    const uint32_t n = ilg_md_row_count(md, ILG_TBL_MethodDef);
    for (uint32_t rid = 1; rid <= n; rid++) {
        const uint32_t token = 0x06000000u | rid;
        ilg_method_body mb;
        ck_assert_int_eq(ilg_md_method_body(md, rid, &mb), ILG_OK);
        if (mb.kind != ILG_BODY_TINY && mb.kind != ILG_BODY_FAT)
            continue;
        t->bodies++;
        ck_assert_int_eq(ilg_body_decode(b, mb.header, mb.body_size), ILG_OK);
        uint32_t pops;
        bool has_this, pushes;
        ilg_stack_resolver r = { shape, (void *)md, -1 };
        if (ilg_md_call_shape(md, token, &pops, &has_this, &pushes) == ILG_OK)
            r.ret_pops = pushes;
        ilg_type_resolver tr;
        ilg_md_type_resolver(&scope, token, &tr);
        const ilg_verify_options o = { ILG_VERIFY_JIT, &r, &tr };
        ck_assert_int_eq(ilg_body_verify_opts(b, &o, f), ILG_OK);
        t->warnings += f->count - f->errors;
        if (f->errors == 0) {
            t->clean++;
            continue;
        }
        const ilg_finding *x = f->items;
        while (x->severity != ILG_SEVERITY_ERROR)
            x++;
        if (find_exception(path, token, "jit")) {
            t->excepted++;
            continue;
        }
        if (t->unexpected++ == 0)
            snprintf(t->first, sizeof t->first, "%s: 0x%08x: IL_%04x %s: %s", path, token, x->offset,
                     ilg_status_name(x->rule), x->message);
        fprintf(stderr, "%s: 0x%08x: IL_%04x %s: %s\n", path, token, x->offset, ilg_status_name(x->rule),
                x->message);
    }
    ilg_findings_free(f); /* its token cache belongs to this module */
    ilg_md_universe_free(scope.universe);
    ilg_image_close(img);
}

START_TEST(every_installed_body_verifies_at_level_jit)
{
    glob_t g = { 0 };
    int flags = 0;
    add_glob(&g, "/usr/lib/mono/4.5/*.dll", &flags);
    add_glob(&g, "/usr/lib/mono/4.5/*.exe", &flags);
    add_glob(&g, "/usr/lib/mono/4.5/Facades/*.dll", &flags);
    add_glob(&g, "/usr/share/dotnet/shared/Microsoft.NETCore.App/*/*.dll", &flags);
    if (!fx_require(g.gl_pathc > 0, "no Mono or .NET assemblies installed")) {
        globfree(&g);
        return;
    }
    ilg_body *b;
    ck_assert_int_eq(ilg_body_new(&b), ILG_OK);
    ilg_findings f = { 0 };
    jit_tally t = { 0 };
    for (size_t i = 0; i < g.gl_pathc; i++)
        jit_assembly(g.gl_pathv[i], &t, b, &f);
    printf("ilbody corpus, level jit: %lu assemblies, %lu bodies: %lu verify, %lu listed exceptions, "
           "%lu unexpected; member references resolved: %lu of %lu\n",
           t.assemblies, t.bodies, t.clean, t.excepted, t.unexpected, t.refs_known, t.refs);
    ck_assert_msg(t.unexpected == 0, "%lu false alarms; first: %s", t.unexpected, t.first);
    ck_assert_uint_eq(t.warnings, 0); /* level jit reports no warnings */
    assert_exceptions_hit("jit");
    ck_assert_uint_gt(t.bodies, 300000);
    /* the resolver reaches nearly every member reference: a figure, not a target */
    ck_assert_msg(t.refs_known * 100 >= t.refs * 99, "only %lu of %lu member references resolved",
                  t.refs_known, t.refs);
    ilg_body_free(b);
    globfree(&g);
}
END_TEST

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* ---- member names against monodis ------------------------------------------------------
 * monodis and ilg_md_member_name print the same ilasm member references with different
 * spelling conventions; both sides are brought to one form before comparing:
 * "class "/"valuetype " dropped, quotes dropped, white space collapsed and none next
 * to brackets and commas, a primitive owner by its alias (System.String:: -> string::),
 * "unsigned intN" as "uintN", parameter attributes ([out] ...) dropped, generic
 * parameters by kind only (monodis names them from the declaration: !!TResult), and
 * array lower bounds dropped ([0...,0...] -> [,]). */

static bool ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '<' || c == '>' || c == '$';
}

static bool starts(const char *p, const char *w) { return strncmp(p, w, strlen(w)) == 0; }

static void normalize_member(const char *in, char *out, size_t size)
{
    static const char *const alias[][2] = {
        { "String", "string" }, { "Object", "object" }, { "IntPtr", "native int" },
        { "UIntPtr", "native uint" }, { "Int32", "int32" }, { "Int64", "int64" },
        { "Int16", "int16" }, { "SByte", "int8" }, { "Byte", "uint8" }, { "UInt16", "uint16" },
        { "UInt32", "uint32" }, { "UInt64", "uint64" }, { "Boolean", "bool" }, { "Char", "char" },
        { "Single", "float32" }, { "Double", "float64" }, { "Void", "void" },
        { "TypedReference", "typedref" } };
    size_t n = 0;
    const char *p = in;
    while (*p && n + 16 < size) {
        const char b = p == in ? ' ' : p[-1];
        const bool word_start = !((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
                                  (b >= '0' && b <= '9') || b == '_' || b == '.');
        if (word_start && (starts(p, "class ") || starts(p, "valuetype "))) {
            p += *p == 'c' ? 6 : 10;
            continue;
        }
        if (starts(p, "[out] ") || starts(p, "[opt] ") || starts(p, "[in] ")) {
            p = strchr(p, ']') + 2;
            continue;
        }
        if (starts(p, "0...")) {
            p += 4;
            continue;
        }
        if (starts(p, "unsigned int")) {
            p += 12;
            memcpy(out + n, "uint", 4);
            n += 4;
            continue;
        }
        bool aliased = false;
        for (size_t k = 0; word_start && k < sizeof alias / sizeof alias[0] && !aliased; k++) {
            const char *q = p;
            if (starts(q, "[mscorlib]"))
                q += 10;
            if (!starts(q, "System."))
                continue;
            q += 7;
            size_t len = strlen(alias[k][0]);
            if (strncmp(q, alias[k][0], len) == 0 && q[len] == ':' && q[len + 1] == ':') {
                n += (size_t)snprintf(out + n, size - n, "%s", alias[k][1]);
                p = q + len;
                aliased = true;
            }
        }
        if (aliased)
            continue;
        if (*p == '!') {
            size_t bangs = p[1] == '!' ? 2 : 1;
            memcpy(out + n, "!!", bangs);
            n += bangs;
            out[n++] = 'N';
            p += bangs;
            while (ident_char(*p) || *p == '\'')
                p++;
            continue;
        }
        if (*p == '\'') {
            p++;
            continue;
        }
        out[n++] = *p == '\t' ? ' ' : *p;
        p++;
    }
    out[n] = 0;
    /* then white space: runs collapsed, none next to brackets and commas */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (out[i] != ' ') {
            out[m++] = out[i];
            continue;
        }
        while (i + 1 < n && out[i + 1] == ' ')
            i++;
        if (i + 1 < n && m && !strchr("(),<>", out[i + 1]) && !strchr("(,<", out[m - 1]))
            out[m++] = ' ';
    }
    out[m] = 0;
}

static bool member_operand(ilg_opcode op)
{
    static const char *const names[] = { "call", "callvirt", "newobj", "ldfld", "ldsfld",
                                         "stfld", "stsfld", "ldflda", "ldsflda", "ldftn",
                                         "ldvirtftn", "jmp" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(ilg_opcode_get(op)->name, names[i]) == 0)
            return true;
    return false;
}

/* Any name is some token of the right table: the block-form check below compares
 * layout and EH clauses, which a token's value does not change (every token is 4 bytes). */
static bool any_token(void *ctx, ilg_operand_kind kind, const char *text, size_t len,
                      uint32_t *token)
{
    (void)ctx, (void)text, (void)len;
    switch (kind) {
    case ILG_OPND_STRING: *token = 0x70000001; break;
    case ILG_OPND_METHOD: *token = 0x0A000001; break;
    case ILG_OPND_FIELD: *token = 0x04000001; break;
    case ILG_OPND_SIG: *token = 0x11000001; break;
    default: *token = 0x01000001; break;
    }
    return true;
}

static int cmp_clause(const void *x, const void *y)
{
    const uint32_t *a = x, *c = y;
    for (int k = 0; k < 6; k++)
        if (a[k] != c[k])
            return a[k] < c[k] ? -1 : 1;
    return 0;
}

/* A method's EH clauses as (kind, try start/end, handler start/end, filter start) in IL
 * offsets, sorted (the block form fixes the order of nested clauses only). */
static void clause_offsets(const ilg_body *b, uint32_t (*out)[6])
{
    for (uint32_t c = 0; c < b->eh_count; c++) {
        const ilg_eh_clause *e = &b->eh[c];
#define OFF(i) ((i) < b->count ? b->instrs[i].offset : b->code_size)
        uint32_t v[6] = { e->kind, OFF(e->try_start), OFF(e->try_end), OFF(e->handler_start),
                          OFF(e->handler_end), e->kind == ILG_EH_FILTER ? OFF(e->filter_start) : 0 };
#undef OFF
        memcpy(out[c], v, sizeof v);
    }
    qsort(out, b->eh_count, sizeof *out, cmp_clause);
}

/* monodis prints EH in ilasm's block form (.try { } catch T { }): the method's
 * instructions and braces (a switch table joined onto its line), assembled by
 * ilg_body_assemble, must give the image's instructions at the same offsets and the
 * same clauses. Returns false when the method has no EH (nothing compared). */
static bool block_form_matches(const char *path, uint32_t rva, const ilg_body *orig,
                               const char *text, ilg_body *asm_body)
{
    if (!orig->eh_count)
        return false;
    ilg_name_resolver names = { NULL, any_token, NULL };
    ilg_status st = ilg_body_assemble(asm_body, text, strlen(text), &names);
    ck_assert_msg(st == ILG_OK, "%s: RVA 0x%x: monodis's block form does not assemble: %s: %s\n%s",
                  path, rva, ilg_status_name(st), ilg_last_diag()->message, text);
    ck_assert_msg(asm_body->count == orig->count && asm_body->code_size == orig->code_size &&
                      asm_body->eh_count == orig->eh_count,
                  "%s: RVA 0x%x: assembled %u instructions, %u bytes, %u clauses; the image has "
                  "%u, %u, %u",
                  path, rva, asm_body->count, asm_body->code_size, asm_body->eh_count, orig->count,
                  orig->code_size, orig->eh_count);
    for (uint32_t i = 0; i < orig->count; i++)
        ck_assert_msg(asm_body->instrs[i].op == orig->instrs[i].op &&
                          asm_body->instrs[i].offset == orig->instrs[i].offset,
                      "%s: RVA 0x%x: instruction %u differs", path, rva, i);
    uint32_t(*a)[6] = malloc(orig->eh_count * sizeof *a), (*c)[6] = malloc(orig->eh_count * sizeof *c);
    ck_assert(a && c);
    clause_offsets(orig, a);
    clause_offsets(asm_body, c);
    for (uint32_t k = 0; k < orig->eh_count; k++)
        ck_assert_msg(cmp_clause(a[k], c[k]) == 0,
                      "%s: RVA 0x%x: clause %u: image kind %u try 0x%x-0x%x handler 0x%x-0x%x; "
                      "assembled kind %u try 0x%x-0x%x handler 0x%x-0x%x",
                      path, rva, k, a[k][0], a[k][1], a[k][2], a[k][3], a[k][4], c[k][0], c[k][1],
                      c[k][2], c[k][3], c[k][4]);
    free(a);
    free(c);
    return true;
}

typedef struct text_buf {
    char *s;
    size_t len, cap;
} text_buf;

static void text_add(text_buf *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        ck_assert_ptr_nonnull(t->s);
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = 0;
}

/* Appends monodis's line to the block-form text when it is an instruction or a brace
 * line; a switch table's continuation lines ("IL_0131,") join the switch's line. */
static void keep_line(text_buf *text, const char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    bool instr = strncmp(line, "IL_", 3) == 0;
    if (instr && !strchr(line, ':')) {
        if (text->len && text->s[text->len - 1] == '\n')
            text->len--;
        text_add(text, " ", 1);
    } else if (!instr && !starts(line, ".try") && !starts(line, "catch") &&
               !starts(line, "finally") && !starts(line, "fault") && !starts(line, "filter") &&
               line[0] != '{' && line[0] != '}') {
        return;
    }
    text_add(text, line, strlen(line));
    text_add(text, "\n", 1);
}

/* One assembly against monodis: every "Method begins at RVA" block's IL_xxxx lines. */
static unsigned cross_check(const char *path, ilg_body *b, unsigned *members, unsigned *blocks)
{
    const char *argv[] = { "monodis", path, NULL };
    fx_result r;
    ck_assert(fx_run(argv, &r));
    ck_assert_msg(r.exited && r.status == 0, "monodis %s failed: %.200s", path, r.err ? r.err : "");
    ilg_image *img;
    const ilg_metadata *md;
    ck_assert_int_eq(ilg_image_open(path, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    const uint32_t n = ilg_md_row_count(md, ILG_TBL_MethodDef);
    /* RVA -> MethodDef row, sorted, for the lookups below */
    uint64_t *by_rva = malloc(((size_t)n + 1) * sizeof *by_rva);
    uint32_t nb = 0;
    ck_assert_ptr_nonnull(by_rva);
    for (uint32_t rid = 1; rid <= n; rid++) {
        ilg_method_body mb;
        if (ilg_md_method_body(md, rid, &mb) == ILG_OK && (mb.kind == ILG_BODY_TINY || mb.kind == ILG_BODY_FAT))
            by_rva[nb++] = (uint64_t)mb.rva << 32 | rid;
    }
    qsort(by_rva, nb, sizeof *by_rva, cmp_u64);

    unsigned compared = 0;
    char *save = NULL;
    uint32_t rva = 0;
    bool in_method = false;
    uint32_t index = 0;
    text_buf text = { 0 };
    ilg_body *asm_body;
    ck_assert_int_eq(ilg_body_new(&asm_body), ILG_OK);
    for (char *line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned v;
        if (sscanf(line, " // Method begins at RVA 0x%x", &v) == 1) {
            in_method = v != 0;
            rva = v;
            index = 0;
            text.len = 0;
            if (!in_method)
                continue;
            /* our body at that RVA */
            uint32_t lo = 0, hi = nb;
            while (lo < hi) {
                uint32_t mid = (lo + hi) / 2;
                if ((by_rva[mid] >> 32) < rva)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            ck_assert_msg(lo < nb && (by_rva[lo] >> 32) == rva,
                          "%s: monodis shows a body at RVA 0x%x that we do not", path, rva);
            ilg_method_body mb;
            ck_assert_int_eq(ilg_md_method_body(md, (uint32_t)by_rva[lo], &mb), ILG_OK);
            ck_assert_int_eq(ilg_body_decode(b, mb.header, mb.body_size), ILG_OK);
            compared++;
            continue;
        }
        if (in_method && strstr(line, "} // end of method")) {
            ck_assert_msg(index == b->count, "%s: RVA 0x%x: monodis lists %u instructions, we decode %u",
                          path, rva, index, b->count);
            *blocks += block_form_matches(path, rva, b, text.s ? text.s : "", asm_body);
            in_method = false;
            continue;
        }
        if (in_method)
            keep_line(&text, line);
        unsigned off;
        char name[64];
        if (in_method && sscanf(line, " IL_%x: %63s", &off, name) == 2) {
            ck_assert_msg(index < b->count, "%s: RVA 0x%x: monodis has more instructions than %u", path,
                          rva, b->count);
            const ilg_instr *in = &b->instrs[index++];
            ck_assert_msg(in->offset == off && strcmp(ilg_opcode_get(in->op)->name, name) == 0,
                          "%s: RVA 0x%x: instruction %u: monodis IL_%04x %s, ilgraft IL_%04x %s", path,
                          rva, index - 1, off, name, in->offset, ilg_opcode_get(in->op)->name);
            if (member_operand((ilg_opcode)in->op)) {
                static char ours[4096], peer[4096], a[4096], c[4096];
                const char *operand = strstr(line, name) + strlen(name);
                ck_assert_int_eq(ilg_md_member_name(md, in->arg.token, ours, sizeof ours, NULL), ILG_OK);
                snprintf(peer, sizeof peer, "%s", operand);
                normalize_member(ours, a, sizeof a);
                normalize_member(peer, c, sizeof c);
                ck_assert_msg(strcmp(a, c) == 0, "%s: RVA 0x%x IL_%04x %s 0x%08x:\n  ilgraft %s\n  monodis %s",
                              path, rva, off, name, in->arg.token, ours, peer);
                (*members)++;
            }
        }
    }
    free(by_rva);
    free(text.s);
    ilg_body_free(asm_body);
    ilg_image_close(img);
    fx_result_free(&r);
    return compared;
}

START_TEST(instruction_sequences_match_monodis)
{
    if (!fx_require(fx_have_program("monodis"), "monodis not found"))
        return;
    /* Mono's corlib, System.Core and System.Xml, and one Roslyn-built .NET framework
     * assembly: together every common opcode, prefixes, switch and both branch forms.
     * (monodis aborts on most .NET 10 assemblies; System.Collections is one it reads.) */
    const char *paths[] = { "/usr/lib/mono/4.5/mscorlib.dll", "/usr/lib/mono/4.5/System.Core.dll",
                            "/usr/lib/mono/4.5/System.Xml.dll", NULL };
    glob_t g = { 0 };
    if (fx_require(glob("/usr/share/dotnet/shared/Microsoft.NETCore.App/*/System.Collections.dll", 0,
                        NULL, &g) == 0,
                   "the monodis cross-check of .NET's System.Collections.dll: no .NET shared "
                   "framework (install the .NET 10 SDK)"))
        paths[3] = g.gl_pathv[0];
    ilg_body *b;
    ck_assert_int_eq(ilg_body_new(&b), ILG_OK);
    unsigned total = 0, members = 0, blocks = 0;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (!paths[i])
            continue;
        unsigned m = 0, k = 0, n = cross_check(paths[i], b, &m, &k);
        printf("monodis cross-check: %s: %u methods match, %u member references named alike, "
               "%u methods with EH assemble from monodis's block form to the same clauses\n",
               paths[i], n, m, k);
        total += n;
        members += m;
        blocks += k;
    }
    ck_assert_uint_ge(total, 1000);
    ck_assert_uint_ge(members, 10000);
    ck_assert_uint_ge(blocks, 1000);
    ilg_body_free(b);
    globfree(&g);
}
END_TEST

static Suite *corpus_suite(void)
{
    Suite *s = suite_create("ilbody_corpus");
    TCase *tc = tcase_create("corpus");
    tcase_set_timeout(tc, 1800);
    tcase_add_test(tc, every_installed_body_round_trips);
    tcase_add_test(tc, every_installed_body_verifies_at_level_jit);
    tcase_add_test(tc, instruction_sequences_match_monodis);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(corpus_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
