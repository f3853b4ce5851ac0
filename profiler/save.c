/* save.c: turns a grafted image (file bytes + the arena's used bytes) into a PE file
 * with one new last section and patched MethodDef RVAs (see ilgraft/save.h). Header
 * fields are found from the file's own bytes, bounds-checked, rather than trusted
 * from the loader, because they are what gets rewritten; the MethodDef table's file
 * position is derived from the public metadata API and cross-checked against the RVAs
 * the metadata reader reports before anything is patched. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ilgraft/arena.h"
#include "ilgraft/metadata.h"
#include "ilgraft/save.h"

#include "host_private.h"
#include "ilg_private.h"

#define SECTION_HEADER_SIZE 40u
#define COMIMAGE_FLAGS_STRONGNAMESIGNED 0x8u
#define DOS_HEADER_SIZE 0x40u

/* Offsets of the fields save rewrites, found in the input file. */
typedef struct pe_layout {
    uint32_t coff;             /* COFF header (after "PE\0\0") */
    uint32_t opt;              /* optional header */
    uint32_t sections;         /* section table */
    uint16_t nsections;
    uint32_t section_alignment, file_alignment;
    uint32_t size_of_image, size_of_headers;
    uint32_t checksum;
    uint32_t first_raw;        /* lowest PointerToRawData of a section with raw data */
} pe_layout;

static ilg_status pe_parse(const uint8_t *f, size_t n, pe_layout *pe)
{
    if (n < 0x40)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_FILE, 0, "file of %zu bytes is not PE", n);
    uint32_t lfanew = ilg__rd32(f + 0x3C);
    if (!ilg__in_range(lfanew, 24, n) || memcmp(f + lfanew, "PE\0\0", 4) != 0)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_FILE, 0x3C,
                         "e_lfanew 0x%x does not lead to a PE signature", lfanew);
    pe->coff = lfanew + 4;
    pe->nsections = ilg__rd16(f + pe->coff + 2);
    uint16_t opt_size = ilg__rd16(f + pe->coff + 16);
    pe->opt = pe->coff + 20;
    if (!ilg__in_range(pe->opt, opt_size, n) || opt_size < 68)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_FILE, pe->coff + 16,
                         "SizeOfOptionalHeader %u does not fit the file", opt_size);
    pe->section_alignment = ilg__rd32(f + pe->opt + 32);
    pe->file_alignment = ilg__rd32(f + pe->opt + 36);
    pe->size_of_image = ilg__rd32(f + pe->opt + 56);
    pe->size_of_headers = ilg__rd32(f + pe->opt + 60);
    pe->checksum = ilg__rd32(f + pe->opt + 64);
    if (!ilg__is_pow2(pe->section_alignment) || !ilg__is_pow2(pe->file_alignment))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_FILE, pe->opt + 32,
                         "SectionAlignment 0x%x or FileAlignment 0x%x is not a power of two",
                         pe->section_alignment, pe->file_alignment);
    pe->sections = pe->opt + opt_size;
    if (!ilg__in_range(pe->sections, (uint64_t)pe->nsections * SECTION_HEADER_SIZE, n))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_FILE, pe->sections,
                         "section table of %u headers runs past the file", pe->nsections);
    pe->first_raw = UINT32_MAX;
    for (uint32_t i = 0; i < pe->nsections; i++) {
        const uint8_t *s = f + pe->sections + i * SECTION_HEADER_SIZE;
        if (ilg__rd32(s + 16) && ilg__rd32(s + 20) < pe->first_raw)
            pe->first_raw = ilg__rd32(s + 20);
    }
    return ILG_OK;
}

/* The PE image checksum: 16-bit one's-complement-style sum with carries folded,
 * the CheckSum field counted as zero, plus the file length. */
static uint32_t pe_checksum(const uint8_t *f, size_t n, size_t checksum_at)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i += 2) {
        uint32_t w = f[i] | (i + 1 < n ? (uint32_t)f[i + 1] << 8 : 0);
        if (i >= checksum_at && i < checksum_at + 4)
            w = 0;
        sum += w;
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint32_t)(sum + n);
}

/* File offset and row size of the MethodDef table, from the #~ stream's header and
 * the column layout the metadata reader reports. */
static ilg_status methoddef_locate(const ilg_metadata *md, const uint8_t *f, size_t n,
                                   uint64_t *table_off, uint32_t *row_size)
{
    ilg_md_info mi;
    ilg_status st;
    if ((st = ilg_md_get_info(md, &mi)) != ILG_OK)
        return st;
    const ilg_stream_info *tables = NULL;
    for (uint32_t i = 0; i < mi.stream_count; i++)
        if (strcmp(mi.streams[i].name, "#~") == 0)
            tables = &mi.streams[i];
    if (!tables || mi.uncompressed)
        return ilg__fail(ILG_E_SAVE_METADATA_LAYOUT, ILG_WHERE_FILE, mi.metadata_file_offset,
                         "no compressed #~ table stream (uncompressed #- is not supported)");
    uint64_t off = mi.metadata_file_offset + tables->offset;
    if (!ilg__in_range(off, 24, n))
        return ilg__fail(ILG_E_SAVE_METADATA_LAYOUT, ILG_WHERE_FILE, off,
                         "#~ stream header past the end of the file");
    uint64_t valid = ilg__rd64(f + off + 8);
    off += 24 + 4u * (uint64_t)__builtin_popcountll(valid);
    /* heap-size bit 0x40: four extra bytes follow the row counts */
    if (mi.heap_sizes & 0x40)
        off += 4;
    for (uint32_t t = 0; t < 64; t++) {
        if (!(valid & ((uint64_t)1 << t)))
            continue;
        if (t >= ILG_TBL_COUNT)
            return ilg__fail(ILG_E_SAVE_METADATA_LAYOUT, ILG_WHERE_FILE, off,
                             "table 0x%02x has no known layout", t);
        uint32_t size = 0;
        for (uint32_t c = 0; c < ilg_md_column_count((ilg_table)t); c++) {
            ilg_column_info ci;
            if ((st = ilg_md_column(md, (ilg_table)t, c, &ci)) != ILG_OK)
                return st;
            if ((uint32_t)ci.offset + ci.width > size)
                size = (uint32_t)ci.offset + ci.width;
        }
        if (t == ILG_TBL_MethodDef) {
            *table_off = off;
            *row_size = size;
            return ILG_OK;
        }
        off += (uint64_t)size * mi.rows[t];
    }
    return ilg__fail(ILG_E_SAVE_METADATA_LAYOUT, ILG_WHERE_FILE, off, "no MethodDef table");
}

/* Whether the 40 bytes at hdr are zero and end inside SizeOfHeaders, before the first
 * section's raw data and inside the file. */
static bool header_room(const uint8_t *f, size_t n, const pe_layout *pe, uint32_t hdr)
{
    uint64_t end = (uint64_t)hdr + SECTION_HEADER_SIZE;
    if (end > pe->size_of_headers || end > pe->first_raw || end > n || pe->nsections == 0xFFFF)
        return false;
    for (uint32_t i = 0; i < SECTION_HEADER_SIZE; i++)
        if (f[hdr + i] != 0)
            return false;
    return true;
}

/* The same after the headers move down by gain bytes: the bytes that become the new
 * header are the last (40 - gain) zero bytes after the table, if gain is short. */
static bool header_room_after_move(const uint8_t *f, size_t n, const pe_layout *pe, uint32_t hdr,
                                   uint32_t gain)
{
    uint64_t end = (uint64_t)hdr + SECTION_HEADER_SIZE - gain;
    if (gain == 0 || end > pe->size_of_headers || end > pe->first_raw || end > n ||
        pe->nsections == 0xFFFF)
        return false;
    for (uint64_t i = hdr; i < end; i++)
        if (f[i] != 0)
            return false;
    return true;
}

ilg_status ilg_save_build(ilg_image *img, const ilg_save_method *methods, size_t count,
                          const ilg_save_options *opts, uint8_t **out, size_t *out_size,
                          ilg_save_result *res)
{
    const uint8_t *f;
    size_t n;
    const ilg_metadata *md;
    ilg_arena *arena;
    ilg_arena_stats as;
    ilg_image_info info;
    ilg_md_info mi;
    pe_layout pe;
    ilg_save_result r;
    ilg_column_info rva_col;
    uint8_t *buf = NULL;
    ilg_status st;
    FILE *log = opts && opts->log ? opts->log : stderr;

    memset(&r, 0, sizeof r);
    memset(&pe, 0, sizeof pe);
    if (!img || !out || !out_size || (count && !methods))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "NULL image, methods or output");
    if ((st = ilg_image_get_info(img, &info)) != ILG_OK)
        return st;
    if (info.format != ILG_FORMAT_PE32 && info.format != ILG_FORMAT_PE32PLUS)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "%s is %s, not PE", info.path,
                         info.format_name);
    if ((st = ilg_image_file_bytes(img, &f, &n)) != ILG_OK ||
        (st = ilg_image_metadata(img, &md)) != ILG_OK ||
        (st = ilg_md_get_info(md, &mi)) != ILG_OK || (st = ilg_image_arena(img, &arena)) != ILG_OK ||
        (st = ilg_arena_stats_get(arena, &as)) != ILG_OK ||
        (st = ilg_md_column(md, ILG_TBL_MethodDef, 0, &rva_col)) != ILG_OK ||
        (st = pe_parse(f, n, &pe)) != ILG_OK)
        return st;
    if ((st = methoddef_locate(md, f, n, &r.methoddef_file_offset, &r.methoddef_row_size)) !=
        ILG_OK)
        return st;
    uint32_t rows = ilg_md_row_count(md, ILG_TBL_MethodDef);
    if (rva_col.width != 4 ||
        !ilg__in_range(r.methoddef_file_offset, (uint64_t)rows * r.methoddef_row_size, n))
        return ilg__fail(ILG_E_SAVE_METADATA_LAYOUT, ILG_WHERE_FILE, r.methoddef_file_offset,
                         "MethodDef table of %u rows x %u bytes does not fit the file", rows,
                         r.methoddef_row_size);
    /* The walk must land on the same RVAs the reader reports, or the layout is wrong. */
    for (uint32_t rid = 1; rid <= rows; rid++) {
        ilg_method_info m;
        uint64_t at = r.methoddef_file_offset + (uint64_t)(rid - 1) * r.methoddef_row_size +
                      rva_col.offset;
        if ((st = ilg_md_method(md, rid, &m)) != ILG_OK)
            return st;
        if (ilg__rd32(f + at) != m.rva)
            return ilg__fail(ILG_E_SAVE_METADATA_LAYOUT, ILG_WHERE_FILE, at,
                             "MethodDef row %u RVA reads 0x%x here, the reader has 0x%x", rid,
                             ilg__rd32(f + at), m.rva);
    }
    uint64_t used_end = as.high_water;
    for (size_t i = 0; i < count; i++) {
        const ilg_save_method *sm = &methods[i];
        if (sm->rid == 0 || sm->rid > rows)
            return ilg__fail(ILG_E_SAVE_BAD_METHOD, ILG_WHERE_NONE, 0,
                             "method rid %u (token 0x%08x) is not a MethodDef row (1..%u)",
                             sm->rid, 0x06000000u | sm->rid, rows);
        if (sm->new_size == 0 || sm->new_rva < as.start ||
            (uint64_t)sm->new_rva + sm->new_size > used_end)
            return ilg__fail(ILG_E_SAVE_BAD_METHOD, ILG_WHERE_RVA, sm->new_rva,
                             "method 0x%08x: body of %u bytes at RVA 0x%x is outside the "
                             "arena's used bytes [0x%llx, 0x%llx)",
                             0x06000000u | sm->rid, sm->new_size, sm->new_rva,
                             (unsigned long long)as.start, (unsigned long long)used_end);
        ilg_method_info m;
        if ((st = ilg_md_method(md, sm->rid, &m)) != ILG_OK)
            return st;
        if (m.rva == 0)
            return ilg__fail(ILG_E_SAVE_BAD_METHOD, ILG_WHERE_NONE, 0,
                             "method 0x%08x has no body in the image to replace",
                             0x06000000u | sm->rid);
    }

    if (count == 0 && used_end == as.start) {
        /* Nothing grafted: the file as it was. */
        buf = malloc(n ? n : 1);
        if (!buf)
            return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for %zu bytes", n);
        memcpy(buf, f, n);
        r.file_size = n;
        r.size_of_image = pe.size_of_image;
        r.checksum = pe.checksum;
        goto done;
    }

    uint32_t hdr = pe.sections + (uint32_t)pe.nsections * SECTION_HEADER_SIZE;
    if (!header_room(f, n, &pe, hdr)) {
        /* Compilers leave exactly the room they needed (Roslyn: 3 headers in 0x200
         * bytes). The DOS stub between the DOS header and the PE signature is not used
         * by any CLI loader, so the PE headers can move down over it. */
        uint32_t lfanew = pe.coff - 4, gain = lfanew - DOS_HEADER_SIZE;
        if ((opts && opts->no_header_move) || lfanew < DOS_HEADER_SIZE ||
            !header_room_after_move(f, n, &pe, hdr, gain))
            return ilg__fail(ILG_E_SAVE_NO_HEADER_ROOM, ILG_WHERE_FILE, hdr,
                             "no 40 zero bytes for a new section header at 0x%x (SizeOfHeaders "
                             "0x%x, first section data 0x%x, %u bytes of DOS stub%s)",
                             hdr, pe.size_of_headers, pe.first_raw, gain,
                             opts && opts->no_header_move ? ", moving not allowed" : "");
        r.header_moved_by = gain;
    }
    /* The new section follows the last one; the arena must not start below it. */
    uint64_t last_end = 0;
    for (uint32_t i = 0; i < pe.nsections; i++) {
        const uint8_t *s = f + pe.sections + i * SECTION_HEADER_SIZE;
        uint64_t vsize = ilg__rd32(s + 8) ? ilg__rd32(s + 8) : ilg__rd32(s + 16);
        uint64_t end = ilg__align_up((uint64_t)ilg__rd32(s + 12) + vsize, pe.section_alignment);
        if (end > last_end)
            last_end = end;
    }
    uint64_t va = ilg__align_up(last_end, pe.section_alignment);
    if (va < pe.size_of_image)
        va = ilg__align_up(pe.size_of_image, pe.section_alignment);
    /* The loader's own checks (SizeOfImage a multiple of SectionAlignment, sections
     * inside it) put the arena at or above va; this guards the arithmetic. */
    if (as.start < va)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_RVA, as.start,
                         "arena starts at RVA 0x%llx, below the next section address 0x%llx "
                         "(SectionAlignment 0x%x)",
                         (unsigned long long)as.start, (unsigned long long)va,
                         pe.section_alignment);
    uint64_t vsize = used_end - va;
    uint64_t raw_off = ilg__align_up(n, pe.file_alignment);
    uint64_t raw_size = ilg__align_up(vsize, pe.file_alignment);
    uint64_t total = raw_off + raw_size;
    uint64_t new_soi = ilg__align_up(va + vsize, pe.section_alignment);
    if (total > UINT32_MAX || new_soi > UINT32_MAX)
        return ilg__fail(ILG_E_LIMIT, ILG_WHERE_NONE, 0,
                         "saved image of 0x%llx bytes (SizeOfImage 0x%llx) passes 4 GiB",
                         (unsigned long long)total, (unsigned long long)new_soi);

    buf = calloc(1, (size_t)total);
    if (!buf)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for %llu bytes",
                         (unsigned long long)total);
    memcpy(buf, f, n);
    if (r.header_moved_by) {
        uint32_t lfanew = pe.coff - 4;
        memmove(buf + DOS_HEADER_SIZE, buf + lfanew, hdr - lfanew);
        memset(buf + hdr - r.header_moved_by, 0, r.header_moved_by);
        ilg__wr32(buf + 0x3C, DOS_HEADER_SIZE);
        pe.coff -= r.header_moved_by;
        pe.opt -= r.header_moved_by;
        pe.sections -= r.header_moved_by;
        hdr -= r.header_moved_by;
    }
    memcpy(buf + raw_off + (as.start - va), as.base + as.start, (size_t)(used_end - as.start));

    uint8_t *sh = buf + hdr;
    memcpy(sh, ILG_SAVE_SECTION_NAME, strlen(ILG_SAVE_SECTION_NAME));
    ilg__wr32(sh + 8, (uint32_t)vsize);
    ilg__wr32(sh + 12, (uint32_t)va);
    ilg__wr32(sh + 16, (uint32_t)raw_size);
    ilg__wr32(sh + 20, (uint32_t)raw_off);
    ilg__wr32(sh + 36, ILG_SAVE_SECTION_FLAGS);
    ilg__wr16(buf + pe.coff + 2, (uint16_t)(pe.nsections + 1));
    ilg__wr32(buf + pe.opt + 56, (uint32_t)new_soi);

    for (size_t i = 0; i < count; i++) {
        uint64_t at = r.methoddef_file_offset +
                      (uint64_t)(methods[i].rid - 1) * r.methoddef_row_size + rva_col.offset;
        ilg__wr32(buf + at, methods[i].new_rva);
    }

    if (mi.cli_flags & COMIMAGE_FLAGS_STRONGNAMESIGNED) {
        uint64_t cli_off;
        if ((st = ilg_image_rva_to_offset(img, mi.cli_rva, &cli_off)) != ILG_OK ||
            !ilg__in_range(cli_off, 20, n)) {
            free(buf);
            return st != ILG_OK ? st
                                : ilg__fail(ILG_E_RANGE, ILG_WHERE_RVA, mi.cli_rva,
                                            "CLI header outside the file");
        }
        ilg__wr32(buf + cli_off + 16, mi.cli_flags & ~COMIMAGE_FLAGS_STRONGNAMESIGNED);
        r.strong_name_cleared = true;
        fprintf(log,
                "ilgraft: warning: %s: strong-name signature no longer matches the rewritten "
                "image; the signed flag is cleared\n",
                info.path);
    }

    if (pe.checksum != 0) {
        r.checksum = pe_checksum(buf, (size_t)total, pe.opt + 64);
        ilg__wr32(buf + pe.opt + 64, r.checksum);
    }

    r.section_added = true;
    r.section_rva = (uint32_t)va;
    r.section_vsize = (uint32_t)vsize;
    r.section_pad = (uint32_t)(as.start - va);
    r.section_file_offset = (uint32_t)raw_off;
    r.section_raw_size = (uint32_t)raw_size;
    r.header_offset = hdr;
    r.methods_patched = (uint32_t)count;
    r.size_of_image = (uint32_t)new_soi;
    r.file_size = (size_t)total;
done:
    *out = buf;
    *out_size = r.file_size;
    if (res)
        *res = r;
    return ILG_OK;
}

void ilg_save_free(uint8_t *buf)
{
    free(buf);
}

ilg_status ilg_save_write(ilg_image *img, const ilg_save_method *methods, size_t count,
                          const ilg_save_options *opts, const char *path, ilg_save_result *res)
{
    uint8_t *buf = NULL;
    size_t size = 0;
    char tmp[PATH_MAX];
    FILE *fp = NULL;
    ilg_status st;

    if (!path)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "NULL path");
    if ((st = ilg_save_build(img, methods, count, opts, &buf, &size, res)) != ILG_OK)
        return st;
    if (snprintf(tmp, sizeof tmp, "%s.ilgsave.%d", path, (int)getpid()) >= (int)sizeof tmp) {
        st = ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "path too long: %s", path);
        goto out;
    }
    fp = fopen(tmp, "wb");
    if (!fp) {
        st = ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fwrite(buf, 1, size, fp) != size || fclose(fp) != 0) {
        fp = NULL;
        unlink(tmp);
        st = ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot write %zu bytes to %s: %s", size,
                       tmp, strerror(errno));
        goto out;
    }
    fp = NULL;
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        st = ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot rename %s to %s: %s", tmp, path,
                       strerror(errno));
    }
out:
    if (fp)
        fclose(fp);
    ilg_save_free(buf);
    return st;
}

ilg_status ilg_host_save(ilg_host *host, const char *dir, const ilg_save_options *opts,
                         uint32_t *written)
{
    FILE *log = opts && opts->log ? opts->log : stderr;
    ilg_save_method *list = NULL;
    uint32_t done = 0;
    ilg_status st = ILG_OK;

    if (!host || !dir)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "NULL host or directory");
    if (!host->ran)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "the host has not run yet");
    for (uint32_t i = 0; i < host->module_count; i++) {
        host_module *m = host->modules[i];
        char path_copy[PATH_MAX], out_path[PATH_MAX];
        ilg_save_result r;
        size_t n = 0;

        if (snprintf(path_copy, sizeof path_copy, "%s", m->path) >= (int)sizeof path_copy ||
            snprintf(out_path, sizeof out_path, "%s/%s", dir, basename(path_copy)) >=
                (int)sizeof out_path) {
            st = ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "path too long: %s", m->path);
            goto out;
        }
        char *in_real = realpath(m->path, NULL), *out_real = realpath(out_path, NULL);
        bool same = in_real && out_real && strcmp(in_real, out_real) == 0;
        free(in_real);
        free(out_real);
        if (same) {
            st = ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                           "%s would overwrite its own input", out_path);
            goto out;
        }
        free(list);
        list = calloc(m->method_count ? m->method_count : 1, sizeof *list);
        if (!list) {
            st = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for %u methods",
                           m->method_count);
            goto out;
        }
        for (uint32_t rid = 1; rid <= m->method_count; rid++) {
            const host_method *hm = &m->methods[rid - 1];
            if (hm->status == ILG_HOST_REWRITTEN)
                list[n++] = (ilg_save_method){ rid, hm->new_rva, hm->new_size };
        }
        if ((st = ilg_save_write(m->img, list, n, opts, out_path, &r)) != ILG_OK) {
            ilg__fail_context("saving %s", out_path);
            goto out;
        }
        done++;
        if (r.section_added)
            fprintf(log,
                    "ilgraft: saved %s: %u methods patched, section %s at RVA 0x%x "
                    "(0x%x bytes, file offset 0x%x)\n",
                    out_path, r.methods_patched, ILG_SAVE_SECTION_NAME, r.section_rva,
                    r.section_vsize, r.section_file_offset);
        else
            fprintf(log, "ilgraft: saved %s: unchanged copy\n", out_path);
    }
out:
    free(list);
    if (written)
        *written = done;
    return st;
}
