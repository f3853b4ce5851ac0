/* cmd_roundtrip.c: `ilgraft roundtrip IMAGE...` and the body walk it shares with
 * `ilgraft verify`: every method body of every image is decoded, verified with the stack
 * effects from the metadata, and (roundtrip) re-encoded in preserve mode, which must give
 * the original bytes, and in optimize mode, which must decode and verify again. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ilg_private.h"
#include "ilgraft/ilbody.h"
#include "ilgraft/metadata.h"

/* ilg_md_call_shape memoises per image, for all the workers. */
static ilg_status call_shape(void *ctx, uint32_t token, uint32_t *pops, bool *has_this, bool *pushes)
{
    return ilg_md_call_shape(ctx, token, pops, has_this, pushes);
}

typedef struct fail_rec {
    uint32_t token;
    const char *stage;
    char rule[40];
    ilg_where where; /* what offset is: an IL offset, a file offset or an RVA */
    uint64_t offset;
    char message[sizeof(((ilg_diag *)0)->message)];
} fail_rec;

typedef struct counts {
    unsigned long bodies, decoded, verified, identical, optimized, bytes_in, bytes_opt;
} counts;

/* One worker: its own bodies, buffers, counts and failures. */
typedef struct worker {
    pthread_t thread;
    struct walk *w;
    const ilg_metadata *md;
    ilg_body *b, *again;
    ilg_buffer buf;
    ilg_findings f;
    counts n;
    fail_rec *fails;
    size_t nfails, cap;
    bool oom;
} worker;

typedef struct walk {
    bool roundtrip, json, quiet, progress, check;
    ilg_verify_level level;
    ilg_md_scope scope;      /* the image being walked, and where its references lead */
    unsigned long images, unreadable, failure_count;
    counts n;
    json_t *failures;
    double last_progress;
    /* the image being walked */
    const char *path;
    uint32_t rows;
    atomic_uint next_rid;
} walk;

#define CHUNK 256

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void failure(worker *k, uint32_t token, const char *stage, const char *rule, ilg_where where,
                    uint64_t offset, const char *message)
{
    if (ilg__grow_size((void **)&k->fails, &k->cap, k->nfails + 1, sizeof *k->fails) != ILG_OK) {
        k->oom = true;
        return;
    }
    fail_rec *r = &k->fails[k->nfails++];
    r->token = token;
    r->stage = stage;
    snprintf(r->rule, sizeof r->rule, "%s", rule);
    r->where = where;
    r->offset = offset;
    snprintf(r->message, sizeof r->message, "%s", message);
}

static void fail_diag(worker *k, uint32_t token, const char *stage, ilg_status st)
{
    const ilg_diag *d = ilg_last_diag();
    const bool ours = d->status == st;
    failure(k, token, stage, ilg_status_name(st), ours ? d->where : ILG_WHERE_NONE,
            ours ? d->offset : 0, ours ? d->message : ilg_strerror(st));
}

static void show_progress(walk *w, const char *image, size_t k, size_t n)
{
    double t = now_s();
    if (!w->progress || t - w->last_progress < 0.2)
        return;
    w->last_progress = t;
    const char *base = strrchr(image, '/');
    fprintf(stderr, "\r\033[K[%zu/%zu] %lu bodies, %lu failures  %s", k + 1, n, w->n.bodies,
            w->failure_count, base ? base + 1 : image);
}

static void walk_body(worker *k, uint32_t rid)
{
    walk *w = k->w;
    const ilg_metadata *md = k->md;
    ilg_body *b = k->b;
    ilg_findings *f = &k->f;
    const uint32_t token = 0x06000000u | rid;
    ilg_method_body mb;
    ilg_status st;
    if ((st = ilg_md_method_body(md, rid, &mb)) != ILG_OK) {
        k->n.bodies++;
        fail_diag(k, token, "locate", st);
        return;
    }
    if (mb.kind != ILG_BODY_TINY && mb.kind != ILG_BODY_FAT)
        return;
    k->n.bodies++;
    if ((st = ilg_body_decode(b, mb.header, mb.body_size)) != ILG_OK) {
        fail_diag(k, token, "decode", st);
        return;
    }
    k->n.decoded++;
    uint32_t pops;
    bool has_this, pushes;
    ilg_stack_resolver r = { call_shape, (void *)md, -1 };
    if (ilg_md_call_shape(md, token, &pops, &has_this, &pushes) == ILG_OK)
        r.ret_pops = pushes;
    ilg_type_resolver tr;
    ilg_md_type_resolver(&w->scope, token, &tr);
    const ilg_verify_options vo = { w->level, &r, &tr };
    if ((st = ilg_body_verify_opts(b, &vo, f)) != ILG_OK) {
        fail_diag(k, token, "verify", st);
        return;
    }
    if (f->errors == 0)
        k->n.verified++;
    for (uint32_t i = 0; i < f->count; i++)
        failure(k, token, f->items[i].severity == ILG_SEVERITY_WARNING ? "warning" : "verify",
                ilg_status_name(f->items[i].rule), ILG_WHERE_IL, f->items[i].offset,
                f->items[i].message);
    if (!w->roundtrip)
        return;
    /* preserve: no resolver, so nothing but the bytes we read decides the output; it
     * only ever grows forms, so on an untouched body it leaves b as it was */
    if ((st = ilg_body_encode(b, ILG_ENCODE_PRESERVE, NULL, &k->buf)) != ILG_OK) {
        fail_diag(k, token, "preserve", st);
        return;
    }
    const ilg_buffer *buf = &k->buf;
    if (buf->len == mb.body_size && memcmp(buf->data, mb.header, buf->len) == 0) {
        k->n.identical++;
    } else {
        size_t at = 0;
        while (at < buf->len && at < mb.body_size && buf->data[at] == mb.header[at])
            at++;
        char msg[160];
        snprintf(msg, sizeof msg, "preserve mode wrote %zu bytes for a %u-byte body, first difference at body byte %zu",
                 buf->len, mb.body_size, at);
        /* the position of that byte in the image: the body's RVA plus the byte */
        failure(k, token, "preserve", "BYTES_DIFFER", ILG_WHERE_RVA, (uint64_t)mb.rva + at, msg);
    }
    /* The verifier's data flow already found the exact maxstack; reuse it. */
    const bool exact = f->count == 0 && f->depth_complete && f->max_depth <= 0xFFFF;
    if (exact)
        b->max_stack = (uint16_t)f->max_depth;
    if ((st = ilg_body_encode(b, exact ? ILG_ENCODE_OPTIMIZE_KEEP_MAXSTACK : ILG_ENCODE_OPTIMIZE,
                              exact ? NULL : &r, &k->buf)) != ILG_OK) {
        fail_diag(k, token, "optimize", st);
        return;
    }
    if (!w->check) {
        k->n.optimized++;
        k->n.bytes_in += mb.body_size;
        k->n.bytes_opt += buf->len;
        return;
    }
    if ((st = ilg_body_decode(k->again, buf->data, buf->len)) != ILG_OK) {
        fail_diag(k, token, "optimize-decode", st);
        return;
    }
    if ((st = ilg_body_verify(k->again, &r, f)) != ILG_OK) {
        fail_diag(k, token, "optimize-verify", st);
        return;
    }
    for (uint32_t i = 0; i < f->count; i++)
        failure(k, token, "optimize-verify", ilg_status_name(f->items[i].rule), ILG_WHERE_IL,
                f->items[i].offset, f->items[i].message);
    if (f->count == 0) {
        k->n.optimized++;
        k->n.bytes_in += mb.body_size;
        k->n.bytes_opt += buf->len;
    }
}

static void *worker_main(void *arg)
{
    worker *k = arg;
    walk *w = k->w;
    for (;;) {
        uint32_t first = atomic_fetch_add(&w->next_rid, CHUNK);
        if (first > w->rows)
            break;
        uint32_t last = first + CHUNK - 1 < w->rows ? first + CHUNK - 1 : w->rows;
        for (uint32_t rid = first; rid <= last; rid++)
            walk_body(k, rid);
    }
    return NULL;
}

static int cmp_fail(const void *a, const void *b)
{
    const fail_rec *x = a, *y = b;
    if (x->token != y->token)
        return x->token < y->token ? -1 : 1;
    if (x->where != y->where)
        return x->where < y->where ? -1 : 1;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

/* One failure as a line of text or an entry of the JSON "failures" list. name is the
 * method's, or NULL for a failure of the whole image. */
static void print_failure(walk *w, const fail_rec *r, const char *name)
{
    if (w->json) {
        json_t *o = json_pack("{s:s}", "path", w->path);
        if (r->token) {
            json_object_set_new(o, "token", cli_json_u64(r->token));
            json_object_set_new(o, "name", json_string(name ? name : ""));
        }
        json_object_set_new(o, "stage", json_string(r->stage));
        json_object_set_new(o, "error", cli_json_error(r->rule, r->message, r->where, r->offset));
        json_array_append_new(w->failures, o);
        return;
    }
    if (w->quiet || !r->token)
        return;
    char at[64];
    printf("%s: 0x%08x: %s: ", w->path, r->token, r->stage);
    if (r->where != ILG_WHERE_NONE)
        printf("%s: ", cli_where_text(r->where, r->offset, at, sizeof at));
    printf("%s: %s\n", r->rule, r->message);
}

/* Merges the workers' failures of one image in token order, then prints or keeps them. */
static void report_failures(walk *w, const ilg_metadata *md, worker *ks, unsigned nk)
{
    size_t total = 0;
    for (unsigned i = 0; i < nk; i++)
        total += ks[i].nfails;
    if (!total)
        return;
    fail_rec *all = malloc(total * sizeof *all);
    if (!all)
        return;
    size_t n = 0;
    for (unsigned i = 0; i < nk; i++) {
        if (ks[i].nfails)
            memcpy(all + n, ks[i].fails, ks[i].nfails * sizeof *all);
        n += ks[i].nfails;
        ks[i].nfails = 0;
    }
    qsort(all, n, sizeof *all, cmp_fail);
    w->failure_count += n;
    if (w->progress && !w->json && !w->quiet)
        fputs("\r\033[K", stderr);
    char name[1024];
    for (size_t i = 0; i < n; i++) {
        const fail_rec *r = &all[i];
        if (w->json && ilg_md_method_name(md, r->token & 0xFFFFFF, name, sizeof name, NULL) != ILG_OK)
            name[0] = 0; /* a name that does not decode is left empty; the error says why */
        print_failure(w, r, name);
    }
    free(all);
}

/* An image that does not open or has no metadata: reported on stderr, and counted as a
 * failure of stage "open" or "metadata" in the summary and the JSON. */
static int unreadable(walk *w, const char *path, const char *stage, ilg_status st)
{
    const ilg_diag *d = ilg_last_diag();
    const bool ours = d->status == st;
    fail_rec r = { .stage = stage, .where = ours ? d->where : ILG_WHERE_NONE,
                   .offset = ours ? d->offset : 0 };
    snprintf(r.rule, sizeof r.rule, "%s", ilg_status_name(st));
    snprintf(r.message, sizeof r.message, "%s", ours ? d->message : ilg_strerror(st));
    if (w->progress && !w->json && !w->quiet)
        fputs("\r\033[K", stderr);
    fflush(stdout);
    cli_fail_line(path, st);
    w->path = path;
    w->unreadable++;
    w->failure_count++;
    print_failure(w, &r, NULL);
    return CLI_BAD_INPUT;
}

static int walk_image(walk *w, const char *path, worker *ks, unsigned nk)
{
    ilg_image *img;
    const ilg_metadata *md;
    ilg_status st = ilg_image_open(path, NULL, &img);
    w->images++;
    if (st != ILG_OK)
        return unreadable(w, path, "open", st);
    if ((st = ilg_image_metadata(img, &md)) != ILG_OK) {
        int rc = unreadable(w, path, "metadata", st);
        ilg_image_close(img);
        return rc;
    }
    w->path = path;
    /* References that leave the image are followed into the assemblies beside it; out
     * of memory there leaves them unknown, which no rule holds against a body. */
    w->scope = (ilg_md_scope){ md, NULL };
    if (w->level >= ILG_VERIFY_JIT)
        ilg_md_universe_beside(path, md, &w->scope.universe);
    w->rows = ilg_md_row_count(md, ILG_TBL_MethodDef);
    atomic_store(&w->next_rid, 1);
    /* small images are not worth a thread */
    const unsigned use = w->rows > 2 * CHUNK ? nk : 1;
    for (unsigned i = 0; i < nk; i++)
        ks[i].md = md;
    unsigned started = 1;
    for (unsigned i = 1; i < use; i++)
        if (pthread_create(&ks[i].thread, NULL, worker_main, &ks[i]) == 0)
            started = i + 1;
        else
            break;
    worker_main(&ks[0]);
    for (unsigned i = 1; i < started; i++)
        pthread_join(ks[i].thread, NULL);
    for (unsigned i = 0; i < nk; i++) {
        counts *c = &ks[i].n;
        w->n.bodies += c->bodies;
        w->n.decoded += c->decoded;
        w->n.verified += c->verified;
        w->n.identical += c->identical;
        w->n.optimized += c->optimized;
        w->n.bytes_in += c->bytes_in;
        w->n.bytes_opt += c->bytes_opt;
        memset(c, 0, sizeof *c);
    }
    report_failures(w, md, ks, nk);
    for (unsigned i = 0; i < nk; i++) /* their caches know this image's tokens */
        ilg_findings_free(&ks[i].f);
    ilg_md_universe_free(w->scope.universe);
    w->scope.universe = NULL;
    ilg_image_close(img);
    return CLI_OK;
}

/* The counts: a JSON object with the failures, or one line of text. */
static int print_summary(walk *w, double secs)
{
    if (w->json) {
        json_t *o = json_object();
        json_object_set_new(o, "images", cli_json_u64(w->images));
        json_object_set_new(o, "images_unreadable", cli_json_u64(w->unreadable));
        json_object_set_new(o, "bodies", cli_json_u64(w->n.bodies));
        json_object_set_new(o, "decoded", cli_json_u64(w->n.decoded));
        json_object_set_new(o, "verified", cli_json_u64(w->n.verified));
        if (w->roundtrip) {
            json_object_set_new(o, "identical", cli_json_u64(w->n.identical));
            json_object_set_new(o, w->check ? "optimized_valid" : "optimized", cli_json_u64(w->n.optimized));
            json_object_set_new(o, "bytes_original", cli_json_u64(w->n.bytes_in));
            json_object_set_new(o, "bytes_optimized", cli_json_u64(w->n.bytes_opt));
        }
        json_object_set_new(o, "failure_count", cli_json_u64(w->failure_count));
        json_object_set_new(o, "failures", w->failures);
        w->failures = NULL;
        return cli_print_json(o);
    }
    printf("images %lu", w->images);
    if (w->unreadable)
        printf(" (%lu unreadable)", w->unreadable);
    printf(", bodies %lu, decoded %lu, verified %lu", w->n.bodies, w->n.decoded, w->n.verified);
    if (w->roundtrip)
        printf(", identical %lu (preserve), optimized%s %lu (%lu -> %lu bytes)", w->n.identical,
               w->check ? " and valid" : "", w->n.optimized, w->n.bytes_in, w->n.bytes_opt);
    printf(", failures %lu, %.2f s\n", w->failure_count, secs);
    return CLI_OK;
}

static void help(bool roundtrip)
{
    if (roundtrip)
        printf("usage: ilgraft roundtrip [--json] [--quiet] [--no-progress] IMAGE...\n\n"
               "Decodes every method body of every image, verifies it (stack depths from the\n"
               "metadata's signatures), re-encodes it in preserve mode (must give the same\n"
               "bytes) and in optimize mode (shortest forms, exact maxstack). Prints every\n"
               "failure with its token, IL offset and reason, then a summary.\n\n"
               "  --check        also decode and verify every optimize-mode body\n");
    else
        printf("usage: ilgraft verify [--level L] [--json] [--quiet] [--no-progress] IMAGE...\n\n"
               "Decodes and verifies every method body of every image: stack depth on every\n"
               "path and at merges, maxstack, EH entry depths, leave/endfinally/endfilter/\n"
               "rethrow placement, ret depth, fall-through, branches into or out of EH blocks,\n"
               "EH nesting and order, prefixes; at level jit also what CoreCLR's JIT rejects\n"
               "(indexes, tokens, members, the types on the stack: docs/ilbody.md). References\n"
               "to other assemblies are followed into the image's directory and its Facades.\n"
               "Prints every finding and a summary.\n\n"
               "  --level L      structural, jit (default) or strict (jit, and ECMA-335\n"
               "                verifiability findings as warnings)\n");
    printf("  --json         a JSON object with the counts and a \"failures\" list\n"
           "  --threads N    worker threads (default: one per online CPU)\n"
           "  --quiet        the summary only\n"
           "  --no-progress  no progress line (shown on a terminal by default)\n"
           "  --help         this text\n"
           "Exit status 1 when any body fails.\n");
}

int cli_body_walk(int argc, char **argv, bool roundtrip)
{
    const char *cmd = roundtrip ? "roundtrip" : "verify";
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' }, { "quiet", no_argument, NULL, 'q' },
        { "no-progress", no_argument, NULL, 'P' }, { "threads", required_argument, NULL, 't' },
        { "check", no_argument, NULL, 'c' }, { "level", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' }, { 0 } };
    walk w = { .roundtrip = roundtrip, .progress = isatty(STDERR_FILENO) != 0,
               .level = roundtrip ? ILG_VERIFY_STRUCTURAL : ILG_VERIFY_JIT };
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t threads = cpus > 0 ? (uint64_t)cpus : 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "jqh", opts, NULL)) != -1) {
        switch (c) {
        case 'j': w.json = true; break;
        case 'q': w.quiet = true; break;
        case 'P': w.progress = false; break;
        case 'c': w.check = true; break;
        case 'l':
            if (!strcmp(optarg, "structural"))
                w.level = ILG_VERIFY_STRUCTURAL;
            else if (!strcmp(optarg, "jit"))
                w.level = ILG_VERIFY_JIT;
            else if (!strcmp(optarg, "strict"))
                w.level = ILG_VERIFY_STRICT;
            else
                return cli_usage_error(cmd, "--level is structural, jit or strict");
            break;
        case 't':
            if (!cli_parse_u64(optarg, &threads) || threads == 0 || threads > 64)
                return cli_usage_error(cmd, "--threads needs a number from 1 to 64");
            break;
        case 'h': help(roundtrip); return CLI_OK;
        default: return cli_usage_error(cmd, "unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage_error(cmd, "expected at least one IMAGE");
    if (w.json)
        w.failures = json_array();
    else
        cli_buffer_stdout();
    const unsigned nk = (unsigned)threads;
    worker *ks = calloc(nk, sizeof *ks);
    int rc = CLI_OK;
    if (!ks) {
        rc = cli_fail(cmd, ILG_E_NOMEM);
        goto done;
    }
    for (unsigned i = 0; i < nk; i++) {
        ks[i].w = &w;
        if (ilg_body_new(&ks[i].b) != ILG_OK || ilg_body_new(&ks[i].again) != ILG_OK) {
            rc = cli_fail(cmd, ILG_E_NOMEM);
            goto done;
        }
    }
    const double t0 = now_s();
    const size_t n = (size_t)(argc - optind);
    for (size_t k = 0; k < n; k++) {
        show_progress(&w, argv[optind + k], k, n);
        if (walk_image(&w, argv[optind + k], ks, nk) != CLI_OK)
            rc = CLI_BAD_INPUT;
    }
    if (w.progress && w.last_progress > 0)
        fputs("\r\033[K", stderr);
    const double secs = now_s() - t0;
    for (unsigned i = 0; i < nk; i++)
        if (ks[i].oom) {
            fprintf(stderr, "ilgraft: %s: out of memory recording failures; the list is incomplete\n", cmd);
            rc = CLI_BAD_INPUT;
        }
    if (w.failure_count)
        rc = CLI_BAD_INPUT;
    if (print_summary(&w, secs) != CLI_OK)
        rc = CLI_BAD_INPUT;
done:
    json_decref(w.failures);
    for (unsigned i = 0; ks && i < nk; i++) {
        ilg_body_free(ks[i].b);
        ilg_body_free(ks[i].again);
        free(ks[i].buf.data);
        ilg_findings_free(&ks[i].f);
        free(ks[i].fails);
    }
    free(ks);
    return rc;
}

int cmd_roundtrip(int argc, char **argv)
{
    return cli_body_walk(argc, argv, true);
}
