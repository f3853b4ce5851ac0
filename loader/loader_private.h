/* loader_private.h: the image object shared by the loader's files (PE and ELF parsing,
 * mapping, metadata, arena). Not installed. */
#ifndef ILG_LOADER_PRIVATE_H
#define ILG_LOADER_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include "ilg_private.h"
#include "ilgraft/loader.h"
#include "ilgraft/metadata.h"

/* PE data directory indexes (PE/COFF "Optional Header Data Directories"). */
#define ILG__DIR_CLI 14          /* the CLI header (COM descriptor) */

struct ilg_arena;

/* Where a PE image's headers lie in its file, and the section-table facts the image
 * writer (save/) needs to append a section: filled by ilg__pe_parse after its checks. */
typedef struct ilg__pe_layout {
    uint32_t coff;              /* COFF header (after "PE\0\0"); e_lfanew = coff - 4 */
    uint32_t opt;               /* optional header */
    uint32_t sections;          /* section table */
    uint16_t nsections;
    uint32_t checksum;          /* the optional header's CheckSum */
    uint32_t first_raw;         /* lowest PointerToRawData of a section with raw data */
    uint64_t raw_end;           /* highest VirtualAddress + SizeOfRawData of a section */
} ilg__pe_layout;

struct ilg_image {
    char *path;
    const uint8_t *file;        /* file bytes: mmap'd read-only, or a malloc'd copy */
    size_t file_size;
    bool file_mmapped;
    bool file_malloced;         /* a copy made by ilg_image_open_memory */

    ilg_format format;
    uint32_t machine;
    uint32_t arch;              /* machine without a ReadyToRun OS tag */
    char machine_desc[40];      /* "x86-64", "x86-64 (ReadyToRun, Linux)", ... */
    uint64_t preferred_base;
    uint64_t image_size;        /* the span, before page rounding */
    uint64_t entry_rva;
    uint32_t characteristics;
    uint32_t subsystem;
    uint32_t section_alignment;
    uint32_t file_alignment;
    uint32_t size_of_headers;   /* PE headers mapped at RVA 0 */

    ilg_region *regions;        /* PE sections or ELF PT_LOAD segments, by rva */
    uint32_t region_count;
    char *names;                /* storage for region names */

    uint32_t dir_count;         /* PE data directories */
    uint32_t dirs[16][2];       /* [ILG__DIR_*] {RVA, size} */
    ilg__pe_layout pe;          /* PE header positions (zero for ELF) */

    /* ELF extras (empty for PE) */
    ilg_elf_section *elf_sections;
    uint32_t elf_section_count;
    ilg_symbol *symbols;
    uint32_t symbol_count;
    void *elf;                  /* libelf handle (Elf *): symbol and section names point
                                   into its data, so it lives as long as the image */

    /* One reservation: image, then the graft arena, then a guard page. */
    uint8_t *reservation;
    size_t reservation_size;
    uint8_t *base;
    uint64_t arena_offset;
    uint64_t arena_size;
    struct ilg_arena *arena;    /* owned; created over [arena_offset, +arena_size) */

    pthread_mutex_t md_lock;    /* guards the one-time metadata parse */
    bool md_done;
    ilg_status md_status;
    ilg_diag md_diag;
    struct ilg_metadata *md;

    pthread_mutex_t r2r_lock;   /* guards the one-time ReadyToRun parse */
    bool r2r_done;
    ilg_status r2r_status;
    ilg_diag r2r_diag;
    struct ilg_r2r *r2r;
};

/* Format parsers: validate headers, fill the image's description (regions, sizes,
 * directories, symbols). They do not map anything. */
ilg_status ilg__pe_parse(ilg_image *img);
ilg_status ilg__elf_parse(ilg_image *img);

/* Metadata lifetime (metadata.c). */
ilg_status ilg__md_parse(ilg_image *img, struct ilg_metadata **out);
void ilg__md_free(struct ilg_metadata *md);

/* ReadyToRun (readytorun.c): freed with the image. */
void ilg__r2r_free(struct ilg_r2r *r2r);
/* A PE machine field as ReadyToRun images write it: the architecture xored with an OS
 * tag (CoreCLR's pedecoder.h). False when no known tag gives a known architecture. */
bool ilg__r2r_split_machine(uint32_t machine, uint16_t *arch, uint16_t *os_tag,
                            const char **os_name);

/* The graft arena's life inside an image (arena.c): created once the image is mapped,
 * over [arena_offset, arena_offset + arena_size) of the reservation; destroyed by
 * ilg_image_close before the reservation is unmapped. destroy accepts an image whose
 * arena was never created. */
ilg_status ilg__image_arena_create(ilg_image *img);
void ilg__image_arena_destroy(ilg_image *img);

/* The region holding [rva, rva + len), or NULL. */
const ilg_region *ilg__region_for(const ilg_image *img, uint64_t rva, uint64_t len);

/* madvise advice that faults a range in, writable, in one call (Linux 5.14; older
 * headers lack the name, older kernels refuse it with EINVAL). */
#ifdef MADV_POPULATE_WRITE
#define ILG_MADV_POPULATE_WRITE MADV_POPULATE_WRITE
#else
#define ILG_MADV_POPULATE_WRITE 23
#endif

#endif
