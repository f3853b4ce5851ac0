/* signature.c: ECMA-335 II.23.2 signature blobs as ilasm-like text (types, method
 * names) and the stack shape of call sites. Recursion is bounded, so hostile nesting
 * ends in E_MD_BAD_SIG rather than a deep stack. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "md_private.h"
#include "sig.h"

#define MAX_SIG_DEPTH 64
/* Depth alone does not bound the work: TypeSpecs that instantiate TypeSpecs expand
 * exponentially. Every type node emits at least one character, so capping the text
 * caps the work. Real names stay far below this. */
#define MAX_SIG_TEXT 65536

void ilg__sb_putn_slow(ilg_sb *sb, const char *s, size_t n)
{
    if (sb->len + n < sb->size) {
        memcpy(sb->buf + sb->len, s, n);
        sb->buf[sb->len + n] = 0;
        sb->len += n;
        return;
    }
    if (sb->len < sb->size) {
        size_t room = sb->size - sb->len - 1;
        size_t k = n < room ? n : room;
        memcpy(sb->buf + sb->len, s, k);
        sb->buf[sb->len + k] = 0;
    }
    sb->len += n;
}

void ilg__sb_puts(ilg_sb *sb, const char *s)
{
    ilg__sb_putn(sb, s, strlen(s));
}

/* The length of what sb's buffer holds (its text, cut to the buffer). */
static size_t sb_text_len(const ilg_sb *sb)
{
    return sb->len < sb->size ? sb->len : sb->size ? sb->size - 1 : 0;
}

/* A string literal, its length known at compile time. */
#define SB_LIT(sb, lit) ilg__sb_putn((sb), (lit), sizeof(lit) - 1)


void ilg__sb_putu(ilg_sb *sb, uint32_t v)
{
    char d[11];
    size_t n = sizeof d - 1;
    d[n] = 0;
    do
        d[--n] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    ilg__sb_putn(sb, d + n, sizeof d - 1 - n);
}

void ilg__sb_printf(ilg_sb *sb, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    ilg__sb_puts(sb, tmp);
}

/* A cursor over one blob. */
typedef struct sig {
    const uint8_t *p;
    const uint8_t *end;
    const uint8_t *start;
} sig;

static ilg_status sig_fail(const sig *s, const char *what)
{
    return ilg__fail(ILG_E_MD_BAD_SIG, ILG_WHERE_NONE, 0, "signature byte %td: %s",
                     s->p - s->start, what);
}

static ilg_status sig_u8(sig *s, uint8_t *out)
{
    if (s->p >= s->end)
        return sig_fail(s, "truncated");
    *out = *s->p++;
    return ILG_OK;
}

static ilg_status sig_uint(sig *s, uint32_t *out)
{
    size_t n = ilg__rd_compressed(s->p, (size_t)(s->end - s->p), out);
    if (!n)
        return sig_fail(s, "bad compressed integer");
    s->p += n;
    return ILG_OK;
}

static ilg_status sig_int(sig *s, int32_t *out)
{
    uint32_t u;
    size_t n = ilg__rd_compressed(s->p, (size_t)(s->end - s->p), &u);
    if (!n)
        return sig_fail(s, "bad compressed integer");
    s->p += n;
    /* II.23.2: the sign bit is rotated into bit 0 of a 7, 14 or 29-bit value. */
    uint32_t bits = n == 1 ? 7 : n == 2 ? 14 : 29;
    int32_t v = (int32_t)(u >> 1);
    if (u & 1)
        v -= (int32_t)(1u << (bits - 1));
    *out = v;
    return ILG_OK;
}

static ilg_status sig_typedef_or_ref(sig *s, uint32_t *token)
{
    uint32_t v = 0; /* GCC -O3 cannot see that sig_uint sets it on ILG_OK */
    ilg_status st = sig_uint(s, &v);
    if (st != ILG_OK)
        return st;
    if (!ilg__sig_decode_token(v, token))
        return sig_fail(s, "TypeDefOrRef tag 3");
    return ILG_OK;
}

static ilg_status format_type(const ilg_metadata *md, sig *s, ilg_sb *sb, int depth);
static ilg_status format_type_row(const ilg_metadata *md, ilg_table table, uint32_t rid,
                                  ilg_sb *sb, int depth);

/* Element types named by a keyword, with the keyword's length. */
typedef struct prim_name {
    uint8_t len;
    char text[11];
} prim_name;
#define PRIM(s) { sizeof(s) - 1, s }
static const prim_name prims[] = {
    [ILG_ET_VOID] = PRIM("void"),    [ILG_ET_BOOLEAN] = PRIM("bool"),    [ILG_ET_CHAR] = PRIM("char"),
    [ILG_ET_I1] = PRIM("int8"),    [ILG_ET_U1] = PRIM("uint8"),   [ILG_ET_I2] = PRIM("int16"),
    [ILG_ET_U2] = PRIM("uint16"),  [ILG_ET_I4] = PRIM("int32"),   [ILG_ET_U4] = PRIM("uint32"),
    [ILG_ET_I8] = PRIM("int64"),   [ILG_ET_U8] = PRIM("uint64"),  [ILG_ET_R4] = PRIM("float32"),
    [ILG_ET_R8] = PRIM("float64"), [ILG_ET_STRING] = PRIM("string"),  [ILG_ET_TYPEDBYREF] = PRIM("typedref"),
    [ILG_ET_I] = PRIM("native int"), [ILG_ET_U] = PRIM("native uint"), [ILG_ET_OBJECT] = PRIM("object"),
};
#undef PRIM

static ilg_status format_mods_then_type(const ilg_metadata *md, sig *s, ilg_sb *sb, int depth)
{
    if (s->p < s->end && *s->p != ILG_ET_CMOD_REQD && *s->p != ILG_ET_CMOD_OPT) { /* the usual case: no modifier */
        const uint8_t et = *s->p;
        /* A keyword type, as format_type would write it once its checks pass. */
        if (et < ILG_ARRAY_LEN(prims) && prims[et].len && depth + 1 <= MAX_SIG_DEPTH &&
            sb->len <= MAX_SIG_TEXT) {
            s->p++;
            ilg__sb_putn(sb, prims[et].text, prims[et].len);
            return ILG_OK;
        }
        return format_type(md, s, sb, depth + 1);
    }
    /* Modifiers precede the type in the blob but follow it in ilasm text. */
    const uint8_t *mods = s->p;
    while (s->p < s->end && (*s->p == ILG_ET_CMOD_REQD || *s->p == ILG_ET_CMOD_OPT)) {
        uint32_t tok;
        s->p++;
        ilg_status st = sig_typedef_or_ref(s, &tok);
        if (st != ILG_OK)
            return st;
    }
    const uint8_t *after = s->p;
    ilg_status st = format_type(md, s, sb, depth + 1);
    if (st != ILG_OK)
        return st;
    const uint8_t *resume = s->p;
    s->p = mods;
    while (s->p < after) {
        uint8_t kind = *s->p++;
        uint32_t tok;
        sig_typedef_or_ref(s, &tok);
        if (kind == ILG_ET_CMOD_REQD)
            SB_LIT(sb, " modreq(");
        else
            SB_LIT(sb, " modopt(");
        if ((st = ilg__md_format_type_token(md, tok, sb, depth + 1)) != ILG_OK)
            return st;
        ilg__sb_putc(sb, ')');
    }
    s->p = resume;
    return ILG_OK;
}

/* The name between a method's return type and its parameters: "owner::name", or
 * name alone when owner is NULL. */
typedef struct sig_name {
    const char *owner;
    size_t owner_len;
    const char *name;
    size_t name_len;
} sig_name;

static ilg_status format_method_sig_tail(const ilg_metadata *md, sig *s, ilg_sb *sb,
                                         const sig_name *name, int depth, uint8_t conv,
                                         uint32_t method_rid, const char *generics);


/* ARRAY's element type, rank, sizes and lower bounds (II.23.2.13) as "type[lo...hi,...]". */
static ilg_status format_array(const ilg_metadata *md, sig *s, ilg_sb *sb, int depth)
{
    ilg_status st;
    uint32_t rank, nsizes, nlo;
    uint32_t sizes[32];
    int32_t lo[32];
    if ((st = format_type(md, s, sb, depth + 1)) != ILG_OK || (st = sig_uint(s, &rank)) != ILG_OK ||
        (st = sig_uint(s, &nsizes)) != ILG_OK)
        return st;
    if (rank == 0 || rank > 32 || nsizes > rank)
        return sig_fail(s, "array rank or size count out of range");
    for (uint32_t i = 0; i < nsizes; i++)
        if ((st = sig_uint(s, &sizes[i])) != ILG_OK)
            return st;
    if ((st = sig_uint(s, &nlo)) != ILG_OK)
        return st;
    if (nlo > rank)
        return sig_fail(s, "more lower bounds than dimensions");
    for (uint32_t i = 0; i < nlo; i++)
        if ((st = sig_int(s, &lo[i])) != ILG_OK)
            return st;
    ilg__sb_putc(sb, '[');
    for (uint32_t i = 0; i < rank; i++) {
        if (i)
            ilg__sb_putc(sb, ',');
        if (i < nlo && i < nsizes)
            ilg__sb_printf(sb, "%d...%lld", lo[i], (long long)lo[i] + sizes[i] - 1);
        else if (i < nlo)
            ilg__sb_printf(sb, "%d...", lo[i]);
        else if (i < nsizes)
            ilg__sb_printf(sb, "%u", sizes[i]);
    }
    ilg__sb_putc(sb, ']');
    return ILG_OK;
}

/* GENERICINST: "class Type<args>" or "valuetype Type<args>". */
static ilg_status format_generic_inst(const ilg_metadata *md, sig *s, ilg_sb *sb, int depth)
{
    ilg_status st;
    uint32_t tok;
    uint8_t kind = 0;
    uint32_t n;
    if ((st = sig_u8(s, &kind)) != ILG_OK)
        return st;
    if (kind != ILG_ET_VALUETYPE && kind != ILG_ET_CLASS)
        return sig_fail(s, "GENERICINST of neither CLASS nor VALUETYPE");
    if ((st = sig_typedef_or_ref(s, &tok)) != ILG_OK || (st = sig_uint(s, &n)) != ILG_OK)
        return st;
    if (n == 0 || n > (uint32_t)(s->end - s->p))
        return sig_fail(s, "generic argument count out of range");
    if (kind == ILG_ET_VALUETYPE)
        SB_LIT(sb, "valuetype ");
    else
        SB_LIT(sb, "class ");
    if ((st = ilg__md_format_type_token(md, tok, sb, depth + 1)) != ILG_OK)
        return st;
    ilg__sb_putc(sb, '<');
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            SB_LIT(sb, ", ");
        if ((st = format_mods_then_type(md, s, sb, depth)) != ILG_OK)
            return st;
    }
    ilg__sb_putc(sb, '>');
    return ILG_OK;
}

static ilg_status format_type(const ilg_metadata *md, sig *s, ilg_sb *sb, int depth)
{
    uint8_t et = 0;
    uint32_t u, tok;
    ilg_status st;

    if (depth > MAX_SIG_DEPTH)
        return sig_fail(s, "nested deeper than 64 levels");
    if (sb->len > MAX_SIG_TEXT)
        return sig_fail(s, "its text expands past 65536 characters");
    if ((st = sig_u8(s, &et)) != ILG_OK)
        return st;
    if (et < ILG_ARRAY_LEN(prims) && prims[et].len) {
        ilg__sb_putn(sb, prims[et].text, prims[et].len);
        return ILG_OK;
    }
    switch (et) {
    case ILG_ET_PTR:
    case ILG_ET_BYREF:
        if ((st = format_mods_then_type(md, s, sb, depth)) != ILG_OK)
            return st;
        ilg__sb_putc(sb, et == ILG_ET_PTR ? '*' : '&');
        return ILG_OK;
    case ILG_ET_VALUETYPE:
    case ILG_ET_CLASS:
        if ((st = sig_typedef_or_ref(s, &tok)) != ILG_OK)
            return st;
        if (et == ILG_ET_VALUETYPE)
            SB_LIT(sb, "valuetype ");
        else
            SB_LIT(sb, "class ");
        if ((tok >> 24) != ILG_TBL_TypeSpec && (tok & 0xFFFFFF) &&
            (tok & 0xFFFFFF) <= md->tables[tok >> 24].rows) /* a TypeDef or TypeRef row */
            return format_type_row(md, (ilg_table)(tok >> 24), tok & 0xFFFFFF, sb, depth + 1);
        return ilg__md_format_type_token(md, tok, sb, depth + 1);
    case ILG_ET_VAR:
    case ILG_ET_MVAR:
        if ((st = sig_uint(s, &u)) != ILG_OK)
            return st;
        /* !N or !!N without printf (its vsnprintf was a tenth of naming mscorlib). */
        ilg__sb_putn(sb, "!!", et == ILG_ET_VAR ? 1 : 2);
        ilg__sb_putu(sb, u);
        return ILG_OK;
    case ILG_ET_ARRAY:
        return format_array(md, s, sb, depth);
    case ILG_ET_GENERICINST:
        return format_generic_inst(md, s, sb, depth);
    case ILG_ET_FNPTR: {
        uint8_t conv = 0;
        if ((st = sig_u8(s, &conv)) != ILG_OK)
            return st;
        SB_LIT(sb, "method ");
        return format_method_sig_tail(md, s, sb, &(sig_name){ NULL, 0, "*", 1 }, depth + 1,
                                      conv, 0, NULL);
    }
    case ILG_ET_SZARRAY:
        if ((st = format_mods_then_type(md, s, sb, depth)) != ILG_OK)
            return st;
        SB_LIT(sb, "[]");
        return ILG_OK;
    case ILG_ET_CMOD_REQD:
    case ILG_ET_CMOD_OPT:
        s->p--;
        return format_mods_then_type(md, s, sb, depth);
    case ILG_ET_PINNED:
        if ((st = format_type(md, s, sb, depth + 1)) != ILG_OK)
            return st;
        SB_LIT(sb, " pinned");
        return ILG_OK;
    case ILG_ET_SENTINEL:
        SB_LIT(sb, "...");
        return ILG_OK;
    default: {
        char what[48];
        s->p--;
        snprintf(what, sizeof what, "unknown element type 0x%02x", et);
        return sig_fail(s, what);
    }
    }
}

/* The name of generic parameter number of MethodDef rid, from the GenericParam table
 * (sorted by owner, so a binary search finds the owner's run), or NULL. */
static const char *generic_param_name(const ilg_metadata *md, uint32_t rid, uint32_t number)
{
    const uint32_t rows = md->tables[ILG_TBL_GenericParam].rows;
    const uint32_t sorted = md->parsed_rows[ILG_TBL_GenericParam];
    const uint32_t key = rid << 1 | 1; /* TypeOrMethodDef: tag 1 is MethodDef */
    uint32_t lo = 1, hi = sorted + 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ilg__md_raw(md, ILG_TBL_GenericParam, mid, ILG_MDC_GenericParam_Owner) < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (uint32_t r = lo; r <= sorted && ilg__md_raw(md, ILG_TBL_GenericParam, r, ILG_MDC_GenericParam_Owner) == key; r++)
        if (ilg__md_raw(md, ILG_TBL_GenericParam, r, ILG_MDC_GenericParam_Number) == number) {
            const char *n = ilg__md_str(md, ilg__md_raw(md, ILG_TBL_GenericParam, r, ILG_MDC_GenericParam_Name));
            return *n ? n : NULL;
        }
    /* Rows a writer added stay after the sorted ones until a save sorts them. */
    for (uint32_t r = sorted + 1; r <= rows; r++)
        if (ilg__md_raw(md, ILG_TBL_GenericParam, r, ILG_MDC_GenericParam_Owner) == key &&
            ilg__md_raw(md, ILG_TBL_GenericParam, r, ILG_MDC_GenericParam_Number) == number) {
            const char *n = ilg__md_str(md, ilg__md_raw(md, ILG_TBL_GenericParam, r, ILG_MDC_GenericParam_Name));
            return *n ? n : NULL;
        }
    return NULL;
}

/* After the calling convention byte: [GenParamCount] ParamCount RetType Param*.
 * method_rid (0 if none) names the generic parameters in the declaration; without it
 * they are ilasm's arity form <[N]>. generics (NULL if none) replaces them: a
 * MethodSpec's instantiation "<int32, string>". */
static ilg_status format_method_sig_tail(const ilg_metadata *md, sig *s, ilg_sb *sb,
                                         const sig_name *name, int depth, uint8_t conv,
                                         uint32_t method_rid, const char *generics)
{
    uint32_t gcount = 0, count;
    ilg_status st;
    if (conv & ILG_SIG_GENERIC)
        if ((st = sig_uint(s, &gcount)) != ILG_OK)
            return st;
    /* GenericParam.Number is a u16: more parameters cannot be declared. */
    if (gcount > 0xFFFF)
        return sig_fail(s, "generic parameter count exceeds 65535");
    if ((st = sig_uint(s, &count)) != ILG_OK)
        return st;
    if (count > (uint32_t)(s->end - s->p))
        return sig_fail(s, "parameter count exceeds the blob");
    if (conv & ILG_SIG_HASTHIS)
        SB_LIT(sb, "instance ");
    if ((conv & ILG_SIG_KIND_MASK) == ILG_SIG_VARARG)
        SB_LIT(sb, "vararg ");
    if ((st = format_mods_then_type(md, s, sb, depth)) != ILG_OK)
        return st;
    ilg__sb_putc(sb, ' ');
    if (name->owner) {
        ilg__sb_putn(sb, name->owner, name->owner_len);
        SB_LIT(sb, "::");
    }
    ilg__sb_putn(sb, name->name, name->name_len);
    if (gcount && generics) {
        ilg__sb_puts(sb, generics);
    } else if (gcount && !method_rid) {
        ilg__sb_printf(sb, "<[%u]>", gcount);
    } else if (gcount) {
        ilg__sb_putc(sb, '<');
        for (uint32_t i = 0; i < gcount; i++) {
            if (sb->len > MAX_SIG_TEXT)
                return sig_fail(s, "its text expands past 65536 characters");
            const char *gp = method_rid ? generic_param_name(md, method_rid, i) : NULL;
            if (i)
                SB_LIT(sb, ", ");
            if (gp)
                ilg__sb_puts(sb, gp);
            else
                ilg__sb_printf(sb, "T%u", i);
        }
        ilg__sb_putc(sb, '>');
    }
    ilg__sb_putc(sb, '(');
    for (uint32_t i = 0; i < count; i++) {
        if (i)
            SB_LIT(sb, ", ");
        if (s->p < s->end && *s->p == ILG_ET_SENTINEL) { /* vararg sentinel: not a parameter */
            s->p++;
            SB_LIT(sb, "..., ");
        }
        if ((st = format_mods_then_type(md, s, sb, depth)) != ILG_OK)
            return st;
    }
    ilg__sb_putc(sb, ')');
    return ILG_OK;
}

static ilg_status format_typedef(const ilg_metadata *md, uint32_t rid, ilg_sb *sb, int depth)
{
    if (depth > MAX_SIG_DEPTH)
        return ilg__fail(ILG_E_MD_BAD_SIG, ILG_WHERE_NONE, 0,
                         "TypeDef 0x%08x: nesting deeper than %d levels", 0x02000000u | rid,
                         MAX_SIG_DEPTH);
    uint32_t outer = md->enclosing[rid];
    if (outer && outer <= md->tables[ILG_TBL_TypeDef].rows) {
        ilg_status st = format_typedef(md, outer, sb, depth + 1);
        if (st != ILG_OK)
            return st;
        ilg__sb_putc(sb, '/');
    }
    const char *ns = ilg__md_str(md, ilg__md_raw(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_TypeNamespace));
    if (*ns && !outer) {
        ilg__sb_puts(sb, ns);
        ilg__sb_putc(sb, '.');
    }
    ilg__sb_puts(sb, ilg__md_str(md, ilg__md_raw(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_TypeName)));
    return ILG_OK;
}

static ilg_status format_typeref(const ilg_metadata *md, uint32_t rid, ilg_sb *sb, int depth)
{
    if (depth > MAX_SIG_DEPTH)
        return ilg__fail(ILG_E_MD_BAD_SIG, ILG_WHERE_NONE, 0,
                         "TypeRef 0x%08x: resolution scopes nest deeper than %d levels",
                         0x01000000u | rid, MAX_SIG_DEPTH);
    uint32_t scope = ilg__md_coded_token(ILG_CODED_ResolutionScope,
                                         ilg__md_raw(md, ILG_TBL_TypeRef, rid, ILG_MDC_TypeRef_ResolutionScope));
    uint32_t st_table = scope >> 24, st_row = scope & 0xFFFFFF;
    if (st_table == ILG_TBL_TypeRef && st_row) {
        ilg_status st = format_typeref(md, st_row, sb, depth + 1);
        if (st != ILG_OK)
            return st;
        ilg__sb_putc(sb, '/');
    } else if (st_table == ILG_TBL_AssemblyRef && st_row) {
        ilg__sb_putc(sb, '[');
        ilg__sb_puts(sb, ilg__md_str(md, ilg__md_raw(md, ILG_TBL_AssemblyRef, st_row, ILG_MDC_AssemblyRef_Name)));
        ilg__sb_putc(sb, ']');
    } else if (st_table == ILG_TBL_ModuleRef && st_row) {
        ilg__sb_puts(sb, "[.module ");
        ilg__sb_puts(sb, ilg__md_str(md, ilg__md_raw(md, ILG_TBL_ModuleRef, st_row, ILG_MDC_ModuleRef_Name)));
        ilg__sb_putc(sb, ']');
    }
    const char *ns = ilg__md_str(md, ilg__md_raw(md, ILG_TBL_TypeRef, rid, ILG_MDC_TypeRef_TypeNamespace));
    if (*ns && st_table != ILG_TBL_TypeRef) {
        ilg__sb_puts(sb, ns);
        ilg__sb_putc(sb, '.');
    }
    ilg__sb_puts(sb, ilg__md_str(md, ilg__md_raw(md, ILG_TBL_TypeRef, rid, ILG_MDC_TypeRef_TypeName)));
    return ILG_OK;
}

/* A TypeDef's or TypeRef's name as format_typedef or format_typeref make it from depth
 * 0, kept because a type is named again for every signature that mentions it and every
 * method it owns (methods outnumber types about nine to one). levels is how far that walk
 * went down (enclosing types, TypeRef scopes): a caller at depth d takes the text only
 * while d + levels stays within MAX_SIG_DEPTH, past that the walk itself reports the
 * error it always did. */
typedef struct type_text {
    uint32_t levels;
    uint32_t len;
    char text[];
} type_text;

#define TYPE_TEXT_MAX 1024 /* longer names are made every time */

static uint32_t type_levels(const ilg_metadata *md, ilg_table table, uint32_t rid)
{
    uint32_t n = 0;
    if (table == ILG_TBL_TypeDef) {
        for (uint32_t outer = md->enclosing[rid];
             outer && outer <= md->tables[ILG_TBL_TypeDef].rows && n <= MAX_SIG_DEPTH;
             outer = md->enclosing[outer])
            n++;
        return n;
    }
    for (uint32_t scope = ilg__md_coded_token(ILG_CODED_ResolutionScope,
                                              ilg__md_raw(md, ILG_TBL_TypeRef, rid, ILG_MDC_TypeRef_ResolutionScope));
         (scope >> 24) == ILG_TBL_TypeRef && (scope & 0xFFFFFF) && n <= MAX_SIG_DEPTH;
         scope = ilg__md_coded_token(ILG_CODED_ResolutionScope,
                                     ilg__md_raw(md, ILG_TBL_TypeRef, scope & 0xFFFFFF, ILG_MDC_TypeRef_ResolutionScope)))
        n++;
    return n;
}

/* The type-name memo: two header slots (the TypeDef and TypeRef counts it was made
 * for: rows the metadata writer adds later are not kept), then a slot per TypeDef and
 * per TypeRef. Installed with compare-and-swap; NULL when memory is short. */
static _Atomic uintptr_t *texts_make(const ilg_metadata *md)
{
    const uint32_t defs = md->tables[ILG_TBL_TypeDef].rows, refs = md->tables[ILG_TBL_TypeRef].rows;
    _Atomic uintptr_t *made = calloc((size_t)defs + refs + 2, sizeof *made);
    if (!made)
        return NULL;
    atomic_init(&made[0], defs);
    atomic_init(&made[1], refs);
    uintptr_t expected = 0;
    if (atomic_compare_exchange_strong_explicit(&((ilg_metadata *)md)->type_texts, &expected,
                                                (uintptr_t)made, memory_order_acq_rel,
                                                memory_order_acquire))
        return made;
    free(made);
    return (_Atomic uintptr_t *)expected;
}

/* The slot of a TypeDef or TypeRef row in the memo, NULL past the counts it was made for. */
static inline _Atomic uintptr_t *text_slot(_Atomic uintptr_t *slots, ilg_table table, uint32_t rid)
{
    const uintptr_t defs = atomic_load_explicit(&slots[0], memory_order_relaxed);
    const uintptr_t n = table == ILG_TBL_TypeDef ? defs : atomic_load_explicit(&slots[1], memory_order_relaxed);
    return rid && rid <= n ? &slots[2 + (table == ILG_TBL_TypeDef ? 0 : defs) + rid - 1] : NULL;
}

/* Makes the text of a type row for type_text_of and installs it (compare-and-swap:
 * the first thread's stays); NULL when it cannot be kept (no memory, a name that fails
 * or is longer than TYPE_TEXT_MAX). */
static __attribute__((noinline)) const type_text *
type_text_make(const ilg_metadata *md, ilg_table table, uint32_t rid)
{
    _Atomic uintptr_t *slots =
        (_Atomic uintptr_t *)atomic_load_explicit(&md->type_texts, memory_order_acquire);
    if (!slots && !(slots = texts_make(md)))
        return NULL;
    _Atomic uintptr_t *slot = text_slot(slots, table, rid);
    if (!slot)
        return NULL; /* a row added after the memo was made */
    char buf[TYPE_TEXT_MAX];
    ilg_sb local = { buf, sizeof buf, 0 };
    ilg_status st = table == ILG_TBL_TypeDef ? format_typedef(md, rid, &local, 0)
                                             : format_typeref(md, rid, &local, 0);
    if (st != ILG_OK || local.len >= sizeof buf)
        return NULL;
    type_text *made = malloc(sizeof *made + local.len + 1);
    if (!made)
        return NULL;
    made->levels = type_levels(md, table, rid);
    made->len = (uint32_t)local.len;
    memcpy(made->text, buf, local.len + 1);
    uintptr_t expected = 0;
    if (atomic_compare_exchange_strong_explicit(slot, &expected, (uintptr_t)made,
                                                memory_order_acq_rel, memory_order_acquire))
        return made;
    free(made);
    return (const type_text *)expected;
}

/* The kept text of a type row, made on first use; NULL when it cannot be kept. */
static inline const type_text *type_text_of(const ilg_metadata *md, ilg_table table,
                                            uint32_t rid)
{
    _Atomic uintptr_t *slots =
        (_Atomic uintptr_t *)atomic_load_explicit(&md->type_texts, memory_order_acquire);
    const type_text *t = NULL;
    if (slots) {
        _Atomic uintptr_t *slot = text_slot(slots, table, rid);
        if (!slot)
            return NULL; /* a row added after the memo was made: named afresh */
        t = (const type_text *)atomic_load_explicit(slot, memory_order_acquire);
    }
    return t ? t : type_text_make(md, table, rid);
}

/* TypeDef or TypeRef rid's name into sb, as format_typedef or format_typeref at depth. */
static ilg_status format_type_row(const ilg_metadata *md, ilg_table table, uint32_t rid,
                                  ilg_sb *sb, int depth)
{
    const type_text *t = type_text_of(md, table, rid);
    if (t && depth + (int)t->levels <= MAX_SIG_DEPTH) {
        ilg__sb_putn(sb, t->text, t->len);
        return ILG_OK;
    }
    return table == ILG_TBL_TypeDef ? format_typedef(md, rid, sb, depth)
                                    : format_typeref(md, rid, sb, depth);
}

void ilg__md_free_names(ilg_metadata *md)
{
    _Atomic uintptr_t *slots = (_Atomic uintptr_t *)atomic_load(&md->type_texts);
    const size_t n = slots ? 2 + atomic_load(&slots[0]) + atomic_load(&slots[1]) : 0;
    for (size_t i = 2; i < n; i++)
        free((void *)atomic_load_explicit(&slots[i], memory_order_relaxed));
    free(slots);
}

ilg_status ilg__md_format_type_token(const ilg_metadata *md, uint32_t token, ilg_sb *sb, int depth)
{
    uint32_t table = token >> 24, rid = token & 0xFFFFFF;
    if (rid == 0 || table >= ILG_TBL_COUNT || rid > md->tables[table].rows)
        return ilg__fail(ILG_E_MD_BAD_SIG, ILG_WHERE_NONE, 0, "type token 0x%08x does not exist",
                         token);
    switch (table) {
    case ILG_TBL_TypeDef:
    case ILG_TBL_TypeRef:
        return format_type_row(md, (ilg_table)table, rid, sb, depth);
    case ILG_TBL_TypeSpec: {
        sig s;
        uint32_t len;
        ilg_status st = ilg_md_blob(md, ilg__md_raw(md, ILG_TBL_TypeSpec, rid, ILG_MDC_TypeSpec_Signature), &s.p, &len);
        if (st != ILG_OK)
            return st;
        if (depth > MAX_SIG_DEPTH)
            return ilg__fail(ILG_E_MD_BAD_SIG, ILG_WHERE_NONE, 0,
                             "TypeSpec 0x%08x: nested deeper than %d levels", token, MAX_SIG_DEPTH);
        s.start = s.p;
        s.end = s.p + len;
        return format_type(md, &s, sb, depth + 1);
    }
    default:
        return ilg__fail(ILG_E_MD_BAD_SIG, ILG_WHERE_NONE, 0,
                         "token 0x%08x is not a TypeDef, TypeRef or TypeSpec", token);
    }
}

static ilg_status finish(ilg_sb *sb, size_t *needed, ilg_status st)
{
    if (st != ILG_OK)
        return st;
    if (needed)
        *needed = sb->len;
    if (sb->len >= sb->size)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_NONE, 0, "name needs %zu bytes, buffer has %zu",
                         sb->len + 1, sb->size);
    return ILG_OK;
}

/* The checks and the empty text every public name call starts from. */
static ilg_status begin(const ilg_metadata *md, char *buf, size_t size, ilg_sb *sb)
{
    if (!md || (!buf && size))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "metadata and buffer are required");
    *sb = (ilg_sb){ buf, size, 0 };
    if (size)
        buf[0] = 0;
    return ILG_OK;
}

ilg_status ilg_md_type_name(const ilg_metadata *md, uint32_t token, char *buf, size_t size,
                            size_t *needed)
{
    ilg_sb sb;
    ilg_status st = begin(md, buf, size, &sb);
    return st != ILG_OK ? st : finish(&sb, needed, ilg__md_format_type_token(md, token, &sb, 0));
}

/* MethodDef rid as text into sb, its generic parameters replaced by generics (NULL:
 * their declared names). */
static ilg_status format_method_def(const ilg_metadata *md, uint32_t rid, const char *generics,
                                    ilg_sb *sb)
{
    /* The row's name, signature and owner only (ilg_md_method reads all six columns;
     * it still answers for a row that does not exist). */
    if (rid == 0 || rid > md->tables[ILG_TBL_MethodDef].rows) {
        ilg_method_info bad;
        return ilg_md_method(md, rid, &bad);
    }
    ilg_method_info m = {
        .token = 0x06000000u | rid,
        .name = ilg__md_str(md, ilg__md_raw(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_Name)),
        .owner = md->method_owner[rid] ? 0x02000000u | md->method_owner[rid] : 0,
    };
    ilg_status st = ilg_md_blob(md, ilg__md_raw(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_Signature), &m.sig, &m.sig_len);
    if (st != ILG_OK)
        return st;
    /* "Owner::name" goes in as the owner's kept text and the name, unless it is cut at
     * 1,023 characters (then made here, as it always was). */
    char prefix[1024];
    const type_text *owner = m.owner ? type_text_of(md, ILG_TBL_TypeDef, m.owner & 0xFFFFFF) : NULL;
    sig_name nm = { owner ? owner->text : NULL, owner ? owner->len : 0, m.name, strlen(m.name) };
    if ((m.owner && !owner) || nm.owner_len + (owner ? 2 : 0) + nm.name_len >= sizeof prefix) {
        ilg_sb name = { prefix, sizeof prefix, 0 };
        prefix[0] = 0;
        if (m.owner) {
            if ((st = format_type_row(md, ILG_TBL_TypeDef, m.owner & 0xFFFFFF, &name, 0)) != ILG_OK)
                return ilg__fail_context("method 0x%08x", m.token);
            SB_LIT(&name, "::");
        }
        ilg__sb_puts(&name, m.name);
        nm = (sig_name){ NULL, 0, prefix, sb_text_len(&name) };
    }
    sig s = { m.sig, m.sig + m.sig_len, m.sig };
    uint8_t conv = 0;
    if ((st = sig_u8(&s, &conv)) == ILG_OK)
        st = format_method_sig_tail(md, &s, sb, &nm, 0, conv, rid, generics);
    if (st != ILG_OK)
        return ilg__fail_context("method 0x%08x", m.token);
    return ILG_OK;
}

ilg_status ilg_md_method_name(const ilg_metadata *md, uint32_t rid, char *buf, size_t size,
                              size_t *needed)
{
    ilg_sb sb;
    ilg_status st = begin(md, buf, size, &sb);
    return st != ILG_OK ? st : finish(&sb, needed, format_method_def(md, rid, NULL, &sb));
}

/* "Owner::name" for a MemberRef's parent (MemberRefParent: a type, a ModuleRef for a
 * global member, a MethodDef for a vararg call site). */
static ilg_status member_ref_owner(const ilg_metadata *md, uint32_t parent, ilg_sb *sb)
{
    const uint32_t table = parent >> 24, rid = parent & 0xFFFFFF;
    if (table == ILG_TBL_ModuleRef && rid && rid <= md->tables[table].rows) {
        ilg__sb_puts(sb, "[.module ");
        ilg__sb_puts(sb, ilg__md_str(md, ilg__md_raw(md, ILG_TBL_ModuleRef, rid, ILG_MDC_ModuleRef_Name)));
        ilg__sb_putc(sb, ']');
        return ILG_OK;
    }
    if (table == ILG_TBL_MethodDef && rid && rid <= md->tables[table].rows) {
        const uint32_t owner = md->method_owner[rid];
        return owner ? format_type_row(md, ILG_TBL_TypeDef, owner, sb, 0) : ILG_OK;
    }
    return ilg__md_format_type_token(md, parent, sb, 0);
}

/* "type Owner::name" or "ret Owner::name(params)" from a field or method signature. */
static ilg_status format_member(const ilg_metadata *md, uint32_t token, const char *prefix,
                                size_t prefix_len, uint32_t blob, const char *generics,
                                ilg_sb *sb)
{
    sig s;
    uint32_t len;
    uint8_t conv = 0;
    ilg_status st = ilg_md_blob(md, blob, &s.p, &len);
    if (st != ILG_OK)
        return ilg__fail_context("member 0x%08x", token);
    s.start = s.p;
    s.end = s.p + len;
    if ((st = sig_u8(&s, &conv)) != ILG_OK)
        return ilg__fail_context("member 0x%08x", token);
    if ((conv & ILG_SIG_KIND_MASK) == ILG_SIG_FIELD) {
        st = format_mods_then_type(md, &s, sb, 0);
        ilg__sb_putc(sb, ' ');
        ilg__sb_putn(sb, prefix, prefix_len);
    } else {
        st = format_method_sig_tail(md, &s, sb, &(sig_name){ NULL, 0, prefix, prefix_len }, 0,
                                    conv, 0, generics);
    }
    return st == ILG_OK ? ILG_OK : ilg__fail_context("member 0x%08x", token);
}

/* A MemberRef or Field row as text into sb (generics as for format_method_sig_tail). The
 * two tables keep Name and Signature in the same columns. */
_Static_assert((int)ILG_MDC_MemberRef_Name == (int)ILG_MDC_Field_Name &&
               (int)ILG_MDC_MemberRef_Signature == (int)ILG_MDC_Field_Signature,
               "MemberRef and Field columns");
static ilg_status format_member_row(const ilg_metadata *md, uint32_t token, const char *generics,
                                    ilg_sb *sb)
{
    const uint32_t table = token >> 24, rid = token & 0xFFFFFF;
    char prefix[1024];
    ilg_sb name = { prefix, sizeof prefix, 0 };
    prefix[0] = 0;
    ilg_status st = ILG_OK;
    if (table == ILG_TBL_MemberRef) {
        uint32_t parent = ilg__md_coded_token(ILG_CODED_MemberRefParent,
                                              ilg__md_raw(md, ILG_TBL_MemberRef, rid, ILG_MDC_MemberRef_Class));
        st = member_ref_owner(md, parent, &name);
    } else if (md->field_owner[rid]) {
        st = format_type_row(md, ILG_TBL_TypeDef, md->field_owner[rid], &name, 0);
    }
    if (st != ILG_OK)
        return ilg__fail_context("member 0x%08x", token);
    if (name.len)
        SB_LIT(&name, "::");
    ilg__sb_puts(&name, ilg__md_str(md, ilg__md_raw(md, (ilg_table)table, rid, ILG_MDC_MemberRef_Name)));
    return format_member(md, token, prefix, sb_text_len(&name),
                         ilg__md_raw(md, (ilg_table)table, rid, ILG_MDC_MemberRef_Signature), generics, sb);
}

/* A MethodSpec: its method with the instantiation in place of the generic parameters. */
static ilg_status format_method_spec(const ilg_metadata *md, uint32_t rid, ilg_sb *sb)
{
    const uint32_t method = ilg__md_coded_token(ILG_CODED_MethodDefOrRef,
                                                ilg__md_raw(md, ILG_TBL_MethodSpec, rid, ILG_MDC_MethodSpec_Method));
    sig s;
    uint32_t len, count;
    uint8_t kind = 0;
    ilg_status st = ilg_md_blob(md, ilg__md_raw(md, ILG_TBL_MethodSpec, rid, ILG_MDC_MethodSpec_Instantiation), &s.p, &len);
    if (st != ILG_OK)
        return st;
    s.start = s.p;
    s.end = s.p + len;
    if ((st = sig_u8(&s, &kind)) != ILG_OK || (st = sig_uint(&s, &count)) != ILG_OK)
        return st;
    if (kind != ILG_SIG_GENERICINST)
        return sig_fail(&s, "MethodSpec instantiation does not start with 0x0A");
    if (count > (uint32_t)(s.end - s.p))
        return sig_fail(&s, "type argument count exceeds the blob");
    char args[1024];
    ilg_sb a = { args, sizeof args, 0 };
    args[0] = 0;
    ilg__sb_putc(&a, '<');
    for (uint32_t i = 0; i < count; i++) {
        if (i)
            ilg__sb_puts(&a, ", ");
        if ((st = format_mods_then_type(md, &s, &a, 0)) != ILG_OK)
            return st;
    }
    ilg__sb_putc(&a, '>');
    if (a.len >= a.size)
        return ilg__fail(ILG_E_LIMIT, ILG_WHERE_NONE, 0,
                         "MethodSpec 0x%08x: type arguments longer than %zu characters",
                         0x2B000000u | rid, a.size - 1);
    const uint32_t mt = method >> 24, mr = method & 0xFFFFFF;
    if (mr == 0 || mt >= ILG_TBL_COUNT || mr > md->tables[mt].rows)
        return ilg__fail(ILG_E_NOT_FOUND, ILG_WHERE_NONE, 0, "MethodSpec 0x%08x: method 0x%08x does not exist",
                         0x2B000000u | rid, method);
    return mt == ILG_TBL_MethodDef ? format_method_def(md, mr, args, sb)
                                   : format_member_row(md, method, args, sb);
}

ilg_status ilg_md_member_name(const ilg_metadata *md, uint32_t token, char *buf, size_t size,
                              size_t *needed)
{
    ilg_sb sb;
    ilg_status st = begin(md, buf, size, &sb);
    if (st != ILG_OK)
        return st;
    const uint32_t table = token >> 24, rid = token & 0xFFFFFF;
    if ((table != ILG_TBL_MethodDef && table != ILG_TBL_MemberRef && table != ILG_TBL_Field &&
         table != ILG_TBL_MethodSpec) ||
        rid == 0 || rid > md->tables[table].rows)
        return ilg__fail(ILG_E_NOT_FOUND, ILG_WHERE_NONE, 0,
                         "token 0x%08x is not a MethodDef, MemberRef, Field or MethodSpec that exists",
                         token);
    if (table == ILG_TBL_MethodDef)
        st = format_method_def(md, rid, NULL, &sb);
    else if (table == ILG_TBL_MethodSpec)
        st = format_method_spec(md, rid, &sb);
    else
        st = format_member_row(md, token, NULL, &sb);
    return finish(&sb, needed, st);
}

static ilg_status call_shape(const ilg_metadata *md, uint32_t token, uint32_t *pops,
                             bool *has_this, bool *pushes);

#define SHAPE_KNOWN (1ull << 63)

/* The memo word of token, NULL when its table is not memoised or memory is short. */
static _Atomic uint64_t *shape_word(const ilg_metadata *md, uint32_t token)
{
    static const ilg_table tables[4] = { ILG_TBL_MethodDef, ILG_TBL_MemberRef, ILG_TBL_MethodSpec,
                                         ILG_TBL_StandAloneSig };
    const uint32_t table = token >> 24, rid = token & 0xFFFFFF;
    int t = 0;
    while (t < 4 && tables[t] != table)
        t++;
    if (t == 4 || rid == 0 || rid > md->tables[table].rows)
        return NULL;
    _Atomic uint64_t *words = (_Atomic uint64_t *)atomic_load_explicit(&md->shapes,
                                                                       memory_order_acquire);
    if (!words) {
        /* Four header words: the row counts the memo was made for (the metadata writer
         * may add rows later; those are not memoised). */
        uint64_t counts[4];
        size_t n = 4;
        for (int k = 0; k < 4; k++)
            n += counts[k] = md->tables[tables[k]].rows;
        _Atomic uint64_t *made = calloc(n, sizeof *made);
        if (!made)
            return NULL;
        for (int k = 0; k < 4; k++)
            atomic_init(&made[k], counts[k]);
        uintptr_t expected = 0;
        if (atomic_compare_exchange_strong_explicit(&((ilg_metadata *)md)->shapes, &expected,
                                                    (uintptr_t)made, memory_order_acq_rel,
                                                    memory_order_acquire))
            words = made;
        else {
            free(made);
            words = (_Atomic uint64_t *)expected;
        }
    }
    size_t base = 4;
    for (int k = 0; k < t; k++)
        base += atomic_load_explicit(&words[k], memory_order_relaxed);
    if (rid > atomic_load_explicit(&words[t], memory_order_relaxed))
        return NULL;
    return &words[base + rid - 1];
}

/* Bodies call the same methods again and again, and each lookup is a blob read and a
 * signature parse. */
ilg_status ilg_md_call_shape(const ilg_metadata *md, uint32_t token, uint32_t *pops,
                             bool *has_this, bool *pushes)
{
    if (!md || !pops || !has_this || !pushes)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "metadata and outputs are required");
    _Atomic uint64_t *w = shape_word(md, token);
    uint64_t v = w ? atomic_load_explicit(w, memory_order_relaxed) : 0;
    if (v & SHAPE_KNOWN) {
        *pops = (uint32_t)v;
        *has_this = (v >> 32) & 1;
        *pushes = (v >> 33) & 1;
        return ILG_OK;
    }
    ilg_status st = call_shape(md, token, pops, has_this, pushes);
    if (st == ILG_OK && w)
        atomic_store_explicit(w, SHAPE_KNOWN | (uint64_t)*has_this << 32 |
                                     (uint64_t)*pushes << 33 | *pops,
                              memory_order_relaxed);
    return st;
}

static ilg_status call_shape(const ilg_metadata *md, uint32_t token, uint32_t *pops,
                             bool *has_this, bool *pushes)
{
    uint32_t table = token >> 24, rid = token & 0xFFFFFF;
    uint32_t blob;
    if (table == ILG_TBL_MethodSpec && rid && rid <= md->tables[table].rows) {
        token = ilg__md_coded_token(ILG_CODED_MethodDefOrRef, ilg__md_raw(md, ILG_TBL_MethodSpec, rid, ILG_MDC_MethodSpec_Method));
        table = token >> 24;
        rid = token & 0xFFFFFF;
    }
    if (rid == 0 || table >= ILG_TBL_COUNT || rid > md->tables[table].rows)
        return ilg__fail(ILG_E_NOT_FOUND, ILG_WHERE_NONE, 0, "token 0x%08x does not exist", token);
    if (table == ILG_TBL_MethodDef)
        blob = ilg__md_raw(md, table, rid, ILG_MDC_MethodDef_Signature);
    else if (table == ILG_TBL_MemberRef)
        blob = ilg__md_raw(md, table, rid, ILG_MDC_MemberRef_Signature);
    else if (table == ILG_TBL_StandAloneSig)
        blob = ilg__md_raw(md, table, rid, ILG_MDC_StandAloneSig_Signature);
    else
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                         "token 0x%08x is not a method or call-site signature", token);
    sig s;
    uint32_t len, count, gcount;
    uint8_t conv = 0;
    ilg_status st = ilg_md_blob(md, blob, &s.p, &len);
    if (st != ILG_OK)
        return st;
    s.start = s.p;
    s.end = s.p + len;
    if ((st = sig_u8(&s, &conv)) != ILG_OK)
        return st;
    if ((conv & ILG_SIG_KIND_MASK) == ILG_SIG_FIELD)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                         "token 0x%08x has a field signature", token);
    if ((conv & ILG_SIG_GENERIC) && (st = sig_uint(&s, &gcount)) != ILG_OK)
        return st;
    if ((st = sig_uint(&s, &count)) != ILG_OK)
        return st;
    while (s.p < s.end && (*s.p == ILG_ET_CMOD_REQD || *s.p == ILG_ET_CMOD_OPT)) {
        uint32_t tok;
        s.p++;
        if ((st = sig_typedef_or_ref(&s, &tok)) != ILG_OK)
            return st;
    }
    if (s.p >= s.end)
        return sig_fail(&s, "no return type");
    bool this_ = (conv & ILG_SIG_HASTHIS) && !(conv & ILG_SIG_EXPLICITTHIS);
    *pops = count + (this_ ? 1 : 0);
    *has_this = this_;
    *pushes = *s.p != ILG_ET_VOID;
    return ILG_OK;
}
