/* test_mdemit.h: what test_mdemit.c shares with test_mdemit_saved.c: the fixture's
 * image, metadata and writer (set up per test), and the helpers both use. */
#ifndef ILG_TEST_MDEMIT_H
#define ILG_TEST_MDEMIT_H

#include <check.h>
#include <stdbool.h>

#include "ilgraft/mdemit.h"

extern ilg_image *img;
extern const ilg_metadata *md;
extern ilg_mdemit *em;
extern const uint8_t sig_void_string[4];

/* Every row of a and b agrees (see test_mdemit.c). */
void same_rows(const ilg_metadata *a, const ilg_metadata *b, const uint32_t *limit, bool renumbered);
/* The writer's metadata serialized and reopened; free *buf after closing the result. */
ilg_metadata *reopen(uint8_t **buf);
uint32_t find_typeref(const ilg_metadata *m, const char *ns, const char *name);
/* An AssemblyRef [ProbeLib]1.2.3.4. */
uint32_t define_probe_lib(bool *dup);
/* A public static method of TypeDef row type. */
uint32_t define_method(uint32_t type, const char *name, const uint8_t *sig, uint32_t len);
/* Adds test_mdemit_saved.c's tests to the cases of calc.exe and types.exe. */
void mdemit_saved_tests(TCase *calc, TCase *types);
/* Adds the saved C# fixture's runs under dotnet to tc (no setup: each test opens it). */
void mdemit_dotnet_tests(TCase *tc);
/* Adds the old-root cut's test to the case of Mono's mscorlib. */
void mdemit_old_root_tests(TCase *corlib);

#endif
