/* test_ilbody.c: the ilbody module on bodies built byte by byte from ECMA-335 II.25.4
 * and Partition III: the opcode table, the decoder and each of its rejections, every
 * bug in the reference list of rewriter failures, each retargeting rule, every verifier
 * rule (a failing body and its fixed twin), the text round trip, and property tests of
 * random edits. Expected bytes and offsets are worked out by hand from the spec. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilgraft/ilbody.h"

static ilg_body *B, *S, *D;
static ilg_buffer out;
static ilg_findings F;

/* Test call tokens 0x0A00HPPQ: H has_this, PP argument count (with this), Q pushes. */
static ilg_status fake_shape(void *ctx, uint32_t token, uint32_t *pops, bool *has_this, bool *pushes)
{
    (void)ctx;
    if ((token >> 24) != 0x0A && (token >> 24) != 0x11)
        return ILG_E_NOT_FOUND;
    *pops = (token >> 4) & 0xFF;
    *has_this = (token >> 12) & 1;
    *pushes = token & 1;
    return ILG_OK;
}
static ilg_stack_resolver R = { fake_shape, NULL, 0 };
static ilg_stack_resolver RV = { fake_shape, NULL, 1 }; /* returns a value */

static void setup(void)
{
    ck_assert_int_eq(ilg_body_new(&B), ILG_OK);
    ck_assert_int_eq(ilg_body_new(&S), ILG_OK);
    ck_assert_int_eq(ilg_body_new(&D), ILG_OK);
    memset(&out, 0, sizeof out);
    memset(&F, 0, sizeof F);
}

static void teardown(void)
{
    ilg_body_free(B);
    ilg_body_free(S);
    ilg_body_free(D);
    free(out.data);
    ilg_findings_free(&F);
    B = S = D = NULL;
}

static void assemble(ilg_body *b, const char *text)
{
    ilg_status st = ilg_body_assemble(b, text, strlen(text), NULL);
    ck_assert_msg(st == ILG_OK, "assemble: %s: %s", ilg_status_name(st), ilg_last_diag()->message);
}

static void encode(ilg_body *b, ilg_encode_mode mode, const ilg_stack_resolver *r)
{
    ilg_status st = ilg_body_encode(b, mode, r, &out);
    ck_assert_msg(st == ILG_OK, "encode: %s: %s", ilg_status_name(st), ilg_last_diag()->message);
}

/* Decodes out into D and checks it verifies with no findings. */
static void redecode_clean(const ilg_stack_resolver *r)
{
    ilg_status st = ilg_body_decode(D, out.data, out.len);
    ck_assert_msg(st == ILG_OK, "re-decode: %s: %s", ilg_status_name(st), ilg_last_diag()->message);
    ck_assert_uint_eq(D->size, out.len);
    ck_assert_int_eq(ilg_body_verify(D, r, &F), ILG_OK);
    ck_assert_msg(F.count == 0, "%u findings, first %s: %s", F.count,
                  F.count ? ilg_status_name(F.items[0].rule) : "", F.count ? F.items[0].message : "");
}

static bool has_finding(ilg_status rule, uint32_t offset)
{
    for (uint32_t i = 0; i < F.count; i++)
        if (F.items[i].rule == rule && F.items[i].offset == offset)
            return true;
    return false;
}

static void verify_text(const char *text, const ilg_stack_resolver *r)
{
    assemble(B, text);
    ck_assert_int_eq(ilg_body_verify(B, r, &F), ILG_OK);
}

#define ASSERT_FINDING(rl, off)                                                              \
    ck_assert_msg(has_finding(rl, off), "expected %s at 0x%x; %u findings, first %s at 0x%x: %s", \
                  #rl, (unsigned)(off), F.count, F.count ? ilg_status_name(F.items[0].rule) : "-", \
                  F.count ? F.items[0].offset : 0, F.count ? F.items[0].message : "")
#define ASSERT_CLEAN()                                                                        \
    ck_assert_msg(F.count == 0, "%u findings, first %s at 0x%x: %s", F.count,                 \
                  F.count ? ilg_status_name(F.items[0].rule) : "", F.count ? F.items[0].offset : 0, \
                  F.count ? F.items[0].message : "")

static void expect_decode_error(const uint8_t *bytes, size_t len, ilg_status st, uint64_t offset)
{
    ilg_status got = ilg_body_decode(B, bytes, len);
    ck_assert_msg(got == st, "expected %s, got %s: %s", ilg_status_name(st), ilg_status_name(got),
                  ilg_last_diag()->message);
    ck_assert_int_eq(ilg_last_diag()->where, ILG_WHERE_IL);
    ck_assert_msg(ilg_last_diag()->offset == offset, "%s at 0x%llx, expected 0x%llx: %s",
                  ilg_status_name(st), (unsigned long long)ilg_last_diag()->offset,
                  (unsigned long long)offset, ilg_last_diag()->message);
    ck_assert_uint_eq(B->count, 0); /* a failed decode leaves an empty body */
}

/* ---- opcode table --------------------------------------------------------------------- */

START_TEST(opcode_table_matches_partition_iii)
{
    /* 218 instructions of System.Reflection.Emit.OpCodes (checked when the table was
     * written) plus `no.` (III.2.2), which Reflection.Emit leaves out. */
    ck_assert_int_eq(ILG_OP_COUNT, 219);
    bool seen[0x10000] = { false };
    for (int op = 0; op < ILG_OP_COUNT; op++) {
        const ilg_opcode_info *oi = ilg_opcode_get((ilg_opcode)op);
        ck_assert_ptr_nonnull(oi);
        ck_assert_msg(!seen[oi->encoding], "encoding 0x%x twice", oi->encoding);
        seen[oi->encoding] = true;
        ck_assert_int_eq(oi->size, oi->encoding > 0xFF ? 2 : 1);
        ilg_opcode back;
        ck_assert_int_eq(ilg_opcode_by_name(oi->name, strlen(oi->name), &back), ILG_OK);
        ck_assert_int_eq(back, op);
    }
    ck_assert_ptr_null(ilg_opcode_get(ILG_OP_COUNT));
    /* Spot checks against the spec's opcode list. */
    ck_assert_uint_eq(ilg_opcode_get(ILG_OP_SWITCH)->encoding, 0x45);
    ck_assert_uint_eq(ilg_opcode_get(ILG_OP_UNBOX_ANY)->encoding, 0xA5);
    ck_assert_uint_eq(ilg_opcode_get(ILG_OP_CONSTRAINED)->encoding, 0xFE16);
    ck_assert_uint_eq(ilg_opcode_get(ILG_OP_NO)->encoding, 0xFE19);
    ck_assert_uint_eq(ilg_opcode_get(ILG_OP_READONLY)->encoding, 0xFE1E);
    ck_assert_uint_eq(ilg_opcode_get(ILG_OP_LEAVE_S)->operand, ILG_OPND_BR1);
    ck_assert_int_eq(ilg_opcode_get(ILG_OP_STELEM_REF)->pops, 3);
    ck_assert_int_eq(ilg_opcode_get(ILG_OP_DUP)->pushes, 2);
    ck_assert_int_eq(ilg_opcode_get(ILG_OP_CALL)->pops, ILG_STACK_VAR);
    ck_assert_int_eq(ilg_opcode_get(ILG_OP_LEAVE)->pops, ILG_STACK_CLEAR);
    ck_assert_int_eq(ilg_opcode_get(ILG_OP_TAIL)->flow, ILG_FLOW_PREFIX);
    ck_assert_int_eq(ilg_opcode_get(ILG_OP_RETHROW)->flow, ILG_FLOW_THROW);
    ilg_opcode op;
    ck_assert_int_eq(ilg_opcode_by_name("ldc.i4", 6, &op), ILG_OK);
    ck_assert_int_eq(op, ILG_OP_LDC_I4);
    ck_assert_int_eq(ilg_opcode_by_name("ldc.i4.sx", 9, &op), ILG_E_NOT_FOUND);
    ck_assert_int_eq(ilg_opcode_by_name("ldc.i", 5, &op), ILG_E_NOT_FOUND);
}
END_TEST

START_TEST(unassigned_encodings_are_unknown)
{
    /* Every byte the spec leaves unassigned, one-byte and after 0xFE. */
    static const uint8_t one[] = { 0x24, 0x77, 0x78, 0xA6, 0xB2, 0xBB, 0xC1, 0xC4, 0xC5, 0xC7,
                                   0xCF, 0xE1, 0xF0, 0xFD, 0xFF };
    for (size_t i = 0; i < sizeof one; i++) {
        uint8_t body[] = { 0x02 | (2 << 2), 0x00, one[i] };
        expect_decode_error(body, sizeof body, ILG_E_IL_UNKNOWN_OPCODE, 1);
    }
    static const uint8_t two[] = { 0x08, 0x10, 0x1B, 0x1F, 0x22, 0xFF };
    for (size_t i = 0; i < sizeof two; i++) {
        uint8_t body[] = { 0x02 | (3 << 2), 0x00, 0xFE, two[i] };
        expect_decode_error(body, sizeof body, ILG_E_IL_UNKNOWN_OPCODE, 1);
    }
}
END_TEST

/* ---- decoder -------------------------------------------------------------------------- */

START_TEST(decode_tiny)
{
    const uint8_t body[] = { 0x02 | (4 << 2), 0x16, 0x2C, 0x00, 0x2A, 0xEE /* not ours */ };
    ck_assert_int_eq(ilg_body_decode(B, body, sizeof body), ILG_OK);
    ck_assert_int_eq(B->header, ILG_HEADER_TINY);
    ck_assert_uint_eq(B->code_size, 4);
    ck_assert_uint_eq(B->size, 5);
    ck_assert_uint_eq(B->max_stack, 8);
    ck_assert_uint_eq(B->local_sig, 0);
    ck_assert_uint_eq(B->count, 3);
    ck_assert_int_eq(B->instrs[0].op, ILG_OP_LDC_I4_0);
    ck_assert_int_eq(B->instrs[1].op, ILG_OP_BRFALSE_S);
    ck_assert_uint_eq(B->instrs[1].offset, 1);
    ck_assert_uint_eq(B->instrs[1].arg.target, 2); /* offset 3 + 0 = 3: instruction 2 */
    ck_assert_uint_eq(B->instrs[2].offset, 3);
    encode(B, ILG_ENCODE_PRESERVE, NULL);
    ck_assert_uint_eq(out.len, 5);
    ck_assert_mem_eq(out.data, body, 5);
}
END_TEST

/* try { ldc.i4.0 pop leave.s END } catch 0x01000001 { pop leave.s END } END: ret
 *   IL_0000 ldc.i4.0; IL_0001 pop; IL_0002 leave.s +3; IL_0004 pop; IL_0005 leave.s +0;
 *   IL_0007 ret; code size 8, try [0,4), handler [4,7). */
static const uint8_t catch_code[] = { 0x16, 0x26, 0xDE, 0x03, 0x26, 0xDE, 0x00, 0x2A };

static size_t fat_header(uint8_t *p, uint16_t flags, uint16_t maxstack, uint32_t code_size, uint32_t sig)
{
    p[0] = (uint8_t)flags;
    p[1] = (uint8_t)(flags >> 8);
    p[2] = (uint8_t)maxstack;
    p[3] = (uint8_t)(maxstack >> 8);
    for (int i = 0; i < 4; i++) {
        p[4 + i] = (uint8_t)(code_size >> (8 * i));
        p[8 + i] = (uint8_t)(sig >> (8 * i));
    }
    return 12;
}

static size_t catch_body_small(uint8_t *p)
{
    size_t n = fat_header(p, 0x301B, 1, sizeof catch_code, 0x11000001);
    memcpy(p + n, catch_code, sizeof catch_code);
    n += sizeof catch_code; /* 20: already aligned */
    const uint8_t sect[] = { 0x01, 16, 0, 0,  0, 0,  0, 0, 4,  4, 0, 3,  0x01, 0, 0, 0x01 };
    memcpy(p + n, sect, sizeof sect);
    return n + sizeof sect;
}

START_TEST(decode_fat_small_eh)
{
    uint8_t body[64];
    size_t len = catch_body_small(body);
    ck_assert_int_eq(ilg_body_decode(B, body, len), ILG_OK);
    ck_assert_int_eq(B->header, ILG_HEADER_FAT);
    ck_assert(B->init_locals);
    ck_assert_uint_eq(B->local_sig, 0x11000001);
    ck_assert_uint_eq(B->max_stack, 1);
    ck_assert_uint_eq(B->size, 36);
    ck_assert_uint_eq(B->count, 6);
    ck_assert_uint_eq(B->eh_count, 1);
    const ilg_eh_clause *c = &B->eh[0];
    ck_assert_uint_eq(c->kind, ILG_EH_CATCH);
    ck_assert_uint_eq(c->try_start, 0);
    ck_assert_uint_eq(c->try_end, 3);      /* IL_0004 is instruction 3 */
    ck_assert_uint_eq(c->handler_start, 3);
    ck_assert_uint_eq(c->handler_end, 5);  /* IL_0007 is instruction 5 */
    ck_assert_uint_eq(c->class_token, 0x01000001);
    ck_assert_uint_eq(B->instrs[2].arg.target, 5);
    ck_assert_uint_eq(B->instrs[4].arg.target, 5);
    encode(B, ILG_ENCODE_PRESERVE, NULL);
    ck_assert_uint_eq(out.len, len);
    ck_assert_mem_eq(out.data, body, len);
    ck_assert_int_eq(ilg_body_verify(B, &R, &F), ILG_OK);
    ASSERT_CLEAN();
}
END_TEST

START_TEST(decode_fat_eh_and_filter_preserved)
{
    /* One try [0, 4) protected by a filter clause (fat section, MoreSects) and a catch
     * clause (second, small section):
     *   IL_0000 ldc.i4.0; IL_0001 pop; IL_0002 leave.s IL_000e       try
     *   IL_0004 pop; IL_0005 ldc.i4.1; IL_0006 endfilter              filter
     *   IL_0008 pop; IL_0009 leave.s IL_000e                          filter's handler
     *   IL_000b pop; IL_000c leave.s IL_000e                          catch handler
     *   IL_000e ret                                    code size 15, one padding byte */
    const uint8_t code[] = { 0x16, 0x26, 0xDE, 0x0A, 0x26, 0x17, 0xFE, 0x11, 0x26, 0xDE, 0x03,
                             0x26, 0xDE, 0x00, 0x2A };
    uint8_t body[128];
    size_t n = fat_header(body, 0x300B, 2, sizeof code, 0);
    memcpy(body + n, code, sizeof code);
    n += sizeof code;
    body[n++] = 0; /* pad to 28 */
    const uint8_t s1[] = { 0xC1, 28, 0, 0,  1, 0, 0, 0,  0, 0, 0, 0,  4, 0, 0, 0,
                           8, 0, 0, 0,  3, 0, 0, 0,  4, 0, 0, 0 };
    memcpy(body + n, s1, sizeof s1);
    n += sizeof s1; /* 56 */
    const uint8_t s2[] = { 0x01, 16, 0, 0,  0, 0,  0, 0, 4,  0x0b, 0, 3,  1, 0, 0, 1 };
    memcpy(body + n, s2, sizeof s2);
    n += sizeof s2; /* 72 */
    ilg_status st = ilg_body_decode(B, body, n);
    ck_assert_msg(st == ILG_OK, "%s", ilg_last_diag()->message);
    ck_assert_uint_eq(B->size, 72);
    ck_assert_uint_eq(B->eh_count, 2);
    ck_assert_uint_eq(B->section_count, 2);
    ck_assert_uint_eq(B->eh[0].kind, ILG_EH_FILTER);
    ck_assert_uint_eq(B->eh[0].filter_start, 3);
    ck_assert_uint_eq(B->eh[0].handler_start, 6);
    ck_assert_uint_eq(B->eh[1].kind, ILG_EH_CATCH);
    ck_assert_uint_eq(B->eh[1].handler_start, 8);
    ck_assert_uint_eq(B->eh[1].class_token, 0x01000001);
    encode(B, ILG_ENCODE_PRESERVE, NULL);
    ck_assert_uint_eq(out.len, n);
    ck_assert_mem_eq(out.data, body, n);
    ck_assert_int_eq(ilg_body_verify(B, &R, &F), ILG_OK);
    ASSERT_CLEAN();
    /* Optimize merges both into one small section: 28 + 4 + 2 * 12 = 56 bytes. */
    encode(B, ILG_ENCODE_OPTIMIZE, &R);
    ck_assert_uint_eq(out.len, 56);
    ck_assert_uint_eq(out.data[28], 0x01);
    ck_assert_uint_eq(out.data[29], 28);
    ck_assert_uint_eq(out.data[2], 1); /* exact maxstack: never more than one item */
    redecode_clean(&R);
}
END_TEST

START_TEST(decode_switch_prefix_and_wide_operands)
{
    /* IL_0000 ldarg.0; IL_0001 switch (2) +5 +0 -> IL_000f, IL_000a;
     * IL_000a ldc.i8 ..; IL_0013 pop; IL_0014 ldc.r8 1.5; IL_001d pop;
     * IL_001e ldarg.1; IL_001f constrained. 0x1b000001; IL_0025 callvirt 0x0a001011;
     * IL_002a ret  -- wait: the switch targets must be instruction starts. */
    uint8_t code[64];
    size_t n = 0;
    code[n++] = 0x02;                               /* IL_0000 ldarg.0 */
    code[n++] = 0x45;                               /* IL_0001 switch */
    code[n++] = 2; code[n++] = 0; code[n++] = 0; code[n++] = 0;
    code[n++] = 10; code[n++] = 0; code[n++] = 0; code[n++] = 0; /* 0x0e + 10 = 0x18 */
    code[n++] = 0; code[n++] = 0; code[n++] = 0; code[n++] = 0;  /* 0x0e */
    code[n++] = 0x21;                               /* IL_000e ldc.i8 */
    for (int i = 0; i < 8; i++) code[n++] = (uint8_t)(0x11 * (i + 1));
    code[n++] = 0x26;                               /* IL_0017 pop */
    code[n++] = 0x02;                               /* IL_0018 ldarg.0 */
    code[n++] = 0xFE; code[n++] = 0x16;             /* IL_0019 constrained. */
    code[n++] = 0x01; code[n++] = 0x00; code[n++] = 0x00; code[n++] = 0x1B;
    code[n++] = 0x6F;                               /* IL_001f callvirt 0x0a001011 */
    code[n++] = 0x11; code[n++] = 0x10; code[n++] = 0x00; code[n++] = 0x0A;
    code[n++] = 0x2A;                               /* IL_0024 ret */
    uint8_t body[80];
    size_t len = fat_header(body, 0x3003, 2, (uint32_t)n, 0);
    memcpy(body + len, code, n);
    len += n;
    ck_assert_int_eq(ilg_body_decode(B, body, len), ILG_OK);
    ck_assert_uint_eq(B->count, 8);
    ck_assert_int_eq(B->instrs[1].op, ILG_OP_SWITCH);
    ck_assert_uint_eq(B->instrs[1].arg.sw.count, 2);
    ck_assert_uint_eq(B->targets[B->instrs[1].arg.sw.first], 4);     /* IL_0018 */
    ck_assert_uint_eq(B->targets[B->instrs[1].arg.sw.first + 1], 2); /* IL_000e */
    ck_assert_uint_eq((uint64_t)B->instrs[2].arg.i, 0x8877665544332211ull);
    ck_assert_int_eq(B->instrs[5].op, ILG_OP_CONSTRAINED);
    ck_assert_uint_eq(B->instrs[5].arg.token, 0x1B000001);
    ck_assert_uint_eq(B->instrs[6].offset, 0x1F);
    encode(B, ILG_ENCODE_PRESERVE, NULL);
    ck_assert_uint_eq(out.len, len);
    ck_assert_mem_eq(out.data, body, len);
    /* callvirt 0x0a001011: has_this, 1 argument (this), returns a value. */
    ck_assert_int_eq(ilg_body_verify(B, &RV, &F), ILG_OK);
    ASSERT_CLEAN();
}
END_TEST

START_TEST(decode_rejections_name_the_offset)
{
    const uint8_t empty[1] = { 0 };
    expect_decode_error(empty, 0, ILG_E_IL_TRUNCATED, 0);
    const uint8_t bad_kind[] = { 0x01, 0x00 };
    expect_decode_error(bad_kind, sizeof bad_kind, ILG_E_IL_BAD_HEADER, 0);
    const uint8_t tiny_short[] = { 0x02 | (5 << 2), 0x00, 0x00 };
    expect_decode_error(tiny_short, sizeof tiny_short, ILG_E_IL_TRUNCATED, 0);
    uint8_t fat[64];
    fat_header(fat, 0x3003, 8, 1, 0);
    expect_decode_error(fat, 11, ILG_E_IL_TRUNCATED, 0);
    fat[12] = 0x2A;
    expect_decode_error(fat, 12, ILG_E_IL_TRUNCATED, 0); /* code byte missing */
    fat_header(fat, 0x2003, 8, 1, 0);
    expect_decode_error(fat, 13, ILG_E_IL_BAD_HEADER, 0); /* size nibble 2 */
    fat_header(fat, 0x3003, 8, 1, 0x02000001);
    expect_decode_error(fat, 13, ILG_E_IL_BAD_HEADER, 0); /* locals token is a TypeDef */

    /* tiny bodies: code offsets are IL offsets */
    const uint8_t two_byte_cut[] = { 0x02 | (2 << 2), 0x00, 0xFE };
    expect_decode_error(two_byte_cut, sizeof two_byte_cut, ILG_E_IL_TRUNCATED, 1);
    const uint8_t operand_cut[] = { 0x02 | (4 << 2), 0x00, 0x20, 0x01, 0x02 };
    expect_decode_error(operand_cut, sizeof operand_cut, ILG_E_IL_OPERAND_TRUNCATED, 1);
    const uint8_t switch_cut[] = { 0x02 | (7 << 2), 0x45, 0x02, 0, 0, 0, 0, 0 };
    expect_decode_error(switch_cut, sizeof switch_cut, ILG_E_IL_OPERAND_TRUNCATED, 0);
    const uint8_t huge_switch[] = { 0x02 | (5 << 2), 0x45, 0xFF, 0xFF, 0xFF, 0xFF };
    expect_decode_error(huge_switch, sizeof huge_switch, ILG_E_IL_OPERAND_TRUNCATED, 0);
    const uint8_t past_end[] = { 0x02 | (3 << 2), 0x00, 0x2B, 0x01 };
    expect_decode_error(past_end, sizeof past_end, ILG_E_IL_BAD_TARGET, 1);
    const uint8_t before_start[] = { 0x02 | (3 << 2), 0x00, 0x2B, 0xFC };
    expect_decode_error(before_start, sizeof before_start, ILG_E_IL_BAD_TARGET, 1);
    /* br.s -3 from IL_0003 lands on offset 2, inside ldc.i4.s */
    const uint8_t mid[] = { 0x02 | (6 << 2), 0x00, 0x1F, 0x05, 0x2B, 0xFD, 0x2A };
    expect_decode_error(mid, sizeof mid, ILG_E_IL_BAD_TARGET, 3);
    const uint8_t sw_mid[] = { 0x02 | (11 << 2), 0x45, 1, 0, 0, 0, 0xFA, 0xFF, 0xFF, 0xFF, 0x26, 0x2A };
    expect_decode_error(sw_mid, sizeof sw_mid, ILG_E_IL_BAD_TARGET, 0);
}
END_TEST

/* A fat body with catch_code and one small clause given as raw bytes. */
static size_t eh_body(uint8_t *p, uint8_t kind, uint8_t ds, const uint8_t clause[12])
{
    size_t n = fat_header(p, 0x300B, 1, sizeof catch_code, 0);
    memcpy(p + n, catch_code, sizeof catch_code);
    n += sizeof catch_code;
    p[n++] = kind;
    p[n++] = ds;
    p[n++] = 0;
    p[n++] = 0;
    memcpy(p + n, clause, 12);
    return n + 12;
}

START_TEST(decode_rejects_bad_eh)
{
    uint8_t body[64];
    const uint8_t good[12] = { 0, 0, 0, 0, 4, 4, 0, 3, 1, 0, 0, 1 };
    ck_assert_int_eq(ilg_body_decode(B, body, eh_body(body, 0x01, 16, good)), ILG_OK);
    /* section offsets are given from the first code byte: the section is at code+8 */
    expect_decode_error(body, eh_body(body, 0x02, 16, good), ILG_E_IL_BAD_SECTION, 8);
    expect_decode_error(body, eh_body(body, 0x03, 16, good), ILG_E_IL_BAD_SECTION, 8);
    expect_decode_error(body, eh_body(body, 0x01, 15, good), ILG_E_IL_BAD_SECTION, 8);
    expect_decode_error(body, eh_body(body, 0x01, 28, good), ILG_E_IL_TRUNCATED, 8);
    expect_decode_error(body, eh_body(body, 0x01, 16, good) - 1, ILG_E_IL_TRUNCATED, 8);
    const uint8_t bad_flags[12] = { 3, 0, 0, 0, 4, 4, 0, 3, 1, 0, 0, 1 };
    expect_decode_error(body, eh_body(body, 0x01, 16, bad_flags), ILG_E_IL_BAD_EH, 0);
    const uint8_t try_mid[12] = { 0, 0, 0, 0, 3, 4, 0, 3, 1, 0, 0, 1 }; /* try end 3: inside leave.s */
    expect_decode_error(body, eh_body(body, 0x01, 16, try_mid), ILG_E_IL_BAD_EH, 3);
    const uint8_t handler_out[12] = { 0, 0, 0, 0, 4, 4, 0, 9, 1, 0, 0, 1 }; /* end 13 > 8 */
    expect_decode_error(body, eh_body(body, 0x01, 16, handler_out), ILG_E_IL_BAD_EH, 13);
    const uint8_t start_at_end[12] = { 0, 0, 0, 0, 4, 8, 0, 0, 1, 0, 0, 1 };
    expect_decode_error(body, eh_body(body, 0x01, 16, start_at_end), ILG_E_IL_BAD_EH, 8);
    const uint8_t filter_mid[12] = { 1, 0, 0, 0, 4, 4, 0, 3, 3, 0, 0, 0 }; /* filter at 3 */
    expect_decode_error(body, eh_body(body, 0x01, 16, filter_mid), ILG_E_IL_BAD_EH, 3);
    const uint8_t empty_try[12] = { 0, 0, 0, 0, 0, 4, 0, 3, 1, 0, 0, 1 };
    expect_decode_error(body, eh_body(body, 0x01, 16, empty_try), ILG_E_IL_BAD_EH, 0);
    /* MoreSects without a section */
    uint8_t fat[16];
    fat_header(fat, 0x300B, 8, 1, 0);
    fat[12] = 0x2A;
    expect_decode_error(fat, 13, ILG_E_IL_TRUNCATED, 1);
}
END_TEST

/* ---- the reference list of rewriter bugs ---------------------------------------------- */

/* Bug: code inserted at a branch target that should run for the branch did not. */
START_TEST(bug_branch_to_inserted_code)
{
    static const char *text = "ldarg.0\nbrtrue.s L\nldc.i4.0\npop\nL: ret\n";
    assemble(S, "ldc.i4.7\npop\n");
    /* RETARGET: the branch now lands on the inserted ldc.i4.7 at IL_0005. */
    assemble(B, text);
    ck_assert_int_eq(ilg_body_insert_before(B, 4, S, ILG_EDIT_RETARGET), ILG_OK);
    encode(B, ILG_ENCODE_OPTIMIZE, &R);
    const uint8_t want[] = { 0x02 | (8 << 2), 0x02, 0x2D, 0x02, 0x16, 0x26, 0x1D, 0x26, 0x2A };
    ck_assert_uint_eq(out.len, sizeof want);
    ck_assert_mem_eq(out.data, want, sizeof want);
    /* Without it the branch stays bound to ret and skips the new code. */
    assemble(B, text);
    ck_assert_int_eq(ilg_body_insert_before(B, 4, S, 0), ILG_OK);
    encode(B, ILG_ENCODE_OPTIMIZE, &R);
    const uint8_t skip[] = { 0x02 | (8 << 2), 0x02, 0x2D, 0x04, 0x16, 0x26, 0x1D, 0x26, 0x2A };
    ck_assert_mem_eq(out.data, skip, sizeof skip);
}
END_TEST

static const char *try_catch_text =
    "nop\n"             /* IL_0000 */
    "T: nop\n"          /* IL_0001 try start */
    "leave.s E\n"       /* IL_0002 */
    "H: pop\n"          /* IL_0004 handler start */
    "leave.s E\n"       /* IL_0005 */
    "E: nop\n"          /* IL_0007 */
    "ret\n"
    ".try T to H catch 0x01000001 handler H to E\n";

/* Bug: EH clause ends not moved with inserted code; code inserted just after a handler
 * landed inside it. */
START_TEST(bug_eh_ends_follow_their_instructions)
{
    assemble(S, "nop\nnop\nnop\n");
    /* Inside the try, before its last instruction: the try grows, the handler moves. */
    assemble(B, try_catch_text);
    ck_assert_int_eq(ilg_body_insert_before(B, 2, S, 0), ILG_OK);
    encode(B, ILG_ENCODE_OPTIMIZE, &R);
    redecode_clean(&R);
    ck_assert_uint_eq(D->instrs[D->eh[0].try_start].offset, 1);
    ck_assert_uint_eq(D->instrs[D->eh[0].try_end].offset, 7);
    ck_assert_uint_eq(D->instrs[D->eh[0].handler_start].offset, 7);
    ck_assert_uint_eq(D->instrs[D->eh[0].handler_end].offset, 10);
    /* Just after the handler (before E): outside it; the handler keeps its size. */
    assemble(B, try_catch_text);
    ck_assert_int_eq(ilg_body_insert_before(B, 5, S, 0), ILG_OK);
    encode(B, ILG_ENCODE_OPTIMIZE, &R);
    redecode_clean(&R);
    ck_assert_uint_eq(D->instrs[D->eh[0].handler_start].offset, 4);
    ck_assert_uint_eq(D->instrs[D->eh[0].handler_end].offset, 7);
    ck_assert_int_eq(D->instrs[D->eh[0].handler_end].op, ILG_OP_NOP);
    /* insert_after the handler's last instruction joins the handler... */
    assemble(B, try_catch_text);
    ck_assert_int_eq(ilg_body_insert_after(B, 4, S, 0), ILG_OK);
    ck_assert_uint_eq(B->eh[0].handler_end, 8);
    /* ...unless ILG_EDIT_OUTSIDE. */
    assemble(B, try_catch_text);
    ck_assert_int_eq(ilg_body_insert_after(B, 4, S, ILG_EDIT_OUTSIDE), ILG_OK);
    ck_assert_uint_eq(B->eh[0].handler_end, 5);
    /* Before the try's first instruction: inside the try unless OUTSIDE. */
    assemble(B, try_catch_text);
    ck_assert_int_eq(ilg_body_insert_before(B, 1, S, 0), ILG_OK);
    ck_assert_uint_eq(B->eh[0].try_start, 1);
    ck_assert_uint_eq(B->eh[0].try_end, 6);
    assemble(B, try_catch_text);
    ck_assert_int_eq(ilg_body_insert_before(B, 1, S, ILG_EDIT_OUTSIDE), ILG_OK);
    ck_assert_uint_eq(B->eh[0].try_start, 4);
    encode(B, ILG_ENCODE_OPTIMIZE, &R);
    redecode_clean(&R);
}
END_TEST

/* Bug: EH clauses left in the wrong nesting order after adding an outer try/finally. */
START_TEST(bug_clause_order_after_wrap)
{
    assemble(B, try_catch_text);
    assemble(S, "nop\n");
    ck_assert_int_eq(ilg_body_wrap(B, ILG_EH_FINALLY, S, ILG_NO_LOCAL), ILG_OK);
    ck_assert_uint_eq(B->eh_count, 2);
    encode(B, ILG_ENCODE_OPTIMIZE, &R);
    redecode_clean(&R);
    ck_assert_uint_eq(D->eh[0].kind, ILG_EH_CATCH);
    ck_assert_uint_eq(D->eh[1].kind, ILG_EH_FINALLY);
    /* An inner clause appended after its outer one is moved before it, in both modes. */
    assemble(B, "T: nop\nI: nop\nleave.s E\nH: pop\nleave.s E\nF: endfinally\nE: ret\n"
                ".try T to F finally handler F to E\n"
                ".try I to H catch 0x01000001 handler H to F\n");
    ck_assert_int_eq(ilg_body_verify(B, &R, &F), ILG_OK);
    ASSERT_FINDING(ILG_E_IL_VERIFY_EH_ORDER, 1);
    encode(B, ILG_ENCODE_PRESERVE, &R);
    redecode_clean(&R);
    ck_assert_uint_eq(D->eh[0].kind, ILG_EH_CATCH);
}
END_TEST

/* Bug: short branches overflowing after insertion, silently truncated to 8 bits. */
START_TEST(bug_short_branch_overflow)
{
    assemble(B, "ldarg.0\nbrtrue.s L\nnop\nL: ret\n");
    ilg_body_reset(S);
    for (int i = 0; i < 200; i++)
        ck_assert_int_eq(ilg_body_append(S, ILG_OP_NOP, 0), ILG_OK);
    ck_assert_int_eq(ilg_body_insert_after(B, 2, S, 0), ILG_OK);
    for (int mode = 0; mode < 2; mode++) {
        ilg_body_copy(D, B);
        encode(D, mode ? ILG_ENCODE_OPTIMIZE : ILG_ENCODE_PRESERVE, &R);
        ck_assert_uint_eq(out.data[12 + 1], 0x3A); /* brtrue (long) */
        /* target = 6 + 201 = IL_00cf, the ret */
        ck_assert_uint_eq(out.data[12 + 2], 201);
        ck_assert_uint_eq(out.data[12 + 3], 0);
        redecode_clean(&R);
        ck_assert_int_eq(D->instrs[D->instrs[1].arg.target].op, ILG_OP_RET);
    }
    /* Optimize also shrinks: remove the padding and the branch goes back to brtrue.s. */
    ck_assert_int_eq(ilg_body_remove(B, 3, 200), ILG_OK);
    ilg_body_copy(D, B);
    encode(D, ILG_ENCODE_OPTIMIZE, &R);
    ck_assert_uint_eq(out.len, 6);
    ck_assert_uint_eq(out.data[2], 0x2D);
    /* A long branch written by hand also shrinks in optimize mode, not in preserve mode. */
    assemble(B, "ldarg.0\nbrtrue L\nnop\nL: ret\n");
    encode(B, ILG_ENCODE_PRESERVE, &R);
    ck_assert_uint_eq(out.data[12 + 1], 0x3A);
    encode(B, ILG_ENCODE_OPTIMIZE, &R);
    ck_assert_uint_eq(out.data[2], 0x2D);
}
END_TEST

/* Branch sizing needs a fixed point: growing one branch can push another out of range.
 *   0 nop; 1 A: br.s T; 123 nops; B: br.s 0 (back); T: ret
 * A reaches T with 125 and B reaches 0 with -128: both short. Three nops inserted
 * before T push A to 128: A grows by 3, which pushes B to -131: B grows too. A single
 * pass over the branches would leave B short and wrong. */
START_TEST(branch_fixed_point_cascade)
{
    ilg_body_reset(B);
    ilg_body_append(B, ILG_OP_NOP, 0);
    ilg_body_append(B, ILG_OP_BR_S, 126);
    for (int i = 0; i < 123; i++)
        ilg_body_append(B, ILG_OP_NOP, 0);
    ilg_body_append(B, ILG_OP_BR_S, 0);
    ilg_body_append(B, ILG_OP_RET, 0);
    encode(B, ILG_ENCODE_OPTIMIZE, &R);
    ck_assert_int_eq(B->instrs[1].op, ILG_OP_BR_S);
    ck_assert_int_eq(B->instrs[125].op, ILG_OP_BR_S);
    ck_assert_uint_eq(out.data[12 + 2], 125);
    ck_assert_uint_eq(out.data[12 + 127], 0x80);
    assemble(S, "nop\nnop\nnop\n");
    ck_assert_int_eq(ilg_body_insert_before(B, 126, S, 0), ILG_OK);
    for (int mode = 0; mode < 2; mode++) {
        ilg_body_copy(D, B);
        encode(D, mode ? ILG_ENCODE_OPTIMIZE : ILG_ENCODE_PRESERVE, &R);
        ck_assert_int_eq(D->instrs[1].op, ILG_OP_BR);
        ck_assert_int_eq(D->instrs[125].op, ILG_OP_BR);
        redecode_clean(&R);
        ck_assert_int_eq(D->instrs[D->instrs[1].arg.target].op, ILG_OP_RET);
        ck_assert_uint_eq(D->instrs[125].arg.target, 0);
    }
}
END_TEST

/* Bug: a tiny body grown past 63 bytes still written with a tiny header. */
START_TEST(bug_tiny_grown_past_63)
{
    const uint8_t tiny[] = { 0x02 | (1 << 2), 0x2A };
    ck_assert_int_eq(ilg_body_decode(B, tiny, sizeof tiny), ILG_OK);
    ilg_body_reset(S);
    for (int i = 0; i < 62; i++)
        ilg_body_append(S, ILG_OP_NOP, 0);
    ck_assert_int_eq(ilg_body_insert_entry(B, S), ILG_OK);
    encode(B, ILG_ENCODE_PRESERVE, &R);           /* 63 bytes: still tiny */
    ck_assert_uint_eq(out.len, 64);
    ck_assert_uint_eq(out.data[0], 0x02 | (63 << 2));
    ilg_body_reset(S);
    ilg_body_append(S, ILG_OP_NOP, 0);
    ck_assert_int_eq(ilg_body_insert_entry(B, S), ILG_OK);
    for (int mode = 0; mode < 2; mode++) {
        encode(B, mode ? ILG_ENCODE_OPTIMIZE : ILG_ENCODE_PRESERVE, &R);
        ck_assert_uint_eq(out.len, 12 + 64);
        ck_assert_uint_eq(out.data[0] & 3, 3);
        ck_assert_uint_eq(out.data[4], 64);
        redecode_clean(&R);
    }
    /* Other reasons a body cannot be tiny: locals, maxstack > 8, EH. */
    assemble(B, "ret\n");
    ilg_body_set_locals(B, 0x11000002, true);
    encode(B, ILG_ENCODE_OPTIMIZE, &R);
    ck_assert_uint_eq(out.len, 13);
    ck_assert_uint_eq(out.data[0], 0x13); /* fat | InitLocals */
}
END_TEST

/* Bug: maxstack under-counted after inserting code, or mis-computed around switch. */
START_TEST(bug_maxstack_after_insert_and_switch)
{
    assemble(B, ".maxstack 1\nldarg.0\npop\nret\n");
    assemble(S, "ldc.i4.1\nldc.i4.2\nldc.i4.3\ncall 0x0a000031\npop\n"); /* call: 3 -> 1 */
    ck_assert_int_eq(ilg_body_insert_entry(B, S), ILG_OK);
    ilg_body_copy(D, B);
    encode(D, ILG_ENCODE_PRESERVE, &R); /* preserve raises a too-small maxstack */
    ck_assert_uint_eq(D->max_stack, 3);
    encode(B, ILG_ENCODE_OPTIMIZE, &R);
    ck_assert_int_eq(B->header, ILG_HEADER_TINY); /* maxstack 3 fits a tiny header (8) */
    ck_assert_uint_eq(out.data[0] & 3, 2);
    redecode_clean(&R);
    /* switch: the cases see the depth after the selector is popped (1, not 2), and the
     * deepest point is in the second case (1 + 2 = 3). */
    assemble(B, "ldc.i4.5\n"           /* depth 1 */
                "ldarg.0\n"            /* 2 */
                "switch (A, C)\n"      /* pops the selector: 1 */
                "br E\n"
                "A: ldc.i4.1\n"        /* 2 */
                "pop\n"
                "br E\n"
                "C: ldc.i4.1\n"        /* 2 */
                "ldc.i4.2\n"           /* 3 */
                "add\n"
                "pop\n"
                "E: pop\n"
                "ret\n");
    uint32_t m;
    ck_assert_int_eq(ilg_body_max_stack(B, &R, &m), ILG_OK);
    ck_assert_uint_eq(m, 3);
    encode(B, ILG_ENCODE_OPTIMIZE, &R);
    ck_assert_uint_eq(out.data[0] & 3, 2); /* tiny: maxstack 3 <= 8 */
    redecode_clean(&R);
    /* newobj pushes the object, not the ctor's this; calli pops the pointer too. */
    assemble(B, "newobj 0x0a001010\nldc.i4.1\nldarg.0\ncalli 0x11000011\npop\npop\nret\n");
    ck_assert_int_eq(ilg_body_max_stack(B, &R, &m), ILG_OK);
    ck_assert_uint_eq(m, 3); /* object, argument, pointer */
    assemble(B, "ldc.i4.1\nldc.i4.2\nnewobj 0x0a001030\npop\nret\n");
    ck_assert_int_eq(ilg_body_max_stack(B, &R, &m), ILG_OK);
    ck_assert_uint_eq(m, 2); /* two args popped, one object pushed */
    /* Without a resolver a body that calls has no exact maxstack. */
    ck_assert_int_eq(ilg_body_max_stack(B, NULL, &m), ILG_E_IL_STACK_UNKNOWN);
}
END_TEST

/* Bug: export buffer sized by instruction count, overflowed by 9-byte instructions. */
START_TEST(bug_buffer_sized_from_real_size)
{
    ilg_body_reset(B);
    for (int i = 0; i < 300; i++) {
        ilg_body_append(B, ILG_OP_LDC_I8, (int64_t)(0x0102030405060708ull * (uint64_t)i));
        ilg_body_append_real(B, ILG_OP_LDC_R8, i * 0.5);
        ilg_body_append(B, ILG_OP_POP, 0);
        ilg_body_append(B, ILG_OP_POP, 0);
    }
    uint32_t cases[1000];
    for (int i = 0; i < 1000; i++)
        cases[i] = (uint32_t)(4 * (i % 300)); /* statement starts: empty stack */
    ilg_body_append(B, ILG_OP_LDC_I4_0, 0);
    ilg_body_append_switch(B, cases, 1000);
    ilg_body_append(B, ILG_OP_RET, 0);
    encode(B, ILG_ENCODE_OPTIMIZE, &R);
    /* 300 * (9 + 9 + 1 + 1) + 1 + (1 + 4 + 4000) + 1 */
    const size_t code = 300 * 20 + 1 + 4005 + 1;
    ck_assert_uint_eq(out.len, 12 + code);
    ck_assert_uint_le(out.len, out.cap);
    redecode_clean(&R);
    ck_assert_uint_eq((uint64_t)D->instrs[4].arg.i, 0x0102030405060708ull);
    ck_assert(D->instrs[5].arg.r8 == 0.5);
}
END_TEST

/* maxstack is a u16 in the fat header: a body that needs more is refused, not wrapped. */
START_TEST(encode_refuses_maxstack_over_65535)
{
    for (int i = 0; i < 65536; i++)
        ck_assert_int_eq(ilg_body_append(B, ILG_OP_LDC_I4_0, 0), ILG_OK);
    for (int i = 0; i < 65536; i++)
        ck_assert_int_eq(ilg_body_append(B, ILG_OP_POP, 0), ILG_OK);
    ck_assert_int_eq(ilg_body_append(B, ILG_OP_RET, 0), ILG_OK);
    ck_assert_int_eq(ilg_body_encode(B, ILG_ENCODE_OPTIMIZE, &R, &out), ILG_E_LIMIT);
    ck_assert_msg(strstr(ilg_last_diag()->message, "maxstack 65536 exceeds 65535") != NULL, "%s",
                  ilg_last_diag()->message);
}
END_TEST

/* A fat header's LocalVarSigTok can only be a StandAloneSig: neither the assembler nor
 * the encoder may produce a header the decoder refuses (found by fuzz_asm). */
START_TEST(locals_token_must_be_a_standalonesig)
{
    static const char text[] = ".locals init 0x00110000\nret\n";
    ck_assert_int_eq(ilg_body_assemble(B, text, sizeof text - 1, NULL), ILG_E_IL_SYNTAX);
    ck_assert_ptr_nonnull(strstr(ilg_last_diag()->message, "0x00110000 is not a StandAloneSig"));
    ilg_body_reset(B);
    ck_assert_int_eq(ilg_body_append(B, ILG_OP_RET, 0), ILG_OK);
    ilg_body_set_locals(B, 0x02000001, true);
    ck_assert_int_eq(ilg_body_encode(B, ILG_ENCODE_OPTIMIZE, &R, &out), ILG_E_IL_BAD_HEADER);
    ilg_body_set_locals(B, 0x11000001, true);
    ck_assert_int_eq(ilg_body_encode(B, ILG_ENCODE_OPTIMIZE, &R, &out), ILG_OK);
}
END_TEST

/* A label after the last instruction may end an EH block, never take a branch (the
 * disassembler could not print it, the decoder would refuse it; found by fuzz_asm). */
START_TEST(branch_to_the_end_of_the_body_is_refused)
{
    static const char bad[] = "ldc.i4.0\nbrtrue.s END\nret\nEND:\n";
    ck_assert_int_eq(ilg_body_assemble(B, bad, sizeof bad - 1, NULL), ILG_E_IL_BAD_TARGET);
    ck_assert_ptr_nonnull(strstr(ilg_last_diag()->message, "'END' follows the last instruction"));
    static const char ok[] = "A: nop\nleave.s C\nB: endfinally\nC: ret\nD:\n"
                             ".try A to B finally handler B to C\n";
    ck_assert_int_eq(ilg_body_assemble(B, ok, sizeof ok - 1, NULL), ILG_OK);
}
END_TEST

/* Bug: a prefix separated from its instruction. */
START_TEST(bug_prefix_stays_attached)
{
    static const char *text = "ldarg.0\nconstrained. 0x1b000001\ncallvirt 0x0a001011\nret\n";
    assemble(S, "nop\n");
    assemble(B, text);
    ck_assert_int_eq(ilg_body_insert_before(B, 2, S, 0), ILG_OK); /* before callvirt */
    ck_assert_int_eq(B->instrs[1].op, ILG_OP_NOP);
    ck_assert_int_eq(B->instrs[2].op, ILG_OP_CONSTRAINED);
    ck_assert_int_eq(B->instrs[3].op, ILG_OP_CALLVIRT);
    assemble(B, text);
    ck_assert_int_eq(ilg_body_insert_after(B, 1, S, 0), ILG_OK); /* after constrained. */
    ck_assert_int_eq(B->instrs[2].op, ILG_OP_CALLVIRT);
    ck_assert_int_eq(B->instrs[3].op, ILG_OP_NOP);
    assemble(B, text);
    ck_assert_int_eq(ilg_body_remove(B, 2, 1), ILG_E_IL_BAD_EDIT);
    ck_assert_int_eq(ilg_body_remove(B, 1, 1), ILG_E_IL_BAD_EDIT);
    ck_assert_uint_eq(B->count, 4);
    ck_assert_int_eq(ilg_body_replace(B, 1, 2, S), ILG_OK); /* the whole unit */
    ck_assert_uint_eq(B->count, 3);
}
END_TEST

/* Bug: a small EH section chosen for clauses whose offsets or lengths no longer fit. */
START_TEST(bug_small_eh_section_overflow)
{
    uint8_t body[64];
    size_t len = catch_body_small(body);
    ck_assert_int_eq(ilg_body_decode(B, body, len), ILG_OK);
    ilg_body_reset(S);
    for (int i = 0; i < 300; i++)
        ilg_body_append(S, ILG_OP_NOP, 0);
    ck_assert_int_eq(ilg_body_insert_before(B, 2, S, 0), ILG_OK); /* try grows to 304 bytes */
    for (int mode = 0; mode < 2; mode++) {
        ilg_body_copy(D, B);
        encode(D, mode ? ILG_ENCODE_OPTIMIZE : ILG_ENCODE_PRESERVE, &R);
        const size_t sect = 12 + ((D->code_size + 3) & ~3u);
        ck_assert_uint_eq(out.data[sect], 0x41); /* fat EH table */
        ck_assert_uint_eq(out.data[sect + 1], 28);
        ck_assert_uint_eq(out.data[sect + 4 + 8], 0x30); /* try length 304 = 0x130 */
        ck_assert_uint_eq(out.data[sect + 4 + 9], 0x01);
        redecode_clean(&R);
        ck_assert_uint_eq(D->instrs[D->eh[0].try_end].offset, 304);
    }
    /* Offsets past 65535 need fat too, even with short lengths. */
    assemble(B, "nop\nT: nop\nleave.s E\nH: pop\nleave.s E\nE: ret\n.try T to H catch 0x01000001 handler H to E\n");
    ilg_body_reset(S);
    for (int i = 0; i < 70000; i++)
        ilg_body_append(S, ILG_OP_NOP, 0);
    ck_assert_int_eq(ilg_body_insert_before(B, 0, S, 0), ILG_OK);
    encode(B, ILG_ENCODE_OPTIMIZE, &R);
    redecode_clean(&R);
    ck_assert_uint_eq(D->instrs[D->eh[0].try_start].offset, 70001);
    ck_assert_uint_eq(D->sections[0].kind & 0x40, 0x40);
}
END_TEST

/* ---- other editing rules -------------------------------------------------------------- */

START_TEST(insert_before_rets_and_entry)
{
    assemble(B, "ldarg.0\nbrfalse.s R2\nldc.i4.1\nret\nR2: ldc.i4.2\nret\n");
    assemble(S, "nop\n");
    ck_assert_int_eq(ilg_body_insert_before_rets(B, S), ILG_OK);
    ck_assert_uint_eq(B->count, 8);
    ck_assert_int_eq(B->instrs[3].op, ILG_OP_NOP);
    ck_assert_int_eq(B->instrs[6].op, ILG_OP_NOP);
    /* A branch aimed at a ret goes to the code before it. */
    assemble(B, "ldarg.0\nbrfalse.s R\nldc.i4.1\npop\nR: ret\n");
    ck_assert_int_eq(ilg_body_insert_before_rets(B, S), ILG_OK);
    ck_assert_uint_eq(B->instrs[1].arg.target, 4);
    ck_assert_int_eq(B->instrs[4].op, ILG_OP_NOP);
    /* Entry code runs once: a loop back to the first instruction does not repeat it. */
    assemble(B, "L: ldarg.0\nbrtrue.s L\nret\n");
    ck_assert_int_eq(ilg_body_insert_entry(B, S), ILG_OK);
    ck_assert_int_eq(B->instrs[0].op, ILG_OP_NOP);
    ck_assert_uint_eq(B->instrs[2].arg.target, 1);
    /* Entry code goes outside a try that starts at the first instruction. */
    assemble(B, "T: nop\nleave.s E\nH: pop\nleave.s E\nE: ret\n.try T to H catch 0x01000001 handler H to E\n");
    ck_assert_int_eq(ilg_body_insert_entry(B, S), ILG_OK);
    ck_assert_uint_eq(B->eh[0].try_start, 1);
    encode(B, ILG_ENCODE_OPTIMIZE, &R);
    redecode_clean(&R);
}
END_TEST

START_TEST(snippet_targets_body_and_following)
{
    /* A snippet that skips itself (target == its count) and one that jumps to a body
     * instruction by index. */
    assemble(B, "ldarg.0\npop\nret\n");
    ilg_body_reset(S);
    ilg_body_append(S, ILG_OP_BR_S, 2);      /* to the instruction after the snippet */
    ilg_body_append(S, ILG_OP_NOP, 0);
    ck_assert_int_eq(ilg_body_insert_before(B, 1, S, 0), ILG_OK);
    ck_assert_uint_eq(B->instrs[1].arg.target, 3);
    ck_assert_int_eq(B->instrs[3].op, ILG_OP_POP);
    ilg_body_reset(S);
    ilg_body_append(S, ILG_OP_BR, ILG_TARGET_BODY | 0); /* back to ldarg.0 */
    ck_assert_int_eq(ilg_body_insert_before(B, 4, S, 0), ILG_OK);
    ck_assert_uint_eq(B->instrs[4].arg.target, 0);
    ilg_body_reset(S);
    ilg_body_append(S, ILG_OP_BR, ILG_TARGET_BODY | 99);
    ck_assert_int_eq(ilg_body_insert_before(B, 0, S, 0), ILG_E_IL_BAD_EDIT);
    ilg_body_reset(S);
    ilg_body_append(S, ILG_OP_BR, 5);
    ck_assert_int_eq(ilg_body_insert_before(B, 0, S, 0), ILG_E_IL_BAD_EDIT);
}
END_TEST

START_TEST(remove_and_replace_rules)
{
    /* Branches to removed instructions go to the next one. */
    assemble(B, "ldarg.0\nbrtrue.s X\nnop\nX: nop\nnop\nret\n");
    ck_assert_int_eq(ilg_body_remove(B, 3, 2), ILG_OK);
    ck_assert_uint_eq(B->instrs[1].arg.target, 3);
    ck_assert_int_eq(B->instrs[3].op, ILG_OP_RET);
    /* ...unless nothing follows. */
    assemble(B, "ldarg.0\nbrtrue.s X\nret\nX: ret\n");
    ck_assert_int_eq(ilg_body_remove(B, 3, 1), ILG_E_IL_BAD_EDIT);
    ck_assert_uint_eq(B->count, 4); /* unchanged */
    /* A removal that empties an EH block is refused. */
    assemble(B, try_catch_text);
    ck_assert_int_eq(ilg_body_remove(B, 1, 2), ILG_E_IL_BAD_EDIT);
    ck_assert_uint_eq(B->eh[0].try_end, 3);
    /* Removing the try's first instruction moves its start to the next. */
    ck_assert_int_eq(ilg_body_remove(B, 1, 1), ILG_OK);
    ck_assert_uint_eq(B->eh[0].try_start, 1);
    ck_assert_uint_eq(B->eh[0].try_end, 2);
    /* Replace: branches to any replaced instruction go to the first new one. */
    assemble(B, "ldarg.0\nbrtrue.s Y\nnop\nY: nop\nnop\nret\n");
    assemble(S, "ldc.i4.0\npop\n");
    ck_assert_int_eq(ilg_body_replace(B, 2, 3, S), ILG_OK);
    ck_assert_uint_eq(B->instrs[1].arg.target, 2);
    ck_assert_uint_eq(B->count, 5);
    /* A boundary strictly inside the replaced range is refused. */
    assemble(B, try_catch_text);
    ck_assert_int_eq(ilg_body_replace(B, 0, 2, S), ILG_E_IL_BAD_EDIT);
    ck_assert_int_eq(ilg_body_replace(B, 1, 2, S), ILG_OK); /* the whole try block */
    ck_assert_uint_eq(B->eh[0].try_start, 1);
    ck_assert_uint_eq(B->eh[0].try_end, 3);
    /* Replace all keeps the header fields. */
    assemble(B, ".maxstack 5\n.locals init 0x11000003\nret\n");
    assemble(S, "ldc.i4.0\npop\nret\n");
    ck_assert_int_eq(ilg_body_replace_all(B, S), ILG_OK);
    ck_assert_uint_eq(B->count, 3);
    ck_assert_uint_eq(B->local_sig, 0x11000003);
    ck_assert_uint_eq(B->instrs[2].offset, 2);
}
END_TEST

START_TEST(wrap_try_finally_for_exit_probes)
{
    /* int f(x) { if (x) return 1; return 2; } wrapped with a finally probe. */
    assemble(B, ".maxstack 1\n.locals init 0x11000001\n"
                "ldarg.0\nbrfalse.s R\nldc.i4.1\nret\nR: ldc.i4.2\nret\n");
    assemble(S, "call 0x0a000000\n"); /* probe: no args, no result */
    ck_assert_int_eq(ilg_body_wrap(B, ILG_EH_FINALLY, S, 0), ILG_OK);
    encode(B, ILG_ENCODE_OPTIMIZE, &RV);
    redecode_clean(&RV);
    ilg_buffer txt = { 0 };
    ck_assert_int_eq(ilg_body_disassemble(D, NULL, &txt), ILG_OK);
    const char *want =
        ".maxstack 1\n"
        ".locals init 0x11000001\n"
        "IL_0000: ldarg.0\n"
        "IL_0001: brfalse.s IL_0007\n"
        "IL_0003: ldc.i4.1\n"
        "IL_0004: stloc.0\n"
        "IL_0005: leave.s IL_0011\n"
        "IL_0007: ldc.i4.2\n"
        "IL_0008: stloc.0\n"
        "IL_0009: leave.s IL_0011\n"
        "IL_000b: call 0x0a000000\n"
        "IL_0010: endfinally\n"
        "IL_0011: ldloc.0\n"
        "IL_0012: ret\n"
        ".try IL_0000 to IL_000b finally handler IL_000b to IL_0011\n";
    ck_assert_str_eq((char *)txt.data, want);
    /* leave.s targets END = IL_0011 (the ldloc.0) */
    ck_assert_int_eq(D->instrs[4].op, ILG_OP_LEAVE_S);
    ck_assert_uint_eq(D->instrs[D->instrs[4].arg.target].offset, 0x11);
    ck_assert_int_eq(D->instrs[D->instrs[4].arg.target].op, ILG_OP_LDLOC_0);
    ck_assert_uint_eq(D->instrs[D->instrs[1].arg.target].offset, 7); /* brfalse -> ldc.i4.2 */
    ck_assert_uint_eq(D->eh_count, 1);
    ck_assert_uint_eq(D->eh[0].kind, ILG_EH_FINALLY);
    ck_assert_uint_eq(D->instrs[D->eh[0].handler_start].offset, 0x0b);
    ck_assert_uint_eq(D->instrs[D->eh[0].handler_end].offset, 0x11);
    ck_assert_ptr_nonnull(strstr((char *)txt.data, ".try IL_0000 to IL_000b finally handler IL_000b to IL_0011\n"));
    free(txt.data);
    /* void method, fault handler: a branch aimed at the ret now reaches the leave */
    assemble(B, "ldarg.0\nbrtrue.s R\nnop\nR: ret\n");
    ck_assert_int_eq(ilg_body_wrap(B, ILG_EH_FAULT, S, ILG_NO_LOCAL), ILG_OK);
    ck_assert_int_eq(B->eh[0].kind, ILG_EH_FAULT);
    ck_assert_int_eq(B->instrs[B->instrs[1].arg.target].op, ILG_OP_LEAVE_S);
    encode(B, ILG_ENCODE_OPTIMIZE, &R);
    redecode_clean(&R);
    ck_assert_int_eq(ilg_body_wrap(B, ILG_EH_CATCH, S, ILG_NO_LOCAL), ILG_E_INVALID_ARG);
}
END_TEST

/* ---- verifier rules: a failing body, then its corrected twin ------------------------- */

START_TEST(verify_underflow_and_maxstack)
{
    verify_text(".maxstack 2\nldc.i4.1\nadd\npop\nret\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_UNDERFLOW, 1);
    verify_text(".maxstack 2\nldc.i4.1\nldc.i4.1\nadd\npop\nret\n", &R);
    ASSERT_CLEAN();
    verify_text(".maxstack 1\nldc.i4.1\nldc.i4.1\nadd\npop\nret\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_MAXSTACK, 1);
    /* one finding per excursion above the limit, where it is crossed */
    verify_text(".maxstack 1\nldc.i4.1\nldc.i4.1\nldc.i4.1\npop\npop\npop\nret\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_MAXSTACK, 1);
    ck_assert_uint_eq(F.count, 1);
    /* call effects come from the resolver: 0x0a000021 pops 2, pushes 1 */
    verify_text(".maxstack 2\nldc.i4.1\ncall 0x0a000021\npop\nret\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_UNDERFLOW, 1);
}
END_TEST

START_TEST(verify_merge)
{
    verify_text("ldarg.0\nbrtrue.s L\nldc.i4.1\nL: ret\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_MERGE, 4);
    verify_text("ldarg.0\nbrtrue.s L\nldc.i4.1\npop\nL: ret\n", &R);
    ASSERT_CLEAN();
    /* backward branch with a different depth */
    verify_text("L: ldc.i4.1\nldarg.0\nbrtrue.s L\npop\nret\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_MERGE, 0);
    /* dead code that disagrees (mcs emits `throw; br`) is not a finding */
    verify_text("ldarg.0\nbrfalse.s A\nldnull\nthrow\nbr.s R\nA: ldc.i4.0\nR: pop\nret\n", &R);
    ASSERT_CLEAN();
}
END_TEST

START_TEST(verify_eh_entry_and_blocks)
{
    /* try entered with a value on the stack */
    verify_text("ldc.i4.1\nT: nop\nleave.s E\nH: pop\nleave.s E\nE: ret\n"
                ".try T to H catch 0x01000001 handler H to E\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_EH_ENTRY, 1);
    verify_text(try_catch_text, &R);
    ASSERT_CLEAN();
    /* a catch handler starts with the exception: popping two underflows */
    verify_text("T: nop\nleave.s E\nH: pop\npop\nleave.s E\nE: ret\n"
                ".try T to H catch 0x01000001 handler H to E\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_UNDERFLOW, 4);
    /* a finally handler starts empty */
    verify_text("T: nop\nleave.s E\nH: pop\nendfinally\nE: ret\n"
                ".try T to H finally handler H to E\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_UNDERFLOW, 3);
}
END_TEST

START_TEST(verify_fall_through)
{
    verify_text("ldc.i4.1\npop\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_FALL_OFF_END, 1);
    /* falling out of a try block into its handler */
    verify_text("T: nop\nH: pop\nleave.s E\nE: ret\n.try T to H catch 0x01000001 handler H to E\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_FALL_BLOCK, 0);
    /* falling out of a handler */
    verify_text("T: nop\nleave.s E\nH: pop\nE: ret\n.try T to H catch 0x01000001 handler H to E\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_FALL_BLOCK, 3);
    /* falling into a try block is fine */
    verify_text("nop\nT: nop\nleave.s E\nH: pop\nleave.s E\nE: ret\n"
                ".try T to H catch 0x01000001 handler H to E\n", &R);
    ASSERT_CLEAN();
}
END_TEST

START_TEST(verify_branches_and_leave)
{
    /* br out of a try block */
    verify_text("T: nop\nbr.s E\nH: pop\nleave.s E\nE: ret\n.try T to H catch 0x01000001 handler H to E\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_BRANCH_BLOCK, 1);
    /* br into the middle of a try block */
    verify_text("ldarg.0\nbrtrue.s M\nT: nop\nM: nop\nleave.s E\nH: pop\nleave.s E\nE: ret\n"
                ".try T to H catch 0x01000001 handler H to E\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_BRANCH_BLOCK, 1);
    /* to the try's first instruction: allowed */
    verify_text("ldarg.0\nbrtrue.s T\nT: nop\nM: nop\nleave.s E\nH: pop\nleave.s E\nE: ret\n"
                ".try T to H catch 0x01000001 handler H to E\n", &R);
    ASSERT_CLEAN();
    /* leave out of a finally handler */
    verify_text("T: nop\nleave.s E\nH: leave.s E\nE: ret\n.try T to H finally handler H to E\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_LEAVE, 3);
    /* leave inside a filter */
    verify_text("T: nop\nleave.s E\nF: pop\nleave.s E\nH: pop\nleave.s E\nE: ret\n"
                ".try T to F filter F handler H to E\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_LEAVE, 4);
}
END_TEST

START_TEST(verify_endfinally_endfilter_rethrow)
{
    verify_text("endfinally\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_ENDFINALLY, 0);
    verify_text("T: nop\nleave.s E\nH: endfinally\nE: ret\n.try T to H fault handler H to E\n", &R);
    ASSERT_CLEAN();
    verify_text("ldc.i4.1\nendfilter\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_ENDFILTER, 1);
    /* a filter that does not end with endfilter, and one that leaves 0 items */
    verify_text("T: nop\nleave.s E\nF: pop\nldc.i4.1\npop\nH: pop\nleave.s E\nE: ret\n"
                ".try T to F filter F handler H to E\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_ENDFILTER, 5);
    verify_text("T: nop\nleave.s E\nF: pop\nendfilter\nH: pop\nleave.s E\nE: ret\n"
                ".try T to F filter F handler H to E\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_ENDFILTER, 4);
    verify_text("T: nop\nleave.s E\nF: pop\nldc.i4.1\nendfilter\nH: pop\nleave.s E\nE: ret\n"
                ".try T to F filter F handler H to E\n", &R);
    ASSERT_CLEAN();
    verify_text("rethrow\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_RETHROW, 0);
    verify_text("T: nop\nleave.s E\nH: pop\nrethrow\nE: ret\n.try T to H catch 0x01000001 handler H to E\n", &R);
    ASSERT_CLEAN();
    verify_text("T: nop\nleave.s E\nH: rethrow\nE: ret\n.try T to H finally handler H to E\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_RETHROW, 3);
}
END_TEST

START_TEST(verify_ret_and_jmp)
{
    verify_text("ret\n", &RV);
    ASSERT_FINDING(ILG_E_IL_VERIFY_RET, 0);
    verify_text("ldc.i4.1\nret\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_RET, 1);
    verify_text("ldc.i4.1\nret\n", &RV);
    ASSERT_CLEAN();
    verify_text("T: ret\nH: pop\nleave.s E\nE: ret\n.try T to H catch 0x01000001 handler H to E\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_RET, 0);
    verify_text("ldc.i4.1\njmp 0x06000001\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_JMP, 1);
    verify_text("jmp 0x06000001\n", &R);
    ASSERT_CLEAN();
}
END_TEST

START_TEST(verify_eh_nesting_and_order)
{
    /* two try blocks that overlap without nesting */
    verify_text("A: nop\nB: nop\nleave.s E\nH1: pop\nleave.s E\nH2: pop\nleave.s E\nE: ret\n"
                ".try A to H1 catch 0x01000001 handler H1 to H2\n"
                ".try B to H2 catch 0x01000001 handler H2 to E\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_EH_NESTING, 1);
    /* a handler overlapping its own try */
    verify_text("T: nop\nH: leave.s E\nX: pop\nleave.s E\nE: ret\n"
                ".try T to X catch 0x01000001 handler H to E\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_EH_NESTING, 1);
    /* mutual protection (one try, two handlers) is fine */
    verify_text("T: nop\nleave.s E\nH1: pop\nleave.s E\nH2: pop\nleave.s E\nE: ret\n"
                ".try T to H1 catch 0x01000001 handler H1 to H2\n"
                ".try T to H1 catch 0x01000002 handler H2 to E\n", &R);
    ASSERT_CLEAN();
    /* inner listed after outer */
    verify_text("T: nop\nI: nop\nleave.s X\nIH: pop\nleave.s X\nX: leave.s E\nH: pop\nleave.s E\nE: ret\n"
                ".try T to H catch 0x01000001 handler H to E\n"
                ".try I to IH catch 0x01000001 handler IH to X\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_EH_ORDER, 1);
    /* a nested try whose handler lies outside the enclosing try */
    verify_text("T: nop\nI: nop\nleave.s E\nH: pop\nleave.s E\nIH: pop\nleave.s E\nE: ret\n"
                ".try I to H catch 0x01000001 handler IH to E\n"
                ".try T to H catch 0x01000001 handler H to IH\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_EH_NESTING, 7);
}
END_TEST

START_TEST(verify_prefixes)
{
    verify_text("ldarg.0\nvolatile.\nldind.i4\npop\nret\n", &R);
    ASSERT_CLEAN();
    verify_text("ldarg.0\nvolatile.\nnop\npop\nret\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_PREFIX, 1);
    verify_text("tail.\ncall 0x0a000000\nnop\nret\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_PREFIX, 0);
    verify_text("tail.\ncall 0x0a000000\nret\n", &R);
    ASSERT_CLEAN();
    verify_text("nop\nreadonly.\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_PREFIX, 1);
    /* a branch between a prefix and its instruction */
    verify_text("ldarg.0\nldarg.1\nbrtrue.s X\nunaligned. 1\nX: ldind.i4\npop\nret\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_PREFIX, 2);
}
END_TEST

START_TEST(verify_reports_every_finding)
{
    /* underflow at 0, branch out of a try at 2, fall off the end at the last nop */
    verify_text("pop\nT: nop\nbr.s X\nH: pop\nleave.s X\nX: nop\n"
                ".try T to H catch 0x01000001 handler H to X\n", &R);
    ASSERT_FINDING(ILG_E_IL_VERIFY_UNDERFLOW, 0);
    ASSERT_FINDING(ILG_E_IL_VERIFY_BRANCH_BLOCK, 2);
    ASSERT_FINDING(ILG_E_IL_VERIFY_FALL_OFF_END, 7);
    ck_assert_uint_ge(F.count, 3);
    for (uint32_t i = 0; i < F.count; i++)
        ck_assert(F.items[i].message[0] != '\0');
    /* Without a resolver, stack rules stop at the call but structural ones still run. */
    verify_text("call 0x0a000021\npop\nbr.s X\nX: nop\n", NULL);
    ASSERT_FINDING(ILG_E_IL_VERIFY_FALL_OFF_END, 5 + 1 + 2);
}
END_TEST

/* ---- text ----------------------------------------------------------------------------- */

static bool tname(void *ctx, uint32_t token, char *buf, size_t size)
{
    (void)ctx;
    if (token == 0x0A000011) { snprintf(buf, size, "int32 Calc::Twice(int32)"); return true; }
    if (token == 0x70000001) { snprintf(buf, size, "\"hi \\\"there\\\"\""); return true; }
    if (token == 0x01000001) { snprintf(buf, size, "[mscorlib]System.Exception"); return true; }
    return false;
}

static bool ttoken(void *ctx, ilg_operand_kind kind, const char *text, size_t len, uint32_t *token)
{
    (void)ctx;
    char buf[128];
    snprintf(buf, sizeof buf, "%.*s", (int)len, text);
    if (kind == ILG_OPND_METHOD && !strcmp(buf, "int32 Calc::Twice(int32)")) { *token = 0x0A000011; return true; }
    if (kind == ILG_OPND_STRING && !strcmp(buf, "\"hi \\\"there\\\"\"")) { *token = 0x70000001; return true; }
    if (kind == ILG_OPND_TYPE && !strcmp(buf, "[mscorlib]System.Exception")) { *token = 0x01000001; return true; }
    return false;
}

START_TEST(disassemble_exact_text)
{
    uint8_t body[64];
    size_t len = catch_body_small(body);
    ck_assert_int_eq(ilg_body_decode(B, body, len), ILG_OK);
    ck_assert_int_eq(ilg_body_disassemble(B, NULL, &out), ILG_OK);
    ck_assert_str_eq((char *)out.data,
                     ".maxstack 1\n"
                     ".locals init 0x11000001\n"
                     "IL_0000: ldc.i4.0\n"
                     "IL_0001: pop\n"
                     "IL_0002: leave.s IL_0007\n"
                     "IL_0004: pop\n"
                     "IL_0005: leave.s IL_0007\n"
                     "IL_0007: ret\n"
                     ".try IL_0000 to IL_0004 catch 0x01000001 handler IL_0004 to IL_0007\n");
    ck_assert_uint_eq(out.len, strlen((char *)out.data));
    /* assemble it back and encode: the same bytes */
    assemble(D, (char *)out.data);
    ilg_buffer again = { 0 };
    ck_assert_int_eq(ilg_body_encode(D, ILG_ENCODE_OPTIMIZE, &R, &again), ILG_OK);
    /* optimize writes canonical flags; the original has them too */
    ck_assert_uint_eq(again.len, len);
    ck_assert_mem_eq(again.data, body, len);
    free(again.data);
}
END_TEST

START_TEST(text_names_through_resolver)
{
    ilg_name_resolver names = { tname, ttoken, NULL };
    const char *text = ".maxstack 2\n"
                       "IL_0000: ldstr \"hi \\\"there\\\"\"\n"
                       "IL_0005: pop\n"
                       "IL_0006: ldc.i4.2\n"
                       "IL_0007: call int32 Calc::Twice(int32) // doubled\n"
                       "IL_000c: leave.s IL_0011\n"
                       "IL_000e: pop\n"
                       "IL_000f: rethrow\n"
                       "IL_0011: ret\n"
                       ".try IL_0000 to IL_000e catch [mscorlib]System.Exception handler IL_000e to IL_0011\n";
    ck_assert_int_eq(ilg_body_assemble(B, text, strlen(text), &names), ILG_OK);
    ck_assert_uint_eq(B->instrs[0].arg.token, 0x70000001);
    ck_assert_uint_eq(B->instrs[3].arg.token, 0x0A000011);
    ck_assert_uint_eq(B->eh[0].class_token, 0x01000001);
    ck_assert_int_eq(ilg_body_disassemble(B, &names, &out), ILG_OK);
    /* the same text, less the comment */
    char want[1024];
    snprintf(want, sizeof want, "%s", text);
    char *c = strstr(want, " // doubled");
    memmove(c, c + strlen(" // doubled"), strlen(c + strlen(" // doubled")) + 1);
    ck_assert_str_eq((char *)out.data, want);
    /* numbers when the resolver does not know a token */
    ilg_body_reset(B);
    ilg_body_append(B, ILG_OP_CALL, 0x0A000099);
    out.len = 0;
    ck_assert_int_eq(ilg_body_disassemble(B, &names, &out), ILG_OK);
    ck_assert_ptr_nonnull(strstr((char *)out.data, "call 0x0a000099"));
    /* a name without a resolver */
    ck_assert_int_eq(ilg_body_assemble(B, "call Foo::Bar()\n", 16, NULL), ILG_E_IL_UNRESOLVED_NAME);
    ck_assert_uint_eq(ilg_last_diag()->offset, 5);
}
END_TEST

START_TEST(text_syntax_errors)
{
    const char *t1 = "nop\nbogus.op\n";
    ck_assert_int_eq(ilg_body_assemble(B, t1, strlen(t1), NULL), ILG_E_IL_SYNTAX);
    ck_assert_int_eq(ilg_last_diag()->where, ILG_WHERE_FILE);
    ck_assert_uint_eq(ilg_last_diag()->offset, 4);
    ck_assert_ptr_nonnull(strstr(ilg_last_diag()->message, "line 2"));
    const char *t2 = "br.s NOWHERE\n";
    ck_assert_int_eq(ilg_body_assemble(B, t2, strlen(t2), NULL), ILG_E_IL_UNDEFINED_LABEL);
    ck_assert_uint_eq(ilg_last_diag()->offset, 5);
    const char *t3 = "ldc.i4.s 300\n";
    ck_assert_int_eq(ilg_body_assemble(B, t3, strlen(t3), NULL), ILG_E_IL_SYNTAX);
    const char *t4 = "A: nop\nA: ret\n";
    ck_assert_int_eq(ilg_body_assemble(B, t4, strlen(t4), NULL), ILG_E_IL_SYNTAX);
    const char *t5 = "ret extra\n";
    ck_assert_int_eq(ilg_body_assemble(B, t5, strlen(t5), NULL), ILG_E_IL_SYNTAX);
    const char *t6 = ".try A to B wrong handler C to D\n";
    ck_assert_int_eq(ilg_body_assemble(B, t6, strlen(t6), NULL), ILG_E_IL_SYNTAX);
    const char *t7 = "switch (A, B\n";
    ck_assert_int_eq(ilg_body_assemble(B, t7, strlen(t7), NULL), ILG_E_IL_SYNTAX);
    ck_assert_uint_eq(B->count, 0);
}
END_TEST

/* ilasm's block form (as IL sources and monodis write EH) assembles to the same body as
 * the label form: a try with two catches, a finally nested in the try, a filter, and a
 * try inside a handler; braces on their own lines or sharing them. Inner clauses come
 * first. (The corpus suite checks it against monodis on 2,592 real methods.) */
START_TEST(text_block_form_equals_label_form)
{
    const char *blocks =
        ".maxstack 2\n"
        ".try\n"
        "{\n"
        "  .try {\n"
        "    ldarg.0\n"
        "    pop\n"
        "    leave.s AFTER\n"
        "  } // end .try\n"
        "  finally {\n"
        "    endfinally\n"
        "  }\n"
        "  AFTER: leave.s END\n"
        "}\n"
        "catch 0x01000002\n"
        "{\n"
        "  pop\n"
        "  leave.s END\n"
        "} catch 0x01000003 { pop\n"
        "  .try { nop\n leave.s IN } fault { endfinally }\n"
        "  IN: leave.s END\n"
        "}\n"
        ".try { ldarg.0 leave.s END }\n"
        "filter {\n"
        "  pop\n"
        "  ldc.i4.1\n"
        "  endfilter\n"
        "} {\n"
        "  pop\n"
        "  leave.s END\n"
        "}\n"
        "END: ret\n";
    const char *labels =
        ".maxstack 2\n"
        "T0: ldarg.0\n"
        "pop\n"
        "leave.s AFTER\n"
        "F0: endfinally\n"
        "AFTER: leave.s END\n"
        "C1: pop\n"
        "leave.s END\n"
        "C2: pop\n"
        "T3: nop\n"
        "leave.s IN\n"
        "F3: endfinally\n"
        "IN: leave.s END\n"
        "T4: ldarg.0\n"
        "leave.s END\n"
        "FL: pop\n"
        "ldc.i4.1\n"
        "endfilter\n"
        "H4: pop\n"
        "leave.s END\n"
        "END: ret\n"
        ".try T0 to F0 finally handler F0 to AFTER\n"
        ".try T0 to C1 catch 0x01000002 handler C1 to C2\n"
        ".try T3 to F3 fault handler F3 to IN\n"
        ".try T0 to C1 catch 0x01000003 handler C2 to T4\n"
        ".try T4 to FL filter FL handler H4 to END\n";
    /* The block form puts `ldarg.0 leave.s END` on one line: not ilasm. Split it. */
    char fixed[2048];
    snprintf(fixed, sizeof fixed, "%s", blocks);
    char *p = strstr(fixed, "ldarg.0 leave.s END }");
    ck_assert_ptr_nonnull(p);
    p[7] = '\n';
    assemble(B, fixed);
    assemble(S, labels);
    ck_assert_uint_eq(B->count, S->count);
    ck_assert_uint_eq(B->code_size, S->code_size);
    for (uint32_t i = 0; i < B->count; i++) {
        ck_assert_uint_eq(B->instrs[i].op, S->instrs[i].op);
        ck_assert_uint_eq(B->instrs[i].offset, S->instrs[i].offset);
    }
    ck_assert_uint_eq(B->eh_count, 5);
    ck_assert_uint_eq(S->eh_count, 5);
    for (uint32_t c = 0; c < 5; c++) {
        const ilg_eh_clause *x = &B->eh[c], *y = &S->eh[c];
        ck_assert_msg(x->kind == y->kind && x->try_start == y->try_start &&
                          x->try_end == y->try_end && x->handler_start == y->handler_start &&
                          x->handler_end == y->handler_end && x->class_token == y->class_token &&
                          (x->kind != ILG_EH_FILTER || x->filter_start == y->filter_start),
                      "clause %u differs", c);
    }
    ck_assert_int_eq(ilg_body_verify(B, NULL, &F), ILG_OK);
    for (uint32_t k = 0; k < F.count; k++)
        ck_assert_msg(F.items[k].rule != ILG_E_IL_VERIFY_EH_ORDER &&
                          F.items[k].rule != ILG_E_IL_VERIFY_EH_NESTING,
                      "%s", F.items[k].message);
}
END_TEST

/* Block-form mistakes: each a syntax error at the offending brace or keyword. */
START_TEST(text_block_form_errors)
{
    static const struct {
        const char *text, *message;
        size_t offset;
    } bad[] = {
        { "nop\n}\n", "'}' closes nothing", 4 },
        { "nop\n{\nnop\n}\n", "'{' opens nothing", 4 },
        { ".try {\nnop\n", "never closed", 5 },
        { "catch 0x01000001 { pop }\nret\n", "'catch' without a .try", 0 },
        { ".try { nop\n}\nret\n", "needs a catch, filter, finally or fault", 11 },
        { ".try { nop\n}\n", "needs a catch, filter, finally or fault", 11 },
        { ".try {\nleave.s E\n}\nE: finally { endfinally }\nret\n", "needs a catch", 17 },
        { "nop\nfinally { endfinally }\n", "'finally' without a .try", 4 },
        { ".try\nnop\n", "expected '{'", 5 },
        { ".try { }\n", "empty .try block", 7 },
        { ".try {\nnop\n}\nfilter\n", "expected '{' before the end", 0 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(ilg_body_assemble(B, bad[i].text, strlen(bad[i].text), NULL) ==
                          ILG_E_IL_SYNTAX,
                      "case %zu assembled", i);
        ck_assert_msg(strstr(ilg_last_diag()->message, bad[i].message), "case %zu: %s", i,
                      ilg_last_diag()->message);
        if (bad[i].offset)
            ck_assert_uint_eq(ilg_last_diag()->offset, bad[i].offset);
        ck_assert_uint_eq(B->count, 0);
    }
}
END_TEST

/* Every opcode with a representative operand: text -> body -> text is stable and the
 * body survives encode -> decode unchanged. */
START_TEST(text_round_trip_every_opcode)
{
    ilg_body_reset(B);
    uint32_t cases[2] = { 0, 1 };
    for (int op = 0; op < ILG_OP_COUNT; op++) {
        const ilg_opcode_info *oi = ilg_opcode_get((ilg_opcode)op);
        switch (oi->operand) {
        case ILG_OPND_SWITCH: ilg_body_append_switch(B, cases, 2); break;
        case ILG_OPND_R4: ilg_body_append_real(B, (ilg_opcode)op, -2.5); break;
        case ILG_OPND_R8: ilg_body_append_real(B, (ilg_opcode)op, NAN); break;
        case ILG_OPND_BR1: case ILG_OPND_BR4: ilg_body_append(B, (ilg_opcode)op, (uint32_t)op / 2); break;
        case ILG_OPND_I1: ilg_body_append(B, (ilg_opcode)op, -128); break;
        case ILG_OPND_I4: ilg_body_append(B, (ilg_opcode)op, INT32_MIN); break;
        case ILG_OPND_I8: ilg_body_append(B, (ilg_opcode)op, INT64_MIN); break;
        case ILG_OPND_U1: case ILG_OPND_VAR1: ilg_body_append(B, (ilg_opcode)op, 255); break;
        case ILG_OPND_VAR2: ilg_body_append(B, (ilg_opcode)op, 65535); break;
        case ILG_OPND_NONE: ilg_body_append(B, (ilg_opcode)op, 0); break;
        default: ilg_body_append(B, (ilg_opcode)op, 0x0A000000 + op); break;
        }
    }
    ck_assert_uint_eq(B->count, ILG_OP_COUNT);
    ck_assert_int_eq(ilg_body_layout(B), ILG_OK);
    ck_assert_int_eq(ilg_body_disassemble(B, NULL, &out), ILG_OK);
    char *first = strdup((char *)out.data);
    assemble(D, first);
    ilg_buffer second = { 0 };
    ck_assert_int_eq(ilg_body_disassemble(D, NULL, &second), ILG_OK);
    ck_assert_str_eq((char *)second.data, first);
    ck_assert_uint_eq(D->count, B->count);
    for (uint32_t i = 0; i < B->count; i++) {
        ck_assert_int_eq(D->instrs[i].op, B->instrs[i].op);
        ck_assert_uint_eq(D->instrs[i].offset, B->instrs[i].offset);
    }
    ck_assert(isnan(D->instrs[ILG_OP_LDC_R8].arg.r8));
    /* bytes: preserve keeps every form but grows short branches that no longer reach;
     * decoding gives the instructions encode settled on */
    encode(D, ILG_ENCODE_PRESERVE, NULL);
    ck_assert_int_eq(ilg_body_decode(S, out.data, out.len), ILG_OK);
    ck_assert_uint_eq(S->count, B->count);
    for (uint32_t i = 0; i < B->count; i++) {
        ck_assert_int_eq(S->instrs[i].op, D->instrs[i].op);
        if (B->instrs[i].op != D->instrs[i].op)
            ck_assert_int_eq(ilg_opcode_get(B->instrs[i].op)->operand, ILG_OPND_BR1);
        ck_assert(memcmp(&S->instrs[i].arg, &D->instrs[i].arg, sizeof S->instrs[i].arg) == 0 ||
                  ilg_opcode_get(S->instrs[i].op)->operand == ILG_OPND_SWITCH);
    }
    free(first);
    free(second.data);
}
END_TEST

/* ---- property tests: random valid edits keep bodies valid ----------------------------- */

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng_state >> 33) % n);
}

/* A random stack-neutral statement list: pushes and pops, calls, loops and forward
 * jumps between statements (where the stack is empty), optionally inside try/catch. */
static void random_body(ilg_body *b)
{
    ilg_body_reset(b);
    uint32_t stmts = 2 + rnd(40);
    uint32_t *starts = calloc(stmts + 1, sizeof *starts);
    /* first pass: statements with placeholder targets */
    for (uint32_t s = 0; s < stmts; s++) {
        starts[s] = b->count;
        switch (rnd(6)) {
        case 0: ilg_body_append(b, ILG_OP_LDC_I4, rnd(1000)); ilg_body_append(b, ILG_OP_POP, 0); break;
        case 1:
            ilg_body_append(b, ILG_OP_LDARG_0, 0);
            ilg_body_append(b, ILG_OP_LDC_I4_S, 3);
            ilg_body_append(b, ILG_OP_CALL, 0x0A000021);
            ilg_body_append(b, ILG_OP_POP, 0);
            break;
        case 2: ilg_body_append(b, ILG_OP_LDARG_0, 0); ilg_body_append(b, ILG_OP_BRTRUE_S, UINT32_MAX - s); break;
        case 3: ilg_body_append(b, ILG_OP_BR, UINT32_MAX - s); break;
        case 4: {
            ilg_body_append(b, ILG_OP_LDARG_0, 0);
            uint32_t t[3] = { UINT32_MAX - s, UINT32_MAX - s, UINT32_MAX - s };
            ilg_body_append_switch(b, t, 1 + rnd(3));
            break;
        }
        default: ilg_body_append(b, ILG_OP_NOP, 0); break;
        }
    }
    starts[stmts] = b->count;
    ilg_body_append(b, ILG_OP_RET, 0);
    /* resolve placeholders to random statement starts (or the final ret) */
    for (uint32_t i = 0; i < b->count; i++) {
        ilg_instr *in = &b->instrs[i];
        const ilg_opcode_info *oi = ilg_opcode_get(in->op);
        if (oi->operand == ILG_OPND_BR1 || oi->operand == ILG_OPND_BR4)
            in->arg.target = starts[rnd(stmts + 1)];
        else if (oi->operand == ILG_OPND_SWITCH)
            for (uint32_t j = 0; j < in->arg.sw.count; j++)
                b->targets[in->arg.sw.first + j] = starts[rnd(stmts + 1)];
    }
    ilg_body_layout(b);
    free(starts);
}

START_TEST(property_random_edits_stay_valid)
{
    rng_state = 0x9E3779B97F4A7C15ull + (uint64_t)_i;
    ilg_body *snip;
    ck_assert_int_eq(ilg_body_new(&snip), ILG_OK);
    for (int round = 0; round < 200; round++) {
        random_body(B);
        ck_assert_int_eq(ilg_body_verify(B, &R, &F), ILG_OK);
        B->max_stack = 8;
        ck_assert_int_eq(ilg_body_verify(B, &R, &F), ILG_OK);
        ASSERT_CLEAN();
        const uint32_t original = B->count;
        uint32_t inserted = 0;
        for (int e = 0; e < 5; e++) {
            random_body(snip);
            snip->count--; /* drop its ret: a neutral snippet that falls through */
            /* snippet targets at its own end mean "after the snippet": keep them valid */
            for (uint32_t i = 0; i < snip->count; i++) {
                const ilg_opcode_info *oi = ilg_opcode_get(snip->instrs[i].op);
                if ((oi->operand == ILG_OPND_BR1 || oi->operand == ILG_OPND_BR4) &&
                    snip->instrs[i].arg.target > snip->count)
                    snip->instrs[i].arg.target = snip->count;
            }
            for (uint32_t j = 0; j < snip->target_count; j++)
                if (snip->targets[j] > snip->count)
                    snip->targets[j] = snip->count;
            /* anywhere but after the final ret (the code would fall off the end) */
            uint32_t at = rnd(B->count);
            unsigned flags = rnd(2) ? ILG_EDIT_RETARGET : 0;
            ilg_status st = rnd(2) || at == B->count - 1 ? ilg_body_insert_before(B, at, snip, flags)
                                                         : ilg_body_insert_after(B, at, snip, 0);
            ck_assert_msg(st == ILG_OK, "insert: %s", ilg_last_diag()->message);
            inserted += snip->count;
        }
        ck_assert_uint_eq(B->count, original + inserted);
        if (rnd(2)) {
            ilg_body_reset(snip);
            ilg_body_append(snip, ILG_OP_NOP, 0);
            ck_assert_int_eq(ilg_body_wrap(B, rnd(2) ? ILG_EH_FINALLY : ILG_EH_FAULT, snip, ILG_NO_LOCAL), ILG_OK);
        }
        const ilg_encode_mode mode = rnd(2) ? ILG_ENCODE_OPTIMIZE : ILG_ENCODE_PRESERVE;
        encode(B, mode, &R);
        redecode_clean(&R);
        ck_assert_uint_eq(D->count, B->count);
        for (uint32_t i = 0; i < B->count; i++)
            ck_assert_int_eq(D->instrs[i].op, B->instrs[i].op);
        /* and the text round trip of the result is stable */
        out.len = 0;
        ck_assert_int_eq(ilg_body_disassemble(D, NULL, &out), ILG_OK);
        char *t = strdup((char *)out.data);
        assemble(S, t);
        out.len = 0;
        ck_assert_int_eq(ilg_body_disassemble(S, NULL, &out), ILG_OK);
        ck_assert_str_eq((char *)out.data, t);
        free(t);
    }
    ilg_body_free(snip);
}
END_TEST

/* Random mutations of valid bodies: whatever decodes re-encodes in preserve mode to
 * exactly the bytes it was decoded from, verifies and disassembles without harm, and its
 * text reads back to the same text; whatever does not decode fails with an ilbody
 * status and an IL offset inside the input. */
START_TEST(property_mutated_bytes)
{
    rng_state = 0xD1B54A32D192ED03ull + (uint64_t)_i;
    uint8_t seed_small[64];
    const size_t small_len = catch_body_small(seed_small);
    ilg_buffer text = { 0 }, text2 = { 0 };
    unsigned decoded = 0, rejected = 0;
    for (int round = 0; round < 3000; round++) {
        uint8_t buf[600];
        size_t len;
        if (rnd(2)) {
            memcpy(buf, seed_small, small_len);
            len = small_len;
        } else {
            random_body(B);
            encode(B, rnd(2) ? ILG_ENCODE_OPTIMIZE : ILG_ENCODE_PRESERVE, &R);
            if (out.len > sizeof buf)
                continue;
            memcpy(buf, out.data, out.len);
            len = out.len;
        }
        for (uint32_t m = 1 + rnd(3); m-- > 0;) {
            switch (rnd(4)) {
            case 0: buf[rnd((uint32_t)len)] = (uint8_t)rnd(256); break;
            case 1: buf[rnd((uint32_t)len)] ^= (uint8_t)(1u << rnd(8)); break;
            case 2: len = 1 + rnd((uint32_t)len); break;
            default: buf[rnd((uint32_t)len)] = (uint8_t)(rnd(2) ? 0x2B + rnd(26) : 0xFE); break;
            }
        }
        /* decode from a heap copy of exactly len bytes so ASan sees any over-read */
        uint8_t *exact = malloc(len);
        memcpy(exact, buf, len);
        ilg_status st = ilg_body_decode(D, exact, len);
        if (st != ILG_OK) {
            rejected++;
            ck_assert_msg(st >= ILG_E_IL_TRUNCATED && st <= ILG_E_IL_BAD_EH, "status %s",
                          ilg_status_name(st));
            ck_assert_int_eq(ilg_last_diag()->where, ILG_WHERE_IL);
            free(exact);
            continue;
        }
        decoded++;
        ck_assert_uint_le(D->size, len);
        ck_assert_int_eq(ilg_body_verify(D, &R, &F), ILG_OK);
        text.len = 0;
        ck_assert_int_eq(ilg_body_disassemble(D, NULL, &text), ILG_OK);
        ck_assert_int_eq(ilg_body_encode(D, ILG_ENCODE_PRESERVE, NULL, &out), ILG_OK);
        ck_assert_uint_eq(out.len, D->size);
        size_t at = 0;
        while (at < out.len && out.data[at] == exact[at])
            at++;
        ck_assert_msg(at == out.len, "preserve differs in round %d at byte %zu of %zu: %02x, was %02x (header %02x %02x)",
                      round, at, out.len, at < out.len ? out.data[at] : 0, at < len ? exact[at] : 0,
                      exact[0], len > 1 ? exact[1] : 0);
        st = ilg_body_assemble(S, (char *)text.data, text.len, NULL);
        ck_assert_msg(st == ILG_OK, "%s\n%s", ilg_last_diag()->message, (char *)text.data);
        text2.len = 0;
        ck_assert_int_eq(ilg_body_disassemble(S, NULL, &text2), ILG_OK);
        ck_assert_str_eq((char *)text2.data, (char *)text.data);
        free(exact);
    }
    ck_assert_uint_gt(decoded, 100);
    ck_assert_uint_gt(rejected, 100);
    free(text.data);
    free(text2.data);
}
END_TEST

START_TEST(bad_arguments)
{
    ck_assert_int_eq(ilg_body_decode(NULL, NULL, 0), ILG_E_INVALID_ARG);
    ck_assert_int_eq(ilg_body_encode(B, (ilg_encode_mode)7, NULL, &out), ILG_E_INVALID_ARG);
    ck_assert_int_eq(ilg_body_insert_before(B, 5, S, 0), ILG_E_INVALID_ARG);
    ck_assert_int_eq(ilg_body_insert_before(B, 0, B, 0), ILG_E_INVALID_ARG);
    ck_assert_int_eq(ilg_body_remove(B, 0, 1), ILG_E_INVALID_ARG);
    ck_assert_int_eq(ilg_body_append(B, ILG_OP_SWITCH, 0), ILG_E_INVALID_ARG);
    ck_assert_int_eq(ilg_body_append(B, ILG_OP_COUNT, 0), ILG_E_INVALID_ARG);
    /* a target past the end is caught at encode time */
    ilg_body_append(B, ILG_OP_BR, 7);
    ck_assert_int_eq(ilg_body_encode(B, ILG_ENCODE_OPTIMIZE, &R, &out), ILG_E_IL_BAD_TARGET);
    ilg_body_free(NULL);
}
END_TEST

void ilbody_type_cases(Suite *s); /* test_ilbody_types.c */

static Suite *ilbody_suite(void)
{
    Suite *s = suite_create("ilbody");
    struct { const char *name; const TTest *test; } tests[] = {
        { "opcodes", opcode_table_matches_partition_iii },
        { "opcodes", unassigned_encodings_are_unknown },
        { "decode", decode_tiny },
        { "decode", decode_fat_small_eh },
        { "decode", decode_fat_eh_and_filter_preserved },
        { "decode", decode_switch_prefix_and_wide_operands },
        { "decode", decode_rejections_name_the_offset },
        { "decode", decode_rejects_bad_eh },
        { "bugs", bug_branch_to_inserted_code },
        { "bugs", bug_eh_ends_follow_their_instructions },
        { "bugs", bug_clause_order_after_wrap },
        { "bugs", bug_short_branch_overflow },
        { "bugs", branch_fixed_point_cascade },
        { "bugs", bug_tiny_grown_past_63 },
        { "bugs", bug_maxstack_after_insert_and_switch },
        { "bugs", bug_buffer_sized_from_real_size },
        { "bugs", bug_prefix_stays_attached },
        { "bugs", encode_refuses_maxstack_over_65535 },
        { "bugs", locals_token_must_be_a_standalonesig },
        { "bugs", branch_to_the_end_of_the_body_is_refused },
        { "bugs", bug_small_eh_section_overflow },
        { "edit", insert_before_rets_and_entry },
        { "edit", snippet_targets_body_and_following },
        { "edit", remove_and_replace_rules },
        { "edit", wrap_try_finally_for_exit_probes },
        { "verify", verify_underflow_and_maxstack },
        { "verify", verify_merge },
        { "verify", verify_eh_entry_and_blocks },
        { "verify", verify_fall_through },
        { "verify", verify_branches_and_leave },
        { "verify", verify_endfinally_endfilter_rethrow },
        { "verify", verify_ret_and_jmp },
        { "verify", verify_eh_nesting_and_order },
        { "verify", verify_prefixes },
        { "verify", verify_reports_every_finding },
        { "text", disassemble_exact_text },
        { "text", text_names_through_resolver },
        { "text", text_syntax_errors },
        { "text", text_block_form_equals_label_form },
        { "text", text_block_form_errors },
        { "text", text_round_trip_every_opcode },
        { "misc", bad_arguments },
    };
    TCase *tc = NULL;
    const char *cur = NULL;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (!cur || strcmp(cur, tests[i].name) != 0) {
            tc = tcase_create(tests[i].name);
            tcase_add_checked_fixture(tc, setup, teardown);
            suite_add_tcase(s, tc);
            cur = tests[i].name;
        }
        tcase_add_test(tc, tests[i].test);
    }
    TCase *prop = tcase_create("property");
    tcase_add_checked_fixture(prop, setup, teardown);
    tcase_add_loop_test(prop, property_random_edits_stay_valid, 0, 8);
    tcase_add_loop_test(prop, property_mutated_bytes, 0, 4);
    suite_add_tcase(s, prop);
    ilbody_type_cases(s);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ilbody_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
