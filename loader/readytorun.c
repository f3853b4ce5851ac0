/* readytorun.c: the ReadyToRun reader: READYTORUN_HEADER and its sections, the
 * RUNTIME_FUNCTION table, MethodDefEntryPoints (a NativeFormat sparse array),
 * InstanceMethodEntryPoints (a NativeFormat hashtable of method signatures) and the
 * inlining tables. The format facts come from CoreCLR's readers (readytoruninfo.cpp,
 * nativeformatreader.h, sigparser.cpp, inlinetracking.cpp) and R2RDump's
 * (ILCompiler.Reflection.ReadyToRun); docs/readytorun.md lists them. Every read goes
 * through r2r_bytes, which allows only bytes inside one mapped section. */
#include <stdio.h>
#include <stdlib.h>

#include "r2r_private.h"

typedef unsigned long long ull;

#define R2R_SIGNATURE 0x00525452u /* "RTR" */
#define R2R_HEADER_SIZE 16u
#define R2R_SECTION_SIZE 12u
#define SIG_MAX_DEPTH 64

/* ---- bounded reads ---------------------------------------------------------------- */

const uint8_t *ilg__r2r_bytes(r2r_ctx *c, uint64_t rva, uint64_t len)
{
    if (rva < c->lo || rva - c->lo > c->hi - c->lo || len > c->hi - rva) {
        const ilg_region *reg = ilg__region_for(c->img, rva, len);
        if (!reg)
            return NULL;
        c->lo = reg->rva;
        c->hi = reg->rva + reg->virtual_size;
    }
    return c->img->base + rva;
}

ilg_status ilg__r2r_fail(r2r_ctx *c, ilg_status st, uint64_t rva, const char *fmt, ...)
{
    char msg[sizeof ilg_last_diag()->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    uint64_t off;
    if (ilg_image_rva_to_offset(c->img, rva, &off) == ILG_OK)
        return ilg__fail(st, ILG_WHERE_FILE, off, "%s", msg);
    return ilg__fail(st, ILG_WHERE_RVA, rva, "%s", msg);
}

/* NativeFormat integers (nativeformatreader.h): the low bits of the first byte say how
 * many bytes follow. The runtime does not sign-extend the short forms of signed values,
 * so neither does this. */
bool ilg__nf_unsigned(r2r_ctx *c, uint32_t *rva, uint32_t *out)
{
    const uint8_t *p = ilg__r2r_bytes(c, *rva, 1);
    if (!p)
        return false;
    uint32_t v = p[0], n = (v & 1) == 0 ? 1 : (v & 2) == 0 ? 2 : (v & 4) == 0 ? 3
                         : (v & 8) == 0 ? 4 : (v & 16) == 0 ? 5 : 0;
    if (n == 0 || !(p = ilg__r2r_bytes(c, *rva, n)))
        return false;
    switch (n) {
    case 1: *out = v >> 1; break;
    case 2: *out = (v >> 2) | ((uint32_t)p[1] << 6); break;
    case 3: *out = (v >> 3) | ((uint32_t)p[1] << 5) | ((uint32_t)p[2] << 13); break;
    case 4: *out = (v >> 4) | ((uint32_t)p[1] << 4) | ((uint32_t)p[2] << 12) | ((uint32_t)p[3] << 20); break;
    default: *out = ilg__rd32(p + 1); break;
    }
    *rva += n;
    return true;
}

/* ---- header and sections ---------------------------------------------------------- */

bool ilg__r2r_split_machine(uint32_t machine, uint16_t *arch, uint16_t *os_tag,
                            const char **os_name)
{
    static const struct { uint16_t tag; const char *name; } os[] = {
        { 0x0000, "Windows" }, { 0x7B79, "Linux" }, { 0x4644, "macOS" },
        { 0xADC4, "FreeBSD" }, { 0x1993, "NetBSD" }, { 0x1992, "SunOS" },
    };
    static const uint16_t archs[] = { ILG_MACHINE_AMD64, ILG_MACHINE_ARM64, ILG_MACHINE_I386,
                                      ILG_MACHINE_ARMNT, ILG_MACHINE_LOONGARCH64, ILG_MACHINE_RISCV64 };
    for (size_t i = 0; i < ILG_ARRAY_LEN(os); i++)
        for (size_t a = 0; a < ILG_ARRAY_LEN(archs); a++)
            if ((machine ^ os[i].tag) == archs[a]) {
                *arch = archs[a];
                *os_tag = os[i].tag;
                *os_name = os[i].name;
                return true;
            }
    return false;
}

const ilg_r2r_section *ilg__r2r_section(const struct ilg_r2r *r, uint32_t type)
{
    /* The first of a type, as the runtime's FindSection takes it. */
    for (uint32_t i = 0; i < r->info.section_count; i++)
        if (r->sections[i].type == type)
            return &r->sections[i];
    return NULL;
}

static ilg_status parse_header(r2r_ctx *c, const ilg_md_info *mi)
{
    struct ilg_r2r *r = c->r;
    const uint32_t rva = mi->managed_native_header_rva, size = mi->managed_native_header_size;
    const uint8_t *h = size >= R2R_HEADER_SIZE ? ilg__r2r_bytes(c, rva, size) : NULL;
    if (!h)
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_HEADER, mi->cli_rva + 64,
                             "ManagedNativeHeader RVA 0x%x size 0x%x: a READYTORUN_HEADER needs "
                             "16 bytes inside one section", rva, size);
    if (ilg__rd32(h) != R2R_SIGNATURE)
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_HEADER, rva,
                             "ReadyToRun signature 0x%08x, expected 0x%08x (RTR)", ilg__rd32(h),
                             R2R_SIGNATURE);
    ilg_r2r_info *in = &r->info;
    in->header_rva = rva;
    in->header_size = size;
    ilg_image_rva_to_offset(c->img, rva, &in->header_file_offset);
    in->major_version = ilg__rd16(h + 4);
    in->minor_version = ilg__rd16(h + 6);
    in->flags = ilg__rd32(h + 8);
    const uint32_t n = ilg__rd32(h + 12);
    if (n > (size - R2R_HEADER_SIZE) / R2R_SECTION_SIZE)
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_HEADER, rva + 12,
                             "%u sections of 12 bytes do not fit the %u-byte header", n, size);
    if (!ilg__r2r_split_machine(c->img->machine, &in->machine, &in->os_tag, &in->os_name))
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_HEADER, rva,
                             "machine 0x%04x is no known architecture xored with an OS tag",
                             c->img->machine);
    c->arch = in->machine;
    r->sections = calloc(n ? n : 1, sizeof *r->sections);
    if (!r->sections)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "%u ReadyToRun sections", n);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = h + R2R_HEADER_SIZE + R2R_SECTION_SIZE * i;
        ilg_r2r_section *sec = &r->sections[i];
        sec->type = ilg__rd32(s);
        sec->rva = ilg__rd32(s + 4);
        sec->size = ilg__rd32(s + 8);
        if (sec->size && !ilg__r2r_bytes(c, sec->rva, sec->size))
            return ilg__r2r_fail(c, ILG_E_R2R_BAD_SECTION,
                                 rva + R2R_HEADER_SIZE + R2R_SECTION_SIZE * i,
                                 "ReadyToRun section %u (type %u) RVA 0x%x size 0x%x does not "
                                 "lie inside one image section", i, sec->type, sec->rva, sec->size);
    }
    in->section_count = n;
    in->sections = r->sections;
    return ILG_OK;
}

/* A string section (CompilerIdentifier, OwnerCompositeExecutable): the format says
 * zero-terminated, crossgen2 counts the characters only (and pads with 0xCC), so the
 * string ends at the section's end or its first NUL. */
static ilg_status section_string(r2r_ctx *c, uint32_t type, char **out)
{
    const ilg_r2r_section *s = ilg__r2r_section(c->r, type);
    if (!s)
        return ILG_OK;
    const uint8_t *p = ilg__r2r_bytes(c, s->rva, s->size);
    if (!p && s->size)
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_SECTION, s->rva,
                             "ReadyToRun string section type %u of %u bytes is unreadable", type,
                             s->size);
    *out = strndup(s->size ? (const char *)p : "", s->size);
    if (!*out)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "a %u-byte string", s->size);
    return ILG_OK;
}

/* ---- RUNTIME_FUNCTIONs ------------------------------------------------------------- */

/* Code length from the unwind data where the entry has no EndAddress: ARM64 and ARM
 * xdata (packed in the entry, or the first xdata word) and x86's code length, a GC-info
 * unsigned at the unwind data (R2RDump's readers of each). */
static bool unwind_length(r2r_ctx *c, uint32_t unwind, uint32_t *len)
{
    if (c->arch == ILG_MACHINE_ARM64 || c->arch == ILG_MACHINE_ARMNT) {
        const uint32_t unit = c->arch == ILG_MACHINE_ARM64 ? 4 : 2;
        if (unwind & 3) {
            *len = ((unwind >> 2) & 0x7FF) * unit;
            return true;
        }
        const uint8_t *p = ilg__r2r_bytes(c, unwind, 4);
        if (!p)
            return false;
        *len = (ilg__rd32(p) & 0x3FFFF) * unit;
        return true;
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < 5; i++) {
        const uint8_t *p = ilg__r2r_bytes(c, unwind + i, 1);
        if (!p)
            return false;
        v = (v << 7) | (p[0] & 0x7F);
        if (!(p[0] & 0x80)) {
            *len = v;
            return true;
        }
    }
    return false;
}

static ilg_status parse_runtime_functions(r2r_ctx *c)
{
    struct ilg_r2r *r = c->r;
    const uint32_t esize = c->arch == ILG_MACHINE_AMD64 ? 12 : 8;
    r->info.runtime_function_size = esize;
    const ilg_r2r_section *s = ilg__r2r_section(r, ILG_R2R_RUNTIME_FUNCTIONS);
    if (!s)
        return ILG_OK;
    if (s->size % esize)
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_SECTION, s->rva,
                             "RuntimeFunctions section of %u bytes is not a multiple of %u",
                             s->size, esize);
    const uint32_t n = s->size / esize;
    r->rfs = calloc(n ? n : 1, sizeof *r->rfs);
    if (!r->rfs)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "%u runtime functions", n);
    const uint8_t *t = ilg__r2r_bytes(c, s->rva, s->size);
    uint32_t prev_end = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = t + (size_t)i * esize;
        ilg_r2r_function_info *rf = &r->rfs[i];
        const uint32_t at = s->rva + i * esize;
        /* ARM code addresses carry the Thumb bit. */
        rf->begin = ilg__rd32(e) & (c->arch == ILG_MACHINE_ARMNT ? ~1u : ~0u);
        rf->unwind = ilg__rd32(e + esize - 4);
        uint32_t len = 0;
        if (esize == 12)
            len = ilg__rd32(e + 4) - rf->begin;
        else if (!unwind_length(c, rf->unwind, &len))
            return ilg__r2r_fail(c, ILG_E_R2R_BAD_RUNTIME_FUNCTION, at,
                                 "runtime function %u: unwind data at RVA 0x%x is unreadable", i,
                                 rf->unwind);
        rf->end = rf->begin + len;
        if (rf->end <= rf->begin || rf->begin < prev_end ||
            !ilg__r2r_bytes(c, rf->begin, rf->end - rf->begin))
            return ilg__r2r_fail(c, ILG_E_R2R_BAD_RUNTIME_FUNCTION, at,
                                 "runtime function %u: code 0x%x..0x%x is empty, overlaps the one "
                                 "before (ending at 0x%x) or leaves its section", i, rf->begin,
                                 rf->end, prev_end);
        prev_end = rf->end;
    }
    r->info.runtime_function_count = n;
    return ILG_OK;
}

/* ---- entry points ---------------------------------------------------------------------- */

/* The encoded entry (readytoruninfo.cpp GetEntryPoint): the runtime function index
 * shifted left by one with bit 0 clear, or by two with bit 0 set when a fixup list is
 * needed: right after the index, or (bit 1 also set) at a distance back from there. */
ilg_status ilg__r2r_decode_entry(r2r_ctx *c, uint32_t at, ilg_r2r_method_info *m)
{
    uint32_t pos = at, id, back;
    m->entry_rva = at;
    if (!ilg__nf_unsigned(c, &pos, &id))
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_NATIVE_FORMAT, at,
                             "method 0x%08x: entry point index unreadable", m->token);
    if (id & 1) {
        m->has_fixups = true;
        m->fixups_rva = pos;
        if (id & 2) {
            uint32_t p2 = pos;
            if (!ilg__nf_unsigned(c, &p2, &back))
                return ilg__r2r_fail(c, ILG_E_R2R_BAD_NATIVE_FORMAT, pos,
                                     "method 0x%08x: fixup list offset unreadable", m->token);
            m->fixups_rva = pos - back;
        }
        id >>= 2;
    } else {
        id >>= 1;
    }
    if (id >= c->r->info.runtime_function_count)
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_ENTRY_POINT, at,
                             "method 0x%08x: runtime function %u of %u", m->token, id,
                             c->r->info.runtime_function_count);
    if (m->has_fixups && (m->fixups_rva > pos || !ilg__r2r_bytes(c, m->fixups_rva, 1)))
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_ENTRY_POINT, at,
                             "method 0x%08x: fixup list at RVA 0x%x lies outside the image",
                             m->token, m->fixups_rva);
    m->runtime_function = id;
    return ILG_OK;
}

ilg_status ilg__r2r_add_method(r2r_ctx *c, const ilg_r2r_method_info *m)
{
    struct ilg_r2r *r = c->r;
    ilg_status st = ilg__grow((void **)&r->methods, &r->method_cap, (uint64_t)r->method_count + 1,
                              sizeof *r->methods);
    if (st != ILG_OK)
        return st;
    r->methods[r->method_count++] = *m;
    return ILG_OK;
}

/* One element of MethodDefEntryPoints: element index = rid - 1. */
static ilg_status methoddef_element(r2r_ctx *c, uint32_t index, uint32_t data)
{
    ilg_r2r_method_info m = { .token = 0x06000000u | (index + 1) };
    /* The last block may be partial: the runtime never looks past the count. */
    if (index >= c->array_count)
        return ILG_OK;
    if (index >= c->methoddef_rows)
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_ENTRY_POINT, data,
                             "MethodDefEntryPoints element %u names MethodDef row %u of %u", index,
                             index + 1, c->methoddef_rows);
    ilg_status st = ilg__r2r_decode_entry(c, data, &m);
    return st == ILG_OK ? ilg__r2r_add_method(c, &m) : st;
}

/* The subtree of one block at node, whose elements are [first, first + 2 * bit) of the
 * block (nativeformatreader.h TryGetAt, walked instead of probed). A leaf node (low two
 * bits clear) holds one element, the index in its upper bits; it counts only when the
 * runtime's lookup can reach it, inside its subtree. Depth 4, so at most 31 nodes. */
static ilg_status array_subtree(r2r_ctx *c, uint32_t block_base, uint32_t node, uint32_t bit,
                                uint32_t first)
{
    if (bit == 0)
        return methoddef_element(c, block_base + first, node);
    uint32_t next = node, val;
    if (!ilg__nf_unsigned(c, &next, &val))
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_NATIVE_FORMAT, node,
                             "MethodDefEntryPoints node for elements %u.. unreadable",
                             block_base + first);
    if ((val & 3) == 0) {
        uint32_t idx = val >> 2;
        if (idx >= first && idx < first + 2 * bit)
            return methoddef_element(c, block_base + idx, next);
        return ILG_OK;
    }
    ilg_status st = ILG_OK;
    if (val & 1)
        st = array_subtree(c, block_base, next, bit >> 1, first);
    if (st == ILG_OK && (val & 2))
        st = array_subtree(c, block_base, node + (val >> 2), bit >> 1, first + bit);
    return st;
}

static ilg_status parse_methoddef_entries(r2r_ctx *c)
{
    const ilg_r2r_section *s = ilg__r2r_section(c->r, ILG_R2R_METHODDEF_ENTRY_POINTS);
    if (!s)
        return ILG_OK;
    uint32_t base = s->rva, header = 0;
    if (!ilg__nf_unsigned(c, &base, &header) || (header & 3) == 3)
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_NATIVE_FORMAT, s->rva,
                             "MethodDefEntryPoints array header 0x%x at RVA 0x%x: %s", header,
                             s->rva, header & 3 ? "offset size code 3" : "unreadable");
    const uint32_t count = header >> 2, esize = 1u << (header & 3);
    const uint32_t blocks = count / 16 + (count % 16 != 0);
    const uint8_t *index = ilg__r2r_bytes(c, base, (uint64_t)blocks * esize);
    if (!index)
        return ilg__r2r_fail(c, ILG_E_R2R_BAD_NATIVE_FORMAT, s->rva,
                             "MethodDefEntryPoints: %u elements need a %u-block index of %u-byte "
                             "offsets at RVA 0x%x, past its section", count, blocks, esize, base);
    c->r->info.methoddef_slots = c->array_count = count;
    for (uint32_t b = 0; b < blocks; b++) {
        const uint8_t *e = index + (size_t)b * esize;
        uint32_t off = esize == 1 ? e[0] : esize == 2 ? ilg__rd16(e) : ilg__rd32(e);
        ilg_status st = array_subtree(c, b * 16, base + off, 8, 0);
        if (st != ILG_OK)
            return st;
    }
    c->r->info.methoddef_entries = c->r->method_count;
    return ILG_OK;
}

/* ---- code ranges ------------------------------------------------------------------ */

#define EH_CLAUSE_SIZE 24u         /* READYTORUN_EXCEPTION_CLAUSE */
#define EH_CLAUSE_FILTER 0x1u      /* COR_ILEXCEPTION_CLAUSE_FILTER: FilterOffset starts a funclet */

/* ExceptionInfo (104): {MethodStart, clauses RVA} sorted by MethodStart, the last one a
 * sentinel whose clauses RVA ends the one before; a method's clauses are 24 bytes each
 * (Flags, TryStart, TryEnd, HandlerStart, HandlerEnd, ClassToken or FilterOffset). */
static ilg_status parse_exception_info(r2r_ctx *c)
{
    struct ilg_r2r *r = c->r;
    const ilg_r2r_section *s = ilg__r2r_section(r, ILG_R2R_EXCEPTION_INFO);
    if (!s || s->size < 16)
        return ILG_OK;
    const uint8_t *t = ilg__r2r_bytes(c, s->rva, s->size);
    const uint32_t n = s->size / 8;
    for (uint32_t i = 0; i + 1 < n; i++) {
        const uint32_t start = ilg__rd32(t + 8 * i), lo = ilg__rd32(t + 8 * i + 4);
        const uint32_t next = ilg__rd32(t + 8 * i + 8), hi = ilg__rd32(t + 8 * i + 12);
        if (next <= start || hi < lo || (hi - lo) % EH_CLAUSE_SIZE || !ilg__r2r_bytes(c, lo, hi - lo))
            return ilg__r2r_fail(c, ILG_E_R2R_BAD_SECTION, s->rva + 8 * i,
                                 "ExceptionInfo entry %u (method 0x%x, clauses 0x%x..0x%x) is out "
                                 "of order or its clauses are not whole and inside the image", i,
                                 start, lo, hi);
    }
    r->eh = t;
    r->eh_count = n;
    return ILG_OK;
}

/* The clauses of the method whose code starts at rva (binary search). */
static const uint8_t *method_clauses(const r2r_ctx *c, uint32_t rva, uint32_t *count)
{
    const struct ilg_r2r *r = c->r;
    uint32_t lo = 0, hi = r->eh_count ? r->eh_count - 1 : 0;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ilg__rd32(r->eh + 8 * mid) < rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    *count = 0;
    if (!r->eh_count || lo + 1 >= r->eh_count || ilg__rd32(r->eh + 8 * lo) != rva)
        return NULL;
    const uint32_t from = ilg__rd32(r->eh + 8 * lo + 4), to = ilg__rd32(r->eh + 8 * lo + 12);
    *count = (to - from) / EH_CLAUSE_SIZE;
    return c->img->base + from;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* How many runtime functions, from main on, are the method's code: the main one and the
 * funclets after it. A funclet is what an EH clause's handler (or filter) starts, so
 * the run stops at the first function that no clause of the method starts, at the next
 * method's, and at the cold parts; without ExceptionInfo, at the next method's
 * (R2RDump's CountRuntimeFunctions). Code no entry refers to, as a filtered save leaves
 * it, so never counts as a method's. */
static uint32_t method_functions(r2r_ctx *c, const bool *entry, uint32_t main, uint32_t first_cold,
                                 uint32_t *starts)
{
    struct ilg_r2r *r = c->r;
    const uint32_t n = r->info.runtime_function_count, begin = r->rfs[main].begin;
    uint32_t clauses = 0, nstarts = 0;
    const uint8_t *cl = r->eh ? method_clauses(c, begin, &clauses) : NULL;
    for (uint32_t i = 0; i < clauses; i++) {
        const uint8_t *e = cl + (size_t)i * EH_CLAUSE_SIZE;
        starts[nstarts++] = ilg__rd32(e + 12);
        if (ilg__rd32(e) & EH_CLAUSE_FILTER)
            starts[nstarts++] = ilg__rd32(e + 20);
    }
    qsort(starts, nstarts, sizeof *starts, cmp_u32);
    uint32_t k = main + 1;
    while (k < n && !entry[k] && k < first_cold && (!r->eh || k - main <= nstarts)) {
        uint32_t off = r->rfs[k].begin - begin;
        if (r->eh && !bsearch(&off, starts, nstarts, sizeof *starts, cmp_u32))
            break;
        k++;
    }
    return k - main;
}

/* Each method's code: main and funclets, and its cold parts (HotColdMap pairs of cold
 * and hot indices, sorted, the cold parts at the end of the table). Counts are cached
 * per main function, so methods that share code cost no more than the table. */
static ilg_status measure_methods(r2r_ctx *c)
{
    struct ilg_r2r *r = c->r;
    const uint32_t n = r->info.runtime_function_count;
    const ilg_r2r_section *hc = ilg__r2r_section(r, ILG_R2R_HOT_COLD_MAP);
    const uint32_t pairs = hc ? hc->size / 8 : 0;
    const uint8_t *map = pairs ? ilg__r2r_bytes(c, hc->rva, hc->size) : NULL;
    for (uint32_t i = 0; i < pairs; i++) {
        uint32_t cold = ilg__rd32(map + 8 * i), hot = ilg__rd32(map + 8 * i + 4);
        if (cold >= n || hot >= n || (i && cold <= ilg__rd32(map + 8 * i - 8)))
            return ilg__r2r_fail(c, ILG_E_R2R_BAD_SECTION, hc->rva + 8 * i,
                                 "HotColdMap pair %u (cold %u, hot %u) is out of order or past "
                                 "the %u runtime functions", i, cold, hot, n);
    }
    const uint32_t first_cold = pairs ? ilg__rd32(map) : n;
    bool *entry = calloc(n + 1, 1);
    uint32_t *count = calloc(n + 1, sizeof *count), *cold = calloc(n + 1, sizeof *cold);
    uint64_t *size = calloc(n + 1, sizeof *size);
    uint32_t *starts = NULL;
    uint32_t most = 0;
    for (uint32_t i = 0; r->eh && i + 1 < r->eh_count; i++) {
        uint32_t k = (ilg__rd32(r->eh + 8 * i + 12) - ilg__rd32(r->eh + 8 * i + 4)) / EH_CLAUSE_SIZE;
        most = k > most ? k : most;
    }
    starts = calloc(2 * (size_t)most + 1, sizeof *starts);
    if (!entry || !count || !cold || !size || !starts) {
        free(entry), free(count), free(cold), free(size), free(starts);
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "an index of %u runtime functions", n);
    }
    for (uint32_t i = 0; i < r->method_count; i++)
        entry[r->methods[i].runtime_function] = true;
    for (uint32_t p = 0; p < pairs; p++)
        cold[ilg__rd32(map + 8 * p + 4)] = p + 1;
    for (uint32_t i = 0; i < r->method_count; i++) {
        ilg_r2r_method_info *m = &r->methods[i];
        const uint32_t k = m->runtime_function;
        uint32_t from = 0, to = 0;
        if (cold[k]) {
            const uint32_t p = cold[k] - 1;
            from = ilg__rd32(map + 8 * p);
            to = p + 1 < pairs ? ilg__rd32(map + 8 * p + 8) : n;
        }
        if (!count[k]) {
            count[k] = method_functions(c, entry, k, first_cold, starts);
            for (uint32_t j = k; j < k + count[k]; j++)
                size[k] += r->rfs[j].end - r->rfs[j].begin;
            for (uint32_t j = from; j < to; j++)
                size[k] += r->rfs[j].end - r->rfs[j].begin;
        }
        m->code_rva = r->rfs[k].begin;
        m->main_size = r->rfs[k].end - r->rfs[k].begin;
        m->runtime_function_count = count[k];
        m->cold_runtime_function = from;
        m->cold_runtime_function_count = to - from;
        m->code_size = size[k] > UINT32_MAX ? UINT32_MAX : (uint32_t)size[k];
    }
    free(entry), free(count), free(cold), free(size), free(starts);
    return ILG_OK;
}

/* ---- the parse and the API -------------------------------------------------------- */

void ilg__r2r_free(struct ilg_r2r *r)
{
    if (!r)
        return;
    free(r->sections);
    free(r->compiler);
    free(r->owner);
    free(r->rfs);
    free(r->methods);
    free(r->inlines);
    free(r);
}

static ilg_status r2r_parse(ilg_image *img, struct ilg_r2r **out)
{
    const ilg_metadata *md;
    ilg_md_info mi;
    ilg_status st = ilg_image_metadata(img, &md);
    if (st != ILG_OK)
        return st;
    ilg_md_get_info(md, &mi);
    if (!mi.managed_native_header_rva && !mi.managed_native_header_size)
        return ilg__fail(ILG_E_R2R_ABSENT, ILG_WHERE_NONE, 0,
                         "the CLI header's ManagedNativeHeader is empty (IL only)");
    struct ilg_r2r *r = calloc(1, sizeof *r);
    if (!r)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "ReadyToRun object");
    r2r_ctx c = { .img = img, .md = md, .r = r,
                  .methoddef_rows = ilg_md_row_count(md, ILG_TBL_MethodDef) };
    r->info.compiler = "";
    if ((st = parse_header(&c, &mi)) == ILG_OK &&
        (st = section_string(&c, ILG_R2R_COMPILER_IDENTIFIER, &r->compiler)) == ILG_OK &&
        (st = section_string(&c, ILG_R2R_OWNER_COMPOSITE_EXECUTABLE, &r->owner)) == ILG_OK &&
        (st = parse_runtime_functions(&c)) == ILG_OK &&
        (st = parse_exception_info(&c)) == ILG_OK &&
        (st = parse_methoddef_entries(&c)) == ILG_OK &&
        (st = ilg__r2r_parse_instances(&c)) == ILG_OK &&
        (st = ilg__r2r_parse_inlining(&c)) == ILG_OK)
        st = measure_methods(&c);
    if (st != ILG_OK) {
        ilg__r2r_free(r);
        return st;
    }
    if (r->compiler)
        r->info.compiler = r->compiler;
    r->info.owner_composite = r->owner;
    *out = r;
    return ILG_OK;
}

ilg_status ilg_image_readytorun(ilg_image *img, const ilg_r2r **out)
{
    if (!img || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "image and out are required");
    if (img->format != ILG_FORMAT_PE32 && img->format != ILG_FORMAT_PE32PLUS)
        return ilg__fail(ILG_E_R2R_ABSENT, ILG_WHERE_NONE, 0, "an ELF image has no ReadyToRun header");
    pthread_mutex_lock(&img->r2r_lock);
    if (!img->r2r_done) {
        img->r2r_status = r2r_parse(img, &img->r2r);
        if (img->r2r_status != ILG_OK)
            img->r2r_diag = *ilg_last_diag();
        img->r2r_done = true;
    }
    ilg_status st = img->r2r_status;
    if (st == ILG_OK)
        *out = img->r2r;
    else
        ilg__fail(st, img->r2r_diag.where, img->r2r_diag.offset, "%s", img->r2r_diag.message);
    pthread_mutex_unlock(&img->r2r_lock);
    return st;
}

ilg_status ilg_r2r_get_info(const ilg_r2r *r2r, ilg_r2r_info *out)
{
    if (!r2r || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "r2r and out are required");
    *out = r2r->info;
    return ILG_OK;
}

uint32_t ilg_r2r_method_count(const ilg_r2r *r2r) { return r2r ? r2r->method_count : 0; }

ilg_status ilg_r2r_method(const ilg_r2r *r2r, uint32_t index, ilg_r2r_method_info *out)
{
    if (!r2r || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "r2r and out are required");
    if (index >= r2r->method_count)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_NONE, 0, "ReadyToRun method %u of %u", index,
                         r2r->method_count);
    *out = r2r->methods[index];
    return ILG_OK;
}

ilg_status ilg_r2r_method_for_rid(const ilg_r2r *r2r, uint32_t rid, ilg_r2r_method_info *out)
{
    if (!r2r || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "r2r and out are required");
    /* The MethodDef entries come first, by ascending token. */
    const uint32_t token = 0x06000000u | rid;
    uint32_t lo = 0, hi = r2r->info.methoddef_entries;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r2r->methods[mid].token < token)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < r2r->info.methoddef_entries && r2r->methods[lo].token == token) {
        *out = r2r->methods[lo];
        return ILG_OK;
    }
    return ilg__fail(ILG_E_NOT_FOUND, ILG_WHERE_NONE, 0,
                     "method 0x%08x has no precompiled entry point", token);
}

ilg_status ilg_r2r_runtime_function(const ilg_r2r *r2r, uint32_t index,
                                    ilg_r2r_function_info *out)
{
    if (!r2r || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "r2r and out are required");
    if (index >= r2r->info.runtime_function_count)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_NONE, 0, "runtime function %u of %u", index,
                         r2r->info.runtime_function_count);
    *out = r2r->rfs[index];
    return ILG_OK;
}

ilg_status ilg_r2r_inline(const ilg_r2r *r2r, uint32_t index, ilg_r2r_inline_info *out)
{
    if (!r2r || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "r2r and out are required");
    if (index >= r2r->inline_count)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_NONE, 0, "inlining pair %u of %u", index,
                         r2r->inline_count);
    *out = r2r->inlines[index];
    return ILG_OK;
}
