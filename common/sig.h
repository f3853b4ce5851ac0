/* sig.h: the one walker of ECMA-335 signature blobs (II.23.2): a bounded cursor, its
 * compressed-integer and TypeDefOrRefOrSpec readers, and the skip over a whole type or a
 * method signature's parameters. The element types and calling conventions are
 * ilgraft/ilbody.h's ILG_ET_* (elemtypes.def) and ILG_SIG_*. The loader, the verifier
 * (ilbody/vsig.c) and the plugin (which compiles common/ in) read signatures with it.
 * Not installed. */
#ifndef ILG_SIG_H
#define ILG_SIG_H

#include "ilg_private.h"
#include "ilgraft/ilbody.h"
#include "ilgraft/metadata.h"

/* A cursor over one blob: p moves towards end, never past it. */
typedef struct ilg_sig_cur {
    const uint8_t *p, *end;
} ilg_sig_cur;

static inline bool ilg__sig_u8(ilg_sig_cur *s, uint8_t *out)
{
    if (s->p >= s->end)
        return false;
    *out = *s->p++;
    return true;
}

static inline bool ilg__sig_uint(ilg_sig_cur *s, uint32_t *out)
{
    size_t n = ilg__rd_compressed(s->p, (size_t)(s->end - s->p), out);
    s->p += n;
    return n != 0;
}

/* A TypeDefOrRefOrSpecEncoded value (II.23.2.8) as a token; false for tag 3. */
static inline bool ilg__sig_decode_token(uint32_t v, uint32_t *token)
{
    static const uint32_t tables[3] = { (uint32_t)ILG_TBL_TypeDef << 24, (uint32_t)ILG_TBL_TypeRef << 24,
                                        (uint32_t)ILG_TBL_TypeSpec << 24 };
    if ((v & 3) == 3)
        return false;
    *token = tables[v & 3] | (v >> 2);
    return true;
}

static inline bool ilg__sig_token(ilg_sig_cur *s, uint32_t *token)
{
    uint32_t v;
    return ilg__sig_uint(s, &v) && ilg__sig_decode_token(v, token);
}

/* Skips one type (custom modifiers included) nested at depth, refusing more than
 * max_depth levels; with need, also notes in need[0] and need[1] how many type
 * parameters of the type and of the method it uses (the highest !n and !!n, plus one).
 * False when the type is malformed or runs past the blob. */
bool ilg__sig_skip_type(ilg_sig_cur *s, int depth, int max_depth, uint32_t *need);

/* Skips what follows a method signature's calling convention conv: the generic
 * parameter count (when conv says generic), the parameter count, the return type and
 * the parameters (a vararg SENTINEL among them). */
bool ilg__sig_skip_method_tail(ilg_sig_cur *s, uint8_t conv, int depth, int max_depth, uint32_t *need);

#endif
