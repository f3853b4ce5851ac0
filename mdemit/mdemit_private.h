/* mdemit_private.h: the writer's state, shared by heaps.c (heap copies and the
 * de-duplication sets), emit.c (rows, lists, cells) and serialize.c. */
#ifndef ILG_MDEMIT_PRIVATE_H
#define ILG_MDEMIT_PRIVATE_H

#include "ilgraft/mdemit.h"
#include "md_private.h"

/* Open-addressing set of ids (heap indices or row numbers, never 0), each slot the id's
 * hash in the high half and the id in the low half. */
typedef struct emit_set {
    uint64_t *slots;
    uint32_t cap;      /* a power of two, 0 until built */
    uint32_t count;
} emit_set;

typedef enum emit_heap_kind { HEAP_STRINGS, HEAP_BLOB, HEAP_US, HEAP_GUID, HEAP_COUNT } emit_heap_kind;

/* A heap's writable copy: data holds size bytes (the image's heap, then what was
 * added) at the start of an address-space reservation as large as the heap may ever
 * grow, committed as it grows: it never moves, so pointers readers handed out stay
 * valid until the image closes. */
typedef struct emit_heap {
    uint8_t *data;     /* NULL until the first addition */
    uint32_t size;
    size_t committed;  /* readable and writable bytes from data */
    size_t reserved;   /* bytes of address space from data */
    uint32_t scans;    /* lookups answered by walking the heap, before the set */
    emit_set set;      /* entries by content, built after a few walks */
} emit_heap;

struct ilg_mdemit {
    ilg_metadata *md;
    uint64_t dup_tables;                  /* ilg_table bits */
    emit_heap heaps[HEAP_COUNT];
    uint8_t *tables[ILG_TBL_COUNT];       /* writable table copies (NULL: still mapped) */
    uint32_t table_cap[ILG_TBL_COUNT];    /* rows they have room for */
    emit_set rows[ILG_TBL_COUNT];         /* de-duplication sets of rows */
    uint32_t owner_cap[3];                /* method_owner, field_owner, enclosing */
};

/* ---- heaps.c ---- */
ilg_status ilg__emit_heap_add(ilg_mdemit *em, emit_heap_kind k, const uint8_t *data, uint32_t len,
                              bool prefixed, uint32_t *index, bool *duplicate);
void ilg__emit_heaps_free(ilg_mdemit *em);
/* emit.c: widens the in-memory columns that the grown counts or heaps no longer fit. */
ilg_status ilg__emit_widen(ilg_mdemit *em);
/* A row's hash and equality by content (strings and blobs compared as text and bytes). */
uint64_t ilg__emit_row_hash(const ilg_metadata *md, ilg_table t, const uint32_t *raw);
bool ilg__emit_row_equal(const ilg_metadata *md, ilg_table t, const uint32_t *raw, uint32_t row);
uint32_t ilg__emit_set_find(const emit_set *s, uint64_t hash, const ilg_metadata *md, ilg_table t,
                            const uint32_t *raw);
ilg_status ilg__emit_set_insert(emit_set *s, uint64_t hash, uint32_t id);
ilg_status ilg__emit_rows_build(ilg_mdemit *em, ilg_table t);

#endif
