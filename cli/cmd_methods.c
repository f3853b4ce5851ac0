/* cmd_methods.c: `ilgraft methods IMAGE`: one row per MethodDef with its full name and
 * signature, RVA and the measured body (header form, code size, maxstack, EH clauses,
 * total size). */
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
           "signature in ilasm-like text. A method whose body or name cannot be read is\n"
           "listed with the error on its row (and on stderr); the others follow, and the\n"
           "exit status is 1.\n\n"
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

static void print_row(uint32_t token, const ilg_method_body *b, const char *kind, const char *name)
{
    char line[96], *p = line;
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
    fwrite(line, 1, (size_t)(p - line), stdout);
    fputs(name, stdout);
    fputc('\n', stdout);
}

/* A method whose body (or name) cannot be read: its row says why (d: the diagnostic). */
static void print_error_row(uint32_t token, uint32_t rva, const char *name, ilg_status st,
                            const ilg_diag *d)
{
    char at[64] = "";
    if (d->status == st && d->where != ILG_WHERE_NONE) {
        at[0] = ' ';
        cli_where_text(d->where, d->offset, at + 4, sizeof at - 4);
        memcpy(at, " at ", 4);
    }
    printf("0x%08x 0x%08x %-6s %6s %5s %3s %6s  %s  [%s%s: %s]\n", token, rva, "error", "-", "-",
           "-", "-", name, ilg_status_name(st), at,
           d->status == st ? d->message : ilg_strerror(st));
}

/* A method whose body or name cannot be read (st): the stderr line, and its row in the
 * listing or in list (the JSON). */
static void bad_row(const char *path, const ilg_metadata *md, uint32_t rid, const char *name,
                    ilg_status st, json_t *list)
{
    const ilg_diag d = *ilg_last_diag(); /* reading the row's RVA may replace it */
    json_t *error = cli_json_diag(st);
    fflush(stdout);
    cli_fail_line(path, st);
    ilg_method_info mi;
    const uint32_t rva = ilg_md_method(md, rid, &mi) == ILG_OK ? mi.rva : 0;
    if (list) {
        json_array_append_new(list, json_pack("{s:I, s:s, s:I, s:s, s:o}", "token",
                                              (json_int_t)(0x06000000u | rid), "name", name, "rva",
                                              (json_int_t)rva, "status", "error", "error", error));
        return;
    }
    json_decref(error);
    print_error_row(0x06000000u | rid, rva, name, st, &d);
}

static const char *kind_name(ilg_body_kind k)
{
    static const char *const names[] = { "none", "tiny", "fat", "native" };
    return names[k];
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
    ilg_status st = ilg_image_open(path, NULL, &img);
    if (st != ILG_OK)
        return cli_fail(path, st);
    if ((st = ilg_image_metadata(img, &md)) != ILG_OK) {
        int rc = cli_fail(path, st);
        ilg_image_close(img);
        return rc;
    }

    int rc = CLI_OK;
    size_t cap = 4096;
    char *name = malloc(cap);
    bool name_oom = !name;
    json_t *list = json ? json_array() : NULL;
    const uint32_t n = ilg_md_row_count(md, ILG_TBL_MethodDef);
    if (!json) {
        cli_buffer_stdout();
        printf("%-10s %-10s %-6s %6s %5s %3s %6s  %s\n", "token", "rva", "header", "code",
               "stack", "eh", "body", "name");
    }
    for (uint32_t rid = 1; name && rid <= n; rid++) {
        ilg_method_body b;
        size_t need;
        st = ilg_md_method_name(md, rid, name, cap, &need);
        if (st == ILG_E_RANGE) {
            char *bigger = realloc(name, need + 1);
            if (!bigger) {
                name_oom = true;
                break;
            }
            name = bigger;
            cap = need + 1;
            st = ilg_md_method_name(md, rid, name, cap, &need);
        }
        /* A bad body or name goes on its row and the listing goes on. */
        const ilg_status name_st = st;
        if (st != ILG_OK)
            snprintf(name, cap, "%s", "?");
        if ((st = ilg_md_method_body(md, rid, &b)) == ILG_OK)
            st = name_st;
        if (st != ILG_OK) {
            bad_row(path, md, rid, name, st, list);
            rc = CLI_BAD_INPUT;
            continue;
        }
        if (json) {
            json_array_append_new(list, json_pack("{s:I, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:s}",
                                                  "token", (json_int_t)(0x06000000u | rid), "name", name,
                                                  "rva", (json_int_t)b.rva, "header", kind_name(b.kind),
                                                  "code_size", (json_int_t)b.code_size,
                                                  "max_stack", (json_int_t)b.max_stack,
                                                  "eh_clauses", (json_int_t)b.eh_clauses,
                                                  "body_size", (json_int_t)b.body_size,
                                                  "status", "ok"));
        } else {
            print_row(0x06000000u | rid, &b, kind_name(b.kind), name);
        }
    }
    free(name);
    if (json && name_oom)
        json_decref(list);
    else if (json && cli_print_json(json_pack("{s:s, s:I, s:o}", "path", path, "count",
                                              (json_int_t)n, "methods", list)) != CLI_OK)
        rc = CLI_BAD_INPUT;
    if (name_oom)
        rc = cli_fail(path, ILG_E_NOMEM);
    fflush(stdout);
    ilg_image_close(img);
    return rc;
}
