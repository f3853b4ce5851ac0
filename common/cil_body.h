/* cil_body.h: the framing of a CIL method body (ECMA-335 II.25.4): the tiny and fat
 * headers, the extra data sections after the code and their EH clauses, read and written
 * in this one place. The loader measures bodies with it (loader/body.c), ilbody decodes
 * and encodes them (ilbody/decode.c, encode.c). The readers check bounds and say what is
 * wrong; each caller turns that into its own status and message. Not installed. */
#ifndef ILG_CIL_BODY_H
#define ILG_CIL_BODY_H

#include "ilg_private.h"

/* II.25.4.1-4: the header's format bits and the fat header's flags. */
#define ILG_CIL_FORMAT_MASK 0x3
#define ILG_CIL_TINY_FORMAT 0x2
#define ILG_CIL_FAT_FORMAT 0x3
#define ILG_CIL_TINY_MAX_CODE 63     /* six bits of code size */
#define ILG_CIL_TINY_MAX_STACK 8     /* what a tiny header implies */
#define ILG_CIL_FAT_FLAGS_MASK 0x0FFF  /* the first u16 below the size nibble */
#define ILG_CIL_FAT_MORE_SECTS 0x08
#define ILG_CIL_FAT_INIT_LOCALS 0x10
#define ILG_CIL_FAT_SIZE 12          /* bytes, also the header's size nibble: 3 dwords */
#define ILG_CIL_FAT_DWORDS 3
#define ILG_CIL_FAT_DEFAULT_WORD 0x3003 /* fat format, size 3, no flags */
#define ILG_CIL_LOCALS_TABLE 0x11    /* LocalVarSigTok is a StandAloneSig token */

/* II.25.4.5: data section kinds. */
#define ILG_CIL_SECT_EHTABLE 0x01
#define ILG_CIL_SECT_FAT 0x40
#define ILG_CIL_SECT_MORE 0x80
#define ILG_CIL_SECT_HEADER 4        /* Kind, DataSize, and for small sections 2 reserved bytes */
#define ILG_CIL_SMALL_CLAUSE 12      /* II.25.4.6 */
#define ILG_CIL_FAT_CLAUSE 24
#define ILG_CIL_SMALL_MAX_DATA 0xFF
#define ILG_CIL_FAT_MAX_DATA 0xFFFFFF

/* What a header or section reader found wrong. */
typedef enum ilg_cil_issue {
    ILG_CIL_OK,
    ILG_CIL_TRUNCATED,        /* the header (or section header) itself runs past avail */
    ILG_CIL_BAD_FORMAT,       /* header byte neither tiny nor fat */
    ILG_CIL_BAD_FAT_SIZE,     /* fat header size nibble not 3 */
    ILG_CIL_BAD_LOCALS,       /* LocalVarSigTok not a StandAloneSig token */
    ILG_CIL_CODE_TRUNCATED,   /* the code runs past avail */
    ILG_CIL_BAD_KIND,         /* section kind not an EH table */
    ILG_CIL_BAD_DATA_SIZE,    /* DataSize not clause * n + 4 */
    ILG_CIL_SECT_TRUNCATED    /* the section's clauses run past avail */
} ilg_cil_issue;

typedef struct ilg_cil_header {
    bool fat;
    uint8_t size;           /* 1 or 12 */
    uint16_t word;          /* a fat header's first u16 (flags and size nibble); 0 when tiny */
    uint16_t max_stack;
    uint32_t code_size;
    uint32_t local_sig;
} ilg_cil_header;

/* The header at p (avail bytes from there to the end of what may be read). The code's
 * bounds are checked too: on success header size + code_size <= avail. */
static inline ilg_cil_issue ilg__cil_header(const uint8_t *p, uint64_t avail, ilg_cil_header *h)
{
    if (avail < 1)
        return ILG_CIL_TRUNCATED;
    switch (p[0] & ILG_CIL_FORMAT_MASK) {
    case ILG_CIL_TINY_FORMAT:
        *h = (ilg_cil_header){ .size = 1, .max_stack = ILG_CIL_TINY_MAX_STACK, .code_size = p[0] >> 2 };
        break;
    case ILG_CIL_FAT_FORMAT: {
        if (avail < ILG_CIL_FAT_SIZE)
            return ILG_CIL_TRUNCATED;
        const uint16_t w = ilg__rd16(p);
        if ((w >> 12) != ILG_CIL_FAT_DWORDS)
            return ILG_CIL_BAD_FAT_SIZE;
        *h = (ilg_cil_header){ .fat = true, .size = ILG_CIL_FAT_SIZE, .word = w,
                               .max_stack = ilg__rd16(p + 2), .code_size = ilg__rd32(p + 4),
                               .local_sig = ilg__rd32(p + 8) };
        if (h->local_sig && (h->local_sig >> 24) != ILG_CIL_LOCALS_TABLE)
            return ILG_CIL_BAD_LOCALS;
        break;
    }
    default:
        return ILG_CIL_BAD_FORMAT;
    }
    return (uint64_t)h->size + h->code_size > avail ? ILG_CIL_CODE_TRUNCATED : ILG_CIL_OK;
}

static inline bool ilg__cil_more_sects(const ilg_cil_header *h)
{
    return h->fat && (h->word & ILG_CIL_FAT_MORE_SECTS);
}

static inline bool ilg__cil_init_locals(const ilg_cil_header *h)
{
    return h->fat && (h->word & ILG_CIL_FAT_INIT_LOCALS);
}

typedef struct ilg_cil_section {
    uint8_t kind;           /* the raw Kind byte */
    bool fat, more;
    uint16_t reserved;      /* a small section's Reserved word, as stored */
    uint32_t data_size;     /* including the 4-byte section header */
    uint32_t clause_size;   /* 12 or 24 */
    uint32_t clauses;
} ilg_cil_section;

/* The data section at p + off (off 4-byte aligned, avail bytes from p). The Reserved
 * word of a small section is returned, not checked: II.25.4.5 says it is always 0, but
 * CoreCLR (and Mono) never read it, so bodies with other values run
 * (docs/coreclr-observed.md, "Small EH sections"). */
static inline ilg_cil_issue ilg__cil_section(const uint8_t *p, uint64_t avail, uint64_t off,
                                             ilg_cil_section *s)
{
    if (off > avail || avail - off < ILG_CIL_SECT_HEADER)
        return ILG_CIL_TRUNCATED;
    const uint8_t *q = p + off;
    s->kind = q[0];
    s->fat = (q[0] & ILG_CIL_SECT_FAT) != 0;
    s->more = (q[0] & ILG_CIL_SECT_MORE) != 0;
    s->data_size = s->fat ? q[1] | (q[2] << 8) | ((uint32_t)q[3] << 16) : q[1];
    s->reserved = s->fat ? 0 : ilg__rd16(q + 2);
    s->clause_size = s->fat ? ILG_CIL_FAT_CLAUSE : ILG_CIL_SMALL_CLAUSE;
    s->clauses = 0;
    if ((q[0] & ~(ILG_CIL_SECT_EHTABLE | ILG_CIL_SECT_FAT | ILG_CIL_SECT_MORE)) ||
        !(q[0] & ILG_CIL_SECT_EHTABLE))
        return ILG_CIL_BAD_KIND;
    if (s->data_size < ILG_CIL_SECT_HEADER || (s->data_size - ILG_CIL_SECT_HEADER) % s->clause_size)
        return ILG_CIL_BAD_DATA_SIZE;
    if (s->data_size > avail - off)
        return ILG_CIL_SECT_TRUNCATED;
    s->clauses = (s->data_size - ILG_CIL_SECT_HEADER) / s->clause_size;
    return ILG_CIL_OK;
}

/* One EH clause as stored (II.25.4.6): extra is the class token or the filter offset. */
typedef struct ilg_cil_clause {
    uint32_t flags, try_offset, try_length, handler_offset, handler_length, extra;
} ilg_cil_clause;

/* Clause k of section s starting at q (the section's first byte); its bounds were checked
 * by ilg__cil_section. */
static inline ilg_cil_clause ilg__cil_clause(const uint8_t *q, const ilg_cil_section *s, uint32_t k)
{
    const uint8_t *c = q + ILG_CIL_SECT_HEADER + (uint64_t)k * s->clause_size;
    if (s->fat)
        return (ilg_cil_clause){ ilg__rd32(c), ilg__rd32(c + 4), ilg__rd32(c + 8),
                                 ilg__rd32(c + 12), ilg__rd32(c + 16), ilg__rd32(c + 20) };
    return (ilg_cil_clause){ ilg__rd16(c), ilg__rd16(c + 2), c[4], ilg__rd16(c + 5), c[7], ilg__rd32(c + 8) };
}

/* ---- writing ---------------------------------------------------------------------- */

static inline uint8_t *ilg__cil_put_tiny(uint8_t *p, uint32_t code_size)
{
    *p++ = (uint8_t)(ILG_CIL_TINY_FORMAT | (code_size << 2));
    return p;
}

static inline uint8_t *ilg__cil_put_fat(uint8_t *p, uint16_t word, uint16_t max_stack,
                                        uint32_t code_size, uint32_t local_sig)
{
    ilg__wr16(p, word);
    ilg__wr16(p + 2, max_stack);
    ilg__wr32(p + 4, code_size);
    ilg__wr32(p + 8, local_sig);
    return p + ILG_CIL_FAT_SIZE;
}

static inline uint8_t *ilg__cil_put_section(uint8_t *p, uint8_t kind, uint32_t data_size, uint16_t reserved)
{
    const bool fat = (kind & ILG_CIL_SECT_FAT) != 0;
    p[0] = kind;
    p[1] = (uint8_t)data_size;
    p[2] = (uint8_t)(fat ? data_size >> 8 : reserved);
    p[3] = (uint8_t)(fat ? data_size >> 16 : reserved >> 8);
    return p + ILG_CIL_SECT_HEADER;
}

static inline uint8_t *ilg__cil_put_clause(uint8_t *p, bool fat, const ilg_cil_clause *c)
{
    if (fat) {
        ilg__wr32(p, c->flags); ilg__wr32(p + 4, c->try_offset); ilg__wr32(p + 8, c->try_length);
        ilg__wr32(p + 12, c->handler_offset); ilg__wr32(p + 16, c->handler_length);
        ilg__wr32(p + 20, c->extra);
        return p + ILG_CIL_FAT_CLAUSE;
    }
    ilg__wr16(p, (uint16_t)c->flags); ilg__wr16(p + 2, (uint16_t)c->try_offset);
    p[4] = (uint8_t)c->try_length; ilg__wr16(p + 5, (uint16_t)c->handler_offset);
    p[7] = (uint8_t)c->handler_length; ilg__wr32(p + 8, c->extra);
    return p + ILG_CIL_SMALL_CLAUSE;
}

#endif
