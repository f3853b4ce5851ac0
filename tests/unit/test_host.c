/* test_host.c: the harness host's public API without the CLI: profiler load failures
 * and their statuses, the per-method records against the image's metadata, the report,
 * bookkeeping through IHostMalloc (counted, leak-free, and failing cleanly under every
 * injected fault) and process isolation. */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ilgraft/host.h"
#include "ilgraft/hostmem.h"
#include "ilgraft/metadata.h"
#include "integration/tier_expect.h"
#include "unit/fixture_util.h"

#define TEST_CLSID "{1F6E4A2B-3C5D-4E7F-8091-A2B3C4D5E6F7}"

static char calc[512], types[512], generics[512], tiers[512];
static FILE *log_file;
static ilg_host *host;

static void setup(void)
{
    fx_path(calc, sizeof calc, "calc.exe");
    fx_path(types, sizeof types, "types.exe");
    fx_path(generics, sizeof generics, "generics.exe");
    fx_path(tiers, sizeof tiers, "tiers.exe");
    log_file = tmpfile();
    ck_assert_ptr_nonnull(log_file);
    unsetenv("PROF_MODE");
    setenv("PROF_LOG", "/dev/null", 1);
    host = NULL;
}

static void teardown(void)
{
    ilg_host_free(host);
    fclose(log_file);
}

static char *log_text(void)
{
    long n;
    fflush(log_file);
    n = ftell(log_file);
    char *text = calloc(1, (size_t)n + 1);
    rewind(log_file);
    if (n > 0 && fread(text, 1, (size_t)n, log_file) != (size_t)n)
        text[0] = '\0';
    fseek(log_file, 0, SEEK_END);
    return text;
}

static ilg_host *new_host(IHostMemoryManager *mem)
{
    ilg_host_options o = { .log = log_file, .memory = mem };
    ilg_host *h = NULL;
    ck_assert_int_eq(ilg_host_new(&o, &h), ILG_OK);
    return h;
}

START_TEST(load_failures_have_their_statuses)
{
    host = new_host(NULL);
    ck_assert_int_eq(ilg_host_load_profiler(host, ILG_PROF_REWRITE, "8A8CC829-CCF2"),
                     ILG_E_PROF_BAD_CLSID);
    ck_assert_int_eq(ilg_host_load_profiler(host, "/nonexistent.so", TEST_CLSID), ILG_E_PROF_LOAD);
    /* libc has no DllGetClassObject. */
    ck_assert_int_eq(ilg_host_load_profiler(host, "libc.so.6", TEST_CLSID), ILG_E_PROF_LOAD);
    ck_assert_int_eq(
        ilg_host_load_profiler(host, ILG_PROF_REWRITE, "{00000000-0000-0000-0000-000000000001}"),
        ILG_E_PROF_CLASS_FACTORY);
    char *text = log_text();
    ck_assert_ptr_nonnull(strstr(text, "is not a valid GUID"));
    ck_assert_ptr_nonnull(strstr(text, "does not export DllGetClassObject"));
    ck_assert_ptr_nonnull(strstr(text, "0x80040111"));
    free(text);
    ck_assert_int_eq(ilg_host_callback_version(host), 0);
}
END_TEST

/* CORECLR_ENABLE_PROFILING as CoreCLR 10 reads it (observed with dotnet and the ABI
 * probe, docs/profiler.md): "1", "0x1", "10", "1x", " 1" load; "0", "", "yes" do not. */
START_TEST(environment_enables_profiling_as_coreclr)
{
    static const char *const on[] = { "1", "0x1", "10", "1x", " 1" };
    static const char *const off[] = { "0", "", "yes" };
    for (size_t k = 0; k < sizeof on / sizeof *on; k++) {
        setenv("CORECLR_ENABLE_PROFILING", on[k], 1);
        ck_assert_msg(ilg_host_env_profiling_enabled(), "'%s' should enable", on[k]);
    }
    for (size_t k = 0; k < sizeof off / sizeof *off; k++) {
        setenv("CORECLR_ENABLE_PROFILING", off[k], 1);
        ck_assert_msg(!ilg_host_env_profiling_enabled(), "'%s' should not enable", off[k]);
    }
    unsetenv("CORECLR_ENABLE_PROFILING");
    ck_assert(!ilg_host_env_profiling_enabled());
    /* The 64-bit path first, an empty one skipped (observed: both loaded the probe). */
    setenv("CORECLR_PROFILER_PATH", "/b.so", 1);
    setenv("CORECLR_PROFILER_PATH_64", "/a.so", 1);
    ck_assert_str_eq(ilg_host_env_profiler_path(), "/a.so");
    setenv("CORECLR_PROFILER_PATH_64", "", 1);
    ck_assert_str_eq(ilg_host_env_profiler_path(), "/b.so");
    unsetenv("CORECLR_PROFILER_PATH_64");
    unsetenv("CORECLR_PROFILER_PATH");
    ck_assert_ptr_null(ilg_host_env_profiler_path());
}
END_TEST

START_TEST(environment_must_name_both)
{
    host = new_host(NULL);
    unsetenv("CORECLR_PROFILER");
    setenv("CORECLR_PROFILER_PATH", ILG_PROF_REWRITE, 1);
    ck_assert_int_eq(ilg_host_load_profiler_env(host), ILG_E_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(ilg_last_diag()->message, "CORECLR_ENABLE_PROFILING"));
    setenv("CORECLR_ENABLE_PROFILING", "1", 1);
    ck_assert_int_eq(ilg_host_load_profiler_env(host), ILG_E_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(ilg_last_diag()->message, "CORECLR_PROFILER"));
    /* CoreCLR on Linux takes the CLSID only with braces (observed: not loaded). */
    setenv("CORECLR_PROFILER", TEST_CLSID + 1, 1);
    ck_assert_int_eq(ilg_host_load_profiler_env(host), ILG_E_PROF_BAD_CLSID);
    setenv("CORECLR_PROFILER", TEST_CLSID, 1);
    ck_assert_int_eq(ilg_host_load_profiler_env(host), ILG_OK);
    ck_assert_int_eq(ilg_host_callback_version(host), 3);
    /* One profiler per host. */
    ck_assert_int_eq(ilg_host_load_profiler(host, ILG_PROF_REWRITE, TEST_CLSID), ILG_E_INVALID_ARG);
    unsetenv("CORECLR_ENABLE_PROFILING");
    unsetenv("CORECLR_PROFILER");
    unsetenv("CORECLR_PROFILER_PATH");
}
END_TEST

START_TEST(records_match_the_metadata)
{
    const char *images[] = { calc, types };
    ilg_host_module hm;
    ilg_image *img;
    const ilg_metadata *md;
    ilg_image_info info;

    host = new_host(NULL);
    ck_assert_int_eq(ilg_host_run(host, images, 2), ILG_OK);
    ck_assert_int_eq(ilg_host_run(host, images, 2), ILG_E_INVALID_ARG);
    ck_assert_uint_eq(ilg_host_module_count(host), 2);
    ck_assert_int_eq(ilg_host_module_get(host, 2, &hm), ILG_E_INVALID_ARG);
    ck_assert_int_eq(ilg_host_module_get(host, 1, &hm), ILG_OK);
    ck_assert_str_eq(hm.path, types);
    ck_assert_int_eq(ilg_image_open(types, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    ck_assert_int_eq(ilg_image_get_info(img, &info), ILG_OK);
    ck_assert_uint_eq(hm.image_size, info.image_size);
    ck_assert_uint_eq(hm.arena_offset, info.arena_offset);
    ck_assert_uint_eq(hm.method_count, ilg_md_row_count(md, ILG_TBL_MethodDef));
    for (uint32_t rid = 1; rid <= hm.method_count; rid++) {
        ilg_host_method m;
        ilg_method_body b;
        char name[512];
        ck_assert_int_eq(ilg_host_method_get(host, 1, rid, &m), ILG_OK);
        ck_assert_int_eq(ilg_md_method_body(md, rid, &b), ILG_OK);
        ck_assert_int_eq(ilg_md_method_name(md, rid, name, sizeof name, NULL), ILG_OK);
        bool il = b.kind == ILG_BODY_TINY || b.kind == ILG_BODY_FAT;
        ck_assert_uint_eq(m.token, 0x06000000u | rid);
        ck_assert_str_eq(m.name, name);
        ck_assert_uint_eq(m.old_rva, il ? b.rva : 0);
        ck_assert_uint_eq(m.old_size, il ? b.body_size : 0);
        ck_assert_int_eq(m.status, ILG_HOST_UNCHANGED);
        /* No profiler, so no JIT callbacks went anywhere. */
        ck_assert(!m.jitted);
        ck_assert_uint_eq(m.jit_events, 0);
        ck_assert_uint_eq(m.set_calls, 0);
        ck_assert_uint_eq(m.rewritten_again, 0);
    }
    ilg_host_method m;
    ck_assert_int_eq(ilg_host_method_get(host, 1, 0, &m), ILG_E_RANGE);
    ck_assert_int_eq(ilg_host_method_get(host, 1, hm.method_count + 1, &m), ILG_E_RANGE);
    ilg_image_close(img);
}
END_TEST

START_TEST(report_json_lists_every_method)
{
    const char *images[] = { calc };
    char *buf = NULL;
    size_t len = 0;
    json_error_t err;

    host = new_host(NULL);
    ck_assert_int_eq(ilg_host_run(host, images, 1), ILG_OK);
    FILE *mem = open_memstream(&buf, &len);
    ck_assert_int_eq(ilg_host_write_report(host, ILG_REPORT_JSON, mem), ILG_OK);
    fclose(mem);
    json_t *root = json_loads(buf, 0, &err);
    ck_assert_msg(root != NULL, "%s", err.text);
    json_t *m0 = json_array_get(json_object_get(root, "modules"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(m0, "path")), calc);
    json_t *methods = json_object_get(m0, "methods");
    ck_assert_uint_eq(json_array_size(methods), 5);
    for (size_t i = 0; i < 5; i++) {
        json_t *o = json_array_get(methods, i);
        static const char *const keys[] = { "token",   "name",     "old_rva", "old_size",
                                            "new_rva", "new_size", "status" };
        for (size_t k = 0; k < 7; k++)
            ck_assert_msg(json_object_get(o, keys[k]), "method %zu lacks %s", i, keys[k]);
        ck_assert_str_eq(json_string_value(json_object_get(o, "status")), "unchanged");
    }
    json_decref(root);
    free(buf);
    buf = NULL;
    mem = open_memstream(&buf, &len);
    ck_assert_int_eq(ilg_host_write_report(host, ILG_REPORT_TEXT, mem), ILG_OK);
    fclose(mem);
    ck_assert_ptr_nonnull(
        strstr(buf, "5 methods, 0 JIT-compiled: 0 rewritten, 0 rejected, 5 unchanged"));
    free(buf);
}
END_TEST

/* The summary gives each module's counts without naming the rewritten methods; the text
 * report names them. */
START_TEST(report_summary_names_no_rewritten_method)
{
    const char *images[] = { calc };
    char *text = NULL, *summary = NULL;
    size_t len = 0;

    host = new_host(NULL);
    ck_assert_int_eq(ilg_host_load_profiler(host, ILG_PROF_REWRITE, TEST_CLSID), ILG_OK);
    ck_assert_int_eq(ilg_host_run(host, images, 1), ILG_OK);
    ilg_host_method m;
    ck_assert_int_eq(ilg_host_method_get(host, 0, 1, &m), ILG_OK);
    ck_assert_int_eq(m.status, ILG_HOST_REWRITTEN);
    FILE *mem = open_memstream(&text, &len);
    ck_assert_int_eq(ilg_host_write_report(host, ILG_REPORT_TEXT, mem), ILG_OK);
    fclose(mem);
    mem = open_memstream(&summary, &len);
    ck_assert_int_eq(ilg_host_write_report(host, ILG_REPORT_SUMMARY, mem), ILG_OK);
    fclose(mem);
    ck_assert_msg(strstr(text, m.name), "text report lacks %s: %s", m.name, text);
    ck_assert_msg(!strstr(summary, m.name), "summary names %s: %s", m.name, summary);
    /* The same counts line in both. */
    const char *line = strstr(text, "  5 methods, ");
    ck_assert_ptr_nonnull(line);
    ck_assert_ptr_nonnull(strstr(summary, line));
    ck_assert_int_eq(ilg_host_write_report(host, (ilg_report_format)7, stdout),
                     ILG_E_INVALID_ARG);
    free(text);
    free(summary);
}
END_TEST

START_TEST(bad_image_fails_but_shuts_down)
{
    const char *images[] = { calc, "/nonexistent.exe" };
    host = new_host(NULL);
    ck_assert_int_eq(ilg_host_load_profiler(host, ILG_PROF_REWRITE, TEST_CLSID), ILG_OK);
    ck_assert_int_ne(ilg_host_run(host, images, 2), ILG_OK);
    ck_assert_uint_eq(ilg_host_module_count(host), 1);
    ilg_host_method m;
    ck_assert_int_eq(ilg_host_method_get(host, 0, 1, &m), ILG_OK);
    ck_assert_int_eq(m.status, ILG_HOST_REWRITTEN);
}
END_TEST

START_TEST(bookkeeping_goes_through_the_host_heap)
{
    IHostMemoryManager *mem = NULL;
    ilg_hostmem_stats st;
    const char *images[] = { calc, types };

    ck_assert_int_eq(ilg_hostmem_create(NULL, &mem), ILG_OK);
    host = new_host(mem);
    ck_assert_int_eq(ilg_host_load_profiler(host, ILG_PROF_REWRITE, TEST_CLSID), ILG_OK);
    ck_assert_int_eq(ilg_host_run(host, images, 2), ILG_OK);
    ck_assert_int_eq(ilg_hostmem_stats_get(mem, &st), ILG_OK);
    ck_assert_uint_eq(st.heaps, 1);
    /* host, pattern-less: modules array, 2 module records + paths + method arrays,
     * names of rewritten methods, the profiler's enumerators... */
    ck_assert_uint_gt(st.allocations, 10);
    ilg_host_free(host);
    host = NULL;
    ck_assert_int_eq(ilg_hostmem_stats_get(mem, &st), ILG_OK);
    ck_assert_uint_eq(st.heaps, 0);
    char *text = log_text();
    ck_assert_msg(!strstr(text, "leaked"), "%s", text);
    free(text);
    mem->lpVtbl->Release(mem);
}
END_TEST

/* Every allocation in turn fails: each run either completes or stops with a clean
 * status, and nothing leaks (the host reports leaks in its log; ASan sees the rest). */
/* _i = 0: prof_rewrite on one thread; 1: prof_threads on three JIT threads (the
 * workers' state is the run's first allocation then; without it the run uses one);
 * 2: prof_recompile with recompilation on two threads over generics.exe (the generic
 * methods' instantiation records are allocated too). */
START_TEST(every_injected_fault_fails_cleanly)
{
    const char *images[] = { _i == 2 ? generics : calc };
    const char *prof = _i == 2 ? ILG_PROF_RECOMPILE : _i ? ILG_PROF_THREADS : ILG_PROF_REWRITE;
    int failed = 0, completed = 0;
    setenv("PROF_MODE", "pile", 1);
    for (uint64_t nth = 1; nth <= 400 && completed < 3; nth++) {
        IHostMemoryManager *mem = NULL;
        ilg_fault_policy pol = { .fail_nth = nth };
        ilg_host_options o = { .log = log_file,
                               .memory = NULL,
                               .jit_threads = _i == 2 ? 2 : _i ? 3 : 1,
                               .recompile = _i == 2 };
        ilg_host *h = NULL;
        ck_assert_int_eq(ilg_hostmem_create(NULL, &mem), ILG_OK);
        ck_assert_int_eq(ilg_hostmem_set_fault_policy(mem, &pol), ILG_OK);
        o.memory = mem;
        ilg_status s = ilg_host_new(&o, &h);
        if (s == ILG_OK) {
            s = ilg_host_load_profiler(h, prof, TEST_CLSID);
            if (s == ILG_OK)
                s = ilg_host_run(h, images, 1);
            ilg_host_free(h);
        }
        ilg_hostmem_stats st;
        ck_assert_int_eq(ilg_hostmem_stats_get(mem, &st), ILG_OK);
        ck_assert_uint_eq(st.heaps, 0);
        if (st.injected_faults == 0)
            completed++;
        else
            failed++;
        /* The image and the profiler are fine, so out of memory is the only failure;
         * some faults are absorbed (a name falls back to "?", the profiler is told
         * E_OUTOFMEMORY) and the run still succeeds. */
        ck_assert_msg(s == ILG_OK || s == ILG_E_NOMEM, "fault %llu gave %s",
                      (unsigned long long)nth, ilg_status_name(s));
        mem->lpVtbl->Release(mem);
    }
    ck_assert_int_gt(failed, 5);
    ck_assert_int_eq(completed, 3);
    char *text = log_text();
    ck_assert_msg(!strstr(text, "leaked"), "%s", text);
    if (_i == 1)
        ck_assert_msg(strstr(text, "no memory for 3 JIT threads' state: one thread runs"), "%s",
                      text);
    free(text);
}
END_TEST

static int exit_seven(void *ctx)
{
    return 7;
}

static _Noreturn int abort_now(void *ctx)
{
    abort();
}

static _Noreturn int sleep_forever(void *ctx)
{
    for (;;)
        pause();
}

static int segv_now(void *ctx)
{
    raise(SIGSEGV);
    return 0;
}

/* Stands in for a sanitizer's deadly-signal handler: reports and exits with a status. */
static void exit_42_handler(int sig)
{
    _exit(42);
}

START_TEST(isolation_reports_exit_signal_and_timeout)
{
    ilg_isolate_result r;
    ck_assert_int_eq(ilg_isolate_run(exit_seven, NULL, 0, &r), ILG_OK);
    ck_assert(r.exited);
    ck_assert_int_eq(r.exit_code, 7);
    ck_assert_int_eq(r.signal, 0);
    ck_assert_int_eq(ilg_isolate_run(abort_now, NULL, 5000, &r), ILG_OK);
    ck_assert(!r.exited && !r.timed_out);
    ck_assert_int_eq(r.signal, SIGABRT);
    ck_assert_str_eq(r.last_callback, "");
    ck_assert_int_eq(ilg_isolate_run(sleep_forever, NULL, 200, &r), ILG_OK);
    ck_assert(r.timed_out && !r.exited);
    ck_assert_int_eq(r.signal, SIGKILL);
    ck_assert_int_eq(ilg_isolate_run(NULL, NULL, 0, &r), ILG_E_INVALID_ARG);
}
END_TEST

/* A SIGSEGV handler the parent has (as a sanitizer build has one) must not turn the
 * child's crash into an exit: the child starts with the default action. */
START_TEST(isolation_crash_is_a_signal_despite_a_handler)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = exit_42_handler;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGSEGV, &sa, &old), 0);
    ilg_isolate_result r;
    ilg_status s = ilg_isolate_run(segv_now, NULL, 5000, &r);
    sigaction(SIGSEGV, &old, NULL);
    ck_assert_int_eq(s, ILG_OK);
    ck_assert_msg(!r.exited, "the child exited with %d instead of dying by SIGSEGV",
                  r.exit_code);
    ck_assert_int_eq(r.signal, SIGSEGV);
}
END_TEST

/* Mono's mscorlib (27,261 methods): enough work that every JIT thread gets some. */
#define MONO_MSCORLIB "/usr/lib/mono/4.5/mscorlib.dll"

typedef struct thread_run {
    int threads, started, finished, rewritten, twice, wrong_thread, created, destroyed,
        unannounced;
    uint32_t modules, methods[3];
    ilg_host_method *records[3]; /* [module][rid - 1] */
} thread_run;

/* One in-process run of prof_threads over images with `threads` JIT threads: what the
 * profiler counted and the host's records. */
static void run_threads(const char *const *images, uint32_t count, unsigned threads,
                        thread_run *out)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/ilg_prof_threads_%d.log", (int)getpid());
    setenv("PROF_LOG", path, 1);
    ilg_host_options o = { .log = log_file, .jit_threads = threads };
    ilg_host *h = NULL;
    memset(out, 0, sizeof *out);
    ck_assert_int_eq(ilg_host_new(&o, &h), ILG_OK);
    ck_assert_int_eq(ilg_host_load_profiler(h, ILG_PROF_THREADS, TEST_CLSID), ILG_OK);
    ck_assert_int_eq(ilg_host_run(h, images, count), ILG_OK);
    out->modules = ilg_host_module_count(h);
    ck_assert_uint_eq(out->modules, count);
    for (uint32_t i = 0; i < count; i++) {
        ilg_host_module hm;
        ck_assert_int_eq(ilg_host_module_get(h, i, &hm), ILG_OK);
        out->methods[i] = hm.method_count;
        out->records[i] = calloc(hm.method_count, sizeof *out->records[i]);
        ck_assert_ptr_nonnull(out->records[i]);
        for (uint32_t rid = 1; rid <= hm.method_count; rid++)
            ck_assert_int_eq(ilg_host_method_get(h, i, rid, &out->records[i][rid - 1]), ILG_OK);
    }
    /* The records' names and diagnostics live in the host: keep only what is compared. */
    for (uint32_t i = 0; i < count; i++)
        for (uint32_t r = 0; r < out->methods[i]; r++)
            out->records[i][r].name = out->records[i][r].diagnostic = NULL;
    ilg_host_free(h);
    char *text = fx_read_file(path, NULL);
    unlink(path);
    setenv("PROF_LOG", "/dev/null", 1);
    ck_assert_ptr_nonnull(text);
    const char *line = strstr(text, "threads=");
    ck_assert_msg(line, "no counts in the profiler's log: %s", text);
    ck_assert_int_eq(sscanf(line, "threads=%d started=%d finished=%d rewritten=%d twice=%d "
                                  "wrong_thread=%d created=%d destroyed=%d unannounced=%d",
                            &out->threads, &out->started, &out->finished, &out->rewritten,
                            &out->twice, &out->wrong_thread, &out->created, &out->destroyed,
                            &out->unannounced),
                     9);
    ck_assert_msg(strstr(text, "\nPASS\n"), "the profiler's checks failed: %s", text);
    free(text);
}

static void thread_run_free(thread_run *r)
{
    for (uint32_t i = 0; i < r->modules; i++)
        free(r->records[i]);
}

/* With jit_threads the JIT callbacks of a module come from several threads: every method
 * with IL exactly once, its Started and Finished from the same thread, every concurrent
 * SetILFunctionBody accepted; and the records are those of a run on one thread. */
START_TEST(jit_threads_share_out_every_method_once)
{
    if (!fx_require(access(MONO_MSCORLIB, R_OK) == 0,
                    MONO_MSCORLIB " not found (the fixtures are too small to share)"))
        return;
    const char *images[] = { calc, types, MONO_MSCORLIB };
    thread_run one, four;
    run_threads(images, 3, 1, &one);
    run_threads(images, 3, 4, &four);
    int with_il = 0;
    for (uint32_t i = 0; i < 3; i++)
        for (uint32_t r = 0; r < one.methods[i]; r++)
            with_il += one.records[i][r].old_rva != 0;
    ck_assert_int_gt(with_il, 24000); /* 24,395 of them in mscorlib */
    for (int k = 0; k < 2; k++) {
        const thread_run *t = k ? &four : &one;
        ck_assert_int_eq(t->started, with_il);
        ck_assert_int_eq(t->finished, with_il);
        ck_assert_int_eq(t->rewritten, with_il);
        ck_assert_int_eq(t->twice, 0);
        ck_assert_int_eq(t->wrong_thread, 0);
        /* Every JIT callback off the session's thread comes from an announced thread. */
        ck_assert_int_eq(t->unannounced, 0);
    }
    /* Both: the session's thread announced before the first image, as CoreCLR announces
     * its main thread, and never destroyed. Four: also three started per image, each
     * created, assigned and destroyed on itself (prof_threads checks each). */
    ck_assert_int_eq(one.created, 1);
    ck_assert_int_eq(one.destroyed, 0);
    ck_assert_int_eq(four.created, 1 + 9);
    ck_assert_int_eq(four.destroyed, 9);
    ck_assert_int_eq(one.threads, 1);
    /* 24,000 bodies take milliseconds to copy: the other threads start long before. */
    ck_assert_int_ge(four.threads, 2);
    ck_assert_int_le(four.threads, 4);
    for (uint32_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(one.methods[i], four.methods[i]);
        for (uint32_t r = 0; r < one.methods[i]; r++) {
            const ilg_host_method *a = &one.records[i][r], *b = &four.records[i][r];
            ck_assert_msg(a->status == b->status && a->jitted == b->jitted &&
                              a->new_size == b->new_size && a->old_rva == b->old_rva &&
                              (a->new_rva != 0) == (b->new_rva != 0),
                          "module %u method rid %u: %d/%d/%u on one thread, %d/%d/%u on four", i,
                          r + 1, a->status, a->jitted, a->new_size, b->status, b->jitted,
                          b->new_size);
            ck_assert_int_eq(a->status, a->old_rva ? ILG_HOST_REWRITTEN : ILG_HOST_UNCHANGED);
        }
    }
    thread_run_free(&one);
    thread_run_free(&four);
}
END_TEST

/* With recompile_strict a run over images whose methods a naive profiler rewrites at
 * every recompilation still runs to its end (every image, Shutdown), then fails with
 * its own status; the records count the bodies flagged. */
START_TEST(strict_recompile_fails_the_run_at_its_end)
{
    const char *images[] = { generics, calc };
    char path[64];
    snprintf(path, sizeof path, "/tmp/ilg_prof_recompile_%d.log", (int)getpid());
    setenv("PROF_LOG", path, 1);
    setenv("PROF_MODE", "pile", 1);
    ilg_host_options o = { .log = log_file, .recompile_strict = true };
    ck_assert_int_eq(ilg_host_new(&o, &host), ILG_OK);
    ck_assert_int_eq(ilg_host_load_profiler(host, ILG_PROF_RECOMPILE, TEST_CLSID), ILG_OK);
    ck_assert_int_eq(ilg_host_run(host, images, 2), ILG_E_PROF_REWRITTEN_AGAIN);
    char *diag = strdup(ilg_last_diag()->message);
    ck_assert_uint_eq(ilg_host_module_count(host), 2);
    uint64_t again = 0;
    for (uint32_t i = 0; i < 2; i++) {
        tier_expect e;
        tier_expect_load(images[i], true, &e);
        for (uint32_t rid = 1; rid <= e.methods; rid++) {
            ilg_host_method m;
            ck_assert_int_eq(ilg_host_method_get(host, i, rid, &m), ILG_OK);
            uint32_t events = (uint32_t)e.fids[rid - 1] * e.per_fid[rid - 1];
            ck_assert_uint_eq(m.jit_events, events);
            ck_assert_uint_eq(m.set_calls, events);
            ck_assert_uint_eq(m.rewritten_again, events ? events - 1 : 0);
            again += m.rewritten_again;
        }
        tier_expect_free(&e);
    }
    ck_assert_uint_gt(again, 0);
    char want[64];
    snprintf(want, sizeof want, "%llu bodies rejected", (unsigned long long)again);
    ck_assert_msg(strstr(diag, want), "%s", diag);
    free(diag);
    ilg_host_free(host);
    host = NULL;
    char *text = fx_read_file(path, NULL);
    unlink(path);
    setenv("PROF_LOG", "/dev/null", 1);
    ck_assert_ptr_nonnull(text);
    /* Shutdown came: the counts line and the verdict. */
    ck_assert_msg(strstr(text, "set_unsupported=") && strstr(text, "\nPASS\n"), "%s", text);
    free(text);
}
END_TEST

/* One in-process run of prof_recompile (PROF_MODE once) with recompilation over images
 * on `threads` JIT threads: the host's records, and the profiler's event count. */
static uint32_t recompile_records(const char *const *images, uint32_t count, unsigned threads,
                                  ilg_host_method **records, int *events)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/ilg_prof_recompile_%d.log", (int)getpid());
    setenv("PROF_LOG", path, 1);
    setenv("PROF_MODE", "once", 1);
    ilg_host_options o = { .log = log_file, .jit_threads = threads, .recompile = true };
    ilg_host *h = NULL;
    ck_assert_int_eq(ilg_host_new(&o, &h), ILG_OK);
    ck_assert_int_eq(ilg_host_load_profiler(h, ILG_PROF_RECOMPILE, TEST_CLSID), ILG_OK);
    ck_assert_int_eq(ilg_host_run(h, images, count), ILG_OK);
    uint32_t total = 0;
    for (uint32_t i = 0; i < count; i++) {
        ilg_host_module hm;
        ck_assert_int_eq(ilg_host_module_get(h, i, &hm), ILG_OK);
        records[i] = calloc(hm.method_count, sizeof *records[i]);
        ck_assert_ptr_nonnull(records[i]);
        for (uint32_t rid = 1; rid <= hm.method_count; rid++) {
            ilg_host_method *m = &records[i][rid - 1];
            ck_assert_int_eq(ilg_host_method_get(h, i, rid, m), ILG_OK);
            m->name = m->diagnostic = NULL;
        }
        total += hm.method_count;
    }
    ilg_host_free(h);
    char *text = fx_read_file(path, NULL);
    unlink(path);
    setenv("PROF_LOG", "/dev/null", 1);
    ck_assert_ptr_nonnull(text);
    const char *line = strstr(text, "events=");
    ck_assert_msg(line && sscanf(line, "events=%d", events) == 1, "%s", text);
    ck_assert_msg(strstr(text, "\nPASS\n"), "the profiler's checks failed: %s", text);
    free(text);
    return total;
}

/* Recompilation on four JIT threads gives each method of Mono's mscorlib the events its
 * IL calls for (tier_expect.h, from the image) and the records of a run on one thread:
 * the same counts, statuses and body sizes, nothing flagged. Each pass has threads of
 * its own; ThreadSanitizer runs this too. */
START_TEST(recompile_on_threads_matches_one_thread)
{
    if (!fx_require(access(MONO_MSCORLIB, R_OK) == 0, MONO_MSCORLIB " not found"))
        return;
    const char *images[] = { tiers, generics, MONO_MSCORLIB };
    ilg_host_method *one[3], *four[3];
    int events1 = 0, events4 = 0;
    uint32_t n = recompile_records(images, 3, 1, one, &events1);
    ck_assert_uint_eq(recompile_records(images, 3, 4, four, &events4), n);
    uint64_t want = 0, osr = 0, generic = 0;
    for (uint32_t i = 0; i < 3; i++) {
        tier_expect e;
        tier_expect_load(images[i], true, &e);
        for (uint32_t r = 0; r < e.methods; r++) {
            const ilg_host_method *a = &one[i][r], *b = &four[i][r];
            uint32_t events = (uint32_t)e.fids[r] * e.per_fid[r];
            ck_assert_msg(a->jit_events == events && b->jit_events == events,
                          "module %u rid %u: %u JIT events on one thread, %u on four, the IL "
                          "says %u",
                          i, r + 1, a->jit_events, b->jit_events, events);
            ck_assert_msg(a->status == b->status && a->new_size == b->new_size &&
                              a->set_calls == b->set_calls && a->jitted == b->jitted,
                          "module %u rid %u differs between one thread and four", i, r + 1);
            ck_assert_uint_eq(a->set_calls, events);
            ck_assert_uint_eq(a->rewritten_again + b->rewritten_again, 0);
        }
        want += e.events;
        osr += e.osr;
        generic += e.generic;
        tier_expect_free(&e);
        free(one[i]);
        free(four[i]);
    }
    ck_assert_int_eq(events1, (int)want);
    ck_assert_int_eq(events4, (int)want);
    /* mscorlib has thousands of loops and generic methods. */
    ck_assert_uint_gt(osr, 1000);
    ck_assert_uint_gt(generic, 1000);
    printf("recompile over mscorlib and two fixtures: %u methods, %llu JIT events, %llu with "
           "OSR, %llu generic\n",
           n, (unsigned long long)want, (unsigned long long)osr, (unsigned long long)generic);
}
END_TEST

START_TEST(jit_threads_are_bounded)
{
    ilg_host_options o = { .log = log_file, .jit_threads = ILG_HOST_MAX_JIT_THREADS + 1 };
    ck_assert_int_eq(ilg_host_new(&o, &host), ILG_E_INVALID_ARG);
    ck_assert_ptr_null(host);
    ck_assert_ptr_nonnull(strstr(ilg_last_diag()->message, "65 JIT threads"));
}
END_TEST

static Suite *host_suite(void)
{
    Suite *s = suite_create("host");
    TCase *tc = tcase_create("host");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, load_failures_have_their_statuses);
    tcase_add_test(tc, environment_enables_profiling_as_coreclr);
    tcase_add_test(tc, environment_must_name_both);
    tcase_add_test(tc, records_match_the_metadata);
    tcase_add_test(tc, report_json_lists_every_method);
    tcase_add_test(tc, report_summary_names_no_rewritten_method);
    tcase_add_test(tc, bad_image_fails_but_shuts_down);
    tcase_add_test(tc, bookkeeping_goes_through_the_host_heap);
    tcase_add_loop_test(tc, every_injected_fault_fails_cleanly, 0, 3);
    tcase_add_test(tc, isolation_reports_exit_signal_and_timeout);
    tcase_add_test(tc, isolation_crash_is_a_signal_despite_a_handler);
    tcase_add_test(tc, jit_threads_are_bounded);
    tcase_add_test(tc, strict_recompile_fails_the_run_at_its_end);
    suite_add_tcase(s, tc);
    /* Its own case so that the ThreadSanitizer job can run it alone (CK_RUN_CASE). */
    TCase *threads = tcase_create("threads");
    tcase_add_checked_fixture(threads, setup, teardown);
    tcase_set_timeout(threads, 300);
    tcase_add_test(threads, jit_threads_share_out_every_method_once);
    tcase_add_test(threads, recompile_on_threads_matches_one_thread);
    suite_add_tcase(s, threads);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(host_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
