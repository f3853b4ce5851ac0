/* report.c: the harness host's results (ilgraft/host.h): the module and method records
 * as public structs, and the per-method report as JSON or text. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "host_private.h"
#include "inline_private.h"

ILG_API uint32_t ilg_host_module_count(const ilg_host *host)
{
    return host ? host->module_count : 0;
}

ILG_API ilg_status ilg_host_module_get(const ilg_host *host, uint32_t index, ilg_host_module *out)
{
    if (!host || !out || index >= host->module_count)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, index, "no module %u", index);
    const host_module *m = host->modules[index];
    out->path = m->path;
    out->image_size = m->info.image_size;
    out->arena_offset = m->info.arena_offset;
    /* The image's methods and those a profiler defined (DefineMethod). */
    out->method_count = m->method_count + atomic_load(&m->added_count);
    return ILG_OK;
}

/* A method's record as ilg_host_method, without its name. */
static void method_fill(const host_method *meth, ilg_host_method *out)
{
    out->token = meth->token;
    out->old_rva = meth->old_rva;
    out->old_size = meth->old_size;
    out->new_rva = meth->new_rva;
    out->new_size = meth->new_size;
    out->status = meth->status;
    out->jitted = meth->jitted;
    out->diagnostic = meth->diagnostic;
    out->jit_events = atomic_load_explicit(&meth->jit_events, memory_order_relaxed);
    out->set_calls = atomic_load_explicit(&meth->set_calls, memory_order_relaxed);
    out->rewritten_again = meth->rewritten_again;
    const host_rejit *r = atomic_load_explicit(&meth->rejit, memory_order_acquire);
    out->rejit_status = r ? (ilg_host_rejit_status)r->status : ILG_HOST_REJIT_NONE;
    out->rejit_id = r && r->id_count ? r->ids[r->id_count - 1] : 0;
    out->rejit_rva = r ? r->rva : 0;
    out->rejit_size = r ? r->size : 0;
    out->rejit_requests = r ? r->requests : 0;
    out->rejit_reverts = r ? r->reverts : 0;
    out->rejit_warnings = r ? r->warnings : 0;
    out->rejit_pending = r && r->pending;
    out->rejit_as_inliner = r ? r->as_inliner : 0;
    out->rejit_warning = r ? r->warning : NULL;
    out->rejit_diagnostic = r ? r->diagnostic : NULL;
}

static const char *rejit_status_text(ilg_host_rejit_status s)
{
    switch (s) {
    case ILG_HOST_REJIT_REJITTED: return "rejitted";
    case ILG_HOST_REJIT_SAME_IL: return "rejitted-same-il";
    case ILG_HOST_REJIT_REJECTED: return "rejit-rejected";
    case ILG_HOST_REJIT_REVERTED: return "reverted";
    default: return "none";
    }
}

/* The ReJIT part of a method's JSON object, when it was ever requested. */
static void rejit_json(json_t *o, const ilg_host_method *hm)
{
    if (!hm->rejit_requests)
        return;
    json_t *j = json_object();
    json_object_set_new(j, "status", json_string(rejit_status_text(hm->rejit_status)));
    json_object_set_new(j, "rejit_id", json_integer(hm->rejit_id));
    json_object_set_new(j, "rva", json_integer(hm->rejit_rva));
    json_object_set_new(j, "size", json_integer(hm->rejit_size));
    json_object_set_new(j, "requests", json_integer(hm->rejit_requests));
    json_object_set_new(j, "reverts", json_integer(hm->rejit_reverts));
    json_object_set_new(j, "as_inliner", json_integer(hm->rejit_as_inliner));
    json_object_set_new(j, "pending", json_boolean(hm->rejit_pending));
    json_object_set_new(j, "warnings", json_integer(hm->rejit_warnings));
    if (hm->rejit_warning)
        json_object_set_new(j, "warning", json_string(hm->rejit_warning));
    if (hm->rejit_diagnostic)
        json_object_set_new(j, "diagnostic", json_string(hm->rejit_diagnostic));
    json_object_set_new(o, "rejit", j);
}

/* The text report's ReJIT line under a method (and its warning, its rejection). */
static void rejit_text(FILE *to, const host_method *meth)
{
    ilg_host_method hm;
    method_fill(meth, &hm);
    fprintf(to, "      rejit: %s, ReJITID %u, %u requested, %u reverted", rejit_status_text(hm.rejit_status),
            hm.rejit_id, hm.rejit_requests, hm.rejit_reverts);
    if (hm.rejit_as_inliner)
        fprintf(to, " (%u as an inliner)", hm.rejit_as_inliner);
    if (hm.rejit_status == ILG_HOST_REJIT_REJITTED)
        fprintf(to, ", body 0x%08x %u bytes", hm.rejit_rva, hm.rejit_size);
    if (hm.rejit_pending)
        fprintf(to, ", a request never served (the method was not compiled)");
    fputc('\n', to);
    if (hm.rejit_diagnostic)
        fprintf(to, "      rejit body rejected: %s\n", hm.rejit_diagnostic);
    if (hm.rejit_warnings)
        fprintf(to, "      ReJIT protocol %s (%u): %s\n",
                meth->module->host->strict_rejit ? "errors" : "warnings", hm.rejit_warnings,
                hm.rejit_warning ? hm.rejit_warning : "?");
}

ILG_API ilg_status ilg_host_method_get(const ilg_host *host, uint32_t index, uint32_t rid,
                                       ilg_host_method *out)
{
    if (!host || !out || index >= host->module_count)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, index, "no module %u", index);
    host_module *m = host->modules[index];
    host_method *meth = ilg__host_method_at(m, rid);
    if (!meth)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_NONE, rid, "method rid %u outside 1..%u", rid,
                         m->method_count + atomic_load(&m->added_count));
    method_fill(meth, out);
    out->name = ilg__host_method_name(meth);
    return ILG_OK;
}

static const char *status_text(ilg_host_method_status s)
{
    switch (s) {
    case ILG_HOST_REWRITTEN: return "rewritten";
    case ILG_HOST_REJECTED: return "rejected";
    default: return "unchanged";
    }
}

/* "unsupported calls, by name": the unsupported Info methods the profiler called
 * (info_unsupported.def order), with their counts. */
static json_t *unsupported_json(const ilg_host *host)
{
    json_t *o = json_object();
    for (unsigned i = 0; o && i < HOST_UNSUP_COUNT; i++) {
        uint32_t n = atomic_load_explicit(&host->unsupported[i], memory_order_relaxed);
        if (n)
            json_object_set_new(o, ilg__host_unsupported_name(i), json_integer(n));
    }
    return o;
}

static void unsupported_text(const ilg_host *host, FILE *to)
{
    const char *sep = "unsupported calls, by name: ";
    for (unsigned i = 0; i < HOST_UNSUP_COUNT; i++) {
        uint32_t n = atomic_load_explicit(&host->unsupported[i], memory_order_relaxed);
        if (n) {
            fprintf(to, "%s%s %u", sep, ilg__host_unsupported_name(i), n);
            sep = ", ";
        }
    }
    if (sep[0] == ',')
        fputc('\n', to);
    /* Calls that broke CoreCLR's call rules and got its refusal (ilg__host_entry). */
    uint32_t refused = atomic_load_explicit(&host->refused, memory_order_relaxed);
    if (refused)
        fprintf(to, "calls refused by CoreCLR's call rules: %u\n", refused);
}

/* The stale-inliner warning's text (docs/profiler.md, "Inlining"). */
static void stale_text(const host_inline_pair *p, char *buf, size_t size)
{
    snprintf(buf, size,
             "stale inlinee: %s (0x%08x) inlined %s (0x%08x), whose body SetILFunctionBody "
             "changed afterwards; the inliner's code keeps the old IL (CoreCLR does not "
             "recompile inliners: dotnet/runtime#48081; use RequestReJITWithInliners)",
             ilg__host_method_name(p->caller), p->caller->token, ilg__host_method_name(p->callee),
             p->callee->token);
}

/* Under --inline, the module's "inlining" member: the call sites reported, refused, and
 * every inliner/inlinee pair; and its stale-inliner warnings. */
static json_t *inlining_json(host_module *m, json_t **warnings)
{
    host_inline_pair *pairs = NULL;
    uint32_t n = 0, sites = 0, refused = 0;
    char text[1024];
    *warnings = NULL;
    if (!ilg__inline_snapshot(m, &pairs, &n))
        return NULL;
    json_t *o = json_object(), *arr = json_array();
    *warnings = json_array();
    for (uint32_t i = 0; i < n; i++) {
        const host_inline_pair *p = &pairs[i];
        json_t *jp = json_object();
        sites += p->sites;
        refused += p->refused;
        json_object_set_new(jp, "inliner", json_string(ilg__host_method_name(p->caller)));
        json_object_set_new(jp, "inliner_token", json_integer(p->caller->token));
        json_object_set_new(jp, "inlinee", json_string(ilg__host_method_name(p->callee)));
        json_object_set_new(jp, "inlinee_token", json_integer(p->callee->token));
        json_object_set_new(jp, "sites", json_integer(p->sites));
        json_object_set_new(jp, "refused", json_integer(p->refused));
        json_object_set_new(jp, "inlined", json_boolean(p->inlined_body != 0));
        json_object_set_new(jp, "stale", json_boolean(p->stale_body != 0));
        json_array_append_new(arr, jp);
        if (p->stale_body) {
            stale_text(p, text, sizeof text);
            json_array_append_new(*warnings, json_string(text));
        }
    }
    json_object_set_new(o, "sites", json_integer(sites));
    json_object_set_new(o, "refused", json_integer(refused));
    json_object_set_new(o, "pairs", arr);
    ILG_HOST_FREE(m->host->heap, pairs);
    return o;
}

/* The text report's inlining lines of a module (nothing without --inline). */
static void inlining_text(host_module *m, FILE *to)
{
    host_inline_pair *pairs = NULL;
    uint32_t n = 0, sites = 0, refused = 0, inlined = 0, stale = 0;
    char text[1024];
    if (!ilg__inline_snapshot(m, &pairs, &n))
        return;
    for (uint32_t i = 0; i < n; i++) {
        sites += pairs[i].sites;
        refused += pairs[i].refused;
        inlined += pairs[i].inlined_body != 0;
        stale += pairs[i].stale_body != 0;
    }
    fprintf(to, "  inlining: %u call sites reported, %u refused; %u inliner/inlinee pairs, %u "
                "stale\n", sites, refused, inlined, stale);
    for (uint32_t i = 0; i < n; i++) {
        if (!pairs[i].stale_body)
            continue;
        stale_text(&pairs[i], text, sizeof text);
        fprintf(to, "  warning: %s\n", text);
    }
    ILG_HOST_FREE(m->host->heap, pairs);
}

static ilg_status write_json(const ilg_host *host, FILE *to)
{
    json_t *root = json_object(), *mods = json_array();
    ilg_status st = ILG_OK;

    if (!root || !mods) {
        st = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for the JSON report");
        goto done;
    }
    json_object_set_new(root, "modules", mods);
    mods = NULL;
    json_object_set_new(root, "unsupported_calls", unsupported_json(host));
    json_object_set_new(root, "refused_calls",
                        json_integer(atomic_load_explicit(&host->refused, memory_order_relaxed)));
    json_object_set_new(root, "rejit_warnings", json_integer(atomic_load(&host->rejit_warnings)));
    for (uint32_t i = 0; i < host->module_count; i++) {
        host_module *m = host->modules[i];
        json_t *jm = json_object(), *jmeths = json_array();
        json_array_append_new(json_object_get(root, "modules"), jm);
        json_object_set_new(jm, "path", json_string(m->path));
        json_object_set_new(jm, "image_size", json_integer((json_int_t)m->info.image_size));
        json_object_set_new(jm, "arena_offset", json_integer((json_int_t)m->info.arena_offset));
        json_object_set_new(jm, "methods", jmeths);
        json_t *warnings = NULL, *jin = inlining_json(m, &warnings);
        if (jin) {
            json_object_set_new(jm, "inlining", jin);
            json_object_set_new(jm, "warnings", warnings);
        }
        const uint32_t total = m->method_count + atomic_load(&m->added_count);
        for (uint32_t r = 1; r <= total; r++) {
            ilg_host_method hm;
            ilg_host_method_get(host, i, r, &hm);
            json_t *o = json_object();
            json_object_set_new(o, "token", json_integer(hm.token));
            json_object_set_new(o, "name", json_string(hm.name));
            json_object_set_new(o, "old_rva", json_integer(hm.old_rva));
            json_object_set_new(o, "old_size", json_integer(hm.old_size));
            json_object_set_new(o, "new_rva", json_integer(hm.new_rva));
            json_object_set_new(o, "new_size", json_integer(hm.new_size));
            json_object_set_new(o, "status", json_string(status_text(hm.status)));
            json_object_set_new(o, "jit_events", json_integer(hm.jit_events));
            json_object_set_new(o, "set_body_calls", json_integer(hm.set_calls));
            json_object_set_new(o, "rewritten_again", json_integer(hm.rewritten_again));
            if ((hm.status == ILG_HOST_REJECTED || hm.rewritten_again) && hm.diagnostic)
                json_object_set_new(o, "diagnostic", json_string(hm.diagnostic));
            rejit_json(o, &hm);
            json_array_append_new(jmeths, o);
        }
    }
    if (json_dumpf(root, to, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 || fputc('\n', to) == EOF)
        st = ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot write the JSON report");
done:
    json_decref(root);
    json_decref(mods);
    return st;
}

static void text_header(FILE *to)
{
    fprintf(to, "  %-10s %-10s %-8s %-10s %-8s %-9s %4s %4s %s\n", "token", "old_rva", "old_size",
            "new_rva", "new_size", "status", "jit", "sets", "method");
}

/* The text report's lines gather in a block written with one fwrite when full (a
 * fwrite per line, 24,395 for mscorlib, cost more than composing the lines), each
 * method's name formatted by the loader straight into the block. */
#define REPORT_BLOCK 32768
#define REPORT_LINE_MAX 2048 /* room kept for a line; longer names go out on their own */

typedef struct report_out {
    FILE *to;
    size_t len;
    char buf[REPORT_BLOCK];
} report_out;

static void report_flush(report_out *r)
{
    if (r->len)
        fwrite(r->buf, 1, r->len, r->to);
    r->len = 0;
}

/* Where the next line goes, with at least REPORT_LINE_MAX bytes of room. */
static char *report_room(report_out *r)
{
    if (r->len > REPORT_BLOCK - REPORT_LINE_MAX)
        report_flush(r);
    return r->buf + r->len;
}

/* One method's report line, "  0x%08x 0x%08x %-8u 0x%08x %-8u %-9s %4u %4u %s\n",
 * formatted by hand: printf's parsing and padding were a third of a full report of
 * mscorlib. Two lowercase hex digits per byte from a table. */
static const char hex_pairs[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                                "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
                                "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
                                "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
                                "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
                                "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
                                "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
                                "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

static char *put_hex8(char *o, uint32_t v)
{
    o[0] = '0';
    o[1] = 'x';
    memcpy(o + 2, hex_pairs + 2 * (v >> 24), 2);
    memcpy(o + 4, hex_pairs + 2 * ((v >> 16) & 0xFF), 2);
    memcpy(o + 6, hex_pairs + 2 * ((v >> 8) & 0xFF), 2);
    memcpy(o + 8, hex_pairs + 2 * (v & 0xFF), 2);
    return o + 10;
}

/* The number of decimal digits of v. */
static size_t dec_len(uint32_t v)
{
    size_t n = 1;
    for (; v >= 100; v /= 100)
        n += 2;
    return n + (v >= 10);
}

/* v's n decimal digits at o (no library call: the report writes four numbers a line). */
static void put_digits(char *o, uint32_t v, size_t n)
{
    do
        o[--n] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
}

/* v left-justified in 8 columns, then one space. */
static char *put_column8_u(char *o, uint32_t v)
{
    size_t n = dec_len(v);
    memset(o, ' ', 9);
    put_digits(o, v, n);
    return o + (n > 8 ? n : 8) + 1;
}

/* v right-justified in 4 columns, then one space. */
static char *put_right4_u(char *o, uint32_t v)
{
    size_t n = dec_len(v), pad = n < 4 ? 4 - n : 0;
    memset(o, ' ', 4);
    put_digits(o + pad, v, n);
    o[pad + n] = ' ';
    return o + pad + n + 1;
}

/* The columns before the name, into the report's block. */
static char *put_columns(char *o, const host_method *meth)
{
    static const char status[][10] = { [ILG_HOST_UNCHANGED] = "unchanged",
                                       [ILG_HOST_REWRITTEN] = "rewritten",
                                       [ILG_HOST_REJECTED] = "rejected " };
    *o++ = ' ';
    *o++ = ' ';
    o = put_hex8(o, meth->token);
    *o++ = ' ';
    o = put_hex8(o, meth->old_rva);
    *o++ = ' ';
    o = put_column8_u(o, meth->old_size);
    o = put_hex8(o, meth->new_rva);
    *o++ = ' ';
    o = put_column8_u(o, meth->new_size);
    memcpy(o, meth->status <= ILG_HOST_REJECTED ? status[meth->status] : status[0], 9);
    o[9] = ' ';
    o += 10;
    o = put_right4_u(o, atomic_load_explicit(&meth->jit_events, memory_order_relaxed));
    return put_right4_u(o, atomic_load_explicit(&meth->set_calls, memory_order_relaxed));
}

/* One method's line: the columns, then the name, which the loader formats into the
 * block (naming is the expensive part: only for the methods listed, each once). */
static void write_method_line(report_out *r, host_method *meth)
{
    char *line = report_room(r);
    char *o = put_columns(line, meth);
    size_t room = (size_t)(r->buf + REPORT_BLOCK - o);
    size_t n = ilg__host_method_name_put(meth, o, room - 1);
    if (n != SIZE_MAX) {
        o[n] = '\n';
        r->len = (size_t)(o + n + 1 - r->buf);
        return;
    }
    /* A name longer than the block's room: made on the host heap and written alone. */
    r->len = (size_t)(o - r->buf);
    report_flush(r);
    fputs(ilg__host_method_name(meth), r->to);
    fputc('\n', r->to);
}

/* One module of the text report: the methods rewritten, rejected or rewritten again
 * (with --summary only the rejected and rewritten again), then the counts. */
static void write_text_module(const ilg_host *host, uint32_t index, bool summary, report_out *r)
{
    const host_module *m = host->modules[index];
    uint32_t counts[3] = { 0, 0, 0 }, jitted = 0, events = 0, sets = 0, again = 0, rejitted = 0;
    FILE *to = r->to;
    fprintf(to, "%s: image 0x%llx bytes, arena at +0x%llx\n", m->path,
            (unsigned long long)m->info.image_size, (unsigned long long)m->info.arena_offset);
    /* The summary prints the column header only above a method it lists. */
    bool header = false;
    if (!summary) {
        text_header(to);
        header = true;
    }
    const uint32_t total = m->method_count + atomic_load(&m->added_count);
    for (uint32_t rid = 1; rid <= total; rid++) {
        host_method *meth = ilg__host_method_at(m, rid);
        counts[meth->status]++;
        jitted += meth->jitted;
        events += atomic_load_explicit(&meth->jit_events, memory_order_relaxed);
        sets += atomic_load_explicit(&meth->set_calls, memory_order_relaxed);
        again += meth->rewritten_again;
        const host_rejit *rj = atomic_load_explicit(&meth->rejit, memory_order_acquire);
        rejitted += rj && rj->status == ILG_HOST_REJIT_REJITTED;
        /* A method ReJIT touched is listed (in the summary when it has a warning or a
         * rejection). */
        bool rejit_listed = rj && (!summary || rj->warnings || rj->status == ILG_HOST_REJIT_REJECTED);
        if (!rejit_listed && !meth->rewritten_again &&
            (meth->status == ILG_HOST_UNCHANGED || (summary && meth->status != ILG_HOST_REJECTED)))
            continue;
        if (!header) {
            text_header(to);
            header = true;
        }
        write_method_line(r, meth);
        if (rejit_listed) {
            report_flush(r);
            rejit_text(to, meth);
        }
        if (!meth->rewritten_again && meth->status != ILG_HOST_REJECTED)
            continue;
        report_flush(r);
        if (meth->rewritten_again)
            fprintf(to, "      rewritten again on recompile: %u of its %u bodies set\n",
                    meth->rewritten_again,
                    atomic_load_explicit(&meth->set_calls, memory_order_relaxed));
        if (meth->diagnostic)
            fprintf(to, "      %s\n", meth->diagnostic);
    }
    report_flush(r);
    fprintf(to,
            "  %u methods, %u JIT-compiled: %u rewritten, %u rejected, %u unchanged; %u JIT "
            "events, %u bodies set, %u rewritten again on recompile\n",
            total, jitted, counts[ILG_HOST_REWRITTEN], counts[ILG_HOST_REJECTED],
            counts[ILG_HOST_UNCHANGED], events, sets, again);
    if (rejitted)
        fprintf(to, "  %u methods with a ReJIT body in force\n", rejitted);
    inlining_text(host->modules[index], to);
}

ILG_API ilg_status ilg_host_write_report(const ilg_host *host, ilg_report_format format, FILE *to)
{
    if (!host || !to)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "host and to are required");
    if (format == ILG_REPORT_JSON)
        return write_json(host, to);
    if (format != ILG_REPORT_TEXT && format != ILG_REPORT_SUMMARY)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "unknown report format %d",
                         (int)format);
    bool summary = format == ILG_REPORT_SUMMARY;
    report_out *r = malloc(sizeof *r);
    if (!r)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for the report");
    r->to = to;
    r->len = 0;
    for (uint32_t i = 0; i < host->module_count; i++)
        write_text_module(host, i, summary, r);
    free(r);
    unsupported_text(host, to);
    if (ferror(to))
        return ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot write the report");
    return ILG_OK;
}
