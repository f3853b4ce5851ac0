/* ilgraft/save.h: writes a grafted PE image back as a file any runtime can load.
 *
 * The graft arena sits directly above the mapped image (loader.h), so the bytes it
 * handed out already have the RVAs a new last section would give them. Saving appends
 * that section and patches MethodDef.RVA of each rewritten method; nothing else in the
 * metadata changes, unless the metadata writer (mdemit.h) changed it: then a new
 * metadata root, with the new RVAs and MVID, follows the arena's bytes in the section
 * and the CLI header's MetaData directory points at it (docs/save.md):
 *
 *   before:  | headers | .text | .rsrc | .reloc |                (file and image)
 *   after:   | headers+1 | .text | .rsrc | .reloc | [overlay] | .graft |
 *                                                  ^ raw data at the next FileAlignment
 *            .graft VirtualAddress = SizeOfImage before (= the arena start, see below)
 *
 * The old root, read by no one then, loses its whole SectionAlignment pages from the
 * file unless ilg_save_options.keep_old_root (docs/save.md, "The old root"): its
 * section is split around them, the first part's raw data ending where they begin (its
 * VirtualSize still covers them, zero-filled), the rest a second section with the same
 * name; the file offsets after them move down (sections' raw data, debug entries,
 * certificate table), every RVA stays. Images where anything else points into them,
 * ReadyToRun images and SectionAlignment below a page keep the root whole.
 *
 * Making room: when the 40 bytes after the section table are not free zero bytes
 * inside SizeOfHeaders (Roslyn leaves exactly the room its own sections need), the PE
 * signature, COFF and optional headers and the section table move down over the DOS
 * stub to offset 0x40 and e_lfanew becomes 0x40; the freed bytes at the old end of
 * the table become zeros. No section's raw data moves. ILG_E_SAVE_NO_HEADER_ROOM when
 * even that is not enough, or when ilg_save_options.no_header_move forbids it.
 *
 * Header fields written: NumberOfSections, the new 40-byte section header (placed in
 * the zero bytes after the section table), SizeOfImage, CheckSum (recomputed with the
 * PE checksum algorithm when the input's was non-zero, left 0 otherwise) and, for a
 * strong-name-signed input, COMIMAGE_FLAGS_STRONGNAMESIGNED cleared in the CLI header
 * (the signature no longer matches the bytes; a warning says so).
 *
 * The module gets a new MVID (the #GUID entry Module.Mvid indexes, rewritten in place),
 * so that caches keyed on it (Mono's AOT images, CoreCLR's) cannot serve the old code:
 * XXH3-128 of the old MVID followed by the saved file with its 16 MVID bytes and its
 * CheckSum field as zeros, with the version nibble set to 4 and the variant bits to
 * 10 (docs/save.md gives the byte order). The same input and rewrite give the same
 * MVID. ilg_save_options.keep_mvid keeps the old one. Every other byte of the input
 * file (but a ReadyToRun image's header cells, below) is unchanged and stays at its
 * offset, or, with the old root's pages left out, at its RVA.
 *
 * The section's VirtualAddress is SizeOfImage rounded to SectionAlignment (contiguous
 * with the last section, as loaders demand). The arena starts at the first page at or
 * above SizeOfImage; when SectionAlignment is below the page size those can differ, and
 * the section then begins with (arena start - VirtualAddress) zero bytes so every arena
 * byte keeps its RVA. (The loader's checks keep the arena from starting below that
 * address; ILG_E_RANGE if it ever did.)
 *
 * ReadyToRun images (docs/save.md, "ReadyToRun"): their precompiled code would run
 * instead of a rewritten method's new IL. By default the save keeps the precompiled
 * code of the untouched methods only: the rewritten methods, every method whose
 * precompiled code inlined one (the image's inlining tables, transitively) and all
 * their instantiations lose their entry points. Filtered copies of MethodDefEntryPoints
 * and InstanceMethodEntryPoints go into the new section after the arena's bytes, and the
 * READYTORUN_HEADER's two section entries are patched to point at them; the entries,
 * fixup lists and code stay where they are. With ilg_save_options.r2r_disable (and for
 * a component of a composite image, whose code lives in another file) the header's
 * MajorVersion becomes 0 instead, which makes the runtime ignore all precompiled code
 * and JIT-compile every method; so does a rewritten [NonVersionable] method, whose
 * inliners crossgen2 does not record (the other [NonVersionable] methods lose their
 * entries in a filtered save, as what they inlined is not recorded either). Either way a
 * warning in the log says what was done and how many methods lost their code, and
 * ilg_save_result tells the same. The filtered tables and the patched header cells are
 * part of the saved bytes the new MVID is hashed over. The new section
 * of a ReadyToRun image starts at the arena's first byte (a page boundary) with its raw
 * data at a page-aligned file offset, because CoreCLR's Unix loader maps such images
 * section by section and refuses a section whose page offset differs from its file
 * offset's or that starts inside the previous section's last page.
 *
 * Thread safety: no allocation may be in flight in the image's arena while saving. */
#ifndef ILGRAFT_SAVE_H
#define ILGRAFT_SAVE_H

#include <stdbool.h>
#include <stdio.h>

#include "ilgraft/common.h"
#include "ilgraft/loader.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Name of the section the arena becomes (8 bytes at most). */
#define ILG_SAVE_SECTION_NAME ".graft"
/* Its Characteristics: initialized data, readable (IL is read, never executed). */
#define ILG_SAVE_SECTION_FLAGS 0x40000040u

/* One method to patch: MethodDef row (1-based) and the RVA of its new body, which must
 * lie, with its whole size, inside the arena's used bytes. */
typedef struct ilg_save_method {
    uint32_t rid;
    uint32_t new_rva;
    uint32_t new_size;
} ilg_save_method;

typedef struct ilg_save_options {
    /* Warnings (strong name invalidated) and, for ilg_host_save (host.h), one line per file
     * written. NULL: stderr. Not closed. */
    FILE *log;
    /* Refuse (ILG_E_SAVE_NO_HEADER_ROOM) rather than move the PE headers down over the
     * DOS stub when the section table has no room for one more header. */
    bool no_header_move;
    /* ReadyToRun images: make the runtime ignore all precompiled code (MajorVersion 0)
     * instead of keeping the untouched methods'. */
    bool r2r_disable;
    /* Keep the input's MVID instead of deriving a new one. A runtime that caches
     * native code by MVID (Mono's AOT images) then runs the input's code. */
    bool keep_mvid;
    /* Keep the whole old metadata root in the file when the metadata writer changed the
     * module (a new root is written either way). By default its whole SectionAlignment
     * pages are left out (docs/save.md, "The old root"). */
    bool keep_old_root;
} ilg_save_options;

/* What a save did to a ReadyToRun image's precompiled code. */
typedef enum ilg_save_r2r {
    ILG_SAVE_R2R_NONE = 0,     /* IL only, or nothing rewritten */
    ILG_SAVE_R2R_FILTERED,     /* the untouched methods keep their precompiled code */
    ILG_SAVE_R2R_DISABLED      /* the runtime ignores all of it */
} ilg_save_r2r;

typedef struct ilg_save_result {
    bool section_added;        /* false when nothing was allocated and nothing patched */
    uint32_t section_rva;      /* VirtualAddress of the new section */
    uint32_t section_vsize;    /* VirtualSize: padding + arena bytes used */
    uint32_t section_pad;      /* leading zero bytes before the arena start */
    uint32_t section_file_offset;
    uint32_t section_raw_size; /* SizeOfRawData (a multiple of FileAlignment) */
    uint32_t header_offset;    /* file offset of the new section header */
    uint32_t header_moved_by;  /* bytes the PE headers moved down (0: not moved) */
    uint32_t methods_patched;
    uint64_t methoddef_file_offset; /* file offset of the MethodDef table */
    uint32_t methoddef_row_size;
    uint32_t size_of_image;    /* the new SizeOfImage */
    uint32_t checksum;         /* the new CheckSum (0 when left cleared) */
    bool strong_name_cleared;  /* the input was signed; the flag is now clear */
    bool mvid_changed;         /* mvid differs from old_mvid (false: kept, or none) */
    uint8_t old_mvid[16];      /* as stored in #GUID (all zero when Module.Mvid is 0) */
    uint8_t mvid[16];          /* the saved file's MVID */
    uint64_t mvid_file_offset; /* of the MVID's 16 bytes, 0 when Module.Mvid is 0 */
    size_t file_size;
    /* The old metadata root's pages left out of the file, [rva, rva + size) (size 0:
     * none; the section that held them is split in two around them). */
    uint32_t old_root_cut_rva, old_root_cut_size;
    /* ReadyToRun (all 0 for IL-only images). Dropped counts MethodDef entries and
     * instance entries whose code the runtime will no longer use; of the MethodDef
     * entries, inliners were not rewritten but inlined a rewritten method, and
     * nonversionable are [NonVersionable] methods, whose inlining crossgen2 does not
     * record. With DISABLED every entry counts as dropped. */
    ilg_save_r2r r2r;
    uint32_t r2r_methods_dropped, r2r_methods_kept;
    uint32_t r2r_instances_dropped, r2r_instances_kept;
    uint32_t r2r_inliners_dropped, r2r_nonversionable_dropped;
    uint32_t r2r_tables_rva, r2r_tables_size; /* the filtered tables in the new section */
} ilg_save_result;

/* Builds the saved file for img (a CLI PE image ilgraft mapped, with its arena) and
 * methods[0..count). On success *out is a malloc'd buffer of *out_size bytes that the
 * caller frees with ilg_save_free(); res (may be NULL) describes what was written.
 * Errors: ILG_E_INVALID_ARG (not a PE image), ILG_E_CLI_ABSENT, ILG_E_SAVE_BAD_METHOD
 * (rid out of range, a method without a body, a body outside the arena's used bytes),
 * ILG_E_SAVE_METADATA_LAYOUT (uncompressed #- tables, or the table walk does not land
 * on the RVAs the metadata reader reports), ILG_E_SAVE_NO_HEADER_ROOM (fewer than 40
 * zero bytes after the section table inside SizeOfHeaders and before the first raw
 * data), ILG_E_SAVE_MVID_SHARED (another GUID column indexes the MVID's #GUID entry,
 * so it cannot change alone: keep_mvid saves anyway), ILG_E_LIMIT (the result would
 * pass 4 GiB). */
ILG_API ilg_status ilg_save_build(ilg_image *img, const ilg_save_method *methods, size_t count,
                                  const ilg_save_options *opts, uint8_t **out, size_t *out_size,
                                  ilg_save_result *res);
ILG_API void ilg_save_free(uint8_t *buf);

/* ilg_save_build, then writes the bytes to path (created or truncated; written to a
 * temporary name beside it and renamed, so a failure leaves no half file). ILG_E_IO. */
ILG_API ilg_status ilg_save_write(ilg_image *img, const ilg_save_method *methods, size_t count,
                                  const ilg_save_options *opts, const char *path,
                                  ilg_save_result *res);

#ifdef __cplusplus
}
#endif
#endif
