/* ilgraft/loader.h: maps PE (PE32, PE32+; IL-only, mixed-mode, ReadyToRun, native) and
 * ELF (ELF32, ELF64; ET_DYN, ET_EXEC) images into memory the way an OS loader lays them
 * out, and answers questions about the mapping.
 *
 * Layout of one mapping (one mmap reservation, so nothing else can land in between):
 *
 *   base                         base + arena_offset          + arena_size
 *   | headers | sections ... |pad| graft arena (PROT_NONE until used) | guard page |
 *
 * arena_offset is the first page boundary at or above the image span (SizeOfImage for
 * PE, the PT_LOAD span for ELF). The image is not relocated: reading IL and metadata
 * needs only RVAs, and the image's code is never run from this mapping.
 *
 * Ownership: an ilg_image owns its file bytes, its mapping, its metadata and its arena.
 * Every pointer the calls below return (names, mapped bytes, file bytes) stays valid
 * until ilg_image_close(). An image may be queried from several threads at once; open
 * and close are not concurrent with queries on the same image. */
#ifndef ILGRAFT_LOADER_H
#define ILGRAFT_LOADER_H

#include <stdbool.h>

#include "ilgraft/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ilg_image ilg_image;

typedef enum ilg_format {
    ILG_FORMAT_PE32 = 1,
    ILG_FORMAT_PE32PLUS,
    ILG_FORMAT_ELF32,
    ILG_FORMAT_ELF64
} ilg_format;

/* Default address space reserved for the graft arena above each image. */
#define ILG_ARENA_DEFAULT_SIZE ((uint64_t)64 << 20)
/* Largest RVA a method body may have (the .NET Framework's METHOD_MAX_RVA). */
#define ILG_METHOD_MAX_RVA 0x7FFFFFFFu

typedef struct ilg_image_options {
    /* Address space to reserve for the graft arena (rounded up to pages). 0 means
     * ILG_ARENA_DEFAULT_SIZE. Clamped so that the arena ends at or below
     * ILG_METHOD_MAX_RVA + 1; an image already that large gets an empty arena. */
    uint64_t arena_size;
} ilg_image_options;

/* Opens and maps the image at path (or a copy of data[0..size), named name for
 * messages). opts may be NULL for defaults. On success *out is a new image that the
 * caller closes with ilg_image_close(). */
ILG_API ilg_status ilg_image_open(const char *path, const ilg_image_options *opts,
                                  ilg_image **out);
ILG_API ilg_status ilg_image_open_memory(const void *data, size_t size, const char *name,
                                         const ilg_image_options *opts, ilg_image **out);
/* Unmaps and frees the image and everything it owns. NULL is allowed. */
ILG_API void ilg_image_close(ilg_image *img);

/* The PE machine values (IMAGE_FILE_MACHINE_*) ilgraft names; ilg_image_info.arch holds
 * one for a PE image. */
enum {
    ILG_MACHINE_I386 = 0x014C,
    ILG_MACHINE_ARMNT = 0x01C4,
    ILG_MACHINE_RISCV64 = 0x5064,
    ILG_MACHINE_LOONGARCH64 = 0x6264,
    ILG_MACHINE_AMD64 = 0x8664,
    ILG_MACHINE_ARM64 = 0xAA64,
};

typedef struct ilg_image_info {
    ilg_format format;
    const char *format_name;   /* "PE32", "PE32+", "ELF32", "ELF64" */
    const char *path;          /* as given to open */
    uint32_t machine;          /* IMAGE_FILE_MACHINE_* or EM_* */
    uint32_t arch;             /* machine without a ReadyToRun image's OS tag (0xFD1D on
                                  Linux is 0x8664); otherwise machine */
    const char *machine_name;  /* "x86-64", "i386", "AArch64", ... */
    uint8_t *base;             /* where RVA 0 is mapped */
    uint64_t preferred_base;   /* PE ImageBase; ELF lowest PT_LOAD page address */
    uint64_t image_size;       /* span: SizeOfImage, or the PT_LOAD span in pages */
    uint32_t headers_size;     /* PE SizeOfHeaders mapped at RVA 0; ELF 0 (in a segment) */
    uint64_t file_size;
    uint64_t entry_rva;        /* AddressOfEntryPoint / e_entry - preferred_base; 0 if none */
    uint32_t characteristics;  /* PE COFF Characteristics; ELF e_type */
    uint32_t subsystem;        /* PE only */
    uint32_t section_alignment;/* PE SectionAlignment; ELF page size used */
    uint32_t file_alignment;   /* PE FileAlignment; ELF 0 */
    uint32_t region_count;     /* PE sections or ELF PT_LOAD segments */
    bool has_cli;              /* a CLI (COR20) data directory is present */
    uint64_t arena_offset;     /* first page at or above image_size */
    uint64_t arena_size;       /* reserved bytes for the arena (0 if none) */
} ilg_image_info;

ILG_API ilg_status ilg_image_get_info(const ilg_image *img, ilg_image_info *out);

/* A mapped region: a PE section or an ELF PT_LOAD segment. */
typedef struct ilg_region {
    const char *name;          /* PE section name; ELF "LOAD#n" */
    uint64_t rva;              /* offset from base */
    uint64_t virtual_size;     /* VirtualSize or p_memsz */
    uint64_t file_offset;      /* PointerToRawData or p_offset */
    uint64_t file_size;        /* bytes copied from the file (min(raw, virtual) for PE) */
    uint32_t flags;            /* PE Characteristics or ELF p_flags */
    int prot;                  /* PROT_* applied to the mapping */
} ilg_region;

ILG_API ilg_status ilg_image_region(const ilg_image *img, uint32_t index, ilg_region *out);

/* ELF section headers (name, type, flags, address as RVA when SHF_ALLOC). */
typedef struct ilg_elf_section {
    const char *name;
    uint32_t type;             /* SHT_* */
    uint64_t flags;            /* SHF_* */
    uint64_t rva;              /* sh_addr - preferred_base when SHF_ALLOC, else 0 */
    uint64_t file_offset;
    uint64_t size;
} ilg_elf_section;

ILG_API uint32_t ilg_image_elf_section_count(const ilg_image *img);
ILG_API ilg_status ilg_image_elf_section(const ilg_image *img, uint32_t index, ilg_elf_section *out);

/* PE data directories (index 0..15; 14 is the CLI header). */
ILG_API ilg_status ilg_image_directory(const ilg_image *img, uint32_t index, uint32_t *rva,
                                       uint32_t *size);

/* The mapped bytes [rva, rva + len), checked to lie inside the headers or one region
 * together with their whole length. */
ILG_API ilg_status ilg_image_rva_to_ptr(const ilg_image *img, uint64_t rva, uint64_t len,
                                        const uint8_t **out);
/* File offset of an RVA that is backed by file data, and back. */
ILG_API ilg_status ilg_image_rva_to_offset(const ilg_image *img, uint64_t rva, uint64_t *out);
ILG_API ilg_status ilg_image_offset_to_rva(const ilg_image *img, uint64_t offset, uint64_t *out);

/* The raw file bytes, as read (the image keeps its own copy). */
ILG_API ilg_status ilg_image_file_bytes(const ilg_image *img, const uint8_t **data, size_t *size);

/* ELF symbols from .symtab and .dynsym (in that order). */
typedef struct ilg_symbol {
    const char *name;
    uint64_t value;            /* st_value as in the file */
    uint64_t rva;              /* st_value - preferred_base for defined symbols, else 0 */
    uint64_t size;
    uint8_t type;              /* STT_* */
    uint8_t bind;              /* STB_* */
    uint16_t shndx;
    bool dynamic;              /* from .dynsym */
} ilg_symbol;

ILG_API uint32_t ilg_image_symbol_count(const ilg_image *img);
ILG_API ilg_status ilg_image_symbol(const ilg_image *img, uint32_t index, ilg_symbol *out);
/* First defined symbol with this name (symtab first, then dynsym). ILG_E_NOT_FOUND. */
ILG_API ilg_status ilg_image_find_symbol(const ilg_image *img, const char *name, ilg_symbol *out);

#ifdef __cplusplus
}
#endif
#endif
