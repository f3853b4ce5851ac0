/* fault.c: the host heap's fault policy (ilgraft/hostmem.h): which allocations fail,
 * by count or by allocation site, and its text form (ILG_HOSTMEM_FAULTS). */
#include <errno.h>
#include <string.h>

#include "hostmem_private.h"

static bool site_matches(const char *want, const char *file)
{
    size_t lw = strlen(want), lf = strlen(file);
    if (lf == lw)
        return strcmp(want, file) == 0;
    return lf > lw && file[lf - lw - 1] == '/' && strcmp(file + lf - lw, want) == 0;
}

bool ilg__hostmem_fault_fires(struct host_manager *m, const char *file, int line)
{
    uint64_t n = atomic_fetch_add_explicit(&m->allocations, 1, memory_order_relaxed) + 1;
    if (!atomic_load_explicit(&m->policy_on, memory_order_acquire))
        return false;
    bool fire = false;
    pthread_mutex_lock(&m->lock);
    uint64_t rel = n - m->policy_base;
    if (m->fail_nth)
        fire = m->repeat ? rel % m->fail_nth == 0 : rel == m->fail_nth;
    if (m->site_file && file && site_matches(m->site_file, file) &&
        (m->site_line == 0 || m->site_line == line))
        fire = true;
    pthread_mutex_unlock(&m->lock);
    if (fire)
        atomic_fetch_add_explicit(&m->injected, 1, memory_order_relaxed);
    return fire;
}

ilg_status ilg_fault_policy_parse(const char *spec, ilg_fault_policy *out)
{
    if (!spec || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "spec and out are required");
    ilg_fault_policy p = { 0 };
    const char *s = spec;
    while (*s) {
        size_t len = strcspn(s, ",");
        const char *eq = memchr(s, '=', len);
        if (!eq)
            goto bad;
        size_t klen = (size_t)(eq - s);
        const char *v = eq + 1;
        size_t vlen = len - klen - 1;
        if ((klen == 3 && memcmp(s, "nth", 3) == 0) || (klen == 5 && memcmp(s, "every", 5) == 0)) {
            char buf[24], *end;
            if (vlen == 0 || vlen >= sizeof buf || *v == '-')
                goto bad;
            memcpy(buf, v, vlen);
            buf[vlen] = 0;
            errno = 0;
            unsigned long long n = strtoull(buf, &end, 10);
            if (errno || *end || n == 0)
                goto bad;
            p.fail_nth = n;
            p.repeat = klen == 5;
        } else if (klen == 4 && memcmp(s, "site", 4) == 0) {
            /* FILE or FILE:LINE; the file runs to the comma, so it cannot hold one. */
            const char *colon = NULL;
            for (const char *c = v; c < v + vlen; c++)
                if (*c == ':')
                    colon = c;
            if (vlen == 0 || colon == v)
                goto bad;
            p.site_file = v; /* not terminated: set copies up to the ':' or ',' */
            if (colon) {
                char buf[16], *end;
                size_t llen = (size_t)(v + vlen - colon - 1);
                if (llen == 0 || llen >= sizeof buf)
                    goto bad;
                memcpy(buf, colon + 1, llen);
                buf[llen] = 0;
                long line = strtol(buf, &end, 10);
                if (*end || line <= 0 || line > INT32_MAX)
                    goto bad;
                p.site_line = (int)line;
            }
        } else {
            goto bad;
        }
        s += len;
        if (*s == ',')
            s++;
    }
    *out = p;
    return ILG_OK;
bad:
    return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, (uint64_t)(s - spec),
                     "fault policy '%s': item at offset %zu is not nth=N, every=N or "
                     "site=FILE[:LINE]",
                     spec, (size_t)(s - spec));
}

ilg_status ilg_hostmem_set_fault_policy(IHostMemoryManager *iface, const ilg_fault_policy *policy)
{
    struct host_manager *m = ilg__hostmem_manager(iface);
    if (!m)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "not an ilgraft memory manager");
    char *file = NULL;
    if (policy && policy->site_file) {
        /* A site parsed from "FILE:LINE,..." is not terminated at the colon. */
        size_t n = strcspn(policy->site_file, policy->site_line ? ":," : ",");
        file = strndup(policy->site_file, n);
        if (!file)
            return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "fault policy site");
    }
    pthread_mutex_lock(&m->lock);
    free(m->site_file);
    m->site_file = file;
    m->site_line = policy ? policy->site_line : 0;
    m->fail_nth = policy ? policy->fail_nth : 0;
    m->repeat = policy ? policy->repeat : false;
    m->policy_base = atomic_load(&m->allocations);
    atomic_store_explicit(&m->policy_on, m->fail_nth || m->site_file, memory_order_release);
    pthread_mutex_unlock(&m->lock);
    return ILG_OK;
}

