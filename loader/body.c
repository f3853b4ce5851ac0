/* body.c: locating and measuring method bodies (ECMA-335 II.25.4) without decoding
 * their instructions: header form, code size, extra sections and the exact on-disk
 * size (what GetILFunctionBody reports). */
#include "md_private.h"

typedef unsigned long long ull;

#define CODE_TYPE_MASK 0x0003
#define CODE_TYPE_NATIVE 0x0001
#define SECT_EHTABLE 0x01
#define SECT_FAT 0x40
#define SECT_MORE 0x80

ilg_status ilg_md_method_body(const ilg_metadata *md, uint32_t rid, ilg_method_body *out)
{
    if (!md || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "metadata and out are required");
    if (rid == 0 || rid > md->tables[ILG_TBL_MethodDef].rows)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_NONE, 0, "MethodDef row %u of %u", rid,
                         md->tables[ILG_TBL_MethodDef].rows);
    const ilg_image *img = md->img;
    const uint32_t token = 0x06000000u | rid;
    const uint32_t rva = ilg__md_raw(md, ILG_TBL_MethodDef, rid, 0);
    const uint16_t impl = (uint16_t)ilg__md_raw(md, ILG_TBL_MethodDef, rid, 1);
    ilg_method_body b = { .rva = rva };

    if (rva == 0) {
        *out = b;
        return ILG_OK;
    }
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
    switch (p[0] & 3) {
    case 2: /* tiny */
        b.kind = ILG_BODY_TINY;
        b.header_size = 1;
        b.code_size = p[0] >> 2;
        b.max_stack = 8;
        if (1 + (uint64_t)b.code_size > avail)
            return ilg__fail(ILG_E_BODY_TRUNCATED, where, pos_of,
                             "method 0x%08x: tiny body of %u code bytes at RVA 0x%x runs past its section (0x%llx bytes left)",
                             token, b.code_size, rva, (ull)avail);
        b.body_size = 1 + b.code_size;
        break;
    case 3: { /* fat */
        if (rva & 3)
            return ilg__fail(ILG_E_BODY_MISALIGNED, where, pos_of,
                             "method 0x%08x: fat header at RVA 0x%x is not 4-byte aligned", token, rva);
        if (avail < 12)
            return ilg__fail(ILG_E_BODY_TRUNCATED, where, pos_of,
                             "method 0x%08x: fat header at RVA 0x%x needs 12 bytes, 0x%llx left",
                             token, rva, (ull)avail);
        uint16_t fw = ilg__rd16(p);
        if ((fw >> 12) != 3)
            return ilg__fail(ILG_E_BODY_BAD_HEADER, where, pos_of,
                             "method 0x%08x: fat header size %u dwords, must be 3", token, fw >> 12);
        b.kind = ILG_BODY_FAT;
        b.header_size = 12;
        b.fat_flags = fw & 0x0FFF;
        b.max_stack = ilg__rd16(p + 2);
        b.code_size = ilg__rd32(p + 4);
        b.local_sig = ilg__rd32(p + 8);
        b.init_locals = (b.fat_flags & 0x10) != 0;
        if (b.local_sig && (b.local_sig >> 24) != ILG_TBL_StandAloneSig)
            return ilg__fail(ILG_E_BODY_BAD_HEADER, where, pos_of + 8,
                             "method 0x%08x: LocalVarSigTok 0x%08x is not a StandAloneSig token",
                             token, b.local_sig);
        uint64_t end = 12 + (uint64_t)b.code_size;
        if (end > avail)
            return ilg__fail(ILG_E_BODY_TRUNCATED, where, pos_of + 4,
                             "method 0x%08x: code size 0x%x at RVA 0x%x runs past its section (0x%llx bytes left)",
                             token, b.code_size, rva, (ull)avail);
        bool more = (b.fat_flags & 0x08) != 0;
        while (more) {
            uint64_t sec = ilg__align_up(end, 4);
            if (sec + 4 > avail)
                return ilg__fail(ILG_E_BODY_TRUNCATED, where, pos_of + sec,
                                 "method 0x%08x: data section at +0x%llx runs past its section",
                                 token, (ull)sec);
            uint8_t kind = p[sec];
            uint32_t data_size, clause;
            if ((kind & ~(SECT_EHTABLE | SECT_FAT | SECT_MORE)) || !(kind & SECT_EHTABLE))
                return ilg__fail(ILG_E_BODY_BAD_SECTION, where, pos_of + sec,
                                 "method 0x%08x: data section kind 0x%02x is not an EH table",
                                 token, kind);
            if (kind & SECT_FAT) {
                data_size = p[sec + 1] | (p[sec + 2] << 8) | ((uint32_t)p[sec + 3] << 16);
                clause = 24;
            } else {
                data_size = p[sec + 1];
                clause = 12;
            }
            if (data_size < 4 || (data_size - 4) % clause != 0)
                return ilg__fail(ILG_E_BODY_BAD_SECTION, where, pos_of + sec + 1,
                                 "method 0x%08x: %s EH section DataSize %u is not %u*n+4", token,
                                 kind & SECT_FAT ? "fat" : "small", data_size, clause);
            if (sec + data_size > avail)
                return ilg__fail(ILG_E_BODY_TRUNCATED, where, pos_of + sec,
                                 "method 0x%08x: EH section of %u bytes runs past its section",
                                 token, data_size);
            b.eh_clauses += (data_size - 4) / clause;
            end = sec + data_size;
            more = (kind & SECT_MORE) != 0;
        }
        b.body_size = (uint32_t)end;
        break;
    }
    default:
        return ilg__fail(ILG_E_BODY_BAD_HEADER, where, pos_of,
                         "method 0x%08x: header byte 0x%02x is neither tiny (..10) nor fat (..11)",
                         token, p[0]);
    }
    b.code = p + b.header_size;
    *out = b;
    return ILG_OK;
}
