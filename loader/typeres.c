/* typeres.c: what the type-level verifier (ilbody) asks of the metadata: facts about
 * types (value type, enum and its underlying type, abstract, interface, generic, ref
 * struct) and members (static, virtual, abstract, the declaring type), signatures and
 * user strings, and the resolver that serves them to ilg_body_verify_opts. A TypeDef's
 * facts are worked out for the whole module on first use (one pass over TypeDef,
 * Field, GenericParam and CustomAttribute) and published like the call-shape memo.
 * References to other assemblies are followed through a universe (universe.c) when the
 * scope has one; what nothing resolves is reported as unknown. */
#include <stdlib.h>

#include "md_private.h"
#include "ilgraft/ilbody.h"

#define FACTS_KNOWN (1u << 31)
#define FACTS_INTRINSIC (1u << 30) /* the type is marked [Intrinsic] */
#define FACTS_BASE (1u << 29) /* System.Object, ValueType or Enum */
#define FACTS_FLAGS 0x1FFFu /* the ilg_type_facts flags, at bit 16 */

static const struct { const char *name; uint8_t elem; } primitives[] = {
    { "Boolean", ILG_ET_BOOLEAN }, { "Char", ILG_ET_CHAR }, { "SByte", ILG_ET_I1 },
    { "Byte", ILG_ET_U1 }, { "Int16", ILG_ET_I2 }, { "UInt16", ILG_ET_U2 }, { "Int32", ILG_ET_I4 },
    { "UInt32", ILG_ET_U4 }, { "Int64", ILG_ET_I8 }, { "UInt64", ILG_ET_U8 },
    { "Single", ILG_ET_R4 }, { "Double", ILG_ET_R8 }, { "IntPtr", ILG_ET_I }, { "UIntPtr", ILG_ET_U },
    { "Object", ILG_ET_OBJECT }, { "String", ILG_ET_STRING }, { "TypedReference", ILG_ET_TYPEDBYREF },
};

/* The element type of System.<name> when it is one of the primitive types, else 0. */
static uint8_t primitive_elem(const char *ns, const char *name)
{
    if (ns[0] != 'S' || strcmp(ns, "System") != 0)
        return 0;
    for (size_t i = 0; i < sizeof primitives / sizeof primitives[0]; i++)
        if (strcmp(name, primitives[i].name) == 0)
            return primitives[i].elem;
    return 0;
}

static void type_name_of(const ilg_metadata *md, uint32_t token, const char **ns, const char **name)
{
    const uint32_t t = token >> 24, rid = token & 0xFFFFFF;
    *ns = *name = "";
    if (t == ILG_TBL_TypeDef && rid && rid <= md->tables[t].rows) {
        *ns = ilg__md_str(md, ilg__md_raw(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_TypeNamespace));
        *name = ilg__md_str(md, ilg__md_raw(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_TypeName));
    } else if (t == ILG_TBL_TypeRef && rid && rid <= md->tables[t].rows) {
        *ns = ilg__md_str(md, ilg__md_raw(md, ILG_TBL_TypeRef, rid, ILG_MDC_TypeRef_TypeNamespace));
        *name = ilg__md_str(md, ilg__md_raw(md, ILG_TBL_TypeRef, rid, ILG_MDC_TypeRef_TypeName));
    }
}

static uint32_t cell_token(const ilg_metadata *md, ilg_table t, uint32_t rid, uint32_t col,
                           ilg_coded_kind kind)
{
    return ilg__md_coded_token(kind, ilg__md_raw(md, t, rid, col));
}

/* The first element type of a field signature (custom modifiers skipped). */
static uint8_t field_elem(const ilg_metadata *md, uint32_t field)
{
    const uint8_t *p;
    uint32_t len, tok;
    if (ilg_md_blob(md, ilg__md_raw(md, ILG_TBL_Field, field, ILG_MDC_Field_Signature), &p, &len) != ILG_OK ||
        len < 2)
        return 0;
    size_t k = 1;
    while (k < len && (p[k] == ILG_ET_CMOD_OPT || p[k] == ILG_ET_CMOD_REQD)) {
        size_t n = ilg__rd_compressed(p + k + 1, len - k - 1, &tok);
        if (!n)
            return 0;
        k += 1 + n;
    }
    return k < len ? p[k] : 0;
}

/* The bits of [Intrinsic] MethodDefs follow the TypeDefs' words. */
static uint32_t *method_bits(const ilg_metadata *md, const uint32_t *w)
{
    return (uint32_t *)w + md->tables[ILG_TBL_TypeDef].rows + 1;
}

/* Whether name is one of list's (NULL-terminated). */
static bool in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(name, *list) == 0)
            return true;
    return false;
}

/* The first byte of a method signature's return type (after modifiers), or 0. */
static uint8_t return_elem(const ilg_metadata *md, uint32_t rid)
{
    const uint8_t *p;
    uint32_t len, n;
    if (ilg_md_blob(md, ilg__md_raw(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_Signature), &p, &len) != ILG_OK ||
        len < 3)
        return 0;
    size_t k = 1, c;
    if ((p[0] & ILG_SIG_GENERIC) && !(c = ilg__rd_compressed(p + k, len - k, &n)))
        return 0;
    else if (p[0] & ILG_SIG_GENERIC)
        k += c;
    if (k >= len || !(c = ilg__rd_compressed(p + k, len - k, &n)))
        return 0;
    k += c;
    while (k < len && (p[k] == ILG_ET_CMOD_OPT || p[k] == ILG_ET_CMOD_REQD)) {
        if (!(c = ilg__rd_compressed(p + k + 1, len - k - 1, &n)))
            return 0;
        k += 1 + c;
    }
    return k < len ? p[k] : 0;
}

/* VectorN.IsHardwareAccelerated, a constant to the JIT, which folds a branch on it:
 * ILG_MEMBER_JIT_CONSTANT (with _CONST_ONE when true) where its value is known. On x64
 * Vector128 is always accelerated; Vector256 when the processor has AVX2 and Vector512
 * never without AVX-512 (with it, the runtime may still decline: not folded). The
 * processor is the one the verifier runs on, which in a profiler is the JIT's. */
static uint16_t vector_accelerated(const char *type)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (strcmp(type, "Vector128") == 0)
        return ILG_MEMBER_JIT_CONSTANT | ILG_MEMBER_CONST_ONE;
    if (strcmp(type, "Vector256") == 0)
        return ILG_MEMBER_JIT_CONSTANT | (__builtin_cpu_supports("avx2") ? ILG_MEMBER_CONST_ONE : 0);
    if (strcmp(type, "Vector512") == 0 && !__builtin_cpu_supports("avx512f"))
        return ILG_MEMBER_JIT_CONSTANT;
#else
    (void)type;
#endif
    return 0;
}

/* The ILG_MEMBER_INTRINSIC* flags of an [Intrinsic] method by its name, or 0: the calls
 * CoreCLR's JIT expands in place even without optimization, popping their operands
 * without a call's argument checks (importercalls.cpp, impIntrinsic: Unsafe's methods
 * and the primitive bit operations always, the "lightweight" ones and Math's functions
 * at tier 0). Where its expansion gives up (integer Min and Max, Log2, a rotation by a
 * variable, Interlocked on a reference that is not null) the call is checked like any
 * other. Each was put to the JIT with arguments of every wrong kind
 * (tests/bench/probe_jit, docs/coreclr-observed.md). */
static uint16_t expanded_in_place(const char *ns, const char *type, const char *method, uint8_t ret)
{
    static const char *const math[] = {
        "Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Atan2", "Cbrt", "Ceiling",
        "ConvertToInteger", "ConvertToIntegerNative", "Cos", "Cosh", "Exp", "Floor", "FusedMultiplyAdd",
        "ILogB", "Log", "Log2", "Log10", "MultiplyAddEstimate", "Pow", "ReciprocalEstimate",
        "ReciprocalSqrtEstimate", "Round", "Sin", "Sinh", "Sqrt", "Tan", "Tanh", "Truncate", NULL };
    static const char *const minmax[] = { "Max", "MaxMagnitude", "MaxMagnitudeNumber", "MaxNumber", "Min",
                                          "MinMagnitude", "MinMagnitudeNumber", "MinNumber", NULL };
    static const char *const bits[] = { "Crc32C", "LeadingZeroCount", "PopCount", "TrailingZeroCount", NULL };
    static const char *const bitconv[] = {
        "DoubleToInt64Bits", "DoubleToUInt64Bits", "Int32BitsToSingle", "Int64BitsToDouble",
        "SingleToInt32Bits", "SingleToUInt32Bits", "UInt32BitsToSingle", "UInt64BitsToDouble", NULL };
    static const char *const ints[] = { "Int32", "Int64", "IntPtr", "UInt32", "UInt64", "UIntPtr", NULL };
    static const char *const spans[] = { "Span`1", "ReadOnlySpan`1", NULL };
    static const char *const atomic[] = { "CompareExchange", "Exchange", "ExchangeAdd", "And", "Or", NULL };
    static const char *const unsafe_calls[] = { "CopyBlock", "CopyBlockUnaligned", "InitBlock",
                                                "InitBlockUnaligned", "Unbox", NULL };
    const bool rotate = strcmp(method, "RotateLeft") == 0 || strcmp(method, "RotateRight") == 0;
    if (strcmp(ns, "System") == 0) {
        if (strcmp(type, "Math") == 0 || strcmp(type, "MathF") == 0 || strcmp(type, "Double") == 0 ||
            strcmp(type, "Single") == 0)
            return in_list(method, math) || (in_list(method, minmax) && (ret == ILG_ET_R4 || ret == ILG_ET_R8))
                       ? ILG_MEMBER_INTRINSIC : 0;
        if (in_list(type, ints))
            return in_list(method, bits) ? ILG_MEMBER_INTRINSIC : rotate ? ILG_MEMBER_INTRINSIC_IF_CONST : 0;
        if (strcmp(type, "BitConverter") == 0)
            return in_list(method, bitconv) ? ILG_MEMBER_INTRINSIC : 0;
        if (strcmp(type, "String") == 0)
            return strcmp(method, "get_Chars") == 0 || strcmp(method, "get_Length") == 0 ? ILG_MEMBER_INTRINSIC : 0;
        if (in_list(type, spans))
            return strcmp(method, "get_Item") == 0 || strcmp(method, "get_Length") == 0 ? ILG_MEMBER_INTRINSIC : 0;
        return 0;
    }
    if (strcmp(ns, "System.Numerics") == 0 && strcmp(type, "BitOperations") == 0)
        return in_list(method, bits) ? ILG_MEMBER_INTRINSIC : rotate ? ILG_MEMBER_INTRINSIC_IF_CONST : 0;
    if (strcmp(ns, "System.Buffers.Binary") == 0)
        return strcmp(type, "BinaryPrimitives") == 0 && strcmp(method, "ReverseEndianness") == 0
                   ? ILG_MEMBER_INTRINSIC : 0;
    if (strcmp(ns, "System.Runtime.CompilerServices") == 0 && strcmp(type, "Unsafe") == 0) {
        if (in_list(method, unsafe_calls))
            return 0;
        return ILG_MEMBER_INTRINSIC | (strcmp(method, "Write") == 0 || strcmp(method, "WriteUnaligned") == 0
                                           ? ILG_MEMBER_INTRINSIC_STORE : 0);
    }
    if (strcmp(ns, "System.Runtime.CompilerServices") == 0 && strcmp(type, "RuntimeHelpers") == 0)
        return strcmp(method, "IsKnownConstant") == 0 ? ILG_MEMBER_INTRINSIC : 0;
    if (strcmp(ns, "System.Threading") == 0 && strcmp(type, "Volatile") == 0)
        return strcmp(method, "Read") == 0 ? ILG_MEMBER_INTRINSIC
               : strcmp(method, "Write") == 0 ? ILG_MEMBER_INTRINSIC | ILG_MEMBER_INTRINSIC_STORE : 0;
    if (strcmp(ns, "System.Runtime.Intrinsics") == 0 && strcmp(method, "get_IsHardwareAccelerated") == 0)
        return vector_accelerated(type);
    if (strcmp(ns, "System.Threading") == 0 && strcmp(type, "Interlocked") == 0)
        return in_list(method, atomic) ? ILG_MEMBER_INTRINSIC_ATOMIC : 0;
    return 0;
}

static uint16_t intrinsic_method(const ilg_metadata *md, const uint32_t *w, uint32_t rid)
{
    const uint32_t owner = md->method_owner[rid];
    if (!owner || !((w[owner] & FACTS_INTRINSIC) || (method_bits(md, w)[rid / 32] >> (rid % 32) & 1)))
        return 0;
    const char *ns, *name;
    type_name_of(md, 0x02000000u | owner, &ns, &name);
    return expanded_in_place(ns, name,
                             ilg__md_str(md, ilg__md_raw(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_Name)),
                             return_elem(md, rid));
}

/* The type that declares an attribute's constructor. */
static uint32_t attribute_type(const ilg_metadata *md, uint32_t ctor)
{
    if ((ctor >> 24) == ILG_TBL_MemberRef && (ctor & 0xFFFFFF) <= md->tables[ILG_TBL_MemberRef].rows)
        return cell_token(md, ILG_TBL_MemberRef, ctor & 0xFFFFFF, ILG_MDC_MemberRef_Class,
                          ILG_CODED_MemberRefParent);
    if ((ctor >> 24) == ILG_TBL_MethodDef && (ctor & 0xFFFFFF) <= md->tables[ILG_TBL_MethodDef].rows &&
        md->method_owner[ctor & 0xFFFFFF])
        return 0x02000000u | md->method_owner[ctor & 0xFFFFFF];
    return 0;
}

/* Marks the TypeDefs that own generic parameters, those marked IsByRefLike, and the
 * types and methods marked [Intrinsic] (whose calls the JIT may expand itself). */
static void mark_generic_and_byreflike(const ilg_metadata *md, uint32_t *w)
{
    const uint32_t ntypes = md->tables[ILG_TBL_TypeDef].rows;
    for (uint32_t r = 1; r <= md->tables[ILG_TBL_GenericParam].rows; r++) {
        uint32_t owner = cell_token(md, ILG_TBL_GenericParam, r, ILG_MDC_GenericParam_Owner,
                                    ILG_CODED_TypeOrMethodDef);
        if ((owner >> 24) == ILG_TBL_TypeDef && (owner & 0xFFFFFF) <= ntypes)
            w[owner & 0xFFFFFF] |= (uint32_t)ILG_TYPE_GENERIC << 16;
    }
    uint32_t *mbits = method_bits(md, w);
    for (uint32_t r = 1; r <= md->tables[ILG_TBL_CustomAttribute].rows; r++) {
        const uint32_t parent = cell_token(md, ILG_TBL_CustomAttribute, r, ILG_MDC_CustomAttribute_Parent,
                                           ILG_CODED_HasCustomAttribute);
        const uint32_t pt = parent >> 24, pr = parent & 0xFFFFFF;
        if ((pt != ILG_TBL_TypeDef || pr > ntypes) &&
            (pt != ILG_TBL_MethodDef || pr > md->tables[ILG_TBL_MethodDef].rows))
            continue;
        const char *ns, *name;
        type_name_of(md, attribute_type(md, cell_token(md, ILG_TBL_CustomAttribute, r,
                                                       ILG_MDC_CustomAttribute_Type,
                                                       ILG_CODED_CustomAttributeType)),
                     &ns, &name);
        if (strcmp(ns, "System.Runtime.CompilerServices") != 0)
            continue;
        if (strcmp(name, "IntrinsicAttribute") == 0 && pt == ILG_TBL_MethodDef)
            mbits[pr / 32] |= 1u << (pr % 32);
        else if (strcmp(name, "IntrinsicAttribute") == 0)
            w[pr] |= FACTS_INTRINSIC;
        else if (strcmp(name, "IsByRefLikeAttribute") == 0 && pt == ILG_TBL_TypeDef)
            w[pr] |= (uint32_t)ILG_TYPE_BYREF_LIKE << 16;
    }
}

/* One word per TypeDef: FACTS_KNOWN | FACTS_INTRINSIC | FACTS_BASE | flags << 16 | elem << 8 | kind. */
static uint32_t *compute_facts(const ilg_metadata *md)
{
    const uint32_t ntypes = md->tables[ILG_TBL_TypeDef].rows;
    uint32_t *w = calloc((size_t)ntypes + 1 + md->tables[ILG_TBL_MethodDef].rows / 32 + 1, sizeof *w);
    if (!w)
        return NULL;
    mark_generic_and_byreflike(md, w);
    for (uint32_t t = 1; t <= ntypes; t++) {
        const uint32_t fl = ilg__md_raw(md, ILG_TBL_TypeDef, t, ILG_MDC_TypeDef_Flags);
        const char *ns, *name, *bns, *bname;
        type_name_of(md, 0x02000000u | t, &ns, &name);
        type_name_of(md, cell_token(md, ILG_TBL_TypeDef, t, ILG_MDC_TypeDef_Extends, ILG_CODED_TypeDefOrRef),
                     &bns, &bname);
        uint32_t kind = (fl & ILG_TYPEATTR_INTERFACE) ? ILG_TYPE_INTERFACE : ILG_TYPE_CLASS, elem = 0;
        uint32_t flags = ((w[t] >> 16) & FACTS_FLAGS) | ((fl & ILG_TYPEATTR_ABSTRACT) ? ILG_TYPE_ABSTRACT : 0) |
                         ((fl & ILG_TYPEATTR_SEALED) ? ILG_TYPE_SEALED : 0);
        const bool sys = strcmp(bns, "System") == 0;
        const bool self_enum = strcmp(ns, "System") == 0 && strcmp(name, "Enum") == 0;
        if (sys && strcmp(bname, "Enum") == 0)
            kind = ILG_TYPE_ENUM;
        else if (sys && strcmp(bname, "ValueType") == 0 && !self_enum)
            kind = (elem = primitive_elem(ns, name)) ? ILG_TYPE_PRIMITIVE : ILG_TYPE_VALUE;
        else if ((elem = primitive_elem(ns, name)) == ILG_ET_OBJECT || elem == ILG_ET_STRING)
            kind = ILG_TYPE_PRIMITIVE;
        else
            elem = 0;
        if (strcmp(ns, "System") == 0 && strcmp(name, "Nullable`1") == 0)
            flags |= ILG_TYPE_NULLABLE;
        const bool base = strcmp(ns, "System") == 0 &&
                          (strcmp(name, "Object") == 0 || strcmp(name, "ValueType") == 0 || self_enum);
        w[t] = FACTS_KNOWN | (w[t] & FACTS_INTRINSIC) | (base ? FACTS_BASE : 0) | flags << 16 | elem << 8 | kind;
    }
    /* An enum's underlying type is its one instance field's. */
    for (uint32_t f = 1; f <= md->tables[ILG_TBL_Field].rows; f++) {
        uint32_t t = md->field_owner[f];
        if (t && (w[t] & 0xFF) == ILG_TYPE_ENUM && !((w[t] >> 8) & 0xFF) &&
            !(ilg__md_raw(md, ILG_TBL_Field, f, ILG_MDC_Field_Flags) & ILG_FIELDATTR_STATIC))
            w[t] |= (uint32_t)field_elem(md, f) << 8;
    }
    return w;
}

static const uint32_t *typedef_facts(const ilg_metadata *md)
{
    ilg_metadata *m = (ilg_metadata *)md; /* the memo is the only state that changes */
    uint32_t *w = (uint32_t *)atomic_load_explicit(&m->type_facts, memory_order_acquire);
    if (w)
        return w;
    if (!(w = compute_facts(md)))
        return NULL;
    uintptr_t expected = 0;
    if (!atomic_compare_exchange_strong_explicit(&m->type_facts, &expected, (uintptr_t)w,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        free(w);
        w = (uint32_t *)expected;
    }
    return w;
}

static bool row_exists(const ilg_metadata *md, uint32_t token)
{
    const uint32_t t = token >> 24, rid = token & 0xFFFFFF;
    return t < ILG_TBL_COUNT && rid && rid <= md->tables[t].rows;
}

/* ---- types ------------------------------------------------------------------------------ */

static ilg_status typedef_facts_of(const ilg_metadata *md, uint32_t rid, ilg_type_facts *out)
{
    const uint32_t *w = typedef_facts(md);
    if (!w)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "type facts of %u TypeDefs",
                         md->tables[ILG_TBL_TypeDef].rows);
    *out = (ilg_type_facts){ (uint8_t)(w[rid] & 0xFF), (uint8_t)(w[rid] >> 8),
                             (uint16_t)((w[rid] >> 16) & FACTS_FLAGS), NULL, 0 };
    return ILG_OK;
}

ilg_status ilg__md_type_facts_local(const ilg_metadata *md, uint32_t token, ilg_type_facts *out)
{
    const uint32_t t = token >> 24, rid = token & 0xFFFFFF;
    if (t != ILG_TBL_TypeDef && t != ILG_TBL_TypeRef && t != ILG_TBL_TypeSpec)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "token 0x%08x is not a type", token);
    if (!row_exists(md, token))
        return ilg__fail(ILG_E_NOT_FOUND, ILG_WHERE_NONE, 0, "type token 0x%08x names no row", token);
    if (t == ILG_TBL_TypeDef)
        return typedef_facts_of(md, rid, out);
    *out = (ilg_type_facts){ ILG_TYPE_UNKNOWN, 0, 0, NULL, 0 };
    if (t == ILG_TBL_TypeSpec)
        return ilg_md_blob(md, ilg__md_raw(md, ILG_TBL_TypeSpec, rid, ILG_MDC_TypeSpec_Signature),
                           &out->spec, &out->spec_len);
    /* A reference names its type: the primitive types need no resolving. */
    const char *ns, *name;
    type_name_of(md, token, &ns, &name);
    if ((out->elem = primitive_elem(ns, name)) != 0)
        out->kind = ILG_TYPE_PRIMITIVE;
    else if (strcmp(ns, "System") == 0 && strcmp(name, "Nullable`1") == 0)
        *out = (ilg_type_facts){ ILG_TYPE_VALUE, 0, ILG_TYPE_NULLABLE | ILG_TYPE_GENERIC, NULL, 0 };
    else if (strcmp(ns, "System") == 0 && (strcmp(name, "ValueType") == 0 || strcmp(name, "Enum") == 0))
        *out = (ilg_type_facts){ ILG_TYPE_CLASS, 0, ILG_TYPE_ABSTRACT, NULL, 0 };
    return ILG_OK;
}

/* ---- members ----------------------------------------------------------------------------- */

/* Whether virtual MethodDef rid (flags fl, of TypeDef owner) holds a vtable slot every
 * value type has: one of System.Object's, ValueType's or Enum's own, or an override of
 * Object's ToString, Equals, GetHashCode or Finalize (slots 0-3). constrained. to a value
 * type finds another type's virtual method by its slot number (docs/ilbody.md). */
static bool base_slot(const ilg_metadata *md, const uint32_t *w, uint32_t rid, uint32_t fl, uint32_t owner)
{
    if (w[owner] & FACTS_BASE)
        return true;
    if (fl & ILG_METHODATTR_NEWSLOT)
        return false;
    const char *name = ilg__md_str(md, ilg__md_raw(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_Name));
    return strcmp(name, "ToString") == 0 || strcmp(name, "Equals") == 0 || strcmp(name, "GetHashCode") == 0 ||
           strcmp(name, "Finalize") == 0;
}

static void method_facts(const ilg_metadata *md, uint32_t rid, ilg_member_facts *out)
{
    const uint32_t fl = ilg__md_raw(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_Flags);
    const uint32_t impl = ilg__md_raw(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_ImplFlags);
    /* a constructor is RTSpecialName and named .ctor, as the runtime tells (the name is
     * read only then: the string heap is cold) */
    const bool ctor = (fl & ILG_METHODATTR_RTSPECIALNAME) &&
                      strcmp(ilg__md_str(md, ilg__md_raw(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_Name)), ".ctor") == 0;
    out->kind = ILG_MEMBER_METHOD;
    const uint32_t *w = typedef_facts(md);
    const uint32_t owner = md->method_owner[rid];
    out->flags = ILG_MEMBER_KNOWN | ((fl & ILG_METHODATTR_STATIC) ? ILG_MEMBER_STATIC : 0) |
                 ((fl & ILG_METHODATTR_VIRTUAL) ? ILG_MEMBER_VIRTUAL : 0) | ((fl & ILG_METHODATTR_ABSTRACT) ? ILG_MEMBER_ABSTRACT : 0) |
                 ((fl & ILG_METHODATTR_FINAL) ? ILG_MEMBER_FINAL : 0) |
                 (ctor ? ILG_MEMBER_CTOR : 0) |
                 ((impl & ILG_METHODIMPL_SYNCHRONIZED) ? ILG_MEMBER_SYNCHRONIZED : 0);
    if (w)
        out->flags |= intrinsic_method(md, w, rid);
    if ((fl & (ILG_METHODATTR_VIRTUAL | ILG_METHODATTR_STATIC)) == ILG_METHODATTR_VIRTUAL && owner && w &&
        base_slot(md, w, rid, fl, owner))
        out->flags |= ILG_MEMBER_BASE_SLOT;
    out->owner = owner ? 0x02000000u | owner : 0;
}

/* The static fields CoreCLR's JIT reads as constants (the runtime gives them the
 * intrinsic field accessors ISLITTLEENDIAN, ZERO and EMPTY_STRING). */
static bool jit_constant_field(const ilg_metadata *md, uint32_t rid, uint32_t owner)
{
    const char *ns, *type, *name = ilg__md_str(md, ilg__md_raw(md, ILG_TBL_Field, rid, ILG_MDC_Field_Name));
    type_name_of(md, 0x02000000u | owner, &ns, &type);
    if (strcmp(ns, "System") != 0)
        return false;
    return (strcmp(type, "BitConverter") == 0 && strcmp(name, "IsLittleEndian") == 0) ||
           ((strcmp(type, "IntPtr") == 0 || strcmp(type, "UIntPtr") == 0) && strcmp(name, "Zero") == 0) ||
           (strcmp(type, "String") == 0 && strcmp(name, "Empty") == 0);
}

static void field_facts(const ilg_metadata *md, uint32_t rid, ilg_member_facts *out)
{
    const uint32_t fl = ilg__md_raw(md, ILG_TBL_Field, rid, ILG_MDC_Field_Flags);
    const uint32_t owner = md->field_owner[rid];
    out->kind = ILG_MEMBER_FIELD;
    out->flags = ILG_MEMBER_KNOWN | ((fl & ILG_FIELDATTR_STATIC) ? ILG_MEMBER_STATIC : 0) |
                 ((fl & ILG_FIELDATTR_LITERAL) ? ILG_MEMBER_LITERAL : 0);
    if ((fl & ILG_FIELDATTR_STATIC) && owner && jit_constant_field(md, rid, owner))
        out->flags |= ILG_MEMBER_JIT_CONSTANT;
    if ((fl & (ILG_FIELDATTR_STATIC | ILG_FIELDATTR_HASFIELDRVA)) == (ILG_FIELDATTR_STATIC | ILG_FIELDATTR_HASFIELDRVA))
        out->flags |= ILG_MEMBER_RVA;
    out->owner = owner ? 0x02000000u | owner : 0;
}

/* The member of TypeDef rid named name whose signature is sig byte for byte (the same
 * module, so the same tokens): its facts into out (owner and signature kept). */
static bool find_local(const ilg_metadata *md, uint32_t rid, bool methods, const char *name,
                       const uint8_t *sig, uint32_t len, ilg_member_facts *out)
{
    uint32_t first, last;
    ilg__md_member_list(md, rid, methods, &first, &last);
    const ilg_table table = methods ? ILG_TBL_MethodDef : ILG_TBL_Field;
    const uint32_t name_col = methods ? ILG_MDC_MethodDef_Name : ILG_MDC_Field_Name;
    const uint32_t sig_col = methods ? ILG_MDC_MethodDef_Signature : ILG_MDC_Field_Signature;
    for (uint32_t pos = first; pos < last; pos++) {
        uint32_t r = ilg__md_list_target(md, methods ? ILG_TBL_MethodPtr : ILG_TBL_FieldPtr, pos), l;
        const uint8_t *s;
        if (!r || r > md->tables[table].rows ||
            strcmp(ilg__md_str(md, ilg__md_raw(md, table, r, name_col)), name) != 0 ||
            ilg_md_blob(md, ilg__md_raw(md, table, r, sig_col), &s, &l) != ILG_OK || l != len ||
            memcmp(s, sig, len) != 0)
            continue;
        ilg_member_facts keep = *out;
        if (methods)
            method_facts(md, r, out);
        else
            field_facts(md, r, out);
        out->owner = keep.owner;
        return true;
    }
    return false;
}

/* A TypeSpec that is an array type: its methods are the runtime's (II.14.2). */
static bool array_spec(const ilg_metadata *md, uint32_t spec)
{
    const uint8_t *b;
    uint32_t n;
    if (!row_exists(md, spec) ||
        ilg_md_blob(md, ilg__md_raw(md, ILG_TBL_TypeSpec, spec & 0xFFFFFF, ILG_MDC_TypeSpec_Signature), &b, &n) != ILG_OK)
        return false;
    return n && (b[0] == ILG_ET_ARRAY || b[0] == ILG_ET_SZARRAY);
}

ilg_status ilg__md_member_facts_local(const ilg_metadata *md, uint32_t token, ilg_member_facts *out)
{
    const uint32_t t = token >> 24, rid = token & 0xFFFFFF;
    if (t != ILG_TBL_MethodDef && t != ILG_TBL_MemberRef && t != ILG_TBL_MethodSpec && t != ILG_TBL_Field)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "token 0x%08x is not a member", token);
    if (!row_exists(md, token))
        return ilg__fail(ILG_E_NOT_FOUND, ILG_WHERE_NONE, 0, "member token 0x%08x names no row", token);
    memset(out, 0, sizeof *out);
    if (t == ILG_TBL_MethodSpec) {
        uint32_t method = cell_token(md, ILG_TBL_MethodSpec, rid, ILG_MDC_MethodSpec_Method,
                                     ILG_CODED_MethodDefOrRef);
        ilg_status st = method ? ilg__md_member_facts_local(md, method, out)
                               : ilg__fail(ILG_E_NOT_FOUND, ILG_WHERE_NONE, 0, "MethodSpec 0x%08x has no method", token);
        if (st != ILG_OK)
            return st;
        return ilg_md_blob(md, ilg__md_raw(md, ILG_TBL_MethodSpec, rid, ILG_MDC_MethodSpec_Instantiation),
                           &out->inst, &out->inst_len);
    }
    const uint32_t sig_col = t == ILG_TBL_MethodDef ? ILG_MDC_MethodDef_Signature
                             : t == ILG_TBL_Field   ? ILG_MDC_Field_Signature
                                                    : ILG_MDC_MemberRef_Signature;
    ilg_status st = ilg_md_blob(md, ilg__md_raw(md, (ilg_table)t, rid, sig_col), &out->sig, &out->sig_len);
    if (st != ILG_OK)
        return st;
    if (t == ILG_TBL_MethodDef) {
        method_facts(md, rid, out);
        return ILG_OK;
    }
    if (t == ILG_TBL_Field) {
        field_facts(md, rid, out);
        return ILG_OK;
    }
    const bool field = out->sig_len && (out->sig[0] & ILG_SIG_KIND_MASK) == ILG_SIG_FIELD;
    out->kind = field ? ILG_MEMBER_FIELD : ILG_MEMBER_METHOD;
    if (!field && strcmp(ilg__md_str(md, ilg__md_raw(md, ILG_TBL_MemberRef, rid, ILG_MDC_MemberRef_Name)),
                         ".ctor") == 0)
        out->flags |= ILG_MEMBER_CTOR;
    const uint32_t parent = cell_token(md, ILG_TBL_MemberRef, rid, ILG_MDC_MemberRef_Class,
                                       ILG_CODED_MemberRefParent);
    const uint32_t pt = parent >> 24;
    if (pt == ILG_TBL_MethodDef && row_exists(md, parent)) { /* a vararg call site */
        method_facts(md, parent & 0xFFFFFF, out);
    } else if (pt == ILG_TBL_TypeDef || pt == ILG_TBL_TypeRef || pt == ILG_TBL_TypeSpec) {
        out->owner = parent;
        if (pt == ILG_TBL_TypeDef && row_exists(md, parent))
            find_local(md, parent & 0xFFFFFF, !field,
                       ilg__md_str(md, ilg__md_raw(md, ILG_TBL_MemberRef, rid, ILG_MDC_MemberRef_Name)),
                       out->sig, out->sig_len, out);
        else if (pt == ILG_TBL_TypeSpec && !field && array_spec(md, parent))
            out->flags |= ILG_MEMBER_KNOWN; /* Get, Set, Address, .ctor: the runtime makes them */
    }
    if (out->sig_len && !(out->sig[0] & ILG_SIG_HASTHIS) && !field && !(out->flags & ILG_MEMBER_KNOWN))
        out->flags |= ILG_MEMBER_STATIC; /* the signature says so, whatever it resolves to */
    return ILG_OK;
}

/* ---- the resolver -------------------------------------------------------------------- */

static ilg_status r_type(void *ctx, uint32_t token, ilg_type_facts *out)
{
    return ilg_md_type_facts(ctx, token, out);
}

static ilg_status r_member(void *ctx, uint32_t token, ilg_member_facts *out)
{
    return ilg_md_member_facts(ctx, token, out);
}

static ilg_status r_signature(void *ctx, uint32_t token, const uint8_t **sig, uint32_t *len)
{
    const ilg_metadata *md = ((const ilg_md_scope *)ctx)->md;
    if ((token >> 24) != ILG_TBL_StandAloneSig)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "token 0x%08x is not a StandAloneSig", token);
    if (!row_exists(md, token))
        return ilg__fail(ILG_E_NOT_FOUND, ILG_WHERE_NONE, 0, "StandAloneSig 0x%08x names no row", token);
    return ilg_md_blob(md, ilg__md_raw(md, ILG_TBL_StandAloneSig, token & 0xFFFFFF,
                                       ILG_MDC_StandAloneSig_Signature),
                       sig, len);
}

/* A user string the runtime accepts: the token's row number, whatever its table byte,
 * is the offset of a #US entry that holds at least its flag byte and fits the heap. */
static ilg_status r_string(void *ctx, uint32_t token)
{
    const ilg_metadata *md = ((const ilg_md_scope *)ctx)->md;
    const uint32_t at = token & 0xFFFFFF;
    uint32_t n = 0;
    size_t h = at && at < md->us_size ? ilg__rd_compressed(md->us + at, md->us_size - at, &n) : 0;
    if (!h || n > md->us_size - at - h || n == 0)
        return ilg__fail(ILG_E_NOT_FOUND, ILG_WHERE_NONE, 0, "no user string at 0x%08x", token);
    return ILG_OK;
}

ilg_status ilg_md_type_facts(const ilg_md_scope *scope, uint32_t token, ilg_type_facts *out)
{
    if (!scope || !scope->md || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "scope and out are required");
    ilg_status st = ilg__md_type_facts_local(scope->md, token, out);
    if (st == ILG_OK && out->kind == ILG_TYPE_UNKNOWN && (token >> 24) == ILG_TBL_TypeRef && scope->universe)
        ilg__universe_type_facts(scope->universe, scope->md, token, out);
    return st;
}

ilg_status ilg_md_member_facts(const ilg_md_scope *scope, uint32_t token, ilg_member_facts *out)
{
    if (!scope || !scope->md || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "scope and out are required");
    ilg_status st = ilg__md_member_facts_local(scope->md, token, out);
    if (st == ILG_OK && !(out->flags & ILG_MEMBER_KNOWN) && scope->universe)
        ilg__universe_member_facts(scope->universe, scope->md, token, out);
    return st;
}

const ilg_md_scope *ilg_md_module_scope(const ilg_metadata *md)
{
    return md ? &md->own_scope : NULL;
}

void ilg_md_type_resolver(const ilg_md_scope *scope, uint32_t method, ilg_type_resolver *out)
{
    *out = (ilg_type_resolver){ r_type, r_member, r_signature, r_string, (void *)scope, method };
}
