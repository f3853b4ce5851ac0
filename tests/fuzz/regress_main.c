/* regress_main.c: replays the inputs under tests/fuzz/regress/ whose names start with
 * ILG_FUZZ_PREFIX ("image-", "body-", "asm-": what a fuzzer failed on, since fixed)
 * through the one fuzz target linked with it, so each stays fixed in the ordinary and
 * the sanitizer test runs, and the target's hand-written seeds (tests/fuzz/seeds/). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit/fixture_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Replays every file in dir whose name starts with prefix; returns how many. */
static unsigned replay_dir(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    unsigned n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char path[4096];
        size_t len;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *data = fx_read_file(path, &len);
        ck_assert_msg(data != NULL, "cannot read %s", path);
        ck_assert_int_eq(LLVMFuzzerTestOneInput((const uint8_t *)data, len), 0);
        free(data);
        n++;
    }
    closedir(d);
    return n;
}

START_TEST(every_regression_input)
{
    const unsigned n = replay_dir(ILG_SOURCE_DIR "/tests/fuzz/regress", ILG_FUZZ_PREFIX);
    printf("fuzz regressions: %u %s* inputs replayed\n", n, ILG_FUZZ_PREFIX);
    ck_assert_uint_gt(n, 0);
}
END_TEST

/* The hand-written seeds (tests/fuzz/seeds/TARGET/, TARGET being the prefix without
 * its '-') pass too: each stands for a path the fuzzer is meant to reach. */
START_TEST(every_seed)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/seeds/%.*s", ILG_SOURCE_DIR,
             (int)strlen(ILG_FUZZ_PREFIX) - 1, ILG_FUZZ_PREFIX);
    const unsigned n = replay_dir(dir, "");
    printf("fuzz seeds: %u inputs of %s replayed\n", n, dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fuzz-regressions");
    TCase *tc = tcase_create("replay");
    tcase_add_test(tc, every_regression_input);
    tcase_add_test(tc, every_seed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
