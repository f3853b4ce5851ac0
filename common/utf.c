/* utf.c: UTF-8 <-> UTF-16, the one converter (the profiling API's names are UTF-16,
 * metadata's and ilgraft's are UTF-8). */
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "ilg_private.h"

/* One UTF-8 sequence at s, at most n bytes; its length, 0 when invalid or cut short. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    const size_t k = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (!k || k > n)
        return 0;
    uint32_t v = s[0] & (0x7F >> k);
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    *cp = v;
    return k;
}

/* True when the n bytes at s are all ASCII: eight at a time, the last eight (or four)
 * overlapping the ones before rather than a byte at a time. */
static bool all_ascii(const char *s, size_t n)
{
    uint64_t any = 0, w;
    uint32_t h, t;
    if (n >= 8) {
        for (size_t i = 0; i + 8 <= n; i += 8) {
            memcpy(&w, s + i, sizeof w);
            any |= w;
        }
        memcpy(&w, s + n - 8, sizeof w);
        any |= w;
    } else if (n >= 4) {
        memcpy(&h, s, sizeof h);
        memcpy(&t, s + n - 4, sizeof t);
        any = h | t;
    } else {
        for (size_t i = 0; i < n; i++)
            any |= (unsigned char)s[i];
    }
    return !(any & 0x8080808080808080ull);
}

/* n ASCII bytes to as many UTF-16 units. With SSE2 sixteen (or eight) at a time, the
 * last block overlapping the one before, which writes the same units again. */
static void widen_ascii(const char *s, size_t n, uint16_t *out)
{
#ifdef __SSE2__
    const __m128i zero = _mm_setzero_si128();
    if (n >= 16) {
        for (size_t i = 0;; i += 16) {
            if (i + 16 > n)
                i = n - 16;
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            _mm_storeu_si128((__m128i *)(void *)(out + i), _mm_unpacklo_epi8(v, zero));
            _mm_storeu_si128((__m128i *)(void *)(out + i + 8), _mm_unpackhi_epi8(v, zero));
            if (i + 16 == n)
                return;
        }
    }
    if (n >= 8) {
        __m128i head = _mm_loadl_epi64((const __m128i *)(const void *)s);
        __m128i tail = _mm_loadl_epi64((const __m128i *)(const void *)(s + n - 8));
        _mm_storeu_si128((__m128i *)(void *)out, _mm_unpacklo_epi8(head, zero));
        _mm_storeu_si128((__m128i *)(void *)(out + n - 8), _mm_unpacklo_epi8(tail, zero));
        return;
    }
#endif
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)s[i];
}

size_t ilg__utf8_to_utf16(const char *text, size_t n, uint16_t *buf, size_t cch)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, o = 0;
    /* An ASCII name that fits, as nearly every name is: in blocks (a profiler that logs
     * each method it rewrites asks for every method's name). */
    const size_t len = strnlen(text, n);
    if (buf && len < cch && all_ascii(text, len)) {
        widen_ascii(text, len, buf);
        buf[len] = 0;
        return len + 1;
    }
    while (i < n && s[i]) {
        uint32_t cp = s[i];
        size_t k = 1;
        if (cp >= 0x80 && !(k = utf8_next(s + i, n - i, &cp))) {
            cp = 0xFFFD;
            k = 1;
        }
        i += k;
        if (cp >= 0x10000) {
            if (buf && o + 2 < cch) {
                buf[o] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
                buf[o + 1] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
            }
            o += 2;
        } else {
            if (buf && o + 1 < cch)
                buf[o] = (uint16_t)cp;
            o++;
        }
    }
    if (buf && cch)
        buf[o < cch ? o : cch - 1] = 0;
    return o + 1;
}

/* Names are nearly always ASCII (and the plugin names every method it rewrites on the
 * JIT path): copies the run of ASCII units at the start of w, n of them readable, to
 * out (cap bytes). Returns how many were copied; *done when that was all of the text,
 * up to a NUL, with the NUL written. */
static size_t ascii_run(const uint16_t *w, size_t n, char *out, size_t cap, bool *done)
{
    size_t i = 0;
    *done = false;
#ifdef __SSE2__
    /* Eight units to their low bytes in one step while they are ASCII, up to a NUL; the
     * last block overlaps the one before and writes the same bytes again. Bytes packed
     * past the end are overwritten or past the NUL. */
    if (n >= 8 && cap >= 4 && n <= cap - 4) {
        const __m128i high = _mm_set1_epi16((short)0xFF80), zero = _mm_setzero_si128();
        for (;; i += 8) {
            if (i + 8 > n)
                i = n - 8;
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(w + i));
            unsigned ascii = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_and_si128(v, high), zero));
            unsigned nul = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi16(v, zero));
            unsigned end = nul ? (unsigned)__builtin_ctz(nul) / 2 : 8;
            unsigned plain = ascii == 0xFFFF ? 8 : (unsigned)__builtin_ctz(~ascii) / 2;
            _mm_storel_epi64((__m128i *)(void *)(out + i), _mm_packus_epi16(v, v));
            if (plain < end) /* the rest from the first unit past ASCII, one by one */
                return i + plain;
            if (end < 8 || i + 8 == n) {
                out[i + end] = 0;
                *done = true;
                return i + end;
            }
        }
    }
#elif __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NOT_ASCII(v) (((v) & 0xFF80FF80FF80FF80ull) || \
                      (((v) - 0x0001000100010001ull) & ~(v) & 0x8000800080008000ull))
#define LOW_BYTES(v) (((v) & 0xFF) | (((v) >> 8) & 0xFF00) | (((v) >> 16) & 0xFF0000) | \
                      (((v) >> 24) & 0xFF000000))
    for (uint64_t a; i + 4 <= n && i + 4 < cap; i += 4) {
        memcpy(&a, w + i, sizeof a);
        if (NOT_ASCII(a))
            break;
        uint32_t bytes = (uint32_t)LOW_BYTES(a);
        memcpy(out + i, &bytes, sizeof bytes);
    }
#undef NOT_ASCII
#undef LOW_BYTES
#endif
    return i;
}

size_t ilg__utf16_to_utf8(const uint16_t *w, size_t n, char *out, size_t cap, bool *complete)
{
    bool done;
    size_t i = ascii_run(w, n, out, cap, &done), o = i;
    bool all = true;
    if (done) {
        if (complete)
            *complete = true;
        return o;
    }
    for (; i < n && w[i]; i++) {
        uint32_t cp = w[i];
        if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < n && w[i + 1] >= 0xDC00 && w[i + 1] < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (w[i + 1] - 0xDC00u);
            i++;
        }
        uint8_t tmp[4];
        size_t k;
        if (cp < 0x80) {
            tmp[0] = (uint8_t)cp;
            k = 1;
        } else if (cp < 0x800) {
            tmp[0] = (uint8_t)(0xC0 | cp >> 6);
            tmp[1] = (uint8_t)(0x80 | (cp & 0x3F));
            k = 2;
        } else if (cp < 0x10000) {
            tmp[0] = (uint8_t)(0xE0 | cp >> 12);
            tmp[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            tmp[2] = (uint8_t)(0x80 | (cp & 0x3F));
            k = 3;
        } else {
            tmp[0] = (uint8_t)(0xF0 | cp >> 18);
            tmp[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
            tmp[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            tmp[3] = (uint8_t)(0x80 | (cp & 0x3F));
            k = 4;
        }
        if (o + k >= cap) {
            all = false;
            break;
        }
        memcpy(out + o, tmp, k);
        o += k;
    }
    if (cap)
        out[o] = 0;
    if (complete)
        *complete = all && cap > 0;
    return o;
}
