/* fuzz_rules.c: libFuzzer target for the plugin's rules file (ILGRAFT_RULES): any bytes
 * through the parser. A refusal must be E_PROF_RULES with a message and leave nothing
 * behind; an accepted file must hold complete rules (a probe's parameters of the known
 * kinds, the return value only at exits), and each rule is then applied to a
 * small valid body (entry, exit, mutation, replacement): an applied rule must leave a
 * body that encodes and decodes again. */
#include <stdlib.h>
#include <string.h>

#include "ilgraft/ilbody.h"
#include "plugin_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every call in the bodies is a static void(), like the probes. */
static ilg_status shape(void *ctx, uint32_t token, uint32_t *pops, bool *has_this, bool *pushes)
{
    *pops = 0;
    *has_this = false;
    *pushes = false;
    return ILG_OK;
}

/* int32 (int32, int32) with a branch, so exits and retargeting are exercised. */
static const char seed_body[] = ".maxstack 2\n"
                                "IL_0000: ldarg.0\n"
                                "IL_0001: ldarg.1\n"
                                "IL_0002: bgt.s IL_0006\n"
                                "IL_0004: ldarg.1\n"
                                "IL_0005: ret\n"
                                "IL_0006: ldarg.0\n"
                                "IL_0007: ldarg.1\n"
                                "IL_0008: add\n"
                                "IL_0009: ret\n";

static void apply_each(const ilg__plugin_rules *rules)
{
    const ilg_stack_resolver res = { shape, NULL, 1 };
    for (size_t i = 0; i < rules->count; i++) {
        const ilg__plugin_rule *r = &rules->items[i];
        ilg_body *b = NULL, *back = NULL;
        ilg_buffer out = { 0 };
        const char *how = NULL;
        if (ilg_body_new(&b) != ILG_OK || ilg_body_new(&back) != ILG_OK ||
            ilg_body_assemble(b, seed_body, sizeof seed_body - 1, NULL) != ILG_OK)
            abort();
        /* Local 0 carries the return value; the probe's arguments get tokens of their
         * kinds (the name's user string, the method, a TypeSpec to box with). */
        ilg__plugin_env env = { &res, 0x06000002u, 0, true, NULL, 0x06000001u, 0x70000001u,
                                0x1B000001u, false, true };
        if (ilg__plugin_apply(b, r, &env, &how) == ILG_OK) {
            if (!how)
                abort();
            ilg_status st = ilg_body_encode(b, ILG_ENCODE_OPTIMIZE, &res, &out);
            if (st == ILG_OK && ilg_body_decode(back, out.data, out.len) != ILG_OK)
                abort();
        }
        free(out.data);
        ilg_body_free(b);
        ilg_body_free(back);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ilg__plugin_rules rules = { 0 };
    ilg_status st = ilg__plugin_rules_parse((const char *)data, size, &rules);
    if (st != ILG_OK) {
        /* E_PROF_RULES, or the assembler's own status for a bad replace body. */
        if (!ilg_last_diag()->message[0] || rules.items || rules.count)
            abort();
        return 0;
    }
    for (size_t i = 0; i < rules.count; i++) {
        const ilg__plugin_rule *r = &rules.items[i];
        if (!r->match || (unsigned)r->action > ILG__ACT_REPLACE)
            abort();
        if ((r->action == ILG__ACT_PROBE_ENTRY || r->action == ILG__ACT_PROBE_EXIT) &&
            (!r->probe || !r->probe_type || !r->probe_method || !r->probe_type[0] ||
             !r->probe_method[0] || r->probe_argc > ILG__PROBE_ARGS_MAX ||
             (r->probe_assembly && !r->probe_assembly[0]) || (r->probe_meta && !r->probe_assembly)))
            abort();
        /* Parameters: known kinds only, the return value in exit probes only. */
        for (uint8_t k = 0; k < r->probe_argc; k++)
            if (r->probe_args[k] > ILG__PARG_RETURN ||
                (r->probe_args[k] == ILG__PARG_RETURN && r->action != ILG__ACT_PROBE_EXIT))
                abort();
        if (r->action == ILG__ACT_REPLACE && !r->body)
            abort();
        (void)ilg__plugin_rule_matches(r, "Ns.Calc::Add", "Calc::Add");
    }
    apply_each(&rules);
    ilg__plugin_rules_free(&rules);
    return 0;
}
