/* test_ilbody_types.c: the type-level verifier's rules (ILG_VERIFY_JIT and _STRICT), a
 * failing body and its fixed twin for each, over a small hand-made metadata whose
 * signature blobs are written byte by byte from ECMA-335 II.23.2. What each rule
 * expects of CoreCLR was observed in a real CoreCLR (tests/runtime/test_verify_jit.c,
 * docs/ilbody.md); here the rules are pinned one by one. Part of the ilbody suite
 * (test_ilbody.c adds these cases). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "ilgraft/ilbody.h"
#include "ilgraft/metadata.h"

#define TD(n) (0x02000000u | (n))
#define MD(n) (0x06000000u | (n))
#define FD(n) (0x04000000u | (n))
#define MR(n) (0x0A000000u | (n))
#define SIG(n) (0x11000000u | (n))

/* TypeDefOrRef coded index of TypeDef n (II.23.2.8). */
#define TDOR(n) ((uint8_t)((n) << 2))

enum { T_CLASS = 1, T_STRUCT, T_ABSTRACT, T_ENUM, T_IFACE, T_GENERIC, T_REFSTRUCT };

/* G`1<!0>: an instantiation with the type parameter of whatever type uses it. */
static const uint8_t spec_g_var[] = { ILG_ET_GENERICINST, ILG_ET_CLASS, (uint8_t)(T_GENERIC << 2), 1, ILG_ET_VAR, 0 };
/* A`1<int32> over the abstract class (as if it were generic) */
static const uint8_t spec_abstract_i4[] = { ILG_ET_GENERICINST, ILG_ET_CLASS, (uint8_t)(T_ABSTRACT << 2), 1, ILG_ET_I4 };

static const struct fake_type {
    uint32_t token;
    ilg_type_facts facts;
} types[] = {
    { TD(T_CLASS), { ILG_TYPE_CLASS, 0, 0, NULL, 0 } },
    { TD(T_STRUCT), { ILG_TYPE_VALUE, 0, 0, NULL, 0 } },
    { TD(T_ABSTRACT), { ILG_TYPE_CLASS, 0, ILG_TYPE_ABSTRACT, NULL, 0 } },
    { TD(T_ENUM), { ILG_TYPE_ENUM, ILG_ET_I4, 0, NULL, 0 } },
    { TD(T_IFACE), { ILG_TYPE_INTERFACE, 0, ILG_TYPE_ABSTRACT, NULL, 0 } },
    { TD(T_GENERIC), { ILG_TYPE_CLASS, 0, ILG_TYPE_GENERIC, NULL, 0 } },
    { TD(T_REFSTRUCT), { ILG_TYPE_VALUE, 0, ILG_TYPE_BYREF_LIKE, NULL, 0 } },
    { 0x01000001, { ILG_TYPE_PRIMITIVE, ILG_ET_I4, 0, NULL, 0 } }, /* System.Int32 */
    { 0x1B000001, { ILG_TYPE_UNKNOWN, 0, 0, spec_g_var, sizeof spec_g_var } },
    { 0x1B000002, { ILG_TYPE_UNKNOWN, 0, 0, spec_abstract_i4, sizeof spec_abstract_i4 } },
};

/* Signatures. */
static const uint8_t sig_void[] = { ILG_SIG_HASTHIS, 0, ILG_ET_VOID };
static const uint8_t sig_get[] = { ILG_SIG_HASTHIS, 0, ILG_ET_I4 };
static const uint8_t sig_take[] = { ILG_SIG_DEFAULT, 6, ILG_ET_VOID, ILG_ET_I4, ILG_ET_I8, ILG_ET_R8,
                                    ILG_ET_OBJECT, ILG_ET_BYREF, ILG_ET_I4, ILG_ET_VALUETYPE,
                                    TDOR(T_STRUCT) };
static const uint8_t sig_static_void[] = { ILG_SIG_DEFAULT, 0, ILG_ET_VOID };
static const uint8_t sig_generic[] = { ILG_SIG_GENERIC, 1, 1, ILG_ET_VOID, ILG_ET_MVAR, 0 };
static const uint8_t sig_inst_i4[] = { ILG_SIG_GENERICINST, 1, ILG_ET_I4 };
static const uint8_t sig_field_i4[] = { ILG_SIG_FIELD, ILG_ET_I4 };
static const uint8_t sig_field_s[] = { ILG_SIG_FIELD, ILG_ET_VALUETYPE, TDOR(T_STRUCT) };
static const uint8_t sig_long_bool[] = { ILG_SIG_DEFAULT, 1, ILG_ET_VOID, ILG_ET_I8 };
/* The verified methods: static void M(int32, object, bool), S R(), vararg V(). */
static const uint8_t sig_m[] = { ILG_SIG_DEFAULT, 3, ILG_ET_VOID, ILG_ET_I4, ILG_ET_OBJECT, ILG_ET_BOOLEAN };
static const uint8_t sig_r[] = { ILG_SIG_DEFAULT, 0, ILG_ET_VALUETYPE, TDOR(T_STRUCT) };
static const uint8_t sig_v[] = { ILG_SIG_VARARG, 0, ILG_ET_VOID };
/* Locals: int32, S, object. */
static const uint8_t sig_locals[] = { ILG_SIG_LOCAL, 3, ILG_ET_I4, ILG_ET_VALUETYPE, TDOR(T_STRUCT),
                                      ILG_ET_OBJECT };
static const uint8_t sig_calli[] = { ILG_SIG_DEFAULT, 1, ILG_ET_VOID, ILG_ET_I4 };
/* static void N(char, float32, int32&, object) with locals char, int32, object; the 16-bit
 * fields; a static bool property the JIT reads as a constant */
static const uint8_t sig_n[] = { ILG_SIG_DEFAULT, 4, ILG_ET_VOID, ILG_ET_CHAR, ILG_ET_R4, ILG_ET_BYREF,
                                 ILG_ET_I4, ILG_ET_OBJECT };
static const uint8_t sig_n_locals[] = { ILG_SIG_LOCAL, 3, ILG_ET_CHAR, ILG_ET_I4, ILG_ET_OBJECT };
static const uint8_t sig_field_char[] = { ILG_SIG_FIELD, ILG_ET_CHAR };
static const uint8_t sig_field_i2[] = { ILG_SIG_FIELD, ILG_ET_I2 };
static const uint8_t sig_static_bool[] = { ILG_SIG_DEFAULT, 0, ILG_ET_BOOLEAN };
static const uint8_t sig_take_object[] = { ILG_SIG_DEFAULT, 1, ILG_ET_VOID, ILG_ET_OBJECT };
/* instance int32& get_Item(int32), as Span`1<int32> has it */
static const uint8_t sig_ctor_object[] = { ILG_SIG_HASTHIS, 1, ILG_ET_VOID, ILG_ET_OBJECT };
static const uint8_t sig_item[] = { ILG_SIG_HASTHIS, 1, ILG_ET_BYREF, ILG_ET_I4, ILG_ET_I4 };

#define BLOB(b) b, sizeof b

static const struct fake_member {
    uint32_t token;
    ilg_member_facts facts;
} members[] = {
    { MD(1), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_CTOR, TD(T_CLASS), BLOB(sig_void), NULL, 0 } },
    { MD(2), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN, TD(T_STRUCT), BLOB(sig_get), NULL, 0 } },
    { MD(3), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_STATIC, TD(T_CLASS), BLOB(sig_take), NULL, 0 } },
    { MD(4), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_ABSTRACT | ILG_MEMBER_VIRTUAL, TD(T_ABSTRACT),
               BLOB(sig_get), NULL, 0 } },
    { MD(5), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_STATIC, TD(T_CLASS), BLOB(sig_generic), NULL, 0 } },
    { MD(6), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_CTOR, TD(T_ABSTRACT), BLOB(sig_void), NULL, 0 } },
    { MD(7), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_STATIC, TD(T_CLASS), BLOB(sig_static_void), NULL, 0 } },
    { MD(8), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_STATIC, TD(T_CLASS), BLOB(sig_long_bool), NULL, 0 } },
    { MD(9), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_CTOR, TD(T_GENERIC), BLOB(sig_void), NULL, 0 } },
    { MD(0x10), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_STATIC, TD(T_CLASS), BLOB(sig_m), NULL, 0 } },
    { MD(0x11), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_STATIC, TD(T_CLASS), BLOB(sig_r), NULL, 0 } },
    { MD(0x12), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_STATIC, TD(T_CLASS), BLOB(sig_v), NULL, 0 } },
    { FD(1), { ILG_MEMBER_FIELD, ILG_MEMBER_KNOWN | ILG_MEMBER_STATIC, TD(T_CLASS), BLOB(sig_field_i4), NULL, 0 } },
    { FD(2), { ILG_MEMBER_FIELD, ILG_MEMBER_KNOWN, TD(T_STRUCT), BLOB(sig_field_i4), NULL, 0 } },
    { FD(3), { ILG_MEMBER_FIELD, ILG_MEMBER_KNOWN | ILG_MEMBER_STATIC | ILG_MEMBER_LITERAL, TD(T_CLASS),
               BLOB(sig_field_i4), NULL, 0 } },
    { FD(4), { ILG_MEMBER_FIELD, ILG_MEMBER_KNOWN, TD(T_CLASS), BLOB(sig_field_s), NULL, 0 } },
    /* a MemberRef whose signature is a field's, one to Take, and G<int32> */
    { MR(1), { ILG_MEMBER_FIELD, 0, TD(T_CLASS), BLOB(sig_field_i4), NULL, 0 } },
    { MR(2), { ILG_MEMBER_METHOD, ILG_MEMBER_STATIC, TD(T_CLASS), BLOB(sig_take), NULL, 0 } },
    { 0x2B000001, { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_STATIC, TD(T_CLASS), BLOB(sig_generic),
                    BLOB(sig_inst_i4) } },
    /* G`1<!0>::.ctor, virtual and plain instance methods of C */
    { MR(3), { ILG_MEMBER_METHOD, ILG_MEMBER_CTOR, 0x1B000001, BLOB(sig_void), NULL, 0 } },
    { MD(0x14), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_VIRTUAL, TD(T_CLASS), BLOB(sig_get), NULL, 0 } },
    { MD(0x15), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN, TD(T_CLASS), BLOB(sig_get), NULL, 0 } },
    { MD(0x16), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_STATIC, TD(T_CLASS), BLOB(sig_n), NULL, 0 } },
    { FD(5), { ILG_MEMBER_FIELD, ILG_MEMBER_KNOWN | ILG_MEMBER_STATIC, TD(T_CLASS), BLOB(sig_field_char), NULL, 0 } },
    { FD(6), { ILG_MEMBER_FIELD, ILG_MEMBER_KNOWN, TD(T_CLASS), BLOB(sig_field_i2), NULL, 0 } },
    /* Vector128.IsHardwareAccelerated (true on x64) and a constant false like it */
    { MD(0x17), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_STATIC | ILG_MEMBER_JIT_CONSTANT | ILG_MEMBER_CONST_ONE,
                  TD(T_CLASS), BLOB(sig_static_bool), NULL, 0 } },
    { MD(0x18), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_STATIC | ILG_MEMBER_JIT_CONSTANT, TD(T_CLASS),
                  BLOB(sig_static_bool), NULL, 0 } },
    /* a static abstract method of the generic type G`1 (IUtfChar`1::CastToUInt32) */
    { MD(0x19), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_STATIC | ILG_MEMBER_ABSTRACT | ILG_MEMBER_VIRTUAL,
                  TD(T_GENERIC), BLOB(sig_static_void), NULL, 0 } },
    { MD(0x1a), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_STATIC, TD(T_CLASS), BLOB(sig_take_object), NULL, 0 } },
    /* Span`1::get_Item, which the JIT expands in place, and a plain method of the same shape */
    { MD(0x1b), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_INTRINSIC, TD(T_REFSTRUCT), BLOB(sig_item),
                  NULL, 0 } },
    { MR(4), { ILG_MEMBER_METHOD, ILG_MEMBER_CTOR, 0x1B000002, BLOB(sig_ctor_object), NULL, 0 } },
    { MD(0x1c), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN, TD(T_REFSTRUCT), BLOB(sig_item), NULL, 0 } },
    /* S's virtual method (an interface's implementation) */
    { MD(0x1e), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_VIRTUAL, TD(T_STRUCT), BLOB(sig_get), NULL, 0 } },
    /* C's override of one of System.Object's virtual methods (GetHashCode) */
    { MD(0x1d), { ILG_MEMBER_METHOD, ILG_MEMBER_KNOWN | ILG_MEMBER_VIRTUAL | ILG_MEMBER_BASE_SLOT, TD(T_CLASS),
                  BLOB(sig_get), NULL, 0 } },
};

static bool known_table(uint32_t token, const uint8_t *tables, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((token >> 24) == tables[i])
            return true;
    return false;
}

static ilg_status f_type(void *ctx, uint32_t token, ilg_type_facts *out)
{
    static const uint8_t t[] = { ILG_TBL_TypeDef, ILG_TBL_TypeRef, ILG_TBL_TypeSpec };
    (void)ctx;
    if (!known_table(token, t, sizeof t))
        return ILG_E_INVALID_ARG;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].token == token) {
            *out = types[i].facts;
            return ILG_OK;
        }
    return ILG_E_NOT_FOUND;
}

static ilg_status f_member(void *ctx, uint32_t token, ilg_member_facts *out)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        if (members[i].token == token) {
            *out = members[i].facts;
            return ILG_OK;
        }
    return ILG_E_NOT_FOUND;
}

static ilg_status f_signature(void *ctx, uint32_t token, const uint8_t **sig, uint32_t *len)
{
    (void)ctx;
    if (token == SIG(1)) {
        *sig = sig_locals;
        *len = sizeof sig_locals;
        return ILG_OK;
    }
    if (token == SIG(3)) {
        *sig = sig_n_locals;
        *len = sizeof sig_n_locals;
        return ILG_OK;
    }
    if (token == SIG(2)) {
        *sig = sig_calli;
        *len = sizeof sig_calli;
        return ILG_OK;
    }
    return ILG_E_NOT_FOUND;
}

static ilg_status f_string(void *ctx, uint32_t token)
{
    (void)ctx;
    return (token & 0xFFFFFF) == 1 ? ILG_OK : ILG_E_NOT_FOUND;
}

static ilg_body *TB;
static ilg_findings TF;

static void tsetup(void)
{
    ck_assert_int_eq(ilg_body_new(&TB), ILG_OK);
    memset(&TF, 0, sizeof TF);
}

static void tteardown(void)
{
    ilg_body_free(TB);
    ilg_findings_free(&TF);
}

/* Assembles text (with `.locals 0x11000001`) as the body of method and verifies it. */
static void check_at(ilg_verify_level level, uint32_t method, const char *text)
{
    static int ctx;
    const ilg_type_resolver r = { f_type, f_member, f_signature, f_string, &ctx, method };
    const ilg_verify_options o = { level, NULL, &r };
    ilg_status st = ilg_body_assemble(TB, text, strlen(text), NULL);
    ck_assert_msg(st == ILG_OK, "assemble: %s", ilg_last_diag()->message);
    TB->max_stack = 8;
    ck_assert_int_eq(ilg_body_verify_opts(TB, &o, &TF), ILG_OK);
}

static void check(const char *text)
{
    check_at(ILG_VERIFY_JIT, MD(0x10), text);
}

static const ilg_finding *finding(ilg_status rule, uint32_t offset)
{
    for (uint32_t i = 0; i < TF.count; i++)
        if (TF.items[i].rule == rule && TF.items[i].offset == offset)
            return &TF.items[i];
    return NULL;
}

#define EXPECT(rl, off, outc)                                                                   \
    do {                                                                                        \
        const ilg_finding *x_ = finding(rl, off);                                               \
        ck_assert_msg(x_, "expected %s at 0x%x; %u findings, first %s: %s", #rl, (unsigned)(off), \
                      TF.count, TF.count ? ilg_status_name(TF.items[0].rule) : "-",            \
                      TF.count ? TF.items[0].message : "");                                     \
        ck_assert_msg(x_->outcome == (outc), "%s: outcome %d, expected %d (%s)", #rl, x_->outcome, \
                      (int)(outc), x_->message);                                                \
        ck_assert_int_eq(x_->severity, ILG_SEVERITY_ERROR);                                     \
    } while (0)
#define EXPECT_CLEAN()                                                                          \
    ck_assert_msg(TF.errors == 0, "%u errors, first %s at 0x%x: %s", TF.errors,              \
                  TF.count ? ilg_status_name(TF.items[0].rule) : "-", TF.count ? TF.items[0].offset : 0, \
                  TF.count ? TF.items[0].message : "")

START_TEST(jit_local_and_argument_indexes)
{
    check(".locals 0x11000001\nldloc.3\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_LOCAL_INDEX, 0, ILG_OUTCOME_INVALID_PROGRAM);
    check(".locals 0x11000001\nldloca.s 7\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_LOCAL_INDEX, 0, ILG_OUTCOME_INVALID_PROGRAM);
    check(".locals 0x11000001\nldloc.2\npop\nret\n");
    EXPECT_CLEAN();
    check("ldarg.3\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_ARG_INDEX, 0, ILG_OUTCOME_INVALID_PROGRAM);
    check("ldarg.2\npop\nret\n");
    EXPECT_CLEAN();
    /* starg counts arguments and locals together: index 4 of 3 arguments and 3 locals
     * is stored into a local (accepted), index 6 is past both */
    check(".locals 0x11000001\nldc.i4.0\nstarg.s 4\nret\n");
    EXPECT_CLEAN();
    check(".locals 0x11000001\nldc.i4.0\nstarg.s 6\nret\n");
    EXPECT(ILG_E_IL_VERIFY_ARG_INDEX, 1, ILG_OUTCOME_INVALID_PROGRAM);
}
END_TEST

START_TEST(jit_token_tables_and_rows)
{
    check("call 0x04000001\nret\n");
    EXPECT(ILG_E_IL_VERIFY_TOKEN_KIND, 0, ILG_OUTCOME_BAD_IMAGE);
    check("ldsfld 0x06000007\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_TOKEN_KIND, 0, ILG_OUTCOME_BAD_IMAGE);
    check("ldc.i4.1\nnewarr 0x06000001\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_TOKEN_KIND, 1, ILG_OUTCOME_BAD_IMAGE);
    check("call 0x06000077\nret\n");
    EXPECT(ILG_E_IL_VERIFY_TOKEN_ROW, 0, ILG_OUTCOME_BAD_IMAGE);
    check("ldsfld 0x04000077\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_TOKEN_ROW, 0, ILG_OUTCOME_LOAD_ERROR);
    /* ldtoken looks a member up as its use does: a field past the table or row 0 is a
     * load error (MissingFieldException, TypeLoadException of "Invalid_Token") */
    check("ldtoken 0x04000077\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_TOKEN_ROW, 0, ILG_OUTCOME_LOAD_ERROR);
    check("ldtoken 0x04000000\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_TOKEN_ROW, 0, ILG_OUTCOME_LOAD_ERROR);
    check("ldtoken 0x06000077\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_TOKEN_ROW, 0, ILG_OUTCOME_BAD_IMAGE);
    check("ldnull\nisinst 0x02000077\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_TOKEN_ROW, 1, ILG_OUTCOME_LOAD_ERROR);
    check(".locals 0x11000001\nldstr 0x70000002\nstloc.2\nret\n");
    EXPECT(ILG_E_IL_VERIFY_TOKEN_ROW, 0, ILG_OUTCOME_BAD_IMAGE);
    /* a literal dropped at once, or tested by a branch the JIT decides, is never made */
    check("ldstr 0x70000002\npop\nret\n");
    EXPECT_CLEAN();
    check("ldstr 0x70000002\nbrtrue.s L\nL: ret\n");
    EXPECT_CLEAN();
    /* the runtime reads a user string's offset whatever the table byte */
    check(".locals 0x11000001\nldstr 0x70000001\nstloc.2\nldstr 0x02000001\nstloc.2\nret\n");
    EXPECT_CLEAN();
    /* in a block that ends in throw the literal is looked up when it runs */
    check("ldstr 0x70000002\nthrow\n");
    EXPECT_CLEAN();
    /* a handler is no rarely run block: there the literal is looked up as it compiles */
    check(".locals 0x11000001\nT: leave.s E\nH: ldstr 0x70000002\nstloc.2\nendfinally\nE: ret\n"
          ".try T to H finally handler H to E\n");
    EXPECT(ILG_E_IL_VERIFY_TOKEN_ROW, 2, ILG_OUTCOME_BAD_IMAGE);
    check("call 0x06000007\nret\n");
    EXPECT_CLEAN();
}
END_TEST

START_TEST(jit_members_of_the_wrong_kind)
{
    check("newobj 0x06000007\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_MEMBER, 0, ILG_OUTCOME_INVALID_PROGRAM);
    check("newobj 0x06000006\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_MEMBER, 0, ILG_OUTCOME_OTHER_EXCEPTION);
    check("newobj 0x06000001\npop\nret\n");
    EXPECT_CLEAN();
    check("ldsfld 0x04000002\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_MEMBER, 0, ILG_OUTCOME_INVALID_PROGRAM);
    check("ldsfld 0x04000001\npop\nret\n");
    EXPECT_CLEAN();
    check("ldsfld 0x04000003\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_MEMBER, 0, ILG_OUTCOME_LOAD_ERROR);
    check("ldnull\nldvirtftn 0x06000007\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_MEMBER, 1, ILG_OUTCOME_LOAD_ERROR);
    check("callvirt 0x06000007\nret\n");
    EXPECT(ILG_E_IL_VERIFY_MEMBER, 0, ILG_OUTCOME_LOAD_ERROR);
    check("ldnull\ncall 0x06000004\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_MEMBER, 1, ILG_OUTCOME_BAD_IMAGE);
    check("ldnull\ncallvirt 0x06000004\npop\nret\n");
    EXPECT_CLEAN();
    check("call 0x0a000001\nret\n");
    EXPECT(ILG_E_IL_VERIFY_MEMBER, 0, ILG_OUTCOME_BAD_IMAGE);
    check("ldc.i4.0\ncall 0x06000005\nret\n");
    EXPECT(ILG_E_IL_VERIFY_MEMBER, 1, ILG_OUTCOME_INVALID_PROGRAM);
    check("ldc.i4.0\ncall 0x2b000001\nret\n");
    EXPECT_CLEAN();
    /* the instantiation types the argument: G<int32>(string) is refused */
    check("ldstr 0x70000001\ncall 0x2b000001\nret\n");
    EXPECT(ILG_E_IL_VERIFY_CALL_ARG, 5, ILG_OUTCOME_INVALID_PROGRAM);
    check("newobj 0x06000009\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_MEMBER, 0, ILG_OUTCOME_LOAD_ERROR);
}
END_TEST

/* Take(int32, int64, float64, object, int32&, S) with the arguments in args. */
static void call_take(const char *args)
{
    char text[512];
    snprintf(text, sizeof text, ".locals 0x11000001\n%s\ncall 0x06000003\nret\n", args);
    check(text);
}

START_TEST(jit_call_arguments)
{
    const char *good = "ldarg.0\nldc.i8 1\nldc.r8 1\nldarg.1\nldloca.s 0\nldloc.1";
    call_take(good);
    EXPECT_CLEAN();
    /* an int32 for the int64 and a native int for the int32 pass (one type on x64),
     * a float32 for the float64, a native int for the managed pointer */
    call_take("ldarg.0\nconv.i\nldc.i4.1\nldc.r4 1\nldnull\nldc.i4.0\nconv.i\nldloc.1");
    EXPECT_CLEAN();
    call_take("ldarg.1\nldc.i8 1\nldc.r8 1\nldarg.1\nldloca.s 0\nldloc.1");
    EXPECT(ILG_E_IL_VERIFY_CALL_ARG, 0x17, ILG_OUTCOME_INVALID_PROGRAM); /* object for int32 */
    call_take("ldarg.0\nldc.i8 1\nldc.i4.1\nldarg.1\nldloca.s 0\nldloc.1");
    EXPECT(ILG_E_IL_VERIFY_CALL_ARG, 0xf, ILG_OUTCOME_INVALID_PROGRAM); /* int32 for float64 */
    call_take("ldarg.0\nldc.i8 1\nldc.r8 1\nldloca.s 0\nldloca.s 0\nldloc.1");
    EXPECT(ILG_E_IL_VERIFY_CALL_ARG, 0x18, ILG_OUTCOME_INVALID_PROGRAM); /* byref for object */
    call_take("ldarg.0\nldc.i8 1\nldc.r8 1\nldloc.1\nldloca.s 0\nldloc.1");
    EXPECT(ILG_E_IL_VERIFY_CALL_ARG, 0x17, ILG_OUTCOME_INVALID_PROGRAM); /* struct for object */
    call_take("ldarg.0\nldc.i8 1\nldc.r8 1\nldarg.1\nldc.i4.0\nldloc.1");
    EXPECT(ILG_E_IL_VERIFY_CALL_ARG, 0x16, ILG_OUTCOME_INVALID_PROGRAM); /* int32 for byref */
    call_take("ldarg.0\nldc.i8 1\nldc.r8 1\nldarg.1\nldloca.s 0\nldc.i4.0");
    EXPECT(ILG_E_IL_VERIFY_CALL_ARG, 0x17, ILG_OUTCOME_INVALID_PROGRAM); /* int32 for struct */
    /* a bool argument is a small type: not an int64 to the JIT */
    check("ldarg.2\ncall 0x06000008\nret\n");
    EXPECT(ILG_E_IL_VERIFY_CALL_ARG, 1, ILG_OUTCOME_INVALID_PROGRAM);
    check("ldarg.0\ncall 0x06000008\nret\n");
    EXPECT_CLEAN();
    /* calli takes its signature from a StandAloneSig */
    check("ldc.r8 1\nldnull\ncalli 0x11000002\nret\n");
    EXPECT(ILG_E_IL_VERIFY_CALL_ARG, 0xa, ILG_OUTCOME_INVALID_PROGRAM);
    check("ldc.i4.1\nldnull\ncalli 0x06000007\nret\n");
    EXPECT(ILG_E_IL_VERIFY_TOKEN_KIND, 2, ILG_OUTCOME_BAD_IMAGE);
}
END_TEST

START_TEST(jit_this_and_value_types)
{
    /* an instance method of S called on an S value instead of its address */
    check(".locals 0x11000001\nldloc.1\ncall 0x06000002\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_THIS, 1, ILG_OUTCOME_CRASH);
    check(".locals 0x11000001\nldloca.s 1\ncall 0x06000002\npop\nret\n");
    EXPECT_CLEAN();
    check(".locals 0x11000001\nldloc.1\nisinst 0x02000001\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 1, ILG_OUTCOME_CRASH);
    check(".locals 0x11000001\nldloc.1\nthrow\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 1, ILG_OUTCOME_CRASH);
    check(".locals 0x11000001\nldloc.1\nnewarr 0x02000001\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 1, ILG_OUTCOME_CRASH);
    check(".locals 0x11000001\nldloc.1\nswitch (L)\nL: ret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 1, ILG_OUTCOME_CRASH);
    check(".locals 0x11000001\nldloc.1\nbrtrue.s L\nL: ret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 1, ILG_OUTCOME_INVALID_PROGRAM);
    check(".locals 0x11000001\nldloc.1\nconv.r8\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 1, ILG_OUTCOME_INVALID_PROGRAM);
    check(".locals 0x11000001\nldloc.1\nldflda 0x04000002\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 1, ILG_OUTCOME_INVALID_PROGRAM);
    /* ldfld (not ldflda) of a value type's field on the value itself is fine */
    check(".locals 0x11000001\nldloc.1\nldfld 0x04000002\npop\nret\n");
    EXPECT_CLEAN();
    /* an enum is its underlying type: brtrue and arithmetic take it */
    check("ldsfld 0x04000001\nbox 0x02000004\nunbox.any 0x02000004\nbrtrue.s L\nL: ret\n");
    EXPECT_CLEAN();
}
END_TEST

START_TEST(jit_operators)
{
    /* a bitwise operation whose first operand is a float has no code on x64 */
    check("ldc.r8 1\nldarg.0\nand\nstarg.s 0\nret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 0xa, ILG_OUTCOME_INVALID_PROGRAM);
    check("ldc.r8 1\nldarg.0\nshl\nstarg.s 0\nret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 0xa, ILG_OUTCOME_INVALID_PROGRAM);
    /* typed by its first operand: an int32 and a float is an int32 and */
    check("ldarg.0\nldc.r8 1\nand\nstarg.s 0\nret\n");
    EXPECT_CLEAN();
    /* dropped at once, the JIT never generates it */
    check("ldc.r8 1\nldarg.0\nand\npop\nret\n");
    EXPECT_CLEAN();
    /* a signed int32 division needs an integer divisor; unsigned does not care */
    check("ldarg.0\nldc.r8 2\ndiv\nstarg.s 0\nret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 0xa, ILG_OUTCOME_INVALID_PROGRAM);
    check("ldarg.0\nldc.r8 2\ndiv.un\nstarg.s 0\nret\n");
    EXPECT_CLEAN();
    /* what the JIT takes that ECMA-335 does not: int32 plus object, a float stored to an int32 */
    check("ldarg.0\nldarg.1\nadd\npop\nldc.r8 1\nstarg.s 0\nret\n");
    EXPECT_CLEAN();
}
END_TEST

START_TEST(jit_stores_locals_and_prefixes)
{
    check(".locals 0x11000001\nldc.i4.1\nstloc.1\nret\n");
    EXPECT(ILG_E_IL_VERIFY_STORE, 1, ILG_OUTCOME_INVALID_PROGRAM);
    check(".locals 0x11000001\nldc.r8 1\nstloc.1\nret\n");
    EXPECT(ILG_E_IL_VERIFY_STORE, 9, ILG_OUTCOME_CRASH);
    check(".locals 0x11000001\nldloca.s 1\nldobj 0x02000002\nstloc.0\nret\n");
    EXPECT(ILG_E_IL_VERIFY_STORE, 7, ILG_OUTCOME_INVALID_PROGRAM);
    check(".locals 0x11000001\nldloca.s 1\nldobj 0x02000002\nstloc.1\nret\n");
    EXPECT_CLEAN();
    check("ldc.i4.0\nldc.i4.s 16\nlocalloc\npop\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_LOCALLOC, 3, ILG_OUTCOME_INVALID_PROGRAM);
    check("ldc.i4.s 16\nlocalloc\npop\nret\n");
    EXPECT_CLEAN();
    check("T: leave.s E\nH: ldc.i4.s 16\nlocalloc\npop\nendfinally\nE: ret\n"
          ".try T to H finally handler H to E\n");
    EXPECT(ILG_E_IL_VERIFY_LOCALLOC, 4, ILG_OUTCOME_INVALID_PROGRAM);
    check("arglist\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_ARGLIST, 0, ILG_OUTCOME_INVALID_PROGRAM);
    check_at(ILG_VERIFY_JIT, MD(0x12), "arglist\npop\nret\n");
    EXPECT_CLEAN();
    check("jmp 0x06000007\n");
    EXPECT(ILG_E_IL_VERIFY_JMP, 0, ILG_OUTCOME_INVALID_PROGRAM);
    check("jmp 0x06000010\n");
    EXPECT_CLEAN();
    check("no. 1\nnop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_PREFIX, 0, ILG_OUTCOME_INVALID_PROGRAM);
    /* a method that returns a value type returning an int32 */
    check_at(ILG_VERIFY_JIT, MD(0x11), "ldc.i4.0\nret\n");
    EXPECT(ILG_E_IL_VERIFY_RET_TYPE, 1, ILG_OUTCOME_CRASH);
    check_at(ILG_VERIFY_JIT, MD(0x11), ".locals 0x11000001\nldloc.1\nret\n");
    EXPECT_CLEAN();
}
END_TEST

/* What the runtime did with two mutants of the framework differential run
 * (docs/coreclr-observed.md, "What the JIT rejects"). */
START_TEST(jit_value_type_locals_and_expanded_calls)
{
    /* a local's address stored into a value-type local (Hello's Main, its GCHandle
     * local): the JIT crashed */
    check(".locals 0x11000001\nldloca.s 0\nstloc.1\nret\n");
    EXPECT(ILG_E_IL_VERIFY_STORE, 2, ILG_OUTCOME_CRASH);
    check(".locals 0x11000001\nldloca.s 1\nldobj 0x02000002\nstloc.1\nret\n");
    EXPECT_CLEAN();
    /* Span.get_Item with an int32 for `this` and a local's address for the index: at
     * tier 0 the JIT expands it in place without checking either (it compiled); a call
     * it does not expand is checked, and the address for the int32 is refused */
    check(".locals 0x11000001\nldc.i4.1\nldloca.s 0\ncall 0x0600001b\nldind.i4\npop\nret\n");
    EXPECT_CLEAN();
    check(".locals 0x11000001\nldc.i4.1\nldloca.s 0\ncall 0x0600001c\nldind.i4\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_CALL_ARG, 3, ILG_OUTCOME_INVALID_PROGRAM);
    check(".locals 0x11000001\nldloca.s 1\nldc.i4.0\ncall 0x0600001c\nldind.i4\npop\nret\n");
    EXPECT_CLEAN();
}
END_TEST

START_TEST(levels_and_outcome)
{
    /* strict: the ECMA-335 findings come as warnings, beside the JIT's errors; an object
     * on one path and an int32 on the other merge in the JIT */
    const char *merge = "ldarg.0\nbrtrue.s A\nldnull\nbr.s B\nA: ldc.i4.1\nB: pop\nret\n";
    check_at(ILG_VERIFY_STRICT, MD(0x10), merge);
    const ilg_finding *w = finding(ILG_E_IL_VERIFY_TYPE_MERGE, 7);
    ck_assert_msg(w != NULL, "no TYPE_MERGE warning");
    ck_assert_int_eq(w->severity, ILG_SEVERITY_WARNING);
    ck_assert_uint_eq(TF.errors, 0);
    ck_assert_int_eq(TF.outcome, ILG_OUTCOME_NONE);
    check(merge);
    ck_assert_uint_eq(TF.count, 0);
    /* ... but the merged value, an object or an int32, is no int64 argument */
    check("ldarg.0\nbrtrue.s A\nldnull\nbr.s B\nA: ldc.i4.1\nB: call 0x06000008\nret\n");
    EXPECT(ILG_E_IL_VERIFY_CALL_ARG, 7, ILG_OUTCOME_INVALID_PROGRAM);
    check_at(ILG_VERIFY_STRICT, MD(0x10), "ldc.i4.s 16\nlocalloc\npop\nldc.r8 1\nstarg.s 0\nret\n");
    ck_assert(finding(ILG_E_IL_VERIFY_UNVERIFIABLE, 2) != NULL);
    ck_assert(finding(ILG_E_IL_VERIFY_STORE, 0xe) != NULL);
    ck_assert_uint_eq(TF.errors, 0);
    /* structural checks none of the type rules */
    check_at(ILG_VERIFY_STRUCTURAL, MD(0x10), "ldloc.3\npop\nret\n");
    ck_assert_uint_eq(TF.count, 0);
    /* the outcome is that of the fault the runtime meets first: the token of an
     * instruction before its operands */
    check("ldarg.1\ncallvirt 0x06000007\nret\n");
    ck_assert_int_eq(TF.outcome, ILG_OUTCOME_LOAD_ERROR);
    check(".locals 0x11000001\nldloc.3\nldloc.1\nthrow\n");
    ck_assert_int_eq(TF.outcome, ILG_OUTCOME_INVALID_PROGRAM);
}
END_TEST

START_TEST(jit_generic_context_and_value_type_objects)
{
    /* G`1<!0> in a method of the non-generic C: no !0 to instantiate it with */
    check("newobj 0x0a000003\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_TYPE_PARAM, 0, ILG_OUTCOME_BAD_IMAGE);
    /* newobj of an instantiation of an abstract class, with an int32 for its object
     * parameter: InvalidOperationException before the argument is looked at
     * (FrozenSetInternalBase`2<...>::.ctor, seed-29 run) */
    check("ldc.i4.1\nnewobj 0x0a000004\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_MEMBER, 1, ILG_OUTCOME_OTHER_EXCEPTION);
    ck_assert_int_eq(TF.outcome, ILG_OUTCOME_OTHER_EXCEPTION);
    check("ldtoken 0x0a000003\npop\nret\n"); /* ldtoken of it too (CallSite`1<!!0...>::Target) */
    EXPECT(ILG_E_IL_VERIFY_TYPE_PARAM, 0, ILG_OUTCOME_BAD_IMAGE);
    /* stfld on a value type itself, not its address */
    check(".locals 0x11000001\nldloc.1\nldc.i4.0\nstfld 0x04000002\nret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 2, ILG_OUTCOME_CRASH);
    check(".locals 0x11000001\nldloca.s 1\nldc.i4.0\nstfld 0x04000002\nret\n");
    EXPECT_CLEAN();
    /* an array of a ref struct cannot be created */
    check("ldc.i4.1\nnewarr 0x02000007\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 1, ILG_OUTCOME_LOAD_ERROR);
    /* unsigned division of a float by an int32 compiles, but not by a power-of-two
     * constant (the JIT makes it a shift or mask), unless dropped */
    check("ldc.r4 1\nldarg.0\ndiv.un\nstarg.s 0\nret\n");
    EXPECT_CLEAN();
    check("ldc.r8 1\nldarg.0\ndiv.un\nstarg.s 0\nret\n");
    EXPECT_CLEAN();
    check_at(ILG_VERIFY_JIT, MD(0x16), "ldarg.1\nldc.i4.4\ndiv.un\nstarg.s 1\nret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 2, ILG_OUTCOME_INVALID_PROGRAM);
    check_at(ILG_VERIFY_JIT, MD(0x16), "ldarg.1\nldc.i4.1\nrem.un\nstarg.s 1\nret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 2, ILG_OUTCOME_INVALID_PROGRAM);
    check_at(ILG_VERIFY_JIT, MD(0x16), "ldarg.1\nldc.i4.3\nrem.un\nstarg.s 1\nret\n");
    EXPECT_CLEAN();
    check_at(ILG_VERIFY_JIT, MD(0x16), "ldarg.1\nldc.i4.1\nrem.un\npop\nret\n");
    EXPECT_CLEAN();
    /* xor of a float with zero is folded away; with anything else it is refused */
    check_at(ILG_VERIFY_JIT, MD(0x16), "ldarg.1\nldc.i4.0\nxor\nstarg.s 1\nret\n");
    EXPECT_CLEAN();
    check_at(ILG_VERIFY_JIT, MD(0x16), ".locals 0x11000003\nldc.r8 1\nldnull\nxor\nstloc.2\nret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 10, ILG_OUTCOME_INVALID_PROGRAM);
    check_at(ILG_VERIFY_JIT, MD(0x16), "ldarg.1\nldc.i4.1\nxor\nstarg.s 1\nret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 2, ILG_OUTCOME_INVALID_PROGRAM);
    /* null plus an integer constant is a managed pointer constant to the JIT: an object
     * (or int32) parameter refuses it, an object argument takes it */
    check("ldnull\nldc.i4.7\nadd.ovf\ncall 0x0600001a\nret\n");
    EXPECT(ILG_E_IL_VERIFY_CALL_ARG, 3, ILG_OUTCOME_INVALID_PROGRAM);
    check("ldarg.1\nldc.i4.7\nadd.ovf\ncall 0x0600001a\nret\n");
    EXPECT_CLEAN();
    check("ldnull\nldc.i4.7\nadd.ovf\nstarg.s 1\nret\n");
    EXPECT_CLEAN();
    /* constrained. before a plain static method */
    check("constrained. 0x02000002\ncall 0x06000007\nret\n");
    EXPECT(ILG_E_IL_VERIFY_PREFIX, 6, ILG_OUTCOME_CRASH);
    /* a value type as `this` of a class's method: refused, or fatal for a virtual one */
    check(".locals 0x11000001\nldloc.1\ncall 0x06000015\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_THIS, 1, ILG_OUTCOME_INVALID_PROGRAM);
    check(".locals 0x11000001\nldloc.1\ncallvirt 0x06000014\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_THIS, 1, ILG_OUTCOME_CRASH);
    /* readonly. before a call (an array's Address method) */
    check("ldnull\nreadonly.\ncallvirt 0x06000014\npop\nret\n");
    EXPECT_CLEAN();
    /* a catch clause that names no type */
    check("T: leave.s E\nH: pop\nleave.s E\nE: ret\n.try T to H catch 0x00000000 handler H to E\n");
    EXPECT(ILG_E_IL_VERIFY_TOKEN_KIND, 2, ILG_OUTCOME_INVALID_PROGRAM);
}
END_TEST

/* What the JIT never imports is never held against a body: the edge a constant
 * condition does not take (its importer folds the branch, even at tier 0) and the
 * handlers of a try block no path enters. */
START_TEST(jit_code_the_jit_does_not_import)
{
    check(".locals 0x11000001\nldc.i4.1\nbrtrue.s L\nldloc.s 9\npop\nL: ret\n");
    EXPECT_CLEAN();
    check(".locals 0x11000001\nldc.i4.0\nbrtrue.s L\nldloc.s 9\npop\nL: ret\n");
    EXPECT(ILG_E_IL_VERIFY_LOCAL_INDEX, 3, ILG_OUTCOME_INVALID_PROGRAM);
    /* arithmetic, comparisons and conversions of constants fold; a null is false */
    check(".locals 0x11000001\nldc.i4.1\nldc.i4.1\nadd\nconv.i8\nldc.i8 2\nbeq.s L\nldloc.s 9\npop\nL: ret\n");
    EXPECT_CLEAN();
    check(".locals 0x11000001\nldnull\nbrfalse.s L\nldloc.s 9\npop\nL: ret\n");
    EXPECT_CLEAN();
    check(".locals 0x11000001\nldc.i4.1\nldc.i4.2\nbge.s L\nldloc.s 9\npop\nL: ret\n");
    EXPECT(ILG_E_IL_VERIFY_LOCAL_INDEX, 4, ILG_OUTCOME_INVALID_PROGRAM);
    /* a constant of another block reaches the branch through a temporary: not decided */
    check(".locals 0x11000001\nldc.i4.1\nldarg.0\nbrtrue.s M\nM: brtrue.s L\nldloc.s 9\npop\nL: ret\n");
    EXPECT(ILG_E_IL_VERIFY_LOCAL_INDEX, 6, ILG_OUTCOME_INVALID_PROGRAM);
    /* nor is a division by zero, nor a switch */
    check(".locals 0x11000001\nldc.i4.1\nldc.i4.0\ndiv\nbrtrue.s L\nldloc.s 9\npop\nL: ret\n");
    EXPECT(ILG_E_IL_VERIFY_LOCAL_INDEX, 5, ILG_OUTCOME_INVALID_PROGRAM);
    check(".locals 0x11000001\nldc.i4.1\nswitch (A, L)\nret\nA: ldloc.s 9\npop\nL: ret\n");
    EXPECT(ILG_E_IL_VERIFY_LOCAL_INDEX, 15, ILG_OUTCOME_INVALID_PROGRAM);
    /* the handler of a try block no path enters */
    check(".locals 0x11000001\nbr.s L\nT: leave.s L\nH: ldloc.s 9\npop\nleave.s L\nL: ret\n"
          ".try T to H catch 0x02000001 handler H to L\n");
    EXPECT_CLEAN();
    check(".locals 0x11000001\nT: leave.s L\nH: ldloc.s 9\npop\nleave.s L\nL: ret\n"
          ".try T to H catch 0x02000001 handler H to L\n");
    EXPECT(ILG_E_IL_VERIFY_LOCAL_INDEX, 2, ILG_OUTCOME_INVALID_PROGRAM);
    /* but ldarga and ldloca indexes are checked in all code (as the JIT scans the IL) */
    check("ret\nldarga.s 9\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_ARG_INDEX, 1, ILG_OUTCOME_INVALID_PROGRAM);
    check(".locals 0x11000001\nldc.i4.1\nbrtrue.s L\nldloca.s 9\npop\nL: ret\n");
    EXPECT(ILG_E_IL_VERIFY_LOCAL_INDEX, 3, ILG_OUTCOME_INVALID_PROGRAM);
    check(".locals 0x11000001\nret\nldc.i4.0\nstarg.s 40\nldarg.s 9\nstloc.s 9\nret\n");
    EXPECT_CLEAN();
}
END_TEST

/* Each expected verdict here is what CoreCLR 10.0.12's JIT did with the same body in
 * fixtures/slots.dll (tests/bench/probe_jit; docs/coreclr-observed.md). */
START_TEST(jit_sixteen_bit_stores_and_method_pointers)
{
    const uint32_t n = MD(0x16);
    /* a float into a 16-bit argument, static field, instance field, element, or through
     * an address other than a 16-bit local's crashes the JIT */
    check_at(ILG_VERIFY_JIT, n, "ldarg.1\nstarg.s 0\nret\n");
    EXPECT(ILG_E_IL_VERIFY_STORE, 1, ILG_OUTCOME_CRASH);
    check_at(ILG_VERIFY_JIT, n, "ldarg.1\nstsfld 0x04000005\nret\n");
    EXPECT(ILG_E_IL_VERIFY_STORE, 1, ILG_OUTCOME_CRASH);
    check_at(ILG_VERIFY_JIT, n, "newobj 0x06000001\nldarg.1\nstfld 0x04000006\nret\n");
    EXPECT(ILG_E_IL_VERIFY_STORE, 6, ILG_OUTCOME_CRASH);
    check_at(ILG_VERIFY_JIT, n, "ldnull\nldc.i4.0\nldarg.1\nstelem.i2\nret\n");
    EXPECT(ILG_E_IL_VERIFY_STORE, 3, ILG_OUTCOME_CRASH);
    check_at(ILG_VERIFY_JIT, n, "ldarg.2\nldarg.1\nstind.i2\nret\n");
    EXPECT(ILG_E_IL_VERIFY_STORE, 2, ILG_OUTCOME_CRASH);
    check_at(ILG_VERIFY_JIT, n, "ldarga.s 0\nldarg.1\nstind.i2\nret\n");
    EXPECT(ILG_E_IL_VERIFY_STORE, 3, ILG_OUTCOME_CRASH);
    check_at(ILG_VERIFY_JIT, n, ".locals 0x11000003\nldloca.s 1\nldarg.1\nstind.i2\nret\n");
    EXPECT(ILG_E_IL_VERIFY_STORE, 3, ILG_OUTCOME_CRASH);
    /* into a local, a 16-bit local's address, 8 or 32 bits: compiled */
    check_at(ILG_VERIFY_JIT, n, ".locals 0x11000003\nldarg.1\nstloc.0\nret\n");
    EXPECT_CLEAN();
    check_at(ILG_VERIFY_JIT, n, ".locals 0x11000003\nldloca.s 0\nldarg.1\nstind.i2\nret\n");
    EXPECT_CLEAN();
    check_at(ILG_VERIFY_JIT, n, "ldarg.2\nldarg.1\nstind.i4\nret\n");
    EXPECT_CLEAN();
    check_at(ILG_VERIFY_JIT, n, "ldnull\nldc.i4.0\nldarg.1\nstelem.i1\nret\n");
    EXPECT_CLEAN();
    /* any method's pointer in an object-reference local crashes it; in an argument not */
    check_at(ILG_VERIFY_JIT, n, ".locals 0x11000003\nldftn 0x06000007\nstloc.2\nret\n");
    EXPECT(ILG_E_IL_VERIFY_STORE, 6, ILG_OUTCOME_CRASH);
    check_at(ILG_VERIFY_JIT, n, ".locals 0x11000003\nldnull\nldvirtftn 0x06000015\nstloc.2\nret\n");
    EXPECT(ILG_E_IL_VERIFY_STORE, 7, ILG_OUTCOME_CRASH);
    check_at(ILG_VERIFY_JIT, n, "ldftn 0x06000007\nstarg.s 3\nret\n");
    EXPECT_CLEAN();
}
END_TEST

/* Call shapes for the one call below: an instance method with no parameters. */
static ilg_status shape_of_ctor(void *ctx, uint32_t token, uint32_t *pops, bool *has_this, bool *pushes)
{
    (void)ctx;
    (void)token;
    *pops = 1;
    *has_this = true;
    *pushes = false;
    return ILG_OK;
}

/* Call shapes for the getters below: no parameters, a value returned. */
static ilg_status shape_of_getter(void *ctx, uint32_t token, uint32_t *pops, bool *has_this, bool *pushes)
{
    (void)ctx;
    (void)token;
    *pops = 0;
    *has_this = false;
    *pushes = true;
    return ILG_OK;
}

/* check(), with a stack resolver that gives every call the shape of shape(). */
static void check_shaped(const char *text, ilg_status (*shape)(void *, uint32_t, uint32_t *, bool *, bool *))
{
    static int ctx;
    const ilg_type_resolver r = { f_type, f_member, f_signature, f_string, &ctx, MD(0x10) };
    const ilg_stack_resolver sr = { shape, NULL, 0 };
    const ilg_verify_options o = { ILG_VERIFY_JIT, &sr, &r };
    ck_assert_int_eq(ilg_body_assemble(TB, text, strlen(text), NULL), ILG_OK);
    TB->max_stack = 8;
    ck_assert_int_eq(ilg_body_verify_opts(TB, &o, &TF), ILG_OK);
}

START_TEST(jit_prefixes_handles_and_constants)
{
    /* unaligned. takes 1, 2 or 4 */
    check(".locals 0x11000001\nldloca.s 0\nunaligned. 3\nldind.i4\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_PREFIX, 2, ILG_OUTCOME_INVALID_PROGRAM);
    check(".locals 0x11000001\nldloca.s 0\nunaligned. 2\nldind.i4\npop\nret\n");
    EXPECT_CLEAN();
    /* a branch between a prefix and its instruction, even when no path reaches the prefix */
    check(".locals 0x11000001\nldloca.s 0\nbr.s T\nvolatile.\nT: ldind.i4\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_PREFIX, 2, ILG_OUTCOME_INVALID_PROGRAM);
    /* after constrained. (or unaligned.) only when the JIT imports the prefix */
    check("ldarg.1\nbr.s T\nconstrained. 0x02000001\nT: callvirt 0x06000014\npop\nret\n");
    EXPECT_CLEAN();
    check("ldarg.1\nldarg.0\nbrtrue.s T\nconstrained. 0x02000001\nT: callvirt 0x06000014\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_PREFIX, 2, ILG_OUTCOME_INVALID_PROGRAM);
    /* constrained. to a value type before a plain static method crashes; to a class not */
    check("constrained. 0x02000001\ncall 0x06000007\nret\n");
    EXPECT_CLEAN();
    check("constrained. 0x02000003\ncall 0x06000007\nret\n"); /* a class not the method's own */
    EXPECT(ILG_E_IL_VERIFY_PREFIX, 6, ILG_OUTCOME_CRASH);
    check("constrained. 0x02000004\ncall 0x06000007\nret\n"); /* an enum */
    EXPECT(ILG_E_IL_VERIFY_PREFIX, 6, ILG_OUTCOME_CRASH);
    check("constrained. 0x02000005\ncall 0x06000007\nret\n"); /* an interface (IStructuralComparable) */
    EXPECT(ILG_E_IL_VERIFY_PREFIX, 6, ILG_OUTCOME_CRASH);
    /* constrained. to a value type before a call of a class's virtual method: the runtime
     * finds the method's slot in the value type's table (InvalidProgramException most
     * often); an enum, a method that is not virtual, a slot of Object's: it compiles */
    check("ldarg.1\nconstrained. 0x02000002\ncallvirt 0x06000014\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_PREFIX, 7, ILG_OUTCOME_INVALID_PROGRAM);
    check("ldarg.1\nconstrained. 0x02000002\ncall 0x06000014\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_PREFIX, 7, ILG_OUTCOME_INVALID_PROGRAM);
    check("ldarg.1\nconstrained. 0x01000001\ncallvirt 0x06000014\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_PREFIX, 7, ILG_OUTCOME_INVALID_PROGRAM);
    check("ldarg.1\nconstrained. 0x02000004\ncallvirt 0x06000014\npop\nret\n");
    EXPECT_CLEAN();
    check("ldarg.1\nconstrained. 0x02000002\ncallvirt 0x06000015\npop\nret\n");
    EXPECT_CLEAN();
    check("ldarg.1\nconstrained. 0x02000002\ncallvirt 0x0600001d\npop\nret\n");
    EXPECT_CLEAN();
    check("ldarg.1\nconstrained. 0x02000001\ncallvirt 0x06000014\npop\nret\n");
    EXPECT_CLEAN();
    /* a value type's virtual method after constrained. to another value type (an enum):
     * crash; to its own type it is the ordinary constrained call */
    check(".locals 0x11000001\nldloca.s 1\nconstrained. 0x02000004\ncallvirt 0x0600001e\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_PREFIX, 8, ILG_OUTCOME_CRASH);
    check(".locals 0x11000001\nldloca.s 1\nconstrained. 0x02000002\ncallvirt 0x0600001e\npop\nret\n");
    EXPECT_CLEAN();
    /* a value type stored as an object reference element */
    check("ldc.i4.1\nnewarr 0x02000001\nldc.i4.0\nldtoken 0x02000001\nstelem.ref\nret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 0xc, ILG_OUTCOME_CRASH);
    /* a value type stored through an address by stind.ref (InvalidProgram); stind.i4 of
     * one retypes it and compiles */
    check(".locals 0x11000001\nldloca.s 0\nldloc.1\nstind.ref\nret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 3, ILG_OUTCOME_INVALID_PROGRAM);
    check(".locals 0x11000001\nldloca.s 0\nldloc.1\nstind.i4\nret\n");
    EXPECT_CLEAN();
    /* constrained. to an enum before a class's virtual method: no error (the slot in
     * System.Enum's table decides), a strict warning */
    check_at(ILG_VERIFY_STRICT, MD(0x10), "ldarg.1\nconstrained. 0x02000004\ncallvirt 0x06000014\npop\nret\n");
    EXPECT_CLEAN();
    const ilg_finding *w = finding(ILG_E_IL_VERIFY_PREFIX, 7);
    ck_assert_msg(w && w->severity == ILG_SEVERITY_WARNING && strstr(w->message, "System.Enum's table"),
                  "no warning of System.Enum's table");
    /* constrained. to a ref struct before a class's method or another value type's
     * non-virtual one: the runtime would box it (InvalidProgram) */
    check("ldarg.1\nconstrained. 0x02000007\ncallvirt 0x06000015\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_PREFIX, 7, ILG_OUTCOME_INVALID_PROGRAM);
    check(".locals 0x11000001\nldloca.s 1\nconstrained. 0x02000007\ncall 0x06000002\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_PREFIX, 8, ILG_OUTCOME_INVALID_PROGRAM);
    /* refanyval of an object reference */
    check("ldarg.1\nrefanyval 0x02000002\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_OPERAND, 1, ILG_OUTCOME_INVALID_PROGRAM);
    /* a runtime handle returned for another value type */
    check_at(ILG_VERIFY_JIT, MD(0x11), "ldtoken 0x02000001\nret\n");
    EXPECT(ILG_E_IL_VERIFY_RET_TYPE, 5, ILG_OUTCOME_INVALID_PROGRAM);
    /* a branch on Vector128.IsHardwareAccelerated is decided as the JIT imports it (with
     * call shapes, as ilgraft verify and the host have them) */
    check_shaped(".locals 0x11000001\ncall 0x06000017\nbrfalse.s L\nldloc.0\npop\nret\nL: ldloc.s 9\npop\nret\n",
                 shape_of_getter);
    EXPECT_CLEAN();
    check_shaped(".locals 0x11000001\ncall 0x06000018\nbrfalse.s L\nldloc.s 9\npop\nL: ret\n", shape_of_getter);
    EXPECT_CLEAN();
    check_shaped(".locals 0x11000001\ncall 0x06000018\nbrtrue.s L\nldloc.s 9\npop\nL: ret\n", shape_of_getter);
    EXPECT(ILG_E_IL_VERIFY_LOCAL_INDEX, 7, ILG_OUTCOME_INVALID_PROGRAM);
    /* an abstract method of a generic type definition called directly: refused as abstract */
    check("newobj 0x06000019\npop\nret\n");
    EXPECT(ILG_E_IL_VERIFY_MEMBER, 0, ILG_OUTCOME_BAD_IMAGE);
    ck_assert_int_eq(TF.outcome, ILG_OUTCOME_BAD_IMAGE);
    /* an instance method of one with too few operands: the underflow comes first */
    check_shaped("call 0x06000009\nret\n", shape_of_ctor);
    EXPECT(ILG_E_IL_VERIFY_UNDERFLOW, 0, ILG_OUTCOME_INVALID_PROGRAM);
    EXPECT(ILG_E_IL_VERIFY_MEMBER, 0, ILG_OUTCOME_LOAD_ERROR);
    ck_assert_int_eq(TF.outcome, ILG_OUTCOME_INVALID_PROGRAM);
}
END_TEST

/* Registers these cases in the ilbody suite (test_ilbody.c). */
void ilbody_type_cases(Suite *s);
void ilbody_type_cases(Suite *s)
{
    TCase *tc = tcase_create("types");
    tcase_add_checked_fixture(tc, tsetup, tteardown);
    tcase_add_test(tc, jit_local_and_argument_indexes);
    tcase_add_test(tc, jit_token_tables_and_rows);
    tcase_add_test(tc, jit_members_of_the_wrong_kind);
    tcase_add_test(tc, jit_call_arguments);
    tcase_add_test(tc, jit_this_and_value_types);
    tcase_add_test(tc, jit_operators);
    tcase_add_test(tc, jit_stores_locals_and_prefixes);
    tcase_add_test(tc, jit_value_type_locals_and_expanded_calls);
    tcase_add_test(tc, levels_and_outcome);
    tcase_add_test(tc, jit_generic_context_and_value_type_objects);
    tcase_add_test(tc, jit_code_the_jit_does_not_import);
    tcase_add_test(tc, jit_sixteen_bit_stores_and_method_pointers);
    tcase_add_test(tc, jit_prefixes_handles_and_constants);
    suite_add_tcase(s, tc);
}
