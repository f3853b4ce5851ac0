/* fuzz_asm.c: libFuzzer target for the IL text assembler: any text. When it assembles,
 * the body must disassemble to text that assembles to the same text again, and encode
 * in optimize mode to bytes that decode. */
#include <stdlib.h>
#include <string.h>

#include "ilgraft/ilbody.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ilg_body *b = NULL, *t = NULL;
    ilg_buffer text = { 0 }, text2 = { 0 }, out = { 0 };
    if (ilg_body_new(&b) != ILG_OK || ilg_body_new(&t) != ILG_OK)
        abort();
    if (ilg_body_assemble(b, (const char *)data, size, NULL) != ILG_OK)
        goto done;
    if (ilg_body_disassemble(b, NULL, &text) == ILG_OK) {
        if (ilg_body_assemble(t, (const char *)text.data, text.len, NULL) != ILG_OK)
            abort();
        if (ilg_body_disassemble(t, NULL, &text2) != ILG_OK || text2.len != text.len ||
            memcmp(text.data, text2.data, text.len) != 0)
            abort();
    }
    if (ilg_body_encode(b, ILG_ENCODE_OPTIMIZE, NULL, &out) == ILG_OK &&
        ilg_body_decode(t, out.data, out.len) != ILG_OK)
        abort();
done:
    free(text.data);
    free(text2.data);
    free(out.data);
    ilg_body_free(b);
    ilg_body_free(t);
    return 0;
}
