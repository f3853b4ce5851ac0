/* cmd_dis.c: `ilgraft dis IMAGE [METHOD-or-TOKEN]`: method bodies as ilasm text (names
 * for tokens from the metadata), and `--native WHERE [--count N]`: machine code through
 * Capstone at an RVA of a PE or ELF image, an ELF symbol, or a method's precompiled code
 * in a ReadyToRun image. */
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
           "       ilgraft dis --native RVA-or-SYMBOL-or-METHOD [--count N] IMAGE\n\n"
           "Prints method bodies in ilasm syntax: .maxstack, .locals, IL_xxxx labels, one\n"
           "instruction a line, and the EH clauses as `.try L to L catch T handler L to L`.\n"
           "Without METHOD every body is printed. METHOD is a MethodDef token (0x06000012),\n"
           "a row number, or a name: Type::Method, Method, or the full signature text.\n"
           "A body that cannot be read is reported where it would be listed (and on\n"
           "stderr); the others follow, and the exit status is 1.\n\n"
           "  --raw            tokens as numbers instead of names\n"
           "  --json           the methods as JSON: each with its listing (\"text\") and\n"
           "                   its instructions (offset, opcode, operand)\n"
           "  --native WHERE   disassemble machine code at an RVA (PE or ELF) or an ELF symbol;\n"
           "                   in a ReadyToRun image WHERE may be a method (a MethodDef token\n"
           "                   0x06..., a row in decimal, or a name): all of its precompiled\n"
           "                   code, funclets and instantiations included\n"
           "  --count N        instructions to show at an RVA or symbol (default 24)\n"
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
    switch (ii->arch) {
    case ILG_MACHINE_AMD64: if (!pe) return false; *arch = CS_ARCH_X86; *mode = CS_MODE_64; return true;
    case ILG_MACHINE_I386: if (!pe) return false; *arch = CS_ARCH_X86; *mode = CS_MODE_32; return true;
    case ILG_MACHINE_ARM64: if (!pe) return false; *arch = CS_ARCH_ARM64; *mode = CS_MODE_ARM; return true;
    case ILG_MACHINE_ARMNT: if (!pe) return false; *arch = CS_ARCH_ARM; *mode = CS_MODE_THUMB; return true;
    case EM_X86_64: if (pe) return false; *arch = CS_ARCH_X86; *mode = CS_MODE_64; return true;
    case EM_386: if (pe) return false; *arch = CS_ARCH_X86; *mode = CS_MODE_32; return true;
    case EM_AARCH64: if (pe) return false; *arch = CS_ARCH_ARM64; *mode = CS_MODE_ARM; return true;
    case EM_ARM: if (pe) return false; *arch = CS_ARCH_ARM; *mode = CS_MODE_ARM; return true;
    default: return false;
    }
}

/* count instructions (at most) of len bytes at rva, addressed as preferred_base + rva
 * the way objdump shows them. */
static void print_insns(const capstone_api *api, csh cs, const uint8_t *code, uint64_t len,
                        uint64_t addr, uint64_t count)
{
    cs_insn *insn;
    size_t n = api->disasm(cs, code, (size_t)len, addr, (size_t)count, &insn);
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
        api->free(insn, n);
}

/* Capstone for the image's machine, loaded and opened; false after saying why. */
static bool capstone_start(const char *path, const ilg_image_info *ii, capstone_api *api, csh *cs)
{
    cs_arch arch;
    cs_mode mode;
    if (!capstone_mode(ii, &arch, &mode)) {
        fprintf(stderr, "ilgraft: %s: no disassembler for machine %s (0x%x)\n", path, ii->machine_name,
                ii->machine);
        return false;
    }
    if (!capstone_load(api))
        return false;
    if (api->open(arch, mode, cs) != CS_ERR_OK) {
        fprintf(stderr, "ilgraft: capstone cannot open this architecture\n");
        return false;
    }
    return true;
}

/* ---- precompiled methods (ReadyToRun) ---------------------------------------------------- */

/* Which methods --native names in a ReadyToRun image: a MethodDef token (0x06......), a
 * row in decimal, or a name as `dis` takes it. Other numbers stay RVAs. Returns false
 * when where is an RVA. */
static bool native_method_arg(const char *where, uint32_t *rid)
{
    uint64_t v;
    *rid = 0;
    if (!cli_parse_u64(where, &v))
        return true; /* a name */
    if ((v >> 24) == ILG_TBL_MethodDef && v <= 0x06FFFFFFu) {
        *rid = (uint32_t)(v & 0xFFFFFF);
        return true;
    }
    bool decimal = strspn(where, "0123456789") == strlen(where) && where[0] != '0';
    if (decimal && v <= 0xFFFFFF) {
        *rid = (uint32_t)v;
        return true;
    }
    return false;
}

/* One precompiled entry: every runtime function of its code, cold parts included. */
static void dis_entry(const capstone_api *api, csh cs, ilg_image *img, const ilg_image_info *ii,
                      const ilg_r2r *r2r, const ilg_r2r_method_info *m)
{
    char kind[96] = "";
    if (m->instance)
        snprintf(kind, sizeof kind, " (instantiation, signature flags 0x%x)", m->sig_flags);
    printf("// precompiled code%s at RVA 0x%x, %u bytes (main %u", kind, m->code_rva, m->code_size,
           m->main_size);
    if (m->runtime_function_count > 1)
        printf(" + %u funclet%s", m->runtime_function_count - 1, m->runtime_function_count > 2 ? "s" : "");
    if (m->cold_runtime_function_count)
        printf(" + %u cold", m->cold_runtime_function_count);
    if (m->has_fixups)
        printf("), fixups at RVA 0x%x\n", m->fixups_rva);
    else
        printf("), no fixups\n");
    for (uint32_t part = 0; part < 2; part++) {
        uint32_t first = part ? m->cold_runtime_function : m->runtime_function;
        uint32_t n = part ? m->cold_runtime_function_count : m->runtime_function_count;
        for (uint32_t k = first; k < first + n; k++) {
            ilg_r2r_function_info f;
            const uint8_t *code;
            if (ilg_r2r_runtime_function(r2r, k, &f) != ILG_OK ||
                ilg_image_rva_to_ptr(img, f.begin, f.end - f.begin, &code) != ILG_OK)
                continue; /* the reader checked both */
            if (k != m->runtime_function)
                printf("// %s at RVA 0x%x (runtime function %u)\n", part ? "cold part" : "funclet",
                       f.begin, k);
            print_insns(api, cs, code, f.end - f.begin, ii->preferred_base + f.begin, UINT32_MAX);
        }
    }
}

/* Every method the argument names, with each of its precompiled entries (the MethodDef's
 * own, then its instantiations). */
static int dis_precompiled(const char *path, ilg_image *img, const ilg_image_info *ii,
                           const ilg_metadata *md, const ilg_r2r *r2r, const char *where, uint32_t rid)
{
    capstone_api api;
    csh cs;
    char name[8192];
    const uint32_t n = ilg_md_row_count(md, ILG_TBL_MethodDef);
    if (rid > n || (rid == 0 && cli_parse_u64(where, &(uint64_t){ 0 })))
        return cli_usage_error("dis", "%s is not a MethodDef of %s (1..%u)", where, path, n);
    if (!capstone_start(path, ii, &api, &cs))
        return CLI_BAD_INPUT;
    cli_buffer_stdout();
    unsigned named = 0, entries = 0;
    for (uint32_t r = rid ? rid : 1; r <= (rid ? rid : n); r++) {
        ilg_status st = ilg_md_method_name(md, r, name, sizeof name, NULL);
        /* a name that cannot be read matches no name; named by token or row it shows as ? */
        if (st != ILG_OK && st != ILG_E_RANGE)
            snprintf(name, sizeof name, "%s", "?");
        if (!rid && ((st != ILG_OK && st != ILG_E_RANGE) || !name_matches(name, where)))
            continue;
        named++;
        printf("// 0x%08x %s\n", 0x06000000u | r, name);
        unsigned before = entries;
        for (uint32_t i = 0; i < ilg_r2r_method_count(r2r); i++) {
            ilg_r2r_method_info m;
            ilg_r2r_method(r2r, i, &m);
            if (m.token != (0x06000000u | r) || m.module_override)
                continue;
            dis_entry(&api, cs, img, ii, r2r, &m);
            entries++;
        }
        printf(entries == before ? "// no precompiled code\n\n" : "\n");
    }
    api.close(&cs);
    fflush(stdout);
    if (!named)
        return cli_error(path, ILG_E_NOT_FOUND, "no method matches '%s'", where);
    if (!entries)
        return cli_error(path, ILG_E_NOT_FOUND, "'%s' has no precompiled code", where);
    return CLI_OK;
}

/* ---- an RVA or an ELF symbol --------------------------------------------------------------- */

static int dis_native_at(const char *path, ilg_image *img, const ilg_image_info *ii,
                         const char *where, uint64_t count)
{
    uint64_t rva = 0, sym_size = 0;
    if (!cli_parse_u64(where, &rva)) {
        ilg_symbol sym;
        if (ii->format != ILG_FORMAT_ELF32 && ii->format != ILG_FORMAT_ELF64)
            return cli_usage_error("dis", "%s is a PE image without ReadyToRun code: give --native "
                                   "an RVA, not a name", path);
        if (ilg_image_find_symbol(img, where, &sym) != ILG_OK) {
            fprintf(stderr, "ilgraft: %s: no defined symbol '%s'\n", path, where);
            return CLI_BAD_INPUT;
        }
        rva = sym.rva;
        sym_size = sym.size;
    }
    /* the region holding rva bounds how much we may read */
    uint64_t avail = 0;
    for (uint32_t i = 0; i < ii->region_count; i++) {
        ilg_region r;
        if (ilg_image_region(img, i, &r) == ILG_OK && rva >= r.rva && rva < r.rva + r.virtual_size)
            avail = r.rva + r.virtual_size - rva;
    }
    if (!avail && rva < ii->headers_size)
        avail = ii->headers_size - rva;
    uint64_t len = count * 16;
    if (sym_size && sym_size < len)
        len = sym_size;
    if (len > avail)
        len = avail;
    const uint8_t *code;
    if (!len || ilg_image_rva_to_ptr(img, rva, len, &code) != ILG_OK) {
        fprintf(stderr, "ilgraft: %s: RVA 0x%llx is not mapped\n", path, (unsigned long long)rva);
        return CLI_BAD_INPUT;
    }
    capstone_api api;
    csh cs;
    if (!capstone_start(path, ii, &api, &cs))
        return CLI_BAD_INPUT;
    const uint64_t addr = ii->preferred_base + rva;
    printf("// %s %s at RVA 0x%llx (address 0x%llx)\n", ii->format_name, ii->machine_name,
           (unsigned long long)rva, (unsigned long long)addr);
    print_insns(&api, cs, code, len, addr, count);
    api.close(&cs);
    return CLI_OK;
}

static int dis_native(const char *path, const char *where, uint64_t count)
{
    ilg_image *img;
    const ilg_metadata *md;
    const ilg_r2r *r2r = NULL;
    ilg_image_info ii;
    uint32_t rid = 0;
    ilg_status st = ilg_image_open(path, NULL, &img);
    if (st != ILG_OK)
        return cli_fail(path, st);
    ilg_image_get_info(img, &ii);
    int rc;
    /* A CLI image with ReadyToRun code: --native may name a method. */
    if (ii.has_cli && native_method_arg(where, &rid) &&
        ((st = ilg_image_metadata(img, &md)) != ILG_OK ||
         ((st = ilg_image_readytorun(img, &r2r)) != ILG_OK && st != ILG_E_R2R_ABSENT)))
        rc = cli_fail(path, st);
    else if (r2r)
        rc = dis_precompiled(path, img, &ii, md, r2r, where, rid);
    else
        rc = dis_native_at(path, img, &ii, where, count);
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
