/* fuzz_body.c: libFuzzer target for ilbody: any bytes as a method body. When they
 * decode, the body must verify without crashing, re-encode byte for byte in preserve
 * mode (ilbody's promise for an untouched body), survive text -> body -> text with the
 * same text, and re-encode in optimize mode to bytes that decode again. */
#include <stdlib.h>
#include <string.h>

#include "ilgraft/ilbody.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
