/* error.c: the status message table (from errors.def) and the per-thread diagnostic. */
#include <stdarg.h>
#include <stdio.h>

#include "ilg_private.h"

static const struct {
    const char *name;
    const char *message;
} status_table[] = {
#define ILG_ERROR(name, message) { #name, message },
#include "ilgraft/errors.def"
#undef ILG_ERROR
};

static _Thread_local ilg_diag last_diag;

const char *ilg_status_name(ilg_status status)
{
    if ((unsigned)status >= ILG_ARRAY_LEN(status_table))
        return "UNKNOWN";
    return status_table[status].name;
}

const char *ilg_strerror(ilg_status status)
{
    if ((unsigned)status >= ILG_ARRAY_LEN(status_table))
        return "UNKNOWN";
    return status_table[status].message;
}

const ilg_diag *ilg_last_diag(void) { return &last_diag; }

void ilg_clear_diag(void) { memset(&last_diag, 0, sizeof last_diag); }

const char *ilg_version(void) { return ILG_VERSION_STRING; }

ilg_status ilg__fail(ilg_status status, ilg_where where, uint64_t offset, const char *fmt, ...)
{
    va_list ap;
    last_diag.status = status;
    last_diag.where = where;
    last_diag.offset = offset;
    va_start(ap, fmt);
    vsnprintf(last_diag.message, sizeof last_diag.message, fmt, ap);
    va_end(ap);
    return status;
}

ilg_status ilg__fail_context(const char *fmt, ...)
{
    char prefix[128];
    char old[sizeof last_diag.message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_diag.message, sizeof old);
    /* The prefix goes first; the old text is cut if both do not fit. */
    size_t n = strlen(prefix), cap = sizeof last_diag.message - 1;
    if (n > cap - 2)
        n = cap - 2;
    memcpy(last_diag.message, prefix, n);
    memcpy(last_diag.message + n, ": ", 2);
    size_t m = strnlen(old, sizeof old - 1);
    if (m > cap - n - 2)
        m = cap - n - 2;
    memcpy(last_diag.message + n + 2, old, m);
    last_diag.message[n + 2 + m] = 0;
    return last_diag.status;
}
