/* fuzz_body.c: libFuzzer target for ilbody: any bytes as a method body. When they
 * decode, the body must verify without crashing at every level (the type levels with a
 * resolver whose answers, signature blobs included, are cut from the same bytes),
 * re-encode byte for byte in preserve mode (ilbody's promise for an untouched body),
 * survive text -> body -> text with the same text, and re-encode in optimize mode to
 * bytes that decode again. */
#include <stdlib.h>
#include <string.h>

#include "ilgraft/ilbody.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- a resolver made of the input --------------------------------------------------- */

static const uint8_t *in_data;
static size_t in_size;

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    return x;
}

/* Up to 24 bytes of the input, chosen by h: signatures as odd as the fuzzer makes them. */
static void slice(uint32_t h, const uint8_t **p, uint32_t *len)
{
    const size_t at = in_size ? h % in_size : 0;
    const size_t n = in_size - at < 24 ? in_size - at : 24;
    *p = in_data + at;
    *len = (uint32_t)n;
}

static bool known_row(uint32_t token)
{
    return (token & 0xFFFFFF) != 0 && (token & 0xFFFFFF) <= 64;
}

static ilg_status fz_type(void *ctx, uint32_t token, ilg_type_facts *out)
{
    const uint32_t t = token >> 24, h = mix(token);
    (void)ctx;
    if (t != 0x01 && t != 0x02 && t != 0x1B)
        return ILG_E_INVALID_ARG;
    if (!known_row(token))
        return ILG_E_NOT_FOUND;
    *out = (ilg_type_facts){ (uint8_t)(h % 6), (uint8_t)(h >> 8 & 0x1F), (uint16_t)(h >> 16 & 0x1F), NULL, 0 };
    if (t == 0x1B)
        slice(h, &out->spec, &out->spec_len);
    return ILG_OK;
}

static ilg_status fz_member(void *ctx, uint32_t token, ilg_member_facts *out)
{
    const uint32_t t = token >> 24, h = mix(token);
    (void)ctx;
    if (t != 0x04 && t != 0x06 && t != 0x0A && t != 0x2B)
        return ILG_E_INVALID_ARG;
    if (!known_row(token))
        return ILG_E_NOT_FOUND;
    memset(out, 0, sizeof *out);
    out->kind = t == 0x04 || (t == 0x0A && (h & 1)) ? ILG_MEMBER_FIELD : ILG_MEMBER_METHOD;
    out->flags = (uint16_t)(h >> 4 & 0xFF);
    out->owner = (h & 0x100) ? 0x1B000000u | (h % 70) : 0x02000000u | (h % 70);
    slice(h >> 9, &out->sig, &out->sig_len);
    if (t == 0x2B)
        slice(h >> 13, &out->inst, &out->inst_len);
    return ILG_OK;
}

static ilg_status fz_sig(void *ctx, uint32_t token, const uint8_t **sig, uint32_t *len)
{
    (void)ctx;
    if ((token >> 24) != 0x11 || !known_row(token))
        return ILG_E_NOT_FOUND;
    slice(mix(token), sig, len);
    return ILG_OK;
}

static ilg_status fz_string(void *ctx, uint32_t token)
{
    (void)ctx;
    return mix(token) & 1 ? ILG_OK : ILG_E_NOT_FOUND;
}

/* Every level verifies, and the findings are consistent with each other. */
static void verify_levels(const ilg_body *b, ilg_findings *f)
{
    static int ctx;
    const ilg_type_resolver r = { fz_type, fz_member, fz_sig, fz_string, &ctx, 0x06000001u };
    for (int level = ILG_VERIFY_STRUCTURAL; level <= ILG_VERIFY_STRICT; level++) {
        const ilg_verify_options o = { (ilg_verify_level)level, NULL, &r };
        if (ilg_body_verify_opts(b, &o, f) != ILG_OK)
            abort();
        uint32_t errors = 0, warnings = 0;
        for (uint32_t k = 0; k < f->count; k++)
            f->items[k].severity == ILG_SEVERITY_ERROR ? errors++ : warnings++;
        if (errors != f->errors || (warnings && level < ILG_VERIFY_STRICT) ||
            (f->outcome == ILG_OUTCOME_NONE) != (errors == 0))
            abort(); /* counts, levels and the outcome disagree */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ilg_body *b = NULL, *t = NULL;
    ilg_buffer out = { 0 }, text = { 0 }, text2 = { 0 };
    ilg_findings f = { 0 };
    if (ilg_body_new(&b) != ILG_OK || ilg_body_new(&t) != ILG_OK)
        abort();
    if (ilg_body_decode(b, data, size) != ILG_OK)
        goto done;
    if (ilg_body_verify(b, NULL, &f) != ILG_OK)
        abort();
    in_data = data;
    in_size = size;
    verify_levels(b, &f);
    const uint32_t original = b->size;
    if (ilg_body_encode(b, ILG_ENCODE_PRESERVE, NULL, &out) == ILG_OK &&
        (out.len != original || memcmp(out.data, data, original) != 0))
        abort(); /* preserve mode changed an untouched body */

    if (ilg_body_disassemble(b, NULL, &text) == ILG_OK) {
        if (ilg_body_assemble(t, (const char *)text.data, text.len, NULL) != ILG_OK)
            abort(); /* our own text must read back */
        if (ilg_body_disassemble(t, NULL, &text2) != ILG_OK || text2.len != text.len ||
            memcmp(text.data, text2.data, text.len) != 0)
            abort(); /* text -> body -> text must be stable */
    }
    out.len = 0;
    if (ilg_body_encode(b, ILG_ENCODE_OPTIMIZE, NULL, &out) == ILG_OK &&
        ilg_body_decode(t, out.data, out.len) != ILG_OK)
        abort(); /* optimize mode wrote bytes its own decoder refuses */
done:
    ilg_findings_free(&f);
    free(out.data);
    free(text.data);
    free(text2.data);
    ilg_body_free(b);
    ilg_body_free(t);
    return 0;
}
