/* sig.c: skipping whole types and method signatures (common/sig.h). */
#include "sig.h"

bool ilg__sig_skip_method_tail(ilg_sig_cur *s, uint8_t conv, int depth, int max_depth, uint32_t *need)
{
    uint32_t n, g;
    if ((conv & ILG_SIG_GENERIC) && !ilg__sig_uint(s, &g))
        return false;
    if (!ilg__sig_uint(s, &n))
        return false;
    for (uint32_t i = 0; i <= n; i++) {
        if (s->p < s->end && *s->p == ILG_ET_SENTINEL)
            s->p++;
        if (!ilg__sig_skip_type(s, depth + 1, max_depth, need))
            return false;
    }
    return true;
}

bool ilg__sig_skip_type(ilg_sig_cur *s, int depth, int max_depth, uint32_t *need)
{
    uint8_t et;
    uint32_t u, n;
    if (depth > max_depth || !ilg__sig_u8(s, &et))
        return false;
    switch (et) {
    case ILG_ET_CMOD_REQD: case ILG_ET_CMOD_OPT:
        return ilg__sig_token(s, &u) && ilg__sig_skip_type(s, depth + 1, max_depth, need);
    case ILG_ET_PTR: case ILG_ET_BYREF: case ILG_ET_SZARRAY: case ILG_ET_PINNED:
        return ilg__sig_skip_type(s, depth + 1, max_depth, need);
    case ILG_ET_VALUETYPE: case ILG_ET_CLASS:
        return ilg__sig_token(s, &u);
    case ILG_ET_VAR: case ILG_ET_MVAR:
        if (!ilg__sig_uint(s, &u))
            return false;
        if (need && u + 1 > need[et == ILG_ET_MVAR])
            need[et == ILG_ET_MVAR] = u + 1;
        return true;
    case ILG_ET_GENERICINST:
        if (!ilg__sig_skip_type(s, depth + 1, max_depth, need) || !ilg__sig_uint(s, &n))
            return false;
        for (uint32_t i = 0; i < n; i++)
            if (!ilg__sig_skip_type(s, depth + 1, max_depth, need))
                return false;
        return true;
    case ILG_ET_ARRAY: /* element type, rank, sizes, lower bounds */
        if (!ilg__sig_skip_type(s, depth + 1, max_depth, need) || !ilg__sig_uint(s, &u) ||
            !ilg__sig_uint(s, &n))
            return false;
        for (uint32_t i = 0; i < n; i++)
            if (!ilg__sig_uint(s, &u))
                return false;
        if (!ilg__sig_uint(s, &n))
            return false;
        for (uint32_t i = 0; i < n; i++)
            if (!ilg__sig_uint(s, &u))
                return false;
        return true;
    case ILG_ET_FNPTR: {
        uint8_t conv;
        return ilg__sig_u8(s, &conv) && ilg__sig_skip_method_tail(s, conv, depth, max_depth, need);
    }
    default:
        return (et >= ILG_ET_VOID && et <= ILG_ET_STRING) || et == ILG_ET_TYPEDBYREF ||
               et == ILG_ET_I || et == ILG_ET_U || et == ILG_ET_OBJECT;
    }
}
