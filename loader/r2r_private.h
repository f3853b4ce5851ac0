/* r2r_private.h: the parsed ReadyToRun information and the bounded reading context
 * shared by readytorun.c (header, tables, API) and r2r_sig.c (method signatures and
 * inlining tables). Not installed. */
#ifndef ILG_R2R_PRIVATE_H
#define ILG_R2R_PRIVATE_H

#include <stdarg.h>

#include "md_private.h"

struct ilg_r2r {
    ilg_r2r_info info;
    ilg_r2r_section *sections;
    char *compiler;
    char *owner;
    ilg_r2r_function_info *rfs;
    ilg_r2r_method_info *methods;   /* MethodDef entries by rid, then instance entries */
    uint32_t method_count, method_cap;
    ilg_r2r_inline_info *inlines;
    uint32_t inline_count, inline_cap;
    const uint8_t *eh;         /* ExceptionInfo entries (mapped), eh_count of them */
    uint32_t eh_count;
};

/* One parse: the image, and the section of the last successful bounded read (most
 * reads fall in the same one, so the region search is skipped). */
typedef struct r2r_ctx {
    ilg_image *img;
    const ilg_metadata *md;
    struct ilg_r2r *r;
    uint16_t arch;             /* machine without the OS tag */
    uint32_t methoddef_rows;
    uint32_t array_count;      /* MethodDefEntryPoints elements */
    /* Signature bytes and inlining values left to read in the current table: hashtable
     * entries may all lead to one long signature, so the bytes of the table alone do
     * not bound the work. Real tables read each byte about once. */
    uint64_t budget;
    uint64_t lo, hi;
} r2r_ctx;

/* The mapped bytes [rva, rva + len) when they lie inside one image section, else NULL. */
const uint8_t *ilg__r2r_bytes(r2r_ctx *c, uint64_t rva, uint64_t len);
/* Fails with status, at the file offset of rva (or the RVA when it has none). */
ilg_status ilg__r2r_fail(r2r_ctx *c, ilg_status st, uint64_t rva, const char *fmt, ...)
    ILG_PRINTF(4, 5);
/* A NativeFormat unsigned at *rva, which moves past it. False when unreadable. */
bool ilg__nf_unsigned(r2r_ctx *c, uint32_t *rva, uint32_t *out);
/* The section of a type (the first, as the runtime finds it), or NULL. */
const ilg_r2r_section *ilg__r2r_section(const struct ilg_r2r *r, uint32_t type);
/* Decodes the entry at `at` (runtime function index, fixups) into m. */
ilg_status ilg__r2r_decode_entry(r2r_ctx *c, uint32_t at, ilg_r2r_method_info *m);

/* r2r_sig.c: InstanceMethodEntryPoints and the two inlining tables. */
ilg_status ilg__r2r_parse_instances(r2r_ctx *c);
ilg_status ilg__r2r_parse_inlining(r2r_ctx *c);
/* Appends a method (readytorun.c). */
ilg_status ilg__r2r_add_method(r2r_ctx *c, const ilg_r2r_method_info *m);

/* A NativeFormat hashtable (nativeformatreader.h NativeHashtable): a header byte
 * (bucket count log2 << 2 | offset size code), then bucket count + 1 offsets from the
 * table start, then the buckets' entries (a hash code's low byte and a relative offset
 * to the entry's data). */
typedef struct nf_hashtable {
    uint32_t base;             /* RVA after the header byte */
    uint32_t buckets;
    uint32_t esize;            /* 1, 2 or 4 */
} nf_hashtable;

ilg_status ilg__nf_hashtable(r2r_ctx *c, const ilg_r2r_section *s, const char *what,
                             nf_hashtable *out);
/* The entries of bucket b, [*first, *end) as RVAs. */
ilg_status ilg__nf_bucket(r2r_ctx *c, const nf_hashtable *h, uint32_t b, const char *what,
                          uint32_t *first, uint32_t *end);

#endif
