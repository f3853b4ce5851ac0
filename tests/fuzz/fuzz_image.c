/* fuzz_image.c: libFuzzer target: open any bytes as an image, then walk everything the
 * loader and the metadata reader expose: regions, sections, symbols, every table cell,
 * every heap reference, every method's name, body and call shape, every type name, and
 * every member reference, field and method instantiation by name; for a ReadyToRun
 * image every precompiled method's code, every RUNTIME_FUNCTION and inlining pair. */
#include <stdlib.h>

#include "ilgraft/metadata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_metadata(const ilg_metadata *md)
{
    char buf[512];
    ilg_md_info mi;
    ilg_md_get_info(md, &mi);
    for (int t = 0; t < ILG_TBL_COUNT; t++) {
        uint32_t rows = ilg_md_row_count(md, (ilg_table)t);
        uint32_t cols = ilg_md_column_count((ilg_table)t);
        for (uint32_t r = 1; r <= rows && r <= 2000; r++)
            for (uint32_t c = 0; c < cols; c++) {
                ilg_column_info ci;
                uint32_t v;
                const char *s;
                const uint8_t *p;
                uint32_t len;
                if (ilg_md_cell(md, (ilg_table)t, r, c, &v) != ILG_OK ||
                    ilg_md_column(md, (ilg_table)t, c, &ci) != ILG_OK)
                    abort(); /* validated at parse: accessors must not fail */
                if (ci.kind == ILG_COL_STR && ilg_md_string(md, v, &s) != ILG_OK)
                    abort();
                if (ci.kind == ILG_COL_BLOB && ilg_md_blob(md, v, &p, &len) != ILG_OK)
                    abort();
                if (ci.kind == ILG_COL_GUID && v)
                    ilg_md_guid(md, v, &p);
            }
    }
    static const ilg_table types[] = { ILG_TBL_TypeDef, ILG_TBL_TypeRef, ILG_TBL_TypeSpec };
    for (size_t k = 0; k < 3; k++)
        for (uint32_t r = 1; r <= ilg_md_row_count(md, types[k]) && r <= 2000; r++)
            ilg_md_type_name(md, ((uint32_t)types[k] << 24) | r, buf, sizeof buf, NULL);
    for (uint32_t r = 1; r <= ilg_md_row_count(md, ILG_TBL_MethodDef) && r <= 5000; r++) {
        ilg_method_body b;
        ilg_method_info m;
        uint32_t pops;
        bool has_this, pushes;
        ilg_md_method(md, r, &m);
        ilg_md_method_name(md, r, buf, sizeof buf, NULL);
        ilg_md_call_shape(md, 0x06000000u | r, &pops, &has_this, &pushes);
        if (ilg_md_method_body(md, r, &b) == ILG_OK && b.kind != ILG_BODY_NONE &&
            b.kind != ILG_BODY_NATIVE) {
            volatile uint8_t sink = 0;
            for (uint32_t i = 0; i < b.body_size; i++)
                sink ^= b.header[i]; /* the whole measured body must be readable */
            (void)sink;
        }
    }
    for (uint32_t r = 1; r <= ilg_md_row_count(md, ILG_TBL_MemberRef) && r <= 2000; r++) {
        uint32_t pops;
        bool has_this, pushes;
        ilg_md_call_shape(md, 0x0A000000u | r, &pops, &has_this, &pushes);
    }
    static const ilg_table members[] = { ILG_TBL_MemberRef, ILG_TBL_Field, ILG_TBL_MethodSpec };
    for (size_t k = 0; k < 3; k++)
        for (uint32_t r = 1; r <= ilg_md_row_count(md, members[k]) && r <= 2000; r++)
            ilg_md_member_name(md, ((uint32_t)members[k] << 24) | r, buf, sizeof buf, NULL);
    for (uint32_t i = 1; i < 64; i++) {
        const uint8_t *p;
        uint32_t n;
        ilg_md_user_string(md, i, &p, &n);
    }
}

/* What the ReadyToRun reader accepted must hold together: every method's runtime
 * functions exist and its code is mapped whole. */
static void walk_readytorun(ilg_image *img, const ilg_metadata *md)
{
    const ilg_r2r *r2r;
    ilg_r2r_info in;
    if (ilg_image_readytorun(img, &r2r) != ILG_OK)
        return;
    if (ilg_r2r_get_info(r2r, &in) != ILG_OK)
        abort();
    for (uint32_t i = 0; i < in.section_count; i++) {
        const uint8_t *p;
        const ilg_r2r_section *s = &in.sections[i];
        if (s->size && ilg_image_rva_to_ptr(img, s->rva, s->size, &p) != ILG_OK)
            abort();
    }
    for (uint32_t i = 0; i < ilg_r2r_method_count(r2r); i++) {
        ilg_r2r_method_info m;
        ilg_r2r_function_info rf;
        const uint8_t *code;
        if (ilg_r2r_method(r2r, i, &m) != ILG_OK ||
            ilg_r2r_runtime_function(r2r, m.runtime_function, &rf) != ILG_OK ||
            m.runtime_function + m.runtime_function_count > in.runtime_function_count ||
            ilg_image_rva_to_ptr(img, m.code_rva, m.main_size, &code) != ILG_OK)
            abort();
        volatile uint8_t sink = m.main_size ? code[0] ^ code[m.main_size - 1] : 0;
        (void)sink;
        char name[256];
        if ((m.token >> 24) == 0x06 && !m.module_override)
            ilg_md_method_name(md, m.token & 0xFFFFFF, name, sizeof name, NULL);
    }
    for (uint32_t i = 0; i < in.inline_count; i++) {
        ilg_r2r_inline_info x;
        if (ilg_r2r_inline(r2r, i, &x) != ILG_OK)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ilg_image *img;
    ilg_image_options opts = { .arena_size = 1 << 16 };
    if (ilg_image_open_memory(data, size, "fuzz", &opts, &img) != ILG_OK)
        return 0;
    ilg_image_info in;
    ilg_image_get_info(img, &in);
    for (uint32_t i = 0; i < in.region_count; i++) {
        ilg_region r;
        const uint8_t *p;
        uint64_t off;
        ilg_image_region(img, i, &r);
        if (ilg_image_rva_to_ptr(img, r.rva, r.virtual_size, &p) == ILG_OK && r.virtual_size) {
            volatile uint8_t sink = p[0] ^ p[r.virtual_size - 1];
            (void)sink;
        }
        ilg_image_rva_to_offset(img, r.rva, &off);
    }
    for (uint32_t i = 0; i < ilg_image_elf_section_count(img); i++) {
        ilg_elf_section s;
        ilg_image_elf_section(img, i, &s);
    }
    for (uint32_t i = 0; i < ilg_image_symbol_count(img); i++) {
        ilg_symbol s;
        ilg_image_symbol(img, i, &s);
    }
    const ilg_metadata *md;
    if (ilg_image_metadata(img, &md) == ILG_OK) {
        walk_metadata(md);
        walk_readytorun(img, md);
    }
    ilg_image_close(img);
    return 0;
}
