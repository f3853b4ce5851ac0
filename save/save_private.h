/* save_private.h: what save.c asks of save_r2r.c, the ReadyToRun part of a save (see
 * ilgraft/save.h and docs/save.md). Not installed. */
#ifndef ILG_SAVE_PRIVATE_H
#define ILG_SAVE_PRIVATE_H

#include <stdio.h>

#include "ilgraft/metadata.h"
#include "ilgraft/save.h"

/* A 4-byte cell the ReadyToRun part changes, by RVA (save.c finds its file offset). */
typedef struct save_r2r_cell {
    uint32_t rva;
    uint32_t value;
} save_r2r_cell;

#define SAVE_R2R_MAX_CELLS 4

typedef struct save_r2r {
    bool ready_to_run;         /* the image has a ReadyToRun header: place the section for
                                  CoreCLR's Unix loader (page aligned) */
    ilg_save_r2r action;
    uint8_t *blob;             /* owned: the filtered tables, for blob_rva in the section */
    uint32_t blob_rva, blob_len;
    save_r2r_cell cells[SAVE_R2R_MAX_CELLS];
    uint32_t ncells;
    uint32_t methods_dropped, methods_kept, instances_dropped, instances_kept;
    uint32_t inliners_dropped, nonversionable_dropped;
} save_r2r;

/* Decides what becomes of img's precompiled code when methods[0..count) are rewritten
 * and the new section's first free RVA is free_rva: nothing (IL only; *out says so),
 * filtered tables (built into out->blob for an RVA at or above free_rva, with the header
 * cells that point at them) or the header's version cell (opts->r2r_disable, composite
 * components). Writes the warning line to log. out is zeroed first; free it with
 * ilg__save_r2r_free whatever the status. Errors: the reader's (ILG_E_R2R_*),
 * ILG_E_NOMEM, ILG_E_LIMIT (tables past 4 GiB). */
ilg_status ilg__save_r2r_plan(ilg_image *img, const ilg_save_method *methods, size_t count,
                              uint64_t free_rva, const ilg_save_options *opts, FILE *log,
                              save_r2r *out);
void ilg__save_r2r_free(save_r2r *p);

/* Where the new section goes in a ReadyToRun image: at arena_start (its VirtualAddress,
 * a page boundary; ILG_E_RANGE if a section's raw data, which ends at RVA raw_end at the
 * highest, ends in that page or past it) and at the first page-aligned file offset at or
 * above the file's end (its raw data). */
ilg_status ilg__save_r2r_place(uint64_t raw_end, uint32_t file_alignment, uint64_t file_size,
                               uint64_t arena_start, uint64_t *va, uint64_t *raw_off);

/* The old metadata root's whole pages left out of the file (save_cut.c). */
#define SAVE_CUT_MAX_DEBUG 16          /* debug directory entries it can move */
#define SAVE_CUT_MIN_ALIGNMENT 4096u   /* SectionAlignment of at least a page */

typedef struct save_cut {
    uint32_t section;          /* index of the section holding the old root */
    uint32_t rva, len;         /* the pages left out, [rva, rva + len); len 0: no cut */
    uint64_t at;               /* their input file offset */
    uint32_t opt_in;           /* the input's optional header offset */
    uint64_t security_cell;    /* input offset of the certificate table's file offset
                                  when it lies past the cut, else 0 */
    uint32_t ndebug;           /* debug entries whose PointerToRawData lies past the cut: */
    uint64_t debug_cells[SAVE_CUT_MAX_DEBUG]; /* input offsets of those cells */
} save_cut;

/* What of img's old metadata root (md's) can leave the file once a new root is written:
 * the whole SectionAlignment pages inside it, when its section can be split there and
 * nothing but the CLI header's MetaData directory points into them; c->len 0 otherwise.
 * Never fails: an image it cannot cut keeps its layout. */
void ilg__save_cut_plan(const ilg_image *img, const ilg_metadata *md, save_cut *c);

/* Rewrites the section table at head + table (nsections headers, with one free zeroed
 * slot after them) for the cut: the split section's first part, its tail in the next
 * slot, raw-data pointers past the cut lowered; and the certificate table's offset in
 * the optional header at head + opt. */
void ilg__save_cut_head(uint8_t *head, uint32_t table, uint16_t nsections, uint32_t opt,
                        const save_cut *c);

#endif
