/* test_malformed.c: the malformed-image catalogue (fixtures/malformed/gen_malformed.c)
 * against the loader and the CLI. For every manifest entry the named stage (open,
 * metadata, body) must fail with exactly the listed status and a diagnostic naming the
 * bad value, every earlier stage must succeed, and `ilgraft methods FILE` must exit 1
 * with an `ilgraft: FILE: ` message. `valid` entries must open and parse cleanly; they
 * are also checked with binutils, independently of the generator, and the IL fixtures
 * the catalogue is built from are checked against Mono (mono, monodis). */
#include <check.h>
#include <dirent.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ilgraft/loader.h"
#include "ilgraft/metadata.h"
#include "unit/fixture_util.h"

typedef enum stage { STAGE_OPEN, STAGE_METADATA, STAGE_BODY, STAGE_R2R, STAGE_VALID } stage;

typedef struct entry {
    char file[128];
    char status_name[64];
    ilg_status status;
    stage stage;
    char desc[512];
} entry;

/* Loaded once in main (the loop tests need the count up front) and only read by tests. */
static entry *entries;
static int entry_count;
static char manifest_error[512];

static bool status_by_name(const char *name, ilg_status *out)
{
    for (int i = 0; i < ILG_STATUS_COUNT; i++)
        if (strcmp(ilg_status_name((ilg_status)i), name) == 0) {
            *out = (ilg_status)i;
            return true;
        }
    return false;
}

static bool stage_by_name(const char *name, stage *out)
{
    static const char *const names[] = { "open", "metadata", "body", "r2r", "valid" };
    for (int i = 0; i < 5; i++)
        if (strcmp(names[i], name) == 0) {
            *out = (stage)i;
            return true;
        }
    return false;
}

/* Parses manifest.txt; on a malformed line records why in manifest_error (the
 * catalogue test reports it) and stops. */
static void load_manifest(void)
{
    char path[4096];
    fx_path(path, sizeof path, "malformed/manifest.txt");
    char *text = fx_read_file(path, NULL);
    if (!text) {
        snprintf(manifest_error, sizeof manifest_error, "cannot read %.400s", path);
        return;
    }
    int cap = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (entry_count == cap) {
            cap = cap ? cap * 2 : 64;
            entry *bigger = realloc(entries, (size_t)cap * sizeof *entries);
            if (!bigger)
                break;
            entries = bigger;
        }
        entry *e = &entries[entry_count];
        char stage_name[32];
        int used = 0;
        memset(e, 0, sizeof *e);
        if (sscanf(line, "%127s %63s %31s %n", e->file, e->status_name, stage_name, &used) != 3 ||
            used == 0 || !status_by_name(e->status_name, &e->status) ||
            !stage_by_name(stage_name, &e->stage) || line[used] == 0) {
            snprintf(manifest_error, sizeof manifest_error, "bad manifest line %d: '%.400s'",
                     entry_count + 1, line);
            break;
        }
        snprintf(e->desc, sizeof e->desc, "%s", line + used);
        entry_count++;
    }
    free(text);
}

static void entry_path(const entry *e, char *buf, size_t size)
{
    char rel[256];
    snprintf(rel, sizeof rel, "malformed/%s", e->file);
    fx_path(buf, size, rel);
}

/* Per-test state, released by the checked teardown even when an assertion fails
 * (which matters with CK_FORK=no, where a failure longjmps out of the test). */
static ilg_image *img;
static fx_result run;

static void setup(void)
{
    img = NULL;
    memset(&run, 0, sizeof run);
    ilg_clear_diag();
}

static void teardown(void)
{
    ilg_image_close(img);
    img = NULL;
    fx_result_free(&run);
}

/* The diagnostic of a failure: the expected status, and a specific message that names
 * the offending value (a number, or a quoted name such as a stream's), not just the
 * generic text. */
static void check_diag(const entry *e, const char *call)
{
    const ilg_diag *d = ilg_last_diag();
    ck_assert_msg(d->status == e->status, "%s: %s diag status %s, expected %s", e->file, call,
                  ilg_status_name(d->status), e->status_name);
    ck_assert_msg(d->message[0] != 0, "%s: %s left an empty message", e->file, call);
    ck_assert_msg(strcmp(d->message, ilg_strerror(e->status)) != 0,
                  "%s: %s message is only the generic text '%s'", e->file, call, d->message);
    const char *quote = strchr(d->message, '\'');
    bool has_value = quote && strchr(quote + 1, '\'') > quote + 1;
    for (const char *p = d->message; *p && !has_value; p++)
        has_value = isdigit((unsigned char)*p) != 0;
    ck_assert_msg(has_value, "%s: %s message names no value: '%s'", e->file, call, d->message);
}

START_TEST(test_manifest_shape)
{
    ck_assert_msg(manifest_error[0] == 0, "%s", manifest_error);
    ck_assert_msg(entry_count >= 35, "only %d catalogue entries", entry_count);
    int valid_elf = 0, valid_pe = 0;
    for (int i = 0; i < entry_count; i++) {
        const entry *e = &entries[i];
        for (int j = 0; j < i; j++)
            ck_assert_msg(strcmp(entries[j].file, e->file) != 0, "%s listed twice", e->file);
        ck_assert_msg((e->stage == STAGE_VALID) == (e->status == ILG_OK),
                      "%s: stage and status %s disagree", e->file, e->status_name);
        char path[4096];
        struct stat st;
        entry_path(e, path, sizeof path);
        ck_assert_msg(stat(path, &st) == 0 && st.st_size > 0, "%s missing or empty", path);
        if (e->stage == STAGE_VALID) {
            valid_elf += strstr(e->file, ".so") != NULL;
            valid_pe += strstr(e->file, ".dll") != NULL;
        }
    }
    ck_assert_int_ge(valid_elf, 1);
    ck_assert_int_ge(valid_pe, 1);
}
END_TEST

/* Every loader check code in errors.def (PE, ELF, CLI header, metadata, method body,
 * ReadyToRun) has at least one image. E_MD_BAD_SIG belongs to signature decoding (not
 * one of these stages), E_CLI_ABSENT is what the valid native PE must give at the
 * metadata stage and E_R2R_ABSENT what IL-only images give at the r2r stage. */
START_TEST(test_manifest_covers_every_check)
{
    static const char *const prefixes[] = { "E_PE_", "E_ELF_", "E_CLI_", "E_MD_", "E_BODY_",
                                            "E_R2R_" };
    for (int s = 0; s < ILG_STATUS_COUNT; s++) {
        const char *name = ilg_status_name((ilg_status)s);
        bool loader_check = false;
        for (size_t p = 0; p < sizeof prefixes / sizeof prefixes[0]; p++)
            loader_check |= strncmp(name, prefixes[p], strlen(prefixes[p])) == 0;
        if (!loader_check || s == ILG_E_MD_BAD_SIG || s == ILG_E_CLI_ABSENT ||
            s == ILG_E_R2R_ABSENT)
            continue;
        bool covered = false;
        for (int i = 0; i < entry_count && !covered; i++)
            covered = entries[i].status == (ilg_status)s;
        ck_assert_msg(covered, "no malformed image produces %s", name);
    }
}
END_TEST

/* The hand-built valid images, judged by binutils rather than by ilgraft. */
START_TEST(test_valid_images_per_binutils)
{
    ck_assert_msg(fx_have_program("readelf") && fx_have_program("objdump"), "binutils missing");
    for (int i = 0; i < entry_count; i++) {
        const entry *e = &entries[i];
        if (e->stage != STAGE_VALID)
            continue;
        char path[4096];
        entry_path(e, path, sizeof path);
        fx_result_free(&run);
        fx_result *r = &run;
        if (strstr(e->file, ".so")) {
            const char *argv[] = { "readelf", "-hlW", path, NULL };
            ck_assert(fx_run(argv, r));
            ck_assert_msg(r->exited && r->status == 0 && r->err_len == 0, "readelf on %s: %s", path,
                          r->err);
            ck_assert_msg(strstr(r->out, "ELF32") && strstr(r->out, "DYN (Shared object file)"),
                          "%s", r->out);
            /* Exactly one program header, and it is a PT_LOAD. */
            const char *count = strstr(r->out, "Number of program headers:");
            ck_assert_msg(count && atoi(count + strlen("Number of program headers:")) == 1, "%s",
                          r->out);
            const char *load = strstr(r->out, "\n  LOAD ");
            ck_assert_msg(load && !strstr(load + 1, "\n  LOAD "), "%s", r->out);
        } else if (strstr(e->file, ".dll")) {
            const char *argv[] = { "objdump", "-p", path, NULL };
            ck_assert(fx_run(argv, r));
            ck_assert_msg(r->exited && r->status == 0 && r->err_len == 0, "objdump on %s: %s", path,
                          r->err);
            ck_assert_msg(strstr(r->out, "pei-x86-64") && strstr(r->out, "(PE32+)"), "%s", r->out);
            ck_assert_msg(strstr(r->out, "CLR Runtime Header") == NULL ||
                          strstr(r->out, "Entry e 0000000000000000 00000000 CLR Runtime Header"),
                          "%s has a CLI directory", path);
        } else {
            /* The IL base made ReadyToRun: still PE32 for i386 with its CLI directory, and
             * one more section, which objdump lists. */
            const char *argv[] = { "objdump", "-p", "-h", path, NULL };
            ck_assert(fx_run(argv, r));
            ck_assert_msg(r->exited && r->status == 0 && r->err_len == 0, "objdump on %s: %s", path,
                          r->err);
            ck_assert_msg(strstr(r->out, "pei-i386") && strstr(r->out, " .r2r "), "%s", r->out);
            ck_assert_msg(strstr(r->out, "CLR Runtime Header") &&
                          !strstr(r->out, "Entry e 00000000 00000000 CLR Runtime Header"),
                          "%s has no CLI directory", path);
        }
    }
}
END_TEST

START_TEST(test_entry)
{
    ck_assert_msg(manifest_error[0] == 0, "%s", manifest_error);
    ck_assert_int_lt(_i, entry_count);
    const entry *e = &entries[_i];
    char path[4096];
    entry_path(e, path, sizeof path);

    /* Out-parameters stay untouched on failure: seed them with a sentinel. */
    ilg_image *const sentinel = (ilg_image *)&img;
    ilg_image *opened = sentinel;
    ilg_status st = ilg_image_open(path, NULL, &opened);
    if (e->stage == STAGE_OPEN) {
        ck_assert_msg(st == e->status, "%s (%s): ilg_image_open gave %s, expected %s", e->file,
                      e->desc, ilg_status_name(st), e->status_name);
        ck_assert_ptr_eq(opened, sentinel);
        check_diag(e, "ilg_image_open");
        return;
    }
    ck_assert_msg(st == ILG_OK, "%s (%s): ilg_image_open failed: %s", e->file, e->desc,
                  ilg_last_diag()->message);
    img = opened;

    ilg_image_info info;
    ck_assert_int_eq(ilg_image_get_info(img, &info), ILG_OK);
    const ilg_metadata *md = (const ilg_metadata *)sentinel;
    st = ilg_image_metadata(img, &md);
    if (e->stage == STAGE_METADATA) {
        ck_assert_msg(st == e->status, "%s (%s): ilg_image_metadata gave %s, expected %s",
                      e->file, e->desc, ilg_status_name(st), e->status_name);
        ck_assert_ptr_eq(md, (const ilg_metadata *)sentinel);
        check_diag(e, "ilg_image_metadata");
        /* A failed parse is remembered: the same status and message again. */
        char first[sizeof ilg_last_diag()->message];
        snprintf(first, sizeof first, "%s", ilg_last_diag()->message);
        ilg_clear_diag();
        ck_assert_int_eq(ilg_image_metadata(img, &md), e->status);
        ck_assert_str_eq(ilg_last_diag()->message, first);
        return;
    }
    if (e->stage == STAGE_VALID && !info.has_cli) {
        ck_assert_msg(st == ILG_E_CLI_ABSENT, "%s: native image gave %s from ilg_image_metadata",
                      e->file, ilg_status_name(st));
        ck_assert_uint_ge(info.region_count, 1);
        return;
    }
    ck_assert_msg(st == ILG_OK, "%s (%s): ilg_image_metadata failed: %s", e->file, e->desc,
                  ilg_last_diag()->message);

    const uint32_t n = ilg_md_row_count(md, ILG_TBL_MethodDef);
    uint32_t failures = 0;
    for (uint32_t rid = 1; rid <= n; rid++) {
        ilg_method_body b;
        ilg_clear_diag();
        st = ilg_md_method_body(md, rid, &b);
        if (st == ILG_OK)
            continue;
        failures++;
        ck_assert_msg(e->stage == STAGE_BODY, "%s: method %u failed: %s", e->file, rid,
                      ilg_last_diag()->message);
        ck_assert_msg(st == e->status, "%s (%s): method %u gave %s, expected %s", e->file,
                      e->desc, rid, ilg_status_name(st), e->status_name);
        check_diag(e, "ilg_md_method_body");
    }
    if (e->stage == STAGE_BODY)
        ck_assert_msg(failures >= 1, "%s (%s): every method body measured fine, expected %s",
                      e->file, e->desc, e->status_name);
    if (e->stage == STAGE_BODY)
        return;

    /* ReadyToRun: IL-only images have none; the others must read (valid) or fail as
     * listed, every time. */
    const ilg_r2r *r2r = (const ilg_r2r *)sentinel;
    ilg_md_info mi;
    ck_assert_int_eq(ilg_md_get_info(md, &mi), ILG_OK);
    ilg_clear_diag();
    st = ilg_image_readytorun(img, &r2r);
    if (e->stage == STAGE_R2R) {
        ck_assert_msg(st == e->status, "%s (%s): ilg_image_readytorun gave %s, expected %s",
                      e->file, e->desc, ilg_status_name(st), e->status_name);
        ck_assert_ptr_eq(r2r, (const ilg_r2r *)sentinel);
        check_diag(e, "ilg_image_readytorun");
        char first[sizeof ilg_last_diag()->message];
        snprintf(first, sizeof first, "%s", ilg_last_diag()->message);
        ilg_clear_diag();
        ck_assert_int_eq(ilg_image_readytorun(img, &r2r), e->status);
        ck_assert_str_eq(ilg_last_diag()->message, first);
        return;
    }
    if (!mi.managed_native_header_size) {
        ck_assert_msg(st == ILG_E_R2R_ABSENT, "%s: IL-only image gave %s", e->file,
                      ilg_status_name(st));
        return;
    }
    ck_assert_msg(st == ILG_OK, "%s: ilg_image_readytorun failed: %s", e->file,
                  ilg_last_diag()->message);
    ck_assert_uint_gt(ilg_r2r_method_count(r2r), 0);
}
END_TEST

/* Resource limits: every run here is stopped by the kernel after LIMIT_CPU_S of CPU
 * time (a loop becomes SIGXCPU, a failure) and its peak resident set is checked
 * against LIMIT_RSS_KB, so an input that made ilgraft loop or allocate without bound
 * fails the test. Both are far above what any of these inputs needs (milliseconds and
 * a few MiB; ASan builds more). */
#define LIMIT_CPU_S 20
#define LIMIT_RSS_KB (512L * 1024)

/* The inputs the image fuzzer once failed on (huge declared sizes and counts, null and
 * self references) through every command that reads a whole image: each ends in a
 * status (0 or 1), within the limits. */
START_TEST(hostile_inputs_stay_bounded)
{
    const char *dir = ILG_SOURCE_DIR "/tests/fuzz/regress";
    static const char *const commands[] = { "info", "methods", "verify", "roundtrip", "dis" };
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    unsigned runs = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (strncmp(de->d_name, "image-", 6) != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++) {
            const char *argv[] = { ILG_CLI_PATH, commands[c], path, NULL };
            fx_result r;
            ck_assert(fx_run_limited(argv, &r, LIMIT_CPU_S));
            ck_assert_msg(r.exited && (r.status == 0 || r.status == 1),
                          "ilgraft %s %s: %s %d (%.1f s CPU)", commands[c], de->d_name,
                          r.exited ? "exit" : "signal", r.status, r.cpu_s);
            ck_assert_msg(r.max_rss_kb < LIMIT_RSS_KB, "ilgraft %s %s peaked at %ld KB resident",
                          commands[c], de->d_name, r.max_rss_kb);
            fx_result_free(&r);
            runs++;
        }
    }
    closedir(d);
    ck_assert_uint_gt(runs, 0);
}
END_TEST

/* `ilgraft methods` on a malformed image: exit status 1 (not a crash), and the error
 * line names the file and the same status. Valid images go through `ilgraft info`. */
START_TEST(test_cli)
{
    ck_assert_msg(manifest_error[0] == 0, "%s", manifest_error);
    ck_assert_int_lt(_i, entry_count);
    const entry *e = &entries[_i];
    char path[4096];
    entry_path(e, path, sizeof path);
    fx_result *r = &run;

    if (e->stage == STAGE_VALID) {
        const char *argv[] = { ILG_CLI_PATH, "info", path, NULL };
        ck_assert(fx_run(argv, r));
        ck_assert_msg(r->exited && r->status == 0, "ilgraft info %s: exited %d status %d: %s",
                      e->file, r->exited, r->status, r->err);
        return;
    }
    const char *argv[] = { ILG_CLI_PATH, "methods", path, NULL };
    ck_assert(fx_run_limited(argv, r, LIMIT_CPU_S));
    ck_assert_msg(r->exited, "ilgraft methods %s died of signal %d", e->file, r->status);
    ck_assert_msg(r->max_rss_kb < LIMIT_RSS_KB, "ilgraft methods %s peaked at %ld KB resident",
                  e->file, r->max_rss_kb);
    ck_assert_msg(r->status == 1, "ilgraft methods %s exited %d", e->file, r->status);
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "ilgraft: %s: ", path);
    bool found = false;
    for (const char *line = r->err; line && *line && !found;) {
        found = strncmp(line, prefix, strlen(prefix)) == 0;
        if (found) {
            char code_a[80], code_b[80];
            snprintf(code_a, sizeof code_a, "(%s ", e->status_name);
            snprintf(code_b, sizeof code_b, "(%s)", e->status_name);
            const char *end = strchr(line, '\n');
            size_t len = end ? (size_t)(end - line) : strlen(line);
            char one[1024];
            snprintf(one, sizeof one, "%.*s", (int)(len < sizeof one ? len : sizeof one - 1), line);
            ck_assert_msg(strstr(one, code_a) || strstr(one, code_b), "%s: stderr line '%s' does not name %s",
                          e->file, one, e->status_name);
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    ck_assert_msg(found, "ilgraft methods %s: no stderr line starts with '%s': %s", e->file,
                  prefix, r->err);
}
END_TEST

/* The IL fixtures the catalogue and the other suites build on, judged by Mono: each
 * program runs cleanly, monodis reads it without complaint and lists as many methods as
 * ilgraft, and the code sizes monodis prints match the bodies ilgraft measures, in
 * order (fat and tiny headers, EH sections and the 64 KiB method included). */
static const char *const il_fixtures[] = { "calc.exe", "bodies.exe", "eh.exe",
                                           "generics.exe", "types.exe", "big.exe",
                                           "wide.exe" };

START_TEST(test_il_fixture_per_mono)
{
    const char *name = il_fixtures[_i];
    char path[4096];
    fx_path(path, sizeof path, name);
    ck_assert_msg(fx_have_program("mono") && fx_have_program("monodis"), "Mono missing");

    const char *run_argv[] = { "mono", path, NULL };
    ck_assert(fx_run(run_argv, &run));
    ck_assert_msg(run.exited && run.status == 0 && run.err_len == 0 && run.out_len > 0,
                  "mono %s: status %d, stderr '%s'", name, run.status, run.err);
    if (strcmp(name, "big.exe") == 0)  /* the generator's own computation of the result */
        ck_assert_msg(strncmp(run.out, "big ok ", 7) == 0, "%s", run.out);
    if (strcmp(name, "wide.exe") == 0) /* likewise: "sum = N ok" */
        ck_assert_msg(strstr(run.out, " ok\n") && !strstr(run.out, "wrong"), "%s", run.out);
    fx_result_free(&run);

    const char *list_argv[] = { "monodis", "--method", path, NULL };
    ck_assert(fx_run(list_argv, &run));
    ck_assert_msg(run.exited && run.status == 0 && run.err_len == 0, "monodis --method %s: %s",
                  name, run.err);
    uint32_t listed = 0;
    for (const char *l = run.out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *p = l;
        while (isdigit((unsigned char)*p))
            p++;
        listed += p > l && p[0] == ':' && p[1] == ' ';
    }
    fx_result_free(&run);

    ck_assert_int_eq(ilg_image_open(path, NULL, &img), ILG_OK);
    const ilg_metadata *md;
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    const uint32_t n = ilg_md_row_count(md, ILG_TBL_MethodDef);
    ck_assert_uint_eq(n, listed);

    const char *dis_argv[] = { "monodis", path, NULL };
    ck_assert(fx_run(dis_argv, &run));
    ck_assert_msg(run.exited && run.status == 0, "monodis %s: %s", name, run.err);
    const char *cursor = run.out;
    uint32_t compared = 0;
    for (uint32_t rid = 1; rid <= n; rid++) {
        ilg_method_body b;
        ck_assert_int_eq(ilg_md_method_body(md, rid, &b), ILG_OK);
        if (b.kind == ILG_BODY_NONE)
            continue;
        const char *at = strstr(cursor, "// Code size ");
        ck_assert_msg(at != NULL, "%s: monodis shows fewer bodies than method %u", name, rid);
        unsigned long size = strtoul(at + strlen("// Code size "), NULL, 10);
        ck_assert_msg(size == b.code_size, "%s: method 0x%08x code size %u, monodis %lu", name,
                      0x06000000u | rid, b.code_size, size);
        cursor = at + 1;
        compared++;
    }
    ck_assert_msg(strstr(cursor, "// Code size ") == NULL, "%s: monodis shows more bodies", name);
    ck_assert_uint_gt(compared, 0);
}
END_TEST

static Suite *malformed_suite(void)
{
    Suite *s = suite_create("malformed");

    TCase *tc = tcase_create("catalogue");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_manifest_shape);
    tcase_add_test(tc, test_manifest_covers_every_check);
    tcase_add_test(tc, test_valid_images_per_binutils);
    tcase_add_test(tc, hostile_inputs_stay_bounded);
    suite_add_tcase(s, tc);

    tc = tcase_create("fixtures");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_il_fixture_per_mono, 0,
                        (int)(sizeof il_fixtures / sizeof il_fixtures[0]));
    suite_add_tcase(s, tc);

    /* One loop iteration per manifest entry (at least one, so a missing manifest still
     * runs and reports why). */
    const int n = entry_count > 0 ? entry_count : 1;
    tc = tcase_create("library");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_entry, 0, n);
    suite_add_tcase(s, tc);

    tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_cli, 0, n);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    load_manifest();
    SRunner *sr = srunner_create(malformed_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(entries);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
