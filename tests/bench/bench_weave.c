/* bench_weave.c: the ilgraft side of bench_weave.sh (issue 16, the weave benchmark). Opens
 * an assembly, adds through the metadata writer an AssemblyRef [ProbeLib]1.0.0.0, a TypeRef
 * Ns.Probes and a MemberRef `void Enter(string)`, then for every method with an IL body:
 * a user string "<Type>::<Method>" (ilg_md_type_name's type name, nested types as
 * Outer/Inner), decode, `ldstr name; call Enter` inserted at the entry
 * (ilg_body_insert_entry: outside every EH block, branches to the old first instruction
 * stay there), encode, place in the graft arena; then saves the image (ilg_save_write:
 * the arena as a new section, the grown metadata as a new root). What the peers
 * (tests/bench/weave_peer, Mono.Cecil and dnlib) do with their own libraries.
 *
 * The bodies are decoded, edited and encoded on THREADS threads (default: the CPUs
 * online), each taking a contiguous run of methods; the user strings before (the
 * metadata writer takes one call at a time) and the arena placement after, in rid order,
 * run on one, so the saved file is the same for any THREADS.
 *
 * Usage: bench_weave INPUT OUTPUT [THREADS]
 * Prints the methods woven, the bytes of the new bodies, each phase's wall time (for the
 * profile; the driver measures the whole process) and the output's size. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ilg_private.h"
#include "ilgraft/arena.h"
#include "ilgraft/ilbody.h"
#include "ilgraft/loader.h"
#include "ilgraft/mdemit.h"
#include "ilgraft/metadata.h"
#include "ilgraft/save.h"

/* void (string): DEFAULT, one parameter, returns void, takes a string. */
static const uint8_t enter_sig[] = { ILG_SIG_DEFAULT, 1, ILG_ET_VOID, ILG_ET_STRING };

#define MAX_THREADS 64

/* One method with an IL body: found and named in the first pass, encoded by a worker,
 * placed in the arena in rid order afterwards (so the output is the same whatever the
 * threads' timing). */
typedef struct job {
    uint32_t rid, str;          /* MethodDef row, user string token of its name */
    const uint8_t *header;      /* the mapped body and its size */
    uint32_t size;
    ilg_status st;
    size_t offset, len;         /* the new body in its worker's buffer */
} job;

typedef struct worker {
    struct weave *w;
    job *jobs;
    size_t first, end;
    ilg_body *body, *snippet;
    ilg_buffer one, out;        /* one body as encoded; the run's bodies one after another */
    pthread_t thread;
    bool started;               /* on its own thread (else the main thread runs it) */
} worker;

typedef struct weave {
    ilg_image *img;
    const ilg_metadata *md;
    ilg_mdemit *em;
    ilg_arena *arena;
    uint32_t enter;             /* the MemberRef */
    job *jobs;
    ilg_save_method *methods;   /* the save's list, in rid order */
    size_t count;
    uint64_t code_bytes;        /* of the bodies woven, as read */
    uint64_t body_bytes;        /* of the new bodies */
    worker workers[MAX_THREADS];
    unsigned threads;
    char name[4096];
    uint16_t wname[4096];
} weave;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The process's peak resident set so far (VmHWM), in KB: where the memory goes. */
static long peak_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static int fail(const char *what, ilg_status st)
{
    fprintf(stderr, "bench_weave: %s: %s: %s\n", what, ilg_status_name(st),
            ilg_last_diag()->message);
    return 1;
}

/* The probe's references, once: [ProbeLib]Ns.Probes::Enter(string). */
static ilg_status define_probe(weave *w)
{
    uint32_t cells[ILG_MDC_AssemblyRef_HashValue + 1] = { 0 }, asm_ref, type;
    cells[ILG_MDC_AssemblyRef_MajorVersion] = 1;
    ilg_status st = ilg_mdemit_string(w->em, "ProbeLib", &cells[ILG_MDC_AssemblyRef_Name]);
    if (st == ILG_OK)
        st = ilg_mdemit_row(w->em, ILG_TBL_AssemblyRef, cells, ILG_MDC_AssemblyRef_HashValue + 1,
                            &asm_ref, NULL);
    if (st == ILG_OK)
        st = ilg_mdemit_type_ref(w->em, asm_ref, "Ns", "Probes", &type, NULL);
    if (st == ILG_OK)
        st = ilg_mdemit_member_ref(w->em, type, "Enter", enter_sig, sizeof enter_sig, &w->enter,
                                   NULL);
    return st;
}

/* The user string of method rid's name: "<Type>::<Method>". */
static ilg_status name_string(weave *w, uint32_t rid, uint32_t *token)
{
    ilg_method_info mi;
    size_t len;
    ilg_status st = ilg_md_method(w->md, rid, &mi);
    if (st == ILG_OK)
        st = ilg_md_type_name(w->md, mi.owner, w->name, sizeof w->name, &len);
    if (st != ILG_OK)
        return st;
    const size_t n = strlen(mi.name);
    if (len + 2 + n >= sizeof w->name)
        return ILG_E_RANGE;
    memcpy(w->name + len, "::", 2); /* not snprintf: it was 5% of the whole run */
    memcpy(w->name + len + 2, mi.name, n + 1);
    size_t units = ilg__utf8_to_utf16(w->name, sizeof w->name, w->wname,
                                      sizeof w->wname / sizeof w->wname[0]);
    if (units > sizeof w->wname / sizeof w->wname[0])
        return ILG_E_RANGE;
    return ilg_mdemit_user_string(w->em, w->wname, (uint32_t)(units - 1), token, NULL);
}

/* First pass, on one thread (the metadata writer takes one call at a time): every method
 * with an IL body, its name's user string. */
static int name_all(weave *w)
{
    const uint32_t n = ilg_md_row_count(w->md, ILG_TBL_MethodDef);
    if (!(w->jobs = calloc(n ? n : 1, sizeof *w->jobs)) ||
        !(w->methods = calloc(n ? n : 1, sizeof *w->methods)))
        return fail("methods", ILG_E_NOMEM);
    for (uint32_t rid = 1; rid <= n; rid++) {
        ilg_method_body mb;
        ilg_status st = ilg_md_method_body(w->md, rid, &mb);
        if (st != ILG_OK)
            return fail("method body", st);
        if (mb.kind != ILG_BODY_TINY && mb.kind != ILG_BODY_FAT)
            continue;
        job *j = &w->jobs[w->count++];
        *j = (job){ .rid = rid, .header = mb.header, .size = mb.body_size };
        w->code_bytes += mb.body_size;
        if ((st = name_string(w, rid, &j->str)) != ILG_OK) {
            fprintf(stderr, "bench_weave: method 0x%08x:\n", 0x06000000u | rid);
            return fail("name", st);
        }
    }
    return 0;
}

/* One method: the snippet at its entry, the body encoded at the end of the worker's
 * buffer. */
static ilg_status weave_method(worker *k, const job *j, size_t *len)
{
    ilg_status st = ilg_body_decode(k->body, j->header, j->size);
    if (st != ILG_OK)
        return st;
    ilg_body_reset(k->snippet);
    if ((st = ilg_body_append(k->snippet, ILG_OP_LDSTR, j->str)) != ILG_OK ||
        (st = ilg_body_append(k->snippet, ILG_OP_CALL, k->w->enter)) != ILG_OK ||
        (st = ilg_body_layout(k->snippet)) != ILG_OK ||
        (st = ilg_body_insert_entry(k->body, k->snippet)) != ILG_OK)
        return st;
    /* The snippet runs on an empty stack and reaches depth 1, so the body's maxstack
     * stays right when raised to 1: no data flow needed (a tiny header implies 8). */
    if (k->body->max_stack < 1)
        k->body->max_stack = 1;
    ilg_buffer *one = &k->one;
    st = ilg_body_encode(k->body, ILG_ENCODE_PRESERVE, NULL, one);
    if (st == ILG_OK && k->out.len + one->len > k->out.cap) {
        size_t cap = k->out.cap ? k->out.cap * 2 : 1u << 20;
        while (cap < k->out.len + one->len)
            cap *= 2;
        uint8_t *p = realloc(k->out.data, cap);
        if (!p)
            st = ILG_E_NOMEM;
        else
            k->out.data = p, k->out.cap = cap;
    }
    if (st == ILG_OK) {
        memcpy(k->out.data + k->out.len, one->data, one->len);
        k->out.len += one->len;
        *len = one->len;
    }
    return st;
}

static void *work(void *arg)
{
    worker *k = arg;
    for (size_t i = k->first; i < k->end; i++) {
        job *j = &k->jobs[i];
        j->offset = k->out.len;
        if ((j->st = weave_method(k, j, &j->len)) != ILG_OK)
            break;
    }
    return NULL;
}

/* Second pass: the jobs in w->threads contiguous runs of about equal bytes, one worker
 * each; third: every new body into the arena, in rid order. */
static int weave_all(weave *w)
{
    const unsigned t = w->threads;
    uint64_t share = w->code_bytes / t + 1, acc = 0;
    size_t i = 0;
    for (unsigned n = 0; n < t; n++) {
        worker *k = &w->workers[n];
        *k = (worker){ .w = w, .jobs = w->jobs, .first = i };
        while (i < w->count && (n == t - 1 || acc < share * (n + 1)))
            acc += w->jobs[i++].size;
        k->end = i;
        ilg_status st = ilg_body_new(&k->body);
        if (st == ILG_OK)
            st = ilg_body_new(&k->snippet);
        if (st != ILG_OK)
            return fail("body", st);
    }
    for (unsigned n = 1; n < t; n++)
        w->workers[n].started = pthread_create(&w->workers[n].thread, NULL, work,
                                                &w->workers[n]) == 0;
    work(&w->workers[0]);
    for (unsigned n = 1; n < t; n++) {
        if (w->workers[n].started)
            pthread_join(w->workers[n].thread, NULL);
        else
            work(&w->workers[n]);
    }
    for (unsigned n = 0; n < t; n++) {
        const worker *k = &w->workers[n];
        for (size_t q = k->first; q < k->end; q++) {
            job *j = &w->jobs[q];
            void *p;
            uint32_t rva;
            ilg_status st = j->st;
            if (st == ILG_OK)
                st = ilg_arena_alloc(w->arena, j->len, &p, &rva);
            if (st != ILG_OK) {
                fprintf(stderr, "bench_weave: method 0x%08x:\n", 0x06000000u | j->rid);
                return fail("weave", st);
            }
            memcpy(p, k->out.data + j->offset, j->len);
            w->methods[q] = (ilg_save_method){ j->rid, rva, (uint32_t)j->len };
            w->body_bytes += j->len;
        }
    }
    return 0;
}

/* The workers' bodies and buffers and the job list, once every body is in the arena. */
static void drop_work(weave *w)
{
    for (unsigned n = 0; n < w->threads; n++) {
        worker *k = &w->workers[n];
        free(k->one.data);
        free(k->out.data);
        ilg_body_free(k->body);
        ilg_body_free(k->snippet);
        *k = (worker){ 0 };
    }
    free(w->jobs);
    w->jobs = NULL;
}

int main(int argc, char **argv)
{
    /* --keep-old-root: the saved file keeps the whole old metadata root (the layout
     * before its pages were left out), for the growth bench_weave.sh compares. */
    const bool keep_root = argc > 1 && strcmp(argv[1], "--keep-old-root") == 0;
    argc -= keep_root;
    argv += keep_root;
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: bench_weave [--keep-old-root] INPUT OUTPUT [THREADS]\n");
        return 2;
    }
    weave w = { 0 };
    long cpus = argc == 4 ? strtol(argv[3], NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    w.threads = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (unsigned)cpus;
    ilg_save_result res;
    ilg_save_options so = { .log = stderr, .keep_old_root = keep_root };
    ilg_status st;
    int rc = 1;
    const double t0 = now();
    if ((st = ilg_image_open(argv[1], NULL, &w.img)) != ILG_OK ||
        (st = ilg_image_metadata(w.img, &w.md)) != ILG_OK ||
        (st = ilg_mdemit_open(w.img, &w.em)) != ILG_OK ||
        (st = ilg_image_arena(w.img, &w.arena)) != ILG_OK) {
        rc = fail(argv[1], st);
        goto out;
    }
    const double t1 = now();
    const long m1 = peak_kb();
    if ((st = define_probe(&w)) != ILG_OK) {
        rc = fail("probe references", st);
        goto out;
    }
    if ((rc = name_all(&w)) != 0)
        goto out;
    const double t2 = now();
    const long m2 = peak_kb();
    if ((rc = weave_all(&w)) != 0)
        goto out;
    /* What the save does not need goes first: its own buffers (the new metadata root)
     * come on top of what is left. */
    drop_work(&w);
    const double t3 = now();
    const long m3 = peak_kb();
    if ((st = ilg_save_write(w.img, w.methods, w.count, &so, argv[2], &res)) != ILG_OK) {
        rc = fail(argv[2], st);
        goto out;
    }
    const double t4 = now();
    printf("ilgraft: woven %zu methods, %llu body bytes, %u threads; open %.1f ms, names "
           "%.1f ms, bodies %.1f ms, save %.1f ms; peak KB after each %ld %ld %ld %ld; %zu "
           "bytes written, old root left out %u bytes\n", w.count,
           (unsigned long long)w.body_bytes, w.threads, (t1 - t0) * 1e3, (t2 - t1) * 1e3,
           (t3 - t2) * 1e3, (t4 - t3) * 1e3, m1, m2, m3, peak_kb(), res.file_size,
           res.old_root_cut_size);
    rc = 0;
out:
    drop_work(&w);
    free(w.methods);
    ilg_image_close(w.img);
    return rc;
}
