/* test_cli.c: the ilgraft command line: exit statuses, the error line format, and the
 * JSON of info / methods / map checked against the library and the image itself. */
#include <check.h>
#include <stdio.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ilgraft/metadata.h"
#include "unit/fixture_util.h"

static char calc[4096];

static void setup(void) { fx_path(calc, sizeof calc, "calc.exe"); }
static void teardown(void) {}

static json_t *run_json(const char *cmd, const char *path, fx_result *r)
{
    const char *argv[] = { ILG_CLI_PATH, cmd, "--json", path, NULL };
    ck_assert(fx_run(argv, r));
    ck_assert_msg(r->exited && r->status == 0, "ilgraft %s: status %d, stderr %s", cmd, r->status,
                  r->err);
    json_error_t err;
    json_t *j = json_loads(r->out, 0, &err);
    ck_assert_msg(j != NULL, "ilgraft %s --json is not JSON: %s", cmd, err.text);
    return j;
}

START_TEST(version_and_usage_statuses)
{
    fx_result r;
    const char *version[] = { ILG_CLI_PATH, "--version", NULL };
    ck_assert(fx_run(version, &r) && r.exited && r.status == 0);
    ck_assert_msg(strncmp(r.out, "ilgraft ", 8) == 0 && strstr(r.out, ilg_version()), "%s", r.out);
    fx_result_free(&r);

    const char *const cases[][5] = {
        { ILG_CLI_PATH, NULL },
        { ILG_CLI_PATH, "frobnicate", NULL },
        { ILG_CLI_PATH, "methods", NULL },
        { ILG_CLI_PATH, "methods", "--bogus", calc, NULL },
        { ILG_CLI_PATH, "map", calc, calc, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert(fx_run(cases[i], &r));
        ck_assert_msg(r.exited && r.status == 2, "case %zu: status %d", i, r.status);
        ck_assert(r.err_len > 0);
        fx_result_free(&r);
    }
    const char *const helps[][4] = {
        { ILG_CLI_PATH, "--help", NULL }, { ILG_CLI_PATH, "info", "--help", NULL },
        { ILG_CLI_PATH, "methods", "--help", NULL }, { ILG_CLI_PATH, "map", "--help", NULL },
    };
    for (size_t i = 0; i < 4; i++) {
        ck_assert(fx_run(helps[i], &r) && r.exited && r.status == 0);
        ck_assert(strstr(r.out, "usage: ilgraft") != NULL);
        fx_result_free(&r);
    }
}
END_TEST

START_TEST(bad_input_is_status_1_with_file_and_message)
{
    char bad[] = "/tmp/ilg-notpe-XXXXXX";
    int fd = mkstemp(bad);
    ck_assert(fd >= 0 && write(fd, "MZ but nothing else", 19) == 19);
    close(fd);
    const char *argv[] = { ILG_CLI_PATH, "methods", bad, NULL };
    fx_result r;
    ck_assert(fx_run(argv, &r) && r.exited);
    ck_assert_int_eq(r.status, 1);
    char prefix[256];
    snprintf(prefix, sizeof prefix, "ilgraft: %s: ", bad);
    ck_assert_msg(strncmp(r.err, prefix, strlen(prefix)) == 0, "%s", r.err);
    ck_assert_msg(strstr(r.err, "E_PE_TRUNCATED_DOS") && strstr(r.err, "19 bytes"), "%s", r.err);
    fx_result_free(&r);
    unlink(bad);

    const char *missing[] = { ILG_CLI_PATH, "info", "/nonexistent.dll", NULL };
    ck_assert(fx_run(missing, &r) && r.exited && r.status == 1);
    ck_assert(strncmp(r.err, "ilgraft: /nonexistent.dll: ", 27) == 0);
    fx_result_free(&r);
}
END_TEST

START_TEST(methods_json_matches_the_library)
{
    fx_result r;
    json_t *j = run_json("methods", calc, &r);
    json_t *list = json_object_get(j, "methods");
    ilg_image *img;
    const ilg_metadata *md;
    ck_assert_int_eq(ilg_image_open(calc, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    ck_assert_uint_eq(json_array_size(list), ilg_md_row_count(md, ILG_TBL_MethodDef));
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *m = json_array_get(list, i);
        ilg_method_body b;
        char name[512];
        ck_assert_int_eq(ilg_md_method_body(md, (uint32_t)i + 1, &b), ILG_OK);
        ck_assert_int_eq(ilg_md_method_name(md, (uint32_t)i + 1, name, sizeof name, NULL), ILG_OK);
        ck_assert_int_eq(json_integer_value(json_object_get(m, "token")), 0x06000001 + (int)i);
        ck_assert_str_eq(json_string_value(json_object_get(m, "name")), name);
        ck_assert_int_eq(json_integer_value(json_object_get(m, "rva")), b.rva);
        ck_assert_str_eq(json_string_value(json_object_get(m, "header")), "tiny");
        ck_assert_int_eq(json_integer_value(json_object_get(m, "code_size")), b.code_size);
        ck_assert_int_eq(json_integer_value(json_object_get(m, "max_stack")), b.max_stack);
        ck_assert_int_eq(json_integer_value(json_object_get(m, "eh_clauses")), b.eh_clauses);
        ck_assert_int_eq(json_integer_value(json_object_get(m, "body_size")), b.body_size);
    }
    ilg_image_close(img);
    json_decref(j);
    fx_result_free(&r);
}
END_TEST

START_TEST(map_json_puts_the_arena_on_the_page_after_the_image)
{
    fx_result r;
    json_t *j = run_json("map", calc, &r);
    long page = sysconf(_SC_PAGESIZE);
    json_int_t size = json_integer_value(json_object_get(j, "image_size"));
    json_int_t arena = json_integer_value(json_object_get(j, "arena_offset"));
    ck_assert_int_eq(size, 0x6000); /* SizeOfImage of calc.exe, as objdump -p reports it */
    ck_assert_int_eq(arena, (size + page - 1) / page * page);
    ck_assert_int_gt(json_integer_value(json_object_get(j, "arena_size")), 0);
    ck_assert_int_ne(json_integer_value(json_object_get(j, "base")), 0);
    json_t *regions = json_object_get(j, "regions");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(regions, 0), "name")), "headers");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(regions, 1), "name")), ".text");
    json_decref(j);
    fx_result_free(&r);
}
END_TEST

START_TEST(info_json_and_text)
{
    fx_result r;
    json_t *j = run_json("info", calc, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "format")), "PE32");
    json_t *cli = json_object_get(j, "cli");
    ck_assert_ptr_nonnull(cli);
    ck_assert_str_eq(json_string_value(json_object_get(cli, "version")), "v4.0.30319");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(cli, "tables"), "MethodDef")), 5);
    json_decref(j);
    fx_result_free(&r);

    const char *text[] = { ILG_CLI_PATH, "info", "/usr/lib/x86_64-linux-gnu/libz.so.1", NULL };
    ck_assert(fx_run(text, &r) && r.exited && r.status == 0);
    ck_assert(strstr(r.out, "ELF64") && strstr(r.out, "LOAD#0"));
    fx_result_free(&r);
}
END_TEST

/* The acceptance check: as many methods as monodis's method table lists. */
START_TEST(methods_json_on_mscorlib_counts_what_monodis_counts)
{
    const char *path = "/usr/lib/mono/4.5/mscorlib.dll";
    const char *peer[] = { "monodis", "--method", path, NULL };
    fx_result r, p;
    unsigned n = 0;
    ck_assert(fx_run(peer, &p) && p.exited && p.status == 0);
    ck_assert_int_eq(sscanf(p.out, "Method Table (1..%u)", &n), 1);
    json_t *j = run_json("methods", path, &r);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "methods")), n);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), n);
    json_decref(j);
    fx_result_free(&r);
    fx_result_free(&p);
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("commands");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, version_and_usage_statuses);
    tcase_add_test(tc, bad_input_is_status_1_with_file_and_message);
    tcase_add_test(tc, methods_json_matches_the_library);
    tcase_add_test(tc, map_json_puts_the_arena_on_the_page_after_the_image);
    tcase_add_test(tc, info_json_and_text);
    tcase_add_test(tc, methods_json_on_mscorlib_counts_what_monodis_counts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cli_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
