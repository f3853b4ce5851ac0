/* cmd_methods.c: `ilgraft methods IMAGE`: one row per MethodDef with its full name and
 * signature, RVA and the measured body (header form, code size, maxstack, EH clauses,
 * total size); for a ReadyToRun image also each method's precompiled code (RVA, size,
 * fixups) and the precompiled instantiations. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ilgraft/metadata.h"

static void help(void)
{
    printf("usage: ilgraft methods [--json] IMAGE\n\n"
           "Lists every MethodDef: token, RVA, header kind (tiny, fat, none, native), code\n"
           "size, max stack, EH clause count, body size (header + code + padding + extra\n"
           "sections, the size GetILFunctionBody reports) and the method's full name and\n"
           "signature in ilasm-like text. For a ReadyToRun image each row also shows the\n"
           "method's precompiled code (RVA, size with funclets, '+' when it has fixups, '-'\n"
           "when none), and a second table lists the precompiled instantiations. A method\n"
           "whose body or name cannot be read is listed with the error on its row (and on\n"
           "stderr); the others follow, and the exit status is 1.\n\n"
           "  --json   an object with a \"methods\" array instead of text\n"
           "  --help   this text\n");
}

/* Row formatting by hand: printf was two thirds of the instructions on mscorlib. */
static char *put_hex32(char *p, uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    *p++ = '0';
    *p++ = 'x';
    for (int shift = 28; shift >= 0; shift -= 4)
        *p++ = digits[(v >> shift) & 0xF];
    return p;
}

static char *put_dec(char *p, uint32_t v, int width)
{
    char tmp[10];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = n; i < width; i++)
        *p++ = ' ';
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_str(char *p, const char *s, int width)
{
    int n = 0;
    while (s[n])
        *p++ = s[n++];
    for (; n < width; n++)
        *p++ = ' ';
    return p;
}

/* The method's precompiled code as "0x00010bd0     82 +  " (fixups) or "-" (none), in
 * the columns "native size fx". */
static char *put_native(char *p, const ilg_r2r_method_info *n)
{
    if (!n)
        return put_str(p, "-", 21);
    p = put_hex32(p, n->code_rva);
    *p++ = ' ';
    p = put_dec(p, n->code_size, 6);
    *p++ = ' ';
    *p++ = n->has_fixups ? '+' : '-';
    *p++ = ' ';
    *p++ = ' ';
    return p;
}

static void print_row(uint32_t token, const ilg_method_body *b, const char *kind, bool r2r,
                      const ilg_r2r_method_info *native, const char *name)
{
    char line[128], *p = line;
    p = put_hex32(p, token);
    *p++ = ' ';
    p = put_hex32(p, b->rva);
    *p++ = ' ';
    p = put_str(p, kind, 6);
    *p++ = ' ';
    p = put_dec(p, b->code_size, 6);
    *p++ = ' ';
    p = put_dec(p, b->max_stack, 5);
    *p++ = ' ';
    p = put_dec(p, b->eh_clauses, 3);
    *p++ = ' ';
    p = put_dec(p, b->body_size, 6);
    *p++ = ' ';
    *p++ = ' ';
    if (r2r)
        p = put_native(p, native);
    fwrite(line, 1, (size_t)(p - line), stdout);
    fputs(name, stdout);
    fputc('\n', stdout);
}

/* "[E_CODE at file offset 0x..: message]": why a row cannot be read (d: the diagnostic). */
static const char *error_note(ilg_status st, const ilg_diag *d, char *buf, size_t size)
{
    char at[64] = "";
    if (d->status == st && d->where != ILG_WHERE_NONE) {
        memcpy(at, " at ", 4);
        cli_where_text(d->where, d->offset, at + 4, sizeof at - 4);
    }
    snprintf(buf, size, "[%s%s: %s]", ilg_status_name(st), at,
             d->status == st ? d->message : ilg_strerror(st));
    return buf;
}

/* A method whose body (or name) cannot be read: its row says why, after the precompiled
 * code's columns of a ReadyToRun image. */
static void print_error_row(uint32_t token, uint32_t rva, bool r2r,
                            const ilg_r2r_method_info *native, const char *name, ilg_status st,
                            const ilg_diag *d)
{
    char cols[32] = "", note[512];
    if (r2r)
        *put_native(cols, native) = 0;
    printf("0x%08x 0x%08x %-6s %6s %5s %3s %6s  %s%s  %s\n", token, rva, "error", "-", "-", "-",
           "-", cols, name, error_note(st, d, note, sizeof note));
}

/* The method's precompiled code in buf, or NULL when it has none (or the image is IL only). */
static const ilg_r2r_method_info *native_of(const ilg_r2r *r2r, uint32_t rid,
                                            ilg_r2r_method_info *buf)
{
    return r2r && ilg_r2r_method_for_rid(r2r, rid, buf) == ILG_OK ? buf : NULL;
}

static json_t *native_json(json_t *o, const ilg_r2r_method_info *n)
{
    json_object_set_new(o, "native_rva", n ? json_integer(n->code_rva) : json_null());
    json_object_set_new(o, "native_size", n ? json_integer(n->code_size) : json_null());
    json_object_set_new(o, "native_funclets",
                        n ? json_integer((json_int_t)n->runtime_function_count - 1) : json_null());
    json_object_set_new(o, "native_fixups", n ? json_boolean(n->has_fixups) : json_null());
    return o;
}

/* A method whose body or name cannot be read (st): the stderr line, and its row in the
 * listing or in list (the JSON), with its precompiled code when r2r has some. */
static void bad_row(const char *path, const ilg_metadata *md, const ilg_r2r *r2r, uint32_t rid,
                    const char *name, ilg_status st, json_t *list)
{
    const ilg_diag d = *ilg_last_diag(); /* reading the row's RVA may replace it */
    json_t *error = cli_json_diag(st);
    fflush(stdout);
    cli_fail_line(path, st);
    ilg_method_info mi;
    ilg_r2r_method_info buf;
    const uint32_t rva = ilg_md_method(md, rid, &mi) == ILG_OK ? mi.rva : 0;
    const ilg_r2r_method_info *native = native_of(r2r, rid, &buf);
    if (list) {
        json_t *o = json_pack("{s:I, s:s, s:I, s:s, s:o}", "token", (json_int_t)(0x06000000u | rid),
                              "name", name, "rva", (json_int_t)rva, "status", "error", "error",
                              error);
        json_array_append_new(list, r2r ? native_json(o, native) : o);
        return;
    }
    json_decref(error);
    print_error_row(0x06000000u | rid, rva, r2r != NULL, native, name, st, &d);
}

static const char *kind_name(ilg_body_kind k)
{
    static const char *const names[] = { "none", "tiny", "fat", "native" };
    return names[k];
}

/* An instance entry's signature flags in words ("owner type, method instantiation"). */
static void sig_kind(uint32_t flags, char *out, size_t size)
{
    static const struct { uint32_t bit; const char *word; } words[] = {
        { ILG_R2R_SIG_OWNER_TYPE, "owner type" },
        { ILG_R2R_SIG_METHOD_INSTANTIATION, "method instantiation" },
        { ILG_R2R_SIG_UNBOXING_STUB, "unboxing stub" },
        { ILG_R2R_SIG_INSTANTIATING_STUB, "instantiating stub" },
        { ILG_R2R_SIG_CONSTRAINED, "constrained" },
        { ILG_R2R_SIG_UPDATE_CONTEXT, "other module" },
    };
    size_t n = 0;
    out[0] = 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (flags & words[i].bit)
            n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", n ? ", " : "",
                                  words[i].word);
}

/* Grows *name (capacity *cap) until the method's name fits, then writes it. */
static ilg_status method_name(const ilg_metadata *md, uint32_t rid, char **name, size_t *cap)
{
    size_t need;
    ilg_status st = ilg_md_method_name(md, rid, *name, *cap, &need);
    if (st == ILG_E_RANGE) {
        char *bigger = realloc(*name, need + 1);
        if (!bigger)
            return ILG_E_NOMEM;
        *name = bigger;
        *cap = need + 1;
        st = ilg_md_method_name(md, rid, *name, *cap, &need);
    }
    return st;
}

/* The instance entries: a second text table, or the JSON "instances" array. An entry
 * whose method's name cannot be read is listed with the error and sets *bad. */
static ilg_status list_instances(const char *path, const ilg_metadata *md, const ilg_r2r *r2r,
                                 json_t *list, char **name, size_t *cap, bool *bad)
{
    ilg_r2r_info in;
    ilg_r2r_get_info(r2r, &in);
    if (!list && in.instance_entries)
        printf("\nprecompiled instantiations (InstanceMethodEntryPoints):\n%-10s %-10s %6s %-2s %-24s %s\n",
               "token", "native", "size", "fx", "kind", "name");
    for (uint32_t i = in.methoddef_entries; i < ilg_r2r_method_count(r2r); i++) {
        ilg_r2r_method_info m;
        char kind[128], note[512] = "";
        ilg_r2r_method(r2r, i, &m);
        sig_kind(m.sig_flags, kind, sizeof kind);
        ilg_status st = ILG_OK;
        bool local = (m.token >> 24) == ILG_TBL_MethodDef && !m.module_override;
        if (local && (st = method_name(md, m.token & 0xFFFFFF, name, cap)) == ILG_E_NOMEM)
            return st;
        const char *shown = !local ? "(a method of another module)" : st == ILG_OK ? *name : "?";
        json_t *o = NULL;
        if (list)
            o = json_pack("{s:I, s:s, s:s, s:I, s:s}", "token", (json_int_t)m.token, "name", shown,
                          "signature_kind", kind, "signature_flags", (json_int_t)m.sig_flags,
                          "status", st == ILG_OK ? "ok" : "error");
        if (st != ILG_OK) {
            *bad = true;
            if (o)
                json_object_set_new(o, "error", cli_json_diag(st));
            else
                error_note(st, ilg_last_diag(), note, sizeof note);
            fflush(stdout);
            cli_fail_line(path, st);
        }
        if (o)
            json_array_append_new(list, native_json(o, &m));
        else
            printf("0x%08x 0x%08x %6u %-2s %-24s %s%s%s\n", m.token, m.code_rva, m.code_size,
                   m.has_fixups ? "+" : "-", kind, shown, note[0] ? "  " : "", note);
    }
    return ILG_OK;
}

static json_t *r2r_summary_json(const ilg_r2r *r2r)
{
    ilg_r2r_info in;
    ilg_r2r_get_info(r2r, &in);
    return json_pack("{s:I, s:I, s:I, s:I, s:s, s:s, s:I, s:I, s:I, s:I}", "major_version",
                     (json_int_t)in.major_version, "minor_version", (json_int_t)in.minor_version,
                     "ready_to_run_flags", (json_int_t)in.flags, "arch", (json_int_t)in.machine, "os",
                     in.os_name, "compiler", in.compiler, "runtime_functions",
                     (json_int_t)in.runtime_function_count, "methoddef_entries",
                     (json_int_t)in.methoddef_entries, "instance_entries",
                     (json_int_t)in.instance_entries, "inlining_pairs", (json_int_t)in.inline_count);
}

/* The MethodDef rows, text or JSON objects appended to list. A row whose body or name
 * cannot be read is listed with the error, sets *bad, and the walk goes on; only
 * ILG_E_NOMEM ends it. */
static ilg_status list_methods(const char *path, const ilg_metadata *md, const ilg_r2r *r2r,
                               json_t *list, char **name, size_t *cap, bool *bad)
{
    const uint32_t n = ilg_md_row_count(md, ILG_TBL_MethodDef);
    if (!list)
        printf("%-10s %-10s %-6s %6s %5s %3s %6s  %s%s\n", "token", "rva", "header", "code",
               "stack", "eh", "body", r2r ? "native       size fx " : "", "name");
    for (uint32_t rid = 1; rid <= n; rid++) {
        ilg_method_body b;
        ilg_r2r_method_info buf;
        const ilg_status name_st = method_name(md, rid, name, cap);
        if (name_st == ILG_E_NOMEM)
            return name_st;
        if (name_st != ILG_OK)
            snprintf(*name, *cap, "%s", "?");
        /* A bad body or name goes on its row and the listing goes on. */
        ilg_status st = ilg_md_method_body(md, rid, &b);
        if (st == ILG_OK)
            st = name_st;
        if (st != ILG_OK) {
            bad_row(path, md, r2r, rid, *name, st, list);
            *bad = true;
            continue;
        }
        const ilg_r2r_method_info *native = native_of(r2r, rid, &buf);
        if (list) {
            json_t *o = json_pack("{s:I, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:s}", "token",
                                  (json_int_t)(0x06000000u | rid), "name", *name, "rva",
                                  (json_int_t)b.rva, "header", kind_name(b.kind), "code_size",
                                  (json_int_t)b.code_size, "max_stack", (json_int_t)b.max_stack,
                                  "eh_clauses", (json_int_t)b.eh_clauses, "body_size",
                                  (json_int_t)b.body_size, "status", "ok");
            json_array_append_new(list, r2r ? native_json(o, native) : o);
        } else {
            print_row(0x06000000u | rid, &b, kind_name(b.kind), r2r != NULL, native, *name);
        }
    }
    return ILG_OK;
}

int cmd_methods(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, { 0 } };
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if (c == 'j')
            json = true;
        else if (c == 'h') {
            help();
            return CLI_OK;
        } else
            return cli_usage_error("methods", "unknown option");
    }
    if (optind != argc - 1)
        return cli_usage_error("methods", "expected one IMAGE");
    const char *path = argv[optind];
    cli_json_errors(json);

    ilg_image *img;
    const ilg_metadata *md;
    const ilg_r2r *r2r = NULL;
    ilg_status st = ilg_image_open(path, NULL, &img);
    if (st != ILG_OK)
        return cli_fail(path, st);
    if ((st = ilg_image_metadata(img, &md)) != ILG_OK ||
        ((st = ilg_image_readytorun(img, &r2r)) != ILG_OK && st != ILG_E_R2R_ABSENT)) {
        int rc = cli_fail(path, st);
        ilg_image_close(img);
        return rc;
    }
    size_t cap = 4096;
    char *name = malloc(cap);
    json_t *list = json ? json_array() : NULL, *instances = json && r2r ? json_array() : NULL;
    if (!json)
        cli_buffer_stdout();
    bool bad = false;
    st = name ? list_methods(path, md, r2r, list, &name, &cap, &bad) : ILG_E_NOMEM;
    if (st == ILG_OK && r2r)
        st = list_instances(path, md, r2r, instances, &name, &cap, &bad);
    free(name);
    int rc = bad ? CLI_BAD_INPUT : CLI_OK;
    if (st != ILG_OK) {
        json_decref(list);
        json_decref(instances);
        rc = cli_fail(path, st);
    } else if (json) {
        json_t *o = json_pack("{s:s, s:I, s:o}", "path", path, "count",
                              (json_int_t)ilg_md_row_count(md, ILG_TBL_MethodDef), "methods", list);
        if (r2r) {
            json_object_set_new(o, "ready_to_run_summary", r2r_summary_json(r2r));
            json_object_set_new(o, "instances", instances);
        }
        if (cli_print_json(o) != CLI_OK)
            rc = CLI_BAD_INPUT;
    }
    fflush(stdout);
    ilg_image_close(img);
    return rc;
}
