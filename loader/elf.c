/* elf.c: ELF32/ELF64 (ET_DYN, ET_EXEC) through libelf/gelf: identification, program
 * headers checked the way glibc's mapper checks them, section headers and symbols. */
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "loader_private.h"

typedef unsigned long long ull;

static pthread_once_t elf_once = PTHREAD_ONCE_INIT;
static void elf_init(void) { elf_version(EV_CURRENT); }

static int prot_from_pflags(uint32_t f)
{
    return ((f & PF_R) ? PROT_READ : 0) | ((f & PF_W) ? PROT_WRITE : 0) |
           ((f & PF_X) ? PROT_EXEC : 0);
}

static ilg_status parse_segments(ilg_image *img, Elf *elf, uint64_t phoff, size_t phentsize,
                                 size_t raw_phnum)
{
    size_t phnum;
    const uint64_t page = ilg__page_size();

    /* libelf quietly shortens a table that runs past the file; check the header's own
     * numbers first (PN_XNUM defers the count to section 0, which libelf reads). */
    if (raw_phnum != PN_XNUM && !ilg__in_range(phoff, (uint64_t)raw_phnum * phentsize, img->file_size))
        return ilg__fail(ILG_E_ELF_BAD_PHDR, ILG_WHERE_FILE, phoff,
                         "%zu program headers of %zu bytes at e_phoff 0x%llx run past the %zu-byte file",
                         raw_phnum, phentsize, (ull)phoff, img->file_size);
    if (elf_getphdrnum(elf, &phnum) != 0)
        return ilg__fail(ILG_E_ELF_BAD_PHDR, ILG_WHERE_FILE, phoff, "program headers: %s",
                         elf_errmsg(-1));
    if (phnum && (phentsize == 0 || !ilg__in_range(phoff, (uint64_t)phnum * phentsize, img->file_size)))
        return ilg__fail(ILG_E_ELF_BAD_PHDR, ILG_WHERE_FILE, phoff,
                         "%zu program headers of %zu bytes at 0x%llx run past the %zu-byte file",
                         phnum, phentsize, (ull)phoff, img->file_size);

    size_t loads = 0;
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, (int)i, &ph))
            return ilg__fail(ILG_E_ELF_BAD_PHDR, ILG_WHERE_FILE, phoff + i * phentsize,
                             "program header %zu: %s", i, elf_errmsg(-1));
        if (ph.p_type == PT_LOAD)
            loads++;
    }
    if (loads == 0)
        return ilg__fail(ILG_E_ELF_NO_LOAD, ILG_WHERE_FILE, phoff,
                         "none of %zu program headers is PT_LOAD", phnum);

    img->regions = calloc(loads, sizeof *img->regions);
    img->names = calloc(loads, 16);
    if (!img->regions || !img->names)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "%zu segment records", loads);

    uint64_t first_page = 0, end = 0, prev_end = 0;
    uint32_t n = 0;
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        gelf_getphdr(elf, (int)i, &ph);
        if (ph.p_type != PT_LOAD)
            continue;
        const uint64_t at = phoff + i * phentsize;
        if (!ilg__in_range(ph.p_offset, ph.p_filesz, img->file_size))
            return ilg__fail(ILG_E_ELF_SEGMENT_OUTSIDE, ILG_WHERE_FILE, at,
                             "segment %zu: file range 0x%llx+0x%llx lies outside the %zu-byte file",
                             i, (ull)ph.p_offset, (ull)ph.p_filesz, img->file_size);
        if (ph.p_filesz > ph.p_memsz)
            return ilg__fail(ILG_E_ELF_SEGMENT_FILESZ, ILG_WHERE_FILE, at,
                             "segment %zu: p_filesz 0x%llx exceeds p_memsz 0x%llx", i,
                             (ull)ph.p_filesz, (ull)ph.p_memsz);
        uint64_t align = ilg__is_pow2(ph.p_align) && ph.p_align > page ? ph.p_align : page;
        if ((ph.p_vaddr - ph.p_offset) % align != 0)
            return ilg__fail(ILG_E_ELF_SEGMENT_CONGRUENCE, ILG_WHERE_FILE, at,
                             "segment %zu: p_vaddr 0x%llx and p_offset 0x%llx differ modulo 0x%llx",
                             i, (ull)ph.p_vaddr, (ull)ph.p_offset, (ull)align);
        if (ph.p_memsz > UINT64_MAX - ph.p_vaddr)
            return ilg__fail(ILG_E_ELF_SPAN_TOO_LARGE, ILG_WHERE_FILE, at,
                             "segment %zu: p_vaddr 0x%llx + p_memsz 0x%llx overflows", i,
                             (ull)ph.p_vaddr, (ull)ph.p_memsz);
        if (n == 0) {
            first_page = ph.p_vaddr & ~(page - 1);
        } else if (ph.p_vaddr < prev_end) {
            return ilg__fail(ILG_E_ELF_SEGMENT_ORDER, ILG_WHERE_FILE, at,
                             "segment %zu: p_vaddr 0x%llx is below the end 0x%llx of the previous PT_LOAD",
                             i, (ull)ph.p_vaddr, (ull)prev_end);
        }
        prev_end = ph.p_vaddr + ph.p_memsz;
        if (prev_end - first_page > ILG_METHOD_MAX_RVA)
            return ilg__fail(ILG_E_ELF_SPAN_TOO_LARGE, ILG_WHERE_FILE, at,
                             "PT_LOAD segments span 0x%llx bytes, more than 0x%x",
                             (ull)(prev_end - first_page), ILG_METHOD_MAX_RVA);
        if (prev_end > end)
            end = prev_end;

        ilg_region *r = &img->regions[n];
        char *name = img->names + n * 16;
        snprintf(name, 16, "LOAD#%u", n);
        r->name = name;
        r->rva = ph.p_vaddr - first_page;
        r->virtual_size = ph.p_memsz;
        r->file_offset = ph.p_offset;
        r->file_size = ph.p_filesz;
        r->flags = ph.p_flags;
        r->prot = prot_from_pflags(ph.p_flags);
        n++;
    }
    img->region_count = n;
    img->preferred_base = first_page;
    img->image_size = ilg__align_up(end - first_page, page);
    img->section_alignment = (uint32_t)page;
    return ILG_OK;
}

static ilg_status parse_sections(ilg_image *img, Elf *elf, uint64_t shoff, size_t shentsize)
{
    size_t shnum, shstrndx;
    if (elf_getshdrnum(elf, &shnum) != 0)
        return ilg__fail(ILG_E_ELF_BAD_SECTION, ILG_WHERE_FILE, 0, "section headers: %s",
                         elf_errmsg(-1));
    if (shnum == 0)
        return ILG_OK;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0)
        return ilg__fail(ILG_E_ELF_BAD_SECTION, ILG_WHERE_FILE, 0, "section name table: %s",
                         elf_errmsg(-1));
    img->elf_sections = calloc(shnum, sizeof *img->elf_sections);
    if (!img->elf_sections)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "%zu section records", shnum);

    size_t nsyms = 0;
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr sh;
        size_t idx = elf_ndxscn(scn);
        if (!gelf_getshdr(scn, &sh))
            return ilg__fail(ILG_E_ELF_BAD_SECTION, ILG_WHERE_FILE, 0, "section %zu: %s", idx,
                             elf_errmsg(-1));
        if (sh.sh_type != SHT_NOBITS && !ilg__in_range(sh.sh_offset, sh.sh_size, img->file_size))
            return ilg__fail(ILG_E_ELF_BAD_SECTION, ILG_WHERE_FILE, shoff + idx * shentsize,
                             "section %zu: data 0x%llx+0x%llx lies outside the %zu-byte file", idx,
                             (ull)sh.sh_offset, (ull)sh.sh_size, img->file_size);
        const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
        ilg_elf_section *s = &img->elf_sections[img->elf_section_count++];
        s->name = name ? name : "";
        s->type = sh.sh_type;
        s->flags = sh.sh_flags;
        s->rva = (sh.sh_flags & SHF_ALLOC) && sh.sh_addr >= img->preferred_base
                     ? sh.sh_addr - img->preferred_base : 0;
        s->file_offset = sh.sh_offset;
        s->size = sh.sh_size;
        if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) {
            size_t ent = gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
            if (sh.sh_entsize != ent || sh.sh_size % ent != 0 || sh.sh_link >= shnum)
                return ilg__fail(ILG_E_ELF_BAD_SYMTAB, ILG_WHERE_FILE, sh.sh_offset,
                                 "section %zu: sh_entsize %llu, sh_size 0x%llx, sh_link %u (symbols are %zu bytes)",
                                 idx, (ull)sh.sh_entsize, (ull)sh.sh_size, sh.sh_link, ent);
            nsyms += sh.sh_size / ent;
        }
    }
    if (nsyms == 0)
        return ILG_OK;
    if (nsyms > img->file_size)
        return ilg__fail(ILG_E_ELF_BAD_SYMTAB, ILG_WHERE_NONE, 0, "%zu symbols", nsyms);
    img->symbols = calloc(nsyms, sizeof *img->symbols);
    if (!img->symbols)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "%zu symbol records", nsyms);

    /* .symtab before .dynsym, so lookups prefer the fuller table. */
    static const uint32_t order[] = { SHT_SYMTAB, SHT_DYNSYM };
    for (size_t pass = 0; pass < 2; pass++) {
        for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
            GElf_Shdr sh;
            gelf_getshdr(scn, &sh);
            if (sh.sh_type != order[pass])
                continue;
            Elf_Data *data = elf_getdata(scn, NULL);
            size_t count = sh.sh_size / sh.sh_entsize;
            if (!data || data->d_size / sh.sh_entsize < count)
                return ilg__fail(ILG_E_ELF_BAD_SYMTAB, ILG_WHERE_FILE, sh.sh_offset,
                                 "symbol data of section %zu unreadable: %s", elf_ndxscn(scn),
                                 elf_errmsg(-1));
            for (size_t i = 0; i < count; i++) {
                GElf_Sym sym;
                if (!gelf_getsym(data, (int)i, &sym))
                    return ilg__fail(ILG_E_ELF_BAD_SYMTAB, ILG_WHERE_FILE,
                                     sh.sh_offset + i * sh.sh_entsize, "symbol %zu: %s", i,
                                     elf_errmsg(-1));
                const char *name = sym.st_name ? elf_strptr(elf, sh.sh_link, sym.st_name) : "";
                if (!name)
                    return ilg__fail(ILG_E_ELF_BAD_SYMTAB, ILG_WHERE_FILE,
                                     sh.sh_offset + i * sh.sh_entsize,
                                     "symbol %zu: name index 0x%x outside string table %u", i,
                                     sym.st_name, sh.sh_link);
                ilg_symbol *s = &img->symbols[img->symbol_count++];
                s->name = name;
                s->value = sym.st_value;
                s->rva = sym.st_shndx != SHN_UNDEF && sym.st_shndx != SHN_ABS &&
                                 sym.st_value >= img->preferred_base
                             ? sym.st_value - img->preferred_base : 0;
                s->size = sym.st_size;
                s->type = GELF_ST_TYPE(sym.st_info);
                s->bind = GELF_ST_BIND(sym.st_info);
                s->shndx = sym.st_shndx;
                s->dynamic = order[pass] == SHT_DYNSYM;
            }
        }
    }
    return ILG_OK;
}

ilg_status ilg__elf_parse(ilg_image *img)
{
    const uint8_t *f = img->file;
    if (img->file_size < EI_NIDENT || (f[EI_CLASS] != ELFCLASS32 && f[EI_CLASS] != ELFCLASS64) ||
        (f[EI_DATA] != ELFDATA2LSB && f[EI_DATA] != ELFDATA2MSB) || f[EI_VERSION] != EV_CURRENT)
        return ilg__fail(ILG_E_ELF_BAD_IDENT, ILG_WHERE_FILE, img->file_size < EI_NIDENT ? 0 : EI_CLASS,
                         "class %u, data %u, version %u in a %zu-byte file",
                         img->file_size > EI_CLASS ? f[EI_CLASS] : 0,
                         img->file_size > EI_DATA ? f[EI_DATA] : 0,
                         img->file_size > EI_VERSION ? f[EI_VERSION] : 0, img->file_size);

    pthread_once(&elf_once, elf_init);
    Elf *elf = elf_memory((char *)f, img->file_size);
    const size_t ehdr_size = f[EI_CLASS] == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    if (!elf)
        return ilg__fail(ILG_E_ELF_BAD_HEADER, ILG_WHERE_FILE, 0,
                         "ELF%d header needs %zu bytes, the file has %zu (libelf: %s)",
                         f[EI_CLASS] == ELFCLASS64 ? 64 : 32, ehdr_size, img->file_size,
                         elf_errmsg(-1));
    img->elf = elf;

    GElf_Ehdr eh;
    if (!gelf_getehdr(elf, &eh))
        return ilg__fail(ILG_E_ELF_BAD_HEADER, ILG_WHERE_FILE, 0,
                         "ELF%d header needs %zu bytes, the file has %zu (libelf: %s)",
                         f[EI_CLASS] == ELFCLASS64 ? 64 : 32, ehdr_size, img->file_size,
                         elf_errmsg(-1));
    if (eh.e_type != ET_DYN && eh.e_type != ET_EXEC)
        return ilg__fail(ILG_E_ELF_UNSUPPORTED_TYPE, ILG_WHERE_FILE, 16,
                         "e_type %u (need ET_EXEC 2 or ET_DYN 3)", eh.e_type);
    size_t phent = gelf_fsize(elf, ELF_T_PHDR, 1, EV_CURRENT);
    if (eh.e_phentsize != phent)
        return ilg__fail(ILG_E_ELF_BAD_PHDR, ILG_WHERE_FILE, f[EI_CLASS] == ELFCLASS64 ? 54 : 42,
                         "e_phentsize %u, program headers of this class are %zu bytes",
                         eh.e_phentsize, phent);

    img->format = f[EI_CLASS] == ELFCLASS64 ? ILG_FORMAT_ELF64 : ILG_FORMAT_ELF32;
    img->machine = eh.e_machine;
    img->characteristics = eh.e_type;

    ilg_status status = parse_segments(img, elf, eh.e_phoff, phent, eh.e_phnum);
    if (status != ILG_OK)
        return status;
    img->entry_rva = eh.e_entry >= img->preferred_base ? eh.e_entry - img->preferred_base : 0;
    return parse_sections(img, elf, eh.e_shoff, eh.e_shentsize);
}
