/* verify_prof.c: the profiler of the verifier's differential test (test_verify_jit.c).
 * Built against ilgraft/corprof.h alone, like a real profiler. It reads a file of
 * mutant bodies (VERIFY_PROF_MUTANTS: one line per method, "TOKEN HEXBYTES", the bytes
 * a whole method body: header, code, EH sections) for one module (VERIFY_PROF_MODULE,
 * the file name of its path), and at JITCompilationStarted gives each of those methods
 * its mutant through the module's IMethodMalloc and SetILFunctionBody. The log
 * (PROF_LOG) gets "set TOKEN" for every body installed, so the test knows which
 * verdicts the runtime gave on a mutant and which on an original body.
 *
 * Inlining is disabled (a caller must not compile a callee's body into itself), and
 * ReadyToRun code is refused, so that framework methods are JIT-compiled too. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prof_common.h"

typedef struct mutant {
    uint32_t token;
    uint32_t size;
    uint8_t *bytes;
    bool installed;
} mutant;

static mutant *mutants;
static size_t mutant_count;
static char module_name[512];
static ModuleID target;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One "TOKEN HEX" line into m; false when it is malformed. */
static bool parse_line(const char *line, mutant *m)
{
    char *end;
    unsigned long tok = strtoul(line, &end, 16);
    if (end == line || *end != ' ')
        return false;
    const char *hex = end + 1;
    size_t n = strcspn(hex, "\r\n");
    if (n == 0 || n % 2)
        return false;
    m->token = (uint32_t)tok;
    m->size = (uint32_t)(n / 2);
    m->bytes = malloc(m->size);
    if (!m->bytes)
        return false;
    for (size_t i = 0; i < m->size; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        m->bytes[i] = (uint8_t)(hi << 4 | lo);
    }
    m->installed = false;
    return true;
}

static bool load_mutants(void)
{
    const char *path = getenv("VERIFY_PROF_MUTANTS");
    const char *mod = getenv("VERIFY_PROF_MODULE");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f || !mod) {
        prof_check(false, "VERIFY_PROF_MUTANTS (%s) or VERIFY_PROF_MODULE missing", path ? path : "unset");
        if (f)
            fclose(f);
        return false;
    }
    snprintf(module_name, sizeof module_name, "%s", mod);
    char *line = NULL;
    size_t cap = 0, have = 0;
    bool ok = true;
    while (getline(&line, &cap, f) > 0) {
        if (mutant_count == have) {
            have = have ? have * 2 : 256;
            mutant *p = realloc(mutants, have * sizeof *p);
            if (!p) {
                ok = false;
                break;
            }
            mutants = p;
        }
        if (!parse_line(line, &mutants[mutant_count])) {
            prof_check(false, "bad mutant line %zu", mutant_count + 1);
            ok = false;
            break;
        }
        mutant_count++;
    }
    free(line);
    fclose(f);
    prof_log("mutants %zu for %s", mutant_count, module_name);
    return ok;
}

static HRESULT vp_initialize(ICorProfilerInfo3 *info)
{
    if (!load_mutants())
        return E_FAIL;
    DWORD mask = COR_PRF_MONITOR_JIT_COMPILATION | COR_PRF_MONITOR_MODULE_LOADS |
                 COR_PRF_DISABLE_INLINING | COR_PRF_DISABLE_ALL_NGEN_IMAGES |
                 COR_PRF_MONITOR_CODE_TRANSITIONS;
    HRESULT hr = info->lpVtbl->SetEventMask(info, mask);
    prof_check(hr == S_OK, "SetEventMask returned 0x%08x", (unsigned)hr);
    return hr;
}

static HRESULT vp_module_loaded(ICorProfilerInfo3 *info, ModuleID module)
{
    WCHAR wname[1024];
    char name[1024];
    ULONG cch = 0, i;
    if (info->lpVtbl->GetModuleInfo(info, module, NULL, 1024, &cch, wname, NULL) != S_OK)
        return S_OK;
    for (i = 0; i < cch && i < 1023 && wname[i]; i++)
        name[i] = wname[i] < 0x80 ? (char)wname[i] : '?';
    name[i] = 0;
    if (strcmp(name, module_name) == 0) {
        pthread_mutex_lock(&lock);
        target = module;
        pthread_mutex_unlock(&lock);
        prof_log("module %s", name);
    }
    return S_OK;
}

static mutant *find(uint32_t token)
{
    for (size_t i = 0; i < mutant_count; i++)
        if (mutants[i].token == token)
            return &mutants[i];
    return NULL;
}

static HRESULT vp_jit_started(ICorProfilerInfo3 *info, FunctionID fid)
{
    ClassID cls;
    ModuleID mod = 0;
    mdToken tok = 0;
    IMethodMalloc *alloc = NULL;
    if (info->lpVtbl->GetFunctionInfo(info, fid, &cls, &mod, &tok) != S_OK)
        return S_OK;
    pthread_mutex_lock(&lock);
    mutant *m = mod == target ? find(tok) : NULL;
    bool first = m && !m->installed;
    if (first)
        m->installed = true;
    pthread_mutex_unlock(&lock);
    if (!first)
        return S_OK;
    if (info->lpVtbl->GetILFunctionBodyAllocator(info, mod, &alloc) != S_OK || !alloc) {
        prof_check(false, "no allocator for 0x%08x", tok);
        return S_OK;
    }
    uint8_t *p = alloc->lpVtbl->Alloc(alloc, m->size);
    alloc->lpVtbl->Release(alloc);
    if (!p) {
        prof_check(false, "Alloc(%u) failed for 0x%08x", m->size, tok);
        return S_OK;
    }
    memcpy(p, m->bytes, m->size);
    HRESULT hr = info->lpVtbl->SetILFunctionBody(info, mod, tok, p);
    prof_check(hr == S_OK, "SetILFunctionBody(0x%08x) returned 0x%08x", tok, (unsigned)hr);
    if (hr == S_OK)
        prof_log("set %08x", tok);
    return S_OK;
}

const prof_hooks prof_test_hooks = {
    .initialize = vp_initialize,
    .module_load_finished = vp_module_loaded,
    .jit_started = vp_jit_started,
};
