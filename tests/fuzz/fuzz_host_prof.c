/* fuzz_host_prof.c: the profiler behind fuzz_host. At every JITCompilationStarted it
 * copies the current fuzz input into memory from the module's IMethodMalloc and hands it
 * to SetILFunctionBody as the method's new body, recording what the host answered. The
 * fuzzer sets the input and reads the answers through the two exported functions. */
#include <string.h>

#include "prof_common.h"

#define FUZZ_MAX_CALLS 64

static const uint8_t *input;
static size_t input_size;
static HRESULT answers[FUZZ_MAX_CALLS];
static size_t answer_count;

#define FUZZ_EXPORT __attribute__((visibility("default")))
FUZZ_EXPORT void fuzz_prof_set_input(const uint8_t *data, size_t size);
FUZZ_EXPORT size_t fuzz_prof_answers(const HRESULT **out);

FUZZ_EXPORT void fuzz_prof_set_input(const uint8_t *data, size_t size)
{
    input = data;
    input_size = size;
    answer_count = 0;
}

FUZZ_EXPORT size_t fuzz_prof_answers(const HRESULT **out)
{
    *out = answers;
    return answer_count;
}

static HRESULT fz_initialize(ICorProfilerInfo3 *info)
{
    return info->lpVtbl->SetEventMask(info, COR_PRF_MONITOR_JIT_COMPILATION);
}

static HRESULT fz_jit_started(ICorProfilerInfo3 *info, FunctionID fid)
{
    ClassID cls;
    ModuleID mod = 0;
    mdToken tok = 0;
    IMethodMalloc *alloc = NULL;
    if (answer_count == FUZZ_MAX_CALLS ||
        info->lpVtbl->GetFunctionInfo(info, fid, &cls, &mod, &tok) != S_OK ||
        info->lpVtbl->GetILFunctionBodyAllocator(info, mod, &alloc) != S_OK || !alloc)
        return S_OK;
    uint8_t *p = alloc->lpVtbl->Alloc(alloc, (ULONG)(input_size ? input_size : 1));
    if (p) {
        memcpy(p, input, input_size);
        answers[answer_count++] = info->lpVtbl->SetILFunctionBody(info, mod, tok, p);
    }
    alloc->lpVtbl->Release(alloc);
    return S_OK;
}

const prof_hooks prof_test_hooks = {
    .initialize = fz_initialize,
    .jit_started = fz_jit_started,
};
