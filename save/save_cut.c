/* save_cut.c: leaving the dead metadata root out of a saved file (docs/save.md, "The
 * old root"). When the metadata writer changed a module, the save writes a complete new
 * root into the new section and the input's root is no longer read by anyone. The whole
 * SectionAlignment pages inside it can then go from the file: the section holding it is
 * split in two, the first part keeping its VirtualSize up to the end of those pages but
 * its raw data only up to their start (the loaders zero-fill the rest), the tail after
 * them becoming a section of its own with the same name and characteristics. Every RVA
 * stays where it was; the file offsets after the cut move down by its length (sections'
 * raw data, debug directory entries, the certificate table). Whatever might still point
 * into the cut keeps the old layout. */
#include <string.h>

#include "ilgraft/metadata.h"

#include "ilg_private.h"
#include "md_private.h"
#include "save_private.h"

#define SECTION_HEADER_SIZE 40u
#define DEBUG_ENTRY_SIZE 28u
#define DEBUG_ENTRY_RAW_PTR 24u
#define DIR_SECURITY 4u           /* its "RVA" is a file offset */
#define DIR_DEBUG 6u
#define PE32_DIRS 96u             /* data directories in the optional header */
#define PE32PLUS_DIRS 112u
#define CLI_DIRS_AFTER_MD 24u     /* the CLI header's directories after MetaData (at 8) */
#define CLI_DIRS 6u               /* Resources ... ManagedNativeHeader, up to 72 */

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

/* Whether a MethodDef body or a FieldRVA datum starts inside the old root [at, at+len):
 * the root is the metadata's alone, so any such RVA means a layout this does not cut. */
static bool table_rva_in(const ilg_metadata *md, ilg_table t, uint32_t col, uint64_t at,
                         uint64_t len)
{
    uint32_t rows = ilg_md_row_count(md, t);
    for (uint32_t r = 1; r <= rows; r++) {
        uint32_t rva = 0;
        if (ilg_md_cell(md, t, r, col, &rva) != ILG_OK || (rva >= at && rva < at + len))
            return true;
    }
    return false;
}

/* No data directory and no CLI header directory but the MetaData one covers a byte of
 * the cut (for the security directory, whose "RVA" is a file offset: of the cut's file
 * bytes), nor the entry point. Noted for the save: the certificate table's offset when
 * it lies past the cut, and the debug entries' PointerToRawData cells past it. */
static bool directories_clear(const ilg_image *img, const ilg_md_info *mi, save_cut *c)
{
    const uint8_t *f = img->file;
    const bool plus = img->format == ILG_FORMAT_PE32PLUS;
    const uint32_t opt = img->pe.opt, dirs = opt + (plus ? PE32PLUS_DIRS : PE32_DIRS);
    const uint32_t ndirs = ilg__rd32(f + opt + (plus ? PE32PLUS_DIRS : PE32_DIRS) - 4);
    if (overlaps(img->entry_rva, 1, c->rva, c->len))
        return false;
    for (uint32_t d = 0; d < ndirs && d < 16; d++) {
        if (!ilg__in_range(dirs + 8 * d, 8, img->pe.sections))
            return false; /* past the optional header: the loader read no such entry */
        uint32_t rva = ilg__rd32(f + dirs + 8 * d), size = ilg__rd32(f + dirs + 8 * d + 4);
        if (d != DIR_SECURITY && overlaps(rva, size, c->rva, c->len))
            return false;
        if (d == DIR_SECURITY && size) {
            if (overlaps(rva, size, c->at, c->len))
                return false;
            c->security_cell = rva >= c->at + c->len ? dirs + 8 * d : 0;
        }
        if (d != DIR_DEBUG || !size)
            continue;
        uint64_t off;
        if (ilg_image_rva_to_offset(img, rva, &off) != ILG_OK || size % DEBUG_ENTRY_SIZE ||
            !ilg__in_range(off, size, img->file_size) || size / DEBUG_ENTRY_SIZE > SAVE_CUT_MAX_DEBUG)
            return false;
        for (uint32_t e = 0; e < size / DEBUG_ENTRY_SIZE; e++) {
            uint64_t cell = off + (uint64_t)e * DEBUG_ENTRY_SIZE + DEBUG_ENTRY_RAW_PTR;
            uint32_t raw = ilg__rd32(f + cell);
            /* A cell in the headers would be overwritten by their patched copy. */
            if (overlaps(raw, 1, c->at, c->len) || cell < img->pe.first_raw)
                return false;
            if (raw >= c->at + c->len)
                c->debug_cells[c->ndebug++] = cell;
        }
    }
    uint64_t cli;
    if (ilg_image_rva_to_offset(img, mi->cli_rva, &cli) != ILG_OK ||
        !ilg__in_range(cli, CLI_DIRS_AFTER_MD + 8 * CLI_DIRS, img->file_size))
        return false;
    for (uint32_t d = 0; d < CLI_DIRS; d++) {
        const uint8_t *p = f + cli + CLI_DIRS_AFTER_MD + 8 * d;
        if (overlaps(ilg__rd32(p), ilg__rd32(p + 4), c->rva, c->len))
            return false;
    }
    return true;
}

void ilg__save_cut_plan(const ilg_image *img, const ilg_metadata *md, save_cut *c)
{
    const ilg_md_info *mi = &md->info;
    const uint64_t sa = img->section_alignment;
    const uint64_t root = mi->metadata_rva, root_end = root + mi->metadata_size;
    memset(c, 0, sizeof *c);
    if (sa < SAVE_CUT_MIN_ALIGNMENT || sa % img->file_alignment)
        return;
    const uint64_t start = ilg__align_up(root, sa);
    uint64_t end = root_end & ~(sa - 1);
    if (end <= start)
        return;
    for (uint32_t i = 0; i < img->pe.nsections; i++) {
        const uint8_t *s = img->file + img->pe.sections + i * SECTION_HEADER_SIZE;
        uint32_t vsize = ilg__rd32(s + 8), va = ilg__rd32(s + 12);
        uint32_t raw_size = ilg__rd32(s + 16), raw_ptr = ilg__rd32(s + 20);
        uint64_t virt = vsize ? vsize : raw_size, backed = raw_size < virt ? raw_size : virt;
        if (root < va || root_end > va + backed)
            continue;
        if (va % sa || raw_ptr % img->file_alignment || raw_size % img->file_alignment)
            return;
        /* The tail keeps at least the root's last bytes: never an empty section. */
        if (end >= va + virt && (end -= sa) <= start)
            return;
        c->section = i;
        c->rva = (uint32_t)start;
        c->len = (uint32_t)(end - start);
        c->at = raw_ptr + (start - va);
        c->opt_in = img->pe.opt;
        break;
    }
    if (!c->len || !directories_clear(img, mi, c) ||
        table_rva_in(md, ILG_TBL_MethodDef, ILG_MDC_MethodDef_RVA, root, root_end - root) ||
        table_rva_in(md, ILG_TBL_FieldRVA, ILG_MDC_FieldRVA_RVA, root, root_end - root))
        memset(c, 0, sizeof *c);
}

/* One section header's raw-data pointer moved down by the cut when it lies past it. */
static void lower_raw_ptr(uint8_t *s, const save_cut *c)
{
    uint32_t raw_size = ilg__rd32(s + 16), raw_ptr = ilg__rd32(s + 20);
    if (raw_size && raw_ptr >= c->at + c->len)
        ilg__wr32(s + 20, raw_ptr - c->len);
}

void ilg__save_cut_head(uint8_t *head, uint32_t table, uint16_t nsections, uint32_t opt,
                        const save_cut *c)
{
    uint8_t *split = head + table + c->section * SECTION_HEADER_SIZE;
    uint8_t *tail = split + SECTION_HEADER_SIZE;
    /* The headers after the split section move one slot down, into the zero bytes that
     * the caller checked are free after the table. */
    memmove(tail + SECTION_HEADER_SIZE, tail,
            (size_t)(nsections - c->section - 1) * SECTION_HEADER_SIZE);
    for (uint32_t i = 0; i < nsections + 1u; i++)
        if (i != c->section && i != c->section + 1u)
            lower_raw_ptr(head + table + i * SECTION_HEADER_SIZE, c);
    memcpy(tail, split, SECTION_HEADER_SIZE);
    const uint32_t vsize = ilg__rd32(split + 8), va = ilg__rd32(split + 12);
    const uint32_t raw_size = ilg__rd32(split + 16), raw_ptr = ilg__rd32(split + 20);
    const uint32_t virt = vsize ? vsize : raw_size, cut_end = c->rva + c->len;
    /* First part: the section's start to the cut's end in memory, to its start in the
     * file. Tail: the rest, with its raw data right after the first part's. */
    ilg__wr32(split + 8, cut_end - va);
    ilg__wr32(split + 16, c->rva - va);
    ilg__wr32(tail + 8, va + virt - cut_end);
    ilg__wr32(tail + 12, cut_end);
    ilg__wr32(tail + 16, raw_size - (cut_end - va));
    ilg__wr32(tail + 20, raw_ptr + (c->rva - va));
    if (c->security_cell) {
        uint32_t at = opt + (c->security_cell - c->opt_in);
        ilg__wr32(head + at, ilg__rd32(head + at) - c->len);
    }
}
