/* env.c: ICorProfilerInfo11's Get/SetEnvironmentVariable. A variable the profiler sets
 * is kept by the host, not put into the process's environment: under CoreCLR the
 * runtime's own getenv does not see it either (docs/coreclr-observed.md). */
#include <stdlib.h>
#include <string.h>

#include "info_private.h"

/* HRESULT_FROM_WIN32(ERROR_ENVVAR_NOT_FOUND), what CoreCLR passes on from the OS layer. */
#define HRESULT_ENVVAR_NOT_FOUND ((HRESULT)0x800700CB)

/* A variable SetEnvironmentVariable set (value) or deleted (value NULL). */
typedef struct host_env {
    struct host_env *next;
    char *name, *value;
} host_env;

/* Under env_lock: the overlay's entry for name, NULL when it has none. */
static host_env *env_find(ilg_host *h, const char *name)
{
    for (host_env *e = h->env; e; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

/* CoreCLR passes the OS layer's GetEnvironmentVariableW on (observed): a value that
 * fits gives its length without the NUL; a short buffer, or none, the length with it
 * (ERROR_INSUFFICIENT_BUFFER when a buffer was given). */
static HRESULT env_value_out(const char *value, ULONG cch, ULONG *pcch, WCHAR *buf)
{
    ULONG need = 0;
    ilg__host_to_wide(value, NULL, 0, &need);
    if (buf && cch >= need) {
        ilg__host_to_wide(value, buf, cch, NULL);
        *pcch = need - 1;
        return S_OK;
    }
    *pcch = need;
    return buf && cch ? HRESULT_INSUFFICIENT_BUFFER : S_OK;
}

HRESULT ilg__info_GetEnvironmentVariable(ICorProfilerInfo15 *This, const WCHAR *szName,
                                           ULONG cchValue, ULONG *pcchValue, WCHAR szValue[])
{
    INFO_ENTRY(This, "GetEnvironmentVariable", ASYNC);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    char name[1024];
    if (!szName || !pcchValue || (cchValue && !szValue) ||
        !ilg__host_from_wide(szName, name, sizeof name) || !name[0])
        return E_INVALIDARG;
    HRESULT hr;
    pthread_mutex_lock(&h->env_lock);
    host_env *e = env_find(h, name);
    const char *value = e ? e->value : getenv(name);
    hr = value ? env_value_out(value, cchValue, pcchValue, szValue) : HRESULT_ENVVAR_NOT_FOUND;
    pthread_mutex_unlock(&h->env_lock);
    return hr;
}

static char *wide_dup(ilg_host *h, const WCHAR *w)
{
    size_t len = 0;
    while (w[len])
        len++;
    /* At most 3 UTF-8 bytes per UTF-16 unit. */
    char *s = ILG_HOST_ZALLOC(h->heap, len * 3 + 1);
    if (s && !ilg__host_from_wide(w, s, len * 3 + 1)) {
        ILG_HOST_FREE(h->heap, s);
        return NULL;
    }
    return s;
}

/* Kept in the host's overlay, not in the process's environ, as CoreCLR keeps it in its
 * OS layer (observed: getenv does not see it, GetEnvironmentVariable does). */
HRESULT ilg__info_SetEnvironmentVariable(ICorProfilerInfo15 *This, const WCHAR *szName,
                                           const WCHAR *szValue)
{
    INFO_ENTRY(This, "SetEnvironmentVariable", ASYNC);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    char *name = szName ? wide_dup(h, szName) : NULL, *value = NULL;
    HRESULT hr = S_OK;
    if (!name || !name[0] || strchr(name, '=') || (szValue && !(value = wide_dup(h, szValue)))) {
        hr = E_INVALIDARG;
        goto done;
    }
    pthread_mutex_lock(&h->env_lock);
    host_env *e = env_find(h, name);
    if (!e && (e = ILG_HOST_ZALLOC(h->heap, sizeof *e))) {
        e->next = h->env;
        e->name = name;
        e->value = NULL;
        h->env = e;
        name = NULL;
    }
    if (e) {
        ILG_HOST_FREE(h->heap, e->value);
        e->value = value;
        value = NULL;
    } else {
        hr = E_OUTOFMEMORY;
    }
    pthread_mutex_unlock(&h->env_lock);
done:
    ILG_HOST_FREE(h->heap, name);
    ILG_HOST_FREE(h->heap, value);
    return hr;
}


/* Frees the variables the profiler set (ilg__host_info_free, at the session's end). */
void ilg__host_env_free(ilg_host *host)
{
    for (host_env *e = host->env, *next; e; e = next) {
        next = e->next;
        ILG_HOST_FREE(host->heap, e->name);
        ILG_HOST_FREE(host->heap, e->value);
        ILG_HOST_FREE(host->heap, e);
    }
    host->env = NULL;
}
