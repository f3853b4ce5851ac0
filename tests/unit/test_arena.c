/* test_arena.c: the graft arena against independent truth: SizeOfImage read straight
 * from the file bytes (where the first body must land), /proc/self/maps (what is
 * mapped and with which protection), the system loader's own placement of a dlopen'd
 * ELF (dl_iterate_phdr), the IMethodMalloc IID as printed in corprof.idl, and the
 * allocations themselves (written, sorted and checked for overlap). */
#include <check.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arena_private.h"
#include "ilgraft/arena.h"
#include "ilgraft/loader.h"
#include "unit/fixture_util.h"

static const char *const mscorlib = "/usr/lib/mono/4.5/mscorlib.dll";
static char calc[4096];
static ilg_image *img;
static ilg_arena *arena;
static size_t page;

static void setup_calc(void)
{
    page = (size_t)sysconf(_SC_PAGESIZE);
    fx_path(calc, sizeof calc, "calc.exe");
    ck_assert_int_eq(ilg_image_open(calc, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_arena(img, &arena), ILG_OK);
}

static void teardown_image(void)
{
    ilg_image_close(img);
    img = NULL;
    arena = NULL;
}

static void setup_page(void)
{
    page = (size_t)sysconf(_SC_PAGESIZE);
    fx_path(calc, sizeof calc, "calc.exe");
}

/* SizeOfImage from the PE optional header, read from the file without the loader. */
static uint64_t file_size_of_image(const char *path)
{
    size_t len;
    char *f = fx_read_file(path, &len);
    ck_assert_msg(f != NULL, "cannot read %s", path);
    ck_assert(len > 0x40);
    uint32_t lfanew;
    memcpy(&lfanew, f + 0x3C, 4);
    ck_assert(lfanew + 24 + 60 <= len);
    uint32_t size;
    memcpy(&size, f + lfanew + 24 + 56, 4); /* same offset in PE32 and PE32+ */
    free(f);
    return size;
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

static void check_first_alloc_at_span(const char *path)
{
    ilg_image *im;
    ilg_arena *a;
    ilg_image_info in;
    void *p;
    uint32_t rva;
    ck_assert_int_eq(ilg_image_open(path, NULL, &im), ILG_OK);
    ck_assert_int_eq(ilg_image_get_info(im, &in), ILG_OK);
    ck_assert_int_eq(ilg_image_arena(im, &a), ILG_OK);
    const uint64_t span = align_up(file_size_of_image(path), page);
    ck_assert_int_eq(ilg_arena_alloc(a, 12, &p, &rva), ILG_OK);
    ck_assert_uint_eq(rva, span);
    ck_assert_uint_eq(rva, in.arena_offset);
    ck_assert_ptr_eq(p, in.base + span);
    ilg_arena_stats st;
    ck_assert_int_eq(ilg_arena_stats_get(a, &st), ILG_OK);
    ck_assert_uint_eq(st.start, span);
    ck_assert_ptr_eq(st.base, in.base);
    ilg_image_close(im);
}

START_TEST(first_allocation_is_at_the_page_aligned_size_of_image)
{
    check_first_alloc_at_span(calc);
    if (fx_require(access(mscorlib, R_OK) == 0, "Mono's %s not found", mscorlib))
        check_first_alloc_at_span(mscorlib);
}
END_TEST

/* True when the kernel takes MADV_POPULATE_WRITE (Linux 5.14). */
static bool kernel_populates(void)
{
    void *m = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(m != MAP_FAILED);
    bool ok = madvise(m, page, 23 /* MADV_POPULATE_WRITE */) == 0;
    munmap(m, page);
    return ok;
}

/* A commit faults pages in with one call, but only as many as the arena had committed
 * before (at least 64 KiB): after the first small allocation the first 64 KiB of the
 * 256 KiB chunk are resident and the rest is not. */
START_TEST(first_commit_populates_64_kib_of_its_chunk)
{
    if (!kernel_populates()) {
        printf("SKIP first_commit_populates_64_kib_of_its_chunk: the kernel refuses MADV_POPULATE_WRITE\n");
        return;
    }
    ilg_image_info in;
    ck_assert_int_eq(ilg_image_get_info(img, &in), ILG_OK);
    void *p;
    ck_assert_int_eq(ilg_arena_alloc(arena, 64, &p, NULL), ILG_OK);
    ilg_arena_stats st;
    ck_assert_int_eq(ilg_arena_stats_get(arena, &st), ILG_OK);
    ck_assert_uint_eq(st.committed, ILG_ARENA_DEFAULT_CHUNK);
    const size_t pages = ILG_ARENA_DEFAULT_CHUNK / page, populated = (64u << 10) / page;
    unsigned char *vec = calloc(pages, 1);
    ck_assert_ptr_nonnull(vec);
    ck_assert_int_eq(mincore(in.base + in.arena_offset, ILG_ARENA_DEFAULT_CHUNK, vec), 0);
    for (size_t i = 0; i < pages; i++)
        ck_assert_msg((vec[i] & 1) == (i < populated), "arena page %zu is %sresident", i,
                      vec[i] & 1 ? "" : "not ");
    free(vec);
}
END_TEST

START_TEST(offsets_are_positive_contiguous_and_usable)
{
    ilg_image_info in;
    ck_assert_int_eq(ilg_image_get_info(img, &in), ILG_OK);
    uint64_t expect = in.arena_offset;
    enum { N = 5000 };
    static uint8_t *ptrs[N];
    static uint32_t rvas[N], sizes[N];
    for (int i = 0; i < N; i++) {
        void *p;
        sizes[i] = 1 + (uint32_t)(i * 7919) % 300;
        ck_assert_int_eq(ilg_arena_alloc(arena, sizes[i], &p, &rvas[i]), ILG_OK);
        ck_assert_uint_gt(rvas[i], 0);
        ck_assert_uint_eq(rvas[i], align_up(expect, ILG_ARENA_DEFAULT_ALIGN));
        ck_assert_uint_le((uint64_t)rvas[i] + sizes[i], ILG_METHOD_MAX_RVA);
        ck_assert_ptr_eq(p, in.base + rvas[i]);
        uint32_t back;
        ck_assert_int_eq(ilg_arena_rva(arena, p, &back), ILG_OK);
        ck_assert_uint_eq(back, rvas[i]);
        ptrs[i] = p;
        memset(p, i & 0xFF, sizes[i]);
        expect = (uint64_t)rvas[i] + sizes[i];
    }
    /* Every byte kept its value: nothing overlapped. Fresh memory reads as zero. */
    for (int i = 0; i < N; i++)
        for (uint32_t k = 0; k < sizes[i]; k++)
            ck_assert_uint_eq(ptrs[i][k], (unsigned)(i & 0xFF));
    void *p;
    uint32_t rva;
    ck_assert_int_eq(ilg_arena_alloc_aligned(arena, 8, 4096, &p, &rva), ILG_OK);
    ck_assert_uint_eq(rva % 4096, 0);
    ck_assert_uint_eq(rva, align_up(expect, 4096));
    for (int k = 0; k < 8; k++)
        ck_assert_uint_eq(((uint8_t *)p)[k], 0);
    ck_assert_int_eq(ilg_arena_alloc_aligned(arena, 8, 3, &p, &rva), ILG_E_INVALID_ARG);
    ck_assert_int_eq(ilg_arena_rva(arena, in.base, &rva), ILG_E_RANGE);

    ilg_arena_stats st;
    ck_assert_int_eq(ilg_arena_stats_get(arena, &st), ILG_OK);
    ck_assert_uint_eq(st.allocations, N + 1);
    ck_assert_uint_eq(st.high_water, align_up(expect, 4096) + 8);
    ck_assert_uint_eq(st.bytes_used, st.high_water - st.start);
    ck_assert_uint_ge(st.committed, st.bytes_used);
    ck_assert_uint_eq(st.committed % page, 0);
    ck_assert_uint_eq(st.alignment, 4);
    ck_assert(!st.attached);
}
END_TEST

START_TEST(uncommitted_arena_and_guard_stay_inaccessible)
{
    ilg_image_info in;
    char prot[5];
    void *p;
    ck_assert_int_eq(ilg_image_get_info(img, &in), ILG_OK);
    uint8_t *start = in.base + in.arena_offset;
    fx_maps_prot((uintptr_t)start, prot, NULL, NULL);
    ck_assert_str_eq(prot, "---p");
    ck_assert_int_eq(ilg_arena_alloc(arena, 100, &p, NULL), ILG_OK);
    fx_maps_prot((uintptr_t)start, prot, NULL, NULL);
    ck_assert_str_eq(prot, "rw-p");
    ilg_arena_stats st;
    ck_assert_int_eq(ilg_arena_stats_get(arena, &st), ILG_OK);
    fx_maps_prot((uintptr_t)(start + st.committed), prot, NULL, NULL);
    ck_assert_str_eq(prot, "---p");
    fx_maps_prot((uintptr_t)(in.base + in.arena_offset + in.arena_size), prot, NULL, NULL);
    ck_assert_str_eq(prot, "---p");
}
END_TEST

START_TEST(exhaustion_at_a_small_limit_is_exact)
{
    ilg_arena_options o = { .limit = 1010 };
    void *p;
    uint32_t rva, first = 0;
    ck_assert_int_eq(ilg_arena_configure(arena, &o), ILG_OK);
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(ilg_arena_alloc(arena, 100, &p, &rva), ILG_OK);
        if (i == 0)
            first = rva;
        memset(p, 0xAB, 100);
    }
    ck_assert_int_eq(ilg_arena_alloc(arena, 100, &p, &rva), ILG_E_ARENA_EXHAUSTED);
    const ilg_diag *d = ilg_last_diag();
    ck_assert_int_eq(d->status, ILG_E_ARENA_EXHAUSTED);
    ck_assert_int_eq(d->where, ILG_WHERE_RVA);
    ck_assert_uint_eq(d->offset, first + 1000);
    ck_assert_msg(strstr(d->message, "100 bytes") && strstr(d->message, "limit"), "%s", d->message);
    /* Smaller requests still fit; the one that ends exactly at the limit too. */
    ck_assert_int_eq(ilg_arena_alloc(arena, 8, &p, &rva), ILG_OK);
    ck_assert_uint_eq(rva, first + 1000);
    ck_assert_int_eq(ilg_arena_alloc(arena, 2, &p, &rva), ILG_OK);
    ck_assert_uint_eq(rva + 2, first + 1010);
    ck_assert_int_eq(ilg_arena_alloc(arena, 1, &p, &rva), ILG_E_ARENA_EXHAUSTED);

    IMethodMalloc *mm;
    ck_assert_int_eq(ilg_arena_method_malloc(arena, &mm), ILG_OK);
    ck_assert_ptr_null(mm->lpVtbl->Alloc(mm, 1));
    ck_assert_int_eq(ilg_last_diag()->status, ILG_E_ARENA_EXHAUSTED);
    mm->lpVtbl->Release(mm);

    ilg_arena_stats st;
    ck_assert_int_eq(ilg_arena_stats_get(arena, &st), ILG_OK);
    ck_assert_uint_eq(st.allocations, 12);
    ck_assert_uint_eq(st.failures, 3);
    ck_assert_uint_eq(st.end, first + 1010);
    ck_assert_uint_eq(st.high_water, first + 1010);
    ck_assert_uint_eq(st.committed, page); /* the limit's page and no more */

    /* Configuration is for before the first allocation only. */
    ck_assert_int_eq(ilg_arena_configure(arena, &o), ILG_E_INVALID_ARG);
}
END_TEST

START_TEST(a_one_page_image_arena_exhausts_at_its_reservation)
{
    ilg_image *im;
    ilg_arena *a;
    ilg_image_options o = { .arena_size = 1 };
    ck_assert_int_eq(ilg_image_open(calc, &o, &im), ILG_OK);
    ck_assert_int_eq(ilg_image_arena(im, &a), ILG_OK);
    ilg_image_info in;
    ck_assert_int_eq(ilg_image_get_info(im, &in), ILG_OK);
    ck_assert_uint_eq(in.arena_size, page);
    void *p;
    uint32_t rva;
    for (size_t i = 0; i < page / 64; i++) {
        ck_assert_int_eq(ilg_arena_alloc(a, 64, &p, &rva), ILG_OK);
        memset(p, 1, 64);
    }
    ck_assert_uint_eq(rva + 64, in.arena_offset + page);
    ck_assert_int_eq(ilg_arena_alloc(a, 4, &p, &rva), ILG_E_ARENA_EXHAUSTED);
    char prot[5];
    fx_maps_prot((uintptr_t)(in.base + in.arena_offset + page), prot, NULL, NULL);
    ck_assert_str_eq(prot, "---p");
    ilg_image_close(im);
}
END_TEST

/* An arena whose offsets sit just below the RVA limit, over 1 MiB we reserve: the
 * base is a number 2 GiB below our mapping and never dereferenced. */
START_TEST(exhaustion_at_the_rva_limit)
{
    const uint64_t size = 1 << 20, start = 0x80000000u - size;
    uint8_t *m = mmap(NULL, size + page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ck_assert(m != MAP_FAILED);
    if ((uintptr_t)m < start) {
        munmap(m, size + page);
        return; /* mapped too low to fake a base below it (not seen on x86-64 Linux) */
    }
    uint8_t *base = (uint8_t *)((uintptr_t)m - start);
    ilg_arena *a;
    ck_assert_int_eq(ilg__arena_create(base, start, size, &a), ILG_OK);
    ilg_arena_stats st;
    ck_assert_int_eq(ilg_arena_stats_get(a, &st), ILG_OK);
    ck_assert_uint_eq(st.start, 0x7FF00000u);
    ck_assert_uint_eq(st.end, ILG_METHOD_MAX_RVA);
    void *p;
    uint32_t rva, last = 0;
    for (int i = 0; i < 15; i++) {
        ck_assert_int_eq(ilg_arena_alloc(a, 0x10000, &p, &rva), ILG_OK);
        ck_assert_ptr_eq(p, m + (rva - start));
        memset(p, 7, 0x10000);
        last = rva;
    }
    ck_assert_uint_eq(last, 0x7FFE0000u);
    /* 0x10000 more would end at 0x80000000: past METHOD_MAX_RVA. */
    ck_assert_int_eq(ilg_arena_alloc(a, 0x10000, &p, &rva), ILG_E_ARENA_EXHAUSTED);
    ck_assert_int_eq(ilg_last_diag()->where, ILG_WHERE_RVA);
    ck_assert_int_eq(ilg_arena_alloc(a, 0xFFFC, &p, &rva), ILG_OK);
    ck_assert_uint_eq(rva, 0x7FFF0000u);
    ck_assert_int_eq(ilg_arena_alloc(a, 3, &p, &rva), ILG_OK);
    ck_assert_uint_eq(rva + 3, ILG_METHOD_MAX_RVA);
    memset(p, 9, 3);
    ck_assert_int_eq(ilg_arena_alloc(a, 1, &p, &rva), ILG_E_ARENA_EXHAUSTED);
    ck_assert_int_eq(ilg_arena_stats_get(a, &st), ILG_OK);
    ck_assert_uint_eq(st.high_water, ILG_METHOD_MAX_RVA);
    ck_assert_uint_eq(st.committed, size); /* the page holding 0x7FFFFFFF, not beyond */
    char prot[5];
    fx_maps_prot((uintptr_t)(m + size), prot, NULL, NULL);
    ck_assert_str_eq(prot, "---p");
    ilg__arena_destroy(a);
    munmap(m, size + page);

    /* A reservation reaching past the limit is clamped to it. */
    m = mmap(NULL, 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ck_assert(m != MAP_FAILED);
    base = (uint8_t *)((uintptr_t)m - start);
    ck_assert_int_eq(ilg__arena_create(base, start, 2 * size, &a), ILG_OK);
    ck_assert_int_eq(ilg_arena_stats_get(a, &st), ILG_OK);
    ck_assert_uint_eq(st.end, ILG_METHOD_MAX_RVA);
    ck_assert_int_eq(ilg_arena_alloc(a, size, &p, &rva), ILG_E_ARENA_EXHAUSTED);
    ilg__arena_destroy(a);
    munmap(m, 2 * size);
}
END_TEST

/* ---- Two threads ------------------------------------------------------------------ */

enum { STRESS_PER_THREAD = 5000000 };

typedef struct stress {
    ilg_arena *arena;
    uint64_t *rec;  /* rva << 32 | size, one per allocation */
    int id;
    int failed;
} stress;

static void *stress_run(void *arg)
{
    stress *s = arg;
    for (uint32_t i = 0; i < STRESS_PER_THREAD; i++) {
        void *p;
        uint32_t rva, size = 1 + (i * 2654435761u >> 28); /* 1..16 */
        if (ilg_arena_alloc(s->arena, size, &p, &rva) != ILG_OK) {
            s->failed = 1;
            return NULL;
        }
        /* Each allocation's first byte names its thread, the rest its index. */
        memset(p, (int)i, size);
        ((uint8_t *)p)[0] = (uint8_t)s->id;
        s->rec[i] = (uint64_t)rva << 32 | size;
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

START_TEST(two_threads_ten_million_allocations_never_overlap)
{
    ilg_image *im;
    ilg_arena *a;
    ilg_image_options o = { .arena_size = (uint64_t)512 << 20 };
    ck_assert_int_eq(ilg_image_open(calc, &o, &im), ILG_OK);
    ck_assert_int_eq(ilg_image_arena(im, &a), ILG_OK);
    ilg_image_info in;
    ck_assert_int_eq(ilg_image_get_info(im, &in), ILG_OK);

    uint64_t *all = malloc(2 * (size_t)STRESS_PER_THREAD * sizeof *all);
    ck_assert(all != NULL);
    stress s[2] = { { a, all, 1, 0 }, { a, all + STRESS_PER_THREAD, 2, 0 } };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, stress_run, &s[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ck_assert(!s[0].failed && !s[1].failed);

    /* Each record's first byte still names the thread that made it. */
    for (int th = 0; th < 2; th++)
        for (size_t i = 0; i < STRESS_PER_THREAD; i += 97)
            ck_assert_uint_eq(in.base[s[th].rec[i] >> 32], (unsigned)(th + 1));

    const size_t n = 2 * (size_t)STRESS_PER_THREAD;
    qsort(all, n, sizeof *all, cmp_u64);
    uint64_t prev_end = in.arena_offset;
    for (size_t i = 0; i < n; i++) {
        uint64_t rva = all[i] >> 32, size = all[i] & 0xFFFFFFFFu;
        ck_assert_msg(rva >= prev_end, "allocation %zu at RVA 0x%" PRIx64 " overlaps one ending at 0x%" PRIx64,
                      i, rva, prev_end);
        ck_assert_uint_eq(rva % ILG_ARENA_DEFAULT_ALIGN, 0);
        prev_end = rva + size;
    }
    ck_assert_uint_eq(all[0] >> 32, in.arena_offset);
    ilg_arena_stats st;
    ck_assert_int_eq(ilg_arena_stats_get(a, &st), ILG_OK);
    ck_assert_uint_eq(st.allocations, n);
    ck_assert_uint_eq(st.high_water, prev_end);
    ck_assert_uint_le(st.bytes_used, prev_end - in.arena_offset);
    free(all);
    ilg_image_close(im);
}
END_TEST

/* ---- COM -------------------------------------------------------------------------- */

START_TEST(method_malloc_is_real_com)
{
    char text[ILG_GUID_TEXT_SIZE];
    /* As corprof.idl prints them. */
    ck_assert_str_eq(ilg_guid_format(&IID_IMethodMalloc, text), "A0EFB28B-6EE2-4D7B-B983-A75EF7BEEDB8");
    ck_assert_str_eq(ilg_guid_format(&IID_IUnknown, text), "00000000-0000-0000-C000-000000000046");
    ck_assert(!IsEqualGUID(&IID_IMethodMalloc, &IID_IUnknown));

    IMethodMalloc *mm, *again;
    ck_assert_int_eq(ilg_arena_method_malloc(arena, &mm), ILG_OK);
    ck_assert_int_eq(ilg_arena_method_malloc(arena, &again), ILG_OK);
    ck_assert_ptr_eq(mm, again); /* one object per module */
    ck_assert_uint_eq(again->lpVtbl->Release(again), 2); /* ours + the arena's */
    ck_assert_uint_eq(mm->lpVtbl->AddRef(mm), 3);
    ck_assert_uint_eq(mm->lpVtbl->Release(mm), 2);

    void *q = (void *)1;
    ck_assert_int_eq(mm->lpVtbl->QueryInterface(mm, &IID_IUnknown, &q), S_OK);
    ck_assert_ptr_eq(q, mm);
    ck_assert_int_eq(mm->lpVtbl->QueryInterface(mm, &IID_IMethodMalloc, &q), S_OK);
    ck_assert_ptr_eq(q, mm);
    ck_assert_uint_eq(mm->lpVtbl->Release(mm), 3);
    ck_assert_uint_eq(mm->lpVtbl->Release(mm), 2);
    static const IID other = COM_GUID_INIT(0x1831991C, 0xCC53, 0x4A31, 0xB2, 0x18, 0x04, 0xE9, 0x10,
                                           0x44, 0x64, 0x79);
    q = (void *)1;
    ck_assert_int_eq(mm->lpVtbl->QueryInterface(mm, &other, &q), E_NOINTERFACE);
    ck_assert_ptr_null(q);
    ck_assert_int_eq(mm->lpVtbl->QueryInterface(mm, &IID_IUnknown, NULL), E_POINTER);

    ilg_image_info in;
    ck_assert_int_eq(ilg_image_get_info(img, &in), ILG_OK);
    ck_assert_ptr_null(mm->lpVtbl->Alloc(mm, 0)); /* as CoreCLR */
    ck_assert_int_eq(ilg_last_diag()->status, ILG_E_INVALID_ARG);
    uint8_t *p = mm->lpVtbl->Alloc(mm, 24);
    ck_assert_ptr_eq(p, in.base + in.arena_offset);
    memset(p, 0x2A, 24);

    /* The module goes; the object stays until its last reference, refusing to allocate. */
    ilg_image_close(img);
    img = NULL;
    ck_assert_ptr_null(mm->lpVtbl->Alloc(mm, 8));
    ck_assert_int_eq(ilg_last_diag()->status, ILG_E_ARENA_DETACHED);
    ck_assert_uint_eq(mm->lpVtbl->Release(mm), 0);
}
END_TEST

START_TEST(argument_errors_are_specific)
{
    void *p;
    ck_assert_int_eq(ilg_arena_alloc(arena, 0, &p, NULL), ILG_E_INVALID_ARG);
    ck_assert_int_eq(ilg_arena_alloc(NULL, 4, &p, NULL), ILG_E_INVALID_ARG);
    ck_assert_int_eq(ilg_arena_detach(arena), ILG_E_INVALID_ARG);
    ck_assert_msg(strstr(ilg_last_diag()->message, "ilg_image_close"), "%s", ilg_last_diag()->message);
    ilg_arena_options bad = { .alignment = 6 };
    ck_assert_int_eq(ilg_arena_configure(arena, &bad), ILG_E_INVALID_ARG);
    ck_assert_msg(strstr(ilg_last_diag()->message, "alignment 6"), "%s", ilg_last_diag()->message);
    ilg_arena_options o = { .alignment = 16 };
    ck_assert_int_eq(ilg_arena_configure(arena, &o), ILG_OK);
    uint32_t r1, r2;
    ck_assert_int_eq(ilg_arena_alloc(arena, 1, &p, &r1), ILG_OK);
    ck_assert_int_eq(ilg_arena_alloc(arena, 1, &p, &r2), ILG_OK);
    ck_assert_uint_eq(r2, r1 + 16);
    /* A huge request is exhaustion, not an overflow. */
    ck_assert_int_eq(ilg_arena_alloc(arena, SIZE_MAX, &p, &r1), ILG_E_ARENA_EXHAUSTED);
    ck_assert_int_eq(ilg_arena_attach(NULL, 4096, NULL, &arena), ILG_E_INVALID_ARG);
    ck_assert_int_eq(ilg_arena_attach((void *)(uintptr_t)0x10001, 4096, NULL, &arena), ILG_E_INVALID_ARG);
}
END_TEST

/* ---- Attach ------------------------------------------------------------------------- */

typedef struct elf_span {
    const char *want;
    uintptr_t base, end;
} elf_span;

static int find_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    elf_span *s = arg;
    if (!info->dlpi_name || !strstr(info->dlpi_name, s->want))
        return 0;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        if (info->dlpi_addr + ph->p_vaddr < lo)
            lo = info->dlpi_addr + ph->p_vaddr;
        if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi)
            hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
    }
    s->base = lo & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1);
    s->end = hi;
    return 1;
}

/* No page in [lo, hi) starts a free run of need bytes: the arena took the first gap. */
static void check_no_earlier_gap(uintptr_t lo, uintptr_t hi, uint64_t need)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    uintptr_t cur = lo;
    ck_assert(f != NULL);
    while (fgets(line, sizeof line, f)) {
        unsigned long long a, b;
        if (sscanf(line, "%llx-%llx", &a, &b) != 2 || b <= cur)
            continue;
        if (a >= hi)
            break;
        ck_assert_msg(a < cur + need, "free gap 0x%llx bytes at %p lies below the arena at %p",
                      (unsigned long long)(a - cur), (void *)cur, (void *)hi);
        cur = (uintptr_t)b;
    }
    fclose(f);
}

START_TEST(attach_above_a_dlopened_elf)
{
    char path[4096];
    fx_path(path, sizeof path, "libilgfix.so");
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(h != NULL, "dlopen %s: %s", path, dlerror());
    elf_span s = { "libilgfix.so", 0, 0 };
    ck_assert(dl_iterate_phdr(find_object, &s) == 1);
    const uint64_t span = s.end - s.base, size = 4 << 20;

    ilg_arena *a;
    ilg_arena_options o = { .size = size };
    ck_assert_int_eq(ilg_arena_attach((void *)s.base, span, &o, &a), ILG_OK);
    ilg_arena_stats st;
    ck_assert_int_eq(ilg_arena_stats_get(a, &st), ILG_OK);
    ck_assert(st.attached);
    ck_assert_ptr_eq(st.base, (void *)s.base);
    ck_assert_uint_ge(st.start, align_up(span, page));
    ck_assert_uint_eq(st.reserved, size);
    ck_assert_uint_le(st.start + size, 0x80000000u);
    /* Our own reservation, PROT_NONE, exactly there, with a guard page after it. */
    char prot[5];
    uintptr_t lo, hi;
    fx_maps_prot(s.base + st.start, prot, &lo, &hi);
    ck_assert_str_eq(prot, "---p");
    ck_assert_uint_eq(lo, s.base + st.start);
    ck_assert_uint_ge(hi, s.base + st.start + size + page);
    check_no_earlier_gap(s.base + align_up(span, page), s.base + st.start, size + page);

    uint64_t expect = st.start;
    for (int i = 0; i < 1000; i++) {
        void *p;
        uint32_t rva;
        ck_assert_int_eq(ilg_arena_alloc(a, 40, &p, &rva), ILG_OK);
        ck_assert_uint_eq(rva, expect);
        ck_assert_ptr_eq(p, (uint8_t *)s.base + rva);
        memset(p, 0x5A, 40);
        expect += 40;
    }
    ck_assert_int_eq(ilg_arena_detach(a), ILG_OK);
    fx_maps_prot(s.base + st.start, prot, &lo, &hi);
    ck_assert_msg(strcmp(prot, "---p") != 0 || lo != s.base + st.start, "reservation still mapped");
    dlclose(h);
}
END_TEST

START_TEST(attach_skips_a_blocking_mapping)
{
    /* "Module" page, then a 16 MiB blocker, then a 48 MiB hole we make ourselves. */
    const size_t total = 64 << 20, blocked = 16 << 20;
    uint8_t *r = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ck_assert(r != MAP_FAILED);
    ck_assert_int_eq(munmap(r + blocked, total - blocked), 0);
    ilg_arena *a;
    ilg_arena_options o = { .size = 8 << 20 };
    ilg_status st = ilg_arena_attach(r, page, &o, &a);
    if (st == ILG_OK) {
        ilg_arena_stats s;
        ck_assert_int_eq(ilg_arena_stats_get(a, &s), ILG_OK);
        ck_assert_uint_eq(s.start, blocked); /* the first byte past the blocker */
        void *p;
        uint32_t rva;
        ck_assert_int_eq(ilg_arena_alloc(a, 16, &p, &rva), ILG_OK);
        ck_assert_uint_eq(rva, blocked);
        ck_assert_int_eq(ilg_arena_detach(a), ILG_OK);
    } else {
        /* Only another thread mapping into our hole could do this; say so. */
        ck_abort_msg("attach failed: %s", ilg_last_diag()->message);
    }
    munmap(r, blocked);
}
END_TEST

START_TEST(attach_reports_the_mapping_that_blocks)
{
    /* One mapping covering the module and everything up to past the RVA limit. */
    const size_t total = ((size_t)2 << 30) + 2 * page;
    uint8_t *r = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ck_assert(r != MAP_FAILED);
    ilg_arena *a = NULL;
    ilg_arena_options o = { .size = 1 << 20 };
    ck_assert_int_eq(ilg_arena_attach(r, page, &o, &a), ILG_E_ARENA_NO_SPACE);
    ck_assert_ptr_null(a);
    char want[64];
    uintptr_t lo, hi;
    char prot[5];
    fx_maps_prot((uintptr_t)r + page, prot, &lo, &hi);
    snprintf(want, sizeof want, "blocked by 0x%" PRIxPTR "-0x%" PRIxPTR, lo, hi);
    ck_assert_msg(strstr(ilg_last_diag()->message, want), "'%s' does not name %s",
                  ilg_last_diag()->message, want);
    munmap(r, total);

    /* An image already past the RVA limit has no room at all. */
    ck_assert_int_eq(ilg_arena_attach((void *)(uintptr_t)0x10000000, 0x80000000u, NULL, &a),
                     ILG_E_ARENA_NO_SPACE);
}
END_TEST

static int race_calls;
static void *race_blocker;

static void lose_the_race(void *addr, size_t size)
{
    if (race_calls++ == 0) {
        race_blocker = mmap(addr, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        ck_assert_ptr_eq(race_blocker, addr);
    }
}

START_TEST(attach_retries_after_losing_the_race)
{
    const size_t total = 64 << 20;
    uint8_t *r = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ck_assert(r != MAP_FAILED);
    ck_assert_int_eq(munmap(r + page, total - page), 0);
    race_calls = 0;
    ilg__arena_attach_race_hook = lose_the_race;
    ilg_arena *a;
    ilg_arena_options o = { .size = 1 << 20 };
    ilg_status st = ilg_arena_attach(r, page, &o, &a);
    ilg__arena_attach_race_hook = NULL;
    ck_assert_msg(st == ILG_OK, "%s", ilg_last_diag()->message);
    ck_assert_int_eq(race_calls, 2);
    ilg_arena_stats s;
    ck_assert_int_eq(ilg_arena_stats_get(a, &s), ILG_OK);
    ck_assert_ptr_eq(race_blocker, r + page);
    ck_assert_uint_eq(s.start, 2 * page); /* just past what the other "thread" took */
    ck_assert_int_eq(ilg_arena_detach(a), ILG_OK);
    munmap(race_blocker, page);
    munmap(r, page);
}
END_TEST

/* ---- CLI ---------------------------------------------------------------------------- */

static void check_cli_alloc(const char *path)
{
    char *argv[] = { ILG_CLI_PATH, "map", "--alloc", "1000", "--json", (char *)path, NULL };
    fx_result r;
    ck_assert(fx_run((const char *const *)argv, &r));
    ck_assert_msg(r.exited && r.status == 0, "status %d: %s", r.status, r.err);
    /* Crude but independent of jansson: the integer after "key": */
    const uint64_t span = align_up(file_size_of_image(path), page);
    const char *keys[] = { "\"arena_offset\":", "\"first_alloc_offset\":", "\"last_alloc_end\":",
                           "\"committed\":" };
    uint64_t v[4];
    for (int i = 0; i < 4; i++) {
        const char *p = strstr(r.out, keys[i]);
        ck_assert_msg(p != NULL, "no %s in %s", keys[i], r.out);
        v[i] = strtoull(p + strlen(keys[i]), NULL, 10);
    }
    ck_assert_uint_eq(v[0], span);
    ck_assert_uint_eq(v[1], span);
    ck_assert_uint_eq(v[2], span + 1000 * 64);
    ck_assert_uint_ge(v[3], 1000 * 64);
    ck_assert_uint_eq(v[3] % page, 0);
    fx_result_free(&r);
}

START_TEST(cli_map_alloc_lands_at_the_arena_start)
{
    check_cli_alloc(calc);
    if (access(mscorlib, R_OK) == 0)
        check_cli_alloc(mscorlib);
    const char *bad[] = { ILG_CLI_PATH, "map", "--alloc", "0", calc, NULL };
    fx_result r;
    ck_assert(fx_run(bad, &r));
    ck_assert(r.exited && r.status == 2);
    fx_result_free(&r);
    const char *text[] = { ILG_CLI_PATH, "map", "--alloc", "3x8", calc, NULL };
    ck_assert(fx_run(text, &r));
    ck_assert(r.exited && r.status == 0);
    ck_assert_msg(strstr(r.out, "3 arena allocations of 8 bytes") && strstr(r.out, "contiguous"), "%s", r.out);
    fx_result_free(&r);
}
END_TEST

static Suite *arena_suite(void)
{
    Suite *s = suite_create("arena");
    TCase *img_tc = tcase_create("image");
    tcase_add_checked_fixture(img_tc, setup_calc, teardown_image);
    tcase_add_test(img_tc, first_allocation_is_at_the_page_aligned_size_of_image);
    tcase_add_test(img_tc, offsets_are_positive_contiguous_and_usable);
    tcase_add_test(img_tc, first_commit_populates_64_kib_of_its_chunk);
    tcase_add_test(img_tc, uncommitted_arena_and_guard_stay_inaccessible);
    tcase_add_test(img_tc, exhaustion_at_a_small_limit_is_exact);
    tcase_add_test(img_tc, a_one_page_image_arena_exhausts_at_its_reservation);
    tcase_add_test(img_tc, method_malloc_is_real_com);
    tcase_add_test(img_tc, argument_errors_are_specific);
    tcase_add_test(img_tc, cli_map_alloc_lands_at_the_arena_start);
    suite_add_tcase(s, img_tc);

    TCase *limits = tcase_create("limits");
    tcase_add_checked_fixture(limits, setup_page, NULL);
    tcase_set_timeout(limits, 600);
    tcase_add_test(limits, exhaustion_at_the_rva_limit);
    tcase_add_test(limits, two_threads_ten_million_allocations_never_overlap);
    suite_add_tcase(s, limits);

    TCase *attach = tcase_create("attach");
    tcase_add_checked_fixture(attach, setup_page, NULL);
    tcase_add_test(attach, attach_above_a_dlopened_elf);
    tcase_add_test(attach, attach_skips_a_blocking_mapping);
    tcase_add_test(attach, attach_reports_the_mapping_that_blocks);
    tcase_add_test(attach, attach_retries_after_losing_the_race);
    suite_add_tcase(s, attach);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(arena_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
