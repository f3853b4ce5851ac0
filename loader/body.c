/* body.c: locating and measuring method bodies (ECMA-335 II.25.4) without decoding
 * their instructions: header form, code size, extra sections and the exact on-disk
 * size (what GetILFunctionBody reports). */
#include "cil_body.h"
#include "md_private.h"

typedef unsigned long long ull;

#define CODE_TYPE_MASK 0x0003   /* MethodImplAttributes (II.23.1.11) */
#define CODE_TYPE_NATIVE 0x0001

static ilg_status header_error(ilg_cil_issue issue, const uint8_t *p, const ilg_cil_header *h,
                               uint32_t token, uint32_t rva, uint64_t avail, ilg_where where,
                               uint64_t pos_of)
{
    switch (issue) {
    case ILG_CIL_TRUNCATED:
        return ilg__fail(ILG_E_BODY_TRUNCATED, where, pos_of,
                         "method 0x%08x: fat header at RVA 0x%x needs 12 bytes, 0x%llx left",
                         token, rva, (ull)avail);
    case ILG_CIL_BAD_FAT_SIZE:
        return ilg__fail(ILG_E_BODY_BAD_HEADER, where, pos_of,
                         "method 0x%08x: fat header size %u dwords, must be 3", token, p[1] >> 4);
    case ILG_CIL_BAD_LOCALS:
        return ilg__fail(ILG_E_BODY_BAD_HEADER, where, pos_of + 8,
                         "method 0x%08x: LocalVarSigTok 0x%08x is not a StandAloneSig token",
                         token, h->local_sig);
    case ILG_CIL_CODE_TRUNCATED:
        if (!h->fat)
            return ilg__fail(ILG_E_BODY_TRUNCATED, where, pos_of,
                             "method 0x%08x: tiny body of %u code bytes at RVA 0x%x runs past its section (0x%llx bytes left)",
                             token, h->code_size, rva, (ull)avail);
        return ilg__fail(ILG_E_BODY_TRUNCATED, where, pos_of + 4,
                         "method 0x%08x: code size 0x%x at RVA 0x%x runs past its section (0x%llx bytes left)",
                         token, h->code_size, rva, (ull)avail);
    default:
        return ilg__fail(ILG_E_BODY_BAD_HEADER, where, pos_of,
                         "method 0x%08x: header byte 0x%02x is neither tiny (..10) nor fat (..11)",
                         token, p[0]);
    }
}

/* sec: the section's offset in the body; pos_of: the body's position (file offset or RVA,
 * as where says). */
static ilg_status section_error(ilg_cil_issue issue, const ilg_cil_section *s, uint32_t token,
                                ilg_where where, uint64_t pos_of, uint64_t sec)
{
    const uint64_t sec_pos = pos_of + sec;
    switch (issue) {
    case ILG_CIL_BAD_KIND:
        return ilg__fail(ILG_E_BODY_BAD_SECTION, where, sec_pos,
                         "method 0x%08x: data section kind 0x%02x is not an EH table", token, s->kind);
    case ILG_CIL_BAD_DATA_SIZE:
        return ilg__fail(ILG_E_BODY_BAD_SECTION, where, sec_pos + 1,
                         "method 0x%08x: %s EH section DataSize %u is not %u*n+4", token,
                         s->fat ? "fat" : "small", s->data_size, s->clause_size);
    case ILG_CIL_SECT_TRUNCATED:
        return ilg__fail(ILG_E_BODY_TRUNCATED, where, sec_pos,
                         "method 0x%08x: EH section of %u bytes runs past its section", token,
                         s->data_size);
    default:
        return ilg__fail(ILG_E_BODY_TRUNCATED, where, sec_pos,
                         "method 0x%08x: data section at +0x%llx runs past its section", token,
                         (ull)sec);
    }
}

ilg_status ilg_md_method_body(const ilg_metadata *md, uint32_t rid, ilg_method_body *out)
{
    if (!md || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "metadata and out are required");
    if (rid == 0 || rid > md->tables[ILG_TBL_MethodDef].rows)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_NONE, 0, "MethodDef row %u of %u", rid,
                         md->tables[ILG_TBL_MethodDef].rows);
    const ilg_image *img = md->img;
    const uint32_t token = 0x06000000u | rid;
    const uint32_t rva = ilg__md_raw(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_RVA);
    const uint16_t impl = (uint16_t)ilg__md_raw(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_ImplFlags);
    ilg_method_body b = { .rva = rva };

    if (rva == 0) {
        *out = b;
        return ILG_OK;
    }
    if (!img)
        return ilg__fail(ILG_E_NOT_FOUND, ILG_WHERE_NONE, 0,
                         "method 0x%08x: metadata without an image has no bodies", token);
    const ilg_region *r = ilg__region_for(img, rva, 1);
    if (!r)
        return ilg__fail(ILG_E_BODY_BAD_RVA, ILG_WHERE_RVA, rva,
                         "method 0x%08x: RVA 0x%x does not lie inside a section", token, rva);
    const uint64_t avail = r->virtual_size - (rva - r->rva);
    b.file_offset = rva - r->rva < r->file_size ? r->file_offset + (rva - r->rva) : 0;
    const uint8_t *p = img->base + rva;
    if ((impl & CODE_TYPE_MASK) == CODE_TYPE_NATIVE) {
        b.kind = ILG_BODY_NATIVE;
        b.header = p;
        *out = b;
        return ILG_OK;
    }
    const ilg_where where = b.file_offset ? ILG_WHERE_FILE : ILG_WHERE_RVA;
    const uint64_t pos_of = b.file_offset ? b.file_offset : rva;

    b.header = p;
    if ((p[0] & ILG_CIL_FORMAT_MASK) == ILG_CIL_FAT_FORMAT && (rva & 3))
        return ilg__fail(ILG_E_BODY_MISALIGNED, where, pos_of,
                         "method 0x%08x: fat header at RVA 0x%x is not 4-byte aligned", token, rva);
    ilg_cil_header h;
    ilg_cil_issue issue = ilg__cil_header(p, avail, &h);
    if (issue != ILG_CIL_OK)
        return header_error(issue, p, &h, token, rva, avail, where, pos_of);
    b.kind = h.fat ? ILG_BODY_FAT : ILG_BODY_TINY;
    b.header_size = h.size;
    b.fat_flags = h.word & ILG_CIL_FAT_FLAGS_MASK;
    b.max_stack = h.max_stack;
    b.code_size = h.code_size;
    b.local_sig = h.local_sig;
    b.init_locals = ilg__cil_init_locals(&h);
    uint64_t end = (uint64_t)h.size + h.code_size;
    bool more = ilg__cil_more_sects(&h);
    while (more) {
        const uint64_t sec = ilg__align_up(end, 4);
        ilg_cil_section s;
        if ((issue = ilg__cil_section(p, avail, sec, &s)) != ILG_CIL_OK)
            return section_error(issue, &s, token, where, pos_of, sec);
        b.eh_clauses += s.clauses;
        end = sec + s.data_size;
        more = s.more;
    }
    b.body_size = (uint32_t)end;
    b.code = p + b.header_size;
    *out = b;
    return ILG_OK;
}
