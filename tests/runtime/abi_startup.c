/* abi_startup.c: the ABI probe's startup log. From Initialize to the app's first
 * ModuleLoadFinished (Hello.dll), every load, domain and thread callback made on the
 * thread that ran Initialize is logged as a "START" line with what the runtime answers
 * there: the domains known so far and GetAppDomainInfo's name for each, and which
 * announced thread GetCurrentThreadID names. IDs are logged by order of first
 * appearance (d0, d1, t0, ...), so a run under CoreCLR and one under `ilgraft run`
 * compare line by line (test_abi_probe's startup_order_as_coreclr). Callbacks on the
 * runtime's other threads (finalizer, tiering) race with the main thread and are left
 * out. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi_conform.h"

#define START_MAX_IDS 8
#define START_NAME_CAP 256
#define START_LINE_CAP 2048

static struct {
    pthread_mutex_t lock;
    pid_t main_tid;     /* the thread that ran Initialize; 0 before it */
    bool done;          /* the app's first module has loaded */
    AppDomainID domains[START_MAX_IDS];
    unsigned domain_count;
    ThreadID threads[START_MAX_IDS];
    unsigned thread_count;
} st = { .lock = PTHREAD_MUTEX_INITIALIZER };

static unsigned id_index(UINT_PTR *ids, unsigned *count, UINT_PTR id)
{
    for (unsigned i = 0; i < *count; i++)
        if (ids[i] == id)
            return i;
    if (*count == START_MAX_IDS)
        return START_MAX_IDS;
    ids[*count] = id;
    return (*count)++;
}

static bool on_main_thread(void)
{
    return st.main_tid && (pid_t)syscall(SYS_gettid) == st.main_tid;
}

void startup_initialize(void)
{
    pthread_mutex_lock(&st.lock);
    st.main_tid = (pid_t)syscall(SYS_gettid);
    pthread_mutex_unlock(&st.lock);
}

/* The assembly of module mod (0: none), and its domain added to the known ones. */
static void note_module_domain(ICorProfilerInfo3 *info, ModuleID mod, AssemblyID asm_id)
{
    AppDomainID ad = 0;
    if (!asm_id && mod &&
        FAILED(info->lpVtbl->GetModuleInfo(info, mod, NULL, 0, NULL, NULL, &asm_id)))
        return;
    if (asm_id && SUCCEEDED(info->lpVtbl->GetAssemblyInfo(info, asm_id, 0, NULL, NULL, &ad, NULL)))
        id_index((UINT_PTR *)st.domains, &st.domain_count, ad);
}

/* " d0=name d1=name": each known domain as GetAppDomainInfo names it now. */
static size_t domain_names(ICorProfilerInfo3 *info, char *out, size_t cap)
{
    size_t n = 0;
    for (unsigned i = 0; i < st.domain_count && n < cap; i++) {
        WCHAR w[START_NAME_CAP];
        ULONG len = 0;
        char name[START_NAME_CAP];
        HRESULT hr = info->lpVtbl->GetAppDomainInfo(info, st.domains[i], START_NAME_CAP, &len,
                                                    w, NULL);
        if (SUCCEEDED(hr))
            probe_ascii(w, len, name, sizeof name);
        else
            snprintf(name, sizeof name, "hr=0x%08X", (unsigned)hr);
        n += (size_t)snprintf(out + n, cap - n, " d%u=%s", i, name);
    }
    return n < cap ? n : cap;
}

/* " current=t0 os=self": the announced thread GetCurrentThreadID names (or "unannounced")
 * and whether GetThreadInfo gives this OS thread. */
static void current_thread(ICorProfilerInfo3 *info, char *out, size_t cap)
{
    ThreadID tid = 0;
    DWORD os = 0;
    HRESULT hr = info->lpVtbl->GetCurrentThreadID(info, &tid);
    if (FAILED(hr)) {
        snprintf(out, cap, " current=hr=0x%08X", (unsigned)hr);
        return;
    }
    unsigned k = 0;
    while (k < st.thread_count && st.threads[k] != tid)
        k++;
    hr = info->lpVtbl->GetThreadInfo(info, tid, &os);
    const char *where = FAILED(hr) ? "failed"
                        : (pid_t)os == (pid_t)syscall(SYS_gettid) ? "self" : "other";
    if (k < st.thread_count)
        snprintf(out, cap, " current=t%u os=%s", k, where);
    else
        snprintf(out, cap, " current=unannounced os=%s", where);
}

void startup_event(ICorProfilerInfo3 *info, const char *callback, char kind, UINT_PTR id,
                   const char *name)
{
    char line[START_LINE_CAP], cur[128];
    size_t n = 0;
    pthread_mutex_lock(&st.lock);
    if (st.done || !on_main_thread()) {
        pthread_mutex_unlock(&st.lock);
        return;
    }
    n += (size_t)snprintf(line, sizeof line, "START %s", callback);
    switch (kind) {
    case 'd':
        n += (size_t)snprintf(line + n, sizeof line - n, " d%u",
                              id_index((UINT_PTR *)st.domains, &st.domain_count, id));
        break;
    case 't':
        n += (size_t)snprintf(line + n, sizeof line - n, " t%u",
                              id_index((UINT_PTR *)st.threads, &st.thread_count, id));
        break;
    case 'm':   /* a module, known by now */
        note_module_domain(info, id, 0);
        break;
    case 'a':   /* an assembly, known by now */
        note_module_domain(info, 0, id);
        break;
    default:
        break;
    }
    if (name)
        n += (size_t)snprintf(line + n, sizeof line - n, " %s", name);
    if (n < sizeof line)
        n += domain_names(info, line + n, sizeof line - n);
    current_thread(info, cur, sizeof cur);
    probe_log("%s%s", line, cur);
    if (name && strcmp(name, "Hello.dll") == 0 && strcmp(callback, "ModuleLoadFinished") == 0)
        st.done = true;
    pthread_mutex_unlock(&st.lock);
}
