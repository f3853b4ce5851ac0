/* ilg_private.h: helpers every ilgraft module uses internally: recording diagnostics,
 * little-endian reads that callers have already bounds-checked, and overflow-safe
 * range checks. Not installed. */
#ifndef ILG_PRIVATE_H
#define ILG_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ilgraft/common.h"

#define ILG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define ILG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Records the diagnostic for this thread and returns status, so a failure is one line:
 *   return ilg__fail(ILG_E_PE_BAD_SIGNATURE, ILG_WHERE_FILE, lfanew, "found 0x%08x", v); */
ilg_status ilg__fail(ilg_status status, ilg_where where, uint64_t offset,
                     const char *fmt, ...) ILG_PRINTF(4, 5);

/* Prefixes the current diagnostic's message with context ("method 0x06000012: ..."),
 * keeping its status and position. Returns the status for chaining. */
ilg_status ilg__fail_context(const char *fmt, ...) ILG_PRINTF(1, 2);

/* Reads at p; the caller has checked that the bytes exist. */
static inline uint16_t ilg__rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t ilg__rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t ilg__rd64(const uint8_t *p)
{
    return (uint64_t)ilg__rd32(p) | ((uint64_t)ilg__rd32(p + 4) << 32);
}
static inline void ilg__wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void ilg__wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* True when [off, off + len) lies inside [0, total), without overflow. */
static inline bool ilg__in_range(uint64_t off, uint64_t len, uint64_t total)
{
    return off <= total && len <= total - off;
}

static inline bool ilg__is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

static inline uint64_t ilg__align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* The system page size (sysconf, read once). */
size_t ilg__page_size(void);

/* Makes room for at least need elements of elem bytes in *arr (capacity *cap, counted in
 * elements): the capacity doubles from 16. On failure (ILG_E_NOMEM, or ILG_E_LIMIT when
 * the size overflows) *arr and *cap are unchanged and the diagnostic is recorded. The
 * uint32_t form also refuses more than UINT32_MAX / 2 elements (body arrays). */
ilg_status ilg__grow_size(void **arr, size_t *cap, size_t need, size_t elem);
ilg_status ilg__grow(void **arr, uint32_t *cap, uint64_t need, size_t elem);

/* UTF-8 (n bytes at most, or up to a NUL) to UTF-16: what fits goes into buf (cch units,
 * NUL-terminated when cch > 0; buf may be NULL to measure). Invalid UTF-8 becomes U+FFFD,
 * so names from a hostile image still come out. Returns the units the whole text needs,
 * its NUL included. */
size_t ilg__utf8_to_utf16(const char *s, size_t n, uint16_t *buf, size_t cch);

/* UTF-16 (n units at most, or up to a NUL) to UTF-8 in out (cap bytes, NUL-terminated
 * when cap > 0): surrogate pairs combine, a lone surrogate is written as a 3-byte
 * sequence. Returns the bytes written, the NUL not counted; *complete (when not NULL)
 * says whether the whole text fit. */
size_t ilg__utf16_to_utf8(const uint16_t *w, size_t n, char *out, size_t cap, bool *complete);

/* One mapping of /proc/self/maps. */
typedef struct ilg_maps_entry {
    uintptr_t lo, hi;
    char perms[5];  /* "r-xp" */
    char path[80];  /* the pathname column, cut to fit; "" for an anonymous mapping */
} ilg_maps_entry;

/* Every mapping of the process, ascending as the kernel lists them: *out is malloc'd
 * (the caller frees it). ILG_E_IO when the file cannot be read, ILG_E_NOMEM. */
ilg_status ilg__maps_read(ilg_maps_entry **out, size_t *count);

/* The mapping covering p (1, in *hit), or 0 with *next_lo the start of the next mapping
 * above p (UINTPTR_MAX when none); -1 when the file cannot be opened. Reads only as far
 * as p. */
int ilg__maps_lookup(uintptr_t p, ilg_maps_entry *hit, uintptr_t *next_lo);

/* SHA-1 of len bytes (sha1.c), and a strong name's public key token: the last 8 bytes
 * of the key's SHA-1, reversed (ECMA-335 II.6.2.1.3). */
void ilg__sha1(const void *data, size_t len, uint8_t out[20]);
void ilg__public_key_token(const void *key, size_t len, uint8_t token[8]);

/* Writes v (at most 0x1FFFFFFF) as an ECMA-335 II.23.2 compressed unsigned integer at
 * p (room for 4 bytes); returns the bytes written. */
static inline size_t ilg__wr_compressed(uint8_t *p, uint32_t v)
{
    if (v < 0x80) {
        p[0] = (uint8_t)v;
        return 1;
    }
    if (v < 0x4000) {
        p[0] = (uint8_t)(0x80 | (v >> 8));
        p[1] = (uint8_t)v;
        return 2;
    }
    p[0] = (uint8_t)(0xC0 | (v >> 24));
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return 4;
}

/* ECMA-335 II.23.2 compressed unsigned integer at p, with at most avail bytes.
 * Returns the number of bytes read (1, 2 or 4), or 0 when malformed or truncated. */
static inline size_t ilg__rd_compressed(const uint8_t *p, size_t avail, uint32_t *out)
{
    if (avail < 1)
        return 0;
    if ((p[0] & 0x80) == 0) {
        *out = p[0];
        return 1;
    }
    if ((p[0] & 0xC0) == 0x80) {
        if (avail < 2)
            return 0;
        *out = ((uint32_t)(p[0] & 0x3F) << 8) | p[1];
        return 2;
    }
    if ((p[0] & 0xE0) == 0xC0) {
        if (avail < 4)
            return 0;
        *out = ((uint32_t)(p[0] & 0x1F) << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
        return 4;
    }
    return 0;
}

#endif
