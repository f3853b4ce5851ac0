/* cmd_dis.c: `ilgraft dis IMAGE [METHOD-or-TOKEN]`: method bodies as ilasm text (names
 * for tokens from the metadata), and `--native RVA-or-SYMBOL [--count N]`: machine code
 * of a PE or ELF image through Capstone. */
#include <capstone/capstone.h>
#include <dlfcn.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ilgraft/ilbody.h"
#include "ilgraft/metadata.h"

static void help(void)
{
    printf("usage: ilgraft dis [--raw] [--json] IMAGE [METHOD-or-TOKEN]\n"
           "       ilgraft dis --native RVA-or-SYMBOL [--count N] IMAGE\n\n"
           "Prints method bodies in ilasm syntax: .maxstack, .locals, IL_xxxx labels, one\n"
           "instruction a line, and the EH clauses as `.try L to L catch T handler L to L`.\n"
           "Without METHOD every body is printed. METHOD is a MethodDef token (0x06000012),\n"
           "a row number, or a name: Type::Method, Method, or the full signature text.\n"
           "A body that cannot be read is reported where it would be listed (and on\n"
           "stderr); the others follow, and the exit status is 1.\n\n"
           "  --raw            tokens as numbers instead of names\n"
           "  --json           the methods as JSON: each with its listing (\"text\") and\n"
           "                   its instructions (offset, opcode, operand)\n"
           "  --native WHERE   disassemble machine code at an RVA (PE or ELF) or an ELF symbol\n"
           "  --count N        instructions to show with --native (default 24)\n"
           "  --help           this text\n");
}

/* ---- token names ---------------------------------------------------------------------- */

static bool user_string(const ilg_metadata *md, uint32_t index, char *buf, size_t size)
{
    const uint8_t *p;
    uint32_t bytes;
    if (ilg_md_user_string(md, index, &p, &bytes) != ILG_OK || size < 8)
        return false;
    size_t n = 0;
    buf[n++] = '"';
    for (uint32_t i = 0; i + 1 < bytes && n + 8 < size; i += 2) {
        unsigned c = p[i] | (p[i + 1] << 8);
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c == '\n') {
            buf[n++] = '\\';
            buf[n++] = 'n';
        } else if (c == '\t') {
            buf[n++] = '\\';
            buf[n++] = 't';
        } else if (c >= 0x20 && c < 0x7F) {
            buf[n++] = (char)c;
        } else {
            n += (size_t)snprintf(buf + n, size - n, "\\u%04x", c);
        }
    }
    buf[n++] = '"';
    buf[n] = '\0';
    return true;
}

static bool token_name(void *ctx, uint32_t token, char *buf, size_t size)
{
    const ilg_metadata *md = ctx;
    const uint32_t rid = token & 0xFFFFFF;
    switch (token >> 24) {
    case ILG_TBL_MethodDef: case ILG_TBL_MemberRef: case ILG_TBL_Field: case ILG_TBL_MethodSpec: {
        ilg_status st = ilg_md_member_name(md, token, buf, size, NULL);
        return st == ILG_OK || st == ILG_E_RANGE;
    }
    case ILG_TBL_TypeDef: case ILG_TBL_TypeRef: case ILG_TBL_TypeSpec: {
        ilg_status st = ilg_md_type_name(md, token, buf, size, NULL);
        return st == ILG_OK || st == ILG_E_RANGE;
    }
    case 0x70:
        return user_string(md, rid, buf, size);
    default:
        return false;
    }
}

/* ---- IL ------------------------------------------------------------------------------- */

static const char *kind_name(ilg_body_kind k)
{
    static const char *const names[] = { "none", "tiny", "fat", "native" };
    return names[k];
}

/* The decoded instructions with their operands as the listing writes them (the text
 * after the opcode on each instruction's "IL_xxxx: opcode operand" line). */
static json_t *instructions_json(const ilg_body *b, const ilg_buffer *text)
{
    json_t *list = json_array();
    const char *p = (const char *)text->data, *end = p + text->len;
    for (uint32_t i = 0; i < b->count; i++) {
        const ilg_opcode_info *oi = ilg_opcode_get((ilg_opcode)b->instrs[i].op);
        const size_t nl = strlen(oi->name);
        const char *operand = "";
        size_t operand_len = 0;
        char head[16];
        const int hl = snprintf(head, sizeof head, "IL_%04x: ", b->instrs[i].offset);
        /* the next line that is this instruction's (a label-only line has no opcode) */
        for (const char *line = p; line < end;) {
            const char *eol = memchr(line, '\n', (size_t)(end - line));
            if (!eol)
                eol = end;
            if ((size_t)(eol - line) >= (size_t)hl + nl && memcmp(line, head, (size_t)hl) == 0 &&
                memcmp(line + hl, oi->name, nl) == 0) {
                operand = line + hl + nl;
                operand_len = (size_t)(eol - operand);
                if (operand_len && *operand == ' ')
                    operand++, operand_len--;
                p = eol;
                break;
            }
            line = eol + 1;
        }
        json_t *o = json_pack("{s:I, s:s}", "offset", (json_int_t)b->instrs[i].offset, "opcode",
                              oi->name);
        if (operand_len)
            json_object_set_new(o, "operand", json_stringn(operand, operand_len));
        json_array_append_new(list, o);
    }
    return list;
}

/* A body that cannot be read (st, with this thread's diagnostic): the stderr line, and
 * the listing or the JSON says it too. rva_known is false when the RVA must still be
 * read from the MethodDef row. */
static int dis_error(const char *path, const ilg_metadata *md, uint32_t rid, const char *name,
                     uint32_t rva, bool rva_known, ilg_status st, json_t *list)
{
    const ilg_diag d = *ilg_last_diag(); /* reading the row may overwrite it */
    const bool ours = d.status == st;
    ilg_method_info mi;
    fflush(stdout);
    cli_fail_line(path, st);
    if (!rva_known)
        rva = ilg_md_method(md, rid, &mi) == ILG_OK ? mi.rva : 0;
    const char *msg = ours ? d.message : ilg_strerror(st);
    if (list) {
        json_t *error = cli_json_error(ilg_status_name(st), msg, ours ? d.where : ILG_WHERE_NONE,
                                       d.offset);
        json_array_append_new(list, json_pack("{s:I, s:s, s:I, s:s, s:o}", "token",
                                              (json_int_t)(0x06000000u | rid), "name", name, "rva",
                                              (json_int_t)rva, "status", "error", "error", error));
    } else {
        char at[64];
        cli_where_text(ours ? d.where : ILG_WHERE_NONE, d.offset, at, sizeof at);
        printf("// error: %s%s%s: %s\n\n", ilg_status_name(st), at[0] ? " at " : "", at, msg);
    }
    return CLI_BAD_INPUT;
}

static int dis_method(const char *path, const ilg_metadata *md, uint32_t rid, const char *name,
                      bool raw, ilg_body *b, ilg_buffer *text, json_t *list)
{
    ilg_method_body mb;
    ilg_status st = ilg_md_method_body(md, rid, &mb);
    if (st != ILG_OK) {
        if (!list)
            printf("// 0x%08x %s\n", 0x06000000u | rid, name);
        return dis_error(path, md, rid, name, 0, false, st, list);
    }
    json_t *o = list ? json_pack("{s:I, s:s, s:I, s:s, s:I, s:I, s:I, s:I}", "token",
                                 (json_int_t)(0x06000000u | rid), "name", name, "rva",
                                 (json_int_t)mb.rva, "header", kind_name(mb.kind), "code_size",
                                 (json_int_t)mb.code_size, "max_stack", (json_int_t)mb.max_stack,
                                 "eh_clauses", (json_int_t)mb.eh_clauses, "body_size",
                                 (json_int_t)mb.body_size)
                      : NULL;
    if (!list)
        printf("// 0x%08x %s\n", 0x06000000u | rid, name);
    if (mb.kind != ILG_BODY_TINY && mb.kind != ILG_BODY_FAT) {
        if (list) {
            json_object_set_new(o, "status", json_string("ok"));
            json_array_append_new(list, o);
        } else
            printf("// no IL body (%s)\n\n", kind_name(mb.kind));
        return CLI_OK;
    }
    if (!list)
        printf("// RVA 0x%x, %s header, code size %u, body size %u\n", mb.rva, kind_name(mb.kind),
               mb.code_size, mb.body_size);
    ilg_name_resolver names = { token_name, NULL, (void *)md };
    text->len = 0;
    if ((st = ilg_body_decode(b, mb.header, mb.body_size)) != ILG_OK ||
        (st = ilg_body_disassemble(b, raw ? NULL : &names, text)) != ILG_OK) {
        json_decref(o);
        return dis_error(path, md, rid, name, mb.rva, true, st, list);
    }
    if (list) {
        json_object_set_new(o, "status", json_string("ok"));
        json_object_set_new(o, "text", json_stringn((const char *)text->data, text->len));
        json_object_set_new(o, "instructions", instructions_json(b, text));
        json_array_append_new(list, o);
        return CLI_OK;
    }
    fwrite(text->data, 1, text->len, stdout);
    putchar('\n');
    return CLI_OK;
}

/* Does the method's full name ("int32 Calc::Add(int32)") match what the user typed? */
static bool name_matches(const char *full, const char *want)
{
    if (strcmp(full, want) == 0)
        return true;
    const char *paren = strchr(full, '(');
    size_t wl = strlen(want);
    for (const char *p = full; (p = strstr(p, want)) != NULL; p++) {
        const bool starts = p == full || p[-1] == ' ' || (p > full + 1 && p[-1] == ':' && p[-2] == ':') ||
                            p[-1] == '/' || p[-1] == '.';
        if (starts && p[wl] == '(' && (!paren || p + wl == paren))
            return strstr(want, "::") || (p > full + 1 && p[-1] == ':');
    }
    return false;
}

static int dis_il(const char *path, const char *which, bool raw, bool json)
{
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
    cli_buffer_stdout();
    const uint32_t n = ilg_md_row_count(md, ILG_TBL_MethodDef);
    uint64_t tok = 0;
    const bool by_token = which && cli_parse_u64(which, &tok);
    if (by_token && tok < 0x01000000)
        tok |= 0x06000000u;
    ilg_body *b = NULL;
    ilg_buffer text = { 0 };
    char name[8192];
    int rc = CLI_OK;
    unsigned shown = 0;
    json_t *list = json ? json_array() : NULL;
    if (ilg_body_new(&b) != ILG_OK) {
        rc = cli_fail(path, ILG_E_NOMEM);
        goto done;
    }
    if (by_token && ((tok >> 24) != ILG_TBL_MethodDef || (tok & 0xFFFFFF) == 0 || (tok & 0xFFFFFF) > n)) {
        rc = cli_usage_error("dis", "0x%08llx is not a MethodDef token of %s (1..%u)",
                             (unsigned long long)tok, path, n);
        goto done;
    }
    for (uint32_t rid = by_token ? (uint32_t)(tok & 0xFFFFFF) : 1; rid <= n; rid++) {
        st = ilg_md_method_name(md, rid, name, sizeof name, NULL);
        if (st != ILG_OK && st != ILG_E_RANGE) {
            /* a name that cannot be read matches no name; listed, it says why */
            snprintf(name, sizeof name, "%s", "?");
            if (which && !by_token)
                continue;
            shown++;
            rc = dis_error(path, md, rid, name, 0, false, st, list);
        } else if (which && !by_token && !name_matches(name, which)) {
            continue;
        } else {
            shown++;
            if (dis_method(path, md, rid, name, raw, b, &text, list) != CLI_OK)
                rc = CLI_BAD_INPUT;
        }
        if (by_token)
            break;
    }
    if (which && !shown)
        rc = cli_error(path, ILG_E_NOT_FOUND, "no method matches '%s'", which);
    else if (list && cli_print_json(json_pack("{s:s, s:I, s:O}", "path", path, "count",
                                               (json_int_t)shown, "methods", list)) != CLI_OK)
        rc = CLI_BAD_INPUT;
done:
    json_decref(list);
    ilg_body_free(b);
    free(text.data);
    ilg_image_close(img);
    return rc;
}

/* ---- native --------------------------------------------------------------------------- */

/* Capstone is loaded only here, by its soname: linked into the program, its 78,000
 * relocations were paid by every ilgraft process, a millisecond before main. */
typedef struct capstone_api {
    cs_err (*open)(cs_arch, cs_mode, csh *);
    size_t (*disasm)(csh, const uint8_t *, size_t, uint64_t, size_t, cs_insn **);
    void (*free)(cs_insn *, size_t);
    cs_err (*close)(csh *);
} capstone_api;

static bool capstone_load(capstone_api *api)
{
    void *lib = dlopen(ILG_CAPSTONE_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "ilgraft: cannot load capstone (%s): %s; install libcapstone4\n",
                ILG_CAPSTONE_SONAME, dlerror());
        return false;
    }
    /* POSIX lets a data pointer from dlsym become a function pointer by copying it. */
    void *sym[4] = { dlsym(lib, "cs_open"), dlsym(lib, "cs_disasm"), dlsym(lib, "cs_free"),
                     dlsym(lib, "cs_close") };
    for (int i = 0; i < 4; i++)
        if (!sym[i]) {
            fprintf(stderr, "ilgraft: %s lacks the capstone function %d\n", ILG_CAPSTONE_SONAME, i);
            dlclose(lib);
            return false;
        }
    memcpy(&api->open, &sym[0], sizeof sym[0]);
    memcpy(&api->disasm, &sym[1], sizeof sym[1]);
    memcpy(&api->free, &sym[2], sizeof sym[2]);
    memcpy(&api->close, &sym[3], sizeof sym[3]);
    return true; /* the library stays loaded until exit */
}

static bool capstone_mode(const ilg_image_info *ii, cs_arch *arch, cs_mode *mode)
{
    const bool pe = ii->format == ILG_FORMAT_PE32 || ii->format == ILG_FORMAT_PE32PLUS;
    switch (ii->machine) {
    case 0x8664: if (!pe) return false; *arch = CS_ARCH_X86; *mode = CS_MODE_64; return true;
    case 0x14C: if (!pe) return false; *arch = CS_ARCH_X86; *mode = CS_MODE_32; return true;
    case 0xAA64: if (!pe) return false; *arch = CS_ARCH_ARM64; *mode = CS_MODE_ARM; return true;
    case 0x1C4: if (!pe) return false; *arch = CS_ARCH_ARM; *mode = CS_MODE_THUMB; return true;
    case EM_X86_64: if (pe) return false; *arch = CS_ARCH_X86; *mode = CS_MODE_64; return true;
    case EM_386: if (pe) return false; *arch = CS_ARCH_X86; *mode = CS_MODE_32; return true;
    case EM_AARCH64: if (pe) return false; *arch = CS_ARCH_ARM64; *mode = CS_MODE_ARM; return true;
    case EM_ARM: if (pe) return false; *arch = CS_ARCH_ARM; *mode = CS_MODE_ARM; return true;
    default: return false;
    }
}

static int dis_native(const char *path, const char *where, uint64_t count)
{
    ilg_image *img;
    ilg_status st = ilg_image_open(path, NULL, &img);
    if (st != ILG_OK)
        return cli_fail(path, st);
    int rc = CLI_OK;
    ilg_image_info ii;
    ilg_image_get_info(img, &ii);
    uint64_t rva = 0, sym_size = 0;
    if (!cli_parse_u64(where, &rva)) {
        ilg_symbol sym;
        if (ii.format != ILG_FORMAT_ELF32 && ii.format != ILG_FORMAT_ELF64) {
            rc = cli_usage_error("dis", "%s is a PE image: give --native an RVA, not a symbol", path);
            goto done;
        }
        if ((st = ilg_image_find_symbol(img, where, &sym)) != ILG_OK) {
            fprintf(stderr, "ilgraft: %s: no defined symbol '%s'\n", path, where);
            rc = CLI_BAD_INPUT;
            goto done;
        }
        rva = sym.rva;
        sym_size = sym.size;
    }
    cs_arch arch;
    cs_mode mode;
    if (!capstone_mode(&ii, &arch, &mode)) {
        fprintf(stderr, "ilgraft: %s: no disassembler for machine %s (0x%x)\n", path, ii.machine_name,
                ii.machine);
        rc = CLI_BAD_INPUT;
        goto done;
    }
    /* the region holding rva bounds how much we may read */
    uint64_t avail = 0;
    for (uint32_t i = 0; i < ii.region_count; i++) {
        ilg_region r;
        if (ilg_image_region(img, i, &r) == ILG_OK && rva >= r.rva && rva < r.rva + r.virtual_size)
            avail = r.rva + r.virtual_size - rva;
    }
    if (!avail && rva < ii.headers_size)
        avail = ii.headers_size - rva;
    uint64_t len = count * 16;
    if (sym_size && sym_size < len)
        len = sym_size;
    if (len > avail)
        len = avail;
    const uint8_t *code;
    if (!len || (st = ilg_image_rva_to_ptr(img, rva, len, &code)) != ILG_OK) {
        fprintf(stderr, "ilgraft: %s: RVA 0x%llx is not mapped\n", path, (unsigned long long)rva);
        rc = CLI_BAD_INPUT;
        goto done;
    }
    capstone_api cs_api;
    if (!capstone_load(&cs_api)) {
        rc = CLI_BAD_INPUT;
        goto done;
    }
    csh cs;
    if (cs_api.open(arch, mode, &cs) != CS_ERR_OK) {
        fprintf(stderr, "ilgraft: capstone cannot open this architecture\n");
        rc = CLI_BAD_INPUT;
        goto done;
    }
    cs_insn *insn;
    const uint64_t addr = ii.preferred_base + rva;
    size_t n = cs_api.disasm(cs, code, (size_t)len, addr, (size_t)count, &insn);
    printf("// %s %s at RVA 0x%llx (address 0x%llx)\n", ii.format_name, ii.machine_name,
           (unsigned long long)rva, (unsigned long long)addr);
    for (size_t i = 0; i < n; i++) {
        char hex[64] = "";
        size_t hl = 0;
        for (uint16_t k = 0; k < insn[i].size && hl + 3 < sizeof hex; k++)
            hl += (size_t)snprintf(hex + hl, sizeof hex - hl, "%02x", insn[i].bytes[k]);
        printf("%#12llx:  %-24s %s %s\n", (unsigned long long)insn[i].address, hex, insn[i].mnemonic,
               insn[i].op_str);
    }
    if (n == 0)
        printf("// no instruction decodes at this address\n");
    if (n)
        cs_api.free(insn, n);
    cs_api.close(&cs);
done:
    ilg_image_close(img);
    return rc;
}

int cmd_dis(int argc, char **argv)
{
    static const struct option opts[] = {
        { "raw", no_argument, NULL, 'r' }, { "native", required_argument, NULL, 'n' },
        { "json", no_argument, NULL, 'j' },
        { "count", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' }, { 0 } };
    bool raw = false, json = false;
    const char *native = NULL;
    uint64_t count = 24;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "rn:c:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'r': raw = true; break;
        case 'j': json = true; break;
        case 'n': native = optarg; break;
        case 'c':
            if (!cli_parse_u64(optarg, &count) || count == 0 || count > 1000000)
                return cli_usage_error("dis", "--count needs a number from 1 to 1000000");
            break;
        case 'h': help(); return CLI_OK;
        default: return cli_usage_error("dis", "unknown option");
        }
    }
    if (native) {
        if (json)
            return cli_usage_error("dis", "--json lists IL bodies; --native has no JSON form");
        if (optind != argc - 1)
            return cli_usage_error("dis", "--native expects one IMAGE");
        return dis_native(argv[optind], native, count);
    }
    if (optind != argc - 1 && optind != argc - 2)
        return cli_usage_error("dis", "expected IMAGE [METHOD-or-TOKEN]");
    cli_json_errors(json);
    return dis_il(argv[optind], optind == argc - 2 ? argv[optind + 1] : NULL, raw, json);
}
