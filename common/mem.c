/* mem.c: the page size and array growth, one policy for every module. */
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "ilg_private.h"

size_t ilg__page_size(void)
{
    static _Atomic size_t cached;
    size_t p = atomic_load_explicit(&cached, memory_order_relaxed);
    if (!p) {
        p = (size_t)sysconf(_SC_PAGESIZE);
        atomic_store_explicit(&cached, p, memory_order_relaxed);
    }
    return p;
}

/* Doubling keeps the amortised cost of n appends linear; 16 elements is a size every
 * caller's common case fits in. */
static size_t grown_cap(size_t cap, size_t need)
{
    size_t n = cap ? cap : 16;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    return n;
}

ilg_status ilg__grow_size(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return ILG_OK;
    size_t n = grown_cap(*cap, need);
    if (elem && n > SIZE_MAX / elem)
        return ilg__fail(ILG_E_LIMIT, ILG_WHERE_NONE, 0, "%zu elements of %zu bytes exceed the address space",
                         n, elem);
    void *p = realloc(*arr, n * elem);
    if (!p)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "cannot grow an array to %zu elements", n);
    *arr = p;
    *cap = n;
    return ILG_OK;
}

ilg_status ilg__grow(void **arr, uint32_t *cap, uint64_t need, size_t elem)
{
    if (need <= *cap)
        return ILG_OK;
    if (need > UINT32_MAX / 2)
        return ilg__fail(ILG_E_LIMIT, ILG_WHERE_NONE, 0, "%llu elements exceed the body limit",
                         (unsigned long long)need);
    size_t c = *cap;
    ilg_status st = ilg__grow_size(arr, &c, (size_t)need, elem);
    if (st == ILG_OK)
        *cap = (uint32_t)c;
    return st;
}
