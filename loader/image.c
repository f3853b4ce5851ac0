/* image.c: opening an image, mapping it the way an OS loader lays it out (one
 * reservation that also covers the graft arena), and the format-neutral queries. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libelf.h>

#include "loader_private.h"

static ilg_status read_file(ilg_image *img, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    ilg_status status = ILG_OK;

    if (fd < 0)
        return ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot open: %s", strerror(errno));
    if (fstat(fd, &st) != 0) {
        status = ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot stat: %s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        status = ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "not a regular file");
        goto out;
    }
    if (st.st_size == 0) {
        static const uint8_t empty[1];
        img->file = empty;
        img->file_size = 0;
        goto out;
    }
    /* Private and writable so that libelf may convert in place; never written back. */
    /* Read-only and populated: the page cache mapped in one call. (A writable private
     * mapping would make MAP_POPULATE copy every page.) */
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED) {
        status = ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot map the file: %s", strerror(errno));
        goto out;
    }
    img->file = p;
    img->file_size = (size_t)st.st_size;
    img->file_mmapped = true;
out:
    close(fd);
    return status;
}

/* Transparent huge pages on x86-64 and most arm64 kernels. */
#define HUGE_PAGE ((size_t)2 << 20)

static int prot_for_region(const ilg_region *r) { return r->prot | PROT_READ; }

/* One reservation for the image span, the arena and a guard page, placed so that the
 * largest file-backed region starts on a huge-page boundary (see commit_file_pages). */
static ilg_status reserve(ilg_image *img, const ilg_image_options *opts, uint64_t span)
{
    const size_t page = ilg__page_size();
    uint64_t arena = opts && opts->arena_size ? opts->arena_size : ILG_ARENA_DEFAULT_SIZE;
    const uint64_t rva_limit = (uint64_t)ILG_METHOD_MAX_RVA + 1;

    arena = ilg__align_up(arena, page);
    if (span >= rva_limit)
        arena = 0;
    else if (arena > rva_limit - span)
        arena = rva_limit - span;

    size_t total = (size_t)(span + arena + page);
    /* The largest file-backed region starts on a huge-page boundary, so populating it
     * can use transparent huge pages (below). Reserve one huge page more, then give back
     * what lies before and after the placed reservation. */
    uint64_t big_rva = 0, big_len = 0;
    for (uint32_t i = 0; i < img->region_count; i++)
        if (img->regions[i].file_size > big_len && img->regions[i].rva < span) {
            big_len = img->regions[i].file_size;
            big_rva = img->regions[i].rva;
        }
    const size_t slack = big_len >= HUGE_PAGE ? HUGE_PAGE : 0;
    uint8_t *raw = mmap(NULL, total + slack, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED)
        return ilg__fail(ILG_E_MAP, ILG_WHERE_NONE, 0, "cannot reserve 0x%zx bytes: %s", total,
                         strerror(errno));
    uint8_t *res = raw;
    if (slack) {
        /* big_rva is page aligned for PE (SectionAlignment >= page) and ELF segments are
         * placed at their page offsets, so the shift is a whole number of pages. */
        uintptr_t want = ((uintptr_t)raw + big_rva + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
        res = (uint8_t *)(want - (big_rva & ~(uint64_t)(page - 1)));
        if (res > raw)
            munmap(raw, (size_t)(res - raw));
        if (res + total < raw + total + slack)
            munmap(res + total, (size_t)(raw + total + slack - (res + total)));
    }
    img->reservation = res;
    img->reservation_size = total;
    img->base = res;
    img->arena_offset = span;
    img->arena_size = arena;
    return ILG_OK;
}

static ilg_status commit_file_pages(ilg_image *img, uint64_t span)
{
    const size_t page = ilg__page_size();
    uint8_t *res = img->reservation;
    /* The span is committed lazily (zero-fill on demand), and only the pages that
     * receive file bytes are populated up front, in one call each rather than a fault
     * per page: a tiny file declaring a huge image commits no more than its own size.
     * All populating happens before any copy, so a page shared by two regions is never
     * replaced after it was written. */
    if (mprotect(res, (size_t)span, PROT_READ | PROT_WRITE) != 0)
        return ilg__fail(ILG_E_MAP, ILG_WHERE_NONE, 0, "cannot commit the image: %s",
                         strerror(errno));
    for (uint32_t i = 0; i <= img->region_count; i++) {
        uint64_t from = 0, len = img->size_of_headers;
        if (i < img->region_count) {
            from = img->regions[i].rva;
            len = img->regions[i].file_size;
        }
        if (!len)
            continue;
        uint64_t lo = from & ~(uint64_t)(page - 1), hi = ilg__align_up(from + len, page);
        if (hi > span)
            hi = span;
        if (lo >= hi)
            continue;
        if (mmap(res + lo, (size_t)(hi - lo), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
            return ilg__fail(ILG_E_MAP, ILG_WHERE_RVA, lo, "cannot commit 0x%llx bytes: %s",
                             (unsigned long long)(hi - lo), strerror(errno));
        /* Huge pages where a region spans them, then every page populated in one call
         * (fewer faults than small pages; docs/architecture.md has the figures). Both are
         * advice: on a kernel without them the copy below faults the pages in. */
        if (hi - lo >= HUGE_PAGE)
            (void)madvise(res + lo, (size_t)(hi - lo), MADV_HUGEPAGE);
        (void)madvise(res + lo, (size_t)(hi - lo), ILG_MADV_POPULATE_WRITE);
    }
    return ILG_OK;
}

/* The headers and every region's file bytes at their RVAs. */
static void copy_file(ilg_image *img, uint64_t span)
{
    uint8_t *res = img->reservation;
    if (img->size_of_headers) {
        uint64_t n = img->size_of_headers;
        if (n > img->file_size)
            n = img->file_size;
        if (n > span)
            n = span;
        memcpy(res, img->file, (size_t)n);
    }
    for (uint32_t i = 0; i < img->region_count; i++) {
        const ilg_region *r = &img->regions[i];
        /* Parsers validated both ranges; the tail past file_size stays zero. */
        memcpy(res + r->rva, img->file + r->file_offset, (size_t)r->file_size);
    }
}

static ilg_status protect_pages(ilg_image *img, uint64_t span)
{
    const size_t page = ilg__page_size();
    uint8_t *res = img->reservation;
    /* Final protections, page by page: a page shared by two regions gets the union. */
    uint64_t pages = span / page;
    int *prot = calloc(pages ? pages : 1, sizeof *prot);
    if (!prot)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "page table for %llu pages",
                         (unsigned long long)pages);
    /* PE maps the headers and each section rounded up to SectionAlignment, as the
     * Windows loader does, so a valid image has no inaccessible gaps; ELF segments
     * cover just their pages. */
    const uint64_t align = img->format <= ILG_FORMAT_PE32PLUS ? img->section_alignment : 1;
    const uint64_t headers_end = ilg__align_up(img->size_of_headers, align);
    for (uint64_t p = 0; p * page < headers_end && p < pages; p++)
        prot[p] |= PROT_READ;
    for (uint32_t i = 0; i < img->region_count; i++) {
        const ilg_region *r = &img->regions[i];
        if (!r->virtual_size)
            continue;
        uint64_t first = r->rva / page;
        uint64_t last = (r->rva + ilg__align_up(r->virtual_size, align) - 1) / page;
        for (uint64_t p = first; p <= last && p < pages; p++)
            prot[p] |= prot_for_region(r);
    }
    ilg_status status = ILG_OK;
    for (uint64_t p = 0; p < pages;) {
        uint64_t q = p + 1;
        while (q < pages && prot[q] == prot[p])
            q++;
        if (mprotect(res + p * page, (size_t)((q - p) * page), prot[p]) != 0) {
            status = ilg__fail(ILG_E_MAP, ILG_WHERE_RVA, p * page, "mprotect failed: %s",
                               strerror(errno));
            break;
        }
        p = q;
    }
    free(prot);
    return status;
}

/* One reservation: image span, arena, guard page. Image pages get their final
 * protections; the arena and the guard stay PROT_NONE until the arena commits. */
static ilg_status map_image(ilg_image *img, const ilg_image_options *opts)
{
    const uint64_t span = ilg__align_up(img->image_size, ilg__page_size());
    ilg_status st;
    if ((st = reserve(img, opts, span)) != ILG_OK || (st = commit_file_pages(img, span)) != ILG_OK)
        return st;
    copy_file(img, span);
    return protect_pages(img, span);
}

static const char *arch_name(uint32_t m)
{
    switch (m) {
    case ILG_MACHINE_AMD64: return "x86-64";
    case ILG_MACHINE_ARM64: return "AArch64";
    case ILG_MACHINE_I386: return "i386";
    case ILG_MACHINE_ARMNT: return "ARM";
    case ILG_MACHINE_LOONGARCH64: return "LoongArch64";
    case ILG_MACHINE_RISCV64: return "RISC-V64";
    default: return "unknown";
    }
}

/* ReadyToRun images xor the machine with an OS tag (CoreCLR's pedecoder.h); a Windows
 * one (tag 0) reads as the plain architecture. */
static void describe_machine(ilg_image *img)
{
    const char *name = "unknown";
    img->arch = img->machine;
    if (img->format == ILG_FORMAT_ELF32 || img->format == ILG_FORMAT_ELF64) {
        switch (img->machine) {
        case 3: name = "i386"; break;
        case 40: name = "ARM"; break;
        case 62: name = "x86-64"; break;
        case 183: name = "AArch64"; break;
        case 243: name = "RISC-V"; break;
        }
    } else {
        uint16_t arch, tag;
        const char *os;
        if (ilg__r2r_split_machine(img->machine, &arch, &tag, &os) && tag != 0) {
            img->arch = arch;
            snprintf(img->machine_desc, sizeof img->machine_desc, "%s (ReadyToRun, %s)",
                     arch_name(arch), os);
            return;
        }
        name = arch_name(img->machine);
    }
    snprintf(img->machine_desc, sizeof img->machine_desc, "%s", name);
}

static ilg_status image_load(ilg_image *img, const ilg_image_options *opts, ilg_image **out)
{
    ilg_status status;

    pthread_mutex_init(&img->md_lock, NULL);
    pthread_mutex_init(&img->r2r_lock, NULL);
    if (img->file_size >= 2 && img->file[0] == 'M' && img->file[1] == 'Z') {
        status = ilg__pe_parse(img);
    } else if (img->file_size >= 4 && memcmp(img->file, ELFMAG, SELFMAG) == 0) {
        /* libelf may convert foreign-endian data in place: give it a private copy-on-write
         * view (never written back). */
        if (img->file_mmapped &&
            mprotect((void *)img->file, img->file_size, PROT_READ | PROT_WRITE) != 0)
            status = ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot remap the file: %s",
                               strerror(errno));
        else
            status = ilg__elf_parse(img);
    } else {
        uint32_t magic = 0;
        for (size_t i = 0; i < 4 && i < img->file_size; i++)
            magic |= (uint32_t)img->file[i] << (8 * i);
        status = ilg__fail(ILG_E_FORMAT, ILG_WHERE_FILE, 0,
                           "%zu-byte file starts with 0x%08x, neither MZ nor \\x7fELF",
                           img->file_size, magic);
    }
    if (status != ILG_OK)
        goto fail;
    describe_machine(img);
    if ((status = map_image(img, opts)) != ILG_OK)
        goto fail;
    /* ARENA-HOOK: create the graft arena over [arena_offset, +arena_size). */
    if ((status = ilg__image_arena_create(img)) != ILG_OK)
        goto fail;
    *out = img;
    return ILG_OK;
fail:
    ilg_image_close(img);
    return status;
}

static ilg_image *image_new(const char *name)
{
    ilg_image *img = calloc(1, sizeof *img);
    if (!img)
        return NULL;
    img->path = strdup(name ? name : "<memory>");
    if (!img->path) {
        free(img);
        return NULL;
    }
    return img;
}

ilg_status ilg_image_open(const char *path, const ilg_image_options *opts, ilg_image **out)
{
    if (!path || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "path and out are required");
    ilg_image *img = image_new(path);
    if (!img)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "image object");
    ilg_status status = read_file(img, path);
    if (status != ILG_OK) {
        free(img->path);
        free(img);
        return status;
    }
    return image_load(img, opts, out);
}

ilg_status ilg_image_open_memory(const void *data, size_t size, const char *name,
                                 const ilg_image_options *opts, ilg_image **out)
{
    if ((!data && size) || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "data and out are required");
    ilg_image *img = image_new(name);
    if (!img)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "image object");
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) {
        free(img->path);
        free(img);
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "copy of %zu bytes", size);
    }
    if (size)
        memcpy(copy, data, size);
    img->file = copy;
    img->file_size = size;
    img->file_malloced = true;
    return image_load(img, opts, out);
}

void ilg_image_close(ilg_image *img)
{
    if (!img)
        return;
    /* ARENA-HOOK: the arena goes away with its module. */
    ilg__image_arena_destroy(img);
    ilg__r2r_free(img->r2r);
    if (img->md)
        ilg__md_free(img->md);
    if (img->elf)
        elf_end((Elf *)img->elf);
    if (img->reservation)
        munmap(img->reservation, img->reservation_size);
    if (img->file_mmapped)
        munmap((void *)img->file, img->file_size);
    else if (img->file_malloced)
        free((void *)img->file);
    pthread_mutex_destroy(&img->md_lock);
    pthread_mutex_destroy(&img->r2r_lock);
    free(img->regions);
    free(img->names);
    free(img->elf_sections);
    free(img->symbols);
    free(img->path);
    free(img);
}

static const char *format_name(ilg_format f)
{
    switch (f) {
    case ILG_FORMAT_PE32: return "PE32";
    case ILG_FORMAT_PE32PLUS: return "PE32+";
    case ILG_FORMAT_ELF32: return "ELF32";
    case ILG_FORMAT_ELF64: return "ELF64";
    }
    return "?";
}

ilg_status ilg_image_get_info(const ilg_image *img, ilg_image_info *out)
{
    if (!img || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "image and out are required");
    ilg_image_info info = {
        .format = img->format,
        .format_name = format_name(img->format),
        .path = img->path,
        .machine = img->machine,
        .arch = img->arch,
        .machine_name = img->machine_desc,
        .base = img->base,
        .preferred_base = img->preferred_base,
        .image_size = img->image_size,
        .headers_size = img->size_of_headers,
        .file_size = img->file_size,
        .entry_rva = img->entry_rva,
        .characteristics = img->characteristics,
        .subsystem = img->subsystem,
        .section_alignment = img->section_alignment,
        .file_alignment = img->file_alignment,
        .region_count = img->region_count,
        .has_cli = img->dir_count > ILG__DIR_CLI && img->dirs[ILG__DIR_CLI][0] != 0,
        .arena_offset = img->arena_offset,
        .arena_size = img->arena_size,
    };
    *out = info;
    return ILG_OK;
}

ilg_status ilg_image_region(const ilg_image *img, uint32_t index, ilg_region *out)
{
    if (!img || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "image and out are required");
    if (index >= img->region_count)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_NONE, 0, "region %u of %u", index,
                         img->region_count);
    *out = img->regions[index];
    return ILG_OK;
}

uint32_t ilg_image_elf_section_count(const ilg_image *img) { return img ? img->elf_section_count : 0; }

ilg_status ilg_image_elf_section(const ilg_image *img, uint32_t index, ilg_elf_section *out)
{
    if (!img || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "image and out are required");
    if (index >= img->elf_section_count)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_NONE, 0, "section %u of %u", index,
                         img->elf_section_count);
    *out = img->elf_sections[index];
    return ILG_OK;
}

ilg_status ilg_image_directory(const ilg_image *img, uint32_t index, uint32_t *rva, uint32_t *size)
{
    if (!img || !rva || !size)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "image, rva and size are required");
    if (index >= img->dir_count)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_NONE, 0, "directory %u of %u", index,
                         img->dir_count);
    *rva = img->dirs[index][0];
    *size = img->dirs[index][1];
    return ILG_OK;
}

const ilg_region *ilg__region_for(const ilg_image *img, uint64_t rva, uint64_t len)
{
    /* Regions are sorted by rva and do not overlap: binary search the last one at or
     * below rva. */
    uint32_t lo = 0, hi = img->region_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (img->regions[mid].rva <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const ilg_region *r = &img->regions[lo - 1];
    if (rva - r->rva <= r->virtual_size && len <= r->virtual_size - (rva - r->rva))
        return r;
    return NULL;
}

ilg_status ilg_image_rva_to_ptr(const ilg_image *img, uint64_t rva, uint64_t len,
                                const uint8_t **out)
{
    if (!img || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "image and out are required");
    if (ilg__region_for(img, rva, len) ||
        (img->size_of_headers && ilg__in_range(rva, len, img->size_of_headers))) {
        *out = img->base + rva;
        return ILG_OK;
    }
    return ilg__fail(ILG_E_RANGE, ILG_WHERE_RVA, rva,
                     "RVA 0x%llx length 0x%llx does not lie inside the headers or one section",
                     (unsigned long long)rva, (unsigned long long)len);
}

ilg_status ilg_image_rva_to_offset(const ilg_image *img, uint64_t rva, uint64_t *out)
{
    if (!img || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "image and out are required");
    if (img->size_of_headers && rva < img->size_of_headers && rva < img->file_size) {
        *out = rva;
        return ILG_OK;
    }
    const ilg_region *r = ilg__region_for(img, rva, 0);
    if (r && rva - r->rva < r->file_size) {
        *out = r->file_offset + (rva - r->rva);
        return ILG_OK;
    }
    return ilg__fail(ILG_E_RANGE, ILG_WHERE_RVA, rva, "RVA 0x%llx is not backed by file data",
                     (unsigned long long)rva);
}

ilg_status ilg_image_offset_to_rva(const ilg_image *img, uint64_t offset, uint64_t *out)
{
    if (!img || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "image and out are required");
    for (uint32_t i = 0; i < img->region_count; i++) {
        const ilg_region *r = &img->regions[i];
        if (offset >= r->file_offset && offset - r->file_offset < r->file_size) {
            *out = r->rva + (offset - r->file_offset);
            return ILG_OK;
        }
    }
    if (img->size_of_headers && offset < img->size_of_headers && offset < img->file_size) {
        *out = offset;
        return ILG_OK;
    }
    return ilg__fail(ILG_E_RANGE, ILG_WHERE_FILE, offset,
                     "file offset 0x%llx is not mapped by any section",
                     (unsigned long long)offset);
}

ilg_status ilg_image_file_bytes(const ilg_image *img, const uint8_t **data, size_t *size)
{
    if (!img || !data || !size)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "image, data and size are required");
    *data = img->file;
    *size = img->file_size;
    return ILG_OK;
}

uint32_t ilg_image_symbol_count(const ilg_image *img) { return img ? img->symbol_count : 0; }

ilg_status ilg_image_symbol(const ilg_image *img, uint32_t index, ilg_symbol *out)
{
    if (!img || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "image and out are required");
    if (index >= img->symbol_count)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_NONE, 0, "symbol %u of %u", index,
                         img->symbol_count);
    *out = img->symbols[index];
    return ILG_OK;
}

ilg_status ilg_image_find_symbol(const ilg_image *img, const char *name, ilg_symbol *out)
{
    if (!img || !name || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "image, name and out are required");
    for (uint32_t i = 0; i < img->symbol_count; i++) {
        const ilg_symbol *s = &img->symbols[i];
        if (s->shndx != 0 && strcmp(s->name, name) == 0) {
            *out = *s;
            return ILG_OK;
        }
    }
    return ilg__fail(ILG_E_NOT_FOUND, ILG_WHERE_NONE, 0, "no defined symbol named '%s'", name);
}
