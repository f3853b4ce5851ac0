/* prof_common.h: the skeleton the integration-test profilers share: a complete
 * ICorProfilerCallback3 object, its class factory and DllGetClassObject, built
 * against ilgraft/corprof.h alone (no ilgraft library), like a real profiler. Each
 * test profiler supplies prof_hooks for the callbacks it cares about; every other
 * callback answers S_OK. The log (PROF_LOG, else stderr) gets one line per check,
 * and "PASS" or "FAIL <n>" from prof_finish. */
#ifndef PROF_COMMON_H
#define PROF_COMMON_H

#include "ilgraft/corprof.h"

typedef struct prof_hooks {
    HRESULT (*initialize)(ICorProfilerInfo3 *info);
    HRESULT (*module_load_finished)(ICorProfilerInfo3 *info, ModuleID module);
    HRESULT (*jit_started)(ICorProfilerInfo3 *info, FunctionID fid);
    HRESULT (*jit_finished)(ICorProfilerInfo3 *info, FunctionID fid);
    HRESULT (*thread_created)(ICorProfilerInfo3 *info, ThreadID thread);
    HRESULT (*thread_assigned)(ICorProfilerInfo3 *info, ThreadID thread, DWORD os_thread);
    HRESULT (*thread_destroyed)(ICorProfilerInfo3 *info, ThreadID thread);
    HRESULT (*shutdown)(ICorProfilerInfo3 *info);
    /* JITCachedFunctionSearchStarted/Finished (ReadyToRun code looked up and found). */
    HRESULT (*cache_search_started)(ICorProfilerInfo3 *info, FunctionID fid, BOOL *use);
    HRESULT (*cache_search_finished)(ICorProfilerInfo3 *info, FunctionID fid,
                                     COR_PRF_JIT_CACHE result);
    /* JITInlining: *should starts TRUE, as CoreCLR's ProfControlBlock sets it. */
    HRESULT (*jit_inlining)(ICorProfilerInfo3 *info, FunctionID caller, FunctionID callee,
                            BOOL *should);
    /* When set and true: refuse QueryInterface for ICorProfilerCallback3, as a
     * profiler written for .NET 2.0 would. */
    bool (*refuse_callback3)(void);
    /* ICorProfilerCallback4's ReJIT callbacks: the object answers QueryInterface for
     * Callback4 only when rejit_parameters is set (prof_rejit). */
    HRESULT (*rejit_started)(ICorProfilerInfo3 *info, FunctionID fid, ReJITID id);
    HRESULT (*rejit_parameters)(ICorProfilerInfo3 *info, ModuleID module, mdMethodDef method,
                                ICorProfilerFunctionControl *control);
    HRESULT (*rejit_finished)(ICorProfilerInfo3 *info, FunctionID fid, ReJITID id, HRESULT hr);
    HRESULT (*rejit_error)(ICorProfilerInfo3 *info, ModuleID module, mdMethodDef method,
                           FunctionID fid, HRESULT hr);
} prof_hooks;

/* Defined by each test profiler. */
extern const prof_hooks prof_test_hooks;

/* One log line. */
void prof_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Records a failed check (counted for prof_finish) when cond is false. */
void prof_check(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "PASS" when no check failed, else "FAIL <n>". */
void prof_finish(void);
/* SizeOfImage from the PE headers mapped at base (0 when they do not look like PE). */
uint32_t prof_pe_image_size(const uint8_t *base);

#endif
