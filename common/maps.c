/* maps.c: the one reader of /proc/self/maps (the process's mappings, ascending). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ilg_private.h"

/* One line, "lo-hi perms offset dev inode [path]"; false for a line that is not one. */
static bool parse_line(const char *line, ilg_maps_entry *e)
{
    char *end;
    unsigned long long lo = strtoull(line, &end, 16), hi;
    if (*end != '-')
        return false;
    hi = strtoull(end + 1, &end, 16);
    if (*end != ' ')
        return false;
    e->lo = (uintptr_t)lo;
    e->hi = (uintptr_t)hi;
    const char *p = end + 1;
    size_t k = strcspn(p, " \n");
    if (k >= sizeof e->perms)
        k = sizeof e->perms - 1;
    memcpy(e->perms, p, k);
    e->perms[k] = 0;
    /* the path is what follows the fifth field (perms offset dev inode) */
    p = end;
    for (int field = 0; field < 4 && *p; field++) {
        while (*p == ' ')
            p++;
        while (*p && *p != ' ')
            p++;
    }
    while (*p == ' ')
        p++;
    k = strcspn(p, "\n");
    if (k >= sizeof e->path)
        k = sizeof e->path - 1;
    memcpy(e->path, p, k);
    e->path[k] = 0;
    return true;
}

ilg_status ilg__maps_read(ilg_maps_entry **out, size_t *count)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char *line = NULL;
    size_t cap = 0, n = 0, len = 0;
    ilg_maps_entry *v = NULL, e;
    ilg_status status = ILG_OK;

    if (!f)
        return ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot open /proc/self/maps: %s", strerror(errno));
    while (getline(&line, &len, f) > 0) {
        if (!parse_line(line, &e))
            continue;
        if ((status = ilg__grow_size((void **)&v, &cap, n + 1, sizeof *v)) != ILG_OK)
            goto out;
        v[n++] = e;
    }
    *out = v;
    *count = n;
    v = NULL;
out:
    free(v);
    free(line);
    fclose(f);
    return status;
}

int ilg__maps_lookup(uintptr_t p, ilg_maps_entry *hit, uintptr_t *next_lo)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char *line = NULL;
    size_t len = 0;
    ilg_maps_entry e;
    int found = 0;

    *next_lo = UINTPTR_MAX;
    if (!f)
        return -1;
    while (getline(&line, &len, f) > 0) {
        if (!parse_line(line, &e))
            continue;
        if (p >= e.lo && p < e.hi) {
            *hit = e;
            found = 1;
            break;
        }
        if (e.lo > p) {
            *next_lo = e.lo;
            break;
        }
    }
    free(line);
    fclose(f);
    return found;
}
