/* abi_log.c: the ABI probe's log (ILG_ABI_PROBE_LOG, else stderr; one line per event,
 * written whole under a lock) and the checks that count failures and seen events. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi_probe.h"

/* A GUID in registry text form (corprof.h has no formatter; this probe uses nothing
 * of ilgraft's). */
char *probe_guid_text(const GUID *g, char buf[GUID_TEXT_SIZE])
{
    snprintf(buf, GUID_TEXT_SIZE, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X",
             (unsigned)g->Data1, (unsigned)g->Data2, (unsigned)g->Data3, g->Data4[0],
             g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5], g->Data4[6],
             g->Data4[7]);
    return buf;
}

static FILE *log_file;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void open_log(void)
{
    pthread_mutex_lock(&log_lock);
    if (!log_file) {
        const char *path = getenv("ILG_ABI_PROBE_LOG");
        log_file = path && *path ? fopen(path, "w") : NULL;
        if (!log_file)
            log_file = stderr;
        setvbuf(log_file, NULL, _IOLBF, 0);
    }
    pthread_mutex_unlock(&log_lock);
}

static void vplog(const char *fmt, va_list ap)
{
    open_log();
    pthread_mutex_lock(&log_lock);
    vfprintf(log_file, fmt, ap);
    fputc('\n', log_file);
    fflush(log_file);
    pthread_mutex_unlock(&log_lock);
}

void probe_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vplog(fmt, ap);
    va_end(ap);
}

void probe_fail(probe *p, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&p->lock);
    p->failures++;
    pthread_mutex_unlock(&p->lock);
    probe_log("FAIL: %s", msg);
}

bool probe_expect_hr(probe *p, const char *what, HRESULT hr, HRESULT want)
{
    if (hr == want)
        return true;
    probe_fail(p, "%s returned 0x%08X, expected 0x%08X", what, (unsigned)hr, (unsigned)want);
    return false;
}

unsigned probe_failures(probe *p)
{
    pthread_mutex_lock(&p->lock);
    unsigned n = p->failures;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void probe_mark(probe *p, enum seen_bit bit)
{
    pthread_mutex_lock(&p->lock);
    p->seen[bit] = true;
    pthread_mutex_unlock(&p->lock);
}

void probe_count(probe *p, unsigned slot)
{
    pthread_mutex_lock(&p->lock);
    p->counts[slot]++;
    pthread_mutex_unlock(&p->lock);
}

const char *probe_utf8(const WCHAR *w, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && w[i] && o + 5 < cap; i++) {
        uint32_t c = w[i];
        if (c >= 0xD800 && c < 0xDC00 && i + 1 < n && w[i + 1] >= 0xDC00 && w[i + 1] < 0xE000)
            c = 0x10000 + ((c - 0xD800) << 10) + (w[++i] - 0xDC00u);
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xC0 | (c >> 6));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out[o++] = (char)(0xE0 | (c >> 12));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | (c >> 18));
            out[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[o] = 0;
    return out;
}

const char *probe_base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void probe_wide(const char *ascii, WCHAR *out, size_t cap)
{
    size_t i = 0;
    for (; ascii[i] && i + 1 < cap; i++)
        out[i] = (WCHAR)(unsigned char)ascii[i];
    out[i] = 0;
}

const char *probe_ascii(const WCHAR *w, ULONG n, char *out, size_t cap)
{
    size_t i = 0;
    for (; i < n && w[i] && i + 1 < cap; i++)
        out[i] = w[i] < 0x80 ? (char)w[i] : '?';
    out[i] = 0;
    return out;
}

bool probe_wide_eq(const WCHAR *w, const char *ascii)
{
    size_t i = 0;
    for (; ascii[i]; i++)
        if (w[i] != (WCHAR)(unsigned char)ascii[i])
            return false;
    return w[i] == 0;
}
