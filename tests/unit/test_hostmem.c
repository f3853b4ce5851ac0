/* test_hostmem.c: the host heap against independent truth: the IIDs as mscoree.idl
 * prints them, /proc/self/maps for what VirtualAlloc and the executable heaps really
 * mapped, sysinfo(2) for the memory load, the CPU itself running code written into an
 * executable heap, and exact counts of what the tests allocated and freed. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "ilgraft/hostmem.h"
#include "unit/fixture_util.h"

static IHostMemoryManager *mgr;
static size_t page;

static void setup_mgr(void)
{
    page = (size_t)sysconf(_SC_PAGESIZE);
    unsetenv("ILG_HOSTMEM_FAULTS");
    ck_assert_int_eq(ilg_hostmem_create(NULL, &mgr), ILG_OK);
}

static void teardown_mgr(void)
{
    if (mgr)
        ck_assert_uint_eq(mgr->lpVtbl->Release(mgr), 0);
    mgr = NULL;
}

static IHostMalloc *new_heap(DWORD type)
{
    IHostMalloc *h = NULL;
    ck_assert_int_eq(mgr->lpVtbl->CreateMalloc(mgr, type, &h), S_OK);
    ck_assert_ptr_nonnull(h);
    return h;
}

START_TEST(com_identity_and_reference_counts)
{
    char text[ILG_GUID_TEXT_SIZE];
    ck_assert_str_eq(ilg_guid_format(&IID_IHostMalloc, text), "1831991C-CC53-4A31-B218-04E910446479");
    ck_assert_str_eq(ilg_guid_format(&IID_IHostMemoryManager, text), "7BC698D1-F9E3-4460-9CDE-D04248E9FA25");
    ck_assert_str_eq(ilg_guid_format(&IID_ICLRMemoryNotificationCallback, text),
                     "47EB8E57-0846-4546-AF76-6F42FCFC2649");

    void *q;
    ck_assert_int_eq(mgr->lpVtbl->QueryInterface(mgr, &IID_IHostMemoryManager, &q), S_OK);
    ck_assert_ptr_eq(q, mgr);
    ck_assert_int_eq(mgr->lpVtbl->QueryInterface(mgr, &IID_IUnknown, &q), S_OK);
    ck_assert_uint_eq(mgr->lpVtbl->Release(mgr), 2);
    ck_assert_uint_eq(mgr->lpVtbl->Release(mgr), 1);
    ck_assert_int_eq(mgr->lpVtbl->QueryInterface(mgr, &IID_IHostMalloc, &q), E_NOINTERFACE);
    ck_assert_ptr_null(q);

    IHostMalloc *h = new_heap(MALLOC_THREADSAFE);
    ck_assert_int_eq(h->lpVtbl->QueryInterface(h, &IID_IHostMalloc, &q), S_OK);
    ck_assert_ptr_eq(q, h);
    ck_assert_uint_eq(h->lpVtbl->Release(h), 1);
    ck_assert_int_eq(h->lpVtbl->QueryInterface(h, &IID_IHostMemoryManager, &q), E_NOINTERFACE);
    ck_assert_uint_eq(h->lpVtbl->AddRef(h), 2);
    ck_assert_uint_eq(h->lpVtbl->Release(h), 1);

    /* The heap keeps its manager: releasing the manager first leaves both usable. */
    ilg_hostmem_stats ms;
    ck_assert_int_eq(ilg_hostmem_stats_get(mgr, &ms), ILG_OK);
    ck_assert_uint_eq(ms.heaps, 1);
    ck_assert_uint_eq(mgr->lpVtbl->Release(mgr), 1);
    mgr = NULL;
    void *p;
    ck_assert_int_eq(h->lpVtbl->Alloc(h, 100, eTaskCritical, &p), S_OK);
    memset(p, 1, 100);
    /* The last release frees what is still live (ASan would report it otherwise). */
    ck_assert_uint_eq(h->lpVtbl->Release(h), 0);

    IHostMemoryManager *m2;
    ck_assert_int_eq(ilg_hostmem_create(NULL, &m2), ILG_OK);
    IHostMalloc *bad = (IHostMalloc *)(uintptr_t)1;
    ck_assert_int_eq(m2->lpVtbl->CreateMalloc(m2, 0x4, &bad), E_INVALIDARG);
    ck_assert_ptr_null(bad);
    ck_assert_int_eq(m2->lpVtbl->CreateMalloc(m2, 0, NULL), E_INVALIDARG);
    ck_assert_uint_eq(m2->lpVtbl->Release(m2), 0);
}
END_TEST

START_TEST(alloc_free_and_bad_frees)
{
    IHostMalloc *h = new_heap(MALLOC_THREADSAFE);
    void *a, *b, *z;
    ck_assert_int_eq(h->lpVtbl->Alloc(h, 64, eTaskCritical, NULL), E_INVALIDARG);
    ck_assert_int_eq(h->lpVtbl->Alloc(h, 64, eTaskCritical, &a), S_OK);
    ck_assert_int_eq(h->lpVtbl->Alloc(h, 32, eProcessCritical, &b), S_OK);
    ck_assert_int_eq(h->lpVtbl->Alloc(h, 0, eTaskCritical, &z), S_OK);
    ck_assert_ptr_nonnull(z);
    ck_assert_ptr_ne(z, a);
    memset(a, 0xAA, 64);
    memset(b, 0xBB, 32);
    ck_assert_int_eq(h->lpVtbl->Free(h, NULL), S_OK);
    ck_assert_int_eq(h->lpVtbl->Free(h, a), S_OK);

    int on_stack;
    ck_assert_int_eq(h->lpVtbl->Free(h, &on_stack), HOST_E_INVALIDOPERATION);
    ck_assert_int_eq(ilg_last_diag()->status, ILG_E_HOSTMEM_BAD_FREE);
    ck_assert_int_eq(h->lpVtbl->Free(h, a), HOST_E_INVALIDOPERATION); /* twice */
    ck_assert_int_eq(h->lpVtbl->Free(h, (char *)b + 1), HOST_E_INVALIDOPERATION);

    ilg_hostmalloc_stats st;
    ck_assert_int_eq(ilg_hostmalloc_stats_get(h, &st), ILG_OK);
    ck_assert_uint_eq(st.type, MALLOC_THREADSAFE);
    ck_assert_uint_eq(st.live_count, 2);
    ck_assert_uint_eq(st.live_bytes, 32);
    ck_assert_uint_eq(st.peak_bytes, 96);
    ck_assert_uint_eq(st.total_allocs, 3);
    ck_assert_uint_eq(st.total_frees, 1);
    ck_assert_uint_eq(st.bad_frees, 3);
    ck_assert_ptr_eq(st.last_bad_free, (char *)b + 1);
    ck_assert_int_eq(h->lpVtbl->Free(h, b), S_OK);
    ck_assert_int_eq(h->lpVtbl->Free(h, z), S_OK);
    ck_assert_int_eq(ilg_hostmalloc_stats_get(h, &st), ILG_OK);
    ck_assert_uint_eq(st.live_count, 0);
    ck_assert_uint_eq(ilg_hostmalloc_stats_get((IHostMalloc *)mgr, &st), ILG_E_INVALID_ARG);
    h->lpVtbl->Release(h);
}
END_TEST

START_TEST(leak_report_groups_live_allocations_by_site)
{
    IHostMalloc *h = new_heap(0); /* the non-threadsafe heap: single thread here */
    void *keep[10];
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(h->lpVtbl->DebugAlloc(h, 100, eTaskCritical, "/src/profiler/module.c", 42,
                                               &keep[i]), S_OK);
    for (int i = 5; i < 8; i++) {
        /* The same site through a different string: grouped by content, not pointer. */
        char file[] = "/src/profiler/module.c";
        ck_assert_int_eq(h->lpVtbl->DebugAlloc(h, 10, eTaskCritical, file, 42, &keep[i]), S_OK);
    }
    keep[8] = ILG_HOST_ALLOC(h, 1000);
    ck_assert_ptr_nonnull(keep[8]);
    const int macro_line = __LINE__ - 2;
    ck_assert_int_eq(h->lpVtbl->Alloc(h, 7, eTaskCritical, &keep[9]), S_OK);
    void *gone;
    ck_assert_int_eq(h->lpVtbl->DebugAlloc(h, 5000, eTaskCritical, "/src/profiler/rewrite.c", 7, &gone),
                     S_OK);
    ILG_HOST_FREE(h, gone);
    ILG_HOST_FREE(h, keep[0]); /* 4 left at module.c:42 of 100, plus 3 of 10 */
    ck_assert_int_eq(h->lpVtbl->Free(h, gone), HOST_E_INVALIDOPERATION);

    ilg_leak_report *r;
    ck_assert_int_eq(ilg_hostmalloc_leaks(h, &r), ILG_OK);
    ck_assert_uint_eq(r->count, 9);
    ck_assert_uint_eq(r->bytes, 400 + 30 + 1000 + 7);
    ck_assert_uint_eq(r->site_count, 3);
    ck_assert_str_eq(r->sites[0].file, __FILE__);
    ck_assert_int_eq(r->sites[0].line, macro_line);
    ck_assert_uint_eq(r->sites[0].count, 1);
    ck_assert_uint_eq(r->sites[0].bytes, 1000);
    ck_assert_str_eq(r->sites[1].file, "/src/profiler/module.c");
    ck_assert_int_eq(r->sites[1].line, 42);
    ck_assert_uint_eq(r->sites[1].count, 7);
    ck_assert_uint_eq(r->sites[1].bytes, 430);
    ck_assert_str_eq(r->sites[2].file, "(Alloc)");
    ck_assert_uint_eq(r->sites[2].bytes, 7);
    ck_assert_uint_eq(r->bad_frees, 1);

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(ilg_leak_report_print(r, f), ILG_OK);
    fclose(f);
    ck_assert_msg(strstr(text, "430 bytes in 7 allocations at /src/profiler/module.c:42\n"), "%s", text);
    ck_assert_msg(strstr(text, "7 bytes in 1 allocation at (Alloc):0\n"), "%s", text);
    ck_assert_msg(strstr(text, "total: 1437 bytes in 9 live allocations at 3 sites\n"), "%s", text);
    ck_assert_msg(strstr(text, "bad frees: 1"), "%s", text);
    free(text);
    /* The report owns its strings: it outlives the heap. */
    ck_assert_uint_eq(h->lpVtbl->Release(h), 0);
    ck_assert_str_eq(r->sites[1].file, "/src/profiler/module.c");
    ilg_leak_report_free(r);
}
END_TEST

START_TEST(fault_policy_fails_the_nth_and_a_site)
{
    IHostMalloc *h = new_heap(MALLOC_THREADSAFE);
    void *p[8];
    ilg_fault_policy nth = { .fail_nth = 3 };
    ck_assert_int_eq(ilg_hostmem_set_fault_policy(mgr, &nth), ILG_OK);
    for (int i = 1; i <= 6; i++) {
        HRESULT hr = h->lpVtbl->Alloc(h, 16, eTaskCritical, &p[i]);
        if (i == 3) {
            ck_assert_int_eq(hr, E_OUTOFMEMORY);
            ck_assert_ptr_null(p[i]);
            ck_assert_int_eq(ilg_last_diag()->status, ILG_E_HOSTMEM_FAULT_INJECTED);
        } else {
            ck_assert_int_eq(hr, S_OK);
            h->lpVtbl->Free(h, p[i]);
        }
    }
    ilg_fault_policy every = { .fail_nth = 2, .repeat = true };
    ck_assert_int_eq(ilg_hostmem_set_fault_policy(mgr, &every), ILG_OK);
    for (int i = 1; i <= 6; i++) {
        HRESULT hr = h->lpVtbl->Alloc(h, 16, eTaskCritical, &p[0]);
        ck_assert_int_eq(hr, i % 2 == 0 ? E_OUTOFMEMORY : S_OK);
        if (hr == S_OK)
            h->lpVtbl->Free(h, p[0]);
    }
    /* A site: the file matches as a path suffix at a '/' boundary, the line exactly. */
    ilg_fault_policy site;
    ck_assert_int_eq(ilg_fault_policy_parse("site=host/host.c:120", &site), ILG_OK);
    ck_assert_int_eq(ilg_hostmem_set_fault_policy(mgr, &site), ILG_OK);
    ck_assert_int_eq(h->lpVtbl->DebugAlloc(h, 8, eTaskCritical, "/b/host/host.c", 120, &p[0]),
                     E_OUTOFMEMORY);
    ck_assert_int_eq(h->lpVtbl->DebugAlloc(h, 8, eTaskCritical, "host/host.c", 120, &p[0]),
                     E_OUTOFMEMORY);
    ck_assert_int_eq(h->lpVtbl->DebugAlloc(h, 8, eTaskCritical, "/b/host/host.c", 121, &p[1]), S_OK);
    ck_assert_int_eq(h->lpVtbl->DebugAlloc(h, 8, eTaskCritical, "/b/xhost/host.c", 120, &p[2]), S_OK);
    ck_assert_int_eq(h->lpVtbl->Alloc(h, 8, eTaskCritical, &p[3]), S_OK);
    ilg_fault_policy any_line;
    ck_assert_int_eq(ilg_fault_policy_parse("site=host.c", &any_line), ILG_OK);
    ck_assert_int_eq(ilg_hostmem_set_fault_policy(mgr, &any_line), ILG_OK);
    ck_assert_int_eq(h->lpVtbl->DebugAlloc(h, 8, eTaskCritical, "/b/host/host.c", 5, &p[4]),
                     E_OUTOFMEMORY);
    ck_assert_int_eq(ilg_hostmem_set_fault_policy(mgr, NULL), ILG_OK);
    ck_assert_int_eq(h->lpVtbl->DebugAlloc(h, 8, eTaskCritical, "/b/host/host.c", 5, &p[4]), S_OK);

    ilg_hostmem_stats ms;
    ck_assert_int_eq(ilg_hostmem_stats_get(mgr, &ms), ILG_OK);
    ck_assert_uint_eq(ms.injected_faults, 1 + 3 + 2 + 1);
    ilg_hostmalloc_stats hs;
    ck_assert_int_eq(ilg_hostmalloc_stats_get(h, &hs), ILG_OK);
    ck_assert_uint_eq(hs.failed_allocs, 7);
    ck_assert_uint_eq(hs.live_count, 4);
    h->lpVtbl->Release(h);

    ilg_fault_policy p2;
    ck_assert_int_eq(ilg_fault_policy_parse("every=4,site=a.c", &p2), ILG_OK);
    ck_assert_uint_eq(p2.fail_nth, 4);
    ck_assert(p2.repeat);
    ck_assert_int_eq(ilg_fault_policy_parse("nth=0", &p2), ILG_E_INVALID_ARG);
    ck_assert_int_eq(ilg_fault_policy_parse("nth=3,bogus=1", &p2), ILG_E_INVALID_ARG);
    ck_assert_uint_eq(ilg_last_diag()->offset, 6);
    ck_assert_int_eq(ilg_fault_policy_parse("site=x.c:12z", &p2), ILG_E_INVALID_ARG);
}
END_TEST

START_TEST(fault_policy_from_the_environment)
{
    IHostMemoryManager *m;
    setenv("ILG_HOSTMEM_FAULTS", "nth=2", 1);
    ck_assert_int_eq(ilg_hostmem_create(NULL, &m), ILG_OK);
    IHostMalloc *h;
    ck_assert_int_eq(m->lpVtbl->CreateMalloc(m, 0, &h), S_OK);
    void *p, *q;
    ck_assert_int_eq(h->lpVtbl->Alloc(h, 8, eTaskCritical, &p), S_OK);
    ck_assert_int_eq(h->lpVtbl->Alloc(h, 8, eTaskCritical, &q), E_OUTOFMEMORY);
    h->lpVtbl->Release(h);
    m->lpVtbl->Release(m);
    setenv("ILG_HOSTMEM_FAULTS", "nth=x", 1);
    ck_assert_int_eq(ilg_hostmem_create(NULL, &m), ILG_E_INVALID_ARG);
    ck_assert_msg(strstr(ilg_last_diag()->message, "ILG_HOSTMEM_FAULTS"), "%s", ilg_last_diag()->message);
    unsetenv("ILG_HOSTMEM_FAULTS");
}
END_TEST

/* ---- Executable heaps --------------------------------------------------------------- */

typedef int (*int_fn)(void);

/* A function returning 42, in machine code for this CPU. */
static size_t return_42(uint8_t *out)
{
#if defined(__x86_64__) || defined(__i386__)
    static const uint8_t code[] = { 0xB8, 0x2A, 0x00, 0x00, 0x00, 0xC3 }; /* mov eax, 42; ret */
    memcpy(out, code, sizeof code);
    return sizeof code;
#elif defined(__aarch64__)
    static const uint32_t code[] = { 0x52800540, 0xD65F03C0 }; /* mov w0, #42; ret */
    memcpy(out, code, sizeof code);
    return sizeof code;
#else
    (void)out;
    return 0;
#endif
}

static void run_code_in(IHostMalloc *h, bool expect_dual)
{
    void *x, *w;
    uint8_t buf[16];
    size_t n = return_42(buf);
    if (!n)
        return; /* no machine code for this CPU */
    ck_assert_int_eq(h->lpVtbl->Alloc(h, 64, eTaskCritical, &x), S_OK);
    ck_assert_int_eq(ilg_hostmalloc_code_alias(h, x, &w), ILG_OK);
    ilg_hostmalloc_stats st;
    ck_assert_int_eq(ilg_hostmalloc_stats_get(h, &st), ILG_OK);
    ck_assert(st.dual_mapped == expect_dual);
    char px[5], pw[5];
    fx_maps_prot((uintptr_t)x, px, NULL, NULL);
    fx_maps_prot((uintptr_t)w, pw, NULL, NULL);
    if (expect_dual) {
        ck_assert_ptr_ne(x, w);
        ck_assert_str_eq(px, "r-xs"); /* never writable and executable at once */
        ck_assert_str_eq(pw, "rw-s");
    } else {
        ck_assert_ptr_eq(x, w);
        ck_assert_str_eq(px, "rwxp");
    }
    memcpy(w, buf, n);
    __builtin___clear_cache((char *)x, (char *)x + n);
    int_fn f;
    memcpy(&f, &x, sizeof f);
    ck_assert_int_eq(f(), 42);
    /* A large block gets its own mapping and runs too. */
    void *big, *bigw;
    ck_assert_int_eq(h->lpVtbl->Alloc(h, 3 * page, eTaskCritical, &big), S_OK);
    ck_assert_int_eq(ilg_hostmalloc_code_alias(h, big, &bigw), ILG_OK);
    memcpy((uint8_t *)bigw + 2 * page, buf, n);
    __builtin___clear_cache((char *)big + 2 * page, (char *)big + 2 * page + n);
    void *entry = (uint8_t *)big + 2 * page;
    memcpy(&f, &entry, sizeof f);
    ck_assert_int_eq(f(), 42);
    ck_assert_int_eq(h->lpVtbl->Free(h, big), S_OK);
    ck_assert_int_eq(h->lpVtbl->Free(h, x), S_OK);
    /* Freed small blocks are reused for the same size class. */
    void *again;
    ck_assert_int_eq(h->lpVtbl->Alloc(h, 60, eTaskCritical, &again), S_OK);
    ck_assert_ptr_eq(again, x);
}

START_TEST(executable_heap_runs_code)
{
    IHostMalloc *h = new_heap(MALLOC_THREADSAFE | MALLOC_EXECUTABLE);
    run_code_in(h, false);
    void *data;
    IHostMalloc *plain = new_heap(MALLOC_THREADSAFE);
    ck_assert_int_eq(plain->lpVtbl->Alloc(plain, 8, eTaskCritical, &data), S_OK);
    ck_assert_int_eq(ilg_hostmalloc_code_alias(plain, data, &data), ILG_E_INVALID_ARG);
    plain->lpVtbl->Release(plain);
    h->lpVtbl->Release(h);
}
END_TEST

START_TEST(strict_wx_heap_runs_code_through_an_alias)
{
    IHostMemoryManager *m;
    ilg_hostmem_options o = { .strict_wx = true };
    ck_assert_int_eq(ilg_hostmem_create(&o, &m), ILG_OK);
    IHostMalloc *h;
    ck_assert_int_eq(m->lpVtbl->CreateMalloc(m, MALLOC_EXECUTABLE, &h), S_OK);
    run_code_in(h, true);
    h->lpVtbl->Release(h);
    m->lpVtbl->Release(m);
}
END_TEST

/* ---- Threads ------------------------------------------------------------------------ */

static void *churn(void *arg)
{
    IHostMalloc *h = arg;
    void *keep[64] = { 0 };
    for (int i = 0; i < 100000; i++) {
        int k = i % 64;
        if (keep[k] && h->lpVtbl->Free(h, keep[k]) != S_OK)
            return (void *)1;
        if (h->lpVtbl->DebugAlloc(h, (size_t)(k + 1), eTaskCritical, __FILE__, k, &keep[k]) != S_OK)
            return (void *)1;
        memset(keep[k], k, (size_t)(k + 1));
    }
    return NULL; /* 64 blocks stay live per thread */
}

START_TEST(threadsafe_heap_under_two_threads)
{
    IHostMalloc *h = new_heap(MALLOC_THREADSAFE);
    pthread_t t[2];
    void *rc[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, churn, h);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], &rc[i]);
    ck_assert_ptr_null(rc[0]);
    ck_assert_ptr_null(rc[1]);
    ilg_hostmalloc_stats st;
    ck_assert_int_eq(ilg_hostmalloc_stats_get(h, &st), ILG_OK);
    ck_assert_uint_eq(st.total_allocs, 200000);
    ck_assert_uint_eq(st.total_frees, 200000 - 128);
    ck_assert_uint_eq(st.live_count, 128);
    ck_assert_uint_eq(st.live_bytes, 2 * (64 * 65 / 2));
    ck_assert_uint_eq(st.bad_frees, 0);
    ilg_leak_report *r;
    ck_assert_int_eq(ilg_hostmalloc_leaks(h, &r), ILG_OK);
    ck_assert_uint_eq(r->site_count, 64);
    ck_assert_uint_eq(r->sites[0].bytes, 2 * 64);
    ck_assert_int_eq(r->sites[0].line, 63);
    ilg_leak_report_free(r);
    h->lpVtbl->Release(h);
}
END_TEST

/* ---- Virtual memory ----------------------------------------------------------------- */

static MEMORY_BASIC_INFORMATION query(void *p)
{
    MEMORY_BASIC_INFORMATION mbi;
    SIZE_T got = 0;
    ck_assert_int_eq(mgr->lpVtbl->VirtualQuery(mgr, p, &mbi, sizeof mbi, &got), S_OK);
    ck_assert_uint_eq(got, sizeof mbi);
    return mbi;
}

START_TEST(virtual_alloc_commit_protect_free)
{
    void *r;
    const size_t size = 64 * page;
    ck_assert_int_eq(mgr->lpVtbl->VirtualAlloc(mgr, NULL, size, MEM_RESERVE, PAGE_READWRITE,
                                               eTaskCritical, &r), S_OK);
    char prot[5];
    fx_maps_prot((uintptr_t)r, prot, NULL, NULL);
    ck_assert_str_eq(prot, "---p");
    MEMORY_BASIC_INFORMATION m = query(r);
    ck_assert_uint_eq(m.State, MEM_RESERVE);
    ck_assert_ptr_eq(m.AllocationBase, r);
    ck_assert_uint_eq(m.AllocationProtect, PAGE_READWRITE);
    ck_assert_uint_eq(m.RegionSize, size);
    ck_assert_uint_eq(m.Type, MEM_PRIVATE);

    uint8_t *c;
    ck_assert_int_eq(mgr->lpVtbl->VirtualAlloc(mgr, (uint8_t *)r + page + 10, 2 * page - 10, MEM_COMMIT,
                                               PAGE_READWRITE, eTaskCritical, (void **)&c), S_OK);
    ck_assert_ptr_eq(c, (uint8_t *)r + page);
    memset(c, 0x77, 2 * page);
    fx_maps_prot((uintptr_t)c, prot, NULL, NULL);
    ck_assert_str_eq(prot, "rw-p");
    m = query(c + 5);
    ck_assert_ptr_eq(m.BaseAddress, c);
    ck_assert_uint_eq(m.State, MEM_COMMIT);
    ck_assert_uint_eq(m.Protect, PAGE_READWRITE);
    ck_assert_uint_eq(m.RegionSize, 2 * page);
    ck_assert_uint_eq(query(c + 2 * page).State, MEM_RESERVE);

    DWORD old = 0;
    ck_assert_int_eq(mgr->lpVtbl->VirtualProtect(mgr, c, page, PAGE_READONLY, &old), S_OK);
    ck_assert_uint_eq(old, PAGE_READWRITE);
    fx_maps_prot((uintptr_t)c, prot, NULL, NULL);
    ck_assert_str_eq(prot, "r--p");
    ck_assert_uint_eq(query(c).Protect, PAGE_READONLY);
    ck_assert_uint_eq(c[100], 0x77);
    ck_assert_int_eq(mgr->lpVtbl->VirtualProtect(mgr, c, page, PAGE_READONLY, NULL), E_INVALIDARG);

    ck_assert_int_eq(mgr->lpVtbl->VirtualFree(mgr, c, 2 * page, MEM_DECOMMIT), S_OK);
    ck_assert_uint_eq(query(c).State, MEM_RESERVE);
    /* Committed again, the pages read as zero, as on Windows. */
    ck_assert_int_eq(mgr->lpVtbl->VirtualAlloc(mgr, c, page, MEM_COMMIT, PAGE_READWRITE, eTaskCritical,
                                               (void **)&c), S_OK);
    ck_assert_uint_eq(c[100], 0);

    ilg_hostmem_stats st;
    ck_assert_int_eq(ilg_hostmem_stats_get(mgr, &st), ILG_OK);
    ck_assert_uint_eq(st.reservations, 1);
    ck_assert_uint_eq(st.reserved_bytes, size);

    /* Win32 rules: release needs the base and size 0; foreign memory is refused. */
    ck_assert_int_eq(mgr->lpVtbl->VirtualFree(mgr, r, size, MEM_RELEASE), E_INVALIDARG);
    ck_assert_int_eq(mgr->lpVtbl->VirtualFree(mgr, c, 0, MEM_RELEASE), E_INVALIDARG);
    int local;
    ck_assert_int_eq(mgr->lpVtbl->VirtualFree(mgr, &local, 0, MEM_RELEASE), HOST_E_INVALIDOPERATION);
    ck_assert_int_eq(mgr->lpVtbl->VirtualFree(mgr, r, 0, 0x1234), E_INVALIDARG);
    void *clash;
    ck_assert_int_eq(mgr->lpVtbl->VirtualAlloc(mgr, r, page, MEM_RESERVE, PAGE_READWRITE, eTaskCritical,
                                               &clash), E_OUTOFMEMORY);
    ck_assert_ptr_null(clash);
    ck_assert_int_eq(mgr->lpVtbl->VirtualAlloc(mgr, &local, page, MEM_COMMIT, PAGE_READWRITE,
                                               eTaskCritical, &clash), E_INVALIDARG);
    ck_assert_int_eq(mgr->lpVtbl->VirtualAlloc(mgr, NULL, page, MEM_RESERVE, 0x3, eTaskCritical, &clash),
                     E_INVALIDARG);
    ck_assert_int_eq(mgr->lpVtbl->VirtualAlloc(mgr, NULL, 0, MEM_RESERVE, PAGE_READWRITE, eTaskCritical,
                                               &clash), E_INVALIDARG);
    ck_assert_int_eq(mgr->lpVtbl->VirtualFree(mgr, r, 0, MEM_RELEASE), S_OK);
    fx_maps_prot((uintptr_t)r, prot, NULL, NULL);
    ck_assert_msg(prot[0] == 0 || strcmp(prot, "---p") != 0, "still reserved: %s", prot);
    ck_assert_int_eq(ilg_hostmem_stats_get(mgr, &st), ILG_OK);
    ck_assert_uint_eq(st.reservations, 0);

    /* Reserve-and-commit in one call, then let the manager's release unmap it. */
    void *rc;
    ck_assert_int_eq(mgr->lpVtbl->VirtualAlloc(mgr, NULL, 3 * page, MEM_RESERVE | MEM_COMMIT,
                                               PAGE_EXECUTE_READ, eTaskCritical, &rc), S_OK);
    fx_maps_prot((uintptr_t)rc, prot, NULL, NULL);
    ck_assert_str_eq(prot, "r-xp");
    ck_assert_uint_eq(query(rc).Protect, PAGE_EXECUTE_READ);

    MEMORY_BASIC_INFORMATION small;
    SIZE_T got;
    ck_assert_int_eq(mgr->lpVtbl->VirtualQuery(mgr, rc, &small, sizeof small - 1, &got), E_INVALIDARG);
}
END_TEST

START_TEST(memory_load_matches_the_kernel)
{
    DWORD load;
    SIZE_T avail;
    struct sysinfo si;
    ck_assert_int_eq(mgr->lpVtbl->GetMemoryLoad(mgr, &load, &avail), S_OK);
    ck_assert_int_eq(sysinfo(&si), 0);
    const uint64_t total = (uint64_t)si.totalram * si.mem_unit;
    ck_assert_uint_le(load, 100);
    ck_assert_uint_le(avail, total);
    /* MemAvailable is at least the free RAM the kernel reports, give or take churn. */
    ck_assert_uint_ge(avail + total / 20, (uint64_t)si.freeram * si.mem_unit);
    uint64_t expect = (total - avail) * 100 / total;
    ck_assert_uint_le(load > expect ? load - expect : expect - load, 5);
    ck_assert_int_eq(mgr->lpVtbl->GetMemoryLoad(mgr, NULL, &avail), E_INVALIDARG);
}
END_TEST

typedef struct test_callback {
    ICLRMemoryNotificationCallback iface;
    atomic_uint refs;
    int calls;
    EMemoryAvailable last;
} test_callback;

static HRESULT cb_qi(ICLRMemoryNotificationCallback *This, REFIID riid, void **ppv)
{
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG cb_addref(ICLRMemoryNotificationCallback *This)
{
    return atomic_fetch_add(&((test_callback *)This)->refs, 1) + 1;
}
static ULONG cb_release(ICLRMemoryNotificationCallback *This)
{
    return atomic_fetch_sub(&((test_callback *)This)->refs, 1) - 1;
}
static HRESULT cb_notify(ICLRMemoryNotificationCallback *This, EMemoryAvailable level)
{
    test_callback *c = (test_callback *)This;
    c->calls++;
    c->last = level;
    return S_OK;
}
static const ICLRMemoryNotificationCallbackVtbl cb_vtbl = { cb_qi, cb_addref, cb_release, cb_notify };

START_TEST(memory_notifications_and_address_space_budget)
{
    test_callback cb = { { &cb_vtbl }, 1, 0, 0 };
    ck_assert_int_eq(mgr->lpVtbl->RegisterMemoryNotificationCallback(mgr, &cb.iface), S_OK);
    ck_assert_uint_eq(atomic_load(&cb.refs), 2);
    EMemoryAvailable level;
    ck_assert_int_eq(ilg_hostmem_check_memory(mgr, &level), ILG_OK);
    ck_assert_int_eq(cb.calls, 1);
    ck_assert_int_eq(cb.last, level);
    DWORD load;
    SIZE_T avail;
    ck_assert_int_eq(mgr->lpVtbl->GetMemoryLoad(mgr, &load, &avail), S_OK);
    if (load <= 55)
        ck_assert_int_eq(level, eMemoryAvailableHigh);
    else if (load >= 95)
        ck_assert_int_eq(level, eMemoryAvailableLow);
    ck_assert_int_eq(ilg_hostmem_check_memory(mgr, NULL), ILG_OK);
    ck_assert_int_le(cb.calls, 2); /* only when the level changes */
    ck_assert_int_eq(mgr->lpVtbl->RegisterMemoryNotificationCallback(mgr, NULL), S_OK);
    ck_assert_uint_eq(atomic_load(&cb.refs), 1);

    IHostMemoryManager *m;
    ilg_hostmem_options o = { .address_space_budget = 1 << 20 };
    ck_assert_int_eq(ilg_hostmem_create(&o, &m), ILG_OK);
    void *a = (void *)(uintptr_t)0x10000000, *b = (void *)(uintptr_t)0x20000000;
    ck_assert_int_eq(m->lpVtbl->NeedsVirtualAddressSpace(m, a, 768 << 10), S_OK);
    ck_assert_int_eq(m->lpVtbl->AcquiredVirtualAddressSpace(m, a, 768 << 10), S_OK);
    ck_assert_int_eq(m->lpVtbl->NeedsVirtualAddressSpace(m, b, 512 << 10), E_OUTOFMEMORY);
    ck_assert_int_eq(m->lpVtbl->NeedsVirtualAddressSpace(m, b, 256 << 10), S_OK);
    ilg_hostmem_stats st;
    ck_assert_int_eq(ilg_hostmem_stats_get(m, &st), ILG_OK);
    ck_assert_uint_eq(st.acquired_bytes, 768 << 10);
    ck_assert_int_eq(m->lpVtbl->ReleasedVirtualAddressSpace(m, b), HOST_E_INVALIDOPERATION);
    ck_assert_int_eq(m->lpVtbl->ReleasedVirtualAddressSpace(m, a), S_OK);
    ck_assert_int_eq(m->lpVtbl->NeedsVirtualAddressSpace(m, b, 1 << 20), S_OK);
    ck_assert_int_eq(ilg_hostmem_stats_get(m, &st), ILG_OK);
    ck_assert_uint_eq(st.acquired_bytes, 0);
    m->lpVtbl->Release(m);
}
END_TEST

static Suite *hostmem_suite(void)
{
    Suite *s = suite_create("hostmem");
    TCase *heap = tcase_create("heap");
    tcase_add_checked_fixture(heap, setup_mgr, teardown_mgr);
    tcase_add_test(heap, com_identity_and_reference_counts);
    tcase_add_test(heap, alloc_free_and_bad_frees);
    tcase_add_test(heap, leak_report_groups_live_allocations_by_site);
    tcase_add_test(heap, fault_policy_fails_the_nth_and_a_site);
    tcase_add_test(heap, fault_policy_from_the_environment);
    tcase_add_test(heap, executable_heap_runs_code);
    tcase_add_test(heap, strict_wx_heap_runs_code_through_an_alias);
    tcase_add_test(heap, threadsafe_heap_under_two_threads);
    suite_add_tcase(s, heap);

    TCase *vm = tcase_create("virtual");
    tcase_add_checked_fixture(vm, setup_mgr, teardown_mgr);
    tcase_add_test(vm, virtual_alloc_commit_protect_free);
    tcase_add_test(vm, memory_load_matches_the_kernel);
    tcase_add_test(vm, memory_notifications_and_address_space_budget);
    suite_add_tcase(s, vm);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hostmem_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
