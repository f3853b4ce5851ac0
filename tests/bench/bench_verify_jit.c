/* bench_verify_jit.c: the verifier against CoreCLR's JIT on thousands of mutants (the
 * benchmark-style run of the differential test; tests/runtime/test_verify_jit.c runs a
 * few hundred in CI). For each assembly: the methods whose original bodies the JIT
 * compiles, then rounds of one mutant per method, each mutant installed in a real
 * CoreCLR and compiled, and ilgraft's `jit`-level verdict on the same bytes. Prints
 * the agreement per family and every disagreement.
 *
 *   bench_verify_jit [--mutants N] [--seed S] [--max-code BYTES] ASSEMBLY...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mutate.h"
#include "verdict.h"

int main(int argc, char **argv)
{
    unsigned long want = 1000, seed = 1;
    uint32_t max_code = 2000;
    int a = 1;
    bool verbose = false;
    for (; a < argc && argv[a][0] == '-'; a++) {
        if (!strcmp(argv[a], "--mutants") && a + 1 < argc)
            want = strtoul(argv[++a], NULL, 0);
        else if (!strcmp(argv[a], "--seed") && a + 1 < argc)
            seed = strtoul(argv[++a], NULL, 0);
        else if (!strcmp(argv[a], "--max-code") && a + 1 < argc)
            max_code = (uint32_t)strtoul(argv[++a], NULL, 0);
        else if (!strcmp(argv[a], "--family") && a + 1 < argc)
            vx_only_family = argv[++a];
        else if (!strcmp(argv[a], "--show") && a + 1 < argc)
            vx_show = argv[++a];
        else if (!strcmp(argv[a], "--verbose"))
            verbose = true;
        else {
            fprintf(stderr, "usage: bench_verify_jit [--mutants N] [--seed S] [--max-code B] [--verbose] ASSEMBLY...\n");
            return 2;
        }
    }
    if (a >= argc) {
        fprintf(stderr, "bench_verify_jit: no assembly\n");
        return 2;
    }
    char work[64];
    snprintf(work, sizeof work, "/tmp/ilg_bench_vj_%d", (int)getpid());
    mkdir(work, 0700);
    mx_runner r = { ILG_DOTNET, ILG_DRIVER_DLL, ILG_VERIFY_PROF, work, 120000, 0 };
    vx_tally total = { 0 };
    const unsigned long per = want / (unsigned long)(argc - a) + 1;
    int rc = 0;
    for (; a < argc; a++) {
        vx_tally t = { 0 };
        if (!vx_assembly(&r, argv[a], per, seed, max_code, verbose ? stdout : NULL, &t)) {
            fprintf(stderr, "bench_verify_jit: %s could not be run\n", argv[a]);
            rc = 1;
            continue;
        }
        vx_print_tally(stdout, argv[a], &t);
        vx_add(&total, &t);
    }
    vx_print_tally(stdout, "all", &total);
    for (int d = 0; d < VX_DOC_COUNT; d++)
        if (total.doc[d])
            printf("documented %s: %s\n", vx_doc_name((vx_doc)d), vx_doc_reason((vx_doc)d));
    printf("agreement: %.2f%% (%.2f%% with the documented exceptions)\n",
           total.mutants ? 100.0 * (double)total.agree / (double)total.mutants : 0.0,
           total.mutants ? 100.0 * (double)(total.agree + total.documented) / (double)total.mutants : 0.0);
    printf("dotnet processes: %lu\n", r.processes);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", work);
    if (system(cmd) != 0)
        rc = 1;
    return rc ? rc : total.disagree ? 1 : 0;
}
