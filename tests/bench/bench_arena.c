/* bench_arena.c: the graft arena against glibc malloc (what CoreCLR's IL-body
 * allocator is underneath), in one run: ns per allocation for sizes 16 to 256 bytes,
 * each allocation's bytes written, on 1 and 2 threads, and the ratios. Also the cost
 * of opening a module with its arena against opening it with the smallest arena the
 * loader makes.
 *
 * Every measurement runs in a fresh child process, twice over:
 *  - warm: the pages are already faulted in for both (malloc: a first round freed
 *    with trimming off, so the timed round reuses that memory; arena: committed in
 *    one chunk and written before the timed round). This is the allocators' own cost.
 *  - cold: neither has touched its memory before, so both pay the kernel for every
 *    new page, as a profiler's first bodies in a module do.
 *
 * and twice more: TOUCH writes the first and the last byte of every allocation (every
 * page it spans is faulted in, as the "touching the memory" asks, and the
 * allocator's own cost stays visible), FILL writes all of its bytes (a body being
 * copied in; for 256 bytes the copy costs more than either allocator).
 *
 * The warm tables also run the FLOOR: the same writes with the address bumped inline
 * and no allocator at all. On this kind of machine writing 48 MiB of fresh lines is
 * bound by memory bandwidth, for one thread or two, so the floor shows how much of
 * each figure is the writes and how much 2 threads can gain at all; +malloc and
 * +arena are what each allocator adds to the floor.
 *
 * Usage: bench_arena [IMAGE] [ROUNDS]
 * Each figure is the median of ROUNDS (default 7) interleaved rounds. Nothing here is
 * asserted: the numbers are printed for docs/arena.md and the reader. */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arena_private.h"
#include "ilgraft/arena.h"
#include "ilgraft/loader.h"

/* Bytes each thread allocates per measurement: enough to fault in fresh pages many
 * times over, small enough for a 2 GB arena and a small machine. */
#define BYTES_PER_THREAD ((size_t)48 << 20)
#define MAX_ROUNDS 31
/* The floor's memory per thread: what it writes, and room for the rounding. */
#define FLOOR_BYTES (BYTES_PER_THREAD + ((size_t)1 << 20))

static const char *image_path;
/* FILL (every byte written) or TOUCH (first and last byte); set before the children
 * are forked. */
static bool fill_mode;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* size 0 means mixed sizes: 16..256 in steps of 16 from a fixed sequence. */
static inline size_t size_at(size_t size, size_t i)
{
    return size ? size : 16 + ((i * 2654435761u) >> 7) % 16 * 16;
}

/* K_FLOOR is no allocator: the same writes to memory already faulted in, the address
 * bumped inline. What the loop costs without any allocator call; warm tables only. */
typedef enum kind { K_ARENA, K_COM, K_MALLOC, K_FLOOR, K_KINDS } kind;

typedef struct job {
    kind k;
    size_t size, count;
    ilg_arena *arena;
    IMethodMalloc *mm;
    void **ptrs;               /* malloc: to free afterwards, outside the timing */
    uint8_t *region;           /* floor: this thread's memory */
    atomic_int *go;
    double ns;
    int failed;
} job;

/* Writes allocation i's bytes: all of them (FILL) or the first and the last (TOUCH). */
static inline void use(void *p, size_t n, size_t i, bool fill)
{
    if (fill) {
        memset(p, (int)i, n);
    } else {
        ((volatile uint8_t *)p)[0] = (uint8_t)i;
        ((volatile uint8_t *)p)[n - 1] = (uint8_t)i;
    }
}

/* One loop per allocator, with everything it reads in locals, so the loop itself costs
 * both sides as little as possible and the same. */
static void *run_job(void *arg)
{
    job *j = arg;
    const size_t count = j->count, size = j->size;
    const bool fill = fill_mode;
    while (!atomic_load(j->go))
        ;
    double t0 = now_ns();
    size_t i = 0;
    if (j->k == K_ARENA) {
        ilg_arena *arena = j->arena;
        for (; i < count; i++) {
            const size_t n = size_at(size, i);
            void *p;
            if (ilg_arena_alloc(arena, n, &p, NULL) != ILG_OK)
                break;
            use(p, n, i, fill);
        }
    } else if (j->k == K_COM) {
        IMethodMalloc *mm = j->mm;
        for (; i < count; i++) {
            const size_t n = size_at(size, i);
            void *p = mm->lpVtbl->Alloc(mm, (ULONG)n);
            if (!p)
                break;
            use(p, n, i, fill);
        }
    } else if (j->k == K_FLOOR) {
        uint8_t *p = j->region;
        for (; i < count; i++) {
            const size_t n = size_at(size, i);
            use(p, n, i, fill);
            p += (n + 3) & ~(size_t)3;
        }
    } else {
        void **ptrs = j->ptrs;
        for (; i < count; i++) {
            const size_t n = size_at(size, i);
            void *p = malloc(n);
            if (!p)
                break;
            ptrs[i] = p;
            use(p, n, i, fill);
        }
    }
    j->ns = now_ns() - t0;
    j->failed = i < count;
    return NULL;
}

static void run_threads(job *jobs, int threads, atomic_int *go)
{
    pthread_t tid[2];
    for (int t = 0; t < threads; t++)
        pthread_create(&tid[t], NULL, run_job, &jobs[t]);
    atomic_store(go, 1);
    for (int t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);
}

/* One measurement in this process: ns per allocation (wall clock over each thread's
 * count). */
static double measure_here(kind k, size_t size, int threads, bool warm)
{
    const size_t avg = size ? size : 136;
    const size_t count = BYTES_PER_THREAD / avg;
    job jobs[2];
    atomic_int go = 0;
    ilg_image *img = NULL;
    ilg_arena *arena = NULL;
    IMethodMalloc *mm = NULL;

    if (k != K_MALLOC) {
        const uint64_t bytes = (uint64_t)threads * (BYTES_PER_THREAD + (16u << 20));
        ilg_image_options o = { .arena_size = bytes };
        if (ilg_image_open(image_path, &o, &img) != ILG_OK || ilg_image_arena(img, &arena) != ILG_OK ||
            ilg_arena_method_malloc(arena, &mm) != ILG_OK) {
            fprintf(stderr, "bench_arena: %s: %s\n", image_path, ilg_last_diag()->message);
            exit(1);
        }
        if (warm) {
            /* Commit everything with the first allocation, then fault it all in. */
            ilg_arena_options ao = { .commit_chunk = (uint32_t)bytes };
            ilg_arena_stats st;
            void *p;
            if (ilg_arena_configure(arena, &ao) != ILG_OK || ilg_arena_alloc(arena, 4, &p, NULL) != ILG_OK ||
                ilg_arena_stats_get(arena, &st) != ILG_OK) {
                fprintf(stderr, "bench_arena: warm-up: %s\n", ilg_last_diag()->message);
                exit(1);
            }
            memset(p, 0, (size_t)st.committed);
        }
    }
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job){ k, size, count, arena, mm, NULL, NULL, &go, 0, 0 };
        if (k == K_FLOOR) {
            jobs[t].region = mmap(NULL, FLOOR_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (jobs[t].region == MAP_FAILED) {
                perror("bench_arena: mmap");
                exit(1);
            }
            memset(jobs[t].region, 0, FLOOR_BYTES);
        }
        if (k == K_MALLOC && !(jobs[t].ptrs = calloc(count, sizeof(void *)))) {
            fprintf(stderr, "bench_arena: out of memory\n");
            exit(1);
        }
    }
    if (k == K_MALLOC && warm) {
        /* A first round whose memory stays in the heaps for the timed one. */
        mallopt(M_TRIM_THRESHOLD, INT32_MAX);
        mallopt(M_MMAP_THRESHOLD, INT32_MAX / 2);
        run_threads(jobs, threads, &go);
        for (int t = 0; t < threads; t++)
            for (size_t i = 0; i < count; i++)
                free(jobs[t].ptrs[i]);
        atomic_store(&go, 0);
    }
    double t0 = now_ns();
    run_threads(jobs, threads, &go);
    double wall = now_ns() - t0;
    for (int t = 0; t < threads; t++) {
        if (jobs[t].failed) {
            fprintf(stderr, "bench_arena: an allocation failed (%s)\n", ilg_last_diag()->message);
            exit(1);
        }
        if (k == K_MALLOC) {
            for (size_t i = 0; i < count; i++)
                free(jobs[t].ptrs[i]);
            free(jobs[t].ptrs);
        }
        if (k == K_FLOOR)
            munmap(jobs[t].region, FLOOR_BYTES);
    }
    if (mm)
        mm->lpVtbl->Release(mm);
    ilg_image_close(img);
    return wall / (double)count;
}

/* measure_here in a child process, so no round inherits another's heap or pages. */
static double measure(kind k, size_t size, int threads, bool warm)
{
    int fd[2];
    double v = -1;
    fflush(stdout);
    if (pipe(fd) != 0) {
        perror("bench_arena: pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench_arena: fork");
        exit(1);
    }
    if (pid == 0) {
        close(fd[0]);
        v = measure_here(k, size, threads, warm);
        _exit(write(fd[1], &v, sizeof v) == sizeof v ? 0 : 1);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], &v, sizeof v);
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    if (got != sizeof v || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_arena: a measurement failed\n");
        exit(1);
    }
    return v;
}

static void alloc_table(int rounds, bool warm, bool fill)
{
    static const size_t sizes[] = { 16, 32, 64, 128, 256, 0 };
    const int kinds = warm ? K_KINDS : K_FLOOR;
    fill_mode = fill;
    printf("%s pages, %s: ns per allocation (median of %d rounds; 2 threads:\n"
           "wall time over each thread's count; scaling = 2-thread over 1-thread throughput,\n"
           "2.00 is linear%s)\n\n",
           warm ? "WARM" : "COLD",
           fill ? "FILL (every byte written)" : "TOUCH (first and last byte written)", rounds,
           warm ? "; floor = the same writes with no allocator; +malloc and +arena =\n"
                  "what each allocator adds to the floor"
                : "");
    if (warm)
        printf("%-8s %-3s %8s %8s %9s %8s %12s %8s %8s %17s\n", "size", "thr", "malloc", "arena",
               "arena COM", "floor", "malloc/arena", "+malloc", "+arena", "scaling a/m/floor");
    else
        printf("%-8s %-3s %8s %8s %9s %12s %12s\n", "size", "thr", "malloc", "arena", "arena COM",
               "malloc/arena", "scaling a/m");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        double r1[K_KINDS][MAX_ROUNDS], r2[K_KINDS][MAX_ROUNDS], m1[K_KINDS], m2[K_KINDS];
        for (int r = 0; r < rounds; r++)
            for (int k = 0; k < kinds; k++) {
                r1[k][r] = measure((kind)k, sizes[s], 1, warm);
                r2[k][r] = measure((kind)k, sizes[s], 2, warm);
            }
        for (int k = 0; k < kinds; k++) {
            m1[k] = median(r1[k], rounds);
            m2[k] = median(r2[k], rounds);
        }
        char label[24];
        if (sizes[s])
            snprintf(label, sizeof label, "%zu", sizes[s]);
        else
            snprintf(label, sizeof label, "16..256");
        const double a1 = m1[K_ARENA], a2 = m2[K_ARENA], c1 = m1[K_COM], c2 = m2[K_COM];
        const double ml1 = m1[K_MALLOC], ml2 = m2[K_MALLOC];
        /* Scaling: throughput on 2 threads over throughput on 1 (2.0 is linear). */
        if (warm) {
            const double f1 = m1[K_FLOOR], f2 = m2[K_FLOOR];
            printf("%-8s %-3d %8.2f %8.2f %9.2f %8.2f %11.2fx %8.2f %8.2f\n", label, 1, ml1, a1, c1, f1,
                   ml1 / a1, ml1 - f1, a1 - f1);
            printf("%-8s %-3d %8.2f %8.2f %9.2f %8.2f %11.2fx %8.2f %8.2f %5.2f/%4.2f/%4.2f\n", label, 2,
                   ml2, a2, c2, f2, ml2 / a2, ml2 - f2, a2 - f2, 2 * a1 / a2, 2 * ml1 / ml2, 2 * f1 / f2);
        } else {
            printf("%-8s %-3d %8.2f %8.2f %9.2f %11.2fx\n", label, 1, ml1, a1, c1, ml1 / a1);
            printf("%-8s %-3d %8.2f %8.2f %9.2f %11.2fx %6.2f/%-5.2f\n", label, 2, ml2, a2, c2, ml2 / a2,
                   2 * a1 / a2, 2 * ml1 / ml2);
        }
    }
}

static double open_close(uint64_t arena_size, bool first_alloc)
{
    const int n = 200;
    ilg_image_options o = { .arena_size = arena_size };
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        ilg_image *img;
        if (ilg_image_open(image_path, &o, &img) != ILG_OK) {
            fprintf(stderr, "bench_arena: %s: %s\n", image_path, ilg_last_diag()->message);
            exit(1);
        }
        if (first_alloc) {
            ilg_arena *a;
            void *p;
            if (ilg_image_arena(img, &a) != ILG_OK || ilg_arena_alloc(a, 64, &p, NULL) != ILG_OK) {
                fprintf(stderr, "bench_arena: first allocation: %s\n", ilg_last_diag()->message);
                exit(1);
            }
            memset(p, 1, 64);
        }
        ilg_image_close(img);
    }
    return (now_ns() - t0) / n / 1000.0;
}

/* The arena object alone: what ilg_image_open spends on it beyond the mapping. */
static double arena_create_destroy(void)
{
    const int n = 20000;
    static uint8_t base[1];
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        ilg_arena *a;
        /* base + start is what must be page aligned; nothing is touched. */
        uint8_t *b = (uint8_t *)((uintptr_t)base & ~(uintptr_t)4095) - 4096;
        if (ilg__arena_create(b, 4096, ILG_ARENA_DEFAULT_SIZE, &a) != ILG_OK) {
            fprintf(stderr, "bench_arena: %s\n", ilg_last_diag()->message);
            exit(1);
        }
        ilg__arena_destroy(a);
    }
    return (now_ns() - t0) / n / 1000.0;
}

/* What 2 threads can gain on this machine at all: a loop with no shared memory. */
static void *spin(void *arg)
{
    volatile uint64_t x = 0;
    for (uint64_t i = 0; i < 100000000u; i++)
        x += i;
    return arg;
}

/* The least a per-call allocator can cost: a call that adds to a word in memory and
 * returns the old value, so each call waits for the store of the one before. */
static __attribute__((noinline)) uint64_t bump_word(uint64_t *w, uint64_t n)
{
    uint64_t old = *w;
    *w = old + n;
    __asm__ volatile("" ::: "memory");
    return old;
}

static double call_floor(void)
{
    static uint64_t word;
    const uint64_t n = 50000000u;
    uint64_t acc = 0;
    double t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
        acc += bump_word(&word, 16);
    double t = (now_ns() - t0) / (double)n;
    __asm__ volatile("" ::"r"(acc));
    return t;
}

static void machine_scaling(int rounds)
{
    double v[MAX_ROUNDS];
    for (int r = 0; r < rounds; r++) {
        pthread_t t[2];
        double t0 = now_ns();
        spin(NULL);
        double one = now_ns() - t0;
        t0 = now_ns();
        for (int i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, spin, NULL);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        v[r] = 2 * one / (now_ns() - t0);
    }
    printf("machine: %ld CPUs online; a shared-nothing loop scales %.2f on 2 threads (2.00 is\n"
           "linear): the ceiling for every scaling figure below\n\n",
           sysconf(_SC_NPROCESSORS_ONLN), median(v, rounds));
    for (int r = 0; r < rounds; r++)
        v[r] = call_floor();
    printf("call floor: a call that only adds to a word in memory costs %.2f ns (each call\n"
           "waits for the store of the one before, as any per-call allocator's does)\n\n",
           median(v, rounds));
}

static void open_table(int rounds)
{
    double d[MAX_ROUNDS], s[MAX_ROUNDS], f[MAX_ROUNDS], c[MAX_ROUNDS];
    for (int r = 0; r < rounds; r++) {
        d[r] = open_close(0, false);
        s[r] = open_close(4096, false);
        f[r] = open_close(0, true);
        c[r] = arena_create_destroy();
    }
    double md = median(d, rounds), ms = median(s, rounds), mf = median(f, rounds),
           mc = median(c, rounds);
    printf("\nopening %s (open + close, us, median of %d rounds of 200):\n", image_path, rounds);
    printf("  with the default %llu MiB arena:        %8.2f\n",
           (unsigned long long)(ILG_ARENA_DEFAULT_SIZE >> 20), md);
    printf("  with a one-page arena (smallest):      %8.2f  (default costs %+.2f, %+.1f%%)\n", ms,
           md - ms, (md - ms) / ms * 100);
    printf("  default arena + first 64-byte alloc:   %8.2f  (first commit %+.2f)\n", mf, mf - md);
    printf("  arena object alone (create + destroy): %8.3f\n", mc);
}

int main(int argc, char **argv)
{
    image_path = argc > 1 ? argv[1] : ILG_FIXTURE_DIR "/calc.exe";
    int rounds = argc > 2 ? atoi(argv[2]) : 7;
    if (rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: bench_arena [IMAGE] [ROUNDS 1..%d]\n", MAX_ROUNDS);
        return 2;
    }
    printf("bench_arena: graft arena vs glibc malloc, image %s\n\n", image_path);
    machine_scaling(rounds);
    alloc_table(rounds, true, false);
    printf("\n");
    alloc_table(rounds, false, false);
    printf("\n");
    alloc_table(rounds, true, true);
    printf("\n");
    alloc_table(rounds, false, true);
    open_table(rounds);
    return 0;
}
