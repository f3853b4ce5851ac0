/* heaps.c: the writer's copies of #Strings, #Blob, #US and #GUID, and the content sets
 * that share equal entries and find duplicate rows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xxhash.h>

#include "mdemit_private.h"

/* Under AddressSanitizer the committed bytes past a heap's end are poisoned, so a read
 * past it is caught as it was when the copy was malloc'd. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define HEAP_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define HEAP_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define HEAP_POISON(p, n) ((void)(p), (void)(n))
#define HEAP_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* ---- sets ------------------------------------------------------------------------------ */

static ilg_status set_grow(emit_set *s)
{
    uint32_t cap = s->cap ? s->cap * 2 : 64;
    uint64_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "de-duplication set of %u entries", cap);
    for (uint32_t i = 0; i < s->cap; i++) {
        uint64_t v = s->slots[i];
        if (!v)
            continue;
        uint32_t at = (uint32_t)(v >> 32) & (cap - 1);
        while (slots[at])
            at = (at + 1) & (cap - 1);
        slots[at] = v;
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return ILG_OK;
}

/* The id hashed like hash for which eq says yes, 0 when none. */
static uint32_t set_find(const emit_set *s, uint64_t hash, bool (*eq)(const void *, uint32_t),
                         const void *ctx)
{
    if (!s->cap)
        return 0;
    const uint32_t tag = (uint32_t)hash;
    for (uint32_t at = tag & (s->cap - 1);; at = (at + 1) & (s->cap - 1)) {
        const uint64_t v = s->slots[at];
        if (!v)
            return 0;
        if ((uint32_t)(v >> 32) == tag && eq(ctx, (uint32_t)v))
            return (uint32_t)v;
    }
}

ilg_status ilg__emit_set_insert(emit_set *s, uint64_t hash, uint32_t id)
{
    ilg_status st;
    if ((s->count + 1) * 2 > s->cap && (st = set_grow(s)) != ILG_OK)
        return st;
    const uint32_t tag = (uint32_t)hash;
    uint32_t at = tag & (s->cap - 1);
    while (s->slots[at])
        at = (at + 1) & (s->cap - 1);
    s->slots[at] = (uint64_t)tag << 32 | id;
    s->count++;
    return ILG_OK;
}

/* ---- heap entries ---------------------------------------------------------------------- */

typedef struct heap_key {
    const ilg_mdemit *em;
    emit_heap_kind kind;
    const uint8_t *data;
    uint32_t len;
} heap_key;

static const uint8_t *heap_base(const ilg_metadata *md, emit_heap_kind k, uint32_t *size)
{
    switch (k) {
    case HEAP_STRINGS: *size = md->strings_size; return md->strings;
    case HEAP_BLOB: *size = md->blob_size; return md->blob;
    case HEAP_US: *size = md->us_size; return md->us;
    default: *size = md->guid_size; return md->guid;
    }
}

/* The bytes of the entry at index (without length prefix or NUL); false if malformed. */
static bool entry_bytes(const ilg_metadata *md, emit_heap_kind k, uint32_t index,
                        const uint8_t **p, uint32_t *n)
{
    uint32_t size;
    const uint8_t *base = heap_base(md, k, &size);
    if (k == HEAP_GUID) {
        if (!index || (uint64_t)index * 16 > size)
            return false;
        *p = base + (size_t)(index - 1) * 16;
        *n = 16;
        return true;
    }
    if (index >= size)
        return false;
    if (k == HEAP_STRINGS) {
        const uint8_t *nul = memchr(base + index, 0, size - index);
        if (!nul)
            return false;
        *p = base + index;
        *n = (uint32_t)(nul - *p);
        return true;
    }
    size_t h = ilg__rd_compressed(base + index, size - index, n);
    if (!h || *n > size - index - h)
        return false;
    *p = base + index + h;
    return true;
}

static bool heap_eq(const void *ctx, uint32_t id)
{
    const heap_key *k = ctx;
    const uint8_t *p;
    uint32_t n;
    return entry_bytes(k->em->md, k->kind, id, &p, &n) && n == k->len &&
           memcmp(p, k->data, n) == 0;
}

/* The entry at *i (its bytes in *p, *n) and *i moved past it; false at the end of
 * the heap or at a malformed entry. Index 0 is the empty entry and never visited. */
static bool heap_next(const ilg_metadata *md, emit_heap_kind k, uint32_t *i, const uint8_t **p,
                      uint32_t *n)
{
    if (!*i)
        *i = 1;
    if (!entry_bytes(md, k, *i, p, n))
        return false;
    uint32_t size;
    if (k == HEAP_GUID)
        *i += 1;
    else if (k == HEAP_STRINGS)
        *i += *n + 1;
    else
        *i = (uint32_t)(*p - heap_base(md, k, &size)) + *n;
    return true;
}

/* Whether an entry can be the answer to a lookup. Every #US addition ends in the final
 * byte 1 (ilg_mdemit_user_string), so an entry ending in 0, which compilers write for
 * plain text, is never equal to one: the set leaves those out. */
static bool entry_wanted(emit_heap_kind k, const uint8_t *p, uint32_t n)
{
    return n && (k != HEAP_US || p[n - 1] == 1);
}

/* The first entry equal to key, by walking the heap: no set needed. */
static uint32_t heap_scan(const heap_key *key)
{
    uint32_t i = 0, n;
    const uint8_t *p;
    for (uint32_t at = 1; heap_next(key->em->md, key->kind, &i, &p, &n); at = i)
        if (n == key->len && entry_wanted(key->kind, p, n) && memcmp(p, key->data, n) == 0)
            return at;
    return 0;
}

/* Every entry the heap holds, first occurrence of each content. */
static ilg_status heap_set_build(ilg_mdemit *em, emit_heap_kind k)
{
    emit_set *s = &em->heaps[k].set;
    ilg_status st = set_grow(s); /* built, even when empty */
    uint32_t i = 0, n;
    const uint8_t *p;
    for (uint32_t at = 1; st == ILG_OK && heap_next(em->md, k, &i, &p, &n); at = i) {
        if (!entry_wanted(k, p, n))
            continue;
        heap_key key = { em, k, p, n };
        const uint64_t h = XXH3_64bits(p, n);
        if (!set_find(s, h, heap_eq, &key))
            st = ilg__emit_set_insert(s, h, at);
    }
    return st;
}

/* A lookup walks the heap this many times before the set is built: a module that gets a
 * few names and signatures (a profiler's references) never hashes its whole heaps, and
 * one that gets many pays at most this many walks more than with the set from the start. */
#define HEAP_SCANS 8

/* The index of an entry equal to key, 0 when none. */
static ilg_status heap_lookup(ilg_mdemit *em, const heap_key *key, uint64_t hash, uint32_t *found)
{
    emit_heap *h = &em->heaps[key->kind];
    ilg_status st;
    if (!h->set.cap && h->scans < HEAP_SCANS) {
        h->scans++;
        *found = heap_scan(key);
        return ILG_OK;
    }
    if (!h->set.cap && (st = heap_set_build(em, key->kind)) != ILG_OK)
        return st;
    *found = set_find(&h->set, hash, heap_eq, key);
    return ILG_OK;
}

/* Points the metadata's heap at the writer's copy of k. */
static void heap_publish(ilg_mdemit *em, emit_heap_kind k)
{
    ilg_metadata *md = em->md;
    emit_heap *h = &em->heaps[k];
    switch (k) {
    case HEAP_STRINGS:
        md->strings = h->data;
        md->strings_size = md->strings_end = h->size;
        break;
    case HEAP_BLOB: md->blob = h->data; md->blob_size = h->size; break;
    case HEAP_US: md->us = h->data; md->us_size = h->size; break;
    default: md->guid = h->data; md->guid_size = h->size; break;
    }
}

/* The most a heap can hold: a user-string token addresses 24 bits of #US; the other
 * heaps' indices are 32 bits (ilg__emit_heap_add keeps them below 4 GB). */
static size_t heap_limit(emit_heap_kind k)
{
    if (k == HEAP_US)
        return (size_t)0x1000000;
    return SIZE_MAX > UINT32_MAX ? (size_t)UINT32_MAX + 1 : (size_t)1 << 28;
}

/* Commits k's reservation up to at least end bytes: twice what was committed, so the
 * mprotect calls stay few (untouched committed pages cost no memory). */
static ilg_status heap_commit(emit_heap *h, uint64_t end)
{
    if (end <= h->committed)
        return ILG_OK;
    if (end > h->reserved)
        return ilg__fail(ILG_E_MDEMIT_TOO_LARGE, ILG_WHERE_NONE, 0,
                         "heap of 0x%llx bytes exceeds its 0x%zx-byte reservation",
                         (unsigned long long)end, h->reserved);
    uint64_t want = (uint64_t)h->committed * 2;
    if (want < end)
        want = end;
    if (want < 0x10000)
        want = 0x10000;
    want = ilg__align_up(want, ilg__page_size());
    if (want > h->reserved)
        want = h->reserved;
    if (mprotect(h->data + h->committed, (size_t)(want - h->committed), PROT_READ | PROT_WRITE) != 0)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "cannot commit 0x%llx bytes of a heap: %s",
                         (unsigned long long)want, strerror(errno));
    HEAP_POISON(h->data + h->committed, (size_t)(want - h->committed));
    h->committed = (size_t)want;
    return ILG_OK;
}

/* Room for need more bytes in k's copy (made from the image's heap on first use). */
static ilg_status heap_room(ilg_mdemit *em, emit_heap_kind k, uint32_t need)
{
    emit_heap *h = &em->heaps[k];
    ilg_status st;
    if (!h->data) {
        uint32_t size;
        const uint8_t *base = heap_base(em->md, k, &size);
        /* Index 0 of #Strings, #Blob and #US is the empty entry; a string heap that
         * does not end in a NUL gets one, so the first new string starts clean. */
        const bool lead = k != HEAP_GUID && (size == 0 || (k == HEAP_STRINGS && base[size - 1]));
        const size_t limit = ilg__align_up(heap_limit(k), ilg__page_size());
        void *p = mmap(NULL, limit, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "cannot reserve 0x%zx bytes for a heap: %s",
                             limit, strerror(errno));
        h->data = p;
        h->reserved = limit;
        if ((st = heap_commit(h, (uint64_t)size + lead + need)) != ILG_OK)
            return st;
        HEAP_UNPOISON(h->data, (size_t)size + lead);
        if (size)
            memcpy(h->data, base, size);
        h->size = size + lead; /* the reservation is zero: the lead byte is 0 */
        heap_publish(em, k);
    }
    if ((st = heap_commit(h, (uint64_t)h->size + need)) != ILG_OK)
        return st;
    HEAP_UNPOISON(h->data + h->size, need);
    return ILG_OK;
}

ilg_status ilg__emit_heap_add(ilg_mdemit *em, emit_heap_kind k, const uint8_t *data, uint32_t len,
                              bool prefixed, uint32_t *index, bool *duplicate)
{
    static const char *const names[HEAP_COUNT] = { "#Strings", "#Blob", "#US", "#GUID" };
    static const uint8_t flags[HEAP_COUNT] = { ILG_HEAPSIZE_STRING, ILG_HEAPSIZE_BLOB, 0,
                                               ILG_HEAPSIZE_GUID };
    emit_heap *h = &em->heaps[k];
    ilg_status st;
    heap_key key = { em, k, data, len };
    const uint64_t hash = XXH3_64bits(data, len);
    uint32_t found;
    if ((st = heap_lookup(em, &key, hash, &found)) != ILG_OK)
        return st;
    *duplicate = found != 0;
    if (found) {
        *index = found;
        return ILG_OK;
    }
    uint8_t prefix[4];
    const uint32_t plen = prefixed ? (uint32_t)ilg__wr_compressed(prefix, len) : 0;
    const uint32_t need = plen + len + (k == HEAP_STRINGS);
    uint32_t size;
    heap_base(em->md, k, &size);
    if ((uint64_t)size + need + 1 > UINT32_MAX)
        return ilg__fail(ILG_E_MDEMIT_TOO_LARGE, ILG_WHERE_NONE, 0,
                         "%s of 0x%x bytes cannot take %u more", names[k], size, need);
    if ((st = heap_room(em, k, need)) != ILG_OK)
        return st;
    const uint32_t at = h->size;
    memcpy(h->data + at, prefix, plen);
    memcpy(h->data + at + plen, data, len);
    if (k == HEAP_STRINGS)
        h->data[at + len] = 0;
    h->size += need;
    heap_publish(em, k);
    const uint32_t id = k == HEAP_GUID ? h->size / 16 : at;
    if (h->set.cap && entry_wanted(k, data, len) && (st = ilg__emit_set_insert(&h->set, hash, id)) != ILG_OK)
        return st;
    em->md->generation++;
    if (flags[k] && h->size >= 0x10000 && !(em->md->info.heap_sizes & flags[k])) {
        em->md->info.heap_sizes |= flags[k];
        if ((st = ilg__emit_widen(em)) != ILG_OK)
            return st;
    }
    *index = id;
    return ILG_OK;
}

void ilg__emit_heaps_free(ilg_mdemit *em)
{
    for (int k = 0; k < HEAP_COUNT; k++) {
        if (em->heaps[k].data) {
            HEAP_UNPOISON(em->heaps[k].data, em->heaps[k].committed);
            munmap(em->heaps[k].data, em->heaps[k].reserved);
        }
        free(em->heaps[k].set.slots);
    }
}

/* ---- rows by content ---------------------------------------------------------------- */

/* Whether column c of t takes part in a duplicate check: all of them but an
 * AssemblyRef's Flags and HashValue (CoreCLR compares name, version, culture and key). */
static bool key_column(ilg_table t, uint32_t c)
{
    return t != ILG_TBL_AssemblyRef ||
           (c != ILG_MDC_AssemblyRef_Flags && c != ILG_MDC_AssemblyRef_HashValue);
}

uint64_t ilg__emit_row_hash(const ilg_metadata *md, ilg_table t, const uint32_t *raw)
{
    const md_table *tb = &md->tables[t];
    uint64_t h = t;
    for (uint32_t c = 0; c < tb->ncols; c++) {
        if (!key_column(t, c))
            continue;
        const uint8_t *p = (const uint8_t *)&raw[c];
        uint32_t n = sizeof raw[c];
        const uint8_t kind = tb->cols[c].kind;
        if ((kind == ILG_COL_STR || kind == ILG_COL_BLOB) &&
            (!raw[c] || !entry_bytes(md, kind == ILG_COL_STR ? HEAP_STRINGS : HEAP_BLOB, raw[c], &p, &n)))
            n = 0;
        h = XXH3_64bits_withSeed(p, n, h);
    }
    return h;
}

static bool cells_equal(const ilg_metadata *md, ilg_table t, uint32_t c, uint32_t a, uint32_t b)
{
    const ilg_column_kind kind = (ilg_column_kind)md->tables[t].cols[c].kind;
    if (a == b || (kind != ILG_COL_STR && kind != ILG_COL_BLOB))
        return a == b;
    const uint8_t *pa = NULL, *pb = NULL;
    uint32_t na = 0, nb = 0;
    const emit_heap_kind k = kind == ILG_COL_STR ? HEAP_STRINGS : HEAP_BLOB;
    if (a)
        entry_bytes(md, k, a, &pa, &na);
    if (b)
        entry_bytes(md, k, b, &pb, &nb);
    return na == nb && (na == 0 || memcmp(pa, pb, na) == 0);
}

bool ilg__emit_row_equal(const ilg_metadata *md, ilg_table t, const uint32_t *raw, uint32_t row)
{
    for (uint32_t c = 0; c < md->tables[t].ncols; c++)
        if (key_column(t, c) && !cells_equal(md, t, c, raw[c], ilg__md_raw(md, t, row, c)))
            return false;
    return true;
}

typedef struct row_key {
    const ilg_metadata *md;
    ilg_table t;
    const uint32_t *raw;
} row_key;

static bool row_eq(const void *ctx, uint32_t id)
{
    const row_key *k = ctx;
    return ilg__emit_row_equal(k->md, k->t, k->raw, id);
}

uint32_t ilg__emit_set_find(const emit_set *s, uint64_t hash, const ilg_metadata *md, ilg_table t,
                            const uint32_t *raw)
{
    row_key key = { md, t, raw };
    return set_find(s, hash, row_eq, &key);
}

/* The set of t's rows (the first of equal ones), made on the first duplicate check. */
ilg_status ilg__emit_rows_build(ilg_mdemit *em, ilg_table t)
{
    const ilg_metadata *md = em->md;
    emit_set *s = &em->rows[t];
    ilg_status st = set_grow(s);
    uint32_t raw[ILG_MD_MAX_COLS];
    for (uint32_t r = 1; st == ILG_OK && r <= md->tables[t].rows; r++) {
        for (uint32_t c = 0; c < md->tables[t].ncols; c++)
            raw[c] = ilg__md_raw(md, t, r, c);
        const uint64_t h = ilg__emit_row_hash(md, t, raw);
        if (!ilg__emit_set_find(s, h, md, t, raw))
            st = ilg__emit_set_insert(s, h, r);
    }
    return st;
}

/* ---- the heap calls ------------------------------------------------------------------- */

ilg_status ilg_mdemit_string(ilg_mdemit *em, const char *utf8, uint32_t *index)
{
    if (!em || !utf8 || !index)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "writer, text and index are required");
    const size_t n = strlen(utf8);
    if (n == 0) {
        *index = 0;
        return ILG_OK;
    }
    if (n > UINT32_MAX / 2)
        return ilg__fail(ILG_E_MDEMIT_TOO_LARGE, ILG_WHERE_NONE, 0, "string of %zu bytes", n);
    bool dup;
    return ilg__emit_heap_add(em, HEAP_STRINGS, (const uint8_t *)utf8, (uint32_t)n, false, index, &dup);
}

ilg_status ilg_mdemit_blob(ilg_mdemit *em, const void *data, uint32_t len, uint32_t *index)
{
    if (!em || !index || (!data && len))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "writer, data and index are required");
    if (len == 0) {
        *index = 0;
        return ILG_OK;
    }
    if (len > 0x1FFFFFFF)
        return ilg__fail(ILG_E_MDEMIT_TOO_LARGE, ILG_WHERE_NONE, 0,
                         "blob of 0x%x bytes; a blob's length is at most 0x1fffffff", len);
    bool dup;
    return ilg__emit_heap_add(em, HEAP_BLOB, data, len, true, index, &dup);
}

ilg_status ilg_mdemit_guid(ilg_mdemit *em, const uint8_t guid[16], uint32_t *index)
{
    if (!em || !guid || !index)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "writer, GUID and index are required");
    bool dup;
    return ilg__emit_heap_add(em, HEAP_GUID, guid, 16, false, index, &dup);
}

ilg_status ilg_mdemit_user_string(ilg_mdemit *em, const uint16_t *utf16, uint32_t nchars,
                                  uint32_t *token, bool *duplicate)
{
    if (!em || !token || (!utf16 && nchars))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "writer, text and token are required");
    if (nchars > (0x1FFFFFFF - 1) / 2)
        return ilg__fail(ILG_E_MDEMIT_TOO_LARGE, ILG_WHERE_NONE, 0, "user string of %u units", nchars);
    const uint32_t len = nchars * 2 + 1;
    uint8_t *payload = malloc(len);
    if (!payload)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "user string of %u units", nchars);
    for (uint32_t i = 0; i < nchars; i++)
        ilg__wr16(payload + 2 * i, utf16[i]);
    /* II.24.2.4's final byte, which CoreCLR's DefineUserString always sets to 1 (the
     * runtime does not read it): so a profiler's strings get the offsets they get there. */
    payload[len - 1] = 1;
    uint32_t index;
    bool dup;
    /* A token holds 24 bits of #US offset. */
    ilg_status st = em->md->us_size + (uint64_t)len + 4 > 0x1000000
                        ? ilg__fail(ILG_E_MDEMIT_TOO_LARGE, ILG_WHERE_NONE, 0,
                                    "#US of 0x%x bytes: a user string token cannot address past 0xffffff",
                                    em->md->us_size)
                        : ilg__emit_heap_add(em, HEAP_US, payload, len, true, &index, &dup);
    free(payload);
    if (st != ILG_OK)
        return st;
    *token = 0x70000000u | index;
    if (duplicate)
        *duplicate = dup;
    return ILG_OK;
}
