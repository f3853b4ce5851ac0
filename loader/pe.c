/* pe.c: PE/COFF header validation (PE32 and PE32+), the section table and the data
 * directories. Every check names the bad value and its file offset. */
#include <stdlib.h>
#include <sys/mman.h>

#include "loader_private.h"

#define DOS_HEADER_SIZE 64
#define COFF_HEADER_SIZE 20
#define SECTION_HEADER_SIZE 40
#define MAX_SECTIONS 96
#define IMAGE_SCN_MEM_EXECUTE 0x20000000u
#define IMAGE_SCN_MEM_READ 0x40000000u
#define IMAGE_SCN_MEM_WRITE 0x80000000u
/* Images are reserved whole; no real PE comes near this, a hostile one might. */
#define MAX_SIZE_OF_IMAGE 0x7FFF0000u

typedef unsigned long long ull;

static int prot_from_characteristics(uint32_t c)
{
    int prot = 0;
    if (c & IMAGE_SCN_MEM_READ)
        prot |= PROT_READ;
    if (c & IMAGE_SCN_MEM_WRITE)
        prot |= PROT_WRITE;
    if (c & IMAGE_SCN_MEM_EXECUTE)
        prot |= PROT_EXEC;
    return prot;
}

static ilg_status parse_sections(ilg_image *img, uint64_t table, uint32_t count)
{
    const uint8_t *f = img->file;
    img->regions = calloc(count, sizeof *img->regions);
    img->names = calloc(count, 9);
    if (!img->regions || !img->names)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "%u section records", count);
    img->region_count = count;

    uint64_t prev_end = img->size_of_headers;
    img->pe.first_raw = UINT32_MAX;
    for (uint32_t i = 0; i < count; i++) {
        const uint64_t off = table + (uint64_t)i * SECTION_HEADER_SIZE;
        const uint8_t *s = f + off;
        ilg_region *r = &img->regions[i];
        char *name = img->names + i * 9;
        memcpy(name, s, 8);
        name[8] = 0;
        uint32_t vsize = ilg__rd32(s + 8), va = ilg__rd32(s + 12);
        uint32_t raw_size = ilg__rd32(s + 16), raw_ptr = ilg__rd32(s + 20);
        uint32_t flags = ilg__rd32(s + 36);
        /* A VirtualSize of 0 means SizeOfRawData, as the Windows loader reads it. */
        uint64_t virt = vsize ? vsize : raw_size;

        if (raw_size && !ilg__in_range(raw_ptr, raw_size, img->file_size))
            return ilg__fail(ILG_E_PE_SECTION_RAW_OUTSIDE, ILG_WHERE_FILE, off + 16,
                             "section %u '%s': raw data 0x%x+0x%x lies outside the 0x%zx-byte file",
                             i, name, raw_ptr, raw_size, img->file_size);
        if (!ilg__in_range(va, virt, img->image_size))
            return ilg__fail(ILG_E_PE_SECTION_BEYOND_IMAGE, ILG_WHERE_FILE, off + 8,
                             "section %u '%s': 0x%x+0x%llx extends past SizeOfImage 0x%llx", i,
                             name, va, (ull)virt, (ull)img->image_size);
        if (va < prev_end)
            return ilg__fail(ILG_E_PE_SECTION_OVERLAP, ILG_WHERE_FILE, off + 12,
                             "section %u '%s': VirtualAddress 0x%x is below the end 0x%llx of %s",
                             i, name, va, (ull)prev_end, i ? "the previous section" : "the headers");
        prev_end = va + virt;
        if (raw_size && raw_ptr < img->pe.first_raw)
            img->pe.first_raw = raw_ptr;
        if ((uint64_t)va + raw_size > img->pe.raw_end)
            img->pe.raw_end = (uint64_t)va + raw_size;

        r->name = name;
        r->rva = va;
        r->virtual_size = virt;
        r->file_offset = raw_ptr;
        r->file_size = raw_size < virt ? raw_size : virt;
        r->flags = flags;
        r->prot = prot_from_characteristics(flags);
    }
    return ILG_OK;
}

/* Where the headers after the optional header's checks put the section table and the
 * data directories. */
typedef struct pe_layout {
    uint64_t table, dirs;
    uint32_t ndirs;
    uint16_t nsections;
} pe_layout;

/* The DOS header, e_lfanew and the PE signature; *coff the COFF header's offset. */
static ilg_status find_coff(const uint8_t *f, size_t size, uint64_t *coff)
{
    if (size < DOS_HEADER_SIZE)
        return ilg__fail(ILG_E_PE_TRUNCATED_DOS, ILG_WHERE_FILE, 0,
                         "file is %zu bytes, the DOS header needs %d", size, DOS_HEADER_SIZE);
    const uint32_t lfanew = ilg__rd32(f + 0x3C);
    if (lfanew == 0 || !ilg__in_range(lfanew, 4 + COFF_HEADER_SIZE, size))
        return ilg__fail(ILG_E_PE_BAD_LFANEW, ILG_WHERE_FILE, 0x3C,
                         "e_lfanew 0x%x: PE and COFF headers would end past the %zu-byte file",
                         lfanew, size);
    if (memcmp(f + lfanew, "PE\0\0", 4) != 0)
        return ilg__fail(ILG_E_PE_BAD_SIGNATURE, ILG_WHERE_FILE, lfanew,
                         "found 0x%08x where PE\\0\\0 (0x00004550) belongs", ilg__rd32(f + lfanew));

    *coff = lfanew + 4u;
    return ILG_OK;
}

/* The COFF and optional headers (PE32 or PE32+) into img, checked; *L where the section
 * table and the directories are. */
static ilg_status parse_optional(ilg_image *img, uint64_t coff, pe_layout *L)
{
    const uint8_t *f = img->file;
    const size_t size = img->file_size;
    const uint16_t machine = ilg__rd16(f + coff);
    const uint16_t nsections = ilg__rd16(f + coff + 2);
    const uint16_t opt_size = ilg__rd16(f + coff + 16);
    const uint16_t characteristics = ilg__rd16(f + coff + 18);
    const uint64_t opt = coff + COFF_HEADER_SIZE;

    if (!ilg__in_range(opt, 2, size))
        return ilg__fail(ILG_E_PE_TRUNCATED_HEADERS, ILG_WHERE_FILE, opt,
                         "optional header at 0x%llx starts past the %zu-byte file", (ull)opt, size);
    const uint16_t magic = ilg__rd16(f + opt);
    bool plus;
    if (magic == 0x10B)
        plus = false;
    else if (magic == 0x20B)
        plus = true;
    else
        return ilg__fail(ILG_E_PE_BAD_OPT_MAGIC, ILG_WHERE_FILE, opt,
                         "optional header magic 0x%04x is neither 0x10b nor 0x20b", magic);
    const uint16_t want = plus ? 240 : 224;
    if (opt_size != want)
        return ilg__fail(ILG_E_PE_BAD_OPT_SIZE, ILG_WHERE_FILE, coff + 16,
                         "SizeOfOptionalHeader %u, %s needs %u", opt_size, plus ? "PE32+" : "PE32",
                         want);
    if (!ilg__in_range(opt, opt_size, size))
        return ilg__fail(ILG_E_PE_TRUNCATED_HEADERS, ILG_WHERE_FILE, opt,
                         "optional header 0x%llx+%u runs past the %zu-byte file", (ull)opt, opt_size,
                         size);

    const uint8_t *o = f + opt;
    const uint32_t entry = ilg__rd32(o + 16);
    const uint64_t image_base = plus ? ilg__rd64(o + 24) : ilg__rd32(o + 28);
    const uint32_t sect_align = ilg__rd32(o + 32), file_align = ilg__rd32(o + 36);
    const uint32_t size_of_image = ilg__rd32(o + 56), size_of_headers = ilg__rd32(o + 60);
    const uint16_t subsystem = ilg__rd16(o + 68);
    const uint32_t ndirs = ilg__rd32(o + (plus ? 108 : 92));
    const uint64_t dirs = opt + (plus ? 112 : 96);

    if (!ilg__is_pow2(file_align) || file_align > 0x10000)
        return ilg__fail(ILG_E_PE_BAD_FILE_ALIGNMENT, ILG_WHERE_FILE, opt + 36,
                         "FileAlignment 0x%x is not a power of two up to 0x10000", file_align);
    if (!ilg__is_pow2(sect_align) || sect_align < file_align)
        return ilg__fail(ILG_E_PE_BAD_SECTION_ALIGNMENT, ILG_WHERE_FILE, opt + 32,
                         "SectionAlignment 0x%x (FileAlignment 0x%x)", sect_align, file_align);
    if (size_of_image == 0 || size_of_image % sect_align != 0 || size_of_image > MAX_SIZE_OF_IMAGE)
        return ilg__fail(ILG_E_PE_BAD_SIZE_OF_IMAGE, ILG_WHERE_FILE, opt + 56,
                         "SizeOfImage 0x%x (SectionAlignment 0x%x, limit 0x%x)", size_of_image,
                         sect_align, MAX_SIZE_OF_IMAGE);
    if (nsections == 0 || nsections > MAX_SECTIONS)
        return ilg__fail(ILG_E_PE_BAD_SECTION_COUNT, ILG_WHERE_FILE, coff + 2,
                         "NumberOfSections %u (allowed 1..%d)", nsections, MAX_SECTIONS);
    const uint64_t table = opt + opt_size;
    L->table = table;
    L->nsections = nsections;
    L->dirs = dirs;
    L->ndirs = ndirs;
    const uint64_t table_end = table + (uint64_t)nsections * SECTION_HEADER_SIZE;
    if (size_of_headers > size || size_of_headers > size_of_image)
        return ilg__fail(ILG_E_PE_BAD_SIZE_OF_HEADERS, ILG_WHERE_FILE, opt + 60,
                         "SizeOfHeaders 0x%x exceeds the file (0x%zx) or SizeOfImage (0x%x)",
                         size_of_headers, size, size_of_image);
    if (table_end > size_of_headers)
        return ilg__fail(ILG_E_PE_SECTION_TABLE_OUTSIDE, ILG_WHERE_FILE, coff + 2,
                         "%u section headers at 0x%llx end at 0x%llx, past SizeOfHeaders 0x%x",
                         nsections, (ull)table, (ull)table_end, size_of_headers);

    img->format = plus ? ILG_FORMAT_PE32PLUS : ILG_FORMAT_PE32;
    img->machine = machine;
    img->preferred_base = image_base;
    img->image_size = size_of_image;
    img->entry_rva = entry;
    img->characteristics = characteristics;
    img->subsystem = subsystem;
    img->section_alignment = sect_align;
    img->file_alignment = file_align;
    img->size_of_headers = size_of_headers;
    img->pe.coff = (uint32_t)coff;
    img->pe.opt = (uint32_t)opt;
    img->pe.sections = (uint32_t)table;
    img->pe.nsections = nsections;
    img->pe.checksum = ilg__rd32(o + 64);

    return ILG_OK;
}

static ilg_status parse_directories(ilg_image *img, const pe_layout *L)
{
    const uint8_t *f = img->file;
    const uint64_t dirs = L->dirs;
    const uint32_t ndirs = L->ndirs;
    img->dir_count = ndirs < 16 ? ndirs : 16;
    for (uint32_t i = 0; i < img->dir_count; i++) {
        img->dirs[i][0] = ilg__rd32(f + dirs + 8 * i);
        img->dirs[i][1] = ilg__rd32(f + dirs + 8 * i + 4);
    }
    /* The CLI header is the directory ilgraft follows at open; it must lie inside one
     * section with its whole length. */
    if (img->dir_count > ILG__DIR_CLI && img->dirs[ILG__DIR_CLI][0] != 0) {
        uint32_t rva = img->dirs[ILG__DIR_CLI][0], len = img->dirs[ILG__DIR_CLI][1];
        if (!ilg__region_for(img, rva, len))
            return ilg__fail(ILG_E_PE_BAD_DIRECTORY, ILG_WHERE_FILE, dirs + 8 * ILG__DIR_CLI,
                             "CLI header directory RVA 0x%x size 0x%x does not lie inside one section",
                             rva, len);
    }
    return ILG_OK;
}

ilg_status ilg__pe_parse(ilg_image *img)
{
    uint64_t coff = 0;
    pe_layout L = { 0 };
    ilg_status st;
    if ((st = find_coff(img->file, img->file_size, &coff)) != ILG_OK ||
        (st = parse_optional(img, coff, &L)) != ILG_OK ||
        (st = parse_sections(img, L.table, L.nsections)) != ILG_OK)
        return st;
    return parse_directories(img, &L);
}
