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
