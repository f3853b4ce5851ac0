/* prof_lazy.c: a profiler that references a function nothing defines and calls it only
 * when PROF_LAZY_CALL=1 (never in the tests). CoreCLR loads profilers with lazy symbol
 * binding, so such a library loads and runs (New Relic's native profiler leaves a PAL
 * export undefined this way); with RTLD_NOW dlopen refuses it. Built without
 * --no-undefined and with -z lazy. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "prof_common.h"

/* Defined nowhere: its symbol stays undefined in the library. */
extern void ilg_test_never_defined(void);

static HRESULT lazy_initialize(ICorProfilerInfo3 *info)
{
    const char *call = getenv("PROF_LAZY_CALL");
    if (call && strcmp(call, "1") == 0)
        ilg_test_never_defined();
    HRESULT hr = info->lpVtbl->SetEventMask(info, COR_PRF_MONITOR_JIT_COMPILATION);
    prof_check(hr == S_OK, "SetEventMask: 0x%08x", (unsigned)hr);
    prof_log("initialized");
    return S_OK;
}

static HRESULT lazy_shutdown(ICorProfilerInfo3 *info)
{
    (void)info;
    prof_finish();
    return S_OK;
}

const prof_hooks prof_test_hooks = {
    .initialize = lazy_initialize,
    .shutdown = lazy_shutdown,
};
